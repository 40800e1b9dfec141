/* The temporary files atomic writes go through: another user's stale FILE.tmp in a sticky
 * folder (as in /tmp), which this process cannot remove, does not fail the write (it did, after
 * the work). */
#include "check.h"
#include "core/fileio.h"
#include "jacnoise/error.h"

#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char folder[1024];

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
}

/* Removes a folder of files and folders of files. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    REQUIRE(d, "cannot list %s", dir);
    char path[PATH_MAX * 2];
    struct stat st;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            CHECK(unlink(path) == 0, "cannot remove %s", path);
    }
    closedir(d);
    CHECK(rmdir(dir) == 0, "cannot remove %s", dir);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("skipped: only root can give a file to another user\n");
        return CHECK_SKIP;
    }
    const char *base = getenv("TMPDIR");
    snprintf(folder, sizeof folder, "%s/jn_tmpfiles_XXXXXX", base && *base ? base : "/tmp");
    REQUIRE(mkdtemp(folder), "mkdtemp %s failed", folder);
    sticky_folder();
    if (check_may_remove(folder))
        remove_tree(folder);
    return check_exit();
}
