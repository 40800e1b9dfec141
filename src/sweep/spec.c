/* The sweep specification's parser and its random draws (spec.h). */
#include "sweep/spec.h"
#include "core/fileio.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "jacnoise/rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFIGURATIONS 50000
/* Its digits, for messages whose format is a literal. */
#define DIGITS_OF(n) #n
#define DIGITS(n) DIGITS_OF(n)

/* Options a spec may not set: the sweep sets them for every configuration. */
static const char *const sweep_owned[] = {"out", "resume", "max-steps", "progress", "config", NULL};

static int owned_by_sweep(const char *key)
{
    for (const char *const *k = sweep_owned; *k; k++)
        if (!strcmp(key, *k))
            return 1;
    return 0;
}

int jn_sweep_spec_accepts(const char *key) { return jn_config_accepts(JN_CMD_TRAIN, key) && !owned_by_sweep(key); }

/* Cuts a '#' comment (outside double quotes). */
static void cut_comment(char *s)
{
    int quoted = 0;
    for (; *s; s++) {
        if (*s == '"')
            quoted = !quoted;
        else if (*s == '#' && !quoted) {
            *s = 0;
            return;
        }
    }
}

/* Removes the double quotes around a value; fails on a stray quote. */
static int unquote(char *v, char **out)
{
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v[n - 1] = 0;
        v++;
        n -= 2;
    }
    if (memchr(v, '"', n))
        return -1;
    *out = v;
    return 0;
}

static int fail_at(const jn_spec *spec, int line, const char *fmt, const char *a, const char *b)
{
    char what[512];
    snprintf(what, sizeof what, fmt, a, b);
    return jn_fail("%s: line %d: %s", spec->path, line, what);
}

/* "column C: KEY" for messages about the value at `at` of the line `line` (a long grid's line
 * says where its bad value is). */
static const char *at_column(const spec_entry *e, const char *line, const char *at, char *out, size_t cap)
{
    snprintf(out, cap, "column %ld: %s", (long)(at - line) + 1, e->key);
    return out;
}

/* Splits "v1, v2, ..." (commas inside quotes kept), which stands in `line`, into entry values. */
static int split_values(jn_spec *spec, spec_entry *e, const char *line, char *list, const char *form)
{
    int quoted = 0, n = 0;
    char *start = list, where[96];
    for (char *p = list;; p++) {
        if (*p == '"')
            quoted = !quoted;
        if ((*p == ',' && !quoted) || !*p) {
            int last = !*p;
            *p = 0;
            char *v, *value = jn_config_trim(start);
            if (unquote(value, &v))
                return fail_at(spec, e->line, "%s: a stray '\"' in %s", at_column(e, line, value, where, sizeof where),
                               form);
            if (!*v && (n || !last))
                return fail_at(spec, e->line, "%s: an empty value in %s",
                               at_column(e, line, value, where, sizeof where), form);
            if (!*v)
                return fail_at(spec, e->line, "%s: empty %s", e->key, form);
            char **grown = realloc(e->values, sizeof *grown * (size_t)(n + 1));
            if (grown)
                e->values = grown;
            int *columns = grown ? realloc(e->columns, sizeof *columns * (size_t)(n + 1)) : NULL;
            if (columns)
                e->columns = columns;
            if (!columns || !(grown[n] = strdup(v)))
                return jn_fail("out of memory");
            columns[n] = (int)(value - line) + 1;
            e->n_values = ++n;
            start = p + 1;
            if (last)
                break;
        }
    }
    return 0;  /* an odd quote is the last value's, which unquote refused */
}

/* "name(args)": the args, or NULL if value is not that form. */
static char *call_args(char *value, const char *name)
{
    size_t n = strlen(name), len = strlen(value);
    if (strncmp(value, name, n) || len < n + 2 || value[len - 1] != ')')
        return NULL;
    char *p = jn_config_trim(value + n);
    if (*p != '(')
        return NULL;
    value[len - 1] = 0;
    return p + 1;
}

