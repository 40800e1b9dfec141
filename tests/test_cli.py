#!/usr/bin/env python3
"""Command-line robustness tests for the jacnoise program.

The project's standard for bad input: one line on stderr starting with "jacnoise: " that
names the option, file, byte offset or line; exit status 2 for a bad command line and 1 for
bad data, files and other errors; never a signal, a sanitizer report, a hang, or a
half-written output file.

Environment (set by CTest): JACNOISE_BIN, the program; JACNOISE_DATA, the folder with the
public data sets (only USPS is used here). Every case runs in a temporary folder. The cases
that need USPS fail when it cannot be found. Exit 1 if any case fails.
"""
import errno
import gzip
import json
import math
import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ckpt  # noqa: E402
import export_model  # noqa: E402
import stepstate  # noqa: E402
from harness import failures, idx, scratch  # noqa: E402

BIN = os.environ.get("JACNOISE_BIN")
TIMEOUT = 60  # seconds per run; every case here takes well under one

cases = 0


def fail(name, problem):
    failures.append(f"{name}: {problem}")


def run(args, cwd, preexec_fn=None):
    """Runs the program; None if it had to be killed for taking longer than TIMEOUT."""
    try:
        return subprocess.run([BIN] + args, cwd=cwd, capture_output=True, text=True,
                              errors="replace", timeout=TIMEOUT, preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired:
        return None


def finished(name, p):
    """Fails the case for a hang or a signal; True if the process exited by itself."""
    if p is None:
        fail(name, f"no exit after {TIMEOUT} s (hang?)")
        return False
    if p.returncode < 0:
        fail(name, f"killed by signal {-p.returncode}; stderr: {p.stderr[-500:]!r}")
        return False
    if "Sanitizer" in p.stderr or "runtime error:" in p.stderr:
        fail(name, f"sanitizer report: {p.stderr[:500]!r}")
    return True


def expect_error(name, args, code, words, cwd, absent=(), preexec_fn=None):
    """Runs args and expects exit `code`, nothing on stdout, exactly one stderr line
    "jacnoise: ..." containing every word of `words`, and none of the paths in `absent`."""
    global cases
    cases += 1
    p = run(args, cwd, preexec_fn)
    if finished(name, p):
        lines = p.stderr.split("\n")
        if p.returncode != code:
            fail(name, f"exit {p.returncode}, expected {code}; stderr: {p.stderr[:300]!r}")
        if len(lines) != 2 or lines[1] != "":
            fail(name, f"stderr is not exactly one line: {p.stderr[:500]!r}")
        elif not lines[0].startswith("jacnoise: "):
            fail(name, f"stderr does not start with 'jacnoise: ': {lines[0][:300]!r}")
        for w in words:
            if w not in p.stderr:
                fail(name, f"message lacks {w!r}: {p.stderr[:400]!r}")
        if p.stdout:
            fail(name, f"wrote to stdout on an error: {p.stdout[:200]!r}")
    for path in absent:
        if os.path.lexists(os.path.join(cwd, path)):
            fail(name, f"left {path} behind")
    return p


def expect_ok(name, args, cwd, parse_json=False):
    """Runs args and expects exit 0; returns the parsed JSON of stdout (or the process)."""
    global cases
    cases += 1
    p = run(args, cwd)
    if not finished(name, p):
        return None
    if p.returncode != 0:
        fail(name, f"exit {p.returncode}, expected 0; stderr: {p.stderr[:400]!r}")
        return None
    if not parse_json:
        return p
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        fail(name, f"stdout is not valid JSON ({e}): {p.stdout[:300]!r}")
        return None


def check(name, condition, problem):
    global cases
    cases += 1
    if not condition:
        fail(name, problem)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(path):
    with open(path, "rb") as f:
        return f.read()


def tmp_files(folder):
    return [f for f in os.listdir(folder) if f.endswith(".tmp")]


# ---- options ---------------------------------------------------------------------------

def option_cases(d):
    e = lambda name, args, words, code=2: expect_error(name, args, code, words, d)
    e("unknown option, near miss", ["train", "--lrr", "0.1"], ["--lrr", "did you mean --lr?"])
    e("unknown option, no near miss", ["train", "--zzzzqq", "1"], ["--zzzzqq", "valid options", "--lr"])
    # The reports say "cuda backend": the option that picks it is offered.
    e("unknown option, the reports' word", ["profile", "--backend", "cuda"], ["--backend", "did you mean --device?"])
    # A colon after the option, as every other error has: "--backend unknown option for ...".
    e("unknown option, worded as other errors", ["profile", "--backend", "cuda"],
      ["--backend: unknown option for 'jacnoise profile'"])
    # "Near" against the length of what was typed: '--zz' (two edits from --lr) suggested --lr.
    for typed in ["zz", "x", "ep"]:
        expect_error(f"unknown option --{typed}, far from all", ["train", f"--{typed}", "1"], 2,
                     [f"--{typed}: unknown option for 'jacnoise train'; valid options: "], d, absent=["did you mean"])
    e("unknown option, one letter off a short one", ["train", "--lt", "1"], ["--lt", "did you mean --lr?"])
    e("unknown option as --key=value", ["data", "--vallid=3"], ["--vallid", "did you mean --valid?"])
    # Two letters swapped is two edits, as near as a typo gets.
    e("unknown option, letters swapped", ["train", "--btach", "10"], ["--btach", "did you mean --batch?"])
    e("option of another command", ["train", "--checkpoint", "x"],
      ["--checkpoint: not an option of 'jacnoise train'"])
    e("train option given to eval", ["eval", "--hidden", "8", "--checkpoint", "x"], ["--hidden", "eval"])
    e("info takes no options", ["info", "--data", "usps"], ["--data", "info", "valid options: none"])
    e("data runs no BLAS", ["data", "--data", "usps", "--threads", "2"], ["--threads", "not an option of 'jacnoise data'"])
    e("missing value at the end", ["train", "--hidden", "8", "--lr"], ["--lr", "missing value"])
    e("missing value, unknown option", ["train", "--lrr"], ["--lrr", "did you mean --lr?"])
    e("missing value of a text option", ["train", "--out"], ["--out", "missing value"])
    # A value left out before another option (--out "$OUT" with OUT unset) took that option as
    # the value: train trained in a folder named --resume, eval said '5' was unexpected.
    expect_error("train --out --resume", ["train", "--out", "--resume", "--data", "usps", "--train-limit", "100",
                                          "--hidden", "2", "--epochs", "1"], 2,
                 ["--out: missing value", "--resume", "--out=--resume"], d, absent=["--resume"])
    e("eval --checkpoint --eval-limit 5", ["eval", "--checkpoint", "--eval-limit", "5"],
      ["--checkpoint: missing value", "--eval-limit"])
    e("a value starting with -- given with =", ["data", "--data", "usps", "--data-dir=--nowhere"],
      ["--data-dir --nowhere"], code=1)
    # config.txt and the checkpoint hold these as key=value lines, read back trimmed: a run in
    # "a<newline>b" trained, then could not resume (config.txt: line N: expected key=value).
    for option, value in [("--out", "nl\nrun"), ("--data-dir", "datasets "), ("--data", " idx:a,b")]:
        expect_error(f"train {option} {value!r}", ["train", option, value, "--epochs", "1", "--hidden", "3",
                                                   "--train-limit", "100"], 2,
                     [f"{option} {value.replace(chr(10), chr(92) + 'n')}: a value with a line break, or a space at "
                      "either end"], d, absent=["nl\nrun"])
    e("non-numeric", ["train", "--lr", "abc"], ["--lr", "abc"])
    # Every refusal of a value reads '--opt VALUE: ...', an empty one shown as '': the numbers'
    # and lists' read '--opt: VALUE out of range' or '--opt: expected ..., got 'VALUE''.
    e("empty value", ["train", "--lr="], ["--lr '': expected a finite decimal number"])
    e("empty integer", ["train", "--epochs="], ["--epochs '': expected an integer"])
    e("list: empty item", ["train", "--hidden", "4,,4"], ["--hidden 4,,4: expected comma-separated layer widths"])
    # An item too long to read said "expected comma-separated layer widths", which it was.
    long_item = "1" * 64
    e("list: item too long", ["train", "--hidden", f"4,{long_item}"],
      [f"--hidden 4,{long_item}: an item of 64 characters; at most 63"])
    expect_error("list: item at the bound read", ["eval", "--eval-noise", "0." + "0" * 61], 2,
                 ["--checkpoint: required"], d, absent=["at most 63"])
    e("list: too long", ["train", "--hidden", ",".join(["4"] * 16)], [f"--hidden {','.join(['4'] * 16)}: at most 15 hidden layers"])
    e("test not idx:", ["step", "--data", "idx:a,b", "--test", "foo", "--dump", "x"],
      ["--test foo: expected idx:IMAGES,LABELS"])
    e("value too long", ["train", "--data", "d" * 5000], ["--data ddd", "ddd: longer than "])
    # The bound itself: a name of 1024 bytes has no room for its NUL, one of 1023 is taken.
    e("value one too long", ["train", "--data", "d" * 1024], ["ddd: longer than 1023 characters"])
    e("value at the bound taken", ["train", "--data", "d" * 1023, "--jac-copies", "0"],
      ["jacnoise: --jac-copies 0: out of range"])
    e("number with trailing text", ["train", "--lr", "0.1x"], ["--lr", "0.1x"])
    # strtod skips leading white space: ' 0.1' was taken while '0.1 ' and an integer's ' 5' were not.
    e("number with a leading space", ["step", "--lr", " 0.1"], ["--lr  0.1: expected a finite decimal"])
    e("number with a trailing space", ["step", "--lr", "0.1 "], ["--lr 0.1 : expected a finite decimal"])
    # Numbers are decimal: strtod's hex floats (0x10 is 16), its inf and nan spellings and its
    # partial exponents are not what a person means by a learning rate or a std.
    for value in ["0x10", "0x1p-4", "0X.8", "infinity", "1e", "1e+", ".", "e5", "--1"]:
        e(f"lr {value!r}", ["step", f"--lr={value}"], [f"--lr {value}: expected a finite decimal"])
    e("eval-noise hex", ["eval", "--eval-noise", "0,0x1"], ["--eval-noise", "'0x1'"])
    e("tolerance hex", ["check", "--tolerance", "0x1p-4"], ["--tolerance 0x1p-4: invalid value"])
    write(os.path.join(d, "hex.spec"), "lr = uniform(0.01, 0x1)\nsamples = 1\n")
    expect_error("sweep: uniform() with a hex bound", ["sweep", "--spec", "hex.spec", "--out", "hexsweep"], 2,
                 ["--spec hex.spec: line 1", "lr", "'0x1'", "decimal"], d, absent=["hexsweep"])
    e("lr negative", ["train", "--lr", "-1"], ["--lr", "out of range"])
    e("lr zero", ["train", "--lr", "0"], ["--lr", "out of range"])
    e("momentum 1", ["train", "--momentum", "1"], ["--momentum", "out of range"])
    # The help says [0, 1): 0.9999995 was refused (the check stopped at 0.999999). Taken, the
    # step goes on to ask for its --dump.
    p = e("momentum just under 1", ["step", "--momentum", "0.9999995"], ["--dump"])
    check("momentum just under 1", "--momentum" not in p.stderr, f"refused: {p.stderr!r}")
    # One wording for every number's range, the interval as the help writes it: an integer's
    # said 'out of range 1..1000000', a real's 'expected > 0 and <= 1'.
    p = run(["train", "--help"], d)
    check("momentum's help", "momentum; X in [0, 1)" in p.stdout, f"help: {p.stdout[:2000]!r}")
    e("range: momentum", ["step", "--momentum", "1"], ["--momentum 1: out of range [0, 1)"])
    e("range: lr-decay", ["train", "--lr-decay", "0"], ["--lr-decay 0: out of range (0, 1]"])
    e("range: epochs", ["train", "--epochs", "0"], ["--epochs 0: out of range [1, 1000000]"])
    e("range: train-limit", ["data", "--train-limit", "-1"],
      ["--train-limit -1: out of range [0, 1000000000000000]"])
    e("lr-decay 0", ["train", "--lr-decay", "0"], ["--lr-decay", "out of range"])
    e("batch 0", ["step", "--batch", "0"], ["--batch", "out of range"])
    e("epochs 0", ["train", "--epochs", "0"], ["--epochs", "out of range"])
    # An integer too long for a long is out of range, as a smaller one is: it was 'expected an integer'.
    e("epochs overflow", ["train", "--epochs", "99999999999999999999"],
      ["--epochs 99999999999999999999: out of range [1, 1000000]"])
    e("epochs underflow", ["train", "--epochs", "-99999999999999999999"],
      ["--epochs -99999999999999999999: out of range"])
    # A non-integer is told the range as a value out of it is: it said only 'expected an integer'.
    e("integer given a fraction", ["train", "--epochs", "1.5"], ["--epochs 1.5: expected an integer in [1, 1000000]"])
    e("integer given an exponent", ["step", "--batch", "1e2"], ["--batch 1e2: expected an integer in [1, 65536]"])
    e("lr nan", ["train", "--lr", "nan"], ["--lr", "finite"])
    e("jac-noise inf", ["train", "--jac-noise", "inf"], ["--jac-noise", "finite"])
    e("lr overflow to inf", ["train", "--lr", "1e400"], ["--lr", "too large"])
    e("lr underflow to 0", ["train", "--lr", "1e-400"], ["--lr 1e-400: too small for a double"])
    # A subnormal is a double (glibc's strtod marks it ERANGE): it was 'too small for a double'.
    # Options parse in order: the refusal of the --epochs after it shows --lr-decay taken.
    e("lr-decay subnormal", ["train", "--lr-decay", "1e-310", "--epochs", "0"], ["jacnoise: --epochs 0: out of range"])
    # A value the engine computes with in float32 that is 0 or subnormal there: --lr 1e-50 trained
    # at a rate of 0, learning nothing, silently. Float32's smallest normal number is taken.
    tiny = "below 1.17549435e-38, float32's smallest normal number"
    for option, value, command in (("--lr", "1e-310", "train"), ("--lr", "4.9e-324", "train"), ("--lr", "1e-50", "step"),
                                   ("--lr", "1e-40", "train"), ("--momentum", "1e-45", "train"),
                                   ("--weight-decay", "1e-39", "train"), ("--input-noise", "1e-50", "profile"),
                                   ("--jac-lambda", "1e-50", "train"), ("--jac-noise", "1e-40", "check"),
                                   ("--curv-noise", "1e-40", "eval")):
        e(f"{option} {value} underflows float32", [command, option, value], [f"--{option[2:]} {value}: {tiny}"])
    e("eval-noise std underflows float32", ["eval", "--eval-noise", "0.1,1e-40"],
      [f"--eval-noise 0.1,1e-40: std '1e-40' is {tiny}"])
    e("lr float32's smallest normal", ["train", "--lr", "1.17549435e-38", "--weight-decay", "-0", "--epochs", "0"],
      ["jacnoise: --epochs 0: out of range"])
    with open(os.path.join(d, "tiny.conf"), "w") as f:
        f.write("lr = 1e-50\n")
    e("config file lr underflows float32", ["train", "--config", "tiny.conf"], [f"line 1: --lr 1e-50: {tiny}"])
    e("curv-noise -inf", ["eval", "--curv-noise", "-inf"], ["--curv-noise"])
    e("eval-noise negative", ["eval", "--eval-noise", "0,-0.1"], ["--eval-noise", "-0.1"])
    e("eval-noise nan", ["eval", "--eval-noise", "nan"], ["--eval-noise", "nan"])
    e("eval-noise huge", ["eval", "--eval-noise", "0.1,1e300"], ["--eval-noise 0.1,1e300: std '1e300' is not a number in [0, 1000000]"])
    e("eval-noise empty item", ["eval", "--eval-noise", "0.1,,0.2"], ["--eval-noise", "0.1,,0.2"])
    e("eval-noise not a number", ["eval", "--eval-noise", "0.1,abc"], ["--eval-noise", "abc"])
    e("eval-noise too many", ["eval", "--eval-noise", ",".join(["0.1"] * 17)], ["--eval-noise", "at most 16"])
    e("eval-noise given to train", ["train", "--eval-noise", "0.1"], ["--eval-noise", "train"])
    # Its range written as --epochs's: it read 'in 1..1000000'.
    e("hidden 0", ["train", "--hidden", "0"], ["--hidden 0: layer width is not an integer in [1, 1000000]"])
    # A refused item is named where it is one of a list, not where it is the whole value, named
    # already: it read "'nan' ... (in 'nan')".
    for option, value, item in (("--hidden", "nan", "nan"), ("--hidden", "10,nan", "nan"),
                                ("--eval-noise", "nan", "nan"), ("--eval-noise", "0.1,-1", "-1")):
        p = expect_error(f"{option} {value}", ["eval" if option == "--eval-noise" else "train", option, value], 2,
                         [f"{option} {value}: "], d)
        check(f"{option} {value}", p is not None and ((f"'{item}'" in p.stderr) == (value != item)),
              f"the item named {'once too often' if value == item else 'not'}: {p and p.stderr!r}")
    e("hidden empty item", ["train", "--hidden", "10,,10"], ["--hidden", "10,,10"])
    e("hidden trailing comma", ["train", "--hidden", "10,"], ["--hidden"])
    e("hidden not a number", ["train", "--hidden", "10,abc"], ["--hidden", "abc"])
    e("hidden too wide", ["train", "--hidden", "99999999999"], ["--hidden"])
    e("too many hidden layers", ["train", "--hidden", ",".join(["4"] * 40)], ["--hidden", "at most"])
    e("loss foo", ["train", "--loss", "foo"], ["--loss", "foo", "xent", "squared"])
    # Refused before the data loads, as the sweep refuses them before anything runs.
    e("data foo", ["train", "--data", "foo"], ["--data", "foo", "usps", "idx:IMAGES,LABELS"])
    e("data idx: without a comma", ["train", "--data", "idx:img.idx"], ["--data", "idx:img.idx", "IMAGES,LABELS"])
    e("jac-target below the hidden layers", ["train", "--hidden", "8", "--jac-lambda", "1", "--jac-target",
                                             "hidden:2"], ["--jac-target", "hidden:2", "has one hidden layer, hidden:1"])
    # An empty file or folder name names nothing: --out's said 'a run folder is required' of the
    # one given, and --data-dir's searched the default folders as if it were not given.
    e("out empty", ["train", "--out="], ["--out '': empty folder name"])
    e("sweep out empty", ["sweep", "--spec", "x.spec", "--out", ""], ["--out '': empty folder name"])
    e("data-dir empty", ["data", "--data-dir", ""], ["--data-dir '': empty folder name"])
    expect_error("data-dir empty, train", ["train", "--data-dir=", "--out", "emptydirrun"], 2,
                 ["--data-dir '': empty folder name"], d, absent=["emptydirrun"])
    e("checkpoint empty", ["eval", "--checkpoint", ""], ["--checkpoint '': empty file name"])
    e("dump empty", ["step", "--dump="], ["--dump '': empty file name"])
    e("spec empty", ["sweep", "--spec", "", "--out", "s"], ["--spec '': empty file name"])
    e("jac-target hidden:0", ["train", "--jac-target", "hidden:0"],
      ["--jac-target", "hidden:0", "hidden1", "hidden:K", "output"])
    # A K past the most hidden layers, and a --valid past a long, were refused as not what they
    # are (hidden:K, a count >= 0): the bound is stated.
    e("jac-target hidden:99", ["train", "--jac-target", "hidden:99"], ["--jac-target hidden:99: invalid value", "K in [1, 15]"])
    e("valid past a long", ["data", "--valid", "99999999999999999999"],
      ["--valid 99999999999999999999: invalid value", "a count in [0, 1000000000000000]"])
    e("jac-target hidden:x", ["train", "--jac-target", "hidden:x"], ["--jac-target", "hidden:x", "output"])
    # A choice's range written as a number option's: it read 'in 1..4096'.
    e("jac-proj 0", ["train", "--jac-proj", "0"], ["--jac-proj", "K in [1, 4096], or exact"])
    # The bounds themselves: K 4096 and a tolerance of 1 are taken (the option after them is the
    # one refused), hidden:16 and K 4097 are not.
    e("jac-target hidden:16", ["train", "--jac-target", "hidden:16"], ["--jac-target hidden:16: invalid value", "K in [1, 15]"])
    e("jac-proj 4097", ["train", "--jac-proj", "4097"], ["--jac-proj 4097: invalid value", "K in [1, 4096]"])
    e("jac-proj 4096 taken", ["train", "--jac-proj", "4096", "--jac-copies", "0"], ["jacnoise: --jac-copies 0: out of range"])
    e("tolerance 1 taken", ["check", "--tolerance", "1", "--jac-copies", "0"], ["jacnoise: --jac-copies 0: out of range"])
    # 0 is auto's stored value: taken, --tolerance 0 would have checked at auto's 1e-4, not 0.
    e("tolerance 0", ["check", "--tolerance", "0"], ["jacnoise: --tolerance 0: invalid value", "a number in (0, 1]"])
    e("hidden width 1000000 taken", ["train", "--hidden", "1000000", "--jac-copies", "0"],
      ["jacnoise: --jac-copies 0: out of range"])
    e("models 0", ["sweep", "--models", "0", "spec"], ["jacnoise: --models 0: invalid value; valid: auto", "a count in [1, 4096]"])
    e("models 4097", ["sweep", "--models", "4097"], ["jacnoise: --models 4097: invalid value; valid: auto", "a count in [1, 4096]"])
    # A spec's count too, with the range written as the options write theirs: it read 'in 1..50000'.
    write(os.path.join(d, "seeds.spec"), "data = usps\nseeds = 0\n")
    expect_error("sweep: seeds 0", ["sweep", "--spec", "seeds.spec", "--out", "seedsweep"], 2,
                 ["--spec seeds.spec: line 2: seeds: expected a count in [1, 50000], got '0'"], d, absent=["seedsweep"])
    e("jac-proj foo", ["step", "--jac-proj", "foo"], ["--jac-proj", "foo", "exact"])
    e("jac-copies 0", ["train", "--jac-copies", "0"], ["--jac-copies"])
    e("device gpu", ["train", "--device", "gpu"], ["--device", "gpu", "auto", "cpu", "cuda"])
    expect_error("tf32 on the CPU", ["train", "--precision", "tf32", "--device", "cpu", "--out", "tf32run"], 2,
                 ["--precision tf32", "--device cpu"], d, absent=["tf32run"])
    e("progress sometimes", ["train", "--progress", "sometimes"], ["--progress", "never"])
    # An option of a few words lists them all, each with what it means where the table says.
    for option, valid in [("--loss", "xent (softmax cross-entropy), squared (squared error on the softmax)"),
                          ("--device", "auto, cpu, cuda"),
                          ("--progress", "auto (on a terminal only), always, never"),
                          ("--precision", "fp32, tf32 (CUDA only: TF32 tensor-core GEMMs)"),
                          ("--cuda-graph", "on (replay one captured step), off (launch each kernel: for profiling)")]:
        e(f"{option} XENT", ["train", option, "XENT"], [f"{option} XENT: invalid value; valid: {valid}"])
    e("resume=maybe", ["train", "--resume=maybe"], ["--resume", "true", "false"])
    # auto is --resume's alone; a flag also takes yes and no.
    # It listed "true, false" alone, yes, no, 1 and 0 taken as well.
    e("dry-run=auto", ["sweep", "--dry-run=auto"],
      ["jacnoise: --dry-run auto: invalid value; valid: true, false, yes, no, 1, 0"])
    e("resume=maybe lists all", ["train", "--resume=maybe"], ["valid: true, false, yes, no, 1, 0, auto"])
    e("dry-run=yes taken", ["sweep", "--dry-run=yes", "--jobs", "0"], ["jacnoise: --jobs 0: out of range"])
    e("flag with a separate value", ["train", "--resume", "auto"], ["jacnoise: train: unexpected argument 'auto'",
                                                                    "--resume=auto"])
    e("valid negative", ["data", "--valid", "-5"], ["--valid", "auto"])
    # --shard's default is auto, as the help says: given (a wrapper's --shard given way to) it
    # was refused.
    expect_error("sweep --shard auto", ["sweep", "--shard", "0/2", "--shard", "auto", "--spec", "missing.spec", "--out",
                                        "shardsweep"], 2, ["jacnoise: --spec missing.spec: cannot open"], d, absent=["shardsweep"])
    # Named as --config's file is ("--config FILE: ..."): it read "--spec: FILE: ...".
    expect_error("sweep --spec FOLDER", ["sweep", "--spec", ".", "--out", "shardsweep"], 2,
                 ["jacnoise: --spec .: is a folder, not a file"], d, absent=["shardsweep"])
    e("sweep --shard bad", ["sweep", "--shard", "2/2"], ["jacnoise: --shard 2/2: invalid value; valid: I/N", "0/4", "or auto"])
    e("sweep --shard N past its bound", ["sweep", "--shard", "0/2000000"], ["jacnoise: --shard 0/2000000: invalid value; valid: I/N",
                                                                          "N <= 1000000"])
    # An I longer than the 31 characters read of it is refused whole, not read in part.
    e("sweep --shard I of 41 characters", ["sweep", "--shard", "0" * 40 + "1/4"], ["jacnoise: --shard 00", "1/4: invalid value"])
    # Worded as every integer's: -1 said 'expected an integer >= 0', 'nan' 'expected an integer in
    # [0, 18446744073709551615]'.
    e("seed -1", ["train", "--seed", "-1"], ["--seed -1: out of range [0, 18446744073709551615]"])
    e("seed overflow", ["train", "--seed", "99999999999999999999999"],
      ["--seed 99999999999999999999999: out of range [0, 18446744073709551615]"])
    e("seed nan", ["train", "--seed", "nan"], ["--seed nan: expected an integer in [0, 18446744073709551615]"])
    e("seed 1.5", ["train", "--seed", "1.5"], ["--seed 1.5: expected an integer in [0, 18446744073709551615]"])
    # The line names the command, as show's and sweep status's do: 'unexpected argument' alone
    # said nothing of which.
    e("positional argument", ["train", "extra"],
      ["jacnoise: train: unexpected argument 'extra' (options start with --; see jacnoise train --help)"])
    e("positional after options", ["data", "--valid", "3", "usps"], ["jacnoise: data: unexpected argument 'usps'"])
    e("positional argument, info", ["info", "x"], ["jacnoise: info: unexpected argument 'x'", "jacnoise info --help"])
    e("single dash", ["train", "-lr", "0.1"], ["-lr"])
    # One dash, or the en or em dash a word processor makes of two: the option meant is named.
    e("single dash, an option's name", ["train", "-lr", "0.1"], ["jacnoise: train: unexpected argument '-lr'",
                                                                 "did you mean --lr?"])
    e("em dash", ["step", "\u2014batch=4"], ["'\u2014batch=4'", "did you mean --batch=4?"])
    e("en dash", ["data", "\u2013valid", "5"], ["did you mean --valid?"])
    # --help takes no value: "--help=foo" read "--help: unknown option" of an option the help lists.
    # So too -h=foo ('unexpected argument'), and either before a command ('unknown command') or
    # after one that takes operands ('unexpected option').
    for cmd in (["train"], ["sweep"], [], ["show"], ["sweep", "status"], ["sweep", "merge"]):
        for flag in ("--help", "-h"):
            e(f"{' '.join(cmd)} {flag}=foo", cmd + [f"{flag}=foo"], [f"jacnoise: {flag}: takes no value",
                                                                      f"'{flag}=foo'", f"give {flag} alone"])
    e("single dash, no option", ["train", "-x"], ["'-x' (options start with --; see jacnoise train --help)"])
    # A list's values given apart, as a shell's words: it said only "options start with --".
    e("list given apart", ["train", "--hidden", "500", "500"],
      ["jacnoise: train: unexpected argument '500' after --hidden 500 (a list is one argument, its values joined by commas: --hidden 500,500)"])
    e("list given apart, eval", ["eval", "--eval-noise", "0.1", "0.3"], ["--eval-noise 0.1,0.3)"])
    # The same after --key=value: it got only the generic "options start with --".
    e("list given apart, = form", ["train", "--hidden=500", "500"],
      ["'500' after --hidden=500 (a list is one argument, its values joined by commas: --hidden=500,500)"])
    # -- ends the options, as --help reads it (after --, --help is no request for help): these
    # commands take nothing after them ("options start with --" was said of the -- itself).
    for args in (["train", "--"], ["eval", "--", "x"], ["data", "--", "--help"]):
        e(f"{' '.join(args)}", args, [f"jacnoise: {args[0]}: unexpected argument '--': it ends the options, and "
                                      f"{args[0]} takes nothing but options (see jacnoise {args[0]} --help)\n"])
    e("no name before =", ["train", "--=5"], ["jacnoise: no option name before '='"])
    e("unknown command", ["frobnicate"], ["frobnicate", "valid commands: train eval step data"])
    # A value echoed in an error is escaped: a line break split the one line, and an escape
    # sequence drove the terminal (here: clear the screen, then a line of its own).
    spoof = "x\n\x1b[2Jjacnoise: done\x9b\r"
    shown = "x\\n\\x1b[2Jjacnoise: done\\xc2\\x9b\\r"
    e("escaped: option value", ["train", "--loss", spoof], [f"--loss {shown}: invalid value"])
    e("escaped: number", ["step", "--lr", spoof], [f"--lr {shown}: expected a finite decimal"])
    e("escaped: unexpected argument", ["train", spoof], [f"'{shown}'"])
    e("escaped: unknown command", [spoof], [f"'{shown}'"])
    # Lines and white space split a grid or a config file: what is left of a value is escaped.
    e("escaped: grid value", ["profile", "--grid", "batch=4 8\x1b[2J\x9b"],
      ["--grid: line 1: --batch 8\\x1b[2J\\xc2\\x9b: expected an integer"])
    write(os.path.join(d, "spoof.cfg"), "loss = x\x1b[2J\x9b\n")
    e("escaped: config value", ["train", "--config", "spoof.cfg"], ["spoof.cfg: line 1: --loss x\\x1b[2J\\xc2\\x9b: invalid value"])
    e("overlong option name", ["train", "--" + "x" * 300], ["--xxxx"])
    e("overlong value", ["train", "--out", "r" * 5000], ["--out"])
    # An empty name: show's read ': cannot open', naming nothing (sweep's said so already).
    for args, at in ((["show"], 1), (["sweep", "status"], 1), (["sweep", "merge", "a"], 2)):
        what = " ".join(args[:2])
        e(f"empty operand: {what}", args + [""], [f"{what}: an empty {'file' if what == 'show' else 'folder'} name "
                                                  f"(argument {at})"])
    # A name that fits but is written longer escaped (1000 bytes not UTF-8, 4000 characters)
    # lost what went wrong with it, the line cut at 2047 characters: its start and end are kept.
    unreadable = os.fsdecode(b"\xff" * 1000)
    for args, code in ((["show"], 1), (["train", "--config"], 2)):
        name = f"long escaped name: {args[-1]}"
        p = e(name, args + [unreadable], ["\\xff\\xff ... \\xff\\xff", "\\xff: cannot open: File name too long"], code)
        check(name, p is None or len(p.stderr) < 2100, f"{len(p.stderr)} characters")
    # So did a name longer than the line itself (5000 characters to show or sweep status).
    for args, reason in ((["show"], ": cannot open: File name too long"), (["sweep", "status"], "/sweep.spec: path too long")):
        e(f"long name: {' '.join(args)}", args + ["r" * 5000], ["rrrr ... rrrr", reason], 1)
    e("eval without --checkpoint", ["eval"], ["--checkpoint"])
    # A file cut inside its magic number (an empty one too) is said to be cut, as eval says it:
    # show called it neither a checkpoint nor a step state (an unknown magic number).
    for name, data in (("empty.ckpt", b""), ("cut.ckpt", b"JNCKP")):
        write(os.path.join(d, name), data)
        words = [name, "byte 0", f"file ends while reading the magic number (8 bytes needed, {len(data)} left)"]
        e(f"show {name}", ["show", name], words, code=1)
        e(f"eval {name}", ["eval", "--checkpoint", name], words, code=1)
    # "--" ends the options, as usual: show refused every name after it that started with --,
    # and --help after it printed the help.
    write(os.path.join(d, "--x.ckpt"), b"")
    for args in (["show", "--", "--x.ckpt"], ["show", "./--x.ckpt"]):
        e(" ".join(args), args, ["--x.ckpt: byte 0", "file ends while reading the magic number"], code=1)
    e("show -- --help", ["show", "--", "--help"], ["--help: cannot open"], code=1)
    for args in (["show", "--x.ckpt"], ["sweep", "status", "--x.ckpt"], ["sweep", "merge", "a", "--x.ckpt"]):
        what = " ".join(args[:-1] if args[1] != "merge" else args[:2])
        e(" ".join(args), args, [f"{what}: unexpected option '--x.ckpt'", f"jacnoise {what} -- --x.ckpt"])
    for args in (["sweep", "status", "--", "--x.ckpt"], ["sweep", "merge", "--", "--x.ckpt"]):
        e(" ".join(args), args, ["--x.ckpt: not a sweep folder"], code=2)
    # A folder misspelt was said to hold no sweep.spec, as if it were there. Naming no sweep
    # folder is a usage error, as sweep's --out naming a file is (it was exit 1).
    for args in (["sweep", "status", "nosuch"], ["sweep", "merge", "nosuch"]):
        e(" ".join(args), args, ["nosuch: not a sweep folder: No such file or directory"], code=2)
    # A file (results.csv given for its folder) was said to hold no sweep.spec, as if a folder.
    write(os.path.join(d, "results.csv"), b"x\n")
    for args in (["sweep", "status", "results.csv"], ["sweep", "merge", "results.csv"]):
        e(" ".join(args), args, ["results.csv: not a sweep folder: it is a file, not a folder"], code=2)
    # The exit-status split README states: a file a command reads, missing or a folder, exits 1; an
    # options file (--config), or a name for what it makes that cannot be it (--dump), exits 2.
    os.makedirs(os.path.join(d, "afolder"), exist_ok=True)
    e("show FOLDER", ["show", "afolder"], ["afolder: is a folder, not a file"], code=1)
    e("eval --checkpoint FOLDER", ["eval", "--checkpoint", "afolder"], ["--checkpoint afolder: is a folder"], code=1)
    e("eval --checkpoint MISSING", ["eval", "--checkpoint", "nosuch.ckpt"], ["--checkpoint nosuch.ckpt: cannot open"],
      code=1)
    e("--config FOLDER", ["train", "--config", "afolder"], ["--config afolder: is a folder"], code=2)
    e("step --dump FOLDER", ["step", "--data", "usps", "--dump", "afolder"], ["--dump afolder: is a folder"], code=2)
    e("step --dump in no folder", ["step", "--data", "usps", "--dump", "nosuch/x"], ["--dump nosuch/x: no folder"],
      code=2)
    e("step without --dump", ["step", "--data", "usps"], ["--dump"])
    e("--test with a named data set", ["data", "--data", "usps", "--test", "idx:a,b"], ["--test"])
    expect_error("train: --test with a named data set", ["train", "--data", "usps", "--test", "idx:a,b",
                                                         "--out", "testrun"], 2, ["--test"], d, absent=["testrun"])

    # --help for every command: usage on stdout, exit 0 (check's too in a build without CUDA,
    # which refused it as it refuses to run). No command: usage, exit 2.
    for cmd in ["train", "eval", "step", "data", "info", "check", "show"]:
        p = expect_ok(f"{cmd} --help", [cmd, "--help"], d)
        if p:
            check(f"{cmd} --help", p.stdout.startswith(f"usage: jacnoise {cmd}"),
                  f"stdout does not start with the usage: {p.stdout[:100]!r}")
            check(f"{cmd} --help", p.stderr == "", f"wrote to stderr: {p.stderr[:200]!r}")
            # eval and step start from the checkpoint's configuration: [mnist], [1] and the like
            # are not what an option left out means there.
            check(f"{cmd} --help", ("not the\ndefault in brackets" in p.stdout or "not the default in brackets"
                                    in p.stdout) == (cmd in ("eval", "step", "check")),
                  f"what an option left out means with a checkpoint: {p.stdout[:600]!r}")
            # The footer speaks of --config only where the command takes one.
            check(f"{cmd} --help", ("--config" in p.stdout) == (cmd not in ("info", "show")),
                  f"--config {'missing from' if cmd not in ('info', 'show') else 'offered by'} the help: "
                  f"{p.stdout[-300:]!r}")
            # A comment after a value is no comment (config_cases): the help said nothing of comments.
            check(f"{cmd} --help", ("# comment lines (a # after a\nvalue is part of it" in p.stdout) ==
                  (cmd not in ("info", "show")), f"what a --config comment is: {p.stdout[-300:]!r}")
            # A repeated option takes its last value (config_cases), which the help says; info,
            # which takes no options, said how they are given.
            check(f"{cmd} --help", ("given twice takes its last value" in p.stdout) == (cmd not in ("show", "info")),
                  f"what a repeated option does {'missing from' if cmd not in ('show', 'info') else 'told by'} the "
                  f"help: {p.stdout[-300:]!r}")
            # How a name or value that starts with - is given: the README said it, the help did not.
            how = ("" if cmd == "info" else "given after --, which ends the options: jacnoise show -- FILE"
                   if cmd == "show" else "a value that starts with -- only --key=value")
            check(f"{cmd} --help", how in p.stdout, f"the help lacks {how!r}: {p.stdout[-300:]!r}")
    # --help wherever it stands, as a user adds it to a command line that failed: show refused
    # it after its FILE (or before), as no other command did.
    for args in (["show", "a.ckpt", "--help"], ["show", "-h", "a.ckpt"], ["train", "--lr", "0.1", "--help"],
                 ["sweep", "status", "dir", "--help"]):
        p = expect_ok(" ".join(args), args, d)
        if p:
            usage = "usage: jacnoise " + " ".join(args[:2] if args[0] == "sweep" else args[:1])
            check(" ".join(args), p.stdout.startswith(usage), f"stdout does not start with {usage!r}: {p.stdout[:100]!r}")
    p = expect_ok("jacnoise --help", ["--help"], d)
    if p:
        check("jacnoise --help", "usage: jacnoise COMMAND" in p.stdout, "no usage on stdout")
        # --version worked and was named nowhere a user would look.
        check("jacnoise --help", "jacnoise --version" in p.stdout, f"the usage does not offer --version: {p.stdout!r}")
    p = expect_ok("jacnoise --version", ["--version"], d)
    if p:
        check("jacnoise --version", re.fullmatch(r"jacnoise \S+\n", p.stdout), f"not one version line: {p.stdout!r}")
    # An argument after --version was passed over without a word.
    e("jacnoise --version extra", ["--version", "extra"], ["--version: unexpected argument 'extra'"])
    # 'jacnoise help CMD' is 'jacnoise CMD --help', as in git; a command it does not know is refused.
    # 'jacnoise --help CMD' (or -h CMD) printed the general usage, CMD passed over.
    for args in (["help", "train"], ["--help", "train"], ["-h", "train"]):
        p = expect_ok(" ".join(args), args, d)
        if p:
            check(" ".join(args), p.stdout.startswith("usage: jacnoise train"),
                  f"stdout does not start with train's usage: {p.stdout[:100]!r}")
    # sweep status and merge have their own help: 'help sweep status' was two commands at a time.
    for sub in ("status", "merge"):
        p = expect_ok(f"jacnoise help sweep {sub}", ["help", "sweep", sub], d)
        if p:
            check(f"jacnoise help sweep {sub}", p.stdout.startswith(f"usage: jacnoise sweep {sub} DIR"),
                  f"stdout does not start with its usage: {p.stdout[:100]!r}")
            check(f"jacnoise help sweep {sub}", f"given after --, which ends the options: jacnoise sweep {sub} -- DIR"
                  in p.stdout, f"the help does not say how a name that starts with - is given: {p.stdout[-200:]!r}")
    # What follows a command's name is named: 'help sweep status x' said 'status' came too many.
    for args, words in ((["help", "train", "eval"], "help: one command at a time (got 'eval' after 'train')"),
                        (["help", "sweep", "status", "x"], "help: one command at a time (got 'x' after 'sweep status')"),
                        (["help", "sweep", "nosuch"], "help sweep: 'nosuch' is no command of sweep (its own: status, "
                                                      "merge)")):
        e(" ".join(args), args, [words])
    # Help on help, however asked: help --help read "unknown command '--help'", exit 2.
    for args in (["help", "help"], ["help", "--help"], ["help", "-h"], ["--help", "help"], ["-h", "--help"]):
        name = f"jacnoise {' '.join(args)}"
        p = expect_ok(name, args, d)
        if p:
            check(name, "usage: jacnoise COMMAND" in p.stdout, f"no usage on stdout: {p.stdout[:100]!r}")
    # The brackets give what an option left out means: a sweep's runs take one BLAS thread
    # each, not the BLAS default of train's 0.
    for cmd, default in (("train", "[0]"), ("sweep", "[1]")):
        p = expect_ok(f"jacnoise help {cmd}", ["help", cmd], d)
        if p:
            line = next((l for l in p.stdout.splitlines() if l.lstrip().startswith("--threads ")), "")
            check(f"jacnoise help {cmd}", line.endswith(default), f"--threads line {line!r} does not end {default}")
    # Each command's help describes an option as that command uses it: train's --threads and
    # --out said what they mean in a sweep, eval's --checkpoint offered to step from it, its
    # --seed to initialise and shuffle, and its --train-limit to use only N examples (of a split
    # it does not evaluate).
    commands = ["train", "eval", "step", "data", "check", "profile", "sweep"]
    misplaced = {"eval": {"--checkpoint": ["step"], "--seed": ["initialisation", "shuffling"],
                          "--train-limit": ["use only"]},
                 "step": {"--checkpoint": ["evaluate"]}, "check": {"--checkpoint": ["evaluate"]}}
    for cmd in commands:
        p = expect_ok(f"jacnoise help {cmd}: options as {cmd} uses them", ["help", cmd], d)
        for line in (p.stdout.split("\noptions:\n", 1)[1].splitlines() if p else []):
            option = line.split()[0] if line.startswith("  --") else ""
            for word in [f"{other}:" for other in commands if other != cmd] + misplaced.get(cmd, {}).get(option, []):
                check(f"jacnoise help {cmd}", word not in line, f"{word!r} in {line.strip()!r}")
    # A default in brackets is a value the option takes, named in its meta: --valid N said [auto].
    for cmd in commands:
        p = expect_ok(f"jacnoise help {cmd}: defaults as values", ["help", cmd], d)
        for line in (p.stdout.split("\noptions:\n", 1)[1].splitlines() if p else []):
            words = line.split()
            if line.startswith("  --") and line.endswith("[auto]"):
                check(f"jacnoise help {cmd}", "auto" in words[1].split("|"), f"[auto] not in the meta: {line.strip()!r}")
    # The help gives the exit statuses a wrapper script tests: sweep's left out 141 (its output
    # closed), train's gave none.
    for cmd, statuses in (("train", ["0 finished", "2 bad", "3 diverged", "130/143", "141"]),
                          ("sweep", ["0 done", "2 bad", "130/143", "141"])):
        p = expect_ok(f"jacnoise help {cmd}: exit statuses", ["help", cmd], d)
        for status in statuses if p else []:
            check(f"jacnoise help {cmd}", status in p.stdout.split("\noptions:\n")[0].replace("\n", " "),
                  f"the usage does not give exit status {status!r}")
    e("help for an unknown command", ["help", "frobnicate"], ["frobnicate", "valid commands: train eval step data"])
    e("help with two commands", ["help", "train", "eval"], ["eval"])
    global cases
    cases += 1
    p = run([], d)
    if finished("no command", p):
        if p.returncode != 2:
            fail("no command", f"exit {p.returncode}, expected 2")
        if "usage" not in p.stderr or p.stdout:
            fail("no command", f"expected the usage on stderr only; stdout {p.stdout[:100]!r}")


# ---- --config files ------------------------------------------------------------------------

def config_cases(d, usps):
    e = lambda name, args, words, code=2: expect_error(name, args, code, words, d)
    write(os.path.join(d, "unknown.cfg"), "hidden=8\nfoo = 1\n")
    write(os.path.join(d, "noeq.cfg"), "# comment\nhidden=8\njust some words\n")
    write(os.path.join(d, "badvalue.cfg"), "lr=abc\n")
    write(os.path.join(d, "nested.cfg"), "hidden=8\nconfig=other.cfg\n")
    write(os.path.join(d, "other_cmd.cfg"), "\n\n\ncheckpoint=x\n")
    write(os.path.join(d, "binary.cfg"), b"hidden=8\n\0\n")
    e("config: unknown key", ["train", "--config", "unknown.cfg"], ["unknown.cfg", "line 2", "--foo"])
    e("config: line without '='", ["train", "--config", "noeq.cfg"], ["noeq.cfg", "line 3", "key=value"])
    write(os.path.join(d, "nokey.cfg"), "hidden=8\n= 5\n")
    e("config: no key before '='", ["train", "--config", "nokey.cfg"], ["nokey.cfg: line 2: no option name before '='"])
    e("config: bad value", ["step", "--config", "badvalue.cfg"], ["badvalue.cfg: line 1: --lr abc: expected a finite decimal"])
    # A '#' after a value is part of it (file names may hold one), where a sweep spec cuts it:
    # the refusal said only that '0.1 # the paper's' is no number.
    write(os.path.join(d, "comment.cfg"), "lr = 0.1  # the paper's\n")
    e("config: comment after a value", ["step", "--config", "comment.cfg"],
      ["comment.cfg: line 1: --lr 0.1  # the paper's: expected", "put the comment on a line of its own"])
    # ... said only where the value is what was refused: a key the command lacks is refused with any value.
    write(os.path.join(d, "comment_key.cfg"), "checkpoint = a  # another command's\n")
    p = e("config: comment after a refused key", ["train", "--config", "comment_key.cfg"],
          ["comment_key.cfg: line 1: --checkpoint: not an option of 'jacnoise train'"])
    check("config: comment after a refused key", "'#'" not in p.stderr, f"the '#' tail for a refused key: {p.stderr!r}")
    e("config: includes another", ["train", "--config", "nested.cfg"], ["nested.cfg", "line 2", "config"])
    e("config: option of another command", ["train", "--config", "other_cmd.cfg"],
      ["other_cmd.cfg", "line 4", "--checkpoint"])
    e("config: NUL byte", ["train", "--config", "binary.cfg"], ["binary.cfg"])
    # A sweep's out= (empty: no value, as config.txt writes one) is no --out: it was refused in
    # words of its own ('--out: a sweep folder is required'), where no --out has the usage's.
    write(os.path.join(d, "emptyout.cfg"), "out=\n")
    write(os.path.join(d, "one.spec"), "lr = [0.1]\n")
    required = "jacnoise: sweep: --out DIR is required: the sweep folder (see jacnoise sweep --help)"
    for args in (["--config", "emptyout.cfg"], []):
        expect_error(f"sweep out: {args}", ["sweep", "--spec", "one.spec"] + args, 2, [required], d,
                     absent=["runs"])
    # Named as every other file an option gives is, '--config FILE: ...': it read '--config: FILE: ...'.
    e("config: missing file", ["train", "--config", "missing.cfg"],
      ["jacnoise: --config missing.cfg: cannot open: No such file or directory"])
    e("config: a folder", ["train", "--config", "."], ["jacnoise: --config .: is a folder"])
    # A huge file given by mistake is refused before it is read: a sparse 100 GiB file was
    # allocated whole (out of memory here; read for minutes where memory allows).
    try:
        with open(os.path.join(d, "huge.cfg"), "wb") as f:
            f.truncate(100 << 30)
    except OSError as err:
        print(f"no sparse 100 GiB file here ({err}): the huge --config case is skipped")
    else:
        e("config: a huge file", ["train", "--config", "huge.cfg"], ["--config huge.cfg: larger than 1 MiB"])
        # Nor is it read whole as a checkpoint or step state: its magic number comes first.
        e("show: a huge file", ["show", "huge.cfg"], ["huge.cfg: byte 0", "unknown magic number"], 1)
        e("eval: a huge file", ["eval", "--checkpoint", "huge.cfg"], ["huge.cfg: byte 0", "wrong magic number"], 1)
        os.remove(os.path.join(d, "huge.cfg"))
    e("config: empty name", ["train", "--config", ""], ["--config", "empty file name"])
    e("config: given twice", ["train", "--config", "unknown.cfg", "--config", "badvalue.cfg"],
      ["--config", "twice", "unknown.cfg", "badvalue.cfg"])
    write(os.path.join(d, "dup.cfg"), "hidden=8\nlr=0.1\n--lr = 0.2\n")
    e("config: a key twice", ["train", "--config", "dup.cfg"], ["dup.cfg", "line 3", "lr", "line 2"])
    # A value the file gave, refused only with the others or once the data is read, is named
    # with its line as a value that does not parse is; the command line's is its own.
    write(os.path.join(d, "later.cfg"), "hidden=8\ntest = idx:a,b\njac-lambda=1\njac-target=hidden:3\n")
    write(os.path.join(d, "nodata.cfg"), "# no such set\ndata=nosuch\n")
    e("config: --test refused with --data", ["train", "--config", "later.cfg"],
      ["jacnoise: --config later.cfg: line 2: --test: only for idx:"])
    write(os.path.join(d, "laterstep.cfg"), "hidden=8\n\njac-lambda=1\njac-target=hidden:3\n")
    e("config: a layer the model lacks", ["step", "--config", "laterstep.cfg", "--dump", "x"],
      ["jacnoise: --config laterstep.cfg: line 4: --jac-target: hidden:3 does not exist"])
    # An empty --test was taken as none, where every other empty name is refused; a config
    # file's test= (config.txt writes one for a named set) still is none.
    e("test empty", ["step", "--data", "usps", "--test=", "--dump", "x"], ["--test '': empty test set name"])
    # A model past the engine's 2^34 parameters: step said it with exit 1 (train and profile
    # 2), naming no option; then '--hidden: ...', where every other refusal of a value names it.
    if usps:
        for cmd in (["step", "--dump", "big.bin"], ["train", "--out", "big"], ["profile", "--reps", "1"]):
            expect_error(f"{cmd[0]}: --hidden past the engine", cmd + ["--data", "usps", "--hidden", "1000000,1000000"],
                         2, ["jacnoise: --hidden 1000000,1000000: the model has", "more than the engine supports (2^34)"],
                         d, absent=["big.bin", "big"])
    # A --grid file is named as its lines' refusals name it: its read refusal said '--grid: FILE:'.
    os.makedirs(os.path.join(d, "gridfolder"), exist_ok=True)
    write(os.path.join(d, "badgrid"), "batch=0\n")
    for grid, words in (("gridfolder", "is a folder"), ("badgrid", "line 1: --batch 0: out of range")):
        e(f"profile --grid {grid}", ["profile", "--grid", grid], [f"jacnoise: --grid {grid}: {words}"])
    # A train run's folder as a sweep's: its runs/ and sweep.spec went in beside the run's files.
    os.makedirs(os.path.join(d, "trainrun"), exist_ok=True)
    write(os.path.join(d, "trainrun", "config.txt"), "lr=0.1\n")
    for dry in ([], ["--dry-run"]):
        expect_error(f"sweep --out a run's folder {dry}", ["sweep", "--spec", "one.spec", "--out", "trainrun", "--device",
                                                           "cpu"] + dry, 2,
                     ["jacnoise: --out trainrun holds a training run (config.txt), not a sweep: choose another --out"],
                     d, absent=["trainrun/runs", "trainrun/sweep.spec"])
    # tools/reproduce.py's results folder as a sweep's or a run's: the sweep's results.csv
    # replaced the table's, and either one's files made the tool refuse the folder after.
    os.makedirs(os.path.join(d, "table"), exist_ok=True)
    write(os.path.join(d, "table", "reproduce.json"), '{"budget": "smoke", "calls": []}\n')
    refused = "holds tools/reproduce.py's results (reproduce.json), not a"
    for name, args in (("sweep --out", ["sweep", "--spec", "one.spec", "--out", "table", "--device", "cpu"]),
                       ("sweep --dry-run --out", ["sweep", "--spec", "one.spec", "--out", "table", "--dry-run"]),
                       ("train --out", ["train", "--out", "table", "--resume=auto"])):
        expect_error(f"{name} a reproduction's folder", args, 2, [f"jacnoise: --out table {refused}"], d,
                     absent=["table/runs", "table/sweep.spec", "table/config.txt"])
    # step --dump replaced any file but a checkpoint: a run's config.txt lost to a step state.
    if usps:
        write(os.path.join(d, "config.txt"), "lr=0.1\n")
        e("step --dump onto another file", ["step", "--data", "usps", "--hidden", "8", "--dump", "config.txt"],
          ["jacnoise: --dump config.txt: exists and is not a step state"])
        check("step --dump onto another file", read(os.path.join(d, "config.txt")) == b"lr=0.1\n", "config.txt replaced")
    write(os.path.join(d, "notest.cfg"), "data=nosuch\ntest=\n")
    e("config: test= is none", ["data", "--config", "notest.cfg"],
      ["jacnoise: --config notest.cfg: line 1: --data nosuch"])
    e("config: --data", ["data", "--config", "nodata.cfg"], ["jacnoise: --config nodata.cfg: line 2: --data nosuch"])
    e("config: a value the command line replaced", ["train", "--config", "later.cfg", "--test", "idx:c,d"],
      ["jacnoise: --test: only for idx:"])
    write(os.path.join(d, "bom.cfg"), b"\xef\xbb\xbfhidden=8\nfoo=1\n")
    e("config: a byte-order mark", ["train", "--config", "bom.cfg"], ["bom.cfg", "line 2", "--foo"])
    # A FIFO (or any non-file) is refused at once instead of waiting for a writer.
    os.mkfifo(os.path.join(d, "fifo"))
    e("config: a FIFO", ["train", "--config", "fifo"], ["--config", "fifo", "not a regular file"])
    e("show: a FIFO", ["show", "fifo"], ["fifo", "not a regular file"], 1)
    e("eval: a FIFO checkpoint", ["eval", "--checkpoint", "fifo"], ["fifo", "not a regular file"], 1)
    # idx: files given as a FIFO or a folder are named as such (the message said that both
    # files, the present one too, could not be found in any folder).
    write(os.path.join(d, "labels.idx"), idx(0x08, [1], b"\0"))
    e("data: an idx: FIFO", ["data", "--data", "idx:fifo,labels.idx"],
      ["--data idx:fifo,labels.idx: fifo is not a regular file"], 1)
    e("data: an idx: folder", ["data", "--data", "idx:labels.idx,."], ["--data idx:labels.idx,.: . is a folder"], 1)
    if not usps:
        return
    # A valid file applies (keys with -- and spaces), and the command line wins over it.
    write(os.path.join(d, "good.cfg"),
          "# tiny USPS run\ndata=usps\n  --hidden = 8,6\nlr=0.05\nbatch=50\n\ntrain-limit=200\nvalid=100\n")
    p = expect_ok("config: valid file", ["train", "--config", "good.cfg", "--lr", "0.2", "--max-steps", "1",
                                         "--out", "cfgrun", "--progress", "never"], d)
    if p:
        try:
            text = read(os.path.join(d, "cfgrun", "config.txt")).decode()
        except OSError as err:
            fail("config: valid file", f"no config.txt: {err}")
            return
        stored = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        for key, want in [("hidden", "8,6"), ("batch", "50"), ("train-limit", "200"), ("lr", "0.2"),
                          ("data", "usps")]:
            check("config: valid file", stored.get(key) == want,
                  f"config.txt has {key}={stored.get(key)!r}, expected {want!r}")
        check("config: valid file", "config" not in stored, "config.txt records config=")

    # One step of good.cfg's tiny run.
    tiny = ["train", "--config", "good.cfg", "--max-steps", "1", "--progress", "never"]

    # An option given twice takes its last value, as --help says.
    p = expect_ok("an option given twice", tiny + ["--lr", "0.1", "--lr", "0.2", "--out", "twice"], d)
    if p:
        text = read(os.path.join(d, "twice", "config.txt")).decode()
        check("an option given twice", "\nlr=0.2\n" in text, f"config.txt: {text!r}")
        # Counts of 1 in the singular: "paused after 1 steps" read as a slip.
        check("paused after one step", "paused after 1 step (--max-steps)" in p.stdout, f"stdout: {p.stdout!r}")
    p = expect_ok("one training example", tiny + ["--train-limit", "1", "--batch", "300", "--out", "one"], d)
    check("one training example", p is not None and "jacnoise: warning: --batch 300 is more than the 1 training "
          "example: each epoch is one step over it\n" in p.stderr, f"stderr: {p.stderr if p else ''!r}")
    # Its one step ends epoch 1: the pause stands before any step of epoch 2 ("in epoch 2" said one was taken).
    check("one training example", p is not None and "paused after 1 step (--max-steps) at the end of epoch 1; "
          in p.stdout, f"stdout: {p.stdout if p else ''!r}")
    expect_error("one training example left", tiny + ["--valid", "7290", "--train-limit", "2", "--out", "left"], 1,
                 ["--train-limit 2: only 1 training example is available"], d)
    p = expect_ok("a step of one row", ["step", "--data", "usps", "--hidden", "8", "--batch", "1", "--dump", "row.bin"],
                  d)
    check("a step of one row", p is not None and ": epoch 1 batch 1 (step 1), 1 row, loss" in p.stdout,
          f"stdout: {p.stdout if p else ''!r}")

    # -0 is 0: config.txt kept "-0", and a resume given 0 was refused as a changed option
    # ("the run has input-noise=-0").
    if expect_ok("-0 as 0", tiny + ["--input-noise", "-0", "--out", "minus0"], d):
        text = read(os.path.join(d, "minus0", "config.txt")).decode()
        check("-0 as 0", "\ninput-noise=0\n" in text, f"config.txt: {text!r}")
        expect_ok("-0 as 0: resumed with 0", ["train", "--config", "good.cfg", "--max-steps", "2", "--progress",
                                              "never", "--input-noise", "0", "--resume", "--out", "minus0"], d)

    # --valid 1000 resuming a USPS run of valid=auto is its split, 1000: it was refused ("the run
    # has valid=auto"); another count is refused saying what auto is there, and what the user
    # can do (the refusal named the option and left them there).
    if expect_ok("valid=auto", tiny + ["--valid", "auto", "--out", "validauto"], d):
        resume = ["train", "--resume", "--out", "validauto", "--max-steps", "2", "--progress", "never"]
        expect_ok("valid=auto: resumed with --valid 1000", resume + ["--valid", "1000"], d)
        expect_error("valid=auto: resumed with --valid 900", resume + ["--valid", "900"], 1,
                     ["--valid 900: the run has valid=auto (1000 here);", ": leave --valid out, its auto applies, "
                      "or start a new run (another --out) with --valid 900"], d)

    # config.txt keeps the word each option of a few words was given (fp32 is the default; the
    # others are not).
    chosen = {"loss": "squared", "device": "cpu", "precision": "fp32", "cuda-graph": "off"}
    args = [a for key, word in chosen.items() for a in (f"--{key}", word)]
    if expect_ok("word options in config.txt", ["train", "--config", "good.cfg", "--max-steps", "1"] + args +
                 ["--out", "words"], d):
        text = read(os.path.join(d, "words", "config.txt")).decode()
        for key, word in chosen.items():
            check("word options in config.txt", f"\n{key}={word}\n" in text, f"config.txt: {text!r}")

    # Options that change nothing: one warning line on stderr, and the run goes on as asked.
    for k, (name, extra, words) in enumerate([
            ("warning: --jac-noise without the penalty", ["--jac-noise", "0.1"],
             ["--jac-noise changes nothing", "--jac-lambda 0", "--input-noise"]),
            ("warning: hidden1's estimator", ["--jac-lambda", "0.1", "--jac-proj", "3"],
             ["--jac-proj changes nothing", "hidden1"]),
            # More BLAS threads than the CPUs the process may run on, or than the BLAS allows
            # (OpenBLAS: its build's MAX_THREADS, which may be below the CPUs).
            ("warning: more threads than CPUs", ["--threads", str(len(os.sched_getaffinity(0)) + 1)],
             [f"--threads {len(os.sched_getaffinity(0)) + 1}"]),
            ("warning: more threads than the BLAS allows", ["--threads", "1024"], ["--threads 1024"]),
            ("warning: a batch beyond the training set", ["--batch", "300"],
             ["--batch 300", "200 training examples", "one step"]),
            # Copies of one clean input under a penalty that draws nothing are the same penalty.
            ("warning: copies without corruption", ["--jac-lambda", "0.1", "--jac-copies", "3"],
             ["--jac-copies 3 without --jac-noise", "hidden1", "3 times its cost"]),
            ("warning: copies of the exact norm", ["--jac-lambda", "0.1", "--jac-copies", "2", "--jac-target",
                                                   "output", "--jac-proj", "exact"],
             ["--jac-copies 2 without --jac-noise", "exact norm"]),
            # Early stopping needs a validation error: without one the run went its --epochs silently.
            ("warning: patience without a validation split", ["--valid", "0", "--patience", "3"],
             ["--patience 3", "without a validation split", "all 50 epochs"]),
            ("warning: patience, one epoch", ["--valid", "0", "--patience", "3", "--epochs", "1"],
             ["the run trains its 1 epoch"])]):
        p = expect_ok(name, tiny + extra + ["--out", f"warned{k}"], d)
        lines = p.stderr.splitlines() if p else []
        check(name, len(lines) == 1 and lines[0].startswith("jacnoise: warning: ") and
              all(w in lines[0] for w in words), f"expected one warning line with {words}: {lines!r}")
    # One copy is the penalty computed once: nothing to warn of.
    p = expect_ok("no warning: one copy", tiny + ["--jac-lambda", "0.1", "--jac-copies", "1", "--out", "onecopy"], d)
    check("no warning: one copy", p is not None and p.stderr == "", f"stderr: {p and p.stderr!r}")
    # step computes the penalty train's step does: its warnings of options that change nothing
    # are train's (1024 copies of one clean input said nothing).
    for k, (extra, words) in enumerate([(["--jac-lambda", "0.1", "--jac-copies", "3"],
                                         ["--jac-copies 3 without --jac-noise", "3 times its cost"]),
                                        (["--jac-noise", "0.1"], ["--jac-noise changes nothing", "--jac-lambda 0"])]):
        name = f"warning: step {' '.join(extra)}"
        p = expect_ok(name, ["step", "--config", "good.cfg", "--dump", f"warned{k}.json"] + extra, d)
        lines = p.stderr.splitlines() if p else []
        check(name, len(lines) == 1 and lines[0].startswith("jacnoise: warning: ") and
              all(w in lines[0] for w in words), f"expected one warning line with {words}: {lines!r}")
    # The CPUs counted are those the process may run on (taskset, a Slurm job's cpuset): two
    # threads on one of two CPUs online went unsaid, and one CPU read "the 1 CPUs".
    one_cpu = lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    p = run(tiny + ["--threads", "2", "--out", "one-cpu"], d, preexec_fn=one_cpu)
    if finished("warning: two threads on one CPU", p):
        check("warning: two threads on one CPU", p.returncode == 0 and p.stderr ==
              "jacnoise: warning: --threads 2 is more BLAS threads than the 1 CPU available: they share cores, and "
              "the GEMMs run slower than with fewer\n", f"exit {p.returncode}, stderr: {p.stderr[:300]!r}")
    # A run that cannot start fails in one line: the warnings on its options came before the
    # error (train loads the data and makes the run folder in the run; profile's data too; eval
    # and step set the BLAS threads before their data loaded).
    inert = ["--jac-noise", "0.1", "--threads", "1024"]
    for name, args, words in [
            ("no data: train warns not", tiny + inert + ["--data-dir", "no-such-dir", "--out", "nodata"],
             ["--data-dir no-such-dir"]),
            ("no data: profile warns not", ["profile", "--config", "good.cfg", "--reps", "1"] + inert +
             ["--data-dir", "no-such-dir"], ["--data-dir no-such-dir"]),
            ("no data: eval warns not", ["eval", "--checkpoint", os.path.join("twice", "last.ckpt"), "--threads",
                                         "1024", "--data-dir", "no-such-dir"], ["--data-dir no-such-dir"]),
            ("no data: step warns not", ["step", "--config", "good.cfg", "--dump", "nodata.step", "--threads", "1024",
                                         "--data-dir", "no-such-dir"], ["--data-dir no-such-dir"]),
            ("no checkpoint: train --resume warns not", tiny + inert + ["--resume", "--out", "nodata"],
             ["--resume: no checkpoint at"])]:
        expect_error(name, args, 1, words, d)
    # BLAS threads change nothing on the CUDA backend, and --threads was taken silently. A run
    # that goes on warns first; where no GPU is, the error is the one line (train and profile:
    # the warning came before it).
    q = run(tiny + ["--device", "cuda", "--threads", "2", "--out", "cuda-threads"], d)
    if finished("warning: --threads on CUDA", q) and q.returncode == 0:
        check("warning: --threads on CUDA", q.stderr.startswith("jacnoise: warning: --threads 2 changes nothing on "
                                                                "the CUDA backend"), f"stderr: {q.stderr[:300]!r}")
    elif q:
        check("no GPU: train --threads", q.stderr.startswith("jacnoise: --device cuda: ") and
              q.stderr.count("\n") == 1, f"exit {q.returncode}, stderr: {q.stderr[:300]!r}")
        expect_error("no GPU: profile --threads", ["profile", "--config", "good.cfg", "--device", "cuda", "--threads",
                                                  "2", "--reps", "1"], 2 if "no CUDA backend" in q.stderr else 1,
                     ["--device cuda: "], d)
    # A bad option is refused as train refuses it (exit 2), a GPU usable or not: without one,
    # check said only that (exit 1), and its user fixed the option on the GPU machine.
    for args, words in ((["--data", "foo"], "--data foo: unknown data set"),
                        (["--data", "usps", "--hidden", "10", "--jac-target", "hidden:3"],
                         "--jac-target: hidden:3 does not exist")):
        expect_error(f"check {' '.join(args)}", ["check"] + args, 2, [f"jacnoise: {words}"], d)
    # With --checkpoint too, the checkpoint is read and the options merged with it checked first,
    # as train --resume does: without a usable GPU (or CUDA) both read "check: no usable CUDA
    # device" (exit 1), where a machine with one said the file's error or refused the option (2).
    write(os.path.join(d, "garbage.ckpt"), b"garbage")
    ran = os.path.join("twice", "last.ckpt")
    for args, code, words in ((["--checkpoint", "garbage.ckpt"], 1, "--checkpoint garbage.ckpt: byte 0: "),
                              (["--checkpoint", ran, "--jac-copies", "0"], 2, "--jac-copies 0: out of range"),
                              (["--checkpoint", ran, "--hidden", "9"], 1, f"--checkpoint {ran}: --hidden 9: the run has")):
        expect_error(f"check {' '.join(args)}", ["check"] + args, code, [f"jacnoise: {words}"], d)
    # check says why the GPU side cannot run, as --device cuda's refusal does: a driver too old
    # for the runtime read "no CUDA device is visible", which sent one looking for the GPU.
    c = run(["check", "--data", "usps", "--hidden", "5"], d)
    if q and q.returncode == 1 and finished("check without a usable GPU", c):
        why = q.stderr.splitlines()[-1].split("jacnoise: --device cuda: ", 1)[-1]
        check("check without a usable GPU", c.returncode == 1 and c.stderr == f"jacnoise: check: {why}\n",
              f"exit {c.returncode}, stderr {c.stderr!r}; train --device cuda: {q.stderr!r}")
        # info too: "0 device(s) visible" alone read the same for a driver too old (a build
        # without CUDA says "cuda: not built" instead, as the sanitizer build does).
        i = run(["info"], d)
        built = "no CUDA backend" not in q.stderr
        check("info without a usable GPU",
              (f"cuda: built in, 0 device(s) visible; {why}\n" if built else "cuda: not built") in i.stdout,
              f"info: {i.stdout!r}; train --device cuda: {q.stderr!r}")
    if p:
        p = expect_ok("no warning: a run's config.txt", ["train", "--config", os.path.join("cfgrun", "config.txt"),
                                                         "--out", "replayed", "--progress", "never"], d)
        check("no warning: a run's config.txt", p is not None and p.stderr == "",
              f"stderr: {p.stderr[:300] if p else ''!r}")


# ---- data sets -----------------------------------------------------------------------------

def info_cases(d):
    """Where a set is not found, info's advice offers what info has: $JACNOISE_DATA (it ended
    "with --data-dir DIR", an option info refuses)."""
    name = "info: a set not found"
    bare = os.path.join(d, "nodata", "here")  # neither ./data nor ../shared/datasets from it
    os.makedirs(bare)
    p = subprocess.run([BIN, "info"], cwd=bare, env=dict(os.environ, JACNOISE_DATA=""), capture_output=True,
                       text=True, timeout=TIMEOUT)
    sets = [line for line in p.stdout.splitlines() if line.startswith("data ")]
    check(name, p.returncode == 0 and len(sets) == 2 and
          all("not found" in line and "--data-dir" not in line and "set $JACNOISE_DATA to the folder" in line
              for line in sets), f"exit {p.returncode}, stdout {p.stdout!r}")


def idx_cases(d):
    e = lambda name, args, words, code=1, absent=(): expect_error(name, args, code, words, d, absent)
    p = lambda name: os.path.join(d, name)
    n, side, classes = 40, 4, 3
    images = idx(0x08, [n, side, side], bytes((7 * i) % 256 for i in range(n * side * side)))
    labels = idx(0x08, [n], bytes(i % classes for i in range(n)))
    write(p("img.idx"), images)
    write(p("lab.idx"), labels)
    write(p("img.idx.gz"), gzip.compress(images, mtime=0))
    write(p("timg.idx"), idx(0x08, [10, side, side], bytes(range(10 * side * side))))
    write(p("tlab.idx"), idx(0x08, [10], bytes(i % classes for i in range(10))))
    pair = f"idx:{p('img.idx')},{p('lab.idx')}"
    odd = p('odd"\\\tname.idx')
    write(odd, images)
    out = expect_ok("data: a file name with a quote, backslash and tab", ["data", "--data", f"idx:{odd},{p('lab.idx')}"],
                    d, parse_json=True)
    if out:
        check("data: a file name with a quote", out["data"] == f"idx:{odd},{p('lab.idx')}", f"data {out['data']!r}")

    # A valid pair (raw and gzip) loads, with the counts asked for.
    for label, img in [("raw", "img.idx"), ("gzip", "img.idx.gz")]:
        name = f"idx: valid pair ({label})"
        out = expect_ok(name, ["data", "--data", f"idx:{p(img)},{p('lab.idx')}", "--test",
                               f"idx:{p('timg.idx')},{p('tlab.idx')}", "--valid", "8"], d, parse_json=True)
        if out:
            try:
                s = out["splits"]
                got = (s["train"]["examples"], s["valid"]["examples"], s["test"]["examples"],
                       s["train"]["features"], s["train"]["classes"], sum(s["train"]["class_counts"]))
            except (KeyError, TypeError) as err:
                fail(name, f"JSON lacks {err}: {out}")
            else:
                check(name, got == (32, 8, 10, 16, 3, 32), f"(train, valid, test, features, classes, "
                      f"sum of class counts) = {got}, expected (32, 8, 10, 16, 3, 32)")
    # The --test pair's folder is named where it is not --data's (here --data read as given, --test
    # found in --data-dir); where it is the same, no second folder is said.
    os.mkdir(p("tdir"))
    write(p("tdir/ti.idx"), idx(0x08, [10, side, side], bytes(range(10 * side * side))))
    write(p("tdir/tl.idx"), idx(0x08, [10], bytes(i % classes for i in range(10))))
    name = "idx: --test from another folder"
    args = ["--data", pair, "--data-dir", p("tdir"), "--test", "idx:ti.idx,tl.idx"]
    out = expect_ok(name, ["data"] + args, d, parse_json=True)
    if out:
        check(name, (out.get("folder"), out.get("test_folder")) == ("", p("tdir")),
              f"folder {out.get('folder')!r}, test_folder {out.get('test_folder')!r}")
    run_ = expect_ok(name, ["train"] + args + ["--hidden", "4", "--epochs", "1", "--out", "tdirrun",
                                               "--progress", "never"], d)
    if run_:
        check(name, f"data {pair}, --test from {p('tdir')}: " in run_.stdout, f"stdout {run_.stdout[:300]!r}")
    out = expect_ok("idx: --test from the same folder", ["data", "--data", "idx:img.idx,lab.idx", "--data-dir", d,
                                                         "--test", "idx:timg.idx,tlab.idx"], d, parse_json=True)
    if out:
        check("idx: --test from the same folder", out.get("folder") == d and "test_folder" not in out, f"{out}")
    out = expect_ok("idx: default validation split", ["data", "--data", pair], d, parse_json=True)
    if out:
        check("idx: default validation split", out.get("splits", {}).get("valid", {}).get("examples") == 4,
              "expected a tenth (4) of 40 examples for validation")

    # Broken files: each message names the file and the byte.
    write(p("magic.idx"), b"\x12\x34" + images[2:])
    e("idx: wrong magic", ["data", "--data", f"idx:{p('magic.idx')},{p('lab.idx')}"],
      ["magic.idx", "byte 0", "magic"])
    write(p("type.idx"), images[:2] + b"\x07" + images[3:])
    e("idx: unknown type code", ["data", "--data", f"idx:{p('type.idx')},{p('lab.idx')}"],
      ["type.idx", "byte 2"])
    write(p("ndim.idx"), images[:3] + b"\x00" + images[4:])
    e("idx: ndim 0", ["data", "--data", f"idx:{p('ndim.idx')},{p('lab.idx')}"], ["ndim.idx", "byte 3"])
    write(p("huge.idx"), idx(0x08, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b""))
    e("idx: absurd dimensions", ["data", "--data", f"idx:{p('huge.idx')},{p('lab.idx')}"], ["huge.idx", "byte"])
    short = images[:-10]
    write(p("short.idx"), short)
    e("idx: truncated payload", ["data", "--data", f"idx:{p('short.idx')},{p('lab.idx')}"],
      ["short.idx", f"byte {len(short)}", "end of file"])
    write(p("header.idx"), images[:6])
    e("idx: truncated header", ["data", "--data", f"idx:{p('header.idx')},{p('lab.idx')}"],
      ["header.idx", "byte 6"])
    write(p("trailing.idx"), images + b"xyz")
    e("idx: trailing bytes", ["data", "--data", f"idx:{p('trailing.idx')},{p('lab.idx')}"],
      ["trailing.idx", f"byte {len(images)}", "trailing"])
    write(p("empty.idx"), b"")
    e("idx: empty file", ["data", "--data", f"idx:{p('empty.idx')},{p('lab.idx')}"], ["empty.idx", "byte 0"])
    gz = bytearray(gzip.compress(images, mtime=0))
    for k in range(12, len(gz) - 8):  # garble the deflate data, keep the header and trailer
        gz[k] ^= 0x5A
    write(p("corrupt.idx.gz"), bytes(gz))
    e("idx: corrupt gzip", ["data", "--data", f"idx:{p('corrupt.idx.gz')},{p('lab.idx')}"],
      ["corrupt.idx.gz", "byte", "gzip"])
    gz = gzip.compress(images, mtime=0)
    write(p("cut.idx.gz"), gz[:len(gz) // 2])
    e("idx: truncated gzip", ["data", "--data", f"idx:{p('cut.idx.gz')},{p('lab.idx')}"],
      ["cut.idx.gz", "byte"])
    write(p("lab39.idx"), idx(0x08, [n - 1], bytes(i % classes for i in range(n - 1))))
    e("idx: count mismatch", ["data", "--data", f"idx:{p('img.idx')},{p('lab39.idx')}"],
      ["img.idx", "lab39.idx", "40", "39"])
    write(p("lab2d.idx"), idx(0x08, [n, 1], bytes(i % classes for i in range(n))))
    e("idx: 2-D labels", ["data", "--data", f"idx:{p('img.idx')},{p('lab2d.idx')}"], ["lab2d.idx", "byte 3"])
    write(p("labneg.idx"), idx(0x0C, [n], struct.pack(">%di" % n, *[(-1 if i == 5 else 0) for i in range(n)])))
    e("idx: negative i32 label", ["data", "--data", f"idx:{p('img.idx')},{p('labneg.idx')}"],
      ["labneg.idx", f"byte {8 + 4 * 5}", "negative"])
    write(p("tlab_bad.idx"), idx(0x08, [10], bytes(7 if i == 6 else 0 for i in range(10))))
    e("idx: test label >= training classes",
      ["data", "--data", pair, "--test", f"idx:{p('timg.idx')},{p('tlab_bad.idx')}"],
      [f"jacnoise: --test idx:{p('timg.idx')},{p('tlab_bad.idx')}: ", "tlab_bad.idx", f"byte {8 + 6}", "out of range",
       "7"])
    # Each pair's format errors say which option gave it: --data's and --test's read alike, and
    # "the two files swapped? (idx:IMAGES,LABELS)" named neither.
    for opt, args in (("--data", [f"idx:{p('lab.idx')},{p('img.idx')}"]),
                      ("--test", [pair, "--test", f"idx:{p('tlab.idx')},{p('timg.idx')}"])):
        e(f"idx: {opt}'s files swapped", ["data", "--data"] + args,
          [f"jacnoise: {opt} idx:", "lab.idx: byte 3", "swapped? (idx:IMAGES,LABELS)"])
    values = [0.5] * (n * side * side)
    values[5] = float("nan")
    write(p("nan.idx"), idx(0x0D, [n, side, side], struct.pack(">%df" % len(values), *values)))
    e("idx: NaN pixel (f32)", ["data", "--data", f"idx:{p('nan.idx')},{p('lab.idx')}"],
      ["nan.idx", f"byte {16 + 4 * 5}", "finite"])
    e("idx: missing file", ["data", "--data", f"idx:{p('nothere.idx')},{p('lab.idx')}"], ["nothere.idx"])
    e("idx: missing test file", ["data", "--data", pair, "--test", f"idx:{p('timg.idx')},{p('nolab.idx')}"],
      ["--test", "nolab.idx"])
    # A --data that names no data set is a bad command line (exit 2), caught before any reading.
    e("idx: spec without a comma", ["data", "--data", "idx:" + p("img.idx")], ["--data", "IMAGES,LABELS"], code=2)
    e("idx: spec with three files", ["data", "--data", pair + ",x"], ["--data", "IMAGES,LABELS"], code=2)
    e("unknown data set", ["data", "--data", "cifar"], ["--data", "cifar", "usps", "mnist"], code=2)
    # The names are lower case: "USPS" was refused with the list alone.
    for given, name in (("USPS", "usps"), ("Mnist-Binary", "mnist-binary")):
        e(f"data set {given}", ["train", "--data", given], [f"--data {given}", "lower case", f"--data {name}?"],
          code=2)
    # The data is named as given (it was "the training file of idx").
    e("--valid bigger than the set", ["data", "--data", pair, "--valid", "1000"],
      ["--valid", "1000", f"the training file of {pair} has 40"])
    e("--valid equal to the set", ["data", "--data", pair, "--valid", "40"], ["--valid", "40"])
    e("--train-limit bigger than the rest", ["data", "--data", pair, "--valid", "8", "--train-limit", "33"],
      ["--train-limit", "33", f"the training file of {pair} has 40"])
    # Labels all 0 make one class: refused naming the data (it said "model: 1 classes").
    write(p("zeros.idx"), idx(0x08, [n], bytes(n)))
    e("idx: one class", ["train", "--data", f"idx:{p('img.idx')},{p('zeros.idx')}", "--hidden", "4", "--out",
                         "oneclass", "--progress", "never"],
      [f"--data idx:{p('img.idx')},{p('zeros.idx')}: every training label is 0, one class"], absent=["oneclass"])
    # The same errors through train leave no checkpoint behind.
    e("train on a broken idx file", ["train", "--data", f"idx:{p('short.idx')},{p('lab.idx')}", "--hidden", "4",
                                     "--out", "idxrun", "--progress", "never"],
      ["short.idx", "byte"], absent=["idxrun/last.ckpt", "idxrun/best.ckpt", "idxrun/metrics.jsonl"])
    # idx: names as given hold from the folder the run started in, which config.txt names: a
    # resume from another folder reads the same files (it refused the stored --data there).
    os.mkdir(p("started"))
    if expect_ok("train: relative idx: names", ["train", "--data", "idx:../img.idx,../lab.idx", "--hidden", "4",
                                                "--epochs", "1", "--out", "run", "--progress", "never"],
                 p("started")):
        expect_ok("train: --resume from another folder", ["train", "--resume", "--out", "started/run", "--epochs", "2",
                                                          "--progress", "never"], d)


USPS_VALUES = 256


def usps_line(label, value="-1", bad_field=None, bad_value=None, fields=USPS_VALUES + 1):
    items = [str(label)] + [value] * (fields - 1)
    if bad_field is not None:
        items[bad_field - 1] = bad_value
    return " ".join(items) + "\n"


def usps_cases(d):
    """--data usps --data-dir DIR with zip.train / zip.test files written here."""
    good_test = "".join(usps_line(i % 10, "0.5") for i in range(5))

    def folder(name, train, gz=False):
        f = os.path.join(d, name)
        os.mkdir(f)
        write(os.path.join(f, "zip.test"), good_test)
        if gz:
            write(os.path.join(f, "zip.train.gz"), train)
        else:
            write(os.path.join(f, "zip.train"), train)
        return name

    good = "".join(usps_line(i % 10, "0.25") for i in range(20))
    out = expect_ok("usps: valid small files", ["data", "--data", "usps", "--data-dir", folder("u_ok", good),
                                                "--valid", "5"], d, parse_json=True)
    if out:
        try:
            s = out["splits"]
            got = (s["train"]["examples"], s["valid"]["examples"], s["test"]["examples"], s["train"]["features"])
        except (KeyError, TypeError) as err:
            fail("usps: valid small files", f"JSON lacks {err}")
        else:
            check("usps: valid small files", got == (15, 5, 5, 256), f"(train, valid, test, features) = {got}")

    def e(name, train, words, gz=False):
        expect_error(name, ["data", "--data", "usps", "--data-dir", folder(name.replace(" ", "_").replace(":", ""),
                                                                           train, gz), "--valid", "1"], 1, words, d)

    lines = [usps_line(i % 10) for i in range(6)]
    e("usps: wrong field count", "".join(lines[:2] + [usps_line(3, fields=200)] + lines[3:]),
      ["zip.train", "line 3", "fields"])
    e("usps: NaN value", "".join(lines[:1] + [usps_line(1, bad_field=5, bad_value="nan")] + lines[2:]),
      ["zip.train", "line 2", "field 5", "expected a decimal number"])
    e("usps: not a number", "".join(lines[:4] + [usps_line(1, bad_field=9, bad_value="0.3.4")] + lines[5:]),
      ["zip.train", "line 5", "field 9"])
    e("usps: value out of range", usps_line(2, bad_field=3, bad_value="1.5") + "".join(lines),
      ["zip.train", "line 1", "field 3"])
    e("usps: label 12", "".join(lines[:3] + [usps_line(12)] + lines[4:]), ["zip.train", "line 4", "label"])
    e("usps: empty file", "", ["zip.train", "empty"])
    e("usps: NUL byte", "".join(lines[:1]) + "\0" + "".join(lines[1:]), ["zip.train", "line 2", "NUL"])
    gz = gzip.compress("".join(lines).encode(), mtime=0)
    e("usps: truncated gzip", gz[:len(gz) // 2], ["zip.train.gz", "line"], gz=True)
    os.makedirs(os.path.join(d, "empty-dir"), exist_ok=True)
    expect_error("usps: --data-dir without the files", ["data", "--data", "usps", "--data-dir", "empty-dir"], 1,
                 ["usps", "zip.train", "empty-dir", "--data-dir"], d)
    expect_error("usps: --data-dir missing", ["data", "--data", "usps", "--data-dir", "nowhere"], 1,
                 ["usps", "--data-dir nowhere: No such file or directory"], d)
    # No folder found: $JACNOISE_DATA is said to be empty where it is, not unset.
    for name, value, words in [("empty", "", "($JACNOISE_DATA is empty)"),
                               ("unset", None, "($JACNOISE_DATA is not set)")]:
        env = {k: v for k, v in os.environ.items() if k != "JACNOISE_DATA"}
        if value is not None:
            env["JACNOISE_DATA"] = value
        p = subprocess.run([BIN, "data", "--data", "usps"], cwd=os.path.join(d, "empty-dir"), env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        check(f"usps: $JACNOISE_DATA {name}", p.returncode == 1 and "in any folder tried: ./data" in p.stderr and
              words in p.stderr, f"exit {p.returncode}, stderr {p.stderr!r}")
    write(os.path.join(d, "a-file"), "")
    expect_error("usps: --data-dir a file", ["train", "--data", "usps", "--data-dir", "a-file"], 1,
                 ["usps", "--data-dir a-file: not a folder"], d)
    # A run that fails before its first step leaves its --out as it found it: a folder it would
    # make is not made, and one there keeps no lock file of it.
    os.makedirs(os.path.join(d, "kept-out"))
    for name, data, words in [("no files", "empty-dir", ["zip.train"]), ("malformed", "usps_empty_file", ["empty"])]:
        for out in ("kept-out", os.path.join("made-out", "run")):
            expect_error(f"usps: train, {name}, --out {out}", ["train", "--data", "usps", "--data-dir", data, "--out",
                                                                out], 1, words, d,
                         absent=[os.path.join("kept-out", "lock"), "made-out"])


# ---- checkpoints, step and run folders ---------------------------------------------------

def recrc(body_with_crc):
    """Recomputes the trailing CRC-32 of a checkpoint after an edit."""
    body = body_with_crc[:-4]
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


STATE_FIELDS = {"global_step": (0, "<Q"), "epoch": (8, "<I"), "batch": (12, "<Q"), "best_valid_error": (20, "<d"),
                "best_epoch": (28, "<I"), "errors": (56, "<Q"), "examples": (64, "<Q"), "steps": (72, "<Q"),
                "data_crc": (80, "<I"), "sections": (84, "<I")}  # byte offsets in the training state (checkpoint.h)


def state_at(blob):
    """Byte offset of a checkpoint's training state (after the configuration text)."""
    layers = struct.unpack_from("<I", blob, 16)[0]
    off = 20 + 4 * (layers + 1) + 8
    return off + 4 + struct.unpack_from("<I", blob, off)[0]


def with_state(blob, **fields):
    """The checkpoint with state fields replaced and a valid CRC."""
    b, at = bytearray(blob), state_at(blob)
    for name, value in fields.items():
        struct.pack_into(STATE_FIELDS[name][1], b, at + STATE_FIELDS[name][0], value)
    return recrc(bytes(b))


def state_field(blob, name):
    return struct.unpack_from(STATE_FIELDS[name][1], blob, state_at(blob) + STATE_FIELDS[name][0])[0]


def show_matches_checkpoint(d, path):
    """`show`'s version, state and sections lines say what the checkpoint's bytes hold (the
    version line said the current format's for a version 1 file)."""
    name = f"show: {path}"
    p = expect_ok(name, ["show", path], d)
    if not p:
        return
    blob = read(os.path.join(d, path))
    version = struct.unpack_from("<I", blob, 8)[0]
    f = {k: state_field(blob, k) for k in ("epoch", "batch", "global_step", "best_epoch", "best_valid_error")}
    f["sections"] = struct.unpack_from("<I", blob, state_at(blob) + STATE_FIELDS["sections"][0] - 4 * (version < 2))[0]
    check(name, p.stdout.startswith(f"{path}: jacnoise checkpoint, version {version}, "),
          f"expected version {version}: {p.stdout[:200]!r}")
    state = f"{f['epoch']} epoch{'' if f['epoch'] == 1 else 's'} done"
    if f["batch"]:
        state += f" and {f['batch']} batch{'' if f['batch'] == 1 else 'es'} of epoch {f['epoch'] + 1}"
    state += f", {f['global_step']} step{'' if f['global_step'] == 1 else 's'}"
    if f["best_epoch"]:
        state += f", best epoch {f['best_epoch']} (valid {f['best_valid_error']:.2f}%)"
    sections = "sections: parameters" + (", velocity" if f["sections"] & 1 else "") + \
        (", best parameters" if f["sections"] & 2 else "")
    lines = p.stdout.splitlines()
    check(name, any(l.startswith("state: ") and l.endswith(state) for l in lines),
          f"expected a state line ending {state!r}: {p.stdout!r}")
    check(name, sections in lines, f"expected {sections!r}: {p.stdout!r}")


def show_matches_stepstate(d, path):
    """`show` prints each tensor of a step state with its norm, each scalar with its value (a
    whole number in full)."""
    name = f"show: {path}"
    p = expect_ok(name, ["show", path], d)
    if not p:
        return
    st = stepstate.parse_dump(os.path.join(d, path))
    shown = {l.split()[0]: float(l.split()[-1]) for l in p.stdout.splitlines()[1:]}
    # A whole number in full (a seed of 11 digits read 1.23456789e+10).
    texts = {l.split()[0]: l.split()[-1] for l in p.stdout.splitlines()[1:]}
    whole = [k for k, v in st.items() if (isinstance(v, float) and v.is_integer() and texts.get(k) != f"{v:.0f}")
             or (isinstance(v, int) and texts.get(k) != str(v))]
    check(name, not whole, f"whole numbers not shown in full: {[(k, texts.get(k)) for k in whole]}")
    check(name, set(shown) == set(st), f"tensors {sorted(set(shown) ^ set(st))} shown or held alone")
    for key, value in st.items():
        want = float(value) if np.isscalar(value) else float(np.linalg.norm(np.asarray(value, np.float64).ravel()))
        got = shown.get(key, float("nan"))
        if not abs(got - want) <= 1e-5 * max(abs(want), 1e-30):
            check(name, False, f"{key}: shown {got}, its norm is {want}")
            return


def state_cases(d, best, last):
    """Checkpoints with valid CRCs whose fields contradict each other, which jacnoise cannot
    have written: eval, show and a resume refuse each, naming the file and the field."""
    e = lambda name, args, words, code=1, absent=(): expect_error(name, args, code, words, d, absent)
    at = state_at(best)
    steps = state_field(best, "global_step")
    n_params = struct.unpack_from("<Q", last, 20 + 4 * (struct.unpack_from("<I", last, 16)[0] + 1))[0]
    velocity = at + STATE_FIELDS["sections"][0] + 4 + 4 * n_params  # after the state, the flags and the parameters
    nan = struct.pack("<f", float("nan"))
    cases = [("batch beyond the steps done", with_state(best, batch=steps + 1), [f"byte {at + 12}", "batch"]),
             ("epoch sums of steps not the batches done", with_state(best, steps=3),
              [f"byte {at + 72}", "epoch sums of 3 steps, but 0 batches of epoch 2 done"]),
             ("more errors than examples", with_state(best, errors=1, examples=0), [f"byte {at + 56}", "errors"]),
             ("epoch beyond --epochs", with_state(best, epoch=5), ["epoch 5", "the 1 epoch of"]),
             ("NaN velocity", recrc(last[:velocity] + nan + last[velocity + 4:]), [f"byte {velocity}", "velocity"]),
             ("Inf best parameters", recrc(last[:velocity + 4 * n_params] + struct.pack("<f", float("inf")) +
                                           last[velocity + 4 * n_params + 4:]), ["best parameters"])]
    for what, blob, words in cases:
        write(os.path.join(d, "state.ckpt"), blob)
        e(f"eval: {what} (valid CRC)", ["eval", "--checkpoint", "state.ckpt"], ["state.ckpt"] + words)
        e(f"show: {what} (valid CRC)", ["show", "state.ckpt"], ["state.ckpt"] + words)
    # A finished run stands at its --epochs: shown and evaluated as before.
    write(os.path.join(d, "version1.ckpt"), read(os.path.join(d, "run", "last.ckpt")))
    ckpt.as_version1(os.path.join(d, "version1.ckpt"))
    for path in ("run/last.ckpt", "run/best.ckpt", "version1.ckpt"):
        show_matches_checkpoint(d, path)
    # Paused at batch 2 of epoch 2 (6 of 8 steps); a batch within the steps done but beyond the
    # epoch's 4 is refused by the resume, which knows the data.
    tiny = ["--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "100", "--batch", "50",
            "--progress", "never"]
    if not expect_ok("train: paused run", ["train", "--epochs", "2", "--max-steps", "6", "--out", "paused"] + tiny, d):
        return
    paused = os.path.join(d, "paused", "last.ckpt")
    good = read(paused)
    # Before its first epoch ends a run has no best.ckpt: "cannot open" alone left the user to
    # wonder whether the run was there.
    if expect_ok("train: one step", ["train", "--max-steps", "1", "--out", "one-step"] + tiny, d):
        e("eval: best.ckpt before the first epoch ends", ["eval", "--checkpoint", "one-step/best.ckpt"],
          ["--checkpoint one-step/best.ckpt: no such file", "no best checkpoint yet", "one-step/last.ckpt"], 1)
        e("show: best.ckpt before the first epoch ends", ["show", "one-step/best.ckpt"],
          ["one-step/best.ckpt: no such file", "no best checkpoint yet", "one-step/last.ckpt"], 1)
        # A run folder given for its checkpoint ("is a folder, not a file" named neither file).
        for folder in ("one-step", "one-step/"):
            for args in (["eval", "--checkpoint", folder], ["step", "--checkpoint", folder, "--dump", "x.step"],
                         ["show", folder]):
                named = "" if args[0] == "show" else "--checkpoint "
                e(f"{args[0]}: the run folder {folder}", args,
                  [f"{named}{folder}: is a run folder, not a checkpoint: give one-step/best.ckpt (its best parameters) "
                   "or one-step/last.ckpt (where it stands)"], 1)
    # A best.ckpt lost after an epoch ended: "no best checkpoint yet" had its user wait for it.
    os.makedirs(os.path.join(d, "best-gone"), exist_ok=True)
    write(os.path.join(d, "best-gone", "last.ckpt"), good)
    for args in (["eval", "--checkpoint", "best-gone/best.ckpt"], ["show", "best-gone/best.ckpt"]):
        e(f"{args[0]}: best.ckpt removed after an epoch ended", args,
          ["best-gone/best.ckpt: no such file, though best-gone/last.ckpt has 1 epoch done (best epoch 1): it was "
           "removed (best-gone/last.ckpt holds its best parameters"], 1)
    # A checkpoint that does not open is named by its option, as --config's file is.
    for args in (["eval", "--checkpoint", "missing.ckpt"], ["step", "--checkpoint", "missing.ckpt", "--dump", "x.step"]):
        e(f"{args[0]}: a missing --checkpoint", args,
          ["jacnoise: --checkpoint missing.ckpt: cannot open: No such file or directory"], 1)
    show_matches_checkpoint(d, "paused/last.ckpt")
    write(os.path.join(d, "best-earlier.ckpt"), with_state(good, epoch=2, batch=0, steps=0, global_step=8, best_epoch=1))
    show_matches_checkpoint(d, "best-earlier.ckpt")  # the best epoch is not the last
    write(os.path.join(d, "one-step.ckpt"), with_state(good, epoch=0, batch=1, steps=1, global_step=1, best_epoch=0))
    show_matches_checkpoint(d, "one-step.ckpt")  # "1 batch", "1 step"
    check("train: paused run", (state_field(good, "epoch"), state_field(good, "batch")) == (1, 2),
          "not paused at batch 2 of epoch 2")
    e("train: --resume with fewer --epochs than started", ["train", "--resume", "--out", "paused", "--epochs", "1",
                                                          "--progress", "never"], ["--epochs 1", "paused/last.ckpt"])
    write(paused, with_state(good, batch=5, steps=5))
    e("train: --resume at a batch beyond the epoch", ["train", "--resume", "--out", "paused", "--progress", "never"],
      ["paused/last.ckpt", "batch 5", "4 batches"])
    e("step: a batch beyond the epoch", ["step", "--checkpoint", "paused/last.ckpt", "--dump", "beyond.bin"],
      ["paused/last.ckpt", "batch 5", "4 batches"], absent=["beyond.bin"])
    # A stop between an epoch's last step and its end leaves batch = the epoch's batches: the
    # resume ends that epoch and goes on, and `jacnoise step` takes the step it goes on with
    # (the next epoch's first: its shuffle and learning rate), the run's last epoch ended.
    write(paused, with_state(good, batch=4, steps=4, global_step=8))
    p = expect_ok("step: after the epoch's last batch", ["step", "--checkpoint", "paused/last.ckpt",
                                                         "--dump", "epoch-end.bin"], d)
    if p:
        check("step: after the epoch's last batch", "a longer run would take" in p.stderr, f"stderr {p.stderr!r}")
        # The ninth step, counted from 1 as training's messages count (epoch 3, its batch 1).
        check("step: after the epoch's last batch", "epoch 3 batch 1 (step 9)," in p.stdout, f"stdout {p.stdout!r}")
    if expect_ok("train: --resume after the epoch's last batch", ["train", "--resume", "--out", "paused", "--epochs",
                                                                  "3", "--max-steps", "9", "--progress", "never"], d) and p:
        st = stepstate.parse_dump(os.path.join(d, "epoch-end.bin"))
        resumed = export_model.read_checkpoint(paused).params
        check("step: after the epoch's last batch", (st["epoch"], st["batch"], st["global_step"]) == (2, 0, 8) and
              np.array_equal(stepstate.flat_params(st, "next"), resumed),
              f"the step's epoch {st['epoch']}, batch {st['batch']}: not the resumed run's ninth step")


def eval_output_cases(d):
    """eval's JSON: file names escaped; an empty split has null, not 0, error rates."""
    folder = os.path.join(d, 'odd "name\\')
    os.mkdir(folder)
    path = os.path.join(folder, "best\t\x01.ckpt")
    write(path, read(os.path.join(d, "run", "best.ckpt")))
    out = expect_ok("eval: a file name with a quote, backslash and control characters",
                    ["eval", "--checkpoint", path, "--eval-limit", "5"], d, parse_json=True)
    if out:
        check("eval: a file name with a quote", out["checkpoint"] == path, f"checkpoint {out['checkpoint']!r}")
        # A named set's test files are fixed by its name ("data"), and are no --test value:
        # "test" is empty, as README.md says.
        check("eval: a named set's test", out["data"] == "usps" and out["test"] == "",
              f"data {out['data']!r}, test {out['test']!r}")
    # A file name that is not UTF-8 (Latin-1's e-acute beside UTF-8's): JSON is UTF-8, so the
    # stray byte is U+FFFD and the rest as it was. Read as bytes: a decoder that replaces
    # would hide the stray byte.
    raw = os.path.join(os.fsencode(d), b"caf\xc3\xa9 \xe9.ckpt")
    write(raw, read(os.path.join(d, "run", "best.ckpt")))
    p = subprocess.run([BIN, "eval", "--checkpoint", raw, "--eval-limit", "5"], cwd=d, capture_output=True,
                       timeout=TIMEOUT)
    try:
        named = json.loads(p.stdout)["checkpoint"]
    except ValueError as e:
        named = f"not JSON ({e})"
    check("eval: a file name that is not UTF-8",
          p.returncode == 0 and named == os.path.join(d, "caf\u00e9 \ufffd.ckpt"), f"exit {p.returncode}, {named!r}")
    out = expect_ok("eval: no validation split", ["eval", "--checkpoint", "run/best.ckpt", "--valid", "0",
                                                  "--eval-noise", "0.1"], d, parse_json=True)
    if out:
        valid = out["splits"]["valid"]
        check("eval: no validation split", valid["examples"] == 0 and valid["error"] is None and
              valid["input_noise"][0]["error"] is None and valid["hidden"][0]["saturated"] is None,
              f"valid: {str(valid)[:300]}")
    # The value as config.txt writes it, in full: %g wrote 1.23456789e-6 as 1.23457e-06.
    for value, shown in (("1e-6", "1e-06"), ("1.23456789e-6", "1.23456789e-06")):
        p = expect_ok("eval: --curv-noise below float32's reach", ["eval", "--checkpoint", "run/best.ckpt",
                                                                   "--eval-limit", "5", "--curv-noise", value], d)
        if p:
            check("eval: --curv-noise below float32's reach",
                  p.stderr.startswith(f"jacnoise: warning: --curv-noise {shown} is below 1e-5")
                  and p.stderr.count("\n") == 1, f"stderr: {p.stderr!r}")
    # stdout on a full disk (/dev/full): the lost output is an error (exit 1, one line), never a success.
    if os.path.exists("/dev/full"):
        for args in (["eval", "--checkpoint", "run/best.ckpt", "--eval-limit", "5"],
                     ["data", "--data", "usps", "--valid", "100"], ["info"], ["--version"]):
            name = f"{args[0]} > /dev/full"
            with open("/dev/full", "w") as full:
                try:
                    p = subprocess.run([BIN] + args, cwd=d, stdout=full, stderr=subprocess.PIPE, text=True,
                                       timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    p = None
            if finished(name, p):
                check(name, p.returncode == 1 and p.stderr.count("\n") == 1 and "standard output" in p.stderr,
                      f"exit {p.returncode}, stderr {p.stderr[:300]!r}")
    # stdout open only for reading: the line says why the write failed, as a full disk's says "No
    # space left on device"; data, which flushes its JSON before its warnings, said "an earlier
    # write was lost"; train and profile, which flush their lines as they go, said it too.
    readonly = os.path.join(d, "readonly")
    open(readonly, "w").close()
    for args in (["eval", "--checkpoint", "run/best.ckpt", "--eval-limit", "5"],
                 ["data", "--data", "usps", "--valid", "100"], ["info"],
                 ["train", "--out", "readonly-run", "--data", "usps", "--hidden", "8", "--train-limit", "200",
                  "--valid", "100", "--epochs", "1", "--progress", "never"],
                 ["profile", "--data", "usps", "--hidden", "5", "--reps", "1", "--warmup", "0"]):
        name = f"{args[0]} with a read-only standard output"
        with open(readonly) as out:
            p = subprocess.run([BIN] + args, cwd=d, stdout=out, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT)
        check(name, p.returncode == 1 and p.stderr == "jacnoise: writing the standard output failed: "
              f"{os.strerror(errno.EBADF)}\n", f"exit {p.returncode}, stderr {p.stderr[:300]!r}")
    # stdout closed (>&-) fails so too: the first file opened took its number, and train's lines
    # went into the run folder's lock file, with exit 0.
    name = "train with a closed standard output"
    p = subprocess.run([BIN, "train", "--out", "closed-run", "--data", "usps", "--hidden", "8", "--train-limit", "200",
                        "--valid", "100", "--epochs", "1", "--progress", "never"], cwd=d, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=TIMEOUT, preexec_fn=lambda: os.close(1))
    check(name, p.returncode == 1 and p.stderr == "jacnoise: writing the standard output failed: "
          f"{os.strerror(errno.EBADF)}\n", f"exit {p.returncode}, stderr {p.stderr[:300]!r}")
    run_dir = os.path.join(d, "closed-run")
    written = [f for f in os.listdir(run_dir) if b"jacnoise: training " in read(os.path.join(run_dir, f))]
    check(name, not written, f"its output went into {written}")


def lost_best_cases(d, tiny):
    """A run folder without its best.ckpt (deleted for room, left out of a copy), resumed: the
    run ended without one where no later epoch was better, though last.ckpt holds the best
    parameters. It is written again, the state and parameters the run wrote (the stored
    options are the resume's, --epochs included): an ended run's (its best epoch its last) at
    once, and a longer run's (with --lr 1e-9 no epoch is better than the first) when it next
    writes last.ckpt. A run that ended at its best epoch and was extended (lost-extended) holds
    that epoch's state as running, as a longer run's: it said "finished" where the rebuilt one,
    which cannot know the run once ended there, said "running"."""
    for folder, first, extend, more in (
            ("lost-last", ["--epochs", "1"], None, []),
            ("lost-earlier", ["--epochs", "2", "--lr", "1e-9"], None, ["--epochs", "3"]),
            ("lost-extended", ["--epochs", "1", "--lr", "1e-9"], ["--epochs", "2"], ["--epochs", "3"])):
        name = f"train --resume without best.ckpt: {folder}"
        if not expect_ok(name, ["train", "--out", folder] + first + tiny, d):
            continue
        if extend and not expect_ok(name, ["train", "--out", folder, "--resume", "--progress", "never"] + extend, d):
            continue
        best = os.path.join(d, folder, "best.ckpt")
        kept = read(best)
        os.remove(best)
        expect_ok(name, ["train", "--out", folder, "--resume", "--progress", "never"] + more, d)
        summary = json.loads(read(os.path.join(d, folder, "summary.json")))
        check(name, summary["best_epoch"] == 1, f"best epoch {summary['best_epoch']}, expected 1")
        written = read(best) if os.path.exists(best) else None
        check(name, written and written[state_at(written):-4] == kept[state_at(kept):-4],
              "best.ckpt " + ("not the state and parameters the run wrote" if written else "missing"))


def run_folder_data_cases(d):
    """eval and step of a run's checkpoint whose idx: files are named relative to the folder
    the run started in, from another folder: they did not find the files (or found others of
    those names), where a resume reads them from the folder config.txt records; they now do
    too."""
    name = "eval and step: a run of relative idx: names, from another folder"
    start = os.path.join(d, "relstart")
    os.makedirs(start)
    write(os.path.join(start, "im.idx"), idx(0x08, [40, 4, 4], bytes(i * 11 % 256 for i in range(640))))
    write(os.path.join(start, "lb.idx"), idx(0x08, [40], bytes(i % 3 for i in range(40))))
    if not expect_ok(name, ["train", "--data", "idx:im.idx,lb.idx", "--hidden", "4", "--epochs", "1", "--valid", "10",
                            "--progress", "never", "--out", os.path.join("..", "relrun")], start):
        return
    out = expect_ok(name, ["eval", "--checkpoint", "relrun/best.ckpt"], d, parse_json=True)
    check(name, out and out["same_data_as_run"] is True, f"eval: {str(out)[:200]}")
    expect_ok(name, ["step", "--checkpoint", "relrun/last.ckpt", "--dump", "relrun.state"], d)
    # A new test set in the current folder, the run's files in its own: the --test pair was
    # looked for in the run's folder alone, and the refusal blamed the run's stored --data.
    write(os.path.join(d, "newim.idx"), idx(0x08, [7, 4, 4], bytes(i * 5 % 256 for i in range(112))))
    write(os.path.join(d, "newlb.idx"), idx(0x08, [7], bytes(i % 3 for i in range(7))))
    out = expect_ok(f"{name}: a new --test here", ["eval", "--checkpoint", "relrun/best.ckpt", "--test",
                                                    "idx:newim.idx,newlb.idx"], d, parse_json=True)
    check(f"{name}: a new --test here", out and out["splits"]["test"]["examples"] == 7 and
          out["splits"]["valid"]["examples"] == 10 and out["test"] == "idx:newim.idx,newlb.idx",
          f"eval: {str(out)[:300]}")
    # Files moved from that folder are searched for as before (./data, here).
    os.makedirs(os.path.join(d, "data"))
    for file in ("im.idx", "lb.idx"):
        os.rename(os.path.join(start, file), os.path.join(d, "data", file))
    out = expect_ok(f"{name}: files moved", ["eval", "--checkpoint", "relrun/best.ckpt"], d, parse_json=True)
    check(f"{name}: files moved", out and out["same_data_as_run"] is True, f"eval: {str(out)[:200]}")
    for file in ("im.idx", "lb.idx"):
        os.rename(os.path.join(d, "data", file), os.path.join(start, file))
    os.rmdir(os.path.join(d, "data"))
    # A file damaged in the run's folder is that error: the files were searched for elsewhere,
    # and the search's "cannot find ... in any folder tried" sent the user to fetch files that
    # are there.
    labels = os.path.join(start, "lb.idx")
    whole = read(labels)
    write(labels, whole[:20])
    for args in (["eval", "--checkpoint", "relrun/best.ckpt"],
                 ["step", "--checkpoint", "relrun/last.ckpt", "--dump", "cut.state"]):
        p = expect_error(f"{name}: a file cut short in the run's folder: {args[0]}", args, 1,
                         [os.path.join(os.path.realpath(start), "lb.idx"), "byte 20", "unexpected end of file"], d,
                         absent=["cut.state"])
        check(f"{name}: a file cut short in the run's folder: {args[0]}", p and "cannot find" not in p.stderr,
              f"stderr {p.stderr if p else ''!r}")
    write(labels, whole)
    # Gone from it and found nowhere else: the error named the search's folders alone.
    os.rename(start, start + "-moved")
    expect_error(f"{name}: the run's folder gone", ["eval", "--checkpoint", "relrun/best.ckpt"], 1,
                 ["relrun/best.ckpt", f"the run's data folder {os.path.realpath(d)}/relstart ", "cannot find im.idx"], d)
    os.rename(start + "-moved", start)


def eval_data_cases(d):
    """eval on other data than its run trained on (labels changed in --data-dir, as a
    re-fetched file changes them) said nothing: one note on stderr now says so where no data
    option was given, and the JSON's same_data_as_run says whether the data is the run's
    (null for a checkpoint of format version 1, which records no data CRC)."""
    name = "eval: other data than the run's"
    data = os.path.join(d, "evaldata")
    os.makedirs(data)

    def labels(shift):
        write(os.path.join(data, "lb.idx"), idx(0x08, [60], bytes((i + shift) % 3 for i in range(60))))
    write(os.path.join(data, "im.idx"), idx(0x08, [60, 4, 4], bytes(i * 7 % 256 for i in range(960))))
    labels(0)
    if not expect_ok(name, ["train", "--data", "idx:im.idx,lb.idx", "--data-dir", data, "--hidden", "4", "--epochs",
                            "1", "--valid", "20", "--progress", "never", "--out", "evalrun"], d):
        return
    ck = os.path.join("evalrun", "best.ckpt")
    old = os.path.join(d, "evalrun", "old.ckpt")
    write(old, read(os.path.join(d, ck)))
    ckpt.as_version1(old)
    evaluate = ["eval", "--data-dir", data, "--checkpoint"]
    for shift, args, same, noted in ((0, [ck], True, False), (1, [ck], False, True),
                                     (1, [ck, "--valid", "10"], False, False), (1, [old], None, False)):
        labels(shift)
        case = f"{name}: {' '.join(args)}, labels {'changed' if shift else 'as trained'}"
        p = expect_ok(case, evaluate + args, d)
        if not p:
            continue
        out = json.loads(p.stdout)
        check(case, out.get("same_data_as_run", "missing") is same, f"same_data_as_run {out.get('same_data_as_run')}")
        want = f"jacnoise: note: {ck}: the run trained on other data than --data idx:im.idx,lb.idx reads now from {data}"
        check(case, p.stderr.startswith(want) and p.stderr.count("\n") == 1 if noted else not p.stderr,
              f"stderr {p.stderr!r}")
    # The checkpoint's name escaped, as every message's: the note wrote its escape sequence raw.
    odd = os.path.join("evalrun", "b\x1b[2J.ckpt")
    write(os.path.join(d, odd), read(os.path.join(d, ck)))
    p = expect_ok(f"{name}: an odd name", evaluate + [odd], d)
    check(f"{name}: an odd name", p and p.stderr.startswith("jacnoise: note: evalrun/b\\x1b[2J.ckpt: the run trained "
                                                             "on other data"), f"stderr {p.stderr if p else ''!r}")
    # The run's next step from a version 1 checkpoint cannot check the data: the note said
    # "the data", not which files it read where, which a search for relative names decides.
    case = f"{name}: step from a version 1 checkpoint"
    p = expect_ok(case, ["step", "--data-dir", data, "--checkpoint", old, "--dump", "old.state"], d)
    check(case, p and f"records no data CRC: --data idx:im.idx,lb.idx from {data} could not be checked" in p.stderr,
          f"stderr {p.stderr if p else ''!r}")


def tf32_run_cases(d):
    """A run trained with TF32 GEMMs (precision=tf32 in its checkpoint and config.txt, as a GPU
    run writes them). step computes its step on the CPU in full precision: a note says so (it
    said nothing, the dump reading as the run's step); an fp32 run's step has no such note. Its
    resume on the CPU is refused naming last.ckpt and the run's precision (it named
    '--precision tf32', never given, and advised '--precision fp32', which a resume refuses)."""
    name = "step: from a TF32 run"
    blob = read(os.path.join(d, "run", "last.ckpt"))
    check(name, b"precision=fp32\n" in blob, "the tiny run's checkpoint does not say precision=fp32")
    write(os.path.join(d, "tf32.ckpt"), recrc(blob.replace(b"precision=fp32\n", b"precision=tf32\n")))
    for path, noted in (("tf32.ckpt", True), ("run/last.ckpt", False)):
        p = expect_ok(f"{name}: {path}", ["step", "--checkpoint", path, "--dump", "tf32.bin"], d)
        note = f"jacnoise: note: {path} holds a run trained with TF32 GEMMs (precision=tf32)"
        check(f"{name}: {path}", p and (note in p.stderr) == noted, f"stderr {p.stderr if p else ''!r}")
    name = "train --resume: a TF32 run on the CPU"
    os.mkdir(os.path.join(d, "tf32run"))
    for file in ("config.txt", "metrics.jsonl", "summary.json"):
        write(os.path.join(d, "tf32run", file), read(os.path.join(d, "run", file)).replace(b"precision=fp32\n",
                                                                                         b"precision=tf32\n"))
    write(os.path.join(d, "tf32run", "last.ckpt"), read(os.path.join(d, "tf32.ckpt")))
    before = folder_files(os.path.join(d, "tf32run"))
    p = expect_error(name, ["train", "--resume", "--out", "tf32run", "--device", "cpu", "--epochs", "2", "--progress",
                            "never"], 1, ["tf32run/last.ckpt", "(precision=tf32)", "--device cpu"], d)
    check(name, p and "--precision" not in p.stderr, f"stderr {p.stderr if p else ''!r}")
    check(name, folder_files(os.path.join(d, "tf32run")) == before, "the run folder changed")


def folder_files(folder):
    """The bytes of each file in a run folder (the lock aside: taking it makes it)."""
    return {n: read(os.path.join(folder, n)) for n in sorted(os.listdir(folder)) if n != "lock"}


def as_bound_user(d):
    """A command prefix and environment under which a folder's write bits bind: none, or for
    root (whom they do not bind) nobody's, with copies of the program and USPS in d (the
    checkout may lie where only root enters); None where setpriv is missing."""
    if os.geteuid() != 0:
        return [BIN], os.environ
    if not shutil.which("setpriv"):
        return None
    box = os.path.join(d, "nobody")
    os.makedirs(box)
    binary = shutil.copy(BIN, box)
    for name in ("zip.train.gz", "zip.test.gz"):
        shutil.copy(os.path.join(os.environ["JACNOISE_DATA"], name), box)
    for path in (d, box, binary):
        os.chmod(path, 0o755)
    return (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary],
            dict(os.environ, JACNOISE_DATA=box))


def stored_tiny_cases(d, tiny):
    """A run saved before values below float32's smallest normal number were refused (here its
    weight decay 2e-40, written where 2e-30 was) still evaluates, shows and resumes: its stored
    configuration is what it ran with. It was refused as a new run's --weight-decay 2e-40; a
    new run from its config.txt still is."""
    name = "a run saved with a value below float32's smallest normal"
    if not expect_ok(name, ["train", "--epochs", "1", "--weight-decay", "2e-30", "--out", "saved-tiny"] + tiny, d):
        return
    for f in ("config.txt", "best.ckpt", "last.ckpt"):
        path = os.path.join(d, "saved-tiny", f)
        body = read(path).replace(b"weight-decay=2e-30", b"weight-decay=2e-40")
        write(path, body if f == "config.txt" else recrc(body))
    expect_ok(f"{name}: eval", ["eval", "--checkpoint", "saved-tiny/best.ckpt", "--eval-limit", "50"], d)
    expect_ok(f"{name}: show", ["show", "saved-tiny/last.ckpt"], d)
    expect_ok(f"{name}: resume", ["train", "--resume", "--out", "saved-tiny", "--epochs", "2"] + tiny, d)
    expect_error(f"{name}: a new run from its config.txt", ["train", "--config", "saved-tiny/config.txt", "--out",
                                                           "new-tiny"], 2,
                 ["line", "--weight-decay 2e-40: below 1.17549435e-38"], d, absent=["new-tiny"])
    # Killed before its first checkpoint (config.txt alone): --resume=auto with other options
    # refuses to start another experiment there, as for any run (it read config.txt as no run's
    # and replaced it).
    os.makedirs(os.path.join(d, "killed-tiny"))
    write(os.path.join(d, "killed-tiny", "config.txt"), read(os.path.join(d, "saved-tiny", "config.txt")))
    expect_error(f"{name}: --resume=auto before its first checkpoint", ["train", "--resume=auto", "--out",
                                                                        "killed-tiny"] + tiny, 1,
                 ["--resume=auto: --out killed-tiny holds no last.ckpt", "killed-tiny/config.txt"], d)


def ended_run_cases(d, tiny):
    """A resume of a run that ended, with nothing left to do, says how it ended and writes
    nothing: it rewrote summary.json, whose seconds became its own, and a copy kept read-only
    (chmod -R a-w, as from an archive) was refused ('RUN/lock: cannot open'). There, a resume
    with epochs to train is refused before any work, in one line naming the folder."""
    name = "train --resume: an ended run"
    if not expect_ok(name, ["train", "--epochs", "1", "--out", "ended"] + tiny, d):
        return
    folder = os.path.join(d, "ended")
    before = folder_files(folder)
    p = expect_ok(name, ["train", "--out", "ended", "--resume", "--progress", "never"], d)
    check(name, p and "finished: trained 1 epoch" in p.stdout, f"stdout {p.stdout[-200:] if p else ''!r}")
    check(name, folder_files(folder) == before, "the resume rewrote the run folder")
    # A summary.json torn or not the checkpoint's is written again, not kept as it is.
    summary = os.path.join(folder, "summary.json")
    write(summary, before["summary.json"][:40])
    expect_ok(name, ["train", "--out", "ended", "--resume", "--progress", "never"], d)
    check(name, read(summary).endswith(b"}\n") and b'"status": "finished"' in read(summary),
          f"summary.json {read(summary)[:100]!r}")
    # Its last.ckpt gone (deleted for room), --resume said "start the run without --resume",
    # which refuses the folder: it now says why neither goes on.
    os.mkdir(os.path.join(d, "ended-nolast"))
    for file, blob in before.items():
        if file != "last.ckpt":
            write(os.path.join(d, "ended-nolast", file), blob)
    expect_error(f"{name} without its last.ckpt", ["train", "--out", "ended-nolast", "--resume", "--progress", "never"],
                 1, ["--resume: --out ended-nolast already holds an ended run's results", "ended-nolast/summary.json",
                     "no last.ckpt"], d)
    # A stored --device that cannot run here (a GPU run copied to a laptop) is named as
    # config.txt's, not as if the command line had given it; --device cpu goes on.
    config = os.path.join(folder, "config.txt")
    write(config, before["config.txt"].replace(b"device=auto\n", b"device=cuda\n"))
    p = run(["train", "--out", "ended", "--resume", "--progress", "never"], d)
    if finished(name, p) and p.returncode:  # else a GPU ran it
        check(name, p.stderr.startswith("jacnoise: ended/config.txt: stored configuration: --device cuda: "),
              f"stderr {p.stderr!r}")
    expect_ok(name, ["train", "--out", "ended", "--resume", "--device", "cpu", "--progress", "never"], d)
    # So is a stored data-dir that is gone (a run moved to another machine): its "--data-dir
    # DIR: No such file" read as an option the command line gave.
    gone = os.path.join(d, "gone-data-dir")
    write(config, re.sub(rb"(?m)^data-dir=.*$", b"data-dir=" + gone.encode(), before["config.txt"]))
    expect_error(f"{name}: its stored data-dir gone", ["train", "--out", "ended", "--resume", "--progress", "never"],
                 1, [f"jacnoise: ended/config.txt: stored configuration: usps: --data-dir {gone}: "], d)
    expect_ok(name, ["train", "--out", "ended", "--resume", "--data-dir", os.environ["JACNOISE_DATA"], "--progress",
                     "never"], d)
    write(config, before["config.txt"])
    user = as_bound_user(d)
    if not user:
        return
    for path in [folder] + [os.path.join(folder, n) for n in os.listdir(folder)]:
        os.chmod(path, os.stat(path).st_mode & ~0o222)
    prefix, env = user
    for extra, code in (([], 0), (["--epochs", "2"], 1)):
        case = f"{name}, read-only, {' '.join(extra) or 'as it was'}"
        p = subprocess.run(prefix + ["train", "--out", "ended", "--resume", "--progress", "never"] + extra, cwd=d,
                           env=env, capture_output=True, text=True, errors="replace", timeout=TIMEOUT)
        if not finished(case, p):
            continue
        check(case, p.returncode == code, f"exit {p.returncode}, expected {code}; stderr {p.stderr[-300:]!r}")
        if code:
            check(case, p.stderr.count("\n") == 1 and "--out ended: cannot write in the folder" in p.stderr and
                  "epoch" not in p.stdout, f"stdout {p.stdout[-200:]!r}, stderr {p.stderr!r}")
        else:
            check(case, "finished: trained 1 epoch" in p.stdout, f"stdout {p.stdout[-200:]!r}")
    os.chmod(folder, 0o755)


def device_record(d):
    """summary.json records the device a run trained on (the CPU: its model, BLAS threads and
    library, as `info` reports them), and `show` prints it for the run's checkpoints; a summary
    from before devices were recorded still reads: `show` says so, and resuming that ended run
    finds it agrees (it writes nothing)."""
    name = "train: summary.json records the device"
    s = json.loads(read(os.path.join(d, "run", "summary.json")))
    info = run(["info"], d).stdout
    blas = re.search(r"^blas: (.*)$", info, re.M).group(1)
    threads = int(re.search(r"^blas core: .*, (\d+) threads?;", info, re.M).group(1))
    check(name, (s.get("backend"), s.get("threads"), s.get("blas")) == ("cpu", threads, blas),
          f"summary.json {s}, info {info!r}")
    model = ""
    if os.path.exists("/proc/cpuinfo"):
        found = re.search(r"^model name\s*:\s*(.*)$", read("/proc/cpuinfo").decode(errors="replace"), re.M)
        model = found.group(1).strip() if found else ""
    check(name, bool(s.get("device")) and s.get("device", "").startswith(model), f"device {s.get('device')!r}")
    want = f"device: cpu, {s.get('device')}, {threads} BLAS thread{'' if threads == 1 else 's'}, {blas}"
    for ck in ("run/best.ckpt", "run/last.ckpt"):
        p = expect_ok(f"show {ck}: the device", ["show", ck], d)
        check(f"show {ck}: the device", p and want in p.stdout.splitlines(), f"expected {want!r}: {p and p.stdout!r}")
    old = os.path.join(d, "old-summary")
    shutil.copytree(os.path.join(d, "run"), old)
    before = json.dumps({k: v for k, v in s.items() if k not in ("backend", "device", "threads", "blas")},
                        indent=2).encode() + b"\n"
    write(os.path.join(old, "summary.json"), before)
    # The summary is named beside the checkpoint as given, as train names it from --out: given
    # from inside the folder, 'summary.json', not './summary.json'.
    for given, cwd, summary in (("old-summary/best.ckpt", d, "old-summary/summary.json"),
                                ("best.ckpt", old, "summary.json")):
        p = expect_ok(f"show {given}: a summary without the device", ["show", given], cwd)
        check(f"show {given}: a summary without the device",
              p and any(l.startswith(f"device: not recorded ({summary} was written") for l in p.stdout.splitlines()),
              f"{p and p.stdout!r}")
    expect_ok("train: --resume of an ended run whose summary has no device",
              ["train", "--resume", "--out", "old-summary", "--progress", "never"], d)
    check("train: --resume of an ended run whose summary has no device",
          read(os.path.join(old, "summary.json")) == before, "summary.json rewritten: it did not read")
    # A summary edited down to some of the device's fields: those printed, not "cpu, , 0 BLAS threads, ".
    for fields, want in (({"backend": "cpu"}, "device: cpu (its details not recorded)"),
                         ({"backend": "cpu", "threads": 1}, "device: cpu, 1 BLAS thread"),
                         ({"backend": "cuda"}, "device: cuda, fp32 GEMMs")):
        write(os.path.join(old, "summary.json"), json.dumps({**json.loads(before), **fields}).encode())
        p = expect_ok(f"show: a summary with only {fields}", ["show", "old-summary/best.ckpt"], d)
        check(f"show: a summary with only {fields}", p and want in p.stdout.splitlines(), f"{p and p.stdout!r}")

def progress_epoch_end_cases(d):
    """The progress line at an epoch's end: its last batch is drawn however soon it comes after
    the draw before (redraws are otherwise 0.1 s apart, and a fast epoch showed batch 1/4 as its
    last), and the line is cleared before the epoch's report, which would otherwise be written
    over it on a terminal, and when the run ends."""
    name = "train: progress line at an epoch's end"
    p = expect_ok(name, ["train", "--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "100",
                         "--batch", "50", "--epochs", "2", "--progress", "always", "--out", "progress-ends"], d)
    if p:
        # Each draw and clear starts with \r (read as \n: the output is read as text). At the
        # end the checkpoint note may follow (a loaded machine's slow fsync: group.c).
        ends = re.findall(r"epoch (\d)/2  batch 4/4  [^\r\n]*[\r\n]\x1b\[K(?:[\r\n]\x1b\[K|$|jacnoise: note: )",
                          p.stderr)
        check(name, ends == ["1", "2"], f"epochs whose last batch was drawn, then cleared: {ends}; "
              f"stderr {p.stderr[-400:]!r}")
        # Its loss and training error are the epoch's, as metrics.jsonl has them (to the line's
        # digits): a line that divided the sums by another count went unnoticed.
        drawn = [(float(loss), float(train)) for loss, train in
                 re.findall(r"epoch \d/2  batch 4/4  loss (\S+)  train (\S+)%", p.stderr)]
        with open(os.path.join(d, "progress-ends", "metrics.jsonl")) as f:
            epochs = [json.loads(line) for line in f]
        check(name, len(drawn) == len(epochs) == 2 and
              all(abs(loss - m["train_loss"]) <= 5e-5 + 1e-9 and abs(train - m["train_error"]) <= 5e-3 + 1e-9
                  for (loss, train), m in zip(drawn, epochs)),
              f"epochs' last lines drew (loss, train %) {drawn}; metrics.jsonl has "
              f"{[(m['train_loss'], m['train_error']) for m in epochs]}")


def progress_eta_resumed_cases(d):
    """A resumed run's ETA is its steps left at the line's rate, counted from where the run
    stands, not from where the resume started (which counted the steps trained before it as left
    to do). The ETA is whole seconds: the steps trained before the resume must take seconds at
    the line's rate for a count off by them to show, so their number is taken from the rate this
    machine measures now (a fast one ran 400 steps in under the ETA's half-second rounding), and
    so is the resumed run's."""
    name = "train: ETA of a resumed run"
    line = r"epoch (\d+)/1000000  batch (\d+)/(\d+)  [^\r\n]*  (\S+) steps/s  ETA (\S+)"
    # --patience 0: the steps a fast machine asks for ran past an early stop.
    p = expect_ok(name, ["train", "--data", "usps", "--hidden", "1000", "--epochs", "1000000", "--max-steps", "400",
                         "--patience", "0", "--progress", "always", "--out", "eta-resumed"], d)
    rates = [float(m[3]) for m in re.findall(line, p.stderr)] if p else []
    check(name, rates, f"no progress line in the first run: stderr {p and p.stderr[-300:]!r}")
    if not rates:
        return
    # 4 s of steps at the fastest rate seen before the resume, 2 s after it (lines are drawn
    # 0.1 s apart: a run of 100 steps on a fast machine drew none).
    before, after = max(400, math.ceil(4 * max(rates))), max(100, math.ceil(2 * max(rates)))
    if before > 400 and not expect_ok(name, ["train", "--out", "eta-resumed", "--resume", "--max-steps", str(before),
                                             "--progress", "never"], d):
        return
    total = before + after
    p = expect_ok(name, ["train", "--out", "eta-resumed", "--resume", "--max-steps", str(total),
                         "--progress", "always"], d)
    if not p:
        return
    lines = re.findall(line, p.stderr)
    wrong, telling = [], 0
    for epoch, batch, batches, rate, said in lines:
        left = total - ((int(epoch) - 1) * int(batches) + int(batch))
        want = left / float(rate)
        # "12m05s", "1h02m" (a slow machine's: they went unchecked), "2d03h": rounded to the last unit.
        eta = re.fullmatch(r"(\d+)([dhm])(\d\d)([hms])", said)
        if not eta:
            wrong.append(f"ETA {said!r} at {rate} steps/s with {left} steps left")
            continue
        unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
        eta, rounding = int(eta[1]) * unit[eta[2]] + int(eta[3]) * unit[eta[4]], unit[eta[4]] / 2
        slack = rounding + 0.01 * want  # the rate's three digits
        if abs(eta - want) > slack:
            wrong.append(f"ETA {eta} s at {rate} steps/s with {left} steps left")
        # Whether a count of the steps before the resume as left would have shown in this line.
        telling += before / float(rate) > 2 * slack + 0.01 * before / float(rate)
    check(name, lines and not wrong, f"{wrong[:3] or 'no progress line'}; stderr {p.stderr[-300:]!r}")
    check(name, telling, f"no line whose ETA would show {before} steps counted as left (rates "
          f"{[r[3] for r in lines]} steps/s, measured {max(rates)} before): the run sped up past what it measured")


def progress_rate_cases(d):
    """The progress line's rate has three significant digits or so: two decimals below 10 steps/s
    (a slow run's 0.42 steps/s read as 0 with none), one below 100, none from 100 (a value that
    rounds up to the next range keeps its own: 9.996 is 10.00). Runs of thousands of steps/s,
    tens and a few (on one machine; the digits must fit whatever rate a loaded one measures).
    Which ranges a machine reaches depends on its speed: test_profile_rounds holds each range's
    digits (a check here that each was reached failed on a machine twice as fast)."""
    name = "train: the progress line's rate"
    rates = []
    for k, (hidden, batch, steps) in enumerate([("8", "10", "200"), ("500,500", "500", "20"), ("1500,1500", "500", "4")]):
        p = expect_ok(name, ["train", "--data", "usps", "--train-limit", "2000", "--valid", "0", "--epochs", "1",
                             "--hidden", hidden, "--batch", batch, "--max-steps", steps, "--progress", "always",
                             "--out", f"rate{k}"], d)
        rates += re.findall(r"  (\S+) steps/s  ETA ", p.stderr) if p else []
    bad = [r for r in rates if not re.fullmatch(r"\d\.\d\d|10\.00|[1-9]\d\.\d|100\.0|[1-9]\d{2,}", r)]
    check(name, rates and not bad, f"rates {bad or rates} are not of their range's digits")


def step_stored_inert_cases(d):
    """step from a checkpoint warns of the options that change nothing its command line gave,
    not of the run's own (said when it trained): `step --checkpoint RUN/last.ckpt` warned of a
    --jac-noise or --jac-copies its user never gave. Given again, they are warned of."""
    tiny = ["--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "100", "--progress", "never"]
    for k, (trained, words) in enumerate([(["--jac-noise", "0.1"], ["--jac-noise changes nothing"]),
                                          (["--jac-lambda", "0.1", "--jac-copies", "3"],
                                           ["--jac-copies 3 without --jac-noise"])]):
        name = f"step: a run trained with {' '.join(trained)}"
        folder = f"inert{k}"
        if not expect_ok(name, ["train", "--max-steps", "1", "--out", folder] + tiny + trained, d):
            continue
        ck = os.path.join(folder, "last.ckpt")
        p = expect_ok(name, ["step", "--checkpoint", ck, "--dump", f"{folder}.step"], d)
        check(name, p and p.stderr == "", f"stderr {p.stderr if p else None!r}, expected none")
        p = expect_ok(name + ", given again", ["step", "--checkpoint", ck, "--dump", f"{folder}-again.step"] +
                      trained[-2:], d)
        lines = p.stderr.splitlines() if p else []
        check(name + ", given again", len(lines) == 1 and lines[0].startswith("jacnoise: warning: ") and
              all(w in lines[0] for w in words), f"expected one warning line with {words}: {lines!r}")


def resume_inert_cases(d):
    """train --resume warns of the options that change nothing as the run has them: a penalised
    run's --jac-noise given again was warned of as without the penalty (read from the command
    line's --jac-lambda, 0 where not given). Options it leaves inert, given, are warned of."""
    tiny = ["--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "100", "--progress", "never"]
    for k, (trained, again, words) in enumerate([(["--jac-lambda", "0.1", "--jac-noise", "0.1"], ["--jac-noise", "0.1"], None),
                                                 (["--jac-lambda", "0.1", "--jac-copies", "3"], ["--jac-copies", "3"],
                                                  ["--jac-copies 3 without --jac-noise"])]):
        name = f"train: --resume {' '.join(again)} of a run trained with {' '.join(trained)}"
        folder = f"resume-inert{k}"
        if not expect_ok(name, ["train", "--max-steps", "1", "--out", folder] + tiny + trained, d):
            continue
        p = expect_ok(name, ["train", "--resume", "--max-steps", "2", "--out", folder, "--progress", "never"] + again,
                      d)
        lines = p.stderr.splitlines() if p else []
        check(name, lines == [] if words is None else len(lines) == 1 and
              lines[0].startswith("jacnoise: warning: ") and all(w in lines[0] for w in words),
              f"expected {f'one warning line with {words}' if words else 'no warning'}: {lines!r}")


def resume_threads_cases(d):
    """train --resume warns of the BLAS threads the run uses, its stored --threads where none is
    given: a run of more threads than CPUs resumed without --threads ran them unwarned (the
    warning read the command line's --threads, 0 there). Given, a resume's --threads is warned of."""
    tiny = ["--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "100", "--progress", "never"]
    many = len(os.sched_getaffinity(0)) + 1
    crowded = [f"--threads {many}"]
    for k, (trained, again, words) in enumerate([([str(many)], [], crowded), (["1"], [str(many)], crowded),
                                                 ([str(many)], ["1"], None), (["1"], [], None)]):
        name = f"train: --resume {' '.join(['--threads'] + again) if again else 'without --threads'} of a run " \
               f"trained with --threads {trained[0]}"
        folder = f"resume-threads{k}"
        if not expect_ok(name, ["train", "--max-steps", "1", "--out", folder, "--threads"] + trained + tiny, d):
            continue
        p = expect_ok(name, ["train", "--resume", "--max-steps", "2", "--out", folder, "--progress", "never"] +
                      (["--threads"] + again if again else []), d)
        lines = p.stderr.splitlines() if p else []
        check(name, lines == [] if words is None else len(lines) == 1 and
              lines[0].startswith("jacnoise: warning: ") and all(w in lines[0] for w in words),
              f"expected {f'one warning line with {words}' if words else 'no warning'}: {lines!r}")


def run_cases(d):
    e = lambda name, args, words, code=1, absent=(): expect_error(name, args, code, words, d, absent)
    tiny = ["--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "100", "--progress", "never"]
    if not expect_ok("train: tiny run", ["train", "--epochs", "1", "--out", "run"] + tiny, d):
        return
    best, last = os.path.join(d, "run", "best.ckpt"), os.path.join(d, "run", "last.ckpt")
    for f in ["best.ckpt", "last.ckpt", "config.txt", "metrics.jsonl", "summary.json"]:
        check("train: tiny run", os.path.exists(os.path.join(d, "run", f)), f"the run folder lacks {f}")
    check("train: tiny run", not tmp_files(os.path.join(d, "run")), "left *.tmp files in the run folder")
    device_record(d)
    # A model too large for the memory the process may have (its address space capped at 8 GiB,
    # its parameters 14 GB a copy): one line, no run folder; a single run's said "1 models".
    # The sanitizers' allocator aborts on a refused allocation instead (and needs more address
    # space than the cap to start).
    name = "train: out of memory"
    capped = lambda: resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
    big = ["train", "--data", "usps", "--hidden", "60000,60000", "--device", "cpu", "--out", "big", "--progress", "never"]
    p = run(big, d, capped)
    if p is not None and "Sanitizer" in p.stderr + p.stdout:
        print(f"{name}: not checked under the sanitizers")
    else:
        expect_error(name, big, 1, ["jacnoise: out of memory for the CPU backend (1 model, batch 100, 3616080010 "
                                    "parameters each)"], d, absent=["big"], preexec_fn=capped)

    # eval on good and broken checkpoints
    for ck in ["run/best.ckpt", "run/last.ckpt"]:
        out = expect_ok(f"eval {ck}", ["eval", "--checkpoint", ck, "--eval-limit", "50"], d, parse_json=True)
        if out:
            check(f"eval {ck}", out.get("model") == "256-8-10" and "valid" in out.get("splits", {}),
                  f"unexpected JSON: {str(out)[:200]}")
    out = expect_ok("eval --eval-noise", ["eval", "--checkpoint", "run/best.ckpt", "--eval-limit", "50",
                                          "--eval-noise", "0,0.25,3"], d, parse_json=True)
    if out:
        test = out["splits"]["test"]
        levels = test.get("input_noise", [])
        check("eval --eval-noise", [x["std"] for x in levels] == [0, 0.25, 3], f"levels: {levels}")
        check("eval --eval-noise", levels and levels[0]["errors"] == test["errors"],
              f"std 0 should give the clean errors: {levels} vs {test['errors']}")
    good = read(best)
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    write(os.path.join(d, "flipped.ckpt"), bytes(flipped))
    e("eval: one flipped byte", ["eval", "--checkpoint", "flipped.ckpt"], ["flipped.ckpt", "byte", "checksum"])
    # A flipped bit in a field the file's size is read from (the parameter count, the length of
    # the configuration text) made a whole file read as "truncated"; the header checks those.
    for at, bit, field in ((36, 0x01, "the parameter count"), (42, 0x01, "the configuration length")):
        damaged = bytearray(good)
        damaged[at] ^= bit
        write(os.path.join(d, "header.ckpt"), bytes(damaged))
        e(f"eval: a flipped bit in {field}", ["eval", "--checkpoint", "header.ckpt"],
          ["header.ckpt", f"byte {len(good) - 4}: checksum mismatch"])
    write(os.path.join(d, "truncated.ckpt"), good[:len(good) // 2])
    for cmd in (["eval", "--checkpoint"], ["show"]):  # the header gives the size: not a checksum mismatch
        e(f"{cmd[0]}: truncated", cmd + ["truncated.ckpt"],
          ["truncated.ckpt", f"byte {len(good) // 2}", f"truncated: {len(good) // 2} bytes, expected {len(good)}"])
    write(os.path.join(d, "short.ckpt"), good[:10])
    e("eval: cut in the header", ["eval", "--checkpoint", "short.ckpt"], ["short.ckpt", "byte 8"])
    write(os.path.join(d, "empty.ckpt"), b"")
    e("eval: empty file", ["eval", "--checkpoint", "empty.ckpt"], ["empty.ckpt", "byte 0"])
    write(os.path.join(d, "magic.ckpt"), b"NOTACKPT" + good[8:])
    e("eval: wrong magic", ["eval", "--checkpoint", "magic.ckpt"], ["magic.ckpt", "byte 0", "magic"])
    for version in (0, 99):  # an older format is as unreadable as a newer one, whatever its checksum
        write(os.path.join(d, "version.ckpt"), recrc(good[:8] + struct.pack("<I", version) + good[12:]))
        e(f"eval: unknown version {version}", ["eval", "--checkpoint", "version.ckpt"],
          ["version.ckpt", "byte 8", f"version {version}"])
    e("eval: missing file", ["eval", "--checkpoint", "nothere.ckpt"], ["nothere.ckpt"])
    e("eval: a folder", ["eval", "--checkpoint", "run"], ["run"])
    if os.path.exists("/dev/zero"):
        e("eval: an endless device file", ["eval", "--checkpoint", "/dev/zero"], ["/dev/zero", "not a regular file"])
    e("eval: the config.txt", ["eval", "--checkpoint", "run/config.txt"], ["run/config.txt", "byte 0"])
    for cut in (14, 30):  # inside the header, which used to read as a corrupt file
        write(os.path.join(d, f"cut{cut}.ckpt"), good[:cut])
        e(f"eval: checkpoint cut at byte {cut}", ["eval", "--checkpoint", f"cut{cut}.ckpt"],
          [f"cut{cut}.ckpt", f"byte {cut}", f"truncated: {cut} bytes, expected at least"])
    # Edits with a valid checksum: the reader still checks what it trusts.
    write(os.path.join(d, "width0.ckpt"), recrc(good[:24] + struct.pack("<I", 0) + good[28:]))
    e("eval: layer width 0 (valid CRC)", ["eval", "--checkpoint", "width0.ckpt"],
      ["width0.ckpt", "byte 24", "layer size 0 out of range [1, "])
    write(os.path.join(d, "layers.ckpt"), recrc(good[:16] + struct.pack("<I", 1000) + good[20:]))
    e("eval: 1000 layers (valid CRC)", ["eval", "--checkpoint", "layers.ckpt"],
      ["layers.ckpt", "byte 16", "1000 weight layers, out of range [2, "])
    write(os.path.join(d, "width9.ckpt"), recrc(good[:24] + struct.pack("<I", 9) + good[28:]))
    e("eval: sizes disagree with the count (valid CRC)", ["eval", "--checkpoint", "width9.ckpt"],
      ["width9.ckpt", "parameters"])
    # The training state: a best epoch beyond the epochs done, a best validation error beyond
    # 100% (NaN is a run without a validation split) were taken as they came.
    state_at = 44 + struct.unpack("<I", good[40:44])[0]  # one hidden layer: the text from byte 44
    write(os.path.join(d, "bestepoch.ckpt"), recrc(good[:state_at + 28] + struct.pack("<I", 9) + good[state_at + 32:]))
    e("eval: best epoch beyond the epochs done (valid CRC)", ["eval", "--checkpoint", "bestepoch.ckpt"],
      ["bestepoch.ckpt", f"byte {state_at + 28}", "best epoch 9"])
    write(os.path.join(d, "badepochs.ckpt"), recrc(good[:state_at + 32] + struct.pack("<I", 9) + good[state_at + 36:]))
    e("eval: more epochs without a better one than epochs done (valid CRC)", ["eval", "--checkpoint", "badepochs.ckpt"],
      ["badepochs.ckpt", f"byte {state_at + 28}", "9 epochs without a better one"])
    write(os.path.join(d, "bestvalid.ckpt"), recrc(good[:state_at + 20] + struct.pack("<d", 250.0) +
                                                   good[state_at + 28:]))
    e("eval: best validation error of 250% (valid CRC)", ["eval", "--checkpoint", "bestvalid.ckpt"],
      ["bestvalid.ckpt", f"byte {state_at + 20}", "250%, out of range [0, 100]"])
    at = good.find(b"loss=xent")
    check("checkpoint holds its configuration", at > 0, "no 'loss=xent' in best.ckpt")
    if at > 0:
        write(os.path.join(d, "config.ckpt"), recrc(good[:at] + b"loss=xxxx" + good[at + 9:]))
        e("eval: bad stored configuration (valid CRC)", ["eval", "--checkpoint", "config.ckpt"],
          ["config.ckpt", "line", "--loss", "xxxx"])
        # A stored value the data refuses names the checkpoint, not the command line.
        write(os.path.join(d, "baddata.ckpt"), recrc(good.replace(b"data=usps", b"data=\xffsps", 1)))
        e("eval: bad stored data set (valid CRC)", ["eval", "--checkpoint", "baddata.ckpt"],
          ["baddata.ckpt", "stored configuration", "--data"])
    e("eval: the stored --train-limit cannot apply", ["eval", "--checkpoint", "run/best.ckpt", "--valid", "7200"],
      ["run/best.ckpt", "stored configuration", "--train-limit 200"])
    # The same value given on the command line is the command line's.
    p = e("eval: a --train-limit given that cannot apply", ["eval", "--checkpoint", "run/best.ckpt", "--valid", "7200",
                                                            "--train-limit", "200"], ["--train-limit 200"])
    check("eval: a --train-limit given that cannot apply", p is None or "stored configuration" not in p.stderr,
          f"blamed on the checkpoint: {p.stderr!r}")
    state_cases(d, good, read(last))
    eval_output_cases(d)
    e("eval without --checkpoint", ["eval", "--eval-limit", "5"], ["--checkpoint"], code=2)
    # A value given that the options refuse is a bad command line (exit 2), as train and data
    # say; eval and step said exit 1.
    e("eval: an unknown --data", ["eval", "--checkpoint", "run/best.ckpt", "--data", "foo"],
      ["--data foo", "unknown data set"], code=2)
    e("eval: --test with the run's named data", ["eval", "--checkpoint", "run/best.ckpt", "--test", "idx:a,b"],
      ["--test", "only for idx:"], code=2)
    e("eval: the checkpoint's model against other data", ["eval", "--checkpoint", "run/best.ckpt", "--data", "mnist"],
      ["run/best.ckpt", "256-8-10", "mnist", "784 inputs"])

    # step
    e("step without --dump", ["step", "--checkpoint", "run/last.ckpt"], ["--dump"], code=2)
    # The output path is checked before the step runs (a bad option: exit 2).
    e("step: --dump into a missing folder", ["step", "--checkpoint", "run/last.ckpt", "--dump", "nodir/s.bin"],
      ["--dump nodir/s.bin", "no folder nodir"], code=2, absent=["nodir"])
    # A file where the folder should be is said as such (it read "no folder run/config.txt").
    e("step: --dump into a file", ["step", "--checkpoint", "run/last.ckpt", "--dump", "run/config.txt/s.bin"],
      ["jacnoise: --dump run/config.txt/s.bin: run/config.txt is not a folder\n"], code=2)
    # Further under it too (it said "no folder run/config.txt/sub").
    e("step: --dump under a file", ["step", "--checkpoint", "run/last.ckpt", "--dump", "run/config.txt/sub/s.bin"],
      ["jacnoise: --dump run/config.txt/sub/s.bin: run/config.txt is not a folder\n"], code=2)
    os.mkdir(os.path.join(d, "adir"))
    # A name with no room for the ".tmp" its write goes through failed after the step, as "cannot
    # remove the stale NAME.tmp: File name too long"; refused now before any work.
    long_name = "s" * (os.pathconf(d, "PC_NAME_MAX") - 3)
    e("step: --dump with a name too long for its .tmp", ["step", "--checkpoint", "run/last.ckpt", "--dump", long_name],
      [f"--dump {long_name}", "too long for the temporary file"], code=2, absent=[long_name])
    e("step: --dump onto a folder", ["step", "--checkpoint", "run/last.ckpt", "--dump", "adir"],
      ["--dump adir", "is a folder"], code=2, absent=["adir.tmp"])
    # A folder at FILE.tmp, which the write cannot remove, failed it after the step ("cannot
    # remove the stale FILE.tmp: Is a directory"); refused now before any work.
    os.mkdir(os.path.join(d, "held.bin.tmp"))
    e("step: a folder at --dump's FILE.tmp", ["step", "--checkpoint", "run/last.ckpt", "--dump", "held.bin"],
      ["--dump held.bin", "held.bin.tmp is a folder"], code=2, absent=["held.bin"])
    os.rmdir(os.path.join(d, "held.bin.tmp"))
    # The state is renamed over the path: a FIFO, a link or the input checkpoint would be lost.
    os.mkfifo(os.path.join(d, "dumpfifo"))
    e("step: --dump onto a FIFO", ["step", "--checkpoint", "run/last.ckpt", "--dump", "dumpfifo"],
      ["--dump dumpfifo", "not a regular file"], code=2, absent=["dumpfifo.tmp"])
    os.symlink("target.bin", os.path.join(d, "dumplink"))
    e("step: --dump onto a symbolic link", ["step", "--checkpoint", "run/last.ckpt", "--dump", "dumplink"],
      ["--dump dumplink", "symbolic link"], code=2, absent=["target.bin", "dumplink.tmp"])
    check("step: --dump onto a symbolic link", os.path.islink(os.path.join(d, "dumplink")), "the link was replaced")
    # What a stale temporary file at FILE.tmp is does not matter: it is removed, not opened (a
    # link there was written through, to the file it names, which FILE then became a link to;
    # a FIFO there waited for a reader for ever).
    write(os.path.join(d, "victim.txt"), b"precious")
    os.symlink("victim.txt", os.path.join(d, "planted.bin.tmp"))
    os.mkfifo(os.path.join(d, "fifotmp.bin.tmp"))
    for out in ("planted.bin", "fifotmp.bin"):
        name = f"step: a link or FIFO at {out}.tmp"
        if expect_ok(name, ["step", "--checkpoint", "run/last.ckpt", "--dump", out], d):
            path = os.path.join(d, out)
            check(name, not os.path.islink(path) and read(path)[:8] == b"JNSTEP\0\n", f"{out} is not the step state")
            check(name, not os.path.lexists(path + ".tmp"), f"{out}.tmp left behind")
    check("step: a link at the temporary file's name", read(os.path.join(d, "victim.txt")) == b"precious",
          "the file the link names was overwritten")
    # A step state given for a checkpoint is named as one (it read as any foreign file).
    e("eval: a step state", ["eval", "--checkpoint", "planted.bin"],
      ["planted.bin: byte 0", "a step state", "jacnoise step --dump"])
    before_step = read(last)
    e("step: --dump onto its --checkpoint", ["step", "--checkpoint", "run/last.ckpt", "--dump", "run/../run/last.ckpt"],
      ["--dump run/../run/last.ckpt", "--checkpoint"], code=2)
    check("step: --dump onto its --checkpoint", read(last) == before_step, "the checkpoint changed")
    # Nor onto the run's other checkpoint, or the --config file it reads: the step state
    # replaced either without a word.
    before_best = read(best)
    e("step: --dump onto another checkpoint", ["step", "--checkpoint", "run/last.ckpt", "--dump", "run/best.ckpt"],
      ["--dump run/best.ckpt", "checkpoint"], code=2)
    check("step: --dump onto another checkpoint", read(best) == before_best, "best.ckpt changed")
    write(os.path.join(d, "step.cfg"), b"batch=100\n")
    e("step: --dump onto its --config", ["step", "--config", "step.cfg", "--checkpoint", "run/last.ckpt", "--dump",
                                         "step.cfg"], ["--dump step.cfg", "--config"], code=2)
    check("step: --dump onto its --config", read(os.path.join(d, "step.cfg")) == b"batch=100\n", "the file changed")
    e("step: model differs from the checkpoint", ["step", "--checkpoint", "run/last.ckpt", "--hidden", "16",
                                                  "--dump", "mismatch.bin"],
      ["run/last.ckpt", "--hidden"], absent=["mismatch.bin", "mismatch.bin.tmp"])
    e("step: broken checkpoint", ["step", "--checkpoint", "flipped.ckpt", "--dump", "broken.bin"],
      ["flipped.ckpt", "checksum"], absent=["broken.bin", "broken.bin.tmp"])
    e("step: --jac-target hidden:3 on 2 hidden layers",
      ["step", "--data", "usps", "--hidden", "8,8", "--train-limit", "200", "--valid", "100", "--jac-lambda", "0.1",
       "--jac-target", "hidden:3", "--dump", "h3.bin"], ["--jac-target", "hidden:3"], code=2, absent=["h3.bin"])
    # The next step of the checkpoint's run: an option that decides its numbers stays the
    # run's (a changed --lr, --seed or --batch used to give another run's step without a word).
    # The other value is a fresh run's step: step has no --out (it said "start a new run
    # (another --out)", as train --resume does).
    for option, value in [("--lr", "0.5"), ("--seed", "5"), ("--batch", "7")]:
        p = e(f"step: {option} other than the run's", ["step", "--checkpoint", "run/last.ckpt", option, value,
                                                      "--dump", "changed.bin"],
              ["run/last.ckpt", f"{option} {value}", f"{option[2:]}=", f": leave {option} out, its ",
               f" applies, or start from a fresh run (no --checkpoint) with {option} {value}"],
              absent=["changed.bin", "changed.bin.tmp"])
        check(f"step: {option} other than the run's", p is None or "--out" not in p.stderr, f"stderr {p.stderr!r}")
    for name, args in [("step: dump from a checkpoint", ["--checkpoint", "run/last.ckpt"]),
                       ("step: dump of a fresh run", ["--data", "usps", "--hidden", "8", "--train-limit", "200",
                                                      "--valid", "100", "--batch", "10", "--seed", "9007199254740993"])]:
        out = name.split()[-1] + ".bin"
        p = expect_ok(name, ["step", "--dump", out] + args, d)
        if p:
            check(name, os.path.getsize(os.path.join(d, out)) > 0, f"{out} is empty")
            # The tiny run has ended: its checkpoint's step is one a longer run would take.
            ended = "--checkpoint" in args
            check(name, ("a longer run would take" in p.stderr) == ended, f"stderr {p.stderr!r}")
            check(name, not tmp_files(d), f"left {tmp_files(d)} behind")
            show_matches_stepstate(d, out)
            check(name, "holds no velocity" not in p.stderr, f"stderr {p.stderr!r}")
            # The seed as given: a float64 made 2^53 + 1 read 2^53.
            seed = stepstate.parse_dump(os.path.join(d, out))["seed"]
            check(name, ended or seed == 9007199254740993, f"seed {seed!r}, given 9007199254740993")
    # --seed takes a plus sign as the other integer options do (--batch +10): it said 'expected an integer'.
    p = expect_ok("step: --seed +7", ["step", "--dump", "plus.bin", "--data", "usps", "--hidden", "8", "--train-limit",
                                      "200", "--valid", "100", "--batch", "+10", "--seed", "+7"], d)
    if p:
        seed = stepstate.parse_dump(os.path.join(d, "plus.bin"))["seed"]
        check("step: --seed +7", seed == 7, f"seed {seed!r}, given +7")
    # A best.ckpt keeps no velocity: its step starts from zero momentum, said in a note (the
    # dump claimed the run's step without a word).
    p = expect_ok("step: from a best.ckpt", ["step", "--checkpoint", "run/best.ckpt", "--dump", "best.bin"], d)
    if p:
        check("step: from a best.ckpt", "jacnoise: note: run/best.ckpt holds no velocity" in p.stderr and
              "zero momentum" in p.stderr, f"stderr {p.stderr!r}")
        st = stepstate.parse_dump(os.path.join(d, "best.bin"))
        check("step: from a best.ckpt", not stepstate.flat_params(st, "velocity").any(), "velocity not zero")
    # A name echoed in a note or on stdout is escaped, as errors escape it: step and show wrote
    # its escape sequence and stray byte raw, to drive the terminal.
    odd, shown = "b\x1b[2J\udcff", "b\\x1b[2J\\xff"
    write(os.path.join(d, odd + ".ckpt"), read(best))
    p = expect_ok("step: an odd name", ["step", "--checkpoint", odd + ".ckpt", "--dump", odd + ".bin"], d)
    if p:
        check("step: an odd name", f"step state written to {shown}.bin: " in p.stdout, f"stdout {p.stdout!r}")
        check("step: an odd name", f"jacnoise: note: {shown}.ckpt holds no velocity" in p.stderr,
              f"stderr {p.stderr!r}")
    p = expect_ok("show: an odd name", ["show", odd + ".ckpt"], d)
    if p:
        check("show: an odd name", p.stdout.startswith(f"{shown}.ckpt: jacnoise checkpoint"), f"stdout {p.stdout!r}")
    tf32_run_cases(d)
    dump = read(os.path.join(d, "checkpoint.bin"))
    write(os.path.join(d, "cut.bin"), dump[:len(dump) - 100])
    e("show: truncated step state", ["show", "cut.bin"],
      ["cut.bin", f"byte {len(dump) - 100}", f"truncated: {len(dump) - 100} bytes, expected {len(dump)}"])

    # The progress line's ETA is to the --max-steps pause, where the run ends: it was to the
    # end of every epoch (days here, for a run of 10 steps).
    p = expect_ok("train: ETA with --max-steps", ["train", "--data", "usps", "--hidden", "1000", "--epochs", "1000000",
                                                  "--max-steps", "10", "--progress", "always", "--out", "eta"], d)
    if p:
        etas = re.findall(r"ETA (\S+)", p.stderr)
        check("train: ETA with --max-steps", etas and not [t for t in etas if "h" in t],
              f"ETAs {etas[:5]} for a run of 10 steps")
        # It says how the epoch goes and how fast, not only where it is: it had no error nor speed.
        line = re.search(r"epoch 1/1000000  batch \d+/\d+  loss \d+\.\d{4}  train \d+\.\d\d%  \d+(\.\d+)? steps/s  ETA ",
                         p.stderr)
        check("train: progress line", line, f"stderr {p.stderr[-300:]!r}")
    progress_epoch_end_cases(d)
    progress_eta_resumed_cases(d)
    progress_rate_cases(d)
    step_stored_inert_cases(d)
    resume_inert_cases(d)
    resume_threads_cases(d)

    # run folders and --resume
    eval_data_cases(d)
    run_folder_data_cases(d)
    ended_run_cases(d, tiny)
    stored_tiny_cases(d, tiny)
    lost_best_cases(d, tiny)
    before = read(last)
    e("train: --out already holds a run", ["train", "--epochs", "1", "--out", "run"] + tiny, ["--resume", "run"])
    check("train: --out already holds a run", read(last) == before, "last.ckpt changed")
    # Nor does it overwrite what an ended run left without a last.ckpt to resume (a failed or
    # diverged run's summary, best parameters, metrics). config.txt alone is no result: a run
    # killed before its first checkpoint leaves only it, and starts again there.
    for name in ["summary.json", "best.ckpt", "metrics.jsonl"]:
        folder, content = "ended-" + name.split(".")[0], read(os.path.join(d, "run", name))
        os.mkdir(os.path.join(d, folder))
        write(os.path.join(d, folder, name), content)
        e(f"train: --out holds an ended run's {name}", ["train", "--epochs", "1", "--out", folder] + tiny,
          [f"--out {folder}", f"{folder}/{name}", "no last.ckpt"],
          absent=[f"{folder}/last.ckpt", f"{folder}/config.txt"])
        check(f"train: --out holds an ended run's {name}", read(os.path.join(d, folder, name)) == content,
              f"{name} changed")
    os.mkdir(os.path.join(d, "killed"))
    write(os.path.join(d, "killed", "config.txt"), read(os.path.join(d, "run", "config.txt")))
    expect_ok("train: --out holds only config.txt", ["train", "--epochs", "1", "--out", "killed"] + tiny, d)
    # --resume=auto is to continue the run there: one killed before its first checkpoint is not
    # replaced by another experiment (it was, silently: by the defaults where no option was given).
    os.mkdir(os.path.join(d, "killed-auto"))
    killed_config = read(os.path.join(d, "run", "config.txt"))
    write(os.path.join(d, "killed-auto", "config.txt"), killed_config)
    other = ["9" if a == "8" else a for a in tiny]  # --hidden 9
    e("train: --resume=auto on a run killed before its first checkpoint",
      ["train", "--resume=auto", "--epochs", "1", "--out", "killed-auto"] + other,
      ["--resume=auto", "--out killed-auto", "other options", "--config killed-auto/config.txt"],
      absent=["killed-auto/last.ckpt"])
    check("train: --resume=auto on a run killed before its first checkpoint",
          read(os.path.join(d, "killed-auto", "config.txt")) == killed_config, "config.txt replaced")
    expect_ok("train: --resume=auto restarts a run killed before its first checkpoint",  # its stopping rule may change
              ["train", "--resume=auto", "--epochs", "2", "--out", "killed-auto"] + tiny, d)
    # A run folder moved, then resumed by the default --out (runs/latest), is that folder: the
    # resume made the old folder again (empty), named it, and wrote it into config.txt.
    if expect_ok("train: a moved run resumed", ["train", "--epochs", "1", "--out", "moved-from"] + tiny, d):
        os.makedirs(os.path.join(d, "runs"))
        os.rename(os.path.join(d, "moved-from"), os.path.join(d, "runs", "latest"))
        p = expect_ok("train: a moved run resumed", ["train", "--resume", "--epochs", "2"], d)
        check("train: a moved run resumed", not os.path.exists(os.path.join(d, "moved-from")),
              "the folder's old name was made again")
        check("train: a moved run resumed", p and "(run folder runs/latest)" in p.stdout,
              f"stdout {p.stdout[-200:] if p else ''!r}")
        config = read(os.path.join(d, "runs", "latest", "config.txt"))
        check("train: a moved run resumed", b"out=runs/latest\n" in config, "config.txt does not name the folder")
    # A config.txt that is no run's options is someone's file (--out . in a project that keeps
    # one): the run replaced it without a word.
    os.mkdir(os.path.join(d, "notes"))
    write(os.path.join(d, "notes", "config.txt"), b"port = 8080\n")
    e("train: --out holds someone's config.txt", ["train", "--epochs", "1", "--out", "notes"] + tiny,
      ["--out notes", "notes/config.txt: line 1", "not a jacnoise run's"], absent=["notes/last.ckpt"])
    check("train: --out holds someone's config.txt", read(os.path.join(d, "notes", "config.txt")) == b"port = 8080\n",
          "config.txt changed")
    # An ended run's summary.json is refused even beside a config.txt of the same options: only
    # a run stopped before its first checkpoint (no summary) starts again.
    os.mkdir(os.path.join(d, "ended-same"))
    for name in ("config.txt", "summary.json"):
        write(os.path.join(d, "ended-same", name), read(os.path.join(d, "run", name)))
    summary = read(os.path.join(d, "ended-same", "summary.json"))
    e("train: --out holds an ended run of the same options", ["train", "--epochs", "1", "--out", "ended-same"] + tiny,
      ["--out ended-same", "an ended run's results", "no last.ckpt"], absent=["ended-same/last.ckpt"])
    check("train: --out holds an ended run of the same options",
          read(os.path.join(d, "ended-same", "summary.json")) == summary, "summary.json changed")
    # config.txt and last.ckpt hold the same run's options: another run's last.ckpt copied in
    # (its epochs joined this run's metrics.jsonl) or an edited config.txt (the resume undid the
    # edit without a word) is refused, naming both files, and nothing changes.
    expect_ok("train: another run", ["train", "--epochs", "1", "--seed", "7", "--out", "seed7"] + tiny, d)
    text = read(os.path.join(d, "run", "config.txt")).decode()
    edited = "".join("lr=0.5\n" if line.startswith("lr=") else line for line in text.splitlines(True))
    for folder, file, blob, words in [
            ("edited", "config.txt", edited.encode(), ["--lr 0.5", "the run has lr="]),
            ("foreign", "last.ckpt", read(os.path.join(d, "seed7", "last.ckpt")), ["--seed 1", "the run has seed=7"])]:
        os.mkdir(os.path.join(d, folder))
        for name in ("config.txt", "metrics.jsonl", "last.ckpt"):
            write(os.path.join(d, folder, name), blob if name == file else read(os.path.join(d, "run", name)))
        kept = {name: read(os.path.join(d, folder, name)) for name in ("config.txt", "metrics.jsonl", "last.ckpt")}
        p = e(f"train: --resume, {folder} {file}", ["train", "--resume", "--out", folder, "--epochs", "2",
                                                    "--progress", "never"],
              [f"{folder}/config.txt disagrees with {folder}/last.ckpt"] + words)
        # No option was given: advice to leave one out would not apply.
        check(f"train: --resume, {folder} {file}", p is None or "leave --" not in p.stderr, f"stderr {p.stderr!r}")
        check(f"train: --resume, {folder} {file}",
              all(read(os.path.join(d, folder, name)) == kept[name] for name in kept), "the folder changed")
    os.mkdir(os.path.join(d, "emptyrun"))
    e("train: --resume in an empty folder", ["train", "--resume", "--out", "emptyrun", "--progress", "never"],
      ["--resume", "emptyrun"], absent=["emptyrun/last.ckpt", "emptyrun/config.txt"])
    e("train: --resume in a missing folder", ["train", "--resume", "--out", "norun", "--progress", "never"],
      ["--resume", "norun"], absent=["norun"])
    e("train: --resume with a changed --lr", ["train", "--resume", "--out", "run", "--lr", "0.5", "--progress",
                                             "never"], ["--lr", "0.5"])
    check("train: --resume with a changed --lr", read(last) == before, "last.ckpt changed")
    os.mkdir(os.path.join(d, "bestonly"))
    write(os.path.join(d, "bestonly", "last.ckpt"), good)
    e("train: --resume from a best.ckpt", ["train", "--resume", "--out", "bestonly", "--progress", "never"],
      ["bestonly/last.ckpt", "resumable"])
    # A last.ckpt without the config.txt its run writes first is a checkpoint copied in: it was
    # resumed, its epochs counted as the folder's run.
    os.mkdir(os.path.join(d, "copied"))
    write(os.path.join(d, "copied", "last.ckpt"), read(last))
    e("train: --resume a last.ckpt copied in", ["train", "--resume", "--out", "copied", "--epochs", "2",
                                                "--progress", "never"],
      ["copied/last.ckpt", "no config.txt beside it", "choose another --out"],
      absent=["copied/config.txt", "copied/metrics.jsonl", "copied/summary.json"])
    check("train: --resume a last.ckpt copied in", read(os.path.join(d, "copied", "last.ckpt")) == read(last),
          "last.ckpt changed")
    if expect_ok("train: --resume --epochs 2", ["train", "--resume", "--out", "run", "--epochs", "2",
                                                "--progress", "never"], d):
        metrics = read(os.path.join(d, "run", "metrics.jsonl")).decode().splitlines()
        check("train: --resume --epochs 2", len(metrics) == 2, f"metrics.jsonl has {len(metrics)} lines, expected 2")
        try:
            json.loads(read(os.path.join(d, "run", "summary.json")))
        except ValueError as err:
            fail("train: --resume --epochs 2", f"summary.json is not JSON: {err}")
    before_foreign = read(last)
    # metrics.jsonl on --resume: a torn last line (a crash inside the append) and lines of
    # epochs past the checkpoint (a crash before its write) go; a complete line that is not an
    # epoch's stops the resume, naming the file and line, with nothing changed (it used to
    # drop that line and every one after it without a word).
    mpath = os.path.join(d, "run", "metrics.jsonl")
    good_lines = read(mpath).splitlines(keepends=True)
    write(mpath, good_lines[0] + b"not json\n" + good_lines[1])
    broken = read(mpath)
    e("train: --resume with a foreign line in metrics.jsonl",
      ["train", "--resume", "--out", "run", "--epochs", "3", "--progress", "never"], ["run/metrics.jsonl", "line 2"])
    check("train: --resume with a foreign line in metrics.jsonl", read(mpath) == broken, "metrics.jsonl changed")
    check("train: --resume with a foreign line in metrics.jsonl", read(last) == before_foreign, "last.ckpt changed")
    # Lines lost by hand (each is synced before its epoch's checkpoint): the resume left a
    # record of the run without those epochs, without a word.
    for kept_lines, words in ((good_lines[1:], "1 epoch line"), (None, "missing")):
        if kept_lines is None:
            os.remove(mpath)
        else:
            write(mpath, b"".join(kept_lines))
        e(f"train: --resume with metrics.jsonl {words}",
          ["train", "--resume", "--out", "run", "--epochs", "3", "--progress", "never"],
          ["run/metrics.jsonl", words, "has done 2 epochs"])
        check(f"train: --resume with metrics.jsonl {words}", read(last) == before_foreign, "last.ckpt changed")
        check(f"train: --resume with metrics.jsonl {words}",
              read(mpath) == b"".join(kept_lines) if kept_lines else not os.path.exists(mpath), "metrics.jsonl changed")
    # A metrics.jsonl that is there but cannot be read (a link loop here; a folder without
    # search permission alike) was reported as missing, its epochs 'lost'.
    os.symlink("metrics.jsonl", mpath)
    e("train: --resume with metrics.jsonl a link loop",
      ["train", "--resume", "--out", "run", "--epochs", "3", "--progress", "never"],
      ["run/metrics.jsonl", "Too many levels of symbolic links"])
    check("train: --resume with metrics.jsonl a link loop", read(last) == before_foreign, "last.ckpt changed")
    os.remove(mpath)
    ahead = json.loads(good_lines[1])
    ahead.update(epoch=3, seconds=1e9)
    write(mpath, b"".join(good_lines) + json.dumps(ahead, separators=(",", ":")).encode() + b"\n" + b'{"epoch":4,"st')
    if expect_ok("train: --resume after a crash between metrics and checkpoint",
                 ["train", "--resume", "--out", "run", "--epochs", "3", "--progress", "never"], d):
        lines = [json.loads(line) for line in read(mpath).splitlines()]
        check("train: --resume after a crash between metrics and checkpoint",
              [m["epoch"] for m in lines] == [1, 2, 3] and lines[2]["seconds"] < 1e9,
              f"metrics.jsonl epochs {[m['epoch'] for m in lines]}")
    # The config.txt of a resumed run starts a new run with --config (it does not say resume).
    if expect_ok("train: --config with a resumed run's config.txt",
                 ["train", "--config", "run/config.txt", "--out", "again", "--max-steps", "1"], d):
        check("train: --config with a resumed run's config.txt", os.path.exists(os.path.join(d, "again", "last.ckpt")),
              "no last.ckpt in the new run")
    # A broken config.txt in a run folder stops --resume, naming the file and line.
    os.mkdir(os.path.join(d, "badcfg"))
    write(os.path.join(d, "badcfg", "last.ckpt"), read(last))
    write(os.path.join(d, "badcfg", "config.txt"), "data=usps\nlr=abc\n")
    e("train: --resume with a broken config.txt", ["train", "--resume", "--out", "badcfg", "--progress", "never"],
      ["badcfg/config.txt", "line 2", "--lr"])
    # A model the options cannot build: exit 2, naming the option, and no run written.
    e("train: --jac-target hidden:3 on 2 hidden layers",
      ["train", "--data", "usps", "--hidden", "8,8", "--train-limit", "200", "--valid", "100", "--jac-lambda",
       "0.1", "--jac-target", "hidden:3", "--epochs", "1", "--out", "h3run"],
      ["--jac-target", "hidden:3", "hidden layers [1, 2]"], code=2, absent=["h3run"])
    info = run(["info"], d)
    if info is not None and ("cuda: not built" in info.stdout or " 0 device(s)" in info.stdout):
        e("train: --device cuda without a GPU", ["train", "--device", "cuda", "--epochs", "1", "--out", "cudarun"] + tiny,
          ["--device cuda"], absent=["cudarun"])
        # The missing GPU is said before the data is read (profile read MNIST first): a
        # --data-dir that does not exist comes second.
        no_gpu = ["--device", "cuda", "--data", "usps", "--data-dir", "nowhere"]
        no_build = "cuda: not built" in info.stdout  # profile refuses that as a usage error
        for cmd, code in ((["train", "--out", "cudarun"], 1), (["profile"], 2 if no_build else 1)):
            p = e(f"{cmd[0]}: --device cuda without a GPU, before the data", cmd + no_gpu, ["--device cuda"], code=code,
                  absent=["cudarun"])
            check(f"{cmd[0]}: --device cuda without a GPU, before the data", p and "nowhere" not in p.stderr,
                  f"the data came first: {p and p.stderr!r}")
        e("train: --precision tf32 --device auto without a GPU",
          ["train", "--precision", "tf32", "--device", "auto", "--epochs", "1", "--out", "autorun"] + tiny,
          ["--precision tf32", "--device auto chose the CPU"], absent=["autorun"])
    write(os.path.join(d, "afile"), "x")
    # A usage error (exit 2), as step's --dump naming a folder is, and sweep's --out a file: it was 1.
    for name, extra in [("train: --out is a file", []), ("train: --resume with --out a file", ["--resume"])]:
        e(name, ["train", "--epochs", "1", "--out", "afile"] + extra + tiny,
          ["jacnoise: --out afile: exists and is not a folder"], code=2)
        check(name, read(os.path.join(d, "afile")) == b"x", "afile changed")
    # A sweep's folder as a run's: the run's checkpoints went in beside the sweep's runs/ and
    # sweep.spec (the mirror of a sweep's --out at a run's folder, refused).
    os.makedirs(os.path.join(d, "asweep", "runs"), exist_ok=True)
    write(os.path.join(d, "asweep", "sweep.spec"), "lr = [0.1]\n")
    for extra in ([], ["--resume"]):
        e(f"train: --out a sweep's folder {extra}", ["train", "--epochs", "1", "--out", "asweep"] + extra + tiny,
          ["jacnoise: --out asweep holds a sweep (sweep.spec), not a training run: choose another --out"], code=2)
        check(f"train: --out a sweep's folder {extra}", sorted(os.listdir(os.path.join(d, "asweep"))) ==
              ["runs", "sweep.spec"] and not os.listdir(os.path.join(d, "asweep", "runs")), "the sweep's folder changed")
    # An output file that cannot be written (here a file-size limit, as a full disk) is named
    # by its option as its other refusals are: it read 'FILE: write failed ...', naming none.
    small = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
    expect_error("step: --dump unwritable", ["step", "--data", "usps", "--hidden", "5", "--dump", "big.state"], 1,
                 ["jacnoise: --dump big.state: write failed", "File too large"], d, ["big.state"], small)
    p = run(["profile", "--data", "usps", "--hidden", "5", "--reps", "1", "--warmup", "0", "--json", "big.json"], d,
            small)
    check("profile: --json unwritable", p and p.returncode == 1 and
          p.stderr.startswith("jacnoise: --json big.json: write failed") and p.stderr.count("\n") == 1,
          f"exit {p and p.returncode}, stderr {p and p.stderr!r}")
    # Named as --out's other refusals are: it read 'afile/sub: cannot create folder: ...', then
    # '--out: afile/sub: ...' where every other option's file is '--opt FILE: ...'.
    e("train: --out below a file", ["train", "--epochs", "1", "--out", "afile/sub"] + tiny,
      ["jacnoise: --out afile/sub: cannot create folder: Not a directory"])


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print("JACNOISE_BIN is not set to the jacnoise program; skipping")
        return 77
    with scratch("jacnoise_cli_") as d:
        usps = run(["data", "--data", "usps", "--valid", "100"], d)
        have_usps = usps is not None and usps.returncode == 0
        option_cases(d)
        config_cases(d, have_usps)
        idx_cases(d)
        info_cases(d)
        usps_cases(d)
        if have_usps:
            run_cases(d)
        else:
            fail("data", "USPS not found ($JACNOISE_DATA): the run, checkpoint and step cases cannot run")
    if failures:
        print(f"{len(failures)} of {cases} checks failed:")
        for f in failures:
            print("  FAIL " + f)
        return 1
    print(f"all {cases} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
