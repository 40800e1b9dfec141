/* One run: opening (new or resumed), parameters, the epoch end (evaluate, log, keep the best,
 * checkpoint, decide), pauses, divergence and the summary. The backend is the group's: the
 * group pulls a job's state into it before anything here writes a checkpoint.
 *
 * Determinism: everything random is a function of (seed, epoch or global step), the backend
 * keeps no state but parameters and velocity, and the checkpoint holds those plus the
 * position and the epoch's running sums; so a run stopped anywhere and resumed ends with the
 * same bytes as one that never stopped. */
#include "train/job.h"
#include "core/fileio.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"
#include "train/backend.h"
#include "train/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Besides the operational options, a resumed run may change its stopping rule. */

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* This process's checkpoint writes: their wall time and count (jn_job_checkpoint_seconds). */
static double checkpoint_seconds;
static long checkpoint_files;

double jn_job_checkpoint_seconds(long *files)
{
    *files = checkpoint_files;
    return checkpoint_seconds;
}

static int save_checkpoint(jn_job *job, const char *path, int best_only)
{
    jn_checkpoint ck = {
        .model = job->model,
        .config_text = job->config_text,
        .state = best_only ? job->best_state : job->state,
        .params = best_only ? job->best : job->params,
        .velocity = best_only ? NULL : job->velocity,
        .best_params = best_only ? NULL : job->best,
        .data_crc = job->data_crc,
    };
    const double start = jn_wall_seconds();
    job->wrote = 1;
    const int rc = jn_checkpoint_write(path, &ck);
    checkpoint_seconds += jn_wall_seconds() - start;
    checkpoint_files++;
    return rc;
}

/* Writes best.ckpt where the best parameters changed since it was written: with last.ckpt,
 * whose best parameters it then equals, and when the run ends; the same bytes whenever it is
 * written (best_state). With --checkpoint-epochs N a run that improves every epoch (as one
 * without a validation split does) so writes it every N epochs, not every epoch. */
static int save_best(jn_job *job)
{
    if (!job->best_unsaved)
        return 0;
    if (save_checkpoint(job, job->best_path, 1))
        return -1;
    job->best_unsaved = 0;
    return 0;
}

/* Writes best.ckpt where it changed, then last.ckpt, remembering where it stands (a divergence
 * message says what is kept). */
static int save_last(jn_job *job)
{
    if (save_best(job) || save_checkpoint(job, job->last_path, 0))
        return -1;
    job->saved = job->state;
    job->has_saved = 1;
    job->last_unsaved = 0;
    return 0;
}

/* The stopping rule at the end of an epoch: early-stopped, finished, or running on. */
static jn_run_status epoch_end_status(const jn_train_state *st, const jn_config *cfg)
{
    if (cfg->patience > 0 && st->bad_epochs >= cfg->patience)
        return JN_RUN_EARLY_STOPPED;
    return st->epoch >= cfg->epochs ? JN_RUN_FINISHED : JN_RUN_RUNNING;
}

/* Removes a file of an earlier run that the run now in progress replaces; a missing one is
 * fine. */
static int remove_stale(const char *path)
{
    if (remove(path) && errno != ENOENT)
        return jn_fail("%s: cannot remove (%s)", path, strerror(errno));
    return 0;
}

/* The run's lock (jn_job_open in train.h): flock on RUN/lock, which the folder keeps. A file
 * system without locks (some network ones) leaves the run unlocked rather than untrainable.
 * A folder one may not write in (a finished run kept read-only) is locked shared, which only
 * a process training there refuses: open_job then lets through nothing that would write. */
static int lock_folder(jn_job *job, int writable)
{
    if (job->lock_fd >= 0)
        return 0;
    const char *path = job->lock_path;
    int made = 0;
    const int rc = writable ? jn_lock_file(path, &job->lock_fd, &made) : jn_lock_file_shared(path, &job->lock_fd);
    job->lock_made |= made;
    if (rc <= 0)
        return rc;
    job->busy = 1;
    return jn_fail("--out %s: in use by another jacnoise process (a run trains in one process at a time)",
                   job->cfg.out);
}

