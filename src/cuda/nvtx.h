/* NVTX ranges of the training phases in a "jacnoise" domain, for Nsight Systems:
 *   nsys profile --trace=cuda,nvtx build/jacnoise train --device cuda --cuda-graph off ...
 * (with CUDA graphs on, a step is one graph launch and the phases show only at capture). */
#ifndef JACNOISE_CUDA_NVTX_H
#define JACNOISE_CUDA_NVTX_H

#include <nvtx3/nvToolsExt.h>

typedef enum { JN_PHASE_DATA, JN_PHASE_FORWARD, JN_PHASE_JVP, JN_PHASE_PENALTY, JN_PHASE_BACKWARD,
               JN_PHASE_UPDATE, JN_PHASE_EVAL } jn_phase;

void jn_nvtx_push(jn_phase phase);
void jn_nvtx_pop(void);

#endif
