/* Reverse pass over the forward-mode pass (SPEC "Reverse pass for dr/dtheta"): adjoints of
 * the tangent rows (u) and primal rows (p) flow down together, stacked like the forward
 * rows, so one GEMM per layer gives dW and one gives the next adjoints. */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

void jn_cpu_tangent_reverse(jn_cpu_ws *ws, const jn_real *params, int batch_rows, int K, int top,
                            double weight, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const size_t B = (size_t)batch_rows, T = B * K;
    int cur = 0;
    int primal_live = 0;  /* p is zero until a tanh layer's q feeds it */

    /* Seed: u_top = 2 weight t_top, p_top = 0. */
    {
        size_t n = m->sizes[top];
        const jn_real *t = ws->h[top] + B * n;
        jn_real *u = ws->adj[cur] + B * n;
        for (size_t e = 0; e < T * n; e++)
            u[e] = (jn_real)(2.0 * weight) * t[e];
    }
    for (int l = top; l >= 1; l--) {
        const size_t n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const jn_real *adj = ws->adj[cur];  /* [p ; u] */
        const jn_real *dpre = adj;          /* at the output layer ds = u, q = 0 */
        const int has_q = l < m->n_layers;
        if (has_q) {
            const jn_real *a = ws->h[l], *g = ws->gate[l], *s = ws->pre[l];
            jn_real *d = ws->dpre;
            /* Tangent k after tangent k, each a pass along the rows (they vectorise): ds, and
             * sum_k u s gathered in the primal rows of d until q replaces it. */
            jn_real *us = d;
            for (size_t e = 0; e < B * n_out; e++)
                us[e] = 0;
            for (int k = 0; k < K; k++) {
                const size_t t0 = (B * (1 + k)) * n_out;
                for (size_t e = 0; e < B * n_out; e++) {
                    us[e] += adj[t0 + e] * s[t0 + e];
                    d[t0 + e] = jn_reverse_ds(adj[t0 + e], g[e]);
                }
            }
            for (size_t e = 0; e < B * n_out; e++)
                d[e] = jn_reverse_q(primal_live ? adj[e] : 0, a[e], us[e], g[e]);
            dpre = d;
            jn_real *db = jn_biases(m, grad, l);
            jn_cpu_add_column_sums(d, B, n_out, db);
        }
        /* Rows that carry adjoint: all of them below a tanh layer, the tangent rows at L. */
        size_t row0 = has_q ? 0 : B, rows = has_q ? B + T : T;
        jn_gemm_weight_grad(ws->log, 1, (int)rows, (int)n_out, (int)n_in, dpre + row0 * n_out,
                            ws->h[l - 1] + row0 * n_in, jn_weights(m, grad, l));
        if (l == 1)
            break;
        jn_gemm_input_grad(ws->log, (int)rows, (int)n_out, (int)n_in, dpre + row0 * n_out,
                           jn_weights_c(m, params, l), ws->adj[1 - cur] + row0 * n_in);
        primal_live = has_q;
        cur = 1 - cur;
    }
}
