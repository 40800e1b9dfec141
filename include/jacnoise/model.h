/* The tanh MLP's shape and parameter layout (SPEC.md "Model").
 *
 * Parameters live in one flat array, layer after layer: W_1 (n_1 x n_0, row j = weights
 * into unit j), b_1 (n_1), W_2, b_2, ... W_L, b_L. Gradients and momentum use the same
 * layout, so the optimizer is one pass over one array. */
#ifndef JACNOISE_MODEL_H
#define JACNOISE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "jacnoise/real.h"

#define JN_MAX_LAYERS 16  /* weight layers L; L - 1 hidden layers */
#define JN_MAX_WIDTH 1000000

typedef struct {
    int n_layers;                      /* L >= 2 */
    int sizes[JN_MAX_LAYERS + 1];      /* sizes[0] = d inputs, sizes[L] = C classes */
    size_t w_offset[JN_MAX_LAYERS + 1];  /* offset of W_l, l = 1 .. L */
    size_t b_offset[JN_MAX_LAYERS + 1];  /* offset of b_l */
    size_t n_params;
    int max_width;                     /* max over sizes[] */
} jn_model;

/* Builds the shape d - hidden[0] - ... - hidden[n_hidden-1] - classes. Fails on 0 hidden
 * layers, too many, zero or absurd widths, or a parameter count past 2^34 (then n_params holds
 * the count reached, past it). */
int jn_model_make(jn_model *m, int d, const int *hidden, int n_hidden, int classes);

/* W_l and b_l of layer l inside the flat parameter vector params (_c: read-only). */
static inline jn_real *jn_weights(const jn_model *m, jn_real *params, int l) { return params + m->w_offset[l]; }
static inline jn_real *jn_biases(const jn_model *m, jn_real *params, int l) { return params + m->b_offset[l]; }
static inline const jn_real *jn_weights_c(const jn_model *m, const jn_real *params, int l) { return params + m->w_offset[l]; }
static inline const jn_real *jn_biases_c(const jn_model *m, const jn_real *params, int l) { return params + m->b_offset[l]; }

/* SPEC initialisation: W_l uniform in [-r, r], r = sqrt(6 / (n_{l-1} + n_l)), b_l = 0,
 * drawn from the seed's JN_STREAM_INIT stream (step = l). */
void jn_model_init_params(const jn_model *m, uint64_t seed, jn_real *params);

/* (wd / 2) * sum_l ||W_l||_F^2, in double. */
double jn_weight_decay_term(const jn_model *m, const jn_real *params, double wd);

/* "784-1000-1000-10". */
void jn_model_describe(const jn_model *m, char *out, size_t cap);

#endif
