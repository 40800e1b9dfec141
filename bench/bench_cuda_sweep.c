/* Many models per GPU: M lock-step models of one shape (a sweep's group), microseconds per
 * model-step against the GEMM-only floor, measured in the same run (cuda_bench.h: the step
 * graph of all M models replayed, then its strided-batched GEMMs alone from their own graph).
 *
 * Default: 784-1000-1000-10, B = 100, MLP+N+J with the output target and K = 1 (lambda 0.1,
 * penalty noise 0.3), M = 1, 64 and 256, fp32 and TF32, each model with its own seed,
 * parameters and permutation; achieved GFLOP/s (the cost model's FLOPs, as jacnoise profile
 * counts them) against the peak of one large SGEMM measured in the same run. All the groups
 * are open at once and each round times every one, so that each group's time per model-step
 * over the first group's, as its step over its floor, is a ratio taken within a round (median
 * and quartiles of those ratios).
 * Then the device memory: what a CUDA backend of M slots allocates
 * (jn_cuda_backend_bytes) against what the GPU reports once it is created, per model against
 * the bound (the data set once, at most 4x the parameter bytes per model where the permutation
 * is small beside them, plus activations),
 * and the largest M that fits in the GPU's memory for 784-1000-1000-10, B = 100 on MNIST's
 * 50,000 training examples.
 *
 * Each group's step is first validated against the CPU reference (cuda_bench.h: bench_validate).
 *
 * usage: bench_cuda_sweep [--small] [--hidden 1000,1000] [--inputs 784] [--batch 100]
 *                         [--models 1,64,256] [--reps 50]
 * --small (a preset, replacing the options before it): 64-16-16-10, B = 10, M = 1, 4, 3 replays, a
 * 64 x 64 peak GEMM: for the CPU emulation of CUDA. */
#include "cuda_bench.h"
#include "jacnoise/backend.h"

#include <string.h>

#define MAX_LIST 16
#define MNIST_TRAIN 50000

typedef struct {
    int hidden[JN_MAX_LAYERS], n_hidden, inputs, batch, models[MAX_LIST], n_models, reps, peak_n;
} options;

/* --inputs up to the engine's widest layer: one wider was refused by the engine, as "model: input
 * dimension ...", without the option's name. */
#define USAGE "usage: bench_cuda_sweep [--small] [--hidden W1,W2,...] [--inputs D in [1, 1000000]] " \
              "[--batch B in [1, 65536]] [--models M1,M2,...] [--reps N in [1, 100000]]\n"
_Static_assert(JN_MAX_WIDTH == 1000000, "USAGE's largest --inputs");
static const char help[] =
    USAGE "\n"
    "Times M lock-step models of one shape (a sweep's group), MLP+N+J with the output target and\n"
    "K = 1 (lambda 0.1, s_J 0.3), fp32 and TF32: us per step and per model-step, the step's\n"
    "strided-batched GEMMs alone from their own graph (the floor), GFLOP/s against a large square\n"
    "SGEMM's measured peak, all in the same run; then the device memory by M, accounted and as\n"
    "the GPU reports it. Times: median and quartiles of 5 rounds, each round timing every group\n"
    "(all open at once: their memory adds up), step then floor; the step over its floor and the\n"
    "time per model-step over the first M's, each ratio taken within a round (median and\n"
    "quartiles of those ratios, so that a change of load between rounds cancels).\n"
    "Each step is first validated against the CPU reference's on the same batch and noise\n"
    "(model 0), or it exits 1: in fp32 within 1e-4 (jacnoise check's default), in TF32 within\n"
    "its GEMM chain's bound, derived from the mantissa for the shape (check's default adds a term\n"
    "for saturated tanh units, measured at its first step).\n\n"
    "  --hidden W1,W2,...  hidden widths (default 1000,1000)\n"
    "  --inputs D          input dimension (default 784)\n"
    "  --batch B           batch size (default 100)\n"
    "  --models M1,...     group sizes M (default 1,64,256; at most 16 of them)\n"
    "  --reps N            graph replays per measurement (default 50)\n"
    BENCH_SMALL_HELP("M = 1 and 4, 3 replays");

/* One option of the command line (bench_cuda_parse): 0 where taken. */
static int take(void *opts, const char *option, const char *value)
{
    options *o = opts;
    long v = 0;
    int n;
    if (!strcmp(option, "--hidden") && (n = bench_int_list(value, o->hidden, 1, JN_MAX_LAYERS - 1)))
        o->n_hidden = n;
    else if (!strcmp(option, "--models") && (n = bench_int_list(value, o->models, 1, MAX_LIST)))
        o->n_models = n;
    else if (!strcmp(option, "--inputs") && !bench_long(value, 1, JN_MAX_WIDTH, &v))
        o->inputs = (int)v;
    else if (!strcmp(option, "--batch") && !bench_long(value, 1, 65536, &v))
        o->batch = (int)v;
    else if (!strcmp(option, "--reps") && !bench_long(value, 1, 100000, &v))
        o->reps = (int)v;
    else
        return -1;
    return 0;
}

