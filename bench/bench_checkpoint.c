/* What a checkpoint costs: every epoch a run writes last.ckpt (parameters, velocity, best
 * parameters) and, when it improved, best.ckpt; a sweep's group of M models writes M of each.
 * Times jn_checkpoint_write of both kinds and, in the same rounds, the floors of last.ckpt's
 * bytes: their CRC-32 alone and their atomic write alone (temporary file, fsync, rename,
 * folder fsync) from a prebuilt buffer, so that the serialisation's own share shows. Medians
 * and quartiles of interleaved rounds after an untimed one, MB/s and the ratio of the write to
 * its floors, round by round; last.ckpt is read back and compared at the end.
 *
 * usage: bench_checkpoint [--sizes 784,1000,1000,10] [--reps 20] [--dir DIR (default: .)] */
#include "bench_args.h"
#include "bench_stats.h"
#include "core/fileio.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/error.h"
#include "jacnoise/wallclock.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { LAST, BEST, CRC, RAW_WRITE, N_TIMES };

#define USAGE "usage: bench_checkpoint [--sizes d,n1,...,C (3 to 17 sizes)] [--reps N in [1, 10000]] [--dir DIR]\n"
_Static_assert(JN_MAX_LAYERS + 1 == 17, "USAGE's largest number of sizes");
static const char help[] =
    USAGE "\n"
    "Times what a run writes at an epoch's end, last.ckpt (parameters, velocity, best parameters)\n"
    "and best.ckpt, and in the same interleaved rounds the floors of last.ckpt's bytes: their\n"
    "CRC-32 alone and their atomic write alone (temporary file, fsync, rename, folder fsync).\n"
    "Medians and quartiles after an untimed round, MB/s and the ratio of the write to the floors,\n"
    "round by round (median and quartiles of those ratios, so that a change of load cancels).\n\n"
    "  --sizes d,n1,...,C  the net's layer sizes, one hidden layer at least (default 784,1000,1000,10)\n"
    "  --reps N            rounds (default 20)\n"
    "  --dir DIR           folder written to: the disk measured (default .)\n";

/* The files written, last, best and raw, then the ".tmp" each atomic write goes through:
 * removed at every exit and on SIGINT, SIGTERM and SIGHUP, since a stopped run would leave
 * some 50 MB in the folder measured (by default the current one). */
enum { N_FILES = 3 };
static char files[2 * N_FILES][PATH_MAX];

static void remove_files(void)
{
    for (int k = 0; k < 2 * N_FILES; k++)
        if (files[k][0])
            unlink(files[k]);
}

