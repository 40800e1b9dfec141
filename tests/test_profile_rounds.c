/* The profile driver's statistics on scripted targets: each target's step and floor take
 * the times of a script, round by round, so the order statistics and the round-by-round
 * ratios to the plain variant and to the floor are known exactly. The script makes the ratio
 * of the medians differ from the median of the rounds' ratios, as a load change between
 * rounds does. Each round runs a step and a floor twice and times the second run (the first
 * is its warm-up): the script gives the first runs a time that would show in any statistic
 * that used it. And the durations its progress line (and a sweep's ETA) prints, up to an
 * estimate past 1e9 s, and the digits of train's rate in each range. And the reports on a
 * made-up result: each row's numbers of one step, a grid's one peak. */
#include "check.h"
#include "jacnoise/profile.h"
#include "train/progress.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROUNDS = 5, MAX_ROUNDS = 8 };
#define UNTIMED 1e6

typedef struct {
    jn_profile_target base;
    const double *times;  /* seconds per timed round */
    int rounds;           /* of them */
    int warmup;           /* rounds to skip (untimed warm-up) */
    int steps, floors;    /* calls so far */
    double floor_share;   /* the floor as a share of the step */
    const double *fast_times;  /* the step as training runs it (scripted_fast_ops), per timed round */
    int fasts;
    const double *data_times;  /* the data phase per timed round (NULL: a share of the step, as every phase) */
} scripted_target;

static double next_time(const scripted_target *t, int *calls)
{
    const int call = (*calls)++, r = call / 2 - t->warmup;
    if (call % 2 == 0)
        return UNTIMED;
    return r >= 0 && r < t->rounds ? t->times[r] : 1.0;
}

static int scripted_step(jn_profile_target *target, double *step_s, double phase_s[JN_PHASES])
{
    scripted_target *t = (scripted_target *)target;
    const int r = t->steps / 2 - t->warmup;
    *step_s = next_time(t, &t->steps);
    for (int p = 0; p < JN_PHASES; p++)
        phase_s[p] = *step_s / JN_PHASES;
    if (t->data_times && r >= 0 && r < t->rounds)
        phase_s[JN_PHASE_DATA] = t->data_times[r];
    return 0;
}

static int scripted_floor(jn_profile_target *target, double *seconds)
{
    scripted_target *t = (scripted_target *)target;
    *seconds = t->floor_share * next_time(t, &t->floors);
    return 0;
}

static const jn_profile_target_ops scripted_ops = {scripted_step, scripted_floor, NULL, NULL};

static int scripted_fast(jn_profile_target *target, double *seconds)
{
    scripted_target *t = (scripted_target *)target;
    const int call = t->fasts++, r = call / 2 - t->warmup;
    *seconds = call % 2 == 0 ? UNTIMED : r >= 0 && r < t->rounds ? t->fast_times[r] : 1.0;
    return 0;
}

/* A target whose step as training runs it is not its phased step (the CUDA graph). */
static const jn_profile_target_ops scripted_fast_ops = {scripted_step, scripted_floor, scripted_fast, NULL};

/* The quantile q of v[0..n) by linear interpolation between the order statistics (the
 * definition the report states), by insertion sort. */
static double oracle_quantile(const double *v, int n, double q)
{
    double s[MAX_ROUNDS];
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && s[j - 1] > v[i]; j--)
            s[j] = s[j - 1];
        s[j] = v[i];
    }
    const double pos = q * (n - 1);
    const int lo = (int)floor(pos);
    return lo + 1 < n ? s[lo] + (pos - lo) * (s[lo + 1] - s[lo]) : s[lo];
}

enum { CSV_ROWS = 2, CSV_LINE = 2048, JSON_SIZE = 8192 };

/* A new empty file under $TMPDIR (else /tmp) for a report to replace: its name in path. */
static void temp_file(char path[512])
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, 512, "%s/jn_profile_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp %s", path);
    close(fd);
}

/* The table jn_profile_print writes for res (the caller frees it). */
static char *printed(const jn_profile_result *res)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f, "open_memstream");
    jn_profile_print(res, f);
    fclose(f);
    return text;
}

/* The JSON jn_profile_write_json writes for res, read back into json. */
static void written_json(const jn_profile_result *res, char json[JSON_SIZE])
{
    char path[512];
    temp_file(path);
    REQUIRE(jn_profile_write_json(res, path) == 0, "write %s", path);
    FILE *in = fopen(path, "r");
    REQUIRE(in, "read %s", path);
    json[fread(json, 1, JSON_SIZE - 1, in)] = 0;
    fclose(in);
    unlink(path);
}

/* rows[0..n) written as a grid's CSV, read back: its header line and n row lines. */
static void csv_lines(const jn_profile_result *rows, int n, char header[CSV_LINE], char line[][CSV_LINE])
{
    char path[512];
    temp_file(path);
    REQUIRE(jn_profile_write_csv(rows, n, path) == 0, "write %s", path);
    FILE *f = fopen(path, "r");
    REQUIRE(f && fgets(header, CSV_LINE, f), "read %s", path);
    for (int i = 0; i < n; i++)
        REQUIRE(fgets(line[i], CSV_LINE, f), "read row %d of %s", i + 1, path);
    fclose(f);
    unlink(path);
}

/* The field of column `name` (by the header) in a CSV row, as a number; NAN where absent or
 * empty. */
static double csv_value(const char *header, const char *row, const char *name)
{
    int column = -1, at = 0;
    for (const char *h = header, *comma; column < 0 && h; h = comma ? comma + 1 : NULL, at++) {
        comma = strpbrk(h, ",\n");
        const size_t len = comma ? (size_t)(comma - h) : strlen(h);
        if (len == strlen(name) && !strncmp(h, name, len))
            column = at;
    }
    CHECK(column >= 0, "CSV header has no %s: %s", name, header);
    const char *field = column >= 0 ? row : NULL;
    for (int c = 0; c < column && field; c++)
        field = (field = strchr(field, ',')) ? field + 1 : NULL;
    char *end = NULL;
    const double value = field ? strtod(field, &end) : NAN;
    return field && end != field ? value : NAN;
}

