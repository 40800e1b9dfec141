/* The Jacobian penalty on the GPU (mirrors src/cpu/penalty.c): the hidden1 closed form's
 * passes (their copies run by step.c's hidden1_step, as by src/cpu/step.c's), the output's
 * exact norm by reverse mode (jacobian_rows.c), or K tangent directions (Gaussian, or a
 * hidden layer's input basis) through the forward-mode pass and its reverse. The first pass
 * (copy 0, first tangent chunk) rides with the main loss in the stacked rows (step.c); the
 * passes after it run here, each from its own stacked input rows (one launch). Each model's
 * lambda scales its own terms (kernels read it from the hparams). */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/workspace.h"

/* The weights of a pass: each tangent's norm is averaged over the K tangents (Hutchinson) or
 * summed (exact), each copy's averaged over the copies; the gradient is of the mean over rows. */
static double tangent_weight(const jn_cuda_ws *ws)
{
    return ws->obj.jac_proj == JN_PROJ_EXACT ? 1.0 : 1.0 / jn_objective_tangents(&ws->obj, &ws->model);
}

jn_norm_rows jn_cuda_norm_rows(jn_cuda_ws *ws, int B, int K, int top, float *adj)
{
    const size_t n = ws->model.sizes[top], R = jn_cuda_penalty_rows(ws, B);
    const double w = tangent_weight(ws), copies = ws->obj.jac_copies;
    /* The primal rows start B rows in: the main rows' slot comes first. */
    return (jn_norm_rows){ws->h[top] + (size_t)B * n, adj + (size_t)B * n, K, (int)n, R * n,
                          w / ((double)B * copies), w / copies};
}

int jn_cuda_hidden1_unit_norms(jn_cuda_ws *ws, const float *params)
{
    const jn_model *m = &ws->model;
    JN_KERNEL(jn_k_hidden1_unit_norms(params + m->w_offset[1], m->n_params, m->sizes[1], m->sizes[0], ws->models,
                                      ws->unit_norm, ws->ctx->stream));
    return 0;
}

int jn_cuda_hidden1_forward(jn_cuda_ws *ws, const float *params, int main_rows, int B, jn_step_sums *sums,
                            const jn_step_ctl *ctl)
{
    const jn_model *m = &ws->model;
    const size_t n1 = m->sizes[1], d = m->sizes[0], R = jn_cuda_penalty_rows(ws, B), first = main_rows ? 0 : B;
    const double copies = ws->obj.jac_copies;
    if (jn_cuda_gemm_forward(&ws->gemm, ws->models, main_rows + B, (int)n1, (int)d, ws->h[0] + first * d, R * d,
                             params + m->w_offset[1], m->n_params, ws->pre[1] + first * n1, R * n1))
        return -1;
    /* Timed as the penalty, as the CPU times jn_cpu_hidden1_rows; the main rows' tanh, fused
     * here, is the CPU's last forward piece. */
    jn_cuda_phase(JN_PHASE_PENALTY);
    JN_KERNEL(jn_k_hidden1_rows(ws->pre[1] + first * n1, params + m->b_offset[1], m->n_params, ws->unit_norm,
                                main_rows, B, (int)n1, ws->models, R * n1, ws->hp, 1.0 / (B * copies), 1.0 / copies,
                                main_rows > 0, ws->h[1] + first * n1, ws->gate[1] + first * n1,
                                ws->dpre + first * n1, ws->row_terms, ws->tickets, sums, ctl, ws->ctx->stream));
    return 0;
}

