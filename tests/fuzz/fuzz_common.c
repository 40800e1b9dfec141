/* Temporary-file and checksum helpers for the fuzz harnesses. */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* One temporary file per slot, made on first use. */
static char paths[2][4096];

static void remove_files(void)
{
    for (int i = 0; i < 2; i++)
        if (paths[i][0])
            unlink(paths[i]);
}

static const char *write_slot(int slot, const uint8_t *data, size_t size, int gzip)
{
    char *path = paths[slot];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof paths[slot], "%s/jacnoise-fuzz-XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) {
            perror("fuzz: mkstemp");
            abort();
        }
        close(fd);
        static int registered;
        if (!registered++)
            atexit(remove_files);
    }
    if (gzip) {
        gzFile g = gzopen(path, "wb");
        if (!g || (size && gzwrite(g, data, (unsigned)size) != (int)size) || gzclose(g) != Z_OK) {
            fprintf(stderr, "fuzz: cannot write %s\n", path);
            abort();
        }
        return path;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        abort();
    }
    return path;
}

const char *fuzz_write_file(const uint8_t *data, size_t size, int gzip)
{
    return write_slot(0, data, size, gzip);
}

const char *fuzz_write_second_file(const uint8_t *data, size_t size)
{
    return write_slot(1, data, size, 0);
}

uint8_t *fuzz_fix_crc(const uint8_t *data, size_t size)
{
    if (size < 4)
        return NULL;
    uint8_t *copy = malloc(size);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    uint32_t crc = (uint32_t)crc32(0L, copy, (uInt)(size - 4));
    for (int i = 0; i < 4; i++)
        copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    return copy;
}

char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    return text;
}
