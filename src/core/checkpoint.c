/* Checkpoint serialisation (layout in checkpoint.h). */
#include "jacnoise/checkpoint.h"
#include "core/fileio.h"
#include "jacnoise/error.h"
#include "jacnoise/stepstate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char MAGIC[8] = {'J', 'N', 'C', 'K', 'P', 'T', 0, '\n'};
enum { HAS_VELOCITY = 1, HAS_BEST = 2 };

const char *jn_run_status_name(jn_run_status s)
{
    switch (s) {
    case JN_RUN_RUNNING: return "running";
    case JN_RUN_FINISHED: return "finished";
    case JN_RUN_EARLY_STOPPED: return "early-stopped";
    }
    return "unknown";
}

static jn_piece reals_piece(const jn_real *v, size_t n, jn_buf *scratch)
{
#ifdef JN_DOUBLE
    return jn_f64_piece(v, n, scratch);
#else
    return jn_f32_piece(v, n, scratch);
#endif
}

static int get_reals(jn_cursor *c, jn_real *v, size_t n, const char *what)
{
#ifdef JN_DOUBLE
    return jn_cur_f64_array(c, v, n, what);
#else
    return jn_cur_f32_array(c, v, n, what);
#endif
}

int jn_checkpoint_write(const char *path, const jn_checkpoint *ck)
{
    const jn_model *m = &ck->model;
    const jn_train_state *s = &ck->state;
    jn_buf b = {0};
    jn_buf_put(&b, MAGIC, sizeof MAGIC);
    jn_buf_u32(&b, JN_CHECKPOINT_VERSION);
    jn_buf_u32(&b, (uint32_t)sizeof(jn_real));
    jn_buf_u32(&b, (uint32_t)m->n_layers);
    for (int l = 0; l <= m->n_layers; l++)
        jn_buf_u32(&b, (uint32_t)m->sizes[l]);
    jn_buf_u64(&b, m->n_params);
    size_t text_len = ck->config_text ? strlen(ck->config_text) : 0;
    jn_buf_u32(&b, (uint32_t)text_len);
    jn_buf_put(&b, ck->config_text, text_len);
    jn_buf_u64(&b, s->global_step);
    jn_buf_u32(&b, (uint32_t)s->epoch);
    jn_buf_u64(&b, (uint64_t)s->batch);
    jn_buf_f64(&b, s->best_valid_error);
    jn_buf_u32(&b, (uint32_t)s->best_epoch);
    jn_buf_u32(&b, (uint32_t)s->bad_epochs);
    jn_buf_u32(&b, (uint32_t)s->status);
    jn_buf_f64(&b, s->sums.loss);
    jn_buf_f64(&b, s->sums.penalty);
    jn_buf_u64(&b, (uint64_t)s->sums.errors);
    jn_buf_u64(&b, (uint64_t)s->sums.examples);
    jn_buf_u64(&b, (uint64_t)s->sums.steps);
    jn_buf_u32(&b, ck->data_crc);
    jn_buf_u32(&b, (ck->velocity ? HAS_VELOCITY : 0) | (ck->best_params ? HAS_BEST : 0));
    /* The arrays go to the file from where they are: a copy of a 784-1000-1000-10 run's
     * 21.6 MB, in fresh pages, made its last.ckpt cost 1.7x the CRC and write of its bytes
     * (bench_checkpoint). */
    const jn_real *arrays[3] = {ck->params, ck->velocity, ck->best_params};
    jn_buf scratch[3] = {{0}};
    jn_piece pieces[4];
    int n = 0, oom = jn_buf_ok(&b, path);
    pieces[n++] = (jn_piece){b.data, b.len};
    for (int k = 0; k < 3; k++)
        if (arrays[k]) {
            pieces[n++] = reals_piece(arrays[k], m->n_params, &scratch[k]);
            oom = oom || jn_buf_ok(&scratch[k], path);
        }
    int rc = oom ? -1 : jn_write_pieces_atomic_crc(path, pieces, n);
    jn_buf_free(&b);
    for (int k = 0; k < 3; k++)
        jn_buf_free(&scratch[k]);
    return rc;
}

static int alloc_reals(jn_real **out, size_t n, const char *path)
{
    *out = malloc(sizeof(jn_real) * (n ? n : 1));
    return *out ? 0 : jn_fail("%s: out of memory for %zu parameters", path, n);
}

/* The state's bytes between the configuration text and the section flags: version 2 added
 * the data CRC at their end. */
enum { STATE_BYTES_V1 = 8 + 4 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8 };

