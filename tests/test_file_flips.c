/* Every single-bit flip of a whole checkpoint or step state is reported as what it is: a
 * checksum mismatch (the file is corrupt), or a wrong magic number where the flip is in the
 * magic; never "truncated" (the user would look for a full disk), never a format version no
 * build wrote, never accepted. The header read of a checkpoint (a sweep learning where its runs
 * stand) reads none of the bytes after the header: a flip there leaves what it reads as it was,
 * and a file it cannot take is refused as the whole read refuses it. A step state with bytes
 * after its end record is refused as such. A file of a newer format version is said to be a
 * newer jacnoise's, and a checkpoint whose epoch sums are not finite is refused. The edges of the
 * state and stored-configuration checks, and the step state's tensor names, are checked too, as
 * are what an edit (its checksums made again) or a wrapping product of dimensions alone makes: a
 * layer count out of range, a byte put in before the checksum, a step state record whose data
 * is not there, a NUL byte in a name, a malformed end record; and a velocity not finite. A
 * tensor of no values, written from no array, reads back as such. */
#include "check.h"
#include "core/fileio.h"
#include "jacnoise/checkpoint.h"
#include "jacnoise/error.h"
#include "jacnoise/stepstate.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

typedef int (*parse_fn)(const unsigned char *, size_t, const char *);

static int parse_checkpoint(const unsigned char *data, size_t len, const char *path)
{
    jn_checkpoint ck;
    const int rc = jn_checkpoint_parse(data, len, path, &ck);
    jn_checkpoint_free(&ck);
    return rc;
}

static int parse_stepstate(const unsigned char *data, size_t len, const char *path)
{
    jn_stepstate_file f;
    const int rc = jn_stepstate_parse(data, len, path, &f);
    jn_stepstate_file_free(&f);
    return rc;
}

/* Writes a file unsynced (hundreds of variants are read back at once): 1 where it wrote. */
static int put_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    const int ok = f && fwrite(data, 1, len, f) == len;
    return (f && fclose(f) == 0) && ok;
}

/* Flips each bit of the file's first `bytes` (0: all) in turn; `what` names the format in the
 * failures. */
static void flip_every_bit(const char *what, const char *path, parse_fn parse, size_t bytes)
{
    unsigned char *data;
    size_t len;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    REQUIRE(parse(data, len, path) == 0, "%s: the file as written: %s", what, jn_last_error());
    long wrong = 0;
    if (!bytes || bytes > len)
        bytes = len;
    for (size_t at = 0; at < bytes; at++)
        for (int bit = 0; bit < 8; bit++) {
            data[at] ^= (unsigned char)(1u << bit);
            const int rc = parse(data, len, path);
            const char *msg = rc ? jn_last_error() : "accepted";
            const int ok = at < 8 ? strstr(msg, "magic number") != NULL
                                  : strstr(msg, "checksum mismatch") != NULL && strstr(msg, "corrupt") != NULL;
            if (!ok && wrong++ < 8)  /* a few, not a line per bit of a whole region */
                CHECK(0, "%s: bit %d of byte %zu flipped: %s", what, bit, at, msg);
            data[at] ^= (unsigned char)(1u << bit);
        }
    CHECK(wrong == 0, "%s: %ld of %zu single-bit flips misreported", what, wrong, 8 * bytes);
    free(data);
}

/* The file at path with its format version (byte 8) one past what this build reads and its
 * checksum made again, as a newer jacnoise writes it: refused as that, naming the version. */
static void newer_version(const char *what, const char *path, parse_fn parse, uint32_t version)
{
    unsigned char *data;
    size_t len;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    jn_buf b = {0};
    jn_buf_put(&b, data, 8);
    jn_buf_u32(&b, version + 1);
    jn_buf_put(&b, data + 12, len - 16);
    jn_buf_crc(&b);
    REQUIRE(jn_buf_ok(&b, path) == 0, "%s", jn_last_error());
    char want[128];
    snprintf(want, sizeof want, ": byte 8: %s format version %u, this build reads", what, version + 1);
    const int rc = parse(b.data, b.len, path);
    CHECK(rc != 0 && strstr(jn_last_error(), want) && strstr(jn_last_error(), "written by a newer jacnoise"),
          "%s of a newer format version: %s", what, rc ? jn_last_error() : "accepted");
    jn_buf_free(&b);
    free(data);
}

