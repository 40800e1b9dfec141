/* Reverse pass over the forward-mode pass, elementwise work (mirrors
 * src/cpu/tangent_reverse.c); its seed comes with the tangent norms (tangent.cu). One thread
 * per unit j walks the examples in order: for each it reads the K tangent adjoints u and
 * pre-activations s once, writes the K tangent rows ds = u g and the primal row
 * q = (p - 2 a sum_k u s) g (the whole stacked [q ; ds] that feeds the layer's two GEMMs) and
 * sums q into the layer's bias gradient, rows in order: one pass, deterministic without
 * atomics. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void reverse_terms_kernel(const float *adj, const float *a, const float *gate, const float *pre,
                                     int batch_rows, int K, int n, size_t stride, int primal_live, float *dpre,
                                     float *db, size_t param_stride)
{
    const size_t m = blockIdx.z, block = (size_t)batch_rows * n;
    adj += m * stride;
    a += m * stride;
    pre += m * stride;
    dpre += m * stride;
    gate += m * stride;
    db += m * param_stride;
    JN_FOR(j, (size_t)n)
    {
        float bias_sum = 0;
        for (int i = 0; i < batch_rows; i++) {
            const size_t e = (size_t)i * n + j;
            const float g = gate[e];
            float us = 0;
            for (int k = 0; k < K; k++) {
                size_t te = (size_t)(1 + k) * block + e;
                us += adj[te] * pre[te];
                dpre[te] = jn_reverse_ds(adj[te], g);
            }
            const float q = jn_reverse_q(primal_live ? adj[e] : 0.0f, a[e], us, g);
            dpre[e] = q;
            bias_sum += q;
        }
        db[j] += bias_sum;
    }
}

extern "C" int jn_k_reverse_terms(const float *adj, const float *a, const float *gate, const float *pre,
                                  int batch_rows, int K, int n, int models, size_t stride, int primal_live,
                                  float *dpre, float *db, size_t param_stride, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)n), 1, models);
    reverse_terms_kernel<<<grid, JN_THREADS, 0, s>>>(adj, a, gate, pre, batch_rows, K, n, stride, primal_live, dpre,
                                                     db, param_stride);
    JN_LAUNCHED();
}
