/* A record of the GEMM shapes a training step issues, kept by either backend when asked, so
 * that `jacnoise profile` can replay exactly the step's GEMMs alone: the floor that everything
 * else in the step adds to. Row-major, W is n_out x n_in:
 *   forward        Y  = X W^T   (rows x n_out)
 *   weight grad    dW += D^T X  (n_out x n_in); or dW = D^T X where the log says so
 *   input grad     dX = D W     (rows x n_in) */
#ifndef JACNOISE_GEMM_LOG_H
#define JACNOISE_GEMM_LOG_H

#include <stddef.h>

typedef enum { JN_GEMM_FORWARD, JN_GEMM_WEIGHT_GRAD, JN_GEMM_INPUT_GRAD } jn_gemm_kind;

typedef struct {
    jn_gemm_kind kind;
    int rows, n_out, n_in;
    int models;  /* GEMMs batched over models in lock-step */
} jn_gemm_call;

typedef struct {
    jn_gemm_call *calls;
    unsigned char *overwrite;  /* per call: a weight gradient written (dW = D^T X), not added to */
    int count, cap;
} jn_gemm_log;

/* Appends a call (log may be NULL: nothing is recorded). */
void jn_gemm_log_add(jn_gemm_log *log, jn_gemm_kind kind, int rows, int n_out, int n_in, int models);
/* The same for a weight gradient that overwrites its output. */
void jn_gemm_log_add_overwrite(jn_gemm_log *log, int rows, int n_out, int n_in, int models);

/* 2 * models * rows * n_out * n_in. */
double jn_gemm_flops(const jn_gemm_call *call);

/* The largest operand of log's calls, in values per model: the scratch each role needs to
 * replay them (at least 1). */
size_t jn_gemm_log_max_operand(const jn_gemm_log *log);

void jn_gemm_log_free(jn_gemm_log *log);

#endif
