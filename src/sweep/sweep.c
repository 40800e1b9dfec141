/* jn_sweep_run, status and merge: the spec read and checked, the sweep folder, this shard's
 * part, the workers, and what the user sees (a line per ended configuration, the progress
 * line, results.csv kept current, the closing table). */
#include "jacnoise/sweep.h"
#include "core/fileio.h"
#include "jacnoise/backend.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"
#include "jacnoise/train.h"
#include "sweep/results.h"
#include "sweep/schedule.h"
#include "sweep/workers.h"
#include "train/progress.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the user sees while workers train. */
typedef struct {
    const jn_plan *plan;
    const char *dir;
    jn_results table;        /* the rows of results.csv */
    const unsigned char *mine;  /* [n_entries]: this shard's */
    unsigned char *active;   /* [n_entries]: began, not ended: its folder changes */
    unsigned char *reported; /* [n_entries]: failed as the report said, for folders that could not say so */
    int total;               /* this shard's configurations */
    int done;                /* of them ended (done or failed) */
    int running;
    int workers;             /* training at once */
    int planned;             /* configurations of the groups opened so far ... */
    double planned_steps;    /* ... and their steps */
    int sized;               /* --models auto: the groups' slots are the sweep's choice ... */
    unsigned char *told;     /* ... [n_groups]: said for the group */
    double steps;            /* model-steps trained */
    double start;
    int dirty;               /* results.csv is behind the folders */
    double written;          /* when results.csv was last written ... */
    double writing;          /* ... and how long that took (0: the next write is not put off) */
    int stale;               /* the last write of results.csv failed */
    jn_progress progress;
} front;

/* Reads again the rows that can have changed since they were read: those training here, and,
 * with every, any this process does not train (another shard's in a shared folder); never one
 * that is done, or a failure the report gave. */
static void front_reread(front *f, int every)
{
    for (int i = 0; i < f->plan->n_entries; i++)
        if (!f->table.rows[i].done && !f->reported[i] && (every || !f->mine[i] || f->active[i]))
            jn_results_row(f->plan, i, &f->table.rows[i]);
}

/* Writes results.csv where it is behind. A write takes longer the more configurations there
 * are (it is one file, written whole and synced, to be atomic): one is put off until ten times
 * the last one's time has passed, so that runs ending faster than that do not spend the sweep
 * on it (a tenth of its time at most). */
static void front_flush(void *ctx)
{
    front *f = ctx;
    const double now = jn_wall_seconds();
    if (!f->dirty || now - f->written < 10 * f->writing)
        return;
    f->dirty = 0;
    front_reread(f, 0);
    f->stale = jn_results_save(&f->table, f->dir) != 0;
    f->written = jn_wall_seconds();
    f->writing = f->written - now;
    if (f->stale) {
        jn_progress_clear(&f->progress);
        fprintf(stderr, "jacnoise: sweep: %s (results.csv left as it was)\n", jn_last_error());
    }
}

static void front_draw(front *f, int force)
{
    if (!f->progress.enabled)
        return;
    const double elapsed = jn_wall_seconds() - f->start, rate = elapsed > 0 ? f->steps / elapsed : 0;
    const int unplanned = f->total - f->done - f->planned;
    const double per_run = f->planned ? f->planned_steps / f->planned : 0;
    const double left = f->planned_steps + per_run * (unplanned > 0 ? unplanned : 0) - f->steps;
    char eta[32] = "-", line[256];
    if (rate > 0 && f->planned)
        jn_format_duration(left / rate, eta, sizeof eta);
    snprintf(line, sizeof line, "sweep: %d/%d done, %d running, %.0f steps/s, ETA %s", f->done, f->total, f->running,
             rate, eta);
    jn_progress_draw(&f->progress, line, force);
}

/* With --models auto, a group whose configurations do not all fit at once says how many do,
 * once (from the first worker to open it): the number memory (or the CPU's cap) allowed. */
static void front_planned(void *ctx, int group, int configurations, int models, double steps)
{
    front *f = ctx;
    f->planned += configurations;
    f->planned_steps += steps;
    if (!f->sized || models >= configurations || f->told[group])
        return;
    f->told[group] = 1;
    jn_progress_clear(&f->progress);
    printf("sweep: group %d/%d: %d model%s at a time (--models auto), of %d configurations%s\n", group + 1,
           f->plan->n_groups, models, models == 1 ? "" : "s", configurations, f->workers > 1 ? " per worker" : "");
    jn_stdout_flush();
}

static void front_began(void *ctx, int entry)
{
    front *f = ctx;
    f->active[entry] = 1;
    f->running++;
    f->dirty = 1;  /* its row says running at the next flush: a sweep killed before any run ended left it pending */
    front_draw(f, 1);
}

static void front_stepped(void *ctx, long steps)
{
    front *f = ctx;
    f->steps += (double)steps;
    front_flush(f);
    front_draw(f, 0);
}

/* One line per configuration that ended: its id, how, its errors, its swept values. */
static void front_ended(void *ctx, int entry, const char *status, const char *message)
{
    front *f = ctx;
    const jn_plan *plan = f->plan;
    const jn_plan_entry *e = &plan->entries[entry];
    const int failed = !strcmp(status, "failed");
    jn_run_row *row = &f->table.rows[entry];
    f->running -= f->running > 0;
    f->dirty = 1;
    f->active[entry] = 0;
    f->reported[entry] = failed;
    jn_results_row(plan, entry, row);  /* the folder says it: a failed run's epochs too, which its metrics hold */
    if (failed) {  /* as reported, also where the folder could not record it */
        snprintf(row->status, sizeof row->status, "failed");
        snprintf(row->message, sizeof row->message, "%s", message);
        row->done = 0;
    }
    if (strcmp(status, "interrupted"))
        f->done++;
    /* The message after the words, whole: a failure's holds up to JN_SWEEP_FAILURE bytes. */
    const int said = failed || !strcmp(status, "diverged") || !strcmp(status, "interrupted");
    char what[160], test[48] = "";
    if (isfinite(row->test_error))  /* none without a test split (idx: data without --test) */
        snprintf(test, sizeof test, ", test %.2f%%", row->test_error);
    if (said)
        snprintf(what, sizeof what, "%s: ", status);
    else if (isfinite(row->valid_error))
        snprintf(what, sizeof what, "%s, best epoch %d: valid %.2f%%%s", status, row->best_epoch, row->valid_error,
                 test);
    else if (isfinite(row->test_error))
        snprintf(what, sizeof what, "%s, epoch %d (no validation split): test %.2f%%", status, row->best_epoch,
                 row->test_error);
    else
        snprintf(what, sizeof what, "%s", status);
    jn_progress_clear(&f->progress);
    jn_print(stdout, "sweep: [%d/%d] %s %s%s", f->done, f->total, e->id, what, said ? message : "");
    for (int c = 0; c < plan->n_swept; c++) {
        char v[JN_PATH_MAX + 64];
        jn_plan_value(plan, entry, plan->columns[c], v, sizeof v);
        jn_print(stdout, "  %s=%s", plan->columns[c], v);
    }
    printf("\n");
    jn_stdout_flush();
    front_draw(f, 1);
}

