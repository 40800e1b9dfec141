/* jacnoise show FILE: what a checkpoint or a step state holds, after verifying it. */
#include "cli/cli.h"
#include "core/fileio.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/error.h"
#include "jacnoise/stepstate.h"
#include "jacnoise/train.h"
#include "train/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Appends format, with value, to line where the summary records value (not ""). */
static void add_field(char *line, size_t cap, const char *format, const char *value)
{
    const size_t n = strlen(line);
    if (value[0] && n < cap)
        snprintf(line + n, cap - n, format, value);
}

/* The device the run trained on, as the summary.json beside a run's checkpoint records it (the
 * process that ended the run wrote it); nothing where there is none (a run in progress, a
 * checkpoint copied elsewhere). A summary that does not read only costs this line; of one
 * edited by hand, only the fields it holds are printed (it printed "cpu, , 0 BLAS threads, "). */
static void show_device(const char *checkpoint)
{
    char path[JN_PATH_MAX + 16];
    jn_cli_beside(path, sizeof path, checkpoint, "summary.json");
    if (access(path, F_OK))
        return;
    jn_summary_file f;
    const int unread = jn_summary_read(path, &f);
    const jn_device_info *d = unread ? NULL : f.s.device;
    if (unread) {
        jn_print(stdout, "device: unknown (%s)\n", jn_last_error());
        return;
    }
    if (!d) {
        jn_print(stdout, "device: not recorded (%s was written before runs recorded their device)\n", path);
        return;
    }
    char line[1024] = "", part[96] = "";
    add_field(line, sizeof line, ", %s", d->device);
    if (!strcmp(d->backend, "cuda")) {
        if (d->ordinal >= 0)  /* a summary from before the device's number was recorded has none */
            snprintf(part, sizeof part, " (device %d%s%s)", d->ordinal, d->pci[0] ? ", PCI " : "", d->pci);
        add_field(line, sizeof line, "%s", part);
        add_field(line, sizeof line, ", compute capability %s", d->capability);
        add_field(line, sizeof line, ", CUDA driver %s", d->driver);
        add_field(line, sizeof line, ", runtime %s", d->runtime);
        add_field(line, sizeof line, ", %s GEMMs", d->tf32 ? "TF32" : "fp32");
        add_field(line, sizeof line, "%s", d->tf32_override ? " (TF32 turned off by NVIDIA_TF32_OVERRIDE=0)" : "");
    } else {
        if (d->threads >= 0)
            snprintf(part, sizeof part, ", %d BLAS thread%s", d->threads, d->threads == 1 ? "" : "s");
        add_field(line, sizeof line, "%s", part);
        add_field(line, sizeof line, ", %s", d->blas);
    }
    jn_print(stdout, "device: %s%s\n", d->backend, line[0] ? line : " (its details not recorded)");
}

/* Whether a trainer holds the run folder's lock (or it does not open); *none: there is no lock
 * file (a run folder's removed by hand, or a checkpoint out of its folder). */
static int lock_held(const char *lock, int *none)
{
    int fd;
    if (jn_lock_file_shared(lock, &fd) != 0)
        return 1;
    *none = fd < 0;
    if (fd >= 0)
        close(fd);
    return 0;
}

/* The state of the run a checkpoint stands in: an ended one's as recorded, but where its
 * summary.json does not read (unreadable, as sweep status counts it). last.ckpt records
 * "running" until the run ends, so one paused (--max-steps, a signal) or killed read as running:
 * its folder tells them apart.
 * A trainer holds the folder's lock while it trains, and a run in progress has no summary.json
 * (one that stops writes it, at last.ckpt's step). */