static int set_paths(jn_job *job)
{
    const char *out = job->cfg.out;
    if (!out[0])
        return jn_fail("--out: a run folder is required");
    return jn_path_join(job->last_path, sizeof job->last_path, out, "last.ckpt") ||
           jn_path_join(job->best_path, sizeof job->best_path, out, "best.ckpt") ||
           jn_path_join(job->metrics_path, sizeof job->metrics_path, out, "metrics.jsonl") ||
           jn_path_join(job->summary_path, sizeof job->summary_path, out, "summary.json") ||
           jn_path_join(job->config_path, sizeof job->config_path, out, "config.txt") ||
           jn_path_join(job->lock_path, sizeof job->lock_path, out, "lock");
}

/* config.txt gets every option; checkpoints get the experiment's (config_text). */
static int write_config(jn_job *job)
{
    size_t all = jn_config_format(&job->cfg, JN_CMD_TRAIN, 0, NULL, 0);
    size_t experiment = jn_config_format(&job->cfg, JN_CMD_TRAIN, 1, NULL, 0);
    char *text = malloc(all + 1);
    free(job->config_text);
    job->config_text = malloc(experiment + 1);
    if (!text || !job->config_text) {
        free(text);
        return jn_fail("out of memory");
    }
    jn_config_format(&job->cfg, JN_CMD_TRAIN, 0, text, all + 1);
    jn_config_format(&job->cfg, JN_CMD_TRAIN, 1, job->config_text, experiment + 1);
    int rc = jn_write_file_atomic(job->config_path, text, all);
    free(text);
    return rc;
}

/* Whether summary.json reads back and says how the run at st ended (one torn or edited is
 * written again). */
static int summary_agrees(const char *path, const jn_train_state *st)
{
    jn_summary_file f;
    if (!file_exists(path) || jn_summary_read(path, &f))
        return 0;
    return !strcmp(f.status, jn_run_status_name(st->status)) && f.s.epochs_done == st->epoch &&
           f.s.steps == st->global_step;
}

/* Whether best.ckpt stands where last.ckpt, at `at`, does not: gone (deleted for room, left
 * out of a copy), or ahead of it (best.ckpt is written first: a crash between the two writes,
 * or a divergence between --checkpoint-epochs, leaves a later epoch's, which a resume with
 * fewer --epochs never reaches). A damaged one is left to its readers to refuse. */
static int best_lost(const jn_job *job, const jn_train_state *at)
{
    jn_checkpoint best;
    if (!file_exists(job->best_path))
        return 1;
    if (jn_checkpoint_read_header(job->best_path, &best))
        return 0;
    const int ahead = best.state.global_step > at->global_step;
    jn_checkpoint_free(&best);
    return ahead;
}

/* A run folder whose best.ckpt is lost (best_lost) while its last.ckpt, at `at`, holds the
 * best parameters: the resumed run ended without a best.ckpt, or with another epoch's, where
 * no later epoch was better. It is written again, with the state of its epoch's end as the run
 * wrote it: last.ckpt's own where that epoch is the last done, else rebuilt (epochs have equal
 * batches; such a state was running). */
static void restore_best(jn_job *job, const jn_train_state *at)
{
    if (!at->best_epoch || !best_lost(job, at))
        return;
    job->best_unsaved = 1;
    if (at->epoch == at->best_epoch && at->batch == 0) {
        job->best_state = *at;
        return;
    }
    const uint64_t batches = (at->global_step - (uint64_t)at->batch) / (uint64_t)at->epoch;
    job->best_state = (jn_train_state){.global_step = batches * (uint64_t)at->best_epoch, .epoch = at->best_epoch,
                                       .best_valid_error = at->best_valid_error, .best_epoch = at->best_epoch,
                                       .status = JN_RUN_RUNNING};
}

/* Loads last.ckpt and the configuration it was written with, merged with what the command
 * line may change. */
