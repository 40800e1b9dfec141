/* Minimal test harness: CHECK records a failure with file:line and goes on, so one run
 * reports every broken assertion; main returns check_exit(). Exit 77 means "skipped" to ctest. */
#ifndef JACNOISE_TEST_CHECK_H
#define JACNOISE_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;
static int check_count;

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        check_count++;                                                             \
        if (!(cond)) {                                                             \
            check_failures++;                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
        }                                                                          \
    } while (0)

/* Fails the test at once when a setup step fails (nothing sensible can follow). */
#define REQUIRE(cond, ...)                                                         \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

#define CHECK_SKIP 77

/* |a - b| / |b| over n floats (2-norms; |a - b| alone when b is all zero). */
static inline double check_rel_diff(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Whether a test may remove its temporary folder: not once a check failed, so that what the
 * check saw is there to look at; the folder is named instead (as harness.scratch does). */
static inline int check_may_remove(const char *dir)
{
    if (check_failures)
        printf("kept for a look: %s\n", dir);
    return !check_failures;
}

static inline int check_exit(void)
{
    printf("%d checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
