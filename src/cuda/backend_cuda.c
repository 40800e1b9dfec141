/* The CUDA engine behind the backend interface. The training set lives on the device; each
 * epoch's shuffle, each batch gather and all noise are made there; a whole step (gather and
 * noise, forward, penalty, backward, update, step control) is captured once in a CUDA graph
 * and replayed; the host reads the per-step sums once per chunk. */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/workspace.h"
#include "jacnoise/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNK 1024   /* steps per train() call: the per-step sums live on the device */
#define EVAL_ROWS 1000   /* evaluation batch */

/* A labelled set on the device: bytes when every value is k/255 (MNIST), else floats. */
typedef struct {
    const jn_dataset *host;
    uint8_t *bytes;
    float *floats;
    int32_t *labels;
} device_set;

typedef struct {
    jn_backend base;
    jn_cuda_ctx ctx;
    jn_model model;
    jn_objective obj;
    jn_backend_setup setup;
    int use_graph;
    jn_cuda_ws *ws;
    float *params, *velocity, *grad;
    device_set train, eval[2];
    int eval_count;
    float *x, *xi, *eps, *v;
    int32_t *y;
    int K;
    uint32_t *keys, *sorted_keys, *index, *perm, *identity;
    void *sort_temp;
    size_t sort_bytes;
    int perm_epoch;
    jn_step_ctl *ctl;
    jn_step_sums *sums;
    jn_hparams hp;
    cudaGraphExec_t graph;
} cuda_backend;

static int upload_set(const jn_dataset *set, device_set *out)
{
    memset(out, 0, sizeof *out);
    out->host = set;
    const size_t n = (size_t)set->n * set->d;
    int bytes = 1;
    for (size_t k = 0; k < n && bytes; k++) {
        float scaled = set->x[k] * 255.0f;
        bytes = scaled == rintf(scaled) && scaled >= 0 && scaled <= 255 && (float)(uint8_t)scaled / 255.0f == set->x[k];
    }
    if (bytes) {
        uint8_t *host = malloc(n ? n : 1);
        if (!host)
            return jn_fail("out of memory staging %s", set->name);
        for (size_t k = 0; k < n; k++)
            host[k] = (uint8_t)rintf(set->x[k] * 255.0f);
        cudaError_t e = cudaMalloc((void **)&out->bytes, n ? n : 1);
        if (e == cudaSuccess)
            e = cudaMemcpy(out->bytes, host, n, cudaMemcpyHostToDevice);
        free(host);
        JN_CUDA(e);
    } else {
        JN_CUDA(cudaMalloc((void **)&out->floats, sizeof(float) * (n ? n : 1)));
        JN_CUDA(cudaMemcpy(out->floats, set->x, sizeof(float) * n, cudaMemcpyHostToDevice));
    }
    JN_CUDA(cudaMalloc((void **)&out->labels, sizeof(int32_t) * (set->n ? set->n : 1)));
    JN_CUDA(cudaMemcpy(out->labels, set->y, sizeof(int32_t) * set->n, cudaMemcpyHostToDevice));
    return 0;
}

static void free_set(device_set *set)
{
    cudaFree(set->bytes);
    cudaFree(set->floats);
    cudaFree(set->labels);
    memset(set, 0, sizeof *set);
}

static int cuda_set_state(jn_backend *be, const float *params, const float *velocity)
{
    cuda_backend *c = (cuda_backend *)be;
    const size_t bytes = sizeof(float) * c->model.n_params;
    JN_CUDA(cudaMemcpy(c->params, params, bytes, cudaMemcpyHostToDevice));
    JN_CUDA(cudaMemcpy(c->velocity, velocity, bytes, cudaMemcpyHostToDevice));
    return 0;
}

