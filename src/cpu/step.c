/* One training step of the CPU reference: the main loss writes its gradient into grad, the
 * penalty adds its own (SPEC "Objective for one minibatch"). */
#include "cpu/ops.h"

void jn_cpu_loss_grad(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                      const jn_real *xi, double scale, jn_step_terms *terms, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows, L = m->n_layers, C = m->sizes[L];
    jn_phase_mark(ws->clock, JN_PHASE_FORWARD);
    jn_cpu_corrupt(batch->x, xi, (jn_real)ws->obj.input_noise, (size_t)B * m->sizes[0], ws->act[0]);
    jn_cpu_forward(ws, params, B, L);
    terms->errors = 0;
    terms->loss = jn_cpu_loss_rows(ws->obj.loss, ws->act[L], batch->y, B, C, scale, ws->delta[0],
                                   &terms->errors) / B;
    jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
    jn_cpu_backward(ws, params, B, grad);
}

void jn_cpu_step(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                 const jn_noise *noise, jn_step_terms *terms, jn_real *grad)
{
    const jn_objective *obj = &ws->obj;
    const double B = batch->rows;
    jn_cpu_loss_grad(ws, params, batch, noise->xi, 1.0 / B, terms, grad);
    terms->penalty = 0;
    if (obj->jac_lambda > 0)
        jn_cpu_penalty_grad(ws, params, batch, noise->eps, noise->v, obj->jac_lambda / B, terms, grad);
}

