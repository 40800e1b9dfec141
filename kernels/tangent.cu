/* Forward pass over the stacked rows, elementwise work (mirrors src/cpu/forward.c for the main
 * rows and src/cpu/tangent.c for the forward-mode pass). One GEMM of a layer fills the main,
 * primal and tangent rows at once ([z ; z~ ; s] = [a ; a~ ; t] W^T); one kernel then finishes
 * the layer: a thread per main or primal element (example i, unit j) adds the bias and keeps
 * a = tanh and its gate 1 - a^2 (which the backward kernel reuses), and a primal element's
 * thread gives the K tangent rows of its example t = g * s from the gate it holds, so the gate
 * is never read back. The main loss's bias + tanh and the forward-mode update were two
 * launches per layer. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void layer_forward_kernel(const float *pre, const float *bias, size_t param_stride, int main_rows,
                                     int batch_rows, int K, int n, size_t stride, float *h, float *gate)
{
    const size_t m = blockIdx.z, main = (size_t)main_rows * n, block = (size_t)batch_rows * n;
    pre += m * stride;
    h += m * stride;
    gate += m * stride;
    bias += m * param_stride;
    JN_FOR(e, main + block)
    {
        float g;
        h[e] = jn_tanh_gate(pre[e] + bias[e % n], &g);
        gate[e] = g;
        if (e < main)
            continue;
        for (int k = 1; k <= K; k++)
            h[k * block + e] = jn_tangent_update(g, pre[k * block + e]);
    }
}

extern "C" int jn_k_layer_forward(const float *pre, const float *bias, size_t param_stride, int main_rows,
                                  int batch_rows, int K, int n, int models, size_t stride, float *h, float *gate,
                                  cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)(main_rows + batch_rows) * n), 1, models);
    layer_forward_kernel<<<grid, JN_THREADS, 0, s>>>(pre, bias, param_stride, main_rows, batch_rows, K, n, stride, h,
                                                     gate);
    JN_LAUNCHED();
}
