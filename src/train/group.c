/* A group: up to M jobs of one shape on one backend, in lock-step over the batches of an
 * epoch. Every job keeps its own epoch, global step, learning rate, early stopping,
 * checkpoints and divergence; the group only shares the data, the backend and the position
 * in the epoch (all members have the same n and B). Chunks end where any member needs it (its
 * checkpoint or --max-steps boundary, a pending resumed job's batch): chunks of any size give
 * the same bytes, so each job trains exactly as it would alone.
 *
 * Jobs enter at epoch boundaries (a resumed one at the batch it stopped at); when one ends,
 * the source refills its slot. A job's file error fails that job only; a backend error stops
 * the group, every active job staying at its last checkpoint. */
#include "core/fileio.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"
#include "train/backend.h"
#include "train/group.h"
#include "train/job.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static void catch_signal(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

void jn_train_catch_signals(void)
{
    catch_signal(SIGINT);
    catch_signal(SIGTERM);
    /* A closed terminal (an ssh session dropped) stops the run as SIGTERM does, unless the
     * run was started to outlive it (nohup: SIGHUP inherited ignored, which must stay so). */
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
        catch_signal(SIGHUP);
}

void jn_train_catch_broken_pipe(void) { catch_signal(SIGPIPE); }

int jn_train_stop_signal(void) { return stop_signal; }

/* Each stopping signal's exit status and words; SIGTERM before SIGHUP, so that a status of
 * 143 alone is said as SIGTERM's. */
static const struct {
    int sig, code;
    const char *words;
} stops[] = {
    {SIGINT, JN_EXIT_SIGINT, "interrupted"},
    {SIGPIPE, JN_EXIT_SIGPIPE, "stopped (its output was closed: a broken pipe)"},
    {SIGTERM, JN_EXIT_SIGTERM, "terminated"},
    {SIGHUP, JN_EXIT_SIGTERM, "terminated (its terminal hung up)"},
};
#define N_STOPS (sizeof stops / sizeof stops[0])

int jn_train_stop_code(int sig)
{
    for (size_t i = 0; i < N_STOPS; i++)
        if (stops[i].sig == sig)
            return stops[i].code;
    return 0;
}

const char *jn_train_stop_words(int code, int sig)
{
    for (size_t i = 0; i < N_STOPS; i++)
        if (stops[i].sig == sig && stops[i].code == code)
            return stops[i].words;
    for (size_t i = 0; i < N_STOPS; i++)
        if (stops[i].code == code)
            return stops[i].words;
    return NULL;
}

/* How a job in a slot is about to end (jobs ending at one point are finished together, with
 * one evaluation of their best parameters). */
typedef struct {
    int pending;
    const char *status;
    char message[1024];
    int code;
} ending;

struct jn_group {
    jn_config cfg;          /* what the members share: data, device, batch, threads */
    jn_objective obj;       /* the members' structure, noise and lambda sized for all */
    jn_data data;
    uint32_t data_crc;      /* jn_data_crc, which the members' checkpoints record */
    jn_model model;
    jn_backend *backend;
    int models;
    long batches;           /* per epoch */
    long batch;             /* the group's next batch of the epoch its jobs are in */
    jn_job **slot;          /* [models]: NULL = free */
    ending *end;            /* [models] */
    jn_slot_chunk *at;      /* [models] */
    jn_epoch_sums *sums;    /* [models] */
    jn_chunk_result *res;   /* [models] */
    unsigned char *want;    /* [models] */
    long *errors;           /* [models] */
    double *pct[2];         /* [models] each: % errors on two splits */
};

