/* jacnoise sweep: run a sweep, print its status, merge shards' folders. */
#include "cli/cli.h"
#include "jacnoise/error.h"
#include "jacnoise/sweep.h"
#include "jacnoise/train.h"

#include <stdio.h>
#include <string.h>

static void status_help(void)
{
    printf("usage: jacnoise sweep status DIR\n\n"
           "Prints the progress of the sweep in DIR, read from its run folders: configurations done,\n"
           "diverged, failed, running (started, not ended), interrupted (stopped; a rerun resumes them)\n"
           "and pending (and unreadable: a damaged summary.json, which a rerun writes again), a line for\n"
           "each run whose metrics.jsonl is damaged (naming the file and line), the best by validation\n"
           "error, where results.csv and the plots are, and, where configurations are unfinished, how\n"
           "to continue (how many failed, to fix first): in the folder of a Slurm job array, which of\n"
           "its tasks to resubmit (also those of a cancelled array that never started).\n"
           "In a shard's own folder, those of the shards that never ran there are counted apart\n"
           "(DIR/shards records the shards that did), with no rerun said for them, as in the table the\n"
           "sweep prints at its end.\n");
    jn_cli_print_operands_help("sweep status", "DIR");
}

static void merge_help(void)
{
    printf("usage: jacnoise sweep merge DIR [SHARD_DIR...]\n\n"
           "Copies into DIR the run folders of the SHARD_DIRs (shards of the same spec run into\n"
           "separate folders) that are further along than DIR's own (a finished run over an\n"
           "unfinished one), then regenerates DIR/results.csv and prints the status. With DIR alone\n"
           "(shards that shared one folder), regenerates DIR/results.csv. A run folder, of DIR or\n"
           "to copy, that a running sweep trains (its lock held) refuses the merge: nothing is\n"
           "copied, and nothing written (a DIR not there is not made).\n");
    jn_cli_print_operands_help("sweep merge", "DIR [SHARD_DIR...]");
}

/* The folders after `status` or `merge`: no options (a "--" before them ends the options). */
static int folders(int *argc, char **argv, int at_least, int at_most, const char *what)
{
    char command[16];
    snprintf(command, sizeof command, "sweep %s", what);
    if (jn_cli_operands(argc, argv, command, "folder"))
        return -1;
    if (*argc < at_least || (at_most && *argc > at_most))
        return jn_fail("sweep %s: expected %s (see jacnoise sweep %s --help)", what,
                       at_most == 1 ? "one sweep folder" : "a sweep folder, then the folders to merge into it", what);
    return 0;
}

int jn_cmd_sweep(int argc, char **argv)
{
    if (argc > 0 && !strcmp(argv[0], "status")) {
        if (jn_cli_wants_help(argc - 1, argv + 1))
            return status_help(), 0;
        int n = argc - 1;
        if (folders(&n, argv + 1, 1, 1, "status"))
            return jn_cli_fail(JN_EXIT_USAGE);
        int code = jn_sweep_status(argv[1]);
        return code ? jn_cli_fail(code) : 0;
    }
    if (argc > 0 && !strcmp(argv[0], "merge")) {
        if (jn_cli_wants_help(argc - 1, argv + 1))
            return merge_help(), 0;
        int n = argc - 1;
        if (folders(&n, argv + 1, 1, 0, "merge"))
            return jn_cli_fail(JN_EXIT_USAGE);
        int code = jn_sweep_merge(argv[1], (const char *const *)argv + 2, n - 1);
        return code ? jn_cli_fail(code) : 0;
    }
    jn_config cfg;
    int rc = jn_cli_parse(argc, argv, JN_CMD_SWEEP, &cfg);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (!cfg.spec[0])
        return jn_fail("sweep: --spec FILE is required (see jacnoise sweep --help)"), jn_cli_fail(JN_EXIT_USAGE);
    /* An empty value (out= in a --config file) is none, as an empty spec= is: one refusal. */
    if (!jn_config_given(&cfg, "out") || !cfg.out[0])
        return jn_fail("sweep: --out DIR is required: the sweep folder (see jacnoise sweep --help)"),
               jn_cli_fail(JN_EXIT_USAGE);
    return jn_sweep_run(&cfg);  /* it prints its errors */
}
