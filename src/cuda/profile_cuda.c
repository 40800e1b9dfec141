/* The CUDA engine as a profile target (jacnoise/profile.h): one model's training step as the
 * CUDA backend runs it (jn_cuda_train_step: device gather and cuRAND noise, the step, the
 * update and k++), on real batches of the resident training set.
 *  - Phases: CUDA events recorded at the engine's phase marks (cuda/nvtx.h), the graph off;
 *    the host issues each launch as the step runs, so launch gaps count in the phase they
 *    delay.
 *  - Fast step: the same step captured once in a CUDA graph and replayed, as training runs it
 *    (the phases inside a graph are not separable): the overhead ratio's step, as the CPU's
 *    is the step it trains with.
 *  - Floor: the GEMMs of the step, logged at capture, replayed alone from their own graph on
 *    scratch operands.
 * The step control restarts every chunk of steps from a device copy, as the trainer's chunks
 * do (device to device: no host synchronisation). */
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "cuda/gemm.h"
#include "cuda/nvtx.h"
#include "cuda/slots.h"
#include "cuda/step_inputs.h"
#include "cuda/workspace.h"
#include "jacnoise/cuda.h"
#include "jacnoise/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    CHUNK_STEPS = 16,  /* steps between restarts of the step control */
    REPLAYS = 10,      /* graph replays per timing of the fast step and the floor */
    PEAK_MAX_N = 8192  /* the largest square SGEMM of the machine's peak */
};

/* A phase clock that records one event per mark on the stream; resolved after the step. */
typedef struct {
    jn_phase_clock base;
    cudaStream_t stream;
    int count, cap, failed;      /* cap: the events created */
    cudaEvent_t *events;
    jn_phase *phases;
    /* The first failed call (a mark cannot return it; event_resolve reports it): its text,
     * line and error, or no call where host memory ran out. */
    const char *failed_call;
    int failed_line;
    cudaError_t failed_error;
} event_clock;

/* Whether call failed (e); the first failure is kept for event_resolve. */
static int event_failed(event_clock *c, cudaError_t e, const char *call, int line)
{
    if (e == cudaSuccess)
        return 0;
    jn_cuda_forget_error();
    c->failed = 1;
    c->failed_call = call;
    c->failed_line = line;
    c->failed_error = e;
    return 1;
}
#define EVENT_CALL(c, call) event_failed((c), (call), #call, __LINE__)

static void event_mark(jn_phase_clock *clock, jn_phase next)
{
    event_clock *c = (event_clock *)clock;
    if (c->failed)
        return;
    if (c->count == c->cap) {
        const int cap = c->cap ? 2 * c->cap : 32;
        cudaEvent_t *events = realloc(c->events, sizeof *events * (size_t)cap);
        if (events)
            c->events = events;
        jn_phase *phases = realloc(c->phases, sizeof *phases * (size_t)cap);
        if (phases)
            c->phases = phases;
        c->failed = !events || !phases;
        /* Counted once created: event_clock_free destroys only those. */
        for (; c->cap < cap && !c->failed; c->cap++)
            if (EVENT_CALL(c, cudaEventCreate(&c->events[c->cap])))
                return;
        if (c->failed)
            return;
    }
    if (EVENT_CALL(c, cudaEventRecord(c->events[c->count], c->stream)))
        return;
    c->phases[c->count++] = next;
}

/* After the step's last mark: the step's seconds, first mark to last, and each phase's. */
static int event_resolve(event_clock *c, double *step_s, double phase_s[JN_PHASES])
{
    if (c->failed && c->failed_call)
        return jn_fail("%s:%d: %.*s: %s", __FILE__, c->failed_line, jn_cuda_call_name(c->failed_call), c->failed_call,
                       cudaGetErrorString(c->failed_error));
    if (c->failed)
        return jn_fail("profile: out of host memory for the CUDA step's phase events");
    if (c->count < 2)
        return jn_fail("profile: the CUDA step's phase events could not be recorded");
    JN_CUDA(cudaEventSynchronize(c->events[c->count - 1]));
    memset(phase_s, 0, sizeof(double) * JN_PHASES);
    for (int i = 0; i + 1 < c->count; i++) {
        float ms = 0;
        JN_CUDA(cudaEventElapsedTime(&ms, c->events[i], c->events[i + 1]));
        if (c->phases[i] < JN_PHASES)
            phase_s[c->phases[i]] += 1e-3 * ms;
    }
    float ms = 0;
    JN_CUDA(cudaEventElapsedTime(&ms, c->events[0], c->events[c->count - 1]));
    *step_s = 1e-3 * ms;
    return 0;
}

static void event_clock_free(event_clock *c)
{
    for (int i = 0; i < c->cap; i++)
        cudaEventDestroy(c->events[i]);
    free(c->events);
    free(c->phases);
}

