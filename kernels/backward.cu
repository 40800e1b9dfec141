/* Backward-pass elementwise work (mirrors src/cpu/backward.c). The tanh derivative of a hidden
 * layer's adjoints is fused with that layer's bias gradient: one thread per column walks the
 * rows in order, scales each adjoint by 1 - a^2 in place and sums it, so the adjoints are read
 * once and the sum is deterministic without atomics. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void tanh_backward_kernel(float *da, const float *a, int rows, int n, size_t stride, float *db,
                                     size_t param_stride)
{
    const size_t m = blockIdx.z;
    da += m * stride;
    a += m * stride;
    db += m * param_stride;
    JN_FOR(j, (size_t)n)
    {
        float sum = 0;
        for (int r = 0; r < rows; r++) {
            const size_t e = (size_t)r * n + j;
            const float d = jn_tanh_backward(da[e], 1.0f - a[e] * a[e]);
            da[e] = d;
            sum += d;
        }
        db[j] += sum;
    }
}

extern "C" int jn_k_tanh_backward(float *da, const float *a, int rows, int n, size_t stride, int models, float *db,
                                  size_t param_stride, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)n), 1, models);
    tanh_backward_kernel<<<grid, JN_THREADS, 0, s>>>(da, a, rows, n, stride, db, param_stride);
    JN_LAUNCHED();
}
