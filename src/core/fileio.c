/* Byte buffers, bounds-checked cursors and crash-safe file writes. */
#if defined(__linux__)
#define _GNU_SOURCE  /* syncfs */
#endif
#include "core/fileio.h"
#include "jacnoise/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* n more bytes at the end of the buffer, or NULL once an allocation failed. */
static unsigned char *buf_grow(jn_buf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return NULL;
        }
        b->data = d;
        b->cap = cap;
    }
    b->len += n;
    return b->data + b->len - n;
}

void jn_buf_put(jn_buf *b, const void *p, size_t n)
{
    unsigned char *d = buf_grow(b, n);
    if (d && n)
        memcpy(d, p, n);
}

void jn_buf_u8(jn_buf *b, uint8_t v) { jn_buf_put(b, &v, 1); }

void jn_buf_u32(jn_buf *b, uint32_t v)
{
    unsigned char s[4];
    for (int i = 0; i < 4; i++)
        s[i] = (unsigned char)(v >> (8 * i));
    jn_buf_put(b, s, 4);
}

void jn_buf_u64(jn_buf *b, uint64_t v)
{
    unsigned char s[8];
    for (int i = 0; i < 8; i++)
        s[i] = (unsigned char)(v >> (8 * i));
    jn_buf_put(b, s, 8);
}

void jn_buf_f64(jn_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    jn_buf_u64(b, u);
}

/* On a little-endian host the files' byte order is the memory's: arrays are copied whole, or
 * written from where they are (jn_f32_piece). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define JN_HOST_LITTLE_ENDIAN 1
#else
#define JN_HOST_LITTLE_ENDIAN 0
#endif

/* Copies n values of `width` bytes between the host's byte order and the files' (little-
 * endian), either way: one copy, or each value's bytes reversed on a big-endian host. */
static void copy_values(unsigned char *dst, const unsigned char *src, size_t n, size_t width)
{
    if (JN_HOST_LITTLE_ENDIAN) {
        if (n)  /* an empty tensor's array may be NULL, which memcpy may not be given even for 0 bytes */
            memcpy(dst, src, n * width);
        return;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < width; k++)
            dst[i * width + k] = src[i * width + width - 1 - k];
}

static void buf_array(jn_buf *b, const void *v, size_t n, size_t width)
{
    unsigned char *d = buf_grow(b, n * width);
    if (d)
        copy_values(d, v, n, width);
}

void jn_buf_f32_array(jn_buf *b, const float *v, size_t n) { buf_array(b, v, n, 4); }
void jn_buf_f64_array(jn_buf *b, const double *v, size_t n) { buf_array(b, v, n, 8); }

/* The CRC-32 of len more bytes after those that gave crc. */
static uLong crc_update(uLong crc, const unsigned char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {  /* crc32 takes uInt lengths */
        size_t n = len - off > (1u << 30) ? (1u << 30) : len - off;
        crc = crc32(crc, data + off, (uInt)n);
        off += n;
    }
    return crc;
}

void jn_buf_crc(jn_buf *b)
{
    if (!b->oom)
        jn_buf_u32(b, (uint32_t)crc_update(crc32(0L, Z_NULL, 0), b->data, b->len));
}

/* The array itself where its bytes are the file's; else a converted copy in scratch. */
static jn_piece values_piece(const void *v, size_t n, size_t width, jn_buf *scratch)
{
    if (JN_HOST_LITTLE_ENDIAN)
        return (jn_piece){v, n * width};
    buf_array(scratch, v, n, width);
    return (jn_piece){scratch->data, scratch->len};
}

jn_piece jn_f32_piece(const float *v, size_t n, jn_buf *scratch) { return values_piece(v, n, 4, scratch); }
jn_piece jn_f64_piece(const double *v, size_t n, jn_buf *scratch) { return values_piece(v, n, 8, scratch); }

uint32_t jn_crc32_values(uint32_t crc, const void *v, size_t n, size_t width)
{
    jn_buf scratch = {0};
    const jn_piece p = values_piece(v, n, width, &scratch);
    crc = (uint32_t)crc_update(crc, p.data, p.len);
    jn_buf_free(&scratch);
    return crc;
}

int jn_buf_ok(const jn_buf *b, const char *what)
{
    return b->oom ? jn_fail("%s: out of memory while serialising", what) : 0;
}

