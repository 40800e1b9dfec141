/* The three GEMM shapes of a training step (core/gemm_log.h) through cuBLAS, batched over
 * the models trained in lock-step (strided-batched GEMMs; strides are per model). cuBLAS is
 * column-major: a row-major R x C matrix is its column-major transpose, so each shape maps
 * to one cublasSgemmStridedBatched call with the operands' roles read accordingly. */
#ifndef JACNOISE_CUDA_GEMM_H
#define JACNOISE_CUDA_GEMM_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#include "core/gemm_log.h"

typedef struct {
    cublasHandle_t blas;
    jn_gemm_log *log;  /* optional shape log (benchmarks) */
} jn_cuda_gemm;

int jn_cuda_gemm_forward(const jn_cuda_gemm *g, int models, int rows, int n_out, int n_in, const float *x,
                         size_t x_stride, const float *w, size_t w_stride, float *y, size_t y_stride);
int jn_cuda_gemm_weight_grad(const jn_cuda_gemm *g, int models, int rows, int n_out, int n_in, const float *d,
                             size_t d_stride, const float *x, size_t x_stride, float *dw, size_t dw_stride);
int jn_cuda_gemm_input_grad(const jn_cuda_gemm *g, int models, int rows, int n_out, int n_in, const float *d,
                            size_t d_stride, const float *w, size_t w_stride, float *dx, size_t dx_stride);

/* The calls of log (their shapes and model counts) captured on `stream` into a graph (*exec): a
 * step's GEMMs alone, the floor the rest of the step adds to. Their three operands are
 * allocated here (scratch[k], the log's largest operand for each of its models; the caller
 * frees them, also after a failure) and written with values like a step's
 * (jn_cuda_fill_operand). g gives the cuBLAS handle; nothing is logged. */
int jn_cuda_capture_floor(const jn_cuda_gemm *g, cudaStream_t stream, const jn_gemm_log *log, uint64_t seed,
                          float *scratch[3], cudaGraphExec_t *exec);

/* dev[0 .. copies * n) = `copies` copies of the n values of jn_profile_fill_operand(seed, which):
 * an operand that a GEMM is timed on. Not zeros: a GPU's GEMM on zeros draws less power and
 * can clock higher, which would time a floor faster, and a peak higher, than a step's GEMMs run. */
int jn_cuda_fill_operand(float *dev, size_t n, int copies, uint64_t seed, int which);

#endif
