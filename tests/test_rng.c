/* The normal generator (core/rng_normal.c):
 *  - every value equals a float64 Box-Muller with libm on the same Philox words (the
 *    scalar jn_rng_block) and the same index layout, to float rounding;
 *  - every instruction-set variant gives the same bits, whatever the count asked for and
 *    wherever a range starts: each value is a function of (seed, stream, step, index);
 *  - 4M draws look standard normal: mean, variance, tail frequencies at 2, 3, 4 and 5 sigma,
 *    and the Kolmogorov-Smirnov distance;
 *  - a training step's inputs: the rows of its batch in the permutation's order, and xi, eps
 *    and v each from its own stream (include/jacnoise/rng.h), so never the same numbers;
 *  - the initialisation of SPEC "Model": W_l uniform in [-r, r], r = sqrt(6 / (n_in + n_out)),
 *    b_l = 0. */
#include "check.h"
#include "core/rng_normal.h"
#include "jacnoise/cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TILE_NORMALS 256  /* 64 blocks x 4 words */

/* Normal i the slow way: its block and word (core/rng_normal.c "Index layout"), then
 * Box-Muller in double with libm on the same uniforms. */
static double reference(uint64_t seed, jn_stream stream, uint64_t step, uint64_t i)
{
    const uint64_t tile = i / TILE_NORMALS, j = i % TILE_NORMALS, word = j / 64, block = tile * 64 + j % 64;
    uint32_t w[4];
    jn_rng_block(seed, stream, step, block, w);
    const uint64_t pair = word & ~(uint64_t)1;
    /* The uniforms as the generator has them in float (u has float's resolution near 1, as
     * cuRAND's uniforms do); the transform after them in double. */
    const float u_float = (float)(int32_t)(w[pair] >> 1) * 0x1p-31f + 0x1p-32f;
    const double u = u_float, t = (double)(w[pair + 1] >> 8) * 0x1p-24;
    const double radius = sqrt(-2.0 * log(u)), angle = 6.283185307179586477 * t;
    return word & 1 ? radius * sin(angle) : radius * cos(angle);
}

static double normal_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Batch 1 (rows 4..7) of a reversed permutation, step 17 of seed 42, for MLP+N+J with two
 * copies and three Gaussian tangents: the rows and labels gathered, and each noise buffer the
 * sequence of its stream (rng.h: xi INPUT_NOISE, eps JAC_NOISE, v TANGENT). */
static void check_step_inputs(void)
{
    const int d = 5, n = 10, B = 4, hidden[1] = {4};
    jn_model m;
    REQUIRE(jn_model_make(&m, d, hidden, 1, 3) == 0, "model");
    const jn_objective obj = {.loss = JN_LOSS_XENT, .input_noise = 0.1, .jac_lambda = 1, .jac_noise = 0.2,
                              .jac_copies = 2, .target = JN_TARGET_OUTPUT, .target_layer = 1, .jac_proj = 3};
    float xs[10 * 5];
    int32_t ys[10];
    uint32_t perm[10];
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < d; k++)
            xs[i * d + k] = (float)i + (float)k / 10;
        ys[i] = i % 3;
        perm[i] = (uint32_t)(n - 1 - i);
    }
    jn_dataset train = {.name = "rows", .n = n, .d = d, .classes = 3, .x = xs, .y = ys};
    jn_cpu_step_inputs in;
    REQUIRE(jn_cpu_step_inputs_alloc(&in, &m, &obj, B) == 0, "step inputs");
    jn_batch batch;
    jn_noise noise;
    const int rows = jn_cpu_step_inputs_fill(&in, &m, &obj, &train, perm, 1, B, 42, 17, &batch, &noise);
    CHECK(rows == B && batch.rows == B, "batch 1: %d rows, expected %d", rows, B);
    int wrong_rows = 0;
    for (int i = 0; i < B; i++) {
        const int ex = n - 1 - (B + i);
        wrong_rows += batch.y[i] != ys[ex];
        for (int k = 0; k < d; k++)
            wrong_rows += batch.x[i * d + k] != xs[ex * d + k];
    }
    CHECK(!wrong_rows, "batch 1 of a reversed permutation: %d values not those of examples 5..2", wrong_rows);
    const size_t per_copy = (size_t)B * d;
    const struct {
        const char *name;
        const jn_real *got;
        jn_stream stream;
        size_t count;
    } bufs[] = {{"xi", noise.xi, JN_STREAM_INPUT_NOISE, per_copy},
                {"eps", noise.eps, JN_STREAM_JAC_NOISE, 2 * per_copy},
                {"v", noise.v, JN_STREAM_TANGENT, 2 * 3 * per_copy}};
    jn_real want[2 * 3 * 4 * 5];
    for (size_t b = 0; b < 3; b++) {
        REQUIRE(bufs[b].got, "%s: no buffer", bufs[b].name);
        jn_rng_normal(42, bufs[b].stream, 17, want, bufs[b].count);
        CHECK(!memcmp(bufs[b].got, want, sizeof(jn_real) * bufs[b].count), "%s is not the sequence of its stream",
              bufs[b].name);
    }
    int same = 0;
    for (size_t k = 0; k < per_copy; k++)
        same += noise.xi[k] == noise.eps[k] || noise.xi[k] == noise.v[k] || noise.eps[k] == noise.v[k];
    CHECK(same == 0, "xi, eps and v share %d of their first %zu values", same, per_copy);
    jn_cpu_step_inputs_free(&in);
}

