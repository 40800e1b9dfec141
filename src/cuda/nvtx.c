/* The jacnoise NVTX domain and its phase ranges. */
#include "cuda/nvtx.h"

static nvtxDomainHandle_t domain(void)
{
    static nvtxDomainHandle_t d;
    if (!d)
        d = nvtxDomainCreateA("jacnoise");
    return d;
}

void jn_nvtx_push(jn_phase phase)
{
    static const char *names[] = {"data", "forward", "jvp", "penalty", "backward", "update", "eval"};
    nvtxEventAttributes_t a = {0};
    a.version = NVTX_VERSION;
    a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
    a.messageType = NVTX_MESSAGE_TYPE_ASCII;
    a.message.ascii = names[phase];
    nvtxDomainRangePushEx(domain(), &a);
}

void jn_nvtx_pop(void) { nvtxDomainRangePop(domain()); }
