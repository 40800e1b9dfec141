/* Data sets: IDX (MNIST format) and USPS readers, named sets, the validation split.
 *
 * Everything here is host memory and knows no backend. Readers accept raw or
 * gzip-compressed files (zlib reads both). On bad input they fail with one line naming the
 * file and the byte offset or line number and what was expected (see error.h). */
#ifndef JACNOISE_DATA_H
#define JACNOISE_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A labelled set in host memory: n examples of d features, labels in [0, classes). */
typedef struct {
    char name[64];  /* "mnist/train", "usps/test", ...: used in messages and metadata */
    int n;          /* examples */
    int d;          /* features per example */
    int classes;    /* number of classes */
    float *x;       /* n * d values (row-major, example after example): in [0, 1], but
                     * float IDX images as stored */
    int32_t *y;     /* n labels */
} jn_dataset;

/* IDX element types (the third byte of the magic number). */
enum {
    JN_IDX_U8 = 0x08,
    JN_IDX_I8 = 0x09,
    JN_IDX_I16 = 0x0B,
    JN_IDX_I32 = 0x0C,
    JN_IDX_F32 = 0x0D,
    JN_IDX_F64 = 0x0E
};

#define JN_IDX_MAX_DIMS 8
/* Largest payload an IDX file may declare (elements); bigger is refused as absurd. */
#define JN_IDX_MAX_ELEMENTS ((uint64_t)1 << 33)

/* The decoded content of one IDX file. */
typedef struct {
    int type;                        /* JN_IDX_* */
    int ndim;                        /* 1 .. JN_IDX_MAX_DIMS */
    uint32_t dims[JN_IDX_MAX_DIMS];  /* dims[0] = item count */
    uint64_t count;                  /* product of dims */
    void *data;                      /* count elements of the type, in host byte order */
} jn_idx;

/* Reads an IDX file (raw or gzip). Checks the magic, the dimensions (absurd sizes and
 * overflow), truncation and trailing bytes. */
int jn_idx_read(const char *path, jn_idx *out);
void jn_idx_free(jn_idx *idx);

/* Builds a data set from an IDX image file (u8 scaled by 1/255, or f32/f64 taken as they
 * are and required to be finite; ndim >= 2, item = the trailing dimensions) and an IDX
 * label file (1-D, u8 or i32, >= 0). Counts must match. classes = max label + 1 unless
 * classes_hint > 0, in which case every label must be below it; classes_from says where the
 * hint comes from ("the training labels"), as the refusal of a label beyond it names it. */
int jn_idx_load_pair(const char *images_path, const char *labels_path, int classes_hint,
                     const char *classes_from, jn_dataset *out);

/* Reads a USPS file of "The Elements of Statistical Learning" (zip.train / zip.test, raw or
 * gzip): per line a label 0..9 then 256 values in [-1, 1], mapped to [0, 1] (ink = 1). */
int jn_usps_load(const char *path, jn_dataset *out);

/* Frees the set's arrays and clears it. */
void jn_dataset_free(jn_dataset *set);

/* What the user asked for (options --data, --test, --data-dir, --valid, --train-limit). */
typedef struct {
    const char *data;      /* "mnist" | "mnist-binary" | "usps" | "idx:IMAGES,LABELS" */
    const char *test;      /* "idx:IMAGES,LABELS" (only with idx: data), or NULL / "" */
    const char *data_dir;  /* --data-dir, or NULL / "" to search the default folders */
    long valid;            /* examples taken from the end of the training file; -1 = default */
    long train_limit;      /* keep only the first N training examples (after the split); 0 = all */
    const char *test_dir;  /* the --test pair's folder, where not data_dir's ("" to search the default
                            * folders); NULL: data_dir */
    int classes;           /* the classes of a checkpoint's model, which idx: data is evaluated with
                            * (labels below them, as --test's below the training classes), and a
                            * named set where more than its 10; 0: the training labels' */
} jn_data_request;

/* The three splits. A split may be empty (n = 0): no --test for idx: data, --valid 0. */
typedef struct {
    jn_dataset train, valid, test;
    char dir[4096];  /* the folder the named set or the --data idx: pair was read from ("" for
                      * an idx: pair read as given) */
    char root[4096]; /* the folder every relative file name was read from, absolute: where
                      * --data-dir reads the same files wherever it runs; "" where no name is
                      * relative, or the --data and --test pairs came from two folders */
    char test_dir[4096]; /* the folder of the test split, as dir: the --test pair's, else dir */
} jn_data;

/* Default validation sizes: the last 10,000 (MNIST) or 1,000 (USPS) training examples;
 * for idx: data, a tenth of the training file. */
long jn_data_default_valid(const char *data, long n_train_file);

/* Refuses a --data that names no data set (neither a named set nor idx:IMAGES,LABELS with
 * two file names) and a malformed --test, reading nothing: a bad command line, caught
 * before any work (a sweep checks every configuration so). */
int jn_data_check_names(const char *data, const char *test);
/* Refuses a --test that is not idx:IMAGES,LABELS with two file names, whatever the --data (a
 * sweep's spec checks each value of its line so). */
int jn_data_check_test(const char *test);

/* Finds the folder holding a named set's files: the data_dir argument if given (and only
 * it), else $JACNOISE_DATA, ./data, ../shared/datasets, in that order. Fails naming every
 * folder tried and the files it looked for. */
int jn_data_find_dir(const char *data, const char *data_dir, char *out, size_t cap);
/* A named set's folder as jn_data_find_dir finds it without data_dir, for a command that has
 * no --data-dir (info): its failure's advice offers $JACNOISE_DATA instead. */
int jn_data_find_default_dir(const char *data, char *out, size_t cap);

/* Finds the files of req's data set (and --test pair) and opens each, reading nothing: a
 * wrong folder, or a file missing or that cannot be read, said before any work (a sweep
 * checks its configurations' data sets so, once each). */
int jn_data_check_files(const jn_data_request *req);

/* Loads and splits a data set. mnist-binary is MNIST with pixels >= 0.5 set to 1, else 0.
 * The classes are those of the training file (all of it, before the split): 10 for the named
 * sets (req->classes where more), the largest label + 1 for idx: data (req->classes where
 * given); a --test label beyond them is refused. */
int jn_data_load(const jn_data_request *req, jn_data *out);
void jn_data_free(jn_data *data);

/* The CRC-32 of the three splits, what a checkpoint records of the data its run trains on:
 * per split (train, valid, test) its u32 example count and values per example, then its
 * float32 values and int32 labels, all little-endian. */
uint32_t jn_data_crc(const jn_data *data);

/* What one split holds: examples per class, and the range and mean of its input values
 * (all 0 for an empty split). */
typedef struct {
    long *class_counts; /* classes entries */
    int empty_classes;  /* classes without an example */
    float min, max;
    double mean;
} jn_split_stats;

/* Fills out for one split (-1 with the error recorded); jn_split_stats_free releases it. */
int jn_dataset_stats(const jn_dataset *set, jn_split_stats *out);
void jn_split_stats_free(jn_split_stats *stats);

/* Prints on err one warning line when a class has no example in the training split (`what`
 * names the data, e.g. the --data value). */
int jn_data_warn_empty_classes(const jn_data *data, const char *what, FILE *err);

/* The run header's data lines on out: the folder, inputs, classes, and per split its example
 * count and per-class counts; then the warning above on stderr. */
int jn_data_print_classes(const jn_data *data, const char *what, FILE *out);

#endif