/* Prints the recorded error; returns code. */
static int fail_now(int code)
{
    fprintf(stderr, "jacnoise: %s\n", jn_last_error());
    return code;
}

/* A whole number from a SLURM_ARRAY_TASK_* variable (fallback when unset); -1 when not one. */
static long slurm_number(const char *name, long fallback)
{
    const char *v = getenv(name);
    char *end;
    if (!v)
        return fallback;
    errno = 0;
    const long n = strtol(v, &end, 10);
    return !*v || *end || errno || n < 0 ? -1 : n;
}

/* The job array's task: 1, 0 outside one (no SLURM_ARRAY_TASK_ID), -1 (recorded) when the
 * variables are not a job array's, or where the array is the first on the sweep folder dir (it
 * has no DIR/slurm-array) and a list that is no range: Slurm gives --array=0,2,4 step 1, so
 * its task 4 read as no task of it, and the shard of a task of 0,1,5 cannot be told. */
static int slurm_task(const char *dir, long *task, long *tasks, long *first, long *stride)
{
    if (!getenv("SLURM_ARRAY_TASK_ID"))
        return 0;
    *task = slurm_number("SLURM_ARRAY_TASK_ID", -1);
    *tasks = slurm_number("SLURM_ARRAY_TASK_COUNT", -1);
    *first = slurm_number("SLURM_ARRAY_TASK_MIN", -1);
    *stride = slurm_number("SLURM_ARRAY_TASK_STEP", 1);
    const long last = slurm_number("SLURM_ARRAY_TASK_MAX", -2);  /* -2: not given */
    if (*task < 0 || *tasks < 1 || *first < 0 || *stride < 1 || last == -1)
        return jn_fail("--shard: SLURM_ARRAY_TASK_ID, _COUNT, _MIN (and _STEP, _MAX) are not a job array's; give "
                       "--shard I/N");
    char record[JN_PATH_MAX + 32];
    const int range = last < 0 || (last >= *first && (last - *first) % *stride == 0 &&
                                   (last - *first) / *stride == *tasks - 1);  /* MIN-MAX:STEP */
    if (!range &&
        (jn_path_join(record, sizeof record, dir, "slurm-array") || access(record, F_OK) != 0))
        return jn_fail("--shard: the job array is a list of tasks, not a range (SLURM_ARRAY_TASK_MIN=%ld, _MAX=%ld, "
                       "_COUNT=%ld): the first array on %s must be a range, --array=0-%ld (or A-B:STEP), whose tasks "
                       "it records as its shards; any part of it can then be resubmitted as a list",
                       *first, last, *tasks, dir, *tasks - 1);
    return 1;
}

/* The job array a sweep folder's DIR/slurm-array (path) records: 1, 0 where there is none,
 * -1 (recorded) where it cannot be read or is not a record. */
static int array_record(const char *path, long *first, long *stride, long *tasks)
{
    unsigned char *data;
    size_t len;
    char text[192];
    if (access(path, F_OK) != 0)
        return 0;
    if (jn_read_file(path, &data, &len))
        return -1;
    snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), (const char *)data);
    free(data);
    if (sscanf(text, "SLURM_ARRAY_TASK_MIN=%ld SLURM_ARRAY_TASK_STEP=%ld SLURM_ARRAY_TASK_COUNT=%ld", first, stride,
               tasks) != 3 || *first < 0 || *stride < 1 || *tasks < 1 || *tasks > INT_MAX)
        return jn_fail("%s: not a job array's record; remove it (the next task records its array)", path);
    return 1;
}

/* Part I of N: --shard, else a Slurm job array's task, else the whole sweep; 0 or the exit
 * status. A task's part is its place in the array first run on the folder, which its first
 * task to start records in DIR/slurm-array (with record; without, for a check that writes
 * nothing, the record is read where there is one): resubmitting part of the array (sbatch
 * --array=3,7 to rerun two tasks) runs those tasks' shards, not the shards of a 2-task array. */
static int shard_of(const jn_config *cfg, int record, int *index, int *count, long *array_task)
{
    *index = cfg->shard_index;
    *count = cfg->shard_count;
    *array_task = -1;
    if (*count)
        return 0;
    *index = 0;
    *count = 1;
    long task, tasks, first, stride;
    const int array = slurm_task(cfg->out, &task, &tasks, &first, &stride);
    if (array <= 0)
        return array ? JN_EXIT_USAGE : 0;
    char path[JN_PATH_MAX + 32], text[192];
    snprintf(text, sizeof text, "SLURM_ARRAY_TASK_MIN=%ld SLURM_ARRAY_TASK_STEP=%ld SLURM_ARRAY_TASK_COUNT=%ld\n",
             first, stride, tasks);
    if (jn_path_join(path, sizeof path, cfg->out, "slurm-array"))
        return JN_EXIT_ERROR;
    const int kept = record ? jn_write_file_new(path, text, strlen(text)) : 1;
    if (kept < 0 || (kept && array_record(path, &first, &stride, &tasks) < 0))
        return JN_EXIT_ERROR;
    const long part = (task - first) / stride;
    if (task < first || (task - first) % stride || part >= tasks || part > INT_MAX)
        return jn_fail("--shard: SLURM_ARRAY_TASK_ID=%ld is not a task of the job array first run on %s (%ld tasks "
                       "from %ld, step %ld, as %s says): give --shard I/N, or remove %s to run another array",
                       task, cfg->out, tasks, first, stride, path, path), JN_EXIT_USAGE;
    *index = (int)part;
    *count = (int)tasks;
    *array_task = task;
    return 0;
}

