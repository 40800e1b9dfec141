/* A run folder's lock against readers: `jacnoise show` (or a sweep's status) holds RUN/lock
 * shared for an instant, and a trainer starting then was refused as if another process trained
 * there. jn_lock_file now tries again while shared holders alone stand in its way; a holder
 * that stays, or an exclusive one, still refuses it; one released by jn_unlock_remove is gone.
 * The reader below releases its lock once it sees the trainer's first attempt end (inotify: the
 * lock file, opened for writing, closed), so that the order does not rest on sleeps. */
#include "check.h"
#include "scratch.h"
#include "core/fileio.h"
#include "jacnoise/error.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

static char folder[1024], path[PATH_MAX];

/* Forks a holder of path's lock (how): it says so on the returned pipe, then releases the lock
 * on the first close of path by a writer (until_close), else once the pipe `stay` is closed. */
static pid_t holder(int how, int until_close, int stay[2])
{
    int up[2];
    REQUIRE(pipe(up) == 0, "pipe");
    const pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
        close(up[0]);
        close(stay[1]);
        const int fd = open(path, O_RDONLY), in = inotify_init1(0);
        if (fd < 0 || flock(fd, how | LOCK_NB) || in < 0 || inotify_add_watch(in, path, IN_CLOSE_WRITE) < 0)
            _exit(1);
        if (write(up[1], "h", 1) != 1)
            _exit(1);
        struct pollfd p = {until_close ? in : stay[0], POLLIN, 0};
        _exit(poll(&p, 1, 60 * 1000) == 1 ? 0 : 2);  /* the lock goes with the process */
    }
    close(up[1]);
    char c;
    REQUIRE(read(up[0], &c, 1) == 1, "the holder could not lock %s", path);
    close(up[0]);
    return pid;
}

/* What jn_lock_file gives beside a holder of path's lock `how` (see holder). */
static int lock_beside(int how, int until_close)
{
    int stay[2], fd = -1, status;
    REQUIRE(pipe(stay) == 0, "pipe");
    const pid_t pid = holder(how, until_close, stay);
    close(stay[0]);
    const int rc = jn_lock_file(path, &fd, NULL);
    if (fd >= 0)
        close(fd);
    close(stay[1]);
    REQUIRE(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "the holder of %s ended badly", path);
    return rc;
}

int main(void)
{
    scratch_make(folder, sizeof folder, "jn_lockread");
    snprintf(path, sizeof path, "%s/lock", folder);
    const int f = open(path, O_WRONLY | O_CREAT, 0644);
    REQUIRE(f >= 0 && close(f) == 0, "%s: cannot create", path);

    int rc = lock_beside(LOCK_SH, 1);
    CHECK(rc == 0, "a reader's instant: jn_lock_file gave %d (%s), expected 0: refused as if in use", rc,
          rc < 0 ? jn_last_error() : "held");
    rc = lock_beside(LOCK_SH, 0);
    CHECK(rc == 1, "a reader that stays: jn_lock_file gave %d, expected 1 (refused)", rc);
    rc = lock_beside(LOCK_EX, 0);
    CHECK(rc == 1, "a trainer: jn_lock_file gave %d, expected 1 (refused)", rc);
    /* A trainer that ends removes its lock file: the next takes a new one, and says it made it. */
    int fd = -1, made = 0;
    REQUIRE(jn_lock_file(path, &fd, &made) == 0 && fd >= 0, "jn_lock_file: %s", jn_last_error());
    jn_unlock_remove(path, fd);
    CHECK(access(path, F_OK) != 0, "%s stayed after jn_unlock_remove", path);
    CHECK(jn_lock_file(path, &fd, &made) == 0 && fd >= 0 && made, "a lock after the last was removed: not made anew");
    jn_unlock_remove(path, fd);

    scratch_end(folder);
    return check_exit();
}
