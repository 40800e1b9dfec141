/* The sweep worker and its job source (schedule.h). */
#include "sweep/schedule.h"
#include "core/fileio.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"
#include "sweep/results.h"
#include "train/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A configuration waiting for a slot. */
typedef struct {
    int entry;
    int resume;     /* it has a last.ckpt */
    long batch;     /* where it continues */
    int started;    /* handed to the group */
    int epochs;     /* its run's */
} pending;

/* The group's items are handed out in an order kept by cursors, so that each job costs a
 * search, not a pass over every item (a pass per job made a group of 50,000 configurations
 * quadratic): resumed items sorted by (batch, item), in runs of one batch ("buckets"), each
 * handed out from its first item on; new items in item order. */
typedef struct {
    const jn_plan *plan;
    const jn_sweep_report *report;
    pending *items;
    int n_items;
    jn_job **open;  /* [n_items]: jobs handed out, not yet ended */
    int *live;      /* the items of those jobs, n_live of them (at most the group's slots) */
    int n_live;
    int *resumed;   /* [n_items]: the resumed items, by batch then item */
    long *bucket_batch;
    int *bucket_next, *bucket_end;  /* [n_buckets]: where in resumed its next item is, its end */
    int n_buckets;
    int top;        /* no bucket after it has items left */
    int next_new;   /* no new item before it is left */
    char busy[JN_PATH_MAX];  /* the folder of a run another process trains: this one stops */
} source;

/* Records a failure in the run's summary.json, creating the folder of a configuration that
 * failed before it had one (`sweep status` and merge read results from the folders): 0, or -1
 * with the error recorded. */
static int record_failure(const char *folder, const char *message)
{
    char path[JN_PATH_MAX + 32];
    const jn_run_summary s = {"failed", message, 0, 0, 0, NAN, NAN, NAN, NULL};  /* it never had a device */
    if (jn_mkdirs(folder))
        return -1;
    if (jn_path_join(path, sizeof path, folder, "summary.json"))
        return jn_fail("%s: path too long for its summary.json", folder);
    return jn_summary_write(path, &s);
}

/* The failure is reported as it happened; where the folder cannot record it either, the report
 * says so, since `sweep status` will then show the configuration as pending. */
static void fail_entry(source *src, int entry, const char *message)
{
    char kept[JN_SUMMARY_MESSAGE], said[JN_SWEEP_FAILURE];  /* kept: whole, as summary.json reads back */
    char folder[JN_PATH_MAX];
    snprintf(kept, sizeof kept, "%s", message);  /* message may be jn_last_error(), which a write error replaces */
    if (record_failure(jn_plan_folder(src->plan, entry, folder, sizeof folder), kept) == 0)
        snprintf(said, sizeof said, "%s", kept);
    else
        snprintf(said, sizeof said, "%s (not recorded in the run folder, so status shows it pending: %s)", kept,
                 jn_last_error());
    src->report->ended(src->report->ctx, entry, "failed", said);
}

/* 0 where a job opened from the folder is the configuration `planned` (entry e's) is; else -1
 * with the error recorded (another configuration's run, or no memory to compare them). */
static int same_configuration(const jn_job *job, const jn_config *planned, const jn_plan_entry *e)
{
    const int same = jn_config_same_experiment(jn_job_config(job), planned);
    if (same < 0)
        return jn_fail_context("%s: configuration %s", planned->out, e->id);
    return same ? 0 : jn_fail("%s: the folder holds a run of other options than configuration %s", planned->out, e->id);
}

/* Whether the run folder holds a last.ckpt to resume. */
static int has_checkpoint(const char *folder)
{
    char path[JN_PATH_MAX + 32];
    return !jn_path_join(path, sizeof path, folder, "last.ckpt") && access(path, F_OK) == 0;
}

/* Whether the checkpoint at path can be read whole. */
static int checkpoint_readable(const char *path)
{
    jn_checkpoint ck;
    const int rc = jn_checkpoint_read(path, &ck);
    jn_checkpoint_free(&ck);
    return rc == 0;
}

