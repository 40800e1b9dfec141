/* Command-line parsing shared by the commands: --key=value, --key value, flags, --config,
 * --help. */
#include "cli/cli.h"
#include "core/options.h"
#include "jacnoise/backend.h"
#include "jacnoise/error.h"
#include "jacnoise/sweep.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct {
    unsigned command;
    const char *usage;
} usages[] = {
    {JN_CMD_TRAIN, "jacnoise train [options]\n\nTrains a tanh MLP with the options below and writes a run folder (--out):\n"
                   "config.txt, metrics.jsonl, last.ckpt, best.ckpt, summary.json.\n"
                   "Exit status: 0 finished, early-stopped or paused (--max-steps), 1 error (one line), 2 bad\n"
                   "options, 3 diverged (NaN or Inf), 130/143 interrupted by SIGINT/SIGTERM or SIGHUP, 141 its\n"
                   "standard output closed (train ... | head): stopped with last.ckpt written (--resume continues)."},
    {JN_CMD_EVAL, "jacnoise eval --checkpoint FILE [options]\n\nEvaluates a checkpoint on its validation and test sets: error, mean exact\n"
                  "||J_output||_F^2, curvature estimate, hidden-unit saturation and activation histogram\n"
                  "(20 bins over [-1, 1]), errors under input noise (--eval-noise). Prints JSON.\n"
                  "An option not given is the checkpoint's (its run's data, splits and seed), not the\n"
                  "default in brackets; --curv-noise, --eval-limit, --eval-noise, --progress and --threads\n"
                  "are eval's own."},
    {JN_CMD_STEP, "jacnoise step [--checkpoint FILE] --dump FILE [options]\n\nRuns the next training step of a checkpoint (or the first step of a fresh run)\n"
                  "and writes its step state: inputs, noise, loss terms, gradients, update.\n"
                  "With --checkpoint, an option not given is its run's, not the default in brackets;\n"
                  "--threads is step's own.\n"
                  "Exit status 3: the step diverges (a loss, gradient or update NaN or Inf), its state\n"
                  "written all the same for debugging."},
    {JN_CMD_DATA, "jacnoise data [options]\n\nLoads a data set and prints its splits as JSON: shapes, classes, class counts, and the\n"
                  "range and mean of the input values."},
    {JN_CMD_CHECK, "jacnoise check [--checkpoint FILE] [--steps N] [--precision fp32|tf32] [--tolerance auto|X] [options]\n\nRuns N training steps on the CUDA engine and on the CPU reference from one state,\n"
                   "on identical inputs (the GPU's batches and noise, copied to the CPU), and compares\n"
                   "loss terms, every gradient (with a penalty, also with lambda raised until the penalty's\n"
                   "gradient leads it: pgrad) and the parameters after N steps. The automatic tolerance\n"
                   "is 1e-4 in fp32; with --precision tf32 it is derived from TF32's mantissa and the first\n"
                   "step's saturated tanh units (and explained).\n"
                   "With --checkpoint, an option not given is its run's, not the default in brackets;\n"
                   "--steps, --threads and --tolerance are check's own, and --precision may differ from the\n"
                   "run's: it is the precision of the GPU's GEMMs checked against the fp32 CPU reference."},
    {JN_CMD_INFO, "jacnoise info\n\nPrints the build: version, precision, BLAS (its core and threads, and the CPU features),\n"
                  "CUDA, and the data folder of each named set."},
    {JN_CMD_SWEEP, "jacnoise sweep --spec FILE --out DIR [options]\n"
                   "       jacnoise sweep status DIR\n"
                   "       jacnoise sweep merge DIR [SHARD_DIR...]\n\n"
                   "Trains every configuration of a spec (fixed and swept train options; README \"Sweeps\"),\n"
                   "each in DIR/runs/ID, an ordinary run folder, and keeps DIR/results.csv current. Run the\n"
                   "same command again to resume: done configurations are skipped, unfinished ones continue\n"
                   "from their last checkpoint. Configurations of one shape train together, --models per\n"
                   "group, each to the bytes it would have trained to alone. Configurations that differ\n"
                   "only in options that change nothing (the penalty's at jac-lambda 0) train once. The spec:\n"
                   "  key = value                fixed (any train option, without the dashes; \"...\" if it holds ( or [)\n"
                   "  key = [v1, v2, ...]        grid (\"...\" quotes a value with commas)\n"
                   "  key = uniform(a, b)        random search; also log-uniform(a, b), choice(v1, v2, ...)\n"
                   "  samples = N                draws of the random keys\n"
                   "  seeds = N                  repeats with seeds S .. S+N-1 (S: the seed given, or 1)\n"
                   "  search-seed = N            seed of the random draws\n"
                   "Exit status: 0 done (diverged configurations are results), 1 failed configurations\n"
                   "(named, each with why; rerun to retry once that is fixed: a run whose last.ckpt cannot\n"
                   "be read trains afresh once that file is removed), no usable GPU for --device cuda\n"
                   "(one line, nothing written), results.csv not written (sweep merge DIR writes it), or a\n"
                   "run that another jacnoise process trains (the same sweep running already: it stops\n"
                   "there), 2 bad spec or options, 130/143 interrupted by SIGINT/SIGTERM or SIGHUP, 141 its\n"
                   "standard output closed (sweep ... | head): stopped, each run saved (rerun to resume)."},
    {JN_CMD_PROFILE, "jacnoise profile [options]\n\nTimes the training step of the configuration given by the training options, phase by\n"
                     "phase (data, forward, jvp, penalty, backward, update), with each phase's FLOPs and\n"
                     "GFLOP/s; the same step without the penalty and without noise (the overhead ratio next\n"
                     "to the FLOP ratio); the step's GEMMs alone (the floor) in the same run; the BLAS core and\n"
                     "the machine's measured peak. --grid profiles every combination of a grid into --csv\n"
                     "(plot it with tools/plot_profile.py). On the CUDA backend (--device cuda; auto picks it\n"
                     "when a GPU is present) the phases are timed by CUDA events with the graph off, the step\n"
                     "also as training replays it (one CUDA graph: the one whose time, GFLOP/s and ratio to the\n"
                     "floor each variant's row gives), and the kernel launches are counted.\n"
                     "For example:\n"
                     "  jacnoise profile --jac-lambda 0.1 --jac-noise 0.3 --hidden 1000,1000 \\\n"
                     "    --grid 'batch=1 10 100 1000; jac-target=hidden1 output; jac-proj=1 3 exact'"},
};