jn_group *jn_group_open(const jn_config *cfg, const jn_objective *obj, int members)
{
    jn_group *g = calloc(1, sizeof *g);
    if (!g) {
        jn_fail("out of memory");
        return NULL;
    }
    g->cfg = *cfg;
    g->obj = *obj;
    /* No GPU is said before the data loads (seconds for MNIST), not after. */
    if (cfg->device == JN_DEVICE_CUDA && jn_cuda_device_check())
        goto fail;
    const jn_data_request req = {cfg->data, cfg->test, cfg->data_dir, cfg->valid, cfg->train_limit, NULL, 0};
    if (jn_data_load(&req, &g->data))  /* it leaves at least one training example, or refuses */
        goto fail;
    g->data_crc = jn_data_crc(&g->data);
    if (jn_config_model(cfg, g->data.train.d, g->data.train.classes, &g->model))
        goto fail;
    jn_backend_setup setup = {cfg->batch, 1, cfg->threads, cfg->tf32, cfg->cuda_graph};
    int models = members;
    if (cfg->models > 0 && cfg->models < models)
        models = cfg->models;
    if (cfg->models == 0 && models > 1) {
        double budget = jn_backend_memory_budget(cfg->device);
        long fit = jn_backend_max_models(cfg->device, &g->model, obj, &setup, &g->data.train, budget);
        models = fit < models ? (int)fit : models;
    }
    setup.models = g->models = models;
    g->batches = jn_batches_per_epoch(g->data.train.n, cfg->batch);
    g->slot = calloc((size_t)models, sizeof *g->slot);
    g->end = calloc((size_t)models, sizeof *g->end);
    g->at = calloc((size_t)models, sizeof *g->at);
    g->sums = calloc((size_t)models, sizeof *g->sums);
    g->res = calloc((size_t)models, sizeof *g->res);
    g->want = calloc((size_t)models, 1);
    g->errors = calloc((size_t)models, sizeof *g->errors);
    g->pct[0] = calloc((size_t)models, sizeof(double));
    g->pct[1] = calloc((size_t)models, sizeof(double));
    if (!g->slot || !g->end || !g->at || !g->sums || !g->res || !g->want || !g->errors || !g->pct[0] || !g->pct[1]) {
        jn_fail("out of memory for a group of %d model%s", models, models == 1 ? "" : "s");
        goto fail;
    }
    g->backend = jn_backend_create(cfg->device, &g->model, obj, &setup, &g->data.train);
    if (!g->backend)
        goto fail;
    return g;
fail:
    jn_group_close(g);
    return NULL;
}

void jn_group_close(jn_group *g)
{
    if (!g)
        return;
    if (g->backend)
        g->backend->ops->destroy(g->backend);
    jn_data_free(&g->data);
    free(g->slot);
    free(g->end);
    free(g->at);
    free(g->sums);
    free(g->res);
    free(g->want);
    free(g->errors);
    free(g->pct[0]);
    free(g->pct[1]);
    free(g);
}

const jn_data *jn_group_data(const jn_group *g) { return &g->data; }
const jn_model *jn_group_model(const jn_group *g) { return &g->model; }
const char *jn_group_backend_name(const jn_group *g) { return g->backend->ops->name; }
long jn_group_batches(const jn_group *g) { return g->batches; }
int jn_group_models(const jn_group *g) { return g->models; }

static int active_count(const jn_group *g)
{
    int n = 0;
    for (int s = 0; s < g->models; s++)
        n += g->slot[s] != NULL;
    return n;
}

static int free_slot(const jn_group *g)
{
    for (int s = 0; s < g->models; s++)
        if (!g->slot[s])
            return s;
    return -1;
}

int jn_group_admit(jn_group *g, jn_job *job)
{
    const int s = free_slot(g);
    if (s < 0)
        return jn_fail("internal: no free slot in a group of %d", g->models);
    /* The first job sets the group's place in the epoch; the others join at it. */
    const long batch = jn_job_batch(job);
    /* Only the data says how many batches an epoch has (the checkpoint reader cannot). */
    if (job->resume && batch > g->batches) {
        jn_fail("%s: next batch %ld is beyond the %ld batches of an epoch of this data", job->last_path, batch,
                g->batches);
        jn_job_fail(job);
        return 1;
    }
    if (active_count(g) == 0)
        g->batch = batch;
    else if (batch != g->batch)
        return jn_fail("internal: a job at batch %ld offered to a group at batch %ld", batch, g->batch);
    const jn_model_hparams hp = jn_job_hparams(job);
    if (jn_job_init(job, &g->model, &g->data, g->data_crc) || jn_model_hparams_check(&g->obj, &hp)) {
        jn_job_fail(job);
        return 1;
    }
    const jn_backend_ops *ops = g->backend->ops;
    if (ops->set_hparams(g->backend, s, &hp) || ops->set_state(g->backend, s, job->params, job->velocity))
        return -1;
    if (jn_job_commit(job)) {
        jn_job_fail(job);
        return 1;
    }
    job->slot = s;
    ops->describe(g->backend, &job->device);
    job->epoch_start = jn_wall_seconds();
    g->slot[s] = job;
    return 0;
}

