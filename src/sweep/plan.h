/* A sweep's plan: the spec expanded into configurations, each with its stable id and its
 * group (the configurations that can train together on one backend), and the deal of those
 * into shards. A pure function of the spec's text: every shard, worker, `status` and `merge`
 * computes the same plan. Internal to src/sweep. */
#ifndef JACNOISE_SWEEP_PLAN_H
#define JACNOISE_SWEEP_PLAN_H

#include "sweep/spec.h"

#define JN_SWEEP_ID_LEN 12

/* A configuration: where in the spec it is, not its options (jn_plan_config), whose 12 KB
 * each made a plan of 50,000 configurations take 750 MB. */
typedef struct {
    long point, sample, repeat;    /* its grid point, random draw and seed repeat */
    char id[JN_SWEEP_ID_LEN + 1];  /* hex digits of a hash of its experiment options */
} jn_plan_entry;

/* Why a configuration's options that change nothing were reset (jn_plan's reset_why). */
enum { JN_PLAN_RESET_NO_PENALTY = 1, JN_PLAN_RESET_HIDDEN1_PROJ = 2 };

typedef struct {
    char *key;          /* what its members share: data, shape, batch, penalty structure, penalty on/off */
    int *members;       /* entry indices, by id */
    int n_members;
} jn_plan_group;

typedef struct {
    jn_spec spec;
    const jn_config *given;   /* the sweep command's options, or NULL */
    jn_config base;           /* what every configuration's options start from (plan.c) */
    char dir[JN_PATH_MAX];    /* the sweep folder */
    jn_plan_entry *entries;   /* in the spec's order: grid points, then samples, then seeds */
    int n_entries;
    int n_reset;              /* the spec's configurations whose options that change nothing were reset */
    unsigned reset_why;       /* JN_PLAN_RESET_* of those: what the sweep says it reset */
    int n_repeats;            /* the spec's configurations dropped as repeats of an entry */
    int tf32;                 /* some configuration computes in TF32 */
    jn_plan_group *groups;    /* by key */
    int n_groups;
    const char **columns;     /* results.csv's option columns: the swept keys, then the fixed ones */
    int n_columns, n_swept;
} jn_plan;

/* Expands a parsed spec (the plan takes it over) into configurations in the sweep folder dir;
 * `given` (NULL: none; kept, it must outlive the plan) holds the sweep command's options,
 * whose operational ones (device, threads, data-dir, ...) apply to every configuration. Runs
 * are single-threaded unless the spec or the command line says otherwise. Configurations that
 * resolve to the same options are one. Errors name the spec (and the configuration). */
int jn_plan_make(jn_spec *spec, const jn_config *given, const char *dir, jn_plan *plan);
void jn_plan_free(jn_plan *plan);

/* Entry i's options, what `jacnoise train` would resolve for it (out = DIR/runs/ID), built
 * again from the spec as jn_plan_make built them (so it cannot fail). */
void jn_plan_config(const jn_plan *plan, int i, jn_config *cfg);

/* Entry i's options as its point of the spec gives them (but out), before the options that
 * change nothing are reset: what results.csv and the sweep's lines show, the spec's values
 * (jac-target=output at jac-lambda 0 read as hidden1, its run's default). */
void jn_plan_spec_config(const jn_plan *plan, int i, jn_config *cfg);

/* Entry i's value of option `key` in jn_plan_spec_config's options, as config.txt writes it. */
void jn_plan_value(const jn_plan *plan, int i, const char *key, char *out, size_t cap);

/* Entry i's run folder, DIR/runs/ID, in out (cap >= JN_PATH_MAX: jn_plan_make checked it fits). */
const char *jn_plan_folder(const jn_plan *plan, int i, char *out, size_t cap);

/* Deals the entries flagged in `in` (NULL: all) into `count` parts: each group's members in id
 * order dealt round-robin, one count running on from group to group, so parts are even and
 * each keeps its share of every group. part[e] ([n_entries]): entry e's part, 0 .. count - 1,
 * or -1 for one not in `in`. */
void jn_plan_deal(const jn_plan *plan, const unsigned char *in, int count, int *part);

#endif
