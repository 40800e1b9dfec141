/* The profile driver: interleaved timing of step variants and their GEMM floors, order
 * statistics, and the variants a profile compares (see jacnoise/profile.h). */
#include "jacnoise/profile.h"
#include "jacnoise/error.h"
#include "jacnoise/rng.h"
#include "jacnoise/wallclock.h"
#include "train/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile by linear interpolation between order statistics (sorts v). */
static double quantile(double *v, int n, double q)
{
    double pos = q * (n - 1);
    int lo = (int)pos, hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

jn_timing jn_timing_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (jn_timing){quantile(v, n, 0.5), quantile(v, n, 0.25), quantile(v, n, 0.75), v[0], v[n - 1]};
}

/* Samples of one target: step, floor, fast step and each phase, reps each. */
enum { S_STEP, S_FLOOR, S_FAST, S_PHASE0, S_COUNT = S_PHASE0 + JN_PHASES };

/* Each is timed right after an untimed run of its own, as training runs its step after its
 * own step: timed right after the other variants' work, a small step spent its time filling
 * the caches again (784-1000-1000-10 at B = 1 on the CPU: the plain step 1.6-1.9 ms timed
 * after hidden1's work, 1.5 ms after its own). */
static int run_round(jn_profile_target *t, const jn_profile_rounds *rounds, double *sample)
{
    double phases[JN_PHASES] = {0}, untimed;
    if (t->ops->step(t, &untimed, phases) || t->ops->step(t, &sample[S_STEP], phases) ||
        t->ops->gemm_floor(t, &untimed) || t->ops->gemm_floor(t, &sample[S_FLOOR]) ||
        (t->ops->fast_step && (t->ops->fast_step(t, &untimed) || t->ops->fast_step(t, &sample[S_FAST]))))
        return -1;
    for (int p = 0; p < JN_PHASES; p++)
        sample[S_PHASE0 + p] = phases[p];
    return rounds->stop && rounds->stop() ? jn_fail("interrupted") : 0;
}

/* "profile: round 4 of 20, 0m41s left" (in a grid "profile: combination 2 of 48: round ..."):
 * the time left from the mean of the rounds done. */
static void show_round(jn_progress *p, const jn_profile_rounds *rounds, const char *what, int done, int total,
                       double started)
{
    char line[160], cell[64] = "";
    if (rounds->cells > 0)
        snprintf(cell, sizeof cell, "combination %ld of %ld: ", rounds->cell, rounds->cells);
    int len = snprintf(line, sizeof line, "profile: %s%s %d of %d", cell, what, done + 1, total);
    if (done > 0) {
        char left[32];
        jn_format_duration((jn_wall_seconds() - started) / done * (total - done), left, sizeof left);
        snprintf(line + len, sizeof line - (size_t)len, ", %s left", left);
    }
    jn_progress_draw(p, line, done == 0);
}

jn_timing jn_timing_ratio(const double *num, const double *den, int n, size_t stride, double *scratch)
{
    /* A round whose denominator measured 0 s (a coarse clock, a tiny step) gives no ratio: left
     * out, as a NaN or infinity would be reported ("nan%", and in the JSON). With none left the
     * ratio was not measured: NaN, which the reports say so (a 0 read as measured). */
    int kept = 0;
    for (int r = 0; r < n; r++)
        if (den[(size_t)r * stride] > 0)
            scratch[kept++] = num[(size_t)r * stride] / den[(size_t)r * stride];
    return kept ? jn_timing_of(scratch, kept) : (jn_timing){NAN, NAN, NAN, NAN, NAN};
}

/* Order statistics of sample si of target i over sample sj of target j, round by round
 * (column: reps doubles of scratch). */
static jn_timing paired_ratio(const double *samples, int i, int si, int j, int sj, int reps, double *column)
{
    return jn_timing_ratio(samples + (size_t)i * reps * S_COUNT + si, samples + (size_t)j * reps * S_COUNT + sj, reps,
                           S_COUNT, column);
}