static void print_help(unsigned command)
{
    for (size_t i = 0; i < sizeof usages / sizeof usages[0]; i++)
        if (usages[i].command == command)
            printf("usage: %s\n\noptions:\n", usages[i].usage);
    jn_config_print_help(stdout, command);
    printf("  %-28s %s\n", "--help", "this help");
    /* Every command with options takes --config; info, which takes none, has no footer on them. */
    if (!jn_config_accepts(command, "config"))
        return;
    /* The last of a repeated option wins, so that a wrapper's defaults give way to options
     * passed on after them (tools/sweep-local-gpus.sh: --progress never "$@"). */
    printf("\nOptions take --key=value or --key value (a value that starts with -- only --key=value); an option\n"
           "given twice takes its last value.\n");
    printf("A --config file (one) holds key=value lines, each key once, and # comment lines (a # after a\n"
           "value is part of it, as file names may hold one); the command line wins over it.\n");
}

/* The command line parsed, for jn_cli_fail to name the --config line of a value refused later
 * (by a check of the options together, or once the data is loaded). */
static jn_config parsed;

/* Sets the option, refused where the command lacks it. A sweep refusing a run option (--epochs 5,
 * or epochs = 5 in its --config file) says where it goes, the spec (epochs = 5): the list of the
 * sweep's own options alone said nothing of it. */
static int set_option(jn_config *cfg, unsigned command, const char *key, const char *value)
{
    if (command == JN_CMD_SWEEP && !jn_config_accepts(command, key) && jn_sweep_spec_accepts(key)) {
        /* The value up to a '#', which starts a comment in the spec: "lr = 0.1 # x" there is 0.1. */
        int n = (int)strcspn(value, "#");
        while (n > 0 && isspace((unsigned char)value[n - 1]))
            n--;
        const char *shown = n > 0 && strncmp(value, "--", 2) ? value : "VALUE";
        if (shown != value)
            n = (int)strlen(shown);
        return jn_fail("--%s: not an option of 'jacnoise sweep'; a run option: set it in the spec (%s = %.*s)", key,
                       key, n, shown);
    }
    return jn_config_set(cfg, command, key, value);
}

