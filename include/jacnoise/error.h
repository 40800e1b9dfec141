/* Error reporting: every fallible library function returns 0 on success and -1 on failure,
 * after recording one line saying what failed (file, offset or option, what was expected). */
#ifndef JACNOISE_ERROR_H
#define JACNOISE_ERROR_H

#if defined(__GNUC__)
#define JN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define JN_PRINTF(a, b)
#endif

/* Records the calling thread's last error (printf-style, one line, no trailing newline). */
int jn_fail(const char *fmt, ...) JN_PRINTF(1, 2);

/* The calling thread's last recorded error; "" if none. */
const char *jn_last_error(void);

/* Prefixes the last error with context ("loading checkpoint: ..."); returns -1. */
int jn_fail_context(const char *fmt, ...) JN_PRINTF(1, 2);

#endif
