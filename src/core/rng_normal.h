/* The normal generator's variants (core/rng_normal.c), for jn_rng_normal and for the tests
 * that hold every instruction-set variant to the same bits. */
#ifndef JACNOISE_RNG_NORMAL_H
#define JACNOISE_RNG_NORMAL_H

#include "jacnoise/rng.h"

typedef enum {
    JN_NORMAL_BEST,     /* the widest variant this CPU runs */
    JN_NORMAL_GENERIC,  /* the baseline instruction set */
    JN_NORMAL_AVX2,     /* x86-64 with AVX2 */
    JN_NORMAL_AVX512    /* x86-64 with AVX-512 F */
} jn_normal_impl;

/* out[k] = normal first + k of (seed, stream, step), k < n, in float; first must be a
 * multiple of 256 (a tile). */
void jn_rng_normal_float(jn_normal_impl impl, uint64_t seed, jn_stream stream, uint64_t step, uint64_t first,
                         float *out, size_t n);

/* Whether this build and CPU run the variant. */
int jn_rng_normal_has(jn_normal_impl impl);

#endif
