/* Step state: one training step with every input and output, so anyone can check the
 * engine against another implementation (tests/torch_oracle.py does, in float64).
 *
 * Binary layout (little-endian):
 *   offset 0  8 bytes  magic "JNSTEP\0\n"
 *          8  u32      format version (JN_STEPSTATE_VERSION)
 *         12  u64      the file's size in bytes
 *         20  u32      CRC-32 (zlib) of the 20 bytes before it: a cut file is told from a
 *                      damaged one by its header alone
 *   then named tensors, each:
 *             u8       dtype: 1 float32, 2 float64, 3 int32, 4 uint64 (0 ends the list)
 *             u8       ndim (0 for a scalar)
 *             u16      name length, then the name (ASCII)
 *             u64      each dimension
 *             data     row-major, product(dims) values
 *   then an end record (dtype 0, ndim 0, name length 0) and a u32 CRC-32 (zlib) of every
 *   byte before it.
 * The tensors `jacnoise step --dump` writes are listed in the README ("Step state"). */
#ifndef JACNOISE_STEPSTATE_H
#define JACNOISE_STEPSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "jacnoise/real.h"

/* 2: the header's size and checksum, and uint64 tensors (the seed, exactly). */
#define JN_STEPSTATE_VERSION 2
/* A step state's first 8 bytes (a checkpoint's reader names such a file). */
#define JN_STEPSTATE_MAGIC "JNSTEP\0\n"

typedef struct jn_stepstate jn_stepstate;

/* A new step state holding its header; NULL when out of memory. */
jn_stepstate *jn_stepstate_new(void);
/* Appends a tensor of jn_real values (float32, or float64 in float64 builds). */
void jn_stepstate_reals(jn_stepstate *ss, const char *name, int ndim, const uint64_t *dims, const jn_real *data);
/* Appends a tensor of int32 values. */
void jn_stepstate_i32(jn_stepstate *ss, const char *name, int ndim, const uint64_t *dims, const int32_t *data);
/* Appends a float64 scalar. */
void jn_stepstate_f64(jn_stepstate *ss, const char *name, double value);
/* Appends a uint64 scalar. */
void jn_stepstate_u64(jn_stepstate *ss, const char *name, uint64_t value);
/* Ends the list, adds the checksum and writes the file atomically. */
int jn_stepstate_write(jn_stepstate *ss, const char *path);
void jn_stepstate_free(jn_stepstate *ss);  /* NULL is allowed */

/* Reading. Names are at most 255 bytes, tensors at most 8 dimensions. */
enum { JN_DTYPE_F32 = 1, JN_DTYPE_F64 = 2, JN_DTYPE_I32 = 3, JN_DTYPE_U64 = 4 };
#define JN_STEPSTATE_MAX_DIMS 8

typedef struct {
    char name[256];
    int dtype;                              /* JN_DTYPE_* */
    int ndim;
    uint64_t dims[JN_STEPSTATE_MAX_DIMS];
    uint64_t count;                         /* product of dims (1 for a scalar) */
    double *values;                         /* the data, converted to double */
    uint64_t *whole;                        /* JN_DTYPE_U64's data, exact; else NULL */
} jn_tensor;

typedef struct {
    int count;
    jn_tensor *tensors;
} jn_stepstate_file;

/* Parses and verifies (magic, version, checksum, record bounds, duplicate names); errors
 * name the file and byte offset. */
int jn_stepstate_parse(const unsigned char *data, size_t len, const char *path, jn_stepstate_file *out);
void jn_stepstate_file_free(jn_stepstate_file *f);

#endif
