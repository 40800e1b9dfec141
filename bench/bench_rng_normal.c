/* The CPU normal generator (core/rng_normal.c) alone, each instruction-set variant this CPU
 * runs, interleaved repetitions after an untimed one, medians and quartiles: nanoseconds a
 * normal and the speed-up over the baseline build, taken repetition by repetition. The default count, 784,000, is one noise
 * buffer of a B = 1000 MNIST step.
 *
 * usage: bench_rng_normal [--count 784000] [--reps 30] */
#include "bench_args.h"
#include "bench_stats.h"
#include "core/rng_normal.h"
#include "jacnoise/wallclock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "usage: bench_rng_normal [--count N in [1, 2^30]] [--reps N in [1, 100000]]\n"
static const char help[] =
    USAGE "\n"
    "Times the CPU normal generator (Philox4x32-10 + Box-Muller in float) alone, each build this\n"
    "CPU runs (generic, AVX2, AVX-512), interleaved, after one untimed call of each: the median\n"
    "per call and its quartiles, ns a normal, the speed-up over the generic build, taken call by\n"
    "call (median and quartiles of those ratios, so that a change of load between calls cancels),\n"
    "and whether each build gave the generic build's bits (exit 1 where one did not).\n\n"
    "  --count N  normals a call (default 784000: one noise buffer of a B = 1000 MNIST step)\n"
    "  --reps N   calls of each build (default 30)\n";

int main(int argc, char **argv)
{
    if (bench_help(argc, argv, help))
        return 0;
    long count = 784000, reps = 30;
    for (int i = 1; i < argc; i += 2)
        if (!argv[i + 1] || !((!strcmp(argv[i], "--count") && !bench_long(argv[i + 1], 1, 1L << 30, &count)) ||
                              (!strcmp(argv[i], "--reps") && !bench_long(argv[i + 1], 1, 100000, &reps))))
            return bench_refuse(USAGE, argv, i);
    enum { N_IMPLS = 3 };
    const jn_normal_impl impls[N_IMPLS] = {JN_NORMAL_GENERIC, JN_NORMAL_AVX2, JN_NORMAL_AVX512};
    const char *names[N_IMPLS] = {"generic", "avx2", "avx512"};
    float *out = malloc(sizeof(float) * (size_t)count), *first = malloc(sizeof(float) * (size_t)count);
    double *times = malloc(sizeof(double) * N_IMPLS * (size_t)reps), *scratch = malloc(sizeof(double) * (size_t)reps);
    if (!out || !first || !times || !scratch) {
        fprintf(stderr, "bench_rng_normal: out of memory\n");
        return 1;
    }
    jn_rng_normal_float(JN_NORMAL_GENERIC, 1, JN_STREAM_JAC_NOISE, 0, 0, first, (size_t)count);
    /* r = -1, untimed: the first call into out faults its pages in, which would count against
     * the generic build alone. */
    for (long r = -1; r < reps; r++)
        for (int v = 0; v < N_IMPLS; v++) {
            if (!jn_rng_normal_has(impls[v]))
                continue;
            const double t0 = jn_wall_seconds();
            jn_rng_normal_float(impls[v], 1, JN_STREAM_JAC_NOISE, (uint64_t)(r + 1), 0, out, (size_t)count);
            if (r >= 0)
                times[v * reps + r] = jn_wall_seconds() - t0;
        }

    printf("CPU normals (Philox4x32-10 + Box-Muller in float): %ld a call, %ld rep%s interleaved (median, "
           "quartiles)\n", count, reps, reps == 1 ? "" : "s");
    printf("%-8s %10s %15s %9s %18s %10s\n", "variant", "us/call", "q1-q3 us", "ns/normal", "speed-up (q1-q3)",
           "bits");
    /* Taken before jn_timing_of sorts the times: a ratio of medians would set calls of other
     * loads against each other. */
    jn_timing speedup[N_IMPLS];
    for (int v = 0; v < N_IMPLS; v++)
        if (jn_rng_normal_has(impls[v]))
            speedup[v] = jn_timing_ratio(times, times + v * reps, (int)reps, 1, scratch);
    const char *differs = NULL;
    for (int v = 0; v < N_IMPLS; v++) {
        if (!jn_rng_normal_has(impls[v])) {
            printf("%-8s not run (this CPU lacks it)\n", names[v]);
            continue;
        }
        const jn_timing q = jn_timing_of(times + v * reps, reps);
        const double ns = 1e9 * q.median / (double)count;
        jn_rng_normal_float(impls[v], 1, JN_STREAM_JAC_NOISE, 0, 0, out, (size_t)count);
        char us[32], spread[32], ratio[48];
        bench_format(q, 1e6, us, spread, sizeof spread);
        bench_format_ratio(speedup[v], 1, ratio, sizeof ratio);
        const int same = !memcmp(out, first, sizeof(float) * (size_t)count);
        if (!same && !differs)
            differs = names[v];
        printf("%-8s %10s %15s %9.*f %18s %10s\n", names[v], us, spread, bench_decimals(ns), ns, ratio,
               same ? "same" : "DIFFER");
    }
    /* A faster build that draws other normals is no speed-up: training would change. */
    if (differs) {
        fprintf(stderr, "bench_rng_normal: the %s build's normals differ from the generic build's\n", differs);
        return 1;
    }
    printf("validated: each build run gave the generic build's normals, bit for bit\n");
    free(out);
    free(first);
    free(times);
    free(scratch);
    return bench_done("bench_rng_normal");
}