static int parse_integer(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The swept or fixed value of an option line (`line`, in which value stands). */
static int parse_value(jn_spec *spec, spec_entry *e, const char *line, char *value)
{
    char *args;
    if (*value == '[') {
        size_t len = strlen(value);
        if (value[len - 1] != ']')
            return fail_at(spec, e->line, "%s: a grid ends with ']' (got '%s')", e->key, value);
        value[len - 1] = 0;
        if (!*jn_config_trim(value + 1))
            return fail_at(spec, e->line, "%s: empty grid []%s", e->key, "");
        e->kind = SPEC_GRID;
        return split_values(spec, e, line, value + 1, "the grid");
    }
    if ((args = call_args(value, "choice"))) {
        e->kind = SPEC_CHOICE;
        return split_values(spec, e, line, args, "choice()");
    }
    int log = 0;
    if ((args = call_args(value, "uniform")) || (log = 1, args = call_args(value, "log-uniform"))) {
        e->kind = log ? SPEC_LOG_UNIFORM : SPEC_UNIFORM;
        const char *form = log ? "log-uniform(a, b)" : "uniform(a, b)";
        if (split_values(spec, e, line, args, form))
            return -1;
        if (e->n_values != 2)
            return fail_at(spec, e->line, "%s: %s takes two bounds", e->key, form);
        double *bounds[2] = {&e->a, &e->b};
        for (int i = 0; i < 2; i++)
            if (jn_parse_decimal(e->values[i], bounds[i])) {
                char why[128];
                snprintf(why, sizeof why, "%s takes two finite decimal numbers, got '%.40s'", form, e->values[i]);
                return fail_at(spec, e->line, "%s: %s", e->key, why);
            }
        if (!(e->a < e->b))
            return fail_at(spec, e->line, "%s: %s needs a < b", e->key, form);
        if (log && !(e->a > 0))
            return fail_at(spec, e->line, "%s: %s needs 0 < a", e->key, form);
        e->integer = !strpbrk(e->values[0], ".eE") && !strpbrk(e->values[1], ".eE");
        return 0;
    }
    /* Quoted, a value is taken whole: a file name may hold brackets or parentheses (idx:set(2)/...). */
    const size_t len = strlen(value);
    const int quoted = len >= 2 && value[0] == '"' && value[len - 1] == '"';
    if (!quoted && (strchr(value, '(') || strchr(value, '[')))
        return fail_at(spec, e->line, "%s: '%s' is not a value, [grid], uniform(a, b), log-uniform(a, b) or choice(...) "
                       "(quote a value that holds '(' or '[')", e->key, value);
    /* A fixed value is taken whole, commas included (hidden = 500,500), as on the command line. */
    char *whole;
    e->kind = SPEC_FIXED;
    if (unquote(value, &whole))
        return fail_at(spec, e->line, "%s: a stray '\"' in '%s'", e->key, value);
    if (!(e->values = malloc(sizeof *e->values)) || !(e->values[0] = strdup(whole)))
        return jn_fail("out of memory");
    e->n_values = 1;
    return 0;
}

/* A line "samples = N", "seeds = N" or "search-seed = N": 0, -1 on error, 1 if the key is
 * not one of those. */
static int parse_control(jn_spec *spec, const char *key, const char *value, int line)
{
    int *seen = !strcmp(key, "samples") ? &spec->samples_line : !strcmp(key, "seeds") ? &spec->seeds_line
              : !strcmp(key, "search-seed") ? &spec->search_seed_line : NULL;
    if (!seen)
        return 1;
    if (*seen)
        return jn_fail("%s: line %d: %s given twice (first on line %d)", spec->path, line, key, *seen);
    *seen = line;
    long v;
    if (seen == &spec->search_seed_line) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(value, &end, 10);
        if (!*value || *end || errno || *value == '-')
            /* The range as --seed's refusal states it: 'an integer >= 0' refused 1e23 as not one. */
            return fail_at(spec, line, "%s: expected an integer in [0, 18446744073709551615], got '%s'", key, value);
        spec->search_seed = s;
    } else if (parse_integer(value, MAX_CONFIGURATIONS, &v)) {
        return fail_at(spec, line, "%s: expected a count in [1, " DIGITS(MAX_CONFIGURATIONS) "], got '%s'", key, value);
    } else {
        *(seen == &spec->samples_line ? &spec->samples : &spec->seeds) = v;
    }
    return 0;
}

