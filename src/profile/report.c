/* The profile's report: a table for people, JSON for programs, CSV rows for grids. */
#include "core/fileio.h"
#include "jacnoise/config.h"
#include "jacnoise/error.h"
#include "jacnoise/profile.h"
#include "train/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* "output K=1", "hidden:2 exact", "hidden1"; "-" without a penalty. */
void jn_profile_estimator(const jn_objective *o, char *out, size_t cap)
{
    char target[32];
    jn_target_name(o, target, sizeof target);
    if (o->jac_lambda == 0)
        snprintf(out, cap, "-");
    else if (o->target == JN_TARGET_HIDDEN1)
        snprintf(out, cap, "%s", target);
    else if (o->jac_proj == JN_PROJ_EXACT)
        snprintf(out, cap, "%s exact", target);
    else
        snprintf(out, cap, "%s K=%d", target, o->jac_proj);
}

/* The penalty weight and the noises as the options were given, in the table, the JSON and the
 * CSV alike: %.17g wrote --jac-lambda 0.1 as 0.10000000000000001, and %g 0.1000001 as 0.1 (a
 * grid's row of 0.1 beside it alike) and 123456.75 as 123457. */
static void format_settings(const jn_objective *o, char lambda[32], char noise[32], char input[32])
{
    jn_format_double(o->jac_lambda, lambda, 32);
    jn_format_double(o->jac_noise, noise, 32);
    jn_format_double(o->input_noise, input, 32);
}

static void describe(const jn_objective *o, char *out, size_t cap)
{
    char est[48], lambda[32], noise[32], input[32];
    jn_profile_estimator(o, est, sizeof est);
    format_settings(o, lambda, noise, input);
    if (o->jac_lambda > 0)
        snprintf(out, cap, "penalty %s, lambda %s, s_J %s, copies %d; input noise %s", est, lambda, noise,
                 o->jac_copies, input);
    else
        snprintf(out, cap, "no penalty; input noise %s", input);
}

static double gflops(double flops, double seconds) { return seconds > 0 ? flops / seconds * 1e-9 : 0; }

static const jn_profile_variant *plain(const jn_profile_result *r) { return &r->v[r->n_variants - 1]; }

const jn_timing *jn_profile_run_step(const jn_profile_variant *v) { return v->has_fast ? &v->fast : &v->step; }

/* A variant's rate: its FLOPs over the step jn_profile_run_step names. */
static double run_gflops(const jn_profile_variant *v) { return gflops(v->total_flops, jn_profile_run_step(v)->median); }

const char *jn_profile_ratio(double ratio, char *out, size_t cap)
{
    if (isnan(ratio))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.2fx", ratio);
    return out;
}

/* A paired ratio's median and quartiles, "1.23x [1.10 - 1.40]", or where no round measured it
 * (every round's denominator 0 s), "not measured". */
static const char *ratio_spread(const jn_timing *t, char *out, size_t cap)
{
    if (isnan(t->median))
        snprintf(out, cap, "not measured");
    else
        snprintf(out, cap, "%.2fx [%.2f - %.2f]", t->median, t->q1, t->q3);
    return out;
}

void jn_profile_print_ratio_note(FILE *f, int overhead)
{
    /* Beside the two medians the paired ratio reads as their quotient, which it is not. */
    fprintf(f, "%s: the median of each round's step over that round's floor%s, not us/step over floor us%s "
               "(under a changing load the two differ; noise can put /floor under 1x)\n",
            overhead ? "/floor, overhead" : "/floor", overhead ? ", or plain step" : "",
            overhead ? ", or plain us" : "");
}

