/* Training runs: the epoch loop, evaluation, early stopping, checkpoints, resume.
 *
 * A run folder (--out) holds:
 *   config.txt     the resolved configuration (key=value; usable with --config)
 *   metrics.jsonl  one JSON object per epoch
 *   last.ckpt      everything needed to continue bit-identically (checkpoint.h)
 *   best.ckpt      the parameters with the best validation error so far
 *   summary.json   how the run ended and the test error of the best parameters */
#ifndef JACNOISE_TRAIN_H
#define JACNOISE_TRAIN_H

#include "jacnoise/config.h"

/* Process exit statuses of `jacnoise train`. */
enum {
    JN_EXIT_OK = 0,            /* finished, early-stopped, or paused by --max-steps */
    JN_EXIT_ERROR = 1,         /* bad input or a failed operation; one line on stderr */
    JN_EXIT_USAGE = 2,         /* bad command line */
    JN_EXIT_DIVERGED = 3,      /* the loss became NaN or Inf */
    JN_EXIT_SIGINT = 130,      /* interrupted; resumable */
    JN_EXIT_SIGTERM = 143      /* terminated; resumable */
};

/* Runs or resumes (cfg->resume) the training job; returns a JN_EXIT_* status. Errors are
 * recorded (error.h) for the caller to print. */
int jn_train_run(const jn_config *cfg);

#endif
