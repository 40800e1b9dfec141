/* Lists of device buffers, and what a failed allocation says. */
#include "cuda/buffers.h"
#include "cuda/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t jn_cuda_buffers_bytes(const jn_cuda_buffer *list, int n)
{
    size_t bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += list[i].bytes;
    return bytes;
}

int jn_cuda_buffers_alloc_at(const char *file, int line, const jn_cuda_buffer *list, int n, const char *what)
{
    /* A failure says the buffer's size and the list's: how much was asked, beside what is free;
     * and the caller's place, which says whose list it was (this file's line would not). */
    const size_t all = jn_cuda_buffers_bytes(list, n);
    for (int i = 0; i < n; i++) {
        if (!list[i].bytes)
            continue;
        cudaError_t e = cudaMalloc(list[i].ptr, list[i].bytes);
        if (e != cudaSuccess)
            return jn_cuda_alloc_failed(file, line, "cudaMalloc", e, "%s (a buffer of %zu bytes, %zu in all)",
                                        what, list[i].bytes, all);
        e = list[i].clear ? cudaMemset(*list[i].ptr, 0, list[i].bytes) : cudaSuccess;
        if (e != cudaSuccess)
            return jn_cuda_alloc_failed(file, line, "cudaMemset", e, "%s (a buffer of %zu bytes, %zu in all)",
                                        what, list[i].bytes, all);
    }
    return 0;
}

void jn_cuda_buffers_free(const jn_cuda_buffer *list, int n)
{
    for (int i = 0; i < n; i++)
        cudaFree(*list[i].ptr);
}

int jn_cuda_alloc_failed(const char *file, int line, const char *call, cudaError_t e, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    jn_cuda_forget_error();
    const int name = jn_cuda_call_name(call);
    /* Another error (a fault of earlier work, say) is not a lack of memory: said as it is. */
    if (e != cudaErrorMemoryAllocation)
        return jn_fail("%s:%d: %.*s: %s (for %s)", file, line, name, call, cudaGetErrorString(e), what);
    size_t free_bytes = 0, total = 0;
    if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess)
        jn_cuda_forget_error();
    return jn_fail("out of GPU memory (%.1f of %.1f GiB free) for %s (%s:%d: %.*s: %s)", free_bytes / 1073741824.0,
                   total / 1073741824.0, what, file, line, name, call, cudaGetErrorString(e));
}
