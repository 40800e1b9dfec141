/* The epoch permutation as defined in include/jacnoise/rng.h, the definition both backends
 * compute: the indices sorted by their Philox key (word 0 of jn_rng_block(seed, stream,
 * step, i)), ties by index. Checked from the definition itself: the output is a permutation
 * and walks the (key, index) pairs in strictly increasing order; the key is that word of the
 * block; the generator matches the Random123 known answers. (The CUDA engine's permutation is
 * compared with this one in test_cuda_step.) And the CPU backend, through the interface the
 * trainer uses, trains each epoch on that epoch's permutation: epochs 0, 1, 2 in turn from the
 * same state give the bytes of steps taken by hand on jn_rng_permutation's order, and differ. */
#include "check.h"
#include "jacnoise/backend.h"
#include "jacnoise/cpu.h"
#include "jacnoise/error.h"
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

/* A 3-4-2 model on 7 examples in batches of 2 (the last one short), plain SGD: epochs 0, 1
 * and 2 trained in turn on one backend slot, each from the same state, against the same steps
 * taken by hand in the order jn_rng_permutation gives that epoch. */
static void backend_epochs(void)
{
    enum { N = 7, D = 3, B = 2, BATCHES = 4, EPOCHS = 3 };
    const uint64_t seed = 5;
    const double lr = 0.5;
    jn_model m;
    REQUIRE(jn_model_make(&m, D, (const int[]){4}, 1, 2) == 0, "model");
    float x[N * D];
    int32_t y[N];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++)
            x[i * D + j] = (float)((i * 7 + j * 3) % 11) / 10;
        y[i] = i % 2;
    }
    const jn_dataset train = {"synthetic", N, D, 2, x, y};
    const jn_objective obj = {.jac_copies = 1};
    const jn_backend_setup setup = {.batch = B, .models = 1};
    jn_backend *be = jn_cpu_backend_create(&m, &obj, &setup, &train);
    jn_cpu_ws *ws = jn_cpu_ws_new(&m, &obj, B);
    jn_cpu_step_inputs in;
    REQUIRE(be && ws && !jn_cpu_step_inputs_alloc(&in, &m, &obj, B), "CPU backend: %s", jn_last_error());
    const jn_model_hparams hp = {.seed = seed};
    REQUIRE(!be->ops->set_hparams(be, 0, &hp), "hyperparameters: %s", jn_last_error());
    const size_t P = m.n_params;
    jn_real *start = malloc(sizeof(jn_real) * P), *zero = calloc(P, sizeof(jn_real));
    jn_real *got = malloc(sizeof(jn_real) * P * EPOCHS), *velocity = malloc(sizeof(jn_real) * P);
    jn_real *want = malloc(sizeof(jn_real) * P), *grad = malloc(sizeof(jn_real) * P);
    uint32_t perm[N + 1];
    REQUIRE(start && zero && got && velocity && want && grad, "out of memory");
    jn_model_init_params(&m, 1, start);
    for (int e = 0; e < EPOCHS; e++) {
        const jn_slot_chunk at = {1, e, 0, lr};
        const jn_train_chunk chunk = {0, BATCHES, &at};
        jn_epoch_sums sums = {0};
        jn_chunk_result res;
        REQUIRE(!be->ops->set_state(be, 0, start, zero) && !be->ops->train(be, &chunk, &sums, &res) &&
                    !be->ops->get_state(be, 0, got + e * P, velocity),
                "epoch %d: %s", e, jn_last_error());
        memcpy(want, start, sizeof(jn_real) * P);
        memset(velocity, 0, sizeof(jn_real) * P);
        REQUIRE(!jn_rng_permutation(seed, JN_STREAM_SHUFFLE, (uint64_t)e, perm, N), "permutation");
        for (long b = 0; b < BATCHES; b++) {
            jn_step_terms terms;
            jn_cpu_train_step(ws, &in, &train, perm, b, B, seed, (uint64_t)b, lr, 0, want, velocity, grad, &terms);
        }
        CHECK(!memcmp(got + e * P, want, sizeof(jn_real) * P),
              "CPU backend, epoch %d after %d others: not the steps on that epoch's permutation", e, e);
        if (e > 0)
            CHECK(memcmp(got + e * P, got + (e - 1) * P, sizeof(jn_real) * P),
                  "CPU backend: epochs %d and %d trained the same from the same state", e - 1, e);
    }
    be->ops->destroy(be);
    jn_cpu_ws_free(ws);
    jn_cpu_step_inputs_free(&in);
    free(start);
    free(zero);
    free(got);
    free(velocity);
    free(want);
    free(grad);
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
    backend_epochs();
    return check_exit();
}
