/* jacnoise profile: the training step of a configuration, phase by phase, against its
 * GEMM floor, the same step without the penalty and without noise, and the machine's
 * measured peak; or (--grid) every combination of a grid, as one CSV row each. */
#include "cli/cli.h"
#include "core/fileio.h"
#include "jacnoise/backend.h"
#include "jacnoise/error.h"
#include "jacnoise/profile.h"
#include "jacnoise/train.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The configuration's model on this training set, refused where a batch would not fit in it. */
static int profile_model(const jn_config *cfg, const jn_dataset *train, jn_model *m)
{
    if (jn_config_model(cfg, train->d, train->classes, m))
        return -1;
    if (cfg->batch > train->n)
        return jn_fail("--batch %d: larger than the %d training example%s", cfg->batch, train->n,
                       train->n == 1 ? "" : "s");
    return 0;
}

/* Profiles one configuration on the loaded training set into res; a grid's combination
 * cell (from 1) of cells for the progress line (0 of 0 outside a grid). */
static int profile_one(const jn_config *cfg, const jn_dataset *train, const jn_profile_machine *machine, long cell,
                       long cells, jn_profile_result *res)
{
    jn_model m;
    if (profile_model(cfg, train, &m))
        return -1;
    jn_objective objs[JN_PROFILE_MAX_VARIANTS];
    const char *names[JN_PROFILE_MAX_VARIANTS];
    const int n = jn_profile_variants(&cfg->obj, objs, names);
    const jn_profile_setup setup = {cfg->batch, cfg->seed, cfg->lr, cfg->momentum};
    jn_profile_target *targets[JN_PROFILE_MAX_VARIANTS] = {0};
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = (targets[i] = !strcmp(machine->backend, "cuda")
                               ? jn_cuda_profile_target_create(&m, &objs[i], &setup, train, cfg->tf32)
                               : jn_cpu_profile_target_create(&m, &objs[i], &setup, train))
                 ? 0
                 : -1;
    memset(res, 0, sizeof *res);
    res->machine = *machine;
    jn_config_get(cfg, "seed", res->seed, sizeof res->seed);
    jn_config_get(cfg, "lr", res->lr, sizeof res->lr);
    jn_config_get(cfg, "loss", res->loss, sizeof res->loss);
    jn_model_describe(&m, res->model, sizeof res->model);
    if (!rc) {
        const jn_profile_rounds rounds = {cfg->reps, cfg->warmup, cfg->time_limit, cfg->progress, jn_train_stop_signal,
                                          cell, cells};
        rc = jn_profile_run(targets, names, objs, n, &m, cfg->batch, &rounds, res);
    }
    for (int i = 0; i < n; i++)
        if (targets[i])
            targets[i]->ops->destroy(targets[i]);
    return rc;
}

/* ---- grids -------------------------------------------------------------------------- */

#define GRID_AXES 16
#define GRID_VALUES 32
#define GRID_CELLS 100000L

typedef struct {
    char key[64];
    char at[48];  /* where it was given ("line 2, entry 3"), for a second entry of the key */
    int n;
    char value[GRID_VALUES][128];
} grid_axis;

typedef struct {
    int n;
    grid_axis axis[GRID_AXES];
} grid;

/* Options a grid may not vary: they choose the data, the outputs, or the grid itself, the
 * machine that every row shares (its threads and precision: set, and its peak measured, once),
 * or the one progress line of the whole grid. */
static int fixed_option(const char *key)
{
    static const char *fixed[] = {"data", "data-dir", "test", "valid", "train-limit", "grid", "csv", "json",
                                  "config", "device", "max-gflop", "threads", "precision", "progress"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(key, fixed[i]))
            return 1;
    return 0;
}

/* One entry "key = v1 v2 ..." found `at` ("line 2, entry 3"), each value checked on a scratch
 * configuration (origin: "--grid FILE: line 2, entry 3", for messages). */
