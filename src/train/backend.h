/* The backend choices only the trainer makes: the CPU's reason for no TF32, and how many
 * slots fit a memory budget. Internal to src/train. */
#ifndef JACNOISE_TRAIN_BACKEND_H
#define JACNOISE_TRAIN_BACKEND_H

#include "jacnoise/backend.h"

/* NULL where `device` resolves to CUDA, else why it resolves to the CPU, which has no TF32
 * ("--device cpu asks for the CPU", "--device auto chose the CPU (...)"). */
const char *jn_backend_no_tf32(jn_device device);

/* The default number of slots (sweep --models): how many models of this shape fit in
 * budget_bytes on `device` beside what the slots share (data, workspace), at least 1 and at
 * most the backend's cap (CPU: 8, since a CPU group only saves set-up, not time; CUDA: 4096,
 * and no more than this process's share of a quarter of physical memory, or of its cgroup's
 * limit where that is less, holds the jobs' parameters, velocity and best parameters). The budget is the caller's
 * (jn_backend_memory_budget). */
long jn_backend_max_models(jn_device device, const jn_model *m, const jn_objective *obj,
                           const jn_backend_setup *setup, const jn_dataset *train, double budget_bytes);

/* The memory this process may give its models: CPU, its share of a quarter of the machine's
 * physical memory (or of its cgroup's limit where that is less); CUDA, jn_backend_gpu_share
 * of the GPU's free memory now (the rest holds the CUDA contexts, the evaluation sets and
 * cuBLAS's own needs). */
double jn_backend_memory_budget(jn_device device);

#endif
