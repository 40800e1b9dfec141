#!/usr/bin/env python3
"""A jacnoise checkpoint as NumPy arrays, and as a .npz that NumPy, PyTorch or JAX read
without jacnoise.

    python3 tools/export_model.py runs/mnist/best.ckpt model.npz [--best]

The .npz holds W1..WL (W_l of shape n_l x n_(l-1): row j holds the weights into unit j, as
SPEC.md writes the model z_l = a_(l-1) W_l^T + b_l, a_l = tanh(z_l), logits z_L), b1..bL,
`sizes` (d, n_1, ..., C), `config` (the checkpoint's key=value lines, one string) and the
training state (`global_step`, `epochs_done`, `best_epoch`, `best_valid_error` in %: NaN
where no epoch has ended or without a validation split, as summary.json's null; `status`, as
recorded: running until the run ends, a paused run's too, as `jacnoise show` tells apart; the
line it prints says an ended one whose summary.json beside it does not read `unreadable (...)`,
as show and sweep status do).
The parameters are the file's own (in best.ckpt, the best epoch's); `--best` takes the best
parameters that last.ckpt carries (refused before an epoch has ended: they are then the
initial ones). Use as a module: `read_checkpoint(path)` and `logits(layers, x)`.

The file is refused where jacnoise's reader refuses it, with the same bounds and byte offsets,
for what the tool reads: magic, version (1 or 2: version 1 has no data CRC), length (a file
that ends in the magic number or the version "ends while reading" it, one cut later is
"truncated", a whole one with bytes added has "unexpected bytes after the checkpoint's end"),
CRC-32, value size (4 or 8 bytes: either build's), layer count and sizes,
configuration text (its hidden widths those of the layer sizes), the ranges of the epoch,
best epoch, status and section flags, finite values; not the training state's consistency,
which `jacnoise show` checks too. A refusal is one line naming the file and the byte offset,
exit status 1, and no output written. The .npz is written atomically (temporary file, fsync,
rename); an output that is the checkpoint or another one, any other file that is not a .npz, a
folder, a link or not a regular file is refused."""
import argparse
import errno
import math
import os
import stat
import struct
import sys
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tool_files  # noqa: E402

MAGIC = b"JNCKPT\0\n"
NPZ_MAGIC = b"PK\x03\x04"  # a zip archive's first entry: every .npz this tool writes begins so
VERSIONS = (1, 2)  # version 2 ends the state with the data CRC
# The bounds of jacnoise's reader (include/jacnoise/model.h, src/core/model.c).
MAX_LAYERS, MAX_WIDTH, MAX_PARAMS = 16, 1000000, 1 << 34
# u64 global step, u32 epoch, u64 next batch, f64 best valid error, u32 best epoch,
# u32 epochs without improvement, u32 status, then the epoch's sums: f64 loss, f64 penalty,
# u64 errors, u64 examples, u64 steps (include/jacnoise/checkpoint.h).
# Version 2 adds the u32 CRC of the data the run trains on.
STATE = {1: struct.Struct("<QIQdIIIddQQQ"), 2: struct.Struct("<QIQdIIIddQQQI")}
STATUS = {0: "running", 1: "finished", 2: "early-stopped"}
SECTION_VELOCITY, SECTION_BEST = 1, 2


class CheckpointError(Exception):
    pass


