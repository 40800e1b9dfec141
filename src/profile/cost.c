/* The cost model of SPEC.md "Cost", made exact: the GEMMs of the step's algorithm, phase by
 * phase (see jacnoise/profile.h). tests/test_profile_cost.c holds it to the GEMMs a real CPU
 * step issues. */
#include "jacnoise/profile.h"

#include <string.h>

/* One GEMM over `rows` rows of layer l: 2 rows n_l n_{l-1}. */
static double gemm(const jn_model *m, double rows, int l)
{
    return 2.0 * rows * (double)m->sizes[l] * (double)m->sizes[l - 1];
}

double jn_step_flops(const jn_model *m, const jn_objective *obj, int rows, double flops[JN_PHASES])
{
    const int L = m->n_layers;
    const double B = rows;
    memset(flops, 0, sizeof(double) * JN_PHASES);
    for (int l = 1; l <= L; l++) {
        flops[JN_PHASE_FORWARD] += gemm(m, B, l);
        flops[JN_PHASE_BACKWARD] += gemm(m, B, l) * (l > 1 ? 2 : 1);  /* weight grad; input grad above layer 1 */
    }
    if (obj->jac_lambda > 0) {
        const int copies = obj->jac_copies, top = jn_objective_top(obj, m);
        if (obj->target == JN_TARGET_HIDDEN1) {
            flops[JN_PHASE_JVP] += copies * gemm(m, B, 1);
            flops[JN_PHASE_BACKWARD] += copies * gemm(m, B, 1);
        } else if (obj->target == JN_TARGET_OUTPUT && obj->jac_proj == JN_PROJ_EXACT) {
            /* Reverse mode (src/cpu/jacobian_rows.c): the primal rows up to the last hidden
             * layer, the C rows per example down and back up (the output layer's are copies
             * and sums, no GEMM), then the gates' adjoint down the primal rows. */
            const double CB = B * m->sizes[L];
            for (int l = 1; l < L; l++) {
                flops[JN_PHASE_JVP] += copies * (gemm(m, B, l) + gemm(m, CB, l));
                flops[JN_PHASE_BACKWARD] += copies * (2 * gemm(m, CB, l) + gemm(m, B, l) * (l > 1 ? 2 : 1));
            }
        } else {
            const int K = jn_objective_tangents(obj, m), chunk = jn_objective_tangent_chunk(obj, m, rows);
            for (int k0 = 0; k0 < K; k0 += chunk) {
                const int count = K - k0 < chunk ? K - k0 : chunk;
                for (int l = 1; l <= top; l++) {
                    /* The output layer carries the tangent rows only (no tanh: q_L = 0). */
                    const double stacked = l < L ? B * (1 + count) : B * count;
                    flops[JN_PHASE_JVP] += copies * gemm(m, stacked, l);
                    flops[JN_PHASE_BACKWARD] += copies * gemm(m, stacked, l) * (l > 1 ? 2 : 1);
                }
            }
        }
    }
    double total = 0;
    for (int p = 0; p < JN_PHASES; p++)
        total += flops[p];
    return total;
}
