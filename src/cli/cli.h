/* The command line: one file per command, sharing the option parser. */
#ifndef JACNOISE_CLI_H
#define JACNOISE_CLI_H

#include "jacnoise/checkpoint.h"
#include "jacnoise/config.h"
#include "jacnoise/data.h"

/* Parses the arguments after the command name into cfg (defaults, then --config FILE, then
 * the command line). Returns 0, 1 when --help was printed, or -1 on a bad option (error
 * recorded). */
int jn_cli_parse(int argc, char **argv, unsigned command, jn_config *cfg);

/* Whether --help (or -h) is among the arguments before any "--": a command then prints its
 * help, wherever the flag stands, as a user adds it to a command line that failed. */
int jn_cli_wants_help(int argc, char **argv);

/* Refuses arg where it is --help or -h given a value ("--help=foo", "-h=foo"), which read as
 * an unknown option, argument or command of a help the usage lists: -1 (error recorded), else 0. */
int jn_cli_refuse_help_value(const char *arg);

/* Prints the help's line on how an operand whose name starts with '-' is given (after "--"):
 * `what` the command ("show"), `operands` its usage's operands ("FILE"). */
void jn_cli_print_operands_help(const char *what, const char *operands);

/* The operands of a command that takes no options but --help (show FILE, sweep status DIR):
 * drops the first "--", which ends the options as usual, so that a name after it may start
 * with '-'; refuses an argument before it that starts with '-', naming `what` ("show"), and
 * an empty one (an empty `noun` name: "file", "folder"). Compacts argv in place and sets *argc
 * to the operands' count. */
int jn_cli_operands(int *argc, char **argv, const char *what, const char *noun);

/* Prints "jacnoise: <last error>" on stderr and returns the exit status for it. */
int jn_cli_fail(int status);

/* For a command without --device (info, check): 0 where the CUDA backend can open a device;
 * else -1 with why not in why (cap bytes), as --device cuda's refusal says it but for its
 * "--device cuda: ", an option the command lacks. */
int jn_cli_cuda_unusable(char *why, size_t cap);

/* One warning line on stderr where an option given changes nothing (a penalty option without
 * --jac-lambda, --jac-proj for hidden1): train and profile then run as asked. Only of the
 * options `given` gave (its command line and --config; NULL: all cfg sets): step from a
 * checkpoint warned of the run's stored options, which its user never gave. */
void jn_cli_warn_inert(const jn_config *cfg, const jn_config *given);
/* Those warnings' lines ("jacnoise: warning: ...\n", none: "") into out, cap bytes. */
void jn_cli_inert_warnings(const jn_config *cfg, const char *among, const jn_config *given, char *out, size_t cap);
/* Keeps of the ", "-separated option names in names those among holds too; returns how many. */
int jn_cli_keep_names(char *names, const char *among);

/* Where eval, step and check start: with --checkpoint, that run (its configuration changed
 * by the options given, its parameters, momentum and position); without, a fresh
 * initialisation from the options. Loads the data and checks the model against it. With
 * same_run (step and check: the steps that run would take) the options that decide the
 * numbers are refused where they differ from the checkpoint's, as a resumed run's are, and
 * so are data other than the run's (its data CRC) and a next batch beyond the data's epoch;
 * pos is where the run's next step stands. Otherwise (eval) other data is fine, and noted on
 * stderr where no data option was given. same_data: 1 where the checkpoint's data CRC
 * matches the data read, 0 where it differs, -1 where unknown (no checkpoint, or version 1).
 * Returns 0, or the exit status: JN_EXIT_USAGE where a value the command line gave is refused
 * (as train and data refuse it), else JN_EXIT_ERROR (error recorded). */
typedef struct {
    jn_config cfg;
    jn_checkpoint ck;
    jn_data data;
    jn_model model;
    jn_real *params, *velocity;
    jn_train_state pos;
    int same_data;
} jn_cli_state;

int jn_cli_state_load(jn_cli_state *st, const jn_config *cli, int same_run);
/* jn_cli_state_load in two: the checkpoint read and the options checked, then the data read and
 * the rest, for what must be refused in between (check's missing GPU: a bad option or
 * checkpoint is said first, on every machine). Each returns as jn_cli_state_load. */
int jn_cli_state_configure(jn_cli_state *st, const jn_config *cli, int same_run);
int jn_cli_state_finish(jn_cli_state *st, const jn_config *cli, int same_run);

/* Where the last error refuses an option of `keys` (NULL-terminated) that the command line
 * did not give, the value was stored in `file` (a checkpoint, a run's config.txt): the
 * message is prefixed "file: stored configuration", lest it read as the command line's.
 * Returns -1. jn_cli_data_keys: the options that choose the examples read (--data, --test,
 * --valid, --train-limit), which a checkpoint stores. */
extern const char *const jn_cli_data_keys[];
int jn_cli_blame_stored(const jn_config *cli, const char *file, const char *const *keys);
void jn_cli_state_free(jn_cli_state *st);
/* After a checkpoint could not be read: where the path is a run folder, or a best.ckpt its
 * run has not written yet, says so and which file to give instead. Returns -1. */
int jn_cli_checkpoint_unread(const char *checkpoint);
/* Writes to out the path of the run folder's file `name` beside `file` (a checkpoint): its
 * folder as the user wrote it, none for a bare name, as train names the files from --out. */
void jn_cli_beside(char *out, size_t cap, const char *file, const char *name);

int jn_cmd_train(int argc, char **argv);
int jn_cmd_eval(int argc, char **argv);
int jn_cmd_step(int argc, char **argv);
int jn_cmd_data(int argc, char **argv);
int jn_cmd_info(int argc, char **argv);
int jn_cmd_show(int argc, char **argv);
int jn_cmd_check(int argc, char **argv);
int jn_cmd_profile(int argc, char **argv);
int jn_cmd_sweep(int argc, char **argv);

#endif
