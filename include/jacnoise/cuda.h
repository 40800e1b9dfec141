/* The CUDA engine's step functions: the same operations as cpu.h, on device memory, for M
 * models of one shape in lock-step. Parameters and gradients are [M][P], batches
 * [M][rows][d], labels [M][rows], noise [M][...] as in step.h; each model has its own
 * hyperparameters (jn_hparams) and control (jn_model_ctl) in device arrays. Nothing here
 * synchronises with the host unless it says so: results land in device memory (the step's
 * sums) and the caller reads them when it needs them. A function that can fail returns 0, or
 * -1 (jn_cuda_ws_new: NULL) with the error recorded (file:line, call, library message). */
#ifndef JACNOISE_CUDA_H
#define JACNOISE_CUDA_H

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "jacnoise/backend.h"
#include "jacnoise/data.h"
#include "jacnoise/model.h"
#include "jacnoise/objective.h"
#include "jacnoise/step.h"
#include "kernels.h"  /* kernels/: the launchers and the device structures */

/* A device, a stream and a cuBLAS handle bound to it. */
typedef struct {
    int device;             /* the current device (cudaGetDevice) */
    int tf32;               /* GEMMs in TF32: asked, and not turned off by NVIDIA_TF32_OVERRIDE=0 */
    cudaStream_t stream;
    cublasHandle_t blas;
    void *blas_workspace;   /* given to cuBLAS so that graph capture never allocates */
} jn_cuda_ctx;

/* The device memory cuBLAS gets from the context (so that graph capture never allocates). */
#define JN_CUDA_BLAS_WORKSPACE_BYTES ((size_t)32 << 20)

/* Opens device 0 (or $CUDA_VISIBLE_DEVICES' first); tf32 lets cuBLAS use TF32 tensor cores.
 * On failure (-1, the error recorded) nothing is left open: ctx is all zeros. */
int jn_cuda_ctx_open(jn_cuda_ctx *ctx, int tf32);
void jn_cuda_ctx_close(jn_cuda_ctx *ctx);
/* Whether NVIDIA_TF32_OVERRIDE=0 is set, which turns TF32 off in every NVIDIA library whatever
 * the math mode asks. */
int jn_cuda_tf32_overridden(void);
/* NVIDIA_TF32_OVERRIDE's value where it is set to one NVIDIA reserves for future use (any but
 * 0, the one it documents), else NULL: what the libraries make of it is not documented. */
const char *jn_cuda_tf32_reserved(void);

/* The device's measured peak in GFLOP/s for the context's math mode (fp32 or TF32): square
 * cublasSgemm calls of doubling size from 512 (or max_n if smaller) up to max_n, while one
 * call takes under 50 ms; best of three each, the fastest; 0 if a call fails, with its
 * failure recorded (jn_last_error: "the fp32 peak could not be measured (square cublasSgemm up
 * to N x N): FILE:LINE: call: error") for a caller that says why. */
double jn_cuda_sgemm_peak(jn_cuda_ctx *ctx, int max_n);

typedef struct jn_cuda_ws jn_cuda_ws;

/* Device scratch for steps of up to max_rows examples of `models` models; obj NULL: for
 * evaluation only (the forward pass of jn_cuda_count_errors). */
jn_cuda_ws *jn_cuda_ws_new(jn_cuda_ctx *ctx, const jn_model *m, const jn_objective *obj, int max_rows, int models);
void jn_cuda_ws_free(jn_cuda_ws *ws);

/* The models' hyperparameters (host array of `models`), copied to the device before the call
 * returns (hp may change at once). */
int jn_cuda_ws_set_hparams(jn_cuda_ws *ws, const jn_hparams *hp);

/* The training state of M models on the device, and the control one captured step reads. */
typedef struct {
    int models, max_steps;
    size_t n_params;
    float *params, *velocity, *grad;   /* [M][P]; params and velocity start at zero */
    jn_step_ctl *ctl;
    jn_model_ctl *model;               /* [M] */
    jn_step_sums *sums;                /* [max_steps][M]: row k = the chunk's step k */
} jn_cuda_slots;

/* Allocates the slots of `models` models for chunks of up to max_steps steps, zeroed; -1 with
 * the error recorded (jn_cuda_slots_free releases what was made). */
int jn_cuda_slots_alloc(jn_cuda_slots *s, const jn_model *m, int models, int max_steps);
void jn_cuda_slots_free(jn_cuda_slots *s);
/* Starts a chunk at the epoch's batch `batch`: each model's control (host array [M]) copied
 * before the call returns, k = 0. */
