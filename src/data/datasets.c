/* Named data sets (mnist, mnist-binary, usps, idx:IMAGES,LABELS), the search for their folder,
 * and the train / validation / test split.
 *
 * A named set's file NAME is accepted as NAME.gz or NAME; when both exist, NAME.gz is used
 * (it is what the official sources and datasets/fetch.sh provide). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "core/fileio.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 4

typedef enum { KIND_MNIST, KIND_USPS } set_kind;

typedef struct {
    const char *name;
    set_kind kind;
    int binary;                     /* pixels thresholded at 0.5 */
    const char *files[MAX_FILES];   /* train images, labels, test images, labels (USPS: 2) */
    int nfiles;
    long valid;                     /* default validation size */
} named_set;

#define MNIST_FILES                                                                      \
    {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", \
     "t10k-labels-idx1-ubyte"}

static const named_set named_sets[] = {
    {"mnist", KIND_MNIST, 0, MNIST_FILES, 4, 10000},
    {"mnist-binary", KIND_MNIST, 1, MNIST_FILES, 4, 10000},
    {"usps", KIND_USPS, 0, {"zip.train", "zip.test"}, 2, 1000},
};
#define N_NAMED ((int)(sizeof named_sets / sizeof named_sets[0]))
#define DATA_CHOICES "mnist, mnist-binary, usps or idx:IMAGES,LABELS"

/* The files one search looks for; gz (a named set's files): NAME.gz is accepted too (and
 * preferred). */
typedef struct {
    const char *what; /* for messages: "mnist", "--data idx:a,b" */
    const char *names[MAX_FILES];
    int n;
    int gz;
} file_list;

static const named_set *find_named(const char *data)
{
    for (int i = 0; i < N_NAMED; i++)
        if (strcmp(named_sets[i].name, data) == 0)
            return &named_sets[i];
    return NULL;
}

static int is_idx_spec(const char *s) { return strncmp(s, "idx:", 4) == 0; }

/* The names are lower case: "--data USPS" was refused with the list alone, its difference
 * from "usps" left to be spotted. */
static int unknown_set(const char *data)
{
    for (int i = 0; i < N_NAMED; i++)
        if (strcasecmp(named_sets[i].name, data) == 0)
            return jn_fail("--data %s: unknown data set (names are lower case: did you mean --data %s?)", data,
                           named_sets[i].name);
    return jn_fail("--data %s: unknown data set (expected " DATA_CHOICES ")", data);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* out = dir/name+suffix, or name+suffix when dir is "" (files used as given) or name is
 * absolute (an idx: pair may mix an absolute path with a name in the data folder). A dir that
 * ends in '/' (--data-dir data/, as the shell completes it) takes no second one: messages named
 * data//zip.train. */
static int join(char *out, size_t cap, const char *dir, const char *name, const char *suffix)
{
    if (name[0] == '/')
        dir = "";
    const char *sep = *dir && dir[strlen(dir) - 1] != '/' ? "/" : "";
    int len = snprintf(out, cap, "%s%s%s%s", dir, sep, name, suffix);
    if (len < 0 || (size_t)len >= cap)
        return jn_fail("%s%s%s%s: path too long (at most %zu bytes)", dir, sep, name, suffix, cap - 1);
    return 0;
}

/* Sets out to the path of `name` in dir (NAME.gz first when gz); 0 if found, -1 if not. */
static int locate(const char *dir, const char *name, int gz, char *out, size_t cap)
{
    if (gz && join(out, cap, dir, name, ".gz") == 0 && is_file(out))
        return 0;
    if (join(out, cap, dir, name, "") == 0 && is_file(out))
        return 0;
    return -1;
}

static int folder_has_all(const char *dir, const file_list *fl)
{
    char path[4096];
    for (int i = 0; i < fl->n; i++)
        if (locate(dir, fl->names[i], fl->gz, path, sizeof path))
            return 0;
    return 1;
}

/* Appends printf-style text to a message being built, truncating quietly. */
static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
}

/* Appends to msg what folder dir lacks of fl, so that the user sees which file to fetch, and
 * why a name that is there does not count (a folder, a broken link, no permission). */
static void append_lacks(char *msg, size_t cap, const char *dir, const file_list *fl)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        append(msg, cap, " (%s)", errno == ENOENT ? "no such folder" : strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        append(msg, cap, " (not a folder)");
        return;
    }
    char path[4096], note[4200] = "";
    int lacking = 0;
    for (int i = 0; i < fl->n; i++) {
        if (locate(dir, fl->names[i], fl->gz, path, sizeof path) == 0)
            continue;
        append(msg, cap, "%s%s%s", lacking++ ? ", " : " (lacks ", fl->names[i],
               fl->gz ? "[.gz]" : "");
        for (int form = fl->gz; form >= 0 && !note[0]; form--) {
            if (join(path, sizeof path, dir, fl->names[i], form ? ".gz" : ""))
                continue;
            if (stat(path, &st) == 0)
                snprintf(note, sizeof note, "; %s is %s", path,
                         S_ISDIR(st.st_mode) ? "a folder, not a file" : "not a regular file");
            else if (errno != ENOENT)
                snprintf(note, sizeof note, "; %s: %s", path, strerror(errno));
            else if (lstat(path, &st) == 0)
                snprintf(note, sizeof note, "; %s is a broken link", path);
        }
    }
    append(msg, cap, "%s)", note);
}