/* Where the line at data + at ends: its newline, or len where the last has none (strcspn read
 * on past the file's bytes there: jn_read_file ends them with no NUL). */
static size_t line_end(const unsigned char *data, size_t len, size_t at)
{
    const unsigned char *nl = memchr(data + at, '\n', len - at);
    return nl ? (size_t)(nl - data) : len;
}

/* Adds `line` (newline-ended) to the record DIR/name where that does not hold it yet; where
 * there is no such file, only with create. 0, or -1 (recorded). */
static int record_line(const char *dir, const char *name, const char *line, int create)
{
    char path[JN_PATH_MAX + 32];
    unsigned char *data = NULL;
    size_t len = 0;
    if (jn_path_join(path, sizeof path, dir, name))
        return -1;
    const int kept = access(path, F_OK) == 0;
    if (!kept && !create)
        return 0;
    if (kept && jn_read_file(path, &data, &len))
        return -1;
    const size_t n = strlen(line);
    int there = 0;
    for (size_t at = 0; at + n <= len && !there; at = line_end(data, len, at) + 1)
        there = !memcmp(data + at, line, n);
    free(data);
    return there ? 0 : jn_append_line(path, line);
}

/* DIR/shards: the shards that ran on a sweep folder, one "I/N" line each, added by a sweep of
 * --shard I/N and, once the file is there, by any sweep (a whole one is 0/1). A shard's own
 * --out holds its share alone: status counts the configurations no recorded shard was dealt,
 * and that have no run folder, as other folders', where it told the user to rerun for them.
 * A job array's tasks record their array in DIR/slurm-array instead. */
static int record_shard(const char *dir, int index, int count)
{
    char line[32];
    snprintf(line, sizeof line, "%d/%d\n", index, count);
    return record_line(dir, "shards", line, count != 1);
}

/* Flags in here[n_entries] the configurations of the sweep folder dir: those of the shards its
 * DIR/shards records, and those with a run folder there (rows: pending, or not); every one where
 * there is no such file, or where a job array ran there too (DIR/slurm-array: its tasks, which
 * record no shard, are dealt every configuration). The others are another shard's folder's,
 * which the sweep's end, status and a merge count apart, as no rerun in dir trains them. 0, or
 * -1 (recorded) where either file cannot be read or is not a record. */
static int shards_here(const jn_plan *plan, const char *dir, const jn_run_row *rows, unsigned char *here)
{
    char path[JN_PATH_MAX + 32], array[JN_PATH_MAX + 32];
    unsigned char *data;
    size_t len;
    long first, stride, tasks;
    const int n = plan->n_entries;
    if (jn_path_join(path, sizeof path, dir, "shards") || jn_path_join(array, sizeof array, dir, "slurm-array"))
        return -1;
    const int recorded = access(path, F_OK) == 0;
    const int arrayed = recorded ? array_record(array, &first, &stride, &tasks) : 0;
    if (arrayed < 0)
        return -1;
    memset(here, !recorded || arrayed, (size_t)n);
    if (!recorded || arrayed)
        return 0;
    int *part = malloc(sizeof *part * (size_t)(n ? n : 1));
    if (!part)
        return jn_fail("out of memory for the shards of %d configurations", n);
    if (jn_read_file(path, &data, &len)) {
        free(part);
        return -1;
    }
    int rc = 0, line = 1;
    for (size_t at = 0; at < len && !rc; line++) {
        const size_t end = line_end(data, len, at);
        int index, count, used = -1;
        char text[32];
        snprintf(text, sizeof text, "%.*s", (int)(end - at < sizeof text ? end - at : sizeof text - 1),
                 (const char *)data + at);
        if (end >= len || sscanf(text, "%d/%d%n", &index, &count, &used) != 2 || used != (int)(end - at) ||
            index < 0 || index >= count)
            rc = jn_fail("%s: line %d: not a shard I/N; remove the file to count every configuration as this "
                         "folder's", path, line);
        else {
            jn_plan_deal(plan, NULL, count, part);
            for (int i = 0; i < n; i++)
                here[i] |= part[i] == index;
        }
        at = end + 1;
    }
    for (int i = 0; i < n; i++)
        here[i] |= strcmp(rows[i].status, "pending") != 0;
    free(data);
    free(part);
    return rc;
}

/* The sweep.spec at `path`, of the sweep folder dir (`option`, or NULL: a merge's DIR, which
 * held none or this spec when the merge read it), holds the spec: 0, or the exit status
 * (another spec: a usage error). What the two mean is compared (jn_spec_same), not their
 * bytes: a spec edited in its comments, blank lines or spacing is the same sweep, and its
 * rerun goes on; sweep.spec keeps the text it was first written with (it is created only
 * where there is none, so that shards started at once agree on it). One that no longer parses
 * is another spec too: the refusal says how to change the study. */
static int same_spec(const char *option, const char *dir, const char *path, const jn_spec *spec)
{
    unsigned char *data;
    size_t len;
    if (jn_read_file(path, &data, &len))
        return JN_EXIT_ERROR;
    char *text = realloc(data, len + 1);
    if (!text) {
        free(data);
        return jn_fail("out of memory"), JN_EXIT_ERROR;
    }
    text[len] = 0;
    jn_spec kept = {0};  /* freed whether or not it was parsed */
    const int same = !memchr(text, 0, len) && !jn_spec_parse(text, path, JN_CONFIG_STORED, &kept) &&
                     jn_spec_same(&kept, spec);
    jn_spec_free(&kept);
    free(text);
    if (!same && !option)
        return jn_fail("merge: %s holds a sweep of another spec (%s, written during the merge, differs from %s): "
                       "merge into another folder", dir, path, spec->path), JN_EXIT_USAGE;
    if (!same)
        return jn_fail("%s %s holds a sweep of another spec (%s differs from %s): choose another %s, or "
                       "remove %s to change the study (run folders of unchanged configurations are reused)",
                       option, dir, path, spec->path, option, path), JN_EXIT_USAGE;
    return 0;
}

/* A DIR/runs that is no folder refuses every sweep and merge on DIR: status says so up front,
 * where it counted every configuration pending and said to rerun the sweep; a merge from DIR
 * (RUNS_SOURCE) too, where it copied nothing from it and succeeded; a merge into it
 * (RUNS_DEST) in as full a line, where it said only 'DIR/runs: not a folder'. 0, or -1
 * (recorded). */
enum { RUNS_HERE, RUNS_SOURCE, RUNS_DEST };

