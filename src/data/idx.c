/* IDX files (the MNIST format): header and payload reading, and image/label pairs.
 *
 * Offsets in messages are byte offsets in the decoded IDX content (for a .gz file, in the
 * decompressed stream), which is where a user inspecting the file with `gzip -dc | xxd` looks;
 * corrupt gzip data, and bytes after it, are located in the compressed file (gz.c). */
#include "data/gz.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An open IDX file and how many decoded bytes have been consumed. */
typedef struct {
    jn_gz g;
    const char *path;
    uint64_t off;
} idx_reader;

/* First payload buffer; it doubles as data arrives, so a file that declares a huge payload
 * but holds little never gets the declared size allocated. */
#define FIRST_BUFFER ((size_t)1 << 20)

static int element_size(int type)
{
    switch (type) {
    case JN_IDX_U8:
    case JN_IDX_I8: return 1;
    case JN_IDX_I16: return 2;
    case JN_IDX_I32:
    case JN_IDX_F32: return 4;
    case JN_IDX_F64: return 8;
    default: return 0;
    }
}

static const char *type_name(int type)
{
    switch (type) {
    case JN_IDX_U8: return "u8";
    case JN_IDX_I8: return "i8";
    case JN_IDX_I16: return "i16";
    case JN_IDX_I32: return "i32";
    case JN_IDX_F32: return "f32";
    case JN_IDX_F64: return "f64";
    default: return "unknown";
    }
}

/* Reads exactly n bytes; `what` ends at byte `what_end` (for the message on a short read). */
static int read_exact(idx_reader *r, void *buf, size_t n, const char *what, uint64_t what_end)
{
    long got = jn_gz_read(&r->g, buf, n);
    if (got < 0)
        return -1;
    r->off += (uint64_t)got;
    if ((size_t)got < n) {
        const unsigned long long missing = what_end - r->off;
        return jn_fail("%s: byte %llu: unexpected end of file in the %s: expected %llu more "
                       "byte%s (up to byte %llu)%s",
                       r->path, (unsigned long long)r->off, what, missing, missing == 1 ? "" : "s",
                       (unsigned long long)what_end, jn_gz_cut(&r->g) ? " (the gzip stream is cut short)" : "");
    }
    return 0;
}

/* Succeeds only at a clean end of file: no trailing bytes, and for gzip a verified trailer. */
static int expect_end(idx_reader *r)
{
    unsigned char extra;
    long got = jn_gz_read(&r->g, &extra, 1);
    if (got < 0)
        return -1;
    if (got > 0)
        return jn_fail("%s: byte %llu: expected end of file after the payload, found trailing "
                       "bytes",
                       r->path, (unsigned long long)r->off);
    if (jn_gz_cut(&r->g))
        return jn_fail("%s: byte %llu: gzip stream ends early after the payload (its end and "
                       "checksum are missing)",
                       r->path, (unsigned long long)r->off);
    return 0;
}

