/* jn_cpu_evaluate against a brute-force forward pass in double, over several evaluation
 * chunks (the last one partial):
 *   - the clean error count and rate;
 *   - the hidden-unit statistics with their documented bins (evaluate.h: bin b of
 *     JN_HIST_BINS holds a in [-1 + b h, -1 + (b + 1) h)), saturated |a| > 0.99, linear
 *     |a| < 0.1;
 *   - the errors under input noise, x + s xi with xi the normal sequence of (seed,
 *     JN_STREAM_EVAL_INPUT_NOISE, example index): for several s and seeds, with
 *     --eval-limit (the noise of an example does not depend on the chunking), s = 0 gives
 *     the clean count, and more noise gives more errors;
 *   - a negative or NaN std is refused;
 *   - the mean exact ||J_output||_F^2 and the curvature estimate of SPEC "Evaluation quantities",
 *     ||J(x + s eps) v - J(x) v||^2 / s^2 with eps and v the normal sequences of (seed,
 *     JN_STREAM_EVAL_NOISE / JN_STREAM_EVAL_TANGENT, example index), against Jacobian-vector
 *     products by central differences of the double forward pass;
 *   - the near ties jacnoise check allows the engines to classify apart (jn_cpu_near_ties):
 *     every row where the logits are all equal, none where they are 1 apart, and where they
 *     are 1e-3 apart, every row at a tolerance of 1e-2 times the largest |logit|, none at 1e-4. */
#include "check.h"
#include "jacnoise/cpu.h"
#include "jacnoise/error.h"
#include "jacnoise/evaluate.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { D = 12, H1 = 9, H2 = 7, C = 4, N = 600 };

static jn_model model;
static jn_real *params;

/* Logits and hidden activations of one input, in double. */
static void forward(const double *x, double act[3][16], double *logits)
{
    const double *in = x;
    int n_in = D;
    for (int l = 1; l <= model.n_layers; l++) {
        const jn_real *W = jn_weights_c(&model, params, l), *b = jn_biases_c(&model, params, l);
        int n_out = model.sizes[l];
        double *out = l < model.n_layers ? act[l] : logits;
        for (int j = 0; j < n_out; j++) {
            double z = b[j];
            for (int k = 0; k < n_in; k++)
                z += (double)W[j * n_in + k] * in[k];
            out[j] = l < model.n_layers ? tanh(z) : z;
        }
        in = out;
        n_in = n_out;
    }
}

static int argmax(const double *v)
{
    int best = 0;
    for (int c = 1; c < C; c++)
        if (v[c] > v[best])
            best = c;
    return best;
}

/* Errors of the first n examples at x + s xi (xi from seed), by brute force. */
static long brute_errors(const jn_dataset *set, long n, double s, uint64_t seed)
{
    long errors = 0;
    for (long i = 0; i < n; i++) {
        jn_real xi[D];
        double x[D], act[3][16], logits[C];
        jn_rng_normal(seed, JN_STREAM_EVAL_INPUT_NOISE, (uint64_t)i, xi, D);
        for (int k = 0; k < D; k++)
            x[k] = (double)set->x[i * D + k] + s * (double)xi[k];
        forward(x, act, logits);
        errors += argmax(logits) != set->y[i];
    }
    return errors;
}

/* J(x) v by central differences of the logits (h = 1e-5: error ~ h^2 times the third
 * derivative, ~ 1e-10). */
static void jvp_fd(const double *x, const double *v, double *out)
{
    const double h = 1e-5;
    double xp[D], xm[D], act[3][16], lp[C], lm[C];
    for (int k = 0; k < D; k++) {
        xp[k] = x[k] + h * v[k];
        xm[k] = x[k] - h * v[k];
    }
    forward(xp, act, lp);
    forward(xm, act, lm);
    for (int c = 0; c < C; c++)
        out[c] = (lp[c] - lm[c]) / (2 * h);
}

/* Mean ||J(x)||_F^2 (columns J e_k) and mean ||J(x + s eps) v - J(x) v||^2 / s^2 over the set. */
static void brute_jacobian(const jn_dataset *set, double s, uint64_t seed, double *jac_sq, double *curv)
{
    *jac_sq = *curv = 0;
    for (int i = 0; i < set->n; i++) {
        double x[D], xt[D], e[D], v[D], a[C], b[C];
        jn_real eps[D], tan[D];
        jn_rng_normal(seed, JN_STREAM_EVAL_NOISE, (uint64_t)i, eps, D);
        jn_rng_normal(seed, JN_STREAM_EVAL_TANGENT, (uint64_t)i, tan, D);
        for (int k = 0; k < D; k++) {
            x[k] = set->x[i * D + k];
            xt[k] = x[k] + s * (double)eps[k];
            v[k] = tan[k];
        }
        for (int k = 0; k < D; k++) {
            for (int j = 0; j < D; j++)
                e[j] = j == k;
            jvp_fd(x, e, a);
            for (int c = 0; c < C; c++)
                *jac_sq += a[c] * a[c];
        }
        jvp_fd(x, v, a);
        jvp_fd(xt, v, b);
        for (int c = 0; c < C; c++)
            *curv += (b[c] - a[c]) * (b[c] - a[c]) / (s * s);
    }
    *jac_sq /= set->n;
    *curv /= set->n;
}

