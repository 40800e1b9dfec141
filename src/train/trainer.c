/* The trainer: epoch loop over a backend, evaluation, early stopping, checkpoints, resume.
 *
 * Determinism: everything random is a function of (seed, epoch or global step), the
 * backend keeps no state but parameters and velocity, and the checkpoint holds those plus
 * the position and the epoch's running sums; so a run stopped anywhere and resumed ends
 * with the same bytes as one that never stopped. */
#include "jacnoise/train.h"
#include "core/fileio.h"
#include "jacnoise/backend.h"
#include "jacnoise/blas.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "train/metrics.h"
#include "train/progress.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Besides the operational options, a resumed run may change its stopping rule. */
static const char *const resumable[] = {"epochs", "patience", NULL};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
    jn_config cfg;
    char last_path[JN_PATH_MAX + 16], best_path[JN_PATH_MAX + 16], metrics_path[JN_PATH_MAX + 16];
    char summary_path[JN_PATH_MAX + 16], config_path[JN_PATH_MAX + 16];
    char *config_text;
    jn_data data;
    jn_model model;
    jn_backend *backend;
    jn_real *params, *velocity, *best;
    jn_train_state state;
    jn_progress progress;
    double started;
} run;

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int save_checkpoint(run *r, const char *path, int best_only)
{
    jn_checkpoint ck = {
        .model = r->model,
        .config_text = r->config_text,
        .state = r->state,
        .params = best_only ? r->best : r->params,
        .velocity = best_only ? NULL : r->velocity,
        .best_params = best_only ? NULL : r->best,
    };
    return jn_checkpoint_write(path, &ck);
}

/* Pulls the backend's parameters and velocity: 0, -1 on error, or NONFINITE when an update
 * has overflowed (such parameters are never written: every checkpoint stays loadable). */
enum { NONFINITE = 1 };
static int pull_state(run *r)
{
    if (r->backend->ops->get_state(r->backend, r->params, r->velocity))
        return -1;
    for (size_t i = 0; i < r->model.n_params; i++)
        if (!isfinite(r->params[i]) || !isfinite(r->velocity[i]))
            return NONFINITE;
    return 0;
}

/* Pulls the state and writes `last` (not if it is non-finite). */
static int save_last(run *r)
{
    int rc = pull_state(r);
    return rc ? rc : save_checkpoint(r, r->last_path, 0);
}

static int set_paths(run *r)
{
    const char *out = r->cfg.out;
    if (!out[0])
        return jn_fail("--out: a run folder is required");
    return jn_path_join(r->last_path, sizeof r->last_path, out, "last.ckpt") ||
           jn_path_join(r->best_path, sizeof r->best_path, out, "best.ckpt") ||
           jn_path_join(r->metrics_path, sizeof r->metrics_path, out, "metrics.jsonl") ||
           jn_path_join(r->summary_path, sizeof r->summary_path, out, "summary.json") ||
           jn_path_join(r->config_path, sizeof r->config_path, out, "config.txt");
}

/* config.txt gets every option; checkpoints get the experiment's (config_text). */
static int write_config(run *r)
{
    size_t all = jn_config_format(&r->cfg, JN_CMD_TRAIN, 0, NULL, 0);
    size_t experiment = jn_config_format(&r->cfg, JN_CMD_TRAIN, 1, NULL, 0);
    char *text = malloc(all + 1);
    free(r->config_text);
    r->config_text = malloc(experiment + 1);
    if (!text || !r->config_text) {
        free(text);
        return jn_fail("out of memory");
    }
    jn_config_format(&r->cfg, JN_CMD_TRAIN, 0, text, all + 1);
    jn_config_format(&r->cfg, JN_CMD_TRAIN, 1, r->config_text, experiment + 1);
    int rc = jn_write_file_atomic(r->config_path, text, all);
    free(text);
    return rc;
}

/* Loads last.ckpt and the configuration it was written with, merged with what the command
 * line may change. */
