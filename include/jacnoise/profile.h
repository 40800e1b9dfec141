/* Profiling a training step: its phases, their cost in FLOPs (SPEC "Cost"), and a backend-
 * neutral driver that times a step against its GEMM floor.
 *
 * Three pieces, so that each backend supplies only what it alone can measure:
 *  - jn_step_flops: the cost model, written once; the profile, the benchmarks and the tests
 *    (against the GEMMs a real step issues) all call it.
 *  - jn_phase_clock: where a backend's step code reports phase boundaries. The CPU reads the
 *    wall clock (jn_wall_clock); a GPU backend records events on its stream and resolves
 *    them after the step.
 *  - jn_profile_target: one configured step on one backend (run it with phases, run its
 *    GEMMs alone, describe the machine). jn_profile_run drives any number of them
 *    interleaved, rep by rep, so that the ratios come from the same run.
 *
 * The CUDA target (src/cuda/profile_cuda.c): its clock records a cudaEvent on the step's
 * stream at each phase mark (the graph off) and resolves them after the step; its floor
 * replays the logged GEMM shapes from their own graph; its fast step replays the captured
 * step graph (the phases inside a graph are not separable); launches counts the kernels of
 * one step. */
#ifndef JACNOISE_PROFILE_H
#define JACNOISE_PROFILE_H

#include <stddef.h>
#include <stdio.h>

#include <stdint.h>

#include "jacnoise/config.h"
#include "jacnoise/data.h"
#include "jacnoise/model.h"
#include "jacnoise/objective.h"

/* The phases of a step, in order (the NVTX ranges of the CUDA engine use the same names). */
typedef enum {
    JN_PHASE_DATA,      /* gather the batch, draw its noise */
    JN_PHASE_FORWARD,   /* main-loss forward pass and the loss */
    JN_PHASE_JVP,       /* forward-mode pass at x~: primal and tangent rows (hidden1: layer 1 at x~) */
    JN_PHASE_PENALTY,   /* R from the tangents (norms; hidden1: the closed form) */
    JN_PHASE_BACKWARD,  /* main-loss backward and the reverse pass through the tangents */
    JN_PHASE_UPDATE,    /* SGD with momentum */
    JN_PHASES,
    JN_PHASE_EVAL = JN_PHASES,  /* evaluation, outside the step (an NVTX range only) */
    JN_PHASE_NONE               /* between steps */
} jn_phase;

/* "data", "forward", "jvp", "penalty", "backward", "update" ("eval", "none"). */
const char *jn_phase_name(jn_phase p);

/* The GEMM FLOPs of one step of `rows` examples, per phase (flops[JN_PHASES]), following
 * the algorithm of SPEC.md exactly (each GEMM 2 * rows * n_out * n_in): forward L layers;
 * backward L weight gradients and L - 1 input gradients; the penalty's forward-mode pass over
 * B (1 + K) rows up to the target (tangent rows only at the output layer), repeated per
 * chunk of tangents (jn_objective_tangent_chunk) and per copy, and its reverse pass over the
 * same rows; hidden1 one first-layer forward and one weight gradient per copy. Elementwise
 * work is not counted. Returns the total. */
double jn_step_flops(const jn_model *m, const jn_objective *obj, int rows, double flops[JN_PHASES]);

/* Phase boundaries, reported by a backend's step: from mark(p) on, the work issued belongs
 * to phase p, until the next mark; mark(JN_PHASE_NONE) ends the step. */
typedef struct jn_phase_clock jn_phase_clock;
struct jn_phase_clock {
    void (*mark)(jn_phase_clock *clock, jn_phase next);
};

/* Marks a phase on a clock that may be NULL (not profiling: nothing happens). */
static inline void jn_phase_mark(jn_phase_clock *clock, jn_phase next)
{
    if (clock)
        clock->mark(clock, next);
}

/* A clock reading the host's monotonic wall clock: seconds[p] accumulates the time spent
 * in phase p (a phase may be entered several times per step). */
typedef struct {
    jn_phase_clock base;
    jn_phase current;
    double since;
    double seconds[JN_PHASES];
} jn_wall_clock;

void jn_wall_clock_init(jn_wall_clock *c);  /* zeroes the times; no phase running */

/* What a profile reports about the machine it ran on. */
typedef struct {
    char backend[16];       /* "cpu", "cuda" */
    char precision[8];      /* the GEMMs' arithmetic, as --precision names it: "fp32", "tf32" */
    char device[128];       /* CPU model and cores; GPU name */
    char library[256];      /* "OpenBLAS 0.3.21 ..."; "cuBLAS 12.4" */
    char core[64];          /* BLAS kernels in use ("Zen"); "" where not meaningful */
    char core_origin[160];  /* how those kernels were chosen */
    int threads;
    double peak_gflops;     /* measured: a large square SGEMM, raised by a profile to the fastest
                             * rate its own steps, floors and phases ran at (their best rounds) */
    double sgemm_peak_gflops;  /* the large square SGEMM's alone (set by a profile) */
    char timing[128];       /* how phases are timed ("wall clock") */
} jn_profile_machine;

