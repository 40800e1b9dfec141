/* Allocation of the CUDA workspace (mirrors src/cpu/workspace.c), and its size in bytes. */
#include "cuda/workspace.h"
#include "cuda/buffers.h"
#include "cuda/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The workspace's device buffers for ws's model, objective, rows and models, for allocation
 * and for the byte count alike: the main loss's (for evaluation only the forward pass's) and
 * the penalty's. Returns how many. Cleared: the tickets, which start at zero (each kernel that
 * takes them leaves them so), and the first layer's input rows, allocated: the gather skips a
 * frozen model, whose step then runs on finite rows, as it runs on its zeroed batch. */
static int ws_buffers(jn_cuda_ws *ws, jn_cuda_buffer *out)
{
    const jn_model *m = &ws->model;
    const size_t M = (size_t)ws->models, rows = (size_t)ws->max_rows, F = sizeof(float), D = sizeof(double);
    const int training = ws->training, L = m->n_layers;
    /* With a penalty the main rows of layers 0 .. top live in the stacked buffers: no act[0],
     * and no delta when the stacked passes reach the output. */
    const int stacked_top = training && jn_cuda_stacked(ws) ? jn_cuda_stack_top(ws) : -1;
    int n = 0;
    if (training)
        out[n++] = (jn_cuda_buffer){(void **)&ws->hp, M * sizeof(jn_hparams), 0};
    /* act[1 .. L] also serve jn_cuda_count_errors on a training workspace. */
    for (int l = training && stacked_top < 0 ? 0 : 1; l <= L; l++)
        out[n++] = (jn_cuda_buffer){(void **)&ws->act[l], M * rows * m->sizes[l] * F, l == 0};
    out[n++] = (jn_cuda_buffer){(void **)&ws->row_error, M * rows * D, 0};
    if (!training)
        return n;
    if (stacked_top < L)
        for (int i = 0; i < 2; i++)
            out[n++] = (jn_cuda_buffer){(void **)&ws->delta[i], M * rows * m->max_width * F, 0};
    out[n++] = (jn_cuda_buffer){(void **)&ws->row_terms, M * 3 * rows * D, 0};
    out[n++] = (jn_cuda_buffer){(void **)&ws->tickets, (M + 1) * sizeof(unsigned), 1};
    if (!(ws->obj.jac_lambda > 0))
        return n;
    const int top = jn_cuda_stack_top(ws);
    const size_t prow = jn_cuda_penalty_rows(ws, ws->max_rows);
    int width = 0;
    for (int l = 0; l <= top; l++) {
        width = m->sizes[l] > width ? m->sizes[l] : width;
        if (l == 0) {
            out[n++] = (jn_cuda_buffer){(void **)&ws->h[0], M * prow * m->sizes[0] * F, 1};
            continue;
        }
        out[n++] = (jn_cuda_buffer){(void **)&ws->pre[l], M * prow * m->sizes[l] * F, 0};
        /* At the output layer t_L = s_L: the tangent rows of h alias those of pre (set after
         * allocation), and there is no gate. */
        if (l < m->n_layers) {
            out[n++] = (jn_cuda_buffer){(void **)&ws->h[l], M * prow * m->sizes[l] * F, 0};
            out[n++] = (jn_cuda_buffer){(void **)&ws->gate[l], M * prow * m->sizes[l] * F, 0};
        }
    }
    for (int i = 0; i < 2; i++)
        out[n++] = (jn_cuda_buffer){(void **)&ws->adj[i], M * prow * width * F, 0};
    out[n++] = (jn_cuda_buffer){(void **)&ws->dpre, M * prow * width * F, 0};
    out[n++] = (jn_cuda_buffer){(void **)&ws->unit_norm, M * m->sizes[1] * F, 0};
    return n;
}

enum { MAX_BUFFERS = 16 + 4 * (JN_MAX_LAYERS + 1) };  /* more than ws_buffers lists */

/* ws's shape: what ws_buffers reads. */
static void ws_shape(jn_cuda_ws *ws, const jn_model *m, const jn_objective *obj, int max_rows, int models)
{
    ws->model = *m;
    ws->training = obj != NULL;
    if (obj)
        ws->obj = *obj;
    ws->max_rows = max_rows;
    ws->models = models;
    if (obj && obj->jac_lambda > 0)
        ws->tangent_chunk = jn_objective_tangent_chunk(obj, m, max_rows);
}

size_t jn_cuda_ws_bytes(const jn_model *m, const jn_objective *obj, int max_rows, int models)
{
    jn_cuda_ws ws = {0};
    jn_cuda_buffer list[MAX_BUFFERS];
    ws_shape(&ws, m, obj, max_rows, models);
    return jn_cuda_buffers_bytes(list, ws_buffers(&ws, list));
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
    ws_shape(ws, m, obj, max_rows, models);
    jn_cuda_buffer list[MAX_BUFFERS];
    char what[128];
    snprintf(what, sizeof what, "a CUDA workspace of %d rows (%d model(s) of %zu parameters)", max_rows, models,
             m->n_params);
    if (jn_cuda_buffers_alloc(list, ws_buffers(ws, list), what)) {
        jn_cuda_ws_free(ws);
        return NULL;
    }
    if (ws->pre[m->n_layers])
        ws->h[m->n_layers] = ws->pre[m->n_layers];
    return ws;
}

void jn_cuda_ws_free(jn_cuda_ws *ws)
{
    if (!ws)
        return;
    jn_cuda_buffer list[MAX_BUFFERS];
    jn_cuda_buffers_free(list, ws_buffers(ws, list));
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