typedef struct {
    jn_profile_target base;
    jn_cuda_ctx ctx;
    jn_cuda_ws *ws;
    jn_cuda_step_inputs in;
    jn_cuda_slots slots;
    jn_step_ctl *start;          /* device copy of the chunk's first control */
    int batch, chunk, taken;     /* taken: steps since the control restarted */
    cudaGraphExec_t step_graph, floor_graph;
    float *scratch[3];
    jn_gemm_log log;
    event_clock clock;
    cudaEvent_t before, after;
    /* still_training's copy of the model's control: a member, so that the queued copy never
     * outlives its destination, even on an error return before the synchronisation. */
    jn_model_ctl at;
} cuda_target;

/* Restarts the step control when the chunk's sums are used up. */
static int next_step(cuda_target *c)
{
    if (c->taken == c->chunk) {
        JN_CUDA(cudaMemcpyAsync(c->slots.ctl, c->start, sizeof *c->start, cudaMemcpyDeviceToDevice, c->ctx.stream));
        c->taken = 0;
    }
    c->taken++;
    return 0;
}

/* Fails if the model stopped on a non-finite step: its later steps would skip their work. */
static int still_training(cuda_target *c)
{
    JN_CUDA(cudaMemcpyAsync(&c->at, c->slots.model, sizeof c->at, cudaMemcpyDeviceToHost, c->ctx.stream));
    JN_CUDA(cudaStreamSynchronize(c->ctx.stream));
    if (c->at.stopped_at >= 0)
        return jn_fail("profile: the model diverged (a non-finite loss or penalty) while it was timed; lower --lr");
    return 0;
}

static int cuda_step(jn_profile_target *t, double *step_s, double phase_s[JN_PHASES])
{
    cuda_target *c = (cuda_target *)t;
    if (next_step(c))
        return -1;
    c->clock.count = 0;
    jn_cuda_set_phase_clock(&c->clock.base);
    int rc = jn_cuda_train_step(c->ws, &c->in, &c->slots, c->batch, c->batch);
    jn_cuda_set_phase_clock(NULL);
    return rc || event_resolve(&c->clock, step_s, phase_s) || still_training(c) ? -1 : 0;
}

/* Seconds per replay of graph, REPLAYS replays (the step's restarting its control as it goes). */
static int time_graph(cuda_target *c, cudaGraphExec_t graph, int is_step, double *seconds)
{
    JN_CUDA(cudaEventRecord(c->before, c->ctx.stream));
    for (int r = 0; r < REPLAYS; r++) {
        if (is_step && next_step(c))
            return -1;
        JN_CUDA(cudaGraphLaunch(graph, c->ctx.stream));
    }
    JN_CUDA(cudaEventRecord(c->after, c->ctx.stream));
    JN_CUDA(cudaEventSynchronize(c->after));
    float ms = 0;
    JN_CUDA(cudaEventElapsedTime(&ms, c->before, c->after));
    *seconds = 1e-3 * ms / REPLAYS;
    return 0;
}

static int cuda_fast_step(jn_profile_target *t, double *seconds)
{
    cuda_target *c = (cuda_target *)t;
    return time_graph(c, c->step_graph, 1, seconds) || still_training(c) ? -1 : 0;
}

static int cuda_floor(jn_profile_target *t, double *seconds)
{
    cuda_target *c = (cuda_target *)t;
    return time_graph(c, c->floor_graph, 0, seconds);
}

static void cuda_destroy(jn_profile_target *t)
{
    cuda_target *c = (cuda_target *)t;
    if (!c)
        return;
    if (c->ctx.stream)
        cudaStreamSynchronize(c->ctx.stream);
    if (c->step_graph)
        cudaGraphExecDestroy(c->step_graph);
    if (c->floor_graph)
        cudaGraphExecDestroy(c->floor_graph);
    for (int i = 0; i < 3; i++)
        cudaFree(c->scratch[i]);
    cudaFree(c->start);
    if (c->before)
        cudaEventDestroy(c->before);
    if (c->after)
        cudaEventDestroy(c->after);
    event_clock_free(&c->clock);
    jn_gemm_log_free(&c->log);
    jn_cuda_slots_free(&c->slots);
    jn_cuda_step_inputs_free(&c->in);
    jn_cuda_ws_free(c->ws);
    jn_cuda_ctx_close(&c->ctx);
    free(c);
}

static const jn_profile_target_ops cuda_target_ops = {
    .step = cuda_step,
    .gemm_floor = cuda_floor,
    .fast_step = cuda_fast_step,
    .destroy = cuda_destroy,
};

