/* What every backend's training step takes and returns (SPEC.md "Randomness": noise is an
 * input of the step, not a side effect). Pointers are in the backend's memory. */
#ifndef JACNOISE_STEP_H
#define JACNOISE_STEP_H

#include <stdint.h>

#include "jacnoise/real.h"

/* A mini-batch: rows examples of d features (row-major) and their labels. */
typedef struct {
    const jn_real *x;
    const int32_t *y;
    int rows;
} jn_batch;

/* Standard-normal noise buffers, sized by jn_objective_noise_sizes(); NULL where the size is 0.
 * The step scales them by s_in and s_J. */
typedef struct {
    const jn_real *xi;   /* rows x d: main-loss input noise */
    const jn_real *eps;  /* copies x rows x d: the penalty's input corruption */
    const jn_real *v;    /* copies x K x rows x d: JVP tangents */
} jn_noise;

/* Loss terms of one step (means over the batch), in double. */
typedef struct {
    double loss;     /* (1/B) sum_i loss_i at the main loss's (possibly noisy) input */
    double penalty;  /* (1/B) sum_i R_i, before the factor lam; 0 when lam = 0 */
    int errors;      /* misclassified examples at the main loss's input */
} jn_step_terms;

/* Running sums over the steps of an epoch (trainer metrics; kept in checkpoints so a resumed
 * epoch reports what an uninterrupted one would). */
typedef struct {
    double loss;     /* sum over steps of rows * terms.loss */
    double penalty;  /* sum over steps of rows * terms.penalty */
    long errors;     /* misclassified training examples */
    long examples;   /* rows seen */
    long steps;
} jn_epoch_sums;

#endif
