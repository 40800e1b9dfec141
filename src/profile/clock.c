/* Phase names and the wall-clock phase clock (see jacnoise/profile.h). */
#include "jacnoise/profile.h"
#include "jacnoise/wallclock.h"

#include <string.h>

const char *jn_phase_name(jn_phase p)
{
    static const char *names[] = {"data", "forward", "jvp", "penalty", "backward", "update", "eval", "none"};
    return p <= JN_PHASE_NONE ? names[p] : "none";
}

static void wall_mark(jn_phase_clock *clock, jn_phase next)
{
    jn_wall_clock *c = (jn_wall_clock *)clock;
    const double t = jn_wall_seconds();
    if (c->current != JN_PHASE_NONE)
        c->seconds[c->current] += t - c->since;
    c->current = next;
    c->since = t;
}

void jn_wall_clock_init(jn_wall_clock *c)
{
    memset(c, 0, sizeof *c);
    c->base.mark = wall_mark;
    c->current = JN_PHASE_NONE;
}