/* Reads the magic and the dimensions into out (data untouched); checks sizes for overflow. */
static int read_header(idx_reader *r, jn_idx *out)
{
    unsigned char m[4], d[4 * JN_IDX_MAX_DIMS];
    if (read_exact(r, m, 4, "IDX magic", 4))
        return -1;
    if (m[0] != 0 || m[1] != 0) {
        /* A text file in an IDX file's place (an HTML error page a download saved, a USPS file)
         * is said to be text: "found 0x3C68746D" alone hid that it is "<htm". */
        char text[40] = "";
        int printable = 1;
        for (int i = 0; i < 4; i++)
            printable &= (m[i] >= 0x20 && m[i] < 0x7f) || m[i] == '\t' || m[i] == '\n' || m[i] == '\r';
        if (printable)
            snprintf(text, sizeof text, " (\"%c%c%c%c\": text, not IDX data)", m[0] >= 0x20 ? m[0] : ' ',
                     m[1] >= 0x20 ? m[1] : ' ', m[2] >= 0x20 ? m[2] : ' ', m[3] >= 0x20 ? m[3] : ' ');
        return jn_fail("%s: byte 0: expected IDX magic 0x0000080X (two zero bytes, type, ndim), "
                       "found 0x%02X%02X%02X%02X%s",
                       r->path, m[0], m[1], m[2], m[3], text);
    }
    if (element_size(m[2]) == 0)
        return jn_fail("%s: byte 2: unknown IDX type code 0x%02X (expected 0x08 u8, 0x09 i8, "
                       "0x0B i16, 0x0C i32, 0x0D f32 or 0x0E f64)",
                       r->path, m[2]);
    if (m[3] == 0 || m[3] > JN_IDX_MAX_DIMS)
        return jn_fail("%s: byte 3: IDX ndim %d out of range [1, %d]", r->path, m[3],
                       JN_IDX_MAX_DIMS);
    out->type = m[2];
    out->ndim = m[3];
    uint64_t header_end = 4 + 4 * (uint64_t)out->ndim;
    if (read_exact(r, d, 4 * (size_t)out->ndim, "IDX dimensions", header_end))
        return -1;

    /* The bound is checked on the product with a zero count taken as 1, so that an empty
     * file with absurd item dimensions is refused too. */
    uint64_t bound = 1;
    for (int i = 0; i < out->ndim; i++) {
        const unsigned char *b = d + 4 * i;
        uint32_t dim = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        out->dims[i] = dim;
        if (dim == 0 && i > 0)
            return jn_fail("%s: byte %d: dimension %d is 0 (only the item count, dimension 0, "
                           "may be 0)",
                           r->path, 4 + 4 * i, i);
        uint64_t factor = dim ? dim : 1;
        if (factor > JN_IDX_MAX_ELEMENTS / bound)
            return jn_fail("%s: byte %d: absurd dimensions: dimension %d (%lu) takes the size "
                           "past %llu elements",
                           r->path, 4 + 4 * i, i, (unsigned long)dim,
                           (unsigned long long)JN_IDX_MAX_ELEMENTS);
        bound *= factor;
    }
    out->count = out->dims[0] ? bound : 0;
    if (out->count * (uint64_t)element_size(out->type) > SIZE_MAX)
        return jn_fail("%s: byte 4: payload of %llu elements does not fit in memory here",
                       r->path, (unsigned long long)out->count);
    return 0;
}

/* Reads the payload into a buffer that grows with the data actually present. */
static int read_payload(idx_reader *r, size_t bytes, void **out)
{
    uint64_t end = r->off + bytes;
    size_t cap = bytes < FIRST_BUFFER ? bytes : FIRST_BUFFER, have = 0;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf)
        return jn_fail("%s: cannot allocate %zu bytes", r->path, cap);
    while (have < bytes) {
        if (have == cap) {
            size_t next = cap > bytes / 2 ? bytes : 2 * cap;
            unsigned char *grown = realloc(buf, next);
            if (!grown) {
                free(buf);
                return jn_fail("%s: cannot allocate %zu bytes for the payload", r->path, next);
            }
            buf = grown;
            cap = next;
        }
        if (read_exact(r, buf + have, cap - have, "payload", end)) {
            free(buf);
            return -1;
        }
        have = cap;
    }
    *out = buf;
    return 0;
}

/* Rewrites big-endian elements of `size` bytes in host order, independent of the host. */
static void to_host_order(void *data, uint64_t count, int size)
{
    unsigned char *p = data;
    if (size == 1)
        return;
    for (uint64_t i = 0; i < count; i++, p += size) {
        uint64_t v = 0;
        for (int b = 0; b < size; b++)
            v = v << 8 | p[b];
        if (size == 2) {
            uint16_t h = (uint16_t)v;
            memcpy(p, &h, 2);
        } else if (size == 4) {
            uint32_t h = (uint32_t)v;
            memcpy(p, &h, 4);
        } else {
            memcpy(p, &v, 8);
        }
    }
}

