/* One training step on the GPU (mirrors src/cpu/step.c, forward.c and backward.c): the main
 * loss and the penalty, the update; evaluation of errors (one evaluation batch for every
 * model). With a penalty the main loss's rows ride in the penalty's stacked buffers up to the
 * penalised layer (tangent.c; hidden1: penalty.c's closed form), so that each of those layers
 * is one GEMM and one elementwise kernel per direction for both; above it, and without a
 * penalty, the main rows go alone. The step takes the CPU's shapes (jn_cpu_step): the main
 * loss alone, hidden1's step, or the stacked penalty step, which here also serves a hidden
 * layer's penalty and the exact output norm (jn_cuda_stacked), where the CPU runs them after
 * the main loss (jn_cpu_penalty_grad).
 * Launches only: nothing waits for the device. */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/step_inputs.h"
#include "cuda/workspace.h"

/* Forward pass of rows x (model stride x_stride; 0: one copy for every model) through layers
 * bottom .. top into act[bottom .. top] (mirrors jn_cpu_forward); the logits get their bias
 * only with logits_bias (the training loss adds it in its own kernel). */
static int forward(jn_cuda_ws *ws, const float *params, const float *x, size_t x_stride, int rows, int bottom, int top,
                   int logits_bias)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params;
    cudaStream_t s = ws->ctx->stream;
    for (int l = bottom; l <= top; l++) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t out_stride = (size_t)rows * n_out;
        const float *in = l == bottom ? x : ws->act[l - 1];
        const size_t in_stride = l == bottom ? x_stride : (size_t)rows * n_in;
        if (jn_cuda_gemm_forward(&ws->gemm, ws->models, rows, n_out, n_in, in, in_stride, params + m->w_offset[l], P,
                                 ws->act[l], out_stride))
            return -1;
        if (l < m->n_layers)
            JN_KERNEL(jn_k_bias_tanh(ws->act[l], params + m->b_offset[l], P, rows, n_out, out_stride, ws->models,
                                     ws->act[l], s));
        else if (logits_bias)
            JN_KERNEL(jn_k_bias_add(ws->act[l], params + m->b_offset[l], P, rows, n_out, out_stride, ws->models, s));
    }
    return 0;
}

/* Back-propagates delta[0] = dObj/dlogits through the main rows' activations of layers
 * L .. bottom, whose input was x (model stride x_stride); with dx, the adjoints of that input
 * go there (model stride dx_stride). The logits' bias gradient is the loss kernel's, each
 * hidden layer's comes with its tanh derivative. */
static int backward(jn_cuda_ws *ws, const float *params, const float *x, size_t x_stride, int rows, int bottom,
                    float *dx, size_t dx_stride, float *grad)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params;
    cudaStream_t s = ws->ctx->stream;
    int cur = 0;
    for (int l = m->n_layers; l >= bottom; l--) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t d_stride = (size_t)rows * n_out, a_stride = (size_t)rows * n_in;
        const float *in = l == bottom ? x : ws->act[l - 1];
        if (jn_cuda_gemm_weight_grad(&ws->gemm, ws->models, rows, n_out, n_in, ws->delta[cur], d_stride, in,
                                     l == bottom ? x_stride : a_stride, grad + m->w_offset[l], P))
            return -1;
        if (l == bottom) {
            if (dx && jn_cuda_gemm_input_grad(&ws->gemm, ws->models, rows, n_out, n_in, ws->delta[cur], d_stride,
                                              params + m->w_offset[l], P, dx, dx_stride))
                return -1;
            break;
        }
        if (jn_cuda_gemm_input_grad(&ws->gemm, ws->models, rows, n_out, n_in, ws->delta[cur], d_stride,
                                    params + m->w_offset[l], P, ws->delta[1 - cur], a_stride))
            return -1;
        JN_KERNEL(jn_k_tanh_backward_sums(ws->delta[1 - cur], ws->act[l - 1], rows, n_in, a_stride, ws->models,
                                          grad + m->b_offset[l - 1], P, s));
        cur = 1 - cur;
    }
    return 0;
}

