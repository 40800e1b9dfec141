/* The GEMM shape log (see gemm_log.h). */
#include "core/gemm_log.h"

#include <stdlib.h>

static void add(jn_gemm_log *log, jn_gemm_kind kind, int rows, int n_out, int n_in, int models, int overwrite)
{
    if (!log)
        return;
    if (log->count == log->cap) {
        int cap = log->cap ? 2 * log->cap : 64;
        jn_gemm_call *c = realloc(log->calls, sizeof *c * (size_t)cap);
        if (c)
            log->calls = c;
        unsigned char *o = realloc(log->overwrite, (size_t)cap);
        if (o)
            log->overwrite = o;
        if (!c || !o)
            return;  /* a measurement aid: losing an entry is not an error */
        log->cap = cap;
    }
    log->overwrite[log->count] = (unsigned char)overwrite;
    log->calls[log->count++] = (jn_gemm_call){kind, rows, n_out, n_in, models};
}

void jn_gemm_log_add(jn_gemm_log *log, jn_gemm_kind kind, int rows, int n_out, int n_in, int models)
{
    add(log, kind, rows, n_out, n_in, models, 0);
}

void jn_gemm_log_add_overwrite(jn_gemm_log *log, int rows, int n_out, int n_in, int models)
{
    add(log, JN_GEMM_WEIGHT_GRAD, rows, n_out, n_in, models, 1);
}

double jn_gemm_flops(const jn_gemm_call *call)
{
    return 2.0 * call->models * call->rows * (double)call->n_out * (double)call->n_in;
}

size_t jn_gemm_log_max_operand(const jn_gemm_log *log)
{
    size_t big = 1;
    for (int i = 0; i < log->count; i++) {
        const jn_gemm_call *c = &log->calls[i];
        const size_t sizes[3] = {(size_t)c->rows * c->n_in, (size_t)c->rows * c->n_out, (size_t)c->n_out * c->n_in};
        for (int k = 0; k < 3; k++)
            big = sizes[k] > big ? sizes[k] : big;
    }
    return big;
}

void jn_gemm_log_free(jn_gemm_log *log)
{
    free(log->calls);
    free(log->overwrite);
    log->calls = NULL;
    log->overwrite = NULL;
    log->count = log->cap = 0;
}
