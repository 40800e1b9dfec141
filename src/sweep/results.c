/* Rows from run folders, results.csv, the status table, merging (results.h). */
#include "sweep/results.h"
#include "core/fileio.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/error.h"
#include "train/metrics.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* The files of a run folder in the order a copy stopped half-way leaves one a resume ends
 * right: the metrics and best.ckpt before last.ckpt (a resume trims metrics past it, and
 * writes again the same best.ckpt; one older than last.ckpt it would keep), the summary last
 * (an unfinished run). */
static const char *const run_files[] = {"config.txt", "metrics.jsonl", "best.ckpt", "last.ckpt", "summary.json"};
#define N_RUN_FILES (int)(sizeof run_files / sizeof run_files[0])

static int is_folder(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether the plan's sweep folder is a job array's (DIR/slurm-array): its runs go on by their
 * tasks resubmitted, which status's unfinished line names; the sweep command run again by hand
 * trains the whole sweep there. */
static int job_array_folder(const jn_plan *plan)
{
    char path[JN_PATH_MAX + 32];
    return !jn_path_join(path, sizeof path, plan->dir, "slurm-array") && access(path, F_OK) == 0;
}

/* DIR/merged's words (jn_merged) into *words: 0, or -1 (recorded, *words freed). */
static int merged_sources(const char *dir, jn_buf *words)
{
    char path[JN_PATH_MAX + 32];
    unsigned char *data = NULL;
    size_t len = 0;
    memset(words, 0, sizeof *words);
    if (jn_path_join(path, sizeof path, dir, "merged") || (access(path, F_OK) == 0 && jn_read_file(path, &data, &len)))
        return -1;
    /* blank lines (added by hand) name none */
    for (size_t at = 0, end; at < len; at = end + 1) {
        const unsigned char *nl = memchr(data + at, '\n', len - at);  /* the file's bytes end with no NUL */
        end = nl ? (size_t)(nl - data) : len;
        size_t first = at;
        while (first < end && isspace(data[first]))
            first++;
        if (first == end)
            continue;
        char *name = strndup((const char *)data + at, end - at), *word = malloc(JN_SHELL_WORD_CAP(end - at));
        if (name && word) {
            jn_buf_put(words, " ", 1);
            jn_shell_word(word, JN_SHELL_WORD_CAP(end - at), name);
            jn_buf_put(words, word, strlen(word));
        } else {
            words->oom = 1;
        }
        free(name);
        free(word);
    }
    free(data);
    if (words->len)
        jn_buf_put(words, "", 1);
    if (!jn_buf_ok(words, "the merged folders"))
        return 0;
    jn_buf_free(words);
    return -1;
}

int jn_results_merged(const char *dir, jn_merged *m)
{
    if (!m->read) {
        m->read = 1;
        if ((m->rc = merged_sources(dir, &m->words)))
            snprintf(m->error, sizeof m->error, "%s", jn_last_error());
    }
    return m->rc ? jn_fail("%s", m->error) : 0;  /* escaped text, which escaping again keeps */
}

void jn_results_merged_free(jn_merged *m) { jn_buf_free(&m->words); }

/* How the folder's unfinished runs go on: in a job array's folder (ARRAY) by their tasks
 * resubmitted; in one only merges made (MERGED: DIR/merged names folders; a sweep run there
 * removes it), where no sweep ran to run again (status said "the sweep run again" there too), by
 * the merged folders' sweeps rerun, then a merge that copies their runs further along over these,
 * as status's unfinished line says; else (SWEPT) by the sweep run again. A DIR/merged that cannot
 * be read is none here: the unfinished line says why. */
enum { SWEPT, ARRAY, MERGED };
static int folder_kind(const jn_plan *plan, jn_merged *merged)
{
    if (job_array_folder(plan))
        return ARRAY;
    return !jn_results_merged(plan->dir, merged) && merged->words.len ? MERGED : SWEPT;
}

/* The merge's words in a MERGED folder, where no sweep resumes or fails a run. */
#define MERGED_RERUN "rerunning the merged folders' sweeps, then merging again, as the unfinished line below says, "

/* Reads the metrics.jsonl at path into *m and *epochs (none where there is no file): -1
 * (recorded) where it cannot be read, or holds fewer whole lines than the epochs the row's
 * summary.json or, for an unfinished run, last.ckpt says were done (a line cut, or removed:
 * a rerun fails the run for them); the lines read (before a line refused) are kept then, so
 * that an unfinished run is ranked by them as a finished one is by its summary.json. */
static int read_metrics(const char *path, const jn_run_row *row, jn_epoch_metrics **m, int *epochs)
{
    const int there = access(path, F_OK) == 0, by_checkpoint = row->checkpoint_epochs > row->ended_epochs;
    const int ended = by_checkpoint ? row->checkpoint_epochs : row->ended_epochs;
    char held[48] = "missing";
    *m = NULL;
    *epochs = 0;
    if (there && jn_metrics_read(path, m, epochs))
        return -1;
    if (*epochs >= ended)
        return 0;
    if (there)
        snprintf(held, sizeof held, "%d whole epoch line%s", *epochs, *epochs == 1 ? "" : "s");
    return jn_fail("%s: %s, where its %s says %d epoch%s done: lines were cut or removed", path, held,
                   by_checkpoint ? "last.ckpt" : "summary.json", ended, ended == 1 ? " was" : "s were");
}

/* The epochs an unfinished run's last.ckpt has done and its steps, from its header (0: none, or
 * unreadable, which the run's resume reports). */
static void checkpoint_position(const char *folder, jn_run_row *row, uint64_t *steps)
{
    char path[JN_PATH_MAX + 32];
    jn_checkpoint ck = {0};
    if (!jn_path_join(path, sizeof path, folder, "last.ckpt") && access(path, F_OK) == 0 &&
        !jn_checkpoint_read_header(path, &ck)) {
        row->checkpoint_epochs = ck.state.epoch;
        *steps = ck.state.global_step;
    }
    jn_checkpoint_free(&ck);
}

static int is_done(const char *status)
{
    return !strcmp(status, "finished") || !strcmp(status, "early-stopped") || !strcmp(status, "diverged");
}

/* Reads the row of the run folder `folder`: -1 (error recorded, and in the row's message)
 * where a file's path in it does not fit, since a cut path names no file and the run would read
 * as one just started. */
static int read_row(const char *folder, jn_run_row *row)
{
    memset(row, 0, sizeof *row);
    row->valid_error = row->test_error = row->penalty = NAN;
    snprintf(row->status, sizeof row->status, "pending");
    if (!is_folder(folder))
        return 0;
    snprintf(row->status, sizeof row->status, "running");
    char path[JN_PATH_MAX + 32], summary[JN_PATH_MAX + 32], last[JN_PATH_MAX + 32];
    if (jn_path_join(path, sizeof path, folder, "metrics.jsonl") ||
        jn_path_join(summary, sizeof summary, folder, "summary.json") ||
        jn_path_join(last, sizeof last, folder, "last.ckpt")) {
        snprintf(row->message, sizeof row->message, "%s", jn_last_error());
        return -1;
    }
    jn_summary_file s;
    const int summarised = access(summary, F_OK) == 0, read = summarised && jn_summary_read(summary, &s) == 0;
    if (summarised && !read) {  /* damaged: its run neither trains nor ended as it says (it was counted running) */
        snprintf(row->status, sizeof row->status, "unreadable");
        jn_summary_unread_state(last, row->message, sizeof row->message);  /* as show says it */
    }
    row->ended_epochs = read ? s.s.epochs_done : 0;
    /* Read before metrics.jsonl, which a run still training appends each epoch's line to
     * before that epoch's checkpoint: never read ahead of the lines. */
    uint64_t saved_steps = 0;  /* a run killed before its first epoch ended has no metrics line: steps 0 */
    if (!read || !is_done(s.status))
        checkpoint_position(folder, row, &saved_steps);
    jn_epoch_metrics *m = NULL;
    int epochs = 0;
    /* A finished run's damaged metrics.jsonl read as no epochs: status counted it done, with no
     * penalty in its row and no word of why; it is said now (jn_results_print). */
    if ((row->damaged = read_metrics(path, row, &m, &epochs) != 0) && !summarised)
        snprintf(row->message, sizeof row->message, "%s", jn_last_error());
    for (int i = 0; i < epochs; i++) {
        row->seconds += m[i].seconds;
        row->steps = m[i].step;
        if (m[i].best) {
            row->best_epoch = m[i].epoch;
            row->valid_error = m[i].valid_error;
            row->test_error = m[i].test_error;
        }
    }
    row->steps = saved_steps > row->steps ? saved_steps : row->steps;
    if (read) {
        snprintf(row->status, sizeof row->status, "%s", s.status);
        snprintf(row->message, sizeof row->message, "%.*s", (int)sizeof row->message - 1, s.message);  /* its first bytes (jn_run_row) */
        /* Its best where it covers the lines read: a run failed as its resume opened it (a
         * damaged last.ckpt, its data gone) has a summary of no epochs, which left it out of the
         * ranking (and results.csv) though its metrics.jsonl holds its epochs' errors. */
        if (s.s.epochs_done >= epochs) {
            row->best_epoch = s.s.best_epoch;
            row->valid_error = s.s.best_valid_error;
            row->test_error = s.s.test_error;
        }
        row->steps = s.s.steps > row->steps ? s.s.steps : row->steps;
        if (!epochs && isfinite(s.s.seconds))
            row->seconds = s.s.seconds;
        if (s.s.device) {
            snprintf(row->backend, sizeof row->backend, "%s", s.device.backend);
            snprintf(row->device, sizeof row->device, "%s", s.device.device);
            snprintf(row->precision, sizeof row->precision, "%s", s.device.tf32 ? "tf32" : "fp32");
        }
    }
    for (int i = 0; i < epochs; i++)
        if (m[i].epoch == row->best_epoch)
            row->penalty = m[i].penalty;
    free(m);
    row->done = is_done(row->status);
    return 0;
}

/* A planned run folder's files fit (--out and the id are bounded); the message says where not. */
void jn_results_row(const jn_plan *plan, int i, jn_run_row *row)
{
    char folder[JN_PATH_MAX];
    (void)read_row(jn_plan_folder(plan, i, folder, sizeof folder), row);
}

static void put_text(jn_buf *b, const char *s) { jn_buf_put(b, s, strlen(s)); }

/* A CSV field, quoted when it holds a comma, a quote or a line break. */
static void put_field(jn_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        put_text(b, s);
        return;
    }
    jn_buf_put(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            jn_buf_put(b, "\"", 1);
        jn_buf_put(b, s, 1);
    }
    jn_buf_put(b, "\"", 1);
}

