/* The checkpoint harness's seeds (corpus/checkpoint, given as the folder) hold each format
 * version the reader takes, JN_CHECKPOINT_OLDEST to JN_CHECKPOINT_VERSION: a version only the
 * fuzzer's mutations could make (a field inserted, the version changed) leaves its reading
 * all but unfuzzed. Where one is missing, it names it: run make_corpus.py again. */
#include "jacnoise/checkpoint.h"
#include "jacnoise/error.h"

#include <dirent.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: corpus_versions CHECKPOINT_CORPUS_FOLDER\n");
        return 2;
    }
    DIR *dir = opendir(argv[1]);
    if (!dir) {
        perror(argv[1]);
        return 1;
    }
    int seeded[JN_CHECKPOINT_VERSION + 1] = {0}, missing = 0;
    char path[4096];
    for (struct dirent *e; (e = readdir(dir));) {
        jn_checkpoint ck;
        if (e->d_name[0] == '.' || snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name) >= (int)sizeof path ||
            jn_checkpoint_read(path, &ck))
            continue;  /* a malformed seed is a seed too, of no version */
        seeded[ck.version] = 1;
        jn_checkpoint_free(&ck);
    }
    closedir(dir);
    for (int v = JN_CHECKPOINT_OLDEST; v <= JN_CHECKPOINT_VERSION; v++)
        if (!seeded[v]) {
            fprintf(stderr, "%s: no checkpoint of version %d, which jacnoise reads (tests/fuzz/make_corpus.py makes "
                    "one)\n", argv[1], v);
            missing++;
        }
    return missing != 0;
}
