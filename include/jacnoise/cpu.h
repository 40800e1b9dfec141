/* The CPU reference engine: plain C over CBLAS, the oracle the other backends are checked
 * against. Each function computes one part of SPEC.md from explicit inputs (parameters,
 * batch, noise buffers) into explicit outputs; the workspace is scratch memory only, so two
 * calls with the same inputs give the same bytes. */
#ifndef JACNOISE_CPU_H
#define JACNOISE_CPU_H

#include "jacnoise/data.h"
#include "jacnoise/model.h"
#include "jacnoise/objective.h"
#include "jacnoise/step.h"

typedef struct jn_cpu_ws jn_cpu_ws;

/* Scratch for steps of up to max_rows examples with this model and objective. NULL (with
 * the error recorded) if memory runs out. */
jn_cpu_ws *jn_cpu_ws_new(const jn_model *m, const jn_objective *obj, int max_rows);
void jn_cpu_ws_free(jn_cpu_ws *ws);

/* Main loss at x + s_in xi (xi may be NULL when s_in = 0): writes scale * d(sum_i
 * loss_i)/dtheta into grad (every parameter; what was there is overwritten) and sets
 * terms->loss (mean) and terms->errors. */
void jn_cpu_loss_grad(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                      const jn_real *xi, double scale, jn_step_terms *terms, jn_real *grad);

/* Examples of the batch whose class is a near tie at x + s_in xi: the top two logits differ by
 * at most tol times the row's largest |logit|. Two engines whose logits differ by rounding
 * (relative tol) may classify only those differently (jacnoise check). Leaves the gradient
 * buffers alone. */
int jn_cpu_near_ties(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch, const jn_real *xi, double tol);

/* Jacobian penalty at x + s_J eps (eps NULL when s_J = 0), tangents v (copies x K x B x d;
 * unused by hidden1 and exact): adds scale * d(sum_i R_i)/dtheta to grad and sets terms->penalty (mean R). R_i is
 * already averaged over the copies and the K tangents. */
void jn_cpu_penalty_grad(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                         const jn_real *eps, const jn_real *v, double scale,
                         jn_step_terms *terms, jn_real *grad);

/* One step of SPEC.md: grad = d/dtheta (1/B) sum_i [loss_i + lam R_i]. Weight decay is not
 * in grad: the update applies it (jn_cpu_sgd_update). */
void jn_cpu_step(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                 const jn_noise *noise, jn_step_terms *terms, jn_real *grad);

/* The update over all parameters: vel = mu vel + g + wd W (weights only); W -= lr vel. */
void jn_cpu_sgd_update(const jn_model *m, jn_real *params, const jn_real *grad, jn_real *velocity,
                       double lr, double momentum, double weight_decay);

/* Host buffers for one step's inputs: a gathered batch and its noise. */
typedef struct {
    jn_real *x, *xi, *eps, *v;
    int32_t *y;
} jn_cpu_step_inputs;

/* Buffers for batches of up to max_rows examples and their noise (obj's); -1 with the error
 * recorded, nothing left allocated. _free releases them. */
int jn_cpu_step_inputs_alloc(jn_cpu_step_inputs *in, const jn_model *m, const jn_objective *obj, int max_rows);
void jn_cpu_step_inputs_free(jn_cpu_step_inputs *in);

/* The inputs of training step `step`: batch `b` of the permutation `perm` of the training
 * set (rows b*B .. , fewer for the last batch) and the noise of (seed, step). Fills batch
 * and noise to point into `in`; returns the row count. */
int jn_cpu_step_inputs_fill(jn_cpu_step_inputs *in, const jn_model *m, const jn_objective *obj,
                            const jn_dataset *train, const uint32_t *perm, long b, int batch_size,
                            uint64_t seed, uint64_t step, jn_batch *batch, jn_noise *noise);

/* One SGD step as training takes it: the inputs of step `step` (jn_cpu_step_inputs_fill, the
 * workspace's model and objective), jn_cpu_step into grad and terms, then the update of params
 * and velocity (the objective's weight decay), reporting the phases to the workspace's clock.
 * Returns the batch's rows, or 0 where the loss or penalty is not finite: the run diverged, and
 * params and velocity are left as they were. */
int jn_cpu_train_step(jn_cpu_ws *ws, jn_cpu_step_inputs *in, const jn_dataset *train, const uint32_t *perm, long b,
                      int batch_size, uint64_t seed, uint64_t step, double lr, double momentum, jn_real *params,
                      jn_real *velocity, jn_real *grad, jn_step_terms *terms);

#endif
