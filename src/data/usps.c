/* USPS digits as distributed with "The Elements of Statistical Learning" (zip.train, zip.test):
 * text lines of a label and 256 grey values in [-1, 1].
 *
 * Read line by line with a bounded line buffer, so memory follows the valid lines, not the
 * size of a bad file. Numbers are decimal (jn_parse_decimal), the "6.0000" style of zip.train
 * and the compact "9" / "-0.948" style of zip.test: not what strtod takes besides (0x1p-1, inf,
 * nan), which no USPS file holds. */
#include "data/gz.h"
#include "jacnoise/config.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USPS_VALUES 256
#define USPS_FIELDS (USPS_VALUES + 1)
/* A line is about 2,100 bytes in zip.train; four times that is surely not USPS. */
#define MAX_LINE 8192

static int is_separator(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Copies a field for a message: at most 24 characters, non-printable ones as '?'. */
static const char *excerpt(const char *s, size_t len, char buf[32])
{
    size_t n = len < 24 ? len : 24, i;
    for (i = 0; i < n; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    strcpy(buf + i, len > n ? "..." : "");
    return buf;
}

static int field_count_error(const char *path, long lineno, int fields)
{
    return jn_fail("%s: line %ld: expected %d fields (label and %d values), found %d", path, lineno, USPS_FIELDS,
                   USPS_VALUES, fields);
}

/* Whether a line holds no field: empty, or separators only (a blank line of a CRLF file). */
static int is_blank(const char *line, size_t len)
{
    while (len && is_separator(line[len - 1]))
        len--;
    return len == 0;
}

/* Parses one line (len bytes, NUL-terminated; each field is NUL-terminated in place) into a
 * label and 256 values mapped to [0, 1]. */
static int parse_line(const char *path, long lineno, char *line, size_t len, int32_t *y,
                      float *x)
{
    char *start[USPS_FIELDS];
    size_t flen[USPS_FIELDS];
    int fields = 0;
    char show[32];
    for (char *p = line, *e = line + len;;) {
        while (p < e && is_separator(*p))
            p++;
        if (p == e)
            break;
        char *tok = p;
        while (p < e && !is_separator(*p))
            p++;
        if (fields < USPS_FIELDS) {
            start[fields] = tok;
            flen[fields] = (size_t)(p - tok);
        }
        fields++;
    }
    if (fields != USPS_FIELDS)
        return field_count_error(path, lineno, fields);

    for (int k = 0; k < USPS_FIELDS; k++) {
        double v;
        start[k][flen[k]] = '\0'; /* a separator or the line's end */
        const char *text = excerpt(start[k], flen[k], show);
        /* Beyond a double (1e999) is left to the range checks, which name the bounds. */
        if (jn_parse_decimal(start[k], &v) < 0)
            return jn_fail("%s: line %ld: field %d: expected a decimal number, found \"%s\"",
                           path, lineno, k + 1, text);
        if (k == 0) {
            if (v != floor(v) || v < 0 || v > 9)
                return jn_fail("%s: line %ld: field 1 (label): expected an integer in [0, 9], found "
                               "\"%s\"",
                               path, lineno, text);
            *y = (int32_t)v;
        } else {
            if (v < -1 || v > 1)
                return jn_fail("%s: line %ld: field %d (value %d of %d): expected a value in "
                               "[-1, 1], found \"%s\"",
                               path, lineno, k + 1, k, USPS_VALUES, text);
            x[k - 1] = (float)((v + 1.0) / 2.0); /* -1 background .. +1 ink -> 0 .. 1 */
        }
    }
    return 0;
}

/* Makes room for one more example, doubling the arrays. */
static int reserve(const char *path, jn_dataset *out, int *cap)
{
    if (out->n < *cap)
        return 0;
    if (*cap > (1 << 30) / USPS_VALUES)
        return jn_fail("%s: line %d: too many lines for a USPS file", path, out->n + 1);
    int next = *cap ? 2 * *cap : 1024;
    float *x = realloc(out->x, (size_t)next * USPS_VALUES * sizeof *x);
    if (x)
        out->x = x;
    int32_t *y = realloc(out->y, (size_t)next * sizeof *y);
    if (y)
        out->y = y;
    if (!x || !y)
        return jn_fail("%s: cannot allocate room for %d examples", path, next);
    *cap = next;
    return 0;
}

int jn_usps_load(const char *path, jn_dataset *out)
{
    memset(out, 0, sizeof *out);
    jn_gz f;
    if (jn_gz_open(&f, path))
        return -1;
    char line[MAX_LINE + 1];
    int cap = 0, rc = -1;
    /* Blank lines after the last example, as editors and tools leave them, end the file; one
     * followed by an example is refused (blank: the first blank line's number, 0 while none). */
    long blank = 0;
    for (long lineno = 1;; lineno++) {
        size_t len = 0;
        int c;
        while ((c = jn_gz_getc(&f)) >= 0 && c != '\n') {
            if (len == MAX_LINE) {
                jn_fail("%s: line %ld: longer than %d bytes (expected %d fields: label and %d "
                        "values)",
                        path, lineno, MAX_LINE, USPS_FIELDS, USPS_VALUES);
                goto done;
            }
            line[len++] = (char)c;
        }
        if (c == -2)
            goto done;
        /* A stream cut short gives up its lines before the cut, so the line locates it. */
        if (jn_gz_cut(&f)) {
            jn_fail("%s: line %ld: gzip stream ends early (the file is cut short)", path, lineno);
            goto done;
        }
        if (c == -1 && len == 0)
            break; /* end of file after a final newline */
        line[len] = '\0';
        const char *nul = memchr(line, '\0', len);
        if (nul) {
            jn_fail("%s: line %ld: column %ld: unexpected NUL byte (expected text)", path, lineno,
                    (long)(nul - line) + 1);
            goto done;
        }
        if (is_blank(line, len)) {
            blank = blank ? blank : lineno;
            if (c == -1)
                break;
            continue;
        }
        if (blank) {
            field_count_error(path, blank, 0);
            goto done;
        }
        if (reserve(path, out, &cap) ||
            parse_line(path, lineno, line, len, &out->y[out->n],
                       &out->x[(size_t)out->n * USPS_VALUES]))
            goto done;
        out->n++;
        if (c == -1)
            break; /* last line without a newline */
    }
    if (out->n == 0) {
        if (blank) /* blank lines only: no example for them to follow */
            field_count_error(path, blank, 0);
        else
            jn_fail("%s: line 1: empty file (expected lines of %d fields: label and %d values)", path,
                    USPS_FIELDS, USPS_VALUES);
        goto done;
    }
    out->d = USPS_VALUES;
    out->classes = 10;
    snprintf(out->name, sizeof out->name, "%s", path);
    rc = 0;
done:
    jn_gz_close(&f);
    if (rc)
        jn_dataset_free(out);
    return rc;
}