/* ck written to path with a NaN, then an Inf, in its epoch sums (a state no run writes: it
 * stops before a diverged state's checkpoint): refused, naming the sums' byte. */
static void sums_not_finite(const char *path, jn_checkpoint ck)
{
    const size_t sums_at = 32 + 4 * ((size_t)ck.model.n_layers + 1) + strlen(ck.config_text) + 40;
    for (int k = 0; k < 2; k++) {
        jn_checkpoint read;
        ck.state.sums.loss = k ? 3.5 : NAN;
        ck.state.sums.penalty = k ? INFINITY : 0.25;
        REQUIRE(jn_checkpoint_write(path, &ck) == 0, "%s", jn_last_error());
        char want[128];
        snprintf(want, sizeof want, ": byte %zu: epoch sums of loss %s and penalty %s: not finite", sums_at,
                 k ? "3.5" : "nan", k ? "inf" : "0.25");
        const int rc = jn_checkpoint_read(path, &read);
        CHECK(rc != 0 && strstr(jn_last_error(), want), "epoch sums %g, %g: %s", ck.state.sums.loss,
              ck.state.sums.penalty, rc ? jn_last_error() : "accepted");
        jn_checkpoint_free(&read);
    }
}

/* ck written to path with state, then read back: "" where it must be accepted, else the
 * words its refusal must hold. */
static void state_read(const char *path, jn_checkpoint ck, jn_train_state state, const char *want)
{
    jn_checkpoint read;
    ck.state = state;
    REQUIRE(jn_checkpoint_write(path, &ck) == 0, "%s", jn_last_error());
    const int rc = jn_checkpoint_read(path, &read);
    if (*want)
        CHECK(rc != 0 && strstr(jn_last_error(), want), "refusal \"%s\": %s", want, rc ? jn_last_error() : "accepted");
    else
        CHECK(rc == 0, "state refused: %s", jn_last_error());
    jn_checkpoint_free(&read);
}

/* The edges of the training state's checks: a best validation error of 100% (every example
 * wrong), as many errors as examples in the epoch sums, an early-stopped run and a first epoch's
 * state with every step in it are ones a run writes; more errors than examples, epoch sums of
 * another number of steps than the epoch's batches, or more epochs without a better one than
 * epochs done, are not. */
static void state_edges(const char *path, jn_checkpoint ck)
{
    const size_t state_at = 32 + 4 * ((size_t)ck.model.n_layers + 1) + strlen(ck.config_text);
    jn_train_state s = ck.state;
    s.best_valid_error = 100;
    state_read(path, ck, s, "");
    s = ck.state;
    s.sums.errors = s.sums.examples;
    state_read(path, ck, s, "");
    s = ck.state;
    s.status = JN_RUN_EARLY_STOPPED;
    state_read(path, ck, s, "");
    s = (jn_train_state){.global_step = 2, .batch = 2, .best_valid_error = NAN, .status = JN_RUN_RUNNING,
                         .sums = {.loss = 1.5, .penalty = 0.5, .errors = 3, .examples = 10, .steps = 2}};
    state_read(path, ck, s, "");
    s = ck.state;
    s.sums.errors = s.sums.examples + 1;
    char want[128];
    snprintf(want, sizeof want, ": byte %zu: epoch sums of %ld errors in %ld examples", state_at + 56, s.sums.errors,
             s.sums.examples);
    state_read(path, ck, s, want);
    s = ck.state;
    s.sums.steps = s.batch + 1;
    snprintf(want, sizeof want, ": byte %zu: epoch sums of %ld steps, but %ld batches of epoch %d done", state_at + 72,
             s.sums.steps, s.batch, s.epoch + 1);
    state_read(path, ck, s, want);
    s = ck.state;
    s.bad_epochs = s.epoch + 1;
    snprintf(want, sizeof want, ": byte %zu: best epoch %d, %d epochs without a better one, after %d epochs done",
             state_at + 28, s.best_epoch, s.bad_epochs, s.epoch);
    state_read(path, ck, s, want);
}

