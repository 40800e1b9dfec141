/* One training step on the GPU (mirrors src/cpu/step.c, forward.c and backward.c): the main
 * loss and its back-propagation, then the penalty (penalty.c), each adding into grad; the
 * update; evaluation of errors (one evaluation batch for every model). Launches only: nothing
 * waits for the device. */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/workspace.h"

/* With logits_bias 0 the logits stay without their bias: the loss kernel adds it. */
int jn_cuda_forward(jn_cuda_ws *ws, const float *params, const float *x, size_t x_stride, int rows, int top,
                    int logits_bias)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params;
    cudaStream_t s = ws->ctx->stream;
    for (int l = 1; l <= top; l++) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t out_stride = (size_t)rows * n_out;
        const float *in = l == 1 ? x : ws->act[l - 1];
        const size_t in_stride = l == 1 ? x_stride : (size_t)rows * n_in;
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

/* Back-propagates delta[0] = dObj/dlogits through the activations of the last forward, whose
 * input was x (model stride rows * sizes[0]); the logits' bias gradient is the loss
 * kernel's, each hidden layer's comes with its tanh derivative. */
static int backward(jn_cuda_ws *ws, const float *params, const float *x, int rows, float *grad)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params;
    cudaStream_t s = ws->ctx->stream;
    int cur = 0;
    for (int l = m->n_layers; l >= 1; l--) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t d_stride = (size_t)rows * n_out, x_stride = (size_t)rows * n_in;
        if (jn_cuda_gemm_weight_grad(&ws->gemm, ws->models, rows, n_out, n_in, ws->delta[cur], d_stride,
                                     l == 1 ? x : ws->act[l - 1], x_stride, grad + m->w_offset[l], P))
            return -1;
        if (l == 1)
            break;
        if (jn_cuda_gemm_input_grad(&ws->gemm, ws->models, rows, n_out, n_in, ws->delta[cur], d_stride,
                                    params + m->w_offset[l], P, ws->delta[1 - cur], x_stride))
            return -1;
        JN_KERNEL(jn_k_tanh_backward(ws->delta[1 - cur], ws->act[l - 1], rows, n_in, x_stride, ws->models,
                                     grad + m->b_offset[l - 1], P, s));
        cur = 1 - cur;
    }
    return 0;
}

int jn_cuda_loss_grad(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const float *xi,
                      jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const int B = batch->rows, L = m->n_layers, C = m->sizes[L];
    const size_t in = (size_t)B * m->sizes[0];
    cudaStream_t s = ws->ctx->stream;
    /* Without input noise the batch itself is the input: no copy. */
    const float *x = xi ? ws->act[0] : batch->x;
    jn_cuda_phase(JN_PHASE_FORWARD);
    int rc = xi ? JN_LAUNCH(jn_k_add_noise(batch->x, in, xi, in, ws->hp, 0, in, ws->models, ws->act[0], in, s)) : 0;
    rc = rc || jn_cuda_forward(ws, params, x, in, B, L, 0) ||
         JN_LAUNCH(jn_k_loss_rows((int)ws->obj.loss, ws->act[L], params + m->b_offset[L], m->n_params, batch->y, B,
                                  C, ws->models, 1.0 / B, ws->delta[0], sums, ctl, grad + m->b_offset[L], s));
    if (!rc) {
        jn_cuda_phase(JN_PHASE_BACKWARD);
        rc = backward(ws, params, x, B, grad);
    }
    return jn_cuda_phase_end(rc ? -1 : 0);
}

int jn_cuda_step(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                 jn_step_sums *sums, const jn_step_ctl *ctl, float *grad)
{
    jn_cuda_phase(JN_PHASE_FORWARD);
    cudaError_t zeroed = cudaMemsetAsync(grad, 0, sizeof(float) * ws->model.n_params * (size_t)ws->models,
                                         ws->ctx->stream);
    jn_cuda_phase(JN_PHASE_NONE);
    JN_CUDA(zeroed);
    if (jn_cuda_loss_grad(ws, params, batch, noise->xi, sums, ctl, grad))
        return -1;
    if (ws->obj.jac_lambda > 0 && jn_cuda_penalty_grad(ws, params, batch, noise->eps, noise->v, sums, ctl, grad))
        return -1;
    return 0;
}

int jn_cuda_sgd_update(jn_cuda_ws *ws, float *params, const float *grad, float *velocity,
                       const jn_step_sums *sums, const jn_step_ctl *ctl, jn_model_ctl *model)
{
    const jn_model *m = &ws->model;
    jn_weight_spans spans = {.layers = m->n_layers};
    for (int l = 1; l <= m->n_layers; l++) {
        spans.w_off[l - 1] = m->w_offset[l];
        spans.w_len[l - 1] = (uint64_t)m->sizes[l] * (uint64_t)m->sizes[l - 1];
    }
    jn_cuda_phase(JN_PHASE_UPDATE);
    return jn_cuda_phase_end(JN_LAUNCH(jn_k_sgd_update(params, grad, velocity, m->n_params, ws->models, ws->hp, spans,
                                                       sums, ctl, model, ws->ctx->stream)));
}

int jn_cuda_count_errors(jn_cuda_ws *ws, const float *params, const float *x, const int32_t *y, int rows,
                         jn_step_sums *sums)
{
    const jn_model *m = &ws->model;
    cudaStream_t s = ws->ctx->stream;
    if (jn_cuda_forward(ws, params, x, 0, rows, m->n_layers, 1))
        return -1;
    JN_KERNEL(jn_k_argmax_errors(ws->act[m->n_layers], y, rows, m->sizes[m->n_layers], ws->models, ws->row_error, s));
    JN_KERNEL(jn_k_sum_into(ws->row_error, rows, ws->models, 2, 1.0, sums, NULL, s));
    return 0;
}

int jn_cuda_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows, int batch_size)
{
    jn_batch batch;
    jn_noise noise;
    if (jn_cuda_step_inputs_fill(in, ws->ctx->stream, &ws->obj, &ws->model, slots, rows, batch_size, &batch, &noise) ||
        jn_cuda_step(ws, slots->params, &batch, &noise, slots->sums, slots->ctl, slots->grad) ||
        jn_cuda_sgd_update(ws, slots->params, slots->grad, slots->velocity, slots->sums, slots->ctl, slots->model))
        return -1;
    /* k++ is the update's bookkeeping. */
    jn_cuda_phase(JN_PHASE_UPDATE);
    return jn_cuda_phase_end(JN_LAUNCH(jn_k_advance(slots->ctl, ws->ctx->stream)));
}

int jn_cuda_capture_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows,
                               int batch_size, jn_gemm_log *log, cudaGraphExec_t *exec)
{
    cudaStream_t s = ws->ctx->stream;
    cudaGraph_t graph;
    jn_cuda_ws_log_gemms(ws, log);
    JN_CUDA(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    int rc = jn_cuda_train_step(ws, in, slots, rows, batch_size);
    cudaError_t end = cudaStreamEndCapture(s, &graph);
    jn_cuda_ws_log_gemms(ws, NULL);
    if (end == cudaSuccess && rc)
        cudaGraphDestroy(graph);
    if (rc)
        return -1;
    JN_CUDA(end);
    cudaError_t made = cudaGraphInstantiate(exec, graph, 0);
    cudaGraphDestroy(graph);
    JN_CUDA(made);
    return 0;
}
