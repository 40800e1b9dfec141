/* The CUDA engine behind the backend interface. The training set lives on the device; each
 * epoch's shuffle, each batch gather and all noise are made there; a whole step (gather and
 * noise, forward, penalty, backward, update, step control) is captured once in a CUDA graph
 * and replayed; the host reads the per-step sums once per chunk. */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/workspace.h"
#include "jacnoise/backend.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CHUNK 1024   /* steps per train() call: the per-step sums live on the device */
#define EVAL_ROWS 1000   /* evaluation batch */

typedef struct {
    jn_backend base;
    jn_cuda_ctx ctx;
    jn_model model;
    jn_objective obj;
    jn_backend_setup setup;
    jn_cuda_ws *ws;        /* training: batches of B, the objective's buffers */
    jn_cuda_ws *eval_ws;   /* evaluation: EVAL_ROWS rows, forward only */
    jn_cuda_step_inputs in;
    float *params, *velocity, *grad;
    jn_cuda_set eval[2];   /* the validation and test sets, uploaded on first use */
    int eval_count;
    uint32_t *identity;    /* 0, 1, 2, ...: evaluation gathers rows in order */
    size_t identity_len;
    jn_step_ctl *ctl;
    jn_step_sums *sums;    /* [MAX_CHUNK] */
    /* Host copies of ctl and sums: members, so that a queued device-to-host copy never
     * outlives its destination, even on an error return before the synchronisation. */
    jn_step_ctl ctl_host;
    jn_step_sums sums_host[MAX_CHUNK];
    jn_hparams hp;
    uint64_t seed;         /* the model's shuffles and noise */
    cudaGraphExec_t graph;
} cuda_backend;

/* One slot until the lock-step engine lands (jn_cuda_backend_create refuses more). */
static int check_slot(int slot)
{
    return slot == 0 ? 0 : jn_fail("cuda backend: slot %d out of range 0..0", slot);
}

static int cuda_set_hparams(jn_backend *be, int slot, const jn_model_hparams *hp)
{
    cuda_backend *c = (cuda_backend *)be;
    if (check_slot(slot) || jn_model_hparams_check(&c->obj, hp))
        return -1;
    c->seed = hp->seed;
    c->hp = (jn_hparams){c->hp.lr, (float)hp->momentum, (float)hp->weight_decay, (float)hp->input_noise,
                         (float)hp->jac_noise, (float)hp->jac_lambda};
    return 0;
}

static int cuda_set_state(jn_backend *be, int slot, const float *params, const float *velocity)
{
    cuda_backend *c = (cuda_backend *)be;
    if (check_slot(slot))
        return -1;
    const size_t bytes = sizeof(float) * c->model.n_params;
    JN_CUDA(cudaMemcpy(c->params, params, bytes, cudaMemcpyHostToDevice));
    JN_CUDA(cudaMemcpy(c->velocity, velocity, bytes, cudaMemcpyHostToDevice));
    return 0;
}

static int cuda_get_state(jn_backend *be, int slot, float *params, float *velocity)
{
    cuda_backend *c = (cuda_backend *)be;
    if (check_slot(slot))
        return -1;
    const size_t bytes = sizeof(float) * c->model.n_params;
    JN_CUDA(cudaStreamSynchronize(c->ctx.stream));
    JN_CUDA(cudaMemcpy(params, c->params, bytes, cudaMemcpyDeviceToHost));
    JN_CUDA(cudaMemcpy(velocity, c->velocity, bytes, cudaMemcpyDeviceToHost));
    return 0;
}

static int launch_step(cuda_backend *c, int rows)
{
    return jn_cuda_train_step(c->ws, &c->in, c->seed, rows, c->setup.batch, c->params, c->grad, c->velocity,
                              c->sums, c->ctl);
}

/* Captures a full-batch step once; later calls replay it. */
static int replay_step(cuda_backend *c)
{
    if (!c->graph) {
        cudaGraph_t graph;
        JN_CUDA(cudaStreamBeginCapture(c->ctx.stream, cudaStreamCaptureModeThreadLocal));
        int rc = launch_step(c, c->setup.batch);
        cudaError_t end = cudaStreamEndCapture(c->ctx.stream, &graph);
        if (end == cudaSuccess && rc)
            cudaGraphDestroy(graph);
        if (rc)
            return -1;
        JN_CUDA(end);
        cudaError_t made = cudaGraphInstantiate(&c->graph, graph, 0);
        cudaGraphDestroy(graph);
        JN_CUDA(made);
    }
    JN_CUDA(cudaGraphLaunch(c->graph, c->ctx.stream));
    return 0;
}

