/* Losses on the logits, one thread per row (mirrors src/cpu/loss.c): softmax cross-entropy
 * or squared error on the softmax, with dloss/dz and the misclassification flag computed in
 * the same pass over the row. Double precision inside a row, as on the CPU: the softmax
 * of float logits loses nothing and the per-row losses sum exactly enough to compare. */
#include "common.cuh"

__global__ void loss_rows_kernel(int kind, const float *logits, const int32_t *y, int rows, int classes,
                                 double scale, float *dlogits, double *row_loss, double *row_error)
{
    const size_t m = blockIdx.z;
    const size_t stride = (size_t)rows * classes;
    logits += m * stride;
    dlogits += m * stride;
    y += m * rows;
    row_loss += m * rows;
    row_error += m * rows;
    JN_FOR(i, (size_t)rows)
    {
        const float *z = logits + i * classes;
        float *dz = dlogits + i * classes;
        const int label = y[i];
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
        row_error[i] = best != label;
        if (kind == 0) {
            row_loss[i] = lse - (double)z[label];
            for (int j = 0; j < classes; j++)
                dz[j] = (float)(scale * (exp((double)z[j] - lse) - (j == label)));
        } else {
            double pe = 0, half_sq = 0;
            for (int j = 0; j < classes; j++) {
                double p = exp((double)z[j] - lse), e = p - (j == label);
                half_sq += 0.5 * e * e;
                pe += p * e;
            }
            row_loss[i] = half_sq;
            for (int j = 0; j < classes; j++) {
                double p = exp((double)z[j] - lse);
                dz[j] = (float)(scale * p * ((p - (j == label)) - pe));
            }
        }
    }
}

extern "C" int jn_k_loss_rows(int kind, const float *logits, const int32_t *y, int rows, int classes, int models,
                              double scale, float *dlogits, double *row_loss, double *row_error, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)rows), 1, models);
    loss_rows_kernel<<<grid, JN_THREADS, 0, s>>>(kind, logits, y, rows, classes, scale, dlogits, row_loss,
                                                 row_error);
    JN_LAUNCHED();
}
