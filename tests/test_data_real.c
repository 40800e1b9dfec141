/* The data loaders on the real MNIST and USPS files in $JACNOISE_DATA (set by CTest): counts,
 * per-class counts and sizes from datasets/README.md, checksums of the decoded content, the
 * default splits, --train-limit, mnist-binary, and the data folder search. */
#include "check.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char data_dir[PATH_MAX];

static const char *const mnist_files[4] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz"};
static const char *const usps_files[2] = {"zip.train.gz", "zip.test.gz"};

/* Per-class counts 0..9 (datasets/README.md, "Verified facts"). */
static const int mnist_train_classes[10] = {5923, 6742, 5958, 6131, 5842,
                                            5421, 5918, 6265, 5851, 5949};
static const int mnist_test_classes[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
static const int usps_train_classes[10] = {1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644};
static const int usps_test_classes[10] = {359, 264, 198, 166, 200, 160, 170, 147, 166, 177};

static char *path_in(const char *dir, const char *name)
{
    static char buf[2 * PATH_MAX];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* Adds the per-class counts of s to counts. */
static void count_classes(const jn_dataset *s, int counts[10])
{
    for (int i = 0; i < s->n; i++)
        if (s->y[i] >= 0 && s->y[i] < 10)
            counts[s->y[i]]++;
}

static void check_classes(const int counts[10], const int expected[10], const char *what)
{
    for (int c = 0; c < 10; c++)
        CHECK(counts[c] == expected[c], "%s: class %d: %d examples, expected %d", what, c,
              counts[c], expected[c]);
}

/* Checks that every value lies in [0, 1] and that both ends occur. */
static void check_range(const jn_dataset *s)
{
    float lo = INFINITY, hi = -INFINITY;
    size_t total = (size_t)s->n * (size_t)s->d;
    for (size_t i = 0; i < total; i++) {
        lo = s->x[i] < lo ? s->x[i] : lo;
        hi = s->x[i] > hi ? s->x[i] : hi;
    }
    CHECK(lo == 0.0f && hi == 1.0f, "%s: values span [%g, %g], expected [0, 1]", s->name, lo,
          hi);
}

static int same_examples(const jn_dataset *a, int a_from, const jn_dataset *b, int n)
{
    return memcmp(a->x + (size_t)a_from * a->d, b->x, (size_t)n * b->d * sizeof *b->x) == 0 &&
           memcmp(a->y + a_from, b->y, (size_t)n * sizeof *b->y) == 0;
}

/* CRC-32 (zlib crc32) of the decoded IDX payload (the bytes after the header) of each MNIST
 * file. Obtained once with Python: zlib.crc32(gzip.open(f).read()[4 + 4 * ndim:]) on the files
 * of datasets/README.md, whose .gz are byte-identical to the official MNIST distribution. */
static void test_mnist_idx_checksums(void)
{
    static const uint32_t expected_crc[4] = {0xF3639B56, 0xBA07E8EF, 0xE4CA5F57, 0xEE8604D9};
    static const uint32_t expected_dims[4][3] = {
        {60000, 28, 28}, {60000, 0, 0}, {10000, 28, 28}, {10000, 0, 0}};
    for (int f = 0; f < 4; f++) {
        jn_idx idx;
        if (jn_idx_read(path_in(data_dir, mnist_files[f]), &idx)) {
            CHECK(0, "%s", jn_last_error());
            continue;
        }
        int ndim = expected_dims[f][1] ? 3 : 1;
        CHECK(idx.type == JN_IDX_U8 && idx.ndim == ndim, "%s: type 0x%02X ndim %d", mnist_files[f],
              idx.type, idx.ndim);
        for (int i = 0; i < ndim && i < idx.ndim; i++)
            CHECK(idx.dims[i] == expected_dims[f][i], "%s: dim %d = %u, expected %u",
                  mnist_files[f], i, idx.dims[i], expected_dims[f][i]);
        uLong crc = crc32(0L, Z_NULL, 0);
        crc = crc32(crc, idx.data, (uInt)idx.count);
        CHECK(crc == expected_crc[f], "%s: payload CRC-32 0x%08lX, expected 0x%08X",
              mnist_files[f], (unsigned long)crc, expected_crc[f]);
        jn_idx_free(&idx);
    }
}

/* The default MNIST split, against the files read directly: valid = the last 10,000. */
static void test_mnist_split(void)
{
    jn_dataset file;
    char images[2 * PATH_MAX];
    snprintf(images, sizeof images, "%s", path_in(data_dir, mnist_files[0]));
    REQUIRE(jn_idx_load_pair(images, path_in(data_dir, mnist_files[1]), 10, "the named set", &file) == 0, "%s",
            jn_last_error());
    CHECK(file.n == 60000 && file.d == 784 && file.classes == 10, "train file: n %d d %d classes %d",
          file.n, file.d, file.classes);
    int counts[10] = {0};
    count_classes(&file, counts);
    check_classes(counts, mnist_train_classes, "mnist train file");
    /* u8 pixels become k / 255 exactly. */
    int off_grid = 0;
    for (size_t i = 0; i < (size_t)file.n * file.d; i++) {
        float k = roundf(file.x[i] * 255.0f);
        off_grid += file.x[i] != k / 255.0f;
    }
    CHECK(off_grid == 0, "%d pixels are not k / 255", off_grid);

    jn_data_request req = {"mnist", NULL, data_dir, -1, 0, NULL, 0};
    jn_data data;
    REQUIRE(jn_data_load(&req, &data) == 0, "%s", jn_last_error());
    CHECK(strcmp(data.dir, data_dir) == 0, "dir %s, expected %s", data.dir, data_dir);
    CHECK(data.train.n == 50000 && data.valid.n == 10000 && data.test.n == 10000,
          "mnist splits %d / %d / %d, expected 50000 / 10000 / 10000", data.train.n, data.valid.n,
          data.test.n);
    CHECK(data.train.d == 784 && data.valid.d == 784 && data.test.d == 784, "d %d %d %d",
          data.train.d, data.valid.d, data.test.d);
    CHECK(data.train.classes == 10 && data.test.classes == 10, "classes %d %d",
          data.train.classes, data.test.classes);
    CHECK(strcmp(data.train.name, "mnist/train") == 0 && strcmp(data.valid.name, "mnist/valid") == 0 &&
              strcmp(data.test.name, "mnist/test") == 0,
          "names %s %s %s", data.train.name, data.valid.name, data.test.name);
    if (data.train.n == 50000 && data.valid.n == 10000) {
        CHECK(same_examples(&file, 0, &data.train, 50000), "train = the first 50,000 of the file");
        CHECK(same_examples(&file, 50000, &data.valid, 10000), "valid = the last 10,000 of the file");
    }
    int test_counts[10] = {0};
    count_classes(&data.test, test_counts);
    check_classes(test_counts, mnist_test_classes, "mnist test");
    check_range(&data.train);
    check_range(&data.test);
    jn_data_free(&data);
    CHECK(data.train.x == NULL && data.test.n == 0, "jn_data_free clears the sets");

    /* --train-limit keeps the first N of the training part; --valid 0 leaves valid empty. */
    req.train_limit = 1000;
    req.valid = 0;
    REQUIRE(jn_data_load(&req, &data) == 0, "%s", jn_last_error());
    CHECK(data.train.n == 1000 && data.valid.n == 0 && data.test.n == 10000,
          "limit 1000, valid 0: %d / %d / %d", data.train.n, data.valid.n, data.test.n);
    if (data.train.n == 1000)
        CHECK(same_examples(&file, 0, &data.train, 1000), "train-limit keeps the first examples");
    jn_data_free(&data);

    /* Refused requests name the option and the available count. */
    struct { long valid, limit; const char *words[2]; } bad[] = {
        {60000, 0, {"--valid 60000", "60000"}},
        {-2, 0, {"--valid -2", "expected"}},
        {-1, 50001, {"--train-limit 50001", "50000"}},
        {-1, -5, {"--train-limit -5", "expected"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jn_data_request r = {"mnist", NULL, data_dir, bad[i].valid, bad[i].limit, NULL, 0};
        int rc = jn_data_load(&r, &data);
        CHECK(rc == -1 && strstr(jn_last_error(), bad[i].words[0]) &&
                  strstr(jn_last_error(), bad[i].words[1]),
              "valid %ld limit %ld: rc %d, error \"%s\"", bad[i].valid, bad[i].limit, rc,
              jn_last_error());
        if (rc == 0)
            jn_data_free(&data);
    }

    /* The same files as idx: data, found through the data folder: default valid = n / 10. */
    char spec[256], test_spec[256];
    snprintf(spec, sizeof spec, "idx:%s,%s", mnist_files[0], mnist_files[1]);
    snprintf(test_spec, sizeof test_spec, "idx:%s,%s", mnist_files[2], mnist_files[3]);
    jn_data_request idx_req = {spec, test_spec, data_dir, -1, 0, NULL, 0};
    REQUIRE(jn_data_load(&idx_req, &data) == 0, "%s", jn_last_error());
    CHECK(data.train.n == 54000 && data.valid.n == 6000 && data.test.n == 10000,
          "idx splits %d / %d / %d", data.train.n, data.valid.n, data.test.n);
    CHECK(strcmp(data.train.name, "idx/train") == 0 && data.train.classes == 10 &&
              data.test.classes == 10 && strcmp(data.dir, data_dir) == 0,
          "idx: name %s classes %d, dir \"%s\", expected %s", data.train.name, data.train.classes, data.dir,
          data_dir);
    if (data.valid.n == 6000)
        CHECK(same_examples(&file, 54000, &data.valid, 6000), "idx valid = the last 6,000");
    jn_data_free(&data);
    idx_req.test = NULL;
    REQUIRE(jn_data_load(&idx_req, &data) == 0, "%s", jn_last_error());
    CHECK(data.test.n == 0 && data.test.d == 784, "idx without --test: test n %d d %d",
          data.test.n, data.test.d);
    jn_data_free(&data);
    jn_dataset_free(&file);
}

/* mnist-binary = mnist thresholded at 0.5: exactly 0 or 1, 128/255 -> 1, 127/255 -> 0. */
static void test_mnist_binary(void)
{
    jn_data_request req = {"mnist", NULL, data_dir, -1, 0, NULL, 0};
    jn_data grey, bin;
    REQUIRE(jn_data_load(&req, &grey) == 0, "%s", jn_last_error());
    req.data = "mnist-binary";
    REQUIRE(jn_data_load(&req, &bin) == 0, "%s", jn_last_error());
    CHECK(bin.train.n == 50000 && bin.valid.n == 10000 && bin.test.n == 10000, "binary splits");
    CHECK(strcmp(bin.valid.name, "mnist-binary/valid") == 0, "name %s", bin.valid.name);
    const jn_dataset *g[3] = {&grey.train, &grey.valid, &grey.test};
    const jn_dataset *b[3] = {&bin.train, &bin.valid, &bin.test};
    for (int s = 0; s < 3; s++) {
        size_t total = (size_t)g[s]->n * g[s]->d, wrong = 0, ones = 0;
        for (size_t i = 0; i < total; i++) {
            float want = roundf(g[s]->x[i] * 255.0f) >= 128.0f ? 1.0f : 0.0f;
            wrong += b[s]->x[i] != want;
            ones += b[s]->x[i] == 1.0f;
        }
        CHECK(wrong == 0, "%s: %zu values differ from thresholding mnist", b[s]->name, wrong);
        CHECK(ones > 0 && ones < total, "%s: %zu ones", b[s]->name, ones);
        CHECK(memcmp(g[s]->y, b[s]->y, (size_t)g[s]->n * sizeof *g[s]->y) == 0, "%s: labels",
              b[s]->name);
    }
    jn_data_free(&grey);
    jn_data_free(&bin);
}

/* Neumaier-compensated sum: its error is about 2^-52 of the sum, far below the tolerance. */
static double stable_sum(const float *x, size_t n, int weighted)
{
    double s = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        double v = weighted ? x[i] * (double)(i % 7 + 1) : x[i];
        double t = s + v;
        c += fabs(s) >= fabs(v) ? (s - t) + v : (v - t) + s;
        s = t;
    }
    return s + c;
}

/* USPS: counts, per-class counts, range and a checksum of the parsed values.
 *
 * Expected sums: Python, for every value v of every line, float32((float(v) + 1) / 2), then
 * math.fsum over all values (plain), and math.fsum of value * (i % 7 + 1) with i the index in
 * the row-major array (weighted, which also catches values in the wrong place). Python's float()
 * and strtod both round correctly, and (v + 1) / 2 and the float32 rounding are the same IEEE
 * operations, so C holds the very same float32 values; fsum is exact, and the compensated sum
 * here is within ~1e-10 of it. A tolerance of 1e-8 thus leaves a 100x margin yet catches a
 * one-ulp change of any value above about 1/4. */
static void test_usps(void)
{
    static const struct {
        int n;
        const int *classes;
        double sum, weighted;
    } expected[2] = {
        {7291, usps_train_classes, 474987.1414466807, 1899641.919289427},
        {2007, usps_test_classes, 137495.42098959204, 549612.8409720537},
    };
    for (int f = 0; f < 2; f++) {
        jn_dataset s;
        if (jn_usps_load(path_in(data_dir, usps_files[f]), &s)) {
            CHECK(0, "%s", jn_last_error());
            continue;
        }
        CHECK(s.n == expected[f].n && s.d == 256 && s.classes == 10, "%s: n %d d %d classes %d",
              usps_files[f], s.n, s.d, s.classes);
        int counts[10] = {0};
        count_classes(&s, counts);
        check_classes(counts, expected[f].classes, usps_files[f]);
        check_range(&s);
        size_t total = (size_t)s.n * s.d;
        double sum = stable_sum(s.x, total, 0), weighted = stable_sum(s.x, total, 1);
        CHECK(fabs(sum - expected[f].sum) < 1e-8, "%s: sum %.10f, expected %.10f", usps_files[f],
              sum, expected[f].sum);
        CHECK(fabs(weighted - expected[f].weighted) < 1e-8, "%s: weighted sum %.10f, expected %.10f",
              usps_files[f], weighted, expected[f].weighted);
        jn_dataset_free(&s);
    }

    jn_data_request req = {"usps", NULL, data_dir, -1, 0, NULL, 0};
    jn_data data;
    REQUIRE(jn_data_load(&req, &data) == 0, "%s", jn_last_error());
    CHECK(data.train.n == 6291 && data.valid.n == 1000 && data.test.n == 2007,
          "usps splits %d / %d / %d, expected 6291 / 1000 / 2007", data.train.n, data.valid.n,
          data.test.n);
    CHECK(data.train.d == 256 && data.test.classes == 10, "usps d %d classes %d", data.train.d,
          data.test.classes);
    CHECK(strcmp(data.test.name, "usps/test") == 0, "name %s", data.test.name);
    int counts[10] = {0};
    count_classes(&data.train, counts);
    count_classes(&data.valid, counts);
    check_classes(counts, usps_train_classes, "usps train + valid");
    jn_data_free(&data);

    /* The bounds are inclusive: a --train-limit of every example left after the validation
     * split, and a split leaving a single training example, are accepted; one more is not. A
     * --train-limit below the rest leaves the validation split at the file's end. */
    jn_dataset file;
    REQUIRE(jn_usps_load(path_in(data_dir, usps_files[0]), &file) == 0, "%s", jn_last_error());
    struct { long valid, limit; int ok, train; } edge[] = {
        {1000, 6291, 1, 6291}, {1000, 6292, 0, 0}, {1000, 100, 1, 100}, {7290, 0, 1, 1}, {7290, 1, 1, 1},
        {7290, 2, 0, 0}, {7291, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        jn_data_request r = {"usps", NULL, data_dir, edge[i].valid, edge[i].limit, NULL, 0};
        int rc = jn_data_load(&r, &data);
        CHECK((rc == 0) == edge[i].ok, "usps --valid %ld --train-limit %ld: rc %d (%s), expected %s", edge[i].valid,
              edge[i].limit, rc, rc ? jn_last_error() : "accepted", edge[i].ok ? "accepted" : "refused");
        if (rc)
            continue;
        CHECK(data.train.n == edge[i].train && data.valid.n == edge[i].valid &&
                  same_examples(&file, 0, &data.train, edge[i].train) &&
                  same_examples(&file, 7291 - (int)edge[i].valid, &data.valid, (int)edge[i].valid),
              "usps --valid %ld --train-limit %ld: %d / %d examples, not the file's first %d and last %ld",
              edge[i].valid, edge[i].limit, data.train.n, data.valid.n, edge[i].train, edge[i].valid);
        jn_data_free(&data);
    }
    jn_dataset_free(&file);
    CHECK(jn_data_default_valid("usps", 7291) == 1000 && jn_data_default_valid("mnist", 60000) == 10000 &&
              jn_data_default_valid("idx:a,b", 1234) == 123,
          "default validation sizes");
}

static void must_find(const char *data, const char *dir_arg, const char *expected)
{
    char out[PATH_MAX];
    int rc = jn_data_find_dir(data, dir_arg, out, sizeof out);
    CHECK(rc == 0 && strcmp(out, expected) == 0, "find %s (data_dir %s): rc %d, \"%s\", expected %s (%s)",
          data, dir_arg ? dir_arg : "NULL", rc, rc ? "" : out, expected, jn_last_error());
}

static void must_not_find(const char *data, const char *dir_arg, const char *const words[])
{
    char out[PATH_MAX];
    int rc = jn_data_find_dir(data, dir_arg, out, sizeof out);
    CHECK(rc == -1, "find %s (data_dir %s) should fail", data, dir_arg ? dir_arg : "NULL");
    for (int i = 0; words[i]; i++)
        CHECK(strstr(jn_last_error(), words[i]), "error \"%s\" lacks \"%s\"", jn_last_error(),
              words[i]);
}

/* The folder search, in a scratch tree: T/run is the current folder, so "../shared/datasets"
 * is T/shared/datasets; links stand in for copies of the real folder. */
static void test_find_dir(void)
{
    char cwd[PATH_MAX], tmpl[PATH_MAX], p[2 * PATH_MAX + 64], empty[2 * PATH_MAX], partial[2 * PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    REQUIRE(getcwd(cwd, sizeof cwd), "getcwd");
    snprintf(tmpl, sizeof tmpl, "%s/jn_find_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    REQUIRE(mkdtemp(tmpl), "mkdtemp %s", tmpl);
    const char *made[] = {"run", "shared", "empty", "partial", "both"};
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpl, made[i]);
        REQUIRE(mkdir(p, 0700) == 0, "mkdir %s", p);
    }
    snprintf(empty, sizeof empty, "%s/empty", tmpl);
    snprintf(partial, sizeof partial, "%s/partial", tmpl);
    for (int f = 0; f < 3; f++) { /* three of the four MNIST files: not a complete folder */
        snprintf(p, sizeof p, "%s/%s", partial, mnist_files[f]);
        REQUIRE(symlink(path_in(data_dir, mnist_files[f]), p) == 0, "symlink %s", p);
    }

    /* NAME.gz wins over NAME in one folder: a plain file that is no USPS file beside each
     * real .gz is never read. */
    for (int f = 0; f < 2; f++) {
        snprintf(p, sizeof p, "%s/both/%s", tmpl, usps_files[f]);
        REQUIRE(symlink(path_in(data_dir, usps_files[f]), p) == 0, "symlink %s", p);
        p[strlen(p) - 3] = '\0'; /* NAME beside NAME.gz */
        FILE *plain = fopen(p, "w");
        REQUIRE(plain && fputs("not USPS\n", plain) >= 0 && fclose(plain) == 0, "write %s", p);
    }
    snprintf(p, sizeof p, "%s/both", tmpl);
    jn_data_request both = {"usps", NULL, p, -1, 0, NULL, 0};
    jn_data loaded;
    int rc = jn_data_load(&both, &loaded);
    CHECK(rc == 0 && loaded.train.n == 6291 && loaded.test.n == 2007,
          "usps from a folder with NAME and NAME.gz: rc %d (%s), %d train / %d test examples", rc,
          rc ? jn_last_error() : "", loaded.train.n, loaded.test.n);
    jn_data_free(&loaded);

    snprintf(p, sizeof p, "%s/run", tmpl);
    REQUIRE(chdir(p) == 0, "chdir %s", p);

    REQUIRE(unsetenv("JACNOISE_DATA") == 0, "unsetenv");
    const char *const none[] = {"mnist", "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                                "./data", "../shared/datasets", "not set",
                                "datasets/fetch.sh (into $JACNOISE_DATA, else ./data", "--data-dir",
                                NULL};
    must_not_find("mnist", NULL, none);
    REQUIRE(symlink(data_dir, "../shared/datasets") == 0, "symlink ../shared/datasets");
    must_find("mnist", NULL, "../shared/datasets");
    must_find("usps", "", "../shared/datasets");
    REQUIRE(symlink(data_dir, "data") == 0, "symlink data");
    must_find("mnist", NULL, "./data");
    REQUIRE(setenv("JACNOISE_DATA", "", 1) == 0, "setenv");
    must_find("mnist", NULL, "./data"); /* empty = unset */
    REQUIRE(setenv("JACNOISE_DATA", data_dir, 1) == 0, "setenv");
    must_find("usps", NULL, data_dir);
    REQUIRE(setenv("JACNOISE_DATA", partial, 1) == 0, "setenv");
    must_find("mnist", NULL, "./data"); /* the first folder with ALL the files wins */

    /* data_dir, when given, is the only folder searched. */
    char fetch[2 * PATH_MAX + 64];  /* the folder to fill, as a word of the command to copy */
    snprintf(fetch, sizeof fetch, "into that folder with datasets/fetch.sh %s, or", empty);
    const char *const only[] = {"usps", "zip.train", empty, "--data-dir", fetch, NULL};
    must_not_find("usps", empty, only);
    snprintf(p, sizeof p, "%s/it's empty", tmpl);
    REQUIRE(mkdir(p, 0700) == 0, "mkdir %s", p);
    snprintf(fetch, sizeof fetch, "into that folder with datasets/fetch.sh '%s/it'\"'\"'s empty', or", tmpl);
    const char *const quoted[] = {fetch, NULL};
    must_not_find("usps", p, quoted);
    REQUIRE(rmdir(p) == 0, "rmdir %s", p);
    must_find("mnist", data_dir, data_dir);

    REQUIRE(unlink("data") == 0 && unlink("../shared/datasets") == 0, "unlink");
    char env_shown[2 * PATH_MAX + 64];
    /* Each folder tried says what it lacks: the file to fetch, not all four. */
    snprintf(env_shown, sizeof env_shown, "$JACNOISE_DATA=%s (lacks t10k-labels-idx1-ubyte[.gz])", partial);
    const char *const all[] = {env_shown, "./data (no such folder)", "../shared/datasets (no such folder)", NULL};
    must_not_find("mnist", NULL, all);
    const char *const unknown[] = {"kmnist", "mnist-binary", "usps", "idx:", NULL};
    must_not_find("kmnist", NULL, unknown);

    REQUIRE(chdir(cwd) == 0, "chdir back");
    REQUIRE(setenv("JACNOISE_DATA", data_dir, 1) == 0, "setenv");
    if (!check_may_remove(tmpl))
        return;
    for (int f = 0; f < 3; f++) {
        snprintf(p, sizeof p, "%s/%s", partial, mnist_files[f]);
        CHECK(unlink(p) == 0, "unlink %s", p);
    }
    for (int f = 0; f < 2; f++) {
        snprintf(p, sizeof p, "%s/both/%s", tmpl, usps_files[f]);
        CHECK(unlink(p) == 0, "unlink %s", p);
        p[strlen(p) - 3] = '\0';
        CHECK(unlink(p) == 0, "unlink %s", p);
    }
    for (int i = 4; i >= 0; i--) {
        snprintf(p, sizeof p, "%s/%s", tmpl, made[i]);
        CHECK(rmdir(p) == 0, "rmdir %s", p);
    }
    CHECK(rmdir(tmpl) == 0, "rmdir %s", tmpl);
}

int main(void)
{
    const char *env = getenv("JACNOISE_DATA");
    if (!env || !*env) {
        fprintf(stderr, "test_data_real: JACNOISE_DATA is not set: it must name the folder with "
                        "the MNIST and USPS files (CTest sets it; see datasets/README.md)\n");
        return 1;
    }
    /* Absolute, since test_find_dir changes the current folder. */
    char cwd[PATH_MAX];
    REQUIRE(getcwd(cwd, sizeof cwd), "getcwd");
    int len = env[0] == '/' ? snprintf(data_dir, sizeof data_dir, "%s", env)
                            : snprintf(data_dir, sizeof data_dir, "%s/%s", cwd, env);
    REQUIRE(len > 0 && (size_t)len < sizeof data_dir, "JACNOISE_DATA=%s: path too long", env);
    for (int f = 0; f < 4; f++)
        REQUIRE(access(path_in(data_dir, mnist_files[f]), R_OK) == 0,
                "%s is missing: run datasets/fetch.sh %s", path_in(data_dir, mnist_files[f]),
                data_dir);
    for (int f = 0; f < 2; f++)
        REQUIRE(access(path_in(data_dir, usps_files[f]), R_OK) == 0,
                "%s is missing: run datasets/fetch.sh %s", path_in(data_dir, usps_files[f]),
                data_dir);

    test_mnist_idx_checksums();
    test_mnist_split();
    test_mnist_binary();
    test_usps();
    test_find_dir();
    return check_exit();
}