/* Rows of batch b of the epoch (the last may be short). */
static int batch_rows(const cuda_backend *c, long b)
{
    const long n = c->in.train.host->n, first = b * c->setup.batch;
    return (int)(n - first < c->setup.batch ? n - first : c->setup.batch);
}

static int cuda_train(jn_backend *be, const jn_train_chunk *chunk, jn_epoch_sums *sums, jn_chunk_result *res)
{
    cuda_backend *c = (cuda_backend *)be;
    cudaStream_t s = c->ctx.stream;
    const jn_slot_chunk *at = &chunk->slot[0];
    if (!at->active)
        return 0;
    if (chunk->n_batches > MAX_CHUNK)
        return jn_fail("cuda backend: %ld steps in one chunk, at most %d", chunk->n_batches, MAX_CHUNK);
    if (jn_cuda_step_inputs_shuffle(&c->in, s, c->seed, at->epoch))
        return -1;
    c->hp.lr = (float)at->lr;
    if (jn_cuda_ws_set_hparams(c->ws, &c->hp))
        return -1;
    JN_KERNEL(jn_k_set_ctl(c->ctl, at->global_step, chunk->first_batch, s));
    for (long k = 0; k < chunk->n_batches; k++) {
        int rows = batch_rows(c, chunk->first_batch + k);
        if (rows == c->setup.batch && c->setup.cuda_graph ? replay_step(c) : launch_step(c, rows))
            return -1;
    }
    JN_CUDA(cudaMemcpyAsync(&c->ctl_host, c->ctl, sizeof c->ctl_host, cudaMemcpyDeviceToHost, s));
    JN_CUDA(cudaMemcpyAsync(c->sums_host, c->sums, sizeof c->sums_host[0] * (size_t)chunk->n_batches,
                            cudaMemcpyDeviceToHost, s));
    JN_CUDA(cudaStreamSynchronize(s));
    res->steps_done = (long)(c->ctl_host.step - at->global_step);
    res->diverged = c->ctl_host.diverged;
    for (long k = 0; k < res->steps_done; k++) {
        const jn_step_sums *step = &c->sums_host[k];
        sums->loss += step->loss;
        sums->penalty += step->penalty;
        sums->errors += (long)step->errors;
        sums->examples += batch_rows(c, chunk->first_batch + k);
        sums->steps++;
    }
    return 0;
}

/* The identity permutation, long enough for a set of n examples. */
static int ensure_identity(cuda_backend *c, size_t n)
{
    if (c->identity_len >= n)
        return 0;
    cudaFree(c->identity);
    c->identity = NULL;
    c->identity_len = 0;
    uint32_t *host = malloc(n * sizeof(uint32_t));
    if (!host)
        return jn_fail("out of memory");
    for (size_t i = 0; i < n; i++)
        host[i] = (uint32_t)i;
    int rc = jn_cuda_upload((void **)&c->identity, host, n * sizeof(uint32_t), "the evaluation's row order");
    free(host);
    if (rc)
        return -1;
    c->identity_len = n;
    return 0;
}

