/* The CUDA engine behind the backend interface: M slots trained in lock-step as one batched
 * computation. The training set lives on the device; each slot's epoch shuffle, every batch
 * gather and all noise are made there, from the slot's own seed, epoch and step; a whole step
 * of all M models (gather and noise, forward, penalty, backward, update with each model's
 * divergence check, step control) is captured once in a CUDA graph and replayed; the host
 * reads the per-step sums once per chunk. Between chunks the host writes only device arrays
 * (each slot's hyperparameters, control, parameters and permutation), so a refill never
 * invalidates the graph.
 *
 * What a slot costs while it does not train (inactive, or stopped by a divergence): its share
 * of every strided-batched GEMM (cuBLAS runs all M; the batch count is part of the graph) and
 * of the elementwise kernels, but no gather, no noise and no update (those skip frozen models).
 * The trainer's refill keeps slots busy; idle slots remain only at a group's end. */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/slots.h"
#include "cuda/step_inputs.h"
#include "cuda/workspace.h"
#include "jacnoise/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNK 1024   /* steps per train() call: the per-step sums live on the device */
#define EVAL_ROWS 1000   /* evaluation rows of all models together, at least a batch per model */

typedef struct {
    jn_backend base;
    jn_cuda_ctx ctx;
    jn_model model;
    jn_objective obj;
    jn_backend_setup setup;
    int eval_rows;
    jn_cuda_ws *ws;        /* training: batches of B, the objective's buffers */
    jn_cuda_ws *eval_ws;   /* evaluation: eval_rows rows, forward only */
    jn_cuda_step_inputs in;
    jn_cuda_slots slots;
    jn_cuda_set eval[2];   /* the validation and test sets, uploaded on first use */
    int eval_count;
    /* Host sides of the device arrays, [M] (sums [MAX_CHUNK][M]): members, so that a queued
     * device-to-host copy never outlives its destination, even on an error return before the
     * synchronisation. */
    jn_hparams *hp;
    jn_model_ctl *ctl;
    jn_step_sums *sums;
    cudaGraphExec_t graph;
} cuda_backend;

static int cuda_set_hparams(jn_backend *be, int slot, const jn_model_hparams *hp)
{
    cuda_backend *c = (cuda_backend *)be;
    if (jn_backend_check_slot(be, slot) || jn_model_hparams_check(&c->obj, hp))
        return -1;
    c->ctl[slot].seed = hp->seed;
    c->hp[slot] = (jn_hparams){c->hp[slot].lr, (float)hp->momentum, (float)hp->weight_decay, (float)hp->input_noise,
                               (float)hp->jac_noise, (float)hp->jac_lambda};
    return 0;
}

static int cuda_set_state(jn_backend *be, int slot, const float *params, const float *velocity)
{
    cuda_backend *c = (cuda_backend *)be;
    if (jn_backend_check_slot(be, slot))
        return -1;
    const size_t P = c->model.n_params, bytes = sizeof(float) * P;
    JN_CUDA(cudaMemcpy(c->slots.params + (size_t)slot * P, params, bytes, cudaMemcpyHostToDevice));
    JN_CUDA(cudaMemcpy(c->slots.velocity + (size_t)slot * P, velocity, bytes, cudaMemcpyHostToDevice));
    return 0;
}

static int cuda_get_state(jn_backend *be, int slot, float *params, float *velocity)
{
    cuda_backend *c = (cuda_backend *)be;
    if (jn_backend_check_slot(be, slot))
        return -1;
    const size_t P = c->model.n_params, bytes = sizeof(float) * P;
    JN_CUDA(cudaStreamSynchronize(c->ctx.stream));
    JN_CUDA(cudaMemcpy(params, c->slots.params + (size_t)slot * P, bytes, cudaMemcpyDeviceToHost));
    JN_CUDA(cudaMemcpy(velocity, c->slots.velocity + (size_t)slot * P, bytes, cudaMemcpyDeviceToHost));
    return 0;
}

static int launch_step(cuda_backend *c, int rows)
{
    return jn_cuda_train_step(c->ws, &c->in, &c->slots, rows, c->setup.batch);
}

