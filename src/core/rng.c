/* Counter-based sequences built on Philox4x32-10: uniforms, permutations (normals: rng_normal.c). */
#include "jacnoise/rng.h"
#include "jacnoise/error.h"

#include <math.h>
#include <stdlib.h>

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

static int compare_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int jn_rng_permutation(uint64_t seed, jn_stream stream, uint64_t step, uint32_t *perm, uint32_t n)
{
    /* (key << 32 | i) sorts by key, then by index. */
    uint64_t *order = malloc(sizeof *order * (n ? n : 1));
    if (!order)
        return jn_fail("out of memory for the permutation of %u examples", n);
    for (uint32_t i = 0; i < n; i++)
        order[i] = (uint64_t)jn_rng_permutation_key(seed, stream, step, i) << 32 | i;
    qsort(order, n, sizeof *order, compare_u64);
    for (uint32_t i = 0; i < n; i++)
        perm[i] = (uint32_t)order[i];
    free(order);
    return 0;
}