void jn_profile_print(const jn_profile_result *r, FILE *f)
{
    const jn_profile_machine *mc = &r->machine;
    const jn_profile_variant *v0 = &r->v[0], *pl = plain(r);
    char what[256];
    describe(&v0->obj, what, sizeof what);
    /* Where --time-limit changed the rounds, it says so: "3 reps" after --reps 50 read as a bug. */
    char cut[96] = "", raised[64] = "";
    if (r->reps < r->reps_asked)
        snprintf(cut, sizeof cut, " (of --reps %d: --time-limit %g s)", r->reps_asked, r->time_limit);
    if (r->warmup > r->warmup_asked)
        snprintf(raised, sizeof raised, " (--time-limit times one)");
    fprintf(f, "profile: %s, B = %d, %s backend, %d rep%s%s after %d warm-up%s%s, median [q1 - q3]\n", r->model,
            r->batch, mc->backend, r->reps, r->reps == 1 ? "" : "s", cut, r->warmup, r->warmup == 1 ? "" : "s", raised);
    fprintf(f, "machine: %s; %s\n", mc->device, mc->library);
    char peak[160];
    if (mc->peak_gflops > mc->sgemm_peak_gflops)
        snprintf(peak, sizeof peak, "measured peak %.1f GFLOP/s (this profile's best round; a large square SGEMM: %.1f)",
                 mc->peak_gflops, mc->sgemm_peak_gflops);
    else
        snprintf(peak, sizeof peak, "measured peak %.1f GFLOP/s (large square SGEMM)", mc->peak_gflops);
    if (mc->core[0])
        fprintf(f, "BLAS core: %s (%s), %d thread%s; %s\n", mc->core, mc->core_origin, mc->threads,
                mc->threads == 1 ? "" : "s", peak);
    else
        fprintf(f, "%s\n", peak);
    fprintf(f, "step: %s; phases timed by %s\n\n", what, mc->timing);

    fprintf(f, "%-10s %11s %21s %9s %9s %7s %7s\n", "phase", "median us", "q1 - q3 us", "GFLOP", "GFLOP/s",
            "%peak", "share");
    for (int p = 0; p < JN_PHASES; p++) {
        const jn_timing *t = &v0->phase[p];
        if (p == JN_PHASE_JVP && v0->jvp_in_forward && v0->obj.jac_lambda > 0) {
            fprintf(f, "%-10s   (in forward: its rows ride in the same GEMMs as the main loss's)\n", "jvp");
            continue;
        }
        fprintf(f, "%-10s %11.1f %10.1f - %8.1f", jn_phase_name((jn_phase)p), 1e6 * t->median, 1e6 * t->q1,
                1e6 * t->q3);
        if (v0->flops[p] > 0) {
            double g = gflops(v0->flops[p], t->median);
            fprintf(f, " %9.4f %9.1f %6.0f%%", v0->flops[p] * 1e-9, g, mc->peak_gflops > 0 ? 100 * g / mc->peak_gflops : 0);
        } else {
            fprintf(f, " %9s %9s %7s", "-", "-", "-");
        }
        if (isnan(v0->phase_share[p].median))
            fprintf(f, " %7s\n", "-");
        else
            fprintf(f, " %6.1f%%\n", 100 * v0->phase_share[p].median);
    }
    fprintf(f, "%-10s %11.1f %10.1f - %8.1f %9.4f %9.1f %6.0f%%\n", "step", 1e6 * v0->step.median, 1e6 * v0->step.q1,
            1e6 * v0->step.q3, v0->total_flops * 1e-9, gflops(v0->total_flops, v0->step.median),
            mc->peak_gflops > 0 ? 100 * gflops(v0->total_flops, v0->step.median) / mc->peak_gflops : 0);
    fprintf(f, "%-10s %11.1f %10.1f - %8.1f %9.4f %9.1f %6.0f%%\n", "GEMM floor", 1e6 * v0->floor.median,
            1e6 * v0->floor.q1, 1e6 * v0->floor.q3, v0->total_flops * 1e-9, gflops(v0->total_flops, v0->floor.median),
            mc->peak_gflops > 0 ? 100 * gflops(v0->total_flops, v0->floor.median) / mc->peak_gflops : 0);
    if (v0->has_fast)
        fprintf(f, "%-10s %11.1f %10.1f - %8.1f   (the step as training runs it; its phases are not separable)\n",
                "fast step", 1e6 * v0->fast.median, 1e6 * v0->fast.q1, 1e6 * v0->fast.q3);

    fprintf(f, "\n%-14s %-16s %10s %9s %9s %10s %8s %6s\n", "variant", "penalty", "us/step", "GFLOP", "GFLOP/s",
            "floor us", "/floor", "GEMMs");
    for (int i = 0; i < r->n_variants; i++) {
        const jn_profile_variant *v = &r->v[i];
        char est[48], ratio[32];
        jn_profile_estimator(&v->obj, est, sizeof est);
        fprintf(f, "%-14s %-16s %10.1f %9.4f %9.1f %10.1f %8s %6d\n", v->name, est,
                1e6 * jn_profile_run_step(v)->median, v->total_flops * 1e-9, run_gflops(v), 1e6 * v->floor.median,
                jn_profile_ratio(v->step_vs_floor.median, ratio, sizeof ratio), v->gemm_calls);
    }
    jn_profile_print_ratio_note(f, 0);
    if (v0->has_fast)
        fprintf(f, "us/step, GFLOP/s, /floor: the fast step, over the GEMM floor for /floor, both replayed CUDA "
                   "graphs\n");
    if (r->n_variants > 1) {
        char time[64], floor[64];
        fprintf(f, "overhead (as configured / plain%s, round by round): time %s, FLOPs %.2fx, GEMM floor %s\n",
                v0->has_fast ? ", the fast steps" : "", ratio_spread(&v0->step_vs_plain, time, sizeof time),
                v0->total_flops / pl->total_flops, ratio_spread(&v0->floor_vs_plain, floor, sizeof floor));
    }
    fprintf(f, "memory: step workspace %.2f MB, parameters + momentum + gradient %.2f MB, process peak RSS %.1f MB\n",
            v0->workspace_bytes / 1e6, v0->state_bytes / 1e6, r->max_rss_kib * 1024 / 1e6);
    if (v0->device_bytes)
        fprintf(f, "device memory held by the step's target: %.2f MB (free memory before and after its set-up)\n",
                v0->device_bytes / 1e6);
    if (v0->launches >= 0)
        fprintf(f, "launches per step: %d kernels, %d GEMMs\n", v0->launches, v0->gemm_calls);
}

