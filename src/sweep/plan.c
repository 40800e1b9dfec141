/* Expanding a spec into configurations, ids and groups; dealing them into shards. */
#include "sweep/plan.h"
#include "core/fileio.h"
#include "jacnoise/error.h"
#include "jacnoise/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The options members of a group share (with the penalty on or off): the data, the shape, the
 * batch, the penalty's structure, and how they run. The rest (learning rate and its decay,
 * momentum, weight decay, noise levels, lambda > 0, epochs, patience, seed) may differ. */
static const char *const group_keys[] = {"data", "test", "valid", "train-limit", "data-dir", "hidden", "batch",
                                         "loss", "jac-target", "jac-proj", "jac-copies", "precision", "device",
                                         "threads", "cuda-graph", NULL};

/* Names the configuration in messages: its swept values. */
static void describe(const jn_plan *plan, const jn_config *cfg, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (int c = 0; c < plan->n_swept && used < cap; c++) {
        char v[JN_PATH_MAX + 64];
        jn_config_get(cfg, plan->columns[c], v, sizeof v);
        int n = snprintf(out + used, cap - used, "%s%s=%s", c ? " " : "", plan->columns[c], v);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The experiment text of a configuration (malloc'ed). */
static char *experiment_text(const jn_config *cfg)
{
    size_t need = jn_config_format(cfg, JN_CMD_TRAIN, 1, NULL, 0);
    char *text = malloc(need + 1);
    if (text)
        jn_config_format(cfg, JN_CMD_TRAIN, 1, text, need + 1);
    return text;
}

/* The options every configuration shares: the defaults, the spec's fixed values and the sweep
 * command's options, which win (a spec cannot sweep those: they say how runs execute). Set once
 * for the plan, not for each configuration again. */
static int base_config(jn_plan *plan)
{
    const jn_spec *spec = &plan->spec;
    jn_config *cfg = &plan->base;
    jn_config_defaults(cfg);
    int threads_set = 0;
    for (int i = 0; i < spec->n_entries; i++) {
        const spec_entry *s = &spec->entries[i];
        threads_set |= !strcmp(s->key, "threads");
        if (s->kind == SPEC_FIXED && jn_config_set(cfg, JN_CMD_TRAIN | spec->stored, s->key, s->values[0]))
            return jn_fail_context("%s: line %d", spec->path, s->line);
    }
    if (!threads_set)
        cfg->threads = JN_SWEEP_THREADS;
    if (plan->given && jn_config_overlay(cfg, plan->given))
        return -1;
    /* Status and merge have no command line: the device the sweep's --device chose over the
     * spec's is not known, and a spec's device = cpu beside precision = tf32, which a sweep
     * with --device cuda trains, refused every configuration of its folder there. */
    if (!plan->given)
        cfg->device = JN_DEVICE_AUTO;
    cfg->progress = JN_PROGRESS_NEVER;
    cfg->resume = 0;
    cfg->max_steps = 0;
    return 0;
}

/* The options of grid point `point`, draw `sample`, repeat `repeat` (but out): the plan's base
 * with the swept values; *reset tells whether options that change nothing were set to their
 * defaults, and why: a JN_PLAN_RESET_* or 0. With reset NULL they keep the spec's values. */
static int configure(const jn_plan *plan, long point, long sample, long repeat, jn_config *cfg, int *reset)
{
    const jn_spec *spec = &plan->spec;
    *cfg = plan->base;
    for (int i = 0; i < spec->n_entries; i++) {
        const spec_entry *s = &spec->entries[i];
        char drawn[JN_SPEC_LINE_MAX];  /* a choice() value whole, however long */
        const char *value = drawn;
        if (s->kind == SPEC_FIXED)
            continue;
        if (s->kind == SPEC_GRID) {
            value = s->values[point % s->n_values];
            point /= s->n_values;
        } else {
            jn_spec_draw(spec, s, sample, drawn, sizeof drawn);
        }
        if (jn_config_set(cfg, JN_CMD_TRAIN | spec->stored, s->key, value))
            return jn_fail_context("%s: line %d", spec->path, s->line);
    }
    if (spec->seeds_line) {
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)(spec->seed_base + (uint64_t)repeat));
        jn_config_set(cfg, JN_CMD_TRAIN, "seed", seed);
    }
    char what[512];
    if (jn_config_check(cfg)) {
        if (!plan->n_swept)  /* the spec's one configuration: nothing to name it by */
            return jn_fail_context("%s", spec->path);
        describe(plan, cfg, what, sizeof what);
        return jn_fail_context("%s: the configuration %s", spec->path, what);
    }
    if (!reset)
        return 0;
    /* Points that differ only there are one. Without the penalty, its options are all reset
     * (jac-proj for hidden1 among them): that is the reason. */
    *reset = jn_config_drop_inert(cfg, NULL, 0) == 0 ? 0
             : cfg->obj.jac_lambda == 0              ? JN_PLAN_RESET_NO_PENALTY
                                                     : JN_PLAN_RESET_HIDDEN1_PROJ;
    return 0;
}

const char *jn_plan_folder(const jn_plan *plan, int i, char *out, size_t cap)
{
    char runs[JN_PATH_MAX];
    return jn_path_join(runs, sizeof runs, plan->dir, "runs") || jn_path_join(out, cap, runs, plan->entries[i].id)
               ? NULL : out;
}

void jn_plan_config(const jn_plan *plan, int i, jn_config *cfg)
{
    const jn_plan_entry *e = &plan->entries[i];
    int reset;
    (void)configure(plan, e->point, e->sample, e->repeat, cfg, &reset);
    (void)jn_plan_folder(plan, i, cfg->out, sizeof cfg->out);
}

void jn_plan_spec_config(const jn_plan *plan, int i, jn_config *cfg)
{
    const jn_plan_entry *e = &plan->entries[i];
    (void)configure(plan, e->point, e->sample, e->repeat, cfg, NULL);
}

void jn_plan_value(const jn_plan *plan, int i, const char *key, char *out, size_t cap)
{
    jn_config cfg;
    jn_plan_spec_config(plan, i, &cfg);
    jn_config_get(&cfg, key, out, cap);
}

/* A configuration's id: a hash of its experiment text, formatted in place where it fits (the
 * text's formatting is most of what planning a configuration costs: once, not twice). */
static int make_id(const jn_config *cfg, char *id)
{
    char fits[8192];
    char *text = fits;
    if (jn_config_format(cfg, JN_CMD_TRAIN, 1, fits, sizeof fits) >= sizeof fits && !(text = experiment_text(cfg)))
        return jn_fail("out of memory");
    snprintf(id, JN_SWEEP_ID_LEN + 1, "%012llx", (unsigned long long)(jn_sweep_hash(text) >> 16));
    if (text != fits)
        free(text);
    return 0;
}

/* What the members of a configuration's group share (malloc'ed, its own size: 50,000 are kept):
 * "KEY=VALUE\n" each, put together on the stack, not in a 4 KB heap buffer a configuration, and
 * without snprintf (its slow path under a printf hook: see copy_text in config.c). */
static char *group_key(const jn_config *cfg)
{
    enum { VALUE_MAX = JN_PATH_MAX + 64, KEY_MAX = 30 };  /* a value as jn_config_get cuts it; "KEY=" */
    char key[sizeof group_keys / sizeof *group_keys * (KEY_MAX + VALUE_MAX + 1) + 16];
    size_t len = 0;
    for (const char *const *k = group_keys; *k; k++) {
        const size_t name = strlen(*k);
        memcpy(key + len, *k, name);
        key[len + name] = '=';
        len += name + 1;
        jn_config_get(cfg, *k, key + len, VALUE_MAX);
        len += strlen(key + len);
        key[len++] = '\n';
    }
    /* A lambda = 0 member of a penalised group would still get a penalty sum and +-0
     * gradient additions: not the bytes of its solo run. */
    const char *penalty = cfg->obj.jac_lambda > 0 ? "penalty=on\n" : "penalty=off\n";
    memcpy(key + len, penalty, strlen(penalty) + 1);
    return strdup(key);
}

/* Entry k's place in the spec: its grid point, draw and repeat. */
static void place(const jn_spec *spec, long k, jn_plan_entry *e)
{
    e->repeat = k % spec->seeds;
    e->sample = k / spec->seeds % spec->samples;
    e->point = k / spec->seeds / spec->samples;
}

/* Entry k: its place in the spec, its id, its group key (*key, malloc'ed), and that its
 * folder's path fits; its options are built once here for all of those. 1 where its options
 * are refused, -1 where anything else failed (both recorded). */
static int build(jn_plan *plan, long k, char **key, int *reset)
{
    jn_plan_entry *e = &plan->entries[k];
    const jn_spec *spec = &plan->spec;
    place(spec, k, e);
    jn_config cfg;
    if (configure(plan, e->point, e->sample, e->repeat, &cfg, reset))
        return 1;
    if (make_id(&cfg, e->id))
        return -1;
    if (!(*key = group_key(&cfg)))
        return jn_fail("out of memory");
    plan->tf32 |= cfg.tf32;
    return jn_plan_folder(plan, (int)k, cfg.out, sizeof cfg.out) ? 0 : -1;
}

static int add_column(jn_plan *plan, const char *key)
{
    for (int c = 0; c < plan->n_columns; c++)
        if (!strcmp(plan->columns[c], key))
            return 0;
    const char **grown = realloc(plan->columns, sizeof *grown * (size_t)(plan->n_columns + 1));
    if (!grown)
        return jn_fail("out of memory");
    plan->columns = grown;
    plan->columns[plan->n_columns++] = key;
    return 0;
}

static int columns(jn_plan *plan)
{
    const jn_spec *spec = &plan->spec;
    for (int i = 0; i < spec->n_entries; i++)
        if (jn_spec_swept(&spec->entries[i]) && add_column(plan, spec->entries[i].key))
            return -1;
    if (spec->seeds_line && add_column(plan, "seed"))
        return -1;
    plan->n_swept = plan->n_columns;
    for (int i = 0; i < spec->n_entries; i++)
        if (!jn_config_is_operational(spec->entries[i].key) && add_column(plan, spec->entries[i].key))
            return -1;
    return 0;
}

static const jn_plan *sort_plan;
static char **sort_keys;

/* Group key, then id. */
static int by_group(const void *a, const void *b)
{
    int ia = *(const int *)a, ib = *(const int *)b;
    int c = strcmp(sort_keys[ia], sort_keys[ib]);
    return c ? c : strcmp(sort_plan->entries[ia].id, sort_plan->entries[ib].id);
}

/* The groups of the entries, whose keys ([n_entries]) it takes over (those it keeps set to NULL). */
static int make_groups(jn_plan *plan, char **keys)
{
    const int n = plan->n_entries;
    int *order = malloc(sizeof(int) * (size_t)(n ? n : 1));
    plan->groups = calloc((size_t)(n ? n : 1), sizeof *plan->groups);
    int rc = !order || !plan->groups ? jn_fail("out of memory") : 0;
    for (int i = 0; !rc && i < n; i++)
        order[i] = i;
    if (!rc) {
        sort_plan = plan;
        sort_keys = keys;
        qsort(order, (size_t)n, sizeof(int), by_group);
    }
    for (int i = 0; !rc && i < n;) {
        int j = i;
        while (j < n && !strcmp(keys[order[j]], keys[order[i]]))
            j++;
        jn_plan_group *g = &plan->groups[plan->n_groups];
        g->key = keys[order[i]];
        keys[order[i]] = NULL;
        g->members = malloc(sizeof(int) * (size_t)(j - i));
        if (!g->members) {
            rc = jn_fail("out of memory");
            break;
        }
        for (int k = i; k < j; k++)
            g->members[g->n_members++] = order[k];
        plan->n_groups++;
        i = j;
    }
    free(order);
    return rc;
}

static int by_id_then_order(const void *a, const void *b)
{
    int ia = *(const int *)a, ib = *(const int *)b;
    int c = strcmp(sort_plan->entries[ia].id, sort_plan->entries[ib].id);
    return c ? c : (ia > ib) - (ia < ib);
}

/* Configurations that resolve to the same options (the same id) are one: the first stays,
 * the others are counted as repeats (their group keys, keys[], freed). A hash collision (the
 * same id, other options) is refused, never merged. */
static int drop_repeats(jn_plan *plan, char **keys)
{
    const int n = plan->n_entries;
    int *order = malloc(sizeof(int) * (size_t)(n ? n : 1));
    unsigned char *drop = calloc((size_t)(n ? n : 1), 1);
    int rc = !order || !drop ? jn_fail("out of memory") : 0;
    for (int i = 0; !rc && i < n; i++)
        order[i] = i;
    sort_plan = plan;
    if (!rc)
        qsort(order, (size_t)n, sizeof(int), by_id_then_order);
    for (int i = 1; !rc && i < n; i++) {
        const jn_plan_entry *first = &plan->entries[order[i - 1]], *e = &plan->entries[order[i]];
        if (strcmp(first->id, e->id))
            continue;
        jn_config a, b;
        jn_plan_config(plan, order[i - 1], &a);
        jn_plan_config(plan, order[i], &b);
        char *ta = experiment_text(&a), *tb = experiment_text(&b);
        if (!ta || !tb)
            rc = jn_fail("out of memory");
        else if (strcmp(ta, tb))
            rc = jn_fail("%s: two configurations share the id %s; change search-seed", plan->spec.path, e->id);
        free(ta);
        free(tb);
        drop[order[i]] = 1;
        order[i] = order[i - 1];  /* later repeats compare with the one kept */
    }
    int kept = 0;
    for (int i = 0; !rc && i < n; i++) {
        if (drop[i]) {
            free(keys[i]);
            continue;
        }
        keys[kept] = keys[i];
        plan->entries[kept++] = plan->entries[i];
    }
    for (int i = kept; !rc && i < n; i++)
        keys[i] = NULL;  /* moved or freed above */
    if (!rc) {
        plan->n_repeats = n - kept;
        plan->n_entries = kept;
    }
    free(order);
    free(drop);
    return rc;
}

/* Entry k's options were refused (the error recorded): how many of the spec's total are, said
 * after it, so that a combination that cannot be (hidden:3 among other hidden sizes) is not
 * fixed one configuration per try. -1. */
static int count_refused(const jn_plan *plan, long k, long total)
{
    char first[JN_ERROR_MAX];
    snprintf(first, sizeof first, "%s", jn_last_error());
    long refused = 1;
    for (long j = k + 1; j < total; j++) {
        jn_plan_entry e;
        jn_config cfg;
        int reset;
        place(&plan->spec, j, &e);
        refused += configure(plan, e.point, e.sample, e.repeat, &cfg, &reset) != 0;
    }
    return total > 1 ? jn_fail("%s (the first of %ld refused configurations, of the spec's %ld)", first, refused,
                               total) : -1;
}

int jn_plan_make(jn_spec *spec, const jn_config *given, const char *dir, jn_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->spec = *spec;
    memset(spec, 0, sizeof *spec);
    plan->given = given;
    if (snprintf(plan->dir, sizeof plan->dir, "%s", dir) >= (int)sizeof plan->dir)
        return jn_fail("%s: path too long", dir);
    if (columns(plan) || base_config(plan))
        return -1;
    long points = 1;
    for (int i = 0; i < plan->spec.n_entries; i++)
        if (plan->spec.entries[i].kind == SPEC_GRID)
            points *= plan->spec.entries[i].n_values;
    const long total = points * plan->spec.samples * plan->spec.seeds;
    plan->entries = calloc((size_t)total, sizeof *plan->entries);
    char **keys = calloc((size_t)total, sizeof *keys);
    int rc = !plan->entries || !keys ? jn_fail("out of memory for %ld configurations", total) : 0;
    for (long k = 0; !rc && k < total; k++) {
        int reset = 0;
        rc = build(plan, k, &keys[k], &reset);
        if (rc > 0)
            rc = count_refused(plan, k, total);
        plan->n_reset += reset != 0;
        plan->reset_why |= (unsigned)reset;
    }
    if (!rc) {
        plan->n_entries = (int)total;
        rc = drop_repeats(plan, keys) || make_groups(plan, keys);
    }
    for (long k = 0; keys && k < total; k++)
        free(keys[k]);
    free(keys);
    return rc;
}

void jn_plan_free(jn_plan *plan)
{
    jn_spec_free(&plan->spec);
    for (int g = 0; g < plan->n_groups; g++) {
        free(plan->groups[g].key);
        free(plan->groups[g].members);
    }
    free(plan->groups);
    free(plan->entries);
    free(plan->columns);
    memset(plan, 0, sizeof *plan);
}

void jn_plan_deal(const jn_plan *plan, const unsigned char *in, int count, int *part)
{
    long dealt = 0;
    for (int g = 0; g < plan->n_groups; g++)
        for (int m = 0; m < plan->groups[g].n_members; m++) {
            int e = plan->groups[g].members[m];
            part[e] = !in || in[e] ? (int)(dealt++ % count) : -1;
        }
}
