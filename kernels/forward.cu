/* Forward pass elementwise work (mirrors src/cpu/forward.c): bias + tanh fused, so the
 * pre-activations are read once (the penalty's layers keep their gates in their own kernels:
 * tangent.cu, penalty.cu); the logits' bias (evaluation: training adds it in the loss kernel); building the inputs (x plus scaled
 * noise); and for the forward-mode pass the corrupted primal rows with the stacked tangent rows
 * after them in one launch, the whole input of the GEMM that serves primal and tangent rows. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void bias_tanh_kernel(const float *pre, const float *bias, size_t param_stride, int rows, int n,
                                 size_t stride, float *a)
{
    const size_t m = blockIdx.z, count = (size_t)rows * n;
    pre += m * stride;
    a += m * stride;
    bias += m * param_stride;
    JN_FOR(e, count)
    {
        float g;
        a[e] = jn_tanh_gate(pre[e] + bias[e % n], &g);
    }
}

extern "C" int jn_k_bias_tanh(const float *pre, const float *bias, size_t param_stride, int rows, int n,
                              size_t stride, int models, float *a, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)rows * n), 1, models);
    bias_tanh_kernel<<<grid, JN_THREADS, 0, s>>>(pre, bias, param_stride, rows, n, stride, a);
    JN_LAUNCHED();
}

__global__ void bias_add_kernel(float *y, const float *bias, size_t param_stride, int rows, int n, size_t stride)
{
    const size_t m = blockIdx.z, count = (size_t)rows * n;
    y += m * stride;
    bias += m * param_stride;
    JN_FOR(e, count) y[e] += bias[e % n];
}

extern "C" int jn_k_bias_add(float *y, const float *bias, size_t param_stride, int rows, int n, size_t stride,
                             int models, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)rows * n), 1, models);
    bias_add_kernel<<<grid, JN_THREADS, 0, s>>>(y, bias, param_stride, rows, n, stride);
    JN_LAUNCHED();
}

__global__ void add_noise_kernel(const float *x, size_t x_stride, const float *noise, size_t noise_stride,
                                 const jn_hparams *hp, int which, size_t n, float *out, size_t out_stride)
{
    const size_t m = blockIdx.z;
    const float scale = which == 0 ? hp[m].input_noise : hp[m].jac_noise;
    x += m * x_stride;
    out += m * out_stride;
    if (noise)
        noise += m * noise_stride;
    JN_FOR(e, n) out[e] = noise ? x[e] + scale * noise[e] : x[e];
}

extern "C" int jn_k_add_noise(const float *x, size_t x_stride, const float *noise, size_t noise_stride,
                              const jn_hparams *hp, int which, size_t n, int models, float *out, size_t out_stride,
                              cudaStream_t s)
{
    dim3 grid(jn_blocks(n), 1, models);
    add_noise_kernel<<<grid, JN_THREADS, 0, s>>>(x, x_stride, noise, noise_stride, hp, which, n, out, out_stride);
    JN_LAUNCHED();
}

/* The penalty's input rows of one copy: the corrupted primal rows x + jac_noise * eps (eps
 * NULL: x) and tangent rows k0 .. k0 + count - 1 after them, in one pass. */
__global__ void fill_tangents_kernel(const float *x, const float *eps, size_t eps_stride, const jn_hparams *hp,
                                     const float *v, size_t v_stride, int batch_rows, int d, int k0, int count,
                                     float *dst, size_t dst_stride)
{
    const size_t m = blockIdx.z, per_copy = (size_t)batch_rows * d, n = (size_t)(1 + count) * per_copy;
    const float scale = hp[m].jac_noise;
    x += m * per_copy;
    dst += m * dst_stride;
    if (eps)
        eps += m * eps_stride;
    if (v)
        v += m * v_stride;
    JN_FOR(e, n)
    {
        if (e < per_copy) {
            dst[e] = eps ? x[e] + scale * eps[e] : x[e];
        } else if (v) {
            dst[e] = v[e - per_copy];
        } else {
            size_t k = (e - per_copy) / per_copy, col = e % d;
            dst[e] = col == (size_t)k0 + k ? 1.0f : 0.0f;
        }
    }
}

extern "C" int jn_k_fill_tangents(const float *x, const float *eps, size_t eps_stride, const jn_hparams *hp,
                                  const float *v, size_t v_stride, int batch_rows, int d, int k0, int count,
                                  int models, float *dst, size_t dst_stride, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)(1 + count) * batch_rows * d), 1, models);
    fill_tangents_kernel<<<grid, JN_THREADS, 0, s>>>(x, eps, eps_stride, hp, v, v_stride, batch_rows, d, k0, count,
                                                     dst, dst_stride);
    JN_LAUNCHED();
}
