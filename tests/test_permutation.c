/* The epoch permutation as defined in include/jacnoise/rng.h, the definition both backends
 * compute: the indices sorted by their Philox key (word 0 of jn_rng_block(seed, stream,
 * step, i)), ties by index. Checked from the definition itself: the output is a permutation
 * and walks the (key, index) pairs in strictly increasing order; the key is that word of the
 * block; the generator matches the Random123 known answers. (The CUDA engine's permutation is
 * compared with this one in test_cuda_step.) */
#include "check.h"
#include "jacnoise/rng.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_permutation(uint64_t seed, uint64_t epoch, uint32_t n)
{
    uint32_t *perm = malloc(sizeof *perm * (n + 1));
    unsigned char *seen = calloc(n + 1, 1);
    REQUIRE(perm && seen, "out of memory");
    REQUIRE(jn_rng_permutation(seed, JN_STREAM_SHUFFLE, epoch, perm, n) == 0, "jn_rng_permutation failed");
    int repeated = 0, unsorted = 0, wrong_key = 0;
    for (uint32_t p = 0; p < n; p++) {
        REQUIRE(perm[p] < n, "seed %llu epoch %llu n %u: perm[%u] = %u out of range", (unsigned long long)seed,
                (unsigned long long)epoch, n, p, perm[p]);
        repeated += seen[perm[p]]++ > 0;
        uint32_t w[4];
        jn_rng_block(seed, JN_STREAM_SHUFFLE, epoch, perm[p], w);
        wrong_key += w[0] != jn_rng_permutation_key(seed, JN_STREAM_SHUFFLE, epoch, perm[p]);
        if (p > 0) {
            uint64_t a = (uint64_t)jn_rng_permutation_key(seed, JN_STREAM_SHUFFLE, epoch, perm[p - 1]) << 32 | perm[p - 1];
            uint64_t b = (uint64_t)jn_rng_permutation_key(seed, JN_STREAM_SHUFFLE, epoch, perm[p]) << 32 | perm[p];
            unsorted += !(a < b);
        }
    }
    CHECK(!repeated, "seed %llu epoch %llu n %u: %d indices repeated", (unsigned long long)seed,
          (unsigned long long)epoch, n, repeated);
    CHECK(!unsorted, "seed %llu epoch %llu n %u: %d positions out of (key, index) order", (unsigned long long)seed,
          (unsigned long long)epoch, n, unsorted);
    CHECK(!wrong_key, "n %u: %d keys differ from word 0 of the block", n, wrong_key);
    free(perm);
    free(seen);
}

int main(void)
{
    /* Random123's known answers for Philox4x32-10 (kat_vectors). */
    const struct {
        uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t k = 0; k < sizeof kat / sizeof kat[0]; k++) {
        uint32_t out[4];
        jn_philox4x32_10(kat[k].ctr, kat[k].key, out);
        CHECK(!memcmp(out, kat[k].out, sizeof out), "Philox4x32-10 known answer %zu: %08x %08x %08x %08x", k, out[0],
              out[1], out[2], out[3]);
    }
    const uint32_t sizes[] = {0, 1, 2, 7, 1000, 7291, 60000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (uint64_t epoch = 0; epoch < 3; epoch++)
            check_permutation(1 + i, epoch, sizes[i]);
    check_permutation(0xFFFFFFFFFFFFFFFFull, 5000000000ull, 1000);  /* step bits above 32 */
    return check_exit();
}
