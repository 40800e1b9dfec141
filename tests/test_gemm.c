/* The three CBLAS GEMM shapes of the step against a naive triple loop in double (the only
 * place a hand-written GEMM lives: as an oracle). Odd sizes, including 1, exercise the edge
 * handling of the BLAS kernels and our leading dimensions. Float32 products of K terms of
 * O(1) magnitude: error below ~K * 6e-8 relative to the sum of |terms|; 1e-5 leaves margin. */
#include "check.h"
#include "cpu/gemm.h"
#include "jacnoise/blas.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <stdlib.h>
#include <strings.h>

/* Largest |got - want| / (sum of |products| + tiny) over the output. */
static double compare(const jn_real *got, const double *want, const double *scale, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (scale[i] + 1e-30);
        worst = e > worst ? e : worst;
    }
    return worst;
}

/* want[i][j] = c0[i][j] + sum_k A(i, k) B(k, j), with A(i, k) = a[i * ai + k * ak] and
 * B(k, j) = b[k * bk + j * bj]; scale[i][j] = sum of the terms' magnitudes. */
static void naive_gemm(int M, int N, int K, const jn_real *a, size_t ai, size_t ak, const jn_real *b, size_t bk,
                       size_t bj, const jn_real *c0, double *want, double *scale)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = c0 ? c0[(size_t)i * N + j] : 0, mag = fabs(s);
            for (int k = 0; k < K; k++) {
                double t = (double)a[i * ai + k * ak] * b[k * bk + j * bj];
                s += t;
                mag += fabs(t);
            }
            want[(size_t)i * N + j] = s;
            scale[(size_t)i * N + j] = mag;
        }
}

static void check_shape(int rows, int n_out, int n_in, uint64_t seed)
{
    size_t nx = (size_t)rows * n_in, nw = (size_t)n_out * n_in, ny = (size_t)rows * n_out;
    jn_real *x = malloc(sizeof *x * nx), *w = malloc(sizeof *w * nw), *d = malloc(sizeof *d * ny);
    jn_real *y = malloc(sizeof *y * ny), *dw = malloc(sizeof *dw * nw), *dx = malloc(sizeof *dx * nx);
    double *want = malloc(sizeof *want * (nx + nw + ny)), *scale = malloc(sizeof *scale * (nx + nw + ny));
    jn_rng_uniform(seed, JN_STREAM_EVAL_NOISE, 1, x, nx, 1.0);
    jn_rng_uniform(seed, JN_STREAM_EVAL_NOISE, 2, w, nw, 1.0);
    jn_rng_uniform(seed, JN_STREAM_EVAL_NOISE, 3, d, ny, 1.0);
    jn_rng_uniform(seed, JN_STREAM_EVAL_NOISE, 4, dw, nw, 1.0);  /* weight grad accumulates into this */

    /* forward: y (rows x n_out) = x w^T */
    jn_gemm_forward(NULL, rows, n_out, n_in, x, w, y);
    naive_gemm(rows, n_out, n_in, x, n_in, 1, w, 1, n_in, NULL, want, scale);
    double e1 = compare(y, want, scale, ny);
    CHECK(e1 < 1e-5, "forward %dx%dx%d: error %.3e", rows, n_out, n_in, e1);

    /* weight grad: dw (n_out x n_in) += d^T x, then dw = d^T x over what is there */
    naive_gemm(n_out, n_in, rows, d, 1, n_out, x, n_in, 1, dw, want, scale);
    jn_gemm_weight_grad(NULL, 1, rows, n_out, n_in, d, x, dw);
    double e2 = compare(dw, want, scale, nw);
    CHECK(e2 < 1e-5, "weight grad %dx%dx%d: error %.3e", rows, n_out, n_in, e2);
    naive_gemm(n_out, n_in, rows, d, 1, n_out, x, n_in, 1, NULL, want, scale);
    jn_gemm_weight_grad(NULL, 0, rows, n_out, n_in, d, x, dw);
    double e2w = compare(dw, want, scale, nw);
    CHECK(e2w < 1e-5, "weight grad (overwrite) %dx%dx%d: error %.3e", rows, n_out, n_in, e2w);
    e2 = e2 > e2w ? e2 : e2w;

    /* input grad: dx (rows x n_in) = d w */
    jn_gemm_input_grad(NULL, rows, n_out, n_in, d, w, dx);
    naive_gemm(rows, n_in, n_out, d, n_out, 1, w, n_in, 1, NULL, want, scale);
    double e3 = compare(dx, want, scale, nx);
    CHECK(e3 < 1e-5, "input grad %dx%dx%d: error %.3e", rows, n_out, n_in, e3);
    printf("rows %4d n_out %4d n_in %4d: errors %.2e %.2e %.2e\n", rows, n_out, n_in, e1, e2, e3);
    free(x), free(w), free(d), free(y), free(dw), free(dx), free(want), free(scale);
}

int main(void)
{
    /* Run under each OPENBLAS_CORETYPE by test_blas_cores.py: the core asked for must be
     * the one the library runs, or the test would pass on other kernels. */
    const char *asked = getenv("OPENBLAS_CORETYPE");
    printf("blas core: %s\n", jn_blas_core_name());
    if (asked)
        CHECK(!strcasecmp(asked, jn_blas_core_name()), "OPENBLAS_CORETYPE=%s, but OpenBLAS runs %s", asked,
              jn_blas_core_name());
    const int sizes[][3] = {{1, 1, 1}, {1, 7, 3}, {7, 1, 5}, {3, 10, 1}, {100, 10, 33}, {17, 129, 65},
                            {200, 64, 784}, {1, 1000, 7}, {1023, 7, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_shape(sizes[i][0], sizes[i][1], sizes[i][2], 100 + i);
    return check_exit();
}