/* The loss rows of the logits at `logits` (model stride `stride`), their deltas to dlogits. */
static jn_loss_rows loss_rows(jn_cuda_ws *ws, const float *params, const jn_batch *batch, float *logits,
                              float *dlogits, size_t stride, float *grad)
{
    const jn_model *m = &ws->model;
    const int L = m->n_layers;
    return (jn_loss_rows){(int)ws->obj.loss, m->sizes[L], logits, dlogits, grad + m->b_offset[L],
                          params + m->b_offset[L], batch->y, stride, m->n_params, 1.0 / batch->rows};
}

static const jn_norm_rows no_norm_rows;

static int top_terms(jn_cuda_ws *ws, jn_loss_rows loss, jn_norm_rows norms, int rows, int write_sums,
                     jn_step_sums *sums, const jn_step_ctl *ctl)
{
    JN_KERNEL(jn_k_top_terms(loss, norms, rows, ws->models, ws->hp, write_sums, ws->row_terms, ws->tickets, sums, ctl,
                             ws->ctx->stream));
    return 0;
}

/* Where the first pass's input rows go: the stacked buffer's main, primal and first tangent
 * rows; without a penalty the main rows with input noise (act[0]). Without noise or penalty
 * the batch is the input: none. */
static jn_stack_dst first_stack(const jn_cuda_ws *ws, int B)
{
    const jn_model *m = &ws->model;
    const size_t d = (size_t)m->sizes[0], R = jn_cuda_penalty_rows(ws, B);
    jn_stack_dst st = {0};
    if (jn_cuda_stacked(ws)) {
        /* The exact output norm's rows are not input rows (jacobian_rows.c). */
        const int K = jn_cuda_jacobian_rows(ws) ? 0 : jn_objective_tangents(&ws->obj, m), chunk = ws->tangent_chunk;
        st = (jn_stack_dst){ws->h[0], R * d, ws->h[0] + (size_t)B * d, R * d, K < chunk ? K : chunk, 0,
                            ws->obj.jac_proj == JN_PROJ_EXACT};
    } else if (ws->obj.input_noise > 0) {
        st.main = ws->act[0];
        st.main_stride = (size_t)B * d;
    }
    return st;
}

/* The main loss alone (mirrors jn_cpu_loss_grad): its rows from x (model stride B d). */
static int loss_grad(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const float *x, jn_step_sums *sums,
                     const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows, L = m->n_layers;
    const size_t in = (size_t)B * m->sizes[0];
    jn_cuda_phase(JN_PHASE_FORWARD);
    if (forward(ws, params, x, in, B, 1, L, 0) ||
        top_terms(ws, loss_rows(ws, params, batch, ws->act[L], ws->delta[0], (size_t)B * m->sizes[L], grad),
                  no_norm_rows, B, 1, sums, ctl))
        return -1;
    jn_cuda_phase(JN_PHASE_BACKWARD);
    return backward(ws, params, x, in, B, 1, NULL, 0, grad);
}

/* hidden1 (mirrors hidden1_step of src/cpu/step.c): the main rows and copy 0's corrupted rows
 * stacked in h[0] (by step), the later copies alone. The closed form's rows kernel writes the
 * step's sums with copy 0 (the main loss's kernel and the later copies add to them). */
