/* jacnoise train */
#include "cli/cli.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

int jn_cmd_train(int argc, char **argv)
{
    jn_config cfg;
    int rc = jn_cli_parse(argc, argv, JN_CMD_TRAIN, &cfg);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (!cfg.resume && jn_config_check(&cfg)) /* a bad command line, as in the other commands */
        return jn_cli_fail(JN_EXIT_USAGE);
    int code = jn_train_run(&cfg);
    return code == JN_EXIT_ERROR ? jn_cli_fail(code) : code;
}
