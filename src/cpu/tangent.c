/* Forward-mode pass (SPEC "Forward-mode pass"): primal rows a~_l and tangent rows t_l at the
 * corrupted input, stacked so one GEMM per layer serves both (they multiply the same W_l).
 * The step puts the main loss's rows in front of them, as the CUDA engine does
 * (src/cuda/tangent.c): one GEMM a layer for the main loss and the penalty together. */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

/* A tanh layer's elementwise work on the stacked rows (kernels/tangent.cu): the main rows'
 * a = tanh(z + b); then example by example its primal row's a~ and gate, and its K tangent
 * rows t = g s while that gate row is still in the cache (a pass per tangent over the whole
 * gate read it back from memory K times). */
static void layer_forward(const jn_real *pre, const jn_real *bias, int main_rows, int batch_rows, int K, int n,
                          jn_real *h, jn_real *gate)
{
    const size_t main = (size_t)main_rows * n, block = (size_t)batch_rows * n;
    jn_cpu_bias_tanh(pre, bias, main_rows, n, h, NULL);
    for (int i = 0; i < batch_rows; i++) {
        const size_t e = main + (size_t)i * n;
        const jn_real *restrict g = gate + (size_t)i * n;
        jn_cpu_bias_tanh(pre + e, bias, 1, n, h + e, gate + (size_t)i * n);
        for (int k = 1; k <= K; k++) {
            const jn_real *restrict s = pre + e + k * block;
            jn_real *restrict t = h + e + k * block;
            for (int j = 0; j < n; j++)
                t[j] = jn_tangent_update(g[j], s[j]);
        }
    }
}

void jn_cpu_tangent_forward(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, int K, int top)
{
    const jn_model *m = &ws->model;
    const size_t M = (size_t)main_rows, B = (size_t)batch_rows;
    for (int l = 1; l <= top; l++) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const jn_real *w = jn_weights_c(m, params, l), *b = jn_biases_c(m, params, l);
        if (l == m->n_layers) {
            /* Output layer, no tanh: the main rows' logits, and of the penalty's rows only
             * the tangents matter, t_L = s_L. */
            jn_real *logits = ws->h[l];
            if (main_rows) {
                jn_gemm_forward(ws->log, main_rows, n_out, n_in, ws->h[l - 1], w, logits);
                for (size_t i = 0; i < M; i++)
                    for (int j = 0; j < n_out; j++)
                        logits[i * n_out + j] += b[j];
            }
            jn_gemm_forward(ws->log, (int)(B * K), n_out, n_in, ws->h[l - 1] + (M + B) * n_in, w,
                            ws->h[l] + (M + B) * n_out);
            break;
        }
        jn_gemm_forward(ws->log, (int)(M + B * (K + 1)), n_out, n_in, ws->h[l - 1], w, ws->pre[l]);
        layer_forward(ws->pre[l], b, main_rows, batch_rows, K, n_out, ws->h[l], ws->gate[l]);
    }
}

double jn_cpu_tangent_norm_sum(const jn_cpu_ws *ws, int main_rows, int batch_rows, int K, int top)
{
    const size_t n = ws->model.sizes[top];
    return jn_cpu_sum_squares(ws->h[top] + (size_t)(main_rows + batch_rows) * n, (size_t)batch_rows * K * n);
}
