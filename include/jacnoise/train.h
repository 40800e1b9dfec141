/* Training runs: the epoch loop, evaluation, early stopping, checkpoints, resume.
 *
 * A run folder (--out) holds:
 *   config.txt     the resolved configuration (key=value; usable with --config)
 *   metrics.jsonl  one JSON object per epoch
 *   last.ckpt      everything needed to continue bit-identically (checkpoint.h)
 *   best.ckpt      the parameters with the best validation error so far
 *   summary.json   how the run ended and the test error of the best parameters
 *   lock           empty; the process that trains the run holds a flock on it
 *
 * Two layers: a job is one run (its configuration, folder, parameters and position); a group
 * trains up to M jobs of one shape on one backend, slot by slot, each job exactly as it would
 * train alone. `jacnoise train` is a group of one; `jacnoise sweep` hands groups their jobs
 * through a job source. */
#ifndef JACNOISE_TRAIN_H
#define JACNOISE_TRAIN_H

#include "jacnoise/config.h"
#include "jacnoise/data.h"
#include "jacnoise/model.h"

/* Process exit statuses of `jacnoise train`; the other commands use them where they apply
 * (usage, error; sweep.h says sweep's). */
enum {
    JN_EXIT_OK = 0,            /* finished, early-stopped, or paused by --max-steps */
    JN_EXIT_ERROR = 1,         /* bad input or a failed operation; one line on stderr */
    JN_EXIT_USAGE = 2,         /* bad command line */
    JN_EXIT_DIVERGED = 3,      /* the loss, penalty or parameters became NaN or Inf */
    JN_EXIT_SIGINT = 130,      /* interrupted; resumable */
    JN_EXIT_SIGPIPE = 141,     /* train's standard output closed (train | head); resumable */
    JN_EXIT_SIGTERM = 143      /* terminated; resumable */
};

/* Runs or resumes (cfg->resume) the training job; returns a JN_EXIT_* status. Errors are
 * recorded (error.h) for the caller to print. going_on (NULL: none) is called with the run's
 * configuration (a resume's stored one, changed by cfg) and cfg once nothing of the start is
 * left to fail (the run folder, data and backend are ready), before the run's first line: a
 * caller's warnings come only for a run that goes on, never before the error of one that
 * cannot start. */
int jn_train_run(const jn_config *cfg, void (*going_on)(const jn_config *run, const jn_config *cfg));

/* For --resume=auto where cfg->out holds no last.ckpt: 0, or -1 (error recorded) where its
 * config.txt is another experiment's, a run stopped before its first checkpoint. */
int jn_train_auto_start_check(const jn_config *cfg);

/* Whether dir, given as option (NULL: an argument, "folder" in the message), may take a sweep
 * (sweep) or a training run: -1 (error recorded) where it is a file, or holds the other's
 * folder, whose files the one's would go in beside (a run's config.txt without a sweep.spec,
 * a sweep's sweep.spec without a config.txt); 0 where it may (or is not there). */
int jn_out_folder_check(const char *option, const char *dir, int sweep);

/* ---- jobs ------------------------------------------------------------------------------ */

typedef struct jn_job jn_job;

/* Opens the run of cfg->out: a new one (refused if the folder already holds a run: its
 * last.ckpt, or, unless rerun, the results of one without it: summary.json, best.ckpt,
 * metrics.jsonl, but for a run stopped before its first last.ckpt whose config.txt holds
 * cfg's experiment, which starts again; and a config.txt that is no run's) or, with
 * cfg->resume, the one there (its stored configuration merged with what cfg may change).
 * rerun: a sweep retrying its configuration (a failed attempt's files are replaced). Reads
 * and checks; writes nothing but the folder's lock file. NULL with the error recorded.
 *
 * A run trains in one process at a time: the job holds an exclusive lock on RUN/lock from
 * here (a folder that exists) or from the moment it creates the folder, until jn_job_free.
 * When another process holds it, the open fails and sets *busy (busy may be NULL), or the
 * job fails when it starts and jn_job_busy says so; either way nothing in the folder changed.
 * Where the file system has no locks, runs are not locked. */
