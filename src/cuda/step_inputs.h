/* The resident data sets, the step inputs' sizes and the gather of a step's inputs
 * (jacnoise/cuda.h's jn_cuda_set and jn_cuda_step_inputs), for the CUDA backend, the step
 * and the profiler. Internal to src/cuda. */
#ifndef JACNOISE_CUDA_STEP_INPUTS_H
#define JACNOISE_CUDA_STEP_INPUTS_H

#include "jacnoise/cuda.h"

/* Uploads set into *out (one message naming the set on failure, and nothing left allocated);
 * _free releases it. */
int jn_cuda_set_upload(const jn_dataset *set, jn_cuda_set *out);
void jn_cuda_set_free(jn_cuda_set *set);

/* The device bytes jn_cuda_step_inputs_alloc takes for these arguments, by kind (the training
 * set and the shuffle's scratch; the permutations; the batches and noise). */
void jn_cuda_step_inputs_bytes(const jn_model *m, const jn_objective *obj, const jn_dataset *train, int batch,
                               int models, int eval_rows, size_t *shared, size_t *perms, size_t *batches);
/* Gathers each model's batch ctl->batch + ctl->k of its permutation and draws the noise of its
 * step: batch and noise then point into `in` (graph-capturable: reads the controls on the
 * device). With stack, the same launch writes the step's first stacked input rows there (hp:
 * the models' noise scales). */
int jn_cuda_step_inputs_fill(jn_cuda_step_inputs *in, cudaStream_t s, const jn_objective *obj, const jn_model *m,
                             const jn_cuda_slots *slots, const jn_hparams *hp, const jn_stack_dst *stack, int rows,
                             int batch_size, jn_batch *batch, jn_noise *noise);

#endif
