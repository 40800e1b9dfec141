/* The training state of M models on the device (parameters, velocity, gradient) and the
 * control a captured step reads: where the chunk stands (jn_step_ctl), where each model stands
 * (jn_model_ctl: its seed, its step, whether it trains and where it stopped) and the chunk's
 * sums. Everything a refill or a new chunk changes lives in these device arrays, written
 * between chunks, so one captured step graph stays valid for the backend's life. */
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "cuda/slots.h"
#include "jacnoise/cuda.h"

#include <stdio.h>
#include <string.h>

/* The device buffers of `models` slots of n_params parameters: for allocation and the byte
 * count alike. All cleared: a slot that has not been given a state computes on zeros, never
 * on garbage. */
static int slot_buffers(jn_cuda_slots *s, size_t n_params, int models, int max_steps, jn_cuda_buffer *out)
{
    const size_t M = (size_t)models, P = n_params * sizeof(float);
    const jn_cuda_buffer want[] = {
        {(void **)&s->params, M * P, 1},
        {(void **)&s->velocity, M * P, 1},
        {(void **)&s->grad, M * P, 1},
        {(void **)&s->ctl, sizeof(jn_step_ctl), 1},
        {(void **)&s->model, M * sizeof(jn_model_ctl), 1},
        {(void **)&s->sums, (size_t)max_steps * M * sizeof(jn_step_sums), 1},
    };
    memcpy(out, want, sizeof want);
    return (int)(sizeof want / sizeof want[0]);
}

size_t jn_cuda_slots_bytes(const jn_model *m, int models, int max_steps)
{
    jn_cuda_slots scratch;
    jn_cuda_buffer list[8];
    return jn_cuda_buffers_bytes(list, slot_buffers(&scratch, m->n_params, models, max_steps, list));
}

int jn_cuda_slots_alloc(jn_cuda_slots *s, const jn_model *m, int models, int max_steps)
{
    memset(s, 0, sizeof *s);
    s->models = models;
    s->max_steps = max_steps;
    s->n_params = m->n_params;
    jn_cuda_buffer list[8];
    char what[96];
    snprintf(what, sizeof what, "%d model(s) of %zu parameters", models, m->n_params);
    return jn_cuda_buffers_alloc(list, slot_buffers(s, m->n_params, models, max_steps, list), what);
}

void jn_cuda_slots_free(jn_cuda_slots *s)
{
    jn_cuda_buffer list[8];
    jn_cuda_buffers_free(list, slot_buffers(s, s->n_params, s->models, s->max_steps, list));
    memset(s, 0, sizeof *s);
}

int jn_cuda_slots_begin(jn_cuda_slots *s, const jn_model_ctl *model, int64_t batch, cudaStream_t stream)
{
    /* Synchronous, as jn_cuda_ws_set_hparams: the host array may change as soon as this
     * returns (a refill), which an asynchronous copy of pageable memory could still read. */
    JN_CUDA(cudaMemcpy(s->model, model, sizeof *model * (size_t)s->models, cudaMemcpyHostToDevice));
    JN_KERNEL(jn_k_set_ctl(s->ctl, batch, stream));
    return 0;
}

int jn_cuda_slots_read(jn_cuda_slots *s, int steps, jn_model_ctl *model, jn_step_sums *sums, cudaStream_t stream)
{
    JN_CUDA(cudaMemcpyAsync(model, s->model, sizeof *model * (size_t)s->models, cudaMemcpyDeviceToHost, stream));
    JN_CUDA(cudaMemcpyAsync(sums, s->sums, sizeof *sums * (size_t)steps * s->models, cudaMemcpyDeviceToHost, stream));
    JN_CUDA(cudaStreamSynchronize(stream));
    return 0;
}