/* Pulls a slot's parameters and velocity into its job: 0, -1 on a backend error, 1 when they
 * are not finite. */
static int pull(jn_group *g, int s)
{
    jn_job *job = g->slot[s];
    if (g->backend->ops->get_state(g->backend, s, job->params, job->velocity))
        return -1;
    return jn_job_state_finite(job) ? 0 : 1;
}

/* Marks the job in slot s as ending (finish_endings() ends it). */
static void mark_ending(jn_group *g, int s, const char *status, int code, const char *message)
{
    ending *e = &g->end[s];
    e->pending = 1;
    e->status = status;
    e->code = code;
    snprintf(e->message, sizeof e->message, "%s", message);
}

/* The job in slot s diverged around `step` (1-based): its last checkpoint is left as it was,
 * from before the divergence; the summary (and one line on stderr when verbose) says where. */
static void mark_diverged(jn_group *g, int s, uint64_t step, const char *what)
{
    jn_job *job = g->slot[s];
    char message[1024];
    jn_job_divergence_message(job, g->batches, step, what, message, sizeof message);
    if (job->verbose) {
        jn_progress_clear(job->progress);
        jn_print(stderr, "jacnoise: diverged %s\n", message);
    }
    mark_ending(g, s, "diverged", JN_EXIT_DIVERGED, message);
}

/* Frees slot s, handing its job back to the source. */
static void release(jn_group *g, int s, jn_job_source *src)
{
    jn_job *job = g->slot[s];
    g->slot[s] = NULL;
    g->end[s].pending = 0;
    job->slot = -1;
    if (src)
        src->ended(src->ctx, job);
}

/* The job's file operation failed: it ends as failed, the group goes on. */
static void fail_job(jn_group *g, int s, jn_job_source *src)
{
    jn_job_fail(g->slot[s]);
    release(g, s, src);
}

/* Pulls slot s and writes its last.ckpt; a non-finite state diverges the job instead, a
 * failed write fails it. 0 when saved, 1 when the job is ending, -1 on a backend error. */
static int save_last(jn_group *g, int s, jn_job_source *src)
{
    int pulled = pull(g, s);
    if (pulled < 0)
        return -1;
    if (pulled) {
        mark_diverged(g, s, g->slot[s]->state.global_step, "the parameters became NaN or Inf");
        return 1;
    }
    if (jn_job_save_last(g->slot[s])) {
        fail_job(g, s, src);
        return 1;
    }
    return 0;
}

/* Fault injection for the crash tests: JACNOISE_TEST_KILL_AFTER_SAVES=N ends the process with
 * SIGKILL right after its N-th periodic last.ckpt, so that a test finds a known mid-epoch
 * checkpoint on disk however fast the device (a test that polled for the file and then sent
 * SIGKILL raced an H200's steps past the epoch's end). */
static void kill_after_saves(void)
{
    static long saves;
    const char *n = getenv("JACNOISE_TEST_KILL_AFTER_SAVES");
    if (n && ++saves == atol(n))
        raise(SIGKILL);
}

/* % misclassified of a set for the wanted slots (NaN for an empty set). */
static int error_pct(jn_group *g, const jn_dataset *set, double *out)
{
    for (int s = 0; s < g->models; s++)
        out[s] = NAN;
    if (set->n == 0)
        return 0;
    int any = 0;
    for (int s = 0; s < g->models; s++)
        any |= g->want[s];
    if (!any)
        return 0;
    if (g->backend->ops->count_errors(g->backend, set, g->want, g->errors))
        return -1;
    for (int s = 0; s < g->models; s++)
        if (g->want[s])
            out[s] = 100.0 * (double)g->errors[s] / (double)set->n;
    return 0;
}

