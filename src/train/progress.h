/* The progress line: redrawn in place on stderr when it is a terminal (or when forced),
 * silent otherwise; train's (epoch, batch, loss, training error, speed, ETA) and a sweep's.
 * Internal to the library. */
#ifndef JACNOISE_TRAIN_PROGRESS_H
#define JACNOISE_TRAIN_PROGRESS_H

#include "jacnoise/config.h"

typedef struct {
    int enabled;
    double last_draw;
    int drawn;   /* a line is on screen */
} jn_progress;

void jn_progress_init(jn_progress *p, jn_progress_mode mode);
/* Draws a line, at most ten times a second unless forced. */
void jn_progress_draw(jn_progress *p, const char *line, int force);
/* Train's line: where the run is, the epoch's running loss and training error (as its
 * metrics.jsonl line will say them), this process's speed and the time left. */
typedef struct {
    int epoch, epochs;       /* the epoch in progress, from 1 */
    long batch, batches;     /* batches of it done */
    double loss, train_error; /* % */
    double steps_per_second, eta_seconds;
} jn_progress_train;

/* Redraws train's line at most ten times a second (always at an epoch's last batch). */
void jn_progress_update(jn_progress *p, const jn_progress_train *t);
/* Erases the line before other output (p may be NULL). */
void jn_progress_clear(jn_progress *p);

/* "4m05s", "2h10m", "3d07h"; "unknown" from 1e9 seconds on (and for NaN). */
void jn_format_duration(double seconds, char *out, size_t cap);

#endif
