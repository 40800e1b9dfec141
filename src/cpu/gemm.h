/* The three GEMM shapes of a training step, through CBLAS (row-major, W is n_out x n_in):
 *   forward        Y  = X W^T   (rows x n_out)
 *   weight grad    dW += D^T X  (n_out x n_in)
 *   input grad     dX = D W     (rows x n_in)
 * An optional log records every call's shape, so a benchmark can replay exactly the step's
 * GEMMs alone and measure the floor the rest of the step adds to. */
#ifndef JACNOISE_CPU_GEMM_H
#define JACNOISE_CPU_GEMM_H

#include "jacnoise/real.h"

typedef enum { JN_GEMM_FORWARD, JN_GEMM_WEIGHT_GRAD, JN_GEMM_INPUT_GRAD } jn_gemm_kind;

typedef struct {
    jn_gemm_kind kind;
    int rows, n_out, n_in;
} jn_gemm_call;

typedef struct {
    jn_gemm_call *calls;
    int count, cap;
} jn_gemm_log;

void jn_gemm_forward(jn_gemm_log *log, int rows, int n_out, int n_in, const jn_real *x,
                     const jn_real *w, jn_real *y);
void jn_gemm_weight_grad(jn_gemm_log *log, int rows, int n_out, int n_in, const jn_real *d,
                         const jn_real *x, jn_real *dw);
void jn_gemm_input_grad(jn_gemm_log *log, int rows, int n_out, int n_in, const jn_real *d,
                        const jn_real *w, jn_real *dx);

/* Runs one logged call on scratch operands large enough for it. */
void jn_gemm_replay(const jn_gemm_call *call, const jn_real *a, const jn_real *b, jn_real *c);

/* 2 * rows * n_out * n_in. */
double jn_gemm_flops(const jn_gemm_call *call);

#endif
