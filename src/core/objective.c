/* Objective helpers: which layer is penalised, how many tangents, noise buffer sizes. */
#include "jacnoise/objective.h"
#include "jacnoise/error.h"

#include <math.h>
#include <stdio.h>

int jn_objective_top(const jn_objective *obj, const jn_model *m)
{
    switch (obj->target) {
    case JN_TARGET_HIDDEN1: return 1;
    case JN_TARGET_HIDDEN: return obj->target_layer;
    default: return m->n_layers;
    }
}

int jn_objective_check(const jn_objective *obj, const jn_model *m)
{
    if (obj->target == JN_TARGET_HIDDEN && (obj->target_layer < 1 || obj->target_layer > m->n_layers - 1)) {
        if (m->n_layers == 2)  /* "hidden layers [1, 1]" read as a range of widths */
            return jn_fail("--jac-target: hidden:%d does not exist; this model has one hidden layer, hidden:1",
                           obj->target_layer);
        return jn_fail("--jac-target: hidden:%d does not exist; this model has hidden layers [1, %d]",
                       obj->target_layer, m->n_layers - 1);
    }
    if (obj->jac_copies < 1)
        return jn_fail("--jac-copies: expected at least 1, got %d", obj->jac_copies);
    if (obj->jac_proj < 0)
        return jn_fail("--jac-proj: expected a positive count or 'exact', got %d", obj->jac_proj);
    return 0;
}

int jn_objective_jacobian_rows(const jn_objective *obj)
{
    return obj->jac_lambda > 0 && obj->target == JN_TARGET_OUTPUT && obj->jac_proj == JN_PROJ_EXACT;
}

int jn_objective_tangents(const jn_objective *obj, const jn_model *m)
{
    if (obj->jac_lambda == 0 || obj->target == JN_TARGET_HIDDEN1)
        return 0;
    if (obj->jac_proj != JN_PROJ_EXACT)
        return obj->jac_proj;
    return jn_objective_jacobian_rows(obj) ? m->sizes[m->n_layers] : m->sizes[0];
}

int jn_objective_tangent_chunk(const jn_objective *obj, const jn_model *m, int max_rows)
{
    const int row_budget = 16384;
    const int K = jn_objective_tangents(obj, m), fit = row_budget / max_rows - 1;
    return K == 0 ? 0 : K < fit ? K : (fit > 1 ? fit : 1);
}

jn_noise_sizes jn_objective_noise_sizes(const jn_objective *obj, const jn_model *m, int rows)
{
    size_t per_copy = (size_t)rows * (size_t)m->sizes[0];
    jn_noise_sizes n = {0, 0, 0};
    if (obj->input_noise > 0)
        n.xi = per_copy;
    if (obj->jac_lambda > 0 && obj->jac_noise > 0)
        n.eps = (size_t)obj->jac_copies * per_copy;
    if (obj->jac_lambda > 0 && obj->target != JN_TARGET_HIDDEN1 && obj->jac_proj != JN_PROJ_EXACT)
        n.v = (size_t)obj->jac_copies * (size_t)obj->jac_proj * per_copy;
    return n;
}

void jn_target_name(const jn_objective *obj, char *out, size_t cap)
{
    switch (obj->target) {
    case JN_TARGET_HIDDEN1: snprintf(out, cap, "hidden1"); break;
    case JN_TARGET_HIDDEN: snprintf(out, cap, "hidden:%d", obj->target_layer); break;
    default: snprintf(out, cap, "output"); break;
    }
}

double jn_step_tolerance(const jn_model *m, const jn_objective *obj, int batch, int tf32, jn_tf32_bound *why)
{
    if (!tf32)
        return JN_FP32_TOLERANCE;
    jn_tf32_bound b = {.u_tf32 = ldexp(1.0, -11), .margin = 4};
    const double u_fp32 = ldexp(1.0, -24);
    b.per_gemm = sqrt(2.0 / 3.0) * b.u_tf32;
    const int L = m->n_layers, K = obj->jac_lambda > 0 ? jn_objective_tangents(obj, m) : 0;
    /* The longest chain of GEMMs behind a gradient: the forward pass (reductions over each
     * layer's inputs), back-propagation to the first layer (over each layer's outputs), then
     * the weight gradient (over the batch's rows, primal and tangent rows stacked). */
    for (int l = 1; l <= L; l++, b.gemms++) {
        b.chain += b.per_gemm + m->sizes[l - 1] * u_fp32;
        b.longest = m->sizes[l - 1] > b.longest ? m->sizes[l - 1] : b.longest;
    }
    for (int l = L; l >= 2; l--, b.gemms++)
        b.chain += b.per_gemm + m->sizes[l] * u_fp32;
    const long rows = (long)batch * (1 + K);
    b.chain += b.per_gemm + rows * u_fp32;
    b.gemms++;
    b.longest = rows > b.longest ? rows : b.longest;
    if (why)
        *why = b;
    return b.margin * b.chain;
}