/* A velocity with a value not finite (a state no run writes) is refused, naming the value's
 * byte; a header field changed under a checksum made again (only an edit makes one) is refused
 * by that field's check: one weight layer says so, not what a --hidden of none would say. */
static void forged_fields(const char *path, jn_checkpoint ck)
{
    const size_t P = ck.model.n_params;
    jn_real *velocity = malloc(P * sizeof *velocity);
    REQUIRE(velocity, "out of memory");
    memcpy(velocity, ck.velocity, P * sizeof *velocity);
    velocity[3] = (jn_real)NAN;
    ck.velocity = velocity;
    REQUIRE(jn_checkpoint_write(path, &ck) == 0, "%s", jn_last_error());
    const size_t velocity_at = 32 + 4 * ((size_t)ck.model.n_layers + 1) + strlen(ck.config_text) + 88 +
                               P * sizeof(jn_real);
    char want[128];
    snprintf(want, sizeof want, ": byte %zu: the velocity: value 3 is not finite", velocity_at + 3 * sizeof(jn_real));
    jn_checkpoint read;
    int rc = jn_checkpoint_read(path, &read);
    CHECK(rc != 0 && strstr(jn_last_error(), want), "a NaN velocity: %s", rc ? jn_last_error() : "accepted");
    jn_checkpoint_free(&read);
    free(velocity);

    unsigned char *data;
    size_t len;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    jn_buf b = {0};
    jn_buf_put(&b, data, 16);
    jn_buf_u32(&b, 1);  /* the layer count */
    jn_buf_put(&b, data + 20, len - 24);
    jn_buf_crc(&b);
    REQUIRE(jn_buf_ok(&b, path) == 0, "%s", jn_last_error());
    rc = parse_checkpoint(b.data, b.len, path);
    CHECK(rc != 0 && strstr(jn_last_error(), ": byte 16: 1 weight layers, out of range [2, "), "one weight layer: %s",
          rc ? jn_last_error() : "accepted");
    jn_buf_free(&b);
    /* The configuration text: a length past the end, a NUL byte in it. */
    const size_t text_at = 32 + 4 * ((size_t)ck.model.n_layers + 1);
    for (int k = 0; k < 2; k++) {
        jn_buf_put(&b, data, len - 4);
        if (k)
            b.data[text_at + 2] = 0;
        else
            memcpy(b.data + text_at - 4, "\xff\xff\0\0", 4);
        jn_buf_crc(&b);
        REQUIRE(jn_buf_ok(&b, path) == 0, "%s", jn_last_error());
        char want[128];
        if (k)
            snprintf(want, sizeof want, ": byte %zu: NUL byte in the configuration text", text_at);
        else
            snprintf(want, sizeof want, ": byte %zu: configuration of 65535 bytes runs past the end", text_at);
        rc = parse_checkpoint(b.data, b.len, path);
        CHECK(rc != 0 && strstr(jn_last_error(), want), "%s: %s", want, rc ? jn_last_error() : "accepted");
        jn_buf_free(&b);
    }
    free(data);
}

/* A checkpoint of format version 1 (no data CRC; made here from this build's by dropping it)
 * is read, and says it has none (cut, it is told the size it needs); one with only a velocity (a run without a validation split)
 * reads back its velocity as that, not as the best parameters; the header read of a newer
 * version's file refuses it as the whole read does. */
