/* The host's monotonic clock: the epoch and run times train and sweep report, the ETA of
 * every progress line, checkpoint-write time, the profile's wall-clock phases and the SGEMM
 * peak it compares against. Its own header so that training need not include the profiler's. */
#ifndef JACNOISE_WALLCLOCK_H
#define JACNOISE_WALLCLOCK_H

double jn_wall_seconds(void);  /* the monotonic clock, in seconds */

#endif