static int cuda_get_state(jn_backend *be, float *params, float *velocity)
{
    cuda_backend *c = (cuda_backend *)be;
    const size_t bytes = sizeof(float) * c->model.n_params;
    JN_CUDA(cudaStreamSynchronize(c->ctx.stream));
    JN_CUDA(cudaMemcpy(params, c->params, bytes, cudaMemcpyDeviceToHost));
    JN_CUDA(cudaMemcpy(velocity, c->velocity, bytes, cudaMemcpyDeviceToHost));
    return 0;
}

/* One whole training step of `rows` examples, as launches on the stream (graph-capturable):
 * gather and noise, the step, the update, the step control. */
static int launch_step(cuda_backend *c, int rows)
{
    const jn_objective *obj = &c->obj;
    const jn_noise_sizes n = jn_objective_noise_sizes(obj, &c->model, rows);
    jn_nvtx_push(JN_PHASE_DATA);
    int e = jn_k_gather_noise(c->train.bytes, c->train.floats, c->train.labels, c->model.sizes[0], c->perm,
                              c->setup.batch, rows, c->ctl, c->setup.seed, 1, c->x, c->y, n.xi ? c->xi : NULL,
                              n.eps ? c->eps : NULL, obj->jac_copies, n.v ? c->v : NULL, c->K, c->ctx.stream);
    jn_nvtx_pop();
    JN_KERNEL(e);
    const jn_batch batch = {c->x, c->y, rows};
    const jn_noise noise = {n.xi ? c->xi : NULL, n.eps ? c->eps : NULL, n.v ? c->v : NULL};
    if (jn_cuda_step(c->ws, c->params, &batch, &noise, c->sums, c->ctl, c->grad) ||
        jn_cuda_sgd_update(c->ws, c->params, c->grad, c->velocity, c->sums, c->ctl))
        return -1;
    JN_KERNEL(jn_k_advance(c->ctl, c->sums, 1, c->ctx.stream));
    return 0;
}

/* Captures a full-batch step once; later calls replay it. */
static int replay_step(cuda_backend *c)
{
    if (!c->graph) {
        cudaGraph_t graph;
        JN_CUDA(cudaStreamBeginCapture(c->ctx.stream, cudaStreamCaptureModeThreadLocal));
        int rc = launch_step(c, c->setup.batch);
        cudaError_t end = cudaStreamEndCapture(c->ctx.stream, &graph);
        if (rc)
            return -1;
        JN_CUDA(end);
        cudaError_t inst = cudaGraphInstantiate(&c->graph, graph, 0);
        cudaGraphDestroy(graph);
        JN_CUDA(inst);
    }
    JN_CUDA(cudaGraphLaunch(c->graph, c->ctx.stream));
    return 0;
}

static int cuda_train(jn_backend *be, const jn_train_chunk *chunk, jn_epoch_sums *sums, jn_chunk_result *res)
{
    cuda_backend *c = (cuda_backend *)be;
    const int n_train = c->train.host->n, B = c->setup.batch;
    cudaStream_t s = c->ctx.stream;
    if (chunk->n_batches > MAX_CHUNK)
        return jn_fail("cuda backend: %ld steps in one chunk, at most %d", chunk->n_batches, MAX_CHUNK);
    if (c->perm_epoch != chunk->epoch) {
        jn_nvtx_push(JN_PHASE_DATA);
        int e = jn_k_shuffle(c->setup.seed, chunk->epoch, n_train, c->keys, c->sorted_keys, c->index, c->perm,
                             c->sort_temp, c->sort_bytes, s);
        jn_nvtx_pop();
        JN_KERNEL(e);
        c->perm_epoch = chunk->epoch;
    }
    c->hp.lr = (float)chunk->lr;
    if (jn_cuda_ws_set_hparams(c->ws, &c->hp))
        return -1;
    const jn_step_ctl start = {chunk->global_step, chunk->first_batch, 0, 0, 0};
    JN_CUDA(cudaMemcpyAsync(c->ctl, &start, sizeof start, cudaMemcpyHostToDevice, s));
    for (long k = 0; k < chunk->n_batches; k++) {
        long first_row = (chunk->first_batch + k) * B;
        int rows = (int)(n_train - first_row < B ? n_train - first_row : B);
        if (rows == B && c->use_graph ? replay_step(c) : launch_step(c, rows))
            return -1;
    }
    jn_step_ctl end;
    jn_step_sums step_sums[MAX_CHUNK];
    JN_CUDA(cudaMemcpyAsync(&end, c->ctl, sizeof end, cudaMemcpyDeviceToHost, s));
    JN_CUDA(cudaMemcpyAsync(step_sums, c->sums, sizeof step_sums[0] * (size_t)chunk->n_batches,
                            cudaMemcpyDeviceToHost, s));
    JN_CUDA(cudaStreamSynchronize(s));
    res->steps_done = (long)(end.step - chunk->global_step);
    res->diverged = end.diverged;
    for (long k = 0; k < res->steps_done; k++) {
        long first_row = (chunk->first_batch + k) * B;
        int rows = (int)(n_train - first_row < B ? n_train - first_row : B);
        sums->loss += step_sums[k].loss;
        sums->penalty += step_sums[k].penalty;
        sums->errors += (long)step_sums[k].errors;
        sums->examples += rows;
        sums->steps++;
    }
    return 0;
}

