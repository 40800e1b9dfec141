/* The option table: one row per option (name, value kind, field, range, commands, help),
 * and the parsing, printing and help that read it. */
#include "jacnoise/config.h"
#include "core/fileio.h"
#include "core/options.h"
#include "jacnoise/backend.h"
#include "jacnoise/data.h"
#include "jacnoise/error.h"
#include "jacnoise/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define ALL (JN_CMD_TRAIN | JN_CMD_EVAL | JN_CMD_STEP | JN_CMD_DATA | JN_CMD_CHECK | JN_CMD_PROFILE | JN_CMD_SWEEP)
/* Marks options that say where and how a run executes, not what it computes: they stay out
 * of checkpoints (so a run's checkpoints do not depend on its folder or thread count) and a
 * resumed run may change them. */
#define OPERATIONAL 0x100
#define DATA_CMDS (JN_CMD_TRAIN | JN_CMD_EVAL | JN_CMD_STEP | JN_CMD_DATA | JN_CMD_CHECK | JN_CMD_PROFILE)
#define MODEL_CMDS (JN_CMD_TRAIN | JN_CMD_STEP | JN_CMD_CHECK | JN_CMD_PROFILE)

typedef enum { K_STR, K_INT, K_LONG, K_U64, K_DOUBLE, K_BOOL, K_CHOICE, K_CUSTOM } value_kind;

/* OPEN_MIN, OPEN_MAX: which bounds are exclusive; AS_FLOAT: the engine computes with the value in
 * float32, so that a non-zero value below its normal numbers is refused (float_tiny). */
enum { OPEN_MIN = 1, OPEN_MAX = 2, AS_FLOAT = 4 };

/* One word a K_CHOICE option takes, the int it stores, and what it means (NULL: nothing
 * to add) for the list a refusal prints. */
typedef struct {
    const char *name;
    int value;
    const char *note;
} choice;

typedef struct option option;
struct option {
    const char *name, *meta, *help;
    unsigned commands;
    value_kind kind;
    size_t offset, size;
    double min, max;      /* range for numbers, inclusive but where `open` says */
    int open;             /* OPEN_MIN, OPEN_MAX, AS_FLOAT (above) */
    int (*parse)(jn_config *cfg, const option *o, const char *value);
    void (*format)(const jn_config *cfg, char *out, size_t cap);
    const choice *choices;  /* K_CHOICE: the words, ended by a NULL name */
};

/* ---- custom option kinds ------------------------------------------------------------ */

/* Every refusal of an option's value, in the one "--opt VALUE: what is wrong" form of the CLI's
 * refusals (an empty value shown as ''): some read "--opt: VALUE ..." or "--opt: ..., got 'VALUE'". */
