/* The benchmarks' order statistics: median and quartiles of a set of timings, interpolated
 * between order statistics as jacnoise profile's are, so that a figure comes with its spread
 * (on a shared machine the quartiles say how far to trust it). */
#ifndef JACNOISE_BENCH_STATS_H
#define JACNOISE_BENCH_STATS_H

#include <stdlib.h>

typedef struct {
    double q1, median, q3;
} bench_quartiles;

static inline int bench_compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted[0 .. n - 1], n >= 1. */
static inline double bench_quantile(const double *sorted, long n, double q)
{
    const double pos = q * (double)(n - 1);
    const long lo = (long)pos, hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - (double)lo) * (sorted[hi] - sorted[lo]);
}

/* Sorts v[0 .. n - 1], n >= 1, and returns its quartiles. */
static inline bench_quartiles bench_summarise(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, bench_compare_doubles);
    return (bench_quartiles){bench_quantile(v, n, 0.25), bench_quantile(v, n, 0.5), bench_quantile(v, n, 0.75)};
}

#endif
