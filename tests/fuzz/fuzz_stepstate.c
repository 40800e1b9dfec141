/* Fuzzes the step-state reader, as given and with the checksum made valid. */
#include "fuzz_common.h"
#include "jacnoise/stepstate.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jn_stepstate_file f;
    if (jn_stepstate_parse(data, size, "fuzz", &f) == 0)
        jn_stepstate_file_free(&f);
    uint8_t *fixed = fuzz_fix_crc(data, size);
    if (fixed && jn_stepstate_parse(fixed, size, "fuzz", &f) == 0)
        jn_stepstate_file_free(&f);
    free(fixed);
    return 0;
}
