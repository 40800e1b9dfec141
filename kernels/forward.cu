/* Forward pass elementwise work of the main rows alone (mirrors src/cpu/forward.c): bias + tanh
 * fused, so the pre-activations are read once, for the layers no penalty row goes through
 * (a model without the tangent penalty, layers above the penalised one, evaluation; the
 * stacked layers are tangent.cu's); and the logits' bias (evaluation: training adds it in the
 * loss kernel). */
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

/* The logits' bias alone, for evaluation: a training step adds it in the loss kernel
 * (loss.cu), which reads the logits anyway. */
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