static void raise_to(double *peak, double flops, double seconds)
{
    if (seconds > 0 && flops / seconds * 1e-9 > *peak)
        *peak = flops / seconds * 1e-9;
}

/* One square SGEMM measured before the rounds is no bound on the step's own GEMMs (its floor
 * ran at 104-175% of it): the peak is the fastest rate measured, the square SGEMM's or a best
 * round's, so no median reported against it passes 100%. */
static void raise_peak(jn_profile_result *res)
{
    jn_profile_machine *mc = &res->machine;
    mc->sgemm_peak_gflops = mc->peak_gflops;
    for (int i = 0; i < res->n_variants; i++) {
        const jn_profile_variant *v = &res->v[i];
        raise_to(&mc->peak_gflops, v->total_flops, v->step.min);
        raise_to(&mc->peak_gflops, v->total_flops, v->floor.min);
        if (v->has_fast)
            raise_to(&mc->peak_gflops, v->total_flops, v->fast.min);
        for (int p = 0; p < JN_PHASES; p++)
            raise_to(&mc->peak_gflops, v->flops[p], v->phase[p].min);
    }
}

int jn_profile_run(jn_profile_target **targets, const char *const *names, const jn_objective *objs, int n,
                   const jn_model *m, int batch, const jn_profile_rounds *rounds, jn_profile_result *res)
{
    int reps = rounds->reps;
    const int limited = rounds->time_limit > 0, warmup = limited && rounds->warmup < 1 ? 1 : rounds->warmup;
    if (n < 1 || n > JN_PROFILE_MAX_VARIANTS || reps < 1)
        return jn_fail("profile: %d variants and %d repetitions asked; expected [1, %d] and >= 1", n, reps,
                       JN_PROFILE_MAX_VARIANTS);
    double *samples = malloc(sizeof(double) * (size_t)n * S_COUNT * (size_t)reps);
    double *column = malloc(sizeof(double) * (size_t)reps);
    if (!samples || !column) {
        free(samples), free(column);
        return jn_fail("profile: out of memory for %d repetitions", reps);
    }
    int rc = 0;
    double scratch[S_COUNT];
    jn_progress progress;
    jn_progress_init(&progress, rounds->progress);
    double started = jn_wall_seconds();
    for (int w = 0; w < warmup && !rc; w++) {
        show_round(&progress, rounds, "warm-up round", w, warmup, started);
        for (int i = 0; i < n && !rc; i++)
            rc = run_round(targets[i], rounds, scratch);
    }
    if (limited && !rc) {
        /* Compared as a double: a limit far beyond a fast round's time is past any int. */
        const double per_round = (jn_wall_seconds() - started) / warmup, fit = rounds->time_limit / per_round;
        const int least = reps < 3 ? reps : 3;
        if (fit < reps)
            reps = fit > least ? (int)fit : least;
    }
    /* Rounds interleave the variants, so that a change of machine load hits them alike. */
    started = jn_wall_seconds();
    for (int r = 0; r < reps && !rc; r++) {
        show_round(&progress, rounds, "round", r, reps, started);
        for (int i = 0; i < n && !rc; i++)
            rc = run_round(targets[i], rounds, &samples[((size_t)i * reps + r) * S_COUNT]);
    }
    jn_progress_clear(&progress);
    if (!rc) {
        res->batch = batch;
        res->reps = reps;
        res->warmup = warmup;
        res->reps_asked = rounds->reps;
        res->warmup_asked = rounds->warmup;
        res->time_limit = rounds->time_limit;
        res->n_variants = n;
        for (int i = 0; i < n; i++) {
            jn_profile_variant *v = &res->v[i];
            const jn_profile_target *t = targets[i];
            memset(v, 0, sizeof *v);
            snprintf(v->name, sizeof v->name, "%s", names[i]);
            v->obj = objs[i];
            v->total_flops = jn_step_flops(m, &objs[i], batch, v->flops);
            v->jvp_in_forward = t->jvp_in_forward;
            if (v->jvp_in_forward) {
                v->flops[JN_PHASE_FORWARD] += v->flops[JN_PHASE_JVP];
                v->flops[JN_PHASE_JVP] = 0;
            }
            v->workspace_bytes = t->workspace_bytes;
            v->state_bytes = t->state_bytes;
            v->device_bytes = t->device_bytes;
            v->gemm_calls = t->gemm_calls;
            v->launches = t->launches;
            v->has_fast = t->ops->fast_step != NULL;
            jn_timing *out[S_COUNT] = {&v->step, &v->floor, &v->fast};
            for (int p = 0; p < JN_PHASES; p++)
                out[S_PHASE0 + p] = &v->phase[p];
            for (int s = 0; s < S_COUNT; s++) {
                for (int r = 0; r < reps; r++)
                    column[r] = samples[((size_t)i * reps + r) * S_COUNT + s];
                *out[s] = jn_timing_of(column, reps);
            }
            /* Of the steps as training runs them: the CPU trains with its phased step, CUDA
             * replays the fast one (no phase events, no eager launches). */
            const int run_step = v->has_fast ? S_FAST : S_STEP;
            v->step_vs_plain = paired_ratio(samples, i, run_step, n - 1, run_step, reps, column);
            v->floor_vs_plain = paired_ratio(samples, i, S_FLOOR, n - 1, S_FLOOR, reps, column);
            v->step_vs_floor = paired_ratio(samples, i, run_step, i, S_FLOOR, reps, column);
            for (int p = 0; p < JN_PHASES; p++)
                v->phase_share[p] = paired_ratio(samples, i, S_PHASE0 + p, i, S_STEP, reps, column);
        }
        raise_peak(res);
        struct rusage ru;
        res->max_rss_kib = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
    }
    free(samples);
    free(column);
    return rc;
}

