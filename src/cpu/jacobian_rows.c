/* The exact ||J||_F^2 of the logits by reverse mode (SPEC "The penalty R": C reverse-mode
 * products for the output) and its gradient. Row (c, i) of J(x~_i) is e_c^T J, built from the
 * top down:  w_L = W_L[c],  y_l = w_{l+1} * g_l,  w_l = y_l W_l,  J row = w_1.
 * R = sum ||w_1||^2. Its gradient runs the chain back up (omega = dR/dw, eta = dR/dy):
 *   omega_1 = 2 w_1;  dW_l += y_l^T omega_l;  eta_l = omega_l W_l^T;
 *   dR/dg_l += sum_c eta_l * w_{l+1};  omega_{l+1} = eta_l * g_l,
 * then the gates' adjoint goes down the primal rows as in the forward-mode reverse pass:
 *   q_l = (p_l - 2 a~_l dR/dg_l) g_l,  dW_l += q_l^T a~_{l-1},  db_l += sum q_l,  p_{l-1} = q_l W_l.
 * Classes go through in chunks of the workspace's tangent rows (rows (c, i) stacked like
 * tangent rows); dR/dg_l sums over every chunk before the primal rows' pass. */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

#include <string.h>

/* Down the chain for classes c0 .. c0+count-1: y_l into pre[l]'s tangent rows, w_l into
 * h[l-1]'s (h[0]'s hold the Jacobian's rows). */
static void rows_down(jn_cpu_ws *ws, const jn_real *params, int batch_rows, int c0, int count)
{
    const jn_model *m = &ws->model;
    const int L = m->n_layers;
    const size_t B = (size_t)batch_rows, top = m->sizes[L - 1];
    const jn_real *w_top = jn_weights_c(m, params, L);
    jn_real *w = ws->h[L - 1] + B * top;
    for (int c = 0; c < count; c++)
        for (size_t i = 0; i < B; i++)
            memcpy(w + ((size_t)c * B + i) * top, w_top + (size_t)(c0 + c) * top, sizeof(jn_real) * top);
    for (int l = L - 1; l >= 1; l--) {
        const size_t n = m->sizes[l];
        const jn_real *above = ws->h[l] + B * n, *g = ws->gate[l];
        jn_real *y = ws->pre[l] + B * n;
        for (int c = 0; c < count; c++)
            for (size_t e = 0; e < B * n; e++)
                y[(size_t)c * B * n + e] = jn_tangent_update(g[e], above[(size_t)c * B * n + e]);
        jn_gemm_input_grad(ws->log, (int)(B * count), (int)n, m->sizes[l - 1], y, jn_weights_c(m, params, l),
                           ws->h[l - 1] + B * m->sizes[l - 1]);
    }
}

/* Back up the chain: weight * d(sum ||w_1||^2)/dW_l into grad, dR/dg_l added to the primal
 * rows of pre[l]. */
static void rows_up(jn_cpu_ws *ws, const jn_real *params, int batch_rows, int c0, int count, double weight,
                    jn_real *grad)
{
    const jn_model *m = &ws->model;
    const int L = m->n_layers;
    const size_t B = (size_t)batch_rows, T = B * count, d = m->sizes[0];
    int cur = 0;
    jn_real *omega = ws->adj[cur] + B * d;
    const jn_real *rows = ws->h[0] + B * d;
    for (size_t e = 0; e < T * d; e++)
        omega[e] = (jn_real)(2.0 * weight) * rows[e];
    for (int l = 1; l < L; l++) {
        const size_t n_out = m->sizes[l], n_in = m->sizes[l - 1];
        jn_gemm_weight_grad(ws->log, 1, (int)T, (int)n_out, (int)n_in, ws->pre[l] + B * n_out, omega,
                            jn_weights(m, grad, l));
        jn_real *eta = ws->adj[1 - cur] + B * n_out;
        jn_gemm_forward(ws->log, (int)T, (int)n_out, (int)n_in, omega, jn_weights_c(m, params, l), eta);
        const jn_real *above = ws->h[l] + B * n_out, *g = ws->gate[l];
        jn_real *dgate = ws->pre[l];
        for (int c = 0; c < count; c++)
            for (size_t e = 0; e < B * n_out; e++) {
                const size_t k = (size_t)c * B * n_out + e;
                dgate[e] += eta[k] * above[k];
                eta[k] = jn_reverse_ds(eta[k], g[e]);
            }
        cur = 1 - cur;
        omega = eta;
    }
    /* y_L = e_c: dW_L[c] += sum_i omega_L(c, i). */
    const size_t top = m->sizes[L - 1];
    jn_real *dw = jn_weights(m, grad, L);
    for (int c = 0; c < count; c++)
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < top; j++)
                dw[(size_t)(c0 + c) * top + j] += omega[((size_t)c * B + i) * top + j];
}

