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

/* Errors of `rows` examples x, y (device) added to sums[0].errors. */
int jn_cuda_count_errors(jn_cuda_ws *ws, const float *params, const float *x, const int32_t *y, int rows,
                         jn_step_sums *sums);

#endif