static int open_resumed(jn_job *job, const jn_config *cli)
{
    jn_checkpoint *ck = &job->resumed;
    if (!file_exists(job->last_path))
        return jn_fail("--resume: no checkpoint at %s (start the run without --resume)", job->last_path);
    if (jn_checkpoint_read(job->last_path, ck))
        return -1;
    if (!ck->velocity || !ck->best_params)
        return jn_fail("%s: not a resumable checkpoint (no optimizer state); is it a best.ckpt?", job->last_path);
    /* config.txt has the operational options the run used (folder, threads, data folder);
     * the checkpoint has the experiment's, authoritative; the command line comes last. */
    /* Every run writes config.txt before its first step: a last.ckpt without one is another
     * run's copied in (its epochs would join whatever this folder holds), or a folder whose
     * config.txt is gone, and its operational options with it. */
    if (!file_exists(job->config_path))
        return jn_fail("%s: no config.txt beside it, which every run writes before its first step: a checkpoint "
                       "copied in is no run of this folder; put back its run's config.txt to continue it, or choose "
                       "another --out", job->last_path);
    jn_config_defaults(&job->cfg);
    if (jn_config_load_file(&job->cfg, JN_CMD_TRAIN | JN_CONFIG_STORED, job->config_path))
        return -1;
    const jn_config from_file = job->cfg;
    /* A pause, and the progress line, apply to the invocation that asked for them: a run
     * started on a terminal with --progress always filled a resume's log with its lines.
     * config.txt no longer records them; an older run's may. */
    job->cfg.max_steps = 0;
    job->cfg.progress = cli->progress;
    if (jn_checkpoint_config(ck, job->last_path, &job->cfg))
        return -1;
    /* config.txt was written with the run's options: one that decides the numbers and differs
     * is another run's last.ckpt copied in (its epochs would join this run's metrics.jsonl),
     * or an edit the resume would undo without a word. */
    jn_config scratch = job->cfg;
    if (jn_config_merge_resume(&scratch, &from_file, NULL))
        return jn_fail_context("%s disagrees with %s", job->config_path, job->last_path);
    if (jn_config_merge_resume(&job->cfg, cli, "start a new run (another --out)"))
        return -1;
    /* The run is in the folder resumed, whatever config.txt says: a folder moved and resumed
     * by the default --out (runs/latest) made its old name again, empty, and named it. */
    strcpy(job->cfg.out, cli->out);
    /* Fewer epochs than reached would write a state beyond its own configuration. */
    const int reached = jn_train_state_epochs(&ck->state);
    if (job->cfg.epochs < reached)
        return jn_fail("--epochs %d: %s has %s %d epoch%s; give at least that many", job->cfg.epochs,
                       job->last_path, ck->state.batch > 0 ? "started" : "done", reached, reached == 1 ? "" : "s");
    restore_best(job, &ck->state);
    /* A run that stopped goes on where the rule given now would not have stopped it: epochs
     * left and a patience its epochs without improvement do not reach (0: off). */
    jn_train_state *st = &ck->state;
    if (st->status != JN_RUN_RUNNING && epoch_end_status(st, &job->cfg) == JN_RUN_RUNNING) {
        st->status = JN_RUN_RUNNING;
        /* Ended at its best epoch, best.ckpt said "finished"; now one epoch of a longer run, it
         * is written again as running, as restore_best rebuilds it, which cannot know the run
         * once ended there. */
        if (st->best_epoch == st->epoch && st->batch == 0) {
            job->best_state = *st;
            job->best_unsaved = 1;
        }
    }
    /* One that finished its epochs, given more and a smaller --patience its epochs without
     * improvement reach, stops early there: it trained on, an epoch or more past where that
     * patience stops it. */
    else if (st->status == JN_RUN_FINISHED && st->epoch < job->cfg.epochs) {
        st->status = JN_RUN_EARLY_STOPPED;
        job->last_unsaved = 1;
    }
    /* One paused at an epoch's end (--max-steps) that the rule given now ends (fewer --epochs, a
     * smaller --patience) ends there, as a run given that rule from the start: trained on, it
     * ran an epoch past its --epochs ("epoch 3/2") into a last.ckpt every reader then refused. */
    else if (st->status == JN_RUN_RUNNING && st->batch == 0 &&
             (st->status = epoch_end_status(st, &job->cfg)) != JN_RUN_RUNNING) {
        job->last_unsaved = 1;
        if (st->best_epoch == st->epoch) {  /* best.ckpt said "running" */
            job->best_state = *st;
            job->best_unsaved = 1;
        }
    }
    /* One that stays ended, its summary there, only says how it ended: rewritten, the summary's
     * seconds became this command's, and a folder kept read-only refused it. */
    job->idle = st->status != JN_RUN_RUNNING && summary_agrees(job->summary_path, st) && !job->best_unsaved &&
                !job->last_unsaved;
    return 0;
}

