"""Checkpoint files from the tests' side (the layout of include/jacnoise/checkpoint.h, as the
README describes it): the parameters read and rewritten, and the divergence scenario both
backends' tests run."""
import array
import json
import math
import os
import struct
import subprocess
import zlib

from harness import BIN, check, run

STATE_BYTES = 8 + 4 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 8  # the training state after the text


def layout(blob):
    """(layer sizes, parameter count P, byte offset of the P float32 parameters)."""
    check(blob[:8] == b"JNCKPT\0\n", "checkpoint: bad magic")
    _, value_size, layers = struct.unpack_from("<III", blob, 8)
    check(value_size == 4, "checkpoint: not float32")
    sizes = struct.unpack_from(f"<{layers + 1}I", blob, 20)
    off = 20 + 4 * (layers + 1)
    (n_params,) = struct.unpack_from("<Q", blob, off)
    (text_len,) = struct.unpack_from("<I", blob, off + 8)
    off += 12 + text_len + STATE_BYTES + 4  # + the section flags
    return sizes, n_params, off


def params(path):
    """The parameters of a checkpoint, as an array of float32 (W_1 row major, b_1, W_2, ...)."""
    blob = open(path, "rb").read()
    _, n_params, off = layout(blob)
    return array.array("f", blob[off:off + 4 * n_params])


def rel_diff(a, b):
    """||a - b|| / ||b||."""
    num = sum((x - y) ** 2 for x, y in zip(a, b))
    den = sum(y * y for y in b)
    return math.sqrt(num / den) if den else math.sqrt(num)


def set_last_weights(path, value):
    """Sets every weight of the last layer (the logits' W_L) to value, in the parameters and
    the best parameters, and rewrites the checksum."""
    blob = bytearray(open(path, "rb").read())
    sizes, n_params, off = layout(blob)
    w_first = sum(sizes[l] * sizes[l - 1] + sizes[l] for l in range(1, len(sizes) - 1))
    w_count = sizes[-1] * sizes[-2]
    (flags,) = struct.unpack_from("<I", blob, off - 4)
    best = 1 + (flags & 1) if flags & 2 else None  # sections: parameters, velocity (bit 0), best (bit 1)
    for section in (0, best):
        if section is not None:
            start = off + 4 * (section * n_params + w_first)
            struct.pack_into(f"<{w_count}f", blob, start, *([value] * w_count))
    body = bytes(blob[:-4])
    open(path, "wb").write(body + struct.pack("<I", zlib.crc32(body)))


def divergence_from_checkpoint(tmp, device):
    """The divergence path reached on purpose: a checkpoint whose last layer makes the logits
    overflow float32 (weights 3e38: any sum of two such products is Inf) is resumed on
    `device`; the run must stop at once with status diverged, exit 3, one line naming the
    epoch and step, and leave last.ckpt loadable (the non-finite state is never written)."""
    folder = os.path.join(tmp, f"diverge-{device}")
    run(["train", "--device", device, "--data", "usps", "--hidden", "32", "--epochs", "1", "--train-limit", "500",
         "--valid", "100", "--batch", "50", "--lr", "0.05", "--out", folder, "--progress", "never"])
    last = os.path.join(folder, "last.ckpt")
    set_last_weights(last, 3e38)
    before = open(last, "rb").read()
    p = run(["train", "--device", device, "--out", folder, "--resume", "--epochs", "2", "--progress", "never"],
            expect=3)
    summary = json.load(open(os.path.join(folder, "summary.json")))
    check(summary["status"] == "diverged", f"divergence on {device}: status {summary['status']}")
    check("epoch 2, batch 1 (step 11)" in summary["message"], f"divergence on {device}: message {summary['message']}")
    lines = [l for l in p.stderr.splitlines() if not l.startswith("[cuda-emu]")]
    check(len(lines) == 1 and lines[0].startswith("jacnoise: diverged at epoch 2"),
          f"divergence on {device}: stderr {p.stderr!r}")
    shown = subprocess.run([BIN, "show", last], capture_output=True, text=True)
    check(shown.returncode == 0, f"divergence on {device}: last.ckpt does not load: {shown.stderr}")
    check(open(last, "rb").read() == before, f"divergence on {device}: last.ckpt was rewritten")
    print(f"divergence on {device}: exit {p.returncode}, {summary['message']}")
