/* The seam between the trainer and a compute backend (the CPU reference; the CUDA engine).
 *
 * The trainer owns the schedule (epochs, learning rate, evaluation, checkpoints) and asks a
 * backend to run chunks of training steps; it never reaches into src/cpu or src/cuda. The
 * backend owns the parameters and optimizer state between calls, shuffles each epoch and
 * draws each step's noise from (seed, global step), so a chunk's result depends only on its
 * inputs: chunks of any size give the same bytes. */
#ifndef JACNOISE_BACKEND_H
#define JACNOISE_BACKEND_H

#include <stdint.h>

#include "jacnoise/config.h"
#include "jacnoise/data.h"
#include "jacnoise/model.h"
#include "jacnoise/objective.h"
#include "jacnoise/step.h"

typedef struct jn_backend jn_backend;

typedef struct {
    int batch;          /* B (the last batch of an epoch may be smaller) */
    double momentum;
    uint64_t seed;      /* drives the shuffles and the noise */
    int tf32;           /* CUDA: TF32 tensor-core GEMMs (--precision tf32) */
    int cuda_graph;     /* CUDA: replay a captured step graph (--cuda-graph on) */
} jn_backend_setup;

/* Batches first_batch .. first_batch + n_batches - 1 of epoch `epoch`. */
typedef struct {
    int epoch;
    long first_batch;
    long n_batches;
    uint64_t global_step;  /* global step of the first batch */
    double lr;
} jn_train_chunk;

typedef struct {
    long steps_done;   /* steps completed and applied */
    int diverged;      /* step steps_done had a non-finite loss or penalty and was not applied */
} jn_chunk_result;

typedef struct {
    const char *name;
    /* Steps a train() call should cover for good throughput (the trainer may ask fewer). */
    long preferred_chunk;
    int (*set_state)(jn_backend *be, const jn_real *params, const jn_real *velocity);
    int (*get_state)(jn_backend *be, jn_real *params, jn_real *velocity);
    /* Runs the chunk's steps on the bound training set, adding to sums. */
    int (*train)(jn_backend *be, const jn_train_chunk *chunk, jn_epoch_sums *sums, jn_chunk_result *res);
    /* Misclassified examples of a set under the current parameters. */
    int (*count_errors)(jn_backend *be, const jn_dataset *set, long *errors);
    void (*destroy)(jn_backend *be);
} jn_backend_ops;

struct jn_backend {
    const jn_backend_ops *ops;
};

/* Batches per epoch: ceil(n / B). */
long jn_batches_per_epoch(long n, int batch);

/* Creates the backend for `device` (JN_DEVICE_AUTO: CUDA if built in and a GPU is present,
 * else the CPU), bound to a training set (which must outlive it). */
jn_backend *jn_backend_create(jn_device device, const jn_model *m, const jn_objective *obj,
                              const jn_backend_setup *setup, const jn_dataset *train);

/* The CPU reference backend, and the CUDA engine (in builds with CUDA). */
jn_backend *jn_cpu_backend_create(const jn_model *m, const jn_objective *obj,
                                  const jn_backend_setup *setup, const jn_dataset *train);
jn_backend *jn_cuda_backend_create(const jn_model *m, const jn_objective *obj,
                                   const jn_backend_setup *setup, const jn_dataset *train);

/* BLAS threads for the CPU path (0 = leave the BLAS default); a description of the BLAS. */
void jn_cpu_set_threads(int threads);
const char *jn_cpu_blas_info(void);

/* Whether this build has the CUDA backend, and how many GPUs it sees (0 without). */
int jn_cuda_built(void);
int jn_cuda_device_count(void);

#endif
