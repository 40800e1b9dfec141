/* The slots' sizes and read-back (jacnoise/cuda.h's jn_cuda_slots), for the CUDA backend and
 * the profiler. Internal to src/cuda. */
#ifndef JACNOISE_CUDA_SLOTS_H
#define JACNOISE_CUDA_SLOTS_H

#include "jacnoise/cuda.h"

/* The device memory jn_cuda_slots_alloc takes for these arguments. */
size_t jn_cuda_slots_bytes(const jn_model *m, int models, int max_steps);
/* After `steps` steps: each model's control and the sums of the steps, into host arrays ([M]
 * and [steps][M]), waiting for the stream. */
int jn_cuda_slots_read(jn_cuda_slots *s, int steps, jn_model_ctl *model, jn_step_sums *sums, cudaStream_t stream);

#endif
