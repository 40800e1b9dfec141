/* The benchmarks' command lines: --help (or -h) prints the benchmark's help on stdout and
 * exits 0; a value is taken whole or refused (one line naming the option on stderr, exit 2),
 * so that no benchmark runs on a number it read half of ("--reps 5x") or on a list it cut
 * short. A header of static inline functions, so that each benchmark stays one source file. */
#ifndef JACNOISE_BENCH_ARGS_H
#define JACNOISE_BENCH_ARGS_H

#include "jacnoise/config.h"
#include "jacnoise/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 after printing help on stdout when an argument is --help or -h; else 0. */
static inline int bench_help(int argc, char **argv, const char *help)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            return 1;
        }
    return 0;
}

/* The benchmark's name, argv[0] without its folder: every message of it begins so. */
static inline const char *bench_name(const char *argv0)
{
    return strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
}

/* The value bench_long last refused as a whole number outside [lo, hi]: bench_refuse then
 * gives the range taken, which the help's "not a value it takes" left to be guessed. */
static struct {
    const char *text;
    long lo, hi;
} bench_out_of_range;

/* The list bench_int_list last refused and the count it takes: bench_refuse then says what a
 * list must be, which "not a value it takes" left to be guessed ("--models 0", 17 groups). */
static struct {
    const char *text;
    int least, cap;
} bench_bad_list;

/* Refuses argv[i], an option, in one line on stderr that names it and says why: given
 * without its value (argv[i + 1] is argv[argc], NULL), not one of `usage`'s ("[--reps ..."),
 * a whole number out of its range (as jacnoise says it, "--reps 0: out of range [1, 10000]"),
 * a list of whole numbers it does not take (the count and range it takes), or with a value it
 * does not take; what it echoes escaped (jn_print), so that a value with a newline in it keeps
 * the line one. Returns 2, the exit status. */
static inline int bench_refuse(const char *usage, char **argv, int i)
{
    const char *prog = bench_name(argv[0]);
    char known[64];
    snprintf(known, sizeof known, "[%s ", argv[i]);
    if (!strstr(usage, known) || strlen(argv[i]) > 48)
        jn_print(stderr, "%s: %s: unknown option (see %s --help)\n", prog, argv[i], prog);
    else if (!argv[i + 1])
        jn_print(stderr, "%s: %s: needs a value (see %s --help)\n", prog, argv[i], prog);
    else if (bench_out_of_range.text == argv[i + 1])
        jn_print(stderr, "%s: %s %s: out of range [%ld, %ld]\n", prog, argv[i], argv[i + 1], bench_out_of_range.lo,
                 bench_out_of_range.hi);
    else if (bench_bad_list.text == argv[i + 1])
        jn_print(stderr, "%s: %s %s: expected %d to %d whole numbers in [1, %d], comma-separated\n", prog, argv[i],
                 argv[i + 1], bench_bad_list.least, bench_bad_list.cap, 1 << 20);
    else
        jn_print(stderr, "%s: %s %s: not a value it takes (see %s --help)\n", prog, argv[i], argv[i + 1], prog);
    return 2;
}

/* A benchmark's exit status once its table is printed: 0, or 1 after one line on stderr where
 * some of the table never reached stdout (a full disk, a closed descriptor), whose redirected
 * copy would otherwise pass for a whole run's. */
static inline int bench_done(const char *prog)
{
    const char *lost = jn_stdout_lost();
    if (!lost)
        return 0;
    fprintf(stderr, "%s: writing the standard output failed: %s\n", prog, lost);
    return 1;
}

/* text, a whole number in [lo, hi] written as jn_parse_whole takes one (digits, "-" before
 * them at most: not strtol's " 3" or "+3"), into *out: 0; -1 for anything else (*out
 * untouched), a whole number outside [lo, hi] recorded for bench_refuse. */
static inline int bench_long(const char *text, long lo, long hi, long *out)
{
    long v;
    const int parsed = jn_parse_whole(text, &v);
    if (parsed < 0)
        return -1;
    if (parsed > 0 || v < lo || v > hi) {
        bench_out_of_range.text = text;
        bench_out_of_range.lo = lo;
        bench_out_of_range.hi = hi;
        return -1;
    }
    *out = v;
    return 0;
}

/* "a,b,c" of least to cap whole numbers in [1, 2^20] (each as bench_long takes one) into out:
 * their count; 0 for an empty or malformed list, or one of another length, recorded for
 * bench_refuse. */
static inline int bench_int_list(const char *text, int *out, int least, int cap)
{
    int n = 0;
    for (const char *p = text;; p++) {
        char item[24];
        const size_t len = strcspn(p, ",");
        long v;
        if (len >= sizeof item || n == cap)
            break;
        memcpy(item, p, len);
        item[len] = 0;
        if (jn_parse_whole(item, &v) || v < 1 || v > 1 << 20)
            break;
        out[n++] = (int)v;
        p += len;
        if (!*p && n >= least)
            return n;
        if (!*p)
            break;
    }
    bench_bad_list.text = text;
    bench_bad_list.least = least;
    bench_bad_list.cap = cap;
    return 0;
}

#endif