static int open_resumed(run *r, const jn_config *cli, jn_checkpoint *ck)
{
    if (!file_exists(r->last_path))
        return jn_fail("--resume: no checkpoint at %s (start the run without --resume)", r->last_path);
    if (jn_checkpoint_read(r->last_path, ck))
        return -1;
    if (!ck->velocity || !ck->best_params)
        return jn_fail("%s: not a resumable checkpoint (no optimizer state); is it a best.ckpt?", r->last_path);
    /* config.txt has the operational options the run used (folder, threads, data folder);
     * the checkpoint has the experiment's, authoritative; the command line comes last. */
    jn_config_defaults(&r->cfg);
    if (file_exists(r->config_path) && jn_config_load_file(&r->cfg, JN_CMD_TRAIN, r->config_path))
        return -1;
    r->cfg.max_steps = 0;  /* a pause applies to the invocation that asked for it */
    if (jn_config_load_text(&r->cfg, JN_CMD_TRAIN, ck->config_text, r->last_path) ||
        jn_config_merge_resume(&r->cfg, cli, resumable))
        return -1;
    return 0;
}

static int same_model(const jn_model *a, const jn_model *b)
{
    if (a->n_layers != b->n_layers)
        return 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->sizes[l] != b->sizes[l])
            return 0;
    return 1;
}

static double error_pct(run *r, const jn_dataset *set)
{
    long errors;
    if (set->n == 0)
        return NAN;
    if (r->backend->ops->count_errors(r->backend, set, &errors))
        return -1;
    return 100.0 * (double)errors / (double)set->n;
}

static void print_epoch(const jn_epoch_metrics *m, int epochs)
{
    printf("epoch %3d/%d  loss %.5f", m->epoch, epochs, m->train_loss);
    if (isfinite(m->penalty))
        printf("  penalty %.5g", m->penalty);
    printf("  train %.2f%%", m->train_error);
    if (isfinite(m->valid_error))
        printf("  valid %.2f%%", m->valid_error);
    if (isfinite(m->test_error))
        printf("  test %.2f%%", m->test_error);
    printf("  lr %.4g  %.1fs%s\n", m->lr, m->seconds, m->best ? "  *" : "");
    fflush(stdout);
}

static int finish_summary(run *r, const char *status, const char *message)
{
    jn_run_summary s = {
        .status = status,
        .message = message,
        .epochs_done = r->state.epoch,
        .steps = r->state.global_step,
        .best_epoch = r->state.best_epoch,
        .best_valid_error = r->state.best_epoch ? r->state.best_valid_error : NAN,
        .test_error = NAN,
        .seconds = jn_now() - r->started,
    };
    if (r->state.best_epoch && r->data.test.n) {
        /* The test error of the best parameters: load them into the backend for evaluation. */
        if (r->backend->ops->set_state(r->backend, r->best, r->velocity))
            return -1;
        s.test_error = error_pct(r, &r->data.test);
        if (s.test_error < 0)
            return -1;
    }
    if (jn_summary_write(r->summary_path, &s))
        return -1;
    printf("%s: %s", status, message);
    if (r->state.best_epoch) {
        printf("; best epoch %d: valid %.2f%%", r->state.best_epoch, r->state.best_valid_error);
        if (isfinite(s.test_error))
            printf(", test %.2f%%", s.test_error);
    }
    printf(" (run folder %s)\n", r->cfg.out);
    fflush(stdout);
    return 0;
}

/* End of an epoch: evaluate, log, keep the best, checkpoint, decide whether to go on.
 * Returns 0, -1 on error, or NONFINITE. */
