/* jacnoise step: one training step, with every input and output written as a step state. */
#include "cli/cli.h"
#include "core/fileio.h"
#include "jacnoise/backend.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/cpu.h"
#include "jacnoise/error.h"
#include "jacnoise/rng.h"
#include "jacnoise/stepstate.h"
#include "jacnoise/train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* W1, b1, ... W_L, b_L with a prefix ("grad.W1"). */
static void put_params(jn_stepstate *ss, const jn_model *m, const char *prefix, const jn_real *p)
{
    for (int l = 1; l <= m->n_layers; l++) {
        char name[64];
        uint64_t wd[2] = {(uint64_t)m->sizes[l], (uint64_t)m->sizes[l - 1]}, bd[1] = {(uint64_t)m->sizes[l]};
        snprintf(name, sizeof name, "%s%sW%d", prefix, *prefix ? "." : "", l);
        jn_stepstate_reals(ss, name, 2, wd, jn_weights_c(m, p, l));
        snprintf(name, sizeof name, "%s%sb%d", prefix, *prefix ? "." : "", l);
        jn_stepstate_reals(ss, name, 1, bd, jn_biases_c(m, p, l));
    }
}

static volatile sig_atomic_t deferred_signal;

static void defer_signal(int sig) { deferred_signal = sig; }

/* Writes the dump with SIGINT, SIGTERM and SIGHUP held until the write has ended, then acts on
 * one that came as its default would have: killed between the temporary file and its rename
 * (Ctrl-C during the seconds a dump of hundreds of MB takes), the program left FILE.tmp
 * behind. A signal the caller ignores stays ignored. */
static int write_holding_signals(jn_stepstate *ss, const char *path)
{
    static const int held[] = {SIGINT, SIGTERM, SIGHUP};
    enum { N_HELD = sizeof held / sizeof held[0] };
    struct sigaction before[N_HELD], defer;
    memset(&defer, 0, sizeof defer);
    defer.sa_handler = defer_signal;
    defer.sa_flags = SA_RESTART;
    sigemptyset(&defer.sa_mask);
    int installed[N_HELD];
    for (int i = 0; i < N_HELD; i++)  /* where sigaction fails the signal keeps its way: no worse */
        installed[i] = sigaction(held[i], NULL, &before[i]) == 0 && before[i].sa_handler == SIG_DFL &&
                       sigaction(held[i], &defer, NULL) == 0;
    const int rc = jn_stepstate_write(ss, path);
    for (int i = 0; i < N_HELD; i++)
        if (installed[i])
            sigaction(held[i], &before[i], NULL);
    if (deferred_signal)
        raise(deferred_signal);
    return rc;
}

typedef struct {
    jn_real *grad_loss, *grad_penalty, *grad, *full_grad, *next, *next_velocity;
} step_arrays;

/* The first of the step's results that is NaN or Inf ("the loss", "grad.W2", "next.b1"), or
 * NULL: the step a training run would stop at as diverged. */
static const char *nonfinite_result(const jn_model *m, const jn_step_terms *terms, const step_arrays *a, char *name,
                                    size_t size)
{
    if (!isfinite(terms->loss))
        return "the loss";
    if (!isfinite(terms->penalty))
        return "the penalty";
    const struct {
        const char *prefix;
        const jn_real *p;
    } arrays[] = {{"grad", a->full_grad}, {"next", a->next}};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        for (int l = 1; l <= m->n_layers; l++)
            for (int bias = 0; bias < 2; bias++) {
                const jn_real *v = bias ? jn_biases_c(m, arrays[i].p, l) : jn_weights_c(m, arrays[i].p, l);
                const size_t n = bias ? (size_t)m->sizes[l] : (size_t)m->sizes[l] * m->sizes[l - 1];
                for (size_t k = 0; k < n; k++)
                    if (!isfinite(v[k])) {
                        snprintf(name, size, "%s.%c%d", arrays[i].prefix, bias ? 'b' : 'W', l);
                        return name;
                    }
            }
    return NULL;
}

static int alloc_arrays(step_arrays *a, size_t n)
{
    jn_real **all[] = {&a->grad_loss, &a->grad_penalty, &a->grad, &a->full_grad, &a->next, &a->next_velocity};
    int ok = 1;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        ok &= (*all[i] = calloc(n, sizeof(jn_real))) != NULL;
    return ok ? 0 : jn_fail("out of memory for %zu parameters", n);
}