static void put_number(jn_buf *b, const char *format, double v)
{
    char text[64] = "";
    if (isfinite(v))
        snprintf(text, sizeof text, format, v);
    put_text(b, text);
}

int jn_results_open(jn_results *t, const jn_plan *plan, int read)
{
    const int n = plan->n_entries;
    memset(t, 0, sizeof *t);
    t->plan = plan;
    t->rows = calloc((size_t)(n ? n : 1), sizeof *t->rows);
    t->end = calloc((size_t)n + 1, sizeof *t->end);
    if (!t->rows || !t->end) {
        jn_results_close(t);
        return jn_fail("out of memory for the rows of %d configurations", n);
    }
    put_text(&t->fixed, "id");
    for (int c = 0; c < plan->n_columns; c++) {
        put_text(&t->fixed, ",");
        put_field(&t->fixed, plan->columns[c]);
    }
    /* Where each row trained last, after the columns older readers know: GPU rows and CPU rows
     * (shards of two clusters) are told apart. Not "precision": a spec's option column has that
     * name (the precision asked, which NVIDIA_TF32_OVERRIDE=0 can turn off). */
    put_text(&t->fixed, ",status,best_epoch,valid_error,test_error,penalty,steps,seconds,backend,device,"
             "gemm_precision\n");
    t->end[0] = t->fixed.len;
    for (int i = 0; i < n; i++) {
        jn_config cfg;
        jn_plan_spec_config(plan, i, &cfg);
        put_text(&t->fixed, plan->entries[i].id);
        for (int c = 0; c < plan->n_columns; c++) {
            char v[JN_PATH_MAX + 64];
            jn_config_get(&cfg, plan->columns[c], v, sizeof v);
            put_text(&t->fixed, ",");
            put_field(&t->fixed, v);
        }
        t->end[i + 1] = t->fixed.len;
        if (read)
            jn_results_row(plan, i, &t->rows[i]);
    }
    if (jn_buf_ok(&t->fixed, "results.csv")) {
        jn_results_close(t);
        return -1;
    }
    return 0;
}