static uint64_t state_bytes(uint32_t version) { return STATE_BYTES_V1 + (version >= 2 ? 4 : 0); }

/* Whether the header is cut before `field` bytes at c's offset; *least: then the size the
 * file needs at the least (the field and the checksum). */
static int header_cut(const jn_cursor *c, uint64_t field, uint64_t *least)
{
    *least = (uint64_t)c->off + field + 4;
    return *least - 4 > c->len;
}

/* The file size the header implies, read before the checksum only to tell a cut file from a
 * corrupt one: at least the header's fields and a checksum where the header is itself cut;
 * 0 where it is implausible (the other checks speak). *exact: the section flags were there
 * to count the arrays. A damaged field the header can check (a parameter count the layer
 * sizes do not give, a configuration text with a NUL byte in it, section flags no writer
 * sets) is implausible: a whole file with a flipped bit there read as "truncated". */
static uint64_t implied_size(jn_cursor c, uint32_t version, int *exact)
{
    uint32_t value_bytes, n_layers, text_len, sections = 0, u, fan_in = 0;
    uint64_t n_params, counted = 0, least;
    *exact = 0;
    c.off = 12;
    if (header_cut(&c, 8, &least))
        return least;
    jn_cur_u32(&c, &value_bytes, "the value size");
    jn_cur_u32(&c, &n_layers, "the layer count");
    if (value_bytes != sizeof(jn_real) || n_layers > JN_MAX_LAYERS)
        return 0;
    if (header_cut(&c, 4 * ((uint64_t)n_layers + 1) + 8 + 4, &least))  /* sizes, parameter count, text length */
        return least;
    for (uint32_t l = 0; l <= n_layers; l++) {
        jn_cur_u32(&c, &u, "the layer sizes");
        if (u < 1 || u > JN_MAX_WIDTH)
            return 0;
        counted += l ? ((uint64_t)fan_in + 1) * u : 0;  /* W_l and b_l */
        fan_in = u;
    }
    jn_cur_u64(&c, &n_params, "the parameter count");
    jn_cur_u32(&c, &text_len, "the configuration length");
    const size_t text_in_file = text_len < c.len - c.off ? text_len : c.len - c.off;
    if (n_params != counted || memchr(c.data + c.off, 0, text_in_file))
        return 0;
    const uint64_t flags_at = (uint64_t)c.off + text_len + state_bytes(version);
    *exact = flags_at + 4 <= c.len;
    if (*exact) {
        c.off = (size_t)flags_at;
        jn_cur_u32(&c, &sections, "the section flags");
        if (sections > (HAS_VELOCITY | HAS_BEST))
            return 0;
    }
    const uint64_t arrays = 1 + !!(sections & HAS_VELOCITY) + !!(sections & HAS_BEST);
    return flags_at + 4 + arrays * n_params * sizeof(jn_real) + 4;
}

/* The fields after the format version, through the section flags, each checked: c is at
 * byte 12 and ends before the checksum (or with the header, where only that was read).
 * 0 with *sections, or -1 with ck freed. */
