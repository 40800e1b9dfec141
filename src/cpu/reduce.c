/* Sums in double over float rows, with eight partial sums in a fixed order: the compiler
 * vectorises them (a single running sum is a chain of dependent additions), and the result
 * does not depend on the instruction set. */
#include "cpu/ops.h"

double jn_cpu_sum_squares(const jn_real *x, size_t n)
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
