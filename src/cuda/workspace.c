/* Allocation of the CUDA workspace (mirrors src/cpu/workspace.c), and its size in bytes. */
#include "cuda/workspace.h"
#include "cuda/check.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    void **ptr;
    size_t bytes;
} buffer;

/* The workspace's device buffers for ws's model, objective, rows and models, for allocation
 * and for the byte count alike: the main loss's (for evaluation only the forward pass's) and
 * the penalty's. Returns how many. */
static int ws_buffers(jn_cuda_ws *ws, buffer *out)
{
    const jn_model *m = &ws->model;
    const size_t M = (size_t)ws->models, rows = (size_t)ws->max_rows, F = sizeof(float), D = sizeof(double);
    const int training = ws->training, L = m->n_layers;
    /* With a penalty the main rows of layers 0 .. top live in the stacked buffers: no act[0],
     * and no delta when the stacked passes reach the output. */
    const int stacked_top = training && jn_cuda_stacked(ws) ? jn_cuda_stack_top(ws) : -1;
    int n = 0;
    if (training)
        out[n++] = (buffer){(void **)&ws->hp, M * sizeof(jn_hparams)};
    /* act[1 .. L] also serve jn_cuda_count_errors on a training workspace. */
    for (int l = training && stacked_top < 0 ? 0 : 1; l <= L; l++)
        out[n++] = (buffer){(void **)&ws->act[l], M * rows * m->sizes[l] * F};
    out[n++] = (buffer){(void **)&ws->row_error, M * rows * D};
    if (!training)
        return n;
    if (stacked_top < L)
        for (int i = 0; i < 2; i++)
            out[n++] = (buffer){(void **)&ws->delta[i], M * rows * m->max_width * F};
    out[n++] = (buffer){(void **)&ws->row_terms, M * 3 * rows * D};
    out[n++] = (buffer){(void **)&ws->tickets, (M + 1) * sizeof(unsigned)};
    if (!(ws->obj.jac_lambda > 0))
        return n;
    const int top = jn_cuda_stack_top(ws);
    const size_t prow = jn_cuda_penalty_rows(ws, ws->max_rows);
    int width = 0;
    for (int l = 0; l <= top; l++) {
        width = m->sizes[l] > width ? m->sizes[l] : width;
        if (l == 0) {
            out[n++] = (buffer){(void **)&ws->h[0], M * prow * m->sizes[0] * F};
            continue;
        }
        out[n++] = (buffer){(void **)&ws->pre[l], M * prow * m->sizes[l] * F};
        /* At the output layer t_L = s_L: the tangent rows of h alias those of pre (set after
         * allocation), and there is no gate. */
        if (l < m->n_layers) {
            out[n++] = (buffer){(void **)&ws->h[l], M * prow * m->sizes[l] * F};
            out[n++] = (buffer){(void **)&ws->gate[l], M * prow * m->sizes[l] * F};
        }
    }
    for (int i = 0; i < 2; i++)
        out[n++] = (buffer){(void **)&ws->adj[i], M * prow * width * F};
    out[n++] = (buffer){(void **)&ws->dpre, M * prow * width * F};
    out[n++] = (buffer){(void **)&ws->unit_norm, M * m->sizes[1] * F};
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
    buffer list[MAX_BUFFERS];
    ws_shape(&ws, m, obj, max_rows, models);
    const int n = ws_buffers(&ws, list);
    size_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += list[i].bytes;
    return bytes;
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
    buffer list[MAX_BUFFERS];
    const int n = ws_buffers(ws, list);
    for (int i = 0; i < n; i++)
        if (list[i].bytes && cudaMalloc(list[i].ptr, list[i].bytes) != cudaSuccess) {
            double free_gib, total_gib;
            jn_cuda_memory_left(&free_gib, &total_gib);
            jn_cuda_ws_free(ws);
            jn_fail("out of GPU memory for a CUDA workspace of %d rows (%d model(s) of %zu parameters; %.1f of %.1f "
                    "GiB free)", max_rows, models, m->n_params, free_gib, total_gib);
            return NULL;
        }
    if (ws->pre[m->n_layers])
        ws->h[m->n_layers] = ws->pre[m->n_layers];
    /* The tickets start at zero; each kernel that takes them leaves them so. The first layer's
     * input rows (those allocated) start at zero too: the gather skips a frozen model, whose
     * step then runs on finite rows, as it runs on its zeroed batch. */
    const size_t d = (size_t)m->sizes[0];
    const struct {
        void *ptr;
        size_t bytes;
    } zero[] = {{ws->tickets, (ws->models + 1) * sizeof(unsigned)},
                {ws->h[0], (size_t)ws->models * jn_cuda_penalty_rows(ws, max_rows) * d * sizeof(float)},
                {ws->act[0], (size_t)ws->models * max_rows * d * sizeof(float)}};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (zero[i].ptr && cudaMemset(zero[i].ptr, 0, zero[i].bytes) != cudaSuccess) {
            jn_cuda_forget_error();
            jn_cuda_ws_free(ws);
            jn_fail("out of GPU memory clearing a CUDA workspace of %d rows", max_rows);
            return NULL;
        }
    return ws;
}

void jn_cuda_ws_free(jn_cuda_ws *ws)
{
    if (!ws)
        return;
    buffer list[MAX_BUFFERS];
    const int n = ws_buffers(ws, list);
    for (int i = 0; i < n; i++)
        cudaFree(*list[i].ptr);
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