/* A new run refuses a folder that holds what an ended run left without a last.ckpt to
 * resume (a diverged run's summary, best parameters or metrics): it would silently overwrite
 * them. A run that has no summary stopped before its first last.ckpt (killed, or a write
 * failed: best.ckpt and metrics.jsonl come first), so the same options start it again and
 * lose nothing; config.txt alone (jn_job_commit writes it before the first step) is no
 * result either. */
static int refuse_results(const jn_job *job)
{
    /* The run writes its config.txt over the folder's: one that is no run's options is
     * someone's file (--out . in a project that keeps a config.txt). */
    jn_config there;
    jn_config_defaults(&there);
    const int has_config = file_exists(job->config_path);
    if (has_config && jn_config_load_file(&there, JN_CMD_TRAIN | JN_CONFIG_STORED, job->config_path))
        return jn_fail_context("--out %s holds a config.txt that is not a jacnoise run's, which the run would "
                               "replace; choose another --out or remove it", job->cfg.out);
    const int ended = file_exists(job->summary_path);
    /* The run there stopped (killed, or failed on a write) before its first last.ckpt, and
     * this command trains it again, to the same bytes. */
    const int same = !ended && has_config ? jn_config_same_experiment(&job->cfg, &there) : 0;
    if (same < 0)
        return jn_fail_context("--out %s", job->cfg.out);
    if (same)
        return 0;
    const char *const results[] = {job->summary_path, job->best_path, job->metrics_path};
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
        if (file_exists(results[i]))
            return jn_fail("--out %s already holds %s (%s) and no last.ckpt to resume; %schoose another --out or "
                           "remove them",
                           job->cfg.out, ended ? "an ended run's results" : "a run stopped before its first checkpoint",
                           results[i], ended ? "" : "start it again with its own options (config.txt), ");
    return 0;
}

int jn_train_auto_start_check(const jn_config *cfg)
{
    /* A run killed before its first last.ckpt leaves only its config.txt, which a new run
     * may replace; under --resume=auto, whose user means to continue it, another experiment
     * (the defaults, where the options were left to the run) replaced it without a word. */
    char path[JN_PATH_MAX + 16], summary[JN_PATH_MAX + 16];
    jn_config there;
    jn_config_defaults(&there);
    /* An ended run's results, and a config.txt that is no run's, the run refuses itself. */
    if (jn_path_join(summary, sizeof summary, cfg->out, "summary.json") || file_exists(summary) ||
        jn_path_join(path, sizeof path, cfg->out, "config.txt") || !file_exists(path) ||
        jn_config_load_file(&there, JN_CMD_TRAIN | JN_CONFIG_STORED, path))
        return 0;
    there.epochs = cfg->epochs;  /* the stopping rule may change, as a resume's may */
    there.patience = cfg->patience;
    const int same = jn_config_same_experiment(cfg, &there);
    if (same < 0)
        return jn_fail_context("--out %s", cfg->out);
    if (same)
        return 0;
    return jn_fail("--resume=auto: --out %s holds no last.ckpt to continue, but the config.txt of a run stopped "
                   "before its first checkpoint, with other options than this command's; start that run again with "
                   "--config %s, or choose another --out", cfg->out, path);
}

