/* How the CUDA benchmarks hold a step to the CPU reference: within the tolerance jacnoise check
 * holds it to by default (jn_step_tolerance: fp32's fixed, TF32's derived from its mantissa
 * and the step's GEMMs, without the term for saturated tanh units that check adds from its
 * first step's inputs), or one line naming the row and exit 1, in either precision: a TF32
 * figure of a wrong step would otherwise be printed as if it were the engine's; and no row
 * whose models stopped on a non-finite step. Apart from
 * cuda_bench.h, which needs CUDA, so that a test can hold this to its word without a GPU. */
#ifndef JACNOISE_BENCH_VS_CPU_H
#define JACNOISE_BENCH_VS_CPU_H

#include <stdio.h>
#include <stdlib.h>

/* The benchmark's name for its messages (bench_cuda_parse sets it). */
static const char *bench_prog = "bench";

/* Of one precision's rows, the one closest to its limit: its difference and tolerance. */
typedef struct {
    double vs_cpu, tolerance;
} bench_worst;

/* Holds a row's step, vs_cpu = ||v_gpu - v_cpu|| / ||v_cpu||, to `tolerance` (or one line on
 * stderr naming the row, exit 1) and keeps the row closest to its limit of each precision. */
static inline void bench_check_cpu(const char *row, int tf32, double vs_cpu, double tolerance, bench_worst worst[2])
{
    if (!(vs_cpu <= tolerance)) {
        fprintf(stderr, "%s: %s: the step differs from the CPU reference's by %.2e (relative), beyond %.2e\n",
                bench_prog, row, vs_cpu, tolerance);
        exit(1);
    }
    if (!worst[tf32].tolerance || vs_cpu / tolerance > worst[tf32].vs_cpu / worst[tf32].tolerance)
        worst[tf32] = (bench_worst){vs_cpu, tolerance};
}

/* Holds a row's figures to the work they name: a model that stopped on a non-finite step skips
 * the rest of its steps, so the row timed less than `models` models' steps (one line on stderr
 * naming the row, exit 1). */
static inline void bench_check_stopped(const char *row, int stopped, int models)
{
    if (stopped) {
        fprintf(stderr, "%s: %s: %d of the %d models stopped on a non-finite step: the figures time less than their "
                "steps\n", bench_prog, row, stopped, models);
        exit(1);
    }
}

/* The line that says how the steps were validated, with the row of each precision closest to
 * its limit. */
static inline void bench_print_validated(const bench_worst worst[2])
{
    printf("validated: each step, replayed once from the start, left model 0 the velocity (from zero: the gradient)\n"
           "of the CPU reference's step on the same batch and noise, within jacnoise check's tolerance: fp32 worst\n"
           "%.1e of %.1e; TF32 (its GEMM chain's bound for each shape, as check --precision tf32 derives it) worst %.1e of %.1e\n",
           worst[0].vs_cpu, worst[0].tolerance, worst[1].vs_cpu, worst[1].tolerance);
}

#endif