static int parse_header(jn_cursor *c, uint32_t version, jn_checkpoint *ck, uint32_t *sections)
{
    const char *path = c->path;
    uint32_t value_bytes, n_layers, text_len, u;
    if (jn_cur_u32(c, &value_bytes, "the value size"))
        return -1;
    if (value_bytes != sizeof(jn_real))
        return jn_fail("%s: byte 12: checkpoint holds %u-byte (%s) parameters, this build uses %s",
                       path, value_bytes, value_bytes == 8 ? "float64" : value_bytes == 4 ? "float32" : "unknown",
                       JN_REAL_NAME);
    if (jn_cur_u32(c, &n_layers, "the layer count"))
        return -1;
    if (n_layers < 2 || n_layers > JN_MAX_LAYERS)
        return jn_fail("%s: byte 16: %u weight layers, out of range [2, %d]", path, n_layers, JN_MAX_LAYERS);
    int sizes[JN_MAX_LAYERS + 1];
    for (uint32_t l = 0; l <= n_layers; l++) {
        size_t at = c->off;
        if (jn_cur_u32(c, &u, "the layer sizes"))
            return -1;
        if (u < 1 || u > JN_MAX_WIDTH)
            return jn_fail("%s: byte %zu: layer size %u out of range [1, %d]", path, at, u, JN_MAX_WIDTH);
        sizes[l] = (int)u;
    }
    if (jn_model_make(&ck->model, sizes[0], sizes + 1, (int)n_layers - 1, sizes[n_layers]))
        return jn_fail_context("%s: byte 20", path);
    uint64_t n_params;
    size_t at = c->off;
    if (jn_cur_u64(c, &n_params, "the parameter count"))
        return -1;
    if (n_params != ck->model.n_params)
        return jn_fail("%s: byte %zu: %llu parameters stored, the layer sizes need %zu", path, at,
                       (unsigned long long)n_params, ck->model.n_params);
    if (jn_cur_u32(c, &text_len, "the configuration length"))
        return -1;
    if (text_len > c->len - c->off)
        return jn_fail("%s: byte %zu: configuration of %u bytes runs past the end", path, c->off, text_len);
    ck->config_text = malloc((size_t)text_len + 1);
    if (!ck->config_text)
        return jn_fail("%s: out of memory", path);
    jn_cur_bytes(c, ck->config_text, text_len, "the configuration");
    ck->config_text[text_len] = 0;
    if (memchr(ck->config_text, 0, text_len)) {
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: NUL byte in the configuration text", path, c->off - text_len);
    }
    jn_train_state *s = &ck->state;
    uint32_t status, best_epoch, bad_epochs, epoch;
    uint64_t errors, examples, steps, batch;
    int rc = jn_cur_u64(c, &s->global_step, "the state") || jn_cur_u32(c, &epoch, "the state") ||
             jn_cur_u64(c, &batch, "the state") || jn_cur_f64(c, &s->best_valid_error, "the state") ||
             jn_cur_u32(c, &best_epoch, "the state") || jn_cur_u32(c, &bad_epochs, "the state") ||
             jn_cur_u32(c, &status, "the state") || jn_cur_f64(c, &s->sums.loss, "the epoch sums") ||
             jn_cur_f64(c, &s->sums.penalty, "the epoch sums") || jn_cur_u64(c, &errors, "the epoch sums") ||
             jn_cur_u64(c, &examples, "the epoch sums") || jn_cur_u64(c, &steps, "the epoch sums") ||
             (version >= 2 && jn_cur_u32(c, &ck->data_crc, "the data CRC"));
    ck->has_data_crc = version >= 2;
    ck->version = (int)version;
    at = c->off;
    if (rc || jn_cur_u32(c, sections, "the section flags")) {
        jn_checkpoint_free(ck);
        return -1;
    }
    if (epoch > 1000000 || batch > (1ull << 40) || best_epoch > 1000001 || bad_epochs > 1000000 ||
        status > JN_RUN_EARLY_STOPPED || errors > (1ull << 62) || examples > (1ull << 62) || steps > (1ull << 62) ||
        *sections > (HAS_VELOCITY | HAS_BEST)) {
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: training state out of range (epoch %u, status %u, sections %u)",
                       path, at, epoch, status, *sections);
    }
    /* What a run cannot have written: more batches of this epoch than steps in all, epoch
     * sums of another number of steps than the epoch's batches done, more errors than
     * examples. */
    const size_t state_at = at - (size_t)state_bytes(version);
    if (batch > s->global_step) {
        const unsigned long long steps_done = s->global_step;
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: next batch %llu of epoch %u is beyond the %llu steps done", path,
                       state_at + 12, (unsigned long long)batch, epoch + 1, steps_done);
    }
    if (steps != batch) {
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: epoch sums of %llu steps, but %llu batches of epoch %u done", path,
                       state_at + 72, (unsigned long long)steps, (unsigned long long)batch, epoch + 1);
    }
    if (errors > examples) {
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: epoch sums of %llu errors in %llu examples", path, state_at + 56,
                       (unsigned long long)errors, (unsigned long long)examples);
    }
    /* A diverged state is never written; resumed, a NaN sum made the epoch's loss NaN. */
    if (!isfinite(s->sums.loss) || !isfinite(s->sums.penalty)) {
        const double loss = s->sums.loss, penalty = s->sums.penalty;
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: epoch sums of loss %g and penalty %g: not finite", path, state_at + 40, loss,
                       penalty);
    }
    if (best_epoch > epoch || bad_epochs > epoch) {
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: best epoch %u, %u epochs without a better one, after %u epochs done", path,
                       state_at + 28, best_epoch, bad_epochs, epoch);
    }
    const double best = s->best_valid_error;  /* NaN: no validation split */
    if (!isnan(best) && !(best >= 0 && best <= 100)) {
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: best validation error %g%%, out of range [0, 100]", path, state_at + 20, best);
    }
    s->epoch = (int)epoch;
    s->batch = (long)batch;
    s->best_epoch = (int)best_epoch;
    s->bad_epochs = (int)bad_epochs;
    s->status = (jn_run_status)status;
    s->sums.errors = (long)errors;
    s->sums.examples = (long)examples;
    s->sums.steps = (long)steps;
    return 0;
}

