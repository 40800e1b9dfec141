/* A step's inputs on the device (mirrors src/cpu/step_inputs.c): the resident data set, the
 * epoch's shuffle, and each step's gathered batch and noise. The CUDA backend and
 * `jacnoise check` both take their inputs from here. */
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/step_inputs.h"
#include "jacnoise/cuda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* *dev = a new device copy of `bytes` bytes of host memory; on failure, one message naming
 * `what`. */
static int upload(void **dev, const void *host, size_t bytes, const char *what)
{
    const cudaError_t e = cudaMalloc(dev, bytes ? bytes : 1);
    if (e != cudaSuccess)
        return jn_cuda_alloc_failed(__FILE__, __LINE__, "cudaMalloc", e, "%s (%zu bytes)", what, bytes);
    JN_CUDA(cudaMemcpy(*dev, host, bytes, cudaMemcpyHostToDevice));
    return 0;
}

/* Whether every value of the set is k/255 (MNIST): then it lives on the device as bytes. */
static int as_bytes(const jn_dataset *set)
{
    const size_t n = (size_t)set->n * set->d;
    for (size_t k = 0; k < n; k++) {
        float scaled = rintf(set->x[k] * 255.0f);
        if (!(scaled >= 0 && scaled <= 255 && scaled / 255.0f == set->x[k]))
            return 0;
    }
    return 1;
}

/* The device bytes of the set's upload. */
static size_t set_bytes(const jn_dataset *set)
{
    const size_t n = (size_t)set->n * set->d;
    return (as_bytes(set) ? n : sizeof(float) * n) + sizeof(int32_t) * (size_t)set->n;
}

/* The uploads of jn_cuda_set_upload; on a failure out holds those made so far. */
static int set_upload(const jn_dataset *set, jn_cuda_set *out)
{
    const size_t n = (size_t)set->n * set->d;
    const int bytes = as_bytes(set);
    char what[100];
    snprintf(what, sizeof what, "%s's examples as %s", set->name, bytes ? "bytes" : "floats");
    if (bytes) {
        uint8_t *host = malloc(n ? n : 1);
        if (!host)
            return jn_fail("out of memory staging %s", set->name);
        for (size_t k = 0; k < n; k++)
            host[k] = (uint8_t)rintf(set->x[k] * 255.0f);
        int rc = upload((void **)&out->bytes, host, n, what);
        free(host);
        if (rc)
            return -1;
    } else if (upload((void **)&out->floats, set->x, sizeof(float) * n, what)) {
        return -1;
    }
    snprintf(what, sizeof what, "%s's labels", set->name);
    return upload((void **)&out->labels, set->y, sizeof(int32_t) * set->n, what);
}

int jn_cuda_set_upload(const jn_dataset *set, jn_cuda_set *out)
{
    memset(out, 0, sizeof *out);
    out->host = set;
    /* A failed upload frees its examples: the backend's evaluation sets count only whole
     * uploads, and would never free a half-made one. */
    if (set_upload(set, out)) {
        jn_cuda_set_free(out);
        return -1;
    }
    return 0;
}

void jn_cuda_set_free(jn_cuda_set *set)
{
    cudaFree(set->bytes);
    cudaFree(set->floats);
    cudaFree(set->labels);
    memset(set, 0, sizeof *set);
}

enum { SHARED, PERMS, BATCHES };

/* The device buffers of a step's inputs (but the training set), for allocation and for the
 * byte count alike, with the kind of each in kind; sort_bytes: the shuffle's scratch
 * (jn_k_shuffle_temp_bytes). The batches and permutations are cleared: a slot that has not
 * trained yet gathers example 0 and finite noise. */
static int input_buffers(jn_cuda_step_inputs *in, const jn_model *m, const jn_objective *obj, long n, int batch,
                         int models, int eval_rows, size_t sort_bytes, jn_cuda_buffer *out, int *kind)
{
    const jn_noise_sizes ns = jn_objective_noise_sizes(obj, m, batch);
    const size_t M = (size_t)models, N = (size_t)n + 1, d = (size_t)m->sizes[0];
    const size_t rows = M * batch > (size_t)eval_rows ? M * batch : (size_t)eval_rows;
    const struct {
        jn_cuda_buffer b;
        int kind;
    } want[] = {
        {{(void **)&in->x, rows * d * sizeof(float), 1}, BATCHES},
        {{(void **)&in->y, rows * sizeof(int32_t), 1}, BATCHES},
        {{(void **)&in->xi, (M * ns.xi + 1) * sizeof(float), 1}, BATCHES},
        {{(void **)&in->eps, (M * ns.eps + 1) * sizeof(float), 1}, BATCHES},
        {{(void **)&in->v, (M * ns.v + 1) * sizeof(float), 1}, BATCHES},
        {{(void **)&in->perm, M * N * sizeof(uint32_t), 1}, PERMS},
        {{(void **)&in->keys, N * sizeof(uint32_t), 0}, SHARED},
        {{(void **)&in->sorted_keys, N * sizeof(uint32_t), 0}, SHARED},
        {{(void **)&in->index, N * sizeof(uint32_t), 0}, SHARED},
        {{&in->sort_temp, sort_bytes + 1, 0}, SHARED},
    };
    const int count = (int)(sizeof want / sizeof want[0]);
    for (int i = 0; i < count; i++) {
        out[i] = want[i].b;
        kind[i] = want[i].kind;
    }
    return count;
}

