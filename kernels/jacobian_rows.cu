/* The elementwise work of the exact output norm by reverse mode (mirrors the loops of
 * src/cpu/jacobian_rows.c): between the GEMMs that carry the Jacobian's rows (c, i) down and
 * back up, one kernel per layer and direction.
 *
 * rows_down: y_l = w_{l+1} * g_l, the gate of example i broadcast over the chunk's classes. At
 * the last hidden layer w_L(c, i) is row c of W_L, read from the parameters where the CPU
 * first copies it into every example's row: one launch and one buffer write fewer.
 *
 * rows_up: per unit, the classes' eta in order: dR/dg_l += eta * w_{l+1} (the primal rows'
 * buffer, so a thread owns its element and sums the classes in the CPU's order: deterministic
 * without atomics), then eta *= g_l (omega_{l+1}); at the last hidden layer the same pass adds
 * dW_L[c] += sum_i omega_L(c, i), column sums of a tile of 32 columns by 32 row groups
 * (common.cuh) in a fixed order, where the CPU has a loop of its own. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

/* w_{l+1}(c, i) of a model: above + c * c_stride + i * i_stride (i_stride 0: W_L's rows). */
__device__ static inline const float *row_above(const float *above, size_t c_stride, size_t i_stride, size_t c,
                                                size_t i)
{
    return above + c * c_stride + i * i_stride;
}

__global__ void rows_down_kernel(const float *above, size_t above_model, size_t c_stride, size_t i_stride,
                                 const float *gate, int B, int count, int n, size_t stride, float *y)
{
    const size_t m = blockIdx.z, block = (size_t)B * n;
    above += m * above_model;
    gate += m * stride;
    y += m * stride;
    JN_FOR(e, block * count)
    {
        const size_t c = e / block, r = e % block;
        y[e] = jn_tangent_update(gate[r], row_above(above, c_stride, i_stride, c, r / n)[r % n]);
    }
}

extern "C" int jn_k_rows_down(jn_rows_above above, const float *gate, int batch_rows, int count, int n, int models,
                              size_t stride, float *y, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)batch_rows * count * n), 1, models);
    rows_down_kernel<<<grid, JN_THREADS, 0, s>>>(above.rows, above.model_stride, above.c_stride, above.i_stride, gate,
                                                 batch_rows, count, n, stride, y);
    JN_LAUNCHED();
}

__global__ void __launch_bounds__(JN_TILE_THREADS)
    rows_up_kernel(float *eta, const float *above, size_t above_model, size_t c_stride, size_t i_stride,
                   const float *gate, int B, int count, int n, size_t stride, int accumulate, float *dgate,
                   float *dw, size_t param_stride)
{
    const size_t m = blockIdx.z, block = (size_t)B * n;
    const size_t j = (size_t)blockIdx.x * JN_TILE_COLS + threadIdx.x;
    above += m * above_model;
    eta += m * stride;
    gate += m * stride;
    dgate += m * stride;
    for (int c = 0; c < count; c++) {
        float column = 0;
        if (j < (size_t)n)
            for (int i = threadIdx.y; i < B; i += JN_TILE_GROUPS) {
                const size_t e = (size_t)i * n + j, k = (size_t)c * block + e;
                const float from = c > 0 || accumulate ? dgate[e] : 0.0f;
                dgate[e] = from + eta[k] * row_above(above, c_stride, i_stride, c, i)[j];
                eta[k] = jn_reverse_ds(eta[k], gate[e]);
                column += eta[k];
            }
        if (!dw)
            continue;
        column = jn_tile_sum(column);
        if (threadIdx.y == 0 && j < (size_t)n)
            dw[m * param_stride + (size_t)c * n + j] += column;
    }
}

extern "C" int jn_k_rows_up(float *eta, jn_rows_above above, const float *gate, int batch_rows, int count, int n,
                            int models, size_t stride, int accumulate, float *dgate, float *dw, size_t param_stride,
                            cudaStream_t s)
{
    rows_up_kernel<<<jn_tile_grid(n, models), jn_tile_block(), 0, s>>>(eta, above.rows, above.model_stride,
                                                                       above.c_stride, above.i_stride, gate,
                                                                       batch_rows, count, n, stride, accumulate,
                                                                       dgate, dw, param_stride);
    JN_LAUNCHED();
}