typedef struct jn_profile_target jn_profile_target;
typedef struct {
    /* One whole training step (data, step, update) with its phases: seconds of the whole
     * step and of each phase, this step's alone (written, not added: 0 for phases the
     * backend cannot separate; the whole still counts them). */
    int (*step)(jn_profile_target *t, double *step_s, double phase_s[JN_PHASES]);
    /* The same step's GEMMs alone, replayed with the step's shapes: seconds. */
    int (*gemm_floor)(jn_profile_target *t, double *seconds);
    /* The step as training runs it where that differs from the phased step (a replayed CUDA
     * graph, whose phases are not separable); NULL where it is the same. */
    int (*fast_step)(jn_profile_target *t, double *seconds);
    void (*destroy)(jn_profile_target *t);
} jn_profile_target_ops;

struct jn_profile_target {
    const jn_profile_target_ops *ops;
    size_t workspace_bytes;   /* memory the step uses besides parameters, momentum and gradient */
    size_t state_bytes;       /* parameters, momentum and gradient */
    size_t device_bytes;      /* GPU: device memory the target holds, measured (free memory before
                               * and after its set-up: the resident data, cuBLAS's workspace and
                               * the graphs included); 0 on the CPU */
    int gemm_calls;           /* GEMM calls per step */
    int launches;             /* other kernel launches per step (GPU); -1 on the CPU */
    int jvp_in_forward;       /* the forward-mode pass runs in the forward phase's GEMMs (the CUDA
                               * engine stacks its rows with the main loss's, the CPU those of
                               * hidden1 and the output's Gaussian tangents): its FLOPs count
                               * there */
};

/* Fills a floor's replay operand `which` (0, 1, 2) with uniform values in [-1, 1] from seed:
 * memory written with values like a step's, neither untouched pages (on Linux one shared
 * zero page, always in the cache) nor zeros (a GPU's GEMM on zeros draws less power and can
 * clock higher), which would put the floor below what the step's GEMMs can reach. */
void jn_profile_fill_operand(uint64_t seed, int which, jn_real *operand, size_t n);

/* How a target trains: batch size, seed (data order and noise), learning rate, momentum. */
typedef struct {
    int batch;
    uint64_t seed;
    double lr, momentum;
} jn_profile_setup;

/* The CPU reference as a profile target: real steps on full batches of `train` (which must
 * outlive it and hold one), phases by the wall clock, the floor by replaying the step's logged GEMMs
 * through CBLAS. NULL (error recorded) when memory runs out. A GPU backend adds its own
 * constructor next to this one. */
jn_profile_target *jn_cpu_profile_target_create(const jn_model *m, const jn_objective *obj,
                                                const jn_profile_setup *setup, const jn_dataset *train);

/* Validates a CPU target against the CPU reference as training runs it (the CPU backend):
 * `steps` steps of each from the target's state, seed and batches must leave the same
 * parameters and velocity, bit for bit. 0, or -1 with the first difference recorded (or a
 * step that was not finite). The target goes on from where these steps left it. */
int jn_cpu_profile_target_validate(jn_profile_target *t, int steps);

/* The CUDA engine as a profile target: one model on the first device, the step of the CUDA
 * backend on batches of `train`; tf32 as --precision tf32. NULL (error recorded) without a
 * CUDA build or device, or when device memory runs out. */
jn_profile_target *jn_cuda_profile_target_create(const jn_model *m, const jn_objective *obj,
                                                 const jn_profile_setup *setup, const jn_dataset *train, int tf32);

/* The GPU: name and memory, cuBLAS and runtime versions, the precision, and the peak measured
 * now (square SGEMMs of doubling size up to 8192, the fastest). -1 (error recorded) without
 * a CUDA build or device. */
int jn_cuda_profile_machine(jn_profile_machine *mc, int tf32);

/* The CPU machine: model name and cores, the BLAS and its core, threads, and the peak
 * measured now (a 2048^3 SGEMM, best of 3). */
void jn_cpu_profile_machine(jn_profile_machine *mc);

/* Order statistics of a set of timings, in seconds. */
typedef struct {
    double median, q1, q3, min, max;
} jn_timing;

/* Those of v[0 .. n - 1], n >= 1, interpolated between order statistics (sorts v): the
 * profile's, and the benchmarks' (bench/bench_stats.h), in whatever unit v is. */
jn_timing jn_timing_of(double *v, int n);

/* Those of num[r * stride] / den[r * stride], r < n, into scratch (n doubles): a ratio taken
 * round by round, of two timings of the same round, so that a change of machine load between
 * rounds cancels in each (the profile's vs plain and vs floor, the benchmarks'). Rounds whose
 * den is 0 are left out; where none is left, all are NaN: not measured (jn_profile_ratio). */
jn_timing jn_timing_ratio(const double *num, const double *den, int n, size_t stride, double *scratch);

