/* Fuzzes the IDX reader and the image/label pairing on arbitrary files, raw or (built with
 * FUZZ_GZIP) gzip-compressed so that the IDX parser is reached through zlib. */
#include "fuzz_common.h"
#include "jacnoise/data.h"

#ifdef FUZZ_GZIP
#define GZIP 1
#else
#define GZIP 0
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, GZIP);
    jn_idx idx;
    if (jn_idx_read(path, &idx) == 0)
        jn_idx_free(&idx);
    /* The same file as images and labels: whichever checks apply must refuse or accept it. */
    jn_dataset set;
    for (int hint = 0; hint <= 10; hint += 10)
        if (jn_idx_load_pair(path, path, hint, "the hint", &set) == 0)
            jn_dataset_free(&set);
    return 0;
}
