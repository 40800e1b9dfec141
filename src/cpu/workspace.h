/* The CPU workspace: scratch buffers shared by the step's parts. Internal to src/cpu. */
#ifndef JACNOISE_CPU_WORKSPACE_H
#define JACNOISE_CPU_WORKSPACE_H

#include "cpu/gemm.h"
#include "jacnoise/cpu.h"
#include "jacnoise/profile.h"

struct jn_cpu_ws {
    jn_model model;
    jn_objective obj;
    int max_rows;
    jn_gemm_log *log;                    /* optional GEMM shape log (the profile's floor) */
    jn_phase_clock *clock;               /* optional phase boundaries (profile) */
    size_t bytes;                        /* allocated scratch */

    /* Main loss: act[0] = input rows, act[l] = a_l (l < L) or logits (l = L). */
    jn_real *act[JN_MAX_LAYERS + 1];
    jn_real *delta[2];                   /* backward ping-pong, max_rows x max_width */

    /* Penalty: rows = main rows (stacked steps only), primal rows, then tangent rows
     * (tangent_chunk of them per example).
     * pre[l] = [z_l ; z~_l ; s_l], h[l] = [a_l ; a~_l ; t_l], h[0] = [x ; x~ ; v]; gate[l] =
     * 1 - a~_l^2 (primal rows only); the main rows' logits in h[L].
     * hidden1: h[0] = [x ; x~], pre[1] = [z_1 ; z~_1], then in place [dObj/dz_1 ; q] (main
     * rows, then corrupted rows; without main rows their slot is left unused). */
    int tangent_chunk;                   /* tangent directions per pass (<= K) */
    jn_real *pre[JN_MAX_LAYERS + 1];
    jn_real *h[JN_MAX_LAYERS + 1];
    jn_real *gate[JN_MAX_LAYERS + 1];
    jn_real *adj[2];                     /* reverse ping-pong: [da ; p ; u], then in place
                                            [dObj/dz ; q ; ds] */
    jn_real *dpre;                       /* the exact output norm: q; the tangent reverse: one
                                            row of sum_k u s */
    jn_real *unit_norm;                  /* hidden1: c_j = ||W_1j||^2 */
    double *unit_gate_sq;                /* hidden1: per unit, sum over the rows of g^2 */
};

/* Whether jn_cpu_step stacks the main loss's rows with the penalty's (step.c): with the
 * hidden1 penalty, whose rows then fill h[0] and pre[1] twice over (main, corrupted), and
 * with the output's Gaussian tangents, whose first pass then carries the main rows in front of
 * its own through every layer. */
static inline int jn_cpu_stacked(const jn_objective *obj)
{
    return obj->jac_lambda > 0 &&
           (obj->target == JN_TARGET_HIDDEN1 || (obj->target == JN_TARGET_OUTPUT && obj->jac_proj != JN_PROJ_EXACT));
}

/* Rows of penalty scratch: the stacked main rows (jn_cpu_stacked), then the primal rows and
 * tangent_chunk tangent rows per example. */
static inline int jn_cpu_penalty_rows(const jn_cpu_ws *ws, int batch_rows)
{
    return batch_rows * (jn_cpu_stacked(&ws->obj) + 1 + ws->tangent_chunk);
}

/* Bytes of scratch the workspace holds. */
size_t jn_cpu_ws_bytes(const jn_cpu_ws *ws);

/* Makes later steps compute another model's objective with this workspace: obj must have the
 * structure the workspace was sized for (loss, penalty on or off, target, estimator, copies)
 * and may differ in its numbers (noise levels, lambda, weight decay). One workspace so serves
 * every model of a group. */
void jn_cpu_ws_set_objective(jn_cpu_ws *ws, const jn_objective *obj);

/* Records every GEMM shape of later calls into log (NULL stops recording). */
void jn_cpu_ws_log_gemms(jn_cpu_ws *ws, jn_gemm_log *log);

/* Reports the phases of later steps to clock (NULL stops). */
void jn_cpu_ws_set_clock(jn_cpu_ws *ws, jn_phase_clock *clock);

#endif
