/* Deterministic reductions of per-row values into a step's sums, and the step control that
 * lets one captured CUDA graph run every step (each model's own control is jn_model_ctl: the
 * update stops a diverging model, so the shared control only counts steps). No value is summed
 * with atomics (the last-block tickets of common.cuh only count finished blocks): a block per model sums
 * in a fixed tree order, so the same inputs give the same bits run after run. */
#include "common.cuh"

#include <math.h>

/* Row 0 of the models' sums set to zero before an evaluation adds its errors. */
__global__ void zero_sums_kernel(jn_step_sums *sums, int models)
{
    for (int m = threadIdx.x; m < models; m += blockDim.x)
        sums[m] = jn_step_sums{0, 0, 0};
}

extern "C" int jn_k_zero_sums(jn_step_sums *sums, int models, cudaStream_t s)
{
    zero_sums_kernel<<<1, JN_THREADS, 0, s>>>(sums, models);
    JN_LAUNCHED();
}

/* A block per model: its n per-row errors summed in a fixed tree order into its row-0 sums. */
__global__ void sum_errors_kernel(const double *row_error, int n, jn_step_sums *sums)
{
    const int m = blockIdx.x;
    row_error += (size_t)m * n;
    double v = 0;
    for (int i = threadIdx.x; i < n; i += JN_THREADS)
        v += row_error[i];
    v = jn_block_sum(v);
    if (threadIdx.x == 0)
        sums[m].errors += v;
}

extern "C" int jn_k_sum_errors(const double *row_error, int n, int models, jn_step_sums *sums, cudaStream_t s)
{
    sum_errors_kernel<<<models, JN_THREADS, 0, s>>>(row_error, n, sums);
    JN_LAUNCHED();
}

/* The step control restarted at the chunk's first batch, k = 0. */
__global__ void set_ctl_kernel(jn_step_ctl *ctl, int64_t batch)
{
    *ctl = jn_step_ctl{batch, 0};
}

/* The values travel as kernel arguments, which the launch copies: no host buffer has to
 * outlive the call, as one given to cudaMemcpyAsync would until the copy runs. */
extern "C" int jn_k_set_ctl(jn_step_ctl *ctl, int64_t batch, cudaStream_t s)
{
    set_ctl_kernel<<<1, 1, 0, s>>>(ctl, batch);
    JN_LAUNCHED();
}
