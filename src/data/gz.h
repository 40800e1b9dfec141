/* Files read as they are, or decoded when they start as gzip: the reader the IDX and USPS
 * loaders share. Internal to src/data.
 *
 * zlib's gzread is not used: it skips whatever follows the last gzip member unseen, so a
 * damaged or appended-to file would load as if whole. Here, as with gzip(1), concatenated
 * members are read as one stream and zero padding is ignored; any other byte after the gzip
 * data is refused with its offset. Decoded data that starts as gzip again (a file compressed
 * twice), and a file of another compressed format (zip, bzip2, xz, zstd, 7-Zip), are refused as
 * such. */
#ifndef JACNOISE_DATA_GZ_H
#define JACNOISE_DATA_GZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <zlib.h>

typedef struct {
    FILE *f;
    const char *path;
    int gzip;              /* inflating gzip members, else the bytes as they are */
    int member_done;       /* a member ended: what follows is another, zero padding, or refused */
    int padding;           /* zero bytes seen after a member: only more zeros may follow */
    int eof;               /* fread reached the end of the file */
    int cut;               /* the file ended inside a gzip member */
    uint64_t read_in;      /* bytes taken from the file so far */
    uint64_t decoded;      /* bytes inflated so far */
    z_stream z;
    unsigned char *in, *out;
    const unsigned char *data; /* decoded bytes not yet handed out: data[pos..len) */
    size_t pos, len;
} jn_gz;

/* Opens path; fails (message set) if it cannot be opened. */
int jn_gz_open(jn_gz *g, const char *path);
/* Reads up to n decoded bytes: the count, short only at the end of the data (jn_gz_cut tells a
 * gzip stream cut short from a whole one); -1 on a read error, corrupt gzip data or bytes after
 * it (message set, with the byte of the file). */
long jn_gz_read(jn_gz *g, void *buf, size_t n);
/* The next decoded byte; -1 at the end of the data, -2 on a failure (message set). */
int jn_gz_getc_slow(jn_gz *g);
static inline int jn_gz_getc(jn_gz *g)
{
    return g->pos < g->len ? g->data[g->pos++] : jn_gz_getc_slow(g);
}
/* Whether the data ended inside a gzip member (a file cut short). */
static inline int jn_gz_cut(const jn_gz *g) { return g->cut; }
void jn_gz_close(jn_gz *g);

#endif