/* 0, or the exit status 2 after refusing an argument (bench_refuse). */
static int parse(int argc, char **argv, options *o)
{
    *o = (options){{1000, 1000}, 2, 784, 100, {1, 64, 256}, 3, 50, 8192};
    const options small = {{16, 16}, 2, 64, 10, {1, 4}, 2, 3, 64};
    return bench_cuda_parse(argc, argv, USAGE, o, &small, sizeof *o, take);
}

static double mb(double bytes) { return bytes / 1e6; }

/* The device memory of a backend of each M: accounted, and as the GPU sees it. */
static void memory_table(const jn_model *m, const jn_objective *obj, const jn_dataset *train, const options *o)
{
    const double param_bytes = sizeof(float) * (double)m->n_params;
    printf("\ndevice memory of a CUDA backend (MB):\n");
    printf("%6s %10s %10s %12s %10s %12s %14s %10s\n", "M", "total", "shared", "state/model", "x params",
           "activations", "measured total", "vs total");
    for (int i = 0; i < o->n_models; i++) {
        const jn_backend_setup setup = {o->batch, o->models[i], 0, 0, 1};
        const jn_cuda_memory b = jn_cuda_backend_bytes(m, obj, &setup, train);
        const double total = (double)b.shared + b.state + b.activations, state = (double)b.state / setup.models;
        size_t free_before = 0, free_after = 0, total_mem = 0;
        BENCH_CUDA(cudaMemGetInfo(&free_before, &total_mem));
        jn_backend *be = jn_backend_create(JN_DEVICE_CUDA, m, obj, &setup, train);
        if (!be)
            bench_die("creating the backend");
        BENCH_CUDA(cudaMemGetInfo(&free_after, &total_mem));
        be->ops->destroy(be);
        const double measured = (double)free_before - (double)free_after;
        printf("%6d %10.1f %10.1f %12.2f %9.2fx %12.1f %14.1f %9.3fx\n", setup.models, mb(total), mb(b.shared),
               mb(state), state / param_bytes, mb(b.activations), mb(measured), measured / total);
    }
    printf("shared: the training set and the shuffle's scratch, cuBLAS's workspace. state per model: parameters,\n"
           "velocity, gradient (3x the parameter bytes), its permutation, control and a chunk's sums; the bound is\n"
           "4x where the permutation (4 bytes a training example) is small beside the parameters, as for\n"
           "784-1000-1000-10 on MNIST, not for a small model. activations: the training and evaluation\n"
           "workspaces, batches and noise of all the models (the evaluation batch is split among them). The\n"
           "measured total also holds the CUDA context's own allocations on a GPU.\n");
}

/* The largest M whose backend fits in the GPU's memory (gpu_bytes) for the problem. */
static void largest_m(double gpu_bytes)
{
    const int hidden[2] = {1000, 1000};
    jn_model m;
    if (jn_model_make(&m, 784, hidden, 2, 10))
        bench_die("model");
    jn_objective obj = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1, .jac_lambda = 0.1, .jac_noise = 0.3,
                        .target = JN_TARGET_OUTPUT};
    jn_dataset mnist = bench_synthetic_set(MNIST_TRAIN, 784, 10);
    jn_backend_setup setup = {100, 1, 0, 0, 1};
    long lo = 1, hi = 1 << 20;
    while (lo < hi) {
        setup.models = (int)((lo + hi + 1) / 2);
        if (jn_cuda_backend_memory(&m, &obj, &setup, &mnist) <= gpu_bytes)
            lo = setup.models;
        else
            hi = setup.models - 1;
    }
    setup.models = (int)lo;
    const jn_cuda_memory b = jn_cuda_backend_bytes(&m, &obj, &setup, &mnist);
    printf("\nlargest M in the GPU's %.1f GB (10^9 bytes) for 784-1000-1000-10, B = 100, N+J output K=1, %d "
           "training examples: %ld (total %.1f GB: shared %.1f MB, state %.2f MB and activations %.2f MB per model; the default --models\n"
           "keeps 10%% of the free memory for the CUDA context and the evaluation sets, and stops at 4096)\n",
           gpu_bytes / 1e9, MNIST_TRAIN, lo, ((double)b.shared + b.state + b.activations) / 1e9, mb(b.shared),
           mb((double)b.state / lo), mb((double)b.activations / lo));
    free(mnist.x);
    free(mnist.y);
}