static void other_layouts(const char *path, jn_checkpoint ck)
{
    const size_t P = ck.model.n_params, crc_at = 32 + 4 * ((size_t)ck.model.n_layers + 1) +
                                                 strlen(ck.config_text) + 80;
    REQUIRE(jn_checkpoint_write(path, &ck) == 0, "%s", jn_last_error());
    unsigned char *data;
    size_t len;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    jn_buf b = {0};
    jn_buf_put(&b, data, 8);
    jn_buf_u32(&b, 1);
    jn_buf_put(&b, data + 12, crc_at - 12);
    jn_buf_put(&b, data + crc_at + 4, len - crc_at - 8);
    jn_buf_crc(&b);
    REQUIRE(jn_buf_ok(&b, path) == 0, "%s", jn_last_error());
    jn_checkpoint read;
    int rc = jn_checkpoint_parse(b.data, b.len, path, &read);
    CHECK(rc == 0 && read.version == 1 && !read.has_data_crc && read.state.sums.steps == ck.state.sums.steps &&
              !memcmp(read.best_params, ck.best_params, P * sizeof(jn_real)),
          "a version 1 checkpoint: %s", rc ? jn_last_error() : "read otherwise");
    jn_checkpoint_free(&read);
    char want[128];  /* cut, it needs its own size, not version 2's */
    snprintf(want, sizeof want, ": byte %zu: truncated: %zu bytes, expected %zu", b.len / 2, b.len / 2, b.len);
    rc = parse_checkpoint(b.data, b.len / 2, path);
    CHECK(rc != 0 && strstr(jn_last_error(), want), "a version 1 checkpoint cut: %s", rc ? jn_last_error() : "accepted");
    jn_buf_free(&b);

    jn_buf_put(&b, data, 8);
    jn_buf_u32(&b, JN_CHECKPOINT_VERSION + 1);
    jn_buf_put(&b, data + 12, len - 16);
    jn_buf_crc(&b);
    REQUIRE(jn_buf_ok(&b, path) == 0 && put_file(path, b.data, b.len), "cannot write %s", path);
    rc = jn_checkpoint_read_header(path, &read);
    CHECK(rc != 0 && strstr(jn_last_error(), "written by a newer jacnoise"), "the header read of a newer version: %s",
          rc ? jn_last_error() : "accepted");
    jn_checkpoint_free(&read);
    jn_buf_free(&b);
    free(data);

    ck.best_params = NULL;
    REQUIRE(jn_checkpoint_write(path, &ck) == 0, "%s", jn_last_error());
    rc = jn_checkpoint_read(path, &read);
    CHECK(rc == 0 && read.velocity && !read.best_params && !memcmp(read.velocity, ck.velocity, P * sizeof(jn_real)),
          "a checkpoint with a velocity only: %s", rc ? jn_last_error() : "read otherwise");
    jn_checkpoint_free(&read);
}

/* The stored configuration's checks (jn_checkpoint_config): a finished run stands at its
 * --epochs, one batch into the next epoch is past it, and an error in the text names the
 * byte where the text starts. */
static void stored_config(const char *path, jn_checkpoint ck)
{
    jn_config cfg;
    const jn_train_state at_end = {.global_step = 12, .epoch = 3, .best_valid_error = 12.5, .best_epoch = 2,
                                   .status = JN_RUN_FINISHED};
    ck.state = at_end;
    jn_config_defaults(&cfg);
    CHECK(jn_checkpoint_config(&ck, path, &cfg) == 0, "a run finished at its --epochs refused: %s", jn_last_error());
    ck.state.batch = ck.state.sums.steps = 1;
    jn_config_defaults(&cfg);
    int rc = jn_checkpoint_config(&ck, path, &cfg);
    CHECK(rc != 0 && strstr(jn_last_error(), "the state is at epoch 4 (inside it), beyond the 3 epochs of its configuration"),
          "a state one batch past --epochs: %s", rc ? jn_last_error() : "accepted");
    char want[128];
    snprintf(want, sizeof want, "the stored configuration (from byte %d): line 2", 32 + 4 * (ck.model.n_layers + 1));
    ck.state = at_end;
    ck.config_text = "data=usps\nhidden=x\nepochs=3\n";
    jn_config_defaults(&cfg);
    rc = jn_checkpoint_config(&ck, path, &cfg);
    CHECK(rc != 0 && strstr(jn_last_error(), want), "a bad stored text: %s", rc ? jn_last_error() : "accepted");
}

/* Tensors the parse refuses though the writer writes them: an empty name, and a name given
 * twice in a row (the duplicate check compared each with those before the previous one). */