static void remove_files_and_die(int sig)
{
    remove_files();
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv)
{
    if (bench_help(argc, argv, help))
        return 0;
    const char *dir = ".", *sizes_text = "784,1000,1000,10";
    long reps = 20;
    int sizes[JN_MAX_LAYERS + 1] = {784, 1000, 1000, 10}, n_sizes = 4;
    for (int i = 1; i < argc; i += 2) {
        if (!argv[i + 1])
            return bench_refuse(USAGE, argv, i);
        if (!strcmp(argv[i], "--sizes") && (n_sizes = bench_int_list(argv[i + 1], sizes, 3, JN_MAX_LAYERS + 1))) {
            sizes_text = argv[i + 1];
            continue;
        }
        if (!strcmp(argv[i], "--reps") && !bench_long(argv[i + 1], 1, 10000, &reps))
            continue;
        if (!strcmp(argv[i], "--dir"))
            dir = argv[i + 1];
        else
            return bench_refuse(USAGE, argv, i);
    }
    /* Refused as an option, before anything is timed: otherwise the first write named a file
     * in it ("cannot create DIR/bench-last.ckpt.tmp"), not the option. */
    if (!*dir) {  /* stat("") would say "--dir : No such file or directory" */
        fprintf(stderr, "bench_checkpoint: --dir '': empty folder name\n");
        return 2;
    }
    struct stat st;
    const int found = stat(dir, &st) == 0;
    if (!found || !S_ISDIR(st.st_mode)) {
        jn_print(stderr, "bench_checkpoint: --dir %s: %s\n", dir, found ? "not a folder" : strerror(errno));
        return 2;
    }
    jn_checkpoint ck = {0};
    if (jn_model_make(&ck.model, sizes[0], sizes + 1, n_sizes - 2, sizes[n_sizes - 1])) {
        /* The engine's reason begins with its own option or "model" ("--hidden: layer 1 has ...",
         * an option this benchmark lacks): the reason alone, after the --sizes given. */
        const char *why = jn_last_error(), *rest = strstr(why, ": ");
        jn_print(stderr, "bench_checkpoint: --sizes %s: %s\n", sizes_text, rest ? rest + 2 : why);
        return 2;
    }
    const size_t P = ck.model.n_params;
    ck.params = malloc(sizeof(jn_real) * P);
    ck.velocity = malloc(sizeof(jn_real) * P);
    ck.best_params = malloc(sizeof(jn_real) * P);
    /* Each round's timings, then its floors' sum and the scratch of the ratio of the two. */
    double *times = malloc(sizeof(double) * (N_TIMES + 2) * (size_t)reps), *floors = times + N_TIMES * reps;
    const char *names[N_FILES] = {"bench-last.ckpt", "bench-best.ckpt", "bench-raw.bin"};
    for (int k = 0; k < 2 * N_FILES; k++)
        if (snprintf(files[k], PATH_MAX, "%s/%s%s", dir, names[k % N_FILES], k < N_FILES ? "" : ".tmp") >= PATH_MAX) {
            fprintf(stderr, "bench_checkpoint: --dir %s: path too long\n", dir);
            return 2;
        }
    const char *last = files[0], *best = files[1], *raw = files[2];
    atexit(remove_files);
    signal(SIGINT, remove_files_and_die);
    signal(SIGTERM, remove_files_and_die);
    signal(SIGHUP, remove_files_and_die);
    if (!ck.params || !ck.velocity || !ck.best_params || !times) {
        fprintf(stderr, "bench_checkpoint: out of memory\n");
        return 1;
    }
    jn_model_init_params(&ck.model, 1, ck.params);
    for (size_t i = 0; i < P; i++) {
        ck.velocity[i] = ck.params[i] * (jn_real)1e-3;
        ck.best_params[i] = ck.params[i] * (jn_real)0.5;
    }
    ck.config_text = "data=mnist\n";
    const jn_checkpoint best_only = {.model = ck.model, .config_text = ck.config_text, .state = ck.state,
                                     .params = ck.params};

    /* The floors' bytes: last.ckpt as written once. */
    unsigned char *bytes;
    size_t len;
    if (jn_checkpoint_write(last, &ck) || jn_read_file(last, &bytes, &len)) {
        fprintf(stderr, "bench_checkpoint: %s\n", jn_last_error());
        return 1;
    }
    /* The CRC-32 of bytes that end with their own CRC-32 is the constant residue 0x2144DF1C:
     * every round's floor must find it. */
    int residue_ok = 1;
    /* Round -1 is untimed: the first of each kind makes its file, the others replace one. */
    double spent[N_TIMES];
    for (long r = -1; r < reps; r++) {
        double t = jn_wall_seconds();
        int rc = jn_checkpoint_write(last, &ck);
        spent[LAST] = jn_wall_seconds() - t;
        t = jn_wall_seconds();
        rc = rc || jn_checkpoint_write(best, &best_only);
        spent[BEST] = jn_wall_seconds() - t;
        t = jn_wall_seconds();
        residue_ok &= jn_crc32_values(0, bytes, len, 1) == 0x2144DF1Cu;
        spent[CRC] = jn_wall_seconds() - t;
        t = jn_wall_seconds();
        rc = rc || jn_write_file_atomic(raw, bytes, len);
        spent[RAW_WRITE] = jn_wall_seconds() - t;
        for (int k = 0; k < N_TIMES && r >= 0; k++)
            times[k * reps + r] = spent[k];
        if (!residue_ok)
            rc = jn_fail("%s: the bytes read back do not end with their CRC-32", last);
        if (rc) {
            fprintf(stderr, "bench_checkpoint: %s\n", jn_last_error());
            return 1;
        }
    }
    jn_checkpoint back;
    if (jn_checkpoint_read(last, &back)) {
        fprintf(stderr, "bench_checkpoint: %s\n", jn_last_error());
        return 1;
    }
    if (memcmp(back.params, ck.params, sizeof(jn_real) * P) || memcmp(back.velocity, ck.velocity, sizeof(jn_real) * P) ||
        memcmp(back.best_params, ck.best_params, sizeof(jn_real) * P)) {
        fprintf(stderr, "bench_checkpoint: %s: read back other values than were written\n", last);
        return 1;
    }
    jn_checkpoint_free(&back);

    /* Taken before jn_timing_of sorts the times: a ratio of medians would set rounds of other
     * loads against each other. */
    for (long r = 0; r < reps; r++)
        floors[r] = times[CRC * reps + r] + times[RAW_WRITE * reps + r];
    const jn_timing vs_floors = jn_timing_ratio(times + LAST * reps, floors, (int)reps, 1, floors + reps);
    char shape[256];
    jn_model_describe(&ck.model, shape, sizeof shape);
    const double mb_last = (double)len / 1e6, mb_best = (double)(len - 2 * sizeof(jn_real) * P) / 1e6;
    printf("checkpoints of %s (%zu parameters), in %s, %ld rounds interleaved (median, quartiles)\n", shape, P, dir,
           reps);
    printf("validated: last.ckpt, read back after the rounds, passed its CRC-32 and gave the parameters, velocity\n"
           "and best parameters written, bit for bit\n");
    printf("%-36s %10s %10s %19s %9s\n", "", "MB", "ms", "q1-q3 ms", "MB/s");
    const struct {
        int which;
        const char *name;
        double mb;
    } rows[N_TIMES] = {
        {LAST, "write last.ckpt (params, vel, best)", mb_last},
        {BEST, "write best.ckpt (params)", mb_best},
        {CRC, "floor: CRC-32 of last.ckpt's bytes", mb_last},
        {RAW_WRITE, "floor: atomic write of those bytes", mb_last},
    };
    double ms[N_TIMES];
    for (int k = 0; k < N_TIMES; k++) {
        const jn_timing q = jn_timing_of(times + rows[k].which * reps, reps);
        char median[32], spread[32];
        bench_format(q, 1e3, median, spread, sizeof spread);
        ms[rows[k].which] = 1e3 * q.median;
        const double rate = rows[k].mb / ms[rows[k].which] * 1e3;
        printf("%-36s %10.*f %10s %19s %9.*f\n", rows[k].name, bench_decimals(rows[k].mb), rows[k].mb, median, spread,
               bench_decimals(rate), rate);
    }
    char ratio[48];
    bench_format_ratio(vs_floors, 1, ratio, sizeof ratio);
    printf("write last.ckpt / (CRC + atomic write of its bytes), round by round: %s\n", ratio);
    printf("per model-epoch (last.ckpt, and best.ckpt when it improved): %.*f to %.*f ms\n", bench_decimals(ms[LAST]),
           ms[LAST], bench_decimals(ms[LAST] + ms[BEST]), ms[LAST] + ms[BEST]);
    free(bytes);
    free(ck.params);
    free(ck.velocity);
    free(ck.best_params);
    free(times);
    return bench_done("bench_checkpoint");
}
