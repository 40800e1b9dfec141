/* Evaluation: the misclassification flag of each row (argmax of the logits, first maximum
 * on ties, as src/cpu/evaluate.c), summed afterwards by the deterministic reduction. Every
 * model reads the same labels: one evaluation set, all models at once. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

__global__ void argmax_errors_kernel(const float *logits, const int32_t *y, int rows, int classes,
                                     double *row_error)
{
    const size_t m = blockIdx.z;
    logits += m * (size_t)rows * classes;
    row_error += m * rows;
    JN_FOR(i, (size_t)rows)
    {
        row_error[i] = jn_argmax(logits + i * classes, classes) != y[i];
    }
}

extern "C" int jn_k_argmax_errors(const float *logits, const int32_t *y, int rows, int classes, int models,
                                  double *row_error, cudaStream_t s)
{
    dim3 grid(jn_blocks((size_t)rows), 1, models);
    argmax_errors_kernel<<<grid, JN_THREADS, 0, s>>>(logits, y, rows, classes, row_error);
    JN_LAUNCHED();
}
