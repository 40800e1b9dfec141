/* Standard normals for the CPU path: Philox4x32-10 blocks, then Box-Muller in float.
 *
 * The step draws B x d normals per noise buffer (78,400 for MNIST at B = 100), so this is
 * on the training step's critical path: a scalar double Box-Muller cost ~31 ns a normal,
 * 20-30% of an N+J step. Here the work goes in tiles of TILE Philox blocks: first every
 * block of the tile (integer lanes, independent, vectorised), then a branch-free transform
 * whose log and sin/cos are polynomials in float (Cephes' logf, sinf and cosf kernels, within
 * 2 ulp) that the compiler vectorises. Only IEEE +, -, *, sqrt and exact integer operations
 * are used, with contraction into FMA off (-ffp-contract=off: CMakeLists.txt), so every
 * instruction set gives the same bits and
 * each value stays a pure function of (seed, stream, step, index).
 *
 * Index layout: normal i belongs to tile t = i / (4 TILE); within it, word k = (i mod 4 TILE)
 * / TILE of block t TILE + (i mod TILE). Words (0, 1) and (2, 3) of a block are Box-Muller
 * pairs: z = sqrt(-2 ln u) (cos, sin)(2 pi u'). */
#include "core/rng_normal.h"
#include "core/isa.h"

#include <string.h>

#define TILE 64  /* blocks per tile; divides 2^32, so a tile's blocks share the counter's high word */

/* The blocks tile*TILE .. +TILE-1 of (seed, stream, step) as four word arrays (the counter
 * layout of jn_rng_block). */
JN_ALWAYS_INLINE void philox_tile(uint64_t seed, jn_stream stream, uint64_t step,
                                  uint64_t tile, uint32_t w[4][TILE])
{
    const uint64_t block0 = tile * TILE;
    const uint32_t hi = (uint32_t)(block0 >> 32), lo = (uint32_t)block0, c2 = (uint32_t)step,
                   c3 = ((uint32_t)stream << 24) | ((uint32_t)(step >> 32) & 0xFFFFFFu);
    for (int i = 0; i < TILE; i++) {
        w[0][i] = lo + (uint32_t)i;
        w[1][i] = hi;
        w[2][i] = c2;
        w[3][i] = c3;
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < TILE; i++) {
            const uint64_t p0 = (uint64_t)0xD2511F53u * w[0][i], p1 = (uint64_t)0xCD9E8D57u * w[2][i];
            const uint32_t n0 = (uint32_t)(p1 >> 32) ^ w[1][i] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ w[3][i] ^ k1;
            w[1][i] = (uint32_t)p1;
            w[3][i] = (uint32_t)p0;
            w[0][i] = n0;
            w[2][i] = n2;
        }
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* philox_tile with AVX2 intrinsics, 8 blocks a vector. The compiler's own vectorisation of
 * the C loop widens the 32 x 32 -> 64-bit products into 64-bit lanes and shuffles them back,
 * two thirds of the generator's time; here _mm256_mul_epu32 multiplies the even lanes, then
 * the odd ones shifted down, and two blends put the high and low words back in place. Exact
 * integer arithmetic: the same words as philox_tile (test_rng holds every variant to the
 * same bits). */
JN_TARGET_AVX2 static inline void philox_tile_avx2(uint64_t seed, jn_stream stream, uint64_t step, uint64_t tile,
                                                   uint32_t w[4][TILE])
{
    const uint64_t block0 = tile * TILE;
    const __m256i m0 = _mm256_set1_epi64x(0xD2511F53u), m1 = _mm256_set1_epi64x(0xCD9E8D57u);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int i = 0; i < TILE; i += 8) {
        __m256i x0 = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)block0 + i), lanes);
        __m256i x1 = _mm256_set1_epi32((int)(uint32_t)(block0 >> 32));
        __m256i x2 = _mm256_set1_epi32((int)(uint32_t)step);
        __m256i x3 = _mm256_set1_epi32((int)(((uint32_t)stream << 24) | ((uint32_t)(step >> 32) & 0xFFFFFFu)));
        uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
        for (int round = 0; round < 10; round++) {
            const __m256i even0 = _mm256_mul_epu32(x0, m0), odd0 = _mm256_mul_epu32(_mm256_srli_epi64(x0, 32), m0);
            const __m256i even1 = _mm256_mul_epu32(x2, m1), odd1 = _mm256_mul_epu32(_mm256_srli_epi64(x2, 32), m1);
            const __m256i hi0 = _mm256_blend_epi32(_mm256_srli_epi64(even0, 32), odd0, 0xAA);
            const __m256i lo0 = _mm256_blend_epi32(even0, _mm256_slli_epi64(odd0, 32), 0xAA);
            const __m256i hi1 = _mm256_blend_epi32(_mm256_srli_epi64(even1, 32), odd1, 0xAA);
            const __m256i lo1 = _mm256_blend_epi32(even1, _mm256_slli_epi64(odd1, 32), 0xAA);
            x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32((int)k0));
            x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32((int)k1));
            x1 = lo1;
            x3 = lo0;
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        _mm256_storeu_si256((__m256i *)&w[0][i], x0);
        _mm256_storeu_si256((__m256i *)&w[1][i], x1);
        _mm256_storeu_si256((__m256i *)&w[2][i], x2);
        _mm256_storeu_si256((__m256i *)&w[3][i], x3);
    }
}
#define PHILOX_TILE_AVX2 philox_tile_avx2

