/* Checkpoints: the parameters and everything needed to continue a run bit-identically.
 *
 * Binary layout (all integers and floats little-endian):
 *   offset 0   8 bytes   magic "JNCKPT\0\n"
 *          8   u32       format version (JN_CHECKPOINT_VERSION)
 *         12   u32       bytes per parameter value (4 = float32; 8 = float64 builds)
 *         16   u32       L, the number of weight layers
 *         20   u32 x L+1 layer sizes d, n_1, ..., C
 *              u64       number of parameters P (must match the sizes)
 *              u32 + ..  resolved configuration text (length, then key=value lines)
 *              state:    u64 global step, u32 epoch, u64 next batch in the epoch,
 *                        f64 best validation error (%), u32 best epoch (1-based, 0 = none),
 *                        u32 epochs without improvement, u32 status (jn_run_status),
 *                        epoch sums: f64 loss, f64 penalty, u64 errors, u64 examples, u64 steps,
 *                        u32 data CRC (jn_data_crc; version 2 on: version 1 ends the state
 *                        with the sums)
 *              u32       sections present: bit 0 velocity, bit 1 best parameters
 *              P values  parameters (layout of model.h), then velocity, then best parameters
 *              u32       CRC-32 (zlib) of every byte before it
 * Files are written atomically: temporary file, fsync, rename, fsync of the folder. */
#ifndef JACNOISE_CHECKPOINT_H
#define JACNOISE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "jacnoise/config.h"
#include "jacnoise/model.h"
#include "jacnoise/step.h"

#define JN_CHECKPOINT_VERSION 2
#define JN_CHECKPOINT_OLDEST 1 /* the oldest version read: it records no data CRC */

typedef enum {
    JN_RUN_RUNNING = 0,
    JN_RUN_FINISHED = 1,       /* all epochs done */
    JN_RUN_EARLY_STOPPED = 2,  /* patience ran out */
} jn_run_status;

/* Where a run stands. */
typedef struct {
    uint64_t global_step;       /* steps done */
    int epoch;                  /* current epoch, 0-based */
    long batch;                 /* next batch of the current epoch */
    double best_valid_error;    /* % (100 before any evaluation) */
    int best_epoch;             /* 1-based epoch of the best parameters; 0 = none yet */
    int bad_epochs;             /* epochs since the best */
    jn_run_status status;
    jn_epoch_sums sums;         /* the current epoch so far */
} jn_train_state;

typedef struct {
    jn_model model;
    char *config_text;          /* resolved configuration (key=value lines) */
    jn_train_state state;
    jn_real *params;
    jn_real *velocity;          /* NULL if absent */
    jn_real *best_params;       /* NULL if absent */
    uint32_t data_crc;          /* of the data the run trains on (jn_data_crc) */
    int has_data_crc;           /* 0 in a version 1 file, which has none */
    int version;                /* the format version read (written: JN_CHECKPOINT_VERSION) */
} jn_checkpoint;

/* Writes atomically; the previous file survives any failure. */
int jn_checkpoint_write(const char *path, const jn_checkpoint *ck);

/* Reads and verifies (magic, version, value size, checksum, sizes). Refusals name the file,
 * the byte offset and what differs. */
int jn_checkpoint_read(const char *path, jn_checkpoint *ck);

/* Reads the header alone (the model, configuration text, state and data CRC; no arrays), each
 * field checked as jn_checkpoint_read checks it: a sweep learns where its runs stand without
 * reading their parameters twice. The checksum, over the whole file, is not checked: the
 * whole read that opens the run does that. ck->config_text is allocated: jn_checkpoint_free. */
int jn_checkpoint_read_header(const char *path, jn_checkpoint *ck);

/* Whether the file at path begins with a checkpoint's magic number (0 for a missing or
 * unreadable file). */
int jn_checkpoint_magic_at(const char *path);

/* The same from bytes in memory (path is used in messages only). */
int jn_checkpoint_parse(const unsigned char *data, size_t len, const char *path, jn_checkpoint *ck);

/* Epochs the state has done or started: a run paused inside an epoch has started one more. */
int jn_train_state_epochs(const jn_train_state *s);

/* Loads the stored configuration into cfg (over what it holds; errors name the file and line)
 * and refuses a state its --epochs cannot have reached (checks that need the configuration). */
int jn_checkpoint_config(const jn_checkpoint *ck, const char *path, jn_config *cfg);

/* Refuses data other than the checkpoint's run trained on: data_crc is jn_data_crc of what
 * --data `data` (read from folder `dir`, "" where read as given) holds now. A version 1 file,
 * which records none, passes with one note on stderr that the data could not be checked.
 * With refuse 0 (an evaluation, which may use any data) other data is one note on stderr
 * instead, and a version 1 file passes silently. Returns 0, 1 (other data, noted), -1. */
int jn_checkpoint_check_data(const jn_checkpoint *ck, const char *path, uint32_t data_crc, const char *data,
                             const char *dir, int refuse);

/* Frees what jn_checkpoint_read, _read_header or _parse allocated and clears ck (safe on a
 * cleared one). */
void jn_checkpoint_free(jn_checkpoint *ck);

/* "running", "finished", "early-stopped". */
const char *jn_run_status_name(jn_run_status s);

#endif
