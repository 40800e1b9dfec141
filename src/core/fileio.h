/* File helpers: atomic replacement (temporary file, fsync, rename), whole-file reads, and a
 * little-endian byte buffer / cursor pair used by the binary formats (checkpoint, step
 * state). Every failure records one line naming the file and what failed. */
#ifndef JACNOISE_FILEIO_H
#define JACNOISE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A growable byte buffer that serialises scalars little-endian. A failed allocation is
 * remembered and reported by jn_buf_ok(), so writers need not check every put. */
typedef struct {
    unsigned char *data;
    size_t len, cap;
    int oom;
} jn_buf;

void jn_buf_put(jn_buf *b, const void *p, size_t n);
void jn_buf_u8(jn_buf *b, uint8_t v);
void jn_buf_u32(jn_buf *b, uint32_t v);
void jn_buf_u64(jn_buf *b, uint64_t v);
void jn_buf_f64(jn_buf *b, double v);
void jn_buf_f32_array(jn_buf *b, const float *v, size_t n);
void jn_buf_f64_array(jn_buf *b, const double *v, size_t n);
/* Appends the zlib CRC-32 of everything written so far. */
void jn_buf_crc(jn_buf *b);
int jn_buf_ok(const jn_buf *b, const char *what);
void jn_buf_free(jn_buf *b);

/* A run of bytes in memory: a file written from pieces (jn_write_pieces_atomic_crc) needs no
 * copy of its arrays in one buffer. */
typedef struct {
    const void *data;
    size_t len;
} jn_piece;
#define JN_MAX_PIECES 8

/* n values as the formats store them (little-endian): the array itself on a little-endian
 * host, else a converted copy in scratch, an empty buffer of the caller's (freed by it, and
 * not written to again while the piece is in use). */
jn_piece jn_f32_piece(const float *v, size_t n, jn_buf *scratch);
jn_piece jn_f64_piece(const double *v, size_t n, jn_buf *scratch);
/* The CRC-32 (zlib; 0 to start) continued over n values of `width` bytes as the formats store
 * them (little-endian), whatever the host's byte order. */
uint32_t jn_crc32_values(uint32_t crc, const void *v, size_t n, size_t width);

/* A bounds-checked reader over bytes in memory; errors name the file and byte offset. */
typedef struct {
    const unsigned char *data;
    size_t len, off;
    const char *path;
} jn_cursor;

int jn_cur_bytes(jn_cursor *c, void *out, size_t n, const char *what);
int jn_cur_u8(jn_cursor *c, uint8_t *v, const char *what);
int jn_cur_u32(jn_cursor *c, uint32_t *v, const char *what);
int jn_cur_u64(jn_cursor *c, uint64_t *v, const char *what);
int jn_cur_f64(jn_cursor *c, double *v, const char *what);
int jn_cur_f32_array(jn_cursor *c, float *v, size_t n, const char *what);
int jn_cur_f64_array(jn_cursor *c, double *v, size_t n, const char *what);
/* Checks that the last 4 bytes of the cursor's data are the CRC-32 of the rest. */
int jn_cur_check_crc(const jn_cursor *c);
/* The same check, without a failure recorded: 1 where they are (0 for fewer than 4 bytes). */
int jn_cur_crc_matches(const jn_cursor *c);
/* Reads a format version (u32) and refuses one outside oldest..reads, naming the format
 * ("checkpoint") and adding `older` (NULL: nothing) for an older one, "written by a newer
 * jacnoise" for a newer one; a file whose checksum
 * fails too is refused as corrupt. */
int jn_cur_version(jn_cursor *c, uint32_t *version, uint32_t oldest, uint32_t reads, const char *format,
                   const char *older);
/* Refuses data shorter than `expected`, the size its header implies (exactly, or at least
 * where the header is cut too): "truncated" says more than a checksum mismatch. */
int jn_cur_check_size(const jn_cursor *c, uint64_t expected, int exact);
/* Refuses data longer than `size`, where its header says a `format` ("checkpoint") ends:
 * bytes added after a whole file, counted. */
int jn_cur_check_end(const jn_cursor *c, uint64_t size, const char *format);

/* Reads a whole file. *data must be freed by the caller. */
int jn_read_file(const char *path, unsigned char **data, size_t *len);
/* The same for a file of at most max bytes (a whole number of MiB): a larger one is refused
 * ("larger than N MiB") before anything is read; one whose size says 0 (a /proc file's) is read
 * to its end, and refused once past max. */
int jn_read_file_max(const char *path, size_t max, unsigned char **data, size_t *len);
/* Reads the first n bytes of a regular file into out, fewer where it is shorter (*got): a
 * reader checks a magic number before reading what may be gigabytes of something else. */
int jn_read_head(const char *path, unsigned char *out, size_t n, size_t *got);
/* 0 where path holds nothing an output would lose there (no file, an empty one but a run's
 * lock file) or begins with head, n bytes (after a byte-order mark: a spreadsheet's or editor's
 * save); else refused: "OPTION PATH: exists and is not WHAT; give another file, or remove it". */
int jn_output_replaceable(const char *option, const char *path, const char *head, size_t n, const char *what);

/* Replaces path with the given bytes atomically: written to "path.tmp", flushed, fsync'ed,
 * renamed over path, and the folder fsync'ed. On failure path is untouched and the
 * temporary file removed. A path.tmp this process cannot remove (another user's, in a sticky
 * folder such as /tmp) is left, the write going through "path.HOST.PID.tmp" instead. */
