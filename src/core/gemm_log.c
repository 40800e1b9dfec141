/* The GEMM shape log (see gemm_log.h). */
#include "core/gemm_log.h"

#include <stdlib.h>

void jn_gemm_log_add(jn_gemm_log *log, jn_gemm_kind kind, int rows, int n_out, int n_in, int models)
{
    if (!log)
        return;
    if (log->count == log->cap) {
        int cap = log->cap ? 2 * log->cap : 64;
        jn_gemm_call *c = realloc(log->calls, sizeof *c * (size_t)cap);
        if (!c)
            return;  /* a measurement aid: losing an entry is not an error */
        log->calls = c;
        log->cap = cap;
    }
    log->calls[log->count++] = (jn_gemm_call){kind, rows, n_out, n_in, models};
}

double jn_gemm_flops(const jn_gemm_call *call)
{
    return 2.0 * call->models * call->rows * (double)call->n_out * (double)call->n_in;
}

void jn_gemm_log_free(jn_gemm_log *log)
{
    free(log->calls);
    log->calls = NULL;
    log->count = log->cap = 0;
}