/* The grid table's columns of a result, read back from the CSV as written: each named
 * column must hold its statistic (the median, not a quartile), as printed (%.3f us). */
static void csv_columns(const jn_profile_result *res)
{
    char header[CSV_LINE], row[1][CSV_LINE];
    csv_lines(res, 1, header, row);
    const jn_profile_variant *v = &res->v[0], *pl = &res->v[res->n_variants - 1];
    struct {
        char name[32];
        double want;
    } expect[9 + JN_PHASES] = {{"step_us", 1e6 * v->step.median},     {"step_q1_us", 1e6 * v->step.q1},
                               {"step_q3_us", 1e6 * v->step.q3},      {"floor_us", 1e6 * v->floor.median},
                               {"plain_us", 1e6 * pl->step.median},   {"plain_floor_us", 1e6 * pl->floor.median},
                               {"overhead_ratio", v->step_vs_plain.median}, {"overhead_q3", v->step_vs_plain.q3},
                               {"threads", res->machine.threads}};
    for (int p = 0; p < JN_PHASES; p++) {
        snprintf(expect[9 + p].name, sizeof expect[0].name, "%s_us", jn_phase_name((jn_phase)p));
        expect[9 + p].want = 1e6 * v->phase[p].median;
    }
    for (size_t e = 0; e < sizeof expect / sizeof expect[0]; e++) {
        const double got = csv_value(header, row[0], expect[e].name);
        CHECK(fabs(got - expect[e].want) <= 0.05 + 1e-9 * fabs(expect[e].want), "CSV %s %g, expected %g",
              expect[e].name, got, expect[e].want);
    }
}

/* Each row of a report describes one step: where the target times the step as training runs
 * it apart (CUDA's replayed graph; here 1 ms, the phased step 2 ms, the floor 0.5 ms), the
 * variants table's us/step, GFLOP/s and /floor, and the CSV's gflops and ratio_to_floor, are
 * all that step's. And a grid's rows share one machine peak, the fastest of those their
 * profiles raised theirs to (3000 and 4000 GFLOP/s here), not each its own. */
static void one_step_a_row(void)
{
    static jn_profile_result rows[CSV_ROWS];
    for (int i = 0; i < CSV_ROWS; i++) {
        jn_profile_result *r = &rows[i];
        memset(r, 0, sizeof *r);
        snprintf(r->model, sizeof r->model, "4-5-3");
        snprintf(r->machine.backend, sizeof r->machine.backend, "cuda");
        r->machine.sgemm_peak_gflops = 2000;
        r->machine.peak_gflops = 3000 + 1000 * i;
        r->batch = 8, r->reps = 3, r->n_variants = 1, r->v[0].launches = 1;
        jn_profile_variant *v = &r->v[0];
        snprintf(v->name, sizeof v->name, "as configured");
        v->obj = (jn_objective){.jac_copies = 1, .jac_proj = 1};
        v->total_flops = 1e9;
        v->has_fast = 1;
        v->step = (jn_timing){2e-3, 2e-3, 2e-3, 2e-3, 2e-3};
        v->fast = (jn_timing){1e-3, 1e-3, 1e-3, 1e-3, 1e-3};
        v->floor = (jn_timing){5e-4, 5e-4, 5e-4, 5e-4, 5e-4};
        v->step_vs_plain = v->floor_vs_plain = (jn_timing){1, 1, 1, 1, 1};
        v->step_vs_floor = (jn_timing){2, 2, 2, 2, 2};
    }
    char *text = printed(&rows[0]);
    const char *line = strstr(text, "\nas configured ");
    double us = 0, gflop = 0, rate = 0, floor_us = 0, ratio = 0;
    const int got = line ? sscanf(line + 15, "%*s %lf %lf %lf %lf %lfx", &us, &gflop, &rate, &floor_us, &ratio) : 0;
    CHECK(got == 5 && us == 1000 && rate == 1000 && floor_us == 500 && ratio == 2,
          "variants row: %g us/step, %g GFLOP/s, floor %g us, %gx; expected the fast step's 1000 us, 1000 GFLOP/s, "
          "2x its 500 us floor:\n%s", us, rate, floor_us, ratio, text);
    CHECK(strstr(text, "\nus/step, GFLOP/s, /floor: the fast step"), "the table does not say which step its row "
          "is:\n%s", text);
    free(text);
    char header[CSV_LINE], row[CSV_ROWS][CSV_LINE];
    csv_lines(rows, CSV_ROWS, header, row);
    for (int i = 0; i < CSV_ROWS; i++) {
        const double gflops = csv_value(header, row[i], "gflops"), to_floor = csv_value(header, row[i], "ratio_to_floor"),
                     peak = csv_value(header, row[i], "peak_gflops");
        CHECK(gflops == 1000 && to_floor == 2 && peak == 4000,
              "CSV row %d: gflops %g, ratio_to_floor %g, peak_gflops %g; expected the fast step's 1000 and 2, and "
              "the grid's peak 4000", i + 1, gflops, to_floor, peak);
    }
    /* A GEMM floor of 0.04 us (a tiny layer on a fast core) is written as such, not as 0.0,
     * which plot_profile.py refuses: a floor takes time. */
    rows[0].v[0].floor = (jn_timing){4e-8, 4e-8, 4e-8, 4e-8, 4e-8};
    csv_lines(rows, 1, header, row);
    const double tiny = csv_value(header, row[0], "floor_us");
    CHECK(fabs(tiny - 0.04) < 1e-9, "CSV floor_us %g, expected 0.04", tiny);
    /* Each row says what it was measured under, the free text quoted (RFC 4180): two grids
     * concatenated, of different GPUs, precisions or --reps, are told apart; then the seed, lr
     * and loss, which change no time (a grid over them wrote rows that could not be told apart). */
    snprintf(rows[0].machine.precision, sizeof rows[0].machine.precision, "tf32");
    snprintf(rows[0].machine.device, sizeof rows[0].machine.device, "GPU \"X\", 80 GiB");
    snprintf(rows[0].machine.library, sizeof rows[0].machine.library, "cuBLAS 12.4, CUDA 12.4; TF32");
    rows[0].warmup = 2;
    snprintf(rows[0].seed, sizeof rows[0].seed, "18446744073709551615");
    snprintf(rows[0].lr, sizeof rows[0].lr, "0.25");
    snprintf(rows[0].loss, sizeof rows[0].loss, "squared");
    csv_lines(rows, 1, header, row);
    const char *head_end = ",precision,reps,warmup,device,library,seed,lr,loss\n",
               *row_end = ",tf32,3,2,\"GPU \"\"X\"\", 80 GiB\",\"cuBLAS 12.4, CUDA 12.4; TF32\",18446744073709551615,0.25,squared\n";
    CHECK(strlen(header) > strlen(head_end) && !strcmp(header + strlen(header) - strlen(head_end), head_end),
          "CSV header does not end '%s': %s", head_end, header);
    CHECK(strlen(row[0]) > strlen(row_end) && !strcmp(row[0] + strlen(row[0]) - strlen(row_end), row_end),
          "CSV row does not end '%s': %s", row_end, row[0]);
}

