/* CPU training step versus its GEMM floor and the machine's peak.
 *
 * For plain training, MLP+N+J with the hidden1 target and MLP+N+J with the output target
 * (K = 1 and 3) it times the whole step (gather + noise, forward, penalty, backward, update)
 * through the profile's CPU target (jacnoise/profile.h) and, in the same run and interleaved
 * with it, the step's own GEMMs replayed alone through CBLAS (the floor). The step over its
 * floor is what the engine adds on top of the BLAS; GFLOP/s are set against the peak: the
 * fastest of a large square SGEMM measured first and the rounds themselves. Medians and
 * quartiles over the repetitions, after WARMUP untimed rounds; each variant's step over its
 * floor and over the plain step's, and its data phase's share of it, round by round (medians
 * and quartiles of those ratios).
 * Before anything is timed, each variant's step is validated against the CPU reference:
 * VALIDATE_STEPS steps of it and of the CPU backend that training runs must leave the same
 * bytes. The batches come from a synthetic MNIST-shaped set, so no data files are needed.
 *
 * usage: bench_cpu_step [--hidden 1000,1000] [--batch 100] [--reps 20] [--threads N] */
#include "bench_args.h"
#include "bench_stats.h"
#include "jacnoise/backend.h"
#include "jacnoise/blas.h"
#include "jacnoise/error.h"
#include "jacnoise/profile.h"
#include "jacnoise/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_VARIANTS 4
#define WARMUP 3
#define VALIDATE_STEPS 4 /* one epoch of the synthetic set: each of its batches */

#define USAGE "usage: bench_cpu_step [--hidden W1,W2,...] [--batch B in [1, 65536]] [--reps N in [1, 100000]]" \
              " [--threads N in [0, 1024]]\n"
static const char help[] =
    USAGE "\n"
    "Times the CPU training step at 784-W1-W2-...-10 for plain training and MLP+N+J (lambda 0.1,\n"
    "s_J 0.3) with the hidden1 target and the output target, K = 1 and 3, on a synthetic\n"
    "MNIST-shaped set, and in the same run, interleaved, the step's GEMMs replayed alone (the\n"
    "floor): us per step, GFLOP/s against the measured peak (the fastest of a 2048^3 SGEMM\n"
    "and the rounds' best), the data phase (gather + noise) and its share of the step (data%), and\n"
    "the step over its floor and over the plain step's: the share and the ratios taken round by\n"
    "round (their medians, and the ratios' quartiles, so that a change of load between rounds\n"
    "cancels). Medians and quartiles over the repetitions, after 3 untimed rounds. Each variant's\n"
    "step is first validated: 4 steps of it leave the parameters and velocity of 4 steps of the\n"
    "CPU reference's training, bit for bit (or it exits 1).\n\n"
    "  --hidden W1,W2,...  hidden widths (default 1000,1000)\n"
    "  --batch B           batch size (default 100)\n"
    "  --reps N            timed steps of each variant (default 20)\n"
    "  --threads N         BLAS threads, 0 = the BLAS's default (default 0)\n";

