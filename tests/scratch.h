/* A test's scratch folder: made fresh under $TMPDIR (else /tmp) for the files the test writes,
 * and removed with them at the end, unless a check failed (kept for a look, check.h). */
#ifndef JACNOISE_TEST_SCRATCH_H
#define JACNOISE_TEST_SCRATCH_H

#include "check.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes the folder "$TMPDIR/PREFIX_XXXXXX" into dir. */
static inline void scratch_make(char *dir, size_t cap, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, cap, "%s/%s_XXXXXX", base && *base ? base : "/tmp", prefix);
    REQUIRE(mkdtemp(dir), "mkdtemp %s failed", dir);
}

/* Removes a folder of files and folders of files. */
static inline void scratch_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    REQUIRE(d, "cannot list %s", dir);
    char path[PATH_MAX * 2];
    struct stat st;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        const int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        REQUIRE(n > 0 && (size_t)n < sizeof path, "%s/%s: path too long", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            scratch_remove_tree(path);
        else
            CHECK(unlink(path) == 0, "cannot remove %s", path);
    }
    closedir(d);
    CHECK(rmdir(dir) == 0, "cannot remove %s", dir);
}

/* The end of the test: the folder removed where every check passed. */
static inline void scratch_end(const char *dir)
{
    if (check_may_remove(dir))
        scratch_remove_tree(dir);
}

#endif
