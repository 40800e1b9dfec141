/* The device, stream and cuBLAS handle of the CUDA backend. */
#include "cuda/check.h"
#include "jacnoise/cuda.h"

#include <string.h>

long jn_cuda_launch_count;

/* cuBLAS gets its workspace from us, so that capturing a step in a CUDA graph never makes it
 * allocate (its documented requirement for graph capture). */

int jn_cuda_device_check(void)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0))
        return jn_fail("--device cuda: no CUDA device is visible");
    /* A machine without an NVIDIA driver gets "driver version is insufficient": lead with
     * what it means here. */
    if (e != cudaSuccess)
        return jn_fail("--device cuda: no usable CUDA device: the CUDA runtime reaches no GPU (%s)",
                       cudaGetErrorString(e));
    return 0;
}

int jn_cuda_ctx_open(jn_cuda_ctx *ctx, int tf32)
{
    memset(ctx, 0, sizeof *ctx);
    if (jn_cuda_device_check())
        return -1;
    JN_CUDA(cudaSetDevice(0));
    /* A blocking stream: the plain cudaMemcpy/cudaMemset calls (uploads, set_state, the tests)
     * run on the legacy default stream, which orders itself with blocking streams only; a
     * pageable upload may return before its DMA lands, and a read-back would not wait. */
    JN_CUDA(cudaStreamCreate(&ctx->stream));
    JN_CUBLAS(cublasCreate(&ctx->blas));
    JN_CUBLAS(cublasSetStream(ctx->blas, ctx->stream));
    JN_CUDA(cudaMalloc(&ctx->blas_workspace, JN_CUDA_BLAS_WORKSPACE_BYTES));
    JN_CUBLAS(cublasSetWorkspace(ctx->blas, ctx->blas_workspace, JN_CUDA_BLAS_WORKSPACE_BYTES));
    /* Default math keeps fp32 GEMMs in fp32 (no TF32) unless asked. */
    JN_CUBLAS(cublasSetMathMode(ctx->blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
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
    cudaError_t end = cudaStreamEndCapture(s, &graph);
    if (end == cudaSuccess && rc)
        cudaGraphDestroy(graph);
    if (rc)
        return -1;
    JN_CUDA(end);
    cudaError_t made = cudaGraphInstantiate(exec, graph, 0);
    cudaGraphDestroy(graph);
    JN_CUDA(made);
    return 0;
}