/* SPEC "Model": W_l uniform in [-r, r] with r = sqrt(6 / (n_{l-1} + n_l)), b_l = 0. */
static void check_init(void)
{
    const int hidden[2] = {40, 20};
    jn_model m;
    REQUIRE(jn_model_make(&m, 30, hidden, 2, 10) == 0, "model");
    jn_real *p = malloc(sizeof(jn_real) * m.n_params);
    REQUIRE(p, "out of memory");
    jn_model_init_params(&m, 5, p);
    for (int l = 1; l <= m.n_layers; l++) {
        const size_t nw = (size_t)m.sizes[l] * m.sizes[l - 1];
        const double r = sqrt(6.0 / (m.sizes[l - 1] + m.sizes[l]));
        const jn_real *w = jn_weights_c(&m, p, l), *b = jn_biases_c(&m, p, l);
        double top = 0, sum = 0;
        for (size_t k = 0; k < nw; k++) {
            top = fmax(top, fabs((double)w[k]));
            sum += w[k];
        }
        /* >= 200 uniform draws: the largest |w| lies below 0.97 r with probability < 0.97^200 ~ 0.2%,
         * and the mean within 5 standard errors (r / sqrt(3 n)) of 0. */
        CHECK(top <= r * (1 + 1e-6) && top > 0.97 * r, "layer %d: largest |w| %.5f, expected just under r = %.5f", l, top, r);
        CHECK(fabs(sum / nw) < 5 * r / sqrt(3.0 * nw), "layer %d: mean weight %.4g", l, sum / nw);
        int nonzero = 0;
        for (int j = 0; j < m.sizes[l]; j++)
            nonzero += b[j] != 0;
        CHECK(!nonzero, "layer %d: %d biases not 0", l, nonzero);
    }
    free(p);
}

