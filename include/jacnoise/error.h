/* Error reporting: every fallible library function returns 0 on success and -1 on failure,
 * after recording one line saying what failed (file, offset or option, what was expected). */
#ifndef JACNOISE_ERROR_H
#define JACNOISE_ERROR_H

#if defined(__GNUC__)
#define JN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define JN_PRINTF(a, b)
#endif

#include <stddef.h>
#include <stdio.h>

/* Records the calling thread's last error (printf-style, one line, no trailing newline). The
 * values it echoes (an option's value, a file name) are escaped as jn_escape_text does.
 * Returns -1, so that a failing function can `return jn_fail(...)`. */
int jn_fail(const char *fmt, ...) JN_PRINTF(1, 2);

/* The calling thread's last recorded error; "" if none. It holds JN_ERROR_MAX bytes with its
 * NUL: a copy kept while later calls record their own needs no more. */
#define JN_ERROR_MAX 2048
const char *jn_last_error(void);

/* Prefixes the last error with context ("loading checkpoint: ..."); returns -1. */
int jn_fail_context(const char *fmt, ...) JN_PRINTF(1, 2);

/* Whether the last error starts with value, escaped, and a colon ("FILE: cannot open"). */
int jn_error_names(const char *value);

/* Names the last error's file or folder by the option that gave it, one style for every
 * option ("--out DIR: ...", as "--dump FILE: is a folder"): an error that starts with value
 * ("FILE: cannot open: ...") becomes "--opt FILE: cannot open: ...", another gets
 * "--opt VALUE: " before it. Returns -1. */
int jn_fail_option(const char *option, const char *value);

/* Copies s to out (cap bytes) with what a terminal would act on or could not show written
 * as C escapes: newline, carriage return and tab as \n \r \t, other control characters
 * (C0, DEL, C1) and bytes that are not UTF-8 as \xHH; an echoed value then neither breaks a
 * message's one line nor drives the terminal. A backslash is kept as it is, so that escaping
 * twice (a message quoted in another) changes nothing. A short cap cuts between characters.
 * Returns the length written. */
size_t jn_escape_text(char *out, size_t cap, const char *s);

/* s as one word of a shell command the user may copy (a path in advice: "jacnoise sweep
 * merge DIR"): as it is where it needs no quoting, else in single quotes, each ' written '"'"'
 * (as Python's shlex.quote). Returns out; a cap of JN_SHELL_WORD_CAP(strlen(s)) holds any s. */
#define JN_SHELL_WORD_CAP(n) (5 * (n) + 3)
const char *jn_shell_word(char *out, size_t cap, const char *s);

/* Prints fmt's text on f escaped as jn_escape_text does, but for a newline that ends it: a
 * message (a note, a warning, a line of progress) that echoes a name, on one line as an
 * error is, and shortened as an error is where too long (8 KiB): its start and end kept. */
void jn_print(FILE *f, const char *fmt, ...) JN_PRINTF(2, 3);

/* Whether everything printed on stdout reached it, flushing it: NULL where it did, else why
 * not (the flush's error, or "an earlier write was lost"). What a program prints there is what
 * a caller keeps when it redirects it: a write that failed (a full disk) must not end in
 * success. */
const char *jn_stdout_lost(void);
/* fflush(stdout), its error kept for jn_stdout_lost: a command that flushed its output itself
 * (before a warning on stderr) had "an earlier write was lost" said of a full disk. 0 or -1. */
int jn_stdout_flush(void);

/* The length of the UTF-8 sequence at c (1 to 4), or 0 where c starts none: a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or a sequence cut short
 * (the string's NUL fails as a continuation byte). */
size_t jn_utf8_length(const unsigned char *c);

#endif