static void run_state(const char *path, const jn_checkpoint *ck, char *out, size_t cap)
{
    const jn_train_state *s = &ck->state;
    snprintf(out, cap, "%s", jn_run_status_name(s->status));
    char lock[JN_PATH_MAX + 16], summary[JN_PATH_MAX + 16], last[JN_PATH_MAX + 16];
    jn_cli_beside(lock, sizeof lock, path, "lock");
    jn_cli_beside(summary, sizeof summary, path, "summary.json");
    jn_cli_beside(last, sizeof last, path, "last.ckpt");
    char config[JN_PATH_MAX + 16];
    jn_cli_beside(config, sizeof config, path, "config.txt");
    int no_lock = 0;
    jn_summary_file f;
    const int has_summary = !access(summary, F_OK), ended = has_summary && !jn_summary_read(summary, &f);
    char unread[JN_SUMMARY_UNREAD] = "";  /* why the summary does not read, as sweep status says it */
    if (has_summary && !ended)
        jn_summary_unread_state(last, unread, sizeof unread);
    if (s->status != JN_RUN_RUNNING) {
        /* An ended run folder whose summary.json was removed: sweep status goes by the summary,
         * and counts it running, not locked, which its rerun resumes to write the summary. */
        if (unread[0])
            snprintf(out, cap, "unreadable (%s; --resume writes its summary.json again)", unread);
        else if (!has_summary && !access(config, F_OK) && !lock_held(lock, &no_lock))
            snprintf(out, cap, "%s (as recorded, but no summary.json records its end: sweep status counts it running, "
                     "not locked; --resume writes its summary.json again)", jn_run_status_name(s->status));
        return;
    }
    /* A best.ckpt holds its epoch's state: a finished run's said "running", as if it trained on.
     * A run that diverged before its first last.ckpt (--checkpoint-epochs) leaves it alone:
     * "the run's last.ckpt says where it stands" named a file that is not there, as it did where
     * that run's summary does not read. */
    if (!ck->velocity) {
        const int no_last = access(last, F_OK) != 0;
        if (ended && no_last)
            snprintf(out, cap, "running when saved (the best parameters; the run has no last.ckpt: %s, %s)", f.status,
                     f.message);
        else if (unread[0] && no_last)
            snprintf(out, cap, "running when saved (the best parameters; the run has no last.ckpt, and its summary.json "
                     "does not read: %s)", unread);
        else
            snprintf(out, cap, "running when saved (the best parameters; the run's last.ckpt says where it stands)");
        return;
    }
    if (lock_held(lock, &no_lock))
        return;
    /* A trainer makes its folder's lock, which the folder keeps: where there is none, a run
     * folder's was removed (sweep status counts it not locked, killed), and a checkpoint with
     * no config.txt beside it is a copy out of its folder, which says nothing of its run now.
     * Both said "running" as recorded, as if a process trained them. */
    const int copy = no_lock && access(config, F_OK) != 0;
    /* A run that diverged keeps the last.ckpt from before its divergence, which records it
     * running: said so, it read as a run training on. Its summary is at the steps it took. */
    if (ended && !strcmp(f.status, "diverged")) {
        snprintf(out, cap, "diverged (%s)", f.message);
    } else if (ended && !strcmp(f.status, "failed")) {  /* "running": sweep status counts it failed */
        snprintf(out, cap, "failed (%s)", f.message);
    } else if (ended && (!strcmp(f.status, "paused") || !strcmp(f.status, "interrupted")) &&
               f.s.steps == s->global_step && f.s.epochs_done == s->epoch) {
        snprintf(out, cap, "paused (%s; --resume continues it)", strcmp(f.status, "paused") ? f.status : "--max-steps");
    } else if (unread[0]) {
        /* As sweep status names it: said "running", a run that diverged or stopped before its
         * summary was damaged read as training on, though no process held its lock. */
        snprintf(out, cap, "unreadable (%s; --resume continues the run and writes its summary.json again)", unread);
    } else if (copy) {
        snprintf(out, cap, "running when saved (a copy: no config.txt beside it, as a run folder has)");
    } else if (ended) {
        /* A summary that is not this checkpoint's end (files copied apart, edited by hand): said
         * "running", though no process held the lock. Sweep status names the run by the
         * summary; a resume goes by last.ckpt, and removes the summary. */
        snprintf(out, cap, "stopped (its summary.json, which sweep status goes by, says %s at %d epoch%s, %llu step%s, "
                 "where this checkpoint records running; --resume continues from the checkpoint)", f.status,
                 f.s.epochs_done, f.s.epochs_done == 1 ? "" : "s", (unsigned long long)f.s.steps,
                 f.s.steps == 1 ? "" : "s");
    } else {
        snprintf(out, cap, "stopped (%s; --resume continues it)", JN_RUN_STOPPED);
    }
}

