/* Reverse pass over the forward-mode pass (SPEC "Reverse pass for dr/dtheta"): adjoints of
 * the tangent rows (u) and primal rows (p) flow down together, stacked like the forward
 * rows, so one GEMM per layer gives dW and one gives the next adjoints. With the main loss's
 * rows in front (jn_cpu_tangent_forward), their back-propagation rides in the same GEMMs and
 * passes, as in the CUDA engine (src/cuda/tangent.c). */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

/* A tanh layer's elementwise work on the stacked adjoints (kernels/tangent_reverse.cu), in
 * place: the adjoints of the a's become those of the z's, so no second buffer is written (a
 * store to another buffer reads its lines in first: a third of this pass's memory traffic).
 * Main rows d = da g; then example by example, its K tangent rows ds = u g and sum_k u s (in
 * us_row, in the cache), then its primal row q = (p - 2 a sum_k u s) g. The main and primal
 * rows' d are added to db as they are made, row by row in order. */
static void layer_backward(jn_real *adj, const jn_real *a, const jn_real *gate, const jn_real *pre, int main_rows,
                           int batch_rows, int K, int n, int primal_live, jn_real *restrict us, jn_real *db)
{
    const size_t main = (size_t)main_rows * n, block = (size_t)batch_rows * n;
    jn_cpu_tanh_backward_sums(adj, a, (size_t)main_rows, (size_t)n, db);
    for (int i = 0; i < batch_rows; i++) {
        const size_t e = main + (size_t)i * n;
        const jn_real *restrict g = gate + (size_t)i * n;
        for (int j = 0; j < n; j++)
            us[j] = 0;
        for (int k = 1; k <= K; k++) {
            jn_real *restrict u = adj + e + k * block;
            const jn_real *restrict s = pre + e + k * block;
            for (int j = 0; j < n; j++) {
                const jn_real uj = u[j];
                us[j] += uj * s[j];
                u[j] = jn_reverse_ds(uj, g[j]);
            }
        }
        jn_real *restrict p = adj + e;
        const jn_real *restrict ap = a + e;
        for (int j = 0; j < n; j++) {
            p[j] = jn_reverse_q(primal_live ? p[j] : 0, ap[j], us[j], g[j]);
            db[j] += p[j];
        }
    }
}

void jn_cpu_tangent_reverse(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, int K, int top,
                            double weight, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const size_t M = (size_t)main_rows, B = (size_t)batch_rows, T = B * K;
    int cur = 0;
    int primal_live = 0;  /* p is zero until a tanh layer's q feeds it */

    /* Seed: u_top = 2 weight t_top, p_top = 0 (the main rows' dObj/dlogits are the caller's). */
    {
        const size_t n = m->sizes[top], first = (M + B) * n;
        const jn_real *t = ws->h[top] + first;
        jn_real *u = ws->adj[cur] + first;
        for (size_t e = 0; e < T * n; e++)
            u[e] = (jn_real)(2.0 * weight) * t[e];
    }
    for (int l = top; l >= 1; l--) {
        const size_t n_out = m->sizes[l], n_in = m->sizes[l - 1];
        jn_real *adj = ws->adj[cur];
        jn_real *next = ws->adj[1 - cur], *dw = jn_weights(m, grad, l), *db = jn_biases(m, grad, l);
        /* The main rows bring each layer's first contribution to grad: written, not added. */
        if (main_rows)
            for (size_t j = 0; j < n_out; j++)
                db[j] = 0;
        if (l == m->n_layers) {
            /* Output layer, no tanh: the adjoints are dObj/dz already; the primal rows' are
             * zero, so the main and tangent rows go in a GEMM each. */
            const size_t t_out = (M + B) * n_out, t_in = (M + B) * n_in;
            if (main_rows) {
                jn_cpu_add_column_sums(adj, M, n_out, db);
                jn_gemm_weight_grad(ws->log, 0, main_rows, (int)n_out, (int)n_in, adj, ws->h[l - 1], dw);
            }
            jn_gemm_weight_grad(ws->log, 1, (int)T, (int)n_out, (int)n_in, adj + t_out, ws->h[l - 1] + t_in, dw);
            if (l == 1)
                break;
            if (main_rows)
                jn_gemm_input_grad(ws->log, main_rows, (int)n_out, (int)n_in, adj, jn_weights_c(m, params, l), next);
            jn_gemm_input_grad(ws->log, (int)T, (int)n_out, (int)n_in, adj + t_out, jn_weights_c(m, params, l),
                               next + t_in);
        } else {
            const int rows = (int)(M + B + T);
            layer_backward(adj, ws->h[l], ws->gate[l], ws->pre[l], main_rows, batch_rows, K, (int)n_out, primal_live,
                           ws->dpre, db);
            jn_gemm_weight_grad(ws->log, !main_rows, rows, (int)n_out, (int)n_in, adj, ws->h[l - 1], dw);
            if (l == 1)
                break;
            jn_gemm_input_grad(ws->log, rows, (int)n_out, (int)n_in, adj, jn_weights_c(m, params, l), next);
        }
        primal_live = l < m->n_layers;
        cur = 1 - cur;
    }
}
