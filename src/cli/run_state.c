/* The state eval, step and check start from (see cli.h). */
#include "cli/cli.h"
#include "core/options.h"
#include "jacnoise/backend.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --data-dir only says where the files are. */
const char *const jn_cli_data_keys[] = {"data", "test", "valid", "train-limit", NULL};

int jn_cli_blame_stored(const jn_config *cli, const char *file, const char *const *keys)
{
    const char *key = jn_config_refused_option();
    for (size_t k = 0; key && keys[k]; k++)
        if (!strcmp(key, keys[k]) && !jn_config_given(cli, key))
            return jn_fail_context("%s: stored configuration", file);
    return -1;
}

/* Whether the command line chose other examples than the checkpoint's configuration names. */
static int data_given(const jn_config *cli)
{
    for (size_t k = 0; jn_cli_data_keys[k]; k++)
        if (jn_config_given(cli, jn_cli_data_keys[k]))
            return 1;
    return 0;
}

/* Whether the last error refuses an option the command line gave. */
static int refuses_given(const jn_config *cli)
{
    const char *key = jn_config_refused_option();
    return key && jn_config_accepts(JN_CMD_TRAIN, key) && jn_config_given(cli, key);
}

/* A run's checkpoint names its idx: files as given; its config.txt, beside it, records the
 * folder they were read from (as data-dir), where a resume reads them: so does cfg, where that
 * config.txt is the run's (the same data). Returns whether it did; *other_test: whether cfg's
 * --test is not the run's (one the command line gave, named from the current folder). */
static int run_data_dir(const char *checkpoint, jn_config *cfg, int *other_test)
{
    char path[JN_PATH_MAX + 16];
    jn_cli_beside(path, sizeof path, checkpoint, "config.txt");
    struct stat st;
    jn_config run;
    jn_config_defaults(&run);
    if (stat(path, &st) || jn_config_load_file(&run, JN_CMD_TRAIN | JN_CONFIG_STORED, path) || strcmp(run.data, cfg->data) ||
        !run.data_dir[0])
        return 0;
    strcpy(cfg->data_dir, run.data_dir);
    *other_test = strcmp(run.test, cfg->test) != 0;
    return 1;
}

void jn_cli_beside(char *out, size_t cap, const char *file, const char *name)
{
    const char *slash = strrchr(file, '/');
    snprintf(out, cap, "%.*s%s", slash ? (int)(slash + 1 - file) : 0, file, name);
}

int jn_cli_checkpoint_unread(const char *checkpoint)
{
    const char *slash = strrchr(checkpoint, '/'), *name = slash ? slash + 1 : checkpoint;
    char last[JN_PATH_MAX + 16], best[JN_PATH_MAX + 16];
    struct stat st;
    /* A run folder given for its checkpoint (as plot_analysis takes one) read "is a folder,
     * not a file", naming neither file to give. */
    const char *sep = *name ? "/" : "";
    snprintf(last, sizeof last, "%s%slast.ckpt", checkpoint, sep);
    snprintf(best, sizeof best, "%s%sbest.ckpt", checkpoint, sep);
    if (stat(checkpoint, &st) == 0 && S_ISDIR(st.st_mode) && stat(last, &st) == 0)
        return jn_fail("%s: is a run folder, not a checkpoint: give %s (its best parameters) or %s (where it "
                       "stands)", checkpoint, best, last);
    /* A run's best.ckpt first appears when an epoch ends: before, "cannot open: No such file or
     * directory" left its user to wonder whether the run was there at all. */
    jn_cli_beside(last, sizeof last, checkpoint, "last.ckpt");
    if (strcmp(name, "best.ckpt") || stat(checkpoint, &st) == 0 || errno != ENOENT || stat(last, &st) != 0)
        return -1;
    /* One whose last.ckpt has a best epoch was written (with every last.ckpt since) and then
     * lost: "no best checkpoint yet" sent its user to wait for an epoch that had ended. */
    jn_checkpoint ck;
    if (jn_checkpoint_read_header(last, &ck) == 0 && ck.state.best_epoch > 0) {
        const int done = ck.state.epoch, best_epoch = ck.state.best_epoch;
        jn_checkpoint_free(&ck);
        return jn_fail("%s: no such file, though %s has %d epoch%s done (best epoch %d): it was removed (%s holds "
                       "its best parameters; resuming the run writes it again)", checkpoint, last, done,
                       done == 1 ? "" : "s", best_epoch, last);
    }
    jn_checkpoint_free(&ck);
    return jn_fail("%s: no such file: the run has no best checkpoint yet (one is written when an epoch ends); its "
                   "last checkpoint is %s", checkpoint, last);
}