int jn_cuda_slots_begin(jn_cuda_slots *s, const jn_model_ctl *model, int64_t batch, cudaStream_t stream);


/* Mirror of jn_cpu_step: the sums of the step (sum over rows of the loss, of R_i averaged over
 * copies, and of the errors) go to each model's sums[ctl->k][m] (row 0 without ctl); grad is
 * zeroed first. The first layer's input rows are built here from the batch and noise (one
 * launch); a training step has them from the gather (jn_cuda_fill_step). */
int jn_cuda_step(jn_cuda_ws *ws, const float *params, const jn_batch *batch, const jn_noise *noise,
                 jn_step_sums *sums, const jn_step_ctl *ctl, float *grad);

/* Mirror of jn_cpu_sgd_update for all models; with ctl and model, frozen models are left
 * alone, a model whose step diverged stops (see jn_k_sgd_update), and the step control
 * advances (k++). */
int jn_cuda_sgd_update(jn_cuda_ws *ws, float *params, const float *grad, float *velocity,
                       const jn_step_sums *sums, jn_step_ctl *ctl, jn_model_ctl *model);

/* A labelled set resident on the device: bytes when every value is k/255 (MNIST: a quarter
 * of the memory, scaled in the gather kernel), else floats. */
typedef struct {
    const jn_dataset *host;
    uint8_t *bytes;
    float *floats;
    int32_t *labels;
} jn_cuda_set;

/* A step's inputs on the device (mirror of jn_cpu_step_inputs): the resident training set,
 * each model's epoch permutation, and buffers for the models' batches and their noise. */
typedef struct {
    jn_cuda_set train;
    int models;
    float *x, *xi, *eps, *v;
    int32_t *y;
    int copies, tangents;
    uint32_t *perm;                      /* [M][n + 1]: rows n + 1 apart */
    uint32_t *keys, *sorted_keys, *index;
    void *sort_temp;
    size_t sort_bytes;
    uint64_t *perm_seed;                 /* host [M]: the (seed, epoch) each permutation is of */
    int *perm_epoch;                     /* -1 before the first shuffle */
} jn_cuda_step_inputs;

/* Uploads the training set and allocates buffers for `models` batches of `batch` rows and
 * their noise, and the models' permutations; x and y also hold `eval_rows` rows of one copy
 * (the evaluation's batches, no noise; 0: none). Everything starts at zero, so a slot that never
 * trains reads valid examples. A batch of more than 2^32 - 1 values (batch x inputs: the
 * gather's 32-bit index) is refused first, with its sizes. */
int jn_cuda_step_inputs_alloc(jn_cuda_step_inputs *in, const jn_model *m, const jn_objective *obj,
                              const jn_dataset *train, int batch, int models, int eval_rows);
void jn_cuda_step_inputs_free(jn_cuda_step_inputs *in);
/* Model `slot`'s permutation of `epoch` under `seed` (computed on the device, once per epoch). */
int jn_cuda_step_inputs_shuffle(jn_cuda_step_inputs *in, cudaStream_t s, int slot, uint64_t seed, int epoch);

/* The inputs of every model's step (jn_cuda_step_inputs_fill, with ws's stacked rows) and the
 * step (jn_cuda_step's, into slots' sums and grad); batch and noise say where the inputs are
 * (`jacnoise check` gives them to the CPU). */
int jn_cuda_fill_step(jn_cuda_ws *ws, jn_cuda_step_inputs *in, jn_cuda_slots *slots, int rows, int batch_size,
                      jn_batch *batch, jn_noise *noise);

/* Errors of `rows` examples x, y (device; one copy, read by every model) under each model's
 * parameters, added to sums[m].errors (row 0 of the sums). */
int jn_cuda_count_errors(jn_cuda_ws *ws, const float *params, const float *x, const int32_t *y, int rows,
                         jn_step_sums *sums);

/* The device bytes a CUDA backend (backend.h) of setup->models slots allocates when created:
 * what the slots share (the training set, the shuffle's scratch, cuBLAS's workspace), the
 * models' state (parameters, velocity, gradient, permutation, control, a chunk's sums) and
 * their activations (the training and evaluation workspaces, batches and noise). The CUDA
 * context and the evaluation sets, uploaded at the first evaluation, come on top. */
typedef struct {
    size_t shared, state, activations;
} jn_cuda_memory;
jn_cuda_memory jn_cuda_backend_bytes(const jn_model *m, const jn_objective *obj, const jn_backend_setup *setup,
                                     const jn_dataset *train);

#endif
