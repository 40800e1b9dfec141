/* Step state: one training step with every input and output, so anyone can check the
 * engine against another implementation (tests/torch_oracle.py does, in float64).
 *
 * Binary layout (little-endian):
 *   offset 0  8 bytes  magic "JNSTEP\0\n"
 *             u32      format version (JN_STEPSTATE_VERSION)
 *   then named tensors, each:
 *             u8       dtype: 1 float32, 2 float64, 3 int32 (0 ends the list)
 *             u8       ndim (0 for a scalar)
 *             u16      name length, then the name (ASCII)
 *             u64      each dimension
 *             data     row-major, product(dims) values
 *   then an end record (dtype 0, ndim 0, name length 0) and a u32 CRC-32 (zlib) of every
 *   byte before it.
 * The tensors `jacnoise step --dump` writes are listed in the README ("Step state"). */
#ifndef JACNOISE_STEPSTATE_H
#define JACNOISE_STEPSTATE_H

#include <stdint.h>

#include "jacnoise/real.h"

#define JN_STEPSTATE_VERSION 1

typedef struct jn_stepstate jn_stepstate;

jn_stepstate *jn_stepstate_new(void);
/* Appends a tensor of jn_real values (float32, or float64 in float64 builds). */
void jn_stepstate_reals(jn_stepstate *ss, const char *name, int ndim, const uint64_t *dims, const jn_real *data);
void jn_stepstate_i32(jn_stepstate *ss, const char *name, int ndim, const uint64_t *dims, const int32_t *data);
void jn_stepstate_f64(jn_stepstate *ss, const char *name, double value);
/* Ends the list, adds the checksum and writes the file atomically. */
int jn_stepstate_write(jn_stepstate *ss, const char *path);
void jn_stepstate_free(jn_stepstate *ss);

#endif
