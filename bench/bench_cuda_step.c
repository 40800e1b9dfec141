/* CUDA training step versus its cuBLAS floor, measured in the same run.
 *
 * For B in {100, 1000}, fp32 and TF32, and each variant (plain MLP, MLP+N+J with the hidden1
 * target, MLP+N+J with the output target and K = 1) at 784-1000-1000-10: the whole training
 * step (device gather and cuRAND noise, forward, penalty, backward, fused update, step
 * control) captured once in a CUDA graph and replayed; then the very GEMMs of that step
 * (logged during the capture) replayed alone from their own graph: the floor. Prints
 * microseconds per step, TFLOP/s, the ratio to the floor and the N+J / plain ratio.
 *
 * usage: bench_cuda_step [--hidden 1000,1000] [--reps 200] */
#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/workspace.h"
#include "jacnoise/backend.h"
#include "jacnoise/cuda.h"
#include "jacnoise/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS_PER_CHUNK 20  /* the step control is reset after this many steps, as the trainer's chunks do */

static void die(void)
{
    fprintf(stderr, "bench_cuda_step: %s\n", jn_last_error());
    exit(1);
}

#define OR_DIE(call) \
    do {             \
        if (call)    \
            die();   \
    } while (0)

/* Microseconds per replay of `graph`, `reps` replays, resetting the step control (when
 * given) from a device copy of its start every STEPS_PER_CHUNK steps, as the trainer does
 * per chunk (device to device: no host synchronisation). */
static double time_graph(jn_cuda_ctx *ctx, cudaGraphExec_t graph, int reps, jn_step_ctl *ctl, const jn_step_ctl *start)
{
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (int w = 0; w < 5; w++) {
        if (ctl && w == 0)
            cudaMemcpyAsync(ctl, start, sizeof *start, cudaMemcpyDeviceToDevice, ctx->stream);
        cudaGraphLaunch(graph, ctx->stream);
    }
    cudaEventRecord(a, ctx->stream);
    for (int r = 0; r < reps; r++) {
        if (ctl && r % STEPS_PER_CHUNK == 0)
            cudaMemcpyAsync(ctl, start, sizeof *start, cudaMemcpyDeviceToDevice, ctx->stream);
        cudaGraphLaunch(graph, ctx->stream);
    }
    cudaEventRecord(b, ctx->stream);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return 1000.0 * ms / reps;
}

typedef struct {
    double step_us, floor_us, gflop;
} result;

static result run_variant(jn_cuda_ctx *ctx, const jn_model *m, const jn_objective *obj, const jn_dataset *train,
                          int B, int reps)
{
    jn_cuda_ws *ws = jn_cuda_ws_new(ctx, m, obj, B, 1);
    if (!ws)
        die();
    jn_cuda_step_inputs in;
    OR_DIE(jn_cuda_step_inputs_alloc(&in, m, obj, train, B, 0));
    OR_DIE(jn_cuda_step_inputs_shuffle(&in, ctx->stream, 1, 0));
    const size_t P = m->n_params;
    float *params, *grad, *velocity;
    jn_step_ctl *ctl, *start;
    jn_step_sums *sums;
    if (cudaMalloc((void **)&params, P * 4) || cudaMalloc((void **)&grad, P * 4) || cudaMalloc((void **)&velocity, P * 4) ||
        cudaMalloc((void **)&ctl, sizeof *ctl) || cudaMalloc((void **)&start, sizeof *start) ||
        cudaMalloc((void **)&sums, STEPS_PER_CHUNK * sizeof *sums)) {
        fprintf(stderr, "bench_cuda_step: out of GPU memory\n");
        exit(1);
    }
    float *host = malloc(P * 4);
    jn_model_init_params(m, 1, host);
    cudaMemcpy(params, host, P * 4, cudaMemcpyHostToDevice);
    cudaMemset(velocity, 0, P * 4);
    free(host);
    /* A tiny learning rate keeps the parameters where they are over many replays. */
    const jn_hparams hp = {1e-6f, 0.9f, (float)obj->weight_decay, (float)obj->input_noise, (float)obj->jac_noise,
                           (float)obj->jac_lambda};
    OR_DIE(jn_cuda_ws_set_hparams(ws, &hp));
    const jn_step_ctl origin = {0, 0, 0, 0, 0};
    cudaMemcpy(start, &origin, sizeof origin, cudaMemcpyHostToDevice);
    cudaMemcpy(ctl, &origin, sizeof origin, cudaMemcpyHostToDevice);

    jn_gemm_log log = {0};
    cudaGraph_t g;
    cudaGraphExec_t step_graph, floor_graph;
    jn_cuda_ws_log_gemms(ws, &log);
    cudaStreamBeginCapture(ctx->stream, cudaStreamCaptureModeThreadLocal);
    int rc = jn_cuda_train_step(ws, &in, 1, B, B, params, grad, velocity, sums, ctl);
    cudaStreamEndCapture(ctx->stream, &g);
    jn_cuda_ws_log_gemms(ws, NULL);
    if (rc || cudaGraphInstantiate(&step_graph, g, 0) != cudaSuccess)
        die();
    cudaGraphDestroy(g);

    /* The floor: the same GEMM shapes on scratch operands, in one graph. */
    size_t big = 0;
    result res = {0, 0, 0};
    for (int i = 0; i < log.count; i++) {
        const jn_gemm_call *c = &log.calls[i];
        size_t sizes[3] = {(size_t)c->rows * c->n_in, (size_t)c->rows * c->n_out, (size_t)c->n_out * c->n_in};
        for (int k = 0; k < 3; k++)
            big = sizes[k] > big ? sizes[k] : big;
        res.gflop += jn_gemm_flops(c) * 1e-9;
    }
    float *sa, *sb, *sc;
    if (cudaMalloc((void **)&sa, big * 4) || cudaMalloc((void **)&sb, big * 4) || cudaMalloc((void **)&sc, big * 4)) {
        fprintf(stderr, "bench_cuda_step: out of GPU memory\n");
        exit(1);
    }
    cudaMemset(sa, 0, big * 4);
    cudaMemset(sb, 0, big * 4);
    cudaMemset(sc, 0, big * 4);
    jn_cuda_gemm replay = {ctx->blas, NULL};
    cudaStreamBeginCapture(ctx->stream, cudaStreamCaptureModeThreadLocal);
    for (int i = 0; i < log.count && rc == 0; i++)
        rc = jn_cuda_gemm_run(&replay, &log.calls[i], sa, big, sb, big, sc, big);
    cudaStreamEndCapture(ctx->stream, &g);
    if (rc || cudaGraphInstantiate(&floor_graph, g, 0) != cudaSuccess)
        die();
    cudaGraphDestroy(g);

    /* Interleave the two measurements, best of three each: the machine is shared. */
    res.step_us = res.floor_us = 1e30;
    for (int round = 0; round < 3; round++) {
        double s = time_graph(ctx, step_graph, reps, ctl, start), f = time_graph(ctx, floor_graph, reps, NULL, NULL);
        res.step_us = s < res.step_us ? s : res.step_us;
        res.floor_us = f < res.floor_us ? f : res.floor_us;
    }
    cudaError_t e = cudaStreamSynchronize(ctx->stream);
    if (e != cudaSuccess) {
        fprintf(stderr, "bench_cuda_step: %s\n", cudaGetErrorString(e));
        exit(1);
    }
    cudaGraphExecDestroy(step_graph);
    cudaGraphExecDestroy(floor_graph);
    jn_gemm_log_free(&log);
    void *dev[] = {params, grad, velocity, ctl, start, sums, sa, sb, sc};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
        cudaFree(dev[i]);
    jn_cuda_step_inputs_free(&in);
    jn_cuda_ws_free(ws);
    return res;
}