class Checkpoint:
    """sizes, config (key=value text), state (dict), params, velocity and best (flat arrays
    in the layout of include/jacnoise/model.h; velocity and best None where absent), the
    format version, and state_offset and params_offset, the byte offsets of the training
    state and of the parameters in the file."""

    def layers(self, which="params"):
        """[(W_1, b_1), ..., (W_L, b_L)] of the parameters, the velocity or the best ones."""
        flat = getattr(self, which)
        if flat is None:
            hint = " (best.ckpt's own parameters are the best epoch's: drop --best)" if which == "best" else ""
            raise CheckpointError(f"{self.path}: holds no {which} section{hint}")
        if which == "best" and not self.state["best_epoch"]:
            # Before any epoch has ended the best section holds what the run started from.
            raise CheckpointError(f"{self.path}: no epoch has ended (best epoch 0): its best section is the "
                                  "initial parameters; drop --best")
        out, at = [], 0
        for fan_in, fan_out in zip(self.sizes, self.sizes[1:]):
            w = flat[at:at + fan_out * fan_in].reshape(fan_out, fan_in)
            at += fan_out * fan_in
            out.append((w, flat[at:at + fan_out]))
            at += fan_out
        return out


def implied_size(blob, version):
    """(size, exact): the file size the header implies, read before the checksum, as
    src/core/checkpoint.c reads it, to tell a cut file from a damaged one: where the header
    is itself cut, its fields up to the next that can be counted and a checksum; exact: the
    section flags are there to count the arrays. (0, False) where the header is implausible,
    which the checks after the checksum name: also a field the header can check (a parameter
    count the layer sizes do not give, a configuration text with a NUL byte, section flags no
    writer sets), so that a whole file with a flipped bit there is not called truncated."""
    def cut(at, field):
        return at + field + 4 if at + field > len(blob) else 0

    if cut(12, 8):
        return cut(12, 8), False
    value_size, n_layers = struct.unpack_from("<II", blob, 12)
    if value_size not in (4, 8) or n_layers > MAX_LAYERS:
        return 0, False
    if cut(20, 4 * (n_layers + 1) + 12):  # the sizes, parameter count and text length
        return cut(20, 4 * (n_layers + 1) + 12), False
    sizes = struct.unpack_from(f"<{n_layers + 1}I", blob, 20)
    n_params, text_len = struct.unpack_from("<QI", blob, 20 + 4 * (n_layers + 1))
    text_at = 20 + 4 * (n_layers + 1) + 12
    if (not all(1 <= width <= MAX_WIDTH for width in sizes) or b"\0" in blob[text_at:text_at + text_len]
            or n_params != sum(o * i + o for i, o in zip(sizes, sizes[1:]))):
        return 0, False
    flags_at = text_at + text_len + STATE[version].size
    exact = flags_at + 4 <= len(blob)
    (sections,) = struct.unpack_from("<I", blob, flags_at) if exact else (0,)
    if sections > SECTION_VELOCITY | SECTION_BEST:
        return 0, False
    arrays = 1 + (sections & SECTION_VELOCITY > 0) + (sections & SECTION_BEST > 0)
    return flags_at + 4 + arrays * n_params * value_size + 4, exact


def best_missing(path, error):
    """What to do where a run's best.ckpt cannot be found beside its last.ckpt ("" elsewhere):
    "No such file or directory" alone left its user to wonder where the run's parameters were.
    last.ckpt's best epoch tells whether none is written yet, when --best is refused too (it
    was offered all the same), or it was removed; one that does not read says neither."""
    last = os.path.join(os.path.dirname(path), "last.ckpt")
    if error.errno != errno.ENOENT or os.path.basename(path) != "best.ckpt" or not os.path.isfile(last):
        return ""
    try:
        ended = read_checkpoint(last).state["best_epoch"] > 0
    except CheckpointError:
        ended = None  # exporting it says what is wrong with it
    if ended is False:
        return (f": the run has no best.ckpt yet (one is written when its first epoch ends); export {last} instead, "
                "its parameters as they stand")
    why = "it was removed" if ended else "none before its first epoch ends, or it was removed"
    return (f": the run has no best.ckpt ({why}: resuming the run writes it again); export {last} instead, with "
            "--best for the best parameters it carries")


