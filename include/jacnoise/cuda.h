/* The CUDA engine's step functions: the same operations as cpu.h, on device memory, for M
 * models of one shape in lock-step (M = 1 today). Parameters and gradients are [M][P],
 * batches [M][rows][d], labels [M][rows], noise [M][...] as in step.h. Nothing here
 * synchronises with the host: results land in device memory (the step's sums) and the
 * caller reads them when it needs them. Every function returns 0 or -1 with the error
 * recorded (file:line, call, library message). */
#ifndef JACNOISE_CUDA_H
#define JACNOISE_CUDA_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "jacnoise/data.h"
#include "jacnoise/model.h"
#include "jacnoise/objective.h"
#include "jacnoise/step.h"
#include "kernels.h"  /* kernels/: the launchers and the device structures */

/* A device, a stream and a cuBLAS handle bound to it. */
typedef struct {
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_workspace;   /* given to cuBLAS so that graph capture never allocates */
} jn_cuda_ctx;

/* Opens device 0 (or $CUDA_VISIBLE_DEVICES' first); tf32 lets cuBLAS use TF32 tensor cores. */
int jn_cuda_ctx_open(jn_cuda_ctx *ctx, int tf32);
void jn_cuda_ctx_close(jn_cuda_ctx *ctx);

typedef struct jn_cuda_ws jn_cuda_ws;

/* Device scratch for steps of up to max_rows examples of `models` models. */
jn_cuda_ws *jn_cuda_ws_new(jn_cuda_ctx *ctx, const jn_model *m, const jn_objective *obj, int max_rows, int models);
void jn_cuda_ws_free(jn_cuda_ws *ws);

/* The models' hyperparameters (host array of `models`), copied to the device. */
int jn_cuda_ws_set_hparams(jn_cuda_ws *ws, const jn_hparams *hp);


/* Mirrors of jn_cpu_loss_grad, jn_cpu_penalty_grad and jn_cpu_step: the sums of the step
 * (sum over rows of the loss, of R_i averaged over copies, and of the errors) are added to
 * sums[ctl->slot] (slot 0 without ctl). jn_cuda_step zeroes grad and those sums first. */
int jn_cuda_loss_grad(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const float *xi,
                      jn_step_sums *sums, const jn_step_ctl *ctl, float *grad);
int jn_cuda_penalty_grad(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const float *eps,
                         const float *v, jn_step_sums *sums, const jn_step_ctl *ctl, float *grad);
int jn_cuda_step(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                 jn_step_sums *sums, const jn_step_ctl *ctl, float *grad);

/* Mirror of jn_cpu_sgd_update for all models (not applied for a diverged step, see
 * jn_k_sgd_update). */
int jn_cuda_sgd_update(jn_cuda_ws *ws, float *params, const float *grad, float *velocity,
                       const jn_step_sums *sums, const jn_step_ctl *ctl);

/* A labelled set resident on the device: bytes when every value is k/255 (MNIST: a quarter
 * of the memory, scaled in the gather kernel), else floats. */
typedef struct {
    const jn_dataset *host;
    uint8_t *bytes;
    float *floats;
    int32_t *labels;
} jn_cuda_set;

int jn_cuda_set_upload(const jn_dataset *set, jn_cuda_set *out);
/* *dev = a new device copy of `bytes` bytes of host memory; on failure, one message naming
 * `what`. */
int jn_cuda_upload(void **dev, const void *host, size_t bytes, const char *what);
void jn_cuda_set_free(jn_cuda_set *set);

/* A step's inputs on the device (mirror of jn_cpu_step_inputs): the resident training set,
 * the epoch's permutation, and buffers for a batch and its noise. */
typedef struct {
    jn_cuda_set train;
    float *x, *xi, *eps, *v;
    int32_t *y;
    int copies, tangents;
    uint32_t *keys, *sorted_keys, *index, *perm;
    void *sort_temp;
    size_t sort_bytes;
    int perm_epoch;   /* -1 before the first shuffle */
} jn_cuda_step_inputs;

/* Uploads the training set and allocates buffers for batches of `batch` rows and their
 * noise; x and y also hold `eval_rows` rows (the evaluation's batches, no noise; 0: none). */
int jn_cuda_step_inputs_alloc(jn_cuda_step_inputs *in, const jn_model *m, const jn_objective *obj,
                              const jn_dataset *train, int batch, int eval_rows);
void jn_cuda_step_inputs_free(jn_cuda_step_inputs *in);
/* The permutation of `epoch` (computed on the device, once per epoch). */
int jn_cuda_step_inputs_shuffle(jn_cuda_step_inputs *in, cudaStream_t s, uint64_t seed, int epoch);
/* Gathers batch ctl->batch (device) of the permutation and draws the noise of ctl->step:
 * batch and noise then point into `in` (graph-capturable: reads ctl on the device). */
int jn_cuda_step_inputs_fill(jn_cuda_step_inputs *in, cudaStream_t s, const jn_objective *obj, const jn_model *m,
                             const jn_step_ctl *ctl, uint64_t seed, int rows, int batch_size, jn_batch *batch,
                             jn_noise *noise);

/* One whole training step, as launches on the context's stream that a CUDA graph can
 * capture: gather and noise of ctl's batch and step, jn_cuda_step, the update, and the step
 * control's advance (which stops at a diverged step). */
int jn_cuda_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, uint64_t seed, int rows, int batch_size,
                       float *params, float *grad, float *velocity, jn_step_sums *sums, jn_step_ctl *ctl);

/* Errors of `rows` examples x, y (device) added to sums[0].errors. */
int jn_cuda_count_errors(jn_cuda_ws *ws, const float *params, const float *x, const int32_t *y, int rows,
                         jn_step_sums *sums);

#endif