int main(void)
{
    const jn_normal_impl impls[] = {JN_NORMAL_GENERIC, JN_NORMAL_AVX2, JN_NORMAL_AVX512};
    const char *impl_names[] = {"generic", "avx2", "avx512"};

    /* Against the double-precision reference, on a few (seed, stream, step). */
    const size_t n_ref = 100000;
    float *z = malloc(sizeof(float) * n_ref);
    double worst = 0;
    const struct {
        uint64_t seed, step;
        jn_stream stream;
    } keys[] = {{1, 0, JN_STREAM_JAC_NOISE}, {0xDEADBEEFCAFEull, 123456789012ull, JN_STREAM_TANGENT}, {7, 3, JN_STREAM_INPUT_NOISE}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        jn_rng_normal_float(JN_NORMAL_BEST, keys[k].seed, keys[k].stream, keys[k].step, 0, z, n_ref);
        for (size_t i = 0; i < n_ref; i++) {
            const double want = reference(keys[k].seed, keys[k].stream, keys[k].step, i);
            const double err = fabs(z[i] - want) / fmax(1.0, fabs(want));
            worst = err > worst ? err : worst;
        }
    }
    printf("largest error against the float64 reference: %.3g (relative, or absolute below 1)\n", worst);
    CHECK(worst < 1e-6, "normals differ from the float64 Box-Muller by %.3g", worst);

    /* Every variant, every count, every starting tile: the same bits. */
    const size_t n_big = 20000;
    float *a = malloc(sizeof(float) * n_big), *b = malloc(sizeof(float) * n_big);
    jn_rng_normal_float(JN_NORMAL_GENERIC, 42, JN_STREAM_TANGENT, 9, 0, a, n_big);
    for (size_t v = 0; v < sizeof impls / sizeof impls[0]; v++) {
        if (!jn_rng_normal_has(impls[v])) {
            printf("variant %s: not run (this CPU lacks it)\n", impl_names[v]);
            continue;
        }
        const size_t counts[] = {1, 3, 255, 256, 257, 1000, n_big};
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            memset(b, 0xFF, sizeof(float) * n_big);
            jn_rng_normal_float(impls[v], 42, JN_STREAM_TANGENT, 9, 0, b, counts[c]);
            CHECK(!memcmp(a, b, sizeof(float) * counts[c]), "%s: %zu normals differ from the generic ones",
                  impl_names[v], counts[c]);
            CHECK(counts[c] == n_big || b[counts[c]] != b[counts[c]], "%s: wrote past %zu normals", impl_names[v],
                  counts[c]);
        }
        jn_rng_normal_float(impls[v], 42, JN_STREAM_TANGENT, 9, 5 * TILE_NORMALS, b, 700);
        CHECK(!memcmp(a + 5 * TILE_NORMALS, b, sizeof(float) * 700), "%s: a range from tile 5 differs", impl_names[v]);
        printf("variant %s: same bits as generic\n", impl_names[v]);
    }
    /* The public entry point is the same sequence; other keys give other numbers. */
    jn_real *r = malloc(sizeof(jn_real) * n_big);
    jn_rng_normal(42, JN_STREAM_TANGENT, 9, r, n_big);
    CHECK(!memcmp(a, r, sizeof(float) * n_big), "jn_rng_normal differs from its float variants");
    jn_rng_normal(42, JN_STREAM_TANGENT, 10, r, n_big);
    CHECK(r[0] != a[0] && r[1] != a[1], "step 9 and 10 give the same numbers");
    jn_rng_normal(42, JN_STREAM_JAC_NOISE, 9, r, n_big);
    CHECK(r[0] != a[0] && r[1] != a[1], "two streams give the same numbers");

    /* The distribution, over 4M draws. */
    const size_t n = (size_t)1 << 22;
    float *x = malloc(sizeof(float) * n);
    jn_rng_normal_float(JN_NORMAL_BEST, 2024, JN_STREAM_JAC_NOISE, 77, 0, x, n);
    double sum = 0, sum2 = 0, sum4 = 0;
    const double cut[] = {2, 3, 4, 5};
    long beyond[4] = {0};
    for (size_t i = 0; i < n; i++) {
        const double v = x[i];
        sum += v, sum2 += v * v, sum4 += v * v * v * v;
        for (int c = 0; c < 4; c++)
            beyond[c] += fabs(v) > cut[c];
    }
    const double mean = sum / n, var = sum2 / n - mean * mean, kurt = sum4 / n;
    printf("%zu draws: mean %.2e, variance %.6f, fourth moment %.4f\n", n, mean, var, kurt);
    CHECK(fabs(mean) < 5 / sqrt((double)n), "mean %.3g beyond 5 standard errors", mean);
    CHECK(fabs(var - 1) < 5 * sqrt(2.0 / n), "variance %.6f beyond 5 standard errors of 1", var);
    CHECK(fabs(kurt - 3) < 5 * sqrt(96.0 / n), "fourth moment %.4f beyond 5 standard errors of 3", kurt);
    for (int c = 0; c < 4; c++) {
        const double p = 2 * normal_cdf(-cut[c]), expected = p * n, sd = sqrt(n * p * (1 - p));
        printf("  |z| > %.0f: %ld draws, expected %.1f +- %.1f\n", cut[c], beyond[c], expected, sd);
        CHECK(fabs(beyond[c] - expected) < 5 * sd + 1, "|z| > %.0f: %ld draws, expected %.1f", cut[c], beyond[c],
              expected);
    }
    qsort(x, n, sizeof(float), cmp_float);
    double ks = 0;
    for (size_t i = 0; i < n; i++) {
        const double F = normal_cdf(x[i]);
        ks = fmax(ks, fmax(fabs(F - (double)i / n), fabs(F - (double)(i + 1) / n)));
    }
    /* sqrt(n) D > 1.95 has probability 0.001 for a true normal sample. */
    printf("Kolmogorov-Smirnov: sqrt(n) D = %.3f; largest |z| %.3f\n", sqrt((double)n) * ks,
           fmax(-x[0], x[n - 1]));
    CHECK(sqrt((double)n) * ks < 1.95, "KS statistic %.3f", sqrt((double)n) * ks);
    CHECK(-x[0] < 6.7 && x[n - 1] < 6.7, "a draw beyond the generator's bound sqrt(-2 ln 2^-32) = 6.66");
    free(z), free(a), free(b), free(r), free(x);
    check_step_inputs();
    check_init();
    return check_exit();
}