static int parse_entry(grid *g, char *entry, const char *at, const char *origin)
{
    char *eq = strchr(entry, '=');
    if (!eq)
        return jn_fail("%s: expected key=value value ..., got '%s'", origin, entry);
    *eq = 0;
    char *key = jn_config_trim(entry), *values = eq + 1;
    if (!strncmp(key, "--", 2))
        key += 2;
    if (!*key)
        return jn_fail("%s: expected key=value value ..., got no key before '='", origin);
    if (fixed_option(key))
        return jn_fail("%s: --%s cannot vary within a grid (give it on the command line)", origin, key);
    if (!jn_config_accepts(JN_CMD_PROFILE, key))  /* the keys it may take, not every option */
        return jn_config_fail_unknown(key, JN_CMD_PROFILE, fixed_option, "grid key"), jn_fail_context("%s", origin);
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->axis[i].key, key))
            return jn_fail("%s: %s given twice (first on %s)", origin, key, g->axis[i].at);
    if (g->n == GRID_AXES)
        return jn_fail("%s: at most %d keys", origin, GRID_AXES);
    grid_axis *a = &g->axis[g->n];
    memset(a, 0, sizeof *a);
    if (strlen(key) >= sizeof a->key)
        return jn_fail("%s: key '%.40s...' too long", origin, key);
    strcpy(a->key, key);
    snprintf(a->at, sizeof a->at, "%s", at);
    for (char *v = strtok(values, " \t\r"); v; v = strtok(NULL, " \t\r")) {
        if (a->n == GRID_VALUES || strlen(v) >= sizeof a->value[0])
            return jn_fail("%s: %s: at most %d values of up to %zu characters", origin, key, GRID_VALUES,
                           sizeof a->value[0] - 1);
        /* A slip (batch=4 8 8): each combination with it would be skipped as a repeat. */
        for (int i = 0; i < a->n; i++)
            if (!strcmp(a->value[i], v))
                return jn_fail("%s: %s: %s given twice", origin, key, v);
        jn_config scratch;
        jn_config_defaults(&scratch);
        if (jn_config_set(&scratch, JN_CMD_PROFILE, key, v))
            return jn_fail_context("%s", origin);
        strcpy(a->value[a->n++], v);
    }
    if (a->n == 0)
        return jn_fail("%s: %s has no values", origin, key);
    g->n++;
    return 0;
}

/* The grid from --grid: a file's lines, or the option's text with entries split by ';'. */
static int parse_grid(const char *spec, grid *g)
{
    unsigned char *data = NULL;
    size_t len = 0;
    /* Only looked at, not opened: opening a FIFO would wait for a writer (jn_read_file
     * refuses what is not a regular file without waiting). */
    struct stat st;
    const int exists = stat(spec, &st) == 0;
    char origin[JN_PATH_MAX + 32];
    if (!exists && !strchr(spec, '=')) {  /* not a grid's text: a file that cannot be read */
        if (errno != ENOENT)
            return jn_fail("--grid %s: %s", spec, strerror(errno));
        return jn_fail("--grid %s: no such file, and not a grid (expected key=value value ...; key=...)", spec);
    }
    if (exists) {
        /* As a --config or a sweep's spec: a file given by mistake (a data set) may be gigabytes. */
        if (jn_read_file_max(spec, 1 << 20, &data, &len))
            return jn_fail_option("--grid", spec);
        snprintf(origin, sizeof origin, "--grid %s", spec);
    } else {
        len = strlen(spec);
        data = malloc(len + 1);
        if (!data)
            return jn_fail("--grid: out of memory");
        memcpy(data, spec, len);
        snprintf(origin, sizeof origin, "--grid");
    }
    const unsigned char *nul = memchr(data, 0, len);
    if (nul) {
        const size_t at = (size_t)(nul - data);
        int line = 1;  /* as every other line of the grid is named */
        for (size_t i = 0; i < at; i++)
            line += data[i] == '\n';
        free(data);
        return jn_fail("%s: line %d, byte offset %zu: a NUL byte (not a text file)", origin, line, at);
    }
    /* A byte-order mark (an editor's UTF-8 file) is no part of the first key. */
    const size_t bom = len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;
    char *text = malloc(len - bom + 1);
    if (!text) {
        free(data);
        return jn_fail("--grid: out of memory");
    }
    memcpy(text, data + bom, len - bom);
    text[len - bom] = 0;
    free(data);
    memset(g, 0, sizeof *g);
    int rc = 0, line = 1, entry = 0;
    for (char *p = text; *p && !rc;) {
        size_t n = strcspn(p, ";\n");
        char sep = p[n];
        /* Entries split by ';' share a line (all of a --grid given inline): each is named. */
        entry++;
        const int shared = sep == ';' || entry > 1;
        p[n] = 0;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = 0;
        char *s = p;
        while (isspace((unsigned char)*s))
            s++;
        char at[48], where[JN_PATH_MAX + 96];
        snprintf(at, sizeof at, shared ? "line %d, entry %d" : "line %d", line, entry);
        snprintf(where, sizeof where, "%s: %s", origin, at);
        if (*s)
            rc = parse_entry(g, s, at, where);
        if (sep == '\n')
            line++, entry = 0;
        p += n + (sep != 0);
    }
    free(text);
    if (!rc && g->n == 0)
        rc = jn_fail("%s: no entries (expected 'key=v1 v2 ...; key=...')", origin);
    long cells = 1;
    for (int i = 0; i < g->n && !rc; i++)
        if ((cells *= g->axis[i].n) > GRID_CELLS)
            rc = jn_fail("%s: more than %ld combinations", origin, GRID_CELLS);
    return rc;
}