/* Opens path and reads its header into out, payload not yet read; on failure nothing is left
 * open. */
static int open_header(idx_reader *r, const char *path, jn_idx *out)
{
    memset(out, 0, sizeof *out);
    *r = (idx_reader){.path = path};
    if (jn_gz_open(&r->g, path))
        return -1;
    if (read_header(r, out)) {
        jn_gz_close(&r->g);
        return -1;
    }
    return 0;
}

/* Reads the payload of a file open_header opened, and closes it; on failure out is freed. */
static int read_body(idx_reader *r, jn_idx *out)
{
    int rc = read_payload(r, (size_t)(out->count * (uint64_t)element_size(out->type)), &out->data) ||
             expect_end(r);
    jn_gz_close(&r->g);
    if (rc) {
        jn_idx_free(out);
        return -1;
    }
    to_host_order(out->data, out->count, element_size(out->type));
    return 0;
}

int jn_idx_read(const char *path, jn_idx *out)
{
    idx_reader r;
    return open_header(&r, path, out) || read_body(&r, out) ? -1 : 0;
}

void jn_idx_free(jn_idx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

static uint64_t header_bytes(const jn_idx *idx) { return 4 + 4 * (uint64_t)idx->ndim; }

/* Converts the images to floats: u8 / 255, f32 / f64 as they are but finite. */
static int convert_images(const char *path, const jn_idx *im, float *x)
{
    uint64_t base = header_bytes(im);
    if (im->type == JN_IDX_U8) {
        const unsigned char *p = im->data;
        for (uint64_t i = 0; i < im->count; i++)
            x[i] = p[i] / 255.0f;
        return 0;
    }
    for (uint64_t i = 0; i < im->count; i++) {
        double v = im->type == JN_IDX_F32 ? ((const float *)im->data)[i]
                                          : ((const double *)im->data)[i];
        if (!isfinite(v) || fabs(v) > FLT_MAX)
            return jn_fail("%s: byte %llu: image value %g is not a finite float", path,
                           (unsigned long long)(base + i * (uint64_t)element_size(im->type)), v);
        x[i] = (float)v;
    }
    return 0;
}

/* Checks and copies the labels; *classes becomes max + 1 unless classes_hint > 0 bounds them. */
static int convert_labels(const char *path, const jn_idx *lb, int classes_hint, const char *classes_from,
                          int32_t *y, int *classes)
{
    /* More classes than this is taken for a corrupt file, not a real task. */
    const long max_classes = 65536;
    uint64_t base = header_bytes(lb);
    long top = -1;
    for (uint64_t i = 0; i < lb->count; i++) {
        long v = lb->type == JN_IDX_U8 ? ((const unsigned char *)lb->data)[i]
                                       : ((const int32_t *)lb->data)[i];
        unsigned long long at = base + i * (unsigned long long)element_size(lb->type);
        if (v < 0)
            return jn_fail("%s: byte %llu (item %llu): negative label %ld (expected labels >= 0)",
                           path, at, (unsigned long long)i, v);
        if (classes_hint > 0 && v >= classes_hint)
            return jn_fail("%s: byte %llu (item %llu): label out of range: %ld (the classes are "
                           "[0, %d], from %s)",
                           path, at, (unsigned long long)i, v, classes_hint - 1, classes_from);
        if (v >= max_classes)
            return jn_fail("%s: byte %llu (item %llu): absurd label %ld (at most %ld classes are "
                           "accepted)",
                           path, at, (unsigned long long)i, v, max_classes);
        y[i] = (int32_t)v;
        if (v > top)
            top = v;
    }
    *classes = classes_hint > 0 ? classes_hint : (int)(top + 1);
    return 0;
}

/* Checks the shapes and types of an image/label pair from their headers; sets *d to the item
 * size. */
static int check_pair(const char *images_path, const jn_idx *im, const char *labels_path,
                      const jn_idx *lb, int *d)
{
    if (im->ndim < 2)
        return jn_fail("%s: byte 3: expected an image file with ndim >= 2 (count, then item "
                       "dimensions), found ndim %d%s",
                       images_path, im->ndim,
                       lb->ndim >= 2 ? ", and the labels file has ndim >= 2: the two files "
                                       "swapped? (idx:IMAGES,LABELS)"
                                     : "");
    if (im->type != JN_IDX_U8 && im->type != JN_IDX_F32 && im->type != JN_IDX_F64)
        return jn_fail("%s: byte 2: image type 0x%02X (%s) not supported: expected 0x08 u8, "
                       "0x0D f32 or 0x0E f64",
                       images_path, im->type, type_name(im->type));
    uint64_t item = 1;
    for (int i = 1; i < im->ndim; i++)
        item *= im->dims[i]; /* bounded by JN_IDX_MAX_ELEMENTS: no overflow */
    if (item > INT_MAX || im->dims[0] > INT_MAX)
        return jn_fail("%s: byte 4: %lu items of %llu values: too large (at most %d of each)",
                       images_path, (unsigned long)im->dims[0], (unsigned long long)item,
                       INT_MAX);
    if (lb->ndim != 1)
        return jn_fail("%s: byte 3: expected a 1-D label file, found ndim %d", labels_path,
                       lb->ndim);
    if (lb->type != JN_IDX_U8 && lb->type != JN_IDX_I32)
        return jn_fail("%s: byte 2: label type 0x%02X (%s) not supported: expected 0x08 u8 or "
                       "0x0C i32",
                       labels_path, lb->type, type_name(lb->type));
    if (lb->dims[0] != im->dims[0])
        return jn_fail("%s: byte 4 (the item count): %lu image%s, but %s holds %lu label%s (its "
                       "byte 4): the counts must match",
                       images_path, (unsigned long)im->dims[0], im->dims[0] == 1 ? "" : "s", labels_path,
                       (unsigned long)lb->dims[0], lb->dims[0] == 1 ? "" : "s");
    if (im->count > SIZE_MAX / sizeof(float))
        return jn_fail("%s: %llu values do not fit in memory here", images_path,
                       (unsigned long long)im->count);
    *d = (int)item;
    return 0;
}

int jn_idx_load_pair(const char *images_path, const char *labels_path, int classes_hint,
                     const char *classes_from, jn_dataset *out)
{
    memset(out, 0, sizeof *out);
    jn_idx im, lb;
    idx_reader ir, lr;
    int d = 0, rc = -1;
    if (open_header(&lr, labels_path, &lb))
        return -1;
    if (open_header(&ir, images_path, &im)) {
        jn_gz_close(&lr.g);
        return -1;
    }
    /* The shapes are checked from the headers, before either payload is read: a header that
     * claims too many items, or counts that differ, is refused without reading gigabytes. */
    if (check_pair(images_path, &im, labels_path, &lb, &d)) {
        jn_gz_close(&lr.g);
        jn_gz_close(&ir.g);
        return -1;
    }
    if (read_body(&lr, &lb)) {
        jn_gz_close(&ir.g);
        return -1;
    }
    if (read_body(&ir, &im)) {
        jn_idx_free(&lb);
        return -1;
    }
    out->n = (int)im.dims[0];
    out->d = d;
    out->x = malloc(im.count ? im.count * sizeof *out->x : 1);
    out->y = malloc(lb.count ? lb.count * sizeof *out->y : 1);
    if (!out->x || !out->y) {
        jn_fail("%s: cannot allocate %llu floats", images_path, (unsigned long long)im.count);
        goto done;
    }
    if (convert_labels(labels_path, &lb, classes_hint, classes_from, out->y, &out->classes) ||
        convert_images(images_path, &im, out->x))
        goto done;
    snprintf(out->name, sizeof out->name, "%s", images_path);
    rc = 0;
done:
    if (rc)
        jn_dataset_free(out);
    jn_idx_free(&im);
    jn_idx_free(&lb);
    return rc;
}