/* Checks an option line's key and each of its values with the option table. */
static int check_entry(jn_spec *spec, const spec_entry *e, jn_config *scratch)
{
    if (owned_by_sweep(e->key))
        return fail_at(spec, e->line, "%s: set by the sweep for each configuration, not by a spec%s", e->key, "");
    /* The sweep command's own options (models, jobs, shard) would otherwise be refused as
     * unknown, with a guess at a train option they are not. */
    if (!jn_config_accepts(JN_CMD_TRAIN, e->key) && jn_config_accepts(JN_CMD_SWEEP, e->key))
        return fail_at(spec, e->line, "%s: an option of the sweep command, not of its runs: give it on the command "
                       "line (--%s)", e->key, e->key);
    if (!jn_config_accepts(JN_CMD_TRAIN, e->key)) {
        /* The valid keys, not train's options a spec may not set (--out, --resume, ...). */
        jn_config_fail_unknown(e->key, JN_CMD_TRAIN, owned_by_sweep, NULL);
        return jn_fail_context("%s: line %d", spec->path, e->line);
    }
    if (jn_spec_swept(e) && jn_config_is_operational(e->key))
        return fail_at(spec, e->line, "%s: says how runs execute, not what they compute: it can be fixed, not swept%s",
                       e->key, "");
    /* A data set's name, and a test set's pair, are checked apart from the option table, with
     * the other options: a name that is none, or an idx: pair of one file (test = foo too), was
     * named by the file alone, or as one of the configurations, not by its line (test = "" is
     * none, as on the command line). */
    const int data = !strcmp(e->key, "data"), test = !strcmp(e->key, "test");
    for (int i = 0; i < e->n_values; i++)  /* a long grid's bad value: where it is, as a bad quote's */
        if (jn_config_set(scratch, JN_CMD_TRAIN | spec->stored, e->key, e->values[i]) ||
            (data && jn_data_check_names(e->values[i], "")) ||
            (test && *e->values[i] && jn_data_check_test(e->values[i])))
            return e->columns ? jn_fail_context("%s: line %d: column %d", spec->path, e->line, e->columns[i])
                              : jn_fail_context("%s: line %d", spec->path, e->line);
    return 0;
}

