/* CUDA training step versus its cuBLAS floor, measured in the same run.
 *
 * For B in {100, 1000}, fp32 and TF32, and each variant (plain MLP, MLP+N+J with the hidden1
 * target, MLP+N+J with the output target, K = 1 and the exact norm by reverse mode) at
 * 784-1000-1000-10: the whole training step of one model (device gather and cuRAND noise,
 * forward, penalty, backward, fused update, step control) captured once in a CUDA graph and
 * replayed; then the very GEMMs of that step (logged during the capture) replayed alone from
 * their own graph: the floor (cuda_bench.h).
 * Each step is first validated against the CPU reference (cuda_bench.h: bench_validate).
 * Each round times every variant's step and floor in turn. Prints microseconds per step and the
 * floor's (median and quartiles of the rounds), TFLOP/s and their share of the peak of one large
 * SGEMM measured in the same run, and each variant's step over its floor and over the plain
 * step's, each ratio taken within a round (median and quartiles of those ratios).
 * Many models in lock-step: bench_cuda_sweep.
 *
 * usage: bench_cuda_step [--small] [--hidden 1000,1000] [--reps 200]
 * --small (a preset, replacing the options before it): 64-16-16-10, B = 10, 3 replays, a
 * 64 x 64 peak GEMM: for the CPU emulation of CUDA, as bench_cuda_sweep's. */
#include "cuda_bench.h"

typedef struct {
    int hidden[JN_MAX_LAYERS], n_hidden, inputs, batches[2], n_batches, reps, peak_n;
} options;

#define USAGE "usage: bench_cuda_step [--small] [--hidden W1,W2,...] [--reps N in [1, 100000]]\n"
static const char help[] =
    USAGE "\n"
    "Times the CUDA training step at 784-W1-W2-...-10, B = 100 and 1000, fp32 and TF32, for plain\n"
    "training and MLP+N+J (lambda 0.1, s_J 0.3) with the hidden1 target, the output target with\n"
    "K = 1 and the exact output norm: the step as training runs it (one replayed CUDA graph) and\n"
    "its GEMMs alone from their own graph (the cuBLAS floor), every variant in each of 5 rounds of\n"
    "the same run (median and quartiles), with TFLOP/s against a large square SGEMM's measured\n"
    "peak and each step over its floor and over the plain step's, round by round (median and\n"
    "quartiles of those ratios). Each step is first validated against the CPU reference's on\n"
    "the same batch and noise, or it exits 1: in fp32 within 1e-4 (jacnoise check's default), in\n"
    "TF32 within its GEMM chain's bound, derived from the mantissa for each shape (check's default\n"
    "adds a term for saturated tanh units, measured at its first step).\n\n"
    "  --hidden W1,W2,...  hidden widths (default 1000,1000)\n"
    "  --reps N            graph replays per measurement (default 200)\n"
    BENCH_SMALL_HELP("3 replays");

