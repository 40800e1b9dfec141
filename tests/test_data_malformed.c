/* The data loaders, and the reader of a run's metrics.jsonl, on small malformed files, written
 * into a fresh temporary folder: each must fail with -1 and one line naming the file and where
 * (byte offset / line number) and what was expected. A few valid small files must load with the
 * right values. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "check.h"
#include "scratch.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "train/metrics.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmp_dir[PATH_MAX];

/* tmp_dir/name, in one of a few rotating buffers (a check may need two paths at once). */
static const char *path_of(const char *name)
{
    static char buf[4][2 * PATH_MAX];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", tmp_dir, name);
    return p;
}

static const char *write_raw(const char *name, const void *bytes, size_t len)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    REQUIRE(f, "cannot create %s", p);
    REQUIRE(fwrite(bytes, 1, len, f) == len && fclose(f) == 0, "cannot write %s", p);
    return p;
}

/* Writes bytes gzip-compressed with zlib; mode "wb" (level 6) or "wb0" (stored blocks). */
static const char *write_gz(const char *name, const void *bytes, size_t len, const char *mode)
{
    const char *p = path_of(name);
    gzFile f = gzopen(p, mode);
    REQUIRE(f, "cannot create %s", p);
    REQUIRE(gzwrite(f, bytes, (unsigned)len) == (int)len && gzclose(f) == Z_OK, "cannot write %s",
            p);
    return p;
}

/* Reads a whole small file (for damaging a gzip file on purpose). */
static size_t read_raw(const char *p, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(p, "rb");
    REQUIRE(f, "cannot open %s", p);
    size_t n = fread(buf, 1, cap, f);
    REQUIRE(n < cap && fclose(f) == 0, "cannot read %s", p);
    return n;
}

/* An IDX file in memory: header, then big-endian elements appended with put(). */
typedef struct {
    unsigned char b[1 << 16];
    size_t len;
} idx_buf;

static void put(idx_buf *f, uint64_t v, int size)
{
    for (int i = size - 1; i >= 0; i--)
        f->b[f->len++] = (unsigned char)(v >> (8 * i));
}

static void idx_header(idx_buf *f, int type, int ndim, const uint32_t *dims)
{
    f->len = 0;
    put(f, (uint64_t)type << 8 | (uint64_t)ndim, 4);
    for (int i = 0; i < ndim; i++)
        put(f, dims[i], 4);
}

static void put_f32(idx_buf *f, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put(f, u, 4);
}

static void put_f64(idx_buf *f, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put(f, u, 8);
}

/* Checks a failure: rc -1, and the error names the file and holds every word (NULL-ended). */
static void expect_error(const char *what, int rc, const char *file, ...)
{
    const char *err = jn_last_error();
    CHECK(rc == -1, "%s: rc %d, expected -1", what, rc);
    CHECK(strstr(err, file) != NULL, "%s: error \"%s\" does not name %s", what, err, file);
    CHECK(strchr(err, '\n') == NULL, "%s: error \"%s\" is not one line", what, err);
    va_list ap;
    va_start(ap, file);
    for (const char *w; (w = va_arg(ap, const char *));)
        CHECK(strstr(err, w) != NULL, "%s: error \"%s\" lacks \"%s\"", what, err, w);
    va_end(ap);
}

static int read_idx(const char *p)
{
    jn_idx idx;
    int rc = jn_idx_read(p, &idx);
    if (rc == 0)
        jn_idx_free(&idx);
    return rc;
}

/* A valid 3 x 2 x 2 u8 image file and its labels, used as the base of several cases. */
static void small_images(idx_buf *f)
{
    static const uint32_t dims[3] = {3, 2, 2};
    idx_header(f, JN_IDX_U8, 3, dims);
    for (int i = 0; i < 12; i++)
        put(f, i == 1 ? 128 : i == 2 ? 127 : i == 3 ? 255 : (unsigned)i * 10, 1);
}

/* A valid 1 x 2 x 2 u8 image file: the counts of one that messages say. */
static void one_image_file(idx_buf *f)
{
    static const uint32_t dims[3] = {1, 2, 2};
    idx_header(f, JN_IDX_U8, 3, dims);
    put(f, 0, 4);
}

static void small_labels(idx_buf *f, int type, const int *labels, int n)
{
    uint32_t dims[1] = {(uint32_t)n};
    idx_header(f, type, 1, dims);
    for (int i = 0; i < n; i++)
        put(f, (uint32_t)labels[i], type == JN_IDX_U8 ? 1 : 4);
}

static void test_idx_header(void)
{
    expect_error("missing", read_idx(path_of("missing.idx")), "missing.idx", "cannot open",
                 "No such file", NULL);

    static const unsigned char magic[] = {0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0};
    expect_error("wrong magic", read_idx(write_raw("magic.idx", magic, sizeof magic)),
                 "magic.idx", "byte 0", "expected IDX magic", "0x12345678", NULL);
    CHECK(!strstr(jn_last_error(), "text"), "wrong magic: \"%s\" calls binary bytes text", jn_last_error());
    /* The second zero byte is checked as well as the first: 00 01 08 01 is no IDX magic. */
    static const unsigned char magic1[] = {0, 1, 8, 1, 0, 0, 0, 1, 0};
    expect_error("wrong second magic byte", read_idx(write_raw("magic1.idx", magic1, sizeof magic1)), "magic1.idx",
                 "byte 0", "expected IDX magic", "found 0x00010801", NULL);
    /* 1f alone is no gzip magic number (1f 8b): a file that starts 1f 00 is read as it is, a
     * wrong IDX magic, not inflated into "corrupt gzip data". */
    static const unsigned char lone_1f[] = {0x1f, 0, 8, 1, 0, 0, 0, 1, 0};
    expect_error("1f without 8b", read_idx(write_raw("1f00.idx", lone_1f, sizeof lone_1f)), "1f00.idx", "byte 0",
                 "expected IDX magic", "found 0x1F000801", NULL);
    static const char html[] = "<html><body>404 Not Found</body></html>\n";
    expect_error("an HTML page", read_idx(write_raw("html.idx", html, strlen(html))), "html.idx", "byte 0",
                 "0x3C68746D", "(\"<htm\": text, not IDX data)", NULL);
    /* A tab is text too (a TSV file), shown as a space. */
    static const char tsv[] = "\tlabel\tpixel\n";
    expect_error("a tab-separated file", read_idx(write_raw("tsv.idx", tsv, strlen(tsv))), "tsv.idx", "byte 0",
                 "(\" lab\": text, not IDX data)", NULL);
    static const unsigned char type[] = {0, 0, 0x0A, 1, 0, 0, 0, 1, 0};
    expect_error("unknown type", read_idx(write_raw("type.idx", type, sizeof type)), "type.idx",
                 "byte 2", "type code 0x0A", NULL);
    static const unsigned char ndim0[] = {0, 0, 8, 0};
    expect_error("ndim 0", read_idx(write_raw("ndim0.idx", ndim0, sizeof ndim0)), "ndim0.idx",
                 "byte 3", "ndim 0 out of range [1, 8]", NULL);
    static const unsigned char ndim9[] = {0, 0, 8, 9};
    expect_error("ndim 9", read_idx(write_raw("ndim9.idx", ndim9, sizeof ndim9)), "ndim9.idx",
                 "byte 3", "ndim 9 out of range [1, 8]", NULL);
    static const unsigned char short_magic[] = {0, 0};
    expect_error("truncated magic", read_idx(write_raw("short.idx", short_magic, 2)),
                 "short.idx", "byte 2", "unexpected end of file", "magic", "expected 2 more bytes (up to byte 4)",
                 NULL);
    /* A read error is said as one, not taken for the end of an empty file: a folder opens, but
     * reading it fails (EISDIR). */
    expect_error("a folder", read_idx(tmp_dir), tmp_dir, "byte 0 of the file: read error", NULL);
    static const unsigned char short_dims[] = {0, 0, 8, 3, 0, 0, 0, 5, 0, 0};
    expect_error("truncated dims", read_idx(write_raw("dims.idx", short_dims, sizeof short_dims)),
                 "dims.idx", "byte 10", "unexpected end of file", "dimensions",
                 "expected 6 more bytes", "up to byte 16", NULL);
    static const unsigned char zero_dim[] = {0, 0, 8, 2, 0, 0, 0, 5, 0, 0, 0, 0};
    expect_error("zero item dim", read_idx(write_raw("zero.idx", zero_dim, sizeof zero_dim)),
                 "zero.idx", "byte 8", "dimension 1 is 0", NULL);

    /* 2^32 - 1 cubed: refused from the header alone (at the dimension that passes the bound),
     * before any allocation or payload read. */
    static const uint32_t huge[3] = {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF};
    idx_buf f;
    idx_header(&f, JN_IDX_U8, 3, huge);
    expect_error("absurd dims", read_idx(write_raw("huge.idx", f.b, f.len)), "huge.idx",
                 "byte 8", "absurd dimensions", NULL);
    /* The bound is JN_IDX_MAX_ELEMENTS exactly: one element more is refused by the header, the
     * bound itself gets to the (absent) payload. */
    static const uint32_t past[2] = {4, 0x80000001}, at[2] = {4, 0x80000000};
    idx_header(&f, JN_IDX_U8, 2, past);
    expect_error("one element past the bound", read_idx(write_raw("past.idx", f.b, f.len)),
                 "past.idx", "byte 8", "absurd dimensions", "past 8589934592 elements", NULL);
    idx_header(&f, JN_IDX_U8, 2, at);
    expect_error("at the bound", read_idx(write_raw("at.idx", f.b, f.len)), "at.idx", "byte 12",
                 "unexpected end of file in the payload", "expected 8589934592 more bytes", NULL);
    /* 2^32 bytes declared (allowed) but absent: fails at the end of the data, allocating only
     * what was read. */
    static const uint32_t big[2] = {65536, 65536};
    idx_header(&f, JN_IDX_U8, 2, big);
    put(&f, 7, 1);
    expect_error("big but truncated", read_idx(write_raw("big.idx", f.b, f.len)), "big.idx",
                 "byte 13", "unexpected end of file in the payload",
                 "expected 4294967295 more bytes", "up to byte 4294967308", NULL);
    /* A zero item count is a valid, empty file. */
    static const uint32_t empty[2] = {0, 4};
    idx_header(&f, JN_IDX_F32, 2, empty);
    jn_idx idx;
    CHECK(jn_idx_read(write_raw("empty.idx", f.b, f.len), &idx) == 0 && idx.count == 0 &&
              idx.dims[1] == 4,
          "empty IDX file: %s", jn_last_error());
    jn_idx_free(&idx);
    /* The ndim bound itself: 8 dimensions are read (9 are refused, above). */
    static const uint32_t eight[8] = {2, 1, 1, 1, 1, 1, 1, 3};
    idx_header(&f, JN_IDX_U8, 8, eight);
    for (int i = 0; i < 6; i++)
        put(&f, (unsigned)i, 1);
    int rc = jn_idx_read(write_raw("ndim8.idx", f.b, f.len), &idx);
    CHECK(rc == 0 && idx.ndim == 8 && idx.count == 6 && idx.dims[7] == 3, "ndim 8: %s",
          rc ? jn_last_error() : "wrong shape");
    if (rc == 0)
        jn_idx_free(&idx);
}