static int runs_folder(const char *dir, int role)
{
    char runs[JN_PATH_MAX + 32];
    struct stat st;
    if (jn_path_join(runs, sizeof runs, dir, "runs"))
        return -1;
    if (stat(runs, &st) != 0 || S_ISDIR(st.st_mode))
        return 0;
    if (role == RUNS_SOURCE)
        return jn_fail("merge: %s: not a folder, so %s has no runs to merge; move it away, then run its sweep again",
                       runs, dir);
    if (role == RUNS_DEST)
        return jn_fail("merge: %s: not a folder, so nothing can be merged into %s; move it away, then merge again",
                       runs, dir);
    return jn_fail("%s: not a folder, so a sweep or merge on %s is refused; move it away, then run the sweep again",
                   runs, dir);
}

/* The sweep folder: created, with the spec's text kept in sweep.spec (the same spec only).
 * sweep.spec is created only where it does not exist, so that of sweeps of two specs started
 * at once on a new folder one is refused. 0, or the exit status (another spec, a file, a run's
 * folder: a usage error); with check, nothing is written: what would be refused is (--dry-run).
 * `option` is how the user gave dir ("--out" for a sweep's option, NULL for merge's argument). */
static int prepare_folder(const char *option, const char *dir, const jn_spec *spec, int check)
{
    char path[JN_PATH_MAX + 32], runs[JN_PATH_MAX + 32];
    if (jn_out_folder_check(option, dir, 1))
        return JN_EXIT_USAGE;
    if (jn_path_join(path, sizeof path, dir, "sweep.spec") || jn_path_join(runs, sizeof runs, dir, "runs"))
        return JN_EXIT_ERROR;
    /* Every sweep and merge writes there, sweep.spec's temporary file first: refused up front,
     * that write's error named DIR/sweep.spec.HOST.PID.tmp, not the folder. */
    if (access(dir, F_OK) == 0 && access(dir, W_OK | X_OK) != 0)
        return jn_fail("%s%s%s: cannot write in the folder (%s)", option ? option : "", option ? " " : "", dir,
                       strerror(errno)), JN_EXIT_ERROR;
    if (runs_folder(dir, option ? RUNS_HERE : RUNS_DEST)) {
        if (option)
            jn_fail_option(option, dir);
        return JN_EXIT_ERROR;
    }
    if (check)
        return access(path, F_OK) == 0 ? same_spec(option, dir, path, spec) : 0;
    if (jn_mkdirs(runs)) {  /* named as train names its --out: 'DIR/runs: cannot create folder' named no option */
        if (option)
            jn_fail_option(option, dir);
        return JN_EXIT_ERROR;
    }
    /* The temporary files of the folder's shared files (results.csv, sweep.spec, slurm-array)
     * are each writer's own: those of killed writers would pile up there for ever. */
    jn_tmp_sweep(dir);
    const int rc = jn_write_file_new(path, spec->text, strlen(spec->text));
    if (rc <= 0)
        return rc ? JN_EXIT_ERROR : 0;
    return same_spec(option, dir, path, spec);
}

/* One line naming the failed configurations: the first few by id (the table printed above has
 * each with its message), so that a sweep whose every run failed does not print kilobytes; and
 * how to retry them (`how`: in a Slurm job, resubmitting it, not rerunning its command by
 * hand). How many failed. */
enum { NAMED_FAILURES = 10 };

static int report_failures(const jn_plan *plan, const char *dir, const unsigned char *mine, const jn_run_row *rows,
                           const char *how)
{
    int failed = 0;
    for (int i = 0; i < plan->n_entries; i++) {
        if (!mine[i] || strcmp(rows[i].status, "failed"))
            continue;
        if (failed++ < NAMED_FAILURES)
            jn_print(stderr, "%s %s", failed > 1 ? "" : "jacnoise: sweep: failed:", plan->entries[i].id);
    }
    char word[JN_SHELL_WORD_CAP(JN_PATH_MAX)];
    if (failed > NAMED_FAILURES)
        jn_print(stderr, " and %d more (%d configurations; jacnoise sweep status %s lists them and why; once that is "
                         "fixed, %s)\n", failed - NAMED_FAILURES, failed, jn_shell_word(word, sizeof word, dir), how);
    else if (failed)
        fprintf(stderr, " (%d configuration%s; the table above says why; once that is fixed, %s)\n", failed,
                failed > 1 ? "s" : "", how);
    return failed;
}

/* Whether this process is a Slurm batch job's (sbatch sets ENVIRONMENT=BATCH), where "run the
 * command again" would have the user run the job's work by hand, on a login node. */
static int batch_job(void)
{
    const char *environment = getenv("ENVIRONMENT");
    return getenv("SLURM_JOB_ID") && environment && !strcmp(environment, "BATCH");
}

/* Whether a list of tasks as sbatch --array takes them ("3", "0-2,5") names more than one. */
static int several_tasks(const char *tasks) { return strpbrk(tasks, ",-") != NULL; }

/* How a stopped sweep continues: in a job array, by resubmitting `tasks` (a list as sbatch
 * --array takes it; `this_task`: the task saying it); in a plain batch job, by resubmitting it;
 * else by running the command again. */
static void continue_words(char *out, size_t cap, const char *tasks, int this_task)
{
    if (tasks)
        snprintf(out, cap, "to continue, resubmit %s: sbatch --array=%s with the same script and arguments",
                 this_task ? "this array task" : several_tasks(tasks) ? "those array tasks" : "that array task", tasks);
    else if (this_task && batch_job())
        snprintf(out, cap, "to continue, resubmit this job: sbatch with the same script and arguments");
    else
        snprintf(out, cap, "run the same sweep command again to continue");
}

/* The spec's configurations that the plan trains as others (hidden = [500,500], a grid of one
 * width given twice, where two layers were meant, is one configuration: said before it trains). */