/* The reports' ratio to the floor is the rounds' (fast_steps: 0.4 [0.4 - 0.5]), as the
 * overhead ratio is, not the medians' ratio (0.6): the variants table's /floor, a grid's
 * ratio_to_floor and its quartiles, and the plain step's, and the JSON's. */
static void floor_ratio_reports(const jn_profile_result *res)
{
    char *text = printed(res);
    const char *line = strstr(text, "\nas configured ");
    double ratio = 0;
    CHECK(line && sscanf(line + 15, "%*s %*f %*f %*f %*f %lfx", &ratio) == 1 && ratio == 0.4,
          "variants row: /floor %g, expected the rounds' 0.4 (the medians' ratio is 0.6):\n%s", ratio, text);
    CHECK(strstr(text, "\n/floor: the median of each round's step over that round's floor, not us/step over floor us"),
          "the table does not say that /floor is not the ratio of the medians beside it:\n%s", text);
    /* The phase table's fast step row is the fast step's (6 s), not the phased step's (20 s). */
    const char *fast = strstr(text, "\nfast step ");
    double fast_us = 0;
    CHECK(fast && sscanf(fast + 11, "%lf", &fast_us) == 1 && fast_us == 6e6,
          "fast step row: %g us, expected the fast step's 6e6:\n%s", fast_us, text);
    free(text);
    char header[CSV_LINE], row[1][CSV_LINE];
    csv_lines(res, 1, header, row);
    const double median = csv_value(header, row[0], "ratio_to_floor"),
                 q1 = csv_value(header, row[0], "ratio_to_floor_q1"), q3 = csv_value(header, row[0], "ratio_to_floor_q3"),
                 plain = csv_value(header, row[0], "plain_ratio_to_floor");
    CHECK(median == 0.4 && q1 == 0.4 && q3 == 0.5, "CSV ratio_to_floor %g [%g - %g], expected the rounds' 0.4 [0.4 - 0.5]",
          median, q1, q3);
    /* The plain fast steps 2, 3, 2 over their floors 1, 2, 4: 2, 1.5, 0.5; the medians' ratio 1. */
    CHECK(plain == 1.5, "CSV plain_ratio_to_floor %g, expected the rounds' 1.5 (the medians' ratio is 1)", plain);
    char json[JSON_SIZE];
    written_json(res, json);
    CHECK(strstr(json, "\"ratio_to_floor\": 0.4, \"ratio_to_floor_q1\": 0.4, \"ratio_to_floor_q3\": 0.5,"),
          "JSON: expected ratio_to_floor 0.4 [0.4 - 0.5], the rounds':\n%s", json);
    /* The objective as configured: its copies and its one random projection. */
    CHECK(strstr(json, "\"jac_copies\": 1, ") && strstr(json, "\"jac_proj\": 1},"),
          "JSON: expected the objective's jac_copies 1 and jac_proj 1:\n%s", json);
}

/* An even number of rounds (the default --reps is 20): the median and quartiles fall between
 * two order statistics and are interpolated, as numpy's default percentile does. */
static void even_rounds(const jn_model *m)
{
    enum { EVEN = 4 };
    static const double configured[EVEN] = {10, 1, 3, 2}, plain[EVEN] = {2, 1, 1, 1};
    scripted_target a = {.base.ops = &scripted_ops, .times = configured, .rounds = EVEN, .floor_share = 0.5};
    scripted_target b = {.base.ops = &scripted_ops, .times = plain, .rounds = EVEN, .floor_share = 0.5};
    jn_profile_target *targets[] = {&a.base, &b.base};
    const char *names[] = {"as configured", "plain"};
    jn_objective objs[2] = {{.jac_lambda = 0.1, .jac_copies = 1, .jac_proj = 1}, {.jac_copies = 1, .jac_proj = 1}};
    jn_profile_rounds rounds = {EVEN, 0, 0, JN_PROGRESS_NEVER, NULL, 0, 0};
    static jn_profile_result res;
    REQUIRE(jn_profile_run(targets, names, objs, 2, m, 8, &rounds, &res) == 0, "profile run, %d rounds", EVEN);
    const jn_timing *t = &res.v[0].step;
    /* Sorted 1, 2, 3, 10: median 2.5, quartiles 1.75 and 4.75. */
    const double want[3] = {oracle_quantile(configured, EVEN, 0.5), oracle_quantile(configured, EVEN, 0.25),
                            oracle_quantile(configured, EVEN, 0.75)};
    CHECK(want[0] == 2.5 && want[1] == 1.75 && want[2] == 4.75, "oracle %g [%g - %g]", want[0], want[1], want[2]);
    CHECK(fabs(t->median - want[0]) < 1e-12 && fabs(t->q1 - want[1]) < 1e-12 && fabs(t->q3 - want[2]) < 1e-12 &&
              t->min == 1,
          "%d rounds: step %g [%g - %g] min %g, expected %g [%g - %g] min 1", EVEN, t->median, t->q1, t->q3, t->min,
          want[0], want[1], want[2]);
    double ratio[EVEN];
    for (int r = 0; r < EVEN; r++)
        ratio[r] = configured[r] / plain[r];
    const jn_timing *rt = &res.v[0].step_vs_plain;
    CHECK(fabs(rt->median - oracle_quantile(ratio, EVEN, 0.5)) < 1e-12 &&
              fabs(rt->q3 - oracle_quantile(ratio, EVEN, 0.75)) < 1e-12,
          "%d rounds: configured / plain %g [%g - %g], expected median %g, q3 %g", EVEN, rt->median, rt->q1, rt->q3,
          oracle_quantile(ratio, EVEN, 0.5), oracle_quantile(ratio, EVEN, 0.75));
}

