/* Evaluation quantities of SPEC.md "Evaluation quantities", computed by the CPU reference:
 * classification error, the exact mean ||J_output(x)||_F^2, the curvature estimate and the
 * hidden-unit saturation statistics. */
#ifndef JACNOISE_EVALUATE_H
#define JACNOISE_EVALUATE_H

#include <stdint.h>

#include "jacnoise/data.h"
#include "jacnoise/model.h"

/* Activation histogram bins over [-1, 1]: bin b holds a in [-1 + b h, -1 + (b + 1) h),
 * h = 2 / JN_HIST_BINS, the last bin also a = 1. */
#define JN_HIST_BINS 20
#define JN_MAX_EVAL_NOISE 16  /* input-noise levels of one evaluation */

typedef struct {
    int jacobian;          /* compute the exact mean ||J_output||_F^2 */
    int curvature;         /* compute the curvature estimate */
    double curv_noise;     /* s in E ||J(x + s eps) - J(x)||_F^2 / s^2 */
    uint64_t seed;         /* for eps and the shared tangents */
    long limit;            /* use only the first `limit` examples (0 = all) */
    /* Error under Gaussian input noise x + s xi for each std s: xi ~ N(0, I) is drawn per
     * example from (seed, example index), shared by every s (common random numbers) and
     * independent of chunking and --eval-limit; inputs are not clipped. */
    int n_noise;
    double noise_std[JN_MAX_EVAL_NOISE];
    /* Called after each chunk with the examples done of the n evaluated, where not NULL: eval's
     * progress line (MNIST's splits took 20-35 s for 784-1000-10 on 2 cores). */
    void (*progress)(void *ctx, long done, long n);
    void *progress_ctx;
} jn_eval_options;

/* The means and fractions of an empty set (n = 0) are NaN. */
typedef struct {
    long n;                          /* examples evaluated */
    long errors;
    double error_pct;
    double jacobian_sq;              /* mean exact ||J_output(x)||_F^2 */
    double curvature;                /* mean ||(J(x + s eps) - J(x)) v||^2 / s^2, v ~ N(0, I) */
    int hidden_layers;
    double saturated[JN_MAX_LAYERS]; /* fraction of hidden activations with |a| > 0.99 */
    double linear[JN_MAX_LAYERS];    /* fraction with |a| < 0.1 */
    double histogram[JN_MAX_LAYERS][JN_HIST_BINS];  /* fraction of activations per bin */
    long noise_errors[JN_MAX_EVAL_NOISE];          /* errors at opt->noise_std[k] */
    double noise_error_pct[JN_MAX_EVAL_NOISE];
} jn_eval_stats;

/* Error count of a set (argmax of the logits, first on ties). */
int jn_cpu_count_errors(const jn_model *m, const jn_real *params, const jn_dataset *set, long *errors);

/* How many of set's examples an evaluation covers: the first `limit` (opt->limit), or all:
 * eval's progress line counts its total so. */
long jn_eval_count(const jn_dataset *set, long limit);

/* All evaluation quantities of a set. */
int jn_cpu_evaluate(const jn_model *m, const jn_real *params, const jn_dataset *set,
                    const jn_eval_options *opt, jn_eval_stats *out);

/* Exact ||J_output(x_i)||_F^2 for `rows` examples x (row-major, rows <= 256), by C
 * reverse-mode products; out[i] per example. */
int jn_cpu_jacobian_sq_exact(const jn_model *m, const jn_real *params, const jn_real *x, int rows,
                             double *out);

#endif