/* Splits argv[i] ("--key=value" or "--key" [value]) and applies it; advances *i. */
static int apply_arg(jn_config *cfg, unsigned command, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *cmd = jn_config_command_name(command);
    if (jn_cli_refuse_help_value(arg))
        return -1;
    /* It ends the options, as --help reads it (jn_cli_wants_help): "eval -- x" read "options
     * start with --" of the -- itself. */
    if (!strcmp(arg, "--"))
        return jn_fail("%s: unexpected argument '--': it ends the options, and %s takes nothing but options "
                       "(see jacnoise %s --help)", cmd, cmd, cmd);
    if (strncmp(arg, "--", 2) != 0) {
        /* A flag takes no separate value: "--resume auto" means "--resume=auto". */
        const char *prev = *i > 0 ? argv[*i - 1] : "";
        if (!strncmp(prev, "--", 2) && jn_config_is_flag(prev + 2))
            return jn_fail("%s: unexpected argument '%s' after the flag %s; to give it a value write %s=%s", cmd, arg,
                           prev, prev, arg);
        /* -lr, or --lr turned into a dash by a word processor (en or em dash) */
        static const char *const dashes[] = {"-", "\xe2\x80\x93", "\xe2\x80\x94"};
        for (size_t k = 0; k < sizeof dashes / sizeof *dashes; k++) {
            const size_t skip = strlen(dashes[k]), len = strcspn(arg + skip, "=");
            char name[64];
            if (strncmp(arg, dashes[k], skip) || len >= sizeof name)
                continue;
            memcpy(name, arg + skip, len);
            name[len] = 0;
            if (jn_config_accepts(command, name))
                return jn_fail("%s: unexpected argument '%s' (options start with --: did you mean --%s?)", cmd, arg,
                               arg + skip);
        }
        /* --hidden 1000 1000 or --hidden=1000 1000: the list's second value read as an operand,
         * where it is one argument. The list as given: OPT SEP LIST. */
        const char *opt = *i > 1 ? argv[*i - 2] : "", *sep = " ", *list = prev, *eq = strchr(prev, '=');
        if (!strncmp(prev, "--", 2) && eq)
            opt = prev, sep = "=", list = eq + 1;
        const size_t opt_len = opt == prev ? (size_t)(eq - prev) : strlen(opt);
        char name[64];
        if (!strncmp(opt, "--", 2) && opt_len - 2 < sizeof name && !memchr(opt, '=', opt_len)) {
            memcpy(name, opt + 2, opt_len - 2);
            name[opt_len - 2] = 0;
            if (jn_config_takes_list(name) && jn_config_accepts(command, name))
                return jn_fail("%s: unexpected argument '%s' after %.*s%s%s (a list is one argument, its values joined "
                               "by commas: %.*s%s%s,%s)", cmd, arg, (int)opt_len, opt, sep, list, (int)opt_len, opt, sep, list,
                               arg);
        }
        /* `jacnoise sweep study.spec`: the spec (and the folder) read as operands, as status's
         * and merge's folders are. */
        if (command == JN_CMD_SWEEP)
            return jn_fail("%s: unexpected argument '%s' (a sweep's spec and folder are options: jacnoise sweep --spec "
                           "FILE --out DIR; see jacnoise sweep --help)", cmd, arg);
        return jn_fail("%s: unexpected argument '%s' (options start with --; see jacnoise %s --help)", cmd, arg, cmd);
    }
    char key[128];
    const char *eq = strchr(arg, '=');
    size_t key_len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (key_len >= sizeof key)
        return jn_fail("option '%.40s...' is too long", arg);
    memcpy(key, arg + 2, key_len);
    key[key_len] = 0;
    const char *value;
    if (eq)
        value = eq + 1;
    else if (jn_config_is_flag(key))
        value = "true";
    else if (*i + 1 < argc && !strncmp(argv[*i + 1], "--", 2) && jn_config_accepts(command, key))
        /* The value left out (--out "$DIR" with DIR unset): the next option is no value, or
         * train --out --resume would train in a folder named --resume. */
        return jn_fail("--%s: missing value (the next argument, %s, starts with -- as an option does; a value that starts with -- "
                       "is given as --%s=%s)", key, argv[*i + 1], key, argv[*i + 1]);
    else if (*i + 1 < argc)
        value = argv[++*i];
    else if (jn_config_accepts(command, key))
        return jn_fail("--%s: missing value", key);
    else
        return set_option(cfg, command, key, "");  /* refused: names the valid options */
    /* An empty name (--out "$DIR" with DIR empty) names nothing: taken, --data-dir searched the
     * default folders, --out said 'required' of what was given. A config file's empty value is
     * still taken as the default: config.txt writes every option, given or not. */
    const char *noun = jn_config_path_noun(key);
    if (!value[0] && noun && jn_config_accepts(command, key))
        return jn_fail("--%s '': empty %s name", key, noun);
    return set_option(cfg, command, key, value);
}