/* The checkpoint read and st->cfg its options with the command line's, checked: 0, -1 (error
 * recorded), or JN_EXIT_USAGE for a value the command line gave that is refused. */
static int configure(jn_cli_state *st, const jn_config *cli, int same_run)
{
    jn_config_defaults(&st->cfg);
    if (cli->checkpoint[0] && jn_checkpoint_read(cli->checkpoint, &st->ck))
        return jn_cli_checkpoint_unread(cli->checkpoint);
    if (cli->checkpoint[0] && jn_checkpoint_config(&st->ck, cli->checkpoint, &st->cfg))
        return -1;
    if (cli->checkpoint[0] && same_run) {
        /* Only the refusal counts: the overlay below sets every option given. The GEMM
         * precision is what check compares (the CPU reference ignores it). Step and check write
         * no run: another value is a fresh run's, not one in another --out. */
        jn_config resumed = st->cfg;
        resumed.tf32 = cli->tf32;
        if (jn_config_merge_resume(&resumed, cli, "start from a fresh run (no --checkpoint)"))
            return jn_fail_context("%s", cli->checkpoint);
    }
    if (jn_config_overlay(&st->cfg, cli))
        return -1;
    /* A value the command line gave that the options refuse is a bad command line, as train and
     * data say it; one stored in the checkpoint is named with it. */
    if (jn_config_check(&st->cfg)) {
        if (refuses_given(cli))
            return JN_EXIT_USAGE;
        return cli->checkpoint[0] ? jn_cli_blame_stored(cli, cli->checkpoint, jn_cli_data_keys) : -1;
    }
    return 0;
}

