/* jacnoise: train, evaluate and inspect Jacobian-penalised tanh MLPs. */
#include "cli/cli.h"
#include "jacnoise/blas.h"
#include "jacnoise/error.h"
#include "jacnoise/train.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name, *help;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"train", "train a model (MLP, +L2, +N, +J, +N+J) and write a run folder", jn_cmd_train},
    {"eval", "evaluate a checkpoint: errors, ||J||_F^2, curvature, saturation", jn_cmd_eval},
    {"step", "run one training step and dump its full state (--dump)", jn_cmd_step},
    {"data", "load a data set and print its splits and class counts", jn_cmd_data},
    {"sweep", "train every configuration of a sweep spec; sweep status DIR, sweep merge DIR...", jn_cmd_sweep},
    {"check", "CUDA engine against the CPU reference, step by step (needs a GPU)", jn_cmd_check},
    {"profile", "time the training step phase by phase against its GEMM floor and the peak", jn_cmd_profile},
    {"show", "verify a checkpoint or step state and print what it holds", jn_cmd_show},
    {"info", "print the build: version, precision, BLAS, CPU features, CUDA, data folders", jn_cmd_info},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: jacnoise COMMAND [options]   (jacnoise help COMMAND, or COMMAND --help, for its options)\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\njacnoise --version prints the version (jacnoise info: the whole build).\n");
}

/* The command named `name`, or NULL after one line naming the valid ones. */
static int (*find_command(const char *name))(int, char **)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run;
    char valid[128] = "";
    for (size_t i = 0; i < N_COMMANDS; i++)
        snprintf(valid + strlen(valid), sizeof valid - strlen(valid), " %s", commands[i].name);
    jn_fail("unknown command '%s'; valid commands:%s", name, valid);
    jn_cli_fail(JN_EXIT_USAGE);
    return NULL;
}

/* What a command printed on stdout (eval's and data's JSON, show's summary) must have reached
 * it (jn_stdout_lost). */
static int with_stdout_written(int status)
{
    const char *lost = jn_stdout_lost();
    /* train or sweep stopped for its closed output has said so on stderr. */
    if (!lost || status == JN_EXIT_SIGPIPE)
        return status;
    fprintf(stderr, "jacnoise: writing the standard output failed: %s\n", lost);
    return status ? status : JN_EXIT_ERROR;
}

/* A standard stream closed by the caller (>&-) is opened on /dev/null, for reading where it
 * is written: the first file opened took its number, and train's lines went into its run
 * folder's lock file with exit 0; now a write fails (EBADF), said as any lost output is. */
static void open_closed_streams(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF && open("/dev/null", fd ? O_RDONLY : O_WRONLY) != fd)
            _exit(JN_EXIT_ERROR);
}

/* Whether arg asks for help as a command: help, --help or -h. */
static int asks_help(const char *arg)
{
    return !strcmp(arg, "help") || !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int main(int argc, char **argv)
{
    open_closed_streams();
    /* Before anything else: may run the program again with OpenBLAS's fast kernels. */
    jn_blas_core_init(argv);
    /* Past a file-size limit (ulimit -f) write() should fail with EFBIG, which every write
     * reports and recovers from (temporary file removed, previous file kept); the default
     * SIGXFSZ would kill the process mid-write, silently, and leave the temporary file. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (jn_cli_refuse_help_value(argv[1]))
        return jn_cli_fail(JN_EXIT_USAGE);
    const int help = asks_help(argv[1]);
    if (help && argc > 2) {  /* help CMD (or --help CMD), as in git: CMD --help */
        /* sweep's own commands have their help: help sweep status is sweep status --help */
        const int sweep = !strcmp(argv[2], "sweep");
        const int sub = sweep && argc > 3 && (!strcmp(argv[3], "status") || !strcmp(argv[3], "merge"));
        /* What follows the command (and sweep's own) named: 'help sweep status x' named 'status'. */
        if (argc > 3 + sub) {
            if (sweep && !sub)
                jn_fail("help sweep: '%s' is no command of sweep (its own: status, merge)", argv[3]);
            else
                jn_fail("help: one command at a time (got '%s' after '%s%s%s')", argv[3 + sub], argv[2],
                        sub ? " " : "", sub ? argv[3] : "");
            return jn_cli_fail(JN_EXIT_USAGE);
        }
        if (asks_help(argv[2])) {  /* help on help (help --help too): the general usage, which says how */
            usage(stdout);
            return with_stdout_written(0);
        }
        int (*run)(int, char **) = find_command(argv[2]);
        char help[] = "--help", *help_argv[] = {sub ? argv[3] : help, help, NULL};
        return run ? with_stdout_written(run(1 + sub, help_argv)) : 2;
    }
    if (help) {
        usage(stdout);
        return with_stdout_written(0);
    }
    if (!strcmp(argv[1], "--version")) {
        if (argc > 2) {
            jn_fail("--version: unexpected argument '%s' (it takes none)", argv[2]);
            return jn_cli_fail(JN_EXIT_USAGE);
        }
        printf("jacnoise %s\n", JACNOISE_VERSION);
        return with_stdout_written(0);
    }
    int (*run)(int, char **) = find_command(argv[1]);
    return run ? with_stdout_written(run(argc - 2, argv + 2)) : 2;
}