static int cuda_count_errors(jn_backend *be, const jn_dataset *set, const unsigned char *want, long *errors)
{
    cuda_backend *c = (cuda_backend *)be;
    (void)want;  /* one slot */
    if (ensure_identity(c, (size_t)set->n))
        return -1;
    jn_cuda_set *dev = NULL;
    for (int i = 0; i < c->eval_count; i++)
        if (c->eval[i].host == set)
            dev = &c->eval[i];
    if (!dev) {
        if (c->eval_count == 2) {
            jn_cuda_set_free(&c->eval[0]);
            c->eval[0] = c->eval[1];
            c->eval_count = 1;
        }
        if (jn_cuda_set_upload(set, &c->eval[c->eval_count]))
            return -1;
        dev = &c->eval[c->eval_count++];
    }
    cudaStream_t s = c->ctx.stream;
    jn_nvtx_push(JN_PHASE_EVAL);
    int rc = JN_LAUNCH(jn_k_zero_sums(c->sums, NULL, 1, s)) || JN_LAUNCH(jn_k_set_ctl(c->ctl, 0, 0, s));
    /* Batch k gathers rows k * EVAL_ROWS ... of the identity: the same ctl (batch 0) with the
     * permutation offset, so nothing goes from the host to the device per batch. */
    for (long first = 0; first < set->n && !rc; first += EVAL_ROWS) {
        int rows = (int)(set->n - first < EVAL_ROWS ? set->n - first : EVAL_ROWS);
        rc = JN_LAUNCH(jn_k_gather_noise(dev->bytes, dev->floats, dev->labels, set->d, c->identity + first, EVAL_ROWS,
                                         rows, c->ctl, 0, 1, c->in.x, c->in.y, NULL, NULL, 0, NULL, 0, s)) ||
             jn_cuda_count_errors(c->eval_ws, c->params, c->in.x, c->in.y, rows, c->sums);
    }
    jn_nvtx_pop();
    if (rc)
        return -1;
    JN_CUDA(cudaMemcpyAsync(c->sums_host, c->sums, sizeof c->sums_host[0], cudaMemcpyDeviceToHost, s));
    JN_CUDA(cudaStreamSynchronize(s));
    *errors = (long)c->sums_host[0].errors;
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
    for (int i = 0; i < c->eval_count; i++)
        jn_cuda_set_free(&c->eval[i]);
    void *buffers[] = {c->params, c->velocity, c->grad, c->identity, c->ctl, c->sums};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        cudaFree(buffers[i]);
    jn_cuda_ctx_close(&c->ctx);
    free(c);
}

static const jn_backend_ops cuda_ops = {
    .name = "cuda",
    .preferred_chunk = MAX_CHUNK,
    .set_hparams = cuda_set_hparams,
    .set_state = cuda_set_state,
    .get_state = cuda_get_state,
    .train = cuda_train,
    .count_errors = cuda_count_errors,
    .destroy = cuda_destroy,
};

static int alloc_state(cuda_backend *c)
{
    const size_t P = c->model.n_params;
    if (cudaMalloc((void **)&c->params, P * sizeof(float)) != cudaSuccess ||
        cudaMalloc((void **)&c->velocity, P * sizeof(float)) != cudaSuccess ||
        cudaMalloc((void **)&c->grad, P * sizeof(float)) != cudaSuccess ||
        cudaMalloc((void **)&c->ctl, sizeof(jn_step_ctl)) != cudaSuccess ||
        cudaMalloc((void **)&c->sums, MAX_CHUNK * sizeof(jn_step_sums)) != cudaSuccess) {
        jn_cuda_forget_error();
        size_t free_bytes = 0, total = 0;
        cudaMemGetInfo(&free_bytes, &total);
        return jn_fail("out of GPU memory (%.1f of %.1f GiB free) for a model of %zu parameters",
                       free_bytes / 1073741824.0, total / 1073741824.0, P);
    }
    return 0;
}

jn_backend *jn_cuda_backend_create(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                                   const jn_dataset *train)
{
    if (setup->models != 1) {
        jn_fail("--models %d: the CUDA backend trains one model per process until its lock-step engine lands; "
                "use --models 1", setup->models);
        return NULL;
    }
    cuda_backend *c = calloc(1, sizeof *c);
    if (!c) {
        jn_fail("out of memory for the CUDA backend");
        return NULL;
    }
    c->base.ops = &cuda_ops;
    c->base.models = 1;
    c->model = *m;
    c->obj = *obj;
    c->setup = *setup;
    c->hp = (jn_hparams){0.0f, 0.0f, (float)obj->weight_decay, (float)obj->input_noise, (float)obj->jac_noise,
                         (float)obj->jac_lambda};
    /* The training workspace is sized to the batch, as on the CPU (so the exact norm's tangent
     * chunks match); evaluation has its own, without the penalty's buffers. */
    const jn_objective forward_only = {.loss = obj->loss, .jac_copies = 1, .jac_proj = 1};
    if (jn_cuda_ctx_open(&c->ctx, setup->tf32) || !(c->ws = jn_cuda_ws_new(&c->ctx, m, obj, setup->batch, 1)) ||
        !(c->eval_ws = jn_cuda_ws_new(&c->ctx, m, &forward_only, EVAL_ROWS, 1)) ||
        jn_cuda_step_inputs_alloc(&c->in, m, obj, train, setup->batch, EVAL_ROWS) || alloc_state(c)) {
        cuda_destroy(&c->base);
        return NULL;
    }
    return &c->base;
}

int jn_cuda_built(void) { return 1; }

int jn_cuda_device_count(void)
{
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}
