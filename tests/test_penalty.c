/* The penalty's values against brute force, in float64:
 *   - hidden1 closed form = ||J_{a_1}||_F^2 by central differences on the input
 *     = the forward-mode exact norm of hidden:1 (value and gradient);
 *   - the exact norms of hidden:2 and the output = central-difference Jacobians; the output's
 *     (reverse mode, value and gradient) also = forward mode over the input basis, and its
 *     per-example values (jn_cpu_jacobian_sq_exact) = the central differences;
 *   - the output's exact norm of a batch so long that the classes go in several passes = the
 *     same examples' in one pass (value and gradient); with so many classes that the
 *     evaluation's per-example norms go in several passes, those = the central differences;
 *   - Hutchinson: the mean of ||J v||^2 over many Gaussian tangents converges to ||J||_F^2;
 *     with K = 3 given tangents, R = (1/K) sum_k ||J v_k||^2 by central differences along
 *     each v_k, and its gradient by central differences in each parameter.
 * Central differences with h = 1e-5 in double are accurate to ~1e-9 relative here. */
#include "check.h"
#include "cpu/ops.h"
#include "jacnoise/error.h"
#include "jacnoise/evaluate.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <string.h>

static jn_model model;
static jn_real *params;

enum { MAX_WIDTH = 128 };  /* the widest layer of the models here, for the brute force's rows */

/* Output of layer `top` (a_top, or the logits at L) for one input row. */
static void layer_output(jn_cpu_ws *ws, int top, const jn_real *x, jn_real *out)
{
    memcpy(ws->act[0], x, sizeof(jn_real) * model.sizes[0]);
    jn_cpu_forward(ws, params, 1, 1, top);
    memcpy(out, ws->act[top], sizeof(jn_real) * model.sizes[top]);
}

/* ||J||_F^2 of layer `top` at x by central differences. */
static double brute_force_norm(int top, const jn_real *x)
{
    const jn_objective none = {.jac_copies = 1, .jac_proj = 1};
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, &none, 1);
    const int d = model.sizes[0], n = model.sizes[top];
    jn_real xp[MAX_WIDTH], up[MAX_WIDTH], um[MAX_WIDTH];
    double h = 1e-5, sum = 0;
    for (int j = 0; j < d; j++) {
        memcpy(xp, x, sizeof(jn_real) * d);
        xp[j] = x[j] + h;
        layer_output(ws, top, xp, up);
        xp[j] = x[j] - h;
        layer_output(ws, top, xp, um);
        for (int k = 0; k < n; k++) {
            double dj = (up[k] - um[k]) / (2 * h);
            sum += dj * dj;
        }
    }
    jn_cpu_ws_free(ws);
    return sum;
}

/* ||J v||^2 of the output at x by a central difference along v. */
static double brute_force_jvp(const jn_real *x, const jn_real *v)
{
    const jn_objective none = {.jac_copies = 1, .jac_proj = 1};
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, &none, 1);
    const int d = model.sizes[0], L = model.n_layers, n = model.sizes[L];
    jn_real xp[MAX_WIDTH], up[MAX_WIDTH], um[MAX_WIDTH];
    const double h = 1e-5;
    for (int j = 0; j < d; j++)
        xp[j] = x[j] + h * v[j];
    layer_output(ws, L, xp, up);
    for (int j = 0; j < d; j++)
        xp[j] = x[j] - h * v[j];
    layer_output(ws, L, xp, um);
    double sum = 0;
    for (int k = 0; k < n; k++)
        sum += ((up[k] - um[k]) / (2 * h)) * ((up[k] - um[k]) / (2 * h));
    jn_cpu_ws_free(ws);
    return sum;
}

/* Mean penalty over the batch (and its gradient) for an objective with lam = 1. */
static double penalty(jn_objective obj, const jn_real *x, int rows, const jn_real *v, jn_real *grad)
{
    obj.jac_lambda = 1;
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, &obj, rows);
    int32_t *y = calloc((size_t)rows, sizeof *y);
    REQUIRE(ws && y, "workspace");
    jn_batch batch = {x, y, rows};
    jn_step_terms terms = {0};
    memset(grad, 0, sizeof(jn_real) * model.n_params);
    jn_cpu_penalty_grad(ws, params, &batch, NULL, v, 1.0, &terms, grad);
    jn_cpu_ws_free(ws);
    free(y);
    return terms.penalty;
}

/* The output's exact norm by forward mode over the input basis (d tangent rows, then the
 * reverse pass over them): an algorithm independent of the reverse-mode penalty's, for its
 * value (mean) and its gradient (of the sum, as penalty() gives it). */
