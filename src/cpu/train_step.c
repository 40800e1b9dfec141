/* One SGD step as the CPU backend trains it, shared with the CPU profile target so that the
 * profile times exactly what training runs. */
#include "cpu/workspace.h"

#include <math.h>

int jn_cpu_train_step(jn_cpu_ws *ws, jn_cpu_step_inputs *in, const jn_dataset *train, const uint32_t *perm, long b,
                      int batch_size, uint64_t seed, uint64_t step, double lr, double momentum, jn_real *params,
                      jn_real *velocity, jn_real *grad, jn_step_terms *terms)
{
    jn_batch batch;
    jn_noise noise;
    jn_phase_mark(ws->clock, JN_PHASE_DATA);
    const int rows = jn_cpu_step_inputs_fill(in, &ws->model, &ws->obj, train, perm, b, batch_size, seed, step, &batch,
                                             &noise);
    jn_cpu_step(ws, params, &batch, &noise, terms, grad);
    jn_phase_mark(ws->clock, JN_PHASE_UPDATE);
    const int finite = isfinite(terms->loss) && isfinite(terms->penalty);
    if (finite)
        jn_cpu_sgd_update(&ws->model, params, grad, velocity, lr, momentum, ws->obj.weight_decay);
    jn_phase_mark(ws->clock, JN_PHASE_NONE);
    return finite ? rows : 0;
}