static int cuda_count_errors(jn_backend *be, const jn_dataset *set, long *errors)
{
    cuda_backend *c = (cuda_backend *)be;
    device_set *dev = NULL;
    for (int i = 0; i < c->eval_count; i++)
        if (c->eval[i].host == set)
            dev = &c->eval[i];
    if (!dev) {
        /* Sets are kept after their first use: the validation and test sets of a run. */
        if (c->eval_count == 2) {
            free_set(&c->eval[0]);
            c->eval[0] = c->eval[1];
            c->eval_count = 1;
        }
        if (upload_set(set, &c->eval[c->eval_count]))
            return -1;
        dev = &c->eval[c->eval_count++];
    }
    cudaStream_t s = c->ctx.stream;
    jn_nvtx_push(JN_PHASE_EVAL);
    JN_KERNEL(jn_k_zero_sums(c->sums, NULL, 1, s));
    for (long first = 0; first < set->n; first += EVAL_ROWS) {
        int rows = (int)(set->n - first < EVAL_ROWS ? set->n - first : EVAL_ROWS);
        /* The gather kernel reads the rows in order through the identity permutation. */
        const jn_step_ctl at = {0, first / EVAL_ROWS, 0, 0, 0};
        JN_CUDA(cudaMemcpyAsync(c->ctl, &at, sizeof at, cudaMemcpyHostToDevice, s));
        JN_KERNEL(jn_k_gather_noise(dev->bytes, dev->floats, dev->labels, set->d, c->identity, EVAL_ROWS, rows, c->ctl,
                                    0, 1, c->x, c->y, NULL, NULL, 0, NULL, 0, s));
        if (jn_cuda_count_errors(c->ws, c->params, c->x, c->y, rows, c->sums))
            return -1;
    }
    jn_nvtx_pop();
    jn_step_sums total;
    JN_CUDA(cudaMemcpyAsync(&total, c->sums, sizeof total, cudaMemcpyDeviceToHost, s));
    JN_CUDA(cudaStreamSynchronize(s));
    *errors = (long)total.errors;
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
    free_set(&c->train);
    for (int i = 0; i < c->eval_count; i++)
        free_set(&c->eval[i]);
    void *buffers[] = {c->params, c->velocity, c->grad, c->x, c->xi, c->eps, c->v, c->y, c->keys, c->sorted_keys,
                       c->index, c->perm, c->identity, c->sort_temp, c->ctl, c->sums};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        cudaFree(buffers[i]);
    jn_cuda_ctx_close(&c->ctx);
    free(c);
}

