/* The Jacobian penalty R (SPEC "The penalty R"): corrupt the input, then the hidden1 closed
 * form, the output's exact norm by reverse mode (jacobian_rows.c), or K tangent directions
 * (Gaussian for Hutchinson's estimator, the input basis for a hidden layer's exact norm)
 * through the forward-mode pass and its reverse. */
#include "core/isa.h"
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

#include <string.h>

/* Both passes are bound by memory: built per instruction set (core/isa.h), whose wider
 * stores are faster here (the file is compiled without contraction into FMA: the same bits). */
JN_ALWAYS_INLINE void corrupt_body(const jn_real *x, const jn_real *noise, jn_real s, size_t n, jn_real *out)
{
    for (size_t k = 0; k < n; k++)
        out[k] = noise ? x[k] + s * noise[k] : x[k];
}

JN_ISA_BUILDS(corrupt, (const jn_real *x, const jn_real *noise, jn_real s, size_t n, jn_real *out),
              corrupt_body(x, noise, s, n, out))

void jn_cpu_corrupt(const jn_real *x, const jn_real *noise, jn_real s, size_t n, jn_real *out)
{
    JN_ISA_PICK(corrupt)(x, noise, s, n, out);
}

JN_ALWAYS_INLINE void stack_inputs_body(const jn_real *restrict x, const jn_real *restrict xi, jn_real s_main,
                                        const jn_real *restrict eps, jn_real s_jac, size_t n,
                                        jn_real *restrict main_rows, jn_real *restrict corrupted)
{
    for (size_t k = 0; k < n; k++) {
        const jn_real v = x[k];
        main_rows[k] = xi ? v + s_main * xi[k] : v;
        corrupted[k] = eps ? v + s_jac * eps[k] : v;
    }
}

JN_ISA_BUILDS(stack_inputs,
              (const jn_real *restrict x, const jn_real *restrict xi, jn_real s_main, const jn_real *restrict eps,
               jn_real s_jac, size_t n, jn_real *restrict main_rows, jn_real *restrict corrupted),
              stack_inputs_body(x, xi, s_main, eps, s_jac, n, main_rows, corrupted))

void jn_cpu_stack_inputs(const jn_real *x, const jn_real *xi, jn_real s_main, const jn_real *eps, jn_real s_jac,
                         size_t n, jn_real *main_rows, jn_real *corrupted)
{
    JN_ISA_PICK(stack_inputs)(x, xi, s_main, eps, s_jac, n, main_rows, corrupted);
}

/* hidden1: R_i = sum_j g_ij^2 c_j with c_j = ||W_1j||^2 at the corrupted rows. Adds
 * scale * dR/dtheta: dW_1j += scale (2 sum_i g_ij^2 W_1j + sum_i q_ij x~_i), db_1j += scale
 * sum_i q_ij, q = -4 a g^2 c. The main rows ride along where the step has them (ops.h). */
void jn_cpu_hidden1_unit_norms(jn_cpu_ws *ws, const jn_real *params)
{
    const jn_model *m = &ws->model;
    const int n1 = m->sizes[1], d = m->sizes[0];
    const jn_real *w = jn_weights_c(m, params, 1);
    for (int j = 0; j < n1; j++)
        ws->unit_norm[j] = (jn_real)jn_cpu_sum_squares(w + (size_t)j * d, (size_t)d);
}

double jn_cpu_hidden1_forward(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, double scale,
                              jn_real *grad)
{
    const jn_model *m = &ws->model;
    const size_t n1 = m->sizes[1], d = m->sizes[0], B = (size_t)batch_rows, first = main_rows ? 0 : B;
    const jn_real *bias = jn_biases_c(m, params, 1);
    jn_gemm_forward(ws->log, main_rows + batch_rows, (int)n1, (int)d, ws->h[0] + first * d,
                    jn_weights_c(m, params, 1), ws->pre[1] + first * n1);
    if (main_rows)
        jn_cpu_bias_tanh(ws->pre[1], bias, main_rows, (int)n1, ws->act[1], NULL);
    jn_phase_mark(ws->clock, JN_PHASE_PENALTY);

    jn_real *db = jn_biases(m, grad, 1);
    double *gate_sq_sum = ws->unit_gate_sq;
    for (size_t j = 0; j < n1; j++) {
        gate_sq_sum[j] = 0;
        if (main_rows)
            db[j] = 0;
    }
    jn_cpu_hidden1_rows(ws->pre[1] + B * n1, bias, ws->unit_norm, batch_rows, (int)n1, (jn_real)scale, db,
                        gate_sq_sum);
    double r = 0;
    for (size_t j = 0; j < n1; j++)
        r += (double)ws->unit_norm[j] * gate_sq_sum[j];
    return r;
}