/* What decides a cell's work, for skipping repeats. */
static void cell_key(const jn_config *cfg, char *out, size_t cap)
{
    jn_config c = *cfg;
    jn_config_drop_inert(&c, NULL, 0);
    jn_config_format(&c, JN_CMD_PROFILE, 1, out, cap);
}

/* Keys whose value a row's printed line shows already: the model, B and the penalty. */
static int on_row_line(const char *key)
{
    return !strcmp(key, "hidden") || !strcmp(key, "batch") || !strcmp(key, "jac-target") || !strcmp(key, "jac-proj");
}

/* The configuration of combination `cell` (the last key varies fastest) into cfg, and its
 * "key=value ..." label; unshown (where not NULL, cap long too) gets the part of the label
 * its printed row would not show otherwise (rows over jac-lambda alone looked the same). */
static void cell_config(const jn_config *base, const grid *g, long cells, long cell, jn_config *cfg, char *label,
                        char *unshown, size_t cap)
{
    *cfg = *base;
    label[0] = 0;
    if (unshown)
        unshown[0] = 0;
    long stride = cells;
    for (int i = 0; i < g->n; i++) {
        const grid_axis *a = &g->axis[i];
        stride /= a->n;
        const char *v = a->value[(cell / stride) % a->n];
        jn_config_set(cfg, JN_CMD_PROFILE, a->key, v);  /* checked when parsed */
        size_t used = strlen(label);
        snprintf(label + used, cap - used, "%s%s=%s", used ? " " : "", a->key, v);
        if (unshown && !on_row_line(a->key)) {
            used = strlen(unshown);
            snprintf(unshown + used, cap - used, "%s%s=%s", used ? " " : "", a->key, v);
        }
    }
}

static long grid_cells(const grid *g)
{
    long cells = 1;
    for (int i = 0; i < g->n; i++)
        cells *= g->axis[i].n;
    return cells;
}

/* The options as a grid runs them, its values in place of the command line's: refused only
 * where no combination is a configuration, not where the command line alone is none
 * (--jac-target hidden:2 with --grid 'hidden=5,5 7,7' and the default --hidden of one layer);
 * a combination that is none is skipped as it runs. The command line alone, valid, is no
 * combination: --grid 'jac-target=hidden:2' of a one-layer --hidden ran, loading the data, to
 * skip its every combination. The reason recorded is the command line's where it is none (its
 * option is the one to change), else the first combination's. */
static int grid_check(const jn_config *base, const grid *g)
{
    const long cells = grid_cells(g);
    jn_config cfg;
    char label[512];
    for (long cell = 0; cell < cells; cell++) {
        cell_config(base, g, cells, cell, &cfg, label, NULL, sizeof label);
        if (!jn_config_check(&cfg))
            return 0;
    }
    if (jn_config_check(base))
        return -1;
    cell_config(base, g, cells, 0, &cfg, label, NULL, sizeof label);
    jn_config_check(&cfg);  /* refused, as every combination was: its reason recorded again */
    return jn_fail_context("--grid: every combination is refused, the first (%s)", label);
}

/* Keeps of kept's lines ("...\n" each) those that text holds too. */
static void keep_shared_lines(char *kept, const char *text)
{
    char *out = kept;
    for (char *line = kept; *line;) {
        char *end = strchr(line, '\n');
        const size_t n = (size_t)(end + 1 - line);
        const char after = end[1];
        end[1] = 0;
        const int shared = strstr(text, line) != NULL;  /* each line starts "jacnoise: warning:" */
        end[1] = after;
        if (shared)
            memmove(out, line, n), out += n;
        line = end + 1;
    }
    *out = 0;
}

/* A single profile's warnings of options that change nothing (jn_cli_warn_inert), once, those
 * that every combination gives, naming the options every combination leaves inert: --jac-noise
 * without --jac-lambda over 'batch=1 2' profiled the plain step in silence, and over
 * 'jac-target=hidden1 output' each combination names --jac-target or not. None where a
 * combination makes the option count (the grid's jac-lambda above 0 in one); a combination that
 * repeats another for it is skipped, naming that one. Combinations that are no configuration
 * (skipped) do not count. */
