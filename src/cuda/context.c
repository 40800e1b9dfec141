/* The device, stream and cuBLAS handle of the CUDA backend. */
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "jacnoise/cuda.h"

#include <stdlib.h>
#include <string.h>

long jn_cuda_launch_count;

/* NVIDIA documents NVIDIA_TF32_OVERRIDE=0 alone (TF32 off in every NVIDIA library, whatever
 * the math mode) and reserves any other setting for future use. */
int jn_cuda_tf32_overridden(void)
{
    const char *v = getenv("NVIDIA_TF32_OVERRIDE");
    return v && !strcmp(v, "0");
}

const char *jn_cuda_tf32_reserved(void)
{
    const char *v = getenv("NVIDIA_TF32_OVERRIDE");
    return v && strcmp(v, "0") ? v : NULL;
}

int jn_cuda_device_check(void)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        jn_cuda_forget_error();  /* reported here (a CPU fallback goes on to other checks) */
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
        /* The runtime says the same of a machine without a GPU and of a list that names none
         * of its GPUs (empty, or numbers it does not have): say which, where the list is set. */
        const char *visible = getenv("CUDA_VISIBLE_DEVICES");
        if (visible)
            return jn_fail("--device cuda: no CUDA device is visible with CUDA_VISIBLE_DEVICES=\"%.64s\" (it lists "
                           "the GPUs a process may use; unset, every GPU is visible)", visible);
        return jn_fail("--device cuda: no CUDA device is visible");
    }
    /* A machine without an NVIDIA driver gets "driver version is insufficient": lead with
     * what it means here. */
    if (e != cudaSuccess)
        return jn_fail("--device cuda: no usable CUDA device: the CUDA runtime reaches no GPU (%s)",
                       cudaGetErrorString(e));
    return 0;
}

/* The context's parts in turn; on a failure ctx holds those made so far. */
static int ctx_make(jn_cuda_ctx *ctx, int tf32)
{
    if (jn_cuda_device_check())
        return -1;
    JN_CUDA(cudaSetDevice(0));
    /* The device the run's work goes to, as the record names it: visible device 0 is the first
     * of CUDA_VISIBLE_DEVICES, the only way to choose one (tools/sweep-local-gpus.sh sets it). */
    JN_CUDA(cudaGetDevice(&ctx->device));
    /* A blocking stream: the plain cudaMemcpy/cudaMemset calls (uploads, set_state, the tests)
     * run on the legacy default stream, which orders itself with blocking streams only; a
     * pageable upload may return before its DMA lands, and a read-back would not wait. */
    JN_CUDA(cudaStreamCreate(&ctx->stream));
    JN_CUBLAS(cublasCreate(&ctx->blas));
    JN_CUBLAS(cublasSetStream(ctx->blas, ctx->stream));
    /* cuBLAS gets its workspace from us, so that capturing a step in a CUDA graph never makes
     * it allocate (its documented requirement for graph capture). */
    const cudaError_t e = cudaMalloc(&ctx->blas_workspace, JN_CUDA_BLAS_WORKSPACE_BYTES);
    if (e != cudaSuccess)
        return jn_cuda_alloc_failed(__FILE__, __LINE__, "cudaMalloc", e, "cuBLAS's workspace (%d MiB)",
                                    (int)(JN_CUDA_BLAS_WORKSPACE_BYTES >> 20));
    JN_CUBLAS(cublasSetWorkspace(ctx->blas, ctx->blas_workspace, JN_CUDA_BLAS_WORKSPACE_BYTES));
    /* Default math keeps fp32 GEMMs in fp32 (no TF32) unless asked. */
    JN_CUBLAS(cublasSetMathMode(ctx->blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    /* cuBLAS's math mode still reads TF32 where NVIDIA_TF32_OVERRIDE=0 turned it off. */
    ctx->tf32 = tf32 && !jn_cuda_tf32_overridden();
    return 0;
}

int jn_cuda_ctx_open(jn_cuda_ctx *ctx, int tf32)
{
    memset(ctx, 0, sizeof *ctx);
    /* A failed open releases what it made: callers that never had a context (the profile's
     * machine description) have nothing to close. */
    if (ctx_make(ctx, tf32)) {
        jn_cuda_ctx_close(ctx);
        return -1;
    }
    return 0;
}

void jn_cuda_ctx_close(jn_cuda_ctx *ctx)
{
    if (ctx->blas)
        cublasDestroy(ctx->blas);
    if (ctx->blas_workspace)
        cudaFree(ctx->blas_workspace);
    if (ctx->stream)
        cudaStreamDestroy(ctx->stream);
    memset(ctx, 0, sizeof *ctx);
}

int jn_cuda_end_capture(cudaStream_t s, int rc, cudaGraphExec_t *exec)
{
    cudaGraph_t graph;
    if (rc) {
        /* The failed call's error is the one reported; the capture it invalidated fails to
         * end too, and that record must not reach the next launch check as its own. */
        if (cudaStreamEndCapture(s, &graph) == cudaSuccess)
            cudaGraphDestroy(graph);
        else
            jn_cuda_forget_error();
        return -1;
    }
    JN_CUDA(cudaStreamEndCapture(s, &graph));
    const cudaError_t made = cudaGraphInstantiate(exec, graph, 0);
    cudaGraphDestroy(graph);
    if (made != cudaSuccess)  /* what a failure leaves in *exec is not documented: the caller's
                               * teardown destroys a graph it holds */
        *exec = NULL;
    JN_CUDA_RESULT("cudaGraphInstantiate", made);
    return 0;
}