/* One variant of the step (as configured, penalty off, ...) as measured. */
typedef struct {
    char name[32];
    jn_objective obj;
    double flops[JN_PHASES], total_flops;
    jn_timing step, floor, fast, phase[JN_PHASES];
    /* This variant's step (floor) over the plain variant's in the same round, round by
     * round: a change of machine load between rounds cancels in each ratio. The steps are
     * those training runs: the fast ones where the target has them (has_fast). */
    jn_timing step_vs_plain, floor_vs_plain;
    /* The same step over this variant's own floor, round by round (the reports' /floor and
     * ratio_to_floor). */
    jn_timing step_vs_floor;
    /* Each phase over the phased step it was timed in, round by round (the report's share,
     * bench_cpu_step's data%): the medians' ratio mixed rounds of different load. */
    jn_timing phase_share[JN_PHASES];
    int has_fast;
    size_t workspace_bytes, state_bytes, device_bytes;
    int gemm_calls, launches;
    int jvp_in_forward;  /* as the target's */
} jn_profile_variant;

#define JN_PROFILE_MAX_VARIANTS 4

typedef struct {
    jn_profile_machine machine;
    char model[128];
    int batch;
    int reps, warmup;
    int reps_asked, warmup_asked; /* --reps and --warmup, where --time-limit changed them */
    double time_limit;
    int n_variants;           /* variant 0 is the step as configured; the last is plain */
    jn_profile_variant v[JN_PROFILE_MAX_VARIANTS];
    long max_rss_kib;         /* the process's peak resident memory after the runs */
    /* The configuration's --seed, --lr and --loss, as config.txt writes them (a grid's CSV's
     * last columns): options that change no time, which a grid may vary all the same. */
    char seed[24], lr[32], loss[16];
} jn_profile_result;

/* How many rounds: warmup untimed ones, then up to reps timed ones; with time_limit > 0
 * (seconds), fewer timed rounds (but at least 3) where reps of them would take longer, as
 * the warm-up rounds predict (at least one warm-up round is then run). progress: the round
 * and the time left on a line of stderr (auto: when it is a terminal), erased at the end.
 * stop (may be NULL): asked after each target's round; non-zero ends the profile with the
 * error "interrupted" (a caught SIGINT or SIGTERM: jn_train_stop_signal). In a grid, cell
 * (from 1) of cells: the progress line says which combination is running; cells 0 outside one. */
typedef struct {
    int reps, warmup;
    double time_limit;
    jn_progress_mode progress;
    int (*stop)(void);
    long cell, cells;
} jn_profile_rounds;

/* Times the targets (one per variant, their names, objectives and the model) interleaved,
 * round by round: each target's step, its floor, and its fast step where it has one. Fills
 * res (machine and model described by the caller). */
int jn_profile_run(jn_profile_target **targets, const char *const *names, const jn_objective *objs, int n,
                   const jn_model *m, int batch, const jn_profile_rounds *rounds, jn_profile_result *res);

/* The variants a profile compares for an objective: as configured; without the penalty;
 * without any noise (input noise and the penalty's corruption); plain (neither penalty nor
 * noise). Variants identical to an earlier one are left out. Returns their count. */
int jn_profile_variants(const jn_objective *obj, jn_objective out[JN_PROFILE_MAX_VARIANTS],
                        const char *names[JN_PROFILE_MAX_VARIANTS]);

/* The penalty in a few words: "output K=1", "hidden:2 exact", "hidden1"; "-" without one. */
void jn_profile_estimator(const jn_objective *obj, char *out, size_t cap);

/* The step as training runs it, measured as its GEMM floor is: on a target with a fast step
 * (CUDA) the replayed step graph, not the step launched kernel by kernel with its phase
 * events; elsewhere the step. The reports' us/step, GFLOP/s and /floor (step_vs_floor) of a
 * variant are all this step's, so that a row's numbers describe one step. */
const jn_timing *jn_profile_run_step(const jn_profile_variant *v);

/* A paired ratio for a table, "1.23x", or "-" where no round measured it (NaN,
 * jn_timing_ratio). Returns out. */
const char *jn_profile_ratio(double ratio, char *out, size_t cap);

/* The report as a table (text) and as JSON (written atomically). */
void jn_profile_print(const jn_profile_result *res, FILE *f);
/* The line under a table of paired ratios (the variants' /floor; a grid's /floor and, with
 * overhead set, its overhead column) saying they are not the quotients of the medians beside. */
void jn_profile_print_ratio_note(FILE *f, int overhead);
int jn_profile_write_json(const jn_profile_result *res, const char *path);

/* A grid's table: a header line, then one CSV line per profile (written atomically). */
int jn_profile_write_csv(const jn_profile_result *rows, int n, const char *path);

/* 0 where a grid may write its table to path: no file there, an empty one, or a profile
 * table; else -1 (error recorded): a file of anything else (a sweep's results.csv) is no
 * profile's to replace. */
int jn_profile_csv_replaceable(const char *path);

/* The same for a single profile's --json: no file, an empty one, or a profile report (a run's
 * config.txt or a sweep's table is no profile's to replace). */
int jn_profile_json_replaceable(const char *path);

#endif