/* The data and the model's starting point, after configure: as its return. */
static int load(jn_cli_state *st, const jn_config *cli, int same_run)
{
    int other_test = 0;
    const int run_dir = cli->checkpoint[0] && !jn_config_given(cli, "data-dir") &&
                        run_data_dir(cli->checkpoint, &st->cfg, &other_test);
    const jn_config *c = &st->cfg;
    /* A --test of other files is searched for as a new run's: the run's folder was read for it,
     * and eval of a run on a new test set in the current folder failed, blaming the run's --data.
     * idx: data has the model's classes: a set whose labels stop below its top class (digits 0-4
     * only) was refused as a model of other classes. */
    const int classes = cli->checkpoint[0] ? st->ck.model.sizes[st->ck.model.n_layers] : 0;
    const jn_data_request req = {c->data, c->test, c->data_dir, c->valid, c->train_limit, other_test ? "" : NULL,
                                 classes};
    /* Where the run's folder lost the files (or is gone), they are searched for as a new run's;
     * files there that fail to load are that error, not "cannot find" in the search's folders. */
    char run_folder[sizeof st->cfg.data_dir] = "";
    if (run_dir && jn_data_check_files(&req)) {
        strcpy(run_folder, st->cfg.data_dir);
        st->cfg.data_dir[0] = 0;
    }
    if (jn_data_load(&req, &st->data)) {
        if (run_folder[0])
            return jn_fail_context("%s: the run's data folder %s (data-dir in its config.txt) no longer holds its "
                                   "files, searched for elsewhere",
                                   cli->checkpoint, run_folder);
        return cli->checkpoint[0] ? jn_cli_blame_stored(cli, cli->checkpoint, jn_cli_data_keys) : -1;
    }
    if (jn_config_model(c, st->data.train.d, st->data.train.classes, &st->model))  /* --hidden too wide: as train */
        return refuses_given(cli) ? JN_EXIT_USAGE : -1;
    const size_t P = st->model.n_params;
    st->params = calloc(P, sizeof(jn_real));
    st->velocity = calloc(P, sizeof(jn_real));
    if (!st->params || !st->velocity)
        return jn_fail("out of memory for %zu parameters", P);
    st->same_data = -1;
    if (!cli->checkpoint[0]) {
        jn_model_init_params(&st->model, c->seed, st->params);
        return 0;
    }
    /* The hidden widths are the checkpoint's: its reader holds its text's to its layer sizes,
     * step and check refuse another --hidden and eval takes none ("but --hidden gives" named
     * an option nobody gave). Only the data's inputs or classes make another model. */
    const jn_model *m = &st->ck.model;
    if (m->n_params != P || memcmp(m->sizes, st->model.sizes, sizeof m->sizes)) {
        char held[160];
        jn_model_describe(m, held, sizeof held);
        const jn_dataset *train = &st->data.train;
        return jn_fail("%s: the checkpoint holds a %s model, but data %s has %d inputs and %d classes",
                       cli->checkpoint, held, c->data, train->d, train->classes);
    }
    /* The run's next step on other data would be no step of the run. An evaluation may use
     * any data, but where the command line chose none, other data than the run's is a stale
     * --data-dir or a re-fetched file the user should hear of. */
    const uint32_t crc = jn_data_crc(&st->data);
    st->same_data = st->ck.has_data_crc ? st->ck.data_crc == crc : -1;
    if ((same_run || !data_given(cli)) &&
        jn_checkpoint_check_data(&st->ck, cli->checkpoint, crc, c->data, st->data.dir, same_run) < 0)
        return -1;
    memcpy(st->params, st->ck.params, P * sizeof(jn_real));
    if (st->ck.velocity)
        memcpy(st->velocity, st->ck.velocity, P * sizeof(jn_real));
    st->pos = st->ck.state;
    /* Only the data says how many batches an epoch has. A run stopped between an epoch's last
     * step and its end resumes by ending that epoch: its next step is the next epoch's first. */
    const long batches = jn_batches_per_epoch(st->data.train.n, c->batch);
    if (same_run && st->pos.batch > batches)
        return jn_fail("%s: next batch %ld is beyond the %ld batches of an epoch of this data", cli->checkpoint,
                       st->pos.batch, batches);
    if (same_run && st->pos.batch == batches) {
        st->pos.epoch++;
        st->pos.batch = 0;
    }
    return 0;
}

/* As --config's and --dump's: a message about the checkpoint ("FILE: cannot open") names its
 * option; one about the data it names keeps its own start. rc as configure's; the exit status. */
static int exit_status(const jn_config *cli, int rc)
{
    if (rc < 0 && cli->checkpoint[0] && jn_error_names(cli->checkpoint))
        rc = jn_fail_option("--checkpoint", cli->checkpoint);
    return rc < 0 ? JN_EXIT_ERROR : rc;
}

int jn_cli_state_configure(jn_cli_state *st, const jn_config *cli, int same_run)
{
    memset(st, 0, sizeof *st);
    return exit_status(cli, configure(st, cli, same_run));
}

int jn_cli_state_finish(jn_cli_state *st, const jn_config *cli, int same_run)
{
    int rc = exit_status(cli, load(st, cli, same_run));
    /* eval and the reference run on the CPU: its threads set once the state loads, as train
     * warns once its run can start (a checkpoint or data that cannot load is one error line,
     * not a warning and it). */
    if (!rc)
        jn_backend_threads(JN_DEVICE_CPU, st->cfg.threads, 1);
    return rc;
}

int jn_cli_state_load(jn_cli_state *st, const jn_config *cli, int same_run)
{
    int rc = jn_cli_state_configure(st, cli, same_run);
    return rc ? rc : jn_cli_state_finish(st, cli, same_run);
}

void jn_cli_state_free(jn_cli_state *st)
{
    jn_checkpoint_free(&st->ck);
    jn_data_free(&st->data);
    free(st->params);
    free(st->velocity);
    memset(st, 0, sizeof *st);
}