void jn_results_close(jn_results *t)
{
    free(t->rows);
    free(t->end);
    jn_buf_free(&t->fixed);
    memset(t, 0, sizeof *t);
}

int jn_results_save(const jn_results *t, const char *dir)
{
    jn_buf b = {0};
    jn_buf_put(&b, t->fixed.data, t->end[0]);
    for (int i = 0; i < t->plan->n_entries; i++) {
        const jn_run_row *row = &t->rows[i];
        jn_buf_put(&b, t->fixed.data + t->end[i], t->end[i + 1] - t->end[i]);
        char tail[128];
        snprintf(tail, sizeof tail, ",%s,", row->status);
        put_text(&b, tail);
        put_number(&b, "%.0f", row->best_epoch ? row->best_epoch : NAN);
        put_text(&b, ",");
        put_number(&b, "%.10g", row->valid_error);
        put_text(&b, ",");
        put_number(&b, "%.10g", row->test_error);
        put_text(&b, ",");
        put_number(&b, "%.10g", row->penalty);
        snprintf(tail, sizeof tail, ",%llu,", (unsigned long long)row->steps);
        put_text(&b, tail);
        put_number(&b, "%.1f", row->seconds);
        const char *where[] = {row->backend, row->device, row->precision};
        for (int w = 0; w < 3; w++) {
            put_text(&b, ",");
            put_field(&b, where[w]);
        }
        put_text(&b, "\n");
    }
    char path[JN_PATH_MAX + 32];
    int rc = jn_buf_ok(&b, "results.csv") || jn_path_join(path, sizeof path, dir, "results.csv") ||
             jn_write_file_atomic_shared(path, b.data, b.len);
    jn_buf_free(&b);
    return rc;
}

/* Which count of the status line a row falls in. A run stopped by a signal or --max-steps has
 * said so in its summary: nothing trains it, and a rerun resumes it. */
enum { DONE, DIVERGED, FAILED, RUNNING, INTERRUPTED, PENDING, UNREADABLE, ELSEWHERE, N_STATES };