static void say_merged(const char *dir, const jn_plan *plan)
{
    const int n = plan->n_entries + plan->n_repeats;
    /* Only the reasons that apply: "jac-proj for hidden1" read where the spec set no jac-proj. */
    const unsigned why = plan->reset_why;
    if (plan->n_reset)
        jn_print(stdout, "sweep %s: %d of the spec's %d configuration%s set%s options that change nothing (%s%s%s): "
                 "%s with the defaults\n", dir, plan->n_reset, n, n == 1 ? "" : "s", plan->n_reset == 1 ? "s" : "",
                 why & JN_PLAN_RESET_NO_PENALTY ? "the penalty's at jac-lambda 0" : "",
                 why == (JN_PLAN_RESET_NO_PENALTY | JN_PLAN_RESET_HIDDEN1_PROJ) ? ", " : "",
                 why & JN_PLAN_RESET_HIDDEN1_PROJ ? "jac-proj for hidden1" : "",
                 plan->n_reset == 1 ? "it trains" : "they train");
    if (plan->n_repeats)
        jn_print(stdout, "sweep %s: %d of the spec's %d configurations %s another and %s not trained again\n",
                 dir, plan->n_repeats, n, plan->n_repeats == 1 ? "repeats" : "repeat",
                 plan->n_repeats == 1 ? "is" : "are");
}

/* The workers that train at once: --jobs, or fewer where fewer configurations are left. */
static int workers_for(int jobs, int left)
{
    return jobs < left ? jobs : left > 1 ? left : 1;
}

/* The BLAS threads of CPU runs (of the configurations in mine, NULL: all), over the workers
 * that train at once, warned of where they crowd the CPUs. Only where the device is the CPU
 * without asking the CUDA runtime: initialised here, it would not work in the workers forked
 * after. */
static void blas_threads(const jn_plan *plan, const unsigned char *mine, int workers)
{
    jn_config entry;
    for (int i = 0; i < plan->n_entries; i++)
        if (!mine || mine[i]) {
            jn_plan_config(plan, i, &entry);
            if (entry.device == JN_DEVICE_CPU || (entry.device == JN_DEVICE_AUTO && !jn_cuda_built()))
                jn_backend_threads(JN_DEVICE_CPU, entry.threads, workers);
            return;
        }
}

/* Whether every member of group g in this process's part (part[e] == index: jn_plan_deal's
 * parts, as the sweep deals them) is done (finished, early-stopped or diverged): a rerun
 * trains none of them. */
static int group_done(const jn_plan *plan, int g, const int *part, int index)
{
    jn_run_row row;
    for (int k = 0; k < plan->groups[g].n_members; k++) {
        const int e = plan->groups[g].members[k];
        if (part[e] != index)
            continue;
        jn_results_row(plan, e, &row);
        if (!row.done)
            return 0;
    }
    return 1;
}

/* Every data set the configurations read is found and its files open: a --data-dir misspelt
 * or a file missing failed each configuration in turn, each leaving a failed run folder. A
 * group's members read the same data (its options are group keys): one check a group, a few
 * system calls. A group whose members in this shard are all done reads none (a finished
 * sweep, shard or job array task rerun where its data is not, to read or merge its results,
 * was refused; a shard's folder shows the other shards' members pending): its folders are
 * read, and the shard dealt, only where its data is missing. 0, or the exit status. */
static int data_check(const jn_config *cfg, const jn_plan *plan)
{
    jn_config c;
    int *part = NULL, index, count, code = 0;
    long array_task;
    for (int g = 0; g < plan->n_groups && !code; g++) {
        jn_plan_config(plan, plan->groups[g].members[0], &c);
        const jn_data_request req = {.data = c.data, .test = c.test, .data_dir = c.data_dir};
        if (jn_data_check_files(&req)) {
            char why[JN_ERROR_MAX];  /* reading the group's folders can record errors of their own */
            snprintf(why, sizeof why, "%s", jn_last_error());
            if (!part) {
                if ((code = shard_of(cfg, 0, &index, &count, &array_task)))
                    break;
                if (!(part = malloc(sizeof *part * (size_t)plan->n_entries))) {
                    code = (jn_fail("out of memory"), JN_EXIT_ERROR);
                    break;
                }
                jn_plan_deal(plan, NULL, count, part);
            }
            if (!group_done(plan, g, part, index))
                code = (jn_fail("sweep: %s", why), JN_EXIT_ERROR);  /* escaped text, which escaping again keeps */
        }
    }
    free(part);
    return code;
}

