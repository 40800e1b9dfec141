/* Phase marks of the CUDA engine: NVTX ranges in a "jacnoise" domain, for Nsight Systems,
 *   nsys profile --trace=cuda,nvtx build/jacnoise train --device cuda --cuda-graph off ...
 * (with CUDA graphs on, a step is one graph launch and the phases show only at capture), and
 * the profile's clock (jacnoise profile --device cuda times the phases with CUDA events).
 * Marks are flat, as the CPU reference's jn_phase_mark: the work issued after a mark belongs
 * to its phase until the next mark; JN_PHASE_NONE closes the open range. */
#ifndef JACNOISE_CUDA_NVTX_H
#define JACNOISE_CUDA_NVTX_H

#include "jacnoise/profile.h"

/* Closes this thread's open range (if any) and opens next's (none for JN_PHASE_NONE); reports
 * next to the thread's phase clock, if one is set. */
void jn_cuda_phase(jn_phase next);

/* Closes the open phase and passes rc through: every public function of the engine that marks
 * phases ends with it on every path, so that no range outlives a call, a failed one included. */
static inline int jn_cuda_phase_end(int rc)
{
    jn_cuda_phase(JN_PHASE_NONE);
    return rc;
}

/* The clock later marks on this thread report to (NULL: none), for the profile. */
void jn_cuda_set_phase_clock(jn_phase_clock *clock);

#endif