static int state_of(const jn_run_row *row)
{
    if (!strcmp(row->status, "diverged"))
        return DIVERGED;
    if (row->done)
        return DONE;
    if (!strcmp(row->status, "failed"))
        return FAILED;
    if (!strcmp(row->status, "interrupted") || !strcmp(row->status, "paused"))
        return INTERRUPTED;
    if (!strcmp(row->status, "unreadable"))
        return UNREADABLE;
    return strcmp(row->status, "pending") ? RUNNING : PENDING;
}

static const jn_run_row *sort_rows;

/* Best validation error first, ties in the plan's order: the test set never chooses. */
static int by_valid(const void *a, const void *b)
{
    const jn_run_row *x = &sort_rows[*(const int *)a], *y = &sort_rows[*(const int *)b];
    if (x->valid_error != y->valid_error)
        return x->valid_error < y->valid_error ? -1 : 1;
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static int is_png(const struct dirent *de)
{
    const size_t n = strlen(de->d_name);
    return n > 4 && !strcmp(de->d_name + n - 4, ".png");
}

/* The PNG files tools/plot_sweep.py left in dir/plots, or how to make them. */
static void print_plots(const char *dir, FILE *f)
{
    char plots[JN_PATH_MAX + 32];
    if (jn_path_join(plots, sizeof plots, dir, "plots")) {
        fprintf(f, "plots: none: %s\n", jn_last_error());
        return;
    }
    /* By name (alphasort, byte order in the C locale the program runs in): the folder's own
     * order, the file system's, differed between copies of it. */
    struct dirent **list;
    const int shown = scandir(plots, &list, is_png, alphasort);
    for (int i = 0; i < shown; i++) {
        jn_print(f, "%s %s/%s\n", i ? "      " : "plots:", plots, list[i]->d_name);
        free(list[i]);
    }
    if (shown >= 0)
        free(list);
    char word[JN_SHELL_WORD_CAP(JN_PATH_MAX)];
    /* The binary does not know where its checkout is: the tool's path, named from there, failed
     * as given from any other folder. */
    if (shown <= 0)
        jn_print(f, "plots: tools/plot_sweep.py %s (from the jacnoise checkout; writes %s/*.png)\n",
                 jn_shell_word(word, sizeof word, dir), plots);
}

static int by_text(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Run folders of dir/runs that no configuration of the plan has: kept from an earlier spec of
 * the folder (its sweep.spec removed to change the study), they are in no table or results.csv,
 * which, unsaid, left a researcher wondering where those runs had gone. */
static void print_other_runs(const jn_plan *plan, const char *dir, FILE *f)
{
    char runs[JN_PATH_MAX + 32], path[JN_PATH_MAX + 300];
    const char **ids = malloc(sizeof *ids * (size_t)(plan->n_entries ? plan->n_entries : 1));
    DIR *d = ids && !jn_path_join(runs, sizeof runs, dir, "runs") ? opendir(runs) : NULL;
    int other = 0;
    for (int i = 0; d && i < plan->n_entries; i++)
        ids[i] = plan->entries[i].id;
    if (d)
        qsort(ids, (size_t)plan->n_entries, sizeof *ids, by_text);
    for (struct dirent *de; d && (de = readdir(d));) {
        const char *name = de->d_name;
        if (name[0] != '.' && !bsearch(&name, ids, (size_t)plan->n_entries, sizeof *ids, by_text) &&
            !jn_path_join(path, sizeof path, runs, name) && is_folder(path))
            other++;
    }
    if (d)
        closedir(d);
    free(ids);
    if (other)
        jn_print(f, "other runs: %d folder%s in %s of no configuration of this spec (an earlier spec's: kept, not in "
                 "results.csv)\n", other, other > 1 ? "s" : "", runs);
}

/* Row i's message, whole: where the row holds only its first bytes (a failure naming a long
 * path twice; an unreadable summary.json's error, naming its long path), its summary.json read
 * again: a failed run's message, an unreadable one's state (its error after the end its last.ckpt
 * records, as read_row words it); the row's where it reads otherwise. */
static const char *whole_message(const jn_plan *plan, int i, const jn_run_row *row)
{
    static jn_summary_file s;
    char folder[JN_PATH_MAX], path[JN_PATH_MAX + 32];
    if (strlen(row->message) + 1 < sizeof row->message || !jn_plan_folder(plan, i, folder, sizeof folder) ||
        jn_path_join(path, sizeof path, folder, "summary.json"))
        return row->message;
    static char state[JN_SUMMARY_UNREAD];
    const int unread = jn_summary_read(path, &s) != 0;
    if (state_of(row) != UNREADABLE)
        return unread ? row->message : s.message;
    if (!unread || jn_path_join(path, sizeof path, folder, "last.ckpt"))
        return row->message;
    jn_summary_unread_state(path, state, sizeof state);  /* as the row's first bytes say it */
    return state;
}

/* A run whose metrics.jsonl is damaged (row->damaged): a line naming the file and what is wrong,
 * read again (the rows keep no message for it). Counted as its summary.json says (a finished
 * run is done), its penalty and per-epoch record are that file's. */
static void print_damaged(const jn_plan *plan, int i, const jn_run_row *row, int kind, FILE *f)
{
    char folder[JN_PATH_MAX], path[JN_PATH_MAX + 32];
    jn_epoch_metrics *m;
    int epochs;
    if (!row->damaged || !jn_plan_folder(plan, i, folder, sizeof folder) ||
        jn_path_join(path, sizeof path, folder, "metrics.jsonl"))
        return;
    const char *message = whole_message(plan, i, row);  /* read first: the read below records its error */
    const int rc = read_metrics(path, row, &m, &epochs);
    free(m);
    if (!rc)
        return;
    /* A run whose resume refused the same line failed with this error, its failed line said
     * just above (its folder as the sweep was given it, which this status may spell otherwise). */
    char named[4 * sizeof path];  /* path as the error names it: escaped (a Latin-1 name's \xe9) */
    const size_t p = jn_escape_text(named, sizeof named, path);
    const char *error = jn_last_error(), *file = strncmp(error, named, p) ? "" : error + p - strlen("metrics.jsonl");
    const size_t n = strlen(message), k = strlen(file);
    const int said = state_of(row) == FAILED && k && n >= k && !strcmp(message + n - k, file) &&
                     (n == k || message[n - k - 1] == '/');
    jn_print(f, "damaged %s: %s (counted %s; results.csv's penalty and the plots read that file: to train the run "
             "anew, remove %s and %s)\n", plan->entries[i].id,
             said ? "its metrics.jsonl, as its failed line says" : error, row->status, folder,
             (const char *[]){"run the sweep again", "resubmit its array task", "its copy in the merged folder that "
                              "holds it, rerun that folder's sweep, then merge again"}[kind]);
}

void jn_results_print(const jn_plan *plan, const char *dir, const jn_run_row *rows, const unsigned char *here,
                      jn_merged *merged, FILE *f)
{
    const int n = plan->n_entries;
    int *order = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!order) {
        jn_print(f, "sweep %s: out of memory for the table\n", dir);
        return;
    }
    int count[N_STATES] = {0}, ranked = 0, damaged = 0, unreadable = 0;
    for (int i = 0; i < n; i++) {
        count[here && !here[i] ? ELSEWHERE : state_of(&rows[i])]++;
        unreadable += state_of(&rows[i]) == UNREADABLE;  /* another shard's too: a line below each */
        damaged += rows[i].damaged;  /* counted too as its summary.json says: one line each below */
        if (isfinite(rows[i].valid_error))
            order[ranked++] = i;
    }
    jn_print(f, "sweep %s: %d configuration%s: %d done, %d diverged, %d failed, %d running, %d interrupted, "
             "%d pending", dir, n, n == 1 ? "" : "s", count[DONE], count[DIVERGED], count[FAILED], count[RUNNING],
             count[INTERRUPTED], count[PENDING]);
    if (count[UNREADABLE])  /* said only where there are some: the count line scripts read stays */
        fprintf(f, ", %d unreadable", count[UNREADABLE]);
    if (damaged)
        fprintf(f, ", %d damaged", damaged);
    if (count[ELSEWHERE])  /* one configuration is one shard's */
        fprintf(f, ", %d other shard%s", count[ELSEWHERE], count[ELSEWHERE] > 1 ? "s'" : "'s");
    fputc('\n', f);
    /* DIR/merged read once, for the unreadable and damaged lines alone (read per line, it was
     * read again for each such run), and before their errors: a DIR/merged unread records one. */
    const int kind = unreadable || damaged ? folder_kind(plan, merged) : SWEPT;
    sort_rows = rows;
    qsort(order, (size_t)ranked, sizeof(int), by_valid);
    const int shown = ranked < 5 ? ranked : 5;
    if (shown) {
        int width[64];
        const int columns = plan->n_swept < 64 ? plan->n_swept : 64;
        for (int c = 0; c < columns; c++) {
            width[c] = (int)strlen(plan->columns[c]);
            for (int k = 0; k < shown; k++) {
                char v[JN_PATH_MAX + 64];
                jn_plan_value(plan, order[k], plan->columns[c], v, sizeof v);
                width[c] = (int)strlen(v) > width[c] ? (int)strlen(v) : width[c];
            }
        }
        fprintf(f, "best by validation error:\n  %-12s  %-13s  %5s  %7s  %7s", "id", "status", "epoch", "valid %",
                "test %");
        for (int c = 0; c < columns; c++)
            fprintf(f, "  %-*s", width[c], plan->columns[c]);
        fprintf(f, "  trained on\n");  /* last: the one column of unbounded width */
        for (int k = 0; k < shown; k++) {
            const jn_run_row *r = &rows[order[k]];
            char test[32] = "-";
            if (isfinite(r->test_error))
                snprintf(test, sizeof test, "%.2f", r->test_error);
            fprintf(f, "  %-12s  %-13s  %5d  %7.2f  %7s", plan->entries[order[k]].id, r->status, r->best_epoch,
                    r->valid_error, test);
            for (int c = 0; c < columns; c++) {
                char v[JN_PATH_MAX + 64];
                jn_plan_value(plan, order[k], plan->columns[c], v, sizeof v);
                fprintf(f, "  %-*s", width[c], v);
            }
            if (r->backend[0])
                jn_print(f, "  %s, %s, %s\n", r->backend, r->device, r->precision);
            else  /* no summary yet (a run the sweep trains now), or one from before devices */
                fprintf(f, "  -\n");
        }
    } else if (count[DONE]) {
        fprintf(f, "not ranked: no run has a validation split (valid = 0); results.csv has their test errors\n");
    }
    for (int i = 0; i < n; i++)
        if (state_of(&rows[i]) == FAILED)
            jn_print(f, "failed %s: %s\n", plan->entries[i].id, whole_message(plan, i, &rows[i]));
        else if (state_of(&rows[i]) == UNREADABLE)
            jn_print(f, "unreadable %s: %s (%s)\n", plan->entries[i].id, whole_message(plan, i, &rows[i]),
                     (const char *[]){"the sweep run again resumes it and writes its summary.json again",
                                      "resubmitting its array task resumes it and writes its summary.json again",
                                      MERGED_RERUN "replaces it by its copy further along"}[kind]);
    for (int i = 0; i < n; i++)
        print_damaged(plan, i, &rows[i], kind, f);
    char csv[JN_PATH_MAX + 32], word[JN_SHELL_WORD_CAP(JN_PATH_MAX)];
    struct stat st;
    jn_shell_word(word, sizeof word, dir);
    if (!jn_path_join(csv, sizeof csv, dir, "results.csv") && stat(csv, &st) == 0 && S_ISREG(st.st_mode))
        jn_print(f, "results: %s\n", csv);
    else  /* its write failed (said then), or it was removed */
        jn_print(f, "results: no results.csv (jacnoise sweep merge %s writes it)\n", word);
    print_other_runs(plan, dir, f);
    print_plots(dir, f);
    char shards[JN_PATH_MAX + 32];
    if (count[ELSEWHERE] && !jn_path_join(shards, sizeof shards, dir, "shards"))
        jn_print(f, "other shards: %d configuration%s dealt to shards that did not run in this folder (%s records "
                 "those that did), trained in their own folders (jacnoise sweep merge %s SHARD_DIR... joins them) or "
                 "here once those shards run\n", count[ELSEWHERE], count[ELSEWHERE] > 1 ? "s" : "", shards, word);
    free(order);
}

/* Whether run a is further along than run b: done over started over pending, then more
 * steps. */
static int further(const jn_run_row *a, const jn_run_row *b)
{
    int ra = a->done ? 2 : strcmp(a->status, "pending") ? 1 : 0;
    int rb = b->done ? 2 : strcmp(b->status, "pending") ? 1 : 0;
    return ra != rb ? ra > rb : a->steps > b->steps;
}

void jn_results_print_running(const jn_plan *plan, const jn_run_row *rows, jn_merged *merged, FILE *f)
{
    int held = 0, free_ = 0, damaged = 0;
    for (int i = 0; i < plan->n_entries; i++) {
        char folder[JN_PATH_MAX], path[JN_PATH_MAX + 32];
        int fd;
        if (state_of(&rows[i]) != RUNNING || !jn_plan_folder(plan, i, folder, sizeof folder) ||
            jn_path_join(path, sizeof path, folder, "lock"))
            continue;
        const int rc = jn_lock_file_shared(path, &fd);  /* a trainer holds it exclusively */
        held += rc > 0;
        free_ += rc == 0;  /* no lock file (removed by hand) is none held: not locked, as show says it */
        damaged += rc == 0 && rows[i].damaged;  /* which the rerun fails, as their damaged lines say */
        if (fd >= 0)
            close(fd);
        /* One killed before its first epoch ended has no errors to rank: it was in no line. */
        if (rc == 0 && !rows[i].checkpoint_epochs && !rows[i].best_epoch && !rows[i].damaged)
            jn_print(f, "stopped %s: no epoch ended, %llu step%s trained (%s)\n", plan->entries[i].id,
                     (unsigned long long)rows[i].steps, rows[i].steps == 1 ? "" : "s", JN_RUN_STOPPED);
    }
    if (!held && !free_)
        return;
    const int kind = folder_kind(plan, merged);  /* read only where the line is said */
    const char *by = kind == ARRAY ? "resubmitting their array tasks" : "the sweep run again";
    /* Not a resume promised for a damaged one: the unfinished line below says the rerun fails it. */
    char rerun[192];
    if (kind == MERGED)  /* a damaged one too: its merged folder's copy, further along, replaces it */
        snprintf(rerun, sizeof rerun, MERGED_RERUN "replaces them by their copies further along");
    else if (damaged && damaged == free_)
        snprintf(rerun, sizeof rerun, "damaged: %s fails %s, as the damaged lines above say", by,
                 free_ > 1 ? "them" : "it");
    else if (damaged)
        snprintf(rerun, sizeof rerun, "%s resumes them but for %d damaged, which it fails (the damaged lines above)",
                 by, damaged);
    else
        snprintf(rerun, sizeof rerun, "%s resumes them", by);
    jn_print(f, "running: %d locked by a jacnoise process now, %d not locked (killed, unless trained on another "
             "machine whose locks this one does not see; %s)\n", held, free_, rerun);
}

/* Locks the run folder `folder` into *fd for a merge: one it replaces (creating it first only
 * with create), or, with source, one it copies, so that no run trains there while its files are
 * copied one by one (a copy could hold a last.ckpt an epoch ahead of its metrics.jsonl); -1
 * when another process trains it: `copied` folders were copied before, the run begun during
 * the merge; or, with copied -1 (the check before any copy), a sweep trains it still. */
static int lock_run(const char *folder, int create, int source, int copied, int *fd)
{
    char path[JN_PATH_MAX + 32];
    if ((create && jn_mkdirs_staged(folder)) || jn_path_join(path, sizeof path, folder, "lock"))
        return -1;
    const int rc = source ? jn_lock_file_shared(path, fd) : jn_lock_file(path, fd, NULL);
    if (rc > 0 && copied >= 0) {
        char words[64] = "nothing was copied";
        if (copied)
            snprintf(words, sizeof words, "%d run folder%s", copied,
                     copied > 1 ? "s were copied, each whole" : " was copied, whole");
        return jn_fail("merge: %s is in use by another jacnoise process (a sweep started training it during the "
                       "merge); merge again once it has ended (%s)", folder, words);
    }
    if (rc > 0)
        return jn_fail("merge: %s is in use by another jacnoise process (a sweep still trains it); merge once it "
                       "has ended (nothing was copied)", folder);
    return rc;
}

/* Whether the run folder can be locked now: -1 (recorded) where another process holds it. */
static int unlocked(const char *folder, int source)
{
    int fd;
    const int rc = lock_run(folder, 0, source, -1, &fd);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The run folder of configuration `id` in the sweep folder `dir`. */
static int run_folder(const char *dir, const char *id, char *folder, size_t cap)
{
    char runs[JN_PATH_MAX + 32];
    return jn_path_join(runs, sizeof runs, dir, "runs") || jn_path_join(folder, cap, runs, id);
}

/* Stages the copy of the run folder `from` over `to` (jn_write_file_staged), `to` locked into
 * *fd (left locked for the commit), `from` only while it is read: its files, the bits of
 * *staged those it has, and its row, read with them so that it is what was copied. */
static int stage_copy(const char *from, const char *to, int copied, int *fd, unsigned *staged, jn_run_row *row)
{
    int in = -1, rc = lock_run(from, 0, 1, copied, &in) || lock_run(to, 1, 0, copied, fd) || read_row(from, row);
    *staged = 0;
    for (int f = 0; !rc && f < N_RUN_FILES; f++) {
        char src[JN_PATH_MAX + 32], dst[JN_PATH_MAX + 32];
        unsigned char *data = NULL;
        size_t len;
        rc = jn_path_join(src, sizeof src, from, run_files[f]) || jn_path_join(dst, sizeof dst, to, run_files[f]);
        if (rc || access(src, F_OK) != 0)
            continue;
        rc = jn_read_file(src, &data, &len) || jn_write_file_staged(dst, data, len);
        free(data);
        *staged |= rc ? 0 : 1u << f;
    }
    if (in >= 0)
        close(in);
    return rc;
}

/* Puts the staged copy in place of `to`'s files, in run_files' order, removing those the copy
 * lacks; with drop, removes what was staged instead (a failed merge changes nothing more). */
static int commit_copy(const char *to, unsigned staged, int drop)
{
    int rc = 0;
    for (int f = 0; f < N_RUN_FILES; f++) {
        char dst[JN_PATH_MAX + 32];
        if (jn_path_join(dst, sizeof dst, to, run_files[f]))
            return -1;
        if (drop || rc) {
            if (staged & 1u << f)  /* only this merge's: a "NAME.tmp" of another process's write stays */
                jn_drop_staged(dst);
        } else if (staged & 1u << f)
            rc = jn_commit_staged(dst);
        else if (remove(dst) != 0 && access(dst, F_OK) == 0)
            rc = jn_fail("%s: cannot remove the older run's file", dst);
    }
    return rc;
}

/* Removes a run folder that a failed batch made (its lock, the one file in it): left, it read
 * as a run started and killed ("running", locked by none), where its configuration was pending.
 * The lock file only where this merge holds it (fd): no other process trains there then. */
static void unmake_run(const char *folder, int fd)
{
    char lock[JN_PATH_MAX + 32];
    if (fd >= 0 && !jn_path_join(lock, sizeof lock, folder, "lock"))
        unlink(lock);
    rmdir(folder);
}

/* Makes the batch's staged files durable, or with committed its renames and the run folders
 * made: one syncfs of the file system holding runs, or, where that cannot be had or would not
 * report a failed write-back (jn_sync_fs), an fsync of each file, or of each folder and runs. A
 * folder one may write in but not read (mode 0333) is synced through what is in it: runs through
 * the batch's first run folder, a run folder through its lock file, which each has. */
static int sync_batch(const char *runs, const jn_plan *plan, const int *batch, const unsigned *staged, int k,
                      int committed)
{
    char first[JN_PATH_MAX];
    if (!k)
        return 0;
    if (!jn_plan_folder(plan, batch[0], first, sizeof first))
        return -1;
    int rc = jn_sync_fs(runs, first);
    if (rc != 1)
        return rc;
    rc = committed && jn_sync_folder(runs, first);
    for (int j = 0; !rc && j < k; j++) {
        char to[JN_PATH_MAX], dst[JN_PATH_MAX + 32];
        rc = !jn_plan_folder(plan, batch[j], to, sizeof to) ||
             (committed && (jn_path_join(dst, sizeof dst, to, "lock") || jn_sync_folder(to, dst)));
        for (int f = 0; !rc && !committed && f < N_RUN_FILES; f++)
            if (staged[j] & 1u << f)
                rc = jn_path_join(dst, sizeof dst, to, run_files[f]) || jn_sync_staged(dst);
    }
    return rc;
}

/* Run folders copied a batch at a time: the batch's files written, synced at once, renamed into
 * place, and the renames synced, its folders locked throughout; a sync per file took 292 s
 * at 10,000 runs. A batch holds a lock per folder, so it is kept well within the open
 * files allowed (ulimit -n). */
static int batch_size(void)
{
    struct rlimit r;
    const rlim_t half = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY ? r.rlim_cur / 2 : 256;
    return half < 1 ? 1 : half > 256 ? 256 : (int)half;
}

int jn_results_merge(jn_results *t, const char *dir, const char *const *sources, int n_sources,
                     int (*ready)(void *ctx), void *ctx)
{
    const jn_plan *plan = t->plan;
    const int n = plan->n_entries, cap = batch_size();
    int *from = malloc(sizeof *from * (size_t)(n ? n : 1));  /* the source to copy, or -1 */
    int *batch = malloc(sizeof *batch * (size_t)cap), *fd = malloc(sizeof *fd * (size_t)cap);
    unsigned *staged = malloc(sizeof *staged * (size_t)cap);
    unsigned char *made = malloc((size_t)cap);  /* the batch's run folders that it made */
    int rc = !from || !batch || !fd || !staged || !made ? jn_fail("out of memory for a merge of %d runs", n) : 0,
        copied = 0;
    char folder[JN_PATH_MAX + 64], to[JN_PATH_MAX], runs[JN_PATH_MAX + 32];
    rc = rc || jn_path_join(runs, sizeof runs, dir, "runs");
    for (int i = 0; !rc && i < n; i++) {
        jn_run_row theirs;
        jn_results_row(plan, i, &t->rows[i]);
        from[i] = -1;
        for (int s = 0; s < n_sources && !rc; s++) {
            rc = run_folder(sources[s], plan->entries[i].id, folder, sizeof folder) || read_row(folder, &theirs);
            if (!rc && further(&theirs, &t->rows[i])) {
                t->rows[i] = theirs;
                from[i] = s;
            }
        }
    }
    /* Every folder to copy, then every one to replace, is found unlocked before any is replaced:
     * one a running sweep trains refuses the merge with nothing changed. */
    for (int i = 0; !rc && i < n; i++)
        if (from[i] >= 0)
            rc = run_folder(sources[from[i]], plan->entries[i].id, folder, sizeof folder) || unlocked(folder, 1);
    for (int i = 0; !rc && i < n; i++)
        if (from[i] >= 0 && is_folder(jn_plan_folder(plan, i, to, sizeof to)))
            rc = unlocked(to, 0);
    rc = rc || ready(ctx);
    for (int i = 0; !rc && i < n;) {
        int k = 0;
        for (; !rc && i < n && k < cap; i++)
            if (from[i] >= 0) {
                batch[k] = i;
                fd[k] = -1;
                made[k] = !is_folder(jn_plan_folder(plan, i, to, sizeof to));
                rc = run_folder(sources[from[i]], plan->entries[i].id, folder, sizeof folder) ||
                     stage_copy(folder, to, copied, &fd[k], &staged[k], &t->rows[i]);
                k++;
            }
        rc = rc || sync_batch(runs, plan, batch, staged, k, 0);
        for (int j = 0; j < k; j++) {
            const int failed = rc;
            rc = commit_copy(jn_plan_folder(plan, batch[j], to, sizeof to), staged[j], failed) || failed;
            copied += !rc;
            if (failed && made[j])
                unmake_run(to, fd[j]);
        }
        rc = rc || sync_batch(runs, plan, batch, staged, k, 1);
        for (int j = 0; j < k; j++)
            if (fd[j] >= 0)
                close(fd[j]);
    }
    free(from);
    free(batch);
    free(fd);
    free(staged);
    free(made);
    if (!rc)
        jn_print(stdout, "merge: %d run folder%s copied into %s\n", copied, copied == 1 ? "" : "s", runs);
    return rc;
}