/* A paired ratio in the JSON: null where no round measured it (NaN, which no JSON reader
 * takes). */
static void json_ratio(FILE *f, const char *key, double ratio)
{
    if (isnan(ratio))
        fprintf(f, "\"%s\": null", key);
    else
        fprintf(f, "\"%s\": %.6g", key, ratio);
}

/* A paired ratio's median and quartiles as key, key_q1, key_q3. */
static void json_ratios(FILE *f, const char *key, const jn_timing *t)
{
    char quartile[48];
    json_ratio(f, key, t->median);
    snprintf(quartile, sizeof quartile, "%s_q1", key);
    fprintf(f, ", ");
    json_ratio(f, quartile, t->q1);
    snprintf(quartile, sizeof quartile, "%s_q3", key);
    fprintf(f, ", ");
    json_ratio(f, quartile, t->q3);
}

static void json_timing(FILE *f, const char *key, const jn_timing *t)
{
    fprintf(f, "\"%s\": {\"median_us\": %.3f, \"q1_us\": %.3f, \"q3_us\": %.3f, \"min_us\": %.3f, \"max_us\": %.3f}",
            key, 1e6 * t->median, 1e6 * t->q1, 1e6 * t->q3, 1e6 * t->min, 1e6 * t->max);
}

/* A JSON string, escaped as every other JSON file of the engine (a device or file name's
 * stray byte included). */
static void json_string(FILE *f, const char *s)
{
    char quoted[1024];  /* names and descriptions: far shorter */
    jn_json_string(quoted, sizeof quoted, s);
    fputs(quoted, f);
}

