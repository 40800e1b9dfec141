/* Checked calls for the CUDA host code: every CUDA runtime, cuBLAS and kernel-launcher call
 * goes through one of these, which on failure records "file:line: call: library error"
 * (error.h) and returns -1 from the calling function. Outside them: device allocations
 * (cuda/buffers.h, whose message names file:line and the error too, and says how much memory
 * was free), teardown (frees and destroys, whose failure leaves nothing to do) and the probes
 * whose failure is an answer (jn_cuda_device_count, jn_cuda_free_memory: 0; jn_cuda_device_check:
 * why not; jn_cuda_sgemm_peak, whose calls are checked: 0, the failure recorded). */
#ifndef JACNOISE_CUDA_CHECK_H
#define JACNOISE_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <string.h>

#include "jacnoise/error.h"

/* The runtime also records a failed call's error for the next cudaGetLastError (which each
 * kernel launcher returns): code that reports or handles the failure consumes that record,
 * so that the next launch check does not report it again as its own. */
static inline void jn_cuda_forget_error(void) { (void)cudaGetLastError(); }

/* The length of a checked call's function name in its text ("cudaMemcpy(dst, ...)"): messages
 * name the call by its function (its arguments are expressions, no values). */
static inline int jn_cuda_call_name(const char *call) { return (int)strcspn(call, " ("); }

/* JN_CUDA_RESULT(name, e) checks the result e of the call `name` where the check must wait
 * (a host buffer to free first): it names the call, never e. */
#define JN_CUDA_RESULT(name, e)                                                                       \
    do {                                                                                              \
        cudaError_t e_ = (e);                                                                         \
        if (e_ != cudaSuccess) {                                                                      \
            jn_cuda_forget_error();                                                                   \
            return jn_fail("%s:%d: %.*s: %s", __FILE__, __LINE__, jn_cuda_call_name(name), name,      \
                           cudaGetErrorString(e_));                                                   \
        }                                                                                             \
    } while (0)
#define JN_CUDA(call) JN_CUDA_RESULT(#call, (call))

/* A cuBLAS call whose kernel launch failed returns a bare status (CUBLAS_STATUS_EXECUTION_FAILED)
 * and leaves the launch's error recorded in the runtime: the report consumes that record, so
 * that the next launch check does not take it for its own, and names it, the cause the status
 * hides. */
static inline int jn_cublas_failed(const char *file, int line, const char *call, cublasStatus_t s)
{
    const cudaError_t e = cudaGetLastError();
    const int name = jn_cuda_call_name(call);
    if (e != cudaSuccess)
        return jn_fail("%s:%d: %.*s: %s (%s)", file, line, name, call, cublasGetStatusString(s),
                       cudaGetErrorString(e));
    return jn_fail("%s:%d: %.*s: %s", file, line, name, call, cublasGetStatusString(s));
}

#define JN_CUBLAS(call)                                                  \
    do {                                                                 \
        cublasStatus_t s_ = (call);                                      \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                 \
            return jn_cublas_failed(__FILE__, __LINE__, #call, s_);      \
    } while (0)

/* A kernel launcher (kernels/kernels.h) returns its launch's cudaError_t. JN_LAUNCH(call)
 * records a failed launch as "file:line: launcher: error", naming the launcher (the call's
 * text up to its '('), and yields 0 or -1 without returning, for call sites that must close
 * something (an NVTX range) first; JN_KERNEL(call) returns -1 from the caller. */
extern long jn_cuda_launch_count;  /* launcher calls so far (context.c): the profile's launches per step */
static inline int jn_cuda_launch_status(const char *file, int line, const char *call, int e)
{
    jn_cuda_launch_count++;
    if (e == 0)
        return 0;
    return jn_fail("%s:%d: %.*s: %s", file, line, jn_cuda_call_name(call), call,
                   cudaGetErrorString((cudaError_t)e));
}
/* Ends the capture begun on s: with rc 0 (the captured calls' status) instantiates the graph
 * into *exec, otherwise discards it and returns -1 (rc's message stays the one recorded; the
 * capture's own failure to end is consumed, as every reported error). */
int jn_cuda_end_capture(cudaStream_t s, int rc, cudaGraphExec_t *exec);

#define JN_LAUNCH(call) jn_cuda_launch_status(__FILE__, __LINE__, #call, (call))
#define JN_KERNEL(call)        \
    do {                       \
        if (JN_LAUNCH(call))   \
            return -1;         \
    } while (0)

#endif
