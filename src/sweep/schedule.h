/* A sweep worker: trains its share of the configurations, group by group, each group's jobs
 * through one jn_group (so one backend and one copy of the data), refilling slots as jobs
 * end. Talks to the trainer's job and group API only. Internal to src/sweep. */
#ifndef JACNOISE_SWEEP_SCHEDULE_H
#define JACNOISE_SWEEP_SCHEDULE_H

#include "sweep/plan.h"
#include "sweep/results.h"
#include "train/metrics.h"

/* The room for a failed configuration's message as ended() reports it: summary.json's message
 * and, where the run folder could not record it, why not (the error recorded). */
#define JN_SWEEP_FAILURE (JN_SUMMARY_MESSAGE + JN_ERROR_MAX + 128)

/* What a worker reports, to whoever draws the progress line and keeps results.csv. */
typedef struct {
    void *ctx;
    /* Group `group` of the plan opened: its configurations to train here, how many of them
     * train at once (its slots), and their steps (epochs x batches, less those already done). */
    void (*planned)(void *ctx, int group, int configurations, int models, double steps);
    void (*began)(void *ctx, int entry);
    void (*stepped)(void *ctx, long steps);
    /* A configuration ended (its folder is written): finished, early-stopped, diverged,
     * interrupted, or failed with the error as message. */
    void (*ended)(void *ctx, int entry, const char *status, const char *message);
    /* Workers' reports were taken in: a moment to rewrite results.csv (jn_sweep_workers). */
    void (*flush)(void *ctx);
    /* How an interrupted run continues, for the message its summary.json keeps: in a Slurm
     * array task, resubmitting that task, not rerunning the sweep command, which outside the
     * array would train the whole sweep. */
    const char *to_continue;
} jn_sweep_report;

/* Trains the entries flagged in `mine` that are not done (finished, early-stopped or
 * diverged): unfinished runs resume from last.ckpt, the others start. `known` ([n_entries], or
 * NULL) holds the rows the sweep read as it started: the first group opened takes its members'
 * from it, where a later one reads its members' folders again, which another process sharing
 * the sweep folder may have trained meanwhile. A failure (a job's, or a whole group's) is
 * reported and recorded in the run's summary.json where its folder allows; the sweep goes on.
 * Returns 0, or JN_EXIT_SIGINT / JN_EXIT_SIGTERM when a signal stopped it (every active run
 * saved). */
int jn_sweep_work(const jn_plan *plan, const unsigned char *mine, const jn_run_row *known,
                  const jn_sweep_report *report);

#endif
