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

/* Whether this block is the last of `blocks` to get here (every thread of the block must
 * call it): each block's writes before the call are then visible to the last one, which sums
 * them in a fixed order, whatever order the blocks ran in (a reduction with many blocks, no
 * second launch, no atomics on the values). ticket: a counter at zero, left at zero. */
__device__ static inline bool jn_last_block(unsigned *ticket, unsigned blocks)
{
    __shared__ bool last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0 && threadIdx.y == 0) {
        last = atomicAdd(ticket, 1u) == blocks - 1;
        if (last) {
            /* The acquire side of the others' fence-then-ticket: without it the memory model
             * does not order this block's reads of their writes after the ticket. */
            __threadfence();
            *ticket = 0;  /* every other block has taken its ticket */
        }
    }
    __syncthreads();
    return last;
}

/* Column sums over rows in a fixed order with many threads per column: a block of
 * JN_TILE_COLS adjacent columns (threadIdx.x; adjacent threads read adjacent floats of a row)
 * by JN_TILE_GROUPS row groups (threadIdx.y: rows y, y + JN_TILE_GROUPS, ...). Each thread sums
 * its rows in order, then jn_tile_sum adds the groups' partial sums in order: the same bits on
 * every run, no atomics. A layer of 1000 units is only 32 blocks per model, so each block
 * needs many rows' loads in flight: with 8 row groups the tanh backward of 1000 x 1000 took
 * 58 us on an H200 (140 GB/s, the SMs waiting on memory); 32 groups of a 1024-thread block,
 * each walking its rows a few at a time. Kernels that use the tile declare
 * __launch_bounds__(JN_TILE_THREADS), so that they compile to a block that size can run. */
#define JN_TILE_COLS 32
#define JN_TILE_GROUPS 32
#define JN_TILE_THREADS (JN_TILE_COLS * JN_TILE_GROUPS)

static inline dim3 jn_tile_grid(int n, int models) { return dim3((n + JN_TILE_COLS - 1) / JN_TILE_COLS, 1, models); }
static inline dim3 jn_tile_block() { return dim3(JN_TILE_COLS, JN_TILE_GROUPS); }

/* The column's total, valid in row group 0. Every thread of the block must call it. */
__device__ static inline float jn_tile_sum(float partial)
{
    __shared__ float groups[JN_TILE_GROUPS][JN_TILE_COLS];
    groups[threadIdx.y][threadIdx.x] = partial;
    __syncthreads();
    float total = 0;
    if (threadIdx.y == 0)
        for (int g = 0; g < JN_TILE_GROUPS; g++)
            total += groups[g][threadIdx.x];
    __syncthreads();  /* groups may be reused by the caller's next call */
    return total;
}

#endif