static void json_variant(FILE *f, const jn_profile_variant *v)
{
    char est[48], target[32];
    jn_profile_estimator(&v->obj, est, sizeof est);
    jn_target_name(&v->obj, target, sizeof target);
    fprintf(f, "    {\"name\": ");
    json_string(f, v->name);
    fprintf(f, ", \"penalty\": ");
    json_string(f, est);
    char lambda[32], noise[32], input[32];
    format_settings(&v->obj, lambda, noise, input);
    fprintf(f, ",\n     \"objective\": {\"jac_lambda\": %s, \"jac_noise\": %s, \"input_noise\": %s, "
               "\"jac_copies\": %d, \"jac_target\": \"%s\", \"jac_proj\": %d},\n",
            lambda, noise, input, v->obj.jac_copies, target, v->obj.jac_proj);
    fprintf(f, "     \"flops\": %.17g, \"gemm_calls\": %d, \"launches\": %d, \"jvp_in_forward\": %s, "
               "\"workspace_bytes\": %zu, \"state_bytes\": %zu,\n     ",
            v->total_flops, v->gemm_calls, v->launches, v->jvp_in_forward ? "true" : "false", v->workspace_bytes,
            v->state_bytes);
    json_timing(f, "step", &v->step);
    fprintf(f, ", ");
    json_timing(f, "gemm_floor", &v->floor);
    if (v->has_fast) {
        fprintf(f, ", ");
        json_timing(f, "fast_step", &v->fast);
    }
    fprintf(f, ",\n     \"gflops\": %.6g, ", run_gflops(v));
    json_ratios(f, "ratio_to_floor", &v->step_vs_floor);
    fprintf(f, ",\n     \"phases\": [\n");
    for (int p = 0; p < JN_PHASES; p++) {
        fprintf(f, "      {\"name\": \"%s\", \"flops\": %.17g, ", jn_phase_name((jn_phase)p), v->flops[p]);
        json_timing(f, "time", &v->phase[p]);
        fprintf(f, ", \"gflops\": %.6g, ", gflops(v->flops[p], v->phase[p].median));
        json_ratio(f, "share", v->phase_share[p].median);
        fprintf(f, "}%s\n", p + 1 < JN_PHASES ? "," : "");
    }
    fprintf(f, "     ]}");
}

/* Writes text made by write(f, results, n) to path atomically (option names the file in
 * messages). */
static int write_atomic(const char *option, const char *path, void (*write)(FILE *, const jn_profile_result *, int),
                        const jn_profile_result *results, int n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return jn_fail("%s %s: out of memory", option, path);
    write(f, results, n);
    if (fclose(f)) {
        free(text);
        return jn_fail("%s %s: out of memory", option, path);
    }
    int rc = jn_write_file_atomic(path, text, len);
    free(text);
    return rc ? jn_fail_option(option, path) : 0;
}

/* A profile report's first bytes, which every version of it has begun with. */
static const char json_head[] = "{\n  \"model\": ";

