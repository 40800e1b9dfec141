/* Forward-mode pass elementwise work (mirrors src/cpu/tangent.c). The GEMM of a layer fills
 * the primal and tangent rows at once ([z~ ; s] = [a~ ; t] W^T); the primal rows go through
 * bias_tanh (which keeps the gate) and this kernel gives every tangent row t = g * s with
 * the gate of its example, all K tangent blocks in one launch. The norms kernel reduces
 * each example's tangent rows at the penalised layer to ||t||^2 in a fixed order. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void tangent_update_kernel(const float *gate, const float *pre, int batch_rows, int K, int n,
                                      size_t stride, float *h)
{
    const size_t m = blockIdx.z, block = (size_t)batch_rows * n, count = block * K;
    gate += m * stride;
    pre += m * stride + block;  /* tangent rows start after the B primal rows */
    h += m * stride + block;
    JN_FOR(e, count) h[e] = jn_tangent_update(gate[e % block], pre[e]);
}

extern "C" int jn_k_tangent_update(const float *gate, const float *pre, int batch_rows, int K, int n, int models,
                                   size_t stride, float *h, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)batch_rows * n * K), 1, models);
    tangent_update_kernel<<<grid, JN_THREADS, 0, s>>>(gate, pre, batch_rows, K, n, stride, h);
    JN_LAUNCHED();
}

/* One block per example: its K tangent rows summed by the block in a fixed order. */
__global__ void tangent_norms_kernel(const float *h, int batch_rows, int K, int n, size_t stride, double *row_norm)
{
    const size_t m = blockIdx.z, block = (size_t)batch_rows * n, i = blockIdx.x;
    h += m * stride + block + i * n;
    double sum = 0;
    for (size_t e = threadIdx.x; e < (size_t)K * n; e += JN_THREADS) {
        double t = h[(e / n) * block + e % n];
        sum += t * t;
    }
    sum = jn_block_sum(sum);
    if (threadIdx.x == 0)
        row_norm[m * batch_rows + i] = sum;
}

extern "C" int jn_k_tangent_norms(const float *h, int batch_rows, int K, int n, int models, size_t stride,
                                  double *row_norm, cudaStream_t s)
{
    dim3 grid(batch_rows, 1, models);
    tangent_norms_kernel<<<grid, JN_THREADS, 0, s>>>(h, batch_rows, K, n, stride, row_norm);
    JN_LAUNCHED();
}