/* Captures a full-batch step of all slots once; later calls replay it. */
static int replay_step(cuda_backend *c)
{
    if (!c->graph && jn_cuda_capture_train_step(c->ws, &c->in, &c->slots, c->setup.batch, c->setup.batch, NULL,
                                                &c->graph))
        return -1;
    JN_CUDA(cudaGraphLaunch(c->graph, c->ctx.stream));
    return 0;
}

/* Rows of batch b of the epoch (the last may be short). */
static int batch_rows(const cuda_backend *c, long b)
{
    const long n = c->in.train.host->n, first = b * c->setup.batch;
    return (int)(n - first < c->setup.batch ? n - first : c->setup.batch);
}

/* Each slot's part of the chunk, in the host arrays and the device's permutations; 0 when no
 * slot is active. */
static int prepare_chunk(cuda_backend *c, const jn_train_chunk *chunk)
{
    int active = 0;
    for (int m = 0; m < c->setup.models; m++) {
        const jn_slot_chunk *at = &chunk->slot[m];
        jn_model_ctl *own = &c->ctl[m];
        own->active = at->active;
        own->stopped_at = -1;
        if (!at->active)
            continue;
        if (jn_cuda_step_inputs_shuffle(&c->in, c->ctx.stream, m, own->seed, at->epoch))
            return -1;
        own->step = at->global_step;
        c->hp[m].lr = (float)at->lr;
        active++;
    }
    return active;
}

static int cuda_train(jn_backend *be, const jn_train_chunk *chunk, jn_epoch_sums *sums, jn_chunk_result *res)
{
    cuda_backend *c = (cuda_backend *)be;
    cudaStream_t s = c->ctx.stream;
    const int M = c->setup.models;
    if (chunk->n_batches > MAX_CHUNK)
        return jn_fail("cuda backend: %ld steps in one chunk, at most %d", chunk->n_batches, MAX_CHUNK);
    const int active = prepare_chunk(c, chunk);
    if (active <= 0)
        return active;
    if (jn_cuda_ws_set_hparams(c->ws, c->hp) || jn_cuda_slots_begin(&c->slots, c->ctl, chunk->first_batch, s))
        return -1;
    for (long k = 0; k < chunk->n_batches; k++) {
        int rows = batch_rows(c, chunk->first_batch + k);
        if (rows == c->setup.batch && c->setup.cuda_graph ? replay_step(c) : launch_step(c, rows))
            return -1;
    }
    if (jn_cuda_slots_read(&c->slots, (int)chunk->n_batches, c->ctl, c->sums, s))
        return -1;
    for (int m = 0; m < M; m++) {
        if (!chunk->slot[m].active)
            continue;
        const int stopped = c->ctl[m].stopped_at;
        res[m].diverged = stopped >= 0;
        res[m].steps_done = stopped >= 0 ? stopped : chunk->n_batches;
        for (long k = 0; k < res[m].steps_done; k++) {
            const jn_step_sums *step = &c->sums[k * M + m];
            sums[m].loss += step->loss;
            sums[m].penalty += step->penalty;
            sums[m].errors += (long)step->errors;
            sums[m].examples += batch_rows(c, chunk->first_batch + k);
            sums[m].steps++;
        }
    }
    return 0;
}

/* The device copy of an evaluation set (the last two used are kept). */
static jn_cuda_set *eval_set(cuda_backend *c, const jn_dataset *set)
{
    for (int i = 0; i < c->eval_count; i++)
        if (c->eval[i].host == set)
            return &c->eval[i];
    if (c->eval_count == 2) {
        jn_cuda_set_free(&c->eval[0]);
        c->eval[0] = c->eval[1];
        c->eval_count = 1;
    }
    if (jn_cuda_set_upload(set, &c->eval[c->eval_count]))
        return NULL;
    return &c->eval[c->eval_count++];
}

/* Every slot's errors in one pass over the set: each batch is gathered once and read by all
 * models (the forward pass's first GEMM has a model stride of 0). */