int jn_cuda_hidden1_backward(jn_cuda_ws *ws, const float *params, int main_rows, int B, float *grad)
{
    const jn_model *m = &ws->model;
    const size_t n1 = m->sizes[1], d = m->sizes[0], R = jn_cuda_penalty_rows(ws, B), first = main_rows ? 0 : B;
    JN_KERNEL(jn_k_hidden1_units(ws->adj[0] + first * n1, ws->gate[1] + first * n1, main_rows, B, (int)n1, (int)d,
                                 ws->models, R * n1, params + m->w_offset[1], m->n_params, ws->hp,
                                 1.0 / (B * (double)ws->obj.jac_copies), ws->dpre + first * n1,
                                 grad + m->b_offset[1], grad + m->w_offset[1], ws->ctx->stream));
    /* The q x~ term, with the main rows' dW_1 where they ride along. */
    return jn_cuda_gemm_weight_grad(&ws->gemm, ws->models, main_rows + B, (int)n1, (int)d, ws->dpre + first * n1,
                                    R * n1, ws->h[0] + first * d, R * d, grad + m->w_offset[1], m->n_params);
}

int jn_cuda_stack_copy(jn_cuda_ws *ws, const jn_batch *batch, const jn_noise *noise, int copy, int k0, int count)
{
    const jn_model *m = &ws->model;
    const jn_objective *obj = &ws->obj;
    const int B = batch->rows, copies = obj->jac_copies, d = m->sizes[0], K = jn_objective_tangents(obj, m);
    const size_t R = jn_cuda_penalty_rows(ws, B), per_copy = (size_t)B * d;
    /* A hidden layer's exact norm takes the input basis as its tangents; v is only for
     * Hutchinson. */
    const float *chunk_v = noise->v ? noise->v + ((size_t)copy * K + k0) * per_copy : NULL;
    const jn_stack_dst dst = {NULL, 0, ws->h[0] + per_copy, R * d, count, k0, obj->jac_proj == JN_PROJ_EXACT};
    JN_KERNEL(jn_k_stack_inputs(batch->x, NULL, noise->eps ? noise->eps + copy * per_copy : NULL, copies * per_copy,
                                chunk_v, (size_t)copies * K * per_copy, ws->hp, B, d, ws->models, dst,
                                ws->ctx->stream));
    return 0;
}

int jn_cuda_penalty_rest(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                         jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const jn_objective *obj = &ws->obj;
    const int B = batch->rows, copies = obj->jac_copies;
    const int top = jn_cuda_stack_top(ws), rows = jn_cuda_jacobian_rows(ws);
    /* A copy's passes: its tangent chunks; one pass with no tangent rows for the exact output
     * norm (its rows go through jacobian_rows.c between the passes). */
    const int tangents = rows ? 0 : jn_objective_tangents(obj, m), chunk = ws->tangent_chunk;
    const int passes = tangents ? (tangents + chunk - 1) / chunk : 1;
    cudaStream_t s = ws->ctx->stream;
    for (int copy = 0; copy < copies; copy++) {
        for (int pass = copy == 0 ? 1 : 0; pass < passes; pass++) {
            const int k0 = pass * chunk, count = tangents - k0 < chunk ? tangents - k0 : chunk;
            jn_cuda_phase(JN_PHASE_FORWARD);
            if (jn_cuda_stack_copy(ws, batch, noise, copy, k0, count) ||
                jn_cuda_tangent_forward(ws, params, 0, B, count, top))
                return -1;
            /* With no tangent rows (the exact output norm) the norm rows only zero the primal
             * rows' adjoints at the top: the penalty reaches them through dR/dg. */
            jn_cuda_phase(JN_PHASE_PENALTY);
            JN_KERNEL(jn_k_top_terms((jn_loss_rows){0}, jn_cuda_norm_rows(ws, B, count, top, ws->adj[0]), B,
                                     ws->models, ws->hp, 0, ws->row_terms, ws->tickets, sums, ctl, s));
            if (rows && jn_cuda_jacobian_rows_penalty(ws, params, B, sums, ctl, grad))
                return -1;
            jn_cuda_phase(JN_PHASE_BACKWARD);
            if (jn_cuda_tangent_reverse(ws, params, 0, B, count, top, grad))
                return -1;
        }
    }
    return 0;
}
