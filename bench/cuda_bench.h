/* What the CUDA benchmarks share (bench_cuda_step, bench_cuda_sweep): the training step of M
 * lock-step models captured once in a CUDA graph and replayed, as the backend replays it; then
 * the very GEMMs of that step (logged during the capture, the same strided-batched calls over
 * the M models) replayed alone from their own graph on scratch operands: the floor the rest
 * of the step adds to. Both are timed in the same run, interleaved over BENCH_ROUNDS rounds:
 * their medians and quartiles (bench_stats.h), as the CPU benchmarks give, and those of the
 * step over its floor round by round. A header of
 * static functions, so that each benchmark stays one source file. */
#ifndef JACNOISE_BENCH_CUDA_BENCH_H
#define JACNOISE_BENCH_CUDA_BENCH_H

#include "bench_args.h"
#include "bench_stats.h"
#include "bench_vs_cpu.h"
#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/workspace.h"
#include "jacnoise/cpu.h"
#include "jacnoise/cuda.h"
#include "jacnoise/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS_PER_CHUNK 20  /* the step control restarts after this many steps, as the trainer's chunks do */
#define BENCH_ROUNDS 5      /* interleaved rounds of step and floor */

static void bench_die(const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", bench_prog, what, jn_last_error());
    exit(1);
}

