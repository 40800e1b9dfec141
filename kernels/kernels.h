/* Launchers of the hand-written CUDA kernels, callable from the host C code (src/cuda).
 *
 * Each kernel mirrors one operation of the CPU reference (src/cpu/<same name>.c) and calls
 * the shared per-element math of include/jacnoise/elementwise.h. Every launcher takes the
 * number of models M trained in lock-step: per-model buffers are laid out [M][...]
 * contiguously (activations [M][rows][n], parameters [M][P]), per-model hyperparameters
 * are device arrays indexed by model, and blockIdx.z (or a grid-stride loop) walks the
 * models. Launchers return the launch's cudaError_t (cudaGetLastError), 0 on success; the
 * host checks it with JN_KERNEL (src/cuda/check.h), which names the call site. */
#ifndef JACNOISE_KERNELS_H
#define JACNOISE_KERNELS_H

#include <cuda_runtime.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-model hyperparameters, in device memory. */
typedef struct {
    float lr, momentum, weight_decay;
    float input_noise, jac_noise, jac_lambda;
} jn_hparams;

/* Where a chunk of steps stands, shared by the M models: they train the same batches of their
 * own epochs. Kernels read it from device memory, so that one CUDA graph serves every step. */
typedef struct {
    int64_t batch;   /* the epoch's batch of the chunk's first step */
    int64_t k;       /* the current step's index in the chunk: batch + k is its batch, k its sums' row */
} jn_step_ctl;

/* Where one model stands in the chunk (device array [M], beside jn_step_ctl). */
typedef struct {
    uint64_t seed;        /* its permutation and noise: never the slot index */
    uint64_t step;        /* its global step at the chunk's first step (step + k selects the noise) */
    int32_t active;       /* 0: the slot trains nothing this chunk */
    int32_t stopped_at;   /* -1, or k of its first step with a non-finite loss or penalty (not applied) */
} jn_model_ctl;

/* Loss terms of one step: sum over rows of loss_i, sum of R_i, errors (as doubles). */
typedef struct {
    double loss, penalty, errors;
} jn_step_sums;

/* step_inputs.cu ---------------------------------------------------------------------- */
/* The epoch's permutation of 0 .. n-1, the one jn_rng_permutation defines (keys
 * jn_rng_permutation_key(seed, JN_STREAM_SHUFFLE, epoch, i), ties by i), sorted with CUB
 * (keys, sorted_keys, index, perm: n each; temp: jn_k_shuffle_temp_bytes(n) bytes). */
size_t jn_k_shuffle_temp_bytes(int n);
int jn_k_shuffle(uint64_t seed, int epoch, int n, uint32_t *keys, uint32_t *sorted_keys, uint32_t *index,
                 uint32_t *perm, void *temp, size_t temp_bytes, cudaStream_t s);
/* Row i of model m's batch = example perm[m * perm_stride + (ctl->batch + ctl->k) * batch_size + i]
 * of the resident set (bytes / 255 when bytes is given, else floats), labels likewise; and the
 * step's standard normals from cuRAND Philox4_32_10 keyed by the model's own (seed, stream,
 * step + ctl->k): xi [M][rows][d], eps [M][copies][rows][d], v [M][copies * tangents][rows][d]
 * (NULL: none). A frozen model (inactive, or stopped) is skipped: its buffers keep what they
 * held. */
int jn_k_gather_noise(const uint8_t *bytes, const float *floats, const int32_t *labels, int d,
                      const uint32_t *perm, size_t perm_stride, int batch_size, int rows, const jn_step_ctl *ctl,
                      const jn_model_ctl *model, int models, float *x, int32_t *y, float *xi, float *eps, int copies,
                      float *v, int tangents, cudaStream_t s);
/* Examples first .. first + rows - 1 of the resident set, in order, into x [rows][d] and y
 * (evaluation: one copy that every model reads). */
int jn_k_gather_rows(const uint8_t *bytes, const float *floats, const int32_t *labels, int d, long first, int rows,
                     float *x, int32_t *y, cudaStream_t s);

