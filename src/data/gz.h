/* Errors of the gzip reads the IDX and USPS loaders share. Internal to src/data. */
#ifndef JACNOISE_DATA_GZ_H
#define JACNOISE_DATA_GZ_H

#include "jacnoise/error.h"

#include <string.h>
#include <zlib.h>

/* zlib's text for the stream's error state, "" if none, without the path zlib starts it with. */
static inline const char *jn_gz_error(gzFile f, const char *path, int *errnum)
{
    const char *msg = gzerror(f, errnum);
    const size_t len = strlen(path);
    if (*errnum == Z_OK)
        return "";
    return strncmp(msg, path, len) == 0 && strncmp(msg + len, ": ", 2) == 0 ? msg + len + 2
                                                                             : msg;
}

/* Fails for a stream zlib could not read or found corrupt. zlib drops what the failing read
 * decoded (a whole buffer: for a small file, all of it), so no decoded offset or line locates
 * the damage; the byte of the file zlib's input had reached does (unknown in a pipe). */
static inline int jn_gz_fail(gzFile f, const char *path)
{
    int errnum;
    const char *msg = jn_gz_error(f, path, &errnum);
    const long long next = (long long)gzoffset(f); /* the first byte zlib has not taken */
    if (next < 0)
        return jn_fail("%s: %s (zlib: %s)", path,
                       errnum == Z_ERRNO ? "read error" : "corrupt gzip data", msg);
    if (errnum == Z_ERRNO)
        return jn_fail("%s: byte %lld of the file: read error (zlib: %s)", path, next, msg);
    /* inflate hands back the whole bytes it has not used: the last one taken holds the bits it
     * failed on. */
    return jn_fail("%s: byte %lld of the compressed file: corrupt gzip data, found on reading it "
                   "(zlib: %s)",
                   path, next - 1, msg);
}

#endif
