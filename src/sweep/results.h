/* What a sweep's run folders say: one row per configuration, results.csv, the status table,
 * and merging shards' folders. The run folders are the truth; everything here is derived
 * from them and may be regenerated at any time. Internal to src/sweep. */
#ifndef JACNOISE_SWEEP_RESULTS_H
#define JACNOISE_SWEEP_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "sweep/plan.h"

typedef struct {
    /* pending (no folder), running (started, not ended: in progress or killed), or the
     * summary's status: finished, early-stopped, diverged, failed, interrupted, paused */
    char status[32];
    char message[1024];
    int done;                /* finished, early-stopped or diverged: a rerun skips it */
    int best_epoch;          /* 0 = none yet */
    double valid_error;      /* of the best parameters (%); NaN if none */
    double test_error;
    double penalty;          /* mean R over the best epoch (before lambda); NaN when off */
    uint64_t steps;
    double seconds;          /* the epochs' wall time, summed */
} jn_run_row;

/* Reads the row of one configuration from its run folder. */
void jn_results_row(const jn_plan_entry *e, jn_run_row *row);

/* Regenerates DIR/results.csv from the run folders, atomically; extra (may be NULL) overrides
 * rows by entry ([n_entries], status[0] = 0: none), for failures a folder could not record. */
int jn_results_write(const jn_plan *plan, const char *dir, const jn_run_row *extra);

/* The table `sweep status` prints: counts by state and the best configurations. */
void jn_results_print(const jn_plan *plan, const char *dir, const jn_run_row *extra, FILE *f);

/* Copies into dir/runs the run folders of the source sweep folders that are further along
 * than dir's own (a finished run over an unfinished one, more steps over fewer). */
int jn_results_merge(const jn_plan *plan, const char *dir, const char *const *sources, int n_sources);

#endif