int jn_spec_parse(const char *text, const char *origin, unsigned stored, jn_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->stored = stored;
    snprintf(spec->path, sizeof spec->path, "%s", origin);
    spec->search_seed = 1;
    if (!strncmp(text, "\xEF\xBB\xBF", 3))  /* a UTF-8 byte-order mark, as some editors write */
        text += 3;
    if (!(spec->text = strdup(text)))
        return jn_fail("out of memory");
    jn_config scratch;
    jn_config_defaults(&scratch);
    int line_no = 0;
    for (const char *p = text; *p;) {
        line_no++;
        size_t len = strcspn(p, "\n");
        char buf[JN_SPEC_LINE_MAX];
        if (len >= sizeof buf)
            return jn_fail("%s: line %d: line longer than %d characters", spec->path, line_no, JN_SPEC_LINE_MAX - 1);
        memcpy(buf, p, len);
        buf[len] = 0;
        p += len + (p[len] == '\n');
        cut_comment(buf);
        char *s = jn_config_trim(buf);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return fail_at(spec, line_no, "expected key = value, got '%s'%s", s, "");
        *eq = 0;
        char *key = jn_config_trim(s), *value = jn_config_trim(eq + 1);
        if (!strncmp(key, "--", 2))
            key += 2;
        if (!*key)  /* the line is cut at '=' by now: name its value */
            return fail_at(spec, line_no, "expected key = value, got no key before '= %s'", value, "");
        if (strlen(key) >= sizeof spec->entries[0].key)
            return fail_at(spec, line_no, "%.40s...: not an option (a key has at most 63 characters)%s", key, "");
        if (!*value)
            return fail_at(spec, line_no, "%s: no value%s", key, "");
        for (int i = 0; i < spec->n_entries; i++)
            if (!strcmp(spec->entries[i].key, key))
                return jn_fail("%s: line %d: %s given twice (first on line %d)", spec->path, line_no, key,
                               spec->entries[i].line);
        int control = parse_control(spec, key, value, line_no);
        if (control <= 0) {
            if (control < 0)
                return -1;
            continue;
        }
        spec_entry *grown = realloc(spec->entries, sizeof *grown * (size_t)(spec->n_entries + 1));
        if (!grown)
            return jn_fail("out of memory");
        spec->entries = grown;
        spec_entry *e = &spec->entries[spec->n_entries++];
        memset(e, 0, sizeof *e);
        snprintf(e->key, sizeof e->key, "%s", key);
        e->line = line_no;
        if (parse_value(spec, e, buf, value) || check_entry(spec, e, &scratch))
            return -1;
    }
    if (spec->n_entries == 0 && !spec->seeds_line) /* an empty file, or the wrong one */
        return jn_fail("%s: no options: a spec gives train options as key = value lines, fixed or swept "
                       "(jacnoise sweep --help)", spec->path);
    const spec_entry *random = NULL, *seed = NULL;
    double configurations = 1;
    for (int i = 0; i < spec->n_entries; i++) {
        const spec_entry *e = &spec->entries[i];
        if (e->kind != SPEC_FIXED && e->kind != SPEC_GRID && !random)
            random = e;
        if (!strcmp(e->key, "seed"))
            seed = e;
        if (e->kind == SPEC_GRID)
            configurations *= e->n_values;
    }
    if (random && !spec->samples_line)
        return jn_fail("%s: line %d: %s is random: give the number of draws with samples = N", spec->path,
                       random->line, random->key);
    if (!random && spec->samples_line)
        return jn_fail("%s: line %d: samples = N without a random key (uniform, log-uniform, choice)", spec->path,
                       spec->samples_line);
    if (!random && spec->search_seed_line)
        return jn_fail("%s: line %d: search-seed = N without a random key: it seeds the random keys' draws",
                       spec->path, spec->search_seed_line);
    if (spec->seeds_line && seed && jn_spec_swept(seed))
        return jn_fail("%s: line %d: seeds = N repeats each configuration over seeds; seed is swept on line %d",
                       spec->path, spec->seeds_line, seed->line);
    if (!spec->samples_line)
        spec->samples = 1;
    if (!spec->seeds_line)
        spec->seeds = 1;
    jn_config base;
    jn_config_defaults(&base);
    if (seed)
        jn_config_set(&base, JN_CMD_TRAIN, "seed", seed->values[0]);
    spec->seed_base = base.seed;
    if (spec->seeds_line && spec->seed_base + (uint64_t)spec->seeds - 1 < spec->seed_base)
        return jn_fail("%s: line %d: seeds = %ld from seed %llu overflows", spec->path, spec->seeds_line, spec->seeds,
                       (unsigned long long)spec->seed_base);
    configurations *= (double)spec->samples * (double)spec->seeds;
    if (configurations > MAX_CONFIGURATIONS)
        return jn_fail("%s: %.0f configurations; at most %d per sweep", spec->path, configurations, MAX_CONFIGURATIONS);
    return 0;
}

/* Whether a line of text starts with the n bytes of key. */
static int has_line(const char *text, const char *key, size_t n)
{
    for (const char *p = text; *p; p += strcspn(p, "\n"), p += *p == '\n')
        if (!strncmp(p, key, n))
            return 1;
    return 0;
}

/* Whether text is a run's config.txt: train writes a line for each of its options there,
 * out= among them, which no spec sets; a user who would rerun the run over seeds gives it.
 * Told by its out= line and lines for most of train's options, not all: an older version's
 * lacks those added since (it was refused at its first empty value as a spec). An out= line
 * among a few others is a spec's mistake, which its own line's error names (it was called a
 * config.txt, the real error in brackets). */
static int is_run_config(const char *text)
{
    jn_config defaults;
    jn_config_defaults(&defaults);
    const size_t n = jn_config_format(&defaults, JN_CMD_TRAIN, 0, NULL, 0);
    char *lines = malloc(n + 1);
    if (!lines)
        return 0;
    jn_config_format(&defaults, JN_CMD_TRAIN, 0, lines, n + 1);
    int options = 0, held = 0;
    for (const char *p = lines; *p; p += strcspn(p, "\n") + 1, options++)
        held += has_line(text, p, strcspn(p, "=") + 1);  /* "key=" */
    free(lines);
    return has_line(text, "out=", 4) && 2 * held > options;
}

