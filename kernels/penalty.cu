/* The hidden1 closed form (mirrors the hidden1 part of src/cpu/penalty.c). With
 * c_j = ||W_1j||^2 and g = 1 - a~^2 at the corrupted input: R_i = sum_j g_ij^2 c_j,
 * dR/dz = -4 a g^2 c and dR/dW_1j = 2 (sum_i g_ij^2) W_1j + sum_i q_ij x~_i. These kernels
 * give c (a block per unit); the layer's bias + tanh and gate fused with R_i and q (a block
 * per example: a~ and g are used where they are made, R is reduced in a fixed order while q
 * is written); sum_i g^2 with the bias gradient sum_i q (a thread per unit, rows in order:
 * deterministic); and the 2 g^2 W term. The q x~ term is a GEMM. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void unit_norms_kernel(const float *w, size_t param_stride, int n1, int d, float *c)
{
    const size_t m = blockIdx.z, j = blockIdx.x;
    w += m * param_stride + j * d;
    double sum = 0;
    for (int k = threadIdx.x; k < d; k += JN_THREADS)
        sum += (double)w[k] * w[k];
    sum = jn_block_sum(sum);
    if (threadIdx.x == 0)
        c[m * n1 + j] = (float)sum;
}

extern "C" int jn_k_unit_norms(const float *w, size_t param_stride, int n1, int d, int models, float *c,
                               cudaStream_t s)
{
    dim3 grid(n1, 1, models);
    unit_norms_kernel<<<grid, JN_THREADS, 0, s>>>(w, param_stride, n1, d, c);
    JN_LAUNCHED();
}

__global__ void hidden1_rows_kernel(const float *pre, const float *bias, size_t param_stride, const float *c, int rows,
                                    int n1, size_t stride, const jn_hparams *hp, double weight, float *a, float *gate,
                                    float *q, double *row_r)
{
    const size_t m = blockIdx.z, i = blockIdx.x;
    const float scale = (float)(hp[m].jac_lambda * weight);
    pre += m * stride + i * n1;
    bias += m * param_stride;
    a += m * stride + i * n1;
    gate += m * stride + i * n1;
    q += m * stride + i * n1;
    c += m * n1;
    double r = 0;
    for (int j = threadIdx.x; j < n1; j += JN_THREADS) {
        float g;
        const float aj = jn_tanh_gate(pre[j] + bias[j], &g);
        a[j] = aj;
        gate[j] = g;
        r += (double)jn_hidden1_r(g, c[j]);
        q[j] = scale * jn_hidden1_q(aj, g, c[j]);
    }
    r = jn_block_sum(r);
    if (threadIdx.x == 0)
        row_r[m * rows + i] = r;
}

__global__ void gate_sq_kernel(const float *gate, const float *q, int rows, int n1, size_t stride, float *gate_sq,
                               float *db, size_t param_stride)
{
    const size_t m = blockIdx.z;
    gate += m * stride;
    q += m * stride;
    gate_sq += m * n1;
    db += m * param_stride;
    JN_FOR(j, (size_t)n1)
    {
        float sum = 0, q_sum = 0;
        for (int i = 0; i < rows; i++) {
            float g = gate[(size_t)i * n1 + j];
            sum += g * g;
            q_sum += q[(size_t)i * n1 + j];
        }
        gate_sq[j] = sum;
        db[j] += q_sum;
    }
}

extern "C" int jn_k_hidden1(const float *pre, const float *bias, size_t param_stride, const float *c, int rows, int n1,
                            int models, size_t stride, const jn_hparams *hp, double weight, float *a, float *gate,
                            float *q, double *row_r, float *gate_sq, float *db, cudaStream_t s)
{
    hidden1_rows_kernel<<<dim3(rows, 1, models), JN_THREADS, 0, s>>>(pre, bias, param_stride, c, rows, n1, stride, hp,
                                                                     weight, a, gate, q, row_r);
    if (cudaPeekAtLastError() != cudaSuccess)
        JN_LAUNCHED();
    gate_sq_kernel<<<dim3(jn_blocks((size_t)n1), 1, models), JN_THREADS, 0, s>>>(gate, q, rows, n1, stride, gate_sq,
                                                                                db, param_stride);
    JN_LAUNCHED();
}

__global__ void hidden1_decay_kernel(const float *w, const float *gate_sq, int n1, int d, size_t param_stride,
                                     const jn_hparams *hp, double weight, float *dw)
{
    const size_t m = blockIdx.z, count = (size_t)n1 * d;
    const float two_w = (float)(2.0 * hp[m].jac_lambda * weight);
    w += m * param_stride;
    dw += m * param_stride;
    gate_sq += m * n1;
    JN_FOR(e, count) dw[e] += two_w * gate_sq[e / d] * w[e];
}

extern "C" int jn_k_hidden1_decay(const float *w, const float *gate_sq, int n1, int d, int models,
                                  size_t param_stride, const jn_hparams *hp, double weight, float *dw,
                                  cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)n1 * d), 1, models);
    hidden1_decay_kernel<<<grid, JN_THREADS, 0, s>>>(w, gate_sq, n1, d, param_stride, hp, weight, dw);
    JN_LAUNCHED();
}