/* Finds the first folder holding every file of fl: data_dir alone if given, else
 * $JACNOISE_DATA, ./data, ../shared/datasets. dir_option: whether the command has --data-dir,
 * which the advice then offers (info has none: its advice named it, and info refused it). */
static int search_folders(const file_list *fl, const char *data_dir, int dir_option, char *out, size_t cap)
{
    const char *env = getenv("JACNOISE_DATA");
    const char *tried[3];
    int n = 0;
    if (data_dir && *data_dir) {
        /* Named as what it is: "cannot find the files in the folder" misleads for no folder. */
        struct stat st;
        if (stat(data_dir, &st) != 0)
            return jn_fail("%s: --data-dir %s: %s", fl->what, data_dir, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return jn_fail("%s: --data-dir %s: not a folder", fl->what, data_dir);
        tried[n++] = data_dir;
    } else {
        if (env && *env)
            tried[n++] = env;
        tried[n++] = "./data";
        tried[n++] = "../shared/datasets";
    }
    for (int i = 0; i < n; i++) {
        if (folder_has_all(tried[i], fl)) {
            if (strlen(tried[i]) >= cap)
                return jn_fail("%s: folder name too long (at most %zu bytes)", tried[i],
                               cap - 1);
            strcpy(out, tried[i]);
            return 0;
        }
    }

    char msg[1800] = "";
    append(msg, sizeof msg, "%s: cannot find ", fl->what);
    for (int i = 0; i < fl->n; i++)
        append(msg, sizeof msg, "%s%s%s", i ? ", " : "", fl->names[i], fl->gz ? "[.gz]" : "");
    if (data_dir && *data_dir) {
        append(msg, sizeof msg, " in the --data-dir folder %s", data_dir);
        append_lacks(msg, sizeof msg, data_dir, fl);
        append(msg, sizeof msg, ", the only folder searched when it is given");
    } else {
        append(msg, sizeof msg, " in any folder tried:");
        for (int i = 0; i < n; i++) {
            append(msg, sizeof msg, "%s %s%s", i ? "," : "", tried[i] == env ? "$JACNOISE_DATA=" : "",
                   tried[i]);
            append_lacks(msg, sizeof msg, tried[i], fl);
        }
        if (!env || !*env)  /* set empty, it is passed over as if unset: said as it is */
            append(msg, sizeof msg, env ? " ($JACNOISE_DATA is empty)" : " ($JACNOISE_DATA is not set)");
    }
    /* fetch.sh gets the named sets only (gz is set for them alone): no help for idx: files.
       Without DIR it fills the first folder this search tries (run from the same folder); a
       DIR it fills is searched only where --data-dir names it too. */
    char word[JN_SHELL_WORD_CAP(sizeof msg)];  /* any more is cut from msg */
    if (fl->gz && data_dir && *data_dir)
        append(msg, sizeof msg, "; download the public sets into that folder with "
               "datasets/fetch.sh %s, or give the folder that holds them", jn_shell_word(word, sizeof word, data_dir));
    else if (fl->gz)
        append(msg, sizeof msg, "; download the public sets with datasets/fetch.sh (into "
               "$JACNOISE_DATA, else ./data: run it from this folder), or %s",
               dir_option ? "give the folder that holds them with --data-dir DIR"
                          : "set $JACNOISE_DATA to the folder that holds them");
    else if (data_dir && *data_dir)
        append(msg, sizeof msg, "; relative names are looked for in --data-dir alone: give a file "
               "elsewhere by its absolute path");
    else
        append(msg, sizeof msg, "; give paths that exist from the current folder, or their "
               "folder with --data-dir DIR");
    return jn_fail("%s", msg);
}

/* Splits "idx:IMAGES,LABELS" (given with option `opt`) into its two paths. */
static int parse_idx_spec(const char *spec, const char *opt, char *images, char *labels,
                          size_t cap)
{
    /* Its body only past "idx:": a shorter value (--test foo) ends before spec + 4. */
    const int idx = is_idx_spec(spec);
    const char *body = idx ? spec + 4 : spec, *comma = idx ? strchr(body, ',') : NULL;
    if (!comma || comma == body || !comma[1] || strchr(comma + 1, ','))
        return jn_fail("%s %s: expected idx:IMAGES,LABELS (two IDX file names separated by one "
                       "comma)",
                       opt, spec);
    size_t ilen = (size_t)(comma - body), llen = strlen(comma + 1);
    if (ilen >= cap || llen >= cap)
        return jn_fail("%s %s: file name too long (at most %zu bytes)", opt, spec, cap - 1);
    memcpy(images, body, ilen);
    images[ilen] = '\0';
    memcpy(labels, comma + 1, llen + 1);
    return 0;
}

int jn_data_check_test(const char *test)
{
    char images[4096], labels[4096];
    return parse_idx_spec(test, "--test", images, labels, sizeof images);
}

int jn_data_check_names(const char *data, const char *test)
{
    char images[4096], labels[4096];
    if (!*data)
        return jn_fail("--data: no data set given (expected " DATA_CHOICES ")");
    if (!find_named(data) && !is_idx_spec(data))
        return unknown_set(data);
    if (is_idx_spec(data) && parse_idx_spec(data, "--data", images, labels, sizeof images))
        return -1;
    return *test ? jn_data_check_test(test) : 0;
}

/* The folder for an idx: pair: "" when both files are read as given, else the folder search.
 * A --data-dir is where relative names are looked for, the current folder not first: files of
 * the same names there would be read instead, the option given ignored without a word. */
static int find_idx_dir(const char *spec, const char *opt, const char *data_dir, char *out,
                        size_t cap)
{
    char images[4096], labels[4096], what[4200];
    if (parse_idx_spec(spec, opt, images, labels, sizeof images))
        return -1;
    const int dir_given = data_dir && *data_dir, absolute = images[0] == '/' && labels[0] == '/';
    if ((absolute || !dir_given) && is_file(images) && is_file(labels)) {
        out[0] = '\0';
        return 0;
    }
    /* An absolute path is looked for nowhere else: what is wrong with it is the whole story,
     * not every folder of the search "lacking" it. */
    const char *given[] = {images, labels};
    struct stat st;
    for (int i = 0; i < 2; i++)
        if (given[i][0] == '/' && stat(given[i], &st) != 0)
            return jn_fail("%s %s: %s: %s", opt, spec, given[i], strerror(errno));
    snprintf(what, sizeof what, "%s %.4096s%s", opt, spec, dir_given ? "" : " (not found as given)");
    file_list fl = {what, {images, labels}, 2, 0};
    if (search_folders(&fl, data_dir, 1, out, cap) == 0)
        return 0;
    /* A folder or FIFO given by name is there, not missing: say what it is (a relative name
     * with --data-dir is not looked for here: the search's message says what the folder lacks). */
    for (int i = 0; i < 2; i++)
        if ((!dir_given || given[i][0] == '/') && stat(given[i], &st) == 0 && !S_ISREG(st.st_mode))
            return jn_fail("%s %s: %s is %s", opt, spec, given[i],
                           S_ISDIR(st.st_mode) ? "a folder, not a file" : "not a regular file (a FIFO or device)");
    return -1;
}

long jn_data_default_valid(const char *data, long n_train_file)
{
    const named_set *set = find_named(data);
    return set ? set->valid : n_train_file / 10; /* idx: a tenth of the training file */
}

/* A named set's folder, as search_folders finds it. */
static int named_dir(const char *data, const char *data_dir, int dir_option, char *out, size_t cap)
{
    const named_set *set = find_named(data);
    if (!set)
        return unknown_set(data);
    file_list fl = {set->name, {0}, set->nfiles, 1};
    for (int i = 0; i < set->nfiles; i++)
        fl.names[i] = set->files[i];
    return search_folders(&fl, data_dir, dir_option, out, cap);
}

int jn_data_find_dir(const char *data, const char *data_dir, char *out, size_t cap)
{
    if (is_idx_spec(data))
        return find_idx_dir(data, "--data", data_dir, out, cap);
    return named_dir(data, data_dir, 1, out, cap);
}

int jn_data_find_default_dir(const char *data, char *out, size_t cap) { return named_dir(data, NULL, 0, out, cap); }

void jn_dataset_free(jn_dataset *set)
{
    free(set->x);
    free(set->y);
    memset(set, 0, sizeof *set);
}

void jn_data_free(jn_data *data)
{
    jn_dataset_free(&data->train);
    jn_dataset_free(&data->valid);
    jn_dataset_free(&data->test);
    data->dir[0] = data->root[0] = data->test_dir[0] = '\0';
}

/* The paths of an idx: pair's two files (8192 bytes each), found in dir ("" where read as
 * given). */
static int idx_paths(const char *spec, const char *opt, const char *data_dir, char *dir, size_t cap, char *ipath,
                     char *lpath)
{
    char images[4096], labels[4096];
    return find_idx_dir(spec, opt, data_dir, dir, cap) || parse_idx_spec(spec, opt, images, labels, sizeof images) ||
           join(ipath, 8192, dir, images, "") || join(lpath, 8192, dir, labels, "") ? -1 : 0;
}

/* Loads an idx: pair, found in dir ("" where read as given); test labels are held below the
 * training classes (classes_hint, from where classes_from says). A file's error is said under
 * its option, as a missing file's is: --data's and --test's read alike ("FILE: byte 3: ...,
 * the two files swapped?"), naming neither. */
static int load_idx(const char *spec, const char *opt, const char *data_dir, int classes_hint,
                    const char *classes_from, jn_dataset *out, char *dir, size_t cap)
{
    char ipath[8192], lpath[8192];
    if (idx_paths(spec, opt, data_dir, dir, cap, ipath, lpath))
        return -1;
    return jn_idx_load_pair(ipath, lpath, classes_hint, classes_from, out) ? jn_fail_context("%s %s", opt, spec) : 0;
}

/* The paths of a named set's files, found in dir. */
static int named_paths(const named_set *set, const char *dir, char p[][8192])
{
    for (int i = 0; i < set->nfiles; i++)
        if (locate(dir, set->files[i], 1, p[i], 8192))
            return jn_fail("%s: %s[.gz] is gone from %s", set->name, set->files[i], dir);
    return 0;
}

/* Loads the training file (train) and test file (test) of a named set found in dir. */
static int load_named(const named_set *set, const char *dir, jn_dataset *train,
                      jn_dataset *test)
{
    char p[MAX_FILES][8192];
    if (named_paths(set, dir, p))
        return -1;
    if (set->kind == KIND_USPS)
        return jn_usps_load(p[0], train) || jn_usps_load(p[1], test) ? -1 : 0;
    return jn_idx_load_pair(p[0], p[1], 10, "the named set", train) ||
                   jn_idx_load_pair(p[2], p[3], 10, "the named set", test)
               ? -1
               : 0;
}

static void binarize(jn_dataset *set)
{
    size_t total = (size_t)set->n * (size_t)set->d;
    for (size_t i = 0; i < total; i++)
        set->x[i] = set->x[i] >= 0.5f ? 1.0f : 0.0f;
}

/* dst = a copy of examples [from, from + n) of src, named prefix/part. */
static int take(const jn_dataset *src, int from, int n, const char *prefix, const char *part,
                jn_dataset *dst)
{
    size_t values = (size_t)n * (size_t)src->d;
    memset(dst, 0, sizeof *dst);
    snprintf(dst->name, sizeof dst->name, "%s/%s", prefix, part);
    dst->n = n;
    dst->d = src->d;
    dst->classes = src->classes;
    dst->x = malloc(values ? values * sizeof *dst->x : 1);
    dst->y = malloc(n ? (size_t)n * sizeof *dst->y : 1);
    if (!dst->x || !dst->y) {
        jn_dataset_free(dst);
        return jn_fail("%s/%s: cannot allocate %d examples", prefix, part, n);
    }
    memcpy(dst->x, src->x + (size_t)from * (size_t)src->d, values * sizeof *dst->x);
    memcpy(dst->y, src->y + from, (size_t)n * sizeof *dst->y);
    return 0;
}

/* Whether an idx: spec (one that parses) names a file by a relative name. */
static int has_relative_name(const char *spec)
{
    return spec[4] != '/' || strchr(spec + 4, ',')[1] != '/';
}

/* out->root, once the files are read: the --data pair from out->dir, the --test one from
 * out->test_dir ("" for either: read as given, from the current folder). */
static void find_root(jn_data *out, int named, const char *data, const char *test)
{
    const char *dir = named || has_relative_name(data) ? out->dir : NULL;
    if (*test && has_relative_name(test)) {
        if (dir && strcmp(dir, out->test_dir))
            return;
        dir = out->test_dir;
    }
    if (dir && !realpath(*dir ? dir : ".", out->root))
        out->root[0] = '\0';
}

/* Splits the training file: validation = its last `valid` examples, training = the first
 * train_limit (or all) of the rest. */
static int split(const jn_data_request *req, const char *prefix, const jn_dataset *file,
                 const jn_dataset *test, jn_data *out)
{
    int defaulted = req->valid == -1;
    long valid = defaulted ? jn_data_default_valid(req->data, file->n) : req->valid;
    if (valid < 0)
        return jn_fail("--valid %ld: expected -1 (the default) or a count >= 0", valid);
    if (valid >= file->n)
        return jn_fail("--valid %ld%s: the training file of %s has %d example%s; the validation "
                       "split must leave at least one for training",
                       valid, defaulted ? " (the default)" : "", req->data, file->n, file->n == 1 ? "" : "s");
    long rest = file->n - valid;
    if (req->train_limit < 0)
        return jn_fail("--train-limit %ld: expected 0 (all) or a positive count",
                       req->train_limit);
    if (req->train_limit > rest)
        return jn_fail("--train-limit %ld: only %ld training example%s available (the "
                       "training file of %s has %d, --valid takes %ld)",
                       req->train_limit, rest, rest == 1 ? " is" : "s are", req->data, file->n, valid);
    long keep = req->train_limit ? req->train_limit : rest;
    if (take(file, 0, (int)keep, prefix, "train", &out->train) ||
        take(file, (int)rest, (int)valid, prefix, "valid", &out->valid))
        return -1;
    if (test->x)
        return take(test, 0, test->n, prefix, "test", &out->test);
    return take(file, 0, 0, prefix, "test", &out->test); /* idx: data without --test */
}

int jn_data_load(const jn_data_request *req, jn_data *out)
{
    memset(out, 0, sizeof *out);
    const char *data = req->data ? req->data : "";
    const char *test_spec = req->test ? req->test : "";
    const named_set *set = find_named(data);
    if (jn_data_check_names(data, test_spec))
        return -1;
    if (set && *test_spec)
        return jn_fail("--test %s: only for idx: data (%s has its own test files)", test_spec,
                       set->name);

    jn_dataset file = {0}, test = {0};
    int rc = -1;
    const char *model = req->classes > 0 ? "the checkpoint's model" : NULL;
    if (set) {
        if (jn_data_find_dir(data, req->data_dir, out->dir, sizeof out->dir) ||
            load_named(set, out->dir, &file, &test))
            goto done;
        if (set->binary) {
            binarize(&file);
            binarize(&test);
        }
        /* A model of more classes evaluates the digits, as it does idx: data of them; one of
         * fewer is refused against the set's 10 (its digits 0-9 all occur). */
        if (req->classes > file.classes)
            file.classes = test.classes = req->classes;
    } else if (load_idx(data, "--data", req->data_dir, req->classes, model, &file, out->dir, sizeof out->dir) ||
               (*test_spec && load_idx(test_spec, "--test", req->test_dir ? req->test_dir : req->data_dir, file.classes,
                                       model ? model : "the training labels", &test, out->test_dir,
                                       sizeof out->test_dir))) {
        goto done;
    }
    /* Else refused as the --valid default (0 for idx: data) leaving nothing to train on. */
    if (file.n == 0) {
        jn_fail("--data %s: %s holds no examples", data, file.name);
        goto done;
    }
    if (!*test_spec) /* a named set's test files lie beside its training files */
        memcpy(out->test_dir, out->dir, sizeof out->dir);
    /* A test set of no example reports its error as null, as if --test were not given: a wrong
     * file, not a way to train without a test set (leaving out --test is). */
    if (test.x && test.n == 0) {
        jn_fail("--test %s: %s holds no examples; leave out --test to train without a test set", test_spec,
                test.name);
        goto done;
    }
    /* Else the run would train, then fail at its first evaluation, naming no file. */
    if (test.x && test.d != file.d) {
        jn_fail("--test %s: %s has %d values per image, the training file %s has %d", test_spec, test.name,
                test.d, file.name, file.d);
        goto done;
    }
    rc = split(req, set ? set->name : "idx", &file, &test, out);
    if (rc == 0)
        find_root(out, set != NULL, data, test_spec);
done:
    jn_dataset_free(&file);
    jn_dataset_free(&test);
    if (rc)
        jn_data_free(out);
    return rc;
}

/* Opens path to read and closes it; -1 (recorded, naming what) where it cannot be opened.
 * Non-blocking: a FIFO put at the name since it was found does not wait for a writer. */
static int can_open(const char *what, const char *path)
{
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return jn_fail("%s: %s: cannot open: %s", what, path, strerror(errno));
    close(fd);
    return 0;
}

int jn_data_check_files(const jn_data_request *req)
{
    const char *data = req->data ? req->data : "", *test = req->test ? req->test : "";
    const named_set *set = find_named(data);
    char dir[4096], p[MAX_FILES][8192], what[4200];
    if (jn_data_check_names(data, test))
        return -1;
    if (set) {
        if (jn_data_find_dir(data, req->data_dir, dir, sizeof dir) || named_paths(set, dir, p))
            return -1;
        for (int i = 0; i < set->nfiles; i++)
            if (can_open(set->name, p[i]))
                return -1;
        return 0;
    }
    const char *const specs[] = {data, test}, *const opts[] = {"--data", "--test"};
    const char *const dirs[] = {req->data_dir, req->test_dir ? req->test_dir : req->data_dir};
    for (int k = 0; k < 2 && *specs[k]; k++) {
        snprintf(what, sizeof what, "%s %.4096s", opts[k], specs[k]);
        if (idx_paths(specs[k], opts[k], dirs[k], dir, sizeof dir, p[0], p[1]) || can_open(what, p[0]) ||
            can_open(what, p[1]))
            return -1;
    }
    return 0;
}

uint32_t jn_data_crc(const jn_data *data)
{
    const jn_dataset *splits[3] = {&data->train, &data->valid, &data->test};
    uint32_t crc = 0;
    for (int i = 0; i < 3; i++) {
        const jn_dataset *set = splits[i];
        const uint32_t shape[2] = {(uint32_t)set->n, (uint32_t)set->d};
        crc = jn_crc32_values(crc, shape, 2, sizeof *shape);
        crc = jn_crc32_values(crc, set->x, (size_t)set->n * (size_t)set->d, sizeof *set->x);
        crc = jn_crc32_values(crc, set->y, (size_t)set->n, sizeof *set->y);
    }
    return crc;
}
