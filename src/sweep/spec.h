/* The sweep specification: a small text file of `train` options, fixed and swept.
 *
 *   # a comment (also after a value)
 *   key = value                 fixed: any train option (without the dashes); "..." where it holds ( or [
 *   key = [v1, v2, ...]         grid: each value ("..." quotes one with commas: ["32,16", "64"])
 *   key = uniform(a, b)         random search: uniform in [a, b] (integers when a and b are)
 *   key = log-uniform(a, b)     log-uniform in [a, b], 0 < a
 *   key = choice(v1, v2, ...)   one of the values, equally likely
 *   samples = N                 draws of the random keys (required with one, refused without)
 *   seeds = N                   repeats with seeds S, S+1, ..., S+N-1 (S: the fixed seed, or 1)
 *   search-seed = N             seed of the random draws (default 1)
 *
 * Every value is checked with the option table (the same messages as `train`), and every
 * error names the file and line, before anything runs. Internal to src/sweep. */
#ifndef JACNOISE_SWEEP_SPEC_H
#define JACNOISE_SWEEP_SPEC_H

#include <stdint.h>

#include "jacnoise/config.h"

/* A spec line's bytes, its NUL included: no value of the spec is longer. */
#define JN_SPEC_LINE_MAX 4096

typedef enum { SPEC_FIXED, SPEC_GRID, SPEC_UNIFORM, SPEC_LOG_UNIFORM, SPEC_CHOICE } spec_kind;

typedef struct {
    char key[64];
    spec_kind kind;
    int line;
    int n_values;          /* FIXED: 1; GRID, CHOICE: the values; UNIFORM, LOG_UNIFORM: 2 (a, b) */
    char **values;         /* as written (quotes removed) */
    int *columns;          /* but FIXED: where each value stands in its line (1-based), for messages */
    int integer;           /* UNIFORM, LOG_UNIFORM: both bounds are integers */
    double a, b;
} spec_entry;

typedef struct {
    char path[JN_PATH_MAX];
    char *text;            /* the file's bytes (kept in the sweep folder) */
    spec_entry *entries;
    int n_entries;
    long samples;          /* 1 without random keys */
    long seeds;            /* 1 without seeds = N */
    uint64_t seed_base;    /* the first seed of seeds = N */
    uint64_t search_seed;
    int samples_line, seeds_line, search_seed_line;  /* where each was given; 0 = not */
    unsigned stored;       /* JN_CONFIG_STORED for a sweep folder's own sweep.spec, else 0 */
} jn_spec;

/* Parses and validates a spec file, or text read from `path` (origin for messages, which a
 * caller prefixes with the option that named the file). stored: JN_CONFIG_STORED for a sweep
 * folder's own sweep.spec (`sweep status`, `sweep merge`), whose values are read as the sweep
 * trained with them; else 0. */
int jn_spec_load(const char *path, unsigned stored, jn_spec *spec);
int jn_spec_parse(const char *text, const char *origin, unsigned stored, jn_spec *spec);
void jn_spec_free(jn_spec *spec);

/* Whether two parsed specs mean the same sweep: the same keys in the same order, each with
 * the same form and values in the same order, and the same samples, seeds and search-seed.
 * Comments, blank lines, spaces, quotes and a key's leading "--" are not compared; the order
 * is, as it orders the configurations (results.csv's rows and columns). */
int jn_spec_same(const jn_spec *a, const jn_spec *b);

/* Whether the entry varies between configurations. */
static inline int jn_spec_swept(const spec_entry *e) { return e->kind != SPEC_FIXED; }

/* FNV-1a, 64 bits: sweep ids and the random draws' per-key streams. */
static inline uint64_t jn_sweep_hash(const char *text)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

/* Value of a random entry for sample s, as text for jn_config_set: uniform and log-uniform
 * draws keep 4 significant digits (integers when the bounds are). */
void jn_spec_draw(const jn_spec *spec, const spec_entry *e, long sample, char *out, size_t cap);

#endif