static void stepstate_names(const char *path)
{
    const char *names[2][2] = {{"", "seed"}, {"lr", "lr"}};
    const char *want[2] = {"tensor header out of range (0 dimensions, name of 0 bytes)", "tensor lr appears twice"};
    for (int k = 0; k < 2; k++) {
        jn_stepstate *ss = jn_stepstate_new();
        REQUIRE(ss, "out of memory");
        jn_stepstate_f64(ss, "eta", 0.5);
        jn_stepstate_f64(ss, names[k][0], 0.05);
        jn_stepstate_f64(ss, names[k][1], 0.1);
        REQUIRE(jn_stepstate_write(ss, path) == 0, "%s", jn_last_error());
        jn_stepstate_free(ss);
        unsigned char *data;
        size_t len;
        jn_stepstate_file f;
        REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
        const int rc = jn_stepstate_parse(data, len, path, &f);
        CHECK(rc != 0 && strstr(jn_last_error(), want[k]), "\"%s\": %s", want[k], rc ? jn_last_error() : "accepted");
        if (rc == 0)
            jn_stepstate_file_free(&f);
        free(data);
    }
}

/* The sizes a checkpoint is read by. A whole one with one byte added after it is refused as
 * such (the check's bound is the header's size itself, not a byte past it), never read as a
 * checkpoint; a cut one says the size it needs, "at least" only where the header is cut, and
 * the most the fields there give (a cut at a field's end, or at the section flags' end, is no
 * cut before them). A byte put in before the checksum, the checksum made again, is refused as
 * parameter data of the wrong size. */
static void checkpoint_sizes(const char *path, const jn_checkpoint *ck)
{
    unsigned char *data;
    size_t len;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    unsigned char *longer = malloc(len + 1);
    REQUIRE(longer, "out of memory");
    memcpy(longer, data, len);
    longer[len] = 0;
    char want[128];
    snprintf(want, sizeof want, ": byte %zu: 1 unexpected byte after the checkpoint's end", len);
    const int rc = parse_checkpoint(longer, len + 1, path);
    CHECK(rc != 0 && strstr(jn_last_error(), want), "a checkpoint with a byte after its end: %s",
          rc ? jn_last_error() : "accepted");
    /* Cut inside the header, the size is a least (24: the value size and layer count, and a
     * checksum; after the layer count, the layer sizes, parameter count and text length too);
     * cut after it, the size is the header's own. */
    const size_t header = len - 4 - 3 * ck->model.n_params * sizeof(jn_real);
    const size_t cuts[4] = {12, 20, header, len / 2};
    const size_t least[2] = {24, 20 + 4 * ((size_t)ck->model.n_layers + 1) + 12 + 4};
    for (int k = 0; k < 4; k++) {
        if (k < 2)
            snprintf(want, sizeof want, ": byte %zu: truncated: %zu bytes, expected at least %zu", cuts[k], cuts[k],
                     least[k]);
        else
            snprintf(want, sizeof want, ": byte %zu: truncated: %zu bytes, expected %zu", cuts[k], cuts[k], len);
        const int cut_rc = parse_checkpoint(data, cuts[k], path);
        CHECK(cut_rc != 0 && strstr(jn_last_error(), want), "a checkpoint cut at byte %zu: %s", cuts[k],
              cut_rc ? jn_last_error() : "accepted");
    }
    jn_buf b = {0};
    jn_buf_put(&b, data, len - 4);
    jn_buf_u8(&b, 0);
    jn_buf_crc(&b);
    REQUIRE(jn_buf_ok(&b, path) == 0, "%s", jn_last_error());
    snprintf(want, sizeof want, ": byte %zu: %zu bytes of parameter data, expected %zu", header, len - 4 - header + 1,
             len - 4 - header);
    const int in_rc = parse_checkpoint(b.data, b.len, path);
    CHECK(in_rc != 0 && strstr(jn_last_error(), want), "a checkpoint with a byte put in before its checksum: %s",
          in_rc ? jn_last_error() : "accepted");
    jn_buf_free(&b);
    free(longer);
    free(data);
}

/* Whether h, read by jn_checkpoint_read_header, holds what ck, written to the file, does. */
static int same_header(const jn_checkpoint *h, const jn_checkpoint *ck)
{
    const jn_train_state *a = &h->state, *b = &ck->state;
    return h->model.n_params == ck->model.n_params && !strcmp(h->config_text, ck->config_text) &&
           a->global_step == b->global_step && a->epoch == b->epoch && a->batch == b->batch &&
           a->best_valid_error == b->best_valid_error && a->sums.examples == b->sums.examples &&
           h->data_crc == ck->data_crc && !h->params && !h->velocity && !h->best_params;
}