/* A backend whose training replays a step other than the phased one (CUDA: a graph, without
 * the phase events and eager launches): the overhead ratio is of the steps as training runs
 * them, as on the CPU, whose phased step is the one it trains with. The phased steps' ratio is
 * 5 every round, the fast steps' 1, 2, 4. */
static void fast_steps(const jn_model *m)
{
    enum { FAST = 3 };
    static const double configured[FAST] = {10, 20, 40}, plain[FAST] = {2, 4, 8};
    static const double configured_fast[FAST] = {2, 6, 8}, plain_fast[FAST] = {2, 3, 2};
    scripted_target a = {.base.ops = &scripted_fast_ops, .times = configured, .rounds = FAST, .floor_share = 0.5,
                         .fast_times = configured_fast};
    scripted_target b = {.base.ops = &scripted_fast_ops, .times = plain, .rounds = FAST, .floor_share = 0.5,
                         .fast_times = plain_fast};
    jn_profile_target *targets[] = {&a.base, &b.base};
    const char *names[] = {"as configured", "plain"};
    jn_objective objs[2] = {{.jac_lambda = 0.1, .jac_copies = 1, .jac_proj = 1}, {.jac_copies = 1, .jac_proj = 1}};
    jn_profile_rounds rounds = {FAST, 0, 0, JN_PROGRESS_NEVER, NULL, 0, 0};
    static jn_profile_result res;
    REQUIRE(jn_profile_run(targets, names, objs, 2, m, 8, &rounds, &res) == 0, "profile run with fast steps");
    const jn_profile_variant *v = &res.v[0];
    CHECK(v->has_fast && v->fast.median == 6 && v->step.median == 20, "fast step %g, step %g", v->fast.median,
          v->step.median);
    CHECK(v->step_vs_plain.median == 2 && v->step_vs_plain.q1 == 1.5 && v->step_vs_plain.q3 == 3 &&
              v->step_vs_plain.min == 1,
          "with a fast step, configured / plain %g [%g - %g] min %g, expected the fast steps' 2 [1.5 - 3] min 1 "
          "(the phased steps' ratio is 5)",
          v->step_vs_plain.median, v->step_vs_plain.q1, v->step_vs_plain.q3, v->step_vs_plain.min);
    /* Over its own floor (5, 10, 20), round by round: the fast steps' 0.4, 0.6, 0.4, whose
     * median 0.4 is not the medians' ratio 6 / 10. */
    const jn_timing *f = &v->step_vs_floor;
    CHECK(fabs(f->median - 0.4) < 1e-12 && fabs(f->q1 - 0.4) < 1e-12 && fabs(f->q3 - 0.5) < 1e-12 &&
              fabs(f->max - 0.6) < 1e-12,
          "with a fast step, step / floor %g [%g - %g] max %g, expected the fast steps' over their floors, round by "
          "round: 0.4 [0.4 - 0.5] max 0.6", f->median, f->q1, f->q3, f->max);
    floor_ratio_reports(&res);
}

/* The profile of a plain step alone over ROUNDS rounds, its steps and data phases scripted
 * (step, data), into res. */
static void data_phase_run(const jn_model *m, const double *step, const double *data, const char *what,
                           jn_profile_result *res)
{
    scripted_target a = {.base.ops = &scripted_ops, .times = step, .rounds = ROUNDS, .floor_share = 0.5,
                         .data_times = data};
    jn_profile_target *targets[] = {&a.base};
    const char *names[] = {"plain"};
    jn_objective objs[1] = {{.jac_copies = 1, .jac_proj = 1}};
    jn_profile_rounds rounds = {ROUNDS, 0, 0, JN_PROGRESS_NEVER, NULL, 0, 0};
    REQUIRE(jn_profile_run(targets, names, objs, 1, m, 8, &rounds, res) == 0, "profile run, %s", what);
}

/* Each phase's share of the step, round by round (the report's share, bench_cpu_step's
 * data%): the data phase's 0.5, 0.1, 0.25, 0.5, 0.5, median 0.5, and every other phase's
 * 1 / JN_PHASES of each round's step; where the medians' ratios, data's 1.5 / 4 of the step
 * or 1.5 over the phases' medians summed (31%, the others 13.8%), mixed rounds. The table's
 * share column and the JSON's "share" are these. */
