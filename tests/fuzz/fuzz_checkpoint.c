/* Fuzzes the checkpoint reader, as given and with the checksum made valid. */
#include "fuzz_common.h"
#include "jacnoise/checkpoint.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jn_checkpoint ck;
    if (jn_checkpoint_parse(data, size, "fuzz", &ck) == 0)
        jn_checkpoint_free(&ck);
    uint8_t *fixed = fuzz_fix_crc(data, size);
    if (fixed && jn_checkpoint_parse(fixed, size, "fuzz", &ck) == 0)
        jn_checkpoint_free(&ck);
    free(fixed);
    return 0;
}