static int end_epoch(run *r, double lr, double epoch_start)
{
    const jn_objective *obj = &r->cfg.obj;
    jn_train_state *st = &r->state;
    int pulled = pull_state(r);
    if (pulled)
        return pulled;
    jn_epoch_metrics m = {
        .epoch = st->epoch + 1,
        .step = st->global_step,
        .lr = lr,
        .train_loss = st->sums.loss / (double)st->sums.examples,
        .penalty = obj->jac_lambda > 0 ? st->sums.penalty / (double)st->sums.examples : NAN,
        .weight_decay = jn_weight_decay_term(&r->model, r->params, obj->weight_decay),
        .train_error = 100.0 * (double)st->sums.errors / (double)st->sums.examples,
        .valid_error = error_pct(r, &r->data.valid),
        .test_error = error_pct(r, &r->data.test),
    };
    if (m.valid_error < 0 || m.test_error < 0)
        return -1;
    m.objective = m.train_loss + (obj->jac_lambda > 0 ? obj->jac_lambda * m.penalty : 0) + m.weight_decay;
    /* Without a validation set the latest parameters count as the best. */
    m.best = isnan(m.valid_error) || m.valid_error < st->best_valid_error || !st->best_epoch;
    if (m.best) {
        memcpy(r->best, r->params, sizeof(jn_real) * r->model.n_params);
        st->best_valid_error = isnan(m.valid_error) ? 100.0 : m.valid_error;
        st->best_epoch = m.epoch;
        st->bad_epochs = 0;
    } else {
        st->bad_epochs++;
    }
    st->epoch++;
    st->batch = 0;
    memset(&st->sums, 0, sizeof st->sums);
    if (r->cfg.patience > 0 && st->bad_epochs >= r->cfg.patience)
        st->status = JN_RUN_EARLY_STOPPED;
    else if (st->epoch >= r->cfg.epochs)
        st->status = JN_RUN_FINISHED;
    m.seconds = jn_now() - epoch_start;
    /* metrics first: a crash before the checkpoint replays this epoch and the resume trims
     * its line, so the file never holds an epoch twice. */
    if (jn_metrics_append(r->metrics_path, &m) || (m.best && save_checkpoint(r, r->best_path, 1)) ||
        save_checkpoint(r, r->last_path, 0))
        return -1;
    jn_progress_clear(&r->progress);
    print_epoch(&m, r->cfg.epochs);
    return 0;
}

/* The run diverged around step `step` (1-based): the last checkpoint is left as it was, from
 * before the divergence; the summary and one line on stderr say where it happened. */
static int diverge(run *r, uint64_t step, const char *what)
{
    const long batches = jn_batches_per_epoch(r->data.train.n, r->cfg.batch);
    char message[512];
    snprintf(message, sizeof message,
             "at epoch %ld, batch %ld (step %llu): %s; last.ckpt holds the state before it; try a smaller --lr "
             "or --jac-lambda",
             (long)((step - 1) / (uint64_t)batches) + 1, (long)((step - 1) % (uint64_t)batches) + 1,
             (unsigned long long)step, what);
    jn_progress_clear(&r->progress);
    fprintf(stderr, "jacnoise: diverged %s\n", message);
    return finish_summary(r, "diverged", message) ? -1 : JN_EXIT_DIVERGED;
}

