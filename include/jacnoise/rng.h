/* Counter-based random numbers (Philox4x32-10, Salmon et al. 2011) for the CPU path, and the
 * epoch permutation every backend shares (the CUDA kernels call the JN_HD functions).
 *
 * Every value is a pure function of (seed, stream, step, index): no generator state, so
 * results do not depend on thread count or call order, and a resumed run draws exactly the
 * numbers the uninterrupted run would have drawn. */
#ifndef JACNOISE_RNG_H
#define JACNOISE_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "jacnoise/real.h"

/* Independent streams: one per purpose, so that changing one option never shifts another
 * purpose's numbers. */
typedef enum {
    JN_STREAM_INIT = 1,          /* parameter initialisation (step = layer) */
    JN_STREAM_SHUFFLE = 2,       /* epoch permutation (step = epoch) */
    JN_STREAM_INPUT_NOISE = 3,   /* xi, the main-loss input noise (step = global step) */
    JN_STREAM_JAC_NOISE = 4,     /* eps, the regulariser's input corruption */
    JN_STREAM_TANGENT = 5,       /* v, the JVP tangents */
    JN_STREAM_EVAL_NOISE = 6,    /* evaluation: curvature-estimate corruption */
    JN_STREAM_EVAL_TANGENT = 7,  /* evaluation: curvature-estimate tangents */
    JN_STREAM_SWEEP = 8,         /* a sweep's random search (step = sample) */
    JN_STREAM_EVAL_INPUT_NOISE = 9 /* evaluation: input noise of the robustness curve (step = example) */
} jn_stream;

/* One Philox4x32-10 block: 4 random words from a 128-bit counter and a 64-bit key. */
JN_HD void jn_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4])
{
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* The 4 words of block `block` of (seed, stream, step). Counter: words 0-1 = block, word 2 =
 * step (low 32 bits), word 3 = stream in the top byte and step bits 32-55 below it; key = the
 * 64-bit seed. Host and device: the CUDA kernels draw the same blocks. */
JN_HD void jn_rng_block(uint64_t seed, jn_stream stream, uint64_t step, uint64_t block, uint32_t out[4])
{
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)step,
                             ((uint32_t)stream << 24) | ((uint32_t)(step >> 32) & 0xFFFFFFu)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    jn_philox4x32_10(ctr, key, out);
}

/* The sort key of element i in the permutation of (seed, stream, step): word 0 of block i. */
JN_HD uint32_t jn_rng_permutation_key(uint64_t seed, jn_stream stream, uint64_t step, uint64_t i)
{
    uint32_t w[4];
    jn_rng_block(seed, stream, step, i, w);
    return w[0];
}

/* out[i] = element i of the standard-normal sequence of (seed, stream, step), i < n
 * (Box-Muller in float on Philox blocks, vectorised: see core/rng_normal.c). */
void jn_rng_normal(uint64_t seed, jn_stream stream, uint64_t step, jn_real *out, size_t n);

/* out[i] uniform in [-r, r]. */
void jn_rng_uniform(uint64_t seed, jn_stream stream, uint64_t step, jn_real *out, size_t n, double r);

/* The permutation of 0 .. n-1 of (seed, stream, step), defined so that every backend computes
 * the same one: the indices i sorted by jn_rng_permutation_key(seed, stream, step, i), ties by
 * i. (The CUDA engine sorts the same keys on the device: kernels/step_inputs.cu.) Returns -1
 * (jn_fail) when out of memory for its n 64-bit sort entries. */
int jn_rng_permutation(uint64_t seed, jn_stream stream, uint64_t step, uint32_t *perm, uint32_t n);

#endif