static int setup_target(cuda_target *c, const jn_model *m, const jn_objective *obj, const jn_profile_setup *setup,
                        const jn_dataset *train, int tf32)
{
    const int B = setup->batch;
    c->batch = B;
    c->chunk = train->n / B < CHUNK_STEPS ? train->n / B : CHUNK_STEPS;
    c->taken = c->chunk;  /* the first step starts a chunk */
    c->clock.base.mark = event_mark;
    if (jn_cuda_ctx_open(&c->ctx, tf32))
        return -1;
    size_t free_before, free_after, total;
    JN_CUDA(cudaMemGetInfo(&free_before, &total));
    c->clock.stream = c->ctx.stream;
    if (!(c->ws = jn_cuda_ws_new(&c->ctx, m, obj, B, 1)) || jn_cuda_step_inputs_alloc(&c->in, m, obj, train, B, 1, 0) ||
        jn_cuda_slots_alloc(&c->slots, m, 1, c->chunk))
        return -1;
    float *host = malloc(sizeof(float) * m->n_params);
    if (!host)
        return jn_fail("profile: out of host memory for %zu parameters", m->n_params);
    jn_model_init_params(m, setup->seed, host);
    cudaError_t copied = cudaMemcpy(c->slots.params, host, sizeof(float) * m->n_params, cudaMemcpyHostToDevice);
    free(host);
    JN_CUDA_RESULT("cudaMemcpy", copied);
    const jn_hparams hp = {(float)setup->lr, (float)setup->momentum, (float)obj->weight_decay,
                           (float)obj->input_noise, (float)obj->jac_noise, (float)obj->jac_lambda};
    const jn_model_ctl at = {setup->seed, 0, 1, -1};
    if (jn_cuda_ws_set_hparams(c->ws, &hp) || jn_cuda_step_inputs_shuffle(&c->in, c->ctx.stream, 0, setup->seed, 0) ||
        jn_cuda_slots_begin(&c->slots, &at, 0, c->ctx.stream))
        return -1;
    const jn_cuda_buffer start = {(void **)&c->start, sizeof *c->start, 0};
    if (jn_cuda_buffers_alloc(&start, 1, "the profile's starting state"))
        return -1;
    JN_CUDA(cudaMemcpyAsync(c->start, c->slots.ctl, sizeof *c->start, cudaMemcpyDeviceToDevice, c->ctx.stream));
    JN_CUDA(cudaEventCreate(&c->before));
    JN_CUDA(cudaEventCreate(&c->after));

    /* One step outside any graph: it warms cuBLAS up and counts the step's launches. */
    const long launched = jn_cuda_launch_count;
    if (next_step(c) || jn_cuda_train_step(c->ws, &c->in, &c->slots, B, B))
        return -1;
    c->base.launches = (int)(jn_cuda_launch_count - launched);
    JN_CUDA(cudaStreamSynchronize(c->ctx.stream));
    if (next_step(c) || jn_cuda_capture_train_step(c->ws, &c->in, &c->slots, B, B, &c->log, &c->step_graph) ||
        jn_cuda_capture_floor(&c->ws->gemm, c->ctx.stream, &c->log, setup->seed, c->scratch, &c->floor_graph))
        return -1;
    c->base.gemm_calls = c->log.count;
    c->base.jvp_in_forward = 1;
    size_t shared, perms, batches;
    jn_cuda_step_inputs_bytes(m, obj, train, B, 1, 0, &shared, &perms, &batches);
    c->base.workspace_bytes = jn_cuda_ws_bytes(m, obj, B, 1) + batches;
    c->base.state_bytes = jn_cuda_slots_bytes(m, 1, c->chunk);
    JN_CUDA(cudaStreamSynchronize(c->ctx.stream));
    JN_CUDA(cudaMemGetInfo(&free_after, &total));
    c->base.device_bytes = free_before > free_after ? free_before - free_after : 0;
    return 0;
}

jn_profile_target *jn_cuda_profile_target_create(const jn_model *m, const jn_objective *obj,
                                                 const jn_profile_setup *setup, const jn_dataset *train, int tf32)
{
    cuda_target *c = calloc(1, sizeof *c);
    if (!c) {
        jn_fail("out of memory for the profile");
        return NULL;
    }
    c->base.ops = &cuda_target_ops;
    if (setup_target(c, m, obj, setup, train, tf32)) {
        jn_fail_context("profile on the CUDA device (batch %d)", setup->batch);
        cuda_destroy(&c->base);
        return NULL;
    }
    return &c->base;
}

/* The operands and events of jn_cuda_sgemm_peak, freed whatever happened. */
typedef struct {
    float *a, *b, *out;
    cudaEvent_t start, stop;
} peak_run;