/* A second member whose magic number 1f 8b straddles the end of the reader's 256 KiB buffer
 * (src/data/gz.c's IN_SIZE): the 1f, the last byte read, must not be taken for a stray byte. */
static void test_member_at_buffer_end(void)
{
    enum { BUFFER = 1 << 18 };
    static unsigned char idx[BUFFER], gz[BUFFER + 64];
    idx[2] = JN_IDX_U8;
    idx[3] = 1; /* one dimension */
    size_t n = 0;
    /* Stored blocks: the member grows with the payload, a byte at a time but for the 5 bytes of a
     * block header. */
    for (uint32_t count = BUFFER - 256; n < BUFFER - 1; count++) {
        for (int i = 0; i < 4; i++)
            idx[4 + i] = (unsigned char)(count >> (8 * (3 - i)));
        n = read_raw(write_gz("edge.idx.gz", idx, 8 + count, "wb0"), gz, sizeof gz);
    }
    REQUIRE(n == BUFFER - 1, "no payload makes a member of %d bytes", BUFFER - 1);
    n += read_raw(write_gz("empty.gz", "", 0, "wb"), gz + n, sizeof gz - n);
    jn_idx got;
    int rc = jn_idx_read(write_raw("edge.idx.gz", gz, n), &got);
    CHECK(rc == 0, "a member starting at byte %d: %s", BUFFER - 1, jn_last_error());
    if (rc == 0)
        jn_idx_free(&got);
}