/* The gates' adjoint down the primal rows (dR/dg_l in pre[l]'s primal rows). */
static void gates_down(jn_cpu_ws *ws, const jn_real *params, int batch_rows, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const size_t B = (size_t)batch_rows;
    int cur = 0;
    for (int l = m->n_layers - 1; l >= 1; l--) {
        const size_t n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const jn_real *p = ws->adj[cur], *a = ws->h[l], *g = ws->gate[l], *dgate = ws->pre[l];
        const int p_live = l < m->n_layers - 1;
        jn_real *q = ws->dpre, *db = jn_biases(m, grad, l);
        /* Each row of q added to db as it is made: jn_cpu_add_column_sums's order, in one pass. */
        for (size_t i = 0; i < B; i++)
            for (size_t j = 0; j < n_out; j++) {
                const size_t e = i * n_out + j;
                q[e] = jn_reverse_q(p_live ? p[e] : 0, a[e], dgate[e], g[e]);
                db[j] += q[e];
            }
        jn_gemm_weight_grad(ws->log, 1, (int)B, (int)n_out, (int)n_in, q, ws->h[l - 1], jn_weights(m, grad, l));
        if (l == 1)
            break;
        jn_gemm_input_grad(ws->log, (int)B, (int)n_out, (int)n_in, q, jn_weights_c(m, params, l), ws->adj[1 - cur]);
        cur = 1 - cur;
    }
}

/* The primal rows at h[0] up to the last hidden layer (their gates), dR/dg zeroed. */
static void primal_forward(jn_cpu_ws *ws, const jn_real *params, int batch_rows)
{
    const jn_model *m = &ws->model;
    jn_cpu_tangent_forward(ws, params, 0, batch_rows, 0, m->n_layers - 1);
    for (int l = 1; l < m->n_layers; l++)
        memset(ws->pre[l], 0, sizeof(jn_real) * (size_t)batch_rows * m->sizes[l]);
}

static int chunk_count(const jn_cpu_ws *ws, int c0)
{
    const int C = ws->model.sizes[ws->model.n_layers];
    return C - c0 < ws->tangent_chunk ? C - c0 : ws->tangent_chunk;
}

void jn_cpu_jacobian_rows_sq(jn_cpu_ws *ws, const jn_real *params, int batch_rows, double *per_row)
{
    const jn_model *m = &ws->model;
    const size_t B = (size_t)batch_rows, d = m->sizes[0];
    primal_forward(ws, params, batch_rows);
    for (size_t i = 0; i < B; i++)
        per_row[i] = 0;
    for (int c0 = 0; c0 < m->sizes[m->n_layers]; c0 += ws->tangent_chunk) {
        const int count = chunk_count(ws, c0);
        rows_down(ws, params, batch_rows, c0, count);
        for (int c = 0; c < count; c++)
            for (size_t i = 0; i < B; i++)
                per_row[i] += jn_cpu_sum_squares(ws->h[0] + (B * (1 + c) + i) * d, d);
    }
}

double jn_cpu_jacobian_rows_penalty(jn_cpu_ws *ws, const jn_real *params, int batch_rows, double weight,
                                    jn_real *grad)
{
    primal_forward(ws, params, batch_rows);
    double r = 0;
    for (int c0 = 0; c0 < ws->model.sizes[ws->model.n_layers]; c0 += ws->tangent_chunk) {
        const int count = chunk_count(ws, c0);
        jn_phase_mark(ws->clock, JN_PHASE_JVP);
        rows_down(ws, params, batch_rows, c0, count);
        jn_phase_mark(ws->clock, JN_PHASE_PENALTY);
        r += jn_cpu_tangent_norm_sum(ws, 0, batch_rows, count, 0);
        jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
        rows_up(ws, params, batch_rows, c0, count, weight, grad);
    }
    gates_down(ws, params, batch_rows, grad);
    return r;
}