void jn_cuda_step_inputs_bytes(const jn_model *m, const jn_objective *obj, const jn_dataset *train, int batch,
                               int models, int eval_rows, size_t *shared, size_t *perms, size_t *batches)
{
    jn_cuda_step_inputs scratch;
    jn_cuda_buffer list[16];
    int kind[16];
    size_t by_kind[3] = {set_bytes(train), 0, 0}, sort_bytes;
    /* A device that cannot size the sort cannot run it either: the allocation reports the
     * query's error (jn_cuda_step_inputs_alloc); the estimate leaves the scratch out. */
    if (jn_k_shuffle_temp_bytes(train->n, &sort_bytes) != cudaSuccess) {
        jn_cuda_forget_error();
        sort_bytes = 0;
    }
    const int count = input_buffers(&scratch, m, obj, train->n, batch, models, eval_rows, sort_bytes, list, kind);
    for (int i = 0; i < count; i++)
        by_kind[kind[i]] += list[i].bytes;
    *shared = by_kind[SHARED];
    *perms = by_kind[PERMS];
    *batches = by_kind[BATCHES];
}

int jn_cuda_step_inputs_alloc(jn_cuda_step_inputs *in, const jn_model *m, const jn_objective *obj,
                              const jn_dataset *train, int batch, int models, int eval_rows)
{
    memset(in, 0, sizeof *in);
    /* The gather indexes a model's batch in 32 bits (jn_k_gather_noise): past that, its launch
     * would fail with a bare "invalid argument", after every buffer was allocated. */
    const size_t values = (size_t)batch * m->sizes[0];
    if (values > UINT32_MAX)
        return jn_fail("a batch of %d examples of %d inputs is %zu values: the CUDA engine indexes a batch in "
                       "32 bits (at most %u values)", batch, m->sizes[0], values, UINT32_MAX);
    in->models = models;
    in->copies = obj->jac_copies;
    in->tangents = jn_objective_tangents(obj, m);
    in->perm_seed = calloc((size_t)models, sizeof *in->perm_seed);
    in->perm_epoch = malloc(sizeof *in->perm_epoch * (size_t)models);
    if (!in->perm_seed || !in->perm_epoch)
        return jn_fail("out of memory for the shuffles of %d model%s", models, models == 1 ? "" : "s");
    for (int s = 0; s < models; s++)
        in->perm_epoch[s] = -1;
    JN_CUDA(jn_k_shuffle_temp_bytes(train->n, &in->sort_bytes));
    jn_cuda_buffer list[16];
    int kind[16];
    const int count = input_buffers(in, m, obj, train->n, batch, models, eval_rows, in->sort_bytes, list, kind);
    const jn_noise_sizes ns = jn_objective_noise_sizes(obj, m, batch);
    char what[192];
    snprintf(what, sizeof what, "batches of %d examples of %d model(s), their noise (%zu values each) and shuffles "
             "of %d examples", batch, models, ns.xi + ns.eps + ns.v, train->n);
    if (jn_cuda_buffers_alloc(list, count, what))
        return -1;
    return jn_cuda_set_upload(train, &in->train);
}

void jn_cuda_step_inputs_free(jn_cuda_step_inputs *in)
{
    jn_cuda_set_free(&in->train);
    void *buffers[] = {in->x, in->xi, in->eps, in->v, in->y, in->keys, in->sorted_keys, in->index, in->perm,
                       in->sort_temp};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        cudaFree(buffers[i]);
    free(in->perm_seed);
    free(in->perm_epoch);
    memset(in, 0, sizeof *in);
}

int jn_cuda_step_inputs_shuffle(jn_cuda_step_inputs *in, cudaStream_t s, int slot, uint64_t seed, int epoch)
{
    if (in->perm_epoch[slot] == epoch && in->perm_seed[slot] == seed)
        return 0;  /* a refill with another seed reshuffles, even at the same epoch */
    const int n = in->train.host->n;
    jn_cuda_phase(JN_PHASE_DATA);
    if (jn_cuda_phase_end(JN_LAUNCH(jn_k_shuffle(seed, epoch, n, in->keys, in->sorted_keys, in->index,
                                                 in->perm + (size_t)slot * (n + 1), in->sort_temp, in->sort_bytes,
                                                 s))))
        return -1;
    in->perm_seed[slot] = seed;
    in->perm_epoch[slot] = epoch;
    return 0;
}

int jn_cuda_step_inputs_fill(jn_cuda_step_inputs *in, cudaStream_t s, const jn_objective *obj, const jn_model *m,
                             const jn_cuda_slots *slots, const jn_hparams *hp, const jn_stack_dst *stack, int rows,
                             int batch_size, jn_batch *batch, jn_noise *noise)
{
    const jn_noise_sizes n = jn_objective_noise_sizes(obj, m, rows);
    float *xi = n.xi ? in->xi : NULL, *eps = n.eps ? in->eps : NULL, *v = n.v ? in->v : NULL;
    const jn_stack_dst none = {0};
    jn_cuda_phase(JN_PHASE_DATA);
    if (jn_cuda_phase_end(JN_LAUNCH(jn_k_gather_noise(in->train.bytes, in->train.floats, in->train.labels, m->sizes[0],
                                                      in->perm, (size_t)in->train.host->n + 1, batch_size, rows,
                                                      slots->ctl, slots->model, in->models, in->x, in->y, xi, eps,
                                                      in->copies, v, in->tangents, hp, stack ? *stack : none, s))))
        return -1;
    *batch = (jn_batch){in->x, in->y, rows};
    *noise = (jn_noise){xi, eps, v};
    return 0;
}