static void test_idx_payload(void)
{
    idx_buf f;
    small_images(&f); /* 16-byte header, 12 bytes of pixels */
    f.len -= 3;
    expect_error("truncated payload", read_idx(write_raw("cut.idx", f.b, f.len)), "cut.idx",
                 "byte 25", "unexpected end of file in the payload", "expected 3 more bytes",
                 "up to byte 28", NULL);
    expect_error("truncated payload, gzip", read_idx(write_gz("cut.idx.gz", f.b, f.len, "wb")),
                 "cut.idx.gz", "byte 25", "expected 3 more bytes", NULL);
    /* One byte short is one byte: it read "expected 1 more bytes". */
    small_images(&f);
    f.len -= 1;
    expect_error("payload a byte short", read_idx(write_raw("cut1.idx", f.b, f.len)), "cut1.idx",
                 "byte 27", "expected 1 more byte (up to byte 28)", NULL);
    small_images(&f);
    put(&f, 0xAB, 1);
    put(&f, 0xCD, 1);
    expect_error("trailing bytes", read_idx(write_raw("trail.idx", f.b, f.len)), "trail.idx",
                 "byte 28", "trailing bytes", NULL);
    expect_error("trailing bytes, gzip", read_idx(write_gz("trail.idx.gz", f.b, f.len, "wb")),
                 "trail.idx.gz", "byte 28", "trailing bytes", NULL);

    /* A gzip header, then bytes that are not deflate data. */
    static const unsigned char garbage[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff,
                                            0xfe, 'g', 'a', 'r', 'b', 'a', 'g', 'e', 0, 1, 2};
    expect_error("corrupt gzip", read_idx(write_raw("garbage.idx.gz", garbage, sizeof garbage)),
                 "garbage.idx.gz", "byte 10 of the compressed file", "corrupt gzip data",
                 "(zlib: invalid", NULL);
    /* A compression method other than 8 (deflate): at its byte, 2, not at the flags byte after
     * it (zlib takes the two together); a second member's at its own byte 2 (below). */
    unsigned char method[sizeof garbage];
    memcpy(method, garbage, sizeof garbage);
    method[2] = 7;
    expect_error("unknown compression method",
                 read_idx(write_raw("method.idx.gz", method, sizeof method)), "method.idx.gz",
                 "byte 2 of the compressed file", "(zlib: unknown compression method)", NULL);

    /* A larger file of pseudo-random pixels, so that its compressed form has some length. */
    static const uint32_t dims[2] = {50, 100};
    idx_header(&f, JN_IDX_U8, 2, dims);
    uint32_t s = 12345;
    for (int i = 0; i < 5000; i++) {
        s = s * 1103515245u + 12345u;
        put(&f, (s >> 16) % 7, 1);
    }
    static unsigned char gz[1 << 16];
    size_t n = read_raw(write_gz("flip.idx.gz", f.b, f.len, "wb0"), gz, sizeof gz);
    /* Stored blocks: a flipped data byte decodes "fine", only the CRC-32 in the trailer can
     * tell. zlib reports "incorrect data check" when the trailer is read, after the payload;
     * that must be an error, not a quietly wrong file. */
    gz[n - 100] ^= 0x01;
    /* Decoded in one read, the whole file: only the compressed offset where zlib failed, the
     * CRC-32's last byte, locates anything. */
    char at[64];
    snprintf(at, sizeof at, "byte %zu of the compressed file", n - 5);
    expect_error("flipped byte, stored gzip", read_idx(write_raw("flip.idx.gz", gz, n)),
                 "flip.idx.gz", at, "corrupt gzip data", "(zlib: incorrect data check)", NULL);
    gz[n - 100] ^= 0x01;
    gz[n - 7] ^= 0x01;
    expect_error("bad CRC-32 in the trailer", read_idx(write_raw("crc.idx.gz", gz, n)),
                 "crc.idx.gz", at, "(zlib: incorrect data check)", NULL);
    n = read_raw(write_gz("flip9.idx.gz", f.b, f.len, "wb9"), gz, sizeof gz);
    gz[n / 2] ^= 0x10;
    expect_error("flipped byte, compressed gzip", read_idx(write_raw("flip9.idx.gz", gz, n)),
                 "flip9.idx.gz", "corrupt gzip data", NULL);
    const char *err = jn_last_error(), *where = strstr(err, "byte ");
    long long found = where ? atoll(where + 5) : -1;
    CHECK(found >= (long long)(n / 2) && found < (long long)n &&
              strstr(where, " of the compressed file: "),
          "flipped byte %zu of %zu: error \"%s\" does not say where zlib failed", n / 2, n, err);
    /* The compressed stream cut in the middle, and cut just before its 8-byte trailer. */
    n = read_raw(write_gz("half.idx.gz", f.b, f.len, "wb9"), gz, sizeof gz);
    expect_error("gzip cut in the middle", read_idx(write_raw("half.idx.gz", gz, n / 2)),
                 "half.idx.gz", "unexpected end of file", NULL);
    expect_error("gzip trailer missing", read_idx(write_raw("notrail.idx.gz", gz, n - 8)),
                 "notrail.idx.gz", "byte 5012", "gzip stream ends early", NULL);

    /* After the gzip data: a second member is read on (gzip -dc does), zero padding is
     * ignored, and any other byte is refused where it lies, not skipped unseen. */
    small_images(&f);
    n = read_raw(write_gz("head.idx.gz", f.b, 10, "wb"), gz, sizeof gz);
    const size_t second = n; /* where the second member starts */
    n += read_raw(write_gz("rest.idx.gz", f.b + 10, f.len - 10, "wb"), gz + n, sizeof gz - n);
    jn_idx idx;
    int rc = jn_idx_read(write_raw("members.idx.gz", gz, n), &idx);
    CHECK(rc == 0 && idx.count == 12 && ((unsigned char *)idx.data)[3] == 255,
          "two gzip members: %s", rc ? jn_last_error() : "wrong content");
    if (rc == 0)
        jn_idx_free(&idx);
    gz[second + 2] = 7;
    snprintf(at, sizeof at, "byte %zu of the compressed file", second + 2);
    expect_error("unknown compression method, second member",
                 read_idx(write_raw("method2.idx.gz", gz, n)), "method2.idx.gz", at,
                 "(zlib: unknown compression method)", NULL);
    gz[second + 2] = 8;
    memset(gz + n, 0, 4);
    rc = jn_idx_read(write_raw("zeros.idx.gz", gz, n + 4), &idx);
    CHECK(rc == 0 && idx.count == 12, "gzip with zero padding: %s", jn_last_error());
    if (rc == 0)
        jn_idx_free(&idx);
    memcpy(gz + n + 2, "junk", 4);
    snprintf(at, sizeof at, "byte %zu of the compressed file", n + 2);
    expect_error("bytes after the gzip data", read_idx(write_raw("junk.idx.gz", gz, n + 6)),
                 "junk.idx.gz", at, "unexpected bytes after the gzip data", NULL);
    /* A stray 1f, the first byte of the gzip magic number, is no member the file ends inside. */
    snprintf(at, sizeof at, "byte %zu of the compressed file", n);
    gz[n] = 0x1f;
    expect_error("a stray 1f after the gzip data", read_idx(write_raw("1f.idx.gz", gz, n + 1)),
                 "1f.idx.gz", at, "unexpected bytes after the gzip data", NULL);
    gz[n + 1] = 'x';
    expect_error("1f x after the gzip data", read_idx(write_raw("1fx.idx.gz", gz, n + 2)),
                 "1fx.idx.gz", at, "unexpected bytes after the gzip data", NULL);
    /* Only zero bytes are padding: 01, the byte next to it, is refused too. */
    gz[n] = 0x01;
    expect_error("a 01 byte after the gzip data", read_idx(write_raw("01.idx.gz", gz, n + 1)), "01.idx.gz", at,
                 "unexpected bytes after the gzip data", NULL);
    /* Zero padding ends the gzip data: a member after it is refused, not read on. */
    memset(gz + n, 0, 4);
    memcpy(gz + n + 4, gz, second);
    snprintf(at, sizeof at, "byte %zu of the compressed file", n + 4);
    expect_error("a member after zero padding", read_idx(write_raw("padded.idx.gz", gz, n + 4 + second)),
                 "padded.idx.gz", at, "unexpected bytes after the gzip data", NULL);
    test_member_at_buffer_end();
    small_images(&f);
    n = read_raw(write_gz("once.idx.gz", f.b, f.len, "wb"), gz, sizeof gz);
    expect_error("gzip twice", read_idx(write_gz("twice.idx.gz", gz, n, "wb")), "twice.idx.gz",
                 "byte 0 of the decoded data", "gzip-compressed twice", NULL);
    /* Other compressed formats, read as they are, would be refused as damaged data. */
    static const struct {
        const char *bytes, *format;
        size_t len;
    } other[] = {{"PK\3\4\24\0\0\0", "zip", 8}, {"BZh91AY&SY", "bzip2", 10},
                 {"\xfd" "7zXZ\0\0\4", "xz", 8}, {"\x28\xb5\x2f\xfd\0\x58", "zstd", 6},
                 {"7z\xbc\xaf\x27\x1c\0\4", "7-Zip", 8}};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        char what[64];
        snprintf(what, sizeof what, "the magic number of the %s format", other[i].format);
        const char *p = write_raw("packed", other[i].bytes, other[i].len);
        expect_error(other[i].format, read_idx(p), "packed", "byte 0", what, "decompress the file first", NULL);
        jn_dataset set;
        expect_error(other[i].format, jn_usps_load(p, &set), "packed", "byte 0", what, NULL);
    }
    /* A file of the magic number alone (a download cut right after it) is named as well. */
    expect_error("bzip2 magic alone", read_idx(write_raw("bzh", "BZh", 3)), "bzh", "byte 0",
                 "the magic number of the bzip2 format", NULL);
}

static int load_pair(const char *images, const char *labels, int hint)
{
    jn_dataset set;
    int rc = jn_idx_load_pair(images, labels, hint, "the training labels", &set);
    if (rc == 0)
        jn_dataset_free(&set);
    return rc;
}