static int JN_PRINTF(3, 4) fail_value(const option *o, const char *value, const char *fmt, ...)
{
    char why[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return jn_fail("--%s %s: %s", o->name, *value ? value : "''", why);
}

static int fail_choice(const option *o, const char *value, const char *choices)
{
    return fail_value(o, value, "invalid value; valid: %s", choices);
}

static int set_choice(jn_config *cfg, const option *o, const char *value)
{
    char valid[256] = "";
    size_t used = 0;
    for (const choice *c = o->choices; c->name; c++) {
        if (!strcmp(value, c->name)) {
            *(int *)((char *)cfg + o->offset) = c->value;
            return 0;
        }
        int n = snprintf(valid + used, sizeof valid - used, "%s%s%s%s%s", used ? ", " : "", c->name,
                         c->note ? " (" : "", c->note ? c->note : "", c->note ? ")" : "");
        used += n > 0 && (size_t)n < sizeof valid - used ? (size_t)n : 0;
    }
    return fail_choice(o, value, valid);
}

/* Appends n bytes of s at out + *used, as far as cap allows; *used counts them all. */
static void put_text(char *out, size_t cap, size_t *used, const char *s, size_t n)
{
    if (*used < cap)
        memcpy(out + *used, s, n < cap - *used ? n : cap - *used);
    *used += n;
}

/* Ends text put at out (cap bytes) with a NUL, cut as snprintf cuts it. */
static void end_text(char *out, size_t cap, size_t used)
{
    if (cap)
        out[used < cap ? used : cap - 1] = 0;
}

/* s into out, as snprintf's "%s" writes it. The values of a sweep's ids are copied, not
 * printed: with a printf hook registered (libquadmath's, which OpenBLAS loads), glibc takes
 * its slow positional path for every snprintf, most of what formatting the ids cost. */
static void copy_text(char *out, size_t cap, const char *s)
{
    size_t used = 0;
    put_text(out, cap, &used, s, strlen(s));
    end_text(out, cap, used);
}

/* An integer, as "%lld" (or "%llu", negative 0) writes it. */
static void format_integer(uint64_t magnitude, int negative, char *out, size_t cap)
{
    char digits[24];
    size_t at = sizeof digits;
    do
        digits[--at] = (char)('0' + magnitude % 10);
    while (magnitude /= 10);
    if (negative)
        digits[--at] = '-';
    size_t used = 0;
    put_text(out, cap, &used, digits + at, sizeof digits - at);
    end_text(out, cap, used);
}

static void format_signed(long long v, char *out, size_t cap)
{
    format_integer(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, out, cap);
}

static void format_choice(const jn_config *cfg, const option *o, char *out, size_t cap)
{
    const int v = *(const int *)((const char *)cfg + o->offset);
    const choice *c = o->choices;
    while (c->name && c->value != v)
        c++;
    copy_text(out, cap, c->name ? c->name : "?");
}

/* 0 with *out for a decimal integer and nothing around it, "+3" too (which jn_parse_whole
 * refuses), 1 for one beyond a long, else -1. */
static int parse_long_text(const char *s, long *out)
{
    return jn_parse_whole(s + (*s == '+' && isdigit((unsigned char)s[1])), out);
}

/* Splits a comma-separated value into at most `max` items, each parsed by parse_item into
 * element i of a scratch array (or refused, naming it); refuses empty items. Only when all
 * are good are the n elements of `size` bytes copied to out and *count set. */
#define LIST_BYTES 128  /* the longest list: --eval-noise's doubles */
_Static_assert(JN_MAX_EVAL_NOISE * sizeof(double) <= LIST_BYTES && JN_MAX_LAYERS * sizeof(int) <= LIST_BYTES,
               "raise LIST_BYTES");
/* The three %s of " 'ITEM'" in an item's refusal: the item where the value is a list of them, or
 * nothing where it is the whole value, named already ("--hidden nan" read "'nan' ... (in 'nan')"). */
#define ITEM_OF(item, value) \
    strcmp(item, value) ? " '" : "", strcmp(item, value) ? item : "", strcmp(item, value) ? "'" : ""
typedef int (*list_item_parser)(const option *o, const char *item, const char *value, int i, void *out);

static int parse_list(const option *o, const char *value, const char *what, const char *noun, int max,
                      list_item_parser parse_item, size_t size, void *out, int *count)
{
    _Alignas(double) unsigned char items[LIST_BYTES];
    int n = 0;
    for (const char *p = value;;) {
        char item[64];
        size_t len = strcspn(p, ",");
        if (len == 0)
            return fail_value(o, value, "expected comma-separated %s", what);
        if (len >= sizeof item)  /* said "expected comma-separated ...", not what was wrong */
            return fail_value(o, value, "an item of %zu characters; at most %zu", len, sizeof item - 1);
        memcpy(item, p, len);
        item[len] = 0;
        if (n == max)
            return fail_value(o, value, "at most %d %s", max, noun);
        if (parse_item(o, item, value, n++, items))
            return -1;
        if (!p[len])
            break;
        p += len + 1;
    }
    memcpy(out, items, size * n);
    *count = n;
    return 0;
}

static int parse_width(const option *o, const char *item, const char *value, int i, void *out)
{
    long w;
    if (parse_long_text(item, &w) || w < 1 || w > JN_MAX_WIDTH)
        return fail_value(o, value, "layer width%s%s%s is not an integer in [1, %d]", ITEM_OF(item, value),
                          JN_MAX_WIDTH);
    ((int *)out)[i] = (int)w;
    return 0;
}

static int parse_hidden(jn_config *cfg, const option *o, const char *value)
{
    return parse_list(o, value, "layer widths like 1000,1000", "hidden layers", JN_MAX_LAYERS - 1, parse_width,
                      sizeof(int), cfg->hidden, &cfg->n_hidden);
}

static void format_hidden(const jn_config *cfg, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < cfg->n_hidden && used < cap; i++) {
        int n = snprintf(out + used, cap - used, i ? ",%d" : "%d", cfg->hidden[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

static int parse_target(jn_config *cfg, const option *o, const char *value)
{
    long k;
    if (!strcmp(value, "hidden1")) {
        cfg->obj.target = JN_TARGET_HIDDEN1;
        cfg->obj.target_layer = 1;
    } else if (!strcmp(value, "output")) {
        cfg->obj.target = JN_TARGET_OUTPUT;
        cfg->obj.target_layer = 0;
    } else if (!strncmp(value, "hidden:", 7) && !parse_long_text(value + 7, &k) && k >= 1 && k < JN_MAX_LAYERS) {
        cfg->obj.target = JN_TARGET_HIDDEN;
        cfg->obj.target_layer = (int)k;
    } else {
        return fail_choice(o, value, "hidden1 (closed form), hidden:K (hidden layer K in [1, 15]), output");
    }
    return 0;
}

static void format_target(const jn_config *cfg, char *out, size_t cap) { jn_target_name(&cfg->obj, out, cap); }

static int parse_proj(jn_config *cfg, const option *o, const char *value)
{
    long k;
    if (!strcmp(value, "exact"))
        cfg->obj.jac_proj = JN_PROJ_EXACT;
    else if (!parse_long_text(value, &k) && k >= 1 && k <= 4096)
        cfg->obj.jac_proj = (int)k;
    else
        return fail_choice(o, value, "a number of JVP projections K in [1, 4096], or exact");
    return 0;
}

static void format_proj(const jn_config *cfg, char *out, size_t cap)
{
    if (cfg->obj.jac_proj == JN_PROJ_EXACT)
        snprintf(out, cap, "exact");
    else
        snprintf(out, cap, "%d", cfg->obj.jac_proj);
}

static int parse_tolerance(jn_config *cfg, const option *o, const char *value)
{
    if (!strcmp(value, "auto")) {
        cfg->tolerance = 0;
        return 0;
    }
    double v;
    if (jn_parse_decimal(value, &v) || !(v > 0 && v <= 1))
        return fail_choice(o, value, "auto (1e-4 in fp32, derived from TF32's mantissa with --precision tf32) or a "
                                     "number in (0, 1]");
    cfg->tolerance = v;
    return 0;
}

static void format_tolerance(const jn_config *cfg, char *out, size_t cap)
{
    if (cfg->tolerance == 0)
        snprintf(out, cap, "auto");
    else
        snprintf(out, cap, "%.17g", cfg->tolerance);
}

/* An option that takes "auto" (auto_value) or a whole number in [lo, hi]: 0 with it in *out;
 * else the option's refusal, naming `valid`, and *out untouched. */
static int parse_auto_or_count(const option *o, const char *value, long auto_value, long lo, long hi,
                               const char *valid, long *out)
{
    long v;
    if (!strcmp(value, "auto"))
        v = auto_value;
    else if (parse_long_text(value, &v) || v < lo || v > hi)
        return fail_choice(o, value, valid);
    *out = v;
    return 0;
}

/* Such an option's value as parse_auto_or_count reads it back. */
static void format_auto_or_count(long v, long auto_value, char *out, size_t cap)
{
    if (v == auto_value)
        snprintf(out, cap, "auto");
    else
        snprintf(out, cap, "%ld", v);
}

static int parse_valid(jn_config *cfg, const option *o, const char *value)
{
    /* Bounded as --train-limit is: 'a count >= 0' refused 99999999999999999999, one such. */
    return parse_auto_or_count(o, value, -1, 0, 1000000000000000L,
                               "auto (10000 for MNIST, 1000 for USPS, a tenth for idx:) or a count in [0, 1000000000000000]",
                               &cfg->valid);
}

static void format_valid(const jn_config *cfg, char *out, size_t cap)
{
    format_auto_or_count(cfg->valid, -1, out, cap);
}

static int parse_models(jn_config *cfg, const option *o, const char *value)
{
    long v = cfg->models;  /* kept where refused */
    const int refused = parse_auto_or_count(o, value, 0, 1, 4096,
                                            "auto (as many as fit the memory budget) or a count in [1, 4096]", &v);
    cfg->models = (int)v;
    return refused;
}

static void format_models(const jn_config *cfg, char *out, size_t cap)
{
    format_auto_or_count(cfg->models, 0, out, cap);
}

static int parse_shard(jn_config *cfg, const option *o, const char *value)
{
    long i, n;
    char first[32];
    const char *slash = strchr(value, '/');
    size_t len = slash ? (size_t)(slash - value) : 0;
    /* N's bound said: 0/2000000, which is I/N with 0 <= I < N, read as refused for no reason. */
    static const char *const valid = "I/N with 0 <= I < N <= 1000000, e.g. 0/4 (the first of four parts), or auto";
    if (!strcmp(value, "auto")) {  /* as the help's default says; a wrapper's --shard given way to */
        cfg->shard_index = cfg->shard_count = 0;
        return 0;
    }
    if (!slash || len >= sizeof first)
        return fail_choice(o, value, valid);
    memcpy(first, value, len);
    first[len] = 0;
    if (parse_long_text(first, &i) || parse_long_text(slash + 1, &n) || n < 1 || n > 1000000 || i < 0 || i >= n)
        return fail_choice(o, value, valid);
    cfg->shard_index = (int)i;
    cfg->shard_count = (int)n;
    return 0;
}

static void format_shard(const jn_config *cfg, char *out, size_t cap)
{
    if (cfg->shard_count == 0)
        snprintf(out, cap, "auto");
    else
        snprintf(out, cap, "%d/%d", cfg->shard_index, cfg->shard_count);
}

/* -0 as 0. The range checks let -0 through (it is not below 0), but config.txt would keep it
 * as "-0", which a resume, a sweep's merging of equal configurations and the inert-option
 * check compare as text with the "0" of a run given 0: the same value would read as another. */
static double zero_unsigned(double v) { return v == 0 ? 0 : v; }

void jn_format_double(double v, char *out, size_t cap)
{
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(out, cap, "%.*g", digits, v);
        if (strtod(out, NULL) == v)
            break;
    }
}

/* An interval ("[0, 1)") in the one wording of the refusals and the help lines: the bounds in
 * full ("[0, 1e6]" beside another's "[0, 1000000]" read as two limits). */
static void write_interval(char *out, size_t cap, double lo, double hi, int open)
{
    snprintf(out, cap, "%c%.16g, %.16g%c", (open & OPEN_MIN) ? '(' : '[', lo, hi, (open & OPEN_MAX) ? ')' : ']');
}

/* A value the engine converts to float32 that becomes 0 or subnormal there: --lr 1e-50 trained
 * with a rate of 0, learning nothing, and said nothing. The bound written with 9 digits, which
 * convert back to it (a shorter one can fall below it). */
static int float_tiny(double v) { return v != 0 && fabsf((float)v) < FLT_MIN; }
#define FLOAT_TINY "below %.9g, float32's smallest normal number: the engine computes in float32, where it would be 0 or lose its precision"

#define MAX_STD 1e6  /* the bound of --input-noise and --jac-noise too */

static int parse_std(const option *o, const char *item, const char *value, int i, void *out)
{
    double v;
    /* The bound of the other noise stds: a std past float32's range (1e300) made every noisy
     * input infinite and the error a count of NaN logits. */
    if (jn_parse_decimal(item, &v) || v < 0 || v > MAX_STD) {
        char interval[64];
        write_interval(interval, sizeof interval, 0, MAX_STD, 0);
        return fail_value(o, value, "std%s%s%s is not a number in %s", ITEM_OF(item, value), interval);
    }
    if (float_tiny(v))
        return fail_value(o, value, "std%s%s%s is " FLOAT_TINY, ITEM_OF(item, value), (double)FLT_MIN);
    ((double *)out)[i] = zero_unsigned(v);
    return 0;
}

static int parse_eval_noise(jn_config *cfg, const option *o, const char *value)
{
    return parse_list(o, value, "stds like 0,0.1,0.2", "stds", JN_MAX_EVAL_NOISE, parse_std, sizeof(double),
                      cfg->eval_noise, &cfg->n_eval_noise);
}

static void format_eval_noise(const jn_config *cfg, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < cfg->n_eval_noise && used + 1 < cap; i++) {
        if (i)
            out[used++] = ',';
        jn_format_double(cfg->eval_noise[i], out + used, cap - used);
        used += strlen(out + used);
    }
}

/* ---- the table ---------------------------------------------------------------------- */

#define F(field) offsetof(jn_config, field)
#define STR(field) K_STR, F(field), sizeof(((jn_config *)0)->field)
#define NUM(kind, field) kind, F(field), 0
#define CUSTOM(p, f) K_CUSTOM, 0, 0, 0, 0, 0, p, f, NULL
#define CHOICE(field, ...) K_CHOICE, F(field), sizeof(((jn_config *)0)->field), 0, 0, 0, NULL, NULL, (const choice[]){__VA_ARGS__, {NULL, 0, NULL}}
/* set_choice writes the enum fields through an int. */
_Static_assert(sizeof(jn_loss_kind) == sizeof(int) && sizeof(jn_device) == sizeof(int) &&
                   sizeof(jn_progress_mode) == sizeof(int),
               "K_CHOICE stores an int");

/* The help of --hidden, --jac-target, --jac-proj, --models and --eval-noise states their limits in words. */
_Static_assert(JN_MAX_LAYERS - 1 == 15 && JN_MAX_WIDTH == 1000000 && JN_MAX_EVAL_NOISE == 16 && (int)MAX_STD == 1000000,
               "update the limits the option help states");

static const option options[] = {
    {"data", "NAME", "data set: mnist, mnist-binary, usps, or idx:IMAGES,LABELS", DATA_CMDS, STR(data), 0, 0, 0, 0, 0, 0},
    {"data-dir", "DIR", "folder with the data files (default: $JACNOISE_DATA, ./data, ../shared/datasets)", DATA_CMDS | JN_CMD_SWEEP | OPERATIONAL, STR(data_dir), 0, 0, 0, 0, 0, 0},
    {"test", "idx:IMAGES,LABELS", "test set for idx: data", DATA_CMDS, STR(test), 0, 0, 0, 0, 0, 0},
    {"valid", "N|auto", "validation examples taken from the end of the training file, N in [0, 1000000000000000] (auto: 10000 MNIST, 1000 USPS, 1/10 idx)", DATA_CMDS, CUSTOM(parse_valid, format_valid)},
    {"train-limit", "N", "use only the first N training examples (0 = all)", DATA_CMDS, NUM(K_LONG, train_limit), 0, 1e15, 0, 0, 0, 0},
    {"hidden", "W1,W2,...", "hidden layer widths: 1 to 15 layers, each in [1, 1000000]", MODEL_CMDS, CUSTOM(parse_hidden, format_hidden)},
    {"loss", "xent|squared", "loss on the logits", MODEL_CMDS, CHOICE(obj.loss, {"xent", JN_LOSS_XENT, "softmax cross-entropy"}, {"squared", JN_LOSS_SQUARED, "squared error on the softmax"})},
    {"epochs", "N", "maximum number of epochs", JN_CMD_TRAIN, NUM(K_INT, epochs), 1, 1e6, 0, 0, 0, 0},
    {"batch", "B", "mini-batch size", MODEL_CMDS, NUM(K_INT, batch), 1, 65536, 0, 0, 0, 0},
    {"lr", "X", "learning rate", MODEL_CMDS, NUM(K_DOUBLE, lr), 0, 1e6, OPEN_MIN | AS_FLOAT, 0, 0, 0},
    {"momentum", "X", "momentum", MODEL_CMDS, NUM(K_DOUBLE, momentum), 0, 1, OPEN_MAX | AS_FLOAT, 0, 0, 0},
    {"lr-decay", "X", "learning-rate factor per epoch", JN_CMD_TRAIN, NUM(K_DOUBLE, lr_decay), 0, 1, OPEN_MIN, 0, 0, 0},
    {"weight-decay", "X", "L2 weight decay wd (weights only): (wd/2) sum ||W||^2", MODEL_CMDS, NUM(K_DOUBLE, obj.weight_decay), 0, 1e6, AS_FLOAT, 0, 0, 0},
    {"input-noise", "S", "std of Gaussian noise on the main loss's input (MLP+N)", MODEL_CMDS, NUM(K_DOUBLE, obj.input_noise), 0, MAX_STD, AS_FLOAT, 0, 0, 0},
    {"jac-lambda", "X", "weight of the Jacobian penalty (MLP+J); 0 = off", MODEL_CMDS, NUM(K_DOUBLE, obj.jac_lambda), 0, 1e12, AS_FLOAT, 0, 0, 0},
    {"jac-noise", "S", "std of the corruption of the penalty's input (MLP+N+J)", MODEL_CMDS, NUM(K_DOUBLE, obj.jac_noise), 0, MAX_STD, AS_FLOAT, 0, 0, 0},
    {"jac-copies", "M", "corrupted copies per example for the penalty", MODEL_CMDS, NUM(K_INT, obj.jac_copies), 1, 1024, 0, 0, 0, 0},
    {"jac-target", "T", "penalised map: hidden1 (closed form), hidden:K (K in [1, 15]), output", MODEL_CMDS, CUSTOM(parse_target, format_target)},
    {"jac-proj", "K|exact", "Gaussian JVPs per corrupted example, K in [1, 4096], or exact ||J||_F^2 (small maps)", MODEL_CMDS, CUSTOM(parse_proj, format_proj)},
    {"patience", "N", "stop after N epochs without a better validation error (0 = never)", JN_CMD_TRAIN, NUM(K_INT, patience), 0, 1e6, 0, 0, 0, 0},
    {"seed", "N", "random seed (initialisation, shuffling, noise)", JN_CMD_TRAIN | JN_CMD_EVAL | JN_CMD_STEP | JN_CMD_CHECK | JN_CMD_PROFILE, NUM(K_U64, seed), 0, 0, 0, 0, 0, 0},
    /* Not data's: it runs no BLAS, and would take the option and do nothing with it. */
    {"threads", "N", "CPU threads for BLAS (0 = BLAS default)", (ALL & ~JN_CMD_DATA) | OPERATIONAL, NUM(K_INT, threads), 0, 1024, 0, 0, 0, 0},
    {"device", "auto|cpu|cuda", "backend (auto: cuda when a GPU is present and built in)", JN_CMD_TRAIN | JN_CMD_SWEEP | JN_CMD_PROFILE | OPERATIONAL, CHOICE(device, {"auto", JN_DEVICE_AUTO, NULL}, {"cpu", JN_DEVICE_CPU, NULL}, {"cuda", JN_DEVICE_CUDA, NULL})},
    {"precision", "fp32|tf32", "GEMM precision (tf32: CUDA tensor cores)", JN_CMD_TRAIN | JN_CMD_CHECK | JN_CMD_PROFILE, CHOICE(tf32, {"fp32", 0, NULL}, {"tf32", 1, "CUDA only: TF32 tensor-core GEMMs"})},
    {"cuda-graph", "on|off", "CUDA: replay each step from one captured graph (off: for profiling)", JN_CMD_TRAIN | JN_CMD_SWEEP | OPERATIONAL, CHOICE(cuda_graph, {"on", 1, "replay one captured step"}, {"off", 0, "launch each kernel: for profiling"})},
    {"out", "DIR", "run folder: config.txt, metrics.jsonl, checkpoints, summary.json", JN_CMD_TRAIN | JN_CMD_SWEEP | OPERATIONAL, STR(out), 0, 0, 0, 0, 0, 0},
    {"resume", NULL, "continue the run in --out from its last checkpoint (--resume=auto: if --out holds one, else start it)", JN_CMD_TRAIN | OPERATIONAL, NUM(K_BOOL, resume), 0, JN_RESUME_AUTO, 0, 0, 0, 0},
    {"max-steps", "N", "stop resumably after N steps in total (0 = no limit)", JN_CMD_TRAIN | OPERATIONAL, NUM(K_LONG, max_steps), 0, 1e15, 0, 0, 0, 0},
    {"checkpoint-steps", "N", "also write the last checkpoint every N steps (0 = epoch ends only)", JN_CMD_TRAIN | OPERATIONAL, NUM(K_LONG, checkpoint_steps), 0, 1e15, 0, 0, 0, 0},
    {"checkpoint-epochs", "N", "write the checkpoints (last, and best where it changed) every N epochs only, and at the run's end (a resume replays the epochs since)", JN_CMD_TRAIN | JN_CMD_SWEEP | OPERATIONAL, NUM(K_INT, checkpoint_epochs), 1, 1e6, 0, 0, 0, 0},
    {"progress", "auto|always|never", "progress line on stderr (auto: only on a terminal)", JN_CMD_TRAIN | JN_CMD_EVAL | JN_CMD_SWEEP | JN_CMD_PROFILE | OPERATIONAL, CHOICE(progress, {"auto", JN_PROGRESS_AUTO, "on a terminal only"}, {"always", JN_PROGRESS_ALWAYS, NULL}, {"never", JN_PROGRESS_NEVER, NULL})},
    {"checkpoint", "FILE", "checkpoint to evaluate", JN_CMD_EVAL | JN_CMD_STEP | JN_CMD_CHECK, STR(checkpoint), 0, 0, 0, 0, 0, 0},
    {"steps", "N", "training steps to run on both backends", JN_CMD_CHECK, NUM(K_INT, check_steps), 1, 1e6, 0, 0, 0, 0},
    {"tolerance", "auto|X", "largest relative difference ||gpu - cpu|| / ||cpu|| accepted per tensor, X in (0, 1]; auto: 1e-4 in fp32, derived from TF32's mantissa and the first step's saturated tanh units with --precision tf32", JN_CMD_CHECK, CUSTOM(parse_tolerance, format_tolerance)},
    {"dump", "FILE", "write the step state to FILE", JN_CMD_STEP, STR(dump), 0, 0, 0, 0, 0, 0},
    {"curv-noise", "S", "noise scale s of the curvature estimate", JN_CMD_EVAL, NUM(K_DOUBLE, curv_noise), 0, 1e6, OPEN_MIN | AS_FLOAT, 0, 0, 0},
    {"eval-limit", "N", "evaluate only the first N examples of each split (0 = all)", JN_CMD_EVAL, NUM(K_LONG, eval_limit), 0, 1e15, 0, 0, 0, 0},
    {"spec", "FILE", "the sweep's specification: fixed and swept train options (README: Sweeps)", JN_CMD_SWEEP, STR(spec), 0, 0, 0, 0, 0, 0},
    {"models", "M|auto", "models trained together in one group (one backend, lock-step), M in [1, 4096]; auto: as many as fit the memory budget", JN_CMD_SWEEP | OPERATIONAL, CUSTOM(parse_models, format_models)},
    {"jobs", "N", "worker processes, each training its share of the configurations", JN_CMD_SWEEP | OPERATIONAL, NUM(K_INT, jobs), 1, 1024, 0, 0, 0, 0},
    {"dry-run", NULL, "check what a sweep checks before it writes (spec, options, device, --out), say how many configurations it makes; train and write nothing", JN_CMD_SWEEP | OPERATIONAL, NUM(K_BOOL, dry_run), 0, 1, 0, 0, 0, 0},
    {"shard", "I/N|auto", "run part I (0-based) of N (at most 1000000) of the sweep (auto: in a Slurm job array, the task's place in the array first run on --out, from SLURM_ARRAY_TASK_ID/_MIN/_STEP/_COUNT; else all)", JN_CMD_SWEEP | OPERATIONAL, CUSTOM(parse_shard, format_shard)},
    {"eval-noise", "S1,S2,...", "also the error under Gaussian input noise of each std (at most 16, each in [0, 1000000]; noise from --seed)", JN_CMD_EVAL, CUSTOM(parse_eval_noise, format_eval_noise)},
    {"reps", "N", "timed steps of each variant (median and quartiles over them)", JN_CMD_PROFILE, NUM(K_INT, reps), 1, 1e6, 0, 0, 0, 0},
    {"warmup", "N", "warm-up rounds first, untimed: each runs every variant's step and GEMM floor, as a timed round does", JN_CMD_PROFILE, NUM(K_INT, warmup), 0, 1e6, 0, 0, 0, 0},
    {"time-limit", "S", "fewer timed steps (at least 3) where --reps would take longer than S seconds, as the warm-up rounds (one at least, --warmup 0 or not) predict (0 = no limit)", JN_CMD_PROFILE, NUM(K_DOUBLE, time_limit), 0, 1e9, 0, 0, 0, 0},
    {"json", "FILE", "also write the profile as JSON to FILE", JN_CMD_PROFILE, STR(json), 0, 0, 0, 0, 0, 0},
    {"grid", "SPEC", "profile every combination: 'key=v1 v2 ...; key=...' (or a file of such lines)", JN_CMD_PROFILE, STR(grid), 0, 0, 0, 0, 0, 0},
    {"csv", "FILE", "grid: the table of results", JN_CMD_PROFILE, STR(csv), 0, 0, 0, 0, 0, 0},
    {"max-gflop", "X", "grid: skip configurations whose step costs more GFLOP", JN_CMD_PROFILE, NUM(K_DOUBLE, max_gflop), 0, 1e9, OPEN_MIN, 0, 0, 0},
    {"config", "FILE", "read key=value options from FILE (the command line wins)", ALL, STR(config_file), 0, 0, 0, 0, 0, 0},
};
#define N_OPTIONS (int)(sizeof options / sizeof options[0])
_Static_assert(sizeof options / sizeof options[0] <= JN_MAX_OPTIONS, "raise JN_MAX_OPTIONS");

static const jn_objective default_objective = {.loss = JN_LOSS_XENT, .jac_copies = 1, .target = JN_TARGET_HIDDEN1,
                                               .target_layer = 1, .jac_proj = 1};

void jn_config_defaults(jn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->data, "mnist");
    cfg->valid = -1;
    cfg->hidden[0] = 1000;
    cfg->n_hidden = 1;
    cfg->obj = default_objective;
    cfg->epochs = 50;
    cfg->batch = 100;
    cfg->lr = 0.01;
    cfg->momentum = 0.9;
    cfg->lr_decay = 1.0;
    cfg->patience = 10;
    cfg->seed = 1;
    cfg->device = JN_DEVICE_AUTO;
    cfg->cuda_graph = 1;
    cfg->checkpoint_epochs = 1;
    cfg->jobs = 1;
    strcpy(cfg->out, "runs/latest");
    cfg->curv_noise = 0.1;
    cfg->check_steps = 3;
    cfg->tolerance = 0;  /* auto */
    cfg->reps = 20;
    cfg->warmup = 3;
    strcpy(cfg->csv, "profile.csv");
    cfg->max_gflop = 200;
}

static const option *find_option(const char *key)
{
    for (int i = 0; i < N_OPTIONS; i++)
        if (!strcmp(options[i].name, key))
            return &options[i];
    return NULL;
}

/* Levenshtein distance, for "did you mean". */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    int row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *jn_config_command_name(unsigned command)
{
    switch (command) {
    case JN_CMD_TRAIN: return "train";
    case JN_CMD_EVAL: return "eval";
    case JN_CMD_STEP: return "step";
    case JN_CMD_DATA: return "data";
    case JN_CMD_CHECK: return "check";
    case JN_CMD_PROFILE: return "profile";
    case JN_CMD_SWEEP: return "sweep";
    default: return "info";
    }
}

/* The option a key names in the outputs' words, where no spelling is near it: the reports and
 * the tables call the device a backend ("cuda backend", the "backend" column). */
static const char *synonym(const char *key)
{
    static const char *pairs[][2] = {{"backend", "device"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (!strcmp(key, pairs[i][0]))
            return pairs[i][1];
    return NULL;
}

int jn_config_fail_unknown(const char *key, unsigned command, int (*skip)(const char *key), const char *noun)
{
    if (!*key)  /* "--=5", a config line "= 5": "-- unknown option (did you mean --lr?)" said nothing */
        return jn_fail("no option name before '='");
    char list[2048] = "";
    size_t used = 0;
    const char *suggest = NULL;
    int best = 3;
    for (int i = 0; i < N_OPTIONS; i++) {
        if (!(options[i].commands & command) || (skip && skip(options[i].name)))
            continue;
        int n = snprintf(list + used, sizeof list - used, "%s--%s", used ? " " : "", options[i].name);
        used += n > 0 && (size_t)n < sizeof list - used ? (size_t)n : 0;
        /* Near as against what was typed: at most one edit in two of its characters ("--zz"
         * is two edits from --lr, a different word, not a typo of it). */
        int dist = edit_distance(key, options[i].name);
        if (dist < best && 2 * dist <= (int)strlen(key)) {
            best = dist;
            suggest = options[i].name;
        }
    }
    const char *same = synonym(key);
    const option *o = same ? find_option(same) : NULL;
    if (!suggest && o && (o->commands & command) && !(skip && skip(same)))
        suggest = same;
    char what[96], valid[32], hint[80] = "";
    if (noun) {
        snprintf(what, sizeof what, "not a %s", noun);
        snprintf(valid, sizeof valid, "%ss", noun);
    } else {
        snprintf(what, sizeof what, "%s 'jacnoise %s'", find_option(key) ? "not an option of" : "unknown option for",
                 jn_config_command_name(command));
        snprintf(valid, sizeof valid, "valid options");
    }
    if (suggest)
        snprintf(hint, sizeof hint, " (did you mean --%s?)", suggest);
    return jn_fail("--%s: %s%s; %s: %s", key, what, hint, valid, used ? list : "none");
}

static int in_range(const option *o, double v)
{
    return ((o->open & OPEN_MIN) ? v > o->min : v >= o->min) && ((o->open & OPEN_MAX) ? v < o->max : v <= o->max);
}

/* A number option's interval ("[0, 1)"), one wording for its refusals and its help line. */
static void format_interval(const option *o, char *out, size_t cap)
{
    if (o->kind == K_U64)  /* the whole type: beyond what the table's doubles hold exactly */
        snprintf(out, cap, "[0, %llu]", (unsigned long long)UINT64_MAX);
    else
        write_interval(out, cap, o->min, o->max, o->open);
}

/* "out of range [1, 1000000]"; a non-integer for an integer option is told the range too:
 * '--epochs 1e2' said only 'expected an integer'. */
static int fail_range(const option *o, const char *value, const char *reason)
{
    char interval[64];
    format_interval(o, interval, sizeof interval);
    return fail_value(o, value, "%s %s", reason, interval);
}

static int set_number(jn_config *cfg, const option *o, const char *value, int stored)
{
    char *field = (char *)cfg + o->offset;
    char *end;
    errno = 0;
    if (o->kind == K_BOOL) {
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes"))
            *(int *)field = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no"))
            *(int *)field = 0;
        else if (o->max == JN_RESUME_AUTO && !strcmp(value, "auto"))
            *(int *)field = JN_RESUME_AUTO;
        else
            return fail_choice(o, value, o->max == JN_RESUME_AUTO ? "true, false, yes, no, 1, 0, auto"
                                                                  : "true, false, yes, no, 1, 0");
        return 0;
    }
    if (o->kind == K_DOUBLE) {
        double v;
        const int parsed = jn_parse_decimal(value, &v);
        if (parsed > 0)  /* a number, but beyond what a double holds */
            return fail_value(o, value, "too %s for a double", fabs(v) > 1 ? "large" : "small");
        if (parsed < 0)
            return fail_value(o, value, "expected a finite decimal number (like 0.01 or 1e-3)");
        if (!in_range(o, v))
            return fail_range(o, value, "out of range");
        if ((o->open & AS_FLOAT) && !stored && float_tiny(v))
            return fail_value(o, value, FLOAT_TINY, (double)FLT_MIN);
        *(double *)field = zero_unsigned(v);
        return 0;
    }
    if (o->kind == K_U64) {
        /* Worded as the other integers' refusals: -1 said 'expected an integer >= 0', and 'nan'
         * 'expected an integer in [0, ...]', each the other's case. A plus sign taken as theirs
         * is (parse_long_text): '--seed +5' said 'expected an integer'. */
        const char *digits = value + (*value == '-' || (*value == '+' && isdigit((unsigned char)value[1])));
        if (!*digits || strspn(digits, "0123456789") != strlen(digits))
            return fail_range(o, value, "expected an integer in");
        unsigned long long v = strtoull(value, &end, 10);
        if ((*value == '-' && v) || errno == ERANGE)
            return fail_range(o, value, "out of range");
        *(uint64_t *)field = (uint64_t)v;
        return 0;
    }
    long v;
    const int parsed = parse_long_text(value, &v);
    if (parsed < 0)
        return fail_range(o, value, "expected an integer in");
    if (parsed > 0 || !in_range(o, (double)v))  /* an integer beyond a long is beyond every range */
        return fail_range(o, value, "out of range");
    if (o->kind == K_INT)
        *(int *)field = (int)v;
    else
        *(long *)field = v;
    return 0;
}

int jn_config_set(jn_config *cfg, unsigned command, const char *key, const char *value)
{
    const int stored = (command & JN_CONFIG_STORED) != 0;
    command &= ~JN_CONFIG_STORED;
    const option *o = find_option(key);
    if (!o || !(o->commands & command))
        return jn_config_fail_unknown(key, command, NULL, NULL);
    int rc;
    if (o->kind == K_STR) {
        const size_t len = strlen(value);
        if (len >= o->size)
            return fail_value(o, value, "longer than %zu characters", o->size - 1);
        /* config.txt and a checkpoint keep the train options as key=value lines, read back
         * trimmed: such a value would come back as another (or not at all) on resume. */
        const int trimmed = len && (isspace((unsigned char)value[0]) || isspace((unsigned char)value[len - 1]));
        if ((o->commands & JN_CMD_TRAIN) && strcmp(o->name, "config") && (strchr(value, '\n') || trimmed))
            return fail_value(o, value, "a value with a line break, or a space at either end, cannot be stored in "
                                        "config.txt (key=value lines, read back trimmed)");
        strcpy((char *)cfg + o->offset, value);
        rc = 0;
    } else if (o->kind == K_CHOICE) {
        rc = set_choice(cfg, o, value);
    } else if (o->kind == K_CUSTOM) {
        rc = o->parse(cfg, o, value);
    } else {
        rc = set_number(cfg, o, value, stored);
    }
    if (rc == 0) {
        cfg->given[o - options] = 1;
        cfg->text_line[o - options] = 0;
    }
    return rc;
}

int jn_config_accepts(unsigned command, const char *key)
{
    const option *o = find_option(key);
    return o && (o->commands & command);
}

int jn_config_is_flag(const char *key)
{
    const option *o = find_option(key);
    return o && o->kind == K_BOOL;
}

int jn_config_takes_list(const char *key)
{
    const option *o = find_option(key);
    const size_t n = o && o->meta ? strlen(o->meta) : 0;
    return n > 4 && !strcmp(o->meta + n - 4, ",...");
}

const char *jn_config_path_noun(const char *key)
{
    const option *o = find_option(key);
    if (!o || !o->meta)
        return NULL;
    /* --test's pair too: an empty one was taken as no test set, where every other empty name
     * is refused (a config file's test=, as config.txt writes none, still is none). */
    return !strcmp(o->meta, "FILE") ? "file" : !strcmp(o->meta, "DIR") ? "folder"
           : !strcmp(o->name, "test") ? "test set" : NULL;
}

int jn_config_is_operational(const char *key)
{
    const option *o = find_option(key);
    return o && (o->commands & OPERATIONAL);
}

static void format_value(const jn_config *cfg, const option *o, char *out, size_t cap)
{
    const char *field = (const char *)cfg + o->offset;
    switch (o->kind) {
    case K_STR: copy_text(out, cap, field); break;
    case K_INT: format_signed(*(const int *)field, out, cap); break;
    case K_LONG: format_signed(*(const long *)field, out, cap); break;
    case K_U64: format_integer(*(const uint64_t *)field, 0, out, cap); break;
    case K_DOUBLE: jn_format_double(*(const double *)field, out, cap); break;
    case K_BOOL: {
        const int v = *(const int *)field;
        copy_text(out, cap, v == JN_RESUME_AUTO ? "auto" : v ? "true" : "false");
        break;
    }
    case K_CHOICE: format_choice(cfg, o, out, cap); break;
    case K_CUSTOM: o->format(cfg, out, cap); break;
    }
}

int jn_config_get(const jn_config *cfg, const char *key, char *out, size_t cap)
{
    const option *o = find_option(key);
    if (!o)
        return jn_fail("--%s: no such option", key);
    format_value(cfg, o, out, cap);
    return 0;
}

int jn_config_given(const jn_config *cfg, const char *key)
{
    const option *o = find_option(key);
    return o && cfg->given[o - options];
}

size_t jn_config_format(const jn_config *cfg, unsigned command, int experiment_only, char *out, size_t cap)
{
    size_t need = 0;
    for (int i = 0; i < N_OPTIONS; i++) {
        const option *o = &options[i];
        /* Not --resume: a resumed run's config.txt must still start a new run with --config. Nor
         * --progress and --max-steps, the command's, not the run's: a new run started with
         * --config RUN/config.txt took a terminal's --progress always into its log, and paused
         * where the command that started RUN had asked. */
        if (!(o->commands & command) || !strcmp(o->name, "config") || !strcmp(o->name, "resume") ||
            !strcmp(o->name, "progress") || !strcmp(o->name, "max-steps") ||
            (experiment_only && (o->commands & OPERATIONAL)))
            continue;
        char value[JN_PATH_MAX + 64];
        format_value(cfg, o, value, sizeof value);
        put_text(out, cap, &need, o->name, strlen(o->name));
        put_text(out, cap, &need, "=", 1);
        put_text(out, cap, &need, value, strlen(value));
        put_text(out, cap, &need, "\n", 1);
    }
    end_text(out, cap, need);
    return need;
}

int jn_config_same_experiment(const jn_config *a, const jn_config *b)
{
    const size_t n = jn_config_format(a, JN_CMD_TRAIN, 1, NULL, 0);
    if (jn_config_format(b, JN_CMD_TRAIN, 1, NULL, 0) != n)
        return 0;
    char *ta = malloc(n + 1), *tb = malloc(n + 1);
    int same = -1;
    if (ta && tb) {
        jn_config_format(a, JN_CMD_TRAIN, 1, ta, n + 1);
        jn_config_format(b, JN_CMD_TRAIN, 1, tb, n + 1);
        same = strcmp(ta, tb) == 0;
    } else
        jn_fail("out of memory comparing the options of two configurations");
    free(ta);
    free(tb);
    return same;
}

/* An option that can change nothing (jn_config_drop_inert), and the bytes of the objective its
 * value is: equal bytes are an equal value (the parsers store no -0 and one target_layer per
 * target), so a reset compares and copies them, where formatting and parsing both values cost an
 * eighth of planning a sweep. */
typedef struct {
    const char *key;
    size_t offset, size;
} inert_option;
#define OBJ_SPAN(first, last)                                                                                  \
    offsetof(jn_objective, first),                                                                            \
        offsetof(jn_objective, last) + sizeof(((jn_objective *)0)->last) - offsetof(jn_objective, first)

/* Gives cfg the option's default value, as if it had not been given; names it in `changed`
 * (cap bytes, may be NULL) and returns 1 when that changed its value. */
static int reset_option(jn_config *cfg, const inert_option *inert, char *changed, size_t cap)
{
    unsigned char *value = (unsigned char *)&cfg->obj + inert->offset;
    const unsigned char *initial = (const unsigned char *)&default_objective + inert->offset;
    cfg->given[find_option(inert->key) - options] = 0;
    if (!memcmp(value, initial, inert->size))
        return 0;
    memcpy(value, initial, inert->size);
    if (changed) {
        size_t used = strlen(changed);
        snprintf(changed + used, cap - used, "%s--%s", used ? ", " : "", inert->key);
    }
    return 1;
}

int jn_config_drop_inert(jn_config *cfg, char *changed, size_t cap)
{
    static const inert_option penalty[] = {{"jac-target", OBJ_SPAN(target, target_layer)},
                                           {"jac-proj", OBJ_SPAN(jac_proj, jac_proj)},
                                           {"jac-noise", OBJ_SPAN(jac_noise, jac_noise)},
                                           {"jac-copies", OBJ_SPAN(jac_copies, jac_copies)}};
    if (changed && cap)
        changed[0] = 0;
    int n = 0;
    if (cfg->obj.jac_lambda == 0)
        for (size_t i = 0; i < sizeof penalty / sizeof *penalty; i++)
            n += reset_option(cfg, &penalty[i], changed, cap);
    if (cfg->obj.target == JN_TARGET_HIDDEN1)
        n += reset_option(cfg, &penalty[1], changed, cap);
    return n;
}

char *jn_config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

int jn_parse_decimal(const char *s, double *v)
{
    static const char digits[] = "0123456789";
    const char *p = s + (*s == '+' || *s == '-');
    const size_t whole = strspn(p, digits);
    p += whole;
    size_t fraction = 0;
    if (*p == '.') {
        fraction = strspn(p + 1, digits);
        p += 1 + fraction;
    }
    if (whole + fraction == 0)
        return -1;
    if (*p == 'e' || *p == 'E') {
        p += 1 + (p[1] == '+' || p[1] == '-');
        const size_t exponent = strspn(p, digits);
        if (exponent == 0)
            return -1;
        p += exponent;
    }
    if (*p)
        return -1;
    errno = 0;
    *v = strtod(s, NULL);
    /* glibc's ERANGE also marks a subnormal it holds (1e-310): only an overflow, or a nonzero
     * number that became 0, is beyond a double. */
    return errno == ERANGE && (*v == 0 || isinf(*v));
}

int jn_parse_whole(const char *s, long *v)
{
    const char *digits = s + (*s == '-');
    if (!*digits || strspn(digits, "0123456789") != strlen(digits))
        return -1;
    errno = 0;
    const long n = strtol(s, NULL, 10);
    if (errno == ERANGE)
        return 1;
    *v = n;
    return 0;
}

static int load_text(jn_config *cfg, unsigned command, const char *text, const char *origin, jn_config_setter *set)
{
    int line_no = 0, first_line[N_OPTIONS] = {0};
    const char *p = text;
    if (!strncmp(p, "\xEF\xBB\xBF", 3))  /* a UTF-8 byte-order mark, as some editors write */
        p += 3;
    while (*p) {
        line_no++;
        size_t len = strcspn(p, "\n");
        char line[JN_PATH_MAX + 128];
        if (len >= sizeof line)
            return jn_fail("%s: line %d: line longer than %zu characters", origin, line_no, sizeof line - 1);
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (p[len] == '\n');
        char *s = jn_config_trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return jn_fail("%s: line %d: expected key=value, got '%s'", origin, line_no, s);
        *eq = 0;
        char *key = jn_config_trim(s), *value = jn_config_trim(eq + 1);
        if (!strncmp(key, "--", 2))
            key += 2;
        if (!strcmp(key, "config"))
            return jn_fail("%s: line %d: a configuration file cannot include another (config=)", origin, line_no);
        /* One value per key: a second line would silently override the first. */
        const option *o = find_option(key);
        if (o && first_line[o - options])
            return jn_fail("%s: line %d: %s given again (first on line %d); keep one", origin, line_no, o->name,
                           first_line[o - options]);
        if (o)
            first_line[o - options] = line_no;
        if (set(cfg, command, key, value)) {
            /* Unlike a sweep spec's, a '#' after a value is part of it (file names may hold one);
             * said only where the value was refused: a key refused is refused with any value. */
            if (strchr(value, '#') && jn_config_accepts(command, key))
                jn_fail("%s; a '#' after a value is part of it: put the comment on a line of its own",
                        jn_last_error());
            return jn_fail_context("%s: line %d", origin, line_no);
        }
        cfg->text_line[o - options] = line_no;
    }
    return 0;
}

int jn_config_load_text(jn_config *cfg, unsigned command, const char *text, const char *origin)
{
    return load_text(cfg, command, text, origin, jn_config_set);
}

int jn_config_load_file(jn_config *cfg, unsigned command, const char *path)
{
    return jn_config_load_file_with(cfg, command, path, jn_config_set);
}

int jn_config_load_file_with(jn_config *cfg, unsigned command, const char *path, jn_config_setter *set)
{
    unsigned char *data;
    size_t n;
    if (jn_read_file_max(path, 1u << 20, &data, &n))
        return -1;
    const char *bad = memchr(data, 0, n) ? "binary content (NUL byte)" : NULL;
    char *text = bad ? NULL : realloc(data, n + 1);
    if (!text) {
        free(data);
        return jn_fail("%s: %s", path, bad ? bad : "out of memory");
    }
    text[n] = 0;
    int rc = load_text(cfg, command, text, path, set);
    free(text);
    return rc;
}

const char *jn_config_refused_option(void)
{
    const char *msg = jn_last_error();
    char key[64];
    if (strncmp(msg, "--", 2))  /* first: msg + 2 is past the end of a shorter message */
        return NULL;
    const size_t n = strcspn(msg + 2, " :");
    if (n >= sizeof key)
        return NULL;
    memcpy(key, msg + 2, n);
    key[n] = 0;
    const option *o = find_option(key);
    return o ? o->name : NULL;
}

int jn_config_blame_file(const jn_config *cfg)
{
    const char *key = jn_config_refused_option();
    const option *o = key ? find_option(key) : NULL;
    if (o && cfg->text_line[o - options])
        jn_fail_context("--config %s: line %d", cfg->config_file, cfg->text_line[o - options]);
    return -1;
}

/* An option shared by commands that use it differently: its help there (the table's is the
 * other commands'). */
static const struct {
    unsigned command;
    const char *name, *help;
} help_of_command[] = {
    {JN_CMD_SWEEP, "threads", "CPU threads for BLAS of each run (0 = BLAS default)"},
    {JN_CMD_SWEEP, "out", "sweep folder: results.csv, and runs/ID, a run folder per configuration"},
    {JN_CMD_STEP, "checkpoint", "checkpoint to take the next step of (without: a fresh run's first step)"},
    {JN_CMD_CHECK, "checkpoint", "checkpoint to run the next steps of (without: a fresh run's first)"},
    {JN_CMD_EVAL, "seed", "seed of the curvature estimate's draws and of the --eval-noise noise"},
    {JN_CMD_EVAL, "train-limit", "the run's first N training examples (0 = all): checked against the file, "
                                 "no split eval reports (that is --eval-limit)"},
};

void jn_config_print_help(FILE *f, unsigned command)
{
    jn_config defaults;
    jn_config_defaults(&defaults);
    for (int i = 0; i < N_OPTIONS; i++) {
        const option *o = &options[i];
        if (!(o->commands & command))
            continue;
        char left[96], value[JN_PATH_MAX + 64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->meta ? " " : "", o->meta ? o->meta : "");
        format_value(&defaults, o, value, sizeof value);
        if (command == JN_CMD_SWEEP && !strcmp(o->name, "threads"))
            snprintf(value, sizeof value, "%d", JN_SWEEP_THREADS);
        int show_default = o->kind != K_BOOL && strcmp(o->name, "config") && strcmp(o->name, "checkpoint") &&
                           strcmp(o->name, "dump") && value[0] && strcmp(o->name, "test") && strcmp(o->name, "data-dir") &&
                           !(command == JN_CMD_SWEEP && !strcmp(o->name, "out"));  /* required there */
        const char *help = o->help;
        for (size_t k = 0; k < sizeof help_of_command / sizeof help_of_command[0]; k++)
            if (help_of_command[k].command == command && !strcmp(help_of_command[k].name, o->name))
                help = help_of_command[k].help;
        fprintf(f, "  %-28s %s", left, help);
        /* A number's range from the table, as its refusal writes it. */
        if (o->kind == K_INT || o->kind == K_LONG || o->kind == K_U64 || o->kind == K_DOUBLE) {
            char interval[64];
            format_interval(o, interval, sizeof interval);
            fprintf(f, "; %s in %s", o->meta, interval);
        }
        if (show_default)
            fprintf(f, " [%s]", value);
        fputc('\n', f);
    }
}

int jn_config_check(const jn_config *cfg)
{
    if (strncmp(cfg->data, "idx:", 4) != 0 && cfg->test[0])
        return jn_fail("--test: only for idx: data sets (the named sets have their own test set)");
    if (cfg->test[0] && strncmp(cfg->test, "idx:", 4) != 0)
        return jn_fail("--test %s: expected idx:IMAGES,LABELS", cfg->test);
    /* Only an explicit CPU is sure to lack TF32 here (auto is decided where it runs). */
    if (cfg->device == JN_DEVICE_CPU && jn_backend_precision_check(cfg->device, cfg->tf32))
        return -1;
    /* The model's shape with any data: hidden widths, and a penalty on a layer it has. */
    jn_model shape;
    return jn_data_check_names(cfg->data, cfg->test) || jn_config_model(cfg, 1, 2, &shape);
}

int jn_config_model(const jn_config *cfg, int d, int classes, jn_model *m)
{
    /* The named sets have 10; idx: data has its training labels' range, where all 0 is one. */
    if (classes == 1)
        return jn_fail("--data %s: every training label is 0, one class: a classifier needs two or more (the "
                       "classes are 0 .. the largest training label)", cfg->data);
    if (jn_model_make(m, d, cfg->hidden, cfg->n_hidden, classes)) {
        /* The count is the widths' (the data's sizes are bounded by its reader): named as --hidden's,
         * the option to change, where a checkpoint's is its file's. */
        if (m->n_params > (size_t)1 << 34) {
            char widths[16 * JN_MAX_LAYERS];
            format_hidden(cfg, widths, sizeof widths);
            return jn_fail("--hidden %s: the model has %zu parameters or more, more than the engine supports (2^34)",
                           widths, m->n_params);
        }
        return -1;
    }
    return jn_objective_check(&cfg->obj, m);
}

/* The validation count a --valid value takes on cfg's data, -1 where only the training file
 * says (auto on idx: data, a tenth of it): auto on a named set is its fixed count. */
static long resolved_valid(const jn_config *cfg, long valid)
{
    if (valid != -1 || !strncmp(cfg->data, "idx:", 4))
        return valid;
    return jn_data_default_valid(cfg->data, 0);
}

int jn_config_merge_resume(jn_config *stored, const jn_config *given, const char *new_run)
{
    static const char *const stopping_rule[] = {"epochs", "patience", NULL};
    for (int i = 0; i < N_OPTIONS; i++) {
        const option *o = &options[i];
        if (!given->given[i] || !(o->commands & JN_CMD_TRAIN) || !strcmp(o->name, "config"))
            continue;
        int changeable = (o->commands & OPERATIONAL) != 0;
        for (const char *const *k = stopping_rule; *k; k++)
            changeable |= !strcmp(*k, o->name);
        char now[JN_PATH_MAX + 64], before[JN_PATH_MAX + 64];
        format_value(given, o, now, sizeof now);
        format_value(stored, o, before, sizeof before);
        if (changeable) {
            if (jn_config_set(stored, JN_CMD_TRAIN, o->name, now))
                return -1;
        } else if (strcmp(now, before)) {
            /* --valid 1000 on a USPS run of valid=auto (or the reverse) is the same split. */
            char resolved[64] = "";
            if (!strcmp(o->name, "valid")) {
                const long was = resolved_valid(stored, stored->valid);
                if (was != -1 && was == resolved_valid(stored, given->valid))
                    continue;
                if (stored->valid == -1 && was == -1)
                    snprintf(resolved, sizeof resolved, " (a tenth of its training file)");
                else if (stored->valid == -1)
                    snprintf(resolved, sizeof resolved, " (%ld here)", was);
            }
            char advice[2 * JN_PATH_MAX + 256] = "";
            if (new_run)
                snprintf(advice, sizeof advice, ": leave --%s out, its %s applies, or %s with --%s %s", o->name, before,
                         new_run, o->name, now);
            return jn_fail("--%s %s: the run has %s=%s%s; continuing a run keeps the options that decide its "
                           "numbers (it may change where and how it runs, and its stopping rule)%s",
                           o->name, now, o->name, before, resolved, advice);
        }
    }
    return 0;
}

int jn_config_overlay(jn_config *dst, const jn_config *src)
{
    for (int i = 0; i < N_OPTIONS; i++) {
        const option *o = &options[i];
        if (!src->given[i] || !strcmp(o->name, "config"))
            continue;
        char value[JN_PATH_MAX + 64];
        format_value(src, o, value, sizeof value);
        if (jn_config_set(dst, o->commands, o->name, value))
            return -1;
    }
    return 0;
}

double jn_config_lr(const jn_config *cfg, int epoch) { return cfg->lr * pow(cfg->lr_decay, epoch); }
