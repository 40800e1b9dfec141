/* The shared reader of plain and gzip files (see gz.h). */
#include "data/gz.h"
#include "jacnoise/error.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define IN_SIZE ((size_t)1 << 18)
#define OUT_SIZE ((size_t)1 << 18)

/* The byte of the file zlib takes next. */
static uint64_t in_offset(const jn_gz *g) { return g->read_in - g->z.avail_in; }

/* Reads more of the file once zlib has taken all it was given but at most one byte, which is
 * moved to the front: after a member, a 0x1f at the end of the buffer is told from the start of
 * another member by the byte after it. */
static int fill_in(jn_gz *g)
{
    const uInt keep = g->z.avail_in;
    if (keep > 1 || g->eof)
        return 0;
    if (keep)
        g->in[0] = *g->z.next_in;
    size_t got = fread(g->in + keep, 1, IN_SIZE - keep, g->f);
    if (got == 0 && ferror(g->f))
        return jn_fail("%s: byte %llu of the file: read error (%s)", g->path,
                       (unsigned long long)g->read_in, strerror(errno));
    g->eof = got == 0;
    g->z.next_in = g->in;
    g->z.avail_in = keep + (uInt)got;
    g->read_in += got;
    return 0;
}

/* The name of the compressed format the file starts as, other than gzip, or NULL: neither IDX
 * (00 00) nor USPS text starts so, and read as they are the files would be refused as damaged. */
static const char *other_format(const jn_gz *g)
{
    static const struct {
        const char *magic, *name;
        size_t len;
    } formats[] = {{"PK\3\4", "zip", 4}, {"BZh", "bzip2", 3}, {"\xfd" "7zXZ\0", "xz", 6},
                   {"\x28\xb5\x2f\xfd", "zstd", 4}, {"7z\xbc\xaf\x27\x1c", "7-Zip", 6}};
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (g->z.avail_in >= formats[i].len && !memcmp(g->in, formats[i].magic, formats[i].len))
            return formats[i].name;
    return NULL;
}

int jn_gz_open(jn_gz *g, const char *path)
{
    memset(g, 0, sizeof *g);
    g->path = path;
    g->f = fopen(path, "rbe");  /* e: O_CLOEXEC, as every descriptor of the engine */
    if (!g->f)
        return jn_fail("%s: cannot open: %s", path, strerror(errno));
    g->in = malloc(IN_SIZE);
    g->out = malloc(OUT_SIZE);
    if (!g->in || !g->out) {
        jn_gz_close(g);
        return jn_fail("%s: cannot open: out of memory", path);
    }
    if (fill_in(g)) {
        jn_gz_close(g);
        return -1;
    }
    const char *format = other_format(g);
    if (format) {
        jn_gz_close(g);
        return jn_fail("%s: byte 0: the magic number of the %s format; only gzip is decoded: "
                       "decompress the file first", path, format);
    }
    g->gzip = g->z.avail_in >= 2 && g->in[0] == 0x1f && g->in[1] == 0x8b;
    if (g->gzip && inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
        g->gzip = 0; /* nothing for inflateEnd to free */
        jn_gz_close(g);
        return jn_fail("%s: cannot open: out of memory", path);
    }
    return 0;
}

/* After a member: another member, zero padding, the end, or bytes that are refused. */
static int after_member(jn_gz *g)
{
    while (g->z.avail_in > 0) {
        unsigned char c = *g->z.next_in;
        if (c == 0x1f && !g->padding) {
            if (fill_in(g))
                return -1;
            /* Another member starts with the whole magic number, 1f 8b: a lone 1f is a stray
             * byte, not a member the file ends inside. */
            if (g->z.avail_in >= 2 && g->z.next_in[1] == 0x8b) {
                g->member_done = 0;
                return inflateReset(&g->z) == Z_OK ? 0 : jn_fail("%s: zlib cannot restart", g->path);
            }
        }
        if (c != 0)
            return jn_fail("%s: byte %llu of the compressed file: unexpected bytes after the gzip "
                           "data (neither another gzip member nor zero padding)",
                           g->path, (unsigned long long)in_offset(g));
        g->padding = 1;
        g->z.next_in++;
        g->z.avail_in--;
    }
    return 0;
}

