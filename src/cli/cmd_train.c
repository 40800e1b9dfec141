/* jacnoise train */
#include "cli/cli.h"
#include "core/fileio.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

#include <sys/stat.h>

int jn_cmd_train(int argc, char **argv)
{
    jn_config cfg;
    int rc = jn_cli_parse(argc, argv, JN_CMD_TRAIN, &cfg);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (cfg.resume == JN_RESUME_AUTO) { /* resume what --out holds, else start it */
        char last[JN_PATH_MAX + 16];
        struct stat st;
        if (jn_path_join(last, sizeof last, cfg.out, "last.ckpt"))
            return jn_cli_fail(JN_EXIT_USAGE);
        cfg.resume = stat(last, &st) == 0;
    }
    if (!cfg.resume && jn_config_check(&cfg)) /* a bad command line, as in the other commands */
        return jn_cli_fail(JN_EXIT_USAGE);
    int code = jn_train_run(&cfg);
    return code == JN_EXIT_ERROR ? jn_cli_fail(code) : code;
}
