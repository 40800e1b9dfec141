/* Backward-pass elementwise work (mirrors src/cpu/backward.c): the tanh derivative applied
 * in place from the stored activations, and the bias gradients as column sums, one thread
 * per column looping over the rows in order, so the sum is deterministic without atomics. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void tanh_backward_kernel(float *da, const float *a, size_t n)
{
    const size_t m = blockIdx.z;
    da += m * n;
    a += m * n;
    JN_FOR(e, n) da[e] = jn_tanh_backward(da[e], 1.0f - a[e] * a[e]);
}

extern "C" int jn_k_tanh_backward(float *da, const float *a, size_t n, int models, cudaStream_t s)
{
    dim3 grid(jn_blocks(n), 1, models);
    tanh_backward_kernel<<<grid, JN_THREADS, 0, s>>>(da, a, n);
    JN_LAUNCHED();
}

__global__ void column_sums_kernel(const float *d, int r0, int rows, int n, size_t in_stride, float *db,
                                   size_t param_stride)
{
    const size_t m = blockIdx.z;
    d += m * in_stride;
    db += m * param_stride;
    JN_FOR(j, (size_t)n)
    {
        float sum = 0;
        for (int r = r0; r < r0 + rows; r++)
            sum += d[(size_t)r * n + j];
        db[j] += sum;
    }
}

extern "C" int jn_k_column_sums(const float *d, int r0, int rows, int n, size_t in_stride, int models, float *db,
                                size_t param_stride, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)n), 1, models);
    column_sums_kernel<<<grid, JN_THREADS, 0, s>>>(d, r0, rows, n, in_stride, db, param_stride);
    JN_LAUNCHED();
}
