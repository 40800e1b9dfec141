/* The CPU reference's operations, one per file, composed by step.c and evaluate.c.
 * Internal to src/cpu; the CUDA kernels mirror them by name. */
#ifndef JACNOISE_CPU_OPS_H
#define JACNOISE_CPU_OPS_H

#include "cpu/workspace.h"

/* forward.c: z = x W^T (GEMM) then a = tanh(z + b) row by row; gate (may be NULL) gets
 * 1 - a^2. */
void jn_cpu_bias_tanh(const jn_real *pre, const jn_real *bias, int rows, int n, jn_real *a, jn_real *gate);
/* forward.c (for its vectorised tanh), for hidden1's closed form at the corrupted rows: from
 * zq = x~ W_1^T, with a = tanh(zq + b), g = 1 - a^2 and c = unit_norm, writes q = scale dR/dz
 * = scale (-4 a g^2 c) over zq and adds over the rows sum q to db and sum g^2 to gate_sq_sum.
 * CUDA: jn_k_hidden1_rows, with those two sums in jn_k_hidden1_units. */
void jn_cpu_hidden1_rows(jn_real *zq, const jn_real *bias, const jn_real *unit_norm, int rows, int n, jn_real scale,
                         jn_real *db, double *gate_sq_sum);
/* act[bottom - 1] holds the input rows; computes act[bottom .. top] (tanh layers, logits at L). */
void jn_cpu_forward(jn_cpu_ws *ws, const jn_real *params, int rows, int bottom, int top);

/* loss.c: the main rows' loss at logits (batch->rows of them), scale dloss/dz into dlogits;
 * sets terms->loss (mean) and terms->errors. */
void jn_cpu_main_loss(const jn_cpu_ws *ws, const jn_batch *batch, const jn_real *logits, double scale,
                      jn_real *dlogits, jn_step_terms *terms);

/* backward.c: back-propagates delta[0] = dObj/dlogits through the activations of the last
 * jn_cpu_forward, writing the gradient of layers L .. bottom; with bottom > 1 it also writes
 * dObj/dz_{bottom-1} (through the tanh of layer bottom - 1) into dz, and adds its column sums
 * to layer bottom - 1's bias gradient, for the caller to take the layers below on (step.c). */
void jn_cpu_backward(jn_cpu_ws *ws, const jn_real *params, int rows, int bottom, jn_real *dz, jn_real *grad);

/* tangent.c: forward-mode pass at the stacked rows h[0] = [main rows ; x~ (B rows) ; tangents
 * (K*B rows)] up to layer top (SPEC "Forward-mode pass"); fills pre, h and gate (the main rows:
 * main_rows of them, 0 or B, only with top = L: their activations in h, their logits in h[L]). */
void jn_cpu_tangent_forward(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, int K, int top);
/* sum over examples i and tangents k of ||t_top(k, i)||^2, in double. */
double jn_cpu_tangent_norm_sum(const jn_cpu_ws *ws, int main_rows, int batch_rows, int K, int top);

/* reduce.c: sum of x[k]^2 in double (vectorised, order fixed). */
double jn_cpu_sum_squares(const jn_real *x, size_t n);
/* reduce.c: sums[j] += sum over the n_rows rows (n wide) of rows[i][j], row by row: a layer's
 * bias gradient from its dObj/dz. */
void jn_cpu_add_column_sums(const jn_real *rows, size_t n_rows, size_t n, jn_real *sums);
/* reduce.c: d = d (1 - a^2) over the n_rows rows (n wide), back through tanh, and the gated
 * rows' column sums added to sums as jn_cpu_add_column_sums would, in the same pass. */
void jn_cpu_tanh_backward_sums(jn_real *d, const jn_real *a, size_t n_rows, size_t n, jn_real *sums);

/* tangent_reverse.c: reverse pass of r = weight * sum_{k,i} ||t_top(k,i)||^2 after
 * jn_cpu_tangent_forward (SPEC "Reverse pass"), adding dr/dtheta to grad. With main rows, whose
 * dObj/dlogits the caller put in adj[0]'s first rows, it back-propagates them too, and their
 * gradient is the first written into grad (every parameter). */
void jn_cpu_tangent_reverse(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, int K, int top,
                            double weight, jn_real *grad);

/* penalty.c: the step when jn_cpu_stacked holds for the output's Gaussian tangents: the main
 * loss's rows ride in the penalty's first pass (copy 0, its first tangent chunk). */
void jn_cpu_stacked_penalty_step(jn_cpu_ws *ws, const jn_real *params, const jn_batch *batch,
                                 const jn_noise *noise, jn_step_terms *terms, jn_real *grad);

/* penalty.c, the hidden1 closed form on the stacked rows of the first layer: h[0] holds
 * main_rows main rows (0 or the batch's B) then B corrupted rows, and so does pre[1], which
 * ends up holding [dObj/dz_1 ; q] (the step writes the main rows' part). unit_norms sets
 * c_j = ||W_1j||^2 for the two others. hidden1_forward: one GEMM over all the rows; the main
 * rows' tanh into act[1]; at the corrupted rows R, q over z~_1 and scale sum q into db_1
 * (zeroed first with main rows, whose gradient the step writes); returns sum_i R_i.
 * hidden1_backward: adds the closed form's 2 scale (sum_i g^2) W_1 term (the main rows' bias
 * gradient is jn_cpu_backward's), and in one GEMM over all the rows their dW_1 (written with
 * main rows, added without). */
void jn_cpu_hidden1_unit_norms(jn_cpu_ws *ws, const jn_real *params);
double jn_cpu_hidden1_forward(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, double scale,
                              jn_real *grad);
void jn_cpu_hidden1_backward(jn_cpu_ws *ws, const jn_real *params, int main_rows, int batch_rows, double scale,
                             jn_real *grad);

/* penalty.c: out = x + s noise over n values (out = x where noise is NULL): a corrupted input. */
void jn_cpu_corrupt(const jn_real *x, const jn_real *noise, jn_real s, size_t n, jn_real *out);
/* penalty.c: the two corruptions of the same x in one pass over it (hidden1's stacked rows):
 * main_rows = x + s_main xi, corrupted = x + s_jac eps (each x where its noise is NULL). */
void jn_cpu_stack_inputs(const jn_real *x, const jn_real *xi, jn_real s_main, const jn_real *eps, jn_real s_jac,
                         size_t n, jn_real *main_rows, jn_real *corrupted);

/* jacobian_rows.c: the exact ||J_output||_F^2 by reverse mode (C products per example,
 * chunked by the workspace's tangent rows) at the primal rows h[0]: of each row into
 * per_row; or summed, adding weight * d(sum_i R_i)/dtheta to grad. */
void jn_cpu_jacobian_rows_sq(jn_cpu_ws *ws, const jn_real *params, int batch_rows, double *per_row);
double jn_cpu_jacobian_rows_penalty(jn_cpu_ws *ws, const jn_real *params, int batch_rows, double weight,
                                    jn_real *grad);


#endif
