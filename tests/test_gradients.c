/* Every gradient term of SPEC.md against central finite differences, in float64.
 *
 * Built against the float64 library: with h = 1e-5 the central difference has truncation
 * error ~ h^2 |f'''| ~ 1e-10 and rounding error ~ 1e-16 / h ~ 1e-11 for these O(1)
 * objectives, so a relative error ||g - fd|| / ||fd|| above 1e-7 is a wrong formula, not
 * noise. Noise buffers are fixed inputs, so each objective is a deterministic function.
 * The losses' values are also checked against SPEC's definitions: a loss and its gradient
 * scaled alike (the squared error without its 0.5) pass the finite differences. The main loss
 * overwrites the gradient buffer: a second call on it gives what the first gave. */
#include "check.h"
#include "jacnoise/cpu.h"
#include "jacnoise/rng.h"

#include <math.h>
#include <string.h>

typedef struct {
    const char *name;
    jn_objective obj;
} config;

static jn_model model;
static int B = 4;
static jn_real *x, *xi, *eps, *v;
static int32_t y[4];

/* Objective value (with weight decay) and its full gradient (weight decay through the
 * optimizer: one update with lr = 1, mu = 0 from zero velocity leaves vel = g + wd W). */
static double objective(const jn_objective *obj, const jn_real *params, jn_real *full_grad)
{
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, obj, B);
    REQUIRE(ws, "workspace");
    jn_real *grad = calloc(model.n_params, sizeof *grad);
    jn_batch batch = {x, y, B};
    jn_noise noise = {xi, eps, v};
    jn_step_terms terms;
    jn_cpu_step(ws, params, &batch, &noise, &terms, grad);
    double f = terms.loss + obj->jac_lambda * terms.penalty + jn_weight_decay_term(&model, params, obj->weight_decay);
    if (full_grad) {
        jn_real *p = malloc(sizeof *p * model.n_params);
        memcpy(p, params, sizeof *p * model.n_params);
        memset(full_grad, 0, sizeof *full_grad * model.n_params);
        jn_cpu_sgd_update(&model, p, grad, full_grad, 1.0, 0.0, obj->weight_decay);
        free(p);
    }
    free(grad);
    jn_cpu_ws_free(ws);
    return f;
}

static void gradcheck(const config *c, const jn_real *params0)
{
    size_t n = model.n_params;
    jn_real *params = malloc(sizeof *params * n), *g = malloc(sizeof *g * n);
    memcpy(params, params0, sizeof *params * n);
    objective(&c->obj, params, g);
    double h = 1e-5, num = 0, den = 0, worst = 0;
    size_t worst_i = 0;
    for (size_t i = 0; i < n; i++) {
        jn_real keep = params[i];
        params[i] = keep + h;
        double fp = objective(&c->obj, params, NULL);
        params[i] = keep - h;
        double fm = objective(&c->obj, params, NULL);
        params[i] = keep;
        double fd = (fp - fm) / (2 * h);
        double diff = fabs(g[i] - fd);
        num += diff * diff;
        den += fd * fd;
        if (diff > worst) {
            worst = diff;
            worst_i = i;
        }
    }
    double rel = sqrt(num / den);
    printf("%-36s rel err %.3e (worst |g-fd| %.2e at %zu)\n", c->name, rel, worst, worst_i);
    CHECK(rel < 1e-7, "%s: relative gradient error %.3e", c->name, rel);
    CHECK(den > 1e-6, "%s: gradient unexpectedly tiny (%g): the check would be vacuous", c->name, den);
    free(params);
    free(g);
}