/* forward.cu -------------------------------------------------------------------------- */
/* a = tanh(pre + b) on the first `rows` rows of each model's pre and a (model stride
 * `stride`); b in the parameters (stride P). */
int jn_k_bias_tanh(const float *pre, const float *bias, size_t param_stride, int rows, int n, size_t stride,
                   int models, float *a, cudaStream_t s);
/* y += b (the logits). */
int jn_k_bias_add(float *y, const float *bias, size_t param_stride, int rows, int n, size_t stride, int models,
                  cudaStream_t s);
/* out[e] = x[e] + scale * noise[e] over n values of each model (noise NULL: a copy); scale is
 * the model's input_noise (which = 0) or jac_noise (which = 1). Pointers are model 0's,
 * strides the distance to the next model's. */
int jn_k_add_noise(const float *x, size_t x_stride, const float *noise, size_t noise_stride,
                   const jn_hparams *hp, int which, size_t n, int models, float *out, size_t out_stride,
                   cudaStream_t s);
/* The forward-mode pass's input rows of one copy: the B primal rows dst = x + jac_noise_m * eps
 * (eps NULL: x; x has model stride B * d) and tangent rows k0 .. k0+count-1 after them:
 * dst = v (count x B x d), or the input basis e_{k0 + k} when v is NULL (the exact norm). */
int jn_k_fill_tangents(const float *x, const float *eps, size_t eps_stride, const jn_hparams *hp, const float *v,
                       size_t v_stride, int batch_rows, int d, int k0, int count, int models, float *dst,
                       size_t dst_stride, cudaStream_t s);

/* loss.cu ----------------------------------------------------------------------------- */
/* logits += b (in place); per row the loss, dlogits = scale * dloss/dz and the error flag;
 * kind 0 = cross-entropy, 1 = squared error on the softmax. Writes each model's step sums
 * {sum of losses, 0, errors} (the step's first contribution: no zeroing needed) and adds the
 * column sums of dlogits to db (the logits' bias gradient, stride param_stride like b). */
int jn_k_loss_rows(int kind, float *logits, const float *bias, size_t param_stride, const int32_t *y, int rows,
                   int classes, int models, double scale, float *dlogits, jn_step_sums *sums,
                   const jn_step_ctl *ctl, float *db, cudaStream_t s);

/* backward.cu ------------------------------------------------------------------------- */
/* da *= 1 - a^2 on `rows` rows of n (model stride `stride`), and db[j] += the column sums of
 * the result, rows in order (deterministic): a hidden layer's adjoints and bias gradient. */
int jn_k_tanh_backward(float *da, const float *a, int rows, int n, size_t stride, int models, float *db,
                       size_t param_stride, cudaStream_t s);

/* tangent.cu -------------------------------------------------------------------------- */
/* Penalty buffers (h, pre, gate, adj, dpre of a layer) share one model stride: `stride`.
 * A tanh layer of the forward-mode pass after its GEMM: on the B primal rows h = tanh(pre + b)
 * and gate = 1 - h^2 (b in the parameters, stride param_stride), and t[k] = gate * s[k] for
 * the K tangent blocks after them. */
int jn_k_tangent_update(const float *pre, const float *bias, size_t param_stride, int batch_rows, int K, int n,
                        int models, size_t stride, float *h, float *gate, cudaStream_t s);
/* row_norm[m][i] = sum_k ||t(k, i)||^2 (double) over the tangent rows of h, and the reverse
 * pass's seed on the same rows of adj: u = 2 * weight_m * t, weight_m = jac_lambda_m * weight. */
int jn_k_tangent_norms(const float *h, int batch_rows, int K, int n, int models, size_t stride,
                       const jn_hparams *hp, double weight, double *row_norm, float *adj, cudaStream_t s);

/* tangent_reverse.cu ------------------------------------------------------------------ */
/* Per primal element: ds rows = u * g, q = (p - 2 a sum_k u s) g (p = 0 if !primal_live); and
 * db[j] += sum over the examples of q (in order: deterministic), the layer's bias gradient. */
