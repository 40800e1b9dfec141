/* The update over all parameters of all models in one launch (mirrors src/cpu/optimizer.c):
 * momentum, weight decay (weights only, found from the layer spans) and the step, fused so
 * that each parameter, gradient and velocity is read and written once; and, fused with it, each
 * model's divergence check, so that a lock-step group needs no other kernel to stop one model:
 * a model whose step has a non-finite loss or penalty is not updated and records where it
 * stopped (the trainer then reports the divergence), while the others go on. A frozen model
 * (inactive, or stopped) costs one read of its control per block. The last block to finish also
 * advances the step control, so a step ends with this launch. */
#include "common.cuh"
#include "jacnoise/elementwise.h"

#include <math.h>

__global__ void sgd_update_kernel(float *__restrict__ params, const float *__restrict__ grad,
                                  float *__restrict__ velocity, size_t n_params,
                                  const jn_hparams *hp, jn_weight_spans spans, const jn_step_sums *sums,
                                  jn_step_ctl *ctl, jn_model_ctl *model, int models, unsigned *ticket)
{
    const size_t m = blockIdx.z;
    bool update = true;
    if (ctl) {
        jn_model_ctl *own = &model[m];
        const jn_step_sums *step = &sums[ctl->k * models + m];
        if (jn_frozen(own)) {
            update = false;
        } else if (!isfinite(step->loss) || !isfinite(step->penalty)) {
            /* Every block of the model finds the same and writes the same value; a block that
             * reads it already written skips the update too, as it would from the sums. */
            if (threadIdx.x == 0)
                own->stopped_at = (int32_t)ctl->k;
            update = false;
        }
    }
    if (update) {
        const float lr = hp[m].lr, mu = hp[m].momentum, wd = hp[m].weight_decay;
        params += m * n_params;
        grad += m * n_params;
        velocity += m * n_params;
        JN_FOR(k, n_params)
        {
            float decay = 0;
            for (int l = 0; l < spans.layers; l++)
                if (k >= spans.w_off[l] && k < spans.w_off[l] + spans.w_len[l])
                    decay = wd;
            jn_sgd_momentum(&params[k], &velocity[k], grad[k], lr, mu, decay);
        }
    }
    if (!ctl)
        return;
    /* The step is over once every block has read ctl->k: the last block advances it. That was a
     * launch of its own. */
    if (jn_last_block(ticket, gridDim.x * gridDim.z) && threadIdx.x == 0)
        ctl->k++;
}

extern "C" int jn_k_sgd_update(float *params, const float *grad, float *velocity, size_t n_params, int models,
                               const jn_hparams *hp, jn_weight_spans spans, const jn_step_sums *sums,
                               jn_step_ctl *ctl, jn_model_ctl *model, unsigned *ticket, cudaStream_t s)
{
    /* At most about the blocks a GPU holds at once, all models together, each thread walking
     * its elements: a block per 256 parameters gave 7016 blocks at 784-1000-1000-10, waves of
     * blocks each waiting on its fence before the ticket, 23 us (0.9 TB/s) on an H200. */
    const unsigned most = 1024u / (unsigned)models, blocks = jn_blocks(n_params);
    dim3 grid(blocks < most ? blocks : most > 0 ? most : 1, 1, models);
    sgd_update_kernel<<<grid, JN_THREADS, 0, s>>>(params, grad, velocity, n_params, hp, spans, sums, ctl, model,
                                                  models, ticket);
    JN_LAUNCHED();
}
