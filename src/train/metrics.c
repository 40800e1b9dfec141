/* metrics.jsonl and summary.json. */
#include "train/metrics.h"
#include "core/fileio.h"
#include "jacnoise/config.h"
#include "jacnoise/error.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void jn_json_number(char *out, size_t cap, double v)
{
    if (isfinite(v))
        snprintf(out, cap, "%.10g", v);
    else
        snprintf(out, cap, "null");
}

/* Writes s's JSON escapes from out[j] while they fit below out[limit]: the new j; *whole says
 * whether all of s went. */
static size_t put_escapes(char *out, size_t j, size_t limit, const char *s, int *whole)
{
    *whole = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        static const char named[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
        const char *k = strchr(named, *c);
        char esc[8];
        size_t take = 1;
        if (k) {
            snprintf(esc, sizeof esc, "\\%c", letter[k - named]);
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", *c);
        } else if ((take = jn_utf8_length(c)) > 0) {
            memcpy(esc, c, take);
            esc[take] = 0;
        } else { /* JSON is UTF-8: a file name's stray byte (Latin-1's e-acute) made it unreadable */
            take = 1;
            snprintf(esc, sizeof esc, "\\ufffd");
        }
        const size_t n = strlen(esc);
        if (j + n > limit)
            return j;
        memcpy(out + j, esc, n);
        j += n;
        c += take;
    }
    *whole = 1;
    return j;
}

void jn_json_string(char *out, size_t cap, const char *s)
{
    static const char mark[] = "...";
    if (cap < sizeof mark + 2) {  /* room for the quotes, the mark and the NUL */
        if (cap)
            out[0] = 0;
        return;
    }
    out[0] = '"';
    int whole;
    size_t j = put_escapes(out, 1, cap - 2, s, &whole);  /* room for the closing quote and the NUL */
    if (!whole) {  /* cut between characters, and said to be: its readers keep the mark */
        j = put_escapes(out, 1, cap - 2 - (sizeof mark - 1), s, &whole);
        memcpy(out + j, mark, sizeof mark - 1);
        j += sizeof mark - 1;
    }
    out[j++] = '"';
    out[j] = 0;
}

int jn_metrics_append(const char *path, const jn_epoch_metrics *m)
{
    const double v[9] = {m->lr,          m->train_loss,  m->penalty,    m->weight_decay, m->objective,
                         m->train_error, m->valid_error, m->test_error, m->seconds};
    char f[9][32];
    for (int i = 0; i < 9; i++)
        jn_json_number(f[i], sizeof f[i], v[i]);
    char line[1024];
    snprintf(line, sizeof line,
             "{\"epoch\":%d,\"step\":%llu,\"lr\":%s,\"train_loss\":%s,\"penalty\":%s,\"weight_decay\":%s,"
             "\"objective\":%s,\"train_error\":%s,\"valid_error\":%s,\"test_error\":%s,\"best\":%s,\"seconds\":%s}\n",
             m->epoch, (unsigned long long)m->step, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
             m->best ? "true" : "false", f[8]);
    return jn_append_line(path, line);
}

/* The device's fields of summary.json (after the "seconds" line), as jn_summary_read reads them. */
static void device_fields(const jn_device_info *d, char *out, size_t cap)
{
    char backend[128], device[6 * sizeof d->device + 3], more[6 * sizeof d->blas + 128];
    jn_json_string(backend, sizeof backend, d->backend);
    jn_json_string(device, sizeof device, d->device);
    if (!strcmp(d->backend, "cuda")) {
        char pci[128], cc[128], driver[128], runtime[128];
        jn_json_string(pci, sizeof pci, d->pci);
        jn_json_string(cc, sizeof cc, d->capability);
        jn_json_string(driver, sizeof driver, d->driver);
        jn_json_string(runtime, sizeof runtime, d->runtime);
        snprintf(more, sizeof more, "  \"cuda_device\": %d,\n  \"pci_bus_id\": %s,\n  \"compute_capability\": %s,\n"
                 "  \"cuda_driver\": %s,\n  \"cuda_runtime\": %s,\n  \"tf32\": %s,\n  \"tf32_override\": %s\n",
                 d->ordinal, pci, cc, driver, runtime, d->tf32 ? "true" : "false",
                 d->tf32_override ? "true" : "false");
    } else {
        char blas[6 * sizeof d->blas + 3];
        jn_json_string(blas, sizeof blas, d->blas);
        snprintf(more, sizeof more, "  \"threads\": %d,\n  \"blas\": %s\n", d->threads, blas);
    }
    snprintf(out, cap, ",\n  \"backend\": %s,\n  \"device\": %s,\n%s", backend, device, more);
}