/* Measures the peak into *best; -1 with the failed call recorded, as every checked call's. */
static int measure_peak(jn_cuda_ctx *ctx, int max_n, peak_run *r, double *best)
{
    const size_t count = (size_t)max_n * max_n;
    const jn_cuda_buffer list[3] = {{(void **)&r->a, count * sizeof(float), 0},
                                    {(void **)&r->b, count * sizeof(float), 0},
                                    {(void **)&r->out, count * sizeof(float), 0}};
    if (jn_cuda_buffers_alloc(list, 3, "the peak's square operands") || jn_cuda_fill_operand(r->a, count, 1, 1, 0))
        return -1;
    JN_CUDA(cudaMemcpy(r->b, r->a, count * sizeof(float), cudaMemcpyDeviceToDevice));
    JN_CUDA(cudaEventCreate(&r->start));
    JN_CUDA(cudaEventCreate(&r->stop));
    /* Doubling sizes up to max_n, while one call stays under 50 ms: a slow device (or the
     * emulator) stops early; a fast one reaches the size where it runs at its peak. */
    for (int n = max_n < 512 ? max_n : 512; n <= max_n; n *= 2) {
        const float one = 1.0f, zero = 0.0f;
        float ms = 0, fastest = 0;
        for (int round = 0; round < 4; round++) {  /* round 0 warms up */
            JN_CUDA(cudaEventRecord(r->start, ctx->stream));
            JN_CUBLAS(cublasSgemm(ctx->blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, r->a, n, r->b, n, &zero, r->out,
                                  n));
            JN_CUDA(cudaEventRecord(r->stop, ctx->stream));
            JN_CUDA(cudaEventSynchronize(r->stop));
            JN_CUDA(cudaEventElapsedTime(&ms, r->start, r->stop));
            /* 0 ms is under the events' resolution (about 0.5 us), not an infinite rate. */
            if (round > 0 && ms > 0 && (fastest == 0 || ms < fastest))
                fastest = ms;
        }
        if (fastest == 0)
            continue;  /* a larger n takes a measurable time */
        const double gflops = 2.0 * n * (double)n * n / (fastest * 1e-3) * 1e-9;
        *best = gflops > *best ? gflops : *best;
        if (fastest > 50)
            break;
    }
    return 0;
}

double jn_cuda_sgemm_peak(jn_cuda_ctx *ctx, int max_n)
{
    peak_run r = {0};
    double best = 0;
    /* A failure is the answer 0, whatever smaller size was measured before it: its reason
     * stays recorded, in the one wording its callers (profile, the benchmarks) print. */
    if (measure_peak(ctx, max_n, &r, &best)) {
        best = 0;
        jn_fail_context("the %s peak could not be measured (square cublasSgemm up to %d x %d)",
                        ctx->tf32 ? "TF32" : "fp32", max_n, max_n);
    }
    if (r.start)
        cudaEventDestroy(r.start);
    if (r.stop)
        cudaEventDestroy(r.stop);
    cudaFree(r.a), cudaFree(r.b), cudaFree(r.out);
    return best;
}

int jn_cuda_profile_machine(jn_profile_machine *mc, int tf32)
{
    memset(mc, 0, sizeof *mc);
    jn_cuda_ctx ctx;
    if (jn_cuda_ctx_open(&ctx, tf32))
        return -1;
    struct cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, ctx.device) != cudaSuccess) {
        jn_cuda_forget_error();
        memset(&prop, 0, sizeof prop);  /* its memory size is then 0, not garbage */
        snprintf(prop.name, sizeof prop.name, "unknown CUDA device");
    }
    snprintf(mc->backend, sizeof mc->backend, "cuda");
    snprintf(mc->precision, sizeof mc->precision, "%s", ctx.tf32 ? "tf32" : "fp32");
    snprintf(mc->device, sizeof mc->device, "%.100s (%.0f GiB)", prop.name, prop.totalGlobalMem / 1073741824.0);
    /* The versions built against (headers without them, as the CPU emulation's, say so). */
#if defined(CUBLAS_VER_MAJOR) && defined(CUDART_VERSION)
    snprintf(mc->library, sizeof mc->library, "cuBLAS %d.%d.%d, CUDA %d.%d (built against); %s", CUBLAS_VER_MAJOR,
             CUBLAS_VER_MINOR, CUBLAS_VER_PATCH, CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10,
             ctx.tf32 ? "TF32" : "fp32");
#else
    snprintf(mc->library, sizeof mc->library, "cuBLAS (version not in its headers); %s", ctx.tf32 ? "TF32" : "fp32");
#endif
    /* Unmeasured (its operands' memory taken by another process, say), the peak is raised to the
     * profile's best round later: said once, with the failed call, the profile goes on. */
    mc->peak_gflops = jn_cuda_sgemm_peak(&ctx, PEAK_MAX_N);
    if (!(mc->peak_gflops > 0))
        fprintf(stderr, "jacnoise: warning: %s; the peak is this profile's best round\n", jn_last_error());
    snprintf(mc->timing, sizeof mc->timing, "CUDA events at the phase marks, the graph off");
    jn_cuda_ctx_close(&ctx);
    return 0;
}
