/* Allocation of the CPU workspace, sized once for a model, an objective and a batch size. */
#include "cpu/workspace.h"
#include "jacnoise/error.h"

#include <stdlib.h>
#include <string.h>

static jn_real *alloc_real(jn_cpu_ws *ws, size_t n, int *failed)
{
    jn_real *p = n ? calloc(n, sizeof(jn_real)) : NULL;
    if (n && !p)
        *failed = 1;
    ws->bytes += n * sizeof(jn_real);
    return p;
}

jn_cpu_ws *jn_cpu_ws_new(const jn_model *m, const jn_objective *obj, int max_rows)
{
    jn_cpu_ws *ws = calloc(1, sizeof *ws);
    if (!ws) {
        jn_fail("out of memory for the CPU workspace");
        return NULL;
    }
    ws->model = *m;
    ws->obj = *obj;
    ws->max_rows = max_rows;
    int failed = 0;
    size_t rows = (size_t)max_rows;
    for (int l = 0; l <= m->n_layers; l++)
        ws->act[l] = alloc_real(ws, rows * (size_t)m->sizes[l], &failed);
    for (int i = 0; i < 2; i++)
        ws->delta[i] = alloc_real(ws, rows * (size_t)m->max_width, &failed);

    if (obj->jac_lambda > 0) {
        int top = jn_objective_top(obj, m);
        ws->tangent_chunk = jn_objective_tangent_chunk(obj, m, max_rows);
        /* hidden1's closed form needs x~, z~_1 and q only, each below the main rows' slot
         * (penalty.c). */
        const int closed_form = obj->target == JN_TARGET_HIDDEN1;
        size_t prow = (size_t)jn_cpu_penalty_rows(ws, max_rows);
        int width = 0;
        for (int l = 0; l <= top; l++) {
            width = m->sizes[l] > width ? m->sizes[l] : width;
            if (l == 0 || !closed_form)
                ws->h[l] = alloc_real(ws, prow * (size_t)m->sizes[l], &failed);
            /* The output layer has no tanh: its GEMMs write h[L] (tangent.c). */
            if (l > 0 && l < m->n_layers) {
                ws->pre[l] = alloc_real(ws, prow * (size_t)m->sizes[l], &failed);
                if (!closed_form)
                    ws->gate[l] = alloc_real(ws, rows * (size_t)m->sizes[l], &failed);
            }
        }
        for (int i = 0; i < 2 && !closed_form; i++)
            ws->adj[i] = alloc_real(ws, prow * (size_t)width, &failed);
        if (!closed_form)
            ws->dpre = alloc_real(ws, rows * (size_t)width, &failed);
        ws->unit_norm = alloc_real(ws, (size_t)m->sizes[1], &failed);
        ws->unit_gate_sq = calloc((size_t)m->sizes[1], sizeof(double));
        failed |= !ws->unit_gate_sq;
        ws->bytes += (size_t)m->sizes[1] * sizeof(double);
    }
    if (failed) {
        jn_cpu_ws_free(ws);
        jn_fail("out of memory for the CPU workspace (batch %d, model with %zu parameters)",
                max_rows, m->n_params);
        return NULL;
    }
    return ws;
}

void jn_cpu_ws_free(jn_cpu_ws *ws)
{
    if (!ws)
        return;
    for (int l = 0; l <= JN_MAX_LAYERS; l++) {
        free(ws->act[l]);
        free(ws->pre[l]);
        free(ws->h[l]);
        free(ws->gate[l]);
    }
    for (int i = 0; i < 2; i++) {
        free(ws->delta[i]);
        free(ws->adj[i]);
    }
    free(ws->dpre);
    free(ws->unit_norm);
    free(ws->unit_gate_sq);
    free(ws);
}

void jn_cpu_ws_set_objective(jn_cpu_ws *ws, const jn_objective *obj) { ws->obj = *obj; }

void jn_cpu_ws_log_gemms(jn_cpu_ws *ws, jn_gemm_log *log) { ws->log = log; }

void jn_cpu_ws_set_clock(jn_cpu_ws *ws, jn_phase_clock *clock) { ws->clock = clock; }

size_t jn_cpu_ws_bytes(const jn_cpu_ws *ws) { return ws->bytes; }
