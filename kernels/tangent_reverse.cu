/* Reverse pass over the forward-mode pass, elementwise work (mirrors
 * src/cpu/tangent_reverse.c). One thread per primal element (example i, unit j) reads the
 * K tangent adjoints u and pre-activations s of its example once, writes the K tangent
 * rows ds = u g and the primal row q = (p - 2 a sum_k u s) g: the whole stacked [q ; ds]
 * that feeds the layer's two GEMMs, in one pass. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void reverse_seed_kernel(const float *h, int batch_rows, int K, int n, size_t stride,
                                    const jn_hparams *hp, double weight, float *adj)
{
    const size_t m = blockIdx.z, block = (size_t)batch_rows * n, count = block * K;
    const float two_w = (float)(2.0 * hp[m].jac_lambda * weight);
    h += m * stride + block;
    adj += m * stride + block;
    JN_FOR(e, count) adj[e] = two_w * h[e];
}

extern "C" int jn_k_reverse_seed(const float *h, int batch_rows, int K, int n, int models, size_t stride,
                                 const jn_hparams *hp, double weight, float *adj, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)batch_rows * n * K), 1, models);
    reverse_seed_kernel<<<grid, JN_THREADS, 0, s>>>(h, batch_rows, K, n, stride, hp, weight, adj);
    JN_LAUNCHED();
}

__global__ void reverse_terms_kernel(const float *adj, const float *a, const float *gate, const float *pre,
                                     int batch_rows, int K, int n, size_t stride, int primal_live, float *dpre)
{
    const size_t m = blockIdx.z, block = (size_t)batch_rows * n;
    adj += m * stride;
    a += m * stride;
    pre += m * stride;
    dpre += m * stride;
    gate += m * stride;
    JN_FOR(e, block)
    {
        const float g = gate[e];
        float us = 0;
        for (int k = 0; k < K; k++) {
            size_t te = (size_t)(1 + k) * block + e;
            us += adj[te] * pre[te];
            dpre[te] = jn_reverse_ds(adj[te], g);
        }
        dpre[e] = jn_reverse_q(primal_live ? adj[e] : 0.0f, a[e], us, g);
    }
}

extern "C" int jn_k_reverse_terms(const float *adj, const float *a, const float *gate, const float *pre,
                                  int batch_rows, int K, int n, int models, size_t stride, int primal_live,
                                  float *dpre, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)batch_rows * n), 1, models);
    reverse_terms_kernel<<<grid, JN_THREADS, 0, s>>>(adj, a, gate, pre, batch_rows, K, n, stride, primal_live, dpre);
    JN_LAUNCHED();
}
