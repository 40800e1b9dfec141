/* One training step of the CPU reference: the main loss writes its gradient into grad, the
 * penalty adds its own (SPEC "Objective for one minibatch"). Where jn_cpu_stacked holds, the two
 * share GEMMs, mirroring the CUDA engine's stacked rows: with hidden1 the first layer's weights
 * multiply the main rows and the corrupted rows in one GEMM each way; with the output's
 * Gaussian tangents the main rows ride in the penalty's first pass through every layer
 * (penalty.c). */
#include "cpu/ops.h"

void jn_cpu_loss_grad(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                      const jn_real *xi, double scale, jn_step_terms *terms, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows;
    jn_phase_mark(ws->clock, JN_PHASE_FORWARD);
    jn_cpu_corrupt(batch->x, xi, (jn_real)ws->obj.input_noise, (size_t)B * m->sizes[0], ws->act[0]);
    jn_cpu_forward(ws, params, B, 1, m->n_layers);
    jn_cpu_main_loss(ws, batch, ws->act[m->n_layers], scale, ws->delta[0], terms);
    jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
    jn_cpu_backward(ws, params, B, 1, NULL, grad);
}

/* The main rows and copy 0's corrupted rows stacked in h[0]; the later copies alone. */
static void hidden1_step(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch, const jn_noise *noise,
                         jn_step_terms *terms, jn_real *grad)
{
    const jn_model *m = &ws->model;
    const jn_objective *obj = &ws->obj;
    const int B = batch->rows, copies = obj->jac_copies;
    const size_t per_copy = (size_t)B * m->sizes[0];
    const double copy_scale = obj->jac_lambda / B / copies;
    double r = 0;
    jn_phase_mark(ws->clock, JN_PHASE_FORWARD);
    jn_cpu_hidden1_unit_norms(ws, params);
    for (int copy = 0; copy < copies; copy++) {
        const int main_rows = copy == 0 ? B : 0;
        const jn_real *eps = noise->eps ? noise->eps + copy * per_copy : NULL;
        jn_phase_mark(ws->clock, JN_PHASE_FORWARD);
        if (main_rows)
            jn_cpu_stack_inputs(batch->x, noise->xi, (jn_real)obj->input_noise, eps, (jn_real)obj->jac_noise,
                                per_copy, ws->h[0], ws->h[0] + per_copy);
        else
            jn_cpu_corrupt(batch->x, eps, (jn_real)obj->jac_noise, per_copy, ws->h[0] + per_copy);
        r += jn_cpu_hidden1_forward(ws, params, main_rows, B, copy_scale, grad);
        if (main_rows) {
            jn_phase_mark(ws->clock, JN_PHASE_FORWARD);
            jn_cpu_forward(ws, params, B, 2, m->n_layers);
            jn_cpu_main_loss(ws, batch, ws->act[m->n_layers], 1.0 / B, ws->delta[0], terms);
            jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
            jn_cpu_backward(ws, params, B, 2, ws->pre[1], grad);
        }
        jn_phase_mark(ws->clock, JN_PHASE_BACKWARD);
        jn_cpu_hidden1_backward(ws, params, main_rows, B, copy_scale, grad);
    }
    terms->penalty = r / ((double)copies * B);
}

void jn_cpu_step(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                 const jn_noise *noise, jn_step_terms *terms, jn_real *grad)
{
    const jn_objective *obj = &ws->obj;
    const double B = batch->rows;
    if (jn_cpu_stacked(obj)) {
        if (obj->target == JN_TARGET_HIDDEN1)
            hidden1_step(ws, params, batch, noise, terms, grad);
        else
            jn_cpu_stacked_penalty_step(ws, params, batch, noise, terms, grad);
        return;
    }
    jn_cpu_loss_grad(ws, params, batch, noise->xi, 1.0 / B, terms, grad);
    terms->penalty = 0;
    if (obj->jac_lambda > 0)
        jn_cpu_penalty_grad(ws, params, batch, noise->eps, noise->v, obj->jac_lambda / B, terms, grad);
}