static void write_json(FILE *f, const jn_profile_result *r, int n)
{
    (void)n;
    const jn_profile_machine *mc = &r->machine;
    const jn_profile_variant *v0 = &r->v[0], *pl = plain(r);
    fputs(json_head, f);
    json_string(f, r->model);
    /* The seed, lr and loss beside the rounds, as a grid's CSV row ends with them (as config.txt
     * writes them: the seed whole, the rate shortest). The rounds asked and --time-limit (0: none)
     * too, as the table's first line says where the limit changed them: "reps": 3 alone read
     * as a bug after --reps 100. */
    char limit[32];
    jn_format_double(r->time_limit, limit, sizeof limit);
    fprintf(f, ", \"batch\": %d, \"reps\": %d, \"reps_asked\": %d, \"warmup\": %d, \"warmup_asked\": %d, "
               "\"time_limit\": %s, \"seed\": %s, \"lr\": %s, \"loss\": ",
            r->batch, r->reps, r->reps_asked, r->warmup, r->warmup_asked, limit, r->seed, r->lr);
    json_string(f, r->loss);
    fprintf(f, ",\n  \"machine\": {\"backend\": ");
    json_string(f, mc->backend);
    fprintf(f, ", \"precision\": ");
    json_string(f, mc->precision);
    fprintf(f, ", \"device\": ");
    json_string(f, mc->device);
    fprintf(f, ", \"library\": ");
    json_string(f, mc->library);
    fprintf(f, ", \"blas_core\": ");
    json_string(f, mc->core);
    fprintf(f, ", \"blas_core_origin\": ");
    json_string(f, mc->core_origin);
    fprintf(f, ", \"threads\": %d, \"peak_gflops\": %.6g, \"sgemm_peak_gflops\": %.6g, \"timing\": ", mc->threads,
            mc->peak_gflops, mc->sgemm_peak_gflops);
    json_string(f, mc->timing);
    fprintf(f, "},\n  \"overhead\": {");
    json_ratios(f, "time_ratio", &v0->step_vs_plain);
    fprintf(f, ", \"flop_ratio\": %.6g, ", v0->total_flops / pl->total_flops);
    json_ratios(f, "floor_ratio", &v0->floor_vs_plain);
    fprintf(f, "},\n");
    fprintf(f, "  \"memory\": {\"workspace_bytes\": %zu, \"state_bytes\": %zu, \"device_bytes\": %zu, "
               "\"max_rss_kib\": %ld},\n",
            v0->workspace_bytes, v0->state_bytes, v0->device_bytes, r->max_rss_kib);
    fprintf(f, "  \"variants\": [\n");
    for (int i = 0; i < r->n_variants; i++) {
        json_variant(f, &r->v[i]);
        fprintf(f, "%s\n", i + 1 < r->n_variants ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
}

int jn_profile_write_json(const jn_profile_result *r, const char *path)
{
    return write_atomic("--json", path, write_json, r, 1);
}

/* A profile table's first columns, which every version of it has begun with. */
static const char csv_head[] = "model,hidden_layers,batch,target,estimator,";

static void csv_header(FILE *f)
{
    fprintf(f, "%scopies,jac_lambda,jac_noise,input_noise,backend,blas_core,threads,peak_gflops,step_us,step_q1_us,"
               "step_q3_us,floor_us,ratio_to_floor,ratio_to_floor_q1,ratio_to_floor_q3,gflops,flops,plain_us,"
               "plain_floor_us,plain_ratio_to_floor,plain_flops,overhead_ratio,overhead_q1,overhead_q3,flop_ratio,workspace_bytes,"
               "fast_step_us,plain_fast_step_us",
            csv_head);
    for (int p = 0; p < JN_PHASES; p++)
        fprintf(f, ",%s_us", jn_phase_name((jn_phase)p));
    fputs(",precision,reps,warmup,device,library,seed,lr,loss\n", f);
}

/* A CSV field quoted where it must be (RFC 4180): a CPU's device ("..., AVX2 FMA") and a
 * library's version hold commas. */
static void csv_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* A paired ratio's field: empty where no round measured it (NaN). */
static void csv_ratio(FILE *f, double ratio)
{
    if (isnan(ratio))
        fputc(',', f);
    else
        fprintf(f, ",%.4f", ratio);
}

/* peak: the machine's, one figure for every row (csv_peak). */
static void csv_row(FILE *f, const jn_profile_result *r, double peak)
{
    const jn_profile_variant *v0 = &r->v[0], *pl = plain(r);
    char target[32], est[48];
    jn_target_name(&v0->obj, target, sizeof target);
    jn_profile_estimator(&v0->obj, est, sizeof est);
    int dashes = 0;  /* "784-1000-10": one hidden layer */
    for (const char *c = r->model; *c; c++)
        dashes += *c == '-';
    char lambda[32], noise[32], input[32];
    format_settings(&v0->obj, lambda, noise, input);
    /* Times to the nanosecond, as the JSON writes them: 0.1 us wrote a GEMM floor of 0.04 us
     * as 0.0, which plot_profile.py refuses (a floor takes time). */
    fprintf(f, "%s,%d,%d,%s,%s,%d,%s,%s,%s,%s,%s,%d,%.1f,%.3f,%.3f,%.3f,%.3f", r->model, dashes - 1, r->batch,
            v0->obj.jac_lambda > 0 ? target : "none", est, v0->obj.jac_copies, lambda, noise, input, r->machine.backend,
            r->machine.core, r->machine.threads, peak, 1e6 * v0->step.median, 1e6 * v0->step.q1, 1e6 * v0->step.q3,
            1e6 * v0->floor.median);
    csv_ratio(f, v0->step_vs_floor.median);
    csv_ratio(f, v0->step_vs_floor.q1);
    csv_ratio(f, v0->step_vs_floor.q3);
    fprintf(f, ",%.2f,%.0f,%.3f,%.3f", run_gflops(v0), v0->total_flops, 1e6 * pl->step.median, 1e6 * pl->floor.median);
    csv_ratio(f, pl->step_vs_floor.median);
    fprintf(f, ",%.0f", pl->total_flops);
    csv_ratio(f, v0->step_vs_plain.median);
    csv_ratio(f, v0->step_vs_plain.q1);
    csv_ratio(f, v0->step_vs_plain.q3);
    fprintf(f, ",%.4f,%zu", v0->total_flops / pl->total_flops, v0->workspace_bytes);
    /* The step as training runs it, where the target times it apart (a replayed CUDA graph):
     * step_us is the step with its phases timed, gflops and ratio_to_floor this one's
     * (jn_profile_run_step). Empty where they are the same (the CPU). The plain step's too. */
    const jn_profile_variant *timed[2] = {v0, pl};
    for (int i = 0; i < 2; i++) {
        if (timed[i]->has_fast)
            fprintf(f, ",%.3f", 1e6 * timed[i]->fast.median);
        else
            fputc(',', f);
    }
    for (int p = 0; p < JN_PHASES; p++)
        fprintf(f, ",%.3f", 1e6 * v0->phase[p].median);
    /* The conditions of the figures, last (free text, quoted): two grids concatenated, of
     * different GPUs, precisions or --reps, were otherwise one table that could not tell them
     * apart. reps is the row's own (--time-limit may cut it). */
    fprintf(f, ",%s,%d,%d,", r->machine.precision, r->reps, r->warmup);
    csv_text(f, r->machine.device);
    fputc(',', f);
    csv_text(f, r->machine.library);
    /* Then what a grid may vary that changes no time (older tables end at library). */
    fprintf(f, ",%s,%s,%s\n", r->seed, r->lr, r->loss);
}

/* The machine's peak for a grid's rows: each profile raised the one SGEMM measurement to the
 * fastest rate of its own rounds, so a row's own figure is that combination's, not the
 * machine's; the fastest of them all is the machine's, and no row's rate passes it. */
static double csv_peak(const jn_profile_result *rows, int n)
{
    double peak = 0;
    for (int i = 0; i < n; i++)
        peak = rows[i].machine.peak_gflops > peak ? rows[i].machine.peak_gflops : peak;
    return peak;
}

static void write_csv(FILE *f, const jn_profile_result *rows, int n)
{
    csv_header(f);
    const double peak = csv_peak(rows, n);
    for (int i = 0; i < n; i++)
        csv_row(f, &rows[i], peak);
}

int jn_profile_write_csv(const jn_profile_result *rows, int n, const char *path)
{
    return write_atomic("--csv", path, write_csv, rows, n);
}

int jn_profile_csv_replaceable(const char *path)
{
    /* A byte-order mark: the table saved by a spreadsheet ("CSV UTF-8"), as plot_profile.py reads it. */
    return jn_output_replaceable("--csv", path, csv_head, sizeof csv_head - 1,
                       "a profile table (its first line is not one's header)");
}

int jn_profile_json_replaceable(const char *path)
{
    return jn_output_replaceable("--json", path, json_head, sizeof json_head - 1,
                       "a profile report (it does not begin as one, '{\"model\": ...')");
}
