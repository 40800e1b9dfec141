/* `jacnoise train`: one job in a group of one, with the run header, epoch lines and the
 * progress line (epoch, batch, loss, training error, steps/s, ETA). */
#include "jacnoise/blas.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"
#include "train/group.h"
#include "train/job.h"

#include <stdio.h>
#include <string.h>

/* The job source of a single run: nothing after the one job, which is admitted up front. */
typedef struct {
    jn_job *job;
    long batches;
    uint64_t first_step, steps_total;
    double start;
    jn_progress progress;
} solo;

static jn_job *solo_next(void *ctx, long batch)
{
    (void)ctx, (void)batch;
    return NULL;
}

static void solo_ended(void *ctx, jn_job *job) { (void)ctx, (void)job; }

static void solo_stepped(void *ctx, long steps)
{
    (void)steps;
    solo *r = ctx;
    const jn_train_state *st = &r->job->state;
    const double done = (double)(st->global_step - r->first_step), rate = done / (jn_wall_seconds() - r->start),
                 examples = (double)st->sums.examples;
    const jn_progress_train line = {st->epoch + 1, r->job->cfg.epochs, st->batch, r->batches,
                                    st->sums.loss / examples, 100.0 * (double)st->sums.errors / examples, rate,
                                    (double)(r->steps_total - st->global_step) / rate};
    jn_progress_update(&r->progress, &line);
}

static int train_group(jn_job *job, const jn_config *cli, void (*going_on)(const jn_config *run, const jn_config *cfg))
{
    jn_group *g = jn_group_open(&job->cfg, &job->cfg.obj, 1);
    if (!g) {
        /* A resume reads a data set from the folder its config.txt records: "--data-dir DIR,
         * the only folder searched when it is given" read as an option nobody gave. */
        if (job->resume && job->cfg.data_dir[0] && !jn_config_given(cli, "data-dir") && jn_error_names(job->cfg.data))
            jn_fail_context("%s: stored configuration", job->config_path);
        return JN_EXIT_ERROR;
    }
    int code = JN_EXIT_ERROR, rc = jn_group_admit(g, job);
    if (rc == 0) {
        if (going_on)
            going_on(&job->cfg, cli);
        /* From here on a SIGINT or SIGTERM stops the run at the next step, after writing
         * last.ckpt; before, nothing of the run exists yet and the default action is right. */
        jn_train_catch_signals();
        jn_train_catch_broken_pipe();
        const jn_data *data = jn_group_data(g);
        char shape[256];
        jn_model_describe(jn_group_model(g), shape, sizeof shape);
        const char *backend = jn_group_backend_name(g);
        char blas[256] = "";
        if (!strcmp(backend, "cpu"))
            snprintf(blas, sizeof blas, " (BLAS core %s, %s, %d thread%s)", jn_blas_core_name(), jn_blas_core_origin(),
                     jn_blas_threads(), jn_blas_threads() == 1 ? "" : "s");
        /* Where a resume goes on from: a long run's user wants to know what it continues. */
        char from[128] = "";
        if (job->resume) {
            char where[64];
            jn_job_where(&job->state, where, sizeof where);
            snprintf(from, sizeof from, " %s", where);
            if (job->state.global_step)
                snprintf(from + strlen(from), sizeof from - strlen(from), " (step %llu)",
                         (unsigned long long)job->state.global_step);
        }
        jn_print(stdout, "jacnoise: %s %s on %s%s: %d train / %d valid / %d test, backend %s%s, run folder %s\n",
                         job->resume ? "resuming" : "training", shape, job->cfg.data, from, data->train.n,
                         data->valid.n, data->test.n, backend, blas, job->cfg.out);
        jn_data_print_classes(data, job->cfg.data, stdout); /* and a warning on an empty class */
        jn_stdout_flush();
        /* The default is no choice; a resume's stored batch reads as given, the default too, and
         * its warning was said when the run started. */
        if (!job->resume && jn_config_given(&job->cfg, "batch") && job->cfg.batch > data->train.n)
            fprintf(stderr, "jacnoise: warning: --batch %d is more than the %d training example%s: each epoch is one "
                    "step over %s\n", job->cfg.batch, data->train.n, data->train.n == 1 ? "" : "s",
                    data->train.n == 1 ? "it" : "all of them");
        /* Early stopping counts epochs without a better validation error: with no validation
         * split every epoch counts as the best (job.c), so the run never stops early. Said once,
         * at the start: a resumed run's stored options all read as given. */
        if (!job->resume && jn_config_given(&job->cfg, "patience") && job->cfg.patience > 0 && data->valid.n == 0)
            fprintf(stderr, "jacnoise: warning: --patience %d changes nothing without a validation split (0 "
                    "validation examples): the run trains %s %d epoch%s\n", job->cfg.patience,
                    job->cfg.epochs == 1 ? "its" : "all", job->cfg.epochs, job->cfg.epochs == 1 ? "" : "s");
        solo r = {.job = job, .batches = jn_batches_per_epoch(data->train.n, job->cfg.batch),
                  .first_step = job->state.global_step, .start = jn_wall_seconds()};
        r.steps_total = (uint64_t)r.batches * (uint64_t)job->cfg.epochs;
        if (job->cfg.max_steps > 0 && (uint64_t)job->cfg.max_steps < r.steps_total)
            r.steps_total = (uint64_t)job->cfg.max_steps; /* the run pauses there: the ETA is to the pause */
        jn_progress_init(&r.progress, job->cfg.progress);
        job->progress = &r.progress;
        jn_job_set_verbose(job, 1);
        jn_job_source src = {&r, solo_next, NULL, solo_ended, solo_stepped, "continue with --resume"};
        rc = jn_group_run(g, &src);
        job->progress = NULL;
        if (rc >= 0 && job->ended) {
            code = job->code;
            if (code == JN_EXIT_ERROR)
                jn_fail("%s", job->message);  /* for the command to print */
            if (code == JN_EXIT_SIGPIPE)      /* its line on stdout went nowhere */
                jn_print(stderr, "jacnoise: %s (run folder %s)\n", job->message, job->cfg.out);
        }
    }
    jn_group_close(g);
    return code;
}

int jn_train_run(const jn_config *cli, void (*going_on)(const jn_config *run, const jn_config *cfg))
{
    jn_job *job = jn_job_open(cli, 0, NULL);
    if (!job)
        return JN_EXIT_ERROR;
    int code = train_group(job, cli, going_on);
    jn_job_free(job);
    return code;
}
