/* Forward-mode pass elementwise work (mirrors src/cpu/tangent.c). The GEMM of a layer fills
 * the primal and tangent rows at once ([z~ ; s] = [a~ ; t] W^T); one kernel then finishes the
 * layer: a thread per primal element (example i, unit j) adds the bias, keeps a = tanh and its
 * gate 1 - a^2 (which the reverse pass reuses), and gives the K tangent rows of its example
 * t = g * s from the gate it holds, so the gate is never read back. The norms kernel reduces
 * each example's tangent rows at the penalised layer to ||t||^2 in a fixed order and, while it
 * reads them, writes the reverse pass's seed u = 2 lambda weight t: the top layer's tangents
 * are read once. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void tangent_update_kernel(const float *pre, const float *bias, size_t param_stride, int batch_rows,
                                      int K, int n, size_t stride, float *h, float *gate)
{
    const size_t m = blockIdx.z, block = (size_t)batch_rows * n;
    pre += m * stride;
    h += m * stride;
    gate += m * stride;
    bias += m * param_stride;
    JN_FOR(e, block)
    {
        float g;
        h[e] = jn_tanh_gate(pre[e] + bias[e % n], &g);
        gate[e] = g;
        for (int k = 1; k <= K; k++)
            h[k * block + e] = jn_tangent_update(g, pre[k * block + e]);
    }
}

extern "C" int jn_k_tangent_update(const float *pre, const float *bias, size_t param_stride, int batch_rows, int K,
                                   int n, int models, size_t stride, float *h, float *gate, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)batch_rows * n), 1, models);
    tangent_update_kernel<<<grid, JN_THREADS, 0, s>>>(pre, bias, param_stride, batch_rows, K, n, stride, h, gate);
    JN_LAUNCHED();
}

/* One block per example: its K tangent rows summed by the block in a fixed order. */
__global__ void tangent_norms_kernel(const float *h, int batch_rows, int K, int n, size_t stride,
                                     const jn_hparams *hp, double weight, double *row_norm, float *adj)
{
    const size_t m = blockIdx.z, block = (size_t)batch_rows * n, i = blockIdx.x;
    const float two_w = (float)(2.0 * hp[m].jac_lambda * weight);
    h += m * stride + block + i * n;
    adj += m * stride + block + i * n;
    double sum = 0;
    for (size_t e = threadIdx.x; e < (size_t)K * n; e += JN_THREADS) {
        const size_t at = (e / n) * block + e % n;
        const float t = h[at];
        adj[at] = two_w * t;
        sum += (double)t * t;
    }
    sum = jn_block_sum(sum);
    if (threadIdx.x == 0)
        row_norm[m * batch_rows + i] = sum;
}

extern "C" int jn_k_tangent_norms(const float *h, int batch_rows, int K, int n, int models, size_t stride,
                                  const jn_hparams *hp, double weight, double *row_norm, float *adj, cudaStream_t s)
{
    dim3 grid(batch_rows, 1, models);
    tangent_norms_kernel<<<grid, JN_THREADS, 0, s>>>(h, batch_rows, K, n, stride, hp, weight, row_norm, adj);
    JN_LAUNCHED();
}
