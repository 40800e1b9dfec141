/* jacnoise train */
#include "cli/cli.h"
#include "core/fileio.h"
#include "jacnoise/backend.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* A run that cannot start (its data, its folder) fails in one line: the warnings on the
 * options come once it goes on. The backend has set the run's BLAS threads by then; setting
 * them again is what says where they cannot run as asked. The options inert are the run's:
 * a resume that gave a penalised run's --jac-noise again read it as without the penalty. So
 * are the threads and device: a resume without --threads of a run of --threads 64 ran 64
 * unwarned. On CUDA, where they change nothing, only a --threads given is, as the inert
 * options are. */
static void warn_going_on(const jn_config *run, const jn_config *cfg)
{
    jn_cli_warn_inert(run, cfg);
    if (!jn_backend_uses_cuda(run->device) || jn_config_given(cfg, "threads"))
        jn_backend_threads(run->device, run->threads, 1);
}

int jn_cmd_train(int argc, char **argv)
{
    jn_config cfg;
    int rc = jn_cli_parse(argc, argv, JN_CMD_TRAIN, &cfg);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (!cfg.out[0]) {
        jn_fail("--out: a run folder is required");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    char last[JN_PATH_MAX + 16];
    if (jn_path_join(last, sizeof last, cfg.out, "last.ckpt"))
        return jn_cli_fail(JN_EXIT_USAGE);
    const int resume_auto = cfg.resume == JN_RESUME_AUTO;
    if (resume_auto) { /* resume what --out holds, else start it */
        struct stat st;
        cfg.resume = stat(last, &st) == 0;
    }
    /* A bad command line, as in the other commands; so is an --out naming the wrong kind of
     * thing, as step's --dump naming a folder. */
    if ((!cfg.resume && jn_config_check(&cfg)) || jn_out_folder_check("--out", cfg.out, 0))
        return jn_cli_fail(JN_EXIT_USAGE);
    if (resume_auto && !cfg.resume && jn_train_auto_start_check(&cfg))
        return jn_cli_fail(JN_EXIT_ERROR);
    /* No GPU is refused before the run folder is made (the run checks again, for a resumed
     * run's stored --device). */
    if (cfg.device == JN_DEVICE_CUDA && jn_cuda_device_check())
        return jn_cli_fail(JN_EXIT_ERROR);
    int code = jn_train_run(&cfg, warn_going_on);
    /* A resumed run's data options are its checkpoint's (relative idx: names hold from the
     * folder it started in), its device config.txt's (a GPU run copied to a laptop). */
    static const char *const device_key[] = {"device", NULL};
    char config[JN_PATH_MAX + 16];
    if (code == JN_EXIT_ERROR && cfg.resume) {
        jn_cli_blame_stored(&cfg, last, jn_cli_data_keys);
        if (!jn_path_join(config, sizeof config, cfg.out, "config.txt"))
            jn_cli_blame_stored(&cfg, config, device_key);
    }
    return code == JN_EXIT_ERROR ? jn_cli_fail(code) : code;
}
