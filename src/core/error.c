/* Thread-local last-error line shared by the whole library, and the escaping of the names that
 * it and the other messages echo. */
#include "jacnoise/error.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[JN_ERROR_MAX];

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

/* Appends piece to out[used..] where it fits whole (cap bytes in all); the new length. */
static size_t put_piece(char *out, size_t cap, size_t used, const char *piece)
{
    const size_t n = strlen(piece);
    if (used + n >= cap)
        return used;
    memcpy(out + used, piece, n + 1);
    return used + n;
}

const char *jn_shell_word(char *out, size_t cap, const char *s)
{
    /* The characters Python's shlex.quote leaves bare, as the tools print: the same words. */
    static const char bare[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./-_";
    const int plain = s[0] && strspn(s, bare) == strlen(s);
    size_t used = put_piece(out, cap, 0, plain ? "" : "'");
    for (const char *c = s; *c; c++) {
        const char one[2] = {*c, 0};
        used = put_piece(out, cap, used, *c == '\'' && !plain ? "'\"'\"'" : one);  /* ' closes, "'", reopens */
    }
    put_piece(out, cap, used, plain ? "" : "'");
    return out;
}

/* Whether escaped text s may be cut before s[at]: not inside a UTF-8 character, nor inside an
 * escape (\xHH, \n) that starts up to three bytes before. */
static int cuttable(const char *s, size_t at)
{
    if (((unsigned char)s[at] & 0xc0) == 0x80)
        return 0;
    for (size_t back = 1; back <= 3 && back <= at; back++) {
        const char *e = s + at - back;
        const size_t len = e[0] != '\\' ? 1
                           : e[1] == 'x' && isxdigit((unsigned char)e[2]) && isxdigit((unsigned char)e[3]) ? 4
                           : e[1] && strchr("nrt", e[1]) ? 2 : 1;
        if (len > back)
            return 0;
    }
    return 1;
}

/* Copies escaped text s to out (cap bytes). One too long keeps its start and its end with
 * " ... " between: cut at the end, a message about a long name lost what went wrong with it. */
static void shorten(char *out, size_t cap, const char *s)
{
    const size_t n = strlen(s);
    if (n < cap) {
        memcpy(out, s, n + 1);
        return;
    }
    static const char gap[] = " ... ";
    size_t head = (cap - sizeof gap) / 2, tail = n - (cap - sizeof gap - head);
    while (!cuttable(s, head))
        head--;
    while (!cuttable(s, tail))
        tail++;
    snprintf(out, cap, "%.*s%s%s", (int)head, s, gap, s + tail);
}

/* fmt's text escaped, whole however long its names, then `after` as it is (already escaped):
 * a string to free, or NULL when out of memory. With newline, a newline that ends the text is
 * left out and *newline says whether there was one. */
static char *format_escaped(const char *fmt, va_list ap, const char *after, int *newline)
{
    va_list again;
    va_copy(again, ap);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    const size_t cap = n < 0 ? 0 : 4 * (size_t)n + strlen(after) + 1;  /* an escape is 4 bytes at most */
    char *text = cap ? malloc((size_t)n + 1) : NULL, *escaped = cap ? malloc(cap) : NULL;
    if (text && escaped) {
        vsnprintf(text, (size_t)n + 1, fmt, again);
        const int ends = newline && n > 0 && text[n - 1] == '\n';
        text[n - ends] = 0;
        if (newline)
            *newline = ends;
        const size_t used = jn_escape_text(escaped, cap, text);
        memcpy(escaped + used, after, strlen(after) + 1);
    } else {
        free(escaped);
        escaped = NULL;
    }
    va_end(again);
    free(text);
    return escaped;
}

static void record_formatted(const char *fmt, va_list ap, const char *after)
{
    char *escaped = format_escaped(fmt, ap, after, NULL);
    shorten(last_error, sizeof last_error, escaped ? escaped : "out of memory for an error message");
    free(escaped);
}

/* A note, a warning, a line of progress: shortened as an error line is, at a larger size. */
void jn_print(FILE *f, const char *fmt, ...)
{
    char out[8192];
    int newline = 0;
    va_list ap;
    va_start(ap, fmt);
    char *escaped = format_escaped(fmt, ap, "", &newline);
    va_end(ap);
    shorten(out, sizeof out, escaped ? escaped : "out of memory for a message");
    free(escaped);
    fprintf(f, "%s%s", out, newline ? "\n" : "");
}

int jn_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record_formatted(fmt, ap, "");
    va_end(ap);
    return -1;
}

int jn_fail_context(const char *fmt, ...)
{
    char after[sizeof last_error + 2];
    snprintf(after, sizeof after, ": %s", last_error);
    va_list ap;
    va_start(ap, fmt);
    record_formatted(fmt, ap, after);
    va_end(ap);
    return -1;
}

int jn_error_names(const char *value)
{
    char escaped[sizeof last_error];
    const size_t n = jn_escape_text(escaped, sizeof escaped, value);
    return !strncmp(last_error, escaped, n) && last_error[n] == ':';
}

int jn_fail_option(const char *option, const char *value)
{
    /* A reader's or writer's line starts with the name it was given ("FILE: cannot open"). */
    if (jn_error_names(value))
        return jn_fail("%s %s", option, last_error);
    return jn_fail_context("%s %s", option, value);
}

const char *jn_last_error(void) { return last_error; }

/* The error of the first flush of stdout that failed (jn_stdout_flush), 0 before one. */
static int stdout_errno;

int jn_stdout_flush(void)
{
    if (fflush(stdout) == 0)
        return 0;
    if (!stdout_errno)
        stdout_errno = errno;
    return -1;
}

const char *jn_stdout_lost(void)
{
    if (jn_stdout_flush() == 0 && !ferror(stdout))
        return NULL;
    return stdout_errno ? strerror(stdout_errno) : "an earlier write was lost";
}
