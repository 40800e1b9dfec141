#!/usr/bin/env python3
"""What the program says about a data set before it trains on it, checked on small IDX files
made here (and on MNIST from $JACNOISE_DATA, recomputed with numpy):

- `jacnoise data`: per split the examples, classes, per-class counts, empty classes, and the
  minimum, maximum and mean of the input values, against the same figures computed here;
- idx: classes are the training labels' range: a stray 255 in the training labels makes 256
  classes and one warning line on stderr naming the empty ones (data and train);
- a --test label beyond the training classes is refused with one line naming the file, the
  byte and the item, and no run folder is written; so is a --test of another image size;
- `jacnoise train` prints the classes and the per-class counts of each split first.
"""
import gzip
import json
import os
import sys

import numpy as np

import harness
from harness import check, idx, run, scratch

DATA = os.environ.get("JACNOISE_DATA", "")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def split_stats(x, y, classes):
    """What `jacnoise data` should report for one split (x as float32 in the program)."""
    counts = np.bincount(y, minlength=classes).tolist() if len(y) else [0] * classes
    if len(y) == 0:
        return {"min": None, "max": None, "mean": None, "class_counts": counts,
                "empty_classes": classes}
    x = x.astype(np.float32)
    return {"min": float(x.min()), "max": float(x.max()), "mean": float(x.astype(np.float64).mean()),
            "class_counts": counts, "empty_classes": sum(c == 0 for c in counts)}


def compare_split(name, got, want):
    for key in ("min", "max"):
        ok = got.get(key) is None if want[key] is None else (
            got.get(key) is not None and abs(got[key] - want[key]) <= 1e-6 * max(1.0, abs(want[key])))
        check(ok, f"{name}: {key} {got.get(key)}, expected {want[key]}")
    m = got.get("mean")
    check((m is None) if want["mean"] is None else (m is not None and abs(m - want["mean"]) < 1e-7),
          f"{name}: mean {m}, expected {want['mean']}")
    for key in ("class_counts", "empty_classes"):
        check(got.get(key) == want[key], f"{name}: {key} {got.get(key)}, expected {want[key]}")


def data_json(name, args, cwd):
    p = run(["data"] + args, cwd=cwd)
    try:
        return json.loads(p.stdout), p
    except ValueError:
        check(False, f"{name}: stdout is not JSON: {p.stdout[:300]!r}")
        return None, p


def one_line(name, text, words):
    lines = text.splitlines()
    check(len(lines) == 1, f"{name}: expected exactly one line, got {text[:600]!r}")
    for w in words:
        check(w in text, f"{name}: {w!r} missing from {text[:600]!r}")