/* Every case on one model shape (the cases whose hidden layer it has). */
static void check_shape(const int *hidden, int n_hidden, int C)
{
    const int d = 6, copies = 2, K = 3;
    REQUIRE(jn_model_make(&model, d, hidden, n_hidden, C) == 0, "model");
    printf("model %d", d);
    for (int l = 1; l <= model.n_layers; l++)
        printf("-%d", model.sizes[l]);
    printf("\n");
    x = malloc(sizeof *x * B * d);
    xi = malloc(sizeof *xi * B * d);
    eps = malloc(sizeof *eps * copies * B * d);
    v = malloc(sizeof *v * copies * K * B * d);
    jn_rng_uniform(7, JN_STREAM_EVAL_NOISE, 1, x, (size_t)B * d, 0.5);
    for (int k = 0; k < B * d; k++)
        x[k] += 0.5;
    jn_rng_normal(7, JN_STREAM_INPUT_NOISE, 0, xi, (size_t)B * d);
    jn_rng_normal(7, JN_STREAM_JAC_NOISE, 0, eps, (size_t)copies * B * d);
    jn_rng_normal(7, JN_STREAM_TANGENT, 0, v, (size_t)copies * K * B * d);
    for (int i = 0; i < B; i++)
        y[i] = i % C;

    jn_real *params = malloc(sizeof *params * model.n_params);
    jn_model_init_params(&model, 3, params);
    /* Non-zero biases and larger weights, so that every tanh is off its linear regime. */
    jn_real *bump = malloc(sizeof *bump * model.n_params);
    jn_rng_uniform(3, JN_STREAM_EVAL_TANGENT, 0, bump, model.n_params, 0.4);
    for (size_t i = 0; i < model.n_params; i++)
        params[i] = 1.5 * params[i] + bump[i];

    const jn_objective base = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    config cases[24];
    int n = 0;
#define CASE(label, ...) do { cases[n].name = label; cases[n].obj = base; jn_objective *o = &cases[n].obj; __VA_ARGS__; n++; } while (0)
    CASE("cross-entropy", (void)o);
    CASE("squared error", o->loss = JN_LOSS_SQUARED);
    CASE("weight decay", o->weight_decay = 0.3);
    CASE("input noise", o->input_noise = 0.4);
    CASE("squared error + input noise", o->loss = JN_LOSS_SQUARED; o->input_noise = 0.4);
    CASE("hidden1 closed form", o->jac_lambda = 0.7);
    CASE("hidden1 + jac noise, 2 copies", o->jac_lambda = 0.7; o->jac_noise = 0.3; o->jac_copies = 2);
    CASE("hidden:1 jvp K=3", o->jac_lambda = 0.7; o->target = JN_TARGET_HIDDEN; o->target_layer = 1; o->jac_proj = 3);
    CASE("hidden:2 jvp K=2, noise, 2 copies", o->jac_lambda = 0.7; o->target = JN_TARGET_HIDDEN; o->target_layer = 2; o->jac_proj = 2; o->jac_noise = 0.3; o->jac_copies = 2);
    CASE("hidden:3 jvp K=1", o->jac_lambda = 0.7; o->target = JN_TARGET_HIDDEN; o->target_layer = 3);
    CASE("output jvp K=1", o->jac_lambda = 0.7; o->target = JN_TARGET_OUTPUT);
    CASE("output jvp K=3, noise", o->jac_lambda = 0.7; o->target = JN_TARGET_OUTPUT; o->jac_proj = 3; o->jac_noise = 0.3);
    CASE("output exact, noise, 2 copies", o->jac_lambda = 0.7; o->target = JN_TARGET_OUTPUT; o->jac_proj = JN_PROJ_EXACT; o->jac_noise = 0.3; o->jac_copies = 2);
    CASE("hidden:1 exact", o->jac_lambda = 0.7; o->target = JN_TARGET_HIDDEN; o->target_layer = 1; o->jac_proj = JN_PROJ_EXACT);
    CASE("hidden:2 exact, noise", o->jac_lambda = 0.7; o->target = JN_TARGET_HIDDEN; o->target_layer = 2; o->jac_proj = JN_PROJ_EXACT; o->jac_noise = 0.3);
    CASE("MLP+N+J all terms (output K=2)", o->jac_lambda = 0.5; o->target = JN_TARGET_OUTPUT; o->jac_proj = 2; o->jac_noise = 0.3; o->jac_copies = 2; o->input_noise = 0.2; o->weight_decay = 0.1);
    CASE("MLP+N+J all terms (hidden1, SE)", o->loss = JN_LOSS_SQUARED; o->jac_lambda = 0.5; o->jac_noise = 0.3; o->jac_copies = 2; o->input_noise = 0.2; o->weight_decay = 0.1);
    for (int i = 0; i < n; i++)
        if (cases[i].obj.target != JN_TARGET_HIDDEN || cases[i].obj.target_layer <= n_hidden)
            gradcheck(&cases[i], params);
#undef CASE

    free(params);
    free(bump);
    free(x);
    free(xi);
    free(eps);
    free(v);
}

