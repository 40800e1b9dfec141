/* What a loaded data set holds, for the user to see before a run: classes and per-class
 * counts of each split, the range and mean of the inputs, and a warning when a class has no
 * training example (the classes of idx: data come from the largest training label, so a
 * stray marker such as 255 or the labels of another set would otherwise silently add output
 * units). */
#include "jacnoise/data.h"
#include "jacnoise/error.h"

#include <stdlib.h>
#include <string.h>

/* Just the examples per class (classes entries, to free()); *empty = classes without one.
 * NULL on failure (error recorded). */
static long *class_counts(const jn_dataset *s, int *empty)
{
    long *counts = calloc(s->classes > 0 ? (size_t)s->classes : 1, sizeof *counts);
    if (!counts) {
        jn_fail("%s: cannot allocate counts of %d classes", s->name, s->classes);
        return NULL;
    }
    for (int i = 0; i < s->n; i++)
        if (s->y[i] >= 0 && s->y[i] < s->classes) /* as the loaders guarantee; never write past */
            counts[s->y[i]]++;
    *empty = 0;
    for (int c = 0; c < s->classes; c++)
        *empty += counts[c] == 0;
    return counts;
}

int jn_dataset_stats(const jn_dataset *s, jn_split_stats *out)
{
    memset(out, 0, sizeof *out);
    out->class_counts = class_counts(s, &out->empty_classes);
    if (!out->class_counts)
        return -1;
    const size_t values = (size_t)s->n * (size_t)s->d;
    if (values) {
        double sum = 0;
        out->min = out->max = s->x[0];
        for (size_t k = 0; k < values; k++) {
            float v = s->x[k];
            sum += v;
            out->min = v < out->min ? v : out->min;
            out->max = v > out->max ? v : out->max;
        }
        out->mean = sum / (double)values;
    }
    return 0;
}

void jn_split_stats_free(jn_split_stats *st)
{
    free(st->class_counts);
    memset(st, 0, sizeof *st);
}

/* The last class of the run of empty classes that starts at c (c itself if the run is one). */
static int empty_run_end(const long *counts, int classes, int c)
{
    while (c + 1 < classes && !counts[c + 1])
        c++;
    return c;
}

/* Writes the empty classes as ranges ("3..254", "2, 5, 7..9"), at most eight before "...". */
static void format_empty(const long *counts, int classes, char *buf, size_t cap)
{
    size_t used = 0;
    int ranges = 0;
    buf[0] = '\0';
    for (int c = 0; c < classes && used < cap; c++) {
        if (counts[c])
            continue;
        int last = empty_run_end(counts, classes, c), n;
        if (ranges++ == 8)
            n = snprintf(buf + used, cap - used, ", ...");
        else if (last == c)
            n = snprintf(buf + used, cap - used, "%s%d", ranges > 1 ? ", " : "", c);
        else
            n = snprintf(buf + used, cap - used, "%s%d..%d", ranges > 1 ? ", " : "", c, last);
        used += n > 0 ? (size_t)n : 0;
        if (ranges > 8)
            break;
        c = last;
    }
}

int jn_data_warn_empty_classes(const jn_data *data, const char *what, FILE *err)
{
    int empty;
    long *counts = class_counts(&data->train, &empty);
    if (!counts)
        return -1;
    if (empty) {
        char list[256], hint[128] = "";
        format_empty(counts, data->train.classes, list, sizeof list);
        /* idx: data has as many classes as its largest training label says. */
        if (strncmp(what, "idx:", 4) == 0)
            snprintf(hint, sizeof hint, "; the classes are 0 .. the largest training label, %d: labels of "
                     "another set, or a marker value?", data->train.classes - 1);
        jn_print(err, "jacnoise: warning: %s: %d of %d classes have no training example (%s)%s\n", what, empty,
                 data->train.classes, list, hint);
        fflush(err);
    }
    free(counts);
    return 0;
}

/* One line per split: its name, example count and per-class counts, with runs of three or
 * more empty classes shortened to "(classes A..B: 0)". */
static int print_counts(const char *split, const jn_dataset *s, FILE *out)
{
    int empty;
    long *counts = class_counts(s, &empty);
    if (!counts)
        return -1;
    fprintf(out, "  %-5s %6d%s", split, s->n, s->n ? ":" : "");
    for (int c = 0; c < s->classes && s->n; c++) {
        int last = counts[c] ? c : empty_run_end(counts, s->classes, c);
        if (last - c >= 2) {
            fprintf(out, " (classes %d..%d: 0)", c, last);
            c = last;
        } else {
            fprintf(out, " %ld", counts[c]);
        }
    }
    fputc('\n', out);
    free(counts);
    return 0;
}

int jn_data_print_classes(const jn_data *data, const char *what, FILE *out)
{
    const int classes = data->train.classes;
    /* A --test pair found elsewhere (another folder of the search, or read as given) is named:
     * otherwise the line would say the test files came from --data's folder. */
    const int elsewhere = strcmp(data->test_dir, data->dir) != 0;
    jn_print(out, "data %s%s%s%s%s: %d inputs, %d classes; examples per class 0..%d:\n", what,
             data->dir[0] ? " from " : "", data->dir,
             !elsewhere ? "" : data->test_dir[0] ? ", --test from " : ", --test as given",
             elsewhere ? data->test_dir : "", data->train.d, classes, classes - 1);
    if (print_counts("train", &data->train, out) || print_counts("valid", &data->valid, out) ||
        print_counts("test", &data->test, out))
        return -1;
    fflush(out);
    return jn_data_warn_empty_classes(data, what, stderr);
}
