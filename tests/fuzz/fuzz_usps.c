/* Fuzzes the USPS text reader. */
#include "fuzz_common.h"
#include "jacnoise/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jn_dataset set;
    if (jn_usps_load(fuzz_write_file(data, size, 0), &set) == 0)
        jn_dataset_free(&set);
    return 0;
}