void jn_buf_free(jn_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Fails unless n more bytes are there. */
static int need(const jn_cursor *c, size_t n, const char *what)
{
    if (n > c->len - c->off)
        return jn_fail("%s: byte %zu: file ends while reading %s (%zu bytes needed, %zu left)",
                       c->path, c->off, what, n, c->len - c->off);
    return 0;
}

int jn_cur_bytes(jn_cursor *c, void *out, size_t n, const char *what)
{
    if (need(c, n, what))
        return -1;
    memcpy(out, c->data + c->off, n);
    c->off += n;
    return 0;
}

int jn_cur_u8(jn_cursor *c, uint8_t *v, const char *what) { return jn_cur_bytes(c, v, 1, what); }

static uint32_t le32(const unsigned char *s)
{
    return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

static uint64_t le64(const unsigned char *s) { return (uint64_t)le32(s + 4) << 32 | le32(s); }

int jn_cur_u32(jn_cursor *c, uint32_t *v, const char *what)
{
    if (need(c, 4, what))
        return -1;
    *v = le32(c->data + c->off);
    c->off += 4;
    return 0;
}

int jn_cur_u64(jn_cursor *c, uint64_t *v, const char *what)
{
    if (need(c, 8, what))
        return -1;
    *v = le64(c->data + c->off);
    c->off += 8;
    return 0;
}

int jn_cur_f64(jn_cursor *c, double *v, const char *what)
{
    uint64_t u;
    if (jn_cur_u64(c, &u, what))
        return -1;
    memcpy(v, &u, 8);
    return 0;
}

static int cur_array(jn_cursor *c, void *v, size_t n, size_t width, const char *kind, const char *what)
{
    if (n > (c->len - c->off) / width)
        return jn_fail("%s: byte %zu: file ends while reading %s (%zu %s needed)", c->path, c->off, what, n,
                       kind);
    copy_values(v, c->data + c->off, n, width);
    c->off += width * n;
    return 0;
}

int jn_cur_f32_array(jn_cursor *c, float *v, size_t n, const char *what)
{
    return cur_array(c, v, n, 4, "floats", what);
}

int jn_cur_f64_array(jn_cursor *c, double *v, size_t n, const char *what)
{
    return cur_array(c, v, n, 8, "doubles", what);
}

/* The CRC-32 of the cursor's data before its last 4 bytes (len >= 4). */
static uint32_t body_crc(const jn_cursor *c)
{
    return (uint32_t)crc_update(crc32(0L, Z_NULL, 0), c->data, c->len - 4);
}

int jn_cur_crc_matches(const jn_cursor *c) { return c->len >= 4 && body_crc(c) == le32(c->data + c->len - 4); }

int jn_cur_check_crc(const jn_cursor *c)
{
    if (c->len < 4)
        return jn_fail("%s: byte 0: file too short (%zu bytes) to hold a checksum", c->path, c->len);
    const uint32_t stored = le32(c->data + c->len - 4), crc = body_crc(c);
    if (crc != stored)
        return jn_fail("%s: byte %zu: checksum mismatch (stored CRC-32 %08x, computed %08x): the file is corrupt",
                       c->path, c->len - 4, stored, (unsigned)crc);
    return 0;
}

int jn_cur_check_end(const jn_cursor *c, uint64_t size, const char *format)
{
    if (c->len > size)
        return jn_fail("%s: byte %llu: %llu unexpected byte%s after the %s's end (its header gives %llu bytes)",
                       c->path, (unsigned long long)size, (unsigned long long)(c->len - size),
                       c->len - size == 1 ? "" : "s", format, (unsigned long long)size);
    return 0;
}

int jn_cur_version(jn_cursor *c, uint32_t *version, uint32_t oldest, uint32_t reads, const char *format,
                   const char *older)
{
    const size_t at = c->off;
    if (jn_cur_u32(c, version, "the format version"))
        return -1;
    if (*version >= oldest && *version <= reads)
        return 0;
    /* Every version ends with the checksum: a flipped bit here is a corrupt file, not a
     * version no build wrote (its number would mean nothing to the user). */
    if (jn_cur_check_crc(c))
        return -1;
    char which[48];
    snprintf(which, sizeof which, oldest < reads ? "versions %u to %u" : "version %u", oldest, reads);
    /* A newer build's file is no damage (its checksum matched): the user needs that build. */
    const char *why = *version > reads ? " (written by a newer jacnoise: read it with that one, or update this one)"
                      : older ? older : "";
    return jn_fail("%s: byte %zu: %s format version %u, this build reads %s%s", c->path, at, format, *version, which,
                   why);
}

int jn_cur_check_size(const jn_cursor *c, uint64_t expected, int exact)
{
    if (c->len < expected)
        return jn_fail("%s: byte %zu: truncated: %zu bytes, expected %s%llu", c->path, c->len, c->len,
                       exact ? "" : "at least ", (unsigned long long)expected);
    return 0;
}

/* Opens path for reading and fstat()s it into st, refusing what is not a regular file: the
 * descriptor, or -1 (error recorded). */
static int open_regular(const char *path, struct stat *st)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return jn_fail("%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, st) != 0) {
        const int e = errno;
        close(fd);
        return jn_fail("%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st->st_mode)) {
        int dir = S_ISDIR(st->st_mode);
        close(fd);
        return jn_fail("%s: %s", path, dir ? "is a folder, not a file" : "not a regular file");
    }
    return fd;
}

/* Reads up to n bytes into buf, fewer at the end of the file (*got); closes fd on failure. */
static int read_upto(int fd, const char *path, unsigned char *buf, size_t n, size_t *got)
{
    for (*got = 0; *got < n;) {
        ssize_t r = read(fd, buf + *got, n - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            const int e = errno;
            close(fd);
            return jn_fail("%s: read failed at byte %zu: %s", path, *got, strerror(e));
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

int jn_read_file(const char *path, unsigned char **data, size_t *len)
{
    return jn_read_file_max(path, SIZE_MAX, data, len);
}

/* Refuses a file past max bytes; closes fd. */
static int too_large(int fd, const char *path, size_t max)
{
    close(fd);
    return jn_fail("%s: larger than %zu MiB", path, max >> 20);
}

/* Reads fd to its end, to at most max bytes, into *data (*len); closes fd on failure. For a
 * file whose size says 0 but has content all the same (a /proc file's), which read as empty:
 * such a --config trained with the defaults. */
static int read_unsized(int fd, const char *path, size_t max, unsigned char **data, size_t *len)
{
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    for (;;) {
        if (n == cap && cap == max) {  /* full: one byte more is one too many */
            unsigned char more;
            if (read_upto(fd, path, &more, 1, &got)) {
                free(buf);
                return -1;
            }
            if (got) {
                free(buf);
                return too_large(fd, path, max);
            }
            break;
        }
        if (n == cap) {
            cap = cap < 4096 ? 4096 : cap > max / 2 ? max : 2 * cap;
            cap = cap < max ? cap : max;
            unsigned char *grown = realloc(buf, cap ? cap : 1);
            if (!grown) {
                free(buf);
                close(fd);
                return jn_fail("%s: out of memory for %zu bytes", path, cap);
            }
            buf = grown;
        }
        if (read_upto(fd, path, buf + n, cap - n, &got)) {
            free(buf);
            return -1;
        }
        n += got;
        if (n < cap)  /* the end of the file */
            break;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

int jn_read_file_max(const char *path, size_t max, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    struct stat st;
    const int fd = open_regular(path, &st);
    if (fd < 0)
        return -1;
    if (st.st_size == 0)
        return read_unsized(fd, path, max, data, len);
    /* Before reading: a file given by mistake (a data set as --config) may be gigabytes. */
    if ((uint64_t)st.st_size > max)
        return too_large(fd, path, max);
    size_t n = (size_t)st.st_size, got;
    unsigned char *buf = malloc(n);
    if (!buf) {
        close(fd);
        return jn_fail("%s: out of memory for %zu bytes", path, n);
    }
    if (read_upto(fd, path, buf, n, &got)) {
        free(buf);
        return -1;
    }
    close(fd);
    if (got < n) {
        free(buf);
        /* Never taken as the whole file: a text cut short may read as a shorter valid one. */
        return jn_fail("%s: read ended at byte %zu of the %zu its size says: the file shrank while being read, or is "
                       "one whose size is not its length (a kernel attribute file's)", path, got, n);
    }
    *data = buf;
    *len = n;
    return 0;
}

int jn_read_head(const char *path, unsigned char *out, size_t n, size_t *got)
{
    struct stat st;
    const int fd = open_regular(path, &st);
    if (fd < 0 || read_upto(fd, path, out, n, got))
        return -1;
    close(fd);
    return 0;
}

int jn_output_replaceable(const char *option, const char *path, const char *head, size_t n, const char *what)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (st.st_size == 0) {  /* nothing there to lose */
        /* But a run's (or sweep's) empty lock file is its flock: a file renamed over it let a
         * second trainer into the folder while the first still ran. */
        const char *slash = strrchr(path, '/');
        if (!strcmp(slash ? slash + 1 : path, "lock"))
            return jn_fail("%s %s: is a run's lock file, which its trainer holds while it runs; give another file "
                           "name", option, path);
        return 0;
    }
    unsigned char got_head[3 + 64];
    if (n > sizeof got_head - 3)  /* a head so long begins as one where its start does */
        n = sizeof got_head - 3;
    size_t got = 0;
    if (jn_read_head(path, got_head, 3 + n, &got))
        return jn_fail_context("%s", option);
    const size_t bom = got >= 3 && !memcmp(got_head, "\xef\xbb\xbf", 3) ? 3 : 0;
    return got >= bom + n && !memcmp(got_head + bom, head, n)
               ? 0
               : jn_fail("%s %s: exists and is not %s; give another file, or remove it", option, path, what);
}


/* The folder path is in ("." for a bare name, "/" at the root) into dir; -1 where it does not
 * fit (nothing recorded: the caller says which path). */
static int parent_folder(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const size_t n = !slash || slash == path ? 1 : (size_t)(slash - path);
    if (n >= cap)
        return -1;
    snprintf(dir, cap, "%.*s", (int)n, !slash ? "." : path);
    return 0;
}

/* An open descriptor on dir to sync it; where dir cannot be opened (EACCES: a folder one may
 * write in but not read, mode 0333, a drop box), one on entry (NULL: none), a file or folder in
 * it, *via_entry set: Linux has no other way to sync such a folder (an O_PATH descriptor
 * cannot be fsync'ed, a folder cannot be opened to write), but syncfs through anything on its
 * file system writes back its entries with the rest (before Linux 5.8 without saying whether
 * that failed: the files renamed there were fsync'ed, and said so). -1 with errno where neither
 * opens. */
static int open_to_sync(const char *dir, const char *entry, int *via_entry)
{
    *via_entry = 0;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES || !entry)
        return fd;
#if defined(__linux__)
    fd = open(entry, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        *via_entry = 1;
        return fd;
    }
#endif
    errno = EACCES;  /* what keeps dir from being synced, whatever stopped entry */
    return -1;
}

int jn_sync_folder(const char *dir, const char *entry)
{
    int via_entry, fd = open_to_sync(dir, entry, &via_entry);
    /* Failing here failed a write that was done (or every run started in such a folder): the
     * rename or mkdir stands, atomic; said once, as each checkpoint would say it again. */
    if (fd < 0 && errno == EACCES) {
        static int warned;
        if (!warned++)
            jn_print(stderr, "jacnoise: warning: %s: cannot open the folder, nor %s in it, to sync it (%s): a "
                     "power cut could lose what was renamed or made in it\n", dir, entry, strerror(EACCES));
        return 0;
    }
    if (fd < 0)
        return jn_fail("%s: cannot open folder to sync: %s", dir, strerror(errno));
#if defined(__linux__)
    int rc = via_entry ? syncfs(fd) : fsync(fd);
#else
    int rc = fsync(fd);
#endif
    int e = errno;
    close(fd);
    /* Some file systems refuse fsync on folders; the rename itself is still atomic. */
    if (rc != 0 && (via_entry || (e != EINVAL && e != ENOTSUP)))
        return jn_fail("%s: cannot sync folder: %s", dir, strerror(e));
    return 0;
}

static int fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    if (parent_folder(path, dir, sizeof dir))
        return jn_fail("%s: path too long", path);
    return jn_sync_folder(dir, path);
}

/* What a failed write left at path: the file as it was, or none. */
static const char *what_is_kept(const char *path)
{
    return access(path, F_OK) == 0 ? "previous file kept" : "no file written";
}

/* This host's name as the temporary files of jn_write_file_atomic_shared and jn_write_file_new
 * carry it ("path.HOST.PID.tmp"): with the pid, unique among the processes of every host that
 * shares a folder (a sweep's Slurm tasks on several nodes), and saying on which host the writer
 * ran. Bytes a file name cannot hold become '_'. */
static void host_name(char *out, size_t cap)
{
    if (gethostname(out, cap - 1) != 0)
        snprintf(out, cap, "localhost");
    out[cap - 1] = 0;
    for (char *c = out; *c; c++)
        if (*c == '/' || (unsigned char)*c <= ' ' || (unsigned char)*c >= 127)
            *c = '_';
}

/* The temporary file beside path: "path.tmp", or with own "path.HOST.PID.tmp", which no other
 * process shares. */
static int tmp_path(char *tmp, size_t cap, const char *path, int own)
{
    char host[256];
    if (own)
        host_name(host, sizeof host);
    const int n = own ? snprintf(tmp, cap, "%s.%s.%ld.tmp", path, host, (long)getpid())
                      : snprintf(tmp, cap, "%s.tmp", path);
    return n < 0 || n >= (int)cap ? jn_fail("%s: path too long", path) : 0;
}

/* Removes what a crash or anyone left at tmp: 0, or the errno of the unlink that failed. */
static int clear_tmp(const char *tmp)
{
    return unlink(tmp) == 0 || errno == ENOENT ? 0 : errno;
}

/* The temporary file of path's write (with own, one of this process's own) into tmp, a stale
 * one removed first, so that O_EXCL creates a new one: opened as it was, a symbolic link left
 * at its name was written through (to the file it names, which the rename then made path point
 * to), and a FIFO waited for a reader for ever. With may_own, another user's FILE.tmp in a
 * sticky folder (/tmp), which cannot be removed, gives way to a name of this process's own:
 * the write succeeds, where it failed after the work. A staged write may not take it, for its
 * commit finds "path.tmp" again. */
static int fresh_tmp(char *tmp, size_t cap, const char *path, int own, int may_own)
{
    if (tmp_path(tmp, cap, path, own))
        return -1;
    int e = clear_tmp(tmp);
    if (e && !own && may_own) {
        if (tmp_path(tmp, cap, path, 1))
            return -1;
        e = clear_tmp(tmp);
    }
    return e ? jn_fail("%s: cannot remove the stale %s: %s", path, tmp, strerror(e)) : 0;
}

/* Writes the pieces, one after another, to tmp (the temporary file of path, cleared), fsync'ed
 * with sync. */
static int write_tmp(const char *path, const char *tmp, const jn_piece *pieces, int n_pieces, int sync)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return jn_fail("%s: cannot create %s: %s", path, tmp, strerror(errno));
    /* One writev for all the pieces; a short write goes on from where it stopped. */
    struct iovec iov[JN_MAX_PIECES + 1];
    size_t len = 0, done = 0;
    for (int k = 0; k < n_pieces; k++) {
        iov[k] = (struct iovec){(void *)pieces[k].data, pieces[k].len};
        len += pieces[k].len;
    }
    for (int k = 0; done < len;) {
        ssize_t w = writev(fd, iov + k, n_pieces - k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            close(fd);
            unlink(tmp);
            return jn_fail("%s: write failed after %zu of %zu bytes: %s (%s)", path, done, len,
                           strerror(e), what_is_kept(path));
        }
        done += (size_t)w;
        for (size_t left = (size_t)w; left > 0;) {  /* past what was written */
            const size_t step = left < iov[k].iov_len ? left : iov[k].iov_len;
            iov[k].iov_base = (unsigned char *)iov[k].iov_base + step;
            iov[k].iov_len -= step;
            left -= step;
            if (iov[k].iov_len == 0)
                k++;
        }
        while (k < n_pieces && iov[k].iov_len == 0)  /* empty pieces */
            k++;
    }
    if (sync && fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return jn_fail("%s: fsync failed: %s (%s)", path, strerror(e), what_is_kept(path));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return jn_fail("%s: close failed: %s (%s)", path, strerror(e), what_is_kept(path));
    }
    return 0;
}

/* Whether a failed link() says the file system has no hard links (vfat, some FUSE and SMB
 * mounts), not that this one could not be made. */
static int no_links(int e)
{
    return e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS;
}

/* Gives the synced tmp the name path where path does not exist, so that of writers racing to
 * create path one wins: a hard link, or on a file system without, a rename that refuses to
 * replace (on SMB 2 and 3 only among this machine's writers: Linux checks the name locally,
 * then sends a rename that replaces; nothing else creates a file there whole and once, and the
 * README says so). 0, 1 where path exists (untouched), -1 (recorded). */
static int place_new(const char *tmp, const char *path)
{
    if (link(tmp, path) == 0)
        return 0;
    const int e = errno;
    if (e == EEXIST)
        return 1;
    if (!no_links(e))
        return jn_fail("%s: link failed: %s (%s)", path, strerror(e), what_is_kept(path));
#if defined(__linux__) && defined(RENAME_NOREPLACE)
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    const int r = errno;
#else
    const int r = ENOSYS;
#endif
    if (r == EEXIST)
        return 1;
    if (r != EINVAL && r != ENOSYS)
        return jn_fail("%s: rename failed: %s (%s)", path, strerror(r), what_is_kept(path));
    return jn_fail("%s: the file system has neither hard links (%s) nor renames that refuse to replace a file, one "
                   "of which creating it once needs; use a folder on another file system (%s)", path, strerror(e),
                   what_is_kept(path));
}

/* Writes the pieces to the temporary file (with own, one of this process's own), synced, then
 * renames it over path; with exclusive, gives it the name path only where that does not exist
 * (place_new: 1 where it does). */
static int write_atomic(const char *path, int own, const jn_piece *pieces, int n_pieces, int exclusive)
{
    char tmp[PATH_MAX];
    if (fresh_tmp(tmp, sizeof tmp, path, own, 1) || write_tmp(path, tmp, pieces, n_pieces, 1))
        return -1;
    if (exclusive) {
        const int rc = place_new(tmp, path);
        unlink(tmp);  /* the link's other name, or what failed to be placed */
        return rc ? rc : fsync_parent(path);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return jn_fail("%s: rename failed: %s (%s)", path, strerror(e), what_is_kept(path));
    }
    return fsync_parent(path);
}

/* One buffer written atomically: the three public forms below differ only in these flags. */
static int write_whole(const char *path, const void *data, size_t len, int own_tmp, int exclusive)
{
    const jn_piece all = {data, len};
    return write_atomic(path, own_tmp, &all, 1, exclusive);
}

int jn_write_file_atomic(const char *path, const void *data, size_t len)
{
    return write_whole(path, data, len, 0, 0);
}

int jn_write_pieces_atomic_crc(const char *path, const jn_piece *pieces, int n)
{
    jn_piece all[JN_MAX_PIECES + 1];
    if (n > JN_MAX_PIECES)
        return jn_fail("%s: %d pieces, more than %d", path, n, JN_MAX_PIECES);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int k = 0; k < n; k++) {
        crc = crc_update(crc, pieces[k].data, pieces[k].len);
        all[k] = pieces[k];
    }
    unsigned char trailer[4];
    for (int i = 0; i < 4; i++)
        trailer[i] = (unsigned char)(crc >> (8 * i));
    all[n] = (jn_piece){trailer, sizeof trailer};
    return write_atomic(path, 0, all, n + 1, 0);
}

int jn_write_file_atomic_shared(const char *path, const void *data, size_t len)
{
    return write_whole(path, data, len, 1, 0);
}

int jn_write_file_new(const char *path, const void *data, size_t len)
{
    return write_whole(path, data, len, 1, 1);
}

int jn_write_file_staged(const char *path, const void *data, size_t len)
{
    char tmp[PATH_MAX];
    const jn_piece all = {data, len};
    /* A stale "path.tmp" a killed merge left goes, as in write_atomic. */
    return fresh_tmp(tmp, sizeof tmp, path, 0, 0) || write_tmp(path, tmp, &all, 1, 0) ? -1 : 0;
}

int jn_commit_staged(const char *path)
{
    char tmp[PATH_MAX];
    if (tmp_path(tmp, sizeof tmp, path, 0))
        return -1;
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return jn_fail("%s: rename failed: %s (%s)", path, strerror(e), what_is_kept(path));
    }
    return 0;
}

void jn_drop_staged(const char *path)
{
    char tmp[PATH_MAX];
    if (!tmp_path(tmp, sizeof tmp, path, 0))
        unlink(tmp);
}

#if defined(__linux__)
/* Whether syncfs says when a write-back failed: Linux's from 5.8 on; before, it returned 0. */
static int syncfs_reports_errors(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    return uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
           (major > 5 || (major == 5 && minor >= 8));
}
#endif

int jn_sync_fs(const char *folder, const char *entry)
{
#if defined(__linux__)
    if (!syncfs_reports_errors())
        return 1;
    int via_entry, fd = open_to_sync(folder, entry, &via_entry);
    if (fd < 0 && errno == EACCES)
        return 1;
    if (fd < 0)
        return jn_fail("%s: cannot open folder to sync: %s", folder, strerror(errno));
    int rc = syncfs(fd);
    int e = errno;
    close(fd);
    return rc ? jn_fail("%s: cannot sync its file system: %s", folder, strerror(e)) : 0;
#else  /* sync() says nothing of a failed write-back either */
    (void)folder;
    (void)entry;
    return 1;
#endif
}

int jn_sync_staged(const char *path)
{
    char tmp[PATH_MAX];
    if (tmp_path(tmp, sizeof tmp, path, 0))
        return -1;
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return jn_fail("%s: cannot open %s to sync: %s", path, tmp, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    return rc ? jn_fail("%s: fsync failed: %s (%s)", path, strerror(e), what_is_kept(path)) : 0;
}

/* The pid in name where it is "NAME.HOST.PID.tmp" for this host (NAME not empty), else 0. */
static long own_tmp_pid(const char *name, const char *host)
{
    const size_t len = strlen(name), hlen = strlen(host);
    if (len < 4 || strcmp(name + len - 4, ".tmp") != 0)
        return 0;
    size_t digits = 0;
    while (digits < len - 4 && digits < 10 && name[len - 5 - digits] >= '0' && name[len - 5 - digits] <= '9')
        digits++;
    const size_t dot = len - 5 - digits;  /* the '.' before the pid */
    if (!digits || digits >= len - 4 || name[dot] != '.' || dot < hlen + 2 || name[dot - hlen - 1] != '.' ||
        strncmp(name + dot - hlen, host, hlen) != 0)
        return 0;
    return strtol(name + dot + 1, NULL, 10);
}

void jn_tmp_sweep(const char *dir)
{
    char host[256];
    host_name(host, sizeof host);
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const long pid = own_tmp_pid(e->d_name, host);
        /* EPERM: another user's process, alive. A pid reused since keeps the file: never a
         * live writer's is removed, at worst a dead one's stays. */
        if (pid > 0 && pid <= INT_MAX && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* How long an exclusive lock refused by shared holders alone is tried again, in 10 ms waits:
 * those (show, a sweep's status) hold it for an instant, and a trainer starting then was refused
 * as if another trained there. */
#define READER_WAITS 100

/* flock without waiting on `path`, opened with flags (O_CREAT: made where missing): 0 with *fd,
 * 1 when another process holds it, 0 with *fd = -1 where the file system has no locks or
 * (shared) there is no file; *made (made may be NULL) 1 where this call made the file and
 * returned 0, so that no other process's lock file is taken for its own. A lock taken on a
 * file its holder removed in the meantime (jn_unlock_remove) is no lock on the file now at
 * path: it is taken again there. An exclusive lock that only shared locks stand in the way of
 * (a shared one is granted beside them) is tried again, READER_WAITS times at most. */
static int lock_path(const char *path, int flags, int how, int *fd, int *made)
{
    const int create = (flags & O_CREAT) != 0;
    int waits = 0, made_before = 0;  /* made_before: this call made the file, then waited */
    *fd = -1;
    if (made)
        *made = 0;
    for (;;) {
        int f = open(path, flags | (create ? O_EXCL : 0) | O_CLOEXEC, 0644), created = f >= 0 && create;
        if (f < 0 && errno == EEXIST) {
            f = open(path, (flags & ~O_CREAT) | O_CLOEXEC);
            if (f < 0 && errno == ENOENT)
                continue;  /* removed between the two opens */
        }
        if (f < 0)
            return errno == ENOENT && !create ? 0 : jn_fail("%s: cannot open (%s)", path, strerror(errno));
        struct stat held, there;
        if (flock(f, how | LOCK_NB) != 0) {
            const int err = errno;
            const int readers = err == EWOULDBLOCK && how == LOCK_EX && waits < READER_WAITS &&
                                flock(f, LOCK_SH | LOCK_NB) == 0;
            close(f);  /* releases the shared lock too */
            if (readers) {
                made_before |= created;
                waits++;
                nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
                continue;
            }
            if (err == EWOULDBLOCK)
                return 1;
        } else if (fstat(f, &held) == 0 && stat(path, &there) == 0 && held.st_dev == there.st_dev &&
                   held.st_ino == there.st_ino) {
            *fd = f;
        } else {
            close(f);
            made_before = 0;  /* the file at path now is another */
            if (!create && access(path, F_OK) != 0)
                return 0;
            continue;
        }
        if (made)
            *made = created || made_before;
        return 0;
    }
}

int jn_lock_file(const char *path, int *fd, int *made)
{
    return lock_path(path, O_RDWR | O_CREAT, LOCK_EX, fd, made);
}

int jn_lock_file_shared(const char *path, int *fd)
{
    return lock_path(path, O_RDONLY, LOCK_SH, fd, NULL);
}

void jn_unlock_remove(const char *path, int fd)
{
    unlink(path);  /* still held: a process that opened it before sees it gone once it locks */
    if (fd >= 0)
        close(fd);
}

int jn_write_all(int fd, const void *data, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : ENOSPC;
        done += (size_t)w;
    }
    return 0;
}

int jn_append_line(const char *path, const char *line)
{
    /* A file this call creates is a new entry in its folder: synced as a rename's is, or a
     * power cut could lose the whole file (a sweep's DIR/shards), fsynced lines and all. */
    int created = 1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        created = 0;
        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    }
    if (fd < 0)
        return jn_fail("%s: cannot open for appending: %s", path, strerror(errno));
    const int failed = jn_write_all(fd, line, strlen(line));
    if (failed) {
        close(fd);
        return jn_fail("%s: append failed: %s", path, strerror(failed));
    }
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc)
        return jn_fail("%s: fsync failed: %s", path, strerror(e));
    return created ? fsync_parent(path) : 0;
}

/* jn_mkdirs, each folder made synced only with sync. */
static int make_folders(const char *path, int sync)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf)
        return jn_fail("%s: path too long", path);
    strcpy(buf, path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;
            *p = 0;
            /* A folder made is an entry in its parent, synced as a rename's is: else a power
             * cut could lose a run folder whose files were all synced. */
            if (mkdir(buf, 0755) == 0) {
                if (sync && fsync_parent(buf))
                    return -1;
            } else if (errno != EEXIST) {
                return jn_fail("%s: cannot create folder: %s", buf, strerror(errno));
            }
            *p = saved;
            if (!saved)
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return jn_fail("%s: not a folder", path);
    return 0;
}

int jn_mkdirs(const char *path)
{
    return make_folders(path, 1);
}

int jn_mkdirs_staged(const char *path)
{
    return make_folders(path, 0);
}

int jn_tmp_check(const char *option, const char *path)
{
    char tmp[PATH_MAX];
    struct stat st;
    if (tmp_path(tmp, sizeof tmp, path, 0))
        return -1;
    /* Anything else there is what a crash left, removed by the write; a folder would fail it
     * at its end, after the work, and every time after. */
    if (lstat(tmp, &st) == 0 && S_ISDIR(st.st_mode))
        return jn_fail("%s%s%s: %s is a folder, in the place of the temporary file the write goes through; remove it",
                       option ? option : "", option ? " " : "", path, tmp);
    return 0;
}

/* The sticky bit, an XSI name that _POSIX_C_SOURCE alone does not give; 01000 everywhere. */
#ifndef S_ISVTX
#define S_ISVTX 01000
#endif

int jn_output_file_check(const char *option, const char *path, const char *other_option, const char *other)
{
    struct stat st, other_st;
    const int exists = lstat(path, &st) == 0;
    const uid_t owner = exists ? st.st_uid : 0;
    if (exists) {
        /* The write renames a new file over the path: a link would become a plain file, and
         * a FIFO or device would be replaced, not written to. */
        if (S_ISDIR(st.st_mode))
            return jn_fail("%s %s: is a folder; give a file name", option, path);
        if (S_ISLNK(st.st_mode))
            return jn_fail("%s %s: is a symbolic link, which the write would replace; give the file it points to",
                           option, path);
        if (!S_ISREG(st.st_mode))
            return jn_fail("%s %s: not a regular file; give a file name", option, path);
        if (other && *other && stat(other, &other_st) == 0 && other_st.st_dev == st.st_dev &&
            other_st.st_ino == st.st_ino)
            return jn_fail("%s %s: is the %s file; writing it would destroy that", option, path, other_option);
    }
    char dir[PATH_MAX];
    if (parent_folder(path, dir, sizeof dir))
        return jn_fail("%s %s: path too long", option, path);
    int missing = stat(dir, &st) != 0 ? errno : 0;
    /* A file further up (FILE/sub/x) is named as FILE/x's is: it said "no folder FILE/sub". */
    while (missing == ENOTDIR) {
        char up[PATH_MAX];
        parent_folder(dir, up, sizeof up);  /* shorter than dir: it fits */
        if (!strcmp(up, dir))
            break;
        memcpy(dir, up, strlen(up) + 1);
        missing = stat(dir, &st) != 0 ? errno : 0;
    }
    if (missing)
        return jn_fail("%s %s: no folder %s to write it in", option, path, dir);
    if (!S_ISDIR(st.st_mode))  /* it said "no folder FILE", as if FILE were not there */
        return jn_fail("%s %s: %s is not a folder", option, path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return jn_fail("%s %s: cannot write in folder %s: %s", option, path, dir, strerror(errno));
    /* In a sticky folder (/tmp) only the file's owner, the folder's or root may replace a file:
     * the rename failed after the work ('Operation not permitted'). */
    const uid_t me = geteuid();
    if (exists && (st.st_mode & S_ISVTX) && owner != me && st.st_uid != me && me != 0)
        return jn_fail("%s %s: is another user's file in a sticky folder (%s), which only they may replace; give "
                       "another name", option, path, dir);
    /* The write goes through NAME.tmp beside it, or NAME.HOST.PID.tmp where a stale NAME.tmp
     * cannot be removed: a name with no room for the longer one failed only after the work. */
    char tmp[PATH_MAX];
    if (tmp_path(tmp, sizeof tmp, path, 1))
        return jn_fail("%s %s: path too long for the temporary file the write goes through", option, path);
    const size_t suffix = strlen(tmp) - strlen(path);
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    errno = 0;
    const long name_max = pathconf(dir, _PC_NAME_MAX);
    if (name_max < 0 && errno)
        return jn_fail("%s %s: cannot read the longest file name of folder %s: %s", option, path, dir,
                       strerror(errno));
    if (name_max >= 0 && strlen(name) + suffix > (size_t)name_max)
        return jn_fail("%s %s: the name is too long for the temporary file NAME.HOST.PID.tmp the write may "
                       "go through (%ld characters at most here)", option, path, name_max - (long)suffix);
    return jn_tmp_check(option, path);
}

int jn_path_join(char *out, size_t cap, const char *dir, const char *name)
{
    /* "DIR/" (as typed, or completed by a shell) gives DIR/name: the path is kept in config.txt. */
    const char *folder = dir ? dir : "", *sep = *folder && folder[strlen(folder) - 1] != '/' ? "/" : "";
    int n = snprintf(out, cap, "%s%s%s", folder, sep, name);
    if (n < 0 || (size_t)n >= cap)
        return jn_fail("%s%s%s: path too long", folder, sep, name);
    return 0;
}
