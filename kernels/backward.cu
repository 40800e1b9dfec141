/* Backward-pass elementwise work of the main rows alone (mirrors jn_cpu_tanh_backward_sums of
 * src/cpu/reduce.c, as src/cpu/backward.c calls it): the layers above the penalised one, or
 * every layer without a penalty (the stacked layers are tangent_reverse.cu's). The tanh
 * derivative of a hidden layer's adjoints is fused with that layer's bias gradient, so the
 * adjoints are read once: a block is a tile of 32 units (columns) by 32 row groups
 * (common.cuh), n / 32 blocks per model; each thread walks its group's rows of its unit in
 * order, scales each adjoint by 1 - a^2 in place and sums it, the tile then adding the groups'
 * sums in order: deterministic without atomics. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void __launch_bounds__(JN_TILE_THREADS)
    tanh_backward_sums_kernel(float *__restrict__ da, const float *__restrict__ a, int rows, int n, size_t stride,
                              float *__restrict__ db, size_t param_stride)
{
    const size_t m = blockIdx.z, j = (size_t)blockIdx.x * JN_TILE_COLS + threadIdx.x;
    da += m * stride;
    a += m * stride;
    float sum = 0;
    if (j < (size_t)n)
#pragma unroll 4
        for (int r = threadIdx.y; r < rows; r += JN_TILE_GROUPS) {
            const size_t e = (size_t)r * n + j;
            const float d = jn_tanh_backward(da[e], 1.0f - a[e] * a[e]);
            da[e] = d;
            sum += d;
        }
    sum = jn_tile_sum(sum);
    if (threadIdx.y == 0 && j < (size_t)n)
        db[m * param_stride + j] += sum;
}

extern "C" int jn_k_tanh_backward_sums(float *da, const float *a, int rows, int n, size_t stride, int models,
                                       float *db, size_t param_stride, cudaStream_t s)
{
    tanh_backward_sums_kernel<<<jn_tile_grid(n, models), jn_tile_block(), 0, s>>>(da, a, rows, n, stride, db,
                                                                                  param_stride);
    JN_LAUNCHED();
}