/* Inflates up to cap bytes into dst: their count, 0 at the end, -1 on a failure. */
static long inflate_into(jn_gz *g, unsigned char *dst, size_t cap)
{
    size_t made = 0;
    while (made == 0) {
        if (fill_in(g))
            return -1;
        if (g->member_done) {
            if (after_member(g))
                return -1;
            if (g->member_done) {
                if (g->eof)
                    return 0;
                continue;
            }
        }
        if (g->z.avail_in == 0) { /* at the end of the file inside a member */
            g->cut = 1;
            return 0;
        }
        uInt room = cap < UINT_MAX ? (uInt)cap : UINT_MAX;
        g->z.next_out = dst;
        g->z.avail_out = room;
        int ret = inflate(&g->z, Z_NO_FLUSH);
        made = room - g->z.avail_out;
        /* Neither IDX nor USPS data starts so: without this, a magic number or a NUL byte in
         * the gzip header would be refused as if the data were damaged. */
        if (g->decoded == 0 && made >= 2 && dst[0] == 0x1f && dst[1] == 0x8b)
            return jn_fail("%s: byte 0 of the decoded data: the gzip magic number 1f 8b again: the "
                           "file is gzip-compressed twice (gzip -dc %s gives it compressed once)",
                           g->path, g->path);
        g->decoded += made;
        if (ret == Z_STREAM_END)
            g->member_done = 1;
        else if (ret == Z_MEM_ERROR)
            return jn_fail("%s: out of memory decoding the gzip data", g->path);
        else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            /* inflate hands back the whole bytes it has not used: the last one taken holds the
             * bits it failed on, but for the method byte (a member's byte 2), which zlib takes
             * with the flags byte after it. */
            const char *msg = g->z.msg ? g->z.msg : "unknown error";
            const unsigned back = strcmp(msg, "unknown compression method") ? 1 : 2;
            return jn_fail("%s: byte %llu of the compressed file: corrupt gzip data, found on "
                           "reading it (zlib: %s)",
                           g->path, (unsigned long long)(in_offset(g) - back), msg);
        }
    }
    return (long)made;
}

/* Decodes the next bytes into data[0..len): their count, 0 at the end, -1 on a failure. */
static long refill(jn_gz *g)
{
    g->pos = g->len = 0;
    if (g->gzip) {
        long got = inflate_into(g, g->out, OUT_SIZE);
        g->data = g->out;
        g->len = got > 0 ? (size_t)got : 0;
        return got;
    }
    if (fill_in(g))
        return -1;
    g->data = g->z.next_in;
    g->len = g->z.avail_in;
    g->z.avail_in = 0;
    return (long)g->len;
}

long jn_gz_read(jn_gz *g, void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t done = 0;
    while (done < n) {
        if (g->pos == g->len && g->gzip && n - done >= OUT_SIZE) {
            /* A large read (an IDX payload) is inflated in place, not copied through out. */
            long got = inflate_into(g, p + done, n - done);
            if (got <= 0)
                return got < 0 ? -1 : (long)done;
            done += (size_t)got;
            continue;
        }
        if (g->pos == g->len) {
            long got = refill(g);
            if (got < 0)
                return -1;
            if (got == 0)
                break;
        }
        size_t take = g->len - g->pos < n - done ? g->len - g->pos : n - done;
        memcpy(p + done, g->data + g->pos, take);
        g->pos += take;
        done += take;
    }
    return (long)done;
}

int jn_gz_getc_slow(jn_gz *g)
{
    long got = refill(g);
    return got < 0 ? -2 : got == 0 ? -1 : g->data[g->pos++];
}

void jn_gz_close(jn_gz *g)
{
    if (g->gzip)
        inflateEnd(&g->z);
    if (g->f)
        fclose(g->f);
    free(g->in);
    free(g->out);
    memset(g, 0, sizeof *g);
}