/* The header read of the checkpoint at path, written from ck: what it holds, that it reads no
 * byte past the header, and its refusals, the whole read's. */
static void header_reads(const char *path, const jn_checkpoint *ck)
{
    unsigned char *data;
    size_t len;
    jn_checkpoint h;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    CHECK(jn_checkpoint_read_header(path, &h) == 0 && same_header(&h, ck), "header read: %s", jn_last_error());
    jn_checkpoint_free(&h);
    /* The header ends with the section flags, before the parameters. */
    const size_t header = len - 4 - 3 * ck->model.n_params * sizeof(jn_real);
    long wrong = 0;
    for (size_t at = header; at < len; at++) {
        data[at] ^= 0xFF;
        if (put_file(path, data, len) && (jn_checkpoint_read_header(path, &h) || !same_header(&h, ck)))
            wrong++;
        jn_checkpoint_free(&h);
        data[at] ^= 0xFF;
    }
    CHECK(wrong == 0, "header read: %ld of %zu bytes past the header changed what it read", wrong, len - header);
    /* Cut inside the header, or the magic number flipped: the whole read's words. */
    const size_t cuts[2] = {header - 3, len};
    for (int k = 0; k < 2; k++) {
        data[0] ^= (unsigned char)(k == 1);
        REQUIRE(put_file(path, data, cuts[k]), "cannot write %s", path);
        char whole[1024];
        CHECK(parse_checkpoint(data, cuts[k], path) != 0, "cut %d accepted", k);
        snprintf(whole, sizeof whole, "%s", jn_last_error());
        CHECK(jn_checkpoint_read_header(path, &h) != 0 && !strcmp(jn_last_error(), whole),
              "header read: '%s', the whole read: '%s'", jn_last_error(), whole);
        jn_checkpoint_free(&h);
        data[0] ^= (unsigned char)(k == 1);
    }
    REQUIRE(put_file(path, data, len), "cannot write %s", path);
    free(data);
}

/* A step state with bytes after its end record, under a header and checksums that agree with
 * them (only an edit makes one): refused, naming the first such byte and how many there are. */
static void bytes_after_end(const char *path)
{
    unsigned char *data;
    size_t len;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    static const unsigned char extra[3] = {1, 2, 3};
    jn_buf b = {0};
    jn_buf_put(&b, data, 12);  /* magic, version */
    jn_buf_u64(&b, len + sizeof extra);
    jn_buf_crc(&b);
    jn_buf_put(&b, data + b.len, len - b.len - 4);  /* the records, the end record last */
    jn_buf_put(&b, extra, sizeof extra);
    jn_buf_crc(&b);
    REQUIRE(jn_buf_ok(&b, path) == 0, "%s", jn_last_error());
    jn_stepstate_file f;
    const int rc = jn_stepstate_parse(b.data, b.len, path, &f);
    jn_stepstate_file_free(&f);
    char want[128];
    snprintf(want, sizeof want, ": byte %zu: 3 unexpected bytes after the end record", len - 4);
    CHECK(rc != 0 && strstr(jn_last_error(), want), "a step state with 3 bytes after its end record: %s",
          rc ? jn_last_error() : "accepted");
    jn_buf_free(&b);
    free(data);
}

/* A step state's records changed under a header and checksums made again (only an edit, or
 * dimensions whose product wraps, makes one): b holds the file without its checksum; the size
 * and both checksums are set, then the parse must refuse it with `want`. */
static void resealed_refusal(const char *path, jn_buf *b, const char *want, const char *what)
{
    jn_buf head = {0};
    jn_buf_put(&head, b->data, 12);  /* magic, version */
    jn_buf_u64(&head, b->len + 4);
    jn_buf_crc(&head);
    REQUIRE(jn_buf_ok(&head, path) == 0 && jn_buf_ok(b, path) == 0, "%s", jn_last_error());
    memcpy(b->data, head.data, head.len);
    jn_buf_free(&head);
    jn_buf_crc(b);
    jn_stepstate_file f;
    const int rc = jn_stepstate_parse(b->data, b->len, path, &f);
    CHECK(rc != 0 && strstr(jn_last_error(), want), "%s: %s", what, rc ? jn_last_error() : "accepted");
    if (rc == 0)
        jn_stepstate_file_free(&f);
    jn_buf_free(b);
}

