/* The progress line: epoch, batch, loss and ETA, redrawn in place on stderr when it is a
 * terminal (or when forced), silent otherwise. Internal to src/train. */
#ifndef JACNOISE_TRAIN_PROGRESS_H
#define JACNOISE_TRAIN_PROGRESS_H

#include "jacnoise/config.h"

typedef struct {
    int enabled;
    double last_draw;
    int drawn;   /* a line is on screen */
} jn_progress;

void jn_progress_init(jn_progress *p, jn_progress_mode mode);
/* Redraws at most ten times a second. */
void jn_progress_update(jn_progress *p, int epoch, int epochs, long batch, long batches, double loss,
                        double eta_seconds);
/* Erases the line before other output (p may be NULL). */
void jn_progress_clear(jn_progress *p);

/* Monotonic seconds. */
double jn_now(void);

#endif
