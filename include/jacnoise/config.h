/* The resolved configuration of a command: every option with its value, parsed from
 * `--key=value` / `--key value` arguments and `key=value` files, validated one option at a
 * time with a message naming the option and the valid choices. The option names are fixed:
 * scripts and sweeps rely on them. */
#ifndef JACNOISE_CONFIG_H
#define JACNOISE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "jacnoise/evaluate.h"
#include "jacnoise/model.h"
#include "jacnoise/objective.h"

/* Which commands accept an option. */
typedef enum {
    JN_CMD_TRAIN = 1,
    JN_CMD_EVAL = 2,
    JN_CMD_STEP = 4,
    JN_CMD_DATA = 8,
    JN_CMD_INFO = 16,
    JN_CMD_CHECK = 32,
    JN_CMD_PROFILE = 64,
    JN_CMD_SWEEP = 128
} jn_command;

/* Or'd into the command given to jn_config_set or jn_config_load_file/_text: the text is a run's
 * own stored configuration (its config.txt, a checkpoint's), its values taken as the run ran
 * with them where this build refuses them for a new run (below float32's smallest normal
 * number), so that a run saved before still resumes, evaluates and shows. */
#define JN_CONFIG_STORED 0x10000u

typedef enum { JN_DEVICE_AUTO = 0, JN_DEVICE_CPU = 1, JN_DEVICE_CUDA = 2 } jn_device;
typedef enum { JN_PROGRESS_AUTO = 0, JN_PROGRESS_ALWAYS = 1, JN_PROGRESS_NEVER = 2 } jn_progress_mode;

#define JN_PATH_MAX 1024
#define JN_MAX_OPTIONS 64

/* --resume=auto: continue the run in --out if it holds one (last.ckpt), else start it; so
 * the same command started again finishes an interrupted run, or returns at once. */
#define JN_RESUME_AUTO 2

typedef struct {
    /* data */
    char data[JN_PATH_MAX];
    char data_dir[JN_PATH_MAX];
    char test[JN_PATH_MAX];
    long valid;          /* -1 = the set's default */
    long train_limit;    /* 0 = all */
    /* model and objective */
    int hidden[JN_MAX_LAYERS];
    int n_hidden;
    jn_objective obj;
    /* optimisation */
    int epochs;
    int batch;
    double lr;
    double momentum;
    double lr_decay;     /* lr of epoch e = lr * lr_decay^e */
    int patience;        /* epochs without a better validation error before stopping; 0 = never */
    uint64_t seed;
    /* running */
    int threads;         /* 0 = the BLAS default */
    jn_device device;
    char out[JN_PATH_MAX];
    int resume;          /* 1: continue the run in out; JN_RESUME_AUTO: if out holds one */
    char checkpoint[JN_PATH_MAX];
    long max_steps;        /* stop (resumably) once the run has made this many steps; 0 = no limit */
    long checkpoint_steps; /* also write `last` every N steps; 0 = at epoch ends only */
    jn_progress_mode progress;
    int tf32;              /* --precision tf32 */
    int cuda_graph;        /* --cuda-graph on */
    int checkpoint_epochs; /* write `last` every N epochs (and at the run's end) */
    /* sweeps */
    char spec[JN_PATH_MAX];
    int models;            /* models per group; 0 = as many as fit (jn_backend_max_models) */
    int jobs;              /* worker processes */
    int shard_index;       /* this process's part (0-based) ... */
    int shard_count;       /* ... of this many; 0 = from SLURM_ARRAY_TASK_* or the whole sweep */
    int dry_run;           /* check the spec and options, write nothing */
    /* step and eval */
    char dump[JN_PATH_MAX];
    double curv_noise;
    long eval_limit;
    double eval_noise[JN_MAX_EVAL_NOISE]; /* eval: input-noise stds of the robustness curve */
    int n_eval_noise;
    int check_steps;       /* check: steps on both backends */
    double tolerance;      /* check: largest relative difference accepted; 0 = auto */
    /* profile */
    int reps;              /* timed rounds */
    int warmup;            /* untimed rounds first */
    double time_limit;     /* seconds a profile may take: fewer timed rounds (0 = reps of them) */
    char json[JN_PATH_MAX];
    char grid[JN_PATH_MAX];  /* grid spec: a file, or the entries themselves */
    char csv[JN_PATH_MAX];   /* the grid's table */
    double max_gflop;        /* grid: skip configurations costing more per step */
    char config_file[JN_PATH_MAX];
    /* options given explicitly (command line or --config file), by table index */
    unsigned char given[JN_MAX_OPTIONS];
    /* the line of the key=value text (a --config file) each option's value was read from; 0
     * where it was not, or a later value (the command line's) replaced it */
    int text_line[JN_MAX_OPTIONS];
} jn_config;

/* The defaults (documented in the README and in --help). */
void jn_config_defaults(jn_config *cfg);

/* Sets one option from its text value, validating it. `command` is the command being run:
 * an option it does not accept is refused with the list of those it does. */