/* philox_tile in 16 lanes, 16 blocks a vector. The 32-bit halves of the products move with
 * one masked shuffle (a swap of each 64-bit lane's words) instead of a shift and a blend, and
 * the two XORs are one ternary-logic instruction: 12 instructions a round against the AVX2
 * build's 18, on twice the lanes. Exact integer arithmetic, the same words again. */
JN_TARGET_AVX512 static inline void philox_tile_avx512(uint64_t seed, jn_stream stream, uint64_t step, uint64_t tile,
                                                       uint32_t w[4][TILE])
{
    const uint64_t block0 = tile * TILE;
    const __m512i m0 = _mm512_set1_epi64(0xD2511F53u), m1 = _mm512_set1_epi64(0xCD9E8D57u);
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __mmask16 even = 0x5555, odd = 0xAAAA;
    for (int i = 0; i < TILE; i += 16) {
        __m512i x0 = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)block0 + i), lanes);
        __m512i x1 = _mm512_set1_epi32((int)(uint32_t)(block0 >> 32));
        __m512i x2 = _mm512_set1_epi32((int)(uint32_t)step);
        __m512i x3 = _mm512_set1_epi32((int)(((uint32_t)stream << 24) | ((uint32_t)(step >> 32) & 0xFFFFFFu)));
        uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
        for (int round = 0; round < 10; round++) {
            const __m512i even0 = _mm512_mul_epu32(x0, m0),
                          odd0 = _mm512_mul_epu32(_mm512_shuffle_epi32(x0, _MM_PERM_CDAB), m0);
            const __m512i even1 = _mm512_mul_epu32(x2, m1),
                          odd1 = _mm512_mul_epu32(_mm512_shuffle_epi32(x2, _MM_PERM_CDAB), m1);
            const __m512i hi0 = _mm512_mask_shuffle_epi32(odd0, even, even0, _MM_PERM_CDAB);
            const __m512i lo0 = _mm512_mask_shuffle_epi32(even0, odd, odd0, _MM_PERM_CDAB);
            const __m512i hi1 = _mm512_mask_shuffle_epi32(odd1, even, even1, _MM_PERM_CDAB);
            const __m512i lo1 = _mm512_mask_shuffle_epi32(even1, odd, odd1, _MM_PERM_CDAB);
            x0 = _mm512_ternarylogic_epi32(hi1, x1, _mm512_set1_epi32((int)k0), 0x96); /* a ^ b ^ c */
            x2 = _mm512_ternarylogic_epi32(hi0, x3, _mm512_set1_epi32((int)k1), 0x96);
            x1 = lo1;
            x3 = lo0;
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        _mm512_storeu_si512((void *)&w[0][i], x0);
        _mm512_storeu_si512((void *)&w[1][i], x1);
        _mm512_storeu_si512((void *)&w[2][i], x2);
        _mm512_storeu_si512((void *)&w[3][i], x3);
    }
}
#define PHILOX_TILE_AVX512 philox_tile_avx512
#else
#define PHILOX_TILE_AVX2 philox_tile
#define PHILOX_TILE_AVX512 philox_tile
#endif

static inline uint32_t bits_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float float_of(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* ln(x) for a normal float x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m from
 * f = m - 1 (exact) by Cephes' polynomial, e ln 2 in two parts. */
static inline float log_positive(float x)
{
    const uint32_t b = bits_of(x);
    int e = (int)(b >> 23) - 127;
    float m = float_of((b & 0x7FFFFFu) | 0x3F800000u);  /* [1, 2) */
    const int big = m > 1.41421356f;
    m = big ? 0.5f * m : m;
    e += big;
    const float f = m - 1.0f, z = f * f, ef = (float)e;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y += -2.12194440e-4f * ef;
    y += -0.5f * z;
    return (f + y) + 0.693359375f * ef;
}

/* sin and cos of 2 pi t for t in [0, 1): t = q/4 + r exactly (q = round(4t), |r| <= 1/8),
 * Cephes' kernels on x = 2 pi r in [-pi/4, pi/4], then the quadrant's swap and signs. */
static inline void sincos_turns(float t, float *s_out, float *c_out)
{
    const int q = (int)(4.0f * t + 0.5f);
    const float x = (t - 0.25f * (float)q) * 6.28318530717958648f, z = x * x;
    const float s = x + x * z * ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f);
    const float c = 1.0f - 0.5f * z + z * z * ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z +
                                               4.166664568298827e-2f);
    const float sin_q = q & 1 ? c : s, cos_q = q & 1 ? s : c;
    *s_out = q & 2 ? -sin_q : sin_q;
    *c_out = (q + 1) & 2 ? -cos_q : cos_q;
}

