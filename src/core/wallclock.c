/* The monotonic clock (see jacnoise/wallclock.h). */
#include "jacnoise/wallclock.h"

#include <time.h>

double jn_wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