static const jn_backend_ops cuda_ops = {
    .name = "cuda",
    .preferred_chunk = MAX_CHUNK,
    .set_state = cuda_set_state,
    .get_state = cuda_get_state,
    .train = cuda_train,
    .count_errors = cuda_count_errors,
    .destroy = cuda_destroy,
};

static int alloc_all(cuda_backend *c, const jn_dataset *train)
{
    const jn_model *m = &c->model;
    const size_t P = m->n_params, B = (size_t)c->setup.batch, n = (size_t)train->n;
    const size_t rows = B > EVAL_ROWS ? B : EVAL_ROWS, biggest = n > EVAL_ROWS ? n : EVAL_ROWS;
    const jn_noise_sizes ns = jn_objective_noise_sizes(&c->obj, m, (int)B);
    c->K = jn_objective_tangents(&c->obj, m);
    struct {
        void **ptr;
        size_t bytes;
    } want[] = {
        {(void **)&c->params, P * sizeof(float)}, {(void **)&c->velocity, P * sizeof(float)},
        {(void **)&c->grad, P * sizeof(float)}, {(void **)&c->x, rows * m->sizes[0] * sizeof(float)},
        {(void **)&c->y, rows * sizeof(int32_t)}, {(void **)&c->xi, (ns.xi + 1) * sizeof(float)},
        {(void **)&c->eps, (ns.eps + 1) * sizeof(float)}, {(void **)&c->v, (ns.v + 1) * sizeof(float)},
        {(void **)&c->keys, n * sizeof(uint32_t)}, {(void **)&c->sorted_keys, n * sizeof(uint32_t)},
        {(void **)&c->index, n * sizeof(uint32_t)}, {(void **)&c->perm, n * sizeof(uint32_t)},
        {(void **)&c->identity, biggest * sizeof(uint32_t)}, {(void **)&c->ctl, sizeof(jn_step_ctl)},
        {(void **)&c->sums, MAX_CHUNK * sizeof(jn_step_sums)},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (cudaMalloc(want[i].ptr, want[i].bytes) != cudaSuccess) {
            size_t free_bytes = 0, total = 0;
            cudaMemGetInfo(&free_bytes, &total);
            return jn_fail("out of GPU memory (%.1f of %.1f GiB free) for a model of %zu parameters, batch %zu",
                           free_bytes / 1073741824.0, total / 1073741824.0, P, B);
        }
    c->sort_bytes = jn_k_shuffle_temp_bytes(train->n);
    JN_CUDA(cudaMalloc(&c->sort_temp, c->sort_bytes ? c->sort_bytes : 1));
    uint32_t *identity = malloc(biggest * sizeof(uint32_t));
    if (!identity)
        return jn_fail("out of memory");
    for (size_t i = 0; i < biggest; i++)
        identity[i] = (uint32_t)i;
    cudaError_t e = cudaMemcpy(c->identity, identity, biggest * sizeof(uint32_t), cudaMemcpyHostToDevice);
    free(identity);
    JN_CUDA(e);
    return 0;
}

jn_backend *jn_cuda_backend_create(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                                   const jn_dataset *train)
{
    cuda_backend *c = calloc(1, sizeof *c);
    if (!c) {
        jn_fail("out of memory for the CUDA backend");
        return NULL;
    }
    c->base.ops = &cuda_ops;
    c->model = *m;
    c->obj = *obj;
    c->setup = *setup;
    c->use_graph = setup->cuda_graph;
    c->perm_epoch = -1;
    c->hp = (jn_hparams){(float)0, (float)setup->momentum, (float)obj->weight_decay, (float)obj->input_noise,
                         (float)obj->jac_noise, (float)obj->jac_lambda};
    const int rows = setup->batch > EVAL_ROWS ? setup->batch : EVAL_ROWS;
    if (jn_cuda_ctx_open(&c->ctx, setup->tf32) || !(c->ws = jn_cuda_ws_new(&c->ctx, m, obj, rows, 1)) ||
        alloc_all(c, train) || upload_set(train, &c->train)) {
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
