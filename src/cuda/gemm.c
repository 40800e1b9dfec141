/* cuBLAS calls for the three GEMM shapes, and a step's GEMMs alone as its floor (see gemm.h). */
#include "cuda/gemm.h"
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "jacnoise/profile.h"

#include <stdlib.h>

/* One call of a logged shape: forward (a = X, b = W, out = Y), weight grad (a = D, b = X,
 * out = dW, accumulated), input grad (a = D, b = W, out = dX); strides are per model. */
static int gemm_run(const jn_cuda_gemm *g, const jn_gemm_call *c, const float *a, size_t a_stride, const float *b,
                    size_t b_stride, float *out, size_t out_stride)
{
    static const float one = 1.0f, zero = 0.0f;
    const long long sa = (long long)a_stride, sb = (long long)b_stride, so = (long long)out_stride;
    jn_gemm_log_add(g->log, c->kind, c->rows, c->n_out, c->n_in, c->models);
    switch (c->kind) {
    case JN_GEMM_FORWARD:  /* a = X, b = W: Y^T (n_out x rows) = W (n_out x n_in) X^T; W's buffer is W^T */
        JN_CUBLAS(cublasSgemmStridedBatched(g->blas, CUBLAS_OP_T, CUBLAS_OP_N, c->n_out, c->rows, c->n_in, &one, b,
                                            c->n_in, sb, a, c->n_in, sa, &zero, out, c->n_out, so, c->models));
        break;
    case JN_GEMM_WEIGHT_GRAD:  /* a = D, b = X: dW^T (n_in x n_out) += X^T D */
        JN_CUBLAS(cublasSgemmStridedBatched(g->blas, CUBLAS_OP_N, CUBLAS_OP_T, c->n_in, c->n_out, c->rows, &one, b,
                                            c->n_in, sb, a, c->n_out, sa, &one, out, c->n_in, so, c->models));
        break;
    case JN_GEMM_INPUT_GRAD:  /* a = D, b = W: dX^T (n_in x rows) = W^T D^T */
        JN_CUBLAS(cublasSgemmStridedBatched(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, c->n_in, c->rows, c->n_out, &one, b,
                                            c->n_in, sb, a, c->n_out, sa, &zero, out, c->n_in, so, c->models));
        break;
    }
    return 0;
}

int jn_cuda_gemm_forward(const jn_cuda_gemm *g, int models, int rows, int n_out, int n_in, const float *x,
                         size_t x_stride, const float *w, size_t w_stride, float *y, size_t y_stride)
{
    const jn_gemm_call c = {JN_GEMM_FORWARD, rows, n_out, n_in, models};
    return gemm_run(g, &c, x, x_stride, w, w_stride, y, y_stride);
}

int jn_cuda_gemm_weight_grad(const jn_cuda_gemm *g, int models, int rows, int n_out, int n_in, const float *d,
                             size_t d_stride, const float *x, size_t x_stride, float *dw, size_t dw_stride)
{
    const jn_gemm_call c = {JN_GEMM_WEIGHT_GRAD, rows, n_out, n_in, models};
    return gemm_run(g, &c, d, d_stride, x, x_stride, dw, dw_stride);
}

int jn_cuda_gemm_input_grad(const jn_cuda_gemm *g, int models, int rows, int n_out, int n_in, const float *d,
                            size_t d_stride, const float *w, size_t w_stride, float *dx, size_t dx_stride)
{
    const jn_gemm_call c = {JN_GEMM_INPUT_GRAD, rows, n_out, n_in, models};
    return gemm_run(g, &c, d, d_stride, w, w_stride, dx, dx_stride);
}

int jn_cuda_fill_operand(float *dev, size_t n, int copies, uint64_t seed, int which)
{
    float *host = malloc(n * sizeof(float));
    if (!host)
        return jn_fail("out of host memory for a GEMM operand of %zu floats", n);
    jn_profile_fill_operand(seed, which, host, n);
    cudaError_t copied = cudaSuccess;
    for (int k = 0; k < copies && copied == cudaSuccess; k++)
        copied = cudaMemcpy(dev + (size_t)k * n, host, n * sizeof(float), cudaMemcpyHostToDevice);
    free(host);
    JN_CUDA_RESULT("cudaMemcpy", copied);
    return 0;
}

int jn_cuda_capture_floor(const jn_cuda_gemm *g, cudaStream_t stream, const jn_gemm_log *log, uint64_t seed,
                          float *scratch[3], cudaGraphExec_t *exec)
{
    const size_t big = jn_gemm_log_max_operand(log);
    int models = 1;
    for (int i = 0; i < log->count; i++)
        models = log->calls[i].models > models ? log->calls[i].models : models;
    const size_t bytes = (size_t)models * big * sizeof(float);
    const jn_cuda_buffer list[3] = {{(void **)&scratch[0], bytes, 0}, {(void **)&scratch[1], bytes, 0},
                                    {(void **)&scratch[2], bytes, 0}};
    if (jn_cuda_buffers_alloc(list, 3, "the GEMM floor's operands"))
        return -1;
    for (int k = 0; k < 3; k++)
        if (jn_cuda_fill_operand(scratch[k], big, models, seed, k))
            return -1;
    const jn_cuda_gemm replay = {g->blas, NULL};
    JN_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    int rc = 0;
    for (int i = 0; i < log->count && !rc; i++)
        rc = gemm_run(&replay, &log->calls[i], scratch[0], big, scratch[1], big, scratch[2], big);
    return jn_cuda_end_capture(stream, rc, exec);
}
