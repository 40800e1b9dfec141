/* jacnoise check: the CUDA engine against the CPU reference, step by step, on identical
 * inputs. The GPU gathers each batch and draws its noise (cuRAND); those very buffers are
 * copied to the host and the CPU step runs on them; loss terms and every gradient are
 * compared, both backends update, and after N steps the parameters are compared. With a
 * penalty, each step's gradient is also compared with lambda raised until the penalty leads
 * it (penalty_led): in the run's gradient a wrong penalty gradient can hide under the loss's. */
#include "cli/cli.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

#include <stdio.h>

#if !JACNOISE_HAVE_CUDA

/* st as jn_cli_state_configure left it: the exit status, error recorded. */
static int check_backends(jn_cli_state *st, const jn_config *cli)
{
    (void)st, (void)cli;
    jn_fail("check: this build has no CUDA backend (configure with -DJACNOISE_CUDA=ON on a machine with nvcc)");
    return JN_EXIT_ERROR;
}

#else

#include "cuda/check.h"
#include "jacnoise/backend.h"
#include "jacnoise/cpu.h"
#include "jacnoise/cuda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Worst differences seen for one named tensor. */
typedef struct {
    char name[48];
    double abs, rel;
} diff_row;

/* The misclassified examples each engine counted, summed over the steps; how far apart the
 * counts were, summed step by step (a step's excess must not cancel another's deficit); and
 * the examples whose class the CPU found a near tie (jn_cpu_near_ties): only those may be
 * counted apart. */
typedef struct {
    long gpu, cpu, apart, ties;
} error_counts;

typedef struct {
    diff_row rows[8 * JN_MAX_LAYERS + 4];
    int count;
    int failed;
    int step;               /* the step being compared, from 1; 0 after the last one */
    char nonfinite[128];    /* the first value that was NaN or Inf: which tensor, engine, step */
    error_counts errors;
} report;

/* A NaN or Inf on either side fails its row (shown as inf): nothing can be compared there,
 * and a NaN difference would pass every threshold. The first one is kept for the message. */
static int nonfinite(report *r, const char *name, int gpu_bad, int cpu_bad)
{
    if (!gpu_bad && !cpu_bad)
        return 0;
    if (!r->nonfinite[0]) {
        char when[32] = "after the last step";
        if (r->step)
            snprintf(when, sizeof when, "at step %d", r->step);
        snprintf(r->nonfinite, sizeof r->nonfinite, "%s is not finite (NaN or Inf) %s %s", name,
                 gpu_bad && cpu_bad ? "on both engines" : gpu_bad ? "on the CUDA engine" : "on the CPU", when);
    }
    return 1;
}

static void note(report *r, const char *name, double abs_diff, double rel_diff)
{
    diff_row *row = NULL;
    for (int i = 0; i < r->count; i++)
        if (!strcmp(r->rows[i].name, name))
            row = &r->rows[i];
    if (!row) {
        row = &r->rows[r->count++];
        snprintf(row->name, sizeof row->name, "%s", name);
        row->abs = row->rel = 0;
    }
    row->abs = fmax(row->abs, abs_diff);
    row->rel = fmax(row->rel, rel_diff);
}

/* ||a - b|| / ||b|| and max |a - b| of one tensor (b = the CPU's). */
static void compare(report *r, const char *name, const float *gpu, const float *cpu, size_t n)
{
    double num = 0, den = 0, worst = 0;
    int gpu_bad = 0, cpu_bad = 0;
    for (size_t i = 0; i < n; i++) {
        gpu_bad |= !isfinite(gpu[i]);
        cpu_bad |= !isfinite(cpu[i]);
        double d = (double)gpu[i] - cpu[i];
        num += d * d;
        den += (double)cpu[i] * cpu[i];
        worst = fmax(worst, fabs(d));
    }
    if (nonfinite(r, name, gpu_bad, cpu_bad))
        note(r, name, INFINITY, INFINITY);
    else
        note(r, name, worst, den > 0 ? sqrt(num / den) : (num > 0 ? INFINITY : 0));
}