/* Ends every marked job: the test error of its best parameters (loaded into its slot: the
 * slot's training state is no longer needed), its summary, the source's ended(). */
static int finish_endings(jn_group *g, jn_job_source *src)
{
    double *test = g->pct[1];
    for (int s = 0; s < g->models; s++) {
        jn_job *job = g->slot[s];
        g->want[s] = job && g->end[s].pending && job->state.best_epoch && g->data.test.n;
        if (g->want[s] && g->backend->ops->set_state(g->backend, s, job->best, job->velocity))
            return -1;
    }
    if (error_pct(g, &g->data.test, test))
        return -1;
    for (int s = 0; s < g->models; s++) {
        if (!g->slot[s] || !g->end[s].pending)
            continue;
        const ending *e = &g->end[s];
        jn_job_finish(g->slot[s], e->status, e->message, test[s], e->code);
        release(g, s, src);
    }
    return 0;
}

/* Jobs that stand at their end before training: a resumed run already done, or one at its
 * --max-steps pause. */
static int settle(jn_group *g, jn_job_source *src)
{
    char message[1024];
    for (int s = 0; s < g->models; s++) {
        jn_job *job = g->slot[s];
        if (!job)
            continue;
        const jn_train_state *st = &job->state;
        if (st->status != JN_RUN_RUNNING) {
            if (st->status == JN_RUN_EARLY_STOPPED)  /* the run's count: --patience may have changed */
                snprintf(message, sizeof message,
                         "stopped early after epoch %d: no better validation error for %d epoch%s", st->epoch,
                         st->bad_epochs, st->bad_epochs == 1 ? "" : "s");
            else
                snprintf(message, sizeof message, "trained %d epoch%s", st->epoch, st->epoch == 1 ? "" : "s");
            mark_ending(g, s, jn_run_status_name(st->status), JN_EXIT_OK, message);
        } else if (g->batch < g->batches && job->cfg.max_steps > 0 && st->global_step >= (uint64_t)job->cfg.max_steps) {
            int saved = save_last(g, s, src);
            if (saved < 0)
                return -1;
            if (saved)
                continue;
            /* Steps that end an epoch pause at the next one's start, of which no step was taken:
             * "in epoch 2" there read as a step of it done. */
            char where[48];
            snprintf(where, sizeof where, "%s epoch %d", st->batch ? "in" : "at the end of",
                     st->batch ? st->epoch + 1 : st->epoch);
            /* Past the limit only where the call started past it: --max-steps counts the run's
             * steps, not the call's, which "paused after 1222 steps (--max-steps)" left to guess
             * from a --max-steps 700. */
            if (st->global_step > (uint64_t)job->cfg.max_steps)
                snprintf(message, sizeof message,
                         "paused after %llu steps %s, already past --max-steps %ld (the run's steps in total, not "
                         "this call's); %s",
                         (unsigned long long)st->global_step, where, job->cfg.max_steps, src->to_continue);
            else
                snprintf(message, sizeof message, "paused after %llu step%s (--max-steps) %s; %s",
                         (unsigned long long)st->global_step, st->global_step == 1 ? "" : "s", where,
                         src->to_continue);
            mark_ending(g, s, "paused", JN_EXIT_OK, message);
        }
    }
    return finish_endings(g, src);
}

/* The end of the group's epoch: each job pulls its state, is evaluated (one batched count per
 * split), logs, checkpoints and decides; those done end. */
