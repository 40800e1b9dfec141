/* Launchers of the hand-written CUDA kernels, callable from the host C code (src/cuda).
 *
 * Each file's kernels mirror an operation of the CPU reference (mostly in src/cpu/<same
 * name>.c; the table in kernels/README.md names each), and the per-element formulas the two
 * compute alike come from include/jacnoise/elementwise.h. Every launcher takes the number of
 * models M trained in lock-step: per-model buffers are laid out [M][...] contiguously
 * (activations [M][rows][n], parameters [M][P]), per-model hyperparameters are device arrays
 * indexed by model, and blockIdx.z (or a grid-stride loop) walks the models. Launchers return
 * the launch's cudaError_t (cudaGetLastError), 0 on success (jn_k_shuffle: its sort's;
 * jn_k_gather_noise refuses a batch past its 32-bit index before launching, which
 * jn_cuda_step_inputs_alloc refuses first, with its sizes); the host checks it
 * with JN_KERNEL or JN_LAUNCH (src/cuda/check.h), which name the call site. */
#ifndef JACNOISE_KERNELS_H
#define JACNOISE_KERNELS_H

#include <cuda_runtime.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-model hyperparameters, in device memory: float, where the CPU keeps them in double
 * (README.md, "GPU": where the two engines differ in the last bits). */
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
/* Where a pass's input rows go: the first layer's GEMM input, stacked per model (stride in
 * floats). At `main` (NULL: none) the B main rows x + input_noise_m * xi (xi absent: x); at
 * `penalty` (NULL: none) the B primal rows x + jac_noise_m * eps (eps absent: x) and after
 * them `tangents` tangent rows of B each: v, or the input basis e_{k0 + k} with `exact`. */
typedef struct {
    float *main;
    size_t main_stride;
    float *penalty;
    size_t penalty_stride;
    int tangents, k0, exact;
} jn_stack_dst;

/* The epoch's permutation of 0 .. n-1, the one jn_rng_permutation defines (keys
 * jn_rng_permutation_key(seed, JN_STREAM_SHUFFLE, epoch, i), ties by i), sorted with CUB
 * (keys, sorted_keys, index, perm: n each; temp: the *bytes jn_k_shuffle_temp_bytes gives).
 * The size query returns CUB's cudaError_t: it asks the device (its architecture) and can
 * fail, leaving *bytes unusable. */
cudaError_t jn_k_shuffle_temp_bytes(int n, size_t *bytes);
int jn_k_shuffle(uint64_t seed, int epoch, int n, uint32_t *keys, uint32_t *sorted_keys, uint32_t *index,
                 uint32_t *perm, void *temp, size_t temp_bytes, cudaStream_t s);
/* Row i of model m's batch = example perm[m * perm_stride + (ctl->batch + ctl->k) * batch_size + i]
 * of the resident set (bytes / 255 when bytes is given, else floats), labels likewise; and the
 * step's standard normals from cuRAND Philox4_32_10 keyed by the model's own (seed, stream,
 * step + ctl->k): xi [M][rows][d], eps [M][copies][rows][d], v [M][copies * tangents][rows][d]
 * (NULL: none). In the same pass, the first pass's stacked input rows (copy 0, tangents
 * 0 .. stack.tangents - 1; stack.k0 must be 0), from the same values. A frozen model
 * (inactive, or stopped) is skipped: its buffers keep what they held. */
int jn_k_gather_noise(const uint8_t *bytes, const float *floats, const int32_t *labels, int d,
                      const uint32_t *perm, size_t perm_stride, int batch_size, int rows, const jn_step_ctl *ctl,
                      const jn_model_ctl *model, int models, float *x, int32_t *y, float *xi, float *eps, int copies,
                      float *v, int tangents, const jn_hparams *hp, jn_stack_dst stack, cudaStream_t s);
/* The stacked input rows of a pass from a batch and its noise already in memory (x and xi of
 * model stride rows * d; eps: the copy's, v: the chunk's first tangent, of model strides
 * eps_stride and v_stride; NULL: none): the later passes (copies > 1, tangent chunks) and a
 * step given its inputs. */
int jn_k_stack_inputs(const float *x, const float *xi, const float *eps, size_t eps_stride, const float *v,
                      size_t v_stride, const jn_hparams *hp, int rows, int d, int models, jn_stack_dst stack,
                      cudaStream_t s);
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

/* loss.cu ----------------------------------------------------------------------------- */
/* The loss rows of a top kernel (logits NULL: none): logits += b (in place); per row the
 * loss, dlogits = scale * dloss/dz and the error flag; kind 0 = cross-entropy, 1 = squared
 * error on the softmax; db += the column sums of dlogits (the logits' bias gradient). logits
 * and dlogits: model stride `stride`; b and db: param_stride. */
