/* Allocation of the CUDA workspace (mirrors src/cpu/workspace.c). */
#include "cuda/workspace.h"
#include "cuda/check.h"

#include <stdlib.h>
#include <string.h>

static void *dev_alloc(size_t bytes, int *failed)
{
    void *p = NULL;
    if (bytes && cudaMalloc(&p, bytes) != cudaSuccess) {
        jn_cuda_forget_error();
        *failed = 1;
        return NULL;
    }
    return p;
}

jn_cuda_ws *jn_cuda_ws_new(jn_cuda_ctx *ctx, const jn_model *m, const jn_objective *obj, int max_rows, int models)
{
    jn_cuda_ws *ws = calloc(1, sizeof *ws);
    if (!ws) {
        jn_fail("out of memory for the CUDA workspace");
        return NULL;
    }
    ws->ctx = ctx;
    ws->gemm.blas = ctx->blas;
    ws->model = *m;
    ws->obj = *obj;
    ws->max_rows = max_rows;
    ws->models = models;
    int failed = 0;
    const size_t M = (size_t)models, rows = (size_t)max_rows, F = sizeof(float), D = sizeof(double);
    ws->hp = dev_alloc(M * sizeof(jn_hparams), &failed);
    for (int l = 0; l <= m->n_layers; l++)
        ws->act[l] = dev_alloc(M * rows * m->sizes[l] * F, &failed);
    for (int i = 0; i < 2; i++)
        ws->delta[i] = dev_alloc(M * rows * m->max_width * F, &failed);
    ws->row_loss = dev_alloc(M * rows * D, &failed);
    ws->row_error = dev_alloc(M * rows * D, &failed);
    if (obj->jac_lambda > 0) {
        int top = jn_objective_top(obj, m);
        ws->tangent_chunk = jn_objective_tangent_chunk(obj, m, max_rows);
        const size_t prow = jn_cuda_penalty_rows(ws, max_rows);
        int width = 0;
        for (int l = 0; l <= top; l++) {
            width = m->sizes[l] > width ? m->sizes[l] : width;
            if (l == 0) {
                ws->h[0] = dev_alloc(M * prow * m->sizes[0] * F, &failed);
                continue;
            }
            ws->pre[l] = dev_alloc(M * prow * m->sizes[l] * F, &failed);
            /* At the output layer t_L = s_L: the tangent rows of h alias those of pre. */
            ws->h[l] = l == m->n_layers ? ws->pre[l] : dev_alloc(M * prow * m->sizes[l] * F, &failed);
            ws->gate[l] = l == m->n_layers ? NULL : dev_alloc(M * prow * m->sizes[l] * F, &failed);
        }
        for (int i = 0; i < 2; i++)
            ws->adj[i] = dev_alloc(M * prow * width * F, &failed);
        ws->dpre = dev_alloc(M * prow * width * F, &failed);
        ws->row_norm = dev_alloc(M * rows * D, &failed);
        ws->unit_norm = dev_alloc(M * m->sizes[1] * F, &failed);
        ws->gate_sq = dev_alloc(M * m->sizes[1] * F, &failed);
    }
    if (failed) {
        size_t free_bytes = 0, total = 0;
        cudaMemGetInfo(&free_bytes, &total);
        jn_cuda_ws_free(ws);
        jn_fail("out of GPU memory for a CUDA workspace of %d rows (%d model(s) of %zu parameters; %.1f of %.1f GiB "
                "free)", max_rows, models, m->n_params, free_bytes / 1073741824.0, total / 1073741824.0);
        return NULL;
    }
    return ws;
}

void jn_cuda_ws_free(jn_cuda_ws *ws)
{
    if (!ws)
        return;
    for (int l = 0; l <= JN_MAX_LAYERS; l++) {
        cudaFree(ws->act[l]);
        if (ws->h[l] != ws->pre[l])
            cudaFree(ws->h[l]);
        cudaFree(ws->pre[l]);
        cudaFree(ws->gate[l]);
    }
    for (int i = 0; i < 2; i++) {
        cudaFree(ws->delta[i]);
        cudaFree(ws->adj[i]);
    }
    cudaFree(ws->dpre);
    cudaFree(ws->hp);
    cudaFree(ws->row_loss);
    cudaFree(ws->row_error);
    cudaFree(ws->row_norm);
    cudaFree(ws->unit_norm);
    cudaFree(ws->gate_sq);
    free(ws);
}

int jn_cuda_ws_set_hparams(jn_cuda_ws *ws, const jn_hparams *hp)
{
    /* Synchronous: a pageable source is read before the call returns, so hp may change or go
     * out of scope at once (an asynchronous copy may read it when it runs). Ordered with the
     * stream's work, which is blocking; hyperparameters change at most once per chunk. */
    JN_CUDA(cudaMemcpy(ws->hp, hp, sizeof *hp * (size_t)ws->models, cudaMemcpyHostToDevice));
    return 0;
}

void jn_cuda_ws_log_gemms(jn_cuda_ws *ws, jn_gemm_log *log) { ws->gemm.log = log; }
