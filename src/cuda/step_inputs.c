/* A step's inputs on the device (mirrors src/cpu/step_inputs.c): the resident data set, the
 * epoch's shuffle, and each step's gathered batch and noise. The CUDA backend and
 * `jacnoise check` both take their inputs from here. */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "jacnoise/cuda.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jn_cuda_upload(void **dev, const void *host, size_t bytes, const char *what)
{
    cudaError_t e = cudaMalloc(dev, bytes ? bytes : 1);
    if (e == cudaSuccess)
        e = cudaMemcpy(*dev, host, bytes, cudaMemcpyHostToDevice);
    if (e == cudaSuccess)
        return 0;
    jn_cuda_forget_error();
    return jn_fail("uploading %s (%zu bytes) to the GPU: %s", what, bytes, cudaGetErrorString(e));
}

int jn_cuda_set_upload(const jn_dataset *set, jn_cuda_set *out)
{
    memset(out, 0, sizeof *out);
    out->host = set;
    const size_t n = (size_t)set->n * set->d;
    int bytes = 1;
    for (size_t k = 0; k < n && bytes; k++) {
        float scaled = rintf(set->x[k] * 255.0f);
        bytes = scaled >= 0 && scaled <= 255 && scaled / 255.0f == set->x[k];
    }
    char what[100];
    snprintf(what, sizeof what, "%s's examples as %s", set->name, bytes ? "bytes" : "floats");
    if (bytes) {
        uint8_t *host = malloc(n ? n : 1);
        if (!host)
            return jn_fail("out of memory staging %s", set->name);
        for (size_t k = 0; k < n; k++)
            host[k] = (uint8_t)rintf(set->x[k] * 255.0f);
        int rc = jn_cuda_upload((void **)&out->bytes, host, n, what);
        free(host);
        if (rc)
            return -1;
    } else if (jn_cuda_upload((void **)&out->floats, set->x, sizeof(float) * n, what)) {
        return -1;
    }
    snprintf(what, sizeof what, "%s's labels", set->name);
    return jn_cuda_upload((void **)&out->labels, set->y, sizeof(int32_t) * set->n, what);
}

void jn_cuda_set_free(jn_cuda_set *set)
{
    cudaFree(set->bytes);
    cudaFree(set->floats);
    cudaFree(set->labels);
    memset(set, 0, sizeof *set);
}

int jn_cuda_step_inputs_alloc(jn_cuda_step_inputs *in, const jn_model *m, const jn_objective *obj,
                              const jn_dataset *train, int batch, int eval_rows)
{
    memset(in, 0, sizeof *in);
    in->perm_epoch = -1;
    in->copies = obj->jac_copies;
    in->tangents = jn_objective_tangents(obj, m);
    const jn_noise_sizes ns = jn_objective_noise_sizes(obj, m, batch);
    const size_t n = (size_t)train->n, rows = (size_t)(batch > eval_rows ? batch : eval_rows);
    struct {
        void **ptr;
        size_t bytes;
    } want[] = {
        {(void **)&in->x, rows * m->sizes[0] * sizeof(float)}, {(void **)&in->y, rows * sizeof(int32_t)},
        {(void **)&in->xi, (ns.xi + 1) * sizeof(float)},       {(void **)&in->eps, (ns.eps + 1) * sizeof(float)},
        {(void **)&in->v, (ns.v + 1) * sizeof(float)},         {(void **)&in->keys, (n + 1) * sizeof(uint32_t)},
        {(void **)&in->sorted_keys, (n + 1) * sizeof(uint32_t)}, {(void **)&in->index, (n + 1) * sizeof(uint32_t)},
        {(void **)&in->perm, (n + 1) * sizeof(uint32_t)},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (cudaMalloc(want[i].ptr, want[i].bytes) != cudaSuccess) {
            jn_cuda_forget_error();
            size_t free_bytes = 0, total = 0;
            cudaMemGetInfo(&free_bytes, &total);
            return jn_fail("out of GPU memory (%.1f of %.1f GiB free) for batches of %d examples, their noise "
                           "(%zu values) and the shuffle of %zu examples",
                           free_bytes / 1073741824.0, total / 1073741824.0, batch, ns.xi + ns.eps + ns.v, n);
        }
    in->sort_bytes = jn_k_shuffle_temp_bytes(train->n);
    JN_CUDA(cudaMalloc(&in->sort_temp, in->sort_bytes ? in->sort_bytes : 1));
    return jn_cuda_set_upload(train, &in->train);
}

void jn_cuda_step_inputs_free(jn_cuda_step_inputs *in)
{
    jn_cuda_set_free(&in->train);
    void *buffers[] = {in->x, in->xi, in->eps, in->v, in->y, in->keys, in->sorted_keys, in->index, in->perm,
                       in->sort_temp};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        cudaFree(buffers[i]);
    memset(in, 0, sizeof *in);
}

int jn_cuda_step_inputs_shuffle(jn_cuda_step_inputs *in, cudaStream_t s, uint64_t seed, int epoch)
{
    if (in->perm_epoch == epoch)
        return 0;
    jn_nvtx_push(JN_PHASE_DATA);
    int rc = JN_LAUNCH(jn_k_shuffle(seed, epoch, in->train.host->n, in->keys, in->sorted_keys, in->index, in->perm,
                                    in->sort_temp, in->sort_bytes, s));
    jn_nvtx_pop();
    if (rc)
        return -1;
    in->perm_epoch = epoch;
    return 0;
}

int jn_cuda_step_inputs_fill(jn_cuda_step_inputs *in, cudaStream_t s, const jn_objective *obj, const jn_model *m,
                             const jn_step_ctl *ctl, uint64_t seed, int rows, int batch_size, jn_batch *batch,
                             jn_noise *noise)
{
    const jn_noise_sizes n = jn_objective_noise_sizes(obj, m, rows);
    float *xi = n.xi ? in->xi : NULL, *eps = n.eps ? in->eps : NULL, *v = n.v ? in->v : NULL;
    jn_nvtx_push(JN_PHASE_DATA);
    int rc = JN_LAUNCH(jn_k_gather_noise(in->train.bytes, in->train.floats, in->train.labels, m->sizes[0], in->perm,
                                         batch_size, rows, ctl, seed, 1, in->x, in->y, xi, eps, in->copies, v,
                                         in->tangents, s));
    jn_nvtx_pop();
    if (rc)
        return -1;
    *batch = (jn_batch){in->x, in->y, rows};
    *noise = (jn_noise){xi, eps, v};
    return 0;
}
