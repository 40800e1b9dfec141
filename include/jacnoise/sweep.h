/* Sweeps: a hyperparameter study in one command.
 *
 * A spec file (README "Sweeps"; src/sweep/spec.h) lists fixed and swept `train` options; each
 * configuration it expands to has a stable id (a hash of its experiment options) and trains in
 * DIR/runs/ID, an ordinary run folder (eval, show and train --resume work on it). The run
 * folders are the truth: DIR/results.csv (one row per configuration) and the status table are
 * regenerated from them. Rerunning the same command resumes: finished configurations are
 * skipped, unfinished ones continue from last.ckpt, to the bytes of an uninterrupted sweep.
 *
 * DIR/sweep.spec keeps the spec's text (status and merge read it). Configurations that share
 * a shape, batch, data and penalty structure train as one group (--models M per group), each
 * model to the bytes of the same configuration trained alone with `jacnoise train`. */
#ifndef JACNOISE_SWEEP_H
#define JACNOISE_SWEEP_H

#include "jacnoise/config.h"

/* BLAS threads of a sweep's runs where the spec and the command line give none: its workers
 * and groups share the cores. */
#define JN_SWEEP_THREADS 1

/* Runs (or resumes) the sweep of cfg->spec in cfg->out (not empty: the command refuses that,
 * as it refuses no --out): this shard's part (cfg->shard_*, or
 * SLURM_ARRAY_TASK_ID/_COUNT/_MIN/_STEP of the array recorded in cfg->out/slurm-array), in
 * cfg->jobs worker processes, cfg->models models per group. Prints what happens (stdout) and
 * its errors (stderr). Returns JN_EXIT_OK (diverged configurations are results), JN_EXIT_USAGE
 * for a bad spec or a cfg->out holding another spec (nothing ran), JN_EXIT_ERROR when
 * configurations failed (the sweep went on with the others; they are named), when no usable
 * GPU is there for --device cuda, when results.csv could not be written, or when another
 * process trains one of its runs (the same sweep running already), or
 * JN_EXIT_SIGINT / JN_EXIT_SIGTERM (SIGTERM or SIGHUP) / JN_EXIT_SIGPIPE (its standard output
 * closed), the runs it trained saved where they stood. */
int jn_sweep_run(const jn_config *cfg);

/* Whether a spec may set the option `key` for its runs: a train option the sweep does not set
 * itself (out, resume, max-steps, progress, config). */
int jn_sweep_spec_accepts(const char *key);

/* Prints the progress of the sweep in dir (counts, best configurations) and, where some are
 * unfinished, how it continues (in a Slurm job array's folder: which tasks to resubmit).
 * JN_EXIT_USAGE where dir is no sweep folder (missing, a file, no sweep.spec). */
int jn_sweep_status(const char *dir);

/* Copies into dir the run folders of the source sweep folders (shards of the same spec run
 * apart) that are further along than dir's, each locked while it is replaced (a folder another
 * process holds refuses the merge before anything is written, dir not made), then regenerates
 * dir/results.csv. With no sources, regenerates dir/results.csv from dir's own folders.
 * JN_EXIT_USAGE where a folder named is no sweep folder, dir is a file, or a source is a sweep
 * of another spec, nothing written. */
int jn_sweep_merge(const char *dir, const char *const *sources, int n_sources);

#endif
