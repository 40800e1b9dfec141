/* Fuzzes what follows the readers when an idx: set is loaded for `jacnoise data` and a run:
 * the classes from the labels, the --valid / --train-limit split, the statistics and the
 * per-class lines with their empty-class ranges (src/data/datasets.c, stats.c), which the
 * reader harnesses do not reach, and the conversion of labels and images (the idx harness
 * gives one file as both, which the pairing refuses). The input is one option byte, then an
 * IDX label or image file; the other file of the pair is made to match its count, so that
 * every file the reader accepts reaches the split. */
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

/* An IDX file of n items in memory: u8 labels i % 3 (ndim 1) or u8 one-pixel images (ndim 2). */
static uint8_t *made_file(uint64_t n, int images, size_t *size)
{
    const size_t head = images ? 12 : 8;
    uint8_t *f = malloc(head + n);
    if (!f)
        abort();
    const uint8_t h[12] = {0, 0, 0x08, images ? 2 : 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
                           (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0, 1};
    for (size_t i = 0; i < head; i++)
        f[i] = h[i];
    for (uint64_t i = 0; i < n; i++)
        f[head + i] = (uint8_t)(images ? i * 37 : i % 3);
    *size = head + n;
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Bit 6 of the option byte: the fuzzed file is the images (its labels made), else the
     * labels (its images made). */
    const int fuzzed_images = data[0] >> 6 & 1;
    const char *fuzzed = fuzz_write_file(data + 1, size - 1, 0);
    jn_idx idx;
    if (jn_idx_read(fuzzed, &idx))
        return 0;
    /* The items of a file read whole: bounded by the input's size, they fit in memory. */
    const uint64_t n = idx.dims[0];
    jn_idx_free(&idx);
    size_t made_size;
    uint8_t *made = made_file(n, !fuzzed_images, &made_size);
    const char *other = fuzz_write_second_file(made, made_size);
    free(made);

    char spec[2 * 4096 + 8];
    snprintf(spec, sizeof spec, "idx:%s,%s", fuzzed_images ? fuzzed : other, fuzzed_images ? other : fuzzed);
    /* --valid -1 (a tenth) .. 6, --train-limit 0 (all) .. 7, --test the same files. */
    const jn_data_request req = {spec, spec, NULL, (long)(data[0] & 7) - 1, (long)(data[0] >> 3 & 7), NULL, 0};
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