static int run_sweep(const jn_config *cfg, jn_plan *plan)
{
    int index, count, code;
    long array_task;
    /* Checked before the folder is made, so that the usage error leaves none behind; shard_of
     * reads the job array again once the folder can hold its record. */
    long task, tasks, first, stride;
    if (!cfg->shard_count && slurm_task(cfg->out, &task, &tasks, &first, &stride) < 0)
        return fail_now(JN_EXIT_USAGE);
    /* No device, or tf32 where --device auto falls back to the CPU, would fail every
     * configuration (of that precision) the same way before it trains: said once, nothing
     * written (the device is one for all: it cannot be swept). */
    jn_config entry;
    if (plan->n_entries)
        jn_plan_config(plan, 0, &entry);
    double gpu_free = 0;  /* read before the workers hold any: each budget is a share of it */
    const int probe = plan->n_entries && cfg->jobs > 1 && entry.device != JN_DEVICE_CPU && jn_cuda_built();
    if (plan->n_entries && jn_sweep_device_check(entry.device, plan->tf32, probe ? &gpu_free : NULL))
        return fail_now(JN_EXIT_ERROR);
    /* A data set not found would fail every configuration alike too: said once, nothing
     * written; after what is wrong with --out (a usage error, checked writing nothing), which it
     * would hide. */
    if ((code = prepare_folder("--out", cfg->out, &plan->spec, 1)))
        return fail_now(code);
    if ((code = data_check(cfg, plan)))
        return fail_now(code);
    if (cfg->dry_run) {  /* what a sweep checks before it writes anything: all of it passed */
        /* The sweep's warning of crowded CPUs, its workers counted as if none of its runs were done. */
        blas_threads(plan, NULL, workers_for(cfg->jobs, plan->n_entries));
        say_merged(cfg->out, plan);
        jn_print(stdout, "sweep %s: %d configuration%s in %d group%s; spec and options checked, nothing written "
                 "(--dry-run)\n", cfg->out, plan->n_entries, plan->n_entries == 1 ? "" : "s", plan->n_groups,
                 plan->n_groups == 1 ? "" : "s");
        return 0;
    }
    code = prepare_folder("--out", cfg->out, &plan->spec, 0);
    if (!code)
        code = shard_of(cfg, 1, &index, &count, &array_task);
    if (!code && array_task < 0 && record_shard(cfg->out, index, count))
        code = JN_EXIT_ERROR;
    /* A sweep now runs on a folder a merge made: rerunning it is how it continues. */
    char merged[JN_PATH_MAX + 32];
    if (!code && (jn_path_join(merged, sizeof merged, cfg->out, "merged") ||
                  (unlink(merged) && errno != ENOENT && jn_fail("%s: cannot remove: %s", merged, strerror(errno)))))
        code = JN_EXIT_ERROR;
    if (code)
        return fail_now(code);
    const int n = plan->n_entries;
    unsigned char *mine = calloc((size_t)(n ? n : 1), 5);
    int *part = malloc(sizeof *part * (size_t)(n ? n : 1));
    front f = {.plan = plan, .dir = cfg->out, .mine = mine, .start = jn_wall_seconds(), .dirty = 1,
               .sized = cfg->models == 0, .told = calloc((size_t)plan->n_groups + 1, 1)};
    /* A DIR/shards that cannot be read is said before the sweep trains, not after. */
    if (!mine || !part || !f.told || jn_results_open(&f.table, plan, 1) ||
        shards_here(plan, cfg->out, f.table.rows, mine + 4 * n)) {
        if (!mine || !part || !f.told)
            jn_fail("out of memory");
        jn_results_close(&f.table);
        free(mine);
        free(part);
        free(f.told);
        return fail_now(JN_EXIT_ERROR);
    }
    f.active = mine + n;
    f.reported = mine + 2 * n;
    unsigned char *here = mine + 4 * n;  /* not another shard's folder's */
    /* What is left to train is dealt to the workers, not the whole shard: dealt with the runs a
     * rerun skips, the ones left could all fall to one worker while the others idled. */
    unsigned char *todo = mine + 3 * n;
    jn_plan_deal(plan, NULL, count, part);
    int done = 0;
    for (int i = 0; i < n; i++)
        if ((mine[i] = part[i] == index)) {
            f.total++;
            done += f.table.rows[i].done;
            todo[i] = !f.table.rows[i].done;
        }
    const int workers = workers_for(cfg->jobs, f.total - done);
    f.workers = workers;
    jn_backend_share_memory(workers, gpu_free);
    blas_threads(plan, mine, workers);
    /* From its first line on, a closed standard output (sweep | head) stops the sweep as
     * SIGTERM does, where SIGPIPE killed it silently, leaving runs marked running; the
     * workers inherit the handler, as the stop is forwarded to them. */
    jn_train_catch_broken_pipe();
    char models[16];
    jn_config_get(cfg, "models", models, sizeof models);
    say_merged(cfg->out, plan);
    jn_print(stdout,
             "sweep %s: %d configuration%s in %d group%s; shard %d/%d: %d of them, %d done; %d worker%s, --models %s\n",
             cfg->out, n, n == 1 ? "" : "s", plan->n_groups, plan->n_groups == 1 ? "" : "s", index, count, f.total,
             done, workers, workers > 1 ? "s" : "", models);
    jn_stdout_flush();
    f.done = done;
    jn_progress_init(&f.progress, cfg->progress);
    front_flush(&f);
    /* How a stop (scancel, a time limit in a Slurm job) continues, or failed configurations are
     * retried: said by the runs it interrupts and by the sweep's last line, in the same words. */
    char how[160], this_task[24];
    snprintf(this_task, sizeof this_task, "%ld", array_task);
    continue_words(how, sizeof how, array_task >= 0 ? this_task : NULL, 1);
    const jn_sweep_report report = {&f, front_planned, front_began, front_stepped, front_ended, front_flush, how};
    /* The rows were read above: the workers' first groups need not read their folders again. */
    code = workers > 1 ? jn_sweep_workers(plan, todo, f.table.rows, workers, &report)
                       : jn_sweep_work(plan, todo, f.table.rows, &report);
    /* The errors said after the table, kept from the reads before it, which record their own (a
     * damaged run's metrics.jsonl, read again for its row and its line; a DIR/merged unread). */
    char failed[JN_ERROR_MAX], unshared[JN_ERROR_MAX] = "";
    snprintf(failed, sizeof failed, "%s", jn_last_error());
    front_reread(&f, 1);  /* the end's table and results.csv say what every folder says now */
    f.dirty = 1;
    f.writing = 0;
    front_flush(&f);
    jn_progress_clear(&f.progress);
    const int apart = shards_here(plan, cfg->out, f.table.rows, here);  /* those run since are here */
    if (apart)
        snprintf(unshared, sizeof unshared, "%s", jn_last_error());
    jn_merged sources = {0};
    jn_results_print(plan, cfg->out, f.table.rows, apart ? NULL : here, &sources, stdout);
    jn_results_merged_free(&sources);
    jn_stdout_flush();
    if (apart)
        fprintf(stderr, "jacnoise: sweep: %s\n", unshared);
    const char *stopped = jn_train_stop_words(code, jn_train_stop_signal());
    if (stopped) {
        jn_print(stderr, "jacnoise: sweep %s; %s\n", stopped, how);
    } else if (report_failures(plan, cfg->out, mine, f.table.rows, how))
        code = JN_EXIT_ERROR;
    else if (code == JN_EXIT_ERROR)
        fprintf(stderr, "jacnoise: sweep: %s\n", failed);
    /* Said above: DIR/shards unread (set before the lines above, it had its error said twice), or
     * results.csv not the run folders' (a script would read it). */
    if (!code && (apart || f.stale))
        code = JN_EXIT_ERROR;
    jn_results_close(&f.table);
    free(mine);
    free(part);
    free(f.told);
    return code;
}

/* A refusal of the spec, of reading it or of its content, named by its option as --config's file's
 * is ("--config FILE: line N: ..."): it read "FILE: line N: ...". One naming another thing is kept. */
static int spec_refused(const jn_config *cfg)
{
    if (jn_error_names(cfg->spec))
        jn_fail_option("--spec", cfg->spec);
    return fail_now(JN_EXIT_USAGE);
}

int jn_sweep_run(const jn_config *cfg)
{
    jn_spec spec;
    jn_plan plan;
    if (jn_spec_load(cfg->spec, 0, &spec)) {
        jn_spec_free(&spec);
        return spec_refused(cfg);
    }
    if (jn_plan_make(&spec, cfg, cfg->out, &plan)) {
        jn_plan_free(&plan);
        return spec_refused(cfg);
    }
    int code = run_sweep(cfg, &plan);
    jn_plan_free(&plan);
    return code;
}