static void grid_warn_inert(const jn_config *base, const grid *g)
{
    const long cells = grid_cells(g);
    char kept[1024] = "", text[1024], label[512], among[128] = "", names[128];
    int first = 1;
    /* The options every combination leaves inert (a line names them alone), then the lines every
     * combination gives. */
    for (long cell = 0; cell < cells && (first || among[0]); cell++) {
        jn_config cfg;
        cell_config(base, g, cells, cell, &cfg, label, NULL, sizeof label);
        if (jn_config_check(&cfg))
            continue;
        jn_config_drop_inert(&cfg, first ? among : names, sizeof names);
        if (!first)
            jn_cli_keep_names(among, names);
        first = 0;
    }
    first = 1;
    for (long cell = 0; cell < cells && (first || kept[0]); cell++) {
        jn_config cfg;
        cell_config(base, g, cells, cell, &cfg, label, NULL, sizeof label);
        if (jn_config_check(&cfg))
            continue;
        jn_cli_inert_warnings(&cfg, among, NULL, first ? kept : text, sizeof text);
        if (!first)
            keep_shared_lines(kept, text);
        first = 0;
    }
    fputs(kept, stderr);
}

/* A grid stopped by sig (SIGINT, SIGTERM, a closed output) at combination `label`, with the
 * n_rows rows done already in csv. */
static int grid_stopped(int sig, const char *label, const char *csv, int n_rows)
{
    const char *stop = sig == SIGPIPE ? "stopped" : "interrupted",
               *how = sig == SIGPIPE ? " (its output was closed: a broken pipe)" : "";
    return n_rows ? jn_fail("%s at %s%s; %s holds the %d combination%s done", stop, label, how, csv, n_rows,
                            n_rows == 1 ? "" : "s")
                  : jn_fail("%s at %s%s; nothing written", stop, label, how);
}

