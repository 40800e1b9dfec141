/* The CUDA workspace, mirroring src/cpu/workspace.h buffer by buffer, each [M][...] with
 * the per-model stride packed by the rows of the current call (penalty buffers: by the
 * stacked rows R = B (1 + tangent_chunk), so that one stride serves a layer's h, pre, gate,
 * adjoints and dpre). Internal to src/cuda. */
#ifndef JACNOISE_CUDA_WORKSPACE_H
#define JACNOISE_CUDA_WORKSPACE_H

#include "cuda/gemm.h"
#include "jacnoise/cuda.h"

struct jn_cuda_ws {
    jn_cuda_ctx *ctx;
    jn_cuda_gemm gemm;
    jn_model model;
    jn_objective obj;
    int max_rows, models;
    int training;                        /* 0: forward pass only (evaluation) */
    jn_hparams *hp;                      /* device [M] (training) */

    /* main loss */
    float *act[JN_MAX_LAYERS + 1];
    float *delta[2];
    double *row_error;                   /* [M][max_rows] (evaluation) */

    /* penalty */
    int tangent_chunk;
    float *pre[JN_MAX_LAYERS + 1], *h[JN_MAX_LAYERS + 1], *gate[JN_MAX_LAYERS + 1];
    float *adj[2], *dpre;
    double *row_norm;                    /* [M][max_rows] */
    float *unit_norm, *gate_sq;          /* hidden1: [M][n_1] */
};

/* Records the GEMM shapes of later calls (NULL stops): for the benchmarks. */
void jn_cuda_ws_log_gemms(jn_cuda_ws *ws, jn_gemm_log *log);

/* jn_cuda_train_step captured once into a CUDA graph (*exec; replayed by cudaGraphLaunch), its GEMM
 * calls recorded into log (NULL: none) for a floor (jn_cuda_capture_gemms). */
int jn_cuda_capture_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows,
                               int batch_size, jn_gemm_log *log, cudaGraphExec_t *exec);

/* Stacked penalty rows per model for a batch of `rows`. */
static inline size_t jn_cuda_penalty_rows(const jn_cuda_ws *ws, int rows)
{
    return (size_t)rows * (1 + (size_t)ws->tangent_chunk);
}

/* tangent.c: forward-mode pass and its reverse (mirrors src/cpu/tangent.c and
 * src/cpu/tangent_reverse.c); the reverse starts from the seed jn_k_tangent_norms wrote into
 * adj[0]. */
int jn_cuda_tangent_forward(jn_cuda_ws *ws, const float *params, int batch_rows, int K, int top);
int jn_cuda_tangent_reverse(jn_cuda_ws *ws, const float *params, int batch_rows, int K, int top, float *grad);

/* step.c: forward pass of x (model stride x_stride; 0: one copy for every model) through
 * layer top into act[1 .. top] (mirrors jn_cpu_forward); the logits get their bias only with
 * logits_bias (the training loss adds it in its own kernel). */
int jn_cuda_forward(jn_cuda_ws *ws, const float *params, const float *x, size_t x_stride, int rows, int top,
                    int logits_bias);

#endif