void jn_cpu_hidden1_backward(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, double scale,
                             jn_real *grad)
{
    const jn_model *m = &ws->model;
    const size_t n1 = m->sizes[1], d = m->sizes[0], first = main_rows ? 0 : (size_t)batch_rows;
    const jn_real *w = jn_weights_c(m, params, 1);
    jn_real *dw = jn_weights(m, grad, 1);
    /* The weight term first: with main rows it writes dW_1, which the GEMM then adds to
     * (a GEMM that overwrites would clear dW_1 in a pass of its own). */
    for (size_t j = 0; j < n1; j++) {
        const jn_real f = (jn_real)(2.0 * scale * ws->unit_gate_sq[j]);
        jn_real *row = dw + j * d;
        const jn_real *wj = w + j * d;
        if (main_rows)
            for (size_t k = 0; k < d; k++)
                row[k] = f * wj[k];
        else
            for (size_t k = 0; k < d; k++)
                row[k] += f * wj[k];
    }
    jn_gemm_weight_grad(ws->log, 1, main_rows + batch_rows, (int)n1, (int)d, ws->pre[1] + first * n1,
                        ws->h[0] + first * d, dw);
}

/* Tangent rows k0 .. k0+count-1 of one copy, after the main and primal rows of h[0]: the
 * input basis vectors e_k (exact) or the given Gaussian tangents (v = this copy's K x B x d
 * block). */
static void fill_tangents(jn_cpu_ws *ws, const jn_real *v, int main_rows, int batch_rows, int k0, int count)
{
    const size_t d = ws->model.sizes[0], B = (size_t)batch_rows;
    jn_real *rows = ws->h[0] + (main_rows + B) * d;
    if (v) {
        memcpy(rows, v + (size_t)k0 * B * d, sizeof(jn_real) * count * B * d);
        return;
    }
    memset(rows, 0, sizeof(jn_real) * count * B * d);
    for (int k = 0; k < count; k++)
        for (size_t i = 0; i < B; i++)
            rows[((size_t)k * B + i) * d + (size_t)(k0 + k)] = 1;
}

/* One pass of the forward-mode penalty: a copy's corrupted rows in h[0] (after the main rows,
 * if any) with tangents k0 .. k0+count-1; the main rows' loss, when they ride along, into
 * terms. Returns the pass's sum of ||t_top||^2. */
static double tangent_pass(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch, const jn_real *copy_v,
                           int main_rows, int k0, int count, double weight, jn_step_terms *terms, jn_real *grad)
{
    const int B = batch->rows, top = jn_objective_top(&ws->obj, &ws->model), L = ws->model.n_layers;
    fill_tangents(ws, copy_v, main_rows, B, k0, count);
    jn_cpu_tangent_forward(ws, params, main_rows, B, count, top);
    if (main_rows)
        jn_cpu_main_loss(ws, batch, ws->h[L], 1.0 / B, ws->adj[0], terms);
    jn_phase_mark(ws->clock, JN_PHASE_PENALTY);
    const double r = jn_cpu_tangent_norm_sum(ws, main_rows, B, count, top);
    jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
    jn_cpu_tangent_reverse(ws, params, main_rows, B, count, top, weight, grad);
    return r;
}

/* The penalty's passes, copy by copy and tangent chunk by chunk. With main_terms (the step,
 * jn_cpu_stacked: the output's Gaussian tangents) the first pass carries the main loss's rows
 * at x + s_in xi in front of copy 0's, and writes grad; otherwise grad holds the main loss's
 * gradient and the passes add to it. */
