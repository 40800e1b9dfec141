/* The update over all parameters of all models in one launch (mirrors src/cpu/optimizer.c):
 * momentum, weight decay (weights only, found from the layer spans) and the step, fused so
 * that each parameter, gradient and velocity is read and written once. A step whose loss
 * or penalty is not finite is not applied (the trainer then reports the divergence). */
#include "common.cuh"
#include "jacnoise/elementwise.h"

#include <math.h>

__global__ void sgd_update_kernel(float *params, const float *grad, float *velocity, size_t n_params,
                                  const jn_hparams *hp, jn_weight_spans spans, const jn_step_sums *sums,
                                  const jn_step_ctl *ctl, int models)
{
    const size_t m = blockIdx.z;
    if (ctl) {
        const jn_step_sums *own = &sums[ctl->slot * models + m];
        if (ctl->diverged || !isfinite(own->loss) || !isfinite(own->penalty))
            return;
    }
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

extern "C" int jn_k_sgd_update(float *params, const float *grad, float *velocity, size_t n_params, int models,
                               const jn_hparams *hp, jn_weight_spans spans, const jn_step_sums *sums,
                               const jn_step_ctl *ctl, cudaStream_t s)
{
    dim3 grid(jn_blocks(n_params), 1, models);
    sgd_update_kernel<<<grid, JN_THREADS, 0, s>>>(params, grad, velocity, n_params, hp, spans, sums, ctl, models);
    JN_LAUNCHED();
}