int main(int argc, char **argv)
{
    int hidden[JN_MAX_LAYERS] = {1000, 1000}, n_hidden = 2, reps = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--hidden")) {
            n_hidden = 0;
            for (char *p = argv[i + 1]; *p && n_hidden < JN_MAX_LAYERS - 1; p += *p == ',')
                hidden[n_hidden++] = (int)strtol(p, &p, 10);
        } else {
            fprintf(stderr, "usage: %s [--hidden W1,W2] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (jn_cuda_device_count() == 0) {
        fprintf(stderr, "bench_cuda_step: no CUDA device visible\n");
        return 1;
    }
    jn_model m;
    if (reps < 1 || jn_model_make(&m, 784, hidden, n_hidden, 10)) {
        fprintf(stderr, "bench_cuda_step: bad --hidden or --reps\n");
        return 2;
    }
    char shape[128];
    jn_model_describe(&m, shape, sizeof shape);
    struct cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    printf("CUDA step vs cuBLAS floor: %s on %s, %d replays per measurement (best of 3)\n", shape, prop.name, reps);
    printf("%-6s %-5s %-16s %10s %10s %8s %9s %9s\n", "B", "prec", "variant", "us/step", "floor us", "ratio",
           "TFLOP/s", "vs plain");
    const jn_objective base = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    jn_objective vars[3] = {base, base, base};
    const char *names[3] = {"plain", "N+J hidden1", "N+J output K=1"};
    vars[1].jac_lambda = vars[2].jac_lambda = 0.1;
    vars[1].jac_noise = vars[2].jac_noise = 0.3;
    vars[2].target = JN_TARGET_OUTPUT;
    const int batches[2] = {100, 1000};
    for (int bi = 0; bi < 2; bi++) {
        const int B = batches[bi];
        /* Synthetic bytes (k/255), enough rows for STEPS_PER_CHUNK batches: the resident-bytes path. */
        jn_dataset train = {.n = B * (STEPS_PER_CHUNK + 1), .d = 784, .classes = 10};
        train.x = malloc(sizeof(float) * (size_t)train.n * train.d);
        train.y = malloc(sizeof(int32_t) * (size_t)train.n);
        for (size_t k = 0; k < (size_t)train.n * train.d; k++)
            train.x[k] = (float)((k * 2654435761u) >> 24 & 255) / 255.0f;
        for (int i = 0; i < train.n; i++)
            train.y[i] = i % 10;
        for (int tf32 = 0; tf32 <= 1; tf32++) {
            jn_cuda_ctx ctx;
            OR_DIE(jn_cuda_ctx_open(&ctx, tf32));
            double plain_us = 0;
            for (int v = 0; v < 3; v++) {
                result r = run_variant(&ctx, &m, &vars[v], &train, B, reps);
                if (v == 0)
                    plain_us = r.step_us;
                printf("%-6d %-5s %-16s %10.1f %10.1f %7.2fx %9.2f %8.2fx\n", B, tf32 ? "tf32" : "fp32", names[v],
                       r.step_us, r.floor_us, r.step_us / r.floor_us, r.gflop / r.step_us * 1e-3, r.step_us / plain_us);
                fflush(stdout);
            }
            jn_cuda_ctx_close(&ctx);
        }
        free(train.x);
        free(train.y);
    }
    return 0;
}
