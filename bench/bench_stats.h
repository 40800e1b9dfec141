/* The benchmarks' order statistics: median and quartiles of a set of timings, interpolated
 * between order statistics as jacnoise profile's are, so that a figure comes with its spread
 * (on a shared machine the quartiles say how far to trust it). */
#ifndef JACNOISE_BENCH_STATS_H
#define JACNOISE_BENCH_STATS_H

#include <stdio.h>
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

/* Decimals that show x >= 0 with 3 significant digits (none from 100 on, at most 9): at fixed
 * decimals a tiny run's microseconds or megabytes read 0, as if nothing had been measured. */
static inline int bench_decimals(double x)
{
    int d = 0;
    for (double a = 100; d < 9 && x < a; a /= 10)
        d++;
    return d;
}

/* A timing's median and "q1-q3", times scale, into median and spread (cap bytes each), the
 * quartiles with the median's decimals. */
static inline void bench_format(bench_quartiles q, double scale, char *median, char *spread, size_t cap)
{
    const int d = bench_decimals(q.median * scale);
    snprintf(median, cap, "%.*f", d, q.median * scale);
    snprintf(spread, cap, "%.*f-%.*f", d, q.q1 * scale, d, q.q3 * scale);
}

#endif
