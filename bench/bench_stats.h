/* The benchmarks' figures: the median and quartiles of a set of timings (jn_timing_of, as
 * jacnoise profile's), so that a figure comes with its spread (on a shared machine the
 * quartiles say how far to trust it), printed at decimals that show it. */
#ifndef JACNOISE_BENCH_STATS_H
#define JACNOISE_BENCH_STATS_H

#include "jacnoise/profile.h"

#include <math.h>
#include <stdio.h>

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
static inline void bench_format(jn_timing q, double scale, char *median, char *spread, size_t cap)
{
    const int d = bench_decimals(q.median * scale);
    snprintf(median, cap, "%.*f", d, q.median * scale);
    snprintf(spread, cap, "%.*f-%.*f", d, q.q1 * scale, d, q.q3 * scale);
}

/* A ratio taken round by round (jn_timing_ratio), times scale, as "1.31x (1.29-1.33)": the
 * median of the rounds' ratios and their quartiles, with the median's decimals; "-" where no
 * round measured it (NaN). */
static inline void bench_format_ratio(jn_timing q, double scale, char *out, size_t cap)
{
    if (isnan(q.median)) {
        snprintf(out, cap, "-");
        return;
    }
    const int d = bench_decimals(q.median * scale);
    snprintf(out, cap, "%.*fx (%.*f-%.*f)", d, q.median * scale, d, q.q1 * scale, d, q.q3 * scale);
}

/* A share of the step (jacnoise profile's phase shares, taken round by round) as "12.3%"; "-"
 * where no round measured it (NaN), as the profile's table says it. */
static inline void bench_format_share(double share, char *out, size_t cap)
{
    if (isnan(share))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.1f%%", 100 * share);
}

#endif