int main(int argc, char **argv)
{
    if (bench_help(argc, argv, help))
        return 0;
    options o;
    const int refused = parse(argc, argv, &o);
    if (refused)
        return refused;
    /* The layer sizes are options too: refused (exit 2) before a device is looked for. */
    jn_model m;
    if (jn_model_make(&m, o.inputs, o.hidden, o.n_hidden, 10)) {
        fprintf(stderr, "bench_cuda_sweep: %s\n", jn_last_error());
        return 2;
    }
    if (jn_cuda_device_count() == 0) {
        fprintf(stderr, "bench_cuda_sweep: no CUDA device visible\n");
        return 1;
    }
    jn_objective obj = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1, .jac_lambda = 0.1, .jac_noise = 0.3,
                        .target = JN_TARGET_OUTPUT};
    char shape[128];
    jn_model_describe(&m, shape, sizeof shape);
    struct cudaDeviceProp prop;
    BENCH_CUDA(cudaGetDeviceProperties(&prop, 0));
    printf("lock-step models vs the GEMM floor: %s, B = %d, MLP+N+J output K=1, on %s; %d replays per measurement, "
           "%d rounds (median, quartiles)\n", shape, o.batch, prop.name, o.reps, BENCH_ROUNDS);
    printf("%-5s %6s %12s %17s %14s %14s %17s %10s %8s %18s %20s\n", "prec", "M", "us/step", "q1-q3",
           "us/model-step", "floor/model", "q1-q3", "GFLOP/s", "of peak", "vs floor (q1-q3)", "vs M=first (q1-q3)");
    jn_dataset train = bench_synthetic_set(o.batch * (STEPS_PER_CHUNK + 1), o.inputs, 10);
    bench_worst worst[2] = {{0, 0}, {0, 0}};  /* against the CPU reference, fp32 and TF32 */
    for (int tf32 = 0; tf32 <= 1; tf32++) {
        jn_cuda_ctx ctx;
        BENCH_OR_DIE(jn_cuda_ctx_open(&ctx, tf32));
        const double peak = bench_peak(&ctx, o.peak_n);
        printf("%-5s measured peak: %.0f GFLOP/s (square cublasSgemm up to %d, same run)\n", tf32 ? "tf32" : "fp32", peak,
               o.peak_n);
        /* Every group open at once and timed in each round (their device memory adds up), so
         * that each one's time per model-step over the first group's is taken round by round. */
        static bench_run runs[MAX_LIST];
        char rows[MAX_LIST][64];
        /* Each group's step validated as it opens: a wrong one exits before anything is timed. */
        for (int i = 0; i < o.n_models; i++) {
            snprintf(rows[i], sizeof rows[i], "%s, M = %d", tf32 ? "tf32" : "fp32", o.models[i]);
            bench_open(&runs[i], &ctx, &m, &obj, &train, o.batch, o.models[i], o.reps);
            bench_check_cpu(rows[i], tf32, runs[i].res.vs_cpu, jn_step_tolerance(&m, &obj, o.batch, tf32, NULL), worst);
        }
        jn_timing vs_first[MAX_LIST];
        bench_rounds(runs, o.n_models, vs_first);
        for (int i = 0; i < o.n_models; i++) {
            const int M = o.models[i];
            bench_result r = bench_close(&runs[i]);
            bench_check_stopped(rows[i], r.stopped, M);
            const double step = r.step_us.median, per = step / M, gflops = r.gflop / step * 1e6;
            char step_m[32], step_q[32], floor_m[32], floor_q[32], vs_floor[48], vs_q[48];
            bench_format(r.step_us, 1, step_m, step_q, sizeof step_q);
            bench_format(r.floor_us, 1.0 / M, floor_m, floor_q, sizeof floor_q);
            bench_format_ratio(r.step_vs_floor, 1, vs_floor, sizeof vs_floor);
            /* Per model-step: the steps' ratio times the first group's M over this one's. */
            bench_format_ratio(vs_first[i], (double)o.models[0] / M, vs_q, sizeof vs_q);
            const double share = 100 * gflops / peak;
            printf("%-5s %6d %12s %17s %14.*f %14s %17s %10.*f %7.*f%% %18s %20s\n", tf32 ? "tf32" : "fp32", M,
                   step_m, step_q, bench_decimals(per), per, floor_m, floor_q, bench_decimals(gflops), gflops,
                   bench_decimals(share), share, vs_floor, vs_q);
            fflush(stdout);
        }
        jn_cuda_ctx_close(&ctx);
    }
    bench_print_validated(worst);
    printf("not measured by this benchmark: the references given with the targets (one H200, 784-1000-1000-10,\n"
           "B = 100, N+J output K=1, 64 models): JAX vmap 91.9 us per model-step fp32, 39.8 TF32; PyTorch\n"
           "torch.func.vmap 145 us; GEMM-only floor 67.8 fp32, 19.2 TF32. Targets: <= 75 us fp32 and <= 22 us\n"
           "TF32 at M = 64, M = 256 no slower per model-step.\n");
    memory_table(&m, &obj, &train, &o);
    largest_m((double)prop.totalGlobalMem);
    free(train.x);
    free(train.y);
    return bench_done("bench_cuda_sweep");
}