/* Opens the item's job: resumed, or new (a rerun: the files of a failed attempt are replaced;
 * the stale summary goes when the job commits, as a run in progress has none). NULL when it
 * failed (reported), ended in another process (reported), or when another process trains it
 * (src->busy; nothing is written to its folder). */
static jn_job *open_item(source *src, pending *it)
{
    const jn_plan_entry *e = &src->plan->entries[it->entry];
    it->started = 1;
    jn_config planned, cfg;
    jn_plan_config(src->plan, it->entry, &planned);
    cfg = planned;
    if (it->resume)
        jn_config_set(&cfg, JN_CMD_TRAIN, "resume", "true");
    int busy = 0;
    jn_job *job = jn_job_open(&cfg, 1, &busy);
    /* The item was planned from the folder as the group opened. Another process (a shard
     * sharing the folder, the same sweep started twice) that has trained the run since left a
     * last.ckpt the plan did not expect, or one at another batch: its run, not a failure here,
     * and nothing is written to its folder. Ended there, it is reported as it ended. */
    if (!busy && (job ? it->resume && jn_job_batch(job) != it->batch : !it->resume && has_checkpoint(planned.out))) {
        jn_job_free(job);
        job = NULL;
        jn_run_row row;
        jn_results_row(src->plan, it->entry, &row);
        if (row.done) {
            src->report->ended(src->report->ctx, it->entry, row.status, row.message);
            return NULL;
        }
        busy = 1;
    }
    if (busy) {
        snprintf(src->busy, sizeof src->busy, "%s", planned.out);
        return NULL;
    }
    if (job && same_configuration(job, &planned, e)) {
        jn_job_free(job);
        job = NULL;
    }
    if (!job) {
        char message[JN_SUMMARY_MESSAGE], last[JN_PATH_MAX + 32];  /* what summary.json holds */
        snprintf(message, sizeof message, "%s", jn_last_error());
        /* A rerun would read the same bytes: say what works. The plan read only the header:
         * the whole file (its checksum) is read again here, on this failure alone. */
        if (it->resume && !jn_path_join(last, sizeof last, planned.out, "last.ckpt") && !checkpoint_readable(last)) {
            const size_t n = strlen(message);
            snprintf(message + n, sizeof message - n, "; remove %s (or the run folder) to train this configuration "
                     "afresh: a rerun alone fails the same way", last);
        }
        fail_entry(src, it->entry, message);
        return NULL;
    }
    src->open[it - src->items] = job;
    src->live[src->n_live++] = (int)(it - src->items);
    src->report->began(src->report->ctx, it->entry);
    return job;
}

static int bucket_left(const source *src, int k) { return src->bucket_next[k] < src->bucket_end[k]; }

