/* Checked calls for the CUDA host code: every CUDA runtime, cuBLAS and kernel-launcher call
 * goes through one of these, which on failure records "file:line: call: library error"
 * (error.h) and returns -1 from the calling function. */
#ifndef JACNOISE_CUDA_CHECK_H
#define JACNOISE_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "jacnoise/error.h"

#define JN_CUDA(call)                                                                            \
    do {                                                                                         \
        cudaError_t e_ = (call);                                                                 \
        if (e_ != cudaSuccess)                                                                   \
            return jn_fail("%s:%d: %s: %s", __FILE__, __LINE__, #call, cudaGetErrorString(e_));  \
    } while (0)

#define JN_CUBLAS(call)                                                                          \
    do {                                                                                         \
        cublasStatus_t s_ = (call);                                                              \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                         \
            return jn_fail("%s:%d: %s: %s", __FILE__, __LINE__, #call, cublasGetStatusString(s_)); \
    } while (0)

/* A kernel launcher (kernels/kernels.h) returns its launch's cudaError_t. */
#define JN_KERNEL(call)                                                                          \
    do {                                                                                         \
        int e_ = (call);                                                                         \
        if (e_ != 0)                                                                             \
            return jn_fail("%s:%d: %s: %s", __FILE__, __LINE__, #call,                          \
                           cudaGetErrorString((cudaError_t)e_));                                 \
    } while (0)

#endif