static int open_job(jn_job *job, const jn_config *cli, int rerun)
{
    job->cfg = *cli;
    job->resume = cli->resume;
    if (set_paths(job))
        return -1;
    if (jn_out_folder_check("--out", job->cfg.out, 0))  /* a sweep's run too: train checked its own */
        return -1;
    struct stat st;
    int writable = 1, write_errno = 0;  /* a folder still to make is made where the run writes */
    if (stat(job->cfg.out, &st) == 0) {
        writable = access(job->cfg.out, W_OK) == 0;
        write_errno = errno;
        if (lock_folder(job, writable))
            return -1;
        /* A folder there would fail the first write of the file, after an epoch of work, and
         * every resume's after it. */
        const char *const written[] = {job->last_path, job->best_path, job->config_path, job->summary_path};
        for (size_t i = 0; i < sizeof written / sizeof written[0]; i++)
            if (jn_tmp_check(NULL, written[i]))
                return -1;
    }
    if (cli->resume) {
        /* Without last.ckpt, "start the run without --resume" holds only where a new run may
         * start there. */
        if (!file_exists(job->last_path) && refuse_results(job))
            return jn_fail_context("--resume");
        if (open_resumed(job, cli))
            return -1;
        /* TF32 GEMMs decide the run's numbers, so its resume keeps them: the advice for a new
         * run, --precision fp32, is refused here, and the run gave no --precision. */
        const char *no_tf32 = job->cfg.tf32 ? jn_backend_no_tf32(job->cfg.device) : NULL;
        if (no_tf32)
            return jn_fail("%s: the run trains with TF32 GEMMs (precision=tf32), which decide its numbers and so stay: "
                           "it continues only on the CUDA backend, and %s", job->last_path, no_tf32);
    } else if (file_exists(job->last_path)) {
        return jn_fail("--out %s already holds a run (last.ckpt); continue it with --resume or choose another --out",
                       cli->out);
    } else if (!rerun && refuse_results(job)) {
        return -1;
    }
    if (!job->idle && !writable)
        return jn_fail("--out %s: cannot write in the folder (%s), where the run writes its checkpoints",
                       job->cfg.out, strerror(write_errno));
    return jn_config_check(&job->cfg);
}

jn_job *jn_job_open(const jn_config *cli, int rerun, int *busy)
{
    jn_job *job = calloc(1, sizeof *job);
    if (!job) {
        jn_fail("out of memory");
        return NULL;
    }
    job->slot = -1;
    job->lock_fd = -1;
    job->started = jn_wall_seconds();
    if (open_job(job, cli, rerun)) {
        if (busy)
            *busy = job->busy;
        jn_job_free(job);
        return NULL;
    }
    return job;
}

void jn_job_free(jn_job *job)
{
    if (!job)
        return;
    /* A run that failed before its folder changed (no data, a checkpoint refused), or one
     * with nothing to do, leaves the folder as it found it; so does a new run that failed
     * before it wrote any result (device memory at its first step): the config.txt and lock
     * it made looked like a run. */
    const int undo = !job->committed || (!job->resume && !job->wrote);
    if (undo && job->config_made)
        remove(job->config_path);
    if (job->lock_made && undo)
        jn_unlock_remove(job->lock_path, job->lock_fd);
    else if (job->lock_fd >= 0)
        close(job->lock_fd);
    if (job->folder_made && undo)
        rmdir(job->cfg.out);
    jn_checkpoint_free(&job->resumed);
    free(job->params);
    free(job->velocity);
    free(job->best);
    free(job->config_text);
    free(job);
}

static int same_model(const jn_model *a, const jn_model *b)
{
    if (a->n_layers != b->n_layers)
        return 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->sizes[l] != b->sizes[l])
            return 0;
    return 1;
}