int jn_cli_refuse_help_value(const char *arg)
{
    const int len = (int)strcspn(arg, "=");
    if (arg[len] && ((len == 6 && !strncmp(arg, "--help", 6)) || (len == 2 && !strncmp(arg, "-h", 2))))
        return jn_fail("%.*s: takes no value (got '%s'); give %.*s alone", len, arg, arg, len, arg);
    return 0;
}

int jn_cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc && strcmp(argv[i], "--"); i++)  /* after --, a file named --help */
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

void jn_cli_print_operands_help(const char *what, const char *operands)
{
    printf("\nA name that starts with - is given after --, which ends the options: jacnoise %s -- %s\n", what,
           operands);
}

int jn_cli_operands(int *argc, char **argv, const char *what, const char *noun)
{
    int n = 0, ended = 0;
    for (int i = 0; i < *argc; i++) {
        if (!ended && !strcmp(argv[i], "--")) {
            ended = 1;
            continue;
        }
        if (!ended && jn_cli_refuse_help_value(argv[i]))
            return -1;
        if (!ended && argv[i][0] == '-')
            return jn_fail("%s: unexpected option '%s' (see jacnoise %s --help; a name that starts with - is given "
                           "after --: jacnoise %s -- %s)", what, argv[i], what, what, argv[i]);
        /* As an option's empty value is: show's read ': cannot open'. */
        if (!argv[i][0])
            return jn_fail("%s: an empty %s name (argument %d)", what, noun, n + 1);
        argv[n++] = argv[i];
    }
    *argc = n;
    return 0;
}

int jn_cli_parse(int argc, char **argv, unsigned command, jn_config *cfg)
{
    jn_config_defaults(cfg);
    if (jn_cli_wants_help(argc, argv)) {
        print_help(command);
        return 1;
    }
    /* The --config file first, so that the command line wins. */
    jn_config from_args;
    jn_config_defaults(&from_args);
    char first_config[sizeof from_args.config_file] = "";
    for (int i = 0; i < argc; i++) {
        if (apply_arg(&from_args, command, argc, argv, &i))
            return -1;
        if (!jn_config_given(&from_args, "config"))
            continue;
        if (first_config[0] && strcmp(first_config, from_args.config_file))
            return jn_fail("--config given twice (%s, then %s): only one file is read; merge them", first_config,
                           from_args.config_file);
        strcpy(first_config, from_args.config_file);
    }
    if (first_config[0] && jn_config_load_file_with(cfg, command, first_config, set_option))
        return jn_fail_option("--config", first_config);
    for (int i = 0; i < argc; i++)
        if (apply_arg(cfg, command, argc, argv, &i))
            return -1;
    parsed = *cfg;
    return 0;
}

int jn_cli_fail(int status)
{
    jn_config_blame_file(&parsed);
    fprintf(stderr, "jacnoise: %s\n", jn_last_error());
    return status;
}

