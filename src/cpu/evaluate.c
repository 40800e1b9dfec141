/* Evaluation on a whole set, chunk by chunk: errors, saturation, the exact output Jacobian
 * norm (reverse mode, C products per example: the penalty's jacobian_rows.c), the curvature
 * estimate (forward mode with shared tangents) and the errors under Gaussian input noise. */
#include "jacnoise/evaluate.h"
#include "cpu/ops.h"
#include "jacnoise/elementwise.h"
#include "jacnoise/error.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_CHUNK 256

static void load_rows(const jn_dataset *set, long first, int rows, jn_real *out)
{
    const float *src = set->x + (size_t)first * set->d;
    for (size_t k = 0; k < (size_t)rows * set->d; k++)
        out[k] = (jn_real)src[k];
}

static int check_shape(const jn_model *m, const jn_dataset *set)
{
    if (set->d != m->sizes[0])
        return jn_fail("%s: %d features per example, the model expects %d", set->name, set->d, m->sizes[0]);
    for (int i = 0; i < set->n; i++)
        if (set->y[i] < 0 || set->y[i] >= m->sizes[m->n_layers])
            return jn_fail("%s: example %d has label %d, the model has %d classes", set->name, i,
                           set->y[i], m->sizes[m->n_layers]);
    return 0;
}

int jn_cpu_count_errors(const jn_model *m, const jn_real *params, const jn_dataset *set, long *errors)
{
    jn_eval_options opt = {0};
    jn_eval_stats st;
    if (jn_cpu_evaluate(m, params, set, &opt, &st))
        return -1;
    *errors = st.errors;
    return 0;
}

typedef struct {
    jn_cpu_ws *ws;
    jn_real *x, *xi;
    double *jac;
} eval_scratch;

static void scratch_free(eval_scratch *s)
{
    jn_cpu_ws_free(s->ws);
    free(s->x);
    free(s->xi);
    free(s->jac);
}

/* Scratch for what is asked: the penalty's buffers (the Jacobian's C rows per example, the
 * curvature's tangent) and the input noise only when needed (counting errors each epoch needs
 * none of them). */
static int scratch_new(const jn_model *m, int jacobian, int curvature, int noise, eval_scratch *s)
{
    memset(s, 0, sizeof *s);
    const jn_objective rows = {.jac_lambda = 1, .jac_copies = 1, .target = JN_TARGET_OUTPUT,
                               .jac_proj = jacobian ? m->sizes[m->n_layers] : 1};
    const jn_objective forward_only = {.jac_copies = 1, .jac_proj = 1};
    s->ws = jn_cpu_ws_new(m, jacobian || curvature ? &rows : &forward_only, 2 * EVAL_CHUNK);
    s->x = malloc(sizeof(jn_real) * EVAL_CHUNK * (size_t)m->sizes[0]);
    s->xi = malloc(sizeof(jn_real) * (noise ? EVAL_CHUNK * (size_t)m->sizes[0] : 1));
    s->jac = malloc(sizeof(double) * EVAL_CHUNK);
    if (s->ws && s->x && s->xi && s->jac)
        return 0;
    scratch_free(s);
    return jn_fail("evaluate: out of memory");
}

int jn_cpu_jacobian_sq_exact(const jn_model *m, const jn_real *params, const jn_real *x, int rows,
                             double *out)
{
    if (rows > EVAL_CHUNK)
        return jn_fail("jacobian: at most %d rows per call", EVAL_CHUNK);
    eval_scratch s;
    if (scratch_new(m, 1, 0, 0, &s))
        return -1;
    memcpy(s.ws->h[0], x, sizeof(jn_real) * (size_t)rows * m->sizes[0]);
    jn_cpu_jacobian_rows_sq(s.ws, params, rows, out);
    scratch_free(&s);
    return 0;
}

/* Sum over the chunk of ||J(x~_i) v_i - J(x_i) v_i||^2 / s^2 with x~ = x + s eps. */
static double curvature_chunk(jn_cpu_ws *ws, const jn_real *params, const jn_real *x, long first,
                              int rows, const jn_eval_options *opt)
{
    const jn_model *m = &ws->model;
    const size_t d = m->sizes[0], R = (size_t)rows;
    /* Primal rows [x ; x~], tangent rows [v ; v]: one forward-mode pass gives both JVPs. */
    jn_real *h0 = ws->h[0];
    memcpy(h0, x, sizeof(jn_real) * R * d);
    for (int i = 0; i < rows; i++) {
        jn_real *xt = h0 + (R + i) * d, *v = h0 + (2 * R + i) * d;
        jn_rng_normal(opt->seed, JN_STREAM_EVAL_NOISE, (uint64_t)(first + i), xt, d);
        jn_rng_normal(opt->seed, JN_STREAM_EVAL_TANGENT, (uint64_t)(first + i), v, d);
        jn_cpu_corrupt(x + i * d, xt, (jn_real)opt->curv_noise, d, xt);
        memcpy(h0 + (3 * R + i) * d, v, sizeof(jn_real) * d);
    }
    jn_cpu_tangent_forward(ws, params, 0, 2 * rows, 1, m->n_layers);
    const int C = m->sizes[m->n_layers];
    const jn_real *t = ws->h[m->n_layers] + 2 * R * C;  /* tangent rows: J(x)v then J(x~)v */
    double sum = 0;
    for (size_t e = 0; e < R * C; e++) {
        double diff = (double)t[R * C + e] - (double)t[e];
        sum += diff * diff;
    }
    return sum / (opt->curv_noise * opt->curv_noise);
}