int main(int argc, char **argv)
{
    if (bench_help(argc, argv, help))
        return 0;
    jn_blas_core_init(argv);
    int hidden[JN_MAX_LAYERS] = {1000, 1000}, n_hidden = 2, B = 100, reps = 20, threads = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *key = argv[i], *value = argv[i + 1];
        long v;
        int n;
        if (!value)
            return bench_refuse(USAGE, argv, i);
        if (!strcmp(key, "--batch") && !bench_long(value, 1, 65536, &v))
            B = (int)v;
        else if (!strcmp(key, "--reps") && !bench_long(value, 1, 100000, &v))
            reps = (int)v;
        else if (!strcmp(key, "--threads") && !bench_long(value, 0, 1024, &v))
            threads = (int)v;
        else if (!strcmp(key, "--hidden") && (n = bench_int_list(value, hidden, 1, JN_MAX_LAYERS - 1)))
            n_hidden = n;
        else
            return bench_refuse(USAGE, argv, i);
    }
    jn_model m;
    if (jn_model_make(&m, 784, hidden, n_hidden, 10)) {
        fprintf(stderr, "bench_cpu_step: %s\n", jn_last_error());
        return 2;
    }
    jn_cpu_set_threads(threads);

    /* A synthetic training set of MNIST's shape: 4 batches to cycle through. */
    jn_dataset train = {.name = "synthetic", .n = 4 * B, .d = 784, .classes = 10};
    train.x = malloc(sizeof(float) * (size_t)train.n * train.d);
    train.y = malloc(sizeof(int32_t) * (size_t)train.n);
    if (!train.x || !train.y) {
        fprintf(stderr, "bench_cpu_step: out of memory for the synthetic set (batch %d)\n", B);
        return 1;
    }
    for (size_t k = 0; k < (size_t)train.n * train.d; k++)
        train.x[k] = (float)((k * 2654435761u) % 1000) / 1000.0f;
    for (int i = 0; i < train.n; i++)
        train.y[i] = i % 10;

    const jn_objective plain = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    /* Plain last: the profile sets each variant against the last, round by round (vs plain). */
    jn_objective objs[N_VARIANTS] = {plain, plain, plain, plain};
    const char *names[N_VARIANTS] = {"N+J hidden1", "N+J output K=1", "N+J output K=3", "plain"};
    for (int v = 0; v < N_VARIANTS - 1; v++)
        objs[v].jac_lambda = 0.1, objs[v].jac_noise = 0.3;
    objs[1].target = objs[2].target = JN_TARGET_OUTPUT;
    objs[2].jac_proj = 3;

    static jn_profile_result res;
    jn_cpu_profile_machine(&res.machine);
    const jn_profile_setup setup = {B, 1, 1e-6, 0.9};
    jn_profile_target *targets[N_VARIANTS];
    for (int v = 0; v < N_VARIANTS; v++) {
        if (!(targets[v] = jn_cpu_profile_target_create(&m, &objs[v], &setup, &train))) {
            fprintf(stderr, "bench_cpu_step: %s\n", jn_last_error());
            return 1;
        }
        /* What is timed must be the step training runs, or its figures describe something else. */
        if (jn_cpu_profile_target_validate(targets[v], VALIDATE_STEPS)) {
            fprintf(stderr, "bench_cpu_step: %s: %s\n", names[v], jn_last_error());
            return 1;
        }
    }
    const jn_profile_rounds rounds = {reps, WARMUP, 0, JN_PROGRESS_AUTO, NULL, 0, 0};
    if (jn_profile_run(targets, names, objs, N_VARIANTS, &m, B, &rounds, &res)) {
        fprintf(stderr, "bench_cpu_step: %s\n", jn_last_error());
        return 1;
    }

    char shape[128];
    jn_model_describe(&m, shape, sizeof shape);
    printf("CPU step vs GEMM floor: %s, B = %d, %s, %d rep%s interleaved after %d untimed (median, quartiles)\n",
           shape, B, JN_REAL_NAME, reps, reps == 1 ? "" : "s", WARMUP);
    const jn_profile_machine *mc = &res.machine;
    printf("validated: each variant's step, %d steps from the start, left the parameters and velocity of the CPU "
           "reference's training step, bit for bit\n", VALIDATE_STEPS);
    printf("%s; %s\nBLAS core %s (%s), %d thread%s; measured peak %.1f GFLOP/s (the fastest of a 2048^3 SGEMM, "
           "%.1f, and the rounds below)\n",
           mc->device, mc->library, mc->core, mc->core_origin, mc->threads, mc->threads == 1 ? "" : "s",
           mc->peak_gflops, mc->sgemm_peak_gflops);
    printf("%-16s %10s %13s %9s %9s %6s %10s %13s %10s %6s %6s %9s %6s %18s %18s\n", "variant", "us/step", "q1-q3",
           "GFLOP", "GFLOP/s", "%peak", "floor us", "q1-q3", "floor GF/s", "%peak", "GEMMs", "data us", "data%",
           "vs floor (q1-q3)", "vs plain (q1-q3)");
    for (int k = 0; k < N_VARIANTS; k++) {
        const int v = (k + N_VARIANTS - 1) % N_VARIANTS;  /* plain first */
        const jn_profile_variant *r = &res.v[v];
        const double step = r->step.median, floor = r->floor.median, data = r->phase[JN_PHASE_DATA].median;
        const double gf = r->total_flops / step * 1e-9, floor_gf = r->total_flops / floor * 1e-9;
        char step_us[32], step_q[32], floor_us[32], floor_q[32], data_us[32], vs_floor[48], vs_plain[48], gflop[32];
        char data_share[16];
        bench_format(r->step, 1e6, step_us, step_q, sizeof step_q);
        bench_format(r->floor, 1e6, floor_us, floor_q, sizeof floor_q);
        snprintf(data_us, sizeof data_us, "%.*f", bench_decimals(1e6 * data), 1e6 * data);
        snprintf(gflop, sizeof gflop, "%.*f", bench_decimals(r->total_flops * 1e-9), r->total_flops * 1e-9);
        bench_format_ratio(r->step_vs_floor, 1, vs_floor, sizeof vs_floor);
        bench_format_ratio(r->step_vs_plain, 1, vs_plain, sizeof vs_plain);
        bench_format_share(r->phase_share[JN_PHASE_DATA].median, data_share, sizeof data_share);
        printf("%-16s %10s %13s %9s %9.1f %5.0f%% %10s %13s %10.1f %5.0f%% %6d %9s %6s %18s %18s\n", r->name,
               step_us, step_q, gflop, gf, 100 * gf / mc->peak_gflops, floor_us, floor_q, floor_gf,
               100 * floor_gf / mc->peak_gflops, r->gemm_calls, data_us, data_share,
               vs_floor, vs_plain);
    }
    for (int v = 0; v < N_VARIANTS; v++)
        targets[v]->ops->destroy(targets[v]);
    free(train.x);
    free(train.y);
    return bench_done("bench_cpu_step");
}