/* The spec of a sweep folder: 0, or the exit status (recorded): a folder named that is none, a
 * usage error as is a sweep's --out naming a file; one whose sweep.spec cannot be read. */
static int load_spec(const char *dir, jn_spec *spec)
{
    char path[JN_PATH_MAX + 32];
    memset(spec, 0, sizeof *spec);
    if (jn_path_join(path, sizeof path, dir, "sweep.spec"))
        return JN_EXIT_ERROR;
    struct stat st;
    if (access(path, F_OK) != 0) {  /* a folder misspelt, or a file, is no folder without a sweep.spec */
        int why = errno;
        const int found = stat(dir, &st) == 0;
        why = found ? why : errno;
        /* A folder this user may not look in (or reach) is not said to be missing or to lack it. */
        if (why != ENOENT && why != ENOTDIR && (!found || S_ISDIR(st.st_mode)))
            return jn_fail("%s: cannot open: %s", found ? path : dir, strerror(why)), JN_EXIT_ERROR;
        if (!found)
            return jn_fail("%s: not a sweep folder: %s", dir, strerror(why)), JN_EXIT_USAGE;
        return jn_fail(S_ISDIR(st.st_mode) ? "%s: not a sweep folder (no sweep.spec)"
                                           : "%s: not a sweep folder: it is a file, not a folder", dir), JN_EXIT_USAGE;
    }
    return jn_spec_load(path, JN_CONFIG_STORED, spec) ? JN_EXIT_ERROR : 0;
}

/* DIR/merged: the folders merged into a folder a merge made (fresh), one a line, before any is
 * copied (a merge stopped half-way made it too); status names them to continue. A relative one
 * is recorded joined to the merge's working folder: as given, it named no folder to a status run
 * from another. 0, or -1 (recorded). */
static int record_merged(const char *dir, const char *const *sources, int n_sources, int fresh)
{
    char cwd[PATH_MAX] = "";
    int rc = 0;
    for (int s = 0; s < n_sources && !rc; s++) {
        const char *source = sources[s];
        if (source[0] != '/' && !cwd[0] && !getcwd(cwd, sizeof cwd))
            return jn_fail("merge: %s: cannot record it in %s/merged: the working folder cannot be read: %s", source,
                           dir, strerror(errno));
        const size_t cap = strlen(cwd) + strlen(source) + 3;
        char *line = malloc(cap);
        rc = !line ? jn_fail("out of memory for the merged folders")
                   : jn_path_join(line, cap, source[0] == '/' ? NULL : cwd, source) ||
                     record_line(dir, "merged", strcat(line, "\n"), fresh);
        free(line);
    }
    return rc;
}

/* What a merge writes before it copies: the folder made (its sweep.spec), DIR/merged. */
typedef struct {
    const char *dir;
    const jn_spec *spec;
    const char *const *sources;
    int n_sources, fresh;
    int code;  /* the exit status where the folder is refused */
} merge_folder;

/* Called once nothing refuses the merge (a source run locked): a refused merge into a new
 * folder made it, with sweep.spec, merged and an empty runs, whose status then read as a sweep
 * with every configuration pending; into an existing one, it added to its DIR/merged. */
static int make_merge_folder(void *ctx)
{
    merge_folder *m = ctx;
    m->code = prepare_folder(NULL, m->dir, m->spec, 0);
    return m->code || record_merged(m->dir, m->sources, m->n_sources, m->fresh);
}

int jn_sweep_merge(const char *dir, const char *const *sources, int n_sources)
{
    char path[JN_PATH_MAX + 32];
    jn_spec spec, other;
    jn_plan plan = {0};
    /* The spec: dir's own, else the first source's; every source must have the same. */
    if (jn_path_join(path, sizeof path, dir, "sweep.spec"))
        return JN_EXIT_ERROR;
    const int fresh = access(path, F_OK) != 0;  /* the merge makes the folder: DIR/merged records it */
    /* A folder that is none, or of another spec: a usage error, as a sweep's --out is. */
    int code = load_spec(!fresh || !n_sources ? dir : sources[0], &spec);
    for (int s = 0; s < n_sources && !code; s++) {
        code = load_spec(sources[s], &other);
        if (!code && !jn_spec_same(&other, &spec))
            code = (jn_fail("merge: %s is a sweep of another spec than %s", sources[s], spec.path), JN_EXIT_USAGE);
        else if (!code && runs_folder(sources[s], RUNS_SOURCE))
            code = JN_EXIT_ERROR;
        jn_spec_free(&other);
    }
    code = code ? code : prepare_folder(NULL, dir, &spec, 1);  /* what it refuses, with nothing written */
    jn_results t = {0};
    unsigned char *here = NULL;
    merge_folder made = {dir, &plan.spec, sources, n_sources, fresh, 0};  /* the plan takes the spec over */
    int rc = code || jn_plan_make(&spec, NULL, dir, &plan) || jn_results_open(&t, &plan, 0) ||
             jn_results_merge(&t, dir, sources, n_sources, make_merge_folder, &made) || jn_results_save(&t, dir);
    code = code ? code : made.code;
    if (!rc && !(here = malloc((size_t)(plan.n_entries ? plan.n_entries : 1))))
        rc = jn_fail("out of memory for the rows of %d configurations", plan.n_entries);
    jn_merged merged = {0};
    if (!rc && !(rc = shards_here(&plan, dir, t.rows, here)))
        jn_results_print(&plan, dir, t.rows, here, &merged, stdout);
    jn_results_merged_free(&merged);
    free(here);
    jn_results_close(&t);
    jn_spec_free(&spec);
    jn_plan_free(&plan);
    return code ? code : rc ? JN_EXIT_ERROR : JN_EXIT_OK;
}

/* The tasks of a job array (first, step stride) whose flag in left[tasks] is set, as sbatch
 * --array takes them ("0-2,5,9-21:3"), in b, NUL-terminated. */
static void task_list(const unsigned char *left, long tasks, long first, long stride, jn_buf *b)
{
    for (long t = 0; t < tasks; t++) {
        if (!left[t])
            continue;
        long u = t;
        while (u + 1 < tasks && left[u + 1])
            u++;
        char range[96];
        int len = u == t ? snprintf(range, sizeof range, "%s%ld", b->len ? "," : "", first + t * stride)
                         : snprintf(range, sizeof range, "%s%ld-%ld", b->len ? "," : "", first + t * stride,
                                    first + u * stride);
        if (u > t && stride > 1)
            len += snprintf(range + len, sizeof range - (size_t)len, ":%ld", stride);
        jn_buf_put(b, range, (size_t)len);
        t = u;
    }
    jn_buf_put(b, "", 1);
}

