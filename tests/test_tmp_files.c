/* The temporary files atomic writes go through: another user's stale FILE.tmp in a sticky
 * folder (as in /tmp), which this process cannot remove, does not fail the write (it did, after
 * the work), nor is another user's file there, which the write cannot replace, refused only
 * after the work; and jn_tmp_sweep removes the own temporary files (NAME.HOST.PID.tmp) of this
 * host's dead processes only, never a live one's (another user's too), nor another host's; a
 * name with no room for that own temporary name is refused before the write; a failed rename
 * leaves no temporary file, and a file created once is not replaced. */
#include "check.h"
#include "scratch.h"
#include "core/fileio.h"
#include "jacnoise/error.h"

#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char folder[1024];

static void touch(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *f = fopen(path, "w");
    REQUIRE(f && fputs("stale", f) >= 0 && fclose(f) == 0, "%s: cannot create", path);
}

static int exists(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    return access(path, F_OK) == 0;
}

/* How many entries of the folder begin with prefix. */
static int count_prefixed(const char *prefix)
{
    DIR *d = opendir(folder);
    REQUIRE(d, "%s: cannot open", folder);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* jn_output_file_check of path as nobody: 0 passed, 1 refused as another user's file in a
 * sticky folder, 2 otherwise. */
static int checked_as_nobody(const char *path)
{
    const pid_t child = fork();
    REQUIRE(child >= 0, "fork");
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        if (jn_output_file_check("--dump", path, NULL, NULL) == 0)
            _exit(0);
        _exit(strstr(jn_last_error(), "another user's file in a sticky folder") ? 1 : 2);
    }
    int status;
    REQUIRE(waitpid(child, &status, 0) == child, "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Needs two users other than root (root may remove any file): the writer is a child that
 * becomes nobody, and the stale file belongs to another uid. */
static void sticky_folder(void)
{
    char sticky[1100], stale[1200], out[1150];
    snprintf(sticky, sizeof sticky, "%s/sticky", folder);
    snprintf(out, sizeof out, "%s/out.json", sticky);
    snprintf(stale, sizeof stale, "%s.tmp", out);
    REQUIRE(chmod(folder, 0755) == 0 && mkdir(sticky, 0777) == 0 && chmod(sticky, 01777) == 0, "%s", sticky);
    FILE *f = fopen(stale, "w");
    REQUIRE(f && fclose(f) == 0 && chown(stale, 65533, 65533) == 0, "%s: cannot create", stale);
    const pid_t child = fork();
    REQUIRE(child >= 0, "fork");
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        if (jn_write_file_atomic(out, "{}\n", 3) != 0) {
            fprintf(stderr, "%s\n", jn_last_error());
            _exit(1);
        }
        _exit(0);
    }
    int status;
    REQUIRE(waitpid(child, &status, 0) == child, "waitpid");
    unsigned char *data = NULL;
    size_t len = 0;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a write beside another user's stale %s failed (%d)",
          stale, status);
    CHECK(jn_read_file(out, &data, &len) == 0 && len == 3 && memcmp(data, "{}\n", 3) == 0, "%s: not written",
          out);
    free(data);
    struct stat st;
    CHECK(stat(stale, &st) == 0 && st.st_uid == 65533, "the other user's %s was changed", stale);
    DIR *d = opendir(sticky);
    REQUIRE(d, "%s", sticky);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        entries += e->d_name[0] != '.';
    closedir(d);
    CHECK(entries == 2, "%d files in %s: a temporary file was left", entries, sticky);
    /* nobody's own file there may be replaced; another user's cannot: refused before any work. */
    CHECK(checked_as_nobody(out) == 0, "nobody's own %s in a sticky folder was refused", out);
    REQUIRE(chown(out, 65533, 65533) == 0, "%s", out);
    CHECK(checked_as_nobody(out) == 1, "another user's %s in a sticky folder was not refused", out);
}