def read_checkpoint(path):
    """Reads and verifies a checkpoint as jacnoise's reader does (src/core/checkpoint.c: the
    same checks, in its order, at its byte offsets, for the fields read here); raises
    CheckpointError with the file and offset."""
    # NumPy is imported where it is used: at the top, its import (a second or more) would run
    # before run_program, and Ctrl-C in it would end the tool with a traceback.
    import numpy as np
    try:
        mode = os.stat(path).st_mode  # jacnoise's words; a FIFO or /dev/zero would never end
        if stat.S_ISDIR(mode) and os.path.isfile(os.path.join(path, "last.ckpt")):  # a run folder: its files named
            raise CheckpointError(f"{path}: is a run folder, not a checkpoint: give {os.path.join(path, 'best.ckpt')} "
                                  f"(its best parameters) or {os.path.join(path, 'last.ckpt')} (where it stands)")
        if not stat.S_ISREG(mode):
            raise CheckpointError(f"{path}: {'is a folder, not a file' if stat.S_ISDIR(mode) else 'not a regular file'}")
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise CheckpointError(f"{path}: {e.strerror}{best_missing(path, e)}") from None
    fail = lambda at, what: CheckpointError(f"{path}: byte {at}: {what}")

    def need(at, n, what):
        """Refuses a field that the file ends in, as jacnoise's cursor does (src/core/fileio.c)."""
        if len(blob) - at < n:
            raise fail(at, f"file ends while reading {what} ({n} bytes needed, {len(blob) - at} left)")

    need(0, 8, "the magic number")
    if blob[:8] != MAGIC:
        raise fail(0, "not a jacnoise checkpoint (wrong magic number)")
    need(8, 4, "the format version")
    (version,) = struct.unpack_from("<I", blob, 8)

    def crc_matches(end):
        return end >= 4 and zlib.crc32(blob[:end - 4]) == struct.unpack_from("<I", blob, end - 4)[0]

    def check_crc():
        if not crc_matches(len(blob)):
            raise fail(len(blob) - 4, "CRC-32 mismatch: the file is damaged")

    if version not in VERSIONS:
        check_crc()  # every version ends with it: a flipped bit there is damage, not a version
        newer = " (written by a newer jacnoise: read it with that one's export_model.py)" if version > VERSIONS[-1] else ""
        raise fail(8, f"format version {version}, this tool reads versions {VERSIONS[0]} to {VERSIONS[-1]}{newer}")
    # After the size check every field up to the values is in the file (the size counts them).
    size, exact = implied_size(blob, version)
    if len(blob) < size:
        raise fail(len(blob), f"truncated: {len(blob)} bytes, expected {'' if exact else 'at least '}{size}")
    # Bytes added after a whole checkpoint: its checksum matches where the header says it ends.
    if exact and 0 < size < len(blob) and crc_matches(size):
        extra = len(blob) - size
        raise fail(size, f"{extra} unexpected byte{'' if extra == 1 else 's'} after the checkpoint's end (its header gives {size} bytes)")
    check_crc()
    value_size, n_layers = struct.unpack_from("<II", blob, 12)
    if value_size not in (4, 8):
        raise fail(12, f"{value_size} bytes per value, expected 4 or 8")
    if not 2 <= n_layers <= MAX_LAYERS:
        raise fail(16, f"{n_layers} weight layers, out of range [2, {MAX_LAYERS}]")
    at = 20
    sizes = list(struct.unpack_from(f"<{n_layers + 1}I", blob, at))
    for width in sizes:
        if not 1 <= width <= MAX_WIDTH:
            raise fail(at, f"layer size {width} out of range [1, {MAX_WIDTH}]")
        at += 4
    if sizes[-1] < 2:
        raise fail(20, f"model: {sizes[-1]} classes, out of range [2, {MAX_WIDTH}]")
    expected = 0
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        expected += fan_out * fan_in + fan_out
        if expected > MAX_PARAMS:
            raise fail(20, f"model: {expected} parameters is more than the engine supports (2^34)")
    (n_params,) = struct.unpack_from("<Q", blob, at)
    if n_params != expected:
        raise fail(at, f"{n_params} parameters stored, the layer sizes need {expected}")
    (text_len,) = struct.unpack_from("<I", blob, at + 8)
    at += 12
    text = blob[at:at + text_len]
    if b"\0" in text:
        raise fail(at, "NUL byte in the configuration text")
    at += text_len
    state_offset = at
    s = STATE[version].unpack_from(blob, at)
    at += STATE[version].size
    (flags,) = struct.unpack_from("<I", blob, at)
    # jacnoise's ranges for the fields exported here (epoch, best epoch, status, sections).
    if s[1] > 1000000 or s[4] > 1000001 or s[6] not in STATUS or flags > SECTION_VELOCITY | SECTION_BEST:
        raise fail(at, f"training state out of range (epoch {s[1]}, status {s[6]}, sections {flags})")
    at += 4
    ck = Checkpoint()
    ck.path, ck.sizes, ck.config, ck.params_offset = path, sizes, text.decode("utf-8", "replace"), at
    ck.version, ck.state_offset = version, state_offset
    # Best epoch 0: the stored error is the writer's placeholder, not a measurement (summary.json: null).
    ck.state = {"global_step": s[0], "epochs_done": s[1], "best_valid_error": s[3] if s[4] else math.nan,
                "best_epoch": s[4], "status": STATUS[s[6]]}
    dtype = np.dtype("<f4" if value_size == 4 else "<f8")
    sections = ["params"] + [name for bit, name in ((SECTION_VELOCITY, "velocity"), (SECTION_BEST, "best"))
                             if flags & bit]
    if at + len(sections) * n_params * value_size != len(blob) - 4:
        raise fail(at, f"{len(blob) - 4 - at} bytes of values, the sections {', '.join(sections)} make "
                       f"{len(sections) * n_params * value_size}")
    ck.velocity = ck.best = None
    for name in sections:
        values = np.frombuffer(blob, dtype, n_params, at)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise fail(at + value_size * int(bad[0]), f"{name}: value {int(bad[0])} is not finite")
        setattr(ck, name, values.copy())
        at += n_params * value_size
    # A text edited by hand (its checksum made again) over another model, refused after the
    # values as jacnoise's reader refuses it.
    hidden = stored_hidden(ck.config)
    if hidden is not None and hidden != sizes[1:-1]:
        said = "-".join(map(str, [sizes[0]] + hidden + [sizes[-1]]))
        raise fail(20, f"layer sizes {'-'.join(map(str, sizes))}, but the stored configuration's hidden gives a "
                       f"{said} model")
    return ck