int jn_write_file_atomic(const char *path, const void *data, size_t len);

/* The same for the concatenation of n <= JN_MAX_PIECES pieces followed by their CRC-32
 * (4 bytes, little-endian: the binary formats' trailer). */
int jn_write_pieces_atomic_crc(const char *path, const jn_piece *pieces, int n);

/* The same for a file several processes may replace at once (a sweep's results.csv): the
 * temporary file is "path.PID.tmp", so writers never share one; the last rename wins. */
int jn_write_file_atomic_shared(const char *path, const void *data, size_t len);

/* Creates path, complete or not at all, only where it does not exist: 1 (path untouched)
 * where it does, also when another process created it first (a sweep's sweep.spec). */
int jn_write_file_new(const char *path, const void *data, size_t len);

/* Removes the "NAME.HOST.PID.tmp" files in dir that processes of this host which no longer
 * run left (killed inside a write), never a live writer's, here or on another host; best
 * effort: what it cannot read or remove stays. */
void jn_tmp_sweep(const char *dir);

/* Staged writes, for many files made durable at once (a merge of 10,000 run folders spent 292 s
 * on the two syncs each jn_write_file_atomic takes): jn_write_file_staged writes the
 * bytes to "path.tmp", not synced; jn_sync_fs makes them durable (where it cannot, jn_sync_staged
 * each); jn_commit_staged then renames "path.tmp" over path, atomic as jn_write_file_atomic's
 * rename (a crash leaves the old file or the new one, whole), and a last jn_sync_fs (or
 * jn_sync_folder of each folder) makes the renames durable. jn_drop_staged removes
 * "path.tmp" of a write that is not to be committed. */
int jn_write_file_staged(const char *path, const void *data, size_t len);
int jn_commit_staged(const char *path);
void jn_drop_staged(const char *path);

/* Makes every write, rename and folder made so far on the file system holding `folder` durable
 * with one syncfs, through entry (NULL: none), a file or folder in it, where the folder cannot
 * be opened (mode 0333): 0, or 1 where it cannot be so synced, neither opening, or syncfs being
 * one that does not report a failed write-back (Linux before 5.8, or not Linux): the caller
 * then syncs each file (jn_sync_staged) and folder (jn_sync_folder). */
int jn_sync_fs(const char *folder, const char *entry);
/* fsyncs "path.tmp", the staged write of path. */
int jn_sync_staged(const char *path);
/* fsyncs a folder, making the renames and folders made in it durable; one that cannot be
 * opened (mode 0333) is synced through entry (not NULL), what was renamed or made in it (syncfs
 * of their file system), and where that cannot be opened either is passed over with a warning
 * (once a process), as are file systems that refuse fsync on folders. */
int jn_sync_folder(const char *dir, const char *entry);

/* Writes all len bytes to fd, going on after a short write or a signal: 0, or the errno of
 * the write that failed (ENOSPC for one that wrote nothing). */
int jn_write_all(int fd, const void *data, size_t len);

/* Appends one line to a file and fsyncs it; a file it creates has its folder synced too
 * (metrics.jsonl, a sweep's DIR/shards). */
int jn_append_line(const char *path, const char *line);

/* Takes an exclusive flock on `path` (created if missing) without waiting, kept until *fd is
 * closed: 0 with *fd (-1 where the file system has no locks: the caller goes on unlocked), 1
 * when another process holds it, -1 on error. Shared holders alone (show, a sweep's status:
 * an instant each) are waited for, a second at most. *made (made may be NULL) is 1 where this call
 * created the file and returned 0, else 0. */
int jn_lock_file(const char *path, int *fd, int *made);

/* Takes a shared flock on an existing `path`, opened read-only (a folder one may only read),
 * likewise: 0 also where there is no such file (nothing has locked it, *fd -1). */
int jn_lock_file_shared(const char *path, int *fd);

/* Removes the lock file `path` whose lock fd holds (-1: none, unlocked file system), then
 * releases it: a process that opened it before takes its lock on the file made again
 * (jn_lock_file checks the file it locked is the one at path). */
void jn_unlock_remove(const char *path, int fd);

/* Creates a folder (and its parents) if it does not exist, fsync'ing the folder each one
 * made is in. */
int jn_mkdirs(const char *path);
/* The same, the folders made left for jn_sync_fs to make durable. */
int jn_mkdirs_staged(const char *path);

/* Before any work, refuses a folder at path.tmp, the temporary file the write of path goes
 * through, which the write could not remove (a file there, a crash's, it removes); the
 * message begins "option path" (option NULL: the path alone). */
int jn_tmp_check(const char *option, const char *path);

/* Before any work, whether a command can write its output file `path` (given as `option`):
 * absent or a regular file (not a folder, link, FIFO or device) it may replace (not another
 * user's in a sticky folder), in an existing folder it may write in, with room in its name for the write's ".tmp" and no folder there (jn_tmp_check),
 * and not the same file as `other`
 * (given as `other_option`; NULL or "" for none), a file the command reads or also writes. */
int jn_output_file_check(const char *option, const char *path, const char *other_option, const char *other);

/* Joins a folder and a file name, with one '/' where the folder ends with one; fails if the
 * result does not fit. */
int jn_path_join(char *out, size_t cap, const char *dir, const char *name);

#endif