int main(void)
{
    const int hidden[] = {H1, H2};
    REQUIRE(jn_model_make(&model, D, hidden, 2, C) == 0, "model: %s", jn_last_error());
    params = malloc(sizeof(jn_real) * model.n_params);
    REQUIRE(params, "out of memory");
    /* Large weights and biases, so that activations fill [-1, 1], saturated ones included. */
    jn_rng_uniform(11, JN_STREAM_INIT, 0, params, model.n_params, 1.5);

    float *xs = malloc(sizeof(float) * N * D);
    int32_t *ys = malloc(sizeof(int32_t) * N);
    REQUIRE(xs && ys, "out of memory");
    jn_real u[D];
    for (int i = 0; i < N; i++) {
        jn_rng_uniform(12, JN_STREAM_SHUFFLE, (uint64_t)i, u, D, 0.5);
        for (int k = 0; k < D; k++)
            xs[i * D + k] = (float)(u[k] + 0.5);
    }
    jn_dataset set = {.name = "synthetic", .n = N, .d = D, .classes = C, .x = xs, .y = ys};

    /* Labels: the model's own clean prediction, wrong for every fifth example, so that the
     * clean error is 20% and noise changes the count both ways. */
    double hist[2][JN_HIST_BINS] = {{0}}, saturated[2] = {0}, linear[2] = {0};
    long clean_errors = 0;
    for (int i = 0; i < N; i++) {
        double x[D], act[3][16], logits[C];
        for (int k = 0; k < D; k++)
            x[k] = xs[i * D + k];
        forward(x, act, logits);
        ys[i] = (argmax(logits) + (i % 5 == 0)) % C;
        clean_errors += i % 5 == 0;
        for (int l = 1; l <= 2; l++)
            for (int j = 0; j < model.sizes[l]; j++) {
                double a = act[l][j];
                int bin = (int)floor((a + 1) / 2 * JN_HIST_BINS);
                hist[l - 1][bin < 0 ? 0 : bin >= JN_HIST_BINS ? JN_HIST_BINS - 1 : bin] += 1.0 / (N * model.sizes[l]);
                saturated[l - 1] += (fabs(a) > 0.99) / (double)(N * model.sizes[l]);
                linear[l - 1] += (fabs(a) < 0.1) / (double)(N * model.sizes[l]);
            }
    }

    const double stds[] = {0, 0.05, 0.3, 1.0};
    const int n_std = 4;
    for (uint64_t seed = 1; seed <= 2; seed++)
        for (long limit = 0; limit <= 300; limit += 300) {
            jn_eval_options opt = {.seed = seed, .limit = limit, .n_noise = n_std};
            memcpy(opt.noise_std, stds, sizeof stds);
            jn_eval_stats st;
            REQUIRE(jn_cpu_evaluate(&model, params, &set, &opt, &st) == 0, "evaluate: %s", jn_last_error());
            long n = limit ? limit : N;
            CHECK(st.n == n, "seed %llu limit %ld: %ld examples", (unsigned long long)seed, limit, st.n);
            long clean = limit ? brute_errors(&set, n, 0, seed) : clean_errors;
            CHECK(st.errors == clean, "clean errors %ld, brute force %ld", st.errors, clean);
            CHECK(fabs(st.error_pct - 100.0 * (double)clean / (double)n) < 1e-12, "clean error %g%%, brute force %g%%",
                  st.error_pct, 100.0 * (double)clean / (double)n);
            for (int k = 0; k < n_std; k++) {
                long want = brute_errors(&set, n, stds[k], seed);
                CHECK(st.noise_errors[k] == want, "seed %llu limit %ld std %g: %ld errors, brute force %ld",
                      (unsigned long long)seed, limit, stds[k], st.noise_errors[k], want);
                CHECK(fabs(st.noise_error_pct[k] - 100.0 * (double)want / (double)n) < 1e-12,
                      "std %g: error %g%%", stds[k], st.noise_error_pct[k]);
            }
            CHECK(st.noise_errors[0] == st.errors, "std 0: %ld errors, clean %ld", st.noise_errors[0], st.errors);
            CHECK(st.noise_errors[3] > st.errors + n / 20, "std 1 adds too few errors: %ld vs clean %ld",
                  st.noise_errors[3], st.errors);
            if (limit)
                continue;
            for (int l = 0; l < 2; l++) {
                CHECK(fabs(st.saturated[l] - saturated[l]) < 1e-12, "layer %d saturated %g, brute %g", l + 1,
                      st.saturated[l], saturated[l]);
                CHECK(fabs(st.linear[l] - linear[l]) < 1e-12, "layer %d linear %g, brute %g", l + 1, st.linear[l],
                      linear[l]);
                for (int b = 0; b < JN_HIST_BINS; b++)
                    CHECK(fabs(st.histogram[l][b] - hist[l][b]) < 1e-12, "layer %d bin %d: %g, brute %g", l + 1, b,
                          st.histogram[l][b], hist[l][b]);
            }
            CHECK(saturated[0] > 0.01 && linear[0] > 0.01, "the set does not reach both ends: sat %g lin %g",
                  saturated[0], linear[0]);
        }

    /* The Jacobian norm and the curvature estimate, at two noise scales. */
    for (int k = 0; k < 2; k++) {
        const double s_curv = k ? 0.3 : 0.1;
        jn_eval_options opt = {.jacobian = 1, .curvature = 1, .curv_noise = s_curv, .seed = 3};
        jn_eval_stats got;
        REQUIRE(jn_cpu_evaluate(&model, params, &set, &opt, &got) == 0, "evaluate: %s", jn_last_error());
        double jac_sq, curv;
        brute_jacobian(&set, s_curv, 3, &jac_sq, &curv);
        CHECK(fabs(got.jacobian_sq - jac_sq) < 1e-6 * jac_sq, "mean ||J||^2 %.10g, central differences %.10g",
              got.jacobian_sq, jac_sq);
        CHECK(fabs(got.curvature - curv) < 1e-6 * curv && curv > 0, "s %g: curvature %.10g, central differences %.10g",
              s_curv, got.curvature, curv);
    }

    /* Without noise levels nothing is counted; bad stds are refused. */
    jn_eval_options none = {.seed = 1};
    jn_eval_stats st;
    REQUIRE(jn_cpu_evaluate(&model, params, &set, &none, &st) == 0, "evaluate: %s", jn_last_error());
    CHECK(st.noise_errors[0] == 0, "no levels asked, %ld noisy errors", st.noise_errors[0]);
    const double bad[] = {-0.1, NAN, INFINITY};
    for (int k = 0; k < 3; k++) {
        jn_eval_options opt = {.seed = 1, .n_noise = 1, .noise_std = {bad[k]}};
        CHECK(jn_cpu_evaluate(&model, params, &set, &opt, &st) != 0, "std %g accepted", bad[k]);
        CHECK(strstr(jn_last_error(), "--eval-noise") != NULL, "message: %s", jn_last_error());
    }
    /* An empty set has no error rate or means: NaN (JSON null), not 0 (a perfect score). */
    jn_dataset empty = set;
    empty.n = 0;
    jn_eval_options all = {.jacobian = 1, .curvature = 1, .curv_noise = 0.1, .seed = 1, .n_noise = 1};
    REQUIRE(jn_cpu_evaluate(&model, params, &empty, &all, &st) == 0, "evaluate: %s", jn_last_error());
    CHECK(st.n == 0 && st.errors == 0, "empty set: %ld examples, %ld errors", st.n, st.errors);
    CHECK(isnan(st.error_pct) && isnan(st.jacobian_sq) && isnan(st.curvature) && isnan(st.noise_error_pct[0]),
          "empty set: error %g%%, jacobian %g, curvature %g, noisy error %g%%", st.error_pct, st.jacobian_sq,
          st.curvature, st.noise_error_pct[0]);
    CHECK(isnan(st.saturated[0]) && isnan(st.linear[0]) && isnan(st.histogram[0][0]),
          "empty set: saturated %g, linear %g, bin 0 %g", st.saturated[0], st.linear[0], st.histogram[0][0]);
    /* Logits set by the output biases alone (W_L = 0): equal, 1 apart, then 1e-3 apart. */
    const jn_objective plain = {.jac_copies = 1, .jac_proj = 1};
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, &plain, 50);
    jn_real *x50 = malloc(sizeof(jn_real) * 50 * D);
    REQUIRE(ws && x50, "out of memory");
    for (int k = 0; k < 50 * D; k++)
        x50[k] = xs[k];
    const jn_batch batch = {x50, ys, 50};
    jn_real *W_L = jn_weights(&model, params, 3), *b_L = jn_biases(&model, params, 3);
    memset(W_L, 0, sizeof(jn_real) * C * H2);
    const struct {
        double step, tol;
        int ties;
    } cases[] = {{0, 1e-6, 50}, {1, 1e-2, 0}, {1e-3, 1e-2, 50}, {1e-3, 1e-4, 0}};
    for (int k = 0; k < 4; k++) {
        for (int c = 0; c < C; c++)
            b_L[c] = (jn_real)(2 + c * cases[k].step);
        const int ties = jn_cpu_near_ties(ws, params, &batch, NULL, cases[k].tol);
        CHECK(ties == cases[k].ties, "logits %g apart, tolerance %g: %d near ties, expected %d", cases[k].step,
              cases[k].tol, ties, cases[k].ties);
    }
    jn_cpu_ws_free(ws);
    free(x50);
    free(params);
    free(xs);
    free(ys);
    return check_exit();
}