# jacnoise's default --hidden (jn_config_defaults).
DEFAULT_HIDDEN = [1000]


def stored_hidden(config):
    """The hidden widths a checkpoint's key=value text gives (jacnoise's hidden=W1,W2,...), the
    default where it has no hidden line, as jacnoise compares it (jn_checkpoint_config: a text
    without one over another model was exported unchecked); None where its hidden is one this
    tool cannot read (jacnoise's reader names what is wrong there)."""
    for line in config.removeprefix("\ufeff").split("\n"):  # a byte-order mark, as jacnoise skips it
        key, eq, value = line.partition("=")
        if eq and key.strip().removeprefix("--") == "hidden":
            try:
                return [int(width) for width in value.split(",")]
            except ValueError:
                return None
    return DEFAULT_HIDDEN


def logits(layers, x):
    """The network's logits for the rows of x (SPEC.md: tanh hidden layers, linear output)."""
    import numpy as np
    a = np.asarray(x)
    for l, (w, b) in enumerate(layers):
        z = a @ w.T + b
        a = z if l == len(layers) - 1 else np.tanh(z)
    return a


def holds_checkpoint(path):
    """Whether path is a run's other checkpoint (export run/best.ckpt run/last.ckpt), whose
    replacement would take last.ckpt's velocity and the run's resumption with it. The write
    refuses any other file that does not begin as a .npz (the run's config.txt, as run/c<TAB>
    completes it), as jacnoise step --dump replaces only a step state."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False  # a FIFO would block the read; the write refuses it in its own words
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False  # absent, or unreadable: the write says what it can do with it


def write_npz(ck, which, out):
    import numpy as np
    arrays = {"sizes": np.array(ck.sizes, dtype=np.int64), "config": np.array(ck.config)}
    for l, (w, b) in enumerate(ck.layers(which), start=1):
        arrays[f"W{l}"], arrays[f"b{l}"] = w, b
    for key, value in ck.state.items():
        arrays[key] = np.array(value)
    def put(f):
        # The archive np.savez writes, in a ZipFile closed while its file is open: np.savez
        # leaves its own open when Ctrl-C or SIGTERM stops it, and at exit that one wrote its
        # end to the closed file, a traceback after 'export_model: terminated'.
        with zipfile.ZipFile(f, "w", allowZip64=True) as z:
            for key, value in arrays.items():
                with z.open(f"{key}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, value, allow_pickle=False)
    try:
        tool_files.replace(out, lambda tmp: tool_files.write_synced(tmp, "wb", put), ("a .npz", NPZ_MAGIC))
    except OSError as e:
        raise CheckpointError(f"{out}: {e.strerror}") from None


def summary_unread(checkpoint):
    """Whether a summary.json beside checkpoint is there and jacnoise refuses it (as show reads
    the one beside a checkpoint)."""
    try:
        with open(os.path.join(os.path.dirname(checkpoint), "summary.json"), "rb") as f:
            tool_files.summary_record(f.read())
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
    return False


def main():
    parts = __doc__.split("\n\n")
    ap = tool_files.ArgumentParser(description=parts[0], epilog="\n\n".join(parts[1:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=tool_files.name_of("file"), help="a run's best.ckpt or last.ckpt")
    ap.add_argument("out", type=tool_files.name_of("file"), help="the .npz to write")
    ap.add_argument("--best", action="store_true", help="the best parameters last.ckpt carries, not its latest")
    args = ap.parse_args()
    try:
        import numpy  # noqa: F401 (read_checkpoint and write_npz import it where they use it)
    except ImportError:
        tool_files.lacking("numpy", lambda message: tool_files.failing("export_model")(f"needs {message}"))
    try:
        ck = read_checkpoint(args.checkpoint)
        if os.path.exists(args.out) and os.path.samefile(args.out, args.checkpoint):
            raise CheckpointError(f"{args.out}: is the checkpoint file; writing it would destroy that")
        if holds_checkpoint(args.out):
            raise CheckpointError(f"{args.out}: holds a jacnoise checkpoint, which the .npz would replace; give "
                                  "another file name")
        write_npz(ck, "best" if args.best else "params", args.out)
    except CheckpointError as e:
        tool_files.say(str(e))
        return 1
    model = "-".join(map(str, ck.sizes))
    done = ck.state["epochs_done"]
    # "running" is what a checkpoint records until its run ends: said alone, a best.ckpt (no
    # velocity, its epoch's state) read as training on, and a paused or killed run's last.ckpt
    # as running. Whether it is, its folder tells; jacnoise show reads it.
    # An end recorded beside a summary.json that does not read: said alone, it read as ended
    # cleanly, where show and sweep status say "unreadable".
    status = ck.state["status"]
    if status == "running":
        status += " when saved" + ("" if ck.velocity is None else " (jacnoise show says where the run stands)")
    elif summary_unread(args.checkpoint):
        status = f"unreadable ({status}, as recorded, but its summary.json does not read: jacnoise show says why)"
    print(tool_files.escaped(f"{args.out}: {model}, {len(ck.params)} parameters ({'best' if args.best else 'as stored'}"
                             f"), {done} epoch{'' if done == 1 else 's'} done, best epoch {ck.state['best_epoch']}, "
                             f"{status}"))
    return 0


if __name__ == "__main__":
    tool_files.run_program(main)
