/* The jacnoise NVTX domain and the phase marks (see nvtx.h). */
#include "cuda/nvtx.h"

#include <nvtx3/nvToolsExt.h>

/* Per thread, as NVTX ranges are: whether a range is open, and the profile's clock. */
static _Thread_local int range_open;
static _Thread_local jn_phase_clock *phase_clock;

static nvtxDomainHandle_t domain(void)
{
    static nvtxDomainHandle_t d;
    if (!d)
        d = nvtxDomainCreateA("jacnoise");
    return d;
}

void jn_cuda_phase(jn_phase next)
{
    if (range_open)
        nvtxDomainRangePop(domain());
    range_open = next != JN_PHASE_NONE;
    if (range_open) {
        nvtxEventAttributes_t a = {0};
        a.version = NVTX_VERSION;
        a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
        a.messageType = NVTX_MESSAGE_TYPE_ASCII;
        a.message.ascii = jn_phase_name(next);
        nvtxDomainRangePushEx(domain(), &a);
    }
    jn_phase_mark(phase_clock, next);
}

void jn_cuda_set_phase_clock(jn_phase_clock *clock) { phase_clock = clock; }