/* What changes the work of a step: the penalty, the input noise, the corruption (with a
 * penalty). */
static int work_key(const jn_objective *o)
{
    return (o->jac_lambda > 0) | (o->input_noise > 0) << 1 | (o->jac_lambda > 0 && o->jac_noise > 0) << 2;
}

void jn_profile_fill_operand(uint64_t seed, int which, jn_real *operand, size_t n)
{
    /* The initialisation's stream past the layers' steps: numbers no model uses. */
    jn_rng_uniform(seed, JN_STREAM_INIT, JN_MAX_LAYERS + 1 + (uint64_t)which, operand, n, 1.0);
}

int jn_profile_variants(const jn_objective *obj, jn_objective out[JN_PROFILE_MAX_VARIANTS],
                        const char *names[JN_PROFILE_MAX_VARIANTS])
{
    static const char *labels[] = {"as configured", "penalty off", "noise off", "plain"};
    jn_objective all[4] = {*obj, *obj, *obj, *obj};
    all[1].jac_lambda = 0;
    all[2].input_noise = all[2].jac_noise = 0;
    all[3].jac_lambda = all[3].input_noise = all[3].jac_noise = 0;
    /* Each distinct variant once; plain, the reference of the overhead ratio, last. */
    int n = 0;
    for (int i = 0; i < 4; i++) {
        int seen = i < 3 && work_key(&all[i]) == work_key(&all[3]) && i > 0;
        for (int j = 0; j < n; j++)
            seen |= work_key(&out[j]) == work_key(&all[i]);
        if (!seen) {
            out[n] = all[i];
            names[n++] = labels[i];
        }
    }
    return n;
}

#if !JACNOISE_HAVE_CUDA
/* Without CUDA in the build there is no CUDA target. */
jn_profile_target *jn_cuda_profile_target_create(const jn_model *m, const jn_objective *obj,
                                                 const jn_profile_setup *setup, const jn_dataset *train, int tf32)
{
    (void)m, (void)obj, (void)setup, (void)train, (void)tf32;
    jn_fail("--device cuda: this build has no CUDA backend");
    return NULL;
}

int jn_cuda_profile_machine(jn_profile_machine *mc, int tf32)
{
    (void)mc, (void)tf32;
    return jn_fail("--device cuda: this build has no CUDA backend");
}
#endif