def idx_cases(d):
    rng = np.random.default_rng(3)
    n, side = 40, 4
    pixels = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 3
    write(os.path.join(d, "img.idx"), idx(0x08, [n, side, side], pixels.tobytes()))
    write(os.path.join(d, "lab.idx"), idx(0x08, [n], labels.tobytes()))
    # float images, e.g. standardised data: the range shows they are not in [0, 1]
    fpix = rng.normal(0.0, 2.0, size=(10, side, side)).astype(">f4")
    flab = np.array([0, 1, 2, 1, 0, 2, 1, 0, 1, 2], dtype=np.uint8)
    write(os.path.join(d, "fimg.idx"), idx(0x0D, [10, side, side], fpix.tobytes()))
    write(os.path.join(d, "flab.idx"), idx(0x08, [10], flab.tobytes()))

    # Per split figures: train = first 32, valid = last 8, test = the float file.
    out, p = data_json("data", ["--data", "idx:img.idx,lab.idx", "--valid", "8", "--test", "idx:fimg.idx,flab.idx"], d)
    check(p.stderr == "", f"data: unexpected stderr {p.stderr!r}")
    x = pixels.reshape(n, -1).astype(np.float32) / np.float32(255)
    if out:
        s = out["splits"]
        compare_split("data train", s["train"], split_stats(x[:32], labels[:32], 3))
        compare_split("data valid", s["valid"], split_stats(x[32:], labels[32:], 3))
        compare_split("data test", s["test"], split_stats(fpix.reshape(10, -1).astype(np.float32), flab, 3))
        check(s["test"]["min"] < 0 and s["test"]["max"] > 1, "data test: float inputs outside [0, 1] not shown")
    # Values far below 1 (raw sensor readings, say): the mean has its significant digits, where
    # eight fixed decimals wrote it as 0.
    tiny = (np.abs(fpix) * np.float32(1e-10)).astype(">f4")
    write(os.path.join(d, "timg.idx"), idx(0x0D, [10, side, side], tiny.tobytes()))
    out, _ = data_json("tiny values", ["--data", "idx:timg.idx,flab.idx", "--valid", "0"], d)
    if out:
        want = float(tiny.astype(np.float64).mean())
        got = out["splits"]["train"]["mean"]
        check(got is not None and abs(got - want) <= 1e-8 * want, f"tiny values: mean {got}, expected {want}")
    # Values all above 0 (train) and all below it (test): the minimum and the maximum are the
    # data's, not a 0 that no value is.
    pos = (np.abs(fpix) + np.float32(1)).astype(">f4")
    write(os.path.join(d, "pimg.idx"), idx(0x0D, [10, side, side], pos.tobytes()))
    write(os.path.join(d, "nimg.idx"), idx(0x0D, [10, side, side], (-pos).astype(">f4").tobytes()))
    out, _ = data_json("one-signed values", ["--data", "idx:pimg.idx,flab.idx", "--valid", "0",
                                             "--test", "idx:nimg.idx,flab.idx"], d)
    if out:
        for split, values in (("train", pos), ("test", -pos)):
            compare_split(f"one-signed values {split}", out["splits"][split],
                          split_stats(values.reshape(10, -1), flab, 3))
    out, _ = data_json("data without a test split", ["--data", "idx:img.idx,lab.idx"], d)
    if out:
        compare_split("data empty test", out["splits"]["test"], split_stats(x[:0], labels[:0], 3))

    # The 255 marker in the training labels: 256 classes, one warning naming the empty ones.
    marked = labels.copy()
    marked[17] = 255
    write(os.path.join(d, "lab255.idx"), idx(0x08, [n], marked.tobytes()))
    out, p = data_json("255 marker", ["--data", "idx:img.idx,lab255.idx", "--valid", "4"], d)
    if out:
        check(out["splits"]["train"]["classes"] == 256, f"255 marker: classes {out['splits']['train']['classes']}")
        compare_split("255 marker train", out["splits"]["train"], split_stats(x[:36], marked[:36], 256))
    one_line("255 marker: data warning", p.stderr,
             ["jacnoise: warning: idx:img.idx,lab255.idx", "252 of 256 classes", "3..254", "255"])

    p = run(["train", "--data", "idx:img.idx,lab255.idx", "--valid", "4", "--hidden", "3", "--epochs", "1",
             "--progress", "never", "--out", "run255"], cwd=d)
    one_line("255 marker: train warning", p.stderr, ["jacnoise: warning:", "252 of 256 classes", "3..254"])
    header = p.stdout.splitlines()[1:5]
    want = ["data idx:img.idx,lab255.idx: 16 inputs, 256 classes; examples per class 0..255:",
            "  train     36: 12 12 11 (classes 3..254: 0) 1",
            "  valid      4: 2 1 1 (classes 3..255: 0)",
            "  test       0"]
    check(header == want, f"train header: {header}, expected {want}")

    # The warning names at most eight runs of empty classes, then "...": here ten single ones.
    sparse = (2 * (np.arange(n) % 11)).astype(np.uint8)
    write(os.path.join(d, "labsparse.idx"), idx(0x08, [n], sparse.tobytes()))
    _, p = data_json("ten empty runs", ["--data", "idx:img.idx,labsparse.idx", "--valid", "0"], d)
    empty = np.flatnonzero(np.bincount(sparse, minlength=21) == 0).tolist()
    listed = ", ".join(map(str, empty[:8])) + ", ..."
    one_line("ten empty runs: data warning", p.stderr, [f"{len(empty)} of 21 classes", f"({listed})"])

    # Every class present: the header shows the counts, and nothing is warned about.
    p = run(["train", "--data", "idx:img.idx,lab.idx", "--valid", "8", "--test", "idx:fimg.idx,flab.idx",
             "--hidden", "3", "--epochs", "1", "--progress", "never", "--out", "runok"], cwd=d)
    check(p.stderr == "", f"train without empty classes: stderr {p.stderr!r}")
    want = ["  train     32: 11 11 10", "  valid      8: 3 2 3", "  test      10: 3 4 3"]
    check(p.stdout.splitlines()[2:5] == want, f"train header: {p.stdout.splitlines()[2:5]}, expected {want}")

    # Two empty classes in a row are counts like any other; runs of three or more are shortened
    # (above).
    five = (np.arange(n) % 5).astype(np.uint8)
    five[36:] = [0, 3, 4, 4]
    write(os.path.join(d, "lab5.idx"), idx(0x08, [n], five.tobytes()))
    p = run(["train", "--data", "idx:img.idx,lab5.idx", "--valid", "4", "--hidden", "3", "--epochs", "1",
             "--progress", "never", "--out", "run5"], cwd=d)
    want = [f"  {name:<5} {len(part):6d}: " + " ".join(map(str, np.bincount(part, minlength=5)))
            for name, part in (("train", five[:36]), ("valid", five[36:]))]
    check(want[1].endswith(": 1 0 0 1 2") and p.stdout.splitlines()[2:4] == want,
          f"train header with two empty classes: {p.stdout.splitlines()[2:4]}, expected {want}")

    # A test label beyond the training classes (a 255 marker in the test labels) is refused.
    tmarked = flab.copy()
    tmarked[6] = 255
    write(os.path.join(d, "tlab255.idx"), idx(0x08, [10], tmarked.tobytes()))
    for cmd in (["data"], ["train", "--hidden", "3", "--out", "refused", "--progress", "never"]):
        p = run(cmd + ["--data", "idx:img.idx,lab.idx", "--test", "idx:fimg.idx,tlab255.idx"], expect=1, cwd=d)
        one_line(f"{cmd[0]}: test label 255", p.stderr,
                 ["jacnoise: ", "tlab255.idx", "byte 14", "item 6", "label out of range: 255", "(the classes are [0, 2], from the training labels)"])
        check(p.stdout == "", f"{cmd[0]}: test label 255: stdout {p.stdout[:200]!r}")
    check(not os.path.exists(os.path.join(d, "refused")), "train: test label 255: a run folder was written")

    # A test file of another image size is refused up front, naming both files: train used to
    # start the run and then fail at its first evaluation, naming neither.
    write(os.path.join(d, "wide.idx"), idx(0x08, [10, 5, 5], rng.integers(0, 256, 250, dtype=np.uint8).tobytes()))
    for cmd in (["data"], ["train", "--hidden", "3", "--out", "refused-wide", "--progress", "never"]):
        p = run(cmd + ["--data", "idx:img.idx,lab.idx", "--test", "idx:wide.idx,flab.idx"], expect=1, cwd=d)
        one_line(f"{cmd[0]}: test of another image size", p.stderr,
                 ["jacnoise: --test idx:wide.idx,flab.idx: wide.idx has 25 values per image",
                  "the training file img.idx has 16"])
        check(p.stdout == "", f"{cmd[0]}: test of another image size: stdout {p.stdout[:200]!r}")
    check(not os.path.exists(os.path.join(d, "refused-wide")), "train: test of another image size: a run folder was written")


