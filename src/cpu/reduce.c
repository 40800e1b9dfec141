/* Reductions over float rows. The sum of squares runs in double with eight partial sums in a
 * fixed order: the compiler vectorises them (a single running sum is a chain of dependent
 * additions), and the result does not depend on the instruction set. Column sums run row by
 * row, each column's sum a vector lane. All are built per instruction set (core/isa.h):
 * wider loads for passes bound by memory, the same bits. */
#include "core/isa.h"
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"

JN_ALWAYS_INLINE double sum_squares_body(const jn_real *x, size_t n)
{
    double part[8] = {0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int i = 0; i < 8; i++)
            part[i] += (double)x[k + i] * (double)x[k + i];
    double sum = 0;
    for (; k < n; k++)
        sum += (double)x[k] * (double)x[k];
    for (int i = 0; i < 8; i++)
        sum += part[i];
    return sum;
}

JN_ISA_BUILDS(sum_squares, (const jn_real *x, size_t n, double *sum), *sum = sum_squares_body(x, n))

double jn_cpu_sum_squares(const jn_real *x, size_t n)
{
    double sum;
    JN_ISA_PICK(sum_squares)(x, n, &sum);
    return sum;
}

JN_ALWAYS_INLINE void column_sums_body(const jn_real *rows, size_t n_rows, size_t n, jn_real *sums)
{
    for (size_t i = 0; i < n_rows; i++)
        for (size_t j = 0; j < n; j++)
            sums[j] += rows[i * n + j];
}

JN_ISA_BUILDS(column_sums, (const jn_real *rows, size_t n_rows, size_t n, jn_real *sums),
              column_sums_body(rows, n_rows, n, sums))

void jn_cpu_add_column_sums(const jn_real *rows, size_t n_rows, size_t n, jn_real *sums)
{
    JN_ISA_PICK(column_sums)(rows, n_rows, n, sums);
}

/* Each row added as soon as it is gated, while it is in the cache: the column sums of the
 * gated rows in jn_cpu_add_column_sums's order, without a second pass over them. */
JN_ALWAYS_INLINE void tanh_backward_sums_body(jn_real *restrict d, const jn_real *restrict a, size_t n_rows, size_t n,
                                              jn_real *restrict sums)
{
    for (size_t i = 0; i < n_rows; i++)
        for (size_t j = 0; j < n; j++) {
            const size_t k = i * n + j;
            d[k] = jn_tanh_backward(d[k], (jn_real)1 - a[k] * a[k]);
            sums[j] += d[k];
        }
}

JN_ISA_BUILDS(tanh_backward_sums,
              (jn_real *restrict d, const jn_real *restrict a, size_t n_rows, size_t n, jn_real *restrict sums),
              tanh_backward_sums_body(d, a, n_rows, n, sums))

void jn_cpu_tanh_backward_sums(jn_real *d, const jn_real *a, size_t n_rows, size_t n, jn_real *sums)
{
    JN_ISA_PICK(tanh_backward_sums)(d, a, n_rows, n, sums);
}
