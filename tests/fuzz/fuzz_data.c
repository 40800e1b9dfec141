/* Fuzzes what follows the readers when an idx: set is loaded for `jacnoise data` and a run:
 * the classes from the labels, the --valid / --train-limit split, the statistics and the
 * per-class lines with their empty-class ranges (src/data/datasets.c, stats.c), which the
 * reader harnesses do not reach. The input is one option byte, then an IDX label file; the
 * images are made to match its count, one pixel per item, so that every label file the
 * reader accepts reaches the split. */
#include "fuzz_common.h"
#include "jacnoise/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The per-class lines and the empty-class warning, printed where nobody reads them. */
static void print_quietly(const jn_data *data, const char *what)
{
    static FILE *null;
    if (!null && !(null = fopen("/dev/null", "w")))
        abort();
    fflush(stderr);
    int saved = dup(2);
    if (saved < 0 || dup2(fileno(null), 2) < 0)
        abort();
    jn_data_print_classes(data, what, null);
    fflush(stderr);
    if (dup2(saved, 2) < 0)
        abort();
    close(saved);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *labels = fuzz_write_file(data + 1, size - 1, 0);
    jn_idx lb;
    if (jn_idx_read(labels, &lb))
        return 0;
    /* A 1-D file is bounded by the input's size: its images fit in memory. */
    const uint64_t n = lb.ndim == 1 ? lb.count : 0;
    jn_idx_free(&lb);
    uint8_t *images = malloc(12 + n);
    if (!images)
        abort();
    const uint8_t head[12] = {0, 0, 0x08, 2, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                              (uint8_t)n, 0, 0, 0, 1};
    for (int i = 0; i < 12; i++)
        images[i] = head[i];
    for (uint64_t i = 0; i < n; i++)
        images[12 + i] = (uint8_t)(i * 37);
    const char *images_path = fuzz_write_second_file(images, 12 + n);
    free(images);

    char spec[2 * 4096 + 8];
    snprintf(spec, sizeof spec, "idx:%s,%s", images_path, labels);
    /* --valid -1 (a tenth) .. 6, --train-limit 0 (all) .. 7, --test the same files. */
    const jn_data_request req = {spec, spec, NULL, (long)(data[0] & 7) - 1, (long)(data[0] >> 3 & 7)};
    jn_data set;
    if (jn_data_load(&req, &set))
        return 0;
    jn_split_stats st;
    const jn_dataset *splits[3] = {&set.train, &set.valid, &set.test};
    for (int i = 0; i < 3; i++)
        if (jn_dataset_stats(splits[i], &st) == 0)
            jn_split_stats_free(&st);
    print_quietly(&set, spec);
    jn_data_free(&set);
    return 0;
}