int jn_job_init(jn_job *job, const jn_model *m, const jn_data *data, uint32_t data_crc)
{
    const int resume = job->resume;
    if (resume && !same_model(m, &job->resumed.model))
        return jn_fail("%s: the checkpoint's model does not match its configuration and data", job->last_path);
    if (resume && jn_checkpoint_check_data(&job->resumed, job->last_path, data_crc, job->cfg.data, data->dir, 1))
        return -1;
    job->data_crc = data_crc;
    /* config.txt names the folder the relative file names were read from: a resume from
     * another folder, or with another $JACNOISE_DATA, reads the same files. */
    if (data->root[0] && strlen(data->root) < sizeof job->cfg.data_dir)
        strcpy(job->cfg.data_dir, data->root);
    job->model = *m;
    const size_t P = m->n_params;
    job->params = malloc(sizeof(jn_real) * P);
    job->velocity = calloc(P, sizeof(jn_real));
    job->best = malloc(sizeof(jn_real) * P);
    if (!job->params || !job->velocity || !job->best)
        return jn_fail("out of memory for %zu parameters", P);
    if (resume) {
        const jn_checkpoint *ck = &job->resumed;
        memcpy(job->params, ck->params, sizeof(jn_real) * P);
        memcpy(job->velocity, ck->velocity, sizeof(jn_real) * P);
        memcpy(job->best, ck->best_params, sizeof(jn_real) * P);
        job->state = job->saved = ck->state;
        job->has_saved = 1;
        jn_checkpoint_free(&job->resumed);
    } else {
        jn_model_init_params(m, job->cfg.seed, job->params);
        memcpy(job->best, job->params, sizeof(jn_real) * P);
        job->state.best_valid_error = 100.0;
    }
    return 0;
}

int jn_out_folder_check(const char *option, const char *dir, int sweep)
{
    const char *lead = option ? option : "", *gap = option ? " " : "", *again = option ? option : "folder";
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))  /* not 'DIR/runs: cannot create folder' */
        return jn_fail("%s%s%s: exists and is not a folder", lead, gap, dir);
    char spec[JN_PATH_MAX + 16], config[JN_PATH_MAX + 16], table[JN_PATH_MAX + 16];
    if (jn_path_join(spec, sizeof spec, dir, "sweep.spec") || jn_path_join(config, sizeof config, dir, "config.txt") ||
        jn_path_join(table, sizeof table, dir, "reproduce.json"))
        return -1;
    const int has_spec = access(spec, F_OK) == 0, has_config = access(config, F_OK) == 0;
    /* tools/reproduce.py's results folder: a sweep's results.csv replaced its table's, and
     * either one's files there made the tool refuse the folder (as a sweep's or a run's). */
    if (!has_spec && !has_config && access(table, F_OK) == 0)
        return jn_fail("%s%s%s holds tools/reproduce.py's results (reproduce.json), not a %s: choose another %s", lead,
                       gap, dir, sweep ? "sweep" : "training run", again);
    if (sweep && has_config && !has_spec)
        return jn_fail("%s%s%s holds a training run (config.txt), not a sweep: choose another %s", lead, gap, dir,
                       again);
    if (!sweep && has_spec && !has_config)
        return jn_fail("%s%s%s holds a sweep (sweep.spec), not a training run: choose another %s", lead, gap, dir,
                       again);
    return 0;
}

int jn_job_commit(jn_job *job)
{
    /* Only now, with everything loaded and checked, does the run folder change. A run in
     * progress has no summary: an earlier one (of the run resumed, or of a failed attempt a
     * sweep retries) would say that it ended. */
    if (job->idle)
        return 0;
    job->folder_made = !file_exists(job->cfg.out);
    if (jn_mkdirs(job->cfg.out))  /* named as the run folder's other refusals are */
        return jn_fail_option("--out", job->cfg.out);
    if (lock_folder(job, 1))
        return -1;
    /* A merge killed mid-batch left its staged copies ("FILE.tmp") here, which only a re-merge
     * removed: metrics.jsonl's, which no write of the run replaces, stayed for good. The lock
     * held, none is another process's write. */
    const char *const files[] = {job->config_path, job->metrics_path, job->best_path, job->last_path,
                                 job->summary_path};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        jn_drop_staged(files[i]);
    if (job->resume ? jn_metrics_truncate(job->metrics_path, job->state.epoch) : remove_stale(job->metrics_path))
        return -1;
    job->config_made = !file_exists(job->config_path);
    if (remove_stale(job->summary_path) || write_config(job))
        return -1;
    job->committed = 1;
    return 0;
}