static int run_grid(const jn_config *base, const grid *gp, const jn_dataset *train, const jn_profile_machine *machine)
{
    const grid g = *gp;
    const long cells = grid_cells(&g);
    jn_profile_result *rows = calloc((size_t)cells, sizeof *rows);
    char (*keys)[4096] = calloc((size_t)cells, sizeof *keys);
    long *row_cell = calloc((size_t)cells, sizeof *row_cell);  /* each row's combination, for messages */
    if (!rows || !keys || !row_cell) {
        free(rows), free(keys), free(row_cell);
        return jn_fail("--grid: out of memory for %ld configurations", cells);
    }
    jn_print(stdout, "grid: %ld combination%s; results in %s\n", cells, cells == 1 ? "" : "s", base->csv);
    printf("%-22s %5s %-16s %10s %10s %7s %10s %9s %9s\n", "model", "B", "penalty", "us/step", "floor us", "/floor",
           "plain us", "overhead", "FLOPs");
    /* Seen at once, not with the first row (minutes on a pipe); an output closed already stops
     * the grid before its first combination (the check below), which nothing is lost to. */
    jn_stdout_flush();
    int n_rows = 0, rc = 0, failed = 0;
    char first_failure[1024] = "";
    for (long cell = 0; cell < cells && !rc; cell++) {
        jn_config cfg;
        char label[512], unshown[512];
        cell_config(base, &g, cells, cell, &cfg, label, unshown, sizeof label);
        /* A stop that came after the last round check of the combination before (its row's
         * line to a closed output, a signal): seen here, not after this one's set-up and an
         * untimed and a timed step and floor of its first variant (seconds for a large step). */
        const int stopped = jn_train_stop_signal();
        if (stopped) {
            rc = grid_stopped(stopped, label, base->csv, n_rows);
            break;
        }
        jn_model m;
        if (profile_model(&cfg, train, &m)) {
            jn_print(stdout, "skipped %s: %s\n", label, jn_last_error());
            continue;
        }
        cell_key(&cfg, keys[n_rows], sizeof keys[0]);
        int repeat = 0;
        while (repeat < n_rows && strcmp(keys[repeat], keys[n_rows]))
            repeat++;
        if (repeat < n_rows) {  /* the same work as a row above (an estimator for hidden1, ...) */
            jn_config same;
            char same_label[512];
            cell_config(base, &g, cells, row_cell[repeat], &same, same_label, NULL, sizeof same_label);
            jn_print(stdout, "skipped %s: the same step as %s\n", label, same_label);
            continue;
        }
        row_cell[n_rows] = cell;
        double flops[JN_PHASES];
        const double gflop = jn_step_flops(&m, &cfg.obj, cfg.batch, flops) * 1e-9;
        if (gflop > cfg.max_gflop) {
            jn_print(stdout, "skipped %s: %.3g GFLOP per step > --max-gflop %g\n", label, gflop, cfg.max_gflop);
            continue;
        }
        jn_profile_result *r = &rows[n_rows];
        const int sig = profile_one(&cfg, train, machine, cell + 1, cells, r) ? jn_train_stop_signal() : -1;
        if (sig == 0) {  /* this combination's own failure (its memory): the others still run */
            jn_print(stdout, "failed %s: %s\n", label, jn_last_error());
            jn_stdout_flush();
            if (!failed++)
                snprintf(first_failure, sizeof first_failure, "%s: %s", label, jn_last_error());
        } else if (sig > 0) {
            rc = grid_stopped(sig, label, cfg.csv, n_rows);
        } else {
            const jn_profile_variant *v = &r->v[0], *pl = &r->v[r->n_variants - 1];
            char penalty[48], to_floor[32], overhead[32];
            jn_profile_estimator(&v->obj, penalty, sizeof penalty);
            printf("%-22s %5d %-16s %10.1f %10.1f %7s %10.1f %9s %8.2fx%s%s\n", r->model, r->batch, penalty,
                   1e6 * jn_profile_run_step(v)->median, 1e6 * v->floor.median,
                   jn_profile_ratio(v->step_vs_floor.median, to_floor, sizeof to_floor),
                   1e6 * jn_profile_run_step(pl)->median,
                   jn_profile_ratio(v->step_vs_plain.median, overhead, sizeof overhead), v->total_flops / pl->total_flops,
                   unshown[0] ? "  " : "", unshown);
            jn_stdout_flush();
            rc = jn_profile_write_csv(rows, ++n_rows, cfg.csv);
        }
    }
    if (!rc && n_rows)
        jn_profile_print_ratio_note(stdout, 1);
    if (!rc && failed)
        rc = n_rows ? jn_fail("--grid: %d of %ld combinations failed, the first %s; %s holds the %d done", failed,
                              cells, first_failure, base->csv, n_rows)
                    : jn_fail("--grid: %d of %ld combinations failed, the first %s; --csv %s not written", failed,
                              cells, first_failure, base->csv);
    if (!rc && n_rows == 0)
        rc = jn_fail("--grid: %s %ld combination%s skipped; --csv %s not written", cells == 1 ? "its" : "all", cells,
                     cells == 1 ? "" : "s", base->csv);
    free(rows);
    free(keys);
    free(row_cell);
    return rc;
}

