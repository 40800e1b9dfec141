/* The Jacobian penalty R (SPEC "The penalty R"): corrupt the input, then the hidden1 closed
 * form, the output's exact norm by reverse mode (jacobian_rows.c), or K tangent directions
 * (Gaussian for Hutchinson's estimator, the input basis for a hidden layer's exact norm)
 * through the forward-mode pass and its reverse. */
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

#include <string.h>

void jn_cpu_corrupt(const jn_real *x, const jn_real *noise, jn_real s, size_t n, jn_real *out)
{
    for (size_t k = 0; k < n; k++)
        out[k] = noise ? x[k] + s * noise[k] : x[k];
}

/* hidden1: R_i = sum_j g_ij^2 c_j with c_j = ||W_1j||^2, at the rows h[0]. Adds
 * scale * dR/dtheta: dW_1j += scale (2 sum_i g_ij^2 W_1j + sum_i q_ij x~_i), db_1j += scale
 * sum_i q_ij, q = -4 a g^2 c. Returns sum_i R_i. */
static double hidden1_penalty(jn_cpu_ws *ws, const jn_real *params, int batch_rows, double scale,
                              jn_real *grad)
{
    const jn_model *m = &ws->model;
    const int n1 = m->sizes[1], d = m->sizes[0];
    const jn_real *w = jn_weights_c(m, params, 1), *c = ws->unit_norm;
    jn_gemm_forward(ws->log, batch_rows, n1, d, ws->h[0], w, ws->pre[1]);
    jn_phase_mark(ws->clock, JN_PHASE_PENALTY);

    jn_real *q = ws->dpre, *db = jn_biases(m, grad, 1), *dw = jn_weights(m, grad, 1);
    double *unit_r = ws->unit_r, *gate_sq_sum = ws->unit_gate_sq;
    for (int j = 0; j < n1; j++)
        unit_r[j] = gate_sq_sum[j] = 0;
    jn_cpu_hidden1_rows(ws->pre[1], jn_biases_c(m, params, 1), c, batch_rows, n1, (jn_real)scale, q, db, unit_r,
                        gate_sq_sum);
    double r = 0;
    for (int j = 0; j < n1; j++)
        r += unit_r[j];
    jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
    jn_gemm_weight_grad(ws->log, 1, batch_rows, n1, d, q, ws->h[0], dw);
    for (int j = 0; j < n1; j++) {
        jn_real f = (jn_real)(2.0 * scale * gate_sq_sum[j]);
        for (int k = 0; k < d; k++)
            dw[(size_t)j * d + k] += f * w[(size_t)j * d + k];
    }
    return r;
}

/* Tangent rows k0 .. k0+count-1 of one copy: the input basis vectors e_k (exact) or the
 * given Gaussian tangents (v = this copy's K x B x d block). */
static void fill_tangents(jn_cpu_ws *ws, const jn_real *v, int batch_rows, int k0, int count)
{
    const size_t d = ws->model.sizes[0], B = (size_t)batch_rows;
    jn_real *rows = ws->h[0] + B * d;
    if (v) {
        memcpy(rows, v + (size_t)k0 * B * d, sizeof(jn_real) * count * B * d);
        return;
    }
    memset(rows, 0, sizeof(jn_real) * count * B * d);
    for (int k = 0; k < count; k++)
        for (size_t i = 0; i < B; i++)
            rows[((size_t)k * B + i) * d + (size_t)(k0 + k)] = 1;
}

void jn_cpu_penalty_grad(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                         const jn_real *eps, const jn_real *v, double scale,
                         jn_step_terms *terms, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const jn_objective *obj = &ws->obj;
    const int B = batch->rows, copies = obj->jac_copies;
    const size_t per_copy = (size_t)B * m->sizes[0];
    const int top = jn_objective_top(obj, m), K = jn_objective_tangents(obj, m);
    /* R averages over the K Gaussian tangents; the exact norm sums over the basis. */
    const double tangent_weight = obj->jac_proj == JN_PROJ_EXACT ? 1.0 : 1.0 / K;
    const double copy_scale = scale / copies;

    if (obj->target == JN_TARGET_HIDDEN1) {
        jn_phase_mark(ws->clock, JN_PHASE_PENALTY);
        const int n1 = m->sizes[1], d = m->sizes[0];
        const jn_real *w = jn_weights_c(m, params, 1);
        for (int j = 0; j < n1; j++)
            ws->unit_norm[j] = (jn_real)jn_cpu_sum_squares(w + (size_t)j * d, (size_t)d);
    }
    double total = 0;
    for (int copy = 0; copy < copies; copy++) {
        jn_phase_mark(ws->clock, JN_PHASE_JVP);
        jn_cpu_corrupt(batch->x, eps ? eps + copy * per_copy : NULL, (jn_real)obj->jac_noise, per_copy, ws->h[0]);

        if (obj->target == JN_TARGET_HIDDEN1) {
            total += hidden1_penalty(ws, params, B, copy_scale, grad);
            continue;
        }
        if (obj->jac_proj == JN_PROJ_EXACT && obj->target == JN_TARGET_OUTPUT) {
            total += jn_cpu_jacobian_rows_penalty(ws, params, B, copy_scale, grad);
            continue;
        }
        /* The exact norm takes the input basis as its tangents; v is only for Hutchinson. */
        const jn_real *copy_v = obj->jac_proj == JN_PROJ_EXACT ? NULL : v + (size_t)copy * K * per_copy;
        for (int k0 = 0; k0 < K; k0 += ws->tangent_chunk) {
            int count = K - k0 < ws->tangent_chunk ? K - k0 : ws->tangent_chunk;
            jn_phase_mark(ws->clock, JN_PHASE_JVP);
            fill_tangents(ws, copy_v, B, k0, count);
            jn_cpu_tangent_forward(ws, params, B, count, top);
            jn_phase_mark(ws->clock, JN_PHASE_PENALTY);
            total += tangent_weight * jn_cpu_tangent_norm_sum(ws, B, count, top);
            jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
            jn_cpu_tangent_reverse(ws, params, B, count, top, copy_scale * tangent_weight, grad);
        }
    }
    terms->penalty = total / ((double)copies * B);
}