/* The stacked step (the main rows in the penalty's first pass) against the main loss and the
 * penalty computed apart, with more tangents than one pass holds, so that the later passes
 * carry no main rows: the same terms grouped otherwise, equal to rounding. */
static void check_stacked_chunks(void)
{
    const int hidden[] = {5, 4}, d = 6, rows = 2000, K = 9, copies = 2;
    const jn_objective obj = {.loss = JN_LOSS_XENT, .jac_lambda = 0.5, .jac_noise = 0.3, .jac_copies = copies,
                              .target = JN_TARGET_OUTPUT, .jac_proj = K, .input_noise = 0.2};
    REQUIRE(jn_model_make(&model, d, hidden, 2, 3) == 0, "model");
    const size_t per_copy = (size_t)rows * d, n = model.n_params;
    jn_real *bx = malloc(sizeof *bx * per_copy), *bxi = malloc(sizeof *bxi * per_copy);
    jn_real *beps = malloc(sizeof *beps * copies * per_copy), *bv = malloc(sizeof *bv * copies * K * per_copy);
    jn_real *params = malloc(sizeof *params * n), *stacked = malloc(sizeof *stacked * n);
    jn_real *apart = malloc(sizeof *apart * n);
    int32_t *by = malloc(sizeof *by * rows);
    jn_rng_uniform(9, JN_STREAM_EVAL_NOISE, 1, bx, per_copy, 1.0);
    jn_rng_normal(9, JN_STREAM_INPUT_NOISE, 0, bxi, per_copy);
    jn_rng_normal(9, JN_STREAM_JAC_NOISE, 0, beps, copies * per_copy);
    jn_rng_normal(9, JN_STREAM_TANGENT, 0, bv, copies * K * per_copy);
    for (int i = 0; i < rows; i++)
        by[i] = i % 3;
    jn_model_init_params(&model, 5, params);
    const jn_batch batch = {bx, by, rows};
    const jn_noise noise = {bxi, beps, bv};

    const int chunk = jn_objective_tangent_chunk(&obj, &model, rows);
    REQUIRE(chunk < K, "passes that hold fewer than %d tangents (%d)", K, chunk);
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, &obj, rows);
    REQUIRE(ws, "workspace");
    jn_step_terms t_stacked, t_apart;
    jn_cpu_step(ws, params, &batch, &noise, &t_stacked, stacked);
    jn_cpu_loss_grad(ws, params, &batch, bxi, 1.0 / rows, &t_apart, apart);
    jn_cpu_penalty_grad(ws, params, &batch, beps, bv, obj.jac_lambda / rows, &t_apart, apart);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(stacked[i] - apart[i]));
        scale = fmax(scale, fabs(apart[i]));
    }
    printf("stacked step, %d tangents in passes of %d: max |g - g_apart| %.2e of max |g| %.2e\n", K,
           chunk, worst, scale);
    CHECK(worst <= 1e-12 * scale && scale > 0, "stacked gradient off by %.3e (max |g| %.3e)", worst, scale);
    CHECK(fabs(t_stacked.loss - t_apart.loss) <= 1e-12 * fabs(t_apart.loss), "loss %.17g vs %.17g", t_stacked.loss,
          t_apart.loss);
    CHECK(fabs(t_stacked.penalty - t_apart.penalty) <= 1e-12 * fabs(t_apart.penalty), "penalty %.17g vs %.17g",
          t_stacked.penalty, t_apart.penalty);
    CHECK(t_stacked.errors == t_apart.errors, "errors %d vs %d", t_stacked.errors, t_apart.errors);
    jn_cpu_ws_free(ws);
    free(bx), free(bxi), free(beps), free(bv), free(params), free(stacked), free(apart), free(by);
}

/* Each loss of a model whose logits are its last biases (every other parameter 0) against
 * SPEC's definition: -log softmax(z)_y; 0.5 ||softmax(z) - onehot(y)||^2. */