static void tmp_sweep(void)
{
    char host[256] = "", name[512];
    REQUIRE(gethostname(host, sizeof host - 1) == 0, "gethostname");
    for (const char *c = host; *c; c++)
        if (*c == '/' || (unsigned char)*c <= ' ' || (unsigned char)*c >= 127)
            return (void)printf("skipped jn_tmp_sweep: the host name %s is not a plain one\n", host);
    const pid_t dead = fork();  /* a pid no process has once it is reaped */
    REQUIRE(dead >= 0, "fork");
    if (dead == 0)
        _exit(0);
    REQUIRE(waitpid(dead, NULL, 0) == dead, "waitpid");
    snprintf(name, sizeof name, "results.csv.%s.%ld.tmp", host, (long)dead);
    touch(name);
    snprintf(name, sizeof name, "sweep.spec.%s.%ld.tmp", host, (long)dead);
    touch(name);
    snprintf(name, sizeof name, "results.csv.%s.%ld.tmp", host, (long)getpid());  /* a live writer's */
    touch(name);
    snprintf(name, sizeof name, "results.csv.other-%s.%ld.tmp", host, (long)dead);  /* another host's */
    touch(name);
    snprintf(name, sizeof name, "%s.%ld.tmp", host, (long)dead);  /* no NAME before HOST */
    touch(name);
    snprintf(name, sizeof name, "metrics.jsonl.%s.%ld.bak", host, (long)dead);  /* not a temporary file */
    touch(name);
    touch("notes.tmp");
    touch("results.csv.tmp");
    jn_tmp_sweep(folder);
    CHECK(count_prefixed("sweep.spec.") == 0, "a dead process's sweep.spec temporary file stayed");
    snprintf(name, sizeof name, "results.csv.%s.", host);
    CHECK(count_prefixed(name) == 1, "%d of this host's results.csv temporary files are left, not the live one's",
          count_prefixed(name));
    snprintf(name, sizeof name, "results.csv.%s.%ld.tmp", host, (long)getpid());
    CHECK(exists(name), "a live process's %s was removed", name);
    snprintf(name, sizeof name, "results.csv.other-%s.%ld.tmp", host, (long)dead);
    CHECK(exists(name), "another host's %s was removed", name);
    snprintf(name, sizeof name, "%s.%ld.tmp", host, (long)dead);
    CHECK(exists(name) && exists("notes.tmp") && exists("results.csv.tmp"), "a file of another name was removed");
    snprintf(name, sizeof name, "metrics.jsonl.%s.%ld.bak", host, (long)dead);
    CHECK(exists(name), "%s, not a temporary file, was removed", name);
}

/* A temporary file of a live process of another user (kill says EPERM, not ESRCH) is kept by a
 * sweep run as a third user: only a process that is gone gives its file away. Needs root to
 * make the two users. */
static void other_users_writer(void)
{
    char host[256] = "", name[1500], shared[1100];
    REQUIRE(gethostname(host, sizeof host - 1) == 0, "gethostname");
    for (const char *c = host; *c; c++)
        if (*c == '/' || (unsigned char)*c <= ' ' || (unsigned char)*c >= 127)
            return (void)printf("skipped another user's writer: the host name %s is not a plain one\n", host);
    snprintf(shared, sizeof shared, "%s/shared", folder);
    REQUIRE(chmod(folder, 0755) == 0 && mkdir(shared, 0777) == 0 && chmod(shared, 0777) == 0, "%s", shared);
    int stay[2];
    REQUIRE(pipe(stay) == 0, "pipe");
    const pid_t writer = fork();  /* alive, as nobody, until the pipe closes */
    REQUIRE(writer >= 0, "fork");
    if (writer == 0) {
        char c;
        close(stay[1]);
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        _exit(read(stay[0], &c, 1) < 0);
    }
    close(stay[0]);
    snprintf(name, sizeof name, "%s/results.csv.%s.%ld.tmp", shared, host, (long)writer);
    FILE *f = fopen(name, "w");
    REQUIRE(f && fclose(f) == 0, "%s: cannot create", name);
    const pid_t sweeper = fork();
    REQUIRE(sweeper >= 0, "fork");
    if (sweeper == 0) {
        if (setgid(65533) != 0 || setuid(65533) != 0)
            _exit(3);
        jn_tmp_sweep(shared);
        _exit(0);
    }
    int status;
    REQUIRE(waitpid(sweeper, &status, 0) == sweeper && WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "the sweeping child failed (%d)", status);
    CHECK(access(name, F_OK) == 0, "the live writer's %s was removed by another user's sweep", name);
    close(stay[1]);
    REQUIRE(waitpid(writer, &status, 0) == writer, "waitpid");
    unlink(name);
    rmdir(shared);
}