int jn_checkpoint_parse(const unsigned char *data, size_t len, const char *path, jn_checkpoint *ck)
{
    memset(ck, 0, sizeof *ck);
    jn_cursor c = {data, len, 0, path};
    unsigned char magic[8];
    if (jn_cur_bytes(&c, magic, 8, "the magic number"))
        return -1;
    if (!memcmp(magic, JN_STEPSTATE_MAGIC, 8))
        return jn_fail("%s: byte 0: not a jacnoise checkpoint (wrong magic number) but a step state, as jacnoise "
                       "step --dump writes", path);
    if (memcmp(magic, MAGIC, 8))
        return jn_fail("%s: byte 0: not a jacnoise checkpoint (wrong magic number)", path);
    uint32_t version, sections;
    if (jn_cur_version(&c, &version, JN_CHECKPOINT_OLDEST, JN_CHECKPOINT_VERSION, "checkpoint", NULL))
        return -1;
    /* A cut file is told apart first; then the checksum, before trusting any size in the file. */
    int exact;
    const uint64_t size = implied_size(c, version, &exact);
    if (jn_cur_check_size(&c, size, exact))
        return -1;
    /* Bytes added after a whole checkpoint are named as such: its checksum matches where the
     * header says it ends. Elsewhere (a damaged size field) the file's checksum speaks. */
    const jn_cursor whole = {data, exact && size < len ? (size_t)size : len, 0, path};
    if (whole.len < len && jn_cur_crc_matches(&whole))
        return jn_cur_check_end(&c, size, "checkpoint");
    if (jn_cur_check_crc(&c))
        return -1;
    c.len -= 4;
    if (parse_header(&c, version, ck, &sections))
        return -1;
    size_t n = ck->model.n_params;
    int arrays = 1 + !!(sections & HAS_VELOCITY) + !!(sections & HAS_BEST);
    if ((c.len - c.off) / sizeof(jn_real) != n * (size_t)arrays || (c.len - c.off) % sizeof(jn_real)) {
        jn_checkpoint_free(ck);
        return jn_fail("%s: byte %zu: %zu bytes of parameter data, expected %zu (%d arrays of %zu values)",
                       path, c.off, c.len - c.off, n * arrays * sizeof(jn_real), arrays, n);
    }
    jn_real **arrays_of[3] = {&ck->params, &ck->velocity, &ck->best_params};
    const char *names[3] = {"the parameters", "the velocity", "the best parameters"};
    const int present[3] = {1, sections & HAS_VELOCITY, sections & HAS_BEST};
    for (int a = 0; a < 3; a++) {
        if (!present[a])
            continue;
        const size_t from = c.off;
        if (alloc_reals(arrays_of[a], n, path) || get_reals(&c, *arrays_of[a], n, names[a])) {
            jn_checkpoint_free(ck);
            return -1;
        }
        /* A diverged state is never written; resumed, a NaN velocity or best would spread. */
        for (size_t i = 0; i < n; i++)
            if (!isfinite((*arrays_of[a])[i])) {
                jn_checkpoint_free(ck);
                return jn_fail("%s: byte %zu: %s: value %zu is not finite", path, from + i * sizeof(jn_real),
                               names[a], i);
            }
    }
    return 0;
}

int jn_checkpoint_read(const char *path, jn_checkpoint *ck)
{
    unsigned char *data;
    size_t len;
    memset(ck, 0, sizeof *ck);
    /* Another file is refused from its first bytes, as the parse refuses it. */
    unsigned char head[sizeof MAGIC];
    if (jn_read_head(path, head, sizeof head, &len))
        return -1;
    if (len < sizeof head || memcmp(head, MAGIC, sizeof head))
        return jn_checkpoint_parse(head, len, path, ck);
    if (jn_read_file(path, &data, &len))
        return -1;
    int rc = jn_checkpoint_parse(data, len, path, ck);
    free(data);
    return rc;
}