int jn_summary_write(const char *path, const jn_run_summary *s)
{
    char v[3][32], text[8192], status[64], message[JN_SUMMARY_MESSAGE], device[4096] = "\n";
    jn_json_number(v[0], sizeof v[0], s->best_valid_error);
    jn_json_number(v[1], sizeof v[1], s->test_error);
    jn_json_number(v[2], sizeof v[2], s->seconds);
    jn_json_string(status, sizeof status, s->status);
    jn_json_string(message, sizeof message, s->message ? s->message : "");
    if (s->device)
        device_fields(s->device, device, sizeof device);
    int n = snprintf(text, sizeof text,
                     "{\n  \"status\": %s,\n  \"message\": %s,\n  \"epochs\": %d,\n  \"steps\": %llu,\n"
                     "  \"best_epoch\": %d,\n  \"best_valid_error\": %s,\n  \"test_error\": %s,\n  \"seconds\": %s%s}\n",
                     status, message, s->epochs_done, (unsigned long long)s->steps, s->best_epoch, v[0],
                     v[1], v[2], device);
    return jn_write_file_atomic(path, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* ---- reading back ----------------------------------------------------------------------- */

/* One value of the flat JSON objects these files hold: a string, a number, true/false or
 * null (NaN). */
typedef struct {
    char kind;   /* 's' string, 'n' number (NaN for null), 'b' boolean */
    double number;
    char text[JN_SUMMARY_MESSAGE];  /* the longest string jacnoise writes */
} json_value;

/* Returns NULL, or what is wrong with the value (reported where the value starts). */
typedef const char *(*json_field)(void *ctx, const char *key, const json_value *v);

typedef struct {
    const char *path;
    const char *text;
    size_t len, off, base;  /* base: where text starts in the file */
    int line;               /* the file's line the text is (metrics.jsonl), or 0 */
} json_reader;

static void json_space(json_reader *r)
{
    while (r->off < r->len && (r->text[r->off] == ' ' || r->text[r->off] == '\n' || r->text[r->off] == '\t' ||
                               r->text[r->off] == '\r'))
        r->off++;
}

static int json_error(const json_reader *r, const char *what)
{
    if (r->line)
        return jn_fail("%s: line %d (byte %zu): %s", r->path, r->line, r->base + r->off, what);
    return jn_fail("%s: byte %zu: %s", r->path, r->base + r->off, what);
}

/* The code point of the \\u escape at s (six bytes, four of them hex digits, checked). */
static unsigned json_hex(const char *s)
{
    char digits[5] = {s[2], s[3], s[4], s[5], 0};
    return (unsigned)strtoul(digits, NULL, 16);
}

/* Appends code point u to out[*n] in UTF-8 (cut to cap - 1 bytes; *n counts the whole). */
static void json_utf8(unsigned u, char *out, size_t cap, size_t *n)
{
    unsigned char b[4];
    size_t k = u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
    for (size_t i = k - 1; i > 0; i--, u >>= 6)
        b[i] = (unsigned char)(0x80 | (u & 0x3f));
    b[0] = (unsigned char)(lead[k] | u);
    for (size_t i = 0; i < k; i++, ++*n)
        if (*n + 1 < cap)
            out[*n] = (char)b[i];
}

/* Reads a string into out (cut to cap - 1 bytes), its escapes decoded as the tools' json decodes
 * them (\\u to UTF-8: it read as a space, and so did the \\ufffd jn_json_string writes); returns
 * its whole length, or -1. An escape is one of JSON's, as json takes it: \\q or a \\u of fewer
 * than four hex digits was read here, refused there. A \\u0000 (a C string ends at it) and half
 * a surrogate pair (json reads a character that is not one) are refused, by the tools too. */
static long json_string(json_reader *r, char *out, size_t cap)
{
    if (r->off >= r->len || r->text[r->off] != '"')
        return json_error(r, "expected a string");
    size_t n = 0;
    for (r->off++; r->off < r->len && r->text[r->off] != '"'; r->off++) {
        char c = r->text[r->off];
        if (c != '\\' || r->off + 1 >= r->len) {
            if (n + 1 < cap)
                out[n] = c;
            n++;
            continue;
        }
        c = r->text[r->off + 1];
        const char *digits = r->text + r->off + 2;
        size_t hex = 0;
        while (c == 'u' && hex < 4 && r->off + 2 + hex < r->len && isxdigit((unsigned char)digits[hex]))
            hex++;
        if (c == 'u' && hex < 4)
            return json_error(r, "\\u without four hex digits");
        if (!c || !strchr("\"\\/bfnrtu", c))
            return json_error(r, "an escape JSON does not have");
        if (c != 'u') {
            static const char letter[] = "bfnrt", named[] = "\b\f\n\r\t";
            const char *k = strchr(letter, c);
            json_utf8((unsigned char)(k ? named[k - letter] : c), out, cap, &n);
            r->off++;
            continue;
        }
        const char *e = r->text + r->off;
        unsigned u = json_hex(e);
        if (!u)
            return json_error(r, "a \\u0000 (NUL) in a string");
        if (u >= 0xdc00 && u < 0xe000)
            return json_error(r, "\\u of half a surrogate pair");
        if (u >= 0xd800 && u < 0xdc00) {
            if (r->off + 12 > r->len || e[6] != '\\' || e[7] != 'u' || !isxdigit((unsigned char)e[8]) ||
                !isxdigit((unsigned char)e[9]) || !isxdigit((unsigned char)e[10]) ||
                !isxdigit((unsigned char)e[11]) || json_hex(e + 6) < 0xdc00 || json_hex(e + 6) >= 0xe000)
                return json_error(r, "\\u of half a surrogate pair");
            u = 0x10000 + ((u - 0xd800) << 10) + (json_hex(e + 6) - 0xdc00);
            r->off += 6;
        }
        json_utf8(u, out, cap, &n);
        r->off += 5;
    }
    if (r->off >= r->len)
        return json_error(r, "unterminated string");
    r->off++;
    out[n + 1 < cap ? n : cap - 1] = 0;
    return (long)n;
}

/* The digits at s, past them. */
static const char *json_digits(const char *s)
{
    while (isdigit((unsigned char)*s))
        s++;
    return s;
}

/* Whether s is a number as JSON writes one, as the tools' json reads it: jn_parse_decimal takes
 * +1, .5, 1. and 01 too, which json refuses. */
static int json_number_form(const char *s)
{
    s += *s == '-';
    const char *end = *s == '0' ? s + 1 : json_digits(s);
    if (end == s)
        return 0;
    if (*end == '.') {
        s = end + 1;
        if ((end = json_digits(s)) == s)
            return 0;
    }
    if (*end == 'e' || *end == 'E') {
        s = end + 1 + (end[1] == '+' || end[1] == '-');
        if ((end = json_digits(s)) == s)
            return 0;
    }
    return *end == 0;
}

/* A value that is not a string, read whole (a number of more than 63 characters was cut, then
 * refused as "expected ',' or '}'", where json read it). */
static int json_scalar(json_reader *r, json_value *v)
{
    const size_t at = r->off;
    while (r->off < r->len && !strchr(",} \t\r\n", r->text[r->off]))
        r->off++;
    const size_t n = r->off - at;
    char small[64], *token = n < sizeof small ? small : malloc(n + 1);
    if (!token)
        return jn_fail("%s: out of memory", r->path);
    memcpy(token, r->text + at, n);
    token[n] = 0;
    int rc = 0;
    v->kind = 'n';
    if (!strcmp(token, "null"))
        v->number = NAN;
    else if (!strcmp(token, "true") || !strcmp(token, "false"))
        v->kind = 'b', v->number = token[0] == 't';
    /* Decimal only, as jn_json_number writes (a non-finite value as null): strtod would take
     * 0x1p3, inf and nan too. */
    else if (!json_number_form(token) || jn_parse_decimal(token, &v->number) < 0 || !isfinite(v->number)) {
        r->off = at; /* the message names where the value starts, not where it ends */
        rc = json_error(r, "expected a decimal number, true, false or null");
    }
    if (token != small)
        free(token);
    return rc;
}

/* The members of an object after its '{', to its '}': strict JSON, as jacnoise writes it,
 * which Python's json (the tools' reader) reads too: a ',' before the '}' is refused, and so is
 * a key given twice (seen: the keys read, each with its NUL), where both readers kept its last
 * value. */
static int json_members(json_reader *r, json_field field, void *ctx, jn_buf *seen)
{
    for (;;) {
        json_space(r);
        char key[64];
        json_value v;
        const size_t key_at = r->off;
        const long key_len = json_string(r, key, sizeof key);
        if (key_len < 0)
            return -1;
        /* A key is a string as a value is, its escapes decoded ("\\u0065pochs" is "epochs", as
         * json reads it): keys are compared decoded. jacnoise writes its keys in ASCII; the
         * tools' json would read a stray byte as U+FFFD. */
        for (size_t k = key_at + 1, take; k + 1 < r->off; k += take)
            if (!(take = jn_utf8_length((const unsigned char *)r->text + k))) {
                r->off = k;
                return json_error(r, "a key with a byte that is not UTF-8");
            }
        /* Read whole, not cut to key[] (and then compared cut: two long keys the same). */
        if (key_len >= (long)sizeof key) {
            size_t shown = 0, take;  /* whole characters: the cut may fall inside one */
            while (key[shown] && (take = jn_utf8_length((const unsigned char *)key + shown)))
                shown += take;
            char what[128];
            snprintf(what, sizeof what, "\"%.*s...\": a key longer than %zu bytes", (int)shown, key, sizeof key - 1);
            r->off = key_at;
            return json_error(r, what);
        }
        for (size_t k = 0; k < seen->len; k += strlen((const char *)seen->data + k) + 1)
            if (!strcmp((const char *)seen->data + k, key)) {
                char what[96];
                snprintf(what, sizeof what, "\"%s\" given twice", key);
                r->off = key_at;
                return json_error(r, what);
            }
        jn_buf_put(seen, key, strlen(key) + 1);
        if (seen->oom)
            return jn_fail("%s: out of memory", r->path);
        json_space(r);
        if (r->off >= r->len || r->text[r->off] != ':')
            return json_error(r, "expected ':'");
        r->off++;
        json_space(r);
        size_t at = r->off;
        if (r->off < r->len && r->text[r->off] == '"') {
            v.kind = 's';
            v.number = NAN;
            const long len = json_string(r, v.text, sizeof v.text);
            if (len < 0)
                return -1;
            /* Refused, not cut: the tools read it whole. */
            if (len >= (long)sizeof v.text) {
                char what[64];
                snprintf(what, sizeof what, "a string longer than %zu bytes", sizeof v.text - 1);
                r->off = at;
                return json_error(r, what);
            }
        } else if (json_scalar(r, &v)) {
            return -1;
        }
        const char *wrong = field(ctx, key, &v);
        if (wrong) {
            r->off = at;
            return json_error(r, wrong);
        }
        json_space(r);
        if (r->off < r->len && r->text[r->off] == '}')
            return r->off++, 0;
        if (r->off >= r->len || r->text[r->off] != ',')
            return json_error(r, "expected ',' or '}'");
        r->off++;
    }
}

/* Reads one object, the whole text (spaces aside), calling field() for each key: text after
 * it (two summaries pasted together) was read as the first, where the tools refused it. */
static int json_object(json_reader *r, json_field field, void *ctx)
{
    json_space(r);
    if (r->off >= r->len || r->text[r->off] != '{')
        return json_error(r, "expected '{'");
    r->off++;
    json_space(r);
    if (r->off < r->len && r->text[r->off] == '}') {
        r->off++;
    } else {
        jn_buf seen = {0};
        const int rc = json_members(r, field, ctx, &seen);
        jn_buf_free(&seen);
        if (rc)
            return rc;
    }
    json_space(r);
    return r->off < r->len ? json_error(r, "text after the object") : 0;
}

static const char wrong_kind[] = "a value of the wrong kind";
static const char not_count[] = "expected a whole number";

/* Counts are written as whole numbers: a fraction, a negative or one past `limit` is refused
 * rather than truncated into another count. */
static int is_count(const json_value *v, double limit)
{
    return v->kind == 'n' && v->number >= 0 && v->number < limit && v->number == floor(v->number);
}
#define INT_LIMIT ((double)INT_MAX + 1)
#define U64_LIMIT 18446744073709551616.0

static const char *summary_field(void *ctx, const char *key, const json_value *v)
{
    jn_summary_file *f = ctx;
    jn_run_summary *s = &f->s;
    jn_device_info *d = &f->device;
    /* Each cut to its cap's bytes at a whole character, as the tools cut it (summary_record): a
     * device's name of stray bytes, each written \\ufffd, reads back longer than it was. */
    const struct {
        const char *key;
        char *to;
        size_t cap;
    } texts[] = {{"status", f->status, sizeof f->status},       {"message", f->message, sizeof f->message},
                 {"backend", d->backend, sizeof d->backend},     {"device", d->device, sizeof d->device},
                 {"compute_capability", d->capability, sizeof d->capability},
                 {"cuda_driver", d->driver, sizeof d->driver}, {"cuda_runtime", d->runtime, sizeof d->runtime},
                 {"pci_bus_id", d->pci, sizeof d->pci},         {"blas", d->blas, sizeof d->blas}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (!strcmp(key, texts[i].key)) {
            if (v->kind != 's')
                return wrong_kind;
            size_t n = strlen(v->text);
            if (n >= texts[i].cap)  /* the cut inside a character drops it */
                for (n = texts[i].cap - 1; n && ((unsigned char)v->text[n] & 0xc0) == 0x80; n--)
                    ;
            memcpy(texts[i].to, v->text, n);
            texts[i].to[n] = 0;
            return NULL;
        }
    if (!strcmp(key, "tf32") || !strcmp(key, "tf32_override")) {
        if (v->kind != 'b')
            return wrong_kind;
        *(strcmp(key, "tf32") ? &d->tf32_override : &d->tf32) = v->number != 0;
        return NULL;
    }
    if (!strcmp(key, "threads") || !strcmp(key, "cuda_device")) {
        if (!is_count(v, INT_LIMIT))
            return not_count;
        *(strcmp(key, "threads") ? &d->ordinal : &d->threads) = (int)v->number;
        return NULL;
    }
    if (v->kind != 'n')
        return NULL;  /* fields of later versions are skipped */
    int epochs = !strcmp(key, "epochs"), best = !strcmp(key, "best_epoch");
    if ((epochs || best || !strcmp(key, "steps")) && !is_count(v, epochs || best ? INT_LIMIT : U64_LIMIT))
        return not_count;
    if (epochs)
        s->epochs_done = (int)v->number;
    else if (best)
        s->best_epoch = (int)v->number;
    else if (!strcmp(key, "steps"))
        s->steps = (uint64_t)v->number;
    else if (!strcmp(key, "best_valid_error"))
        s->best_valid_error = v->number;
    else if (!strcmp(key, "test_error"))
        s->test_error = v->number;
    else if (!strcmp(key, "seconds"))
        s->seconds = v->number;
    return NULL;
}

int jn_summary_read(const char *path, jn_summary_file *out)
{
    unsigned char *data;
    size_t len;
    memset(out, 0, sizeof *out);
    out->s.best_valid_error = out->s.test_error = out->s.seconds = NAN;
    out->device.ordinal = -1;  /* one from before the device's number was recorded */
    out->device.threads = -1;  /* not recorded (an edited summary): show says nothing of them */
    out->s.epochs_done = -1;   /* none read: jn_summary_write writes them in each */
    if (jn_read_file(path, &data, &len))
        return -1;
    json_reader r = {path, (const char *)data, len, 0, 0, 0};
    int rc = json_object(&r, summary_field, out);
    free(data);
    if (rc)
        return -1;
    if (!out->status[0])
        return jn_fail("%s: no status", path);
    /* Read as 0 epochs, where reproduce called the run damaged: a resume and sweep status
     * counted a run with none. */
    if (out->s.epochs_done < 0)
        return jn_fail("%s: no epochs", path);
    out->s.status = out->status;
    out->s.message = out->message;
    out->s.device = out->device.backend[0] ? &out->device : NULL;  /* one from before devices were recorded */
    return 0;
}

/* The keys of a metrics.jsonl line: jn_metrics_append writes each, a number it has none of (no
 * validation set, a diverged loss) as null. A line without one is not jacnoise's: the field
 * read as 0 (a best validation error of 0%), where the tools refused the line. */
static const char *const metrics_keys[] = {"epoch", "step", "lr", "train_loss", "penalty", "weight_decay",
                                           "objective", "train_error", "valid_error", "test_error", "best",
                                           "seconds"};
#define METRICS_KEYS (sizeof metrics_keys / sizeof metrics_keys[0])

typedef struct {
    jn_epoch_metrics *m;
    unsigned missing;  /* bit i: metrics_keys[i] not read yet */
} metrics_fields;

static const char *metrics_field(void *ctx, const char *key, const json_value *v)
{
    metrics_fields *f = ctx;
    jn_epoch_metrics *m = f->m;
    for (size_t i = 0; i < METRICS_KEYS; i++)
        if (!strcmp(key, metrics_keys[i]))
            f->missing &= ~(1u << i);
    static const struct {
        const char *key;
        size_t offset;
    } numbers[] = {
        {"lr", offsetof(jn_epoch_metrics, lr)},
        {"train_loss", offsetof(jn_epoch_metrics, train_loss)},
        {"penalty", offsetof(jn_epoch_metrics, penalty)},
        {"weight_decay", offsetof(jn_epoch_metrics, weight_decay)},
        {"objective", offsetof(jn_epoch_metrics, objective)},
        {"train_error", offsetof(jn_epoch_metrics, train_error)},
        {"valid_error", offsetof(jn_epoch_metrics, valid_error)},
        {"test_error", offsetof(jn_epoch_metrics, test_error)},
        {"seconds", offsetof(jn_epoch_metrics, seconds)},
    };
    if (v->kind == 's')
        return wrong_kind;
    int epoch = !strcmp(key, "epoch");
    if ((epoch || !strcmp(key, "step")) && !is_count(v, epoch ? INT_LIMIT : U64_LIMIT))
        return not_count;
    if (epoch)
        m->epoch = (int)v->number;
    else if (!strcmp(key, "step"))
        m->step = (uint64_t)v->number;
    else if (!strcmp(key, "best"))
        m->best = v->number != 0;
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (!strcmp(key, numbers[i].key))
            *(double *)((char *)m + numbers[i].offset) = v->number;
    return NULL;
}

/* Line `line` (from 1) of metrics.jsonl, data[off, off + len) without its newline: one flat
 * object with an epoch and the other keys, as jn_metrics_append writes it. */
static int metrics_line(const char *path, const unsigned char *data, size_t off, size_t len, int line,
                        jn_epoch_metrics *m)
{
    memset(m, 0, sizeof *m);
    json_reader r = {path, (const char *)data + off, len, 0, off, line};
    metrics_fields f = {m, (1u << METRICS_KEYS) - 1};
    if (json_object(&r, metrics_field, &f))
        return -1;
    if (m->epoch <= 0)
        return json_error(&r, "no epoch");
    for (size_t i = 0; i < METRICS_KEYS; i++)
        if (f.missing & 1u << i) {
            char what[64];
            snprintf(what, sizeof what, "no %s", metrics_keys[i]);
            return json_error(&r, what);
        }
    return 0;
}

/* The end of the line at data[off]: its newline, or the file's end for a last line that reads
 * whole without one (a hand edit dropped it; read as torn, its epoch was lost); SIZE_MAX for a
 * last line torn by a crash inside the append, which never reads whole: each line ends its
 * object. */
static size_t line_end(const char *path, const unsigned char *data, size_t off, size_t len, int line)
{
    const unsigned char *nl = memchr(data + off, '\n', len - off);
    jn_epoch_metrics m;
    if (nl)
        return (size_t)(nl - data);
    return metrics_line(path, data, off, len - off, line, &m) ? SIZE_MAX : len;
}

/* Reads the line of metrics.jsonl at data[off] (line `line`, from 1), after one of epoch
 * `before` (0 for the first), into *m, and its end (line_end) into *end: SIZE_MAX for a torn
 * last line, not read. An epoch at or below the one before (a line pasted twice, lines moved by
 * hand) is refused, `then` ending the message: each epoch appends one line, after the last,
 * and such a file counted an epoch twice, or out of order. */
static int metrics_next(const char *path, const unsigned char *data, size_t off, size_t len, int line, int before,
                        const char *then, jn_epoch_metrics *m, size_t *end)
{
    *end = line_end(path, data, off, len, line);
    if (*end == SIZE_MAX)
        return 0;
    if (metrics_line(path, data, off, *end - off, line, m))
        return -1;
    if (m->epoch > before)
        return 0;
    char what[64];
    if (m->epoch == before)
        snprintf(what, sizeof what, "a second line of epoch %d", m->epoch);
    else
        snprintf(what, sizeof what, "epoch %d after epoch %d", m->epoch, before);
    return jn_fail("%s: line %d (byte %zu): %s: each epoch has one line, in order%s", path, line, off, what, then);
}

int jn_metrics_read(const char *path, jn_epoch_metrics **out, int *count)
{
    unsigned char *data;
    size_t len;
    *out = NULL;
    *count = 0;
    if (jn_read_file(path, &data, &len))
        return -1;
    int cap = 0, rc = 0;
    for (size_t off = 0, end; off < len; off = end + 1) {
        if (*count == cap) {
            cap = cap ? 2 * cap : 64;
            jn_epoch_metrics *grown = realloc(*out, sizeof **out * (size_t)cap);
            if (!grown) {
                rc = jn_fail("%s: out of memory", path);
                break;
            }
            *out = grown;
        }
        const int before = *count ? (*out)[*count - 1].epoch : 0;
        if ((rc = metrics_next(path, data, off, len, *count + 1, before, "", &(*out)[*count], &end)) ||
            end == SIZE_MAX)
            break;  /* a refusal, or a torn last line */
        ++*count;
    }
    free(data);
    return rc;
}

/* Each epoch's line is appended, and synced, before the checkpoint of that epoch is written:
 * fewer lines than the checkpoint's epochs were removed or cut by hand, and a resume would
 * leave a record of the run without them (results.csv and the plots read it). */
static int lost_epochs(const char *path, int lines, int epochs)
{
    char held[48] = "missing";
    if (lines >= 0)
        snprintf(held, sizeof held, "%d epoch line%s", lines, lines == 1 ? "" : "s");
    return jn_fail("%s: %s, but the checkpoint resumed has done %d epoch%s: their lines are lost; put back the "
                   "run's metrics.jsonl to continue it", path, held, epochs, epochs == 1 ? "" : "s");
}

int jn_metrics_truncate(const char *path, int epochs)
{
    unsigned char *data;
    size_t len;
    /* Only a file that is not there is missing: one that cannot be reached (a link loop, a
     * folder without search permission) is reported as what it is, by the read below. */
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        if (epochs == 0)
            return 0;  /* no epoch ended yet */
        return lost_epochs(path, -1, epochs);
    }
    if (jn_read_file(path, &data, &len))
        return -1;
    /* Keeps the complete lines up to the first of an epoch > epochs (appended before a crash
     * stopped the checkpoint's write; the epoch is trained again). A complete line that is not
     * ours stops the resume with the file unchanged: dropping it and every line after it
     * would lose epochs without a word. So does an epoch's line at or below the one before it
     * (metrics_next): kept, it counted an epoch twice (as the missing one, unsaid). */
    size_t keep = 0;
    int rc = 0, kept = 0, before = 0, line = 1;
    for (size_t off = 0, end; off < len; off = end + 1, line++) {
        jn_epoch_metrics m;
        if ((rc = metrics_next(path, data, off, len, line, before,
                               "; put back the run's metrics.jsonl to continue it", &m, &end)) ||
            end == SIZE_MAX)
            break;  /* a refusal, or a torn last line from a crash inside the append */
        before = m.epoch;
        if (m.epoch <= epochs) {
            keep = end + 1;
            kept++;
        }
    }
    if (!rc && kept != epochs)
        rc = lost_epochs(path, kept, epochs);
    /* A last line kept without its newline gets it back: the next epoch's is appended after it. */
    if (!rc && keep > len) {
        unsigned char *grown = realloc(data, keep);
        if (grown)
            (data = grown)[len] = '\n';
        else
            rc = jn_fail("%s: out of memory", path);
    }
    if (!rc && keep != len)
        rc = jn_write_file_atomic(path, data, keep);
    free(data);
    return rc;
}
