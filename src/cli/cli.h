/* The command line: one file per command, sharing the option parser. */
#ifndef JACNOISE_CLI_H
#define JACNOISE_CLI_H

#include "jacnoise/config.h"

/* Parses the arguments after the command name into cfg (defaults, then --config FILE, then
 * the command line). Returns 0, 1 when --help was printed, or -1 on a bad option (error
 * recorded). */
int jn_cli_parse(int argc, char **argv, unsigned command, jn_config *cfg);

/* Prints "jacnoise: <last error>" on stderr and returns the exit status for it. */
int jn_cli_fail(int status);

int jn_cmd_train(int argc, char **argv);
int jn_cmd_eval(int argc, char **argv);
int jn_cmd_step(int argc, char **argv);
int jn_cmd_data(int argc, char **argv);
int jn_cmd_info(int argc, char **argv);
int jn_cmd_show(int argc, char **argv);
int jn_cmd_check(int argc, char **argv);

#endif