/* The first bucket of batch > after (after - 1 for >=): n_buckets where none. */
static int bucket_after(const source *src, long after)
{
    int lo = 0, hi = src->n_buckets;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        if (src->bucket_batch[mid] > after)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Resumed runs first: with batch -1 (an empty group) the one furthest into its epoch, so
 * that it finishes the epoch and the others join at its end; else one at exactly `batch`;
 * new runs at epoch starts. Ties go to the item first in the group. */
static jn_job *source_next(void *ctx, long batch)
{
    source *src = ctx;
    for (;;) {
        pending *pick = NULL;
        while (src->top >= 0 && !bucket_left(src, src->top))
            src->top--;
        const int k = batch < 0 ? src->top : bucket_after(src, batch - 1);
        if (k >= 0 && k < src->n_buckets && (batch < 0 || src->bucket_batch[k] == batch) && bucket_left(src, k))
            pick = &src->items[src->resumed[src->bucket_next[k]++]];
        while (src->next_new < src->n_items && (src->items[src->next_new].started || src->items[src->next_new].resume))
            src->next_new++;
        if (!pick && batch <= 0 && src->next_new < src->n_items)
            pick = &src->items[src->next_new];
        if (!pick)
            return NULL;
        jn_job *job = open_item(src, pick);
        if (job || src->busy[0])
            return job;
    }
}

static long source_next_batch(void *ctx, long after)
{
    const source *src = ctx;
    for (int k = bucket_after(src, after); k < src->n_buckets; k++)  /* as many buckets as batches, at most */
        if (bucket_left(src, k))
            return src->bucket_batch[k];
    return -1;
}

static void source_ended(void *ctx, jn_job *job)
{
    source *src = ctx;
    for (int l = 0; l < src->n_live; l++) {
        const int i = src->live[l];
        if (src->open[i] != job)
            continue;
        src->live[l--] = src->live[--src->n_live];
        src->open[i] = NULL;
        const int entry = src->items[i].entry;
        if (jn_job_busy(job))
            jn_plan_folder(src->plan, entry, src->busy, sizeof src->busy);
        else if (!strcmp(jn_job_status(job), "failed"))
            fail_entry(src, entry, jn_job_message(job));
        else
            src->report->ended(src->report->ctx, entry, jn_job_status(job), jn_job_message(job));
    }
    jn_job_free(job);
}

static void source_stepped(void *ctx, long steps)
{
    source *src = ctx;
    src->report->stepped(src->report->ctx, steps);
}

/* Widens the group's objective `obj` (its members' structure) to a member's: each noise level
 * and lambda the largest. */
static void widen_objective(jn_objective *obj, const jn_objective *o)
{
    obj->input_noise = fmax(obj->input_noise, o->input_noise);
    obj->jac_noise = fmax(obj->jac_noise, o->jac_noise);
    obj->jac_lambda = fmax(obj->jac_lambda, o->jac_lambda);
    obj->weight_decay = fmax(obj->weight_decay, o->weight_decay);
}

/* Where an unfinished run continues: its checkpoint's batch and steps (0 for a new run). */
static void position(const char *folder, pending *it, uint64_t *steps)
{
    char path[JN_PATH_MAX + 32];
    jn_checkpoint ck = {0};
    *steps = 0;
    it->resume = has_checkpoint(folder);
    /* The header alone: the job reads the whole file as it opens the run (and fails there
     * where it cannot be read). The header has no checksum of its own, but the checks it
     * passes bound its fields; a damaged value they take only moves when that failure comes
     * (an unreachable batch: once the group is empty) and the estimate of the steps left. */
    if (it->resume && !jn_path_join(path, sizeof path, folder, "last.ckpt") && !jn_checkpoint_read_header(path, &ck)) {
        it->batch = ck.state.batch;
        *steps = ck.state.global_step;
    }
    jn_checkpoint_free(&ck);
}

static const pending *sort_items;

static int by_batch(const void *a, const void *b)
{
    const int x = *(const int *)a, y = *(const int *)b;
    const long bx = sort_items[x].batch, by = sort_items[y].batch;
    return bx != by ? (bx > by) - (bx < by) : (x > y) - (x < y);
}

/* The cursors over the group's items, once their positions are known. */
static void order_items(source *src)
{
    int n = 0;
    for (int i = 0; i < src->n_items; i++)
        if (src->items[i].resume)
            src->resumed[n++] = i;
    sort_items = src->items;
    qsort(src->resumed, (size_t)n, sizeof *src->resumed, by_batch);
    src->n_buckets = 0;
    for (int r = 0; r < n; r++)
        if (!r || src->items[src->resumed[r]].batch != src->bucket_batch[src->n_buckets - 1]) {
            src->bucket_batch[src->n_buckets] = src->items[src->resumed[r]].batch;
            src->bucket_next[src->n_buckets] = r;
            src->bucket_end[src->n_buckets++] = n;
            if (src->n_buckets > 1)
                src->bucket_end[src->n_buckets - 2] = r;
        }
    src->top = src->n_buckets - 1;
    src->next_new = 0;
    src->n_live = 0;
}

/* Trains group `group`'s share; 0, a signal's exit status, or -1 after a group failure. */
static int run_group(source *src, int group)
{
    const jn_plan *plan = src->plan;
    jn_config first, cfg;
    jn_plan_config(plan, src->items[0].entry, &first);
    jn_objective obj = first.obj;
    for (int i = 0; i < src->n_items; i++) {
        jn_plan_config(plan, src->items[i].entry, &cfg);
        widen_objective(&obj, &cfg.obj);
        src->items[i].epochs = cfg.epochs;
    }
    jn_group *g = jn_group_open(&first, &obj, src->n_items);
    if (!g) {
        char message[JN_SUMMARY_MESSAGE];
        snprintf(message, sizeof message, "%s", jn_last_error());
        for (int i = 0; i < src->n_items; i++)
            fail_entry(src, src->items[i].entry, message);
        return -1;
    }
    const long batches = jn_group_batches(g);
    double steps = 0;
    for (int i = 0; i < src->n_items; i++) {
        uint64_t done;
        char folder[JN_PATH_MAX];
        position(jn_plan_folder(plan, src->items[i].entry, folder, sizeof folder), &src->items[i], &done);
        steps += fmax(0, (double)src->items[i].epochs * (double)batches - (double)done);
    }
    order_items(src);
    src->report->planned(src->report->ctx, group, src->n_items, jn_group_models(g), steps);
    jn_job_source js = {src, source_next, source_next_batch, source_ended, source_stepped,
                        src->report->to_continue};
    int rc = jn_group_run(g, &js);
    if (rc < 0) {
        /* A backend error: the group's active runs stay at their last checkpoints, marked
         * failed (a rerun retries them); those not started yet stay pending. */
        char message[JN_SUMMARY_MESSAGE];
        snprintf(message, sizeof message, "%s", jn_last_error());
        for (int i = 0; i < src->n_items; i++)
            if (src->open[i]) {
                jn_job_free(src->open[i]);
                src->open[i] = NULL;
                fail_entry(src, src->items[i].entry, message);
            }
    }
    jn_group_close(g);
    return rc;
}

int jn_sweep_work(const jn_plan *plan, const unsigned char *mine, const jn_run_row *known,
                  const jn_sweep_report *report)
{
    jn_train_catch_signals();
    source src = {.plan = plan, .report = report};
    const size_t n = (size_t)(plan->n_entries ? plan->n_entries : 1);
    src.items = calloc(n, sizeof *src.items);
    src.open = calloc(n, sizeof *src.open);
    src.live = malloc(n * sizeof *src.live);
    src.resumed = malloc(n * sizeof *src.resumed);
    src.bucket_batch = malloc(n * sizeof *src.bucket_batch);
    src.bucket_next = malloc(n * sizeof *src.bucket_next);
    src.bucket_end = malloc(n * sizeof *src.bucket_end);
    int code = 0, opened = 0;
    if (!src.items || !src.open || !src.live || !src.resumed || !src.bucket_batch || !src.bucket_next ||
        !src.bucket_end)
        code = (jn_fail("out of memory"), JN_EXIT_ERROR);
    for (int g = 0; !code && g < plan->n_groups && !jn_train_stop_signal(); g++) {
        src.n_items = 0;
        for (int m = 0; m < plan->groups[g].n_members; m++) {
            const int e = plan->groups[g].members[m];
            jn_run_row row;
            const jn_run_row *r = known && !opened ? &known[e] : &row;  /* read as the sweep started, just now */
            if (!mine[e])
                continue;
            if (r == &row)
                jn_results_row(plan, e, &row);
            if (!r->done)
                src.items[src.n_items++] = (pending){.entry = e};
        }
        if (src.n_items == 0)
            continue;
        opened = 1;
        int rc = run_group(&src, g);
        if (rc > 0) {
            code = rc;
            break;
        }
        if (src.busy[0]) {
            jn_fail("%s: in use by another jacnoise process, or trained by one since this sweep began: is this "
                    "sweep, or a shard of it, already running? (stopped; that run's folder is unchanged)", src.busy);
            code = JN_EXIT_ERROR;
            break;
        }
    }
    if (!code && jn_train_stop_signal())  /* between groups */
        code = jn_train_stop_code(jn_train_stop_signal());
    free(src.items);
    free(src.open);
    free(src.live);
    free(src.resumed);
    free(src.bucket_batch);
    free(src.bucket_next);
    free(src.bucket_end);
    return code;
}
