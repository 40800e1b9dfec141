/* What a sweep's run folders say: one row per configuration, results.csv, the status table,
 * and merging shards' folders. The run folders are the truth; everything here is derived
 * from them and may be regenerated at any time. Internal to src/sweep. */
#ifndef JACNOISE_SWEEP_RESULTS_H
#define JACNOISE_SWEEP_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "core/fileio.h"
#include "jacnoise/error.h"
#include "sweep/plan.h"

typedef struct {
    /* pending (no folder), running (started, not ended: in progress or killed), unreadable
     * (a summary.json that cannot be read: damaged), or the summary's status: finished,
     * early-stopped, diverged, failed, interrupted, paused */
    char status[32];
    /* The first 1023 bytes of a summary's: a row per configuration, up to 50,000 of them (its
     * 3 KB whole in each took 150 MB). jn_results_print reads a longer one whole again. */
    char message[1024];
    int done;                /* finished, early-stopped or diverged: a rerun skips it */
    int best_epoch;          /* 0 = none yet */
    double valid_error;      /* of the best parameters (%); NaN if none */
    double test_error;
    double penalty;          /* mean R over the best epoch (before lambda); NaN when off */
    uint64_t steps;
    double seconds;          /* the epochs' wall time, summed */
    /* Where it trained, as its summary.json says (the last process's, on a resumed run): the
     * backend (cpu, cuda), the device's name (the GPU's; the CPU's model and cores) and the GEMMs'
     * precision (fp32, tf32); "" where none is recorded (no summary yet: pending or running; a run
     * that failed before it had a backend; a summary from before devices were recorded). */
    char backend[16];
    char device[256];
    char precision[8];
    int ended_epochs;        /* the epochs its summary.json says were done (0: none, or no summary) */
    int checkpoint_epochs;   /* unfinished: the epochs its last.ckpt has done (0: none, or unreadable) */
    int damaged;             /* its metrics.jsonl cannot be read, or lacks epochs either of those says */
} jn_run_row;

/* Reads the row of entry i from its run folder. */
void jn_results_row(const jn_plan *plan, int i, jn_run_row *row);

/* The rows of results.csv as a sweep keeps them between writes: every entry's id and options
 * formatted once, and its row read from its folder at the open and then only where the caller
 * says it may have changed (a write that read all N folders at every run's end made a sweep of
 * 50,000 configurations spend a day on it). rows may be set by the caller, for failures a
 * folder could not record. */
typedef struct {
    const jn_plan *plan;
    jn_run_row *rows;        /* [n_entries] */
    jn_buf fixed;            /* the header line, then each entry's id and option values */
    size_t *end;             /* [n_entries + 1]: where the header and each entry's part end */
} jn_results;

/* Formats the entries and, with read, reads every row (else they are left for a merge to
 * fill); 0, or -1 with the error recorded. */
int jn_results_open(jn_results *t, const jn_plan *plan, int read);
void jn_results_close(jn_results *t);

/* The folders DIR/merged names (a folder only merges made: a sweep run there removes it), each
 * after a space and quoted for the shell, NUL-ended, in words (len 0: none; blank lines name
 * none), as one command says them: read the first time a line needs them, then kept (status's
 * table, running and unfinished lines read the file three times). Zeroed before the first. */
typedef struct {
    int read, rc;              /* rc: the read's, -1 where it failed with error */
    jn_buf words;
    char error[JN_ERROR_MAX];
} jn_merged;

/* Writes DIR/results.csv from t's rows, atomically (a crash leaves the previous file whole). */
int jn_results_save(const jn_results *t, const char *dir);

/* The table `sweep status` prints: counts by state and the best configurations, from rows
 * ([n_entries]); those whose flag in here[n_entries] is 0 are another shard's folder's, counted
 * apart (here NULL: every one is this folder's). */
void jn_results_print(const jn_plan *plan, const char *dir, const jn_run_row *rows, const unsigned char *here,
                      jn_merged *merged, FILE *f);

/* After status's table, where configurations are running (started, not ended): how many a
 * process trains now (their run folder's lock held) and how many none seems to (killed: a
 * rerun resumes them: the sweep run again, or in a job array's folder their tasks resubmitted;
 * or trained on a machine whose locks this one does not see), where the count alone left that
 * to guess; those whose lock says neither (a file system without locks) are left out. */
void jn_results_print_running(const jn_plan *plan, const jn_run_row *rows, jn_merged *merged, FILE *f);

/* m's words, DIR/merged read into m the first time: 0, or -1 (its error recorded, each time). */
int jn_results_merged(const char *dir, jn_merged *m);
void jn_results_merged_free(jn_merged *m);

/* Copies into dir/runs the run folders of the source sweep folders that are further along
 * than dir's own (a finished run over an unfinished one, more steps over fewer), and fills t's
 * rows (opened without reading them) with what dir's folders hold then: each folder read once.
 * ready(ctx) is called once every folder to copy or replace is found free, before anything is
 * written (the caller makes dir there: a refused merge leaves nothing); nonzero stops the merge. */
int jn_results_merge(jn_results *t, const char *dir, const char *const *sources, int n_sources,
                     int (*ready)(void *ctx), void *ctx);

#endif
