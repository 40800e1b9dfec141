/* Reductions over float rows. The sum of squares runs in double with eight partial sums in a
 * fixed order: the compiler vectorises them (a single running sum is a chain of dependent
 * additions), and the result does not depend on the instruction set. Column sums run row by
 * row, each column's sum a vector lane. Both are built per instruction set (core/isa.h):
 * wider loads for passes bound by memory, the same bits. */
#include "core/isa.h"
#include "cpu/ops.h"

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