static int end_epoch(jn_group *g, jn_job_source *src)
{
    double *valid = g->pct[0], *test = g->pct[1];
    for (int s = 0; s < g->models; s++) {
        g->want[s] = 0;
        if (!g->slot[s])
            continue;
        int pulled = pull(g, s);
        if (pulled < 0)
            return -1;
        if (pulled)
            mark_diverged(g, s, g->slot[s]->state.global_step, "the parameters became NaN or Inf");
        else
            g->want[s] = 1;
    }
    if (error_pct(g, &g->data.valid, valid) || error_pct(g, &g->data.test, test))
        return -1;
    for (int s = 0; s < g->models; s++) {
        if (!g->want[s])
            continue;
        if (jn_job_end_epoch(g->slot[s], valid[s], test[s])) {
            fail_job(g, s, src);
            continue;
        }
        if (g->slot[s]->state.status != JN_RUN_RUNNING)
            g->want[s] = 0;  /* settle() ends it */
    }
    g->batch = 0;
    if (finish_endings(g, src))
        return -1;
    return settle(g, src);
}

/* Admits the source's next job for `batch` (-1: any): 1 if there was one (admitted, or ended
 * as failed), 0 if none, -1 on a group error. */
static int admit_next(jn_group *g, jn_job_source *src, long batch)
{
    jn_job *job = src->next(src->ctx, batch);
    if (!job)
        return 0;
    int rc = jn_group_admit(g, job);
    if (rc > 0)
        src->ended(src->ctx, job);
    return rc < 0 ? -1 : 1;
}

/* Fills free slots with the source's jobs that start at the group's batch. */
static int fill(jn_group *g, jn_job_source *src)
{
    int rc = 1;
    while (rc > 0 && free_slot(g) >= 0)
        rc = admit_next(g, src, g->batch);
    return rc < 0 ? -1 : 0;
}

/* Steps for the next chunk: to the epoch's end, at most the backend's preferred chunk, and no
 * further than any member's checkpoint or --max-steps boundary or a waiting job's batch. */
static long chunk_steps(jn_group *g, jn_job_source *src)
{
    long n = g->batches - g->batch;
    if (n > g->backend->ops->preferred_chunk)
        n = g->backend->ops->preferred_chunk;
    for (int s = 0; s < g->models; s++) {
        const jn_job *job = g->slot[s];
        if (!job)
            continue;
        const jn_config *cfg = &job->cfg;
        const uint64_t step = job->state.global_step;
        if (cfg->checkpoint_steps > 0) {
            long to_save = cfg->checkpoint_steps - (long)(step % (uint64_t)cfg->checkpoint_steps);
            n = n < to_save ? n : to_save;
        }
        if (cfg->max_steps > 0) {
            long left = (long)((uint64_t)cfg->max_steps - step);
            n = n < left ? n : left;
        }
    }
    if (free_slot(g) >= 0 && src->next_batch) {
        long waiting = src->next_batch(src->ctx, g->batch);
        if (waiting > g->batch && waiting - g->batch < n)
            n = waiting - g->batch;
    }
    return n;
}

/* One chunk for every active job; then each one's divergence and checkpoint. Returns the
 * model-steps done, or -1 on a backend error. */
static long train_chunk(jn_group *g, jn_job_source *src, long n)
{
    for (int s = 0; s < g->models; s++) {
        const jn_job *job = g->slot[s];
        g->at[s] = (jn_slot_chunk){job != NULL, job ? job->state.epoch : 0, job ? job->state.global_step : 0,
                                   job ? jn_job_lr(job) : 0};
        if (job)
            g->sums[s] = job->state.sums;
    }
    const jn_train_chunk chunk = {g->batch, n, g->at};
    if (g->backend->ops->train(g->backend, &chunk, g->sums, g->res))
        return -1;
    long steps = 0;
    for (int s = 0; s < g->models; s++) {
        jn_job *job = g->slot[s];
        if (!job)
            continue;
        jn_train_state *st = &job->state;
        const jn_chunk_result *r = &g->res[s];
        st->sums = g->sums[s];
        st->batch += r->steps_done;
        st->global_step += (uint64_t)r->steps_done;
        steps += r->steps_done;
        if (r->diverged) {
            mark_diverged(g, s, st->global_step + 1, "the loss or penalty is NaN or Inf");
            continue;
        }
        if (r->steps_done != n)
            return jn_fail("%s backend: %ld of %ld steps done without a divergence", g->backend->ops->name,
                           r->steps_done, n);
        const long every = job->cfg.checkpoint_steps;
        if (every > 0 && st->global_step % (uint64_t)every == 0) {
            if (save_last(g, s, src) < 0)
                return -1;
            kill_after_saves();
        }
    }
    g->batch += n;
    return finish_endings(g, src) ? -1 : steps;
}

