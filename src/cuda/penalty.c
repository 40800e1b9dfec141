/* The Jacobian penalty on the GPU (mirrors src/cpu/penalty.c): corrupt the input, then the
 * hidden1 closed form or K tangent directions through the forward-mode pass and its
 * reverse (the corrupted rows are written with each chunk's tangent rows, one launch). Each
 * model's lambda scales its own terms (kernels read it from the hparams). */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/workspace.h"

/* hidden1 at the primal rows of h[0]: R_i summed into the step's penalty with weight
 * 1/copies, and scale * lam * dR/dtheta added to grad. */
static int hidden1_penalty(jn_cuda_ws *ws, const float *params, int B, size_t R, double copy_weight, double scale,
                           jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const int n1 = m->sizes[1], d = m->sizes[0];
    const size_t P = m->n_params, s1 = R * n1;
    cudaStream_t s = ws->ctx->stream;
    if (jn_cuda_gemm_forward(&ws->gemm, ws->models, B, n1, d, ws->h[0], R * d, params + m->w_offset[1], P,
                             ws->pre[1], s1))
        return -1;
    jn_cuda_phase(JN_PHASE_PENALTY);
    JN_KERNEL(jn_k_hidden1(ws->pre[1], params + m->b_offset[1], P, ws->unit_norm, B, n1, ws->models, s1, ws->hp,
                           scale, ws->h[1], ws->gate[1], ws->dpre, ws->row_norm, ws->gate_sq, grad + m->b_offset[1],
                           s));
    JN_KERNEL(jn_k_sum_into(ws->row_norm, B, ws->models, 1, copy_weight, sums, ctl, s));
    jn_cuda_phase(JN_PHASE_BACKWARD);
    if (jn_cuda_gemm_weight_grad(&ws->gemm, ws->models, B, n1, d, ws->dpre, s1, ws->h[0], R * d,
                                 grad + m->w_offset[1], P))
        return -1;
    JN_KERNEL(jn_k_hidden1_decay(params + m->w_offset[1], ws->gate_sq, n1, d, ws->models, P, ws->hp, scale,
                                 grad + m->w_offset[1], s));
    return 0;
}

static int penalty_grad(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const float *eps,
                        const float *v, jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const jn_objective *obj = &ws->obj;
    const int B = batch->rows, copies = obj->jac_copies, d = m->sizes[0];
    const int top = jn_objective_top(obj, m), K = jn_objective_tangents(obj, m);
    const int exact = obj->jac_proj == JN_PROJ_EXACT;
    const double tangent_weight = exact ? 1.0 : 1.0 / K;
    const double copy_scale = 1.0 / ((double)B * copies);  /* times each model's lambda */
    const size_t R = jn_cuda_penalty_rows(ws, B), per_copy = (size_t)B * d;
    cudaStream_t s = ws->ctx->stream;

    if (obj->target == JN_TARGET_HIDDEN1) {
        jn_cuda_phase(JN_PHASE_PENALTY);
        JN_KERNEL(jn_k_unit_norms(params + m->w_offset[1], m->n_params, m->sizes[1], d, ws->models, ws->unit_norm, s));
    }
    for (int copy = 0; copy < copies; copy++) {
        const float *copy_eps = eps ? eps + copy * per_copy : NULL;
        jn_cuda_phase(JN_PHASE_JVP);
        if (obj->target == JN_TARGET_HIDDEN1) {
            JN_KERNEL(jn_k_add_noise(batch->x, per_copy, copy_eps, copies * per_copy, ws->hp, 1, per_copy, ws->models,
                                     ws->h[0], R * d, s));
            if (hidden1_penalty(ws, params, B, R, 1.0 / copies, copy_scale, sums, ctl, grad))
                return -1;
            continue;
        }
        for (int k0 = 0; k0 < K; k0 += ws->tangent_chunk) {
            const int count = K - k0 < ws->tangent_chunk ? K - k0 : ws->tangent_chunk;
            /* The exact norm takes the input basis as its tangents; v is only for Hutchinson. */
            const float *chunk_v = exact ? NULL : v + ((size_t)copy * K + k0) * per_copy;
            jn_cuda_phase(JN_PHASE_JVP);
            JN_KERNEL(jn_k_fill_tangents(batch->x, copy_eps, copies * per_copy, ws->hp, chunk_v,
                                         (size_t)copies * K * per_copy, B, d, k0, count, ws->models, ws->h[0], R * d,
                                         s));
            if (jn_cuda_tangent_forward(ws, params, B, count, top))
                return -1;
            jn_cuda_phase(JN_PHASE_PENALTY);
            JN_KERNEL(jn_k_tangent_norms(ws->h[top], B, count, m->sizes[top], ws->models, R * m->sizes[top], ws->hp,
                                         copy_scale * tangent_weight, ws->row_norm, ws->adj[0], s));
            JN_KERNEL(jn_k_sum_into(ws->row_norm, B, ws->models, 1, tangent_weight / copies, sums, ctl, s));
            jn_cuda_phase(JN_PHASE_BACKWARD);
            if (jn_cuda_tangent_reverse(ws, params, B, count, top, grad))
                return -1;
        }
    }
    return 0;
}

int jn_cuda_penalty_grad(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const float *eps,
                         const float *v, jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    return jn_cuda_phase_end(penalty_grad(ws, params, batch, eps, v, sums, ctl, grad));
}
