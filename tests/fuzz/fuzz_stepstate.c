/* Fuzzes the step-state reader, as given and with its checksums made valid: the header's
 * size set to the input's and its CRC-32, and the trailer's. */
#include "fuzz_common.h"
#include "jacnoise/stepstate.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put_le(uint8_t *at, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jn_stepstate_file f;
    if (jn_stepstate_parse(data, size, "fuzz", &f) == 0)
        jn_stepstate_file_free(&f);
    enum { SIZE_AT = 12, HEADER_CRC_AT = 20 };
    if (size >= HEADER_CRC_AT + 4 + 4) {
        uint8_t *header = malloc(size);
        if (!header)
            abort();
        memcpy(header, data, size);
        put_le(header + SIZE_AT, size, 8);
        put_le(header + HEADER_CRC_AT, (uint32_t)crc32(0L, header, HEADER_CRC_AT), 4);
        uint8_t *fixed = fuzz_fix_crc(header, size);
        if (jn_stepstate_parse(fixed, size, "fuzz", &f) == 0)
            jn_stepstate_file_free(&f);
        free(fixed);
        free(header);
    }
    return 0;
}
