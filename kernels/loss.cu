/* The loss on the logits (mirrors src/cpu/loss.c), fused with everything the step does between
 * the last GEMM and the backward GEMMs: the logits' bias, softmax cross-entropy or squared error
 * on the softmax with dloss/dz and the misclassification flag in the same pass over a row, the
 * sums of the losses and errors into the step's sums, and the logits' bias gradient. One block
 * per model: thread t takes rows t, t + JN_THREADS, ... and the block sums them in a fixed tree
 * order, then one thread per class sums dloss/dz over the rows in order; deterministic without
 * atomics, and one launch where there were five. Double precision inside a row, as on the CPU:
 * the softmax of float logits loses nothing and the per-row losses sum exactly enough to
 * compare. */
#include "common.cuh"

__global__ void loss_rows_kernel(int kind, float *logits, const float *bias, size_t param_stride, const int32_t *y,
                                 int rows, int classes, double scale, float *dlogits, jn_step_sums *sums,
                                 const jn_step_ctl *ctl, int models, float *db)
{
    const size_t m = blockIdx.x;
    const size_t stride = (size_t)rows * classes;
    logits += m * stride;
    dlogits += m * stride;
    bias += m * param_stride;
    db += m * param_stride;
    y += m * rows;
    double loss_sum = 0, error_sum = 0;
    for (size_t i = threadIdx.x; i < (size_t)rows; i += JN_THREADS) {
        float *z = logits + i * classes;
        float *dz = dlogits + i * classes;
        const int label = y[i];
        for (int j = 0; j < classes; j++)
            z[j] += bias[j];
        double zmax = z[0];
        int best = 0;
        for (int j = 1; j < classes; j++) {
            if (z[j] > z[best])
                best = j;
            zmax = z[j] > zmax ? z[j] : zmax;
        }
        double sum = 0;
        for (int j = 0; j < classes; j++)
            sum += exp((double)z[j] - zmax);
        const double lse = zmax + log(sum);
        error_sum += best != label;
        if (kind == 0) {
            loss_sum += lse - (double)z[label];
            for (int j = 0; j < classes; j++)
                dz[j] = (float)(scale * (exp((double)z[j] - lse) - (j == label)));
        } else {
            double pe = 0, half_sq = 0;
            for (int j = 0; j < classes; j++) {
                double p = exp((double)z[j] - lse), e = p - (j == label);
                half_sq += 0.5 * e * e;
                pe += p * e;
            }
            loss_sum += half_sq;
            for (int j = 0; j < classes; j++) {
                double p = exp((double)z[j] - lse);
                dz[j] = (float)(scale * p * ((p - (j == label)) - pe));
            }
        }
    }
    loss_sum = jn_block_sum(loss_sum);
    error_sum = jn_block_sum(error_sum);  /* its barriers also publish dlogits to the block */
    if (threadIdx.x == 0)
        sums[(ctl ? ctl->k : 0) * models + m] = jn_step_sums{loss_sum, 0, error_sum};
    for (int j = threadIdx.x; j < classes; j += JN_THREADS) {
        float sum = 0;
        for (int r = 0; r < rows; r++)
            sum += dlogits[(size_t)r * classes + j];
        db[j] += sum;
    }
}

extern "C" int jn_k_loss_rows(int kind, float *logits, const float *bias, size_t param_stride, const int32_t *y,
                              int rows, int classes, int models, double scale, float *dlogits, jn_step_sums *sums,
                              const jn_step_ctl *ctl, float *db, cudaStream_t s)
{
    loss_rows_kernel<<<models, JN_THREADS, 0, s>>>(kind, logits, bias, param_stride, y, rows, classes, scale, dlogits,
                                                   sums, ctl, models, db);
    JN_LAUNCHED();
}