static double forward_basis_output(const jn_real *x, int rows, jn_real *grad)
{
    const int d = model.sizes[0], L = model.n_layers;
    const jn_objective obj = {.jac_lambda = 1, .jac_copies = 1, .target = JN_TARGET_OUTPUT, .jac_proj = d};
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, &obj, rows);
    REQUIRE(ws && ws->tangent_chunk == d, "workspace for %d tangents", d);
    memcpy(ws->h[0], x, sizeof(jn_real) * rows * d);
    jn_real *t = ws->h[0] + (size_t)rows * d;
    memset(t, 0, sizeof(jn_real) * rows * d * d);
    for (int k = 0; k < d; k++)
        for (int i = 0; i < rows; i++)
            t[((size_t)k * rows + i) * d + k] = 1;
    jn_cpu_tangent_forward(ws, params, 0, rows, d, L);
    double r = jn_cpu_tangent_norm_sum(ws, 0, rows, d, L);
    memset(grad, 0, sizeof(jn_real) * model.n_params);
    jn_cpu_tangent_reverse(ws, params, 0, rows, d, L, 1.0, grad);
    jn_cpu_ws_free(ws);
    return r / rows;
}

static double rel_diff(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

/* The most rows jn_cpu_jacobian_sq_exact takes in one call (taken < hi refused), by bisection
 * on its refusals: the evaluation's scratch holds at least as many, a number of its own. */
static int most_rows(const jn_real *x, int hi, double *out)
{
    int taken = 1;
    REQUIRE(jn_cpu_jacobian_sq_exact(&model, params, x, hi, out) != 0, "jacobian: %d rows per call taken", hi);
    while (hi - taken > 1) {
        const int mid = taken + (hi - taken) / 2;
        *(jn_cpu_jacobian_sq_exact(&model, params, x, mid, out) == 0 ? &taken : &hi) = mid;
    }
    return taken;
}

/* Per-example exact norms (jn_cpu_jacobian_sq_exact: the evaluation's code and scratch) of a
 * model with more classes than one pass of that scratch holds, the last pass partial, against
 * central differences. The scratch holds at least a call's rows, so its passes take fewer
 * than C classes: several; C is prime, so the last is partial (but for passes of one class).
 * The file's model stands aside meanwhile. */
static void check_many_classes(void)
{
    enum { D = 4, C = 127, ROWS = 3, PROBE = 1 << 14 };
    const jn_model kept = model;
    jn_real *kept_params = params;
    const int hidden[] = {5, 4};
    REQUIRE(jn_model_make(&model, D, hidden, 2, C) == 0, "model");
    const jn_objective rows = {.jac_lambda = 1, .jac_copies = 1, .target = JN_TARGET_OUTPUT, .jac_proj = C};
    params = malloc(sizeof *params * model.n_params);
    REQUIRE(params, "out of memory");
    jn_model_init_params(&model, 13, params);
    jn_real *x = malloc(sizeof *x * PROBE * D);
    double *got = malloc(sizeof *got * PROBE);
    REQUIRE(x && got, "out of memory");
    jn_rng_uniform(13, JN_STREAM_EVAL_NOISE, 0, x, (size_t)PROBE * D, 1.0);
    const int most = most_rows(x, PROBE, got), chunk = jn_objective_tangent_chunk(&rows, &model, most);
    REQUIRE(ROWS <= most && chunk < C, "passes of %d of the %d classes at most (calls of %d rows)", chunk, C, most);
    printf("%d classes: passes of %d classes at most (calls of %d rows at most)\n", C, chunk, most);
    REQUIRE(jn_cpu_jacobian_sq_exact(&model, params, x, ROWS, got) == 0, "reverse mode: %s", jn_last_error());
    for (int i = 0; i < ROWS; i++) {
        const double brute = brute_force_norm(model.n_layers, x + i * D);
        CHECK(rel_diff(got[i], brute) < 1e-8, "%d classes, example %d: reverse mode %.12g vs brute force %.12g", C, i,
              got[i], brute);
    }
    free(x);
    free(got);
    free(params);
    model = kept;
    params = kept_params;
}

int main(void)
{
    const int hidden[] = {5, 4};
    const int d = 6, C = 3, B = 3;
    REQUIRE(jn_model_make(&model, d, hidden, 2, C) == 0, "model");
    params = malloc(sizeof *params * model.n_params);
    jn_real *bump = malloc(sizeof *bump * model.n_params);
    jn_model_init_params(&model, 11, params);
    jn_rng_uniform(11, JN_STREAM_EVAL_TANGENT, 0, bump, model.n_params, 0.3);
    for (size_t i = 0; i < model.n_params; i++)
        params[i] = 1.3 * params[i] + bump[i];
    jn_real x[3 * 6];
    jn_rng_uniform(11, JN_STREAM_EVAL_NOISE, 0, x, (size_t)B * d, 0.5);
    for (int k = 0; k < B * d; k++)
        x[k] += 0.5;

    double brute[3][3] = {{0}};  /* [layer 1, 2, output][example] */
    double brute_mean[3] = {0};
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < B; i++) {
            brute[t][i] = brute_force_norm(t + 1, x + i * d);
            brute_mean[t] += brute[t][i] / B;
        }

    jn_real *g1 = malloc(sizeof(jn_real) * model.n_params), *g2 = malloc(sizeof(jn_real) * model.n_params);
    const jn_objective hidden1 = {.jac_copies = 1, .target = JN_TARGET_HIDDEN1, .target_layer = 1, .jac_proj = 1};
    jn_objective exact = {.jac_copies = 1, .target = JN_TARGET_HIDDEN, .target_layer = 1, .jac_proj = JN_PROJ_EXACT};

    double closed = penalty(hidden1, x, B, NULL, g1);
    double exact1 = penalty(exact, x, B, NULL, g2);
    printf("hidden1: closed form %.12g, exact hidden:1 %.12g, brute force %.12g\n", closed, exact1, brute_mean[0]);
    CHECK(rel_diff(closed, brute_mean[0]) < 1e-8, "hidden1 closed form %.12g vs brute force %.12g", closed, brute_mean[0]);
    CHECK(rel_diff(exact1, closed) < 1e-12, "exact hidden:1 %.15g vs closed form %.15g", exact1, closed);
    double gd = 0, gn = 0;
    for (size_t i = 0; i < model.n_params; i++) {
        gd += (g1[i] - g2[i]) * (g1[i] - g2[i]);
        gn += g2[i] * g2[i];
    }
    CHECK(sqrt(gd / gn) < 1e-12, "hidden1 closed-form gradient differs from exact hidden:1: rel %.3e", sqrt(gd / gn));

    exact.target_layer = 2;
    double exact2 = penalty(exact, x, B, NULL, g2);
    printf("hidden:2: exact %.12g, brute force %.12g\n", exact2, brute_mean[1]);
    CHECK(rel_diff(exact2, brute_mean[1]) < 1e-8, "exact hidden:2 %.12g vs brute force %.12g", exact2, brute_mean[1]);

    exact.target = JN_TARGET_OUTPUT;
    double exact_out = penalty(exact, x, B, NULL, g2);
    double reverse[3], reverse_mean = 0;
    REQUIRE(jn_cpu_jacobian_sq_exact(&model, params, x, B, reverse) == 0, "reverse mode: %s", jn_last_error());
    for (int i = 0; i < B; i++) {
        reverse_mean += reverse[i] / B;
        CHECK(rel_diff(reverse[i], brute[2][i]) < 1e-8, "example %d: reverse-mode %.12g vs brute force %.12g", i,
              reverse[i], brute[2][i]);
    }
    double forward_out = forward_basis_output(x, B, g1);
    printf("output: exact (reverse) %.12g, forward mode %.12g, brute force %.12g\n", exact_out, forward_out,
           brute_mean[2]);
    CHECK(rel_diff(exact_out, brute_mean[2]) < 1e-8, "exact output %.12g vs brute force %.12g", exact_out, brute_mean[2]);
    CHECK(rel_diff(exact_out, forward_out) < 1e-12, "reverse exact %.15g vs forward mode %.15g", exact_out, forward_out);
    CHECK(rel_diff(reverse_mean, exact_out) < 1e-12, "per-example %.15g vs the penalty's %.15g", reverse_mean, exact_out);
    gd = gn = 0;
    for (size_t i = 0; i < model.n_params; i++) {
        gd += (g1[i] - g2[i]) * (g1[i] - g2[i]);
        gn += g1[i] * g1[i];
    }
    CHECK(sqrt(gd / gn) < 1e-12, "exact output gradient: reverse mode differs from forward mode: rel %.3e", sqrt(gd / gn));

    /* A batch so long that the classes go through in passes of fewer than C (the later passes'
     * rows of W_L, and dW_L, are those of classes c0 ...): REPEAT copies of each example have
     * the same mean and REPEAT times the gradient of the sum. */
    enum { REPEAT = 2000 };
    const int long_rows = REPEAT * B;
    REQUIRE(jn_objective_tangent_chunk(&exact, &model, long_rows) < C, "passes that hold fewer than %d classes", C);
    jn_real *long_x = malloc(sizeof(jn_real) * long_rows * d), *g_long = malloc(sizeof(jn_real) * model.n_params);
    REQUIRE(long_x && g_long, "out of memory");
    for (int r = 0; r < long_rows; r++)
        memcpy(long_x + (size_t)r * d, x + (r % B) * d, sizeof(jn_real) * d);
    const double chunked = penalty(exact, long_x, long_rows, NULL, g_long);
    CHECK(rel_diff(chunked, exact_out) < 1e-10, "exact output in class passes %.15g vs %.15g", chunked, exact_out);
    gd = gn = 0;
    for (size_t i = 0; i < model.n_params; i++) {
        gd += (g_long[i] - REPEAT * g2[i]) * (g_long[i] - REPEAT * g2[i]);
        gn += REPEAT * g2[i] * REPEAT * g2[i];
    }
    CHECK(sqrt(gd / gn) < 1e-10, "exact output gradient in class passes differs: rel %.3e", sqrt(gd / gn));
    free(long_x);
    free(g_long);

    /* Regression (found by AddressSanitizer): the exact norm must ignore a tangent buffer
     * passed to it, as training passes one whenever the objective has tangents. */
    jn_real stray[3 * 6 * 6];
    jn_rng_normal(9, JN_STREAM_TANGENT, 0, stray, sizeof stray / sizeof stray[0]);
    double with_stray = penalty(exact, x, B, stray, g1);
    CHECK(with_stray == exact_out, "exact output with a stray tangent buffer: %.15g, without: %.15g", with_stray, exact_out);

    /* Hutchinson on one example: N independent K = 1 estimates. Their mean must lie within
     * 5 standard errors of ||J||_F^2 (a correct estimator fails this with probability
     * ~6e-7, and the seed is fixed); and it must really be random (sd > 0). */
    const int N = 20000;
    jn_objective jvp = {.jac_copies = 1, .target = JN_TARGET_OUTPUT, .jac_proj = 1};
    jn_real v[6];
    double sum = 0, sum_sq = 0;
    for (int n = 0; n < N; n++) {
        jn_rng_normal(5, JN_STREAM_TANGENT, (uint64_t)n, v, (size_t)d);
        double r = penalty(jvp, x, 1, v, g2);
        sum += r;
        sum_sq += r * r;
    }
    double mean = sum / N, sd = sqrt((sum_sq - N * mean * mean) / (N - 1)), se = sd / sqrt(N);
    printf("Hutchinson K=1 over %d tangents: mean %.6g +- %.3g (sd %.3g), exact %.6g\n", N, mean, se, sd, brute[2][0]);
    CHECK(fabs(mean - brute[2][0]) < 5 * se, "Hutchinson mean %.6g is %.1f standard errors from %.6g", mean,
          fabs(mean - brute[2][0]) / se, brute[2][0]);
    CHECK(sd > 1e-3 * mean, "the estimator shows no variance (sd %.3g): tangents not used?", sd);

    /* Hutchinson with K = 3 given tangents on the batch (the statistical check above, K = 1,
     * cannot see the 1/K weight): value against central differences along each tangent, and
     * gradient (of the sum over the batch) against central differences of the value. */
    enum { K = 3 };
    jvp.jac_proj = K;
    jn_real vk[K * 3 * 6];  /* K x B x d */
    jn_rng_normal(6, JN_STREAM_TANGENT, 0, vk, sizeof vk / sizeof vk[0]);
    double hutch = penalty(jvp, x, B, vk, g1), hutch_brute = 0;
    for (int k = 0; k < K; k++)
        for (int i = 0; i < B; i++)
            hutch_brute += brute_force_jvp(x + i * d, vk + (k * B + i) * d) / (K * B);
    printf("Hutchinson K=%d: %.12g, central differences %.12g\n", K, hutch, hutch_brute);
    CHECK(rel_diff(hutch, hutch_brute) < 1e-8, "Hutchinson K=%d %.12g vs central differences %.12g", K, hutch,
          hutch_brute);
    gd = gn = 0;
    for (size_t p = 0; p < model.n_params; p++) {
        const jn_real kept = params[p], h = 1e-5;
        params[p] = kept + h;
        const double up = penalty(jvp, x, B, vk, g2);
        params[p] = kept - h;
        const double down = penalty(jvp, x, B, vk, g2);
        params[p] = kept;
        const double fd = B * (up - down) / (2 * h);
        gd += (g1[p] - fd) * (g1[p] - fd);
        gn += fd * fd;
    }
    CHECK(sqrt(gd / gn) < 1e-6, "Hutchinson K=%d gradient differs from central differences: rel %.3e", K,
          sqrt(gd / gn));
    check_many_classes();

    free(params);
    free(bump);
    free(g1);
    free(g2);
    return check_exit();
}
