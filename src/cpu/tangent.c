/* Forward-mode pass (SPEC "Forward-mode pass"): primal rows a~_l and tangent rows t_l at the
 * corrupted input, stacked so one GEMM per layer serves both (they multiply the same W_l). */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

void jn_cpu_tangent_forward(jn_cpu_ws *ws, const jn_real *params, int batch_rows, int K, int top)
{
    const jn_model *m = &ws->model;
    const size_t B = (size_t)batch_rows;
    for (int l = 1; l <= top; l++) {
        int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const jn_real *w = jn_weights_c(m, params, l);
        if (l == m->n_layers) {
            /* Output layer: only the tangent rows matter, t_L = s_L (no tanh). */
            jn_real *s = ws->pre[l] + B * n_out;
            jn_gemm_forward(ws->log, (int)(B * K), n_out, n_in, ws->h[l - 1] + B * n_in, w, s);
            jn_real *t = ws->h[l] + B * n_out;
            for (size_t e = 0; e < B * K * n_out; e++)
                t[e] = s[e];
            break;
        }
        jn_gemm_forward(ws->log, (int)(B * (K + 1)), n_out, n_in, ws->h[l - 1], w, ws->pre[l]);
        jn_cpu_bias_tanh(ws->pre[l], jn_biases_c(m, params, l), batch_rows, n_out, ws->h[l], ws->gate[l]);
        for (int k = 0; k < K; k++) {
            const jn_real *s = ws->pre[l] + (B * (1 + k)) * n_out;
            jn_real *t = ws->h[l] + (B * (1 + k)) * n_out;
            for (size_t e = 0; e < B * n_out; e++)
                t[e] = jn_tangent_update(ws->gate[l][e], s[e]);
        }
    }
}

double jn_cpu_tangent_norm_sum(const jn_cpu_ws *ws, int batch_rows, int K, int top)
{
    const size_t n = (size_t)batch_rows * K * ws->model.sizes[top];
    return jn_cpu_sum_squares(ws->h[top] + (size_t)batch_rows * ws->model.sizes[top], n);
}