/* A name with room for NAME.tmp but not for this process's own NAME.HOST.PID.tmp, which the
 * write goes through where a stale NAME.tmp cannot be removed, is refused before any work: it
 * failed after the work. */
static void own_tmp_room(void)
{
    const long name_max = pathconf(folder, _PC_NAME_MAX);
    if (name_max < 5 || name_max > 1000)
        return (void)printf("skipped the own temporary name's room: %ld characters a name here\n", name_max);
    char name[1024], path[PATH_MAX];
    memset(name, 'n', (size_t)name_max - 4);
    name[name_max - 4] = 0;
    snprintf(path, sizeof path, "%s/%s", folder, name);
    CHECK(jn_output_file_check("--dump", path, NULL, NULL) != 0 && strstr(jn_last_error(), "NAME.HOST.PID.tmp"),
          "a name with no room for its NAME.HOST.PID.tmp was not refused: %s", jn_last_error());
    CHECK(!exists(name), "the refused %s was written", name);
}

/* A write that creates its file once (jn_write_file_new): it writes where there is none, and
 * where there is one says so (1) and leaves it as it was; neither leaves a temporary file. */
static void written_once(void)
{
    char path[PATH_MAX];
    unsigned char *data = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/once.spec", folder);
    CHECK(jn_write_file_new(path, "a\n", 2) == 0, "a first write: %s", jn_last_error());
    CHECK(jn_write_file_new(path, "b\n", 2) == 1, "a second write did not say the file was there: %s",
          jn_last_error());
    CHECK(jn_read_file(path, &data, &len) == 0 && len == 2 && !memcmp(data, "a\n", 2), "%s: not the first write's",
          path);
    free(data);
    CHECK(count_prefixed("once.spec.") == 0, "a temporary file of once.spec was left");
}

/* A write whose rename fails (a folder stands at the name) says so and leaves no temporary
 * file beside it, neither an atomic write's nor a staged one's at its commit. */
static void failed_rename(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/taken", folder);
    REQUIRE(mkdir(path, 0755) == 0, "%s: cannot create", path);
    CHECK(jn_write_file_atomic(path, "{}\n", 3) != 0 && strstr(jn_last_error(), "rename failed"),
          "an atomic write over a folder: %s", jn_last_error());
    CHECK(!exists("taken.tmp"), "a failed atomic write left taken.tmp");
    REQUIRE(jn_write_file_staged(path, "{}\n", 3) == 0, "%s", jn_last_error());
    CHECK(jn_commit_staged(path) != 0 && strstr(jn_last_error(), "rename failed"),
          "a staged write's commit over a folder: %s", jn_last_error());
    CHECK(!exists("taken.tmp"), "a failed commit left taken.tmp");
    rmdir(path);
}

int main(void)
{
    scratch_make(folder, sizeof folder, "jn_tmpfiles");
    if (geteuid() == 0) {
        sticky_folder();
        other_users_writer();
    } else {
        printf("skipped the sticky folder and another user's writer: only root can be other users\n");
    }
    tmp_sweep();
    own_tmp_room();
    failed_rename();
    written_once();
    scratch_end(folder);
    return check_exit();
}