static void show_checkpoint(const char *path, const jn_checkpoint *ck)
{
    char shape[256];
    jn_model_describe(&ck->model, shape, sizeof shape);
    const jn_train_state *s = &ck->state;
    jn_print(stdout, "%s: jacnoise checkpoint, version %d, %s\n", path, ck->version, JN_REAL_NAME);
    printf("model: %s (%zu parameters)\n", shape, ck->model.n_params);
    /* a diverged run's holds its summary's message; an unreadable one's, why it does not read */
    char state[(JN_SUMMARY_UNREAD > JN_SUMMARY_MESSAGE ? JN_SUMMARY_UNREAD : JN_SUMMARY_MESSAGE) + 256];
    run_state(path, ck, state, sizeof state);
    jn_print(stdout, "state: %s, %d epoch%s done", state, s->epoch, s->epoch == 1 ? "" : "s");
    if (s->batch)
        printf(" and %ld batch%s of epoch %d", s->batch, s->batch == 1 ? "" : "es", s->epoch + 1);
    printf(", %llu step%s", (unsigned long long)s->global_step, s->global_step == 1 ? "" : "s");
    if (s->best_epoch && isfinite(s->best_valid_error))
        printf(", best epoch %d (valid %.2f%%)", s->best_epoch, s->best_valid_error);
    printf("\nsections: parameters%s%s\n", ck->velocity ? ", velocity" : "", ck->best_params ? ", best parameters" : "");
    show_device(path);
    printf("configuration:\n");
    for (const char *p = ck->config_text; *p;) {
        size_t n = strcspn(p, "\n");
        jn_print(stdout, "  %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

static void show_stepstate(const char *path, const jn_stepstate_file *f)
{
    static const char *types[] = {"", "float32", "float64", "int32", "uint64"};
    jn_print(stdout, "%s: jacnoise step state, version %d, %d tensors\n", path, JN_STEPSTATE_VERSION, f->count);
    for (int i = 0; i < f->count; i++) {
        const jn_tensor *t = &f->tensors[i];
        char dims[128] = "";
        size_t used = 0;
        for (int k = 0; k < t->ndim && used < sizeof dims; k++) {
            int n = snprintf(dims + used, sizeof dims - used, k ? " x %llu" : "%llu", (unsigned long long)t->dims[k]);
            used += n > 0 ? (size_t)n : 0;
        }
        if (t->ndim == 0) {
            /* A whole number (a seed, a step count) in full: ten digits made seed 12345678901
             * read 1.23456789e+10. */
            const double v = t->values[0];
            char value[32];
            if (t->whole)
                snprintf(value, sizeof value, "%llu", (unsigned long long)t->whole[0]);
            else
                snprintf(value, sizeof value, fabs(v) < 0x1p53 && v == floor(v) ? "%.0f" : "%.10g", v);
            jn_print(stdout, "  %-24s %-8s %-22s %s\n", t->name, types[t->dtype], "scalar", value);
            continue;
        }
        double sq = 0;
        for (uint64_t k = 0; k < t->count; k++)
            sq += t->values[k] * t->values[k];
        printf("  %-24s %-8s %-22s norm %.6g\n", t->name, types[t->dtype], dims, sqrt(sq));
    }
}

int jn_cmd_show(int argc, char **argv)
{
    if (jn_cli_wants_help(argc, argv)) {
        printf("usage: jacnoise show FILE\n\nVerifies a checkpoint or a step state (magic, version, checksum, sizes)\n"
               "and prints what it holds.\n");
        jn_cli_print_operands_help("show", "FILE");
        return JN_EXIT_OK;
    }
    if (jn_cli_operands(&argc, argv, "show", "file"))
        return jn_cli_fail(JN_EXIT_USAGE);
    if (argc != 1) {
        jn_fail("show: expected one FILE (a checkpoint or a step state); see jacnoise show --help");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    const char *path = argv[0];
    unsigned char head[8], *data;
    size_t len;
    /* The magic number first: another file is refused unread, whatever its size. */
    if (jn_read_head(path, head, sizeof head, &len)) {
        jn_cli_checkpoint_unread(path);
        return jn_cli_fail(JN_EXIT_ERROR);
    }
    if (len < sizeof head) {  /* cut inside its magic number: said as eval and the readers say it */
        jn_cursor cut = {head, len, 0, path};
        unsigned char magic[sizeof head];
        jn_cur_bytes(&cut, magic, sizeof magic, "the magic number");
        return jn_cli_fail(JN_EXIT_ERROR);
    }
    if (memcmp(head, "JNCKPT", 6) && memcmp(head, "JNSTEP", 6)) {
        jn_fail("%s: byte 0: neither a jacnoise checkpoint nor a step state (unknown magic number)", path);
        return jn_cli_fail(JN_EXIT_ERROR);
    }
    if (jn_read_file(path, &data, &len))
        return jn_cli_fail(JN_EXIT_ERROR);
    int rc = -1;
    if (!memcmp(head, "JNCKPT", 6)) { /* the parse checks the whole magic of what it reads */
        jn_checkpoint ck;
        if ((rc = jn_checkpoint_parse(data, len, path, &ck)) == 0) {
            jn_config cfg;
            jn_config_defaults(&cfg);
            if ((rc = jn_checkpoint_config(&ck, path, &cfg)) == 0)
                show_checkpoint(path, &ck);
            jn_checkpoint_free(&ck);
        }
    } else {
        jn_stepstate_file f;
        if ((rc = jn_stepstate_parse(data, len, path, &f)) == 0) {
            show_stepstate(path, &f);
            jn_stepstate_file_free(&f);
        }
    }
    free(data);
    return rc ? jn_cli_fail(JN_EXIT_ERROR) : JN_EXIT_OK;
}
