/* The CUDA workspace, mirroring src/cpu/workspace.h buffer by buffer, each [M][...] with
 * the per-model stride packed by the rows of the current call. With the penalty the main loss
 * and the penalty share the stacked buffers h, pre, gate, adj and dpre of the layers up to the
 * penalised one (the exact output norm: the last hidden layer): per model R = B (2 +
 * tangent_chunk) rows, [main B | primal B | tangents tangent_chunk B] (hidden1: no tangents;
 * the exact output norm: there its Jacobian's rows, C per example), one stride for a layer's
 * buffers, so that one GEMM and one kernel per layer and direction serve both; act and delta
 * hold the main rows of the layers above it. Internal to src/cuda. */
#ifndef JACNOISE_CUDA_WORKSPACE_H
#define JACNOISE_CUDA_WORKSPACE_H

#include "cuda/gemm.h"
#include "jacnoise/cuda.h"

struct jn_cuda_ws {
    jn_cuda_ctx *ctx;
    jn_cuda_gemm gemm;
    jn_model model;
    jn_objective obj;
    int max_rows, models;
    int training;                        /* 0: forward pass only (evaluation) */
    jn_hparams *hp;                      /* device [M] (training) */

    /* main loss */
    float *act[JN_MAX_LAYERS + 1];
    float *delta[2];
    double *row_error;                   /* [M][max_rows] (evaluation) */
    double *row_terms;                   /* [M][3][rows]: loss, error, norm per row (jn_k_top_terms) */
    unsigned *tickets;                   /* [M + 1] at zero: the top kernel's per model, the update's */

    /* penalty */
    int tangent_chunk;
    float *pre[JN_MAX_LAYERS + 1], *h[JN_MAX_LAYERS + 1], *gate[JN_MAX_LAYERS + 1];
    float *adj[2], *dpre;
    float *unit_norm;                    /* hidden1: [M][n_1] */
};

/* The device bytes jn_cuda_ws_new takes for these arguments. */
size_t jn_cuda_ws_bytes(const jn_model *m, const jn_objective *obj, int max_rows, int models);

/* One whole training step of every model, as launches on the context's stream that a CUDA
 * graph can capture: jn_cuda_fill_step, then the update (which stops a diverging model and
 * advances the step control). */
int jn_cuda_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows, int batch_size);

/* Records the GEMM shapes of later calls (NULL stops): for the benchmarks. */
void jn_cuda_ws_log_gemms(jn_cuda_ws *ws, jn_gemm_log *log);

/* jn_cuda_train_step captured once into a CUDA graph (*exec; replayed by cudaGraphLaunch), its GEMM
 * calls recorded into log (NULL: none) for a floor (jn_cuda_capture_floor). */
int jn_cuda_capture_train_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows,
                               int batch_size, jn_gemm_log *log, cudaGraphExec_t *exec);

/* Whether the main loss's rows go with the penalty's in the stacked buffers: with a penalty. */
static inline int jn_cuda_stacked(const jn_cuda_ws *ws) { return ws->obj.jac_lambda > 0; }

/* Whether the penalty is the exact output norm by reverse mode (jacobian_rows.c). */
static inline int jn_cuda_jacobian_rows(const jn_cuda_ws *ws) { return jn_objective_jacobian_rows(&ws->obj); }

/* The last layer of the stacked passes: the penalised layer, or for the exact output norm the
 * last hidden layer (the output's Jacobian rows come down from W_L). */
static inline int jn_cuda_stack_top(const jn_cuda_ws *ws)
{
    const int top = jn_objective_top(&ws->obj, &ws->model);
    return jn_cuda_jacobian_rows(ws) ? top - 1 : top;
}

/* Rows per model of the penalty buffers for a batch of `rows`. */
static inline size_t jn_cuda_penalty_rows(const jn_cuda_ws *ws, int rows)
{
    return (size_t)rows * (jn_cuda_stacked(ws) + 1 + (size_t)ws->tangent_chunk);
}

/* tangent.c: the stacked forward pass (layers 1 .. top; mirrors src/cpu/forward.c and
 * src/cpu/tangent.c) and backward pass (top .. 1; mirrors src/cpu/backward.c and
 * src/cpu/tangent_reverse.c) of `main_rows` main rows (B or 0) and the B primal and K tangent
 * rows after them. The backward starts from the adjoints in adj[0] at layer top: the loss's
 * deltas on the main rows, zeros on the primal rows, the seed on the tangent rows. */
int jn_cuda_tangent_forward(jn_cuda_ws *ws, const float *params, int main_rows, int batch_rows, int K, int top);
int jn_cuda_tangent_reverse(jn_cuda_ws *ws, const float *params, int main_rows, int batch_rows, int K, int top,
                            float *grad);

/* penalty.c: the norm rows of a tangent pass at layer top into the step's penalty (weights of
 * the pass: see src/cpu/penalty.c), their seeds into adj's tangent rows (adj[0]; zeros on
 * its primal rows), for jn_k_top_terms; a copy's input rows after the main rows' slot of h[0]
 * (its corrupted rows, then tangents k0 .. k0 + count - 1: one launch); the penalty's tangent
 * passes after the first (copies > 1, tangent chunks). */
jn_norm_rows jn_cuda_norm_rows(jn_cuda_ws *ws, int batch_rows, int K, int top, float *adj);
int jn_cuda_stack_copy(jn_cuda_ws *ws, const jn_batch *batch, const jn_noise *noise, int copy, int k0, int count);
int jn_cuda_penalty_rest(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                         jn_step_sums *sums, const jn_step_ctl *ctl, float *grad);
/* penalty.c, the hidden1 closed form on the stacked rows of the first layer (mirrors
 * jn_cpu_hidden1_unit_norms, _forward and _backward): h[0] holds `main_rows` main rows (B or
 * 0), then the B corrupted rows. unit_norms: c_j = ||W_1j||^2. forward: one GEMM over all the
 * rows and the closed form's rows kernel (the main rows' activations, R into the step's sums:
 * written with the main rows, else added). backward: from the main rows' adjoints in adj[0],
 * the units kernel (bias gradient, the 2 weight (sum_i g^2) W_1 term) and one GEMM adding the
 * main rows' dW_1 and the q x~ term. */
int jn_cuda_hidden1_unit_norms(jn_cuda_ws *ws, const float *params);
int jn_cuda_hidden1_forward(jn_cuda_ws *ws, const float *params, int main_rows, int batch_rows, jn_step_sums *sums,
                            const jn_step_ctl *ctl);
int jn_cuda_hidden1_backward(jn_cuda_ws *ws, const float *params, int main_rows, int batch_rows, float *grad);

/* jacobian_rows.c: the exact output norm's rows of one copy after its stacked forward pass
 * (the primal rows' gates): R into the step's penalty, the weights' gradient into grad, and
 * dR/dg on the primal rows of pre for the stacked backward pass (mirrors
 * jn_cpu_jacobian_rows_penalty between primal_forward and gates_down). */
int jn_cuda_jacobian_rows_penalty(jn_cuda_ws *ws, const float *params, int batch_rows, jn_step_sums *sums,
                                  const jn_step_ctl *ctl, float *grad);

#endif