static void check_loss_values(void)
{
    enum { C = 3, ROWS = 2 };
    const int hidden[] = {2};
    jn_model m;
    REQUIRE(jn_model_make(&m, 2, hidden, 1, C) == 0, "model");
    jn_real *params = calloc(m.n_params, sizeof *params), *grad = malloc(sizeof *grad * m.n_params);
    REQUIRE(params && grad, "out of memory");
    const double z[C] = {0.3, -1.2, 2.0};
    for (int j = 0; j < C; j++)
        jn_biases(&m, params, m.n_layers)[j] = z[j];
    const jn_real xs[ROWS * 2] = {0.5, 0.25, 1, 0};
    int32_t ys[ROWS] = {1, 2};
    const jn_batch batch = {xs, ys, ROWS};
    double sum = 0;
    for (int j = 0; j < C; j++)
        sum += exp(z[j]);
    for (int kind = JN_LOSS_XENT; kind <= JN_LOSS_SQUARED; kind++) {
        double want = 0;
        for (int i = 0; i < ROWS; i++) {
            if (kind == JN_LOSS_XENT)
                want += -log(exp(z[ys[i]]) / sum) / ROWS;
            else
                for (int j = 0; j < C; j++)
                    want += 0.5 * pow(exp(z[j]) / sum - (j == ys[i]), 2) / ROWS;
        }
        const jn_objective obj = {.loss = kind, .jac_copies = 1, .jac_proj = 1};
        jn_cpu_ws *ws = jn_cpu_ws_new(&m, &obj, ROWS);
        REQUIRE(ws, "workspace");
        jn_step_terms terms = {0};
        jn_cpu_loss_grad(ws, params, &batch, NULL, 1.0 / ROWS, &terms, grad);
        CHECK(fabs(terms.loss - want) < 1e-12 * want, "%s loss %.15g, by its definition %.15g",
              kind == JN_LOSS_XENT ? "cross-entropy" : "squared-error", terms.loss, want);
        jn_cpu_ws_free(ws);
    }
    free(params);
    free(grad);
}

/* jn_cpu_loss_grad overwrites the gradient (cpu.h): a second call on the buffer the first
 * filled gives, bit for bit, what one call on a zeroed buffer gives. */
static void check_overwrites(void)
{
    const int hidden[] = {5, 4}, d = 6, rows = 4, C = 3;
    REQUIRE(jn_model_make(&model, d, hidden, 2, C) == 0, "model");
    const size_t n = model.n_params;
    jn_real *params = malloc(sizeof *params * n), *once = calloc(n, sizeof *once), *twice = calloc(n, sizeof *twice);
    jn_real bx[4 * 6];
    int32_t by[4];
    REQUIRE(params && once && twice, "out of memory");
    jn_model_init_params(&model, 5, params);
    jn_rng_uniform(5, JN_STREAM_EVAL_NOISE, 1, bx, sizeof bx / sizeof bx[0], 1.0);
    for (int i = 0; i < rows; i++)
        by[i] = i % C;
    const jn_batch batch = {bx, by, rows};
    const jn_objective obj = {.loss = JN_LOSS_XENT, .jac_copies = 1, .jac_proj = 1};
    jn_cpu_ws *ws = jn_cpu_ws_new(&model, &obj, rows);
    REQUIRE(ws, "workspace");
    jn_step_terms terms = {0};
    jn_cpu_loss_grad(ws, params, &batch, NULL, 1.0 / rows, &terms, once);
    for (int call = 0; call < 2; call++)
        jn_cpu_loss_grad(ws, params, &batch, NULL, 1.0 / rows, &terms, twice);
    size_t differ = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (twice[i] != once[i] && differ++ == 0)
            first = i;
    CHECK(differ == 0, "a second call changed %zu of %zu gradient entries (first at %zu: %.17g, once %.17g)", differ,
          n, first, twice[first], once[first]);
    jn_cpu_ws_free(ws);
    free(params), free(once), free(twice);
}

int main(void)
{
    check_loss_values();
    check_overwrites();
    const int deep[] = {5, 4, 3}, narrow_first[] = {2, 7};
    check_shape(deep, 3, 3);
    /* A first layer narrower than the layer above it and the logits, so that scratch shared
     * between layers (sized by the widest) holds rows of different widths in turn. */
    check_shape(narrow_first, 2, 4);
    check_stacked_chunks();
    return check_exit();
}