int jn_k_reverse_terms(const float *adj, const float *a, const float *gate, const float *pre, int batch_rows,
                       int K, int n, int models, size_t stride, int primal_live, float *dpre, float *db,
                       size_t param_stride, cudaStream_t s);

/* penalty.cu -------------------------------------------------------------------------- */
/* c[m][j] = ||W_1j||^2. */
int jn_k_unit_norms(const float *w, size_t param_stride, int n1, int d, int models, float *c, cudaStream_t s);
/* hidden1 closed form at `rows` examples of the first layer's pre-activations (model stride
 * `stride` for pre, a, gate and q; b_1 in the parameters, stride param_stride): a = tanh(pre +
 * b), gate = 1 - a^2, row_r[m][i] = sum_j g^2 c_j (double), q = weight_m * -4 a g^2 c,
 * gate_sq[m][j] = sum_i g^2 and db[j] += sum_i q (fixed order); weight_m = jac_lambda_m *
 * weight. */
int jn_k_hidden1(const float *pre, const float *bias, size_t param_stride, const float *c, int rows, int n1,
                 int models, size_t stride, const jn_hparams *hp, double weight, float *a, float *gate, float *q,
                 double *row_r, float *gate_sq, float *db, cudaStream_t s);
/* dW_1j += 2 weight_m gate_sq_j W_1j. */
int jn_k_hidden1_decay(const float *w, const float *gate_sq, int n1, int d, int models, size_t param_stride,
                       const jn_hparams *hp, double weight, float *dw, cudaStream_t s);

/* optimizer.cu ------------------------------------------------------------------------ */
/* Over all parameters of all models: vel = mu vel + g + wd W (weights only), W -= lr vel. With
 * ctl, per model, fused with the divergence check: a frozen model is left alone, and a model
 * whose step k sums are not finite is not updated and stops (stopped_at = k), the others go
 * on. Without ctl every model is updated. Layer l's weights span [w_off[l], w_off[l] + w_len[l]). */
#define JN_K_MAX_LAYERS 16
typedef struct {
    int layers;
    uint64_t w_off[JN_K_MAX_LAYERS], w_len[JN_K_MAX_LAYERS];
} jn_weight_spans;
int jn_k_sgd_update(float *params, const float *grad, float *velocity, size_t n_params, int models,
                    const jn_hparams *hp, jn_weight_spans spans, const jn_step_sums *sums,
                    const jn_step_ctl *ctl, jn_model_ctl *model, cudaStream_t s);

/* reduce.cu --------------------------------------------------------------------------- */
/* The step's sums live at sums[k * M + m], k = ctl->k (0 without ctl). */
/* Zeroes row 0 of them, before an evaluation adds its errors (a training step's loss kernel
 * writes its own row). */
int jn_k_zero_sums(jn_step_sums *sums, int models, cudaStream_t s);
/* field `which` (0 loss, 1 penalty, 2 errors) += scale * sum of values[m][0 .. n), summed in
 * a fixed order (one block per model, a tree within it): deterministic. */
int jn_k_sum_into(const double *values, int n, int models, int which, double scale, jn_step_sums *sums,
                  const jn_step_ctl *ctl, cudaStream_t s);
/* Sets the step control to a chunk starting at `batch` (k = 0). */
int jn_k_set_ctl(jn_step_ctl *ctl, int64_t batch, cudaStream_t s);
/* After a step: k++ (each model's divergence is the update's business). */
int jn_k_advance(jn_step_ctl *ctl, cudaStream_t s);

/* evaluate.cu ------------------------------------------------------------------------- */
/* row_error[m][i] = argmax(logits[m] row i) != y[i] (first maximum on ties); the labels are
 * one copy for every model (an evaluation set). */
int jn_k_argmax_errors(const float *logits, const int32_t *y, int rows, int classes, int models,
                       double *row_error, cudaStream_t s);

#ifdef __cplusplus
}
#endif

#endif
