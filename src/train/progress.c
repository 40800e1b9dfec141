/* Progress line on stderr. */
#include "train/progress.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"

#include <stdio.h>
#include <unistd.h>

void jn_progress_init(jn_progress *p, jn_progress_mode mode)
{
    p->enabled = mode == JN_PROGRESS_ALWAYS || (mode == JN_PROGRESS_AUTO && isatty(STDERR_FILENO));
    p->last_draw = 0;
    p->drawn = 0;
}

void jn_format_duration(double s, char *out, size_t cap)
{
    /* Past 31 years (a rate measured over the first few steps, say) no estimate is worth
     * printing; "0m00s" there read as finished. NaN compares false: unknown too. */
    if (!(s < 1e9)) {
        snprintf(out, cap, "unknown");
        return;
    }
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t >= 48 * 3600)
        snprintf(out, cap, "%ldd%02ldh", t / 86400, t / 3600 % 24);
    else if (t >= 3600)
        snprintf(out, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
}

void jn_progress_draw(jn_progress *p, const char *line, int force)
{
    if (!p->enabled)
        return;
    double now = jn_wall_seconds();
    if (p->drawn && now - p->last_draw < 0.1 && !force)
        return;
    /* The line is escaped as every other message is: a name echoed in it (none is today) would
     * otherwise drive the terminal. Only the redraw's own escape is written raw. */
    fputs("\r\033[K", stderr);
    jn_print(stderr, "%s", line);
    fflush(stderr);
    p->last_draw = now;
    p->drawn = 1;
}

void jn_progress_update(jn_progress *p, const jn_progress_train *t)
{
    if (!p->enabled)
        return;
    char eta[32], line[256];
    jn_format_duration(t->eta_seconds, eta, sizeof eta);
    /* Three significant digits or so: a slow run's 0.42 steps/s read as 0 with none. */
    const int decimals = t->steps_per_second < 10 ? 2 : t->steps_per_second < 100 ? 1 : 0;
    snprintf(line, sizeof line, "epoch %d/%d  batch %ld/%ld  loss %.4f  train %.2f%%  %.*f steps/s  ETA %s",
             t->epoch, t->epochs, t->batch, t->batches, t->loss, t->train_error, decimals, t->steps_per_second, eta);
    jn_progress_draw(p, line, t->batch >= t->batches);
}

void jn_progress_clear(jn_progress *p)
{
    if (p && p->enabled && p->drawn) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        p->drawn = 0;
    }
}
