/* Shared by the fuzz harnesses: the readers under test take file paths, so each input is
 * written to a temporary file of the process first. */
#ifndef JACNOISE_FUZZ_COMMON_H
#define JACNOISE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Writes the bytes (gzip-compressed if gzip) to this process's temporary file and returns
 * its path. */
const char *fuzz_write_file(const uint8_t *data, size_t size, int gzip);

/* The same for a second file (raw), for a harness that needs two files at once. */
const char *fuzz_write_second_file(const uint8_t *data, size_t size);

/* A copy of the bytes whose last 4 bytes are replaced by the CRC-32 of the rest, so that
 * the fuzzer also reaches the parsing behind a checksum; NULL if size < 4. Free it. */
uint8_t *fuzz_fix_crc(const uint8_t *data, size_t size);

/* The bytes as a C string (a parser of text stops at the first NUL, as on a file). Free it. */
char *fuzz_text(const uint8_t *data, size_t size);

/* The entry point every harness defines (libFuzzer's). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
