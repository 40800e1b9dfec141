/* Step-state serialisation (layout in stepstate.h). */
#include "jacnoise/stepstate.h"
#include "core/fileio.h"
#include "jacnoise/error.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char MAGIC[8] = JN_STEPSTATE_MAGIC;
enum { DT_END = 0, DT_F32 = 1, DT_F64 = 2, DT_I32 = 3, DT_U64 = 4 };
enum { HEADER_BYTES = 8 + 4 + 8 + 4 };  /* magic, version, file size, the header's CRC-32 */

struct jn_stepstate {
    jn_buf buf;
};

jn_stepstate *jn_stepstate_new(void)
{
    jn_stepstate *ss = calloc(1, sizeof *ss);
    if (!ss)
        return NULL;
    /* Set by jn_stepstate_write, once the size is known. */
    static const unsigned char header_room[HEADER_BYTES];
    jn_buf_put(&ss->buf, header_room, HEADER_BYTES);
    return ss;
}

static size_t header(jn_stepstate *ss, int dtype, const char *name, int ndim, const uint64_t *dims)
{
    size_t len = strlen(name), count = 1;
    jn_buf_u8(&ss->buf, (uint8_t)dtype);
    jn_buf_u8(&ss->buf, (uint8_t)ndim);
    jn_buf_u8(&ss->buf, (uint8_t)len);
    jn_buf_u8(&ss->buf, (uint8_t)(len >> 8));
    jn_buf_put(&ss->buf, name, len);
    for (int i = 0; i < ndim; i++) {
        jn_buf_u64(&ss->buf, dims[i]);
        count *= (size_t)dims[i];
    }
    return count;
}

void jn_stepstate_reals(jn_stepstate *ss, const char *name, int ndim, const uint64_t *dims, const jn_real *data)
{
#ifdef JN_DOUBLE
    jn_buf_f64_array(&ss->buf, data, header(ss, DT_F64, name, ndim, dims));
#else
    jn_buf_f32_array(&ss->buf, data, header(ss, DT_F32, name, ndim, dims));
#endif
}

void jn_stepstate_i32(jn_stepstate *ss, const char *name, int ndim, const uint64_t *dims, const int32_t *data)
{
    size_t n = header(ss, DT_I32, name, ndim, dims);
    for (size_t i = 0; i < n; i++)
        jn_buf_u32(&ss->buf, (uint32_t)data[i]);
}

void jn_stepstate_f64(jn_stepstate *ss, const char *name, double value)
{
    header(ss, DT_F64, name, 0, NULL);
    jn_buf_f64(&ss->buf, value);
}

void jn_stepstate_u64(jn_stepstate *ss, const char *name, uint64_t value)
{
    header(ss, DT_U64, name, 0, NULL);
    jn_buf_u64(&ss->buf, value);
}

int jn_stepstate_write(jn_stepstate *ss, const char *path)
{
    header(ss, DT_END, "", 0, NULL);
    jn_buf head = {0};
    jn_buf_put(&head, MAGIC, sizeof MAGIC);
    jn_buf_u32(&head, JN_STEPSTATE_VERSION);
    jn_buf_u64(&head, (uint64_t)ss->buf.len + 4);  /* and the checksum */
    jn_buf_crc(&head);
    if (jn_buf_ok(&head, path) || jn_buf_ok(&ss->buf, path)) {
        jn_buf_free(&head);
        return -1;
    }
    memcpy(ss->buf.data, head.data, HEADER_BYTES);
    jn_buf_free(&head);
    jn_buf_crc(&ss->buf);
    if (jn_buf_ok(&ss->buf, path))
        return -1;
    return jn_write_file_atomic(path, ss->buf.data, ss->buf.len);
}

void jn_stepstate_free(jn_stepstate *ss)
{
    if (!ss)
        return;
    jn_buf_free(&ss->buf);
    free(ss);
}

void jn_stepstate_file_free(jn_stepstate_file *f)
{
    for (int i = 0; i < f->count; i++) {
        free(f->tensors[i].values);
        free(f->tensors[i].whole);
    }
    free(f->tensors);
    memset(f, 0, sizeof *f);
}