/* Errors of the chunk's logits, which the last forward pass left in ws->act[L]. */
static long chunk_errors(const jn_cpu_ws *ws, const jn_dataset *set, long first, int rows)
{
    const int L = ws->model.n_layers, C = ws->model.sizes[L];
    long errors = 0;
    for (int i = 0; i < rows; i++)
        errors += jn_argmax(ws->act[L] + (size_t)i * C, C) != set->y[first + i];
    return errors;
}

/* Adds to out->noise_errors[k] the errors of the chunk at x + noise_std[k] xi. */
static void noise_chunk(jn_cpu_ws *ws, const jn_real *params, const jn_dataset *set, long first,
                        int rows, const jn_real *x, jn_real *xi, const jn_eval_options *opt,
                        jn_eval_stats *out)
{
    const jn_model *m = &ws->model;
    const size_t d = m->sizes[0], count = (size_t)rows * d;
    for (int i = 0; i < rows; i++)
        jn_rng_normal(opt->seed, JN_STREAM_EVAL_INPUT_NOISE, (uint64_t)(first + i), xi + i * d, d);
    for (int k = 0; k < opt->n_noise; k++) {
        jn_cpu_corrupt(x, xi, (jn_real)opt->noise_std[k], count, ws->act[0]);
        jn_cpu_forward(ws, params, rows, 1, m->n_layers);
        out->noise_errors[k] += chunk_errors(ws, set, first, rows);
    }
}

long jn_eval_count(const jn_dataset *set, long limit)
{
    return limit > 0 && limit < set->n ? limit : set->n;
}

int jn_cpu_evaluate(const jn_model *m, const jn_real *params, const jn_dataset *set,
                    const jn_eval_options *opt, jn_eval_stats *out)
{
    memset(out, 0, sizeof *out);
    if (check_shape(m, set))
        return -1;
    if (opt->curvature && !(opt->curv_noise > 0))
        return jn_fail("--curv-noise: expected a positive number, got %g", opt->curv_noise);
    if (opt->n_noise < 0 || opt->n_noise > JN_MAX_EVAL_NOISE)
        return jn_fail("--eval-noise: %d levels, expected at most %d", opt->n_noise, JN_MAX_EVAL_NOISE);
    for (int k = 0; k < opt->n_noise; k++)
        if (!(opt->noise_std[k] >= 0) || !isfinite(opt->noise_std[k]))
            return jn_fail("--eval-noise: expected finite stds >= 0, got %g", opt->noise_std[k]);
    long n = jn_eval_count(set, opt->limit);
    eval_scratch scratch;
    if (scratch_new(m, opt->jacobian, opt->curvature, opt->n_noise > 0, &scratch))
        return -1;
    jn_cpu_ws *ws = scratch.ws;
    const int L = m->n_layers;
    out->n = n;
    out->hidden_layers = L - 1;
    double activations[JN_MAX_LAYERS] = {0};
    for (long first = 0; first < n; first += EVAL_CHUNK) {
        int rows = (int)(n - first < EVAL_CHUNK ? n - first : EVAL_CHUNK);
        load_rows(set, first, rows, scratch.x);
        memcpy(ws->act[0], scratch.x, sizeof(jn_real) * (size_t)rows * m->sizes[0]);
        jn_cpu_forward(ws, params, rows, 1, L);
        out->errors += chunk_errors(ws, set, first, rows);
        for (int l = 1; l < L; l++) {
            size_t count = (size_t)rows * m->sizes[l];
            for (size_t e = 0; e < count; e++) {
                double a = ws->act[l][e], mag = fabs(a);
                out->saturated[l - 1] += mag > 0.99;
                out->linear[l - 1] += mag < 0.1;
                int bin = (int)((a + 1.0) * 0.5 * JN_HIST_BINS);
                out->histogram[l - 1][bin < 0 ? 0 : bin >= JN_HIST_BINS ? JN_HIST_BINS - 1 : bin] += 1;
            }
            activations[l - 1] += (double)count;
        }
        if (opt->jacobian) {
            memcpy(ws->h[0], scratch.x, sizeof(jn_real) * (size_t)rows * m->sizes[0]);
            jn_cpu_jacobian_rows_sq(ws, params, rows, scratch.jac);
            for (int i = 0; i < rows; i++)
                out->jacobian_sq += scratch.jac[i];
        }
        if (opt->curvature)
            out->curvature += curvature_chunk(ws, params, scratch.x, first, rows, opt);
        if (opt->n_noise)
            noise_chunk(ws, params, set, first, rows, scratch.x, scratch.xi, opt, out);
        if (opt->progress)
            opt->progress(opt->progress_ctx, first + rows, n);
    }
    /* The means of an empty set are NaN (no value), not 0 (a perfect one). */
    const double count = n > 0 ? (double)n : NAN;
    out->error_pct = 100.0 * (double)out->errors / count;
    out->jacobian_sq /= count;
    out->curvature /= count;
    for (int k = 0; k < opt->n_noise; k++)
        out->noise_error_pct[k] = 100.0 * (double)out->noise_errors[k] / count;
    for (int l = 0; l < L - 1; l++) {
        const double units = activations[l] > 0 ? activations[l] : NAN;
        out->saturated[l] /= units;
        out->linear[l] /= units;
        for (int b = 0; b < JN_HIST_BINS; b++)
            out->histogram[l][b] /= units;
    }
    scratch_free(&scratch);
    return 0;
}