static void phase_shares(const jn_model *m)
{
    static const double step[ROUNDS] = {3, 30, 4, 6, 1.5}, data[ROUNDS] = {1.5, 3, 1, 3, 0.75};
    static jn_profile_result res;
    data_phase_run(m, step, data, "a data phase scripted", &res);
    const jn_timing *s = &res.v[0].phase_share[JN_PHASE_DATA];
    CHECK(res.v[0].phase[JN_PHASE_DATA].median == 1.5 && fabs(s->median - 0.5) < 1e-12 &&
              fabs(s->q1 - 0.25) < 1e-12 && fabs(s->min - 0.1) < 1e-12,
          "data phase over its step %g [%g - %g] min %g (data median %g), expected round by round 0.5 [0.25 - 0.5] "
          "min 0.1", s->median, s->q1, s->q3, s->min, res.v[0].phase[JN_PHASE_DATA].median);
    const double update = res.v[0].phase_share[JN_PHASE_UPDATE].median;
    CHECK(fabs(update - 1.0 / JN_PHASES) < 1e-12, "update phase over its step %g, expected %g every round", update,
          1.0 / JN_PHASES);
    char *text = printed(&res);
    for (int p = 0; p < JN_PHASES; p++) {
        /* The row's last field, "50.0%". */
        char row[16];
        snprintf(row, sizeof row, "\n%-10s ", jn_phase_name((jn_phase)p));
        const char *line = strstr(text, row), *end = line ? strchr(line + 1, '\n') : NULL, *last = end;
        while (last && last > line && last[-1] != ' ')
            last--;
        const double want = 100 * (p == JN_PHASE_DATA ? 0.5 : 1.0 / JN_PHASES);
        double share = -1;
        CHECK(last && sscanf(last, "%lf%%", &share) == 1 && fabs(share - want) < 0.051,
              "%s row: share %g%%, expected the rounds' %.1f%%:\n%s", jn_phase_name((jn_phase)p), share, want, text);
    }
    free(text);
    char json[JSON_SIZE];
    written_json(&res, json);
    const char *ph = strstr(json, "{\"name\": \"data\""), *share = ph ? strstr(ph, "\"share\": ") : NULL;
    CHECK(share && strtod(share + 9, NULL) == 0.5, "JSON: expected the data phase's share 0.5, the rounds':\n%s", json);
}

/* That the table of res, one variant, plain, whose rounds all measured 0 s, says its shares and
 * its /floor were not measured: the data row ends in "-", the variant's /floor is "-" (no
 * number), and no "0.00x", " 0.0%", "nan" or "inf" reads as measured. */
static void check_unmeasured_table(const jn_profile_result *res)
{
    /* Parsed in a copy: GCC took pointers into printed's memstream buffer for ones into its
     * local variable (-Wdangling-pointer). */
    char *table = printed(res), text[4096], ratio[16] = "";
    snprintf(text, sizeof text, "%s", table);
    free(table);
    const char *data = strstr(text, "\ndata "), *end = data ? strchr(data + 1, '\n') : NULL;
    const char *variant = strstr(text, "\nplain ");
    const int ok = end && end[-1] == '-' && end[-2] == ' ' && variant &&
                   sscanf(variant + 8, "%*s %*f %*f %*f %*f %15s", ratio) == 1 && !strcmp(ratio, "-") &&
                   !strstr(text, "nan") && !strstr(text, "inf") && !strstr(text, "0.00x") && !strstr(text, " 0.0%\n");
    CHECK(ok, "every round 0 s: the table reports a share or /floor as measured:\n%s", text);
}

/* A round whose step measured 0 s (a coarse clock, a tiny step) says nothing of how a step
 * splits: it is left out of each share, and of every ratio over it, as a NaN share was printed
 * ("nan%", and "nan" in the JSON, which no JSON reader takes). The rounds 2, 4 and 8 s have
 * data shares 0.5, 0.25, 0.5. Where every round measured 0 s, no share or ratio was measured:
 * NaN, reported as not measured ("-" in the table, null in the JSON, an empty CSV field), as
 * the 0 and "0.00x" reported before read as a measured share and a step 0 times its floor. */
static void zero_time_rounds(const jn_model *m)
{
    static const double some[ROUNDS] = {0, 2, 4, 0, 8}, some_data[ROUNDS] = {0, 1, 1, 0, 4},
                        none[ROUNDS] = {0, 0, 0, 0, 0};
    const double *const steps[] = {some, none}, *const data[] = {some_data, none};
    for (int k = 0; k < 2; k++) {
        static jn_profile_result res;
        data_phase_run(m, steps[k], data[k], "0 s rounds", &res);
        const jn_profile_variant *v = &res.v[0];
        const jn_timing *s = &v->phase_share[JN_PHASE_DATA];
        char *text = printed(&res), json[JSON_SIZE], header[CSV_LINE], row[1][CSV_LINE];
        written_json(&res, json);
        csv_lines(&res, 1, header, row);
        if (k == 0) {
            CHECK(s->median == 0.5 && isfinite(s->min) && isfinite(s->max) && isfinite(v->step_vs_floor.median) &&
                      isfinite(v->step_vs_plain.median),
                  "2 of the rounds 0 s: data share %g [%g - %g], step / floor %g, / plain %g; expected share 0.5",
                  s->median, s->min, s->max, v->step_vs_floor.median, v->step_vs_plain.median);
            CHECK(!strstr(text, "nan") && !strstr(text, "inf") && !strstr(json, "nan") && !strstr(json, "inf"),
                  "2 of the rounds 0 s: a NaN or infinity reported:\n%s\n%s", text, json);
        } else {
            CHECK(isnan(s->median) && isnan(s->q1) && isnan(s->q3) && isnan(v->step_vs_floor.median) &&
                      isnan(v->step_vs_plain.median) && isnan(v->floor_vs_plain.median),
                  "every round 0 s: data share %g [%g - %g], step / floor %g, / plain %g; expected none measured "
                  "(NaN)", s->median, s->q1, s->q3, v->step_vs_floor.median, v->step_vs_plain.median);
            check_unmeasured_table(&res);
            CHECK(strstr(json, "\"ratio_to_floor\": null, \"ratio_to_floor_q1\": null, \"ratio_to_floor_q3\": null") &&
                      strstr(json, "\"time_ratio\": null") && strstr(json, "\"floor_ratio\": null") &&
                      strstr(json, "\"share\": null") && !strstr(json, "nan") && !strstr(json, "inf") &&
                      !strstr(json, "\"share\": 0"),
                  "every round 0 s: the JSON reports a share or ratio as measured (expected null):\n%s", json);
            const char *ratio_columns[] = {"ratio_to_floor", "plain_ratio_to_floor", "overhead_ratio", "overhead_q1"};
            for (size_t c = 0; c < sizeof ratio_columns / sizeof ratio_columns[0]; c++)
                CHECK(isnan(csv_value(header, row[0], ratio_columns[c])),
                      "every round 0 s: CSV %s %g, expected an empty field:\n%s%s", ratio_columns[c],
                      csv_value(header, row[0], ratio_columns[c]), header, row[0]);
        }
        free(text);
    }
}

