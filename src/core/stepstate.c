/* Step-state serialisation (layout in stepstate.h). */
#include "jacnoise/stepstate.h"
#include "core/fileio.h"
#include "jacnoise/error.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char MAGIC[8] = {'J', 'N', 'S', 'T', 'E', 'P', 0, '\n'};
enum { DT_END = 0, DT_F32 = 1, DT_F64 = 2, DT_I32 = 3 };

struct jn_stepstate {
    jn_buf buf;
};

jn_stepstate *jn_stepstate_new(void)
{
    jn_stepstate *ss = calloc(1, sizeof *ss);
    if (!ss)
        return NULL;
    jn_buf_put(&ss->buf, MAGIC, sizeof MAGIC);
    jn_buf_u32(&ss->buf, JN_STEPSTATE_VERSION);
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

int jn_stepstate_write(jn_stepstate *ss, const char *path)
{
    header(ss, DT_END, "", 0, NULL);
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
