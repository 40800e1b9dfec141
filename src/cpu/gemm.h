/* The three GEMM shapes of a training step (core/gemm_log.h), through CBLAS. An optional log
 * records every call's shape for the profile's GEMM floor (profile_cpu.c). */
#ifndef JACNOISE_CPU_GEMM_H
#define JACNOISE_CPU_GEMM_H

#include "core/gemm_log.h"
#include "jacnoise/real.h"

void jn_gemm_forward(jn_gemm_log *log, int rows, int n_out, int n_in, const jn_real *x,
                     const jn_real *w, jn_real *y);
/* dW += D^T X with accumulate, else dW = D^T X (the first contribution: no zeroing pass). */
void jn_gemm_weight_grad(jn_gemm_log *log, int accumulate, int rows, int n_out, int n_in, const jn_real *d,
                         const jn_real *x, jn_real *dw);
void jn_gemm_input_grad(jn_gemm_log *log, int rows, int n_out, int n_in, const jn_real *d,
                        const jn_real *w, jn_real *dx);

/* Runs logged call i on scratch operands large enough for it. */
void jn_gemm_replay(const jn_gemm_log *log, int i, const jn_real *a, const jn_real *b, jn_real *c);

#endif
