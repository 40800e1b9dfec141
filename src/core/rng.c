/* Counter-based sequences built on Philox4x32-10: uniforms, permutations (normals: rng_normal.c). */
#include "jacnoise/rng.h"

#include <math.h>

/* Counter layout: words 0-1 = block index, word 2 = step (low 32 bits), word 3 = stream in
 * the top byte and step bits 32-55 below it. Key = the 64-bit seed. */
void jn_rng_block(uint64_t seed, jn_stream stream, uint64_t step, uint64_t block, uint32_t out[4])
{
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), (uint32_t)step,
                             ((uint32_t)stream << 24) | ((uint32_t)(step >> 32) & 0xFFFFFFu)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    jn_philox4x32_10(ctr, key, out);
}

/* Uniform in (0, 1), never 0 (log-safe). */
static double open_unit(uint32_t w) { return ((double)w + 0.5) * (1.0 / 4294967296.0); }

void jn_rng_uniform(uint64_t seed, jn_stream stream, uint64_t step, jn_real *out, size_t n, double r)
{
    for (size_t base = 0; base < n; base += 4) {
        uint32_t w[4];
        jn_rng_block(seed, stream, step, base / 4, w);
        for (size_t k = 0; k < 4 && base + k < n; k++)
            out[base + k] = (jn_real)((2.0 * open_unit(w[k]) - 1.0) * r);
    }
}

void jn_rng_permutation(uint64_t seed, jn_stream stream, uint64_t step, uint32_t *perm, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t w[4];
        jn_rng_block(seed, stream, step, i, w);
        /* Multiply-shift maps 32 random bits to [0, i); the bias, below i / 2^32, is
         * negligible for data-set sizes. */
        uint32_t j = (uint32_t)(((uint64_t)w[0] * i) >> 32);
        uint32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}