int jn_cmd_profile(int argc, char **argv)
{
    jn_config cfg;
    int rc = jn_cli_parse(argc, argv, JN_CMD_PROFILE, &cfg);
    if (rc)
        return rc > 0 ? 0 : jn_cli_fail(JN_EXIT_USAGE);
    if (!cfg.grid[0] && jn_config_check(&cfg))  /* a grid's: with its values (grid_check) */
        return jn_cli_fail(JN_EXIT_USAGE);
    /* The device as training picks it: --device auto takes a CUDA device when there is one. */
    const int cuda = jn_backend_uses_cuda(cfg.device);
    if (cfg.device == JN_DEVICE_CUDA && !jn_cuda_built()) {
        jn_fail("--device cuda: this build has no CUDA backend (configure with -DJACNOISE_CUDA=ON on a machine with nvcc)");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    /* --device auto without a usable GPU: as train refuses it (a CPU asked for is a bad
     * command line, refused above). */
    if (jn_backend_precision_check(cfg.device, cfg.tf32))
        return jn_cli_fail(JN_EXIT_ERROR);
    if (jn_config_given(&cfg, "grid") && !cfg.grid[0]) {
        jn_fail("--grid: empty (expected 'key=v1 v2 ...; key=...' or a file of such lines)");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    /* A --config file's csv= (taken there, as config.txt's empty values are): the grid ran to its
     * end, then failed to write its table to '' (rename failed). Refused as the command line's is. */
    if (cfg.grid[0] && !cfg.csv[0]) {
        jn_fail("--csv '': empty file name");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    if (!cfg.grid[0] && jn_config_given(&cfg, "csv")) {
        jn_fail("--csv: only a --grid writes a table; a single profile writes its report with --json");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    if (!cfg.grid[0] && jn_config_given(&cfg, "max-gflop")) {
        jn_fail("--max-gflop: only a --grid skips configurations by their cost; a single profile runs the one given");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    if (cfg.grid[0] && jn_config_given(&cfg, "json")) {
        jn_fail("--json: writes a single profile; a --grid writes its table to --csv");
        return jn_cli_fail(JN_EXIT_USAGE);
    }
    /* A bad grid or output path is refused before the data load and the peak measurement; an
     * output is not a file the command reads (a grid file, the --config). */
    grid g;
    const char *out_option = cfg.grid[0] ? "--csv" : "--json", *out = cfg.grid[0] ? cfg.csv : cfg.json;
    if ((cfg.grid[0] && (parse_grid(cfg.grid, &g) || grid_check(&cfg, &g))) ||
        (out[0] && (jn_output_file_check(out_option, out, "--config", cfg.config_file) ||
                    jn_output_file_check(out_option, out, "--grid", cfg.grid))) ||
        (cfg.grid[0] ? jn_profile_csv_replaceable(cfg.csv) : cfg.json[0] && jn_profile_json_replaceable(cfg.json)))
        return jn_cli_fail(JN_EXIT_USAGE);
    /* SIGINT or SIGTERM ends the profile after the round in progress, the line erased and
     * a grid's rows done kept in --csv; so does a closed standard output (profile | head),
     * whose SIGPIPE killed a grid silently at a row's line, before that row reached --csv. */
    jn_train_catch_signals();
    jn_train_catch_broken_pipe();
    /* As train: no GPU is said before the data loads (seconds for MNIST) and fails for it. */
    if (cfg.device == JN_DEVICE_CUDA && jn_cuda_device_check())
        return jn_cli_fail(JN_EXIT_ERROR);
    jn_data data;
    const jn_data_request req = {cfg.data, cfg.test, cfg.data_dir, cfg.valid, cfg.train_limit, NULL, 0};
    if (jn_data_load(&req, &data))
        return jn_cli_fail(JN_EXIT_ERROR);
    jn_profile_machine machine;
    if (cuda && jn_cuda_profile_machine(&machine, cfg.tf32)) {
        jn_data_free(&data);
        return jn_cli_fail(JN_EXIT_ERROR);
    }
    /* Warnings only for a profile that goes on: no GPU, no data, a --batch larger than the
     * training set (train's warning, profile's error), is one error line, not a warning and it.
     * The CPU's peak is measured on the threads set here. */
    jn_model m;
    if (!cfg.grid[0] && profile_model(&cfg, &data.train, &m)) {
        jn_data_free(&data);
        return jn_cli_fail(JN_EXIT_ERROR);
    }
    if (cfg.grid[0])
        grid_warn_inert(&cfg, &g);
    else
        jn_cli_warn_inert(&cfg, NULL);
    jn_backend_threads(cfg.device, cfg.threads, 1);
    if (!cuda)
        jn_cpu_profile_machine(&machine);
    int code = JN_EXIT_OK, unwritten = 0;
    if (cfg.grid[0]) {
        if (run_grid(&cfg, &g, &data.train, &machine))
            code = JN_EXIT_ERROR;
    } else {
        jn_profile_result *res = malloc(sizeof *res);
        if (!res)
            code = (jn_fail("out of memory"), JN_EXIT_ERROR);
        else if (profile_one(&cfg, &data.train, &machine, 0, 0, res))
            code = JN_EXIT_ERROR;
        else {
            /* The table first: a --json that cannot be written (a full disk) loses no profile. */
            jn_profile_print(res, stdout);
            jn_stdout_flush();  /* a closed output is known here, as SIGPIPE */
            if (cfg.json[0] && jn_profile_write_json(res, cfg.json))
                code = JN_EXIT_ERROR, unwritten = 1;
        }
        free(res);
    }
    jn_data_free(&data);
    const int sig = jn_train_stop_signal();
    if (code == JN_EXIT_OK && sig == SIGPIPE)  /* done; the lines went nowhere, as `| head` asked */
        return JN_EXIT_SIGPIPE;
    if (code != JN_EXIT_OK && sig && !unwritten) {  /* the write's own reason, not the stop's */
        code = jn_train_stop_code(sig);
        if (!cfg.grid[0])
            jn_fail("%s; nothing written", jn_train_stop_words(code, sig));
    }
    return code == JN_EXIT_OK ? code : jn_cli_fail(code);
}
