/* CBLAS calls for the three GEMM shapes, in the precision of jn_real. */
#include "cpu/gemm.h"
#include "jacnoise/backend.h"

#include <cblas.h>
#include <stdlib.h>

#ifdef JN_DOUBLE
#define CBLAS_GEMM cblas_dgemm
#else
#define CBLAS_GEMM cblas_sgemm
#endif

static void run(jn_gemm_kind kind, int overwrite, int rows, int n_out, int n_in, const jn_real *a,
                const jn_real *b, jn_real *c)
{
    switch (kind) {
    case JN_GEMM_FORWARD:
        CBLAS_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n_out, n_in, 1, a, n_in, b,
                   n_in, 0, c, n_out);
        break;
    case JN_GEMM_WEIGHT_GRAD:
        CBLAS_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, rows, 1, a, n_out, b,
                   n_in, overwrite ? 0 : 1, c, n_in);
        break;
    case JN_GEMM_INPUT_GRAD:
        CBLAS_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n_in, n_out, 1, a, n_out, b,
                   n_in, 0, c, n_in);
        break;
    }
}

void jn_gemm_forward(jn_gemm_log *log, int rows, int n_out, int n_in, const jn_real *x,
                     const jn_real *w, jn_real *y)
{
    jn_gemm_log_add(log, JN_GEMM_FORWARD, rows, n_out, n_in, 1);
    run(JN_GEMM_FORWARD, 0, rows, n_out, n_in, x, w, y);
}

void jn_gemm_weight_grad(jn_gemm_log *log, int accumulate, int rows, int n_out, int n_in, const jn_real *d,
                         const jn_real *x, jn_real *dw)
{
    if (accumulate)
        jn_gemm_log_add(log, JN_GEMM_WEIGHT_GRAD, rows, n_out, n_in, 1);
    else
        jn_gemm_log_add_overwrite(log, rows, n_out, n_in, 1);
    run(JN_GEMM_WEIGHT_GRAD, !accumulate, rows, n_out, n_in, d, x, dw);
}

void jn_gemm_input_grad(jn_gemm_log *log, int rows, int n_out, int n_in, const jn_real *d,
                        const jn_real *w, jn_real *dx)
{
    jn_gemm_log_add(log, JN_GEMM_INPUT_GRAD, rows, n_out, n_in, 1);
    run(JN_GEMM_INPUT_GRAD, 0, rows, n_out, n_in, d, w, dx);
}

void jn_gemm_replay(const jn_gemm_log *log, int i, const jn_real *a, const jn_real *b, jn_real *c)
{
    const jn_gemm_call *call = &log->calls[i];
    run(call->kind, log->overwrite[i], call->rows, call->n_out, call->n_in, a, b, c);
}

void jn_cpu_set_threads(int threads)
{
#if JACNOISE_HAVE_OPENBLAS
    if (threads > 0)
        openblas_set_num_threads(threads);
#else
    (void)threads;
#endif
}

const char *jn_cpu_blas_info(void)
{
#if JACNOISE_HAVE_OPENBLAS
    return openblas_get_config();
#else
    return "CBLAS (not OpenBLAS)";
#endif
}