static int hidden1_step(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                        jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows, L = m->n_layers, copies = ws->obj.jac_copies;
    const size_t h1_stride = jn_cuda_penalty_rows(ws, B) * m->sizes[1];
    jn_cuda_phase(JN_PHASE_FORWARD);
    if (jn_cuda_hidden1_unit_norms(ws, params))
        return -1;
    for (int copy = 0; copy < copies; copy++) {
        const int main_rows = copy == 0 ? B : 0;
        jn_cuda_phase(JN_PHASE_FORWARD);
        if ((!main_rows && jn_cuda_stack_copy(ws, batch, noise, copy, 0, 0)) ||
            jn_cuda_hidden1_forward(ws, params, main_rows, B, sums, ctl))
            return -1;
        if (main_rows) {
            jn_cuda_phase(JN_PHASE_FORWARD);
            if (forward(ws, params, ws->h[1], h1_stride, B, 2, L, 0))
                return -1;
            if (top_terms(ws, loss_rows(ws, params, batch, ws->act[L], ws->delta[0], (size_t)B * m->sizes[L], grad),
                          no_norm_rows, B, 0, sums, ctl))
                return -1;
            jn_cuda_phase(JN_PHASE_BACKWARD);
            if (backward(ws, params, ws->h[1], h1_stride, B, 2, ws->adj[0], h1_stride, grad))
                return -1;
        }
        jn_cuda_phase(JN_PHASE_BACKWARD);
        if (jn_cuda_hidden1_backward(ws, params, main_rows, B, grad))
            return -1;
    }
    return 0;
}

/* The main loss with the penalty's first pass (copy 0, first tangent chunk) in the stacked
 * rows, then the penalty's other passes (mirrors jn_cpu_stacked_penalty_step). The step's
 * sums are written by the loss and norms kernel and added by the others. The exact output
 * norm's first pass is the primal rows' up to the last hidden layer, its Jacobian rows between
 * the main rows' backward and the stacked one (jacobian_rows.c). */
static int stacked_penalty_step(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                                int tangents, jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows, L = m->n_layers, top = jn_cuda_stack_top(ws);
    const size_t R = jn_cuda_penalty_rows(ws, B), top_stride = R * m->sizes[top];
    jn_cuda_phase(JN_PHASE_FORWARD);
    if (jn_cuda_tangent_forward(ws, params, B, B, tangents, top))
        return -1;
    /* Above the penalised layer the main rows go on alone. */
    if (top < L && forward(ws, params, ws->h[top], top_stride, B, top + 1, L, 0))
        return -1;
    /* One launch for the loss and the norms: at the output from the stacked rows, below it
     * the main rows' logits with the norm rows at top (with no tangent rows, the exact output
     * norm's, these only zero the primal rows' adjoints there: the penalty reaches them
     * through dR/dg). */
    jn_cuda_phase(JN_PHASE_PENALTY);
    const jn_loss_rows loss = top == L ? loss_rows(ws, params, batch, ws->pre[L], ws->adj[0], R * m->sizes[L], grad)
                                       : loss_rows(ws, params, batch, ws->act[L], ws->delta[0],
                                                   (size_t)B * m->sizes[L], grad);
    if (top_terms(ws, loss, jn_cuda_norm_rows(ws, B, tangents, top, ws->adj[0]), B, 1, sums, ctl))
        return -1;
    jn_cuda_phase(JN_PHASE_BACKWARD);
    if (top < L && backward(ws, params, ws->h[top], top_stride, B, top + 1, ws->adj[0], top_stride, grad))
        return -1;
    if (jn_cuda_jacobian_rows(ws) && jn_cuda_jacobian_rows_penalty(ws, params, B, sums, ctl, grad))
        return -1;
    if (jn_cuda_tangent_reverse(ws, params, B, B, tangents, top, grad))
        return -1;
    return jn_cuda_penalty_rest(ws, params, batch, noise, sums, ctl, grad);
}

/* The step, its first pass's input rows already stacked (`stacked`) or stacked here from the
 * batch and noise. */