static int cuda_count_errors(jn_backend *be, const jn_dataset *set, const unsigned char *want, long *errors)
{
    cuda_backend *c = (cuda_backend *)be;
    const jn_cuda_set *dev = eval_set(c, set);
    if (!dev)
        return -1;
    cudaStream_t s = c->ctx.stream;
    jn_cuda_phase(JN_PHASE_EVAL);
    int rc = JN_LAUNCH(jn_k_zero_sums(c->slots.sums, c->setup.models, s));
    for (long first = 0; first < set->n && !rc; first += c->eval_rows) {
        int rows = (int)(set->n - first < c->eval_rows ? set->n - first : c->eval_rows);
        rc = JN_LAUNCH(jn_k_gather_rows(dev->bytes, dev->floats, dev->labels, set->d, first, rows, c->in.x, c->in.y,
                                        s)) ||
             jn_cuda_count_errors(c->eval_ws, c->slots.params, c->in.x, c->in.y, rows, c->slots.sums);
    }
    jn_cuda_phase(JN_PHASE_NONE);
    if (rc)
        return -1;
    JN_CUDA(cudaMemcpyAsync(c->sums, c->slots.sums, sizeof c->sums[0] * (size_t)c->setup.models,
                            cudaMemcpyDeviceToHost, s));
    JN_CUDA(cudaStreamSynchronize(s));
    for (int m = 0; m < c->setup.models; m++)
        if (!want || want[m])
            errors[m] = (long)c->sums[m].errors;
    return 0;
}

static void cuda_destroy(jn_backend *be)
{
    cuda_backend *c = (cuda_backend *)be;
    if (!c)
        return;
    if (c->graph)
        cudaGraphExecDestroy(c->graph);
    jn_cuda_ws_free(c->ws);
    jn_cuda_ws_free(c->eval_ws);
    jn_cuda_step_inputs_free(&c->in);
    jn_cuda_slots_free(&c->slots);
    for (int i = 0; i < c->eval_count; i++)
        jn_cuda_set_free(&c->eval[i]);
    jn_cuda_ctx_close(&c->ctx);
    free(c->hp);
    free(c->ctl);
    free(c->sums);
    free(c);
}

#ifdef CUDART_VERSION
/* A CUDA version as "12.4", from its number (12040). */
static void cuda_version(int v, char *out, size_t cap) { snprintf(out, cap, "%d.%d", v / 1000, v % 1000 / 10); }
#endif

/* Device `device`'s name, PCI address and compute capability into out; a record of the run,
 * not a reason to fail it: "unknown" where the runtime cannot say. */
static void device_identity(int device, jn_device_info *out)
{
    out->ordinal = device;
    struct cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) {
        snprintf(out->device, sizeof out->device, "%s", prop.name);
        snprintf(out->capability, sizeof out->capability, "%d.%d", prop.major, prop.minor);
        int domain = 0;  /* not in the CPU emulation's headers (nor the version queries) */
#ifdef CUDART_VERSION
        domain = prop.pciDomainID;
#endif
        snprintf(out->pci, sizeof out->pci, "%04x:%02x:%02x.0", (unsigned)domain, (unsigned)prop.pciBusID,
                 (unsigned)prop.pciDeviceID);
    } else {
        jn_cuda_forget_error();
        snprintf(out->device, sizeof out->device, "unknown CUDA device");
        snprintf(out->capability, sizeof out->capability, "unknown");
        snprintf(out->pci, sizeof out->pci, "unknown");
    }
}

static void cuda_describe(const jn_backend *be, jn_device_info *out)
{
    const cuda_backend *c = (const cuda_backend *)be;
    memset(out, 0, sizeof *out);
    snprintf(out->backend, sizeof out->backend, "cuda");
    out->tf32 = c->ctx.tf32;
    out->tf32_override = c->setup.tf32 && !c->ctx.tf32;
    device_identity(c->ctx.device, out);
    snprintf(out->driver, sizeof out->driver, "unknown");
    snprintf(out->runtime, sizeof out->runtime, "unknown");
    /* Headers without the version queries (the CPU emulation's) leave them unknown. */
#ifdef CUDART_VERSION
    int v = 0;
    if (cudaDriverGetVersion(&v) == cudaSuccess && v > 0)
        cuda_version(v, out->driver, sizeof out->driver);
    if (cudaRuntimeGetVersion(&v) == cudaSuccess && v > 0)
        cuda_version(v, out->runtime, sizeof out->runtime);
    jn_cuda_forget_error();
#endif
}