int jn_spec_load(const char *path, unsigned stored, jn_spec *spec)
{
    unsigned char *data;
    size_t len;
    memset(spec, 0, sizeof *spec);
    if (jn_read_file_max(path, 1 << 20, &data, &len))
        return -1;
    const unsigned char *nul = memchr(data, 0, len);
    if (nul) {
        int line = 1;
        for (const unsigned char *p = data; p < nul; p++)
            line += *p == '\n';
        const long at = (long)(nul - data);
        free(data);
        return jn_fail("%s: line %d: a NUL byte, byte %ld of the file (binary content, not a spec)", path, line,
                       at);
    }
    char *text = realloc(data, len + 1);
    if (!text) {
        free(data);
        return jn_fail("out of memory");
    }
    text[len] = 0;
    int rc = jn_spec_parse(text, path, stored, spec);
    if (rc && is_run_config(text)) {  /* its first empty value or out= line says nothing of what to do */
        char why[JN_ERROR_MAX], word[JN_SHELL_WORD_CAP(JN_PATH_MAX + 32)];
        const size_t named = strlen(path) + 2;
        snprintf(why, sizeof why, "%s", jn_last_error());
        rc = jn_fail("%s: a run's config.txt, not a sweep spec (%s): to train its configuration again, jacnoise "
                     "train --config %s --out DIR; to sweep it (over seeds, say), write a spec of the lines of the "
                     "options to fix, without out, max-steps, progress and those with no value, and add seeds = N",
                     path, strncmp(why, path, named - 2) ? why : why + named, jn_shell_word(word, sizeof word, path));
    }
    free(text);
    return rc;
}

void jn_spec_free(jn_spec *spec)
{
    for (int i = 0; i < spec->n_entries; i++) {
        for (int v = 0; v < spec->entries[i].n_values; v++)
            free(spec->entries[i].values[v]);
        free(spec->entries[i].values);
        free(spec->entries[i].columns);
    }
    free(spec->entries);
    free(spec->text);
    memset(spec, 0, sizeof *spec);
}

int jn_spec_same(const jn_spec *a, const jn_spec *b)
{
    if (a->n_entries != b->n_entries || a->samples != b->samples || a->seeds != b->seeds ||
        a->search_seed != b->search_seed)
        return 0;
    for (int i = 0; i < a->n_entries; i++) {
        const spec_entry *x = &a->entries[i], *y = &b->entries[i];
        if (strcmp(x->key, y->key) || x->kind != y->kind || x->n_values != y->n_values)
            return 0;
        for (int v = 0; v < x->n_values; v++)
            if (strcmp(x->values[v], y->values[v]))
                return 0;
    }
    return 1;
}

void jn_spec_draw(const jn_spec *spec, const spec_entry *e, long sample, char *out, size_t cap)
{
    /* 53 uniform bits from the key's own counter, so adding a key never moves another's draws. */
    uint32_t w[4];
    jn_rng_block(spec->search_seed, JN_STREAM_SWEEP, (uint64_t)sample, jn_sweep_hash(e->key), w);
    const double u = ((double)(w[0] >> 5) * 67108864.0 + (double)(w[1] >> 6)) / 9007199254740992.0;
    if (e->kind == SPEC_CHOICE) {
        snprintf(out, cap, "%s", e->values[(int)(u * e->n_values)]);
        return;
    }
    double v;
    if (e->kind == SPEC_LOG_UNIFORM)
        v = exp(log(e->a) + u * (log(e->b + (e->integer ? 1 : 0)) - log(e->a)));
    else
        v = e->a + u * (e->b - e->a + (e->integer ? 1 : 0));
    if (e->integer) {
        snprintf(out, cap, "%.0f", fmin(floor(v), e->b));
        return;
    }
    /* Rounded to 4 digits a draw near a bound can cross it (0.99996 in [0.9999, 0.99999]
     * prints as 1): the bound, as the spec writes it, is the draw then. */
    snprintf(out, cap, "%.4g", v);
    const double printed = strtod(out, NULL);
    if (printed < e->a || printed > e->b)
        snprintf(out, cap, "%s", e->values[printed < e->a ? 0 : 1]);
}
