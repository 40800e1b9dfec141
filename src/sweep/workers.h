/* --jobs N: worker processes, each training its part of a sweep shard, reporting to the
 * parent through a pipe (so only the parent prints, draws the progress line and rewrites
 * results.csv). Internal to src/sweep. */
#ifndef JACNOISE_SWEEP_WORKERS_H
#define JACNOISE_SWEEP_WORKERS_H

#include "sweep/schedule.h"

/* Forks `jobs` workers over the entries flagged in `mine`, worker j taking part j of `jobs`
 * (jn_plan_deal; `known` as jn_sweep_work takes it), and passes their reports to `report`. SIGINT/SIGTERM reach every worker,
 * which saves its runs. Returns 0, the signal's exit status, or JN_EXIT_ERROR if a worker
 * failed (error recorded). */
int jn_sweep_workers(const jn_plan *plan, const unsigned char *mine, const jn_run_row *known, int jobs,
                     const jn_sweep_report *report);

/* For --device cuda, jn_cuda_device_check, and for --device auto with tf32 (which the CPU it
 * falls back to lacks), jn_backend_precision_check, asked in a child process, since the CUDA
 * runtime initialised in this one would not work in the workers forked after: 0 (also for the
 * other cases, which fall back to the CPU), or -1 with the reason recorded. Where gpu_free is
 * not NULL, the child also reads into it the free bytes of the GPU the device would use (0: the
 * CPU), before any worker holds some (jn_backend_share_memory). */
int jn_sweep_device_check(jn_device device, int tf32, double *gpu_free);

#endif