static void free_arrays(step_arrays *a)
{
    jn_real *all[] = {a->grad_loss, a->grad_penalty, a->grad, a->full_grad, a->next, a->next_velocity};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

int jn_cmd_step(int argc, char **argv)
{
    jn_config cli;
    int rc = jn_cli_parse(argc, argv, JN_CMD_STEP, &cli);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (!cli.dump[0]) {
        jn_fail("--dump: required (the file to write the step state to)");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    if (jn_output_file_check("--dump", cli.dump, "--checkpoint", cli.checkpoint) ||
        jn_output_file_check("--dump", cli.dump, "--config", cli.config_file))
        return jn_cli_fail(JN_EXIT_USAGE);
    /* A run's other checkpoint (--checkpoint run/last.ckpt --dump run/best.ckpt) is no step
     * state to replace. */
    if (jn_checkpoint_magic_at(cli.dump)) {
        jn_fail("--dump %s: holds a jacnoise checkpoint, which the step state would replace; give another file name",
                cli.dump);
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    /* Nor another file (the run's config.txt, as --dump run/c<TAB> gives it), as profile's
     * --json replaces only a report. */
    if (jn_output_replaceable("--dump", cli.dump, JN_STEPSTATE_MAGIC, sizeof JN_STEPSTATE_MAGIC - 1,
                              "a step state (it does not begin as one, 'JNSTEP')"))
        return jn_cli_fail(JN_EXIT_USAGE);
    jn_cli_state st;
    step_arrays a = {0};
    jn_cpu_ws *ws = NULL;
    jn_cpu_step_inputs in = {0};
    uint32_t *perm = NULL;
    jn_stepstate *ss = NULL;
    /* Continue the checkpoint's run (its configuration, changed by the options given), or
     * start a fresh one. */
    int code = jn_cli_state_load(&st, &cli, 1);
    if (code)
        goto done;
    code = JN_EXIT_ERROR;
    const jn_config *cfg = &st.cfg;
    /* The step computes the penalty train's would: the same warnings of options that change
     * nothing (--jac-copies of a clean input, 1024 identical copies, said nothing here), of
     * those this command line gave: a checkpoint's own were said when its run was trained. */
    jn_cli_warn_inert(cfg, &cli);
    const jn_model *m = &st.model;
    const jn_data *data = &st.data;
    const jn_train_state pos = st.pos;
    const size_t P = m->n_params;
    if (alloc_arrays(&a, P))
        goto done;
    ws = jn_cpu_ws_new(m, &cfg->obj, cfg->batch);
    perm = malloc(sizeof *perm * (size_t)data->train.n);
    if (!ws || !perm || jn_cpu_step_inputs_alloc(&in, m, &cfg->obj, cfg->batch) ||
        jn_rng_permutation(cfg->seed, JN_STREAM_SHUFFLE, (uint64_t)pos.epoch, perm, (uint32_t)data->train.n))
        goto done;
    jn_batch batch;
    jn_noise noise;
    const int B = jn_cpu_step_inputs_fill(&in, m, &cfg->obj, &data->train, perm, pos.batch, cfg->batch, cfg->seed,
                                          pos.global_step, &batch, &noise);

    /* Each term on its own, then the step as training runs it, then the update. */
    jn_step_terms loss_terms = {0}, penalty_terms = {0}, terms;
    const jn_objective *obj = &cfg->obj;
    jn_cpu_loss_grad(ws, st.params, &batch, noise.xi, 1.0 / B, &loss_terms, a.grad_loss);
    if (obj->jac_lambda > 0)
        jn_cpu_penalty_grad(ws, st.params, &batch, noise.eps, noise.v, obj->jac_lambda / B, &penalty_terms, a.grad_penalty);
    jn_cpu_step(ws, st.params, &batch, &noise, &terms, a.grad);
    const double lr = jn_config_lr(cfg, pos.epoch);
    /* The objective's full gradient, weight decay included, is what the update adds to a zero
     * velocity with no momentum (lr = 0 leaves the parameters as they are). */
    memcpy(a.next, st.params, sizeof(jn_real) * P);
    jn_cpu_sgd_update(m, a.next, a.grad, a.full_grad, 0.0, 0.0, obj->weight_decay);
    memcpy(a.next, st.params, sizeof(jn_real) * P);
    memcpy(a.next_velocity, st.velocity, sizeof(jn_real) * P);
    jn_cpu_sgd_update(m, a.next, a.grad, a.next_velocity, lr, cfg->momentum, obj->weight_decay);
    const double wd_term = jn_weight_decay_term(m, st.params, obj->weight_decay);

    ss = jn_stepstate_new();
    if (!ss) {
        jn_fail("out of memory");
        goto done;
    }
    const int d = m->sizes[0], K = jn_objective_tangents(obj, m);
    int32_t sizes[JN_MAX_LAYERS + 1];
    for (int l = 0; l <= m->n_layers; l++)
        sizes[l] = m->sizes[l];
    uint64_t nsizes = (uint64_t)m->n_layers + 1;
    jn_stepstate_i32(ss, "sizes", 1, &nsizes, sizes);
    const struct {
        const char *name;
        double value;
    } scalars[] = {
        {"rows", B}, {"loss_kind", obj->loss}, {"input_noise", obj->input_noise}, {"jac_lambda", obj->jac_lambda},
        {"jac_noise", obj->jac_noise}, {"jac_copies", obj->jac_copies}, {"target_kind", obj->target},
        {"target_layer", jn_objective_top(obj, m)}, {"jac_proj", obj->jac_proj}, {"tangents", K},
        {"weight_decay", obj->weight_decay}, {"lr", lr}, {"momentum", cfg->momentum},
        {"epoch", pos.epoch}, {"batch", (double)pos.batch}, {"global_step", (double)pos.global_step},
        {"loss", terms.loss}, {"penalty", terms.penalty}, {"weight_decay_term", wd_term},
        {"objective", terms.loss + obj->jac_lambda * terms.penalty + wd_term}, {"errors", terms.errors},
        {"loss_alone", loss_terms.loss}, {"penalty_alone", penalty_terms.penalty},
    };
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        jn_stepstate_f64(ss, scalars[i].name, scalars[i].value);
    jn_stepstate_u64(ss, "seed", cfg->seed);  /* any uint64: a float64 rounded those above 2^53 */
    put_params(ss, m, "", st.params);
    put_params(ss, m, "velocity", st.velocity);
    uint64_t xd[2] = {(uint64_t)B, (uint64_t)d};
    jn_stepstate_reals(ss, "x", 2, xd, batch.x);
    uint64_t yd[1] = {(uint64_t)B};
    jn_stepstate_i32(ss, "y", 1, yd, batch.y);
    if (noise.xi)
        jn_stepstate_reals(ss, "xi", 2, xd, noise.xi);
    if (noise.eps) {
        uint64_t ed[3] = {(uint64_t)obj->jac_copies, (uint64_t)B, (uint64_t)d};
        jn_stepstate_reals(ss, "eps", 3, ed, noise.eps);
    }
    if (noise.v) {
        uint64_t vd[4] = {(uint64_t)obj->jac_copies, (uint64_t)K, (uint64_t)B, (uint64_t)d};
        jn_stepstate_reals(ss, "v", 4, vd, noise.v);
    }
    put_params(ss, m, "grad_loss", a.grad_loss);
    put_params(ss, m, "grad_penalty", a.grad_penalty);
    put_params(ss, m, "grad", a.full_grad);
    put_params(ss, m, "next", a.next);
    put_params(ss, m, "next_velocity", a.next_velocity);
    if (write_holding_signals(ss, cfg->dump)) {
        jn_fail_option("--dump", cfg->dump);
        goto done;
    }
    /* The dump is written all the same: its inputs (parameters, batch, noise) are what one
     * needs to see why the step diverged. */
    char bad_name[32];
    const char *bad = nonfinite_result(m, &terms, &a, bad_name, sizeof bad_name);
    if (bad) {
        jn_fail("step: %s is not finite (NaN or Inf) at epoch %d batch %ld (step %llu): the step diverges; %s holds "
                "it for debugging", bad, pos.epoch + 1, pos.batch + 1, (unsigned long long)pos.global_step + 1,
                cfg->dump);
        code = JN_EXIT_DIVERGED;
        goto done;
    }
    /* Counted from 1, as training's messages count them (the dump's fields count from 0). */
    jn_print(stdout, "step state written to %s: epoch %d batch %ld (step %llu), %d row%s, loss %.6g, penalty %.6g\n",
             cfg->dump, pos.epoch + 1, pos.batch + 1, (unsigned long long)pos.global_step + 1, B, B == 1 ? "" : "s",
             terms.loss, terms.penalty);
    /* A finished run takes no next step (nor one whose last epoch only has its end left): say
     * whose step this is. */
    if (pos.status != JN_RUN_RUNNING || pos.epoch >= cfg->epochs)
        jn_print(stderr, "jacnoise: note: %s holds a run that ended (%s after %d epoch%s): this is the step a longer "
                         "run would take\n",
                 cli.checkpoint, pos.status == JN_RUN_EARLY_STOPPED ? "early-stopped" : "finished", pos.epoch,
                 pos.epoch == 1 ? "" : "s");
    /* The run's GEMMs rounded their inputs to TF32 (10-bit mantissa): this step, on the CPU,
     * does not, and differs from the run's by more than float32 rounding. */
    if (st.cfg.tf32)
        jn_print(stderr, "jacnoise: note: %s holds a run trained with TF32 GEMMs (precision=tf32): this step is "
                         "computed on the CPU in %s, not in the run's precision\n", cli.checkpoint, JN_REAL_NAME);
    /* A best.ckpt keeps no velocity: its dump's momentum is zero, where the run's was not. */
    if (cli.checkpoint[0] && !st.ck.velocity)
        jn_print(stderr, "jacnoise: note: %s holds no velocity (a best.ckpt): the update starts from zero momentum, "
                         "not from the run's (a last.ckpt has it)\n", cli.checkpoint);
    code = JN_EXIT_OK;
done:
    jn_stepstate_free(ss);
    jn_cpu_step_inputs_free(&in);
    free(perm);
    jn_cpu_ws_free(ws);
    free_arrays(&a);
    jn_cli_state_free(&st);
    return code == JN_EXIT_OK ? code : jn_cli_fail(code);
}