static int step(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise, int stacked,
                jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows;
    const size_t per_copy = (size_t)B * m->sizes[0];
    const int copies = ws->obj.jac_copies, K = jn_objective_tangents(&ws->obj, m);
    cudaStream_t s = ws->ctx->stream;
    const jn_stack_dst first = first_stack(ws, B);
    jn_cuda_phase(JN_PHASE_FORWARD);
    JN_CUDA(cudaMemsetAsync(grad, 0, sizeof(float) * m->n_params * (size_t)ws->models, s));
    if (!stacked && (first.main || first.penalty))
        JN_KERNEL(jn_k_stack_inputs(batch->x, noise->xi, noise->eps, copies * per_copy, noise->v,
                                    (size_t)copies * K * per_copy, ws->hp, B, m->sizes[0], ws->models, first, s));
    if (jn_cuda_stacked(ws))
        return ws->obj.target == JN_TARGET_HIDDEN1
                   ? hidden1_step(ws, params, batch, noise, sums, ctl, grad)
                   : stacked_penalty_step(ws, params, batch, noise, first.tangents, sums, ctl, grad);
    return loss_grad(ws, params, batch, first.main ? first.main : batch->x, sums, ctl, grad);
}

int jn_cuda_step(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                 jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    return jn_cuda_phase_end(step(ws, params, batch, noise, 0, sums, ctl, grad));
}

int jn_cuda_fill_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows, int batch_size,
                      jn_batch *batch, jn_noise *noise)
{
    const jn_stack_dst first = first_stack(ws, rows);
    if (jn_cuda_step_inputs_fill(in, ws->ctx->stream, &ws->obj, &ws->model, slots, ws->hp, &first, rows, batch_size,
                                 batch, noise))
        return -1;
    return jn_cuda_phase_end(step(ws, slots->params, batch, noise, 1, slots->sums, slots->ctl, slots->grad));
}

int jn_cuda_sgd_update(jn_cuda_ws *ws, float *params, const float *grad, float *velocity,
                       const jn_step_sums *sums, jn_step_ctl *ctl, jn_model_ctl *model)
{
    const jn_model *m = &ws->model;
    jn_weight_spans spans = {.layers = m->n_layers};
    for (int l = 1; l <= m->n_layers; l++) {
        spans.w_off[l - 1] = m->w_offset[l];
        spans.w_len[l - 1] = (uint64_t)m->sizes[l] * (uint64_t)m->sizes[l - 1];
    }
    jn_cuda_phase(JN_PHASE_UPDATE);
    return jn_cuda_phase_end(JN_LAUNCH(jn_k_sgd_update(params, grad, velocity, m->n_params, ws->models, ws->hp, spans,
                                                       sums, ctl, model, ws->tickets + ws->models, ws->ctx->stream)));
}

int jn_cuda_count_errors(jn_cuda_ws *ws, const float *params, const float *x, const int32_t *y, int rows,
                         jn_step_sums *sums)
{
    const jn_model *m = &ws->model;
    cudaStream_t s = ws->ctx->stream;
    if (forward(ws, params, x, 0, rows, 1, m->n_layers, 1))
        return -1;
    JN_KERNEL(jn_k_argmax_errors(ws->act[m->n_layers], y, rows, m->sizes[m->n_layers], ws->models, ws->row_error, s));
    JN_KERNEL(jn_k_sum_errors(ws->row_error, rows, ws->models, sums, s));
    return 0;
}

int jn_cuda_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows, int batch_size)
{
    jn_batch batch;
    jn_noise noise;
    if (jn_cuda_fill_step(ws, in, slots, rows, batch_size, &batch, &noise) ||
        jn_cuda_sgd_update(ws, slots->params, slots->grad, slots->velocity, slots->sums, slots->ctl, slots->model))
        return -1;
    return 0;
}

int jn_cuda_capture_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows,
                               int batch_size, jn_gemm_log *log, cudaGraphExec_t *exec)
{
    cudaStream_t s = ws->ctx->stream;
    jn_cuda_ws_log_gemms(ws, log);
    JN_CUDA(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    int rc = jn_cuda_train_step(ws, in, slots, rows, batch_size);
    jn_cuda_ws_log_gemms(ws, NULL);
    return jn_cuda_end_capture(s, rc, exec);
}