static const jn_backend_ops cuda_ops = {
    .name = "cuda",
    .preferred_chunk = MAX_CHUNK,
    .set_hparams = cuda_set_hparams,
    .set_state = cuda_set_state,
    .get_state = cuda_get_state,
    .train = cuda_train,
    .count_errors = cuda_count_errors,
    .describe = cuda_describe,
    .destroy = cuda_destroy,
};

/* Rows of an evaluation batch: EVAL_ROWS over all models, at least the training batch per
 * model (fewer rows would make each batch read every model's weights for little work). */
static int eval_rows(const jn_backend_setup *setup)
{
    const int share = EVAL_ROWS / setup->models;
    return share > setup->batch ? share : setup->batch;
}

jn_cuda_memory jn_cuda_backend_bytes(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                                     const jn_dataset *train)
{
    const int M = setup->models, rows = eval_rows(setup);
    size_t shared, perms, batches;
    jn_cuda_step_inputs_bytes(m, obj, train, setup->batch, M, rows, &shared, &perms, &batches);
    jn_cuda_memory b;
    b.shared = shared + JN_CUDA_BLAS_WORKSPACE_BYTES;
    b.state = perms + jn_cuda_slots_bytes(m, M, MAX_CHUNK);
    b.activations = batches + jn_cuda_ws_bytes(m, obj, setup->batch, M) + jn_cuda_ws_bytes(m, NULL, rows, M);
    return b;
}

double jn_cuda_backend_memory(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                              const jn_dataset *train)
{
    const jn_cuda_memory b = jn_cuda_backend_bytes(m, obj, setup, train);
    return (double)b.shared + (double)b.state + (double)b.activations;
}

jn_backend *jn_cuda_backend_create(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                                   const jn_dataset *train)
{
    cuda_backend *c = calloc(1, sizeof *c);
    const size_t M = (size_t)setup->models;
    if (!c || !(c->hp = calloc(M, sizeof *c->hp)) || !(c->ctl = calloc(M, sizeof *c->ctl)) ||
        !(c->sums = calloc(M * MAX_CHUNK, sizeof *c->sums))) {
        cuda_destroy(c ? &c->base : NULL);
        jn_fail("out of memory for the CUDA backend's %d slot%s", setup->models, setup->models == 1 ? "" : "s");
        return NULL;
    }
    c->base.ops = &cuda_ops;
    c->base.models = setup->models;
    c->model = *m;
    c->obj = *obj;
    c->setup = *setup;
    c->eval_rows = eval_rows(setup);
    for (size_t s = 0; s < M; s++) {
        c->hp[s] = (jn_hparams){0.0f, 0.0f, (float)obj->weight_decay, (float)obj->input_noise, (float)obj->jac_noise,
                                (float)obj->jac_lambda};
        c->ctl[s].stopped_at = -1;
    }
    /* The training workspace is sized to the batch, as on the CPU (so the exact norm's tangent
     * chunks match); evaluation has its own, without the penalty's buffers. */
    if (jn_cuda_ctx_open(&c->ctx, setup->tf32) ||
        !(c->ws = jn_cuda_ws_new(&c->ctx, m, obj, setup->batch, setup->models)) ||
        !(c->eval_ws = jn_cuda_ws_new(&c->ctx, m, NULL, c->eval_rows, setup->models)) ||
        jn_cuda_step_inputs_alloc(&c->in, m, obj, train, setup->batch, setup->models, c->eval_rows) ||
        jn_cuda_slots_alloc(&c->slots, m, setup->models, MAX_CHUNK)) {
        cuda_destroy(&c->base);
        return NULL;
    }
    return &c->base;
}

int jn_cuda_built(void) { return 1; }

int jn_cuda_device_count(void)
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        /* No driver or no device is an answer here, not an error for the next check. */
        jn_cuda_forget_error();
        return 0;
    }
    return count;
}

int jn_cuda_current_device(jn_device_info *out)
{
    memset(out, 0, sizeof *out);
    int device;
    if (jn_cuda_device_count() == 0 || cudaGetDevice(&device) != cudaSuccess) {
        jn_cuda_forget_error();
        return -1;
    }
    device_identity(device, out);
    return 0;
}

double jn_cuda_free_memory(void)
{
    size_t free_bytes = 0, total = 0;
    if (jn_cuda_device_count() == 0 || cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) {
        jn_cuda_forget_error();
        return 0;
    }
    return (double)free_bytes;
}