int jn_config_set(jn_config *cfg, unsigned command, const char *key, const char *value);

/* The command's name on the command line ("train"), as its messages name it. */
const char *jn_config_command_name(unsigned command);

/* True if `command` has the option. */
int jn_config_accepts(unsigned command, const char *key);

/* Refuses `key`, which `command` lacks: names the closest of its options and lists them
 * ("--KEY: unknown option for 'jacnoise CMD' ...; valid options: ..."), leaving out those that
 * skip (may be NULL) returns true for; a noun ("grid key") then says what the list holds.
 * Returns -1. */
int jn_config_fail_unknown(const char *key, unsigned command, int (*skip)(const char *key), const char *noun);

/* True if the option says where and how a run executes (--out, --threads, --device, ...), not
 * what it computes: it stays out of checkpoints and sweep ids. */
int jn_config_is_operational(const char *key);

/* Resets to their defaults (as if not given) the options that cannot change a run's numbers:
 * without the penalty (jac-lambda 0) its target, estimator, corruption and copies; for the
 * hidden1 closed form its estimator. Configurations equal after it are one experiment (the
 * sweep trains them once, the profile's grid times them once). Returns how many values it
 * changed, and names them ("--jac-noise, --jac-proj") in `changed` (cap bytes) unless NULL. */
int jn_config_drop_inert(jn_config *cfg, char *changed, size_t cap);

/* The value of one option as text (as config.txt writes it). */
int jn_config_get(const jn_config *cfg, const char *key, char *out, size_t cap);

/* Whether an option was given explicitly. */
int jn_config_given(const jn_config *cfg, const char *key);

/* Reads `key=value` lines ('#' comments, blank lines) from a file or from text (a
 * checkpoint's stored configuration); errors name the file (origin) and line. */
int jn_config_load_file(jn_config *cfg, unsigned command, const char *path);
int jn_config_load_text(jn_config *cfg, unsigned command, const char *text, const char *origin);

/* s without its leading white space, its trailing white space cut off in place: a line, key or
 * value of key=value files (and of sweep specs). */
char *jn_config_trim(char *s);

/* A number as a person writes one, in decimal: [+-]digits[.digits][e[+-]digits] (".5" and
 * "5." too), nothing around it; not what strtod takes besides (hex, inf, nan, white space).
 * Returns 0 with *v (a subnormal too), 1 where it is such a number but beyond a double (*v is
 * strtod's: 0 or infinity), -1 where it is not one. */
int jn_parse_decimal(const char *s, double *v);
/* The shortest decimal form that reads back as the same double ("0.1", not
 * "0.10000000000000001"): how config.txt and the reports write an option's value. */
void jn_format_double(double v, char *out, size_t cap);

/* A whole number written as digits, a minus sign before them at most, nothing around them:
 * not what strtol takes besides (white space, a plus sign), so that a count is read as it
 * reads ("--reps ' 3'" refused, not 3). Returns 0 with *v, 1 where it is such a number but
 * beyond a long, -1 where it is not one. */
int jn_parse_whole(const char *s, long *v);

/* Writes every option of `command` as key=value lines (loadable with --config), but --config,
 * --resume, --progress and --max-steps (how the command ran, not the run's options); with
 * experiment_only, only those that decide the numbers (not --out, --threads, --device, ...:
 * what checkpoints store). Returns the number of bytes the full text needs; writes at most
 * cap bytes (NUL-terminated). */
size_t jn_config_format(const jn_config *cfg, unsigned command, int experiment_only, char *out, size_t cap);

/* Whether a and b are the same experiment: train's experiment_only text (jn_config_format) of
 * both is the same, so that they train to the same bytes. Returns 1 where they are, 0 where
 * not, -1 where there was no memory to compare them (the error recorded). */
int jn_config_same_experiment(const jn_config *a, const jn_config *b);

/* Cross-option checks that need no data (--test only with idx: data, no tf32 on --device cpu,
 * the hidden widths and a penalised layer the model has). */
int jn_config_check(const jn_config *cfg);

/* For a resumed run: starts from the stored configuration, takes the operational options
 * (--out, --threads, --device, ...) and the stopping rule (--epochs, --patience) from `given`
 * where given there, and refuses any other option given with a value different from the
 * stored one; where `given` is the command line, new_run (else NULL) says how to get a run of
 * the value refused: the refusal says to leave the option out or do that. */
int jn_config_merge_resume(jn_config *stored, const jn_config *given, const char *new_run);

/* Applies every option given in src (command line) on top of dst (a stored configuration). */
int jn_config_overlay(jn_config *dst, const jn_config *src);

/* The model of this configuration for d inputs and C classes, and its objective checked
 * against it. */
int jn_config_model(const jn_config *cfg, int d, int classes, jn_model *m);

/* The learning rate of epoch `epoch` (0 first): lr * lr_decay^epoch. */
double jn_config_lr(const jn_config *cfg, int epoch);

#endif