int jn_cli_cuda_unusable(char *why, size_t cap)
{
    static const char option[] = "--device cuda: ";
    if (!jn_cuda_device_check())
        return 0;
    const char *last = jn_last_error();
    snprintf(why, cap, "%s", strncmp(last, option, sizeof option - 1) ? last : last + sizeof option - 1);
    return -1;
}

/* Whether the ", "-separated list names holds the len bytes at name as one of its names. */
static int names_hold(const void *names, const char *name, size_t len)
{
    for (const char *p = names; *p; p += strspn(p, ", ")) {
        const size_t n = strcspn(p, ",");
        if (n == len && !strncmp(p, name, len))
            return 1;
        p += n;
    }
    return 0;
}

/* Whether the configuration `given` gave the option the len bytes at name name ("--jac-noise"). */
static int option_given(const void *given, const char *name, size_t len)
{
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)len - 2, name + 2);
    return jn_config_given(given, key);
}

/* Keeps of the ", "-separated option names in names those keep(arg, name, length) holds;
 * returns how many. */
static int keep_names_if(char *names, int (*keep)(const void *arg, const char *name, size_t len), const void *arg)
{
    char *out = names;
    int n = 0;
    for (const char *name = names; *name; name += strspn(name, ", ")) {
        const size_t len = strcspn(name, ",");
        if (keep(arg, name, len)) {
            if (n++)
                memcpy(out, ", ", 2), out += 2;  /* out stays at or behind name: a copy within */
            memmove(out, name, len), out += len;
        }
        name += len;
    }
    *out = 0;
    return n;
}

int jn_cli_keep_names(char *names, const char *among) { return keep_names_if(names, names_hold, among); }

/* `--jac-noise 0.1` alone trains (or profiles) the plain MLP: the corruption is the penalty's
 * input, and noise on the training input is --input-noise. Likewise copies of an uncorrupted
 * input under an estimator that draws nothing (hidden1's closed form, the exact norm) are one
 * penalty computed M times, its mean the same up to rounding (so not merged by a sweep, whose
 * merged runs must be the bytes they would be alone). Their warnings, one line each, into out;
 * of the options inert, only those `among` names (jn_config_drop_inert's list; NULL: all) and
 * `given` gave (NULL: all). */
void jn_cli_inert_warnings(const jn_config *cfg, const char *among, const jn_config *given, char *out, size_t cap)
{
    jn_config effective = *cfg;
    char names[128];
    int n = jn_config_drop_inert(&effective, names, sizeof names);
    if (among)
        n = jn_cli_keep_names(names, among);
    if (given)
        n = keep_names_if(names, option_given, given);
    size_t used = 0;
    out[0] = 0;
    if (n > 0 && cfg->obj.jac_lambda == 0)
        used += (size_t)snprintf(out, cap, "jacnoise: warning: %s change%s nothing without the penalty (--jac-lambda 0)%s\n",
                                 names, n == 1 ? "s" : "",
                                 strstr(names, "--jac-noise") ? "; noise on the training input is --input-noise" : "");
    else if (n > 0)
        used += (size_t)snprintf(out, cap, "jacnoise: warning: --jac-proj changes nothing for --jac-target hidden1 (a closed form)\n");
    const jn_objective *obj = &effective.obj;
    if (used < cap && obj->jac_lambda > 0 && obj->jac_noise == 0 && obj->jac_copies > 1 &&
        (!given || jn_config_given(given, "jac-copies")) && (obj->target == JN_TARGET_HIDDEN1 || obj->jac_proj == JN_PROJ_EXACT))
        snprintf(out + used, cap - used, "jacnoise: warning: --jac-copies %d without --jac-noise computes one penalty %d "
                 "times (%s draws nothing): the same result at %d times its cost\n", obj->jac_copies, obj->jac_copies,
                 obj->target == JN_TARGET_HIDDEN1 ? "hidden1's closed form" : "the exact norm", obj->jac_copies);
}

/* Says so; the command runs as asked. */
void jn_cli_warn_inert(const jn_config *cfg, const jn_config *given)
{
    char text[1024];
    jn_cli_inert_warnings(cfg, NULL, given, text, sizeof text);
    fputs(text, stderr);
}