static void penalty_passes(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch, const jn_noise *noise,
                           double scale, jn_step_terms *main_terms, jn_step_terms *terms, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const jn_objective *obj = &ws->obj;
    const int B = batch->rows, copies = obj->jac_copies;
    const size_t per_copy = (size_t)B * m->sizes[0];
    const int K = jn_objective_tangents(obj, m);
    /* R averages over the K Gaussian tangents; the exact norm sums over the basis. */
    const double tangent_weight = obj->jac_proj == JN_PROJ_EXACT ? 1.0 : 1.0 / K;
    const double copy_scale = scale / copies;
    const int hidden1 = obj->target == JN_TARGET_HIDDEN1;
    const jn_real s_jac = (jn_real)obj->jac_noise;
    /* A stacked step's forward-mode work is in its forward phase, every pass alike
     * (profile_cpu.c: jvp_in_forward). */
    const jn_phase jvp = main_terms ? JN_PHASE_FORWARD : JN_PHASE_JVP;

    if (hidden1) {
        jn_phase_mark(ws->clock, JN_PHASE_PENALTY);
        jn_cpu_hidden1_unit_norms(ws, params);
    }
    double total = 0;
    for (int copy = 0; copy < copies; copy++) {
        const jn_real *eps = noise->eps ? noise->eps + copy * per_copy : NULL;
        const int main_rows = main_terms && copy == 0 ? B : 0;
        jn_phase_mark(ws->clock, jvp);
        if (main_rows) {
            jn_cpu_stack_inputs(batch->x, noise->xi, (jn_real)obj->input_noise, eps, s_jac, per_copy, ws->h[0],
                                ws->h[0] + per_copy);
        } else {
            /* hidden1's corrupted rows follow the main rows' slot (ops.h). */
            jn_cpu_corrupt(batch->x, eps, s_jac, per_copy, ws->h[0] + (hidden1 ? per_copy : 0));
        }
        if (hidden1) {
            total += jn_cpu_hidden1_forward(ws, params, 0, B, copy_scale, grad);
            jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
            jn_cpu_hidden1_backward(ws, params, 0, B, copy_scale, grad);
            continue;
        }
        if (obj->jac_proj == JN_PROJ_EXACT && obj->target == JN_TARGET_OUTPUT) {
            total += jn_cpu_jacobian_rows_penalty(ws, params, B, copy_scale, grad);
            continue;
        }
        /* The exact norm takes the input basis as its tangents; v is only for Hutchinson. */
        const jn_real *copy_v = obj->jac_proj == JN_PROJ_EXACT ? NULL : noise->v + (size_t)copy * K * per_copy;
        for (int k0 = 0; k0 < K; k0 += ws->tangent_chunk) {
            const int count = K - k0 < ws->tangent_chunk ? K - k0 : ws->tangent_chunk;
            if (k0 > 0) {
                jn_phase_mark(ws->clock, jvp);
                if (main_rows)  /* the main rows' slot is empty from here on: h[0] starts with x~ */
                    memmove(ws->h[0], ws->h[0] + per_copy, sizeof(jn_real) * per_copy);
            }
            total += tangent_weight * tangent_pass(ws, params, batch, copy_v, k0 ? 0 : main_rows, k0, count,
                                                   copy_scale * tangent_weight, main_terms, grad);
        }
    }
    terms->penalty = total / ((double)copies * B);
}

void jn_cpu_penalty_grad(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                         const jn_real *eps, const jn_real *v, double scale,
                         jn_step_terms *terms, jn_real *grad)
{
    const jn_noise noise = {NULL, eps, v};
    penalty_passes(ws, params, batch, &noise, scale, NULL, terms, grad);
}

void jn_cpu_stacked_penalty_step(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                                 const jn_noise *noise, jn_step_terms *terms, jn_real *grad)
{
    penalty_passes(ws, params, batch, noise, ws->obj.jac_lambda / batch->rows, terms, terms, grad);
}