typedef struct {
    int kind, classes;
    float *logits, *dlogits, *db;
    const float *bias;
    const int32_t *y;
    size_t stride, param_stride;
    double scale;
} jn_loss_rows;
/* The norm rows of a top kernel (t NULL: none): at the penalised layer, B primal rows at t then
 * K tangent rows of B each (model stride `stride`, n units). Per example
 * R_i = sum_k ||t(k, i)||^2, and on the same rows of adj the reverse pass's seed
 * u = 2 weight_m t with weight_m = jac_lambda_m * weight, zeros on the primal rows (their
 * adjoint there is 0); the step's penalty gets sum_weight * sum_i R_i. */
typedef struct {
    const float *t;
    float *adj;
    int K, n;
    size_t stride;
    double weight, sum_weight;
} jn_norm_rows;
/* Everything between the top forward GEMM and the first backward GEMM, one launch (a block
 * per example): the loss rows, the norm rows, or both, and the step's sums {loss, penalty,
 * errors} of them, written (write_sums: the step's first contribution) or added. The last
 * block of each model to finish sums the rows in a fixed order (row_terms: [M][3][rows]
 * doubles; tickets: [models] counters at zero, left at zero). */
int jn_k_top_terms(jn_loss_rows loss, jn_norm_rows norms, int rows, int models, const jn_hparams *hp,
                   int write_sums, double *row_terms, unsigned *tickets, jn_step_sums *sums, const jn_step_ctl *ctl,
                   cudaStream_t s);

/* backward.cu ------------------------------------------------------------------------- */
/* da *= 1 - a^2 on `rows` rows of n (model stride `stride`), and db[j] += the column sums of
 * the result, in a fixed order (common.cuh's tile sums: deterministic): a hidden layer's
 * adjoints and bias gradient (jn_cpu_tanh_backward_sums). */
int jn_k_tanh_backward_sums(float *da, const float *a, int rows, int n, size_t stride, int models, float *db,
                            size_t param_stride, cudaStream_t s);

/* tangent.cu -------------------------------------------------------------------------- */
/* Stacked rows of a layer (pre, h, gate, adj, dpre share one model stride `stride`): `main`
 * main rows, then B primal rows, then K tangent rows of B each. After the layer's GEMM, a
 * tanh layer: main and primal rows h = tanh(pre + b) and gate = 1 - h^2 (b in the parameters,
 * stride param_stride), tangent rows t[k] = gate * s[k]. */
int jn_k_layer_forward(const float *pre, const float *bias, size_t param_stride, int main_rows, int batch_rows,
                       int K, int n, int models, size_t stride, float *h, float *gate, cudaStream_t s);

/* tangent_reverse.cu ------------------------------------------------------------------ */
/* A tanh layer's backward over the stacked rows, from the adjoints adj of its outputs: main
 * rows dpre = adj * gate (the main loss's tanh backward), tangent rows ds = u * gate, primal
 * rows q = (p - 2 a us) gate with us = sum_k u s over the K tangent rows, or with dgate (not
 * NULL; K = 0) us = dgate's primal rows, the exact output norm's dR/dg (jacobian_rows.cu);
 * db[j] += the column sums of the main rows and q, in a fixed order (common.cuh's tile sums:
 * deterministic), the layer's bias gradient of the whole objective. */
int jn_k_layer_backward(const float *adj, const float *a, const float *gate, const float *pre, const float *dgate,
                        int main_rows, int batch_rows, int K, int n, int models, size_t stride, float *dpre,
                        float *db, size_t param_stride, cudaStream_t s);

/* jacobian_rows.cu -------------------------------------------------------------------- */
/* The exact output norm's rows (c, i), c in a chunk of `count` classes, i in the B examples,
 * stacked like tangent rows: row (c, i) of a layer at (c B + i) n (model stride `stride`,
 * the pointers at the chunk's first row); gate and dgate: the B primal rows (same stride).
 * w_{l+1}(c, i), the rows above a layer: rows + c c_stride + i i_stride (model stride
 * model_stride); i_stride = 0 reads row c of W_L in the parameters for every example. */
typedef struct {
    const float *rows;
    size_t model_stride, c_stride, i_stride;
} jn_rows_above;
/* Down: y = w_{l+1} * gate. */
int jn_k_rows_down(jn_rows_above above, const float *gate, int batch_rows, int count, int n, int models,
                   size_t stride, float *y, cudaStream_t s);
/* Up, after eta = omega_l W_l^T: dgate += sum_c eta * w_{l+1} (classes in order; with
 * accumulate 0 it starts from 0: the first chunk), eta *= gate (omega_{l+1}, in place); with
 * dw (not NULL: row 0 of W_L's gradient for the chunk's first class, stride param_stride),
 * dw[c] += sum_i omega_{l+1}(c, i), in a fixed order (common.cuh's tile sums: deterministic). */