/* How a sweep folder without a job array continues: by running its sweep again; but where
 * only merges wrote it (DIR/merged names their sources), by rerunning the sweeps of the folders
 * merged, then merging again: no sweep command ran on it to run again. 0, or -1 (recorded). */
static int print_merged_continue(const char *dir, jn_merged *merged, int unfinished, const char *fix)
{
    char path[JN_PATH_MAX + 32], how[160];
    if (jn_path_join(path, sizeof path, dir, "merged") || jn_results_merged(dir, merged))
        return -1;
    if (!merged->words.len) {  /* no merge recorded: a sweep's folder */
        continue_words(how, sizeof how, NULL, 0);
        jn_print(stdout, "unfinished: %d configuration%s%s; once no sweep trains them, %s\n", unfinished,
                 unfinished > 1 ? "s" : "", fix, how);
        return 0;
    }
    char word[JN_SHELL_WORD_CAP(JN_PATH_MAX)];
    jn_print(stdout, "unfinished: %d configuration%s%s; a merge made this folder (%s names the folders merged): "
             "once no sweep trains them, rerun those folders' sweeps (jacnoise sweep status FOLDER says how), "
             "then merge again: jacnoise sweep merge %s%s\n", unfinished, unfinished > 1 ? "s" : "", fix, path,
             jn_shell_word(word, sizeof word, dir), (const char *)merged->words.data);
    return 0;
}

/* After status's table, where configurations of the folder (here[n_entries]: not other shards')
 * are unfinished: how the sweep continues; in a job array's folder (DIR/slurm-array), which of
 * its tasks to resubmit, those of a cancelled array that never started included, which left no
 * log to say so. */
static int print_continue(const jn_plan *plan, const char *dir, const jn_run_row *rows, const unsigned char *here,
                          jn_merged *merged)
{
    const int n = plan->n_entries;
    int unfinished = 0, failed = 0, damaged = 0;
    for (int i = 0; i < n; i++) {
        unfinished += !rows[i].done && here[i];
        failed += here[i] && !strcmp(rows[i].status, "failed");
        damaged += here[i] && !rows[i].done && rows[i].damaged && strcmp(rows[i].status, "failed");
    }
    if (!unfinished)
        return 0;
    /* A rerun tries a failed configuration again, which fails the same way until what its
     * line says is fixed: the sweep's own end says so, as status does. An unfinished run whose
     * metrics.jsonl is damaged fails so too, its resume refusing that file: "run the same
     * sweep command again to continue" alone sent its user into that failure. */
    char path[JN_PATH_MAX + 32], how[160], fix[192] = "";
    int at = 0;
    if (failed)
        at = snprintf(fix, sizeof fix, " (%d failed: fix what the failed line%s above say%s first", failed,
                      failed > 1 ? "s" : "", failed > 1 ? "" : "s");
    if (damaged)
        at += snprintf(fix + at, sizeof fix - (size_t)at, "%s%d damaged, which a rerun fails: do what the damaged "
                       "line%s above say%s first", at ? "; " : " (", damaged, damaged > 1 ? "s" : "",
                       damaged > 1 ? "" : "s");
    if (at)
        snprintf(fix + at, sizeof fix - (size_t)at, ")");
    long first, stride, tasks;
    const int array = jn_path_join(path, sizeof path, dir, "slurm-array") ? -1
                      : array_record(path, &first, &stride, &tasks);
    if (array < 0)
        return -1;
    if (!array)
        return print_merged_continue(dir, merged, unfinished, fix);
    int *part = malloc(sizeof *part * (size_t)(n ? n : 1));
    unsigned char *left = calloc((size_t)tasks, 1);
    jn_buf list = {0};
    char *words = NULL;
    int rc = !part || !left ? jn_fail("out of memory for the array's %ld tasks", tasks) : 0;
    if (!rc) {
        jn_plan_deal(plan, NULL, (int)tasks, part);
        for (int i = 0; i < n; i++)
            left[part[i]] |= !rows[i].done && here[i];
        task_list(left, tasks, first, stride, &list);
        rc = jn_buf_ok(&list, "the array's tasks");
    }
    if (!rc && !(words = malloc(list.len + sizeof how)))
        rc = jn_fail("out of memory for the array's tasks");
    if (!rc) {
        continue_words(words, list.len + sizeof how, (const char *)list.data, 0);
        jn_print(stdout, "unfinished: %d configuration%s%s, of array task%s %s of the array %s records (a task "
                 "cancelled before it started left no log); once none of them runs, %s\n", unfinished,
                 unfinished > 1 ? "s" : "", fix, several_tasks((const char *)list.data) ? "s" : "",
                 (const char *)list.data, path, words);
    }
    free(part);
    free(left);
    free(words);
    jn_buf_free(&list);
    return rc;
}

int jn_sweep_status(const char *dir)
{
    jn_spec spec;
    jn_plan plan = {0};
    jn_run_row *rows = NULL;
    unsigned char *here = NULL;
    const int code = load_spec(dir, &spec);
    int rc = code || runs_folder(dir, RUNS_HERE) || jn_plan_make(&spec, NULL, dir, &plan);
    const size_t n = (size_t)(plan.n_entries ? plan.n_entries : 1);
    if (!rc && (!(rows = calloc(n, sizeof *rows)) || !(here = malloc(n))))
        rc = jn_fail("out of memory for the rows of %d configurations", plan.n_entries);
    for (int i = 0; !rc && i < plan.n_entries; i++)
        jn_results_row(&plan, i, &rows[i]);
    rc = rc || shards_here(&plan, dir, rows, here);
    jn_merged merged = {0};  /* read once, for the lines of the three that need it */
    if (!rc) {
        jn_results_print(&plan, dir, rows, here, &merged, stdout);
        jn_results_print_running(&plan, rows, &merged, stdout);
        jn_stdout_flush();
        rc = print_continue(&plan, dir, rows, here, &merged);
    }
    jn_results_merged_free(&merged);
    free(rows);
    free(here);
    jn_spec_free(&spec);
    jn_plan_free(&plan);
    return code ? code : rc ? JN_EXIT_ERROR : JN_EXIT_OK;
}