/* --time-limit against the rounds' wall time (the scripted steps take next to none): a limit
 * far beyond them keeps every round, as one that overflowed an int cut them to 3; one far
 * below them leaves the 3 rounds at least. */
/* A huge estimate (a rate taken over a sweep's first steps) printed "0m00s", as if done. Half
 * a second rounds up, into the next minute or hour too; 48 hours is the first in days. */
static void durations(void)
{
    const struct {
        double seconds;
        const char *text;
    } cases[] = {{0, "0m00s"}, {245, "4m05s"}, {7800, "2h10m"}, {47.5 * 3600, "47h30m"}, {3 * 86400 + 7 * 3600, "3d07h"},
                 {59.5, "1m00s"}, {3599.5, "1h00m"}, {48 * 3600, "2d00h"}, {9.99e8, "11562d12h"}, {1e9, "unknown"},
                 {1e300, "unknown"}, {NAN, "unknown"}, {INFINITY, "unknown"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[32];
        jn_format_duration(cases[i].seconds, text, sizeof text);
        CHECK(!strcmp(text, cases[i].text), "%g s: '%s', expected '%s'", cases[i].seconds, text, cases[i].text);
    }
}

/* The rate's digits on train's progress line, each range's (the end-to-end test sees only the
 * ranges its machine's speed reaches): two decimals below 10 steps/s, one below 100, none from
 * 100; a value that rounds up to the next range keeps its own digits. */
static void rates(void)
{
    const struct {
        double rate;
        const char *text;
    } cases[] = {{0.42, "0.42"}, {9.996, "10.00"}, {42.54, "42.5"}, {99.96, "100.0"}, {1234.4, "1234"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512], line[512] = "";
        temp_file(path);
        fflush(stderr);
        const int saved = dup(STDERR_FILENO), fd = open(path, O_WRONLY | O_TRUNC);
        REQUIRE(saved >= 0 && fd >= 0 && dup2(fd, STDERR_FILENO) >= 0, "stderr to %s", path);
        jn_progress p;
        jn_progress_init(&p, JN_PROGRESS_ALWAYS);
        jn_progress_update(&p, &(jn_progress_train){1, 2, 3, 10, 0.5, 10, cases[i].rate, 60});
        fflush(stderr);
        REQUIRE(dup2(saved, STDERR_FILENO) >= 0, "stderr back");
        close(fd);
        close(saved);
        FILE *f = fopen(path, "r");
        REQUIRE(f && fgets(line, sizeof line, f), "read %s", path);
        fclose(f);
        unlink(path);
        char want[64];
        snprintf(want, sizeof want, "  %s steps/s  ETA ", cases[i].text);
        CHECK(strstr(line, want), "%g steps/s: line '%s', expected '%s'", cases[i].rate, line, want);
    }
}

static void time_limits(const jn_model *m)
{
    static const double times[MAX_ROUNDS] = {1, 1, 1, 1, 1, 1, 1, 1};
    const double limits[] = {1e9, 1e-12};
    const int want[] = {MAX_ROUNDS, 3};
    for (int k = 0; k < 2; k++) {
        scripted_target a = {.base.ops = &scripted_ops, .times = times, .rounds = MAX_ROUNDS, .warmup = 1,
                             .floor_share = 0.5};
        jn_profile_target *targets[] = {&a.base};
        const char *names[] = {"as configured"};
        jn_objective objs[1] = {{.jac_copies = 1, .jac_proj = 1}};
        jn_profile_rounds rounds = {MAX_ROUNDS, 1, limits[k], JN_PROGRESS_NEVER, NULL, 0, 0};
        static jn_profile_result res;
        REQUIRE(jn_profile_run(targets, names, objs, 1, m, 8, &rounds, &res) == 0, "profile run, limit %g", limits[k]);
        CHECK(res.reps == want[k], "--time-limit %g: %d rounds run, expected %d", limits[k], res.reps, want[k]);
    }
}

/* The peak measured before the rounds (here far below the steps) bounds no rate the report
 * divides by it: the profile raises it to the fastest rate its rounds ran at; a higher one
 * stays. */
static void peak_bounds(const jn_model *m)
{
    static const double times[3] = {2, 1, 4};
    const double square[2] = {1e-12, 1e12};
    for (int k = 0; k < 2; k++) {
        scripted_target a = {.base.ops = &scripted_ops, .times = times, .rounds = 3, .floor_share = 0.5};
        jn_profile_target *targets[] = {&a.base};
        const char *names[] = {"as configured"};
        jn_objective objs[1] = {{.jac_lambda = 0.1, .jac_copies = 1, .jac_proj = 1}};
        jn_profile_rounds rounds = {3, 0, 0, JN_PROGRESS_NEVER, NULL, 0, 0};
        static jn_profile_result res;
        memset(&res, 0, sizeof res);
        res.machine.peak_gflops = square[k];
        REQUIRE(jn_profile_run(targets, names, objs, 1, m, 8, &rounds, &res) == 0, "profile run, peak %g", square[k]);
        const jn_profile_variant *v = &res.v[0];
        const double peak = res.machine.peak_gflops, floor_best = v->total_flops / v->floor.min * 1e-9;
        double worst = v->total_flops / v->floor.median * 1e-9;
        /* Each phase's best round too (here backward's beats the floor's): raised to, so no
         * phase's rate passes the peak. */
        for (int p = 0; p < JN_PHASES; p++)
            if (v->phase[p].min > 0 && v->flops[p] / v->phase[p].min * 1e-9 > worst)
                worst = v->flops[p] / v->phase[p].min * 1e-9;
        CHECK(res.machine.sgemm_peak_gflops == square[k], "square SGEMM peak %g, measured %g",
              res.machine.sgemm_peak_gflops, square[k]);
        CHECK(worst <= peak && peak >= floor_best && (k == 1 ? peak == square[k] : peak < 1e-3),
              "square SGEMM %g GFLOP/s: peak %g, a rate reported against it %g, the floor's best round %g", square[k],
              peak, worst, floor_best);
    }
}

/* The variants a profile compares: each distinct step once, plain last. A penalty with noise on
 * its input only (no input noise) has a "noise off" step of its own; "penalty off" is plain. */
static void variants_of_penalty_noise(void)
{
    const jn_objective obj = {.jac_lambda = 0.1, .jac_noise = 0.2, .jac_copies = 1, .jac_proj = 1};
    jn_objective out[JN_PROFILE_MAX_VARIANTS];
    const char *names[JN_PROFILE_MAX_VARIANTS];
    const int n = jn_profile_variants(&obj, out, names);
    CHECK(n == 3 && !strcmp(names[0], "as configured") && !strcmp(names[1], "noise off") && !strcmp(names[2], "plain") &&
              out[1].jac_lambda == 0.1 && out[1].jac_noise == 0 && out[2].jac_lambda == 0,
          "variants of a penalty with s_J alone: %d, the second %s", n, n > 1 ? names[1] : "none");
}

/* The reports' fields on a made-up result whose every figure is known: "4-5-6-3" (two hidden
 * layers), the output target with 3 projections, lambda 0.25 and s_J 0.5; 3 GFLOP over the
 * plain step's 1 in 3 ms, 50% of a 2000 GFLOP/s peak (the forward's 1 in 0.5 ms, 100%); the
 * penalty phase without GEMMs; the step 1.25x its floor, 1.5x [1.4 - 1.6] the plain step, the
 * floor 2.5x [2.25 - 2.75] the plain floor. Each is read where the table, the JSON and the CSV
 * print it (mutants of report.c that the other checks let through). */
static void report_fields(void)
{
    static jn_profile_result res;
    memset(&res, 0, sizeof res);
    snprintf(res.model, sizeof res.model, "4-5-6-3");
    snprintf(res.machine.backend, sizeof res.machine.backend, "cpu");
    res.machine.peak_gflops = res.machine.sgemm_peak_gflops = 2000;
    res.batch = 8, res.reps = res.reps_asked = 5, res.warmup = res.warmup_asked = 1, res.n_variants = 2;
    const jn_timing ms[3] = {{3e-3, 3e-3, 3e-3, 3e-3, 3e-3}, {2.4e-3, 2.4e-3, 2.4e-3, 2.4e-3, 2.4e-3},
                             {5e-4, 5e-4, 5e-4, 5e-4, 5e-4}};
    for (int i = 0; i < 2; i++) {
        jn_profile_variant *v = &res.v[i];
        snprintf(v->name, sizeof v->name, "%s", i ? "plain" : "as configured");
        v->obj = (jn_objective){.jac_copies = 1, .jac_proj = 1};
        v->step = ms[0], v->floor = ms[1], v->launches = -1;
        for (int p = 0; p < JN_PHASES; p++) {
            v->phase[p] = ms[2];
            v->phase_share[p] = (jn_timing){1.0 / JN_PHASES, 1.0 / JN_PHASES, 1.0 / JN_PHASES, 0, 1};
        }
        v->flops[JN_PHASE_FORWARD] = v->flops[JN_PHASE_BACKWARD] = 5e8;
        v->step_vs_plain = v->floor_vs_plain = (jn_timing){1, 1, 1, 1, 1};
        v->step_vs_floor = (jn_timing){2, 2, 2, 2, 2};
    }
    jn_profile_variant *v = &res.v[0];
    v->obj = (jn_objective){.jac_lambda = 0.25, .jac_noise = 0.5, .jac_copies = 1, .target = JN_TARGET_OUTPUT,
                            .jac_proj = 3};
    v->flops[JN_PHASE_FORWARD] = v->flops[JN_PHASE_JVP] = v->flops[JN_PHASE_BACKWARD] = 1e9;
    v->total_flops = 3e9, res.v[1].total_flops = 1e9;
    v->step_vs_floor = (jn_timing){1.25, 1.25, 1.25, 1.25, 1.25};
    v->step_vs_plain = (jn_timing){1.5, 1.4, 1.6, 1, 2};
    v->floor_vs_plain = (jn_timing){2.5, 2.25, 2.75, 2, 3};

    char *table = printed(&res), text[4096];
    snprintf(text, sizeof text, "%s", table);
    free(table);
    const char *step = strstr(text, "\nstep "), *penalty = strstr(text, "\npenalty "),
               *variant = strstr(text, "\nas configured ");
    double peak_share = 0;
    char gflop[16] = "", ratio[16] = "";
    CHECK(step && sscanf(step + 11, "%*f %*f - %*f %*f %*f %lf%%", &peak_share) == 1 && peak_share == 50,
          "step row: %g%% of the peak, expected 3 GFLOP in 3 ms of 2000 GFLOP/s, 50%%:\n%s", peak_share, text);
    const char *forward = strstr(text, "\nforward ");
    CHECK(forward && sscanf(forward + 11, "%*f %*f - %*f %*f %*f %lf%%", &peak_share) == 1 && peak_share == 100,
          "forward row: %g%% of the peak, expected 1 GFLOP in 0.5 ms of 2000 GFLOP/s, 100%%:\n%s", peak_share, text);
    CHECK(penalty && sscanf(penalty + 11, "%*f %*f - %*f %15s", gflop) == 1 && !strcmp(gflop, "-"),
          "penalty row: GFLOP '%s', expected '-' (no GEMMs):\n%s", gflop, text);
    CHECK(variant && sscanf(variant + 15, "%*s %*s %*f %*f %*f %*f %15s", ratio) == 1 && !strcmp(ratio, "1.25x"),
          "variants row: /floor '%s', expected '1.25x':\n%s", ratio, text);
    CHECK(strstr(text, "step: penalty output K=3, lambda 0.25, s_J 0.5, copies 1; input noise 0;") &&
              strstr(text, "\nas configured  output K=3 ") && !strstr(text, "(of --reps"),
          "the step's description, its penalty, or a cut of the rounds where none was:\n%s", text);
    CHECK(strstr(text, "overhead (as configured / plain, round by round): time 1.50x [1.40 - 1.60], FLOPs 3.00x, "
                       "GEMM floor 2.50x [2.25 - 2.75]\n"),
          "overhead line, expected time 1.50x [1.40 - 1.60], FLOPs 3.00x, floor 2.50x [2.25 - 2.75]:\n%s", text);
    char json[JSON_SIZE];
    written_json(&res, json);
    CHECK(strstr(json, "\"flop_ratio\": 3, ") && strstr(json, "\"penalty\": \"output K=3\"") &&
              strstr(json, "\"objective\": {\"jac_lambda\": 0.25, \"jac_noise\": 0.5, \"input_noise\": 0, ") &&
              strstr(json, "\"gemm_floor\": {\"median_us\": 2400.000, ") &&
              strstr(json, "\"time_ratio\": 1.5, \"time_ratio_q1\": 1.4, \"time_ratio_q3\": 1.6, ") &&
              strstr(json, "\"floor_ratio\": 2.5, \"floor_ratio_q1\": 2.25, \"floor_ratio_q3\": 2.75}"),
          "JSON: expected flop_ratio 3, the penalty output K=3, lambda 0.25 and s_J 0.5, the floor's 2400 us, the "
          "ratios 1.5 [1.4 - 1.6] and 2.5 [2.25 - 2.75]:\n%s", json);
    char header[CSV_LINE], row[1][CSV_LINE];
    csv_lines(&res, 1, header, row);
    const double layers = csv_value(header, row[0], "hidden_layers"), flop_ratio = csv_value(header, row[0], "flop_ratio"),
                 lambda = csv_value(header, row[0], "jac_lambda"), noise = csv_value(header, row[0], "jac_noise");
    CHECK(layers == 2 && flop_ratio == 3 && lambda == 0.25 && noise == 0.5 && strstr(row[0], ",output,output K=3,"),
          "CSV hidden_layers %g, flop_ratio %g, jac_lambda %g, jac_noise %g; expected 2, 3, 0.25, 0.5 and the output "
          "target K=3:\n%s%s", layers, flop_ratio, lambda, noise, header, row[0]);
}

int main(void)
{
    jn_model m;
    const int hidden[] = {5};
    REQUIRE(jn_model_make(&m, 4, hidden, 1, 3) == 0, "model");
    /* Round by round the configured step is 1.5, 3, 1, 1.5, 1.5 times the plain one: median
     * 1.5, quartiles 1.5 and 1.5; the medians of the two columns are 4 and 4 (ratio 1). */
    static const double configured[ROUNDS] = {3, 30, 4, 6, 1.5}, plain[ROUNDS] = {2, 10, 4, 4, 1};
    const int warmup = 2;
    scripted_target a = {.base.ops = &scripted_ops, .times = configured, .rounds = ROUNDS, .warmup = warmup,
                         .floor_share = 0.5};
    scripted_target b = {.base.ops = &scripted_ops, .times = plain, .rounds = ROUNDS, .warmup = warmup,
                         .floor_share = 0.25};
    jn_profile_target *targets[] = {&a.base, &b.base};
    const char *names[] = {"as configured", "plain"};
    jn_objective objs[2] = {{.jac_lambda = 0.1, .jac_copies = 1, .jac_proj = 1}, {.jac_copies = 1, .jac_proj = 1}};
    jn_profile_rounds rounds = {ROUNDS, warmup, 0, JN_PROGRESS_NEVER, NULL, 0, 0};
    static jn_profile_result res;
    REQUIRE(jn_profile_run(targets, names, objs, 2, &m, 8, &rounds, &res) == 0, "profile run");

    CHECK(res.reps == ROUNDS && res.n_variants == 2, "reps %d, variants %d", res.reps, res.n_variants);
    CHECK(a.steps == 2 * (warmup + ROUNDS) && a.floors == a.steps, "%d steps and %d floors run, expected %d each",
          a.steps, a.floors, 2 * (warmup + ROUNDS));
    const jn_profile_variant *v = &res.v[0], *pl = &res.v[1];
    CHECK(v->step.median == 4 && v->step.q1 == 3 && v->step.q3 == 6 && v->step.min == 1.5 && v->step.max == 30,
          "configured step %g [%g - %g] min %g max %g", v->step.median, v->step.q1, v->step.q3, v->step.min,
          v->step.max);
    CHECK(pl->step.median == 4 && pl->step.q1 == 2 && pl->step.q3 == 4, "plain step %g [%g - %g]",
          pl->step.median, pl->step.q1, pl->step.q3);
    /* Sorted ratios 1, 1.5, 1.5, 1.5, 3. */
    CHECK(v->step_vs_plain.median == 1.5 && v->step_vs_plain.q1 == 1.5 && v->step_vs_plain.q3 == 1.5 &&
              v->step_vs_plain.min == 1,
          "configured / plain, round by round: %g [%g - %g] min %g", v->step_vs_plain.median, v->step_vs_plain.q1,
          v->step_vs_plain.q3, v->step_vs_plain.min);
    /* The floors are 0.5 and 0.25 of their steps: every round's ratio is twice the step's. */
    CHECK(v->floor_vs_plain.median == 3 && v->floor_vs_plain.min == 2, "floor ratio %g min %g",
          v->floor_vs_plain.median, v->floor_vs_plain.min);
    CHECK(pl->step_vs_plain.median == 1 && pl->step_vs_plain.q1 == 1 && pl->step_vs_plain.q3 == 1,
          "plain / plain %g", pl->step_vs_plain.median);
    CHECK(fabs(v->phase[0].median - 4.0 / JN_PHASES) < 1e-12, "phase median %g", v->phase[0].median);
    res.machine.threads = 3;  /* the machine's, which the rounds leave as set */
    csv_columns(&res);
    even_rounds(&m);
    fast_steps(&m);
    phase_shares(&m);
    zero_time_rounds(&m);
    time_limits(&m);
    durations();
    rates();
    peak_bounds(&m);
    variants_of_penalty_noise();
    one_step_a_row();
    report_fields();
    return check_exit();
}
