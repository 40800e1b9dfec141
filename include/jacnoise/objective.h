/* The training objective of SPEC.md "Objective for one minibatch":
 *
 *   Obj = (1/B) sum_i [ loss(f(x_i + s_in xi_i), y_i) + lam R_i ] + (wd/2) sum_l ||W_l||^2
 *
 * with R_i the Jacobian penalty at x_i + s_J eps_i, averaged over `copies` corruptions. */
#ifndef JACNOISE_OBJECTIVE_H
#define JACNOISE_OBJECTIVE_H

#include <stddef.h>

#include "jacnoise/model.h"

typedef enum { JN_LOSS_XENT = 0, JN_LOSS_SQUARED = 1 } jn_loss_kind;

/* What the penalty differentiates: the first hidden layer (closed form), hidden layer k, or
 * the logits. */
typedef enum { JN_TARGET_HIDDEN1 = 0, JN_TARGET_HIDDEN = 1, JN_TARGET_OUTPUT = 2 } jn_target_kind;

#define JN_PROJ_EXACT 0  /* jac_proj value meaning "exact ||J||_F^2" */

typedef struct {
    jn_loss_kind loss;
    double input_noise;    /* s_in: Gaussian noise on the main loss's input ("MLP+N") */
    double weight_decay;   /* wd: applied by the update, to weights only */
    double jac_lambda;     /* lam: penalty weight; 0 = no penalty */
    double jac_noise;      /* s_J: corruption of the penalty's input */
    int jac_copies;        /* m >= 1 corruptions per example */
    jn_target_kind target;
    int target_layer;      /* k for JN_TARGET_HIDDEN */
    int jac_proj;          /* K >= 1 Gaussian JVPs (Hutchinson), or JN_PROJ_EXACT */
} jn_objective;

/* Index of the layer whose Jacobian is penalised: 1 (hidden1), k, or L (output). */
int jn_objective_top(const jn_objective *obj, const jn_model *m);

/* Checks the objective against the model (hidden:k within 1 .. L-1, ...). */
int jn_objective_check(const jn_objective *obj, const jn_model *m);

/* Whether the penalty is the exact norm of the output's Jacobian, which both backends take
 * by reverse mode: C rows of J per example (SPEC "The penalty R"). */
int jn_objective_jacobian_rows(const jn_objective *obj);

/* Number of tangent rows per example and copy: K for the Gaussian estimator; for the exact
 * norm C (the output's Jacobian rows, jn_objective_jacobian_rows) or d (a hidden layer's
 * input basis); 0 for hidden1 (closed form) or no penalty. */
int jn_objective_tangents(const jn_objective *obj, const jn_model *m);

/* Tangent directions per pass of the penalty for batches of max_rows: all K when the stacked
 * rows (1 + K) * max_rows fit a fixed budget, else as many as fit (at least 1). The exact
 * norm's rows then go in chunks, which the reverse pass allows because it is linear in its
 * seeds (forward mode) or sums over the rows (the output's rows). Both backends use it, so
 * they chunk alike. 0 without tangents. */
int jn_objective_tangent_chunk(const jn_objective *obj, const jn_model *m, int max_rows);

/* Sizes (elements) of the step's noise buffers for a batch of `rows` examples:
 *   xi  rows x d                 (0 unless s_in > 0)
 *   eps copies x rows x d        (0 unless lam > 0 and s_J > 0)
 *   v   copies x K x rows x d    (0 unless lam > 0 and a Gaussian-JVP estimator) */
typedef struct {
    size_t xi, eps, v;
} jn_noise_sizes;
jn_noise_sizes jn_objective_noise_sizes(const jn_objective *obj, const jn_model *m, int rows);

/* How far the CUDA engine's step may be from the CPU reference's on the same inputs, relative
 * (||gpu - cpu|| / ||cpu|| of a tensor): jacnoise check's default tolerance and the CUDA
 * benchmarks' limit, in one place so that both hold a step to the same bound.
 * fp32: both sides compute in float32; cuBLAS and OpenBLAS sum the GEMMs' dot products in
 * different orders, which moves each result by ~1e-6 relative, and the penalty's reverse pass
 * multiplies a few such terms over a few steps; a wrong formula moves a tensor by O(1). */
#define JN_FP32_TOLERANCE 1e-4

/* The TF32 tolerance's derivation (jn_step_tolerance), for a reader to check. */
typedef struct {
    double u_tf32;    /* TF32's unit roundoff, 2^-11 */
    double per_gemm;  /* a GEMM output's RMS relative error from the rounded inputs */
    long longest;     /* the longest reduction among the step's GEMMs */
    int gemms;        /* the GEMMs chained behind a gradient */
    double chain;     /* their relative errors added */
    double margin;    /* tolerance = margin x chain */
} jn_tf32_bound;

/* The tolerance of a step of m under obj on batches of `batch` rows: JN_FP32_TOLERANCE, or with
 * tf32 one derived from TF32's 10-bit mantissa and the reduction lengths of the step's GEMMs
 * (its derivation into *why where why is not NULL). */
double jn_step_tolerance(const jn_model *m, const jn_objective *obj, int batch, int tf32, jn_tf32_bound *why);

/* "hidden1", "hidden:2", "output". */
void jn_target_name(const jn_objective *obj, char *out, size_t cap);

#endif
