/* The stacked passes on the GPU (mirrors src/cpu/forward.c and src/cpu/backward.c for the main
 * rows, src/cpu/tangent.c and src/cpu/tangent_reverse.c for the penalty's): per model the main
 * loss's rows, the corrupted primal rows and the tangent rows in one buffer with one stride,
 * so that a layer takes one GEMM and one elementwise kernel each way for the main loss and the
 * penalty together. The exact output norm's passes have no tangent rows and top = L - 1, the
 * primal rows' reverse term from dR/dg (jacobian_rows.c). A pass after the first carries no
 * main rows: it starts B rows in. hidden1 has passes of its own, its closed form in the first
 * layer's kernels (penalty.c), as on the CPU. */
#include "cuda/check.h"
#include "cuda/workspace.h"

int jn_cuda_tangent_forward(jn_cuda_ws *ws, const float *params, int main_rows, int B, int K, int top)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params, R = jn_cuda_penalty_rows(ws, B), first = (size_t)(main_rows ? 0 : B);
    const int rows = main_rows + B * (1 + K);
    cudaStream_t s = ws->ctx->stream;
    for (int l = 1; l <= top; l++) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t out_stride = R * n_out, in_stride = R * n_in;
        if (jn_cuda_gemm_forward(&ws->gemm, ws->models, rows, n_out, n_in, ws->h[l - 1] + first * n_in, in_stride,
                                 params + m->w_offset[l], P, ws->pre[l] + first * n_out, out_stride))
            return -1;
        /* The logits (h[L] aliases pre[L]) are finished by jn_k_top_terms. */
        if (l < m->n_layers)
            JN_KERNEL(jn_k_layer_forward(ws->pre[l] + first * n_out, params + m->b_offset[l], P, main_rows, B, K,
                                         n_out, ws->models, out_stride, ws->h[l] + first * n_out,
                                         ws->gate[l] + first * n_out, s));
    }
    return 0;
}

int jn_cuda_tangent_reverse(jn_cuda_ws *ws, const float *params, int main_rows, int B, int K, int top,
                            float *grad)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params, R = jn_cuda_penalty_rows(ws, B), first = (size_t)(main_rows ? 0 : B);
    const int rows = main_rows + B * (1 + K);
    cudaStream_t s = ws->ctx->stream;
    int cur = 0;
    for (int l = top; l >= 1; l--) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t out_stride = R * n_out, in_stride = R * n_in;
        /* At the output layer the adjoints are already dObj/dz (the loss's, the seed); below
         * it the kernel takes them through tanh. */
        const float *dpre = ws->adj[cur];
        if (l < m->n_layers) {
            /* The exact output norm's dR/dg waits in pre's primal rows (jacobian_rows.c). */
            const float *pre = ws->pre[l] + first * n_out, *dgate = jn_cuda_jacobian_rows(ws) ? pre : NULL;
            JN_KERNEL(jn_k_layer_backward(ws->adj[cur] + first * n_out, ws->h[l] + first * n_out,
                                          ws->gate[l] + first * n_out, pre, dgate, main_rows, B, K, n_out,
                                          ws->models, out_stride, ws->dpre + first * n_out, grad + m->b_offset[l], P,
                                          s));
            dpre = ws->dpre;
        }
        if (jn_cuda_gemm_weight_grad(&ws->gemm, ws->models, rows, n_out, n_in, dpre + first * n_out, out_stride,
                                     ws->h[l - 1] + first * n_in, in_stride, grad + m->w_offset[l], P))
            return -1;
        if (l == 1)
            break;
        if (jn_cuda_gemm_input_grad(&ws->gemm, ws->models, rows, n_out, n_in, dpre + first * n_out, out_stride,
                                    params + m->w_offset[l], P, ws->adj[1 - cur] + first * n_in, in_stride))
            return -1;
        cur = 1 - cur;
    }
    return 0;
}