/* The training loop; returns a JN_EXIT_* status or -1 on error. */
static int train_loop(run *r)
{
    jn_train_state *st = &r->state;
    const jn_config *cfg = &r->cfg;
    const long batches = jn_batches_per_epoch(r->data.train.n, cfg->batch);
    const uint64_t steps_total = (uint64_t)batches * (uint64_t)cfg->epochs;
    const uint64_t first_step = st->global_step;
    const double loop_start = jn_now();
    char message[512];
    while (st->status == JN_RUN_RUNNING) {
        const double lr = cfg->lr * pow(cfg->lr_decay, st->epoch);
        const double epoch_start = jn_now();
        while (st->batch < batches) {
            long n = batches - st->batch;
            long pref = r->backend->ops->preferred_chunk;
            n = n < pref ? n : pref;
            if (cfg->checkpoint_steps > 0) {
                long to_save = cfg->checkpoint_steps - (long)(st->global_step % (uint64_t)cfg->checkpoint_steps);
                n = n < to_save ? n : to_save;
            }
            if (cfg->max_steps > 0) {
                if (st->global_step >= (uint64_t)cfg->max_steps) {
                    int saved = save_last(r);
                    if (saved)
                        return saved < 0 ? -1 : diverge(r, st->global_step, "the parameters became NaN or Inf");
                    jn_progress_clear(&r->progress);
                    snprintf(message, sizeof message,
                             "paused after %llu steps (--max-steps) in epoch %d; continue with --resume",
                             (unsigned long long)st->global_step, st->epoch + 1);
                    return finish_summary(r, "paused", message) ? -1 : JN_EXIT_OK;
                }
                long left = (long)((uint64_t)cfg->max_steps - st->global_step);
                n = n < left ? n : left;
            }
            const jn_train_chunk chunk = {st->epoch, st->batch, n, st->global_step, lr};
            jn_chunk_result res;
            if (r->backend->ops->train(r->backend, &chunk, &st->sums, &res))
                return -1;
            st->batch += res.steps_done;
            st->global_step += (uint64_t)res.steps_done;
            if (res.diverged)
                return diverge(r, st->global_step + 1, "the loss or penalty is NaN or Inf");
            if (cfg->checkpoint_steps > 0 && st->global_step % (uint64_t)cfg->checkpoint_steps == 0) {
                int saved = save_last(r);
                if (saved)
                    return saved < 0 ? -1 : diverge(r, st->global_step, "the parameters became NaN or Inf");
            }
            if (stop_signal) {
                int saved = save_last(r);
                if (saved)
                    return saved < 0 ? -1 : diverge(r, st->global_step, "the parameters became NaN or Inf");
                jn_progress_clear(&r->progress);
                snprintf(message, sizeof message, "%s at epoch %d, batch %ld; continue with --resume",
                         stop_signal == SIGINT ? "interrupted" : "terminated", st->epoch + 1, st->batch);
                int code = stop_signal == SIGINT ? JN_EXIT_SIGINT : JN_EXIT_SIGTERM;
                return finish_summary(r, "interrupted", message) ? -1 : code;
            }
            double done = (double)(st->global_step - first_step);
            double eta = (jn_now() - loop_start) / done * (double)(steps_total - st->global_step);
            jn_progress_update(&r->progress, st->epoch + 1, cfg->epochs, st->batch, batches,
                               st->sums.loss / (double)st->sums.examples, eta);
        }
        int ended = end_epoch(r, lr, epoch_start);
        if (ended)
            return ended < 0 ? -1 : diverge(r, st->global_step, "the parameters became NaN or Inf");
    }
    if (st->status == JN_RUN_EARLY_STOPPED)
        snprintf(message, sizeof message, "stopped early after epoch %d: no better validation error for %d epochs",
                 st->epoch, cfg->patience);
    else
        snprintf(message, sizeof message, "trained %d epochs", st->epoch);
    return finish_summary(r, jn_run_status_name(st->status), message) ? -1 : JN_EXIT_OK;
}

