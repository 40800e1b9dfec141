/* Every descriptor the file writes open is closed on exec: one inherited by a program started
 * meanwhile (a sweep's worker, a shell hook) kept a deleted temporary file's space in use, or a
 * run's metrics.jsonl open in a process that had nothing to do with it. The writes' own calls
 * on their descriptors (fsync, syncfs, write, writev) are wrapped by the linker (--wrap), so
 * that each descriptor is looked at while it is open. */
#define _GNU_SOURCE  /* syncfs */
#include "check.h"
#include "scratch.h"
#include "core/fileio.h"
#include "data/gz.h"
#include "jacnoise/error.h"

#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int seen, inherited;

/* Counts fd if it is one the writes opened (not stdin, stdout or stderr). */
static void look(int fd)
{
    if (fd <= STDERR_FILENO)
        return;
    seen++;
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || !(flags & FD_CLOEXEC))
        inherited++;
}

int __real_fsync(int fd);
int __real_syncfs(int fd);
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_writev(int fd, const struct iovec *iov, int n);

int __wrap_fsync(int fd)
{
    look(fd);
    return __real_fsync(fd);
}

int __wrap_syncfs(int fd)
{
    look(fd);
    return __real_syncfs(fd);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    look(fd);
    return __real_write(fd, buf, n);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
    look(fd);
    return __real_writev(fd, iov, n);
}

/* Runs one kind of write; each must open at least one descriptor and leave none to a child. */
static void expect_closed_on_exec(const char *what, int rc)
{
    CHECK(rc == 0, "%s failed: %s", what, jn_last_error());
    CHECK(seen > 0, "%s: no descriptor was looked at (the wrapping did not take)", what);
    CHECK(inherited == 0, "%s: %d of %d descriptors would be inherited by a program it started", what, inherited,
          seen);
    seen = inherited = 0;
}

int main(void)
{
    char folder[1024], path[1100], sub[1100];
    scratch_make(folder, sizeof folder, "jn_cloexec");
    snprintf(path, sizeof path, "%s/summary.json", folder);
    snprintf(sub, sizeof sub, "%s/a/b", folder);
    expect_closed_on_exec("jn_write_file_atomic", jn_write_file_atomic(path, "{}\n", 3));
    expect_closed_on_exec("jn_append_line", jn_append_line(path, "{}\n"));
    expect_closed_on_exec("jn_write_file_staged + jn_sync_staged",
                          jn_write_file_staged(path, "{}\n", 3) || jn_sync_staged(path));
    CHECK(jn_commit_staged(path) == 0, "jn_commit_staged failed: %s", jn_last_error());
    /* 1: syncfs does not report failed write-backs here (Linux before 5.8), nothing is opened */
    const int synced = jn_sync_fs(folder, NULL);
    if (synced != 1)
        expect_closed_on_exec("jn_sync_fs", synced);
    expect_closed_on_exec("jn_mkdirs", jn_mkdirs(sub));
    /* The data files are read through stdio: its FILE's descriptor too. */
    jn_gz g;
    REQUIRE(jn_gz_open(&g, path) == 0, "jn_gz_open failed: %s", jn_last_error());
    look(fileno(g.f));
    jn_gz_close(&g);
    expect_closed_on_exec("jn_gz_open", 0);
    scratch_end(folder);
    return check_exit();
}