/* Normals of one tile: z[k][i] from block i's words. */
JN_ALWAYS_INLINE void box_muller_tile(uint32_t w[4][TILE], float z[4][TILE])
{
    for (int pair = 0; pair < 4; pair += 2)
        for (int i = 0; i < TILE; i++) {
            /* u in (0, 1]: 31 bits, never 0 (log-safe); t in [0, 1): 24 bits, exact. */
            const float u = (float)(int32_t)(w[pair][i] >> 1) * 4.656612873077393e-10f + 2.3283064365386963e-10f;
            const float t = (float)(int32_t)(w[pair + 1][i] >> 8) * 5.9604644775390625e-8f;
            const float radius = __builtin_sqrtf(-2.0f * log_positive(u));
            float s, c;
            sincos_turns(t, &s, &c);
            z[pair][i] = radius * c;
            z[pair + 1][i] = radius * s;
        }
}

/* Normals first .. first + n - 1, first a multiple of 4 TILE: whole tiles, the last one cut. */
typedef void philox_tile_fn(uint64_t seed, jn_stream stream, uint64_t step, uint64_t tile, uint32_t w[4][TILE]);

JN_ALWAYS_INLINE void normals_body(philox_tile_fn *philox, uint64_t seed, jn_stream stream, uint64_t step,
                                   uint64_t first, float *out, size_t n)
{
    uint32_t w[4][TILE];
    float z[4][TILE];
    for (size_t done = 0; done < n; done += 4 * TILE) {
        philox(seed, stream, step, (first + done) / (4 * TILE), w);
        box_muller_tile(w, z);
        const size_t left = n - done;
        if (left >= 4 * TILE)
            memcpy(out + done, z, sizeof z);
        else
            memcpy(out + done, z, sizeof(float) * left);
    }
}

static void normals_base(uint64_t seed, jn_stream stream, uint64_t step, uint64_t first, float *out, size_t n)
{
    normals_body(philox_tile, seed, stream, step, first, out, n);
}

JN_TARGET_AVX2 static void normals_avx2(uint64_t seed, jn_stream stream, uint64_t step, uint64_t first, float *out,
                                        size_t n)
{
    normals_body(PHILOX_TILE_AVX2, seed, stream, step, first, out, n);
}

JN_TARGET_AVX512 static void normals_avx512(uint64_t seed, jn_stream stream, uint64_t step, uint64_t first,
                                            float *out, size_t n)
{
    normals_body(PHILOX_TILE_AVX512, seed, stream, step, first, out, n);
}

void jn_rng_normal_float(jn_normal_impl impl, uint64_t seed, jn_stream stream, uint64_t step, uint64_t first,
                         float *out, size_t n)
{
    if (impl == JN_NORMAL_BEST)
        impl = jn_cpu_isa() == JN_ISA_AVX512 ? JN_NORMAL_AVX512
             : jn_cpu_isa() == JN_ISA_AVX2  ? JN_NORMAL_AVX2
                                            : JN_NORMAL_GENERIC;
    if (impl == JN_NORMAL_AVX512)
        normals_avx512(seed, stream, step, first, out, n);
    else if (impl == JN_NORMAL_AVX2)
        normals_avx2(seed, stream, step, first, out, n);
    else
        normals_base(seed, stream, step, first, out, n);
}

int jn_rng_normal_has(jn_normal_impl impl)
{
    return impl == JN_NORMAL_AVX512 ? jn_cpu_has_avx512() : impl != JN_NORMAL_AVX2 || jn_cpu_has_avx2();
}

void jn_rng_normal(uint64_t seed, jn_stream stream, uint64_t step, jn_real *out, size_t n)
{
#ifdef JN_DOUBLE
    /* The float64 build (gradient tests) takes the same values, widened. */
    float chunk[4 * TILE];
    for (size_t done = 0; done < n; done += 4 * TILE) {
        const size_t m = n - done < 4 * TILE ? n - done : 4 * TILE;
        jn_rng_normal_float(JN_NORMAL_BEST, seed, stream, step, done, chunk, m);
        for (size_t k = 0; k < m; k++)
            out[done + k] = chunk[k];
    }
#else
    jn_rng_normal_float(JN_NORMAL_BEST, seed, stream, step, 0, out, n);
#endif
}
