/* Thread-local last-error line shared by the whole library, and the escaping of the names that
 * it and the other messages echo. */
#include "jacnoise/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[2048];

size_t jn_utf8_length(const unsigned char *c)
{
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte; of the others, always this */
    if (c[0] < 0x80)
        return 1;
    if (c[0] >= 0xc2 && c[0] <= 0xdf) {
        n = 2;
    } else if (c[0] >= 0xe0 && c[0] <= 0xef) {
        n = 3;
        lo = c[0] == 0xe0 ? 0xa0 : lo; /* not overlong */
        hi = c[0] == 0xed ? 0x9f : hi; /* not a surrogate */
    } else if (c[0] >= 0xf0 && c[0] <= 0xf4) {
        n = 4;
        lo = c[0] == 0xf0 ? 0x90 : lo; /* not overlong */
        hi = c[0] == 0xf4 ? 0x8f : hi; /* not past U+10FFFF */
    } else {
        return 0;
    }
    for (size_t k = 1; k < n; k++, lo = 0x80, hi = 0xbf)
        if (c[k] < lo || c[k] > hi)
            return 0;
    return n;
}

size_t jn_escape_text(char *out, size_t cap, const char *s)
{
    size_t used = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        char esc[8];
        size_t take = jn_utf8_length(c);
        /* C0 and C1 controls and DEL (a terminal acts on them), and stray bytes. */
        const int control = *c < 0x20 || *c == 0x7f || (take == 2 && *c == 0xc2 && c[1] < 0xa0);
        if (control || take == 0) {
            take = 1;
            if (*c == '\n' || *c == '\r' || *c == '\t')
                snprintf(esc, sizeof esc, "\\%c", *c == '\n' ? 'n' : *c == '\r' ? 'r' : 't');
            else
                snprintf(esc, sizeof esc, "\\x%02x", *c);
        } else {
            memcpy(esc, c, take);
            esc[take] = 0;
        }
        const size_t n = strlen(esc);
        if (used + n >= cap)  /* cut between characters, never inside an escape */
            break;
        memcpy(out + used, esc, n);
        used += n;
        c += take;
    }
    if (cap)
        out[used] = 0;
    return used;
}

void jn_print(FILE *f, const char *fmt, ...)
{
    char text[4096], out[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const size_t n = strlen(text);
    const int newline = n && text[n - 1] == '\n';
    text[n - newline] = 0;
    jn_escape_text(out, sizeof out, text);
    fprintf(f, "%s%s", out, newline ? "\n" : "");
}

int jn_fail(const char *fmt, ...)
{
    char text[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    jn_escape_text(last_error, sizeof last_error, text);
    return -1;
}

int jn_fail_context(const char *fmt, ...)
{
    char old[sizeof last_error], text[sizeof last_error];
    memcpy(old, last_error, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t used = jn_escape_text(last_error, sizeof last_error, text);
    /* Append ": old" (escaped when recorded), truncated to the buffer. */
    const char *parts[2] = {": ", old};
    for (int p = 0; p < 2; p++)
        for (const char *c = parts[p]; *c && used + 1 < sizeof last_error; c++)
            last_error[used++] = *c;
    last_error[used] = 0;
    return -1;
}

const char *jn_last_error(void) { return last_error; }