/* One option of the command line (bench_cuda_parse): 0 where taken. */
static int take(void *opts, const char *option, const char *value)
{
    options *o = opts;
    long v;
    int n;
    if (!strcmp(option, "--reps") && !bench_long(value, 1, 100000, &v))
        o->reps = (int)v;
    else if (!strcmp(option, "--hidden") && (n = bench_int_list(value, o->hidden, 1, JN_MAX_LAYERS - 1)))
        o->n_hidden = n;
    else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (bench_help(argc, argv, help))
        return 0;
    options o = {{1000, 1000}, 2, 784, {100, 1000}, 2, 200, 8192};
    const options small = {{16, 16}, 2, 64, {10}, 1, 3, 64};
    const int refused = bench_cuda_parse(argc, argv, USAGE, &o, &small, sizeof o, take);
    if (refused)
        return refused;
    /* The layer sizes are options too: refused (exit 2) before a device is looked for. */
    jn_model m;
    if (jn_model_make(&m, o.inputs, o.hidden, o.n_hidden, 10)) {
        fprintf(stderr, "bench_cuda_step: %s\n", jn_last_error());
        return 2;
    }
    if (jn_cuda_device_count() == 0) {
        fprintf(stderr, "bench_cuda_step: no CUDA device visible\n");
        return 1;
    }
    char shape[128];
    jn_model_describe(&m, shape, sizeof shape);
    struct cudaDeviceProp prop;
    BENCH_CUDA(cudaGetDeviceProperties(&prop, 0));
    printf("CUDA step vs cuBLAS floor: %s on %s, %d replays per measurement, %d rounds (median, quartiles)\n", shape,
           prop.name, o.reps, BENCH_ROUNDS);
    double peak[2];  /* GFLOP/s of one large SGEMM, fp32 and TF32 */
    for (int tf32 = 0; tf32 <= 1; tf32++) {
        jn_cuda_ctx ctx;
        BENCH_OR_DIE(jn_cuda_ctx_open(&ctx, tf32));
        peak[tf32] = bench_peak(&ctx, o.peak_n);
        jn_cuda_ctx_close(&ctx);
    }
    printf("measured peak (square cublasSgemm up to %d, same run): %.0f GFLOP/s fp32, %.0f TF32\n", o.peak_n, peak[0],
           peak[1]);
    printf("%-6s %-5s %-16s %10s %13s %10s %13s %9s %8s %18s %18s\n", "B", "prec", "variant", "us/step", "q1-q3",
           "floor us", "q1-q3", "TFLOP/s", "of peak", "vs floor (q1-q3)", "vs plain (q1-q3)");
    const jn_objective base = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    enum { VARIANTS = 4 };
    jn_objective vars[VARIANTS] = {base, base, base, base};
    const char *names[VARIANTS] = {"plain", "N+J hidden1", "N+J output K=1", "N+J output exact"};
    vars[1].jac_lambda = vars[2].jac_lambda = vars[3].jac_lambda = 0.1;
    vars[1].jac_noise = vars[2].jac_noise = vars[3].jac_noise = 0.3;
    vars[2].target = vars[3].target = JN_TARGET_OUTPUT;
    vars[3].jac_proj = JN_PROJ_EXACT;
    bench_worst worst[2] = {{0, 0}, {0, 0}};  /* against the CPU reference, fp32 and TF32 */
    for (int bi = 0; bi < o.n_batches; bi++) {
        const int B = o.batches[bi];
        jn_dataset train = bench_synthetic_set(B * (STEPS_PER_CHUNK + 1), o.inputs, 10);
        for (int tf32 = 0; tf32 <= 1; tf32++) {
            jn_cuda_ctx ctx;
            BENCH_OR_DIE(jn_cuda_ctx_open(&ctx, tf32));
            /* Every variant in each round, its ratio to plain (the first) taken round by round. */
            static bench_run runs[VARIANTS];
            char rows[VARIANTS][64];
            /* Each step validated as it opens: a wrong one exits before anything is timed. */
            for (int v = 0; v < VARIANTS; v++) {
                snprintf(rows[v], sizeof rows[v], "B = %d, %s, %s", B, tf32 ? "tf32" : "fp32", names[v]);
                bench_open(&runs[v], &ctx, &m, &vars[v], &train, B, 1, o.reps);
                bench_check_cpu(rows[v], tf32, runs[v].res.vs_cpu, jn_step_tolerance(&m, &vars[v], B, tf32, NULL),
                                worst);
            }
            jn_timing vs_plain[VARIANTS];
            bench_rounds(runs, VARIANTS, vs_plain);
            for (int v = 0; v < VARIANTS; v++) {
                bench_result r = bench_close(&runs[v]);
                bench_check_stopped(rows[v], r.stopped, 1);
                const double gflops = r.gflop / r.step_us.median * 1e6;
                char step_m[32], step_q[32], floor_m[32], floor_q[32], vs_floor[48], vs_q[48];
                bench_format(r.step_us, 1, step_m, step_q, sizeof step_q);
                bench_format(r.floor_us, 1, floor_m, floor_q, sizeof floor_q);
                bench_format_ratio(r.step_vs_floor, 1, vs_floor, sizeof vs_floor);
                bench_format_ratio(vs_plain[v], 1, vs_q, sizeof vs_q);
                const double tflops = gflops * 1e-3, share = 100 * gflops / peak[tf32];
                printf("%-6d %-5s %-16s %10s %13s %10s %13s %9.*f %7.*f%% %18s %18s\n", B, tf32 ? "tf32" : "fp32",
                       names[v], step_m, step_q, floor_m, floor_q, bench_decimals(tflops), tflops,
                       bench_decimals(share), share, vs_floor, vs_q);
                fflush(stdout);
            }
            jn_cuda_ctx_close(&ctx);
        }
        free(train.x);
        free(train.y);
    }
    bench_print_validated(worst);
    return bench_done("bench_cuda_step");
}