static void compare_scalar(report *r, const char *name, double gpu, double cpu)
{
    double d = fabs(gpu - cpu);
    if (nonfinite(r, name, !isfinite(gpu), !isfinite(cpu)))
        note(r, name, INFINITY, INFINITY);
    else
        note(r, name, d, cpu != 0 ? d / fabs(cpu) : (d > 0 ? INFINITY : 0));
}

static void compare_params(report *r, const jn_model *m, const char *what, const float *gpu, const float *cpu)
{
    for (int l = 1; l <= m->n_layers; l++) {
        char name[48];
        snprintf(name, sizeof name, "%s.W%d", what, l);
        compare(r, name, gpu + m->w_offset[l], cpu + m->w_offset[l], (size_t)m->sizes[l] * m->sizes[l - 1]);
        snprintf(name, sizeof name, "%s.b%d", what, l);
        compare(r, name, gpu + m->b_offset[l], cpu + m->b_offset[l], (size_t)m->sizes[l]);
    }
}

typedef struct {
    jn_cuda_ctx ctx;
    jn_cuda_ws *ws;
    jn_cuda_step_inputs in;
    jn_cuda_slots slots;  /* one model */
    jn_cuda_slots led;    /* the penalty-led step's gradient and sums (its parameters unused) */
} gpu_side;

typedef struct {
    jn_cpu_ws *ws;
    jn_cpu_step_inputs in;
    float *params, *velocity, *grad, *gpu_copy, *loss_grad, *penalty_grad;
    jn_step_sums gpu_sums;  /* copied from the device: outlives every copy queued into it */
} cpu_side;

#define CHECKED(call) \
    do {              \
        if (call)     \
            return -1; \
    } while (0)

/* How many times the loss's gradient the penalty's is made in the penalty-led gradient: the
 * loss's share of it is then 1e-3, so a relative error delta of the penalty's gradient shows
 * there as delta / 1.001, where the run's gradient shows it as delta lam |g_R| / |g|. */
#define PENALTY_LEAD 1e3

