/* The forward-mode pass and its reverse on the GPU (mirrors src/cpu/tangent.c and
 * src/cpu/tangent_reverse.c): primal and tangent rows stacked per model, one GEMM per layer
 * for both on the way up, one for dW and one for the next adjoints on the way down, and one
 * elementwise kernel per tanh layer each way. */
#include "cuda/check.h"
#include "cuda/workspace.h"

int jn_cuda_tangent_forward(jn_cuda_ws *ws, const float *params, int B, int K, int top)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params, R = jn_cuda_penalty_rows(ws, B), Bz = (size_t)B;
    cudaStream_t s = ws->ctx->stream;
    for (int l = 1; l <= top; l++) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t out_stride = R * n_out, in_stride = R * n_in;
        const float *w = params + m->w_offset[l];
        if (l == m->n_layers) {
            /* Output layer: only the tangent rows matter, t_L = s_L (h[L] aliases pre[L]). */
            if (jn_cuda_gemm_forward(&ws->gemm, ws->models, B * K, n_out, n_in, ws->h[l - 1] + Bz * n_in,
                                     in_stride, w, P, ws->pre[l] + Bz * n_out, out_stride))
                return -1;
            break;
        }
        if (jn_cuda_gemm_forward(&ws->gemm, ws->models, B * (K + 1), n_out, n_in, ws->h[l - 1], in_stride, w, P,
                                 ws->pre[l], out_stride))
            return -1;
        JN_KERNEL(jn_k_tangent_update(ws->pre[l], params + m->b_offset[l], P, B, K, n_out, ws->models, out_stride,
                                      ws->h[l], ws->gate[l], s));
    }
    return 0;
}

int jn_cuda_tangent_reverse(jn_cuda_ws *ws, const float *params, int B, int K, int top, float *grad)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params, R = jn_cuda_penalty_rows(ws, B), Bz = (size_t)B;
    cudaStream_t s = ws->ctx->stream;
    /* adj[0] holds the seed u_top = 2 lam weight t_top (jn_k_tangent_norms); p_top = 0. */
    int cur = 0, primal_live = 0;
    for (int l = top; l >= 1; l--) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t out_stride = R * n_out, in_stride = R * n_in;
        const int has_q = l < m->n_layers;
        const float *dpre = ws->adj[cur];  /* at the output layer ds = u, q = 0 */
        if (has_q) {
            JN_KERNEL(jn_k_reverse_terms(ws->adj[cur], ws->h[l], ws->gate[l], ws->pre[l], B, K, n_out, ws->models,
                                         out_stride, primal_live, ws->dpre, grad + m->b_offset[l], P, s));
            dpre = ws->dpre;
        }
        /* Rows that carry adjoint: all of them below a tanh layer, the tangent rows at L. */
        const size_t row0 = has_q ? 0 : Bz;
        const int rows = has_q ? B * (K + 1) : B * K;
        if (jn_cuda_gemm_weight_grad(&ws->gemm, ws->models, rows, n_out, n_in, dpre + row0 * n_out, out_stride,
                                     ws->h[l - 1] + row0 * n_in, in_stride, grad + m->w_offset[l], P))
            return -1;
        if (l == 1)
            break;
        if (jn_cuda_gemm_input_grad(&ws->gemm, ws->models, rows, n_out, n_in, dpre + row0 * n_out, out_stride,
                                    params + m->w_offset[l], P, ws->adj[1 - cur] + row0 * n_in, in_stride))
            return -1;
        primal_live = has_q;
        cur = 1 - cur;
    }
    return 0;
}