/* One record after its dtype byte; the data converted to double. */
static int parse_tensor(jn_cursor *c, int dtype, jn_tensor *t)
{
    size_t at = c->off - 1;
    uint8_t ndim, len_lo, len_hi;
    if (jn_cur_u8(c, &ndim, "a tensor header") || jn_cur_u8(c, &len_lo, "a tensor header") ||
        jn_cur_u8(c, &len_hi, "a tensor header"))
        return -1;
    size_t name_len = (size_t)len_lo | (size_t)len_hi << 8;
    if (dtype < JN_DTYPE_F32 || dtype > JN_DTYPE_U64)
        return jn_fail("%s: byte %zu: unknown tensor type %d (expected 1 float32, 2 float64, 3 int32, 4 uint64, "
                       "0 end)", c->path, at, dtype);
    if (ndim > JN_STEPSTATE_MAX_DIMS || name_len == 0 || name_len >= sizeof t->name)
        return jn_fail("%s: byte %zu: tensor header out of range (%u dimensions, name of %zu bytes)", c->path, at,
                       ndim, name_len);
    if (jn_cur_bytes(c, t->name, name_len, "a tensor name"))
        return -1;
    t->name[name_len] = 0;
    if (strlen(t->name) != name_len)
        return jn_fail("%s: byte %zu: NUL byte in a tensor name", c->path, at);
    t->dtype = dtype;
    t->ndim = ndim;
    t->count = 1;
    const size_t elem = dtype == JN_DTYPE_F64 || dtype == JN_DTYPE_U64 ? 8 : 4;
    for (int i = 0; i < ndim; i++) {
        if (jn_cur_u64(c, &t->dims[i], "tensor dimensions"))
            return -1;
        /* The data must fit in what is left of the file: bounds every product below. */
        if (t->dims[i] != 0 && t->count > (c->len - c->off) / elem / t->dims[i])
            return jn_fail("%s: byte %zu: tensor %s of %d dimensions runs past the end of the file", c->path, at,
                           t->name, ndim);
        t->count *= t->dims[i];
    }
    if (t->count > (c->len - c->off) / elem)
        return jn_fail("%s: byte %zu: tensor %s runs past the end of the file", c->path, at, t->name);
    t->values = malloc(sizeof(double) * (t->count ? t->count : 1));
    if (dtype == JN_DTYPE_U64)
        t->whole = malloc(sizeof(uint64_t) * (t->count ? t->count : 1));
    if (!t->values || (dtype == JN_DTYPE_U64 && !t->whole))
        return jn_fail("%s: out of memory for tensor %s", c->path, t->name);
    /* Each read checked too: the count check above is what keeps them inside the data, and a
     * change to it must not let them run past it. */
    for (uint64_t i = 0; i < t->count; i++) {
        uint32_t u;
        if (dtype == JN_DTYPE_F64) {
            if (jn_cur_f64(c, &t->values[i], "tensor data"))
                return -1;
        } else if (dtype == JN_DTYPE_U64) {
            if (jn_cur_u64(c, &t->whole[i], "tensor data"))
                return -1;
            t->values[i] = (double)t->whole[i];
        } else {
            if (jn_cur_u32(c, &u, "tensor data"))
                return -1;
            if (dtype == JN_DTYPE_I32) {
                t->values[i] = (double)(int32_t)u;
            } else {
                float f;
                memcpy(&f, &u, 4);
                t->values[i] = f;
            }
        }
    }
    return 0;
}

int jn_stepstate_parse(const unsigned char *data, size_t len, const char *path, jn_stepstate_file *out)
{
    memset(out, 0, sizeof *out);
    jn_cursor c = {data, len, 0, path};
    unsigned char magic[8];
    uint32_t version;
    if (jn_cur_bytes(&c, magic, 8, "the magic number"))
        return -1;
    if (memcmp(magic, MAGIC, 8))
        return jn_fail("%s: byte 0: not a jacnoise step state (wrong magic number)", path);
    if (jn_cur_version(&c, &version, JN_STEPSTATE_VERSION, JN_STEPSTATE_VERSION, "step state",
                       " (an older jacnoise's: write it again with jacnoise step --dump)"))
        return -1;
    /* The header says the file's size, under its own checksum: a file of another size is cut
     * (or has bytes after its end), whatever its records say, and a damaged header is no cut. */
    uint64_t size;
    uint32_t header_crc;
    if (jn_cur_check_size(&c, HEADER_BYTES + 4 + 4, 0) || jn_cur_u64(&c, &size, "the file size") ||
        jn_cur_u32(&c, &header_crc, "the header's checksum"))
        return -1;
    const jn_cursor header = {data, HEADER_BYTES, 0, path};
    if (jn_cur_check_crc(&header) || jn_cur_check_size(&c, size, 1) || jn_cur_check_end(&c, size, "step state") ||
        jn_cur_check_crc(&c))
        return -1;
    c.len -= 4;
    int cap = 0;
    for (;;) {
        uint8_t dtype;
        if (jn_cur_u8(&c, &dtype, "a tensor header"))
            goto fail;
        if (dtype == 0) {
            uint8_t rest[3];
            size_t at = c.off - 1;
            if (jn_cur_bytes(&c, rest, 3, "the end record"))
                goto fail;
            if (rest[0] || rest[1] || rest[2]) {
                jn_fail("%s: byte %zu: malformed end record", path, at);
                goto fail;
            }
            break;
        }
        if (out->count == cap) {
            cap = cap ? 2 * cap : 32;
            jn_tensor *grown = realloc(out->tensors, sizeof *grown * (size_t)cap);
            if (!grown) {
                jn_fail("%s: out of memory", path);
                goto fail;
            }
            out->tensors = grown;
        }
        jn_tensor *t = &out->tensors[out->count];
        memset(t, 0, sizeof *t);
        size_t at = c.off - 1;
        if (parse_tensor(&c, dtype, t)) {
            free(t->values);
            free(t->whole);
            goto fail;
        }
        out->count++;
        for (int i = 0; i < out->count - 1; i++)
            if (!strcmp(out->tensors[i].name, t->name)) {
                jn_fail("%s: byte %zu: tensor %s appears twice", path, at, t->name);
                goto fail;
            }
    }
    if (c.off != c.len) {
        jn_fail("%s: byte %zu: %zu unexpected byte%s after the end record", path, c.off, c.len - c.off,
                c.len - c.off == 1 ? "" : "s");
        goto fail;
    }
    return 0;
fail:
    jn_stepstate_file_free(out);
    return -1;
}