static int prepare(run *r, const jn_config *cli, jn_checkpoint *ck)
{
    r->cfg = *cli;
    if (set_paths(r))
        return -1;
    if (cli->resume) {
        if (open_resumed(r, cli, ck))
            return -1;
    } else if (file_exists(r->last_path)) {
        return jn_fail("--out %s already holds a run (last.ckpt); continue it with --resume or choose another --out",
                       cli->out);
    }
    struct stat st;
    if (stat(r->cfg.out, &st) == 0 && !S_ISDIR(st.st_mode))
        return jn_fail("--out %s: exists and is not a folder", r->cfg.out);
    if (jn_config_check(&r->cfg))
        return -1;
    jn_cpu_set_threads(r->cfg.threads);
    const jn_data_request req = {r->cfg.data, r->cfg.test, r->cfg.data_dir, r->cfg.valid, r->cfg.train_limit};
    if (jn_data_load(&req, &r->data))
        return -1;
    if (r->data.train.n == 0)
        return jn_fail("%s: no training examples left after the validation split", r->cfg.data);
    if (jn_config_model(&r->cfg, r->data.train.d, r->data.train.classes, &r->model))
        return -1;
    if (cli->resume && !same_model(&r->model, &ck->model))
        return jn_fail("%s: the checkpoint's model does not match its configuration and data", r->last_path);
    const size_t P = r->model.n_params;
    r->params = malloc(sizeof(jn_real) * P);
    r->velocity = calloc(P, sizeof(jn_real));
    r->best = malloc(sizeof(jn_real) * P);
    if (!r->params || !r->velocity || !r->best)
        return jn_fail("out of memory for %zu parameters", P);
    if (cli->resume) {
        memcpy(r->params, ck->params, sizeof(jn_real) * P);
        memcpy(r->velocity, ck->velocity, sizeof(jn_real) * P);
        memcpy(r->best, ck->best_params, sizeof(jn_real) * P);
        r->state = ck->state;
        /* More epochs asked of a finished run: it goes on. */
        if (r->state.status == JN_RUN_FINISHED && r->state.epoch < r->cfg.epochs)
            r->state.status = JN_RUN_RUNNING;
    } else {
        jn_model_init_params(&r->model, r->cfg.seed, r->params);
        memcpy(r->best, r->params, sizeof(jn_real) * P);
        r->state.best_valid_error = 100.0;
    }
    const jn_backend_setup setup = {r->cfg.batch, r->cfg.momentum, r->cfg.seed, r->cfg.tf32, r->cfg.cuda_graph};
    r->backend = jn_backend_create(r->cfg.device, &r->model, &r->cfg.obj, &setup, &r->data.train);
    if (!r->backend || r->backend->ops->set_state(r->backend, r->params, r->velocity))
        return -1;
    /* Only now, with everything loaded and checked, does the run folder change. */
    if (jn_mkdirs(r->cfg.out))
        return -1;
    if (cli->resume ? jn_metrics_truncate(r->metrics_path, r->state.epoch) : (remove(r->metrics_path), 0))
        return -1;
    return write_config(r);
}

int jn_train_run(const jn_config *cli)
{
    run *r = calloc(1, sizeof *r);
    if (!r)
        return jn_fail("out of memory"), JN_EXIT_ERROR;
    jn_checkpoint ck = {0};
    r->started = jn_now();
    int code = JN_EXIT_ERROR;
    if (prepare(r, cli, &ck) == 0) {
        /* From here on a SIGINT or SIGTERM stops the run at the next step, after writing
         * last.ckpt; before, nothing of the run exists yet and the default action is right. */
        stop_signal = 0;
        install_signal_handlers();
        char shape[256];
        jn_model_describe(&r->model, shape, sizeof shape);
        char blas[128] = "";
        if (!strcmp(r->backend->ops->name, "cpu"))
            snprintf(blas, sizeof blas, " (BLAS core %s, %d threads)", jn_blas_core_name(), jn_blas_threads());
        printf("jacnoise: %s %s on %s: %d train / %d valid / %d test, backend %s%s, run folder %s\n",
               r->cfg.resume ? "resuming" : "training", shape, r->cfg.data, r->data.train.n, r->data.valid.n,
               r->data.test.n, r->backend->ops->name, blas, r->cfg.out);
        fflush(stdout);
        jn_progress_init(&r->progress, r->cfg.progress);
        int rc = train_loop(r);
        code = rc < 0 ? JN_EXIT_ERROR : rc;
    }
    jn_checkpoint_free(&ck);
    if (r->backend)
        r->backend->ops->destroy(r->backend);
    jn_data_free(&r->data);
    free(r->params);
    free(r->velocity);
    free(r->best);
    free(r->config_text);
    free(r);
    return code;
}
