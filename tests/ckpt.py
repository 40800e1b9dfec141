"""Checkpoint files from the tests' side: the parameters read (by tools/export_model.py, the
project's one Python reader of the format) and rewritten, and the divergence scenario both
backends' tests run."""
import json
import math
import os
import struct
import subprocess
import sys
import zlib

import numpy as np

from harness import BIN, check, run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from export_model import STATE, read_checkpoint  # noqa: E402


def params(path):
    """The parameters of a checkpoint, flat (W_1 row major, b_1, W_2, ...)."""
    return read_checkpoint(path).params


def rel_diff(a, b):
    """||a - b|| / ||b||, in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    num, den = float(((a - b) ** 2).sum()), float((b * b).sum())
    return math.sqrt(num / den) if den else math.sqrt(num)


def set_weights(path, layer, value, bias=None):
    """Sets the weights of layer `layer` (1-based; -1 for the logits' W_L) to value (one number
    for all, or an out x in array) and, unless None, its biases to bias (one number or a vector),
    in the parameters and the best parameters, and rewrites the checksum."""
    ck = read_checkpoint(path)
    blob = bytearray(open(path, "rb").read())
    sizes, size = ck.sizes, ck.params.dtype.itemsize
    layer = layer if layer > 0 else len(sizes) - 1
    w_first = sum(o * i + o for i, o in zip(sizes[:layer - 1], sizes[1:layer]))
    values = np.broadcast_to(np.asarray(value, np.float64), (sizes[layer], sizes[layer - 1])).ravel()
    if bias is not None:  # b_l follows W_l
        values = np.concatenate([values, np.broadcast_to(np.asarray(bias, np.float64), (sizes[layer],))])
    best = 1 + (ck.velocity is not None) if ck.best is not None else None  # sections: params, velocity, best
    for section in (0, best):
        if section is not None:
            start = ck.params_offset + size * (section * len(ck.params) + w_first)
            struct.pack_into(f"<{len(values)}{'f' if size == 4 else 'd'}", blob, start, *values.tolist())
    body = bytes(blob[:-4])
    open(path, "wb").write(body + struct.pack("<I", zlib.crc32(body)))


def as_version1(path):
    """Rewrites a checkpoint as an older jacnoise wrote it: format version 1, whose training
    state ends before the data CRC that version 2 added."""
    ck = read_checkpoint(path)
    blob = open(path, "rb").read()
    crc_at = ck.state_offset + STATE[1].size
    body = blob[:8] + struct.pack("<I", 1) + blob[12:crc_at] + blob[crc_at + 4:-4]
    open(path, "wb").write(body + struct.pack("<I", zlib.crc32(body)))


def divergence_from_checkpoint(tmp, device):
    """The divergence path reached on purpose, twice: a checkpoint is resumed on `device` and
    the run must stop at once with status diverged, exit 3, one line naming the epoch and step,
    and leave last.ckpt loadable (the non-finite state is never written).
    - The loss: the last layer's weights at 3e38 make the logits overflow float32 (any sum of
      two such products is Inf).
    - The penalty alone: with the hidden1 target, first-layer weights of 1e20 saturate every
      unit (the loss stays finite) while ||W_1j||^2 overflows float32, so the penalty's
      Inf * 0 is NaN. A check of the loss alone would take that step, and stop a step later."""
    for name, options, layer, value in [("loss", [], -1, 3e38),
                                        ("penalty", ["--jac-lambda", "0.01", "--jac-target", "hidden1",
                                                     "--jac-noise", "0.1"], 1, 1e20)]:
        what = f"divergence of the {name} on {device}"
        folder = os.path.join(tmp, f"diverge-{name}-{device}")
        run(["train", "--device", device, "--data", "usps", "--hidden", "32", "--epochs", "1", "--train-limit", "500",
             "--valid", "100", "--batch", "50", "--lr", "0.05", "--out", folder, "--progress", "never"] + options)
        last = os.path.join(folder, "last.ckpt")
        set_weights(last, layer, value)
        before = open(last, "rb").read()
        p = run(["train", "--device", device, "--out", folder, "--resume", "--epochs", "2", "--progress", "never"],
                expect=3)
        summary = json.load(open(os.path.join(folder, "summary.json")))
        check(summary["status"] == "diverged", f"{what}: status {summary['status']}")
        check("epoch 2, batch 1 (step 11): the loss or penalty is NaN or Inf" in summary["message"],
              f"{what}: message {summary['message']}")
        lines = [l for l in p.stderr.splitlines() if not l.startswith("[cuda-emu]")]
        check(len(lines) == 1 and lines[0].startswith("jacnoise: diverged at epoch 2"), f"{what}: stderr {p.stderr!r}")
        shown = subprocess.run([BIN, "show", last], capture_output=True, text=True)
        check(shown.returncode == 0, f"{what}: last.ckpt does not load: {shown.stderr}")
        check(open(last, "rb").read() == before, f"{what}: last.ckpt was rewritten")
        print(f"{what}: exit {p.returncode}, {summary['message']}")
