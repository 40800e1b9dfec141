/* Backward pass over the stacked rows, elementwise work (mirrors src/cpu/backward.c for the
 * main rows and src/cpu/tangent_reverse.c for the reverse of the forward-mode pass); its seed
 * comes with the loss and the tangent norms (loss.cu). A block is a tile of 32 units (columns)
 * by 32 row groups (common.cuh), n / 32 blocks per model; each thread walks its group's rows
 * of its unit j in order: main rows give the main loss's delta = da g; for each example the K
 * tangent adjoints u and pre-activations s are read once, giving the tangent rows ds = u g and
 * the primal row q = (p - 2 a sum_k u s) g (the exact output norm by reverse mode has that sum
 * ready as dR/dg: jacobian_rows.cu; the same kernel with no tangent rows). The whole stacked
 * [delta ; q ; ds] feeds the layer's two GEMMs (dW sums the main loss's and the penalty's
 * terms: the gradient of the whole objective), and the thread sums its delta and q, the tile
 * then adding the groups' sums in order, into the layer's bias gradient: deterministic
 * without atomics, one launch where the main loss's tanh backward and the reverse terms were
 * two. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void __launch_bounds__(JN_TILE_THREADS)
    layer_backward_kernel(const float *__restrict__ adj, const float *__restrict__ a, const float *__restrict__ gate,
                          const float *__restrict__ pre, const float *__restrict__ dgate, int main_rows,
                          int batch_rows, int K, int n, size_t stride, float *__restrict__ dpre,
                          float *__restrict__ db, size_t param_stride)
{
    const size_t m = blockIdx.z, main = (size_t)main_rows * n, block = (size_t)batch_rows * n;
    const size_t j = (size_t)blockIdx.x * JN_TILE_COLS + threadIdx.x;
    adj += m * stride;
    a += m * stride;
    pre += m * stride;
    dpre += m * stride;
    gate += m * stride;
    if (dgate)
        dgate += m * stride;
    float bias_sum = 0;
    if (j < (size_t)n) {
#pragma unroll 4
        for (int i = threadIdx.y; i < main_rows; i += JN_TILE_GROUPS) {
            const size_t e = (size_t)i * n + j;
            const float d = jn_tanh_backward(adj[e], gate[e]);
            dpre[e] = d;
            bias_sum += d;
        }
#pragma unroll 2
        for (int i = threadIdx.y; i < batch_rows; i += JN_TILE_GROUPS) {
            const size_t e = main + (size_t)i * n + j;
            const float g = gate[e];
            float us = dgate ? dgate[e] : 0.0f;
            for (int k = 0; k < K; k++) {
                size_t te = (size_t)(1 + k) * block + e;
                us += adj[te] * pre[te];
                dpre[te] = jn_reverse_ds(adj[te], g);
            }
            const float q = jn_reverse_q(adj[e], a[e], us, g);
            dpre[e] = q;
            bias_sum += q;
        }
    }
    bias_sum = jn_tile_sum(bias_sum);
    if (threadIdx.y == 0 && j < (size_t)n)
        db[m * param_stride + j] += bias_sum;
}

extern "C" int jn_k_layer_backward(const float *adj, const float *a, const float *gate, const float *pre,
                                   const float *dgate, int main_rows, int batch_rows, int K, int n, int models,
                                   size_t stride, float *dpre, float *db, size_t param_stride, cudaStream_t s)
{
    layer_backward_kernel<<<jn_tile_grid(n, models), jn_tile_block(), 0, s>>>(
        adj, a, gate, pre, dgate, main_rows, batch_rows, K, n, stride, dpre, db, param_stride);
    JN_LAUNCHED();
}
