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
from export_model import read_checkpoint  # noqa: E402


def params(path):
    """The parameters of a checkpoint, flat (W_1 row major, b_1, W_2, ...)."""
    return read_checkpoint(path).params


def rel_diff(a, b):
    """||a - b|| / ||b||, in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    num, den = float(((a - b) ** 2).sum()), float((b * b).sum())
    return math.sqrt(num / den) if den else math.sqrt(num)


def set_last_weights(path, value):
    """Sets every weight of the last layer (the logits' W_L) to value, in the parameters and
    the best parameters, and rewrites the checksum."""
    ck = read_checkpoint(path)
    blob = bytearray(open(path, "rb").read())
    sizes, size = ck.sizes, ck.params.dtype.itemsize
    w_first = sum(o * i + o for i, o in zip(sizes[:-2], sizes[1:-1]))
    w_count = sizes[-1] * sizes[-2]
    best = 1 + (ck.velocity is not None) if ck.best is not None else None  # sections: params, velocity, best
    for section in (0, best):
        if section is not None:
            start = ck.params_offset + size * (section * len(ck.params) + w_first)
            struct.pack_into(f"<{w_count}{'f' if size == 4 else 'd'}", blob, start, *([value] * w_count))
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
