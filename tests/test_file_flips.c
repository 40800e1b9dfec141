/* Every single-bit flip of a whole checkpoint or step state is reported as what it is: a
 * checksum mismatch (the file is corrupt), or a wrong magic number where the flip is in the
 * magic; never "truncated" (the user would look for a full disk), never a format version no
 * build wrote, never accepted. The header read of a checkpoint (a sweep learning where its runs
 * stand) reads none of the bytes after the header: a flip there leaves what it reads as it was,
 * and a file it cannot take is refused as the whole read refuses it. A step state with bytes
 * after its end record is refused as such. A file of a newer format version is said to be a
 * newer jacnoise's, and a checkpoint whose epoch sums are not finite is refused. The edges of the
 * state and stored-configuration checks, and the step state's tensor names, are checked too. */
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
 * wrong) is one a run writes, more errors than examples in the epoch sums is not. */
static void state_edges(const char *path, jn_checkpoint ck)
{
    const size_t state_at = 32 + 4 * ((size_t)ck.model.n_layers + 1) + strlen(ck.config_text);
    jn_train_state s = ck.state;
    s.best_valid_error = 100;
    state_read(path, ck, s, "");
    s = ck.state;
    s.sums.errors = s.sums.examples + 1;
    char want[128];
    snprintf(want, sizeof want, ": byte %zu: epoch sums of %ld errors in %ld examples", state_at + 56, s.sums.errors,
             s.sums.examples);
    state_read(path, ck, s, want);
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
 * checkpoint; a cut one says the size it needs, "at least" only where the header is cut. */
static void checkpoint_sizes(const char *path)
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
     * checksum); cut after it, the size is the header's own. */
    const size_t cuts[2] = {12, len / 2};
    for (int k = 0; k < 2; k++) {
        if (k)
            snprintf(want, sizeof want, ": byte %zu: truncated: %zu bytes, expected %zu", cuts[k], cuts[k], len);
        else
            snprintf(want, sizeof want, ": byte 12: truncated: 12 bytes, expected at least 24");
        const int cut_rc = parse_checkpoint(data, cuts[k], path);
        CHECK(cut_rc != 0 && strstr(jn_last_error(), want), "a checkpoint cut at byte %zu: %s", cuts[k],
              cut_rc ? jn_last_error() : "accepted");
    }
    free(longer);
    free(data);
}

/* Writes a file unsynced (hundreds of variants are read back at once): 1 where it wrote. */
static int put_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    const int ok = f && fwrite(data, 1, len, f) == len;
    return (f && fclose(f) == 0) && ok;
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
    checkpoint_sizes(ck_path);
    sums_not_finite(ck_path, ck);
    state_edges(ck_path, ck);
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

    free(arrays);
    unlink(ck_path);
    unlink(ss_path);
    rmdir(dir);
    return check_exit();
}