jn_model_hparams jn_job_hparams(const jn_job *job)
{
    const jn_objective *o = &job->cfg.obj;
    return (jn_model_hparams){job->cfg.seed, job->cfg.momentum, o->weight_decay, o->input_noise, o->jac_noise,
                              o->jac_lambda};
}

double jn_job_lr(const jn_job *job) { return jn_config_lr(&job->cfg, job->state.epoch); }

int jn_job_state_finite(const jn_job *job)
{
    for (size_t i = 0; i < job->model.n_params; i++)
        if (!isfinite(job->params[i]) || !isfinite(job->velocity[i]))
            return 0;
    return 1;
}

int jn_job_save_last(jn_job *job) { return save_last(job); }

static void print_epoch(const jn_epoch_metrics *m, int epochs)
{
    printf("epoch %3d/%d  loss %.5f", m->epoch, epochs, m->train_loss);
    if (isfinite(m->penalty))
        printf("  penalty %.5g", m->penalty);
    printf("  train %.2f%%", m->train_error);
    if (isfinite(m->valid_error))
        printf("  valid %.2f%%", m->valid_error);
    if (isfinite(m->test_error))
        printf("  test %.2f%%", m->test_error);
    printf("  lr %.4g  %.1fs%s\n", m->lr, m->seconds, m->best ? "  *" : "");
    jn_stdout_flush();
}

int jn_job_end_epoch(jn_job *job, double valid_error, double test_error)
{
    const jn_objective *obj = &job->cfg.obj;
    jn_train_state *st = &job->state;
    jn_epoch_metrics m = {
        .epoch = st->epoch + 1,
        .step = st->global_step,
        .lr = jn_job_lr(job),
        .train_loss = st->sums.loss / (double)st->sums.examples,
        .penalty = obj->jac_lambda > 0 ? st->sums.penalty / (double)st->sums.examples : NAN,
        .weight_decay = jn_weight_decay_term(&job->model, job->params, obj->weight_decay),
        .train_error = 100.0 * (double)st->sums.errors / (double)st->sums.examples,
        .valid_error = valid_error,
        .test_error = test_error,
    };
    m.objective = m.train_loss + (obj->jac_lambda > 0 ? obj->jac_lambda * m.penalty : 0) + m.weight_decay;
    /* Without a validation set the latest parameters count as the best. */
    m.best = isnan(m.valid_error) || m.valid_error < st->best_valid_error || !st->best_epoch;
    if (m.best) {
        memcpy(job->best, job->params, sizeof(jn_real) * job->model.n_params);
        job->best_unsaved = 1;
        st->best_valid_error = m.valid_error;
        st->best_epoch = m.epoch;
        st->bad_epochs = 0;
    } else {
        st->bad_epochs++;
    }
    st->epoch++;
    st->batch = 0;
    memset(&st->sums, 0, sizeof st->sums);
    st->status = epoch_end_status(st, &job->cfg);
    if (m.best)
        job->best_state = *st;
    m.seconds = jn_wall_seconds() - job->epoch_start;
    /* metrics first: a crash before the checkpoint replays this epoch and the resume trims
     * its line, so the file never holds an epoch twice. last.ckpt may be written every
     * checkpoint-epochs epochs only: a resume then replays the epochs since, to the same
     * bytes; the last epoch of a run is always written. best.ckpt goes with it (save_best). */
    const int write_last = st->status != JN_RUN_RUNNING || st->epoch % job->cfg.checkpoint_epochs == 0;
    job->wrote = 1;
    if (jn_metrics_append(job->metrics_path, &m) || (write_last && save_last(job)))
        return -1;
    job->epoch_start = jn_wall_seconds();
    if (job->verbose) {
        jn_progress_clear(job->progress);
        print_epoch(&m, job->cfg.epochs);
    }
    return 0;
}