int jn_checkpoint_read_header(const char *path, jn_checkpoint *ck)
{
    /* A header is some 500 bytes, most of them its configuration text: one read of the
     * file's head holds it. */
    unsigned char head[16384];
    size_t len;
    uint32_t version = 0, sections;
    int exact = 0;
    memset(ck, 0, sizeof *ck);
    if (jn_read_head(path, head, sizeof head, &len))
        return -1;
    jn_cursor c = {head, len, sizeof MAGIC, path};
    if (len >= sizeof MAGIC && !memcmp(head, MAGIC, sizeof MAGIC) && !jn_cur_u32(&c, &version, "the format version") &&
        version >= JN_CHECKPOINT_OLDEST && version <= JN_CHECKPOINT_VERSION)
        implied_size(c, version, &exact);
    if (exact)
        return parse_header(&c, version, ck, &sections);
    /* Another file, another version, a header longer than the head or cut short: the whole
     * read refuses it in its own words (a long header is read whole, its arrays dropped). */
    const int rc = jn_checkpoint_read(path, ck);
    free(ck->params);
    free(ck->velocity);
    free(ck->best_params);
    ck->params = ck->velocity = ck->best_params = NULL;
    return rc;
}

int jn_checkpoint_magic_at(const char *path)
{
    unsigned char head[sizeof MAGIC];
    size_t len;
    return jn_read_head(path, head, sizeof head, &len) == 0 && len == sizeof head && !memcmp(head, MAGIC, len);
}

int jn_train_state_epochs(const jn_train_state *s) { return s->epoch + (s->batch > 0); }

int jn_checkpoint_config(const jn_checkpoint *ck, const char *path, jn_config *cfg)
{
    /* The text follows the fixed header and the layer sizes: its lines are found from there. */
    char origin[JN_PATH_MAX + 64];
    snprintf(origin, sizeof origin, "%s: the stored configuration (from byte %d)", path,
             32 + 4 * (ck->model.n_layers + 1));
    if (jn_config_load_text(cfg, JN_CMD_TRAIN | JN_CONFIG_STORED, ck->config_text, origin))
        return -1;
    /* A text edited by hand (its checksum made again) over another model was shown and exported
     * as the model's configuration, and eval blamed a --hidden nobody gave. */
    const jn_model *m = &ck->model;
    jn_model stored = {.n_layers = cfg->n_hidden + 1};
    stored.sizes[0] = m->sizes[0];
    memcpy(stored.sizes + 1, cfg->hidden, sizeof(int) * (size_t)cfg->n_hidden);
    stored.sizes[stored.n_layers] = m->sizes[m->n_layers];
    if (stored.n_layers != m->n_layers || memcmp(stored.sizes, m->sizes, sizeof stored.sizes)) {
        char held[16 * (JN_MAX_LAYERS + 1)], said[sizeof held];
        jn_model_describe(m, held, sizeof held);
        jn_model_describe(&stored, said, sizeof said);
        return jn_fail("%s: byte 20: layer sizes %s, but the stored configuration's hidden gives a %s model", path,
                       held, said);
    }
    /* The stored --epochs is the last the run was given: a finished run stands at it, one
     * paused inside an epoch below it (a resume refuses fewer epochs than it reached). */
    const int reached = jn_train_state_epochs(&ck->state);
    if (reached > cfg->epochs)
        return jn_fail("%s: the state is at epoch %d%s, beyond the %d epoch%s of its configuration", path, reached,
                       ck->state.batch > 0 ? " (inside it)" : "", cfg->epochs, cfg->epochs == 1 ? "" : "s");
    return 0;
}

int jn_checkpoint_check_data(const jn_checkpoint *ck, const char *path, uint32_t data_crc, const char *data,
                             const char *dir, int refuse)
{
    char where[JN_PATH_MAX + 16];  /* where the files were read: a relative name is found by a search */
    snprintf(where, sizeof where, "%s%s", dir[0] ? " from " : " as given", dir);
    if (!ck->has_data_crc) {
        if (refuse)
            jn_print(stderr, "jacnoise: note: %s is an older jacnoise's (checkpoint format version 1), which records "
                     "no data CRC: --data %s%s could not be checked against the run's data\n", path, data, where);
        return 0;
    }
    if (ck->data_crc == data_crc)
        return 0;
    char what[3 * JN_PATH_MAX + 128];
    snprintf(what, sizeof what, "%s: the run trained on other data than --data %s reads now%s (data CRC %08x, the "
             "run's %08x)", path, data, where, data_crc, ck->data_crc);
    if (!refuse) {
        jn_print(stderr, "jacnoise: note: %s\n", what);
        return 1;
    }
    return jn_fail("%s: use the files it trained on (put them back, or give their folder with --data-dir), or "
                   "train on these in a new run", what);
}

void jn_checkpoint_free(jn_checkpoint *ck)
{
    free(ck->config_text);
    free(ck->params);
    free(ck->velocity);
    free(ck->best_params);
    memset(ck, 0, sizeof *ck);
}