static void test_idx_pairs(void)
{
    idx_buf f;
    small_images(&f);
    char images[2 * PATH_MAX], labels[2 * PATH_MAX];
    snprintf(images, sizeof images, "%s", write_raw("im.idx", f.b, f.len));
    static const int two[2] = {1, 2}, ok[3] = {0, 2, 1}, high[3] = {1, 12, 0}, edge[3] = {1, 10, 0}, top[3] = {9, 0, 1},
                     neg[2][3] = {{0, -1, 1}, {0, -3, 1}}, absurd[3] = {0, 70000, 1};
    small_labels(&f, JN_IDX_U8, two, 2);
    expect_error("count mismatch", load_pair(images, write_raw("two.idx", f.b, f.len), 10), "im.idx", "two.idx",
                 "im.idx: byte 4 (the item count): 3 images", "2 labels (its byte 4)", NULL);
    /* A count of one is singular: it read "1 labels" and "1 images". */
    small_labels(&f, JN_IDX_U8, two, 1);
    expect_error("one label", load_pair(images, write_raw("one.idx", f.b, f.len), 10), "im.idx", "one.idx",
                 "3 images, but", "holds 1 label (its byte 4)", NULL);
    char one_image[2 * PATH_MAX];
    one_image_file(&f);
    snprintf(one_image, sizeof one_image, "%s", write_raw("im1.idx", f.b, f.len));
    small_labels(&f, JN_IDX_U8, two, 2);
    expect_error("one image", load_pair(one_image, write_raw("two.idx", f.b, f.len), 10), "im1.idx", "two.idx",
                 "1 image, but", "holds 2 labels", NULL);
    /* Too many labels is a mismatch as well, not labels to drop. */
    static const int four[4] = {0, 2, 1, 3};
    small_labels(&f, JN_IDX_U8, four, 4);
    expect_error("more labels than images", load_pair(images, write_raw("four.idx", f.b, f.len), 10), "im.idx",
                 "four.idx", "3 images", "4 labels", NULL);
    /* 2^31 items of one value (within the bound of JN_IDX_MAX_ELEMENTS) are refused from the two
     * headers, before a payload is read: the files hold none, which a read would report instead
     * (and a test of the check would need 4 GiB of files). So are counts that differ, the
     * images' payload absent. */
    static const uint32_t many[2] = {0x80000000u, 1}, many_labels[1] = {0x80000000u};
    char many_images[2 * PATH_MAX];
    idx_header(&f, JN_IDX_U8, 2, many);
    snprintf(many_images, sizeof many_images, "%s", write_raw("many.idx", f.b, f.len));
    idx_header(&f, JN_IDX_U8, 1, many_labels);
    expect_error("2^31 images", load_pair(many_images, write_raw("manylab.idx", f.b, f.len), 10), "many.idx",
                 "byte 4: 2147483648 items of 1 values: too large (at most 2147483647 of each)", NULL);
    small_images(&f);
    snprintf(many_images, sizeof many_images, "%s", write_raw("headonly.idx", f.b, 16));
    small_labels(&f, JN_IDX_U8, two, 2);
    expect_error("a header of 3 images, 2 labels", load_pair(many_images, write_raw("two.idx", f.b, f.len), 10),
                 "headonly.idx", "byte 4 (the item count): 3 images, but", "holds 2 labels", NULL);
    small_labels(&f, JN_IDX_U8, high, 3);
    expect_error("label out of range", load_pair(images, write_raw("high.idx", f.b, f.len), 10),
                 "high.idx", "byte 9", "item 1", "label out of range", "12",
                 "(the classes are [0, 9], from the training labels)", NULL);
    /* The boundary: with 10 classes, label 10 is one too many and label 9 is the last. */
    small_labels(&f, JN_IDX_U8, edge, 3);
    expect_error("label equal to the class count", load_pair(images, write_raw("edge.idx", f.b, f.len), 10),
                 "edge.idx", "byte 9", "item 1", "label out of range", "10",
                 "(the classes are [0, 9], from the training labels)", NULL);
    small_labels(&f, JN_IDX_U8, top, 3);
    CHECK(load_pair(images, write_raw("top.idx", f.b, f.len), 10) == 0, "label 9 of 10 classes refused: %s",
          jn_last_error());
    /* -1, the nearest negative (and a common "no label" mark), and one further below: a check
     * that refused either alone would pass with the other untried. */
    for (int k = 0; k < 2; k++) {
        char said[32];
        snprintf(said, sizeof said, "negative label %d", neg[k][1]);
        small_labels(&f, JN_IDX_I32, neg[k], 3);
        expect_error(said, load_pair(images, write_raw("neg.idx", f.b, f.len), 0), "neg.idx", "byte 12", "item 1",
                     said, NULL);
    }
    small_labels(&f, JN_IDX_I32, absurd, 3);
    expect_error("absurd label", load_pair(images, write_raw("absurd.idx", f.b, f.len), 0),
                 "absurd.idx", "byte 12", "item 1", "absurd label 70000", NULL);
    /* The bound itself: 65536 classes are labels 0 .. 65535, so 65536 is the first absurd one. */
    static const int bound[3] = {0, 65536, 1};
    small_labels(&f, JN_IDX_I32, bound, 3);
    expect_error("label at the class bound", load_pair(images, write_raw("bound.idx", f.b, f.len), 0), "bound.idx",
                 "byte 12", "item 1", "absurd label 65536", NULL);
    small_labels(&f, JN_IDX_U8, ok, 3);
    snprintf(labels, sizeof labels, "%s", write_raw("lab.idx", f.b, f.len));
    expect_error("labels as images", load_pair(labels, labels, 0), "lab.idx", "byte 3",
                 "ndim >= 2", NULL);
    expect_error("images as labels", load_pair(images, images, 0), "im.idx", "byte 3", "1-D",
                 NULL);
    /* A label file of 3 x 1 holds one label per image but is no 1-D file: refused all the same. */
    static const uint32_t column[2] = {3, 1};
    idx_header(&f, JN_IDX_U8, 2, column);
    for (int i = 0; i < 3; i++)
        put(&f, (unsigned)ok[i], 1);
    expect_error("2-D labels", load_pair(images, write_raw("lab2d.idx", f.b, f.len), 0), "lab2d.idx", "byte 3",
                 "expected a 1-D label file, found ndim 2", NULL);
    /* Given the other way round: the message says so, not only that the images are 1-D. */
    expect_error("images and labels swapped", load_pair(labels, images, 0), "lab.idx", "byte 3",
                 "ndim >= 2", "swapped", NULL);
    static const uint32_t dims3[3] = {3, 2, 2};
    idx_header(&f, JN_IDX_I16, 3, dims3);
    for (int i = 0; i < 12; i++)
        put(&f, 1, 2);
    expect_error("i16 images", load_pair(write_raw("i16.idx", f.b, f.len), labels, 0), "i16.idx",
                 "byte 2", "not supported", NULL);
    /* Labels of another type are refused by their type code, not read as i32 (past an i16
     * payload's end) or as the bits of a float. */
    static const uint32_t dims1[1] = {3};
    idx_header(&f, JN_IDX_I16, 1, dims1);
    for (int i = 0; i < 3; i++)
        put(&f, (unsigned)i, 2);
    expect_error("i16 labels", load_pair(images, write_raw("i16lab.idx", f.b, f.len), 0), "i16lab.idx", "byte 2",
                 "label type 0x0B (i16) not supported: expected 0x08 u8 or 0x0C i32", NULL);
    idx_header(&f, JN_IDX_F32, 1, dims1);
    for (int i = 0; i < 3; i++)
        put_f32(&f, (float)i);
    expect_error("f32 labels", load_pair(images, write_raw("f32lab.idx", f.b, f.len), 0), "f32lab.idx", "byte 2",
                 "label type 0x0D (f32) not supported", NULL);

    /* f32 images: element 5 is NaN, at byte 16 + 5 * 4. */
    idx_header(&f, JN_IDX_F32, 3, dims3);
    for (int i = 0; i < 12; i++)
        put_f32(&f, i == 5 ? NAN : 0.5f);
    expect_error("f32 NaN", load_pair(write_raw("nan.idx", f.b, f.len), labels, 0), "nan.idx",
                 "byte 36", "not a finite", NULL);
    idx_header(&f, JN_IDX_F64, 3, dims3);
    for (int i = 0; i < 12; i++)
        put_f64(&f, i == 11 ? 1e300 : 0.5);
    expect_error("f64 beyond float", load_pair(write_raw("big64.idx", f.b, f.len), labels, 0),
                 "big64.idx", "byte 104", "not a finite float", NULL);

    /* Valid: u8 raw and gzip give the same set; classes = max label + 1. */
    small_images(&f);
    const char *gz_images = write_gz("im.idx.gz", f.b, f.len, "wb");
    const char *sources[2] = {images, gz_images};
    for (int s = 0; s < 2; s++) {
        jn_dataset set;
        int rc = jn_idx_load_pair(sources[s], labels, 0, NULL, &set);
        CHECK(rc == 0, "valid u8 pair %s: %s", sources[s], jn_last_error());
        if (rc)
            continue;
        CHECK(set.n == 3 && set.d == 4 && set.classes == 3, "%s: n %d d %d classes %d",
              sources[s], set.n, set.d, set.classes);
        CHECK(set.x[0] == 0.0f && set.x[1] == 128 / 255.0f && set.x[2] == 127 / 255.0f &&
                  set.x[3] == 1.0f && set.x[11] == 110 / 255.0f,
              "%s: pixel values", sources[s]);
        CHECK(set.y[0] == 0 && set.y[1] == 2 && set.y[2] == 1, "%s: labels", sources[s]);
        jn_dataset_free(&set);
    }
    /* Valid: f32 / f64 images are taken as they are, outside [0, 1] included; i32 labels. */
    idx_header(&f, JN_IDX_F64, 3, dims3);
    for (int i = 0; i < 12; i++)
        put_f64(&f, i == 7 ? -0.25 : i == 8 ? 2.5 : i / 16.0);
    const char *f64 = write_raw("f64.idx", f.b, f.len);
    small_labels(&f, JN_IDX_I32, ok, 3);
    const char *i32 = write_raw("i32.idx", f.b, f.len);
    jn_dataset set;
    int rc = jn_idx_load_pair(f64, i32, 5, "the training labels", &set);
    CHECK(rc == 0, "valid f64 / i32 pair: %s", jn_last_error());
    if (rc == 0) {
        CHECK(set.classes == 5 && set.x[7] == -0.25f && set.x[8] == 2.5f && set.x[9] == 9 / 16.0f &&
                  set.y[1] == 2,
              "f64 / i32 values");
        jn_dataset_free(&set);
    }
    /* Host byte order for each element size. */
    static const uint32_t three[1] = {3};
    idx_header(&f, JN_IDX_I16, 1, three);
    put(&f, 0x0102, 2);
    put(&f, 0xFFFE, 2);
    put(&f, 0x7FFF, 2);
    jn_idx idx;
    rc = jn_idx_read(write_gz("i16.idx.gz", f.b, f.len, "wb"), &idx);
    CHECK(rc == 0, "i16: %s", jn_last_error());
    if (rc == 0) {
        const int16_t *v = idx.data;
        CHECK(idx.type == JN_IDX_I16 && v[0] == 0x0102 && v[1] == -2 && v[2] == 0x7FFF,
              "i16 values");
        jn_idx_free(&idx);
    }
}

