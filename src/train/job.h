/* One training run inside the trainer: its configuration, folder, parameters and position,
 * and what it does at each point of the schedule, without a backend (the group pulls and
 * pushes its state). Internal to src/train. */
#ifndef JACNOISE_TRAIN_JOB_H
#define JACNOISE_TRAIN_JOB_H

#include "jacnoise/backend.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/train.h"
#include "train/metrics.h"
#include "train/progress.h"

struct jn_job {
    jn_config cfg;
    char last_path[JN_PATH_MAX + 16], best_path[JN_PATH_MAX + 16], metrics_path[JN_PATH_MAX + 16];
    char summary_path[JN_PATH_MAX + 16], config_path[JN_PATH_MAX + 16];
    char *config_text;          /* the experiment's options, as checkpoints store them */
    uint32_t data_crc;          /* of the data it trains on, as checkpoints store it */
    int resume;                 /* continues the run in its folder */
    int idle;                   /* resumes an ended run with nothing left to do: writes nothing */
    jn_checkpoint resumed;      /* what a resumed job continues from, until it is loaded */
    jn_model model;
    jn_real *params, *velocity, *best;
    jn_train_state state;
    jn_train_state saved;       /* where last.ckpt stands, once has_saved */
    int has_saved;              /* the run has a last.ckpt (resumed from or written) */
    jn_train_state best_state;  /* the state at the end of best's epoch, as best.ckpt holds it */
    int best_unsaved;           /* best changed since best.ckpt was written */
    int last_unsaved;           /* the state's status changed since last.ckpt was written */
    double started, epoch_start;
    char lock_path[JN_PATH_MAX + 16];
    int lock_fd;                /* RUN/lock, held; -1 before it is taken */
    int lock_made, folder_made; /* this job created RUN/lock, the folder: gone again unless committed */
    int committed;              /* jn_job_commit changed the folder */
    int config_made;            /* the commit created config.txt */
    int wrote;                  /* a result of the run (checkpoint, metrics line, summary) was written, or tried */
    int busy;                   /* another process holds the lock */
    int slot;                   /* its slot in a group; -1 outside one */
    jn_device_info device;      /* its group's backend's, for summary.json ("" before it has one) */
    int verbose;                /* print epoch lines and the closing line */
    jn_progress *progress;      /* cleared before printing (train's progress line), or NULL */
    /* how it ended */
    int ended, code;
    char status[24];
    char message[JN_SUMMARY_MESSAGE];  /* whole, as summary.json holds it */
};

/* Print each epoch's line and the closing line on stdout (as `train` does); off by default. */
void jn_job_set_verbose(jn_job *job, int verbose);

/* Allocates and loads the parameters (fresh from the seed, or the resumed checkpoint's) for
 * the group's model and data (data_crc: its jn_data_crc); a resumed checkpoint of other data
 * is refused. */
int jn_job_init(jn_job *job, const jn_model *m, const jn_data *data, uint32_t data_crc);

/* The folder, once everything loaded: created, metrics.jsonl trimmed to the checkpoint's
 * epochs (or removed for a new run), summary.json removed, config.txt written. */
int jn_job_commit(jn_job *job);

/* Its numbers for the backend's slot, and the learning rate of its current epoch. */
jn_model_hparams jn_job_hparams(const jn_job *job);
double jn_job_lr(const jn_job *job);

/* Whether the parameters and velocity the group pulled into the job are finite (non-finite
 * ones are never written: every checkpoint stays loadable). */
int jn_job_state_finite(const jn_job *job);

/* Writes last.ckpt from the pulled state. */
int jn_job_save_last(jn_job *job);

/* The wall time this process spent writing checkpoints, and their number in *files. */
double jn_job_checkpoint_seconds(long *files);

/* End of an epoch with the pulled state and the errors (%, NaN for an empty split): logs,
 * keeps the best, checkpoints, and decides whether the run goes on (state.status). */
int jn_job_end_epoch(jn_job *job, double valid_error, double test_error);

/* Ends the job with a status and message: summary.json (test_error: of the best parameters,
 * NaN if none), the closing line when verbose. code is its JN_EXIT_* status. */
int jn_job_finish(jn_job *job, const char *status, const char *message, double test_error, int code);

/* The message of the job's divergence around `step` (1-based; `batches` per epoch), for
 * jn_job_finish: where, and which checkpoint is kept. */
void jn_job_divergence_message(const jn_job *job, long batches, uint64_t step, const char *what, char *out,
                               size_t cap);

/* Where a state stands, as a stop and a resume say it: "after batch B of epoch E", "at the end
 * of epoch E" or "before its first step". */
void jn_job_where(const jn_train_state *st, char *out, size_t cap);

/* Ends the job as failed, with the last recorded error as its message. */
void jn_job_fail(jn_job *job);

#endif