/* Records no parse may take: dimensions whose product wraps to 0 values (2^32 x 2^32), a NUL
 * byte inside a name, a scalar whose value the end record stands in the place of, and an end
 * record with a byte set. */
static void stepstate_records(const char *path)
{
    const uint64_t wraps[2] = {1ull << 32, 1ull << 32};
    const jn_real one = 1;
    jn_stepstate *ss = jn_stepstate_new();
    REQUIRE(ss, "out of memory");
    jn_stepstate_f64(ss, "ab", 0.5);
    jn_stepstate_reals(ss, "W", 2, wraps, &one);
    REQUIRE(jn_stepstate_write(ss, path) == 0, "%s", jn_last_error());
    jn_stepstate_free(ss);
    unsigned char *data;
    size_t len;
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    /* 24 header bytes, "ab" (4 + 2 + 8 bytes), then W's record */
    jn_buf b = {0};
    jn_buf_put(&b, data, len - 4);
    resealed_refusal(path, &b, ": byte 38: tensor W of 2 dimensions runs past the end of the file", "2^32 x 2^32");
    jn_buf_put(&b, data, len - 4);
    b.data[24 + 5] = 0;  /* "a\0" */
    resealed_refusal(path, &b, ": byte 24: NUL byte in a tensor name", "a NUL byte in a name");
    jn_buf_put(&b, data, 24 + 6);  /* "ab" without its value, then the end record */
    jn_buf_put(&b, data + len - 8, 4);
    resealed_refusal(path, &b, ": byte 24: tensor ab runs past the end of the file", "a scalar without its value");
    free(data);
    /* One dimension more than a record may have (its dimensions were read past the array). */
    const uint64_t ones[JN_STEPSTATE_MAX_DIMS + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ss = jn_stepstate_new();
    REQUIRE(ss, "out of memory");
    jn_stepstate_f64(ss, "ab", 0.5);
    jn_stepstate_reals(ss, "W", JN_STEPSTATE_MAX_DIMS + 1, ones, &one);
    REQUIRE(jn_stepstate_write(ss, path) == 0, "%s", jn_last_error());
    jn_stepstate_free(ss);
    REQUIRE(jn_read_file(path, &data, &len) == 0, "%s", jn_last_error());
    char dims_want[96];
    snprintf(dims_want, sizeof dims_want, ": byte 38: tensor header out of range (%d dimensions",
             JN_STEPSTATE_MAX_DIMS + 1);
    jn_buf_put(&b, data, len - 4);
    resealed_refusal(path, &b, dims_want, "too many dimensions");
    for (int k = 1; k < 4; k++) {
        jn_buf_put(&b, data, 38);  /* "ab" whole, then the end record */
        jn_buf_put(&b, data + len - 8, 4);
        b.data[38 + k] = 1;
        resealed_refusal(path, &b, ": byte 38: malformed end record", "an end record with a byte set");
    }
    free(data);
}

/* A tensor with no values, written from no array (a NULL pointer, as an empty batch's is):
 * the write copied none from NULL, undefined behaviour the sanitizer build stops on, and it
 * reads back as a tensor of no values. */
static void stepstate_empty(const char *path)
{
    const uint64_t dims[2] = {0, 3};
    jn_stepstate *ss = jn_stepstate_new();
    REQUIRE(ss, "out of memory");
    jn_stepstate_reals(ss, "none", 2, dims, NULL);
    REQUIRE(jn_stepstate_write(ss, path) == 0, "%s", jn_last_error());
    jn_stepstate_free(ss);
    unsigned char *data;
    size_t len;
    jn_stepstate_file f;
    REQUIRE(jn_read_file(path, &data, &len) == 0 && jn_stepstate_parse(data, len, path, &f) == 0, "%s",
            jn_last_error());
    CHECK(f.count == 1 && !strcmp(f.tensors[0].name, "none") && f.tensors[0].count == 0 && f.tensors[0].ndim == 2 &&
              f.tensors[0].dims[1] == 3, "the empty tensor read back as %d tensors", f.count);
    jn_stepstate_file_free(&f);
    free(data);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/jn_flips_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    REQUIRE(mkdtemp(dir), "mkdtemp %s failed", dir);
    char ck_path[4200], ss_path[4200];
    snprintf(ck_path, sizeof ck_path, "%s/last.ckpt", dir);
    snprintf(ss_path, sizeof ss_path, "%s/step.bin", dir);

    /* A checkpoint with every section: 5-4-3-2, a configuration text and a mid-epoch state. */
    jn_checkpoint ck = {0};
    const int hidden[2] = {4, 3};
    REQUIRE(jn_model_make(&ck.model, 5, hidden, 2, 2) == 0, "%s", jn_last_error());
    const size_t P = ck.model.n_params;
    jn_real *arrays = malloc(3 * P * sizeof *arrays);
    REQUIRE(arrays, "out of memory");
    for (size_t i = 0; i < 3 * P; i++)
        arrays[i] = (jn_real)(0.01 * (double)i - 0.3);
    ck.params = arrays;
    ck.velocity = arrays + P;
    ck.best_params = arrays + 2 * P;
    ck.config_text = "data=usps\nhidden=4,3\nepochs=3\n";
    ck.state = (jn_train_state){.global_step = 7, .epoch = 1, .batch = 2, .best_valid_error = 12.5,
                                .best_epoch = 1, .bad_epochs = 0, .status = JN_RUN_RUNNING,
                                .sums = {.loss = 3.5, .penalty = 0.25, .errors = 4, .examples = 20, .steps = 2}};
    REQUIRE(jn_checkpoint_write(ck_path, &ck) == 0, "%s", jn_last_error());
    flip_every_bit("checkpoint", ck_path, parse_checkpoint, 0);
    newer_version("checkpoint", ck_path, parse_checkpoint, JN_CHECKPOINT_VERSION);
    header_reads(ck_path, &ck);
    checkpoint_sizes(ck_path, &ck);
    sums_not_finite(ck_path, ck);
    state_edges(ck_path, ck);
    forged_fields(ck_path, ck);
    other_layouts(ck_path, ck);
    stored_config(ck_path, ck);

    /* A step state with every record type: scalars, int32, uint64, and tensors of 1 to 3
     * dimensions. */
    const uint64_t seed = (1ull << 53) + 1;
    jn_stepstate *ss = jn_stepstate_new();
    REQUIRE(ss, "out of memory");
    const int32_t sizes[3] = {5, 4, 2};
    const uint64_t n_sizes = 3, d2[2] = {4, 5}, d3[3] = {2, 3, 2};
    jn_stepstate_i32(ss, "sizes", 1, &n_sizes, sizes);
    jn_stepstate_f64(ss, "lr", 0.05);
    jn_stepstate_u64(ss, "seed", seed);
    jn_stepstate_reals(ss, "W1", 2, d2, arrays);
    jn_stepstate_reals(ss, "eps", 3, d3, arrays + 20);
    REQUIRE(jn_stepstate_write(ss, ss_path) == 0, "%s", jn_last_error());
    jn_stepstate_free(ss);
    flip_every_bit("step state", ss_path, parse_stepstate, 0);
    newer_version("step state", ss_path, parse_stepstate, JN_STEPSTATE_VERSION);
    bytes_after_end(ss_path);
    /* The seed as given: a float64 made 2^53 + 1 read 2^53. */
    unsigned char *data;
    size_t len;
    jn_stepstate_file f;
    REQUIRE(jn_read_file(ss_path, &data, &len) == 0 && jn_stepstate_parse(data, len, ss_path, &f) == 0, "%s",
            jn_last_error());
    CHECK(f.count == 5 && !strcmp(f.tensors[2].name, "seed") && f.tensors[2].dtype == JN_DTYPE_U64 &&
              f.tensors[2].whole[0] == seed, "the seed read back is not %llu", (unsigned long long)seed);
    jn_stepstate_file_free(&f);
    free(data);
    stepstate_names(ss_path);
    stepstate_records(ss_path);
    stepstate_empty(ss_path);

    free(arrays);
    unlink(ck_path);
    unlink(ss_path);
    rmdir(dir);
    return check_exit();
}