/* SIGINT, SIGTERM, SIGHUP or SIGPIPE: every active job writes last.ckpt and ends interrupted. */
static int interrupt(jn_group *g, jn_job_source *src)
{
    const int sig = stop_signal;
    const int code = jn_train_stop_code(sig);
    const char *what = jn_train_stop_words(code, sig);
    char message[1024];
    for (int s = 0; s < g->models; s++) {
        if (!g->slot[s])
            continue;
        int saved = save_last(g, s, src);
        if (saved < 0)
            return -1;
        if (saved)
            continue;
        char where[64];
        jn_job_where(&g->slot[s]->state, where, sizeof where);
        snprintf(message, sizeof message, "%s %s; %s", what, where, src->to_continue);
        mark_ending(g, s, "interrupted", code, message);
    }
    return finish_endings(g, src) ? -1 : code;
}

/* One line where writing checkpoints took a large share of the group's time, as on a GPU,
 * which trains a model's epoch in about the time its checkpoints take to write (the README's
 * Benchmark): what --checkpoint-epochs does. Only where that saves seconds: a small CPU
 * sweep's 0.3 of 1.5 s is a fifth, but no time worth an option. */
static void checkpoint_hint(const jn_group *g, double start, double spent_before, long files_before)
{
    long files;
    const double wall = jn_wall_seconds() - start, spent = jn_job_checkpoint_seconds(&files) - spent_before;
    if (spent < 2.0 || spent < 0.2 * wall)
        return;
    char advice[256], every[32] = "step";
    if (g->cfg.checkpoint_steps > 1)
        snprintf(every, sizeof every, "%ld steps", g->cfg.checkpoint_steps);
    if (g->cfg.checkpoint_steps > 0)
        snprintf(advice, sizeof advice,
                 "--checkpoint-steps %ld writes one every %s: raise it, or drop it and write them every N epochs "
                 "only with --checkpoint-epochs N (now %d)",
                 g->cfg.checkpoint_steps, every, g->cfg.checkpoint_epochs);
    else
        snprintf(advice, sizeof advice,
                 "--checkpoint-epochs N writes them every N epochs only (now %d; a resume replays the epochs since)",
                 g->cfg.checkpoint_epochs);
    fprintf(stderr, "jacnoise: note: writing checkpoints took %.0f%% of the time (%ld files, %.1f of %.1f s); %s\n",
            100 * spent / wall, files - files_before, spent, wall, advice);
}

int jn_group_run(jn_group *g, jn_job_source *src)
{
    const double start = jn_wall_seconds();
    long files_before;
    const double spent_before = jn_job_checkpoint_seconds(&files_before);
    for (;;) {
        if (active_count(g) == 0) {
            int rc = admit_next(g, src, -1);
            if (rc == 0)
                checkpoint_hint(g, start, spent_before, files_before);
            if (rc <= 0)
                return rc;
            continue;
        }
        if (fill(g, src) || settle(g, src))
            return -1;
        if (active_count(g) == 0)
            continue;
        if (g->batch >= g->batches) {
            if (end_epoch(g, src))
                return -1;
            continue;
        }
        long steps = train_chunk(g, src, chunk_steps(g, src));
        if (steps < 0)
            return -1;
        if (stop_signal) {
            /* A run stopped with Ctrl-C after most of its time went to checkpoints is about to
             * be resumed: the note matters as much as at a run's end. */
            const int code = interrupt(g, src);
            if (code >= 0)
                checkpoint_hint(g, start, spent_before, files_before);
            return code;
        }
        if (src->stepped)
            src->stepped(src->ctx, steps);
    }
}