jn_job *jn_job_open(const jn_config *cfg, int rerun, int *busy);
void jn_job_free(jn_job *job);

/* Whether the job failed because another process holds its folder's lock. */
int jn_job_busy(const jn_job *job);

/* The job's resolved configuration. */
const jn_config *jn_job_config(const jn_job *job);

/* The batch of its epoch the job continues from (0 for a new run). */
long jn_job_batch(const jn_job *job);

/* Once the job has left its group: its status (finished, early-stopped, paused, interrupted,
 * diverged, failed) and message (for failed: the error). */
const char *jn_job_status(const jn_job *job);
const char *jn_job_message(const jn_job *job);

/* ---- groups ---------------------------------------------------------------------------- */

typedef struct jn_group jn_group;

/* Where a group's jobs come from, and where they go when they end. */
typedef struct {
    void *ctx;
    /* A job to start at batch `batch` of an epoch (jn_job_batch(job) == batch), or NULL; batch
     * -1 asks for any job (the group is empty and starts at that job's batch). */
    jn_job *(*next)(void *ctx, long batch);
    /* The smallest batch > after at which next() would give a job (mid-epoch resumes), or
     * -1: the group cuts a chunk there when it has a free slot. May be NULL. */
    long (*next_batch)(void *ctx, long after);
    /* The job left its slot (finished, early-stopped, paused, interrupted, diverged, failed).
     * The source owns the job. */
    void (*ended)(void *ctx, jn_job *job);
    /* `steps` model-steps were trained (progress). May be NULL. */
    void (*stepped)(void *ctx, long steps);
    /* How a run paused or interrupted continues, for its message ("continue with --resume"). */
    const char *to_continue;
} jn_job_source;

/* Loads the data of cfg (data, test, valid, train-limit, data-dir), builds the model and a
 * backend on cfg->device for jobs of cfg's shape (batch, loss, penalty target and estimator,
 * penalty on or off); obj is the group's objective: that structure, with each noise level and
 * lambda the largest of any member (what the buffers are sized for). Slots: at most `members`
 * (the jobs the group will see) and cfg->models, or with cfg->models = 0 as many as
 * jn_backend_max_models() fits in this process's memory budget (jn_backend_share_memory). NULL with
 * the error recorded. */
jn_group *jn_group_open(const jn_config *cfg, const jn_objective *obj, int members);
void jn_group_close(jn_group *g);

/* The group's batches per epoch and slots. */
long jn_group_batches(const jn_group *g);  /* per epoch */
int jn_group_models(const jn_group *g);

/* Trains until every slot is empty and the source has nothing left. Jobs end one by one
 * (ended() for each). SIGINT/SIGTERM (jn_train_catch_signals): every active job writes
 * last.ckpt and ends interrupted; returns JN_EXIT_SIGINT, JN_EXIT_SIGTERM or (after
 * jn_train_catch_broken_pipe) JN_EXIT_SIGPIPE. A backend error
 * returns -1, leaving each active job at its last checkpoint. 0 otherwise. */
int jn_group_run(jn_group *g, jn_job_source *src);

/* From now on SIGINT and SIGTERM (and SIGHUP, unless inherited ignored as under nohup) stop
 * training at the next step boundary, resumably; SIGHUP is reported as SIGTERM. The signal
 * that did (0 if none). */
void jn_train_catch_signals(void);
int jn_train_stop_signal(void);

/* From now on a write to a closed standard output (train | head, sweep | head) stops training
 * as SIGTERM would, where SIGPIPE's default action killed it silently between checkpoints,
 * leaving no summary. */
void jn_train_catch_broken_pipe(void);

/* The exit status of a stop by sig (jn_train_stop_signal): JN_EXIT_SIGINT, JN_EXIT_SIGPIPE or
 * JN_EXIT_SIGTERM (SIGTERM, SIGHUP); 0 for none. */
int jn_train_stop_code(int sig);

/* How a stop with exit status code is said ("interrupted", "terminated", ...): as sig's where
 * sig gives that status, else as the status's own signal's (a status read off another
 * process); NULL where code is no stop's. */
const char *jn_train_stop_words(int code, int sig);

#endif
