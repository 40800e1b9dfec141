/* Device buffers allocated, counted and freed as lists (the workspace's, a step's inputs',
 * the slots'), and the message of a failed device allocation. */
#ifndef JACNOISE_CUDA_BUFFERS_H
#define JACNOISE_CUDA_BUFFERS_H

#include <cuda_runtime.h>
#include <stddef.h>

#include "jacnoise/error.h"

typedef struct {
    void **ptr;    /* where the device pointer goes */
    size_t bytes;  /* 0: nothing allocated, *ptr left as it is */
    int clear;     /* zeroed once allocated */
} jn_cuda_buffer;

size_t jn_cuda_buffers_bytes(const jn_cuda_buffer *list, int n);
/* Allocates (and clears) the buffers in turn. On a failure returns -1 with the error recorded
 * as jn_cuda_alloc_failed records it, at the caller's file:line, for `what` ("2 model(s) of
 * 1000 parameters") with the failed buffer's bytes and the list's ("(a buffer of 8000 bytes,
 * 24016 in all)"); what was allocated by then is the caller's to free (jn_cuda_buffers_free). */
int jn_cuda_buffers_alloc_at(const char *file, int line, const jn_cuda_buffer *list, int n, const char *what);
#define jn_cuda_buffers_alloc(list, n, what) jn_cuda_buffers_alloc_at(__FILE__, __LINE__, list, n, what)
void jn_cuda_buffers_free(const jn_cuda_buffer *list, int n);

/* A device allocation or clearing that failed with e (call: its text, file:line: where), for
 * the buffers a printf format describes: records "out of GPU memory (F of T GiB free) for WHAT
 * (file:line: call: error)" where the device ran out, else "file:line: call: error (for WHAT)",
 * and clears the runtime's record of it. Returns -1. */
int jn_cuda_alloc_failed(const char *file, int line, const char *call, cudaError_t e, const char *fmt, ...)
    JN_PRINTF(5, 6);

#endif