static double norm(const float *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

/* The step's gradient on both engines, on the same inputs, with lambda raised to lam' where
 * the penalty's gradient is PENALTY_LEAD times the loss's (by the CPU's norms over all the
 * parameters; never below the run's lambda): the CPU's is g_loss + lam' g_R from its two
 * parts, the GPU's a step of its own with lam' (jn_cuda_step, on the batch and noise it
 * gathered). Compared as "pgrad" rows with the run's tolerance: jn_step_tolerance bounds the
 * longest chain of GEMMs behind a gradient, the penalty's tangent rows included, whatever
 * lambda. Leaves the GPU's hyperparameters at hp and its run's gradient and sums alone. */
static int penalty_led(const jn_model *m, jn_hparams hp, const jn_batch *gb, const jn_noise *gn, const jn_batch *cb,
                       const jn_noise *cn, gpu_side *g, cpu_side *c, report *r)
{
    const size_t P = m->n_params;
    const int rows = cb->rows;
    jn_step_terms terms;
    jn_cpu_loss_grad(c->ws, c->params, cb, cn->xi, 1.0 / rows, &terms, c->loss_grad);
    memset(c->penalty_grad, 0, P * sizeof(float));
    jn_cpu_penalty_grad(c->ws, c->params, cb, cn->eps, cn->v, 1.0 / rows, &terms, c->penalty_grad);
    const double loss_norm = norm(c->loss_grad, P), penalty_norm = norm(c->penalty_grad, P);
    /* Capped where the penalty's gradient is all but zero: lam' stays a finite float. */
    double lam = penalty_norm > 0 ? PENALTY_LEAD * loss_norm / penalty_norm : hp.jac_lambda;
    lam = fmin(fmax(lam, hp.jac_lambda), 1e30);
    const float led = (float)lam;
    for (size_t i = 0; i < P; i++)
        c->penalty_grad[i] = (float)(c->loss_grad[i] + (double)led * c->penalty_grad[i]);
    jn_hparams led_hp = hp;
    led_hp.jac_lambda = led;
    CHECKED(jn_cuda_ws_set_hparams(g->ws, &led_hp));
    CHECKED(jn_cuda_step(g->ws, g->slots.params, gb, gn, g->led.sums, NULL, g->led.grad));
    JN_CUDA(cudaMemcpyAsync(c->gpu_copy, g->led.grad, P * sizeof(float), cudaMemcpyDeviceToHost, g->ctx.stream));
    JN_CUDA(cudaStreamSynchronize(g->ctx.stream));
    CHECKED(jn_cuda_ws_set_hparams(g->ws, &hp));
    printf("  pgrad: lambda %.3g, the penalty's gradient %.0f times the loss's\n", (double)led,
           loss_norm > 0 ? (double)led * penalty_norm / loss_norm : INFINITY);
    compare_params(r, m, "pgrad", c->gpu_copy, c->penalty_grad);
    return 0;
}

/* TF32's error on the tanh gates g = 1 - a^2 of the hidden layers, which the GEMM chain's
 * relative errors miss: TF32 moves z_j = sum_k a_k W_jk by dz_j, RMS per_gemm sqrt(sum_k (a_k
 * W_jk)^2) (its independent roundings), however much the terms cancel; g then moves by
 * -2 a g dz, a relative 2 |a| dz that saturated units (|a| near 1, large z) at noisy inputs make
 * large. For each hidden layer, into gate[l - 1], its g^2-weighted mean (the penalty's gradient
 * holds g^2) over the units at the rows the first step's gradients see: the penalty's input
 * x + s_J eps (every copy) with a penalty, else the loss's x + s_in xi. Returns their sum, or -1
 * with the error recorded. */
static double tf32_gates(const jn_model *m, const jn_objective *obj, const float *params, const jn_batch *b,
                         const jn_noise *n, double per_gemm, double *gate)
{
    const int d = m->sizes[0], penalty = obj->jac_lambda > 0;
    const float *noise = penalty ? n->eps : n->xi;
    const double s = noise ? (penalty ? obj->jac_noise : obj->input_noise) : 0;
    const int copies = penalty && noise ? obj->jac_copies : 1;
    double num[JN_MAX_LAYERS] = {0}, den[JN_MAX_LAYERS] = {0};
    double *a = malloc(2 * (size_t)m->max_width * sizeof *a);
    if (!a)
        return jn_fail("out of memory for the TF32 tolerance");
    for (long row = 0; row < (long)copies * b->rows; row++) {
        double *in = a, *out = a + m->max_width;
        const float *x = b->x + (row % b->rows) * d;
        for (int k = 0; k < d; k++)
            in[k] = x[k] + (noise ? s * noise[row * d + k] : 0);
        for (int l = 1; l < m->n_layers; l++) {
            const int fan_in = m->sizes[l - 1];
            const float *W = jn_weights_c(m, params, l), *bias = jn_biases_c(m, params, l);
            for (int j = 0; j < m->sizes[l]; j++) {
                double z = bias[j], squares = 0;
                for (int k = 0; k < fan_in; k++) {
                    const double term = in[k] * W[(size_t)j * fan_in + k];
                    z += term;
                    squares += term * term;
                }
                out[j] = tanh(z);
                const double g = 1 - out[j] * out[j];
                num[l - 1] += g * g * 2 * fabs(out[j]) * per_gemm * sqrt(squares);
                den[l - 1] += g * g;
            }
            double *t = in;
            in = out;
            out = t;
        }
    }
    double sum = 0;
    for (int l = 1; l < m->n_layers; l++) {
        gate[l - 1] = den[l - 1] > 0 ? num[l - 1] / den[l - 1] : 0;
        sum += gate[l - 1];
    }
    free(a);
    return sum;
}

/* TF32's default tolerance, printed with its reasoning: jn_step_tolerance's bound on the GEMM
 * chain, plus the gates' error at the first step's inputs b and n (tf32_gates), twice: the
 * penalty's gradient holds g^2. -1 with the error recorded. */
static double tf32_tolerance(const jn_config *cfg, const jn_model *m, const float *params, const jn_batch *b,
                             const jn_noise *n)
{
    jn_tf32_bound t;
    jn_step_tolerance(m, &cfg->obj, cfg->batch, 1, &t);
    double gate[JN_MAX_LAYERS];
    const double gates = tf32_gates(m, &cfg->obj, params, b, n, t.per_gemm, gate);
    if (gates < 0)
        return -1;
    const double tolerance = t.margin * (t.chain + 2 * gates);
    printf("TF32 tolerance: TF32 rounds each GEMM input to 10 mantissa bits (relative error up to u = 2^-11 = %.2e),\n"
           "  so each product a_k b_k of a dot product is off by up to 2u. The rounding errors of a reduction of\n"
           "  length k are independent: summed, they move a GEMM's output by sqrt(2/3) u = %.2e relative (RMS) when\n"
           "  the terms' signs are mixed, less when they agree, whatever k; accumulating in fp32 adds at most\n"
           "  k 2^-24 (%.1e for the longest reduction here, k = %ld). A gradient ends a chain of %d GEMMs (forward,\n"
           "  back-propagation, weight gradient) whose relative errors add: %.2e.\n"
           "  Saturated tanh units add more: TF32 moves a unit's z = sum_k a_k W_jk by dz, RMS sqrt(2/3) u\n"
           "  sqrt(sum_k (a_k W_jk)^2) however much its terms cancel, and its gate g = 1 - a^2 by a relative\n"
           "  2 |a| dz, large at noisy inputs (big |z|, |a| near 1). Its g^2-weighted mean over the units and the\n"
           "  rows of the first step's %s, per hidden layer:",
           t.u_tf32, t.per_gemm, ldexp((double)t.longest, -24), t.longest, t.gemms, t.chain,
           cfg->obj.jac_lambda > 0 ? "penalty input x + s_J eps" : "loss input x + s_in xi");
    for (int l = 1; l < m->n_layers; l++)
        printf(" e%d %.2e", l, gate[l - 1]);
    printf(";\n  counted twice, as the penalty's gradient holds g^2: %.2e. Tolerance = %.0f x (%.2e + %.2e) = %.2e:\n"
           "  room for cancellation in sums of signed terms, which the estimate ignores, and for a conversion that\n"
           "  truncates instead of rounding (a bias of up to 2u per GEMM, 2.4 x the RMS); a wrong kernel is off by O(1).\n\n",
           2 * gates, t.margin, t.chain, 2 * gates, tolerance);
    return tolerance;
}

static int run_check(const jn_config *cfg, const jn_data *data, const jn_model *m, const float *params0,
                     const float *velocity0, jn_train_state pos, double *tolerance, gpu_side *g, cpu_side *c,
                     report *r)
{
    const jn_objective *obj = &cfg->obj;
    const size_t P = m->n_params, d = (size_t)m->sizes[0];
    const int B = cfg->batch;
    const long batches = jn_batches_per_epoch(data->train.n, B);
    CHECKED(jn_cuda_ctx_open(&g->ctx, cfg->tf32));
    cudaStream_t s = g->ctx.stream;
    CHECKED(!(g->ws = jn_cuda_ws_new(&g->ctx, m, obj, B, 1)));
    CHECKED(jn_cuda_step_inputs_alloc(&g->in, m, obj, &data->train, B, 1, 0));
    CHECKED(jn_cuda_slots_alloc(&g->slots, m, 1, 1));
    CHECKED(obj->jac_lambda > 0 && jn_cuda_slots_alloc(&g->led, m, 1, 1));
    JN_CUDA(cudaMemcpy(g->slots.params, params0, P * sizeof(float), cudaMemcpyHostToDevice));
    JN_CUDA(cudaMemcpy(g->slots.velocity, velocity0, P * sizeof(float), cudaMemcpyHostToDevice));
    CHECKED(!(c->ws = jn_cpu_ws_new(m, obj, B)));
    CHECKED(jn_cpu_step_inputs_alloc(&c->in, m, obj, B));
    c->params = malloc(P * sizeof(float));
    c->velocity = malloc(P * sizeof(float));
    c->grad = malloc(P * sizeof(float));
    c->gpu_copy = malloc(P * sizeof(float));
    c->loss_grad = malloc(P * sizeof(float));
    c->penalty_grad = malloc(P * sizeof(float));
    if (!c->params || !c->velocity || !c->grad || !c->gpu_copy || !c->loss_grad || !c->penalty_grad)
        return jn_fail("out of memory for %zu parameters", P);
    memcpy(c->params, params0, P * sizeof(float));
    memcpy(c->velocity, velocity0, P * sizeof(float));

    for (int step = 0; step < cfg->check_steps; step++) {
        if (pos.batch >= batches) {
            pos.epoch++;
            pos.batch = 0;
        }
        const double lr = jn_config_lr(cfg, pos.epoch);
        const jn_hparams hp = {(float)lr, (float)cfg->momentum, (float)obj->weight_decay, (float)obj->input_noise,
                               (float)obj->jac_noise, (float)obj->jac_lambda};
        const long first = pos.batch * B;
        const int rows = (int)(data->train.n - first < B ? data->train.n - first : B);
        jn_batch gb, cb;
        jn_noise gn, cn;
        const jn_model_ctl at = {cfg->seed, pos.global_step, 1, -1};
        CHECKED(jn_cuda_ws_set_hparams(g->ws, &hp));
        CHECKED(jn_cuda_slots_begin(&g->slots, &at, pos.batch, s));
        CHECKED(jn_cuda_step_inputs_shuffle(&g->in, s, 0, cfg->seed, pos.epoch));
        CHECKED(jn_cuda_fill_step(g->ws, &g->in, &g->slots, rows, B, &gb, &gn));

        /* The GPU's batch and noise, copied to the CPU path. */
        const jn_noise_sizes ns = jn_objective_noise_sizes(obj, m, rows);
        JN_CUDA(cudaMemcpyAsync(c->in.x, gb.x, (size_t)rows * d * sizeof(float), cudaMemcpyDeviceToHost, s));
        JN_CUDA(cudaMemcpyAsync(c->in.y, gb.y, (size_t)rows * sizeof(int32_t), cudaMemcpyDeviceToHost, s));
        if (ns.xi)
            JN_CUDA(cudaMemcpyAsync(c->in.xi, gn.xi, ns.xi * sizeof(float), cudaMemcpyDeviceToHost, s));
        if (ns.eps)
            JN_CUDA(cudaMemcpyAsync(c->in.eps, gn.eps, ns.eps * sizeof(float), cudaMemcpyDeviceToHost, s));
        if (ns.v)
            JN_CUDA(cudaMemcpyAsync(c->in.v, gn.v, ns.v * sizeof(float), cudaMemcpyDeviceToHost, s));
        JN_CUDA(cudaMemcpyAsync(&c->gpu_sums, g->slots.sums, sizeof c->gpu_sums, cudaMemcpyDeviceToHost, s));
        JN_CUDA(cudaMemcpyAsync(c->gpu_copy, g->slots.grad, P * sizeof(float), cudaMemcpyDeviceToHost, s));
        JN_CUDA(cudaStreamSynchronize(s));
        const jn_step_sums sums = c->gpu_sums;
        cb = (jn_batch){c->in.x, c->in.y, rows};
        cn = (jn_noise){ns.xi ? c->in.xi : NULL, ns.eps ? c->in.eps : NULL, ns.v ? c->in.v : NULL};
        jn_step_terms terms;
        if (!(*tolerance > 0))  /* TF32's default, derived from the first step's inputs */
            CHECKED((*tolerance = tf32_tolerance(cfg, m, c->params, &cb, &cn)) < 0);
        jn_cpu_step(c->ws, c->params, &cb, &cn, &terms, c->grad);
        const long gpu_errors = lround(sums.errors);
        r->errors.gpu += gpu_errors;
        r->errors.cpu += terms.errors;
        r->errors.apart += labs(gpu_errors - terms.errors);
        r->errors.ties += jn_cpu_near_ties(c->ws, c->params, &cb, cn.xi, *tolerance);

        r->step = step + 1;
        compare_scalar(r, "loss", sums.loss / rows, terms.loss);
        if (obj->jac_lambda > 0)
            compare_scalar(r, "penalty", sums.penalty / rows, terms.penalty);
        compare_params(r, m, "grad", c->gpu_copy, c->grad);
        printf("step %d (epoch %d, batch %ld): loss gpu %.9g cpu %.9g, penalty gpu %.9g cpu %.9g, errors gpu %.0f cpu %d\n",
               step + 1, pos.epoch + 1, pos.batch + 1, sums.loss / rows, terms.loss, sums.penalty / rows, terms.penalty,
               sums.errors, terms.errors);
        if (obj->jac_lambda > 0)
            CHECKED(penalty_led(m, hp, &gb, &gn, &cb, &cn, g, c, r));

        CHECKED(jn_cuda_sgd_update(g->ws, g->slots.params, g->slots.grad, g->slots.velocity, g->slots.sums,
                                   g->slots.ctl, g->slots.model));
        jn_cpu_sgd_update(m, c->params, c->grad, c->velocity, lr, cfg->momentum, obj->weight_decay);
        pos.batch++;
        pos.global_step++;
    }
    r->step = 0;
    JN_CUDA(cudaStreamSynchronize(s));
    JN_CUDA(cudaMemcpy(c->gpu_copy, g->slots.params, P * sizeof(float), cudaMemcpyDeviceToHost));
    compare_params(r, m, "params", c->gpu_copy, c->params);
    JN_CUDA(cudaMemcpy(c->gpu_copy, g->slots.velocity, P * sizeof(float), cudaMemcpyDeviceToHost));
    compare_params(r, m, "velocity", c->gpu_copy, c->velocity);
    return 0;
}

static void free_sides(gpu_side *g, cpu_side *c)
{
    jn_cuda_ws_free(g->ws);
    jn_cuda_step_inputs_free(&g->in);
    jn_cuda_slots_free(&g->slots);
    jn_cuda_slots_free(&g->led);
    jn_cuda_ctx_close(&g->ctx);
    jn_cpu_ws_free(c->ws);
    jn_cpu_step_inputs_free(&c->in);
    free(c->params);
    free(c->velocity);
    free(c->grad);
    free(c->gpu_copy);
    free(c->loss_grad);
    free(c->penalty_grad);
}

static int check_backends(jn_cli_state *st, const jn_config *cli)
{
    /* Why not, as --device cuda's refusal says it (check has no such option): it said "no CUDA
     * device is visible" of a driver the runtime cannot use and of a build without CUDA too. */
    char why[512];
    if (jn_cli_cuda_unusable(why, sizeof why)) {
        jn_fail("check: %s", why);
        return JN_EXIT_ERROR;
    }
    gpu_side g = {0};
    cpu_side c = {0};
    report r = {.count = 0};
    int code = jn_cli_state_finish(st, cli, 1);
    if (code)
        goto done;
    code = JN_EXIT_ERROR;
    if (st->cfg.tf32 && jn_cuda_tf32_overridden()) {
        /* cuBLAS then computes in fp32 whatever its math mode: checked as what runs. */
        printf("note: NVIDIA_TF32_OVERRIDE=0 turns TF32 off: the GPU's GEMMs run in fp32, and are checked as such\n\n");
        st->cfg.tf32 = 0;
    } else if (st->cfg.tf32 && jn_cuda_tf32_reserved()) {
        /* Checked as asked: TF32's tolerance holds an fp32 step too, should the libraries read
         * the value as 0. */
        printf("note: NVIDIA_TF32_OVERRIDE=%s: NVIDIA documents 0 alone (TF32 off) and reserves other values: the "
               "GEMMs are checked as the TF32 asked\n\n", jn_cuda_tf32_reserved());
    }
    /* None given: fp32's, or 0 for TF32's, which run_check derives at the first step (tf32_tolerance). */
    double tolerance = st->cfg.tolerance > 0 ? st->cfg.tolerance : st->cfg.tf32 ? 0 : JN_FP32_TOLERANCE;
    if (run_check(&st->cfg, &st->data, &st->model, st->params, st->velocity, st->pos, &tolerance, &g, &c, &r))
        goto done;
    /* Logits that differ by rounding may put a near tie on either side: more differences than
     * near ties is a real disagreement on the predictions. */
    const error_counts *e = &r.errors;
    const int errors_differ = e->apart > e->ties;
    printf("\nerrors: gpu %ld cpu %ld, %ld example%s a near tie on the CPU (top two logits within the tolerance)%s\n",
           e->gpu, e->cpu, e->ties, e->ties == 1 ? " was" : "s were", errors_differ ? "  FAIL" : "");
    printf("\n%-22s %14s %14s  (tolerance %.1e on the relative difference ||gpu - cpu|| / ||cpu||)\n", "tensor",
           "max |diff|", "relative", tolerance);
    for (int i = 0; i < r.count; i++) {
        int bad = !(r.rows[i].rel <= tolerance);
        r.failed |= bad;
        printf("%-22s %14.3e %14.3e%s\n", r.rows[i].name, r.rows[i].abs, r.rows[i].rel, bad ? "  FAIL" : "");
    }
    double worst = 0;
    for (int i = 0; i < r.count; i++)
        worst = fmax(worst, r.rows[i].rel);
    const int failed = r.failed || errors_differ;
    printf("%s: %d step%s (%s), worst relative difference %.2e %s the tolerance %.1e\n", failed ? "FAILED" : "passed",
           st->cfg.check_steps, st->cfg.check_steps == 1 ? "" : "s", st->cfg.tf32 ? "tf32" : "fp32", worst,
           r.failed ? "above" : "within", tolerance);
    code = failed ? JN_EXIT_ERROR : JN_EXIT_OK;
    if (r.nonfinite[0])
        jn_fail("check: %s: nothing to compare (a diverged run?)", r.nonfinite);
    else if (r.failed)
        jn_fail("check: the CUDA engine differs from the CPU reference beyond %.1e (see the table)", tolerance);
    else if (errors_differ)
        jn_fail("check: the CUDA engine misclassified %ld examples, the CPU reference %ld: %ld apart step by step, more "
                "than the %ld near ties", e->gpu, e->cpu, e->apart, e->ties);
done:
    free_sides(&g, &c);
    return code;
}

#endif

/* --help and the options as in every build; then what this build lacks, if it does. */
int jn_cmd_check(int argc, char **argv)
{
    jn_config cli;
    int rc = jn_cli_parse(argc, argv, JN_CMD_CHECK, &cli);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    /* The options, and the checkpoint with the options merged with it, refused before the GPU
     * is looked for, as train and train --resume refuse them: without a usable GPU (or
     * without CUDA in the build), check --data foo said so and exited 1, where a machine with
     * one refused it as a bad option (exit 2). */
    jn_cli_state st;
    int code = jn_cli_state_configure(&st, &cli, 1);
    if (!code)
        code = check_backends(&st, &cli);
    jn_cli_state_free(&st);
    return code == JN_EXIT_OK ? code : jn_cli_fail(code);
}