static int write_summary(jn_job *job, const char *status, const char *message, double test_error)
{
    job->wrote = 1;
    const jn_train_state *st = &job->state;
    jn_run_summary s = {
        .status = status,
        .message = message,
        .epochs_done = st->epoch,
        .steps = st->global_step,
        .best_epoch = st->best_epoch,
        .best_valid_error = st->best_epoch ? st->best_valid_error : NAN,
        .test_error = test_error,
        .seconds = jn_wall_seconds() - job->started,
        .device = job->device.backend[0] ? &job->device : NULL,
    };
    return jn_summary_write(job->summary_path, &s);
}

int jn_job_finish(jn_job *job, const char *status, const char *message, double test_error, int code)
{
    const jn_train_state *st = &job->state;
    job->ended = 1;
    job->code = code;
    snprintf(job->status, sizeof job->status, "%s", status);
    snprintf(job->message, sizeof job->message, "%s", message);
    /* A run that ends between checkpoints (diverged, stopped) still leaves its best. */
    if ((job->last_unsaved ? save_last(job) : save_best(job)) || (!job->idle && write_summary(job, status, message, test_error))) {
        jn_job_fail(job);
        return -1;
    }
    if (job->verbose) {
        jn_progress_clear(job->progress);
        jn_print(stdout, "%s: %s", status, message);
        if (st->best_epoch) {
            if (isfinite(st->best_valid_error))
                printf("; best epoch %d: valid %.2f%%", st->best_epoch, st->best_valid_error);
            else
                printf("; epoch %d (no validation split)", st->best_epoch);
            if (isfinite(test_error))
                printf(", test %.2f%%", test_error);
        }
        jn_print(stdout, " (run folder %s)\n", job->cfg.out);
        jn_stdout_flush();
    }
    return 0;
}

void jn_job_divergence_message(const jn_job *job, long batches, uint64_t step, const char *what, char *out,
                               size_t cap)
{
    /* What a resume continues from: with --checkpoint-epochs N the last checkpoint may be
     * epochs older than the divergence, and a run may diverge before its first. */
    const jn_train_state *at = &job->saved;
    char kept[160];
    if (!job->has_saved)
        snprintf(kept, sizeof kept, "no last.ckpt was written yet");
    else if (at->batch == 0)
        snprintf(kept, sizeof kept, "last.ckpt, after epoch %d (step %llu), is kept", at->epoch,
                 (unsigned long long)at->global_step);
    else
        snprintf(kept, sizeof kept, "last.ckpt, after batch %ld of epoch %d (step %llu), is kept", at->batch,
                 at->epoch + 1, (unsigned long long)at->global_step);
    snprintf(out, cap, "at epoch %ld, batch %ld (step %llu): %s; %s; try a smaller --lr or --jac-lambda",
             (long)((step - 1) / (uint64_t)batches) + 1, (long)((step - 1) % (uint64_t)batches) + 1,
             (unsigned long long)step, what, kept);
}

void jn_job_where(const jn_train_state *st, char *out, size_t cap)
{
    /* "at epoch 10, batch 1" read as its first batch (a divergence counts batches from 1) where
     * it meant one batch done. */
    if (st->batch)
        snprintf(out, cap, "after batch %ld of epoch %d", st->batch, st->epoch + 1);
    else if (st->epoch)
        snprintf(out, cap, "at the end of epoch %d", st->epoch);
    else
        snprintf(out, cap, "before its first step");
}

void jn_job_fail(jn_job *job)
{
    job->ended = 1;
    job->code = JN_EXIT_ERROR;
    snprintf(job->status, sizeof job->status, "failed");
    snprintf(job->message, sizeof job->message, "%s", jn_last_error());
}

const jn_config *jn_job_config(const jn_job *job) { return &job->cfg; }
long jn_job_batch(const jn_job *job)
{
    return job->params ? job->state.batch : job->resume ? job->resumed.state.batch : 0;
}
int jn_job_busy(const jn_job *job) { return job->busy; }
const char *jn_job_status(const jn_job *job) { return job->status; }
const char *jn_job_message(const jn_job *job) { return job->message; }
void jn_job_set_verbose(jn_job *job, int verbose) { job->verbose = verbose; }