/* A jacnoise call (0 or -1 with the error recorded), and a CUDA runtime call. */
#define BENCH_OR_DIE(call)     \
    do {                       \
        if (call)              \
            bench_die(#call);  \
    } while (0)
#define BENCH_CUDA(call)                                                                                     \
    do {                                                                                                     \
        cudaError_t e_ = (call);                                                                             \
        if (e_ != cudaSuccess) {                                                                             \
            fprintf(stderr, "%s: %s:%d: %s: %s\n", bench_prog, __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

/* --small's line of a CUDA benchmark's help: the preset it runs under the CUDA emulator. */
#define BENCH_SMALL_HELP(rest) \
    "  --small             a preset replacing the options before it: 64-16-16-10, B = 10,\n" \
    "                      " rest ", a 64 x 64 peak GEMM (for the CUDA emulator)\n"

/* A CUDA benchmark's command line into *o (size bytes, its defaults there): --small copies the
 * preset small over it, replacing the options before it; any other option and its value go to
 * take(o, option, value), 0 where it took them. 0, or the exit status 2 after refusing an
 * argument (bench_refuse, naming usage's options). */
static int bench_cuda_parse(int argc, char **argv, const char *usage, void *o, const void *small, size_t size,
                            int (*take)(void *o, const char *option, const char *value))
{
    bench_prog = bench_name(argv[0]);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--small")) {
            memcpy(o, small, size);
            continue;
        }
        if (!argv[i + 1] || take(o, argv[i], argv[i + 1]))
            return bench_refuse(usage, argv, i);
        i++;
    }
    return 0;
}

/* The peak of one large SGEMM in the context's math mode (jn_cuda_sgemm_peak), or one line
 * saying which call failed and exit 1 where it could not be measured (its operands' memory
 * taken by another process, say): every share of a peak of 0 would print as "inf%". */
static double bench_peak(jn_cuda_ctx *ctx, int max_n)
{
    const double peak = jn_cuda_sgemm_peak(ctx, max_n);
    if (!(peak > 0)) {
        fprintf(stderr, "%s: %s\n", bench_prog, jn_last_error());
        exit(1);
    }
    return peak;
}

/* n examples of d synthetic byte values (k/255: the resident-bytes path of MNIST), labels
 * i % classes. */
static jn_dataset bench_synthetic_set(int n, int d, int classes)
{
    jn_dataset set = {.name = "synthetic", .n = n, .d = d, .classes = classes};
    set.x = malloc(sizeof(float) * (size_t)n * d);
    set.y = malloc(sizeof(int32_t) * (size_t)n);
    if (!set.x || !set.y) {
        fprintf(stderr, "%s: out of memory for %d synthetic examples\n", bench_prog, n);
        exit(1);
    }
    for (size_t k = 0; k < (size_t)n * d; k++)
        set.x[k] = (float)((k * 2654435761u) >> 24 & 255) / 255.0f;
    for (int i = 0; i < n; i++)
        set.y[i] = i % classes;
    return set;
}

/* Microseconds per replay of `graph`, `reps` replays, restarting the step control (when
 * given) from a device copy of its start every STEPS_PER_CHUNK steps, as the trainer does per
 * chunk (device to device: no host synchronisation). */
static double bench_time_graph(jn_cuda_ctx *ctx, cudaGraphExec_t graph, int reps, jn_step_ctl *ctl,
                               const jn_step_ctl *start)
{
    cudaEvent_t a, b;
    BENCH_CUDA(cudaEventCreate(&a));
    BENCH_CUDA(cudaEventCreate(&b));
    for (int w = 0; w < 5; w++) {
        if (ctl && w == 0)
            BENCH_CUDA(cudaMemcpyAsync(ctl, start, sizeof *start, cudaMemcpyDeviceToDevice, ctx->stream));
        BENCH_CUDA(cudaGraphLaunch(graph, ctx->stream));
    }
    BENCH_CUDA(cudaEventRecord(a, ctx->stream));
    for (int r = 0; r < reps; r++) {
        if (ctl && r % STEPS_PER_CHUNK == 0)
            BENCH_CUDA(cudaMemcpyAsync(ctl, start, sizeof *start, cudaMemcpyDeviceToDevice, ctx->stream));
        BENCH_CUDA(cudaGraphLaunch(graph, ctx->stream));
    }
    BENCH_CUDA(cudaEventRecord(b, ctx->stream));
    BENCH_CUDA(cudaEventSynchronize(b));
    float ms = 0;
    BENCH_CUDA(cudaEventElapsedTime(&ms, a, b));
    BENCH_CUDA(cudaEventDestroy(a));
    BENCH_CUDA(cudaEventDestroy(b));
    return 1000.0 * ms / reps;
}

typedef struct {
    jn_timing step_us, floor_us;        /* per step of all the models, over the rounds */
    jn_timing step_vs_floor;            /* the step over its floor, round by round (jn_timing_ratio) */
    double gflop;                       /* per step of all the models, the cost model's (jn_step_flops) */
    int stopped;                        /* models that stopped on a non-finite step (bench_check_stopped) */
    double vs_cpu;                      /* model 0's first step against the CPU reference's (bench_validate) */
} bench_result;

/* The captured step against the CPU reference, as jacnoise check compares them: one replay
 * from the start, then model 0's batch and noise, as the GPU gathered and drew them, through
 * the CPU step and update from the same parameters (seed 1) and zero velocity. Returns
 * ||v_gpu - v_cpu|| / ||v_cpu|| of the velocities after that step (from zero, the gradient). */
static double bench_validate(jn_cuda_ctx *ctx, cudaGraphExec_t graph, const jn_model *m, const jn_objective *obj,
                             int B, const jn_cuda_step_inputs *in, const jn_cuda_slots *slots, const jn_step_ctl *start,
                             double lr, double momentum)
{
    const size_t P = m->n_params, d = (size_t)m->sizes[0];
    const jn_noise_sizes ns = jn_objective_noise_sizes(obj, m, B);
    BENCH_CUDA(cudaMemcpyAsync(slots->ctl, start, sizeof *start, cudaMemcpyDeviceToDevice, ctx->stream));
    BENCH_CUDA(cudaGraphLaunch(graph, ctx->stream));
    BENCH_CUDA(cudaStreamSynchronize(ctx->stream));
    jn_cpu_step_inputs host;
    jn_cpu_ws *ws = jn_cpu_ws_new(m, obj, B);
    if (!ws || jn_cpu_step_inputs_alloc(&host, m, obj, B))
        bench_die("the CPU reference's workspace");
    float *params = malloc(P * sizeof(float)), *grad = malloc(P * sizeof(float));
    float *velocity = calloc(P, sizeof(float)), *gpu = malloc(P * sizeof(float));
    if (!params || !grad || !velocity || !gpu) {
        fprintf(stderr, "%s: out of host memory\n", bench_prog);
        exit(1);
    }
    BENCH_CUDA(cudaMemcpy(host.x, in->x, (size_t)B * d * sizeof(float), cudaMemcpyDeviceToHost));
    BENCH_CUDA(cudaMemcpy(host.y, in->y, (size_t)B * sizeof(int32_t), cudaMemcpyDeviceToHost));
    if (ns.xi)
        BENCH_CUDA(cudaMemcpy(host.xi, in->xi, ns.xi * sizeof(float), cudaMemcpyDeviceToHost));
    if (ns.eps)
        BENCH_CUDA(cudaMemcpy(host.eps, in->eps, ns.eps * sizeof(float), cudaMemcpyDeviceToHost));
    if (ns.v)
        BENCH_CUDA(cudaMemcpy(host.v, in->v, ns.v * sizeof(float), cudaMemcpyDeviceToHost));
    BENCH_CUDA(cudaMemcpy(gpu, slots->velocity, P * sizeof(float), cudaMemcpyDeviceToHost));
    const jn_batch batch = {host.x, host.y, B};
    const jn_noise noise = {ns.xi ? host.xi : NULL, ns.eps ? host.eps : NULL, ns.v ? host.v : NULL};
    jn_step_terms terms;
    jn_model_init_params(m, 1, params);
    jn_cpu_step(ws, params, &batch, &noise, &terms, grad);
    jn_cpu_sgd_update(m, params, grad, velocity, lr, momentum, obj->weight_decay);
    double diff = 0, norm = 0;
    for (size_t i = 0; i < P; i++) {
        diff += ((double)gpu[i] - velocity[i]) * ((double)gpu[i] - velocity[i]);
        norm += (double)velocity[i] * velocity[i];
    }
    jn_cpu_ws_free(ws);
    jn_cpu_step_inputs_free(&host);
    free(params), free(grad), free(velocity), free(gpu);
    /* A NaN on either side is no match: it must not pass a threshold. */
    return norm > 0 && diff == diff ? sqrt(diff / norm) : INFINITY;
}

/* One step under timing (bench_open .. bench_close): its workspace, inputs and state, its
 * captured graph and its floor's, their samples so far, and its result. */
typedef struct {
    jn_cuda_ctx *ctx;
    int models, reps, rounds;
    jn_cuda_ws *ws;
    jn_cuda_step_inputs in;
    jn_cuda_slots slots;
    jn_step_ctl *start;
    jn_gemm_log log;
    cudaGraphExec_t step_graph, floor_graph;
    float *scratch[3];
    double step_us[BENCH_ROUNDS], floor_us[BENCH_ROUNDS];
    bench_result res;
} bench_run;

/* Makes *b the step of `models` lock-step models of m under obj, batches of B of `train` (at
 * least STEPS_PER_CHUNK + 1 batches), and its GEMM floor, `reps` replays a measurement, and
 * validates it (res.vs_cpu). Model k has its own seed, parameters and permutation, as in a
 * sweep. */
static void bench_open(bench_run *b, jn_cuda_ctx *ctx, const jn_model *m, const jn_objective *obj,
                       const jn_dataset *train, int B, int models, int reps)
{
    const size_t P = m->n_params, M = (size_t)models;
    memset(b, 0, sizeof *b);
    b->ctx = ctx, b->models = models, b->reps = reps;
    if (!(b->ws = jn_cuda_ws_new(ctx, m, obj, B, models)))
        bench_die("workspace");
    BENCH_OR_DIE(jn_cuda_step_inputs_alloc(&b->in, m, obj, train, B, models, 0));
    BENCH_OR_DIE(jn_cuda_slots_alloc(&b->slots, m, models, STEPS_PER_CHUNK));
    float *host = malloc(P * sizeof(float));
    jn_hparams *hp = malloc(M * sizeof *hp);
    jn_model_ctl *at = malloc(M * sizeof *at);
    if (!host || !hp || !at) {
        fprintf(stderr, "%s: out of host memory\n", bench_prog);
        exit(1);
    }
    for (int k = 0; k < models; k++) {
        jn_model_init_params(m, 1 + (uint64_t)k, host);
        BENCH_CUDA(cudaMemcpy(b->slots.params + k * P, host, P * sizeof(float), cudaMemcpyHostToDevice));
        BENCH_OR_DIE(jn_cuda_step_inputs_shuffle(&b->in, ctx->stream, k, 1 + (uint64_t)k, 0));
        /* A tiny learning rate keeps the parameters where they are over many replays. */
        hp[k] = (jn_hparams){1e-6f, 0.9f, (float)obj->weight_decay, (float)obj->input_noise, (float)obj->jac_noise,
                             (float)obj->jac_lambda};
        at[k] = (jn_model_ctl){1 + (uint64_t)k, 0, 1, -1};
    }
    BENCH_OR_DIE(jn_cuda_ws_set_hparams(b->ws, hp));
    BENCH_OR_DIE(jn_cuda_slots_begin(&b->slots, at, 0, ctx->stream));
    BENCH_CUDA(cudaMalloc((void **)&b->start, sizeof *b->start));
    BENCH_CUDA(cudaMemcpyAsync(b->start, b->slots.ctl, sizeof *b->start, cudaMemcpyDeviceToDevice, ctx->stream));
    BENCH_OR_DIE(jn_cuda_capture_train_step(b->ws, &b->in, &b->slots, B, B, &b->log, &b->step_graph));

    /* The step's FLOPs as the cost model counts them (jacnoise profile's): the GEMMs logged
     * also hold the output layer's primal rows of the stacked tangent pass, which no result
     * needs (5% more at --small's shape). */
    double phases[JN_PHASES];
    b->res.gflop = (double)models * jn_step_flops(m, obj, B, phases) * 1e-9;
    /* The floor: the same GEMM calls (shapes and batch count) on scratch operands, in one graph. */
    BENCH_OR_DIE(jn_cuda_capture_floor(&b->ws->gemm, ctx->stream, &b->log, 1, b->scratch, &b->floor_graph));
    b->res.vs_cpu = bench_validate(ctx, b->step_graph, m, obj, B, &b->in, &b->slots, b->start, hp[0].lr,
                                   hp[0].momentum);
    free(host);
    free(hp);
    free(at);
}

/* One round of *b: its step timed, then its floor (a round of every step open, each in turn,
 * has a change of load hit them alike). */
static void bench_round(bench_run *b)
{
    b->step_us[b->rounds] = bench_time_graph(b->ctx, b->step_graph, b->reps, b->slots.ctl, b->start);
    b->floor_us[b->rounds] = bench_time_graph(b->ctx, b->floor_graph, b->reps, NULL, NULL);
    b->rounds++;
}

/* b[0 .. n - 1], open, through BENCH_ROUNDS rounds, every one in each round, and each one's
 * step over b[0]'s, round by round, into vs_first[0 .. n - 1]: a change of load between rounds
 * (the machine may be shared) cancels in each ratio. */
static void bench_rounds(bench_run *b, int n, jn_timing *vs_first)
{
    for (int round = 0; round < BENCH_ROUNDS; round++)
        for (int i = 0; i < n; i++)
            bench_round(&b[i]);
    double scratch[BENCH_ROUNDS];
    for (int i = 0; i < n; i++)
        vs_first[i] = jn_timing_ratio(b[i].step_us, b[0].step_us, BENCH_ROUNDS, 1, scratch);
}

/* After its BENCH_ROUNDS rounds: *b's result, and all of it freed. It sorts b->step_us and
 * b->floor_us: a ratio of them round by round (jn_timing_ratio) is taken before. */
static bench_result bench_close(bench_run *b)
{
    const size_t M = (size_t)b->models;
    double scratch[BENCH_ROUNDS];
    b->res.step_vs_floor = jn_timing_ratio(b->step_us, b->floor_us, BENCH_ROUNDS, 1, scratch);
    b->res.step_us = jn_timing_of(b->step_us, BENCH_ROUNDS);
    b->res.floor_us = jn_timing_of(b->floor_us, BENCH_ROUNDS);
    jn_model_ctl *at = malloc(M * sizeof *at);
    if (!at) {
        fprintf(stderr, "%s: out of host memory\n", bench_prog);
        exit(1);
    }
    BENCH_CUDA(cudaStreamSynchronize(b->ctx->stream));
    BENCH_CUDA(cudaMemcpy(at, b->slots.model, M * sizeof *at, cudaMemcpyDeviceToHost));
    for (size_t k = 0; k < M; k++)
        b->res.stopped += at[k].stopped_at >= 0;
    BENCH_CUDA(cudaGraphExecDestroy(b->step_graph));
    BENCH_CUDA(cudaGraphExecDestroy(b->floor_graph));
    jn_gemm_log_free(&b->log);
    for (int k = 0; k < 3; k++)
        BENCH_CUDA(cudaFree(b->scratch[k]));
    BENCH_CUDA(cudaFree(b->start));
    jn_cuda_slots_free(&b->slots);
    jn_cuda_step_inputs_free(&b->in);
    jn_cuda_ws_free(b->ws);
    free(at);
    return b->res;
}

#endif