/* A USPS line: label text, then 256 values from the pattern, with overrides. */
static void usps_line(char *out, size_t cap, const char *label, int compact, int bad_field,
                      const char *bad_text, int fields)
{
    size_t len = (size_t)snprintf(out, cap, "%s", bad_field == 1 ? bad_text : label);
    for (int k = 2; k <= fields; k++) {
        static const char *const pat4[4] = {"-1.0000", "1.0000", "0.0000", "-0.5000"};
        static const char *const pat[4] = {"-1", "1", "0", "-0.5"};
        const char *v = k == bad_field ? bad_text : compact ? pat[k % 4] : pat4[k % 4];
        len += (size_t)snprintf(out + len, cap - len, " %s", v);
    }
    snprintf(out + len, cap - len, compact ? "\n" : " \n");
}

static int load_usps_text(const char *name, const char *text, int gz)
{
    const char *p = gz ? write_gz(name, text, strlen(text), "wb") : write_raw(name, text, strlen(text));
    jn_dataset set;
    int rc = jn_usps_load(p, &set);
    if (rc == 0)
        jn_dataset_free(&set);
    return rc;
}

static void test_usps(void)
{
    static char text[3 * 4096], line[4096];
    jn_dataset set;
    expect_error("usps missing", jn_usps_load(path_of("zip.none"), &set), "zip.none",
                 "cannot open", NULL);
    expect_error("usps empty", load_usps_text("empty.zip", "", 0), "empty.zip", "empty file",
                 NULL);
    expect_error("usps empty gzip", load_usps_text("empty.zip.gz", "", 1), "empty.zip.gz",
                 "empty file", NULL);

    /* Line 2 has 256 fields. */
    usps_line(text, sizeof text, "6.0000", 0, 0, NULL, 257);
    usps_line(line, sizeof line, "6.0000", 0, 0, NULL, 256);
    strcat(text, line);
    expect_error("usps 256 fields", load_usps_text("fields.zip", text, 0), "fields.zip",
                 "line 2: expected 257 fields (label and 256 values), found 256", NULL);
    usps_line(text, sizeof text, "6", 1, 0, NULL, 258);
    expect_error("usps 258 fields", load_usps_text("fields2.zip", text, 1), "fields2.zip",
                 "line 1", "found 258", NULL);
    expect_error("usps blank line", load_usps_text("blank.zip", "\n", 0), "blank.zip", "line 1",
                 "found 0", NULL);
    /* A blank line between examples stays refused, raw and gzip (only blank lines at the end
     * are taken as the end of the file, below). */
    usps_line(text, sizeof text, "6", 1, 0, NULL, 257);
    strcat(text, "\n");
    usps_line(line, sizeof line, "7", 1, 0, NULL, 257);
    strcat(text, line);
    strcat(text, "\n");
    for (int g = 0; g < 2; g++)
        expect_error("usps blank line between examples", load_usps_text(g ? "mid.zip.gz" : "mid.zip", text, g),
                     g ? "mid.zip.gz" : "mid.zip", "line 2: expected 257 fields (label and 256 values), found 0",
                     NULL);

    static const struct {
        const char *name, *label;
        int field;
        const char *text;
        const char *words[3];
    } bad[] = {
        {"alpha.zip", "3", 5, "abc", {"line 1", "field 5", "expected a decimal number, found \"abc\""}},
        /* A long field is shown by its first 24 characters and "...", so that the cut is seen. */
        {"longfield.zip", "3", 5, "abcdefghijklmnopqrstuvwxyz0123",
         {"field 5", "expected a decimal number", "found \"abcdefghijklmnopqrstuvwx...\""}},
        {"comma.zip", "3", 9, "0,5", {"field 9", "expected a decimal number", "0,5"}},
        /* strtod's other forms: 0x1p-1 would load as 0.5, 0x9 as the label 9. */
        {"nan.zip", "3", 7, "nan", {"field 7", "expected a decimal number", "nan"}},
        {"inf.zip", "3", 7, "-inf", {"field 7", "expected a decimal number", "-inf"}},
        {"hex.zip", "3", 4, "0x1p-1", {"field 4", "expected a decimal number", "0x1p-1"}},
        {"hexlabel.zip", "0x9", 1, "0x9", {"field 1", "expected a decimal number", "0x9"}},
        {"huge.zip", "3", 6, "1e999", {"field 6", "[-1, 1]", "1e999"}},
        {"range.zip", "3", 3, "1.5", {"field 3 (value 2 of 256)", "[-1, 1]", "1.5"}},
        {"range2.zip", "3", 257, "-1.0001", {"field 257", "[-1, 1]", "-1.0001"}},
        {"ten.zip", "3", 1, "10", {"field 1 (label)", "integer in [0, 9]", "\"10\""}},
        {"half.zip", "3", 1, "3.5", {"field 1 (label)", "integer in [0, 9]", "3.5"}},
        {"minus.zip", "3", 1, "-1", {"field 1 (label)", "integer in [0, 9]", "-1"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        usps_line(text, sizeof text, bad[i].label, 1, bad[i].field, bad[i].text, 257);
        expect_error(bad[i].name, load_usps_text(bad[i].name, text, 0), bad[i].name,
                     bad[i].words[0], bad[i].words[1], bad[i].words[2], NULL);
    }
    /* The third line is bad: the number counts lines from 1. */
    usps_line(line, sizeof line, "1", 1, 0, NULL, 257);
    strcpy(text, line);
    strcat(text, line);
    usps_line(line, sizeof line, "1", 1, 100, "x", 257);
    strcat(text, line);
    expect_error("usps line 3", load_usps_text("third.zip.gz", text, 1), "third.zip.gz",
                 "line 3", "field 100", NULL);

    static char longline[10000];
    memset(longline, '1', sizeof longline - 2);
    longline[sizeof longline - 2] = '\n';
    expect_error("usps long line", load_usps_text("long.zip", longline, 0), "long.zip", "line 1",
                 "longer than", NULL);
    /* The bound: a line of 8192 bytes is read (and refused for its fields), one of 8193 is not. */
    for (int extra = 0; extra < 2; extra++) {
        memset(longline, '1', 8192 + extra);
        strcpy(longline + 8192 + extra, "\n");
        const int rc = load_usps_text("bound.zip", longline, 0);
        const int too_long = strstr(jn_last_error(), "longer than 8192 bytes") != NULL;
        CHECK(rc == -1 && too_long == extra, "usps line of %d bytes: %s", 8192 + extra, jn_last_error());
    }
    static const char nul[] = "1 0\0 1\n";
    expect_error("usps NUL byte", jn_usps_load(write_raw("nul.zip", nul, sizeof nul - 1), &set),
                 "nul.zip", "line 1", "column 4: unexpected NUL byte", NULL);

    /* A gzip stream cut short: an error, not the lines before the cut. */
    for (int i = 0; i < 3; i++) {
        usps_line(line, sizeof line, "2", 1, 0, NULL, 257);
        strcpy(text + (i ? strlen(text) : 0), line);
    }
    static unsigned char gz[1 << 14];
    size_t n = read_raw(write_gz("cut.zip.gz", text, strlen(text), "wb"), gz, sizeof gz);
    expect_error("usps gzip cut", jn_usps_load(write_raw("cut.zip.gz", gz, n - 4), &set),
                 "cut.zip.gz", "line 4", "gzip stream ends early", NULL);
    expect_error("usps gzip twice", jn_usps_load(write_gz("twice.zip.gz", gz, n, "wb"), &set),
                 "twice.zip.gz", "byte 0 of the decoded data", "gzip-compressed twice", NULL);
    /* A bad CRC-32: zlib drops the lines it decoded; only its offset in the file locates it. */
    gz[n - 7] ^= 0x01;
    char at[64];
    snprintf(at, sizeof at, "byte %zu of the compressed file", n - 5);
    expect_error("usps bad CRC-32", jn_usps_load(write_raw("crc.zip.gz", gz, n), &set),
                 "crc.zip.gz", at, "corrupt gzip data", "(zlib: incorrect data check)", NULL);
    /* Bytes after the gzip data are refused where they lie, as the IDX reader does. */
    gz[n - 7] ^= 0x01;
    gz[n] = 'x';
    snprintf(at, sizeof at, "byte %zu of the compressed file", n);
    expect_error("usps bytes after the gzip data", jn_usps_load(write_raw("tail.zip.gz", gz, n + 1), &set),
                 "tail.zip.gz", at, "unexpected bytes after the gzip data", NULL);

    /* Valid: zip.train style (4 decimals, trailing space), zip.test style (compact, no final
     * newline), raw and gzip; then the same followed by one empty line, as editors leave it,
     * and by several blank ones (a CRLF one, one of spaces). Values -1, 1, 0, -0.5 map to 0, 1,
     * 0.5, 0.25. */
    usps_line(text, sizeof text, "6.0000", 0, 0, NULL, 257);
    usps_line(line, sizeof line, "9", 1, 0, NULL, 257);
    line[strlen(line) - 1] = '\0';
    strcat(text, line);
    const size_t bare = strlen(text);
    static const char *const tails[3] = {"", "\n\n", "\n\r\n \t\n\n"};
    for (int g = 0; g < 6; g++) {
        strcpy(text + bare, tails[g / 2]);
        const char *p = g % 2 ? write_gz("ok.zip.gz", text, strlen(text), "wb")
                              : write_raw("ok.zip", text, strlen(text));
        int rc = jn_usps_load(p, &set);
        CHECK(rc == 0, "valid USPS %s, tail %d: %s", p, g / 2, jn_last_error());
        if (rc)
            continue;
        CHECK(set.n == 2 && set.d == 256 && set.classes == 10 && set.y[0] == 6 && set.y[1] == 9,
              "%s: n %d d %d labels %d %d", p, set.n, set.d, set.y[0], set.y[1]);
        int wrong = 0;
        for (int i = 0; i < 2 * 256; i++) {
            static const float want[4] = {0.0f, 1.0f, 0.5f, 0.25f};
            wrong += set.x[i] != want[(i % 256 + 2) % 4];
        }
        CHECK(wrong == 0, "%s: %d values wrong", p, wrong);
        jn_dataset_free(&set);
    }
    /* -0.948 (zip.test style) -> 0.026. */
    usps_line(text, sizeof text, "0", 1, 2, "-0.948", 257);
    int rc = jn_usps_load(write_raw("frac.zip", text, strlen(text)), &set);
    CHECK(rc == 0 && set.x[0] == (float)((-0.948 + 1.0) / 2.0), "-0.948: %s", jn_last_error());
    if (rc == 0)
        jn_dataset_free(&set);
    /* A file longer than zip.train (7291 lines), past 8192 lines (the arrays double from 1024),
     * loads whole: the bound on the lines is far above any USPS-style file. */
    enum { MANY = 8193 };
    usps_line(line, sizeof line, "3", 1, 0, NULL, 257);
    const size_t len = strlen(line);
    char *many = malloc(MANY * len);
    CHECK(many != NULL, "cannot allocate %d USPS lines", MANY);
    if (!many)
        return;
    for (size_t i = 0; i < MANY; i++)
        memcpy(many + i * len, line, len);
    rc = jn_usps_load(write_gz("many.zip.gz", many, MANY * len, "wb"), &set);
    free(many);
    CHECK(rc == 0 && set.n == MANY && set.y[MANY - 1] == 3 && set.x[(size_t)(MANY - 1) * 256] == 0.5f,
          "%d USPS lines: %s", MANY, rc ? jn_last_error() : "wrong content");
    if (rc == 0)
        jn_dataset_free(&set);
}

/* metrics.jsonl: numbers as jn_json_number writes them (decimal, null for non-finite), not the
 * other forms strtod takes, which would read 0x10 as 16 and nan as a value; a line refused hands
 * back the lines before it (sweep status shows a run by them). */
static void test_metrics(void)
{
    static const char good[] = "{\"epoch\":1,\"step\":12,\"lr\":0.05,\"train_loss\":2.5e-1,\"penalty\":null,"
                               "\"weight_decay\":0,\"objective\":0.25,\"train_error\":10,\"valid_error\":null,"
                               "\"test_error\":null,\"best\":true,\"seconds\":1e-400}\n";
    jn_epoch_metrics *m;
    int count;
    int rc = jn_metrics_read(write_raw("metrics.jsonl", good, sizeof good - 1), &m, &count);
    CHECK(rc == 0 && count == 1, "metrics.jsonl: rc %d, %d lines: %s", rc, count, jn_last_error());
    if (rc == 0 && count == 1)
        CHECK(m[0].epoch == 1 && m[0].step == 12 && m[0].lr == 0.05 && m[0].train_loss == 0.25 &&
                  isnan(m[0].valid_error) && m[0].best && m[0].seconds == 0,
              "metrics.jsonl: epoch %d step %llu lr %g loss %g", m[0].epoch, (unsigned long long)m[0].step,
              m[0].lr, m[0].train_loss);
    free(m);
    /* A last line without its newline is one torn by a crash inside its append (sweep status
     * reads a run's file as it trains): left out, not an error in the run's record. */
    static const char torn[] = "{\"epoch\":2,\"st";
    char text[1024];
    snprintf(text, sizeof text, "%.*s%s", (int)sizeof good - 1, good, torn);
    rc = jn_metrics_read(write_raw("torn.jsonl", text, strlen(text)), &m, &count);
    CHECK(rc == 0 && count == 1, "torn last line: rc %d, %d lines: %s", rc, count, jn_last_error());
    free(m);
    /* So is one that would be refused for a field (the tools' metrics_lines leave it out too:
     * test_reproduce's check_metrics_lines). */
    static const char *const unfinished[] = {"{\"epoch\":2,\"lr\":\"x\"}", "{\"epoch\":2,\"step\":2.5}",
                                             "{\"epoch\":2,\"lr\":1e999}"};
    for (size_t i = 0; i < sizeof unfinished / sizeof unfinished[0]; i++) {
        snprintf(text, sizeof text, "%.*s%s", (int)sizeof good - 1, good, unfinished[i]);
        rc = jn_metrics_read(write_raw("torn.jsonl", text, strlen(text)), &m, &count);
        CHECK(rc == 0 && count == 1, "%s as the last line, without its newline: rc %d, %d lines: %s", unfinished[i],
              rc, count, jn_last_error());
        free(m);
    }
    static const char *const bad[] = {"0x10", "inf", "nan", "-Infinity", "0x1p3", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        int at = snprintf(text, sizeof text, "%.*s{\"epoch\":2,\"step\":", (int)sizeof good - 1, good);
        snprintf(text + at, sizeof text - (size_t)at, "%s}\n", bad[i]);
        char where[64];
        snprintf(where, sizeof where, "line 2 (byte %d)", at);
        expect_error(bad[i], jn_metrics_read(write_raw("bad.jsonl", text, strlen(text)), &m, &count),
                     "bad.jsonl", where, "expected a decimal number", NULL);
        CHECK(count == 1 && m[0].epoch == 1, "%s: %d lines handed back, not the one before", bad[i], count);
        free(m);
    }
    /* Counts are written whole: a fraction is refused, not truncated into another epoch. */
    static const struct {
        const char *key, *value;
    } counts[] = {{"epoch", "1.5"}, {"epoch", "-1"}, {"epoch", "2147483648"}, {"step", "2.5"}, {"step", "1e20"}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        char text[512];
        int at = snprintf(text, sizeof text, "%.*s{\"%s\":", (int)sizeof good - 1, good,
                          counts[i].key[0] == 'e' ? "step\":3,\"epoch" : "epoch\":2,\"step");
        snprintf(text + at, sizeof text - (size_t)at, "%s}\n", counts[i].value);
        char where[64];
        snprintf(where, sizeof where, "line 2 (byte %d)", at);
        expect_error(counts[i].value, jn_metrics_read(write_raw("bad.jsonl", text, strlen(text)), &m, &count),
                     "bad.jsonl", where, "expected a whole number", NULL);
        CHECK(count == 1 && m[0].epoch == 1, "%s: %d lines handed back, not the one before", counts[i].value, count);
        free(m);
    }
    /* A line without an epoch (epochs count from 1) is no epoch's line: read as epoch 0, a
     * sweep's table and a resume's count of the epochs kept took it for one. */
    static const char *const epochless[] = {"{\"step\":3,\"lr\":0.1}", "{\"epoch\":0,\"step\":3}", "{}"};
    for (size_t i = 0; i < sizeof epochless / sizeof epochless[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "%.*s%s\n", (int)sizeof good - 1, good, epochless[i]);
        expect_error(epochless[i], jn_metrics_read(write_raw("bad.jsonl", text, strlen(text)), &m, &count),
                     "bad.jsonl", "line 2", "no epoch", NULL);
        CHECK(count == 1 && m[0].epoch == 1, "%s: %d lines handed back, not the one before", epochless[i], count);
        free(m);
    }
    /* Strict JSON, as jacnoise writes it and Python's json (the tools) reads it: a ',' before
     * the '}' was read, and a key given twice kept its last value, in either spelling (a key's
     * escapes decoded, as json decodes them). Refused where it starts, the lines before it
     * handed back. */
    static const struct {
        const char *line;
        int at;
        const char *what;
    } strict[] = {{"{\"epoch\":2,}", 11, "expected a string"},
                  {"{\"epoch\":2,\"step\":3,\"step\":4}", 20, "\"step\" given twice"},
                  {"{\"epoch\":2,\"best\":true,\"best\":false}", 23, "\"best\" given twice"},
                  {"{\"epoch\":2,\"best\":true,\"be\\u0073t\":false}", 23, "\"best\" given twice"}};
    for (size_t i = 0; i < sizeof strict / sizeof strict[0]; i++) {
        snprintf(text, sizeof text, "%.*s%s\n", (int)sizeof good - 1, good, strict[i].line);
        char where[64];
        snprintf(where, sizeof where, "line 2 (byte %d)", (int)sizeof good - 1 + strict[i].at);
        expect_error(strict[i].line, jn_metrics_read(write_raw("bad.jsonl", text, strlen(text)), &m, &count),
                     "bad.jsonl", where, strict[i].what, NULL);
        CHECK(count == 1 && m[0].epoch == 1, "%s: %d lines handed back, not the one before", strict[i].line, count);
        free(m);
    }
    /* Each epoch's line is appended after the last's: one at or below it (a line pasted twice,
     * lines moved by hand) was read as another epoch, where a resume refuses it. So is a line
     * without a key jacnoise writes in each (null where it has no number): read as 0, a best
     * validation error of 0%. The lines before it are handed back. */
    const char *rest = strchr(good, ',');
    static const struct {
        int epochs[3];
        const char *drop, *what;
    } lines[] = {{{1, 1}, NULL, "line 2 (byte %d): a second line of epoch 1: each epoch has one line, in order"},
                 {{1, 3, 2}, NULL, "line 3 (byte %d): epoch 2 after epoch 3: each epoch has one line, in order"},
                 {{1, 2}, "\"penalty\":null,", "line 2 (byte %d): no penalty"}};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        int at = 0, n = 0, before = 0;
        for (; n < 3 && lines[i].epochs[n]; n++) {
            before = at;
            at += snprintf(text + at, sizeof text - (size_t)at, "{\"epoch\":%d%s", lines[i].epochs[n], rest);
        }
        char *drop = lines[i].drop ? strstr(text + before, lines[i].drop) : NULL;
        if (drop)  /* the last line, without the key */
            memmove(drop, drop + strlen(lines[i].drop), strlen(drop + strlen(lines[i].drop)) + 1);
        const int end = (int)strlen(text) - 1;  /* "no KEY" is said at the object's end */
        char what[128];
        snprintf(what, sizeof what, lines[i].what, drop ? end : before);
        expect_error(what, jn_metrics_read(write_raw("bad.jsonl", text, strlen(text)), &m, &count), "bad.jsonl",
                     what, NULL);
        CHECK(count == n - 1 && m[n - 2].epoch == lines[i].epochs[n - 2], "%s: %d lines handed back, not the %d before",
              what, count, n - 1);
        free(m);
    }
    static const char summary[] = "{\"status\":\"done\",\"epochs\":2.5}";
    jn_summary_file f;
    expect_error("summary epochs 2.5", jn_summary_read(write_raw("summary.json", summary, sizeof summary - 1), &f),
                 "summary.json", "byte 26", "expected a whole number", NULL);
}

/* jn_data_load with idx: files and the refusals of the request itself. */
static void test_requests(void)
{
    idx_buf f;
    small_images(&f);
    write_raw("ri.idx", f.b, f.len);
    static const int train_labels[3] = {0, 2, 1}, test_labels[3] = {1, 5, 0};
    small_labels(&f, JN_IDX_U8, train_labels, 3);
    write_raw("rl.idx", f.b, f.len);
    small_labels(&f, JN_IDX_U8, test_labels, 3);
    write_raw("rt.idx", f.b, f.len);

    jn_data data;
    /* Relative names are found in the data folder; valid 1 of 3, test from --test. */
    jn_data_request req = {"idx:ri.idx,rl.idx", "idx:ri.idx,rl.idx", tmp_dir, 1, 0, NULL, 0};
    int rc = jn_data_load(&req, &data);
    CHECK(rc == 0, "idx: request: %s", jn_last_error());
    if (rc == 0) {
        CHECK(data.train.n == 2 && data.valid.n == 1 && data.test.n == 3 &&
                  data.valid.y[0] == 1 && data.train.classes == 3 &&
                  strcmp(data.valid.name, "idx/valid") == 0,
              "idx: splits %d / %d / %d", data.train.n, data.valid.n, data.test.n);
        /* The folder read is reported (train's data line, jacnoise data's "folder"). */
        CHECK(strcmp(data.dir, tmp_dir) == 0, "idx: found in --data-dir, dir \"%s\"", data.dir);
        jn_data_free(&data);
    }
    /* Files of the same names in the current folder (labels 2 2 2): --data-dir is read all the
     * same, as it names; without it they are read as given. */
    char here[PATH_MAX], cwd[PATH_MAX];
    snprintf(here, sizeof here, "%s", path_of("here"));
    REQUIRE(getcwd(cwd, sizeof cwd) && mkdir(here, 0700) == 0 && chdir(here) == 0, "cannot enter %s", here);
    static const int other_labels[3] = {2, 2, 2};
    small_labels(&f, JN_IDX_U8, other_labels, 3);
    write_raw("here/rl.idx", f.b, f.len);
    write_raw("here/ro.idx", f.b, f.len);
    small_images(&f);
    write_raw("here/ri.idx", f.b, f.len);
    rc = jn_data_load(&req, &data);
    CHECK(rc == 0, "idx: --data-dir beside files of the same names: %s", jn_last_error());
    if (rc == 0) {
        CHECK(data.valid.y[0] == 1 && strcmp(data.dir, tmp_dir) == 0,
              "idx: --data-dir %s given, the current folder's files read (valid label %d, dir \"%s\")", tmp_dir,
              data.valid.y[0], data.dir);
        jn_data_free(&data);
    }
    /* A training file of one example: "has 1 example", where it read "1 examples". */
    one_image_file(&f);
    write_raw("r1i.idx", f.b, f.len);
    small_labels(&f, JN_IDX_U8, train_labels, 1);
    write_raw("r1l.idx", f.b, f.len);
    jn_data_request one = {"idx:r1i.idx,r1l.idx", NULL, tmp_dir, 1, 0, NULL, 0};
    expect_error("idx: --valid 1 of one example", jn_data_load(&one, &data), "--valid 1",
                 "the training file of idx:r1i.idx,r1l.idx has 1 example;", NULL);
    jn_data_request as_given = {"idx:ri.idx,rl.idx", NULL, NULL, 1, 0, NULL, 0};
    rc = jn_data_load(&as_given, &data);
    CHECK(rc == 0 && data.valid.y[0] == 2 && data.dir[0] == '\0', "idx: no --data-dir, files as given: %s",
          rc ? jn_last_error() : data.dir);
    if (rc == 0)
        jn_data_free(&data);
    as_given.data = "idx:ri.idx,ro.idx";  /* ro.idx is here alone */
    as_given.data_dir = tmp_dir;
    expect_error("idx: a name in the current folder only, --data-dir given", jn_data_load(&as_given, &data),
                 "ro.idx", tmp_dir, "relative names are looked for in --data-dir alone", NULL);
    REQUIRE(mkdir("rf.idx", 0700) == 0, "mkdir %s/rf.idx", here);
    as_given.data = "idx:ri.idx,rf.idx";  /* a folder here, not what --data-dir lacks */
    expect_error("idx: a folder in the current folder, --data-dir given", jn_data_load(&as_given, &data),
                 "rf.idx", tmp_dir, "(lacks rf.idx)", NULL);
    CHECK(!strstr(jn_last_error(), "a folder, not a file"), "idx: --data-dir given: \"%s\" describes the current "
          "folder's rf.idx", jn_last_error());
    CHECK(rmdir("rf.idx") == 0, "cannot remove %s/rf.idx", here);
    CHECK(chdir(cwd) == 0, "cannot return to %s", cwd);
    static const char *const written[] = {"here/ri.idx", "here/rl.idx", "here/ro.idx"};
    for (int i = 0; i < 3; i++)
        CHECK(unlink(path_of(written[i])) == 0, "cannot remove %s", path_of(written[i]));
    CHECK(rmdir(here) == 0, "cannot remove %s", here);
    /* An absolute path is taken as it is, the relative name beside it from the data folder
     * (it was looked for as DIR//abs/path and the pair refused as lacking a file that is there). */
    char mixed[2 * PATH_MAX + 8];
    snprintf(mixed, sizeof mixed, "idx:%s,rl.idx", path_of("ri.idx"));
    jn_data_request mixed_req = {mixed, NULL, tmp_dir, 1, 0, NULL, 0};
    rc = jn_data_load(&mixed_req, &data);
    CHECK(rc == 0, "idx: absolute images, relative labels in --data-dir: %s", jn_last_error());
    if (rc == 0) {
        CHECK(data.train.n == 2 && data.valid.n == 1 && data.valid.y[0] == 1,
              "idx: absolute and relative: splits %d / %d", data.train.n, data.valid.n);
        /* The labels' relative name makes the data folder the root (config.txt's data_dir, by
         * which a resume elsewhere reads the same labels), though the images' name is absolute. */
        char want_root[PATH_MAX];
        CHECK(realpath(tmp_dir, want_root) && strcmp(data.root, want_root) == 0,
              "idx: absolute images, relative labels: root \"%s\", expected %s", data.root, tmp_dir);
        jn_data_free(&data);
    }
    /* No relative name: no root, each file is found by its own path. */
    snprintf(mixed, sizeof mixed, "idx:%s,%s", path_of("ri.idx"), path_of("rl.idx"));
    rc = jn_data_load(&mixed_req, &data);
    CHECK(rc == 0 && data.root[0] == '\0', "idx: two absolute paths: root \"%s\" (%s)", rc ? "" : data.root,
          rc ? jn_last_error() : "loaded");
    if (rc == 0)
        jn_data_free(&data);
    /* A missing absolute path is said as such, not as lacking from every folder searched. */
    snprintf(mixed, sizeof mixed, "idx:ri.idx,%s", path_of("gone.idx"));
    rc = jn_data_load(&mixed_req, &data);
    expect_error("idx: absolute path missing", rc, path_of("gone.idx"), "No such file or directory", NULL);
    CHECK(!strstr(jn_last_error(), "lacks"), "idx: absolute path missing: \"%s\" names folders lacking it",
          jn_last_error());
    req.test = "idx:ri.idx,rt.idx"; /* label 5 >= the 3 training classes */
    expect_error("test label beyond training classes", jn_data_load(&req, &data), "rt.idx",
                 "byte 9", "item 1", "label out of range",
                 "(the classes are [0, 2], from the training labels)", NULL);
    /* A --data-dir ending in '/' (as the shell completes it) names the file with one: "DIR//rt.idx". */
    char slashed[PATH_MAX + 2];
    snprintf(slashed, sizeof slashed, "%s/", tmp_dir);
    jn_data_request slash_req = {"idx:ri.idx,rl.idx", "idx:ri.idx,rt.idx", slashed, 1, 0, NULL, 0};
    expect_error("--data-dir DIR/", jn_data_load(&slash_req, &data), path_of("rt.idx"), "label out of range", NULL);
    static const uint32_t no_items[3] = {0, 2, 2};
    idx_header(&f, JN_IDX_U8, 3, no_items);
    write_raw("r0i.idx", f.b, f.len);
    small_labels(&f, JN_IDX_U8, test_labels, 0);
    write_raw("r0l.idx", f.b, f.len);
    req.test = "idx:r0i.idx,r0l.idx"; /* its test error would be null, as without --test */
    expect_error("empty --test pair", jn_data_load(&req, &data), "--test idx:r0i.idx,r0l.idx", "r0i.idx",
                 "holds no examples", NULL);
    jn_data_request no_train = {"idx:r0i.idx,r0l.idx", NULL, tmp_dir, -1, 0, NULL, 0};
    expect_error("empty --data pair", jn_data_load(&no_train, &data), "--data idx:r0i.idx,r0l.idx", "r0i.idx",
                 "holds no examples", NULL);
    CHECK(!strstr(jn_last_error(), "--valid"), "empty --data pair: \"%s\" blames --valid", jn_last_error());
    req.test = "idx:ri.idx";
    expect_error("bad --test spec", jn_data_load(&req, &data), "idx:ri.idx", "--test",
                 "expected idx:IMAGES,LABELS", NULL);
    req.test = NULL;
    req.data = "idx:ri.idx,nothere.idx";
    expect_error("idx: file missing", jn_data_load(&req, &data), "nothere.idx", "cannot find",
                 tmp_dir, "lacks nothere.idx", "in --data-dir alone", NULL);
    CHECK(!strstr(jn_last_error(), "fetch.sh"), "idx: file missing: \"%s\" points to fetch.sh, which gets "
          "the named sets only", jn_last_error());
    req.data = "kmnist";
    expect_error("unknown set", jn_data_load(&req, &data), "kmnist", "mnist, mnist-binary, usps",
                 "idx:IMAGES,LABELS", NULL);
    jn_data_request named = {"usps", "idx:ri.idx,rl.idx", tmp_dir, -1, 0, NULL, 0};
    expect_error("--test with a named set", jn_data_load(&named, &data), "--test", "idx: data",
                 NULL);
    named.test = NULL;
    expect_error("named set not in folder", jn_data_load(&named, &data), tmp_dir, "zip.train",
                 "fetch.sh", "(lacks zip.train[.gz], zip.test[.gz])", NULL);
    /* One file there, the other's name a folder: the message names both, not "cannot find"
     * alone, which sends the user looking for files that are there. */
    write_raw("zip.train", "", 0);
    REQUIRE(mkdir(path_of("zip.test.gz"), 0700) == 0, "mkdir %s", path_of("zip.test.gz"));
    char in_way[2 * PATH_MAX + 32];
    snprintf(in_way, sizeof in_way, "%s is a folder, not a file", path_of("zip.test.gz"));
    expect_error("a folder in a file's place", jn_data_load(&named, &data), tmp_dir, "(lacks zip.test[.gz]; ",
                 in_way, NULL);
    CHECK(rmdir(path_of("zip.test.gz")) == 0, "rmdir %s", path_of("zip.test.gz"));

    /* A named set's files are accepted raw (zip.train) or gzip (zip.test.gz). */
    static char text[3 * 4096];
    for (int i = 0; i < 3; i++)
        usps_line(text + strlen(text), sizeof text - strlen(text), i ? "4" : "7", 1, 0, NULL, 257);
    write_raw("zip.train", text, strlen(text));
    write_gz("zip.test.gz", text, strlen(text), "wb");
    named.valid = 1;
    rc = jn_data_load(&named, &data);
    CHECK(rc == 0, "usps from a raw zip.train and zip.test.gz: %s", jn_last_error());
    if (rc == 0) {
        CHECK(data.train.n == 2 && data.valid.n == 1 && data.test.n == 3 && data.train.y[0] == 7 &&
                  strcmp(data.dir, tmp_dir) == 0 && strcmp(data.test.name, "usps/test") == 0,
              "usps: %d / %d / %d from %s", data.train.n, data.valid.n, data.test.n, data.dir);
        jn_data_free(&data);
    }
    /* A checkpoint's model of 12 classes evaluates the named set's digits: every split has its 12
     * (the test split kept 10 where only the training file took them); one of 5 leaves the set's 10. */
    for (int wide = 0; wide < 2; wide++) {
        named.classes = wide ? 12 : 5;
        rc = jn_data_load(&named, &data);
        const int want = wide ? 12 : 10;
        CHECK(rc == 0 && data.train.classes == want && data.valid.classes == want && data.test.classes == want,
              "usps with a model of %d classes: %s classes %d / %d / %d, expected %d", named.classes,
              rc ? jn_last_error() : "", data.train.classes, data.valid.classes, data.test.classes, want);
        if (rc == 0)
            jn_data_free(&data);
    }
}

int main(void)
{
    scratch_make(tmp_dir, sizeof tmp_dir, "jn_data");

    test_idx_header();
    test_idx_payload();
    test_idx_pairs();
    test_usps();
    test_metrics();
    test_requests();

    scratch_end(tmp_dir);
    return check_exit();
}
