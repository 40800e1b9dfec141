/* The run folder's text outputs: metrics.jsonl (one JSON object per epoch) and
 * summary.json (how the run ended), written by the trainer and read back by sweeps (which
 * derive their tables from run folders). Internal to the library; its JSON value helpers
 * serve the commands that print JSON too (eval, data). */
#ifndef JACNOISE_TRAIN_METRICS_H
#define JACNOISE_TRAIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "jacnoise/backend.h"
#include "jacnoise/error.h"

typedef struct {
    int epoch;              /* 1-based */
    uint64_t step;          /* global steps done at the end of the epoch */
    double lr;
    double train_loss;      /* mean main loss over the epoch's training examples */
    double penalty;         /* mean R (before lam); NaN when the penalty is off */
    double weight_decay;    /* (wd/2) sum ||W||^2 at the end of the epoch */
    double objective;       /* train_loss + lam penalty + weight_decay */
    double train_error;     /* % misclassified during the epoch (at the noisy input) */
    double valid_error;     /* %; NaN when there is no validation set */
    double test_error;      /* %; NaN when there is no test set */
    int best;               /* this epoch's parameters are the best so far */
    double seconds;         /* wall time of the epoch, evaluation included */
} jn_epoch_metrics;

typedef struct {
    const char *status;     /* finished, early-stopped, diverged, interrupted, paused */
    const char *message;
    int epochs_done;
    uint64_t steps;
    int best_epoch;
    double best_valid_error;
    double test_error;      /* of the best parameters */
    double seconds;         /* this process's wall time */
    const jn_device_info *device;  /* what this process trained on; NULL: not recorded (a run
                                    * that failed before it had a backend, an older summary) */
} jn_run_summary;

/* Appends one epoch's line (fsync'ed). */
int jn_metrics_append(const char *path, const jn_epoch_metrics *m);

/* Keeps the lines of epochs <= epochs (resume: the epochs the checkpoint has done), rewriting
 * the file atomically; a torn last line goes, and a whole one without its newline gets it. A
 * complete line that is not an epoch's, an epoch's line at or below the one before it (a
 * line repeated, or out of order), or fewer lines than epochs (a missing file included), is
 * refused, naming the file, and the file is left as it was. */
int jn_metrics_truncate(const char *path, int epochs);

/* Writes summary.json atomically. */
int jn_summary_write(const char *path, const jn_run_summary *s);

/* The room for summary.json's message, as written (quoted, escaped) and as read back: it
 * reads back no longer than it is written, so the reader holds whatever the writer writes. */
#define JN_SUMMARY_MESSAGE 3072

/* A summary.json read back: status, message and device point into the buffers (device NULL
 * where the file records none). */
typedef struct {
    jn_run_summary s;
    char status[32];
    char message[JN_SUMMARY_MESSAGE];
    jn_device_info device;
} jn_summary_file;

/* Reads summary.json (as jn_summary_write writes it; null numbers read as NaN): one object, with
 * a status and epochs. Refusals name the file, and the byte offset where they have one. */
int jn_summary_read(const char *path, jn_summary_file *out);

/* A run's state where its summary.json does not read, the refusal recorded: that refusal, after
 * the end the run's last.ckpt (last) records (finished, early-stopped) where it records one.
 * One text for show's state line and sweep status's unreadable line. */
void jn_summary_unread_state(const char *last, char *out, size_t cap);
/* Its room: the end's name, last.ckpt's path (JN_PATH_MAX) and the refusal (JN_ERROR_MAX), whole
 * in show as in sweep status. */
#define JN_SUMMARY_UNREAD (JN_ERROR_MAX + JN_PATH_MAX + 64)

/* Why a run no summary.json ended and no process locks is said stopped: show's state and sweep
 * status's line for one killed before its first epoch ended say it alike. */
#define JN_RUN_STOPPED "no process trains it and it recorded no end: killed or crashed"

/* Reads metrics.jsonl: the complete lines, in order (a torn last line from a crash is left
 * out; a whole one without its newline is read); a line without one of the keys
 * jn_metrics_append writes, with a key given twice, or of an epoch at or below the line before
 * it is refused, as jn_metrics_truncate refuses it. *out is malloc'ed (NULL for none), to be
 * freed on a refusal too: it holds the lines before the one refused, which sweep status still
 * shows of the run; the fields read as written (null = NaN). Refusals name the file, line and
 * byte offset. */
int jn_metrics_read(const char *path, jn_epoch_metrics **out, int *count);

/* Appends a JSON number to a buffer (null for NaN or Inf). */
void jn_json_number(char *out, size_t cap, double v);

/* Writes s as a quoted JSON string (quote, backslash and control characters escaped, a byte
 * that is not UTF-8 as U+FFFD; at most 6 bytes per byte of s, so 6 strlen(s) + 3 always fit;
 * a shorter cap cuts between characters, the string then ending in "..."). */
void jn_json_string(char *out, size_t cap, const char *s);

#endif