int jn_k_rows_up(float *eta, jn_rows_above above, const float *gate, int batch_rows, int count, int n, int models,
                 size_t stride, int accumulate, float *dgate, float *dw, size_t param_stride, cudaStream_t s);

/* penalty.cu -------------------------------------------------------------------------- */
/* c[m][j] = ||W_1j||^2. */
int jn_k_hidden1_unit_norms(const float *w, size_t param_stride, int n1, int d, int models, float *c,
                            cudaStream_t s);
/* The hidden1 closed form on the first layer's stacked rows (model stride `stride` for pre, a,
 * gate, q and the adjoints): `main_rows` main rows, then `rows` corrupted rows. After the
 * layer's GEMM: a = tanh(pre + b) and gate = 1 - a^2 on every row (b in the parameters, stride
 * param_stride); on the corrupted rows q = weight_m * -4 a g^2 c and R_i = sum_j g^2 c_j
 * (row_r [M][rows], double), with weight_m = jac_lambda_m * weight; the step's penalty gets
 * sum_weight * sum_i R_i, written as the step's first sums (write_sums: {0, R, 0}) or added.
 * tickets: [models] counters at zero, left at zero. */
int jn_k_hidden1_rows(const float *pre, const float *bias, size_t param_stride, const float *c, int main_rows,
                      int rows, int n1, int models, size_t stride, const jn_hparams *hp, double weight,
                      double sum_weight, int write_sums, float *a, float *gate, float *q, double *row_r,
                      unsigned *tickets, jn_step_sums *sums, const jn_step_ctl *ctl, cudaStream_t s);
/* The first layer's backward on the same rows: main rows dpre = adj * gate; db[j] += the sum
 * of those and of q over the corrupted rows (q already in dpre); dW_1j += 2 weight_m
 * (sum_i g_ij^2) W_1j (w and dw: the layer's weights, stride param_stride). Not the mirror of
 * jn_cpu_hidden1_rows (that is jn_k_hidden1_rows): jn_cpu_hidden1_backward's weight term, with
 * the per-unit sums over the rows (db, sum g^2) that the CPU adds up in jn_cpu_hidden1_rows and
 * the main rows' tanh backward, a block per unit where the rows kernel has a block per row. */
int jn_k_hidden1_units(const float *adj, const float *gate, int main_rows, int rows, int n1, int d, int models,
                       size_t stride, const float *w, size_t param_stride, const jn_hparams *hp, double weight,
                       float *dpre, float *db, float *dw, cudaStream_t s);

/* optimizer.cu ------------------------------------------------------------------------ */
/* Over all parameters of all models: vel = mu vel + g + wd W (weights only), W -= lr vel. With
 * ctl, per model, fused with the divergence check: a frozen model is left alone, and a model
 * whose step k sums are not finite is not updated and stops (stopped_at = k), the others go
 * on; and the step control advances (k++) once every block is done (ticket: a counter at
 * zero, left at zero). Without ctl every model is updated. Layer l's weights span [w_off[l], w_off[l] + w_len[l]). */
#define JN_K_MAX_LAYERS 16
typedef struct {
    int layers;
    uint64_t w_off[JN_K_MAX_LAYERS], w_len[JN_K_MAX_LAYERS];
} jn_weight_spans;
int jn_k_sgd_update(float *params, const float *grad, float *velocity, size_t n_params, int models,
                    const jn_hparams *hp, jn_weight_spans spans, const jn_step_sums *sums,
                    jn_step_ctl *ctl, jn_model_ctl *model, unsigned *ticket, cudaStream_t s);

/* reduce.cu --------------------------------------------------------------------------- */
/* The step's sums live at sums[k * M + m], k = ctl->k (0 without ctl). */
/* Zeroes row 0 of them, before an evaluation adds its errors (a training step's loss kernel
 * writes its own row). */
int jn_k_zero_sums(jn_step_sums *sums, int models, cudaStream_t s);
/* Row 0's errors of model m += the sum of row_error[m][0 .. n), summed in a fixed order (one
 * block per model, a tree within it): deterministic. */
int jn_k_sum_errors(const double *row_error, int n, int models, jn_step_sums *sums, cudaStream_t s);
/* Sets the step control to a chunk starting at `batch` (k = 0). */
int jn_k_set_ctl(jn_step_ctl *ctl, int64_t batch, cudaStream_t s);

/* evaluate.cu ------------------------------------------------------------------------- */
/* row_error[m][i] = argmax(logits[m] row i) != y[i] (first maximum on ties); the labels are
 * one copy for every model (an evaluation set). */
int jn_k_argmax_errors(const float *logits, const int32_t *y, int rows, int classes, int models,
                       double *row_error, cudaStream_t s);

#ifdef __cplusplus
}
#endif

#endif
