/* CPU training step versus its GEMM floor.
 *
 * For each variant (plain MLP, MLP+N+J with the hidden1 target, MLP+N+J with the output
 * target and K = 1) it times the whole step (forward, penalty, backward, update) and, in the
 * same run and interleaved with it, the step's own GEMMs replayed alone through CBLAS (the
 * shapes are logged from a real step). The ratio step / floor is what the engine adds on
 * top of the BLAS. Medians over the repetitions.
 *
 * usage: bench_cpu_step [--hidden 1000,1000] [--batch 100] [--reps 20] [--threads N] */
#include "cpu/gemm.h"
#include "cpu/workspace.h"
#include "jacnoise/backend.h"
#include "jacnoise/cpu.h"
#include "jacnoise/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
    const char *name;
    jn_objective obj;
} variant;

static void run_variant(const variant *var, const jn_model *m, int B, int reps)
{
    jn_cpu_ws *ws = jn_cpu_ws_new(m, &var->obj, B);
    jn_cpu_step_inputs in;
    if (!ws || jn_cpu_step_inputs_alloc(&in, m, &var->obj, B)) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    const size_t P = m->n_params, d = (size_t)m->sizes[0];
    jn_real *params = malloc(sizeof(jn_real) * P), *grad = malloc(sizeof(jn_real) * P),
            *vel = calloc(P, sizeof(jn_real));
    jn_model_init_params(m, 1, params);
    jn_rng_uniform(1, JN_STREAM_EVAL_NOISE, 0, in.x, (size_t)B * d, 0.5);
    for (size_t k = 0; k < (size_t)B * d; k++)
        in.x[k] += 0.5;
    for (int i = 0; i < B; i++)
        in.y[i] = i % m->sizes[m->n_layers];
    jn_noise_sizes ns = jn_objective_noise_sizes(&var->obj, m, B);
    double t0 = now();
    jn_rng_normal(1, JN_STREAM_INPUT_NOISE, 0, in.xi, ns.xi);
    jn_rng_normal(1, JN_STREAM_JAC_NOISE, 0, in.eps, ns.eps);
    jn_rng_normal(1, JN_STREAM_TANGENT, 0, in.v, ns.v);
    double noise_us = 1e6 * (now() - t0);
    const jn_batch batch = {in.x, in.y, B};
    const jn_noise noise = {ns.xi ? in.xi : NULL, ns.eps ? in.eps : NULL, ns.v ? in.v : NULL};
    jn_step_terms terms;

    /* Log one step's GEMM shapes, and size scratch operands for replaying them. */
    jn_gemm_log log = {0};
    jn_cpu_ws_log_gemms(ws, &log);
    jn_cpu_step(ws, params, &batch, &noise, &terms, grad);
    jn_cpu_ws_log_gemms(ws, NULL);
    size_t big = 0;
    double flops = 0;
    for (int i = 0; i < log.count; i++) {
        const jn_gemm_call *c = &log.calls[i];
        size_t sizes[3] = {(size_t)c->rows * c->n_in, (size_t)c->rows * c->n_out, (size_t)c->n_out * c->n_in};
        for (int k = 0; k < 3; k++)
            big = sizes[k] > big ? sizes[k] : big;
        flops += jn_gemm_flops(c);
    }
    jn_real *sa = calloc(big, sizeof(jn_real)), *sb = calloc(big, sizeof(jn_real)), *sc = calloc(big, sizeof(jn_real));

    double *step_t = malloc(sizeof(double) * reps), *floor_t = malloc(sizeof(double) * reps);
    for (int w = 0; w < 3; w++)
        jn_cpu_step(ws, params, &batch, &noise, &terms, grad);
    for (int r = 0; r < reps; r++) {
        double a = now();
        jn_cpu_step(ws, params, &batch, &noise, &terms, grad);
        jn_cpu_sgd_update(m, params, grad, vel, 1e-6, 0.9, 0.0);
        double b = now();
        for (int i = 0; i < log.count; i++)
            jn_gemm_replay(&log.calls[i], sa, sb, sc);
        double c = now();
        step_t[r] = b - a;
        floor_t[r] = c - b;
    }
    double step_us = 1e6 * median(step_t, reps), floor_us = 1e6 * median(floor_t, reps);
    printf("%-22s %10.0f %8.3f %9.1f %10.0f %9.1f %7.2fx %8d %10.0f\n", var->name, step_us, flops * 1e-9,
           flops / step_us * 1e-3, floor_us, flops / floor_us * 1e-3, step_us / floor_us, log.count, noise_us);
    fflush(stdout);
    jn_gemm_log_free(&log);
    free(sa);
    free(sb);
    free(sc);
    free(step_t);
    free(floor_t);
    free(params);
    free(grad);
    free(vel);
    jn_cpu_step_inputs_free(&in);
    jn_cpu_ws_free(ws);
}

int main(int argc, char **argv)
{
    int hidden[JN_MAX_LAYERS] = {1000, 1000}, n_hidden = 2, B = 100, reps = 20, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--batch"))
            B = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--hidden")) {
            n_hidden = 0;
            for (char *p = argv[i + 1]; *p && n_hidden < JN_MAX_LAYERS - 1; p += *p == ',')
                hidden[n_hidden++] = (int)strtol(p, &p, 10);
        } else {
            fprintf(stderr, "usage: %s [--hidden W1,W2] [--batch B] [--reps N] [--threads N]\n", argv[0]);
            return 2;
        }
    }
    if (B < 1 || reps < 1) {
        fprintf(stderr, "bench: --batch and --reps must be positive\n");
        return 2;
    }
    jn_model m;
    if (jn_model_make(&m, 784, hidden, n_hidden, 10)) {
        fprintf(stderr, "bench: bad --hidden\n");
        return 2;
    }
    jn_cpu_set_threads(threads);
    char shape[128];
    jn_model_describe(&m, shape, sizeof shape);
    printf("CPU step vs GEMM floor: %s, B = %d, %s, %d reps (median), BLAS: %s\n", shape, B, JN_REAL_NAME, reps,
           jn_cpu_blas_info());
    printf("%-22s %10s %8s %9s %10s %9s %8s %8s %10s\n", "variant", "us/step", "GFLOP", "GFLOP/s", "floor us",
           "floor GF/s", "ratio", "GEMMs", "noise us");
    const jn_objective base = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    variant vars[3] = {{"plain", base}, {"N+J hidden1", base}, {"N+J output K=1", base}};
    vars[1].obj.jac_lambda = vars[2].obj.jac_lambda = 0.1;
    vars[1].obj.jac_noise = vars[2].obj.jac_noise = 0.3;
    vars[2].obj.target = JN_TARGET_OUTPUT;
    for (int v = 0; v < 3; v++)
        run_variant(&vars[v], &m, B, reps);
    return 0;
}