def mnist_case(d):
    """The real MNIST training split: range and mean recomputed from the file with numpy."""
    path = os.path.join(DATA, "train-images-idx3-ubyte.gz")
    if not os.path.exists(path):
        check(False, f"MNIST not found in $JACNOISE_DATA ({DATA!r})")
        return
    with gzip.open(path) as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(60000, 784)
    x = raw.astype(np.float32) / np.float32(255)
    out, _ = data_json("mnist", ["--data", "mnist"], d)
    if out:
        for name, rows in (("train", slice(0, 50000)), ("valid", slice(50000, 60000))):
            got = out["splits"][name]
            want = (float(x[rows].min()), float(x[rows].max()), float(x[rows].astype(np.float64).mean()))
            check(got["min"] == want[0] and got["max"] == want[1] and abs(got["mean"] - want[2]) < 1e-7,
                  f"mnist {name}: min, max, mean {got['min']}, {got['max']}, {got['mean']}, expected {want}")


def main():
    if not harness.BIN or not os.access(harness.BIN, os.X_OK):
        print("JACNOISE_BIN is not set to the jacnoise program; skipping")
        return 77
    with scratch("jacnoise_classes_") as d:
        idx_cases(d)
        mnist_case(d)
    return harness.finish("data classes")


if __name__ == "__main__":
    sys.exit(main())
