/* Helpers shared by the kernels: launch checking, grid sizes, a model's state, block sums. */
#ifndef JACNOISE_KERNELS_COMMON_CUH
#define JACNOISE_KERNELS_COMMON_CUH

#include <cuda_runtime.h>

#include "kernels.h"

/* A launcher's result: the launch's error (a bad configuration, or an earlier asynchronous
 * error), 0 if none. The host reports it with its own file:line (src/cuda/check.h). */
#define JN_LAUNCHED() return (int)cudaGetLastError()

#define JN_THREADS 256

/* Blocks for n elements at JN_THREADS per block, capped (grid-stride loops cover the rest). */
static inline unsigned jn_blocks(size_t n)
{
    size_t b = (n + JN_THREADS - 1) / JN_THREADS;
    return (unsigned)(b < 1 ? 1 : b > 65535 ? 65535 : b);
}

/* Grid-stride loop over [0, n). */
#define JN_FOR(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* A model that takes no step: inactive in this chunk, or stopped by a non-finite step. */
__device__ static inline bool jn_frozen(const jn_model_ctl *c) { return !c->active || c->stopped_at >= 0; }

/* Sum of one double per thread over a block of JN_THREADS threads, in a fixed tree order:
 * the same bits on every run (no atomics). Every thread of the block must call it. */
__device__ static inline double jn_block_sum(double v)
{
    __shared__ double partial[JN_THREADS];
    partial[threadIdx.x] = v;
    __syncthreads();
    for (int half = JN_THREADS / 2; half > 0; half /= 2) {
        if (threadIdx.x < half)
            partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    double total = partial[0];
    __syncthreads();  /* partial may be reused by the caller's next call */
    return total;
}

#endif
