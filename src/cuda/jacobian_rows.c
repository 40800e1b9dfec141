/* The exact ||J||_F^2 of the logits by reverse mode on the GPU (mirrors
 * src/cpu/jacobian_rows.c, whose header has the algorithm): rows_down and rows_up per chunk
 * of classes, the rows (c, i) stacked like tangent rows after the main and primal rows of the
 * stacked buffers. The primal rows' forward pass up to the last hidden layer and gates_down
 * are the stacked passes with no tangent rows (tangent.c: the main rows ride along in the
 * first pass), gates_down's reverse term from dR/dg, which rows_up sums into the primal rows
 * of pre (their pre-activations are spent by then). omega and eta take turns in adj[1] and
 * dpre: adj[0] holds the main rows' adjoints from the output layer until gates_down. */
#include "cuda/check.h"
#include "cuda/nvtx.h"
#include "cuda/workspace.h"

/* Row (c, i) of a layer's stacked buffer: the chunk's rows start after the main and primal rows. */
static float *rows_of(float *buf, int B, int n) { return buf + 2 * (size_t)B * n; }

/* w_{l+1} for layer l: row c of W_L at the last hidden layer, else the rows in h[l]. */
static jn_rows_above above(const jn_cuda_ws *ws, const float *params, int B, int c0, int l)
{
    const jn_model *m = &ws->model;
    const size_t n = m->sizes[l];
    if (l == m->n_layers - 1)
        return (jn_rows_above){params + m->w_offset[l + 1] + (size_t)c0 * n, m->n_params, n, 0};
    return (jn_rows_above){rows_of(ws->h[l], B, (int)n), jn_cuda_penalty_rows(ws, B) * n, (size_t)B * n, n};
}

/* Down the chain for classes c0 .. c0+count-1: y_l into pre[l]'s rows, w_l into h[l-1]'s. */
static int rows_down(jn_cuda_ws *ws, const float *params, int B, int c0, int count)
{
    const jn_model *m = &ws->model;
    const size_t P = m->n_params, R = jn_cuda_penalty_rows(ws, B);
    const int T = B * count;
    for (int l = m->n_layers - 1; l >= 1; l--) {
        const int n = m->sizes[l], n_in = m->sizes[l - 1];
        float *y = rows_of(ws->pre[l], B, n);
        JN_KERNEL(jn_k_rows_down(above(ws, params, B, c0, l), ws->gate[l] + (size_t)B * n, B, count, n, ws->models,
                                 R * n, y, ws->ctx->stream));
        if (jn_cuda_gemm_input_grad(&ws->gemm, ws->models, T, n, n_in, y, R * n, params + m->w_offset[l], P,
                                    rows_of(ws->h[l - 1], B, n_in), R * n_in))
            return -1;
    }
    return 0;
}

/* Back up the chain from omega_1 (in adj[1]): the weights' gradient into grad, dR/dg_l into
 * the primal rows of pre[l]. */
static int rows_up(jn_cuda_ws *ws, const float *params, int B, int c0, int count, float *grad)
{
    const jn_model *m = &ws->model;
    const int L = m->n_layers, T = B * count;
    const size_t P = m->n_params, R = jn_cuda_penalty_rows(ws, B);
    float *omega = ws->adj[1], *eta = ws->dpre;
    for (int l = 1; l < L; l++) {
        const int n_out = m->sizes[l], n_in = m->sizes[l - 1];
        const size_t stride = R * n_out;
        float *y = rows_of(ws->pre[l], B, n_out), *eta_rows = rows_of(eta, B, n_out);
        if (jn_cuda_gemm_weight_grad(&ws->gemm, ws->models, T, n_out, n_in, y, stride, rows_of(omega, B, n_in),
                                     R * n_in, grad + m->w_offset[l], P) ||
            jn_cuda_gemm_forward(&ws->gemm, ws->models, T, n_out, n_in, rows_of(omega, B, n_in), R * n_in,
                                 params + m->w_offset[l], P, eta_rows, stride))
            return -1;
        /* At the last hidden layer eta becomes omega_L, whose column sums are dW_L's rows. */
        float *dw = l == L - 1 ? grad + m->w_offset[L] + (size_t)c0 * n_out : NULL;
        JN_KERNEL(jn_k_rows_up(eta_rows, above(ws, params, B, c0, l), ws->gate[l] + (size_t)B * n_out, B, count,
                               n_out, ws->models, stride, c0 > 0, ws->pre[l] + (size_t)B * n_out, dw, P,
                               ws->ctx->stream));
        float *next = omega;
        omega = eta;
        eta = next;
    }
    return 0;
}

int jn_cuda_jacobian_rows_penalty(jn_cuda_ws *ws, const float *params, int B, jn_step_sums *sums,
                                  const jn_step_ctl *ctl, float *grad)
{
    const jn_model *m = &ws->model;
    const int C = m->sizes[m->n_layers];
    for (int c0 = 0; c0 < C; c0 += ws->tangent_chunk) {
        const int count = C - c0 < ws->tangent_chunk ? C - c0 : ws->tangent_chunk;
        /* The forward phase, as the CUDA profile counts the penalty's forward-mode FLOPs
         * (they ride in the forward GEMMs elsewhere). */
        jn_cuda_phase(JN_PHASE_FORWARD);
        if (rows_down(ws, params, B, c0, count))
            return -1;
        /* R: the rows of J in h[0] are norm rows (the primal rows' slot first); omega_1 =
         * 2 lambda weight w_1 is their seed, into adj[1]. */
        jn_cuda_phase(JN_PHASE_PENALTY);
        JN_KERNEL(jn_k_top_terms((jn_loss_rows){0}, jn_cuda_norm_rows(ws, B, count, 0, ws->adj[1]), B, ws->models,
                                 ws->hp, 0, ws->row_terms, ws->tickets, sums, ctl, ws->ctx->stream));
        jn_cuda_phase(JN_PHASE_BACKWARD);
        if (rows_up(ws, params, B, c0, count, grad))
            return -1;
    }
    return 0;
}
