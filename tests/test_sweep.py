"""Sweeps end to end on the CPU: the spec's errors; each model of a group (with refills,
staggered stops, divergences, mid-epoch checkpoints) byte-identical to the same configuration
trained alone; --models 1 = --models 6; --jobs 2; shards (separate folders merged, and one
shared folder) = the unsharded sweep; a rerun's --jobs sharing the runs left; killed workers named with how to continue; an edited spec's dropped runs said (an edit of its comments alone the same spec, to a rerun and a merge); SIGKILLs and SIGINT then a rerun = an uninterrupted
sweep; a failed configuration; a corrupt last.ckpt (its message says what works; the run it fails
ranked by its metrics.jsonl);
--device cuda, or tf32 with --device auto, without a GPU (one line); a data set not found (one line, --dry-run too; none needed by a finished sweep's rerun, nor by a finished shard's or job array task's); a device check or --jobs worker whose waitpid fails (one line); --jobs started with SIGCHLD ignored; --out with a trailing slash; status, progress line, help; tools/plot_sweep.py;
tools/sweep-local-gpus.sh (its sharding, on the CPU; a bad option or spec said once, before
any shard starts, and a --shard, --spec or --out, which it sets, refused; --dry-run one dry run of the whole sweep, with no GPU the CPU command's; the CPU command's one --jobs; a failing shard named, no merge without a sweep folder; an empty CUDA_VISIBLE_DEVICES, and an empty entry in it; --help; a SIGTERM
after a shard has ended);
a long choice() value used whole; no test split; status and merge of a folder swept with --device cuda over a spec's cpu; a quoted data path with brackets taken whole; results.csv unwritable (exit 1);
configurations that differ only in options that change nothing (the penalty's without it)
trained once; a merge refused by a locked run folder, to replace or to copy (nothing written, no new folder made), and by one locked during it; a configuration failing before its
folder exists, recorded failed; status after a SIGINT or SIGHUP (interrupted, not running; not
SIGHUP under nohup); status telling a running run locked by a sweep from one a SIGKILL left; a closed
standard output (sweep | head) stopping it as SIGTERM does, and one that takes no more, which no worker writes; sweeps of two specs started at once; a run a sharing shard finished after this sweep
planned it, counted finished, not failed; a spec with a byte-order mark and nothing
swept; a DIR/shards damaged as the sweep trains said after its table as it is, once, and a run held by another process too, a damaged run beside them; status of a folder only merges made (its killed, unreadable and damaged runs' lines too, DIR/merged read once for them); a paused run of other options in a configuration's folder failed, not resumed; a spec's out= line refused at that line; a run option on the sweep's command line (set it in the spec); status of a finished run whose metrics.jsonl is damaged (a line naming it), and of a killed or interrupted one (the running line counting the damaged among killed runs); bench/bench_sweep_cpu.py's step count and its bad input; the reads a run's end costs
among 1000 finished runs (bench/bench_sweep_results.py), and a merge's (each folder read once,
bench/bench_sweep_merge.py); results.csv's penalty (the
best epoch's) and seconds (its epochs' sum, not its summary's); results.csv's and status's backend, device and gemm_precision of a CPU sweep
(empty, "-", for a pending run and an older summary), which plot_sweep.py takes for no options; groups split by batch and layer sizes; random draws times seeds; ids that
operational options (threads, data folder, checkpoint interval) leave alone; a rerun counting
diverged runs done; a merge keeping the further-along of two paused copies of a run,
replacing a run folder whole, and stopped half-way (at a rename too) leaving one a resume ends right (a failed one leaving no run folder it made; a killed one's .tmp files removed by the sweep rerun), and of
more runs than ulimit -n; integer draws taking both bounds; plot_sweep.py's error axis
linear with an error of 0, and no heat map of a random search, nor of validation errors that no run has; which runs plot_sweep.py draws where (`--plot-rules`: that alone); the memory of a plan of
50,000 configurations.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import contextlib
import csv
import errno
import ctypes
import fcntl
import io
import json
import os
import random
import re
import resource
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import (BIN, check, cuda_device_visible, ended, finish, idx, in_fresh_folders, line_from, metrics,
                     metrics_line, read, run, same_run, stub, wait_until, within)

# One penalised group and one unpenalised group (lambda > 0 is part of the group key), with
# mixed seeds and noise levels (input noise only in some members: the group is sized for the
# widest), runs of 2 and 5 epochs (slots refill as the short ones end), lr 1 without momentum
# so that weight decay 100 diverges, mid-epoch checkpoints every 3 steps.
GROUP_SPEC = """# a small study on USPS
data = usps
hidden = 12,6          # two hidden layers: a fixed value keeps its commas
train-limit = 200
valid = 60
batch = 25
momentum = 0
lr = 1
patience = 2
epochs = [2, 5]
weight-decay = [0, 100]
jac-lambda = [0, 0.05]   # 0: no penalty
jac-noise = 0.2
input-noise = choice(0, 0.2)
seed = choice(1, 2, 3)
samples = 2
checkpoint-steps = 3
"""

# Larger runs for the kill tests (so that kills land inside training), a grid and seeds.
KILL_SPEC = """data = usps
hidden = 48
train-limit = 1200
valid = 200
batch = 50
lr = 0.1
epochs = 5
jac-lambda = [0.01, 0.1]
jac-noise = [0.1, 0.3]
seeds = 2
"""

# Without the penalty, its target, estimator and corruption change nothing: 3 configurations.
REPEAT_SPEC = """data = usps
hidden = 12
train-limit = 200
valid = 60
batch = 25
lr = 0.1
epochs = 2
jac-target = output
jac-proj = 3
jac-lambda = [0, 0.1]
jac-noise = [0, 0.3]
"""


def sweep(args, expect=0, **kw):
    return run(["sweep"] + args + ["--progress", "never"], expect=expect, **kw)


def results(folder):
    """results.csv, every column: its header, then a list per row."""
    with open(os.path.join(folder, "results.csv"), newline="") as f:
        return list(csv.reader(f))


def rows(folder):
    """results.csv without the wall-clock column (seconds, no longer the last one), which differs
    between runs."""
    table = results(folder)
    at = table[0].index("seconds")
    return [r[:at] + r[at + 1:] for r in table]


def column(folder, name):
    """id -> the value of a results.csv column, any of them (seconds too)."""
    table = results(folder)
    at = table[0].index(name)
    return {r[0]: r[at] for r in table[1:]}


def run_ids(folder):
    return sorted(os.listdir(os.path.join(folder, "runs")))


def same_sweep(a, b, what):
    """Same results (but times) and byte-identical run folders."""
    check(rows(a) == rows(b), f"{what}: results.csv differs")
    check(run_ids(a) == run_ids(b), f"{what}: other run folders")
    for i in run_ids(a):
        if os.path.exists(os.path.join(a, "runs", i, "last.ckpt")):
            same_run(os.path.join(a, "runs", i), os.path.join(b, "runs", i), f"{what}: run {i}")


def spec_errors(tmp):
    """Bad specs are refused with the file, line (and where a list's value is bad, column) and
    reason, before anything is written."""
    base = "data = usps\nhidden = 12\n"
    cases = [
        ("jac-lamda = [0.1, 1]\n", 3, "did you mean --jac-lambda"),
        ("lr = [0.1, -1]\n", 3, "--lr -1: out of range"),
        ("lr = []\n", 3, "empty grid"),
        ("lr 0.1\n", 3, "expected key = value"),
        (" = 0.1\n", 3, "no key before '= 0.1'"),
        ("x" * 70 + " = 0.1\n", 3, "x" * 40 + "...: not an option"),
        ("jac-noise = log-uniform(0, 1)\nsamples = 2\n", 3, "0 < a"),
        ("jac-noise = uniform(0.5, 0.1)\nsamples = 2\n", 3, "a < b"),
        ("jac-noise = uniform(0.1, 0.1)\nsamples = 2\n", 3, "a < b"),
        ("jac-noise = uniform(0.1, 0.5)\n", 3, "samples = N"),
        ("samples = 3\n", 3, "without a random key"),
        ("lr = [0.1, 0.2]\nsearch-seed = 7\n", 4, "search-seed = N without a random key"),
        ("samples = 0\nlr = uniform(0.1, 0.2)\n", 3, "samples: expected a count in [1, 50000], got '0'"),
        ("lr = uniform(0.1, 0.2)\nsamples = 2\nsamples = 3\n", 5, "samples given twice (first on line 4)"),
        ("lr = uniform(0.1, 0.2)\nsamples = 2\nsearch-seed = -1\n", 5,
         "search-seed: expected an integer in [0, 18446744073709551615], got '-1'"),
        ("seed = 18446744073709551615\nseeds = 2\n", 4, "seeds = 2 from seed 18446744073709551615 overflows"),
        ("lr = uniform(0.1, 0.2)\nsamples = 2\nsearch-seed = 99999999999999999999999\n", 5,
         "search-seed: expected an integer in [0, 18446744073709551615], got '99999999999999999999999'"),
        ("out = elsewhere\n", 3, "set by the sweep"),
        ("jobs = 2\n", 3, "an option of the sweep command, not of its runs: give it on the command line (--jobs)"),
        ("threads = [1, 2]\n", 3, "fixed, not swept"),
        ("lr = [0.1, 0.2\n", 3, "ends with ']'"),
        # A bad value of a long list: its column too.
        ("seed = [1, 2, 3, , 5]\n", 3, "column 18: seed: an empty value in the grid"),
        ("seed = [1, 2, 3,]\n", 3, "column 17: seed: an empty value in the grid"),
        ('epochs = [4, 5 "6", 7]\n', 3, "column 14: epochs: a stray '\"' in the grid"),
        ('lr = choice(0.1, 0.2, "0.3)\nsamples = 2\n', 3, "column 23: lr: a stray '\"' in choice()"),
        # A value an option refuses, among many: its column as well (the line alone left it to look for).
        ("lr = [0.1, 0.2, -1, 0.3]\n", 3, "column 17: --lr -1: out of range"),
        ("seed = choice(1, 2, x)\nsamples = 3\n", 3, "column 21: --seed x: expected an integer"),
        ('loss = [xent, "hinge"]\n', 3, "column 15: --loss hinge: invalid value; valid: xent"),
        ("jac-noise = log-uniform(0.1, 1e9)\nsamples = 2\n", 3, "column 30: --jac-noise 1e9: out of range"),
        # 0 in float32, where the engine computes: the run learnt nothing, silently.
        ("lr = [0.1, 1e-50]\n", 3, "column 12: --lr 1e-50: below 1.17549435e-38, float32's smallest normal number"),
        ('lr = "0.1#x"  # a comment\n', 3, "--lr 0.1#x: expected"),  # a '#' inside quotes is the value's
        ("jac-target = hidden:2\n", 0, "hidden:2 does not exist"),
        ("jac-target = hidden:2\nlr = [0.1, 0.2]\n", -1, "hidden:2 does not exist"),
        ("precision = tf32\ndevice = cpu\n", 0, "only the CUDA backend has TF32"),
        ("lr = 0.1\nlr = 0.2\n", 4, "given twice (first on line 3)"),
        ("seed = [1, 2]\nseeds = 2\n", 4, "seed is swept"),
        ("epochs = uniform(1.5, 3)\nsamples = 1\n", 3, "--epochs"),
        ("lr = 0.1\0\n", 3, "NUL byte, byte 32 of the file"),
        # A grid of a thousand seeds: the limit said (seeds = N repeats over seeds, in one line).
        ("seed = [" + ", ".join(str(i) for i in range(1, 1001)) + "]\n", 3, "line longer than 4095 characters"),
    ]
    for n, (lines, line, reason) in enumerate(cases):
        spec = os.path.join(tmp, f"bad{n}.spec")
        open(spec, "w").write(base + lines)
        out = os.path.join(tmp, f"bad{n}")
        p = sweep(["--spec", spec, "--out", out], expect=2)
        # Nothing swept: the spec's one configuration has no values to be named by.
        # Named by --spec, as --config's file is ("--config FILE: line N"): it read "FILE: line N".
        where = f"--spec {spec}: line {line}:" if line > 0 else f"--spec {spec}: --" if line == 0 else \
            f"--spec {spec}: the configuration lr="
        check(p.stderr.startswith("jacnoise: " + where) and reason in p.stderr and len(p.stderr.splitlines()) == 1,
              f"bad spec {lines!r}: stderr {p.stderr!r}, expected '{where}' and '{reason}'")
        check(not os.path.exists(out), f"bad spec {lines!r}: the sweep folder was created")
    # A data set name that is none, or an idx: pair of one file: its line (and a grid's column),
    # as any other bad value's (the file alone named it, or one configuration).
    for n, (lines, reason) in enumerate((
            ("hidden = 12\ndata = Usps\n", "line 2: --data Usps: unknown data set (names are lower case: did you "
             "mean --data usps?)"),
            ('hidden = 12\ndata = [usps, "idx:a"]\n', "line 2: column 15: --data idx:a: expected idx:IMAGES,LABELS"),
            # test's pair alone too, whatever the data (it was named by the file, or a configuration)
            ('data = "idx:a,b"\ntest = foo\n', "line 2: --test foo: expected idx:IMAGES,LABELS"),
            ('data = usps\ntest = ["idx:a,b", idx:c]\n', "line 2: column 20: --test idx:c: expected idx:IMAGES,LABELS"))):
        spec, out = os.path.join(tmp, f"bad-data{n}.spec"), os.path.join(tmp, f"bad-data{n}")
        open(spec, "w").write(lines)
        p = sweep(["--spec", spec, "--out", out], expect=2)
        check(p.stderr.startswith(f"jacnoise: --spec {spec}: {reason}") and len(p.stderr.splitlines()) == 1 and
              not os.path.exists(out), f"bad data in a spec {lines!r}: stderr {p.stderr!r}, expected '{reason}'")
    # An unknown key's list of valid ones leaves out the train options a spec may not set.
    p = sweep(["--spec", os.path.join(tmp, "bad0.spec"), "--out", os.path.join(tmp, "bad0")], expect=2)
    check("valid options: --data " in p.stderr and not re.search(r"--(out|resume|max-steps|progress|config)\b",
          p.stderr), f"an unknown key's valid options: {p.stderr!r}")
    # A run option on the sweep's command line says it goes in the spec, as the spec writes it;
    # not one the spec refuses (resume, max-steps): the sweep's own options are listed for those.
    for args, said in ((["--epochs", "5"], "epochs = 5"), (["--jac-lambda=0.1"], "jac-lambda = 0.1"),
                       (["--lr"], "lr = VALUE"), (["--resume"], None), (["--max-steps", "3"], None)):
        out = os.path.join(tmp, "run-option")
        p = sweep(["--spec", os.path.join(tmp, "bad0.spec"), "--out", out] + args, expect=2)
        key = args[0][2:].split("=")[0]
        check(len(p.stderr.splitlines()) == 1 and not os.path.exists(out) and
              (p.stderr == f"jacnoise: --{key}: not an option of 'jacnoise sweep'; a run option: set it in the spec "
               f"({said})\n" if said else "in the spec" not in p.stderr and "; valid options: --data-dir " in p.stderr),
              f"sweep {' '.join(args)}: {p.stderr!r}")
    # ... and in a --config file, named with its line (it listed the sweep's options alone).
    config = os.path.join(tmp, "run-option.config")
    open(config, "w").write("# the sweep's options\nthreads = 1\nepochs = 5\n")
    p = sweep(["--spec", os.path.join(tmp, "bad0.spec"), "--out", out, "--config", config], expect=2)
    check(p.stderr == f"jacnoise: --config {config}: line 3: --epochs: not an option of 'jacnoise sweep'; a run option: "
          "set it in the spec (epochs = 5)\n" and not os.path.exists(out), f"epochs = 5 in a sweep's --config: {p.stderr!r}")
    # A comment after it: the key is refused with any value, so no word of the '#' being part of it;
    # the line to put in the spec is the value without it ('#' starts a comment there).
    open(config, "w").write("lr = 0.1 # x\n")
    p = sweep(["--spec", os.path.join(tmp, "bad0.spec"), "--out", out, "--config", config], expect=2)
    check(p.stderr == f"jacnoise: --config {config}: line 1: --lr: not an option of 'jacnoise sweep'; a run option: "
          "set it in the spec (lr = 0.1)\n" and not os.path.exists(out), f"lr = 0.1 # x in a sweep's --config: {p.stderr!r}")
    # The same with the device from the command line: refused before any run folder is made.
    tf32 = os.path.join(tmp, "tf32.spec")
    open(tf32, "w").write(base + "precision = tf32\nlr = [0.1, 0.2]\n")
    p = sweep(["--spec", tf32, "--out", os.path.join(tmp, "tf32"), "--device", "cpu"], expect=2)
    check(p.stderr.startswith(f"jacnoise: --spec {tf32}: the configuration lr=0.1: --precision tf32") and
          len(p.stderr.splitlines()) == 1 and not os.path.exists(os.path.join(tmp, "tf32")),
          f"a tf32 spec with --device cpu: {p.stderr!r}")
    # A combination that cannot be, among other values: how many are refused, not the first alone.
    impossible = os.path.join(tmp, "impossible.spec")
    open(impossible, "w").write(base.replace("hidden = 12", 'hidden = ["12,6", 12]') +
                                "jac-lambda = 0.1\njac-target = [hidden:3, output, hidden:2]\nlr = [0.1, 0.2]\n")
    p = sweep(["--spec", impossible, "--out", os.path.join(tmp, "impossible")], expect=2)
    check(p.stderr.startswith(f"jacnoise: --spec {impossible}: the configuration hidden=12,6 jac-target=hidden:3 lr=0.1: ") and
          p.stderr.endswith(" (the first of 6 refused configurations, of the spec's 12)\n") and
          len(p.stderr.splitlines()) == 1, f"a spec with impossible combinations: {p.stderr!r}")
    empty = os.path.join(tmp, "empty.spec")
    open(empty, "w").write("# only a comment\n\n")
    p = sweep(["--spec", empty, "--out", os.path.join(tmp, "e")], expect=2)
    check(p.stderr.startswith(f"jacnoise: --spec {empty}: no options") and not os.path.exists(os.path.join(tmp, "e")),
          f"a spec without options: {p.stderr!r}")
    p = sweep(["--spec", os.path.join(tmp, "missing.spec"), "--out", os.path.join(tmp, "m")], expect=2)
    check("missing.spec" in p.stderr, f"missing spec: {p.stderr!r}")
    p = run(["sweep", "--out", os.path.join(tmp, "m")], expect=2)
    check("--spec FILE is required" in p.stderr, f"no --spec: {p.stderr!r}")
    # Usage errors (exit 2): an empty --out, and empty folders for status and merge.
    good = os.path.join(tmp, "good.spec")
    open(good, "w").write(base + "epochs = 1\n")
    for args in (["--spec", good, "--out", ""], ["status", ""], ["merge", ""]):
        p = run(["sweep"] + args, expect=2)
        check(len(p.stderr.splitlines()) == 1 and ("--out" in p.stderr or "empty folder" in p.stderr),
              f"sweep {' '.join(args)!r}: {p.stderr!r}")
    # The spec given as an operand (as status and merge take their folders): the line says that
    # the spec and the folder are options, nothing written.
    operand = os.path.join(tmp, "operand")
    for args, first in (([good], good), ([good, operand], good), (["--spec", good, operand], operand)):
        p = run(["sweep"] + args, expect=2)
        check(p.stderr.startswith(f"jacnoise: sweep: unexpected argument '{first}'") and "--spec FILE --out DIR" in
              p.stderr and len(p.stderr.splitlines()) == 1 and not os.path.exists(operand),
              f"sweep {' '.join(args)}: {p.stderr!r}")
    # --dry-run: the spec and options checked, the plan's size said, nothing written.
    dry = os.path.join(tmp, "dry")
    p = sweep(["--spec", good, "--out", dry, "--dry-run"])
    check(p.stdout == f"sweep {dry}: 1 configuration in 1 group; spec and options checked, nothing written "
          "(--dry-run)\n" and not os.path.exists(dry), f"sweep --dry-run: {p.stdout!r} {p.stderr!r}")
    # ... and, as the sweep would before it trains, the configurations that are others (hidden =
    # [12,12], a grid of one width twice where two layers were meant, is one configuration).
    twice = os.path.join(tmp, "twice.spec")
    open(twice, "w").write(base.replace("hidden = 12", "hidden = [12,12]"))
    p = sweep(["--spec", twice, "--out", dry, "--dry-run"])
    check(p.stdout.startswith(f"sweep {dry}: 1 of the spec's 2 configurations repeats another and is not trained "
          f"again\nsweep {dry}: 1 configuration in 1 group;") and not os.path.exists(dry),
          f"sweep --dry-run of a grid giving a value twice: {p.stdout!r} {p.stderr!r}")
    # ... and what the sweep folder would refuse, still writing nothing: --out a file, or a folder
    # holding a sweep of another spec.
    other = os.path.join(tmp, "dry-other")
    os.makedirs(other)
    open(os.path.join(other, "sweep.spec"), "w").write(base + "epochs = 2\n")
    for out, code, words in ((good, 2, f"--out {good}: exists and is not a folder"),
                             (other, 2, f"--out {other} holds a sweep of another spec")):
        p = sweep(["--spec", good, "--out", out, "--dry-run"], expect=code)
        check(p.stderr.startswith(f"jacnoise: {words}") and len(p.stderr.splitlines()) == 1 and not p.stdout and
              os.listdir(other) == ["sweep.spec"], f"sweep --dry-run --out {out}: {p.stdout!r} {p.stderr!r}")
    # ... and a folder of the same options drawn or repeated otherwise: samples, seeds or
    # search-seed changed (each another set of configurations), the unchanged spec accepted.
    drawn = base + "lr = uniform(0.1, 0.2)\nsamples = 2\nseeds = 2\nsearch-seed = 3\n"
    kept = os.path.join(tmp, "dry-drawn")
    os.makedirs(kept)
    open(os.path.join(kept, "sweep.spec"), "w").write(drawn)
    for line in ("samples = 2", "samples = 3", "seeds = 3", "search-seed = 4"):
        key = line.split()[0]
        spec = os.path.join(tmp, "dry-drawn.spec")
        open(spec, "w").write(re.sub(rf"^{key} = \d+$", line, drawn, flags=re.M))
        p = sweep(["--spec", spec, "--out", kept, "--dry-run"], expect=None)
        other = line not in drawn
        check(p.returncode == (2 if other else 0) and other == ("holds a sweep of another spec" in p.stderr) and
              os.listdir(kept) == ["sweep.spec"], f"sweep --dry-run of a spec with {line} into one of {drawn!r}: "
              f"exit {p.returncode}, {p.stderr!r}")
    # Slurm variables that are not a job array's: a usage error, before any folder is made.
    folder = os.path.join(tmp, "not-an-array")
    p = run(["sweep", "--spec", good, "--out", folder], expect=2, env=dict(os.environ, SLURM_ARRAY_TASK_ID="x"))
    check(len(p.stderr.splitlines()) == 1 and "not a job array's" in p.stderr and not os.path.exists(folder),
          f"sweep with SLURM_ARRAY_TASK_ID=x: {p.stderr!r}, folder made: {os.path.exists(folder)}")
    p = run(["sweep", "status", os.path.join(tmp, "nothing")], expect=2)
    check("not a sweep folder" in p.stderr, f"status of a non-sweep: {p.stderr!r}")
    # A sweep.spec that cannot be read: named, and no --spec (status and merge have none).
    odd = os.path.join(tmp, "odd")
    os.makedirs(os.path.join(odd, "sweep.spec"))
    for args in (["status", odd], ["merge", odd]):
        p = run(["sweep"] + args, expect=1)
        check(p.stderr == f"jacnoise: {odd}/sweep.spec: is a folder, not a file\n",
              f"sweep {args[0]} with a folder for sweep.spec: {p.stderr!r}")
    for args in (["sweep", "--help"], ["sweep", "status", "--help"], ["sweep", "merge", "--help"]):
        p = run(args)
        check(p.stdout.startswith("usage: jacnoise sweep"), f"{' '.join(args)}: {p.stdout[:80]!r}")
    check("--models M|auto" in run(["sweep", "--help"]).stdout, "sweep --help lists --models")


def group_equals_solo(tmp, spec):
    """Each model of a lock-step group ends byte-identical to its configuration trained alone."""
    ref = os.path.join(tmp, "models3")
    p = sweep(["--spec", spec, "--out", ref, "--models", "3"])
    statuses = list(column(ref, "status").values())
    print(f"group of 3: {len(statuses)} configurations: " +
          ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses))))
    check(statuses.count("diverged") >= 2 and statuses.count("finished") >= 4,
          f"the spec should give finished and diverged runs: {statuses}")
    check("2 groups" in p.stdout, f"lambda = 0 and lambda > 0 should be separate groups: {p.stdout[:200]}")
    for i in run_ids(ref):
        folder = os.path.join(ref, "runs", i)
        alone = os.path.join(tmp, "alone", i)
        status = json.load(open(os.path.join(folder, "summary.json")))["status"]
        run(["train", "--config", os.path.join(folder, "config.txt"), "--out", alone],
            expect=3 if status == "diverged" else 0)
        same_run(folder, alone, f"run {i} ({status}) vs train alone")
        solo = json.load(open(os.path.join(alone, "summary.json")))
        check(solo["status"] == status, f"run {i}: {status} in the group, {solo['status']} alone")
    # results.csv's penalty is the mean penalty of the run's best epoch, as its metrics.jsonl has it.
    penalty, best = column(ref, "penalty"), column(ref, "best_epoch")
    telling = 0
    for i in run_ids(ref):
        lines = metrics(os.path.join(ref, "runs", i))
        want = next((m["penalty"] for m in lines if str(m["epoch"]) == best[i]), None)
        got = float(penalty[i]) if penalty[i] else None
        check(got == want or (got is not None and want is not None and abs(got - want) <= 1e-9 * abs(want)),
              f"run {i}: results.csv has penalty {penalty[i]!r}, its best epoch {best[i]} {want}")
        telling += want is not None and any(m["penalty"] != want for m in lines)
    check(telling > 0, "no run with a penalty whose best epoch's differs from another epoch's")
    # Rerun, the ended runs (diverged ones too) are counted done and nothing trains.
    n = len(statuses)
    p = sweep(["--spec", spec, "--out", ref, "--models", "3"])
    check(f"{n} of them, {n} done" in p.stdout, f"a rerun of the ended sweep: {p.stdout[:300]!r}")
    return ref


def models_and_jobs(tmp, spec, ref):
    one = os.path.join(tmp, "models1")
    sweep(["--spec", spec, "--out", one, "--models", "1"])
    same_sweep(ref, one, "--models 1 vs --models 3")
    six = os.path.join(tmp, "models6")
    sweep(["--spec", spec, "--out", six, "--models", "6"])
    same_sweep(ref, six, "--models 6 vs --models 3")
    jobs = os.path.join(tmp, "jobs2")
    sweep(["--spec", spec, "--out", jobs, "--jobs", "2", "--models", "2"])
    same_sweep(ref, jobs, "--jobs 2 vs one process")
    # Two workers of as many BLAS threads as there are CPUs: one warning line, then the sweep.
    crowded, small = os.path.join(tmp, "crowded"), os.path.join(tmp, "repeat.spec")
    open(small, "w").write(REPEAT_SPEC)
    p = sweep(["--spec", small, "--out", crowded, "--jobs", "2", "--device", "cpu", "--threads", str(os.cpu_count())])
    warned = [line for line in p.stderr.splitlines() if "warning" in line]
    check(len(warned) == 1 and f"--jobs 2 x --threads {os.cpu_count()}" in warned[0],
          f"--jobs 2 x --threads {os.cpu_count()}: expected one warning line: {p.stderr[-500:]!r}")
    # More threads than the BLAS runs (capped at U), whose 3 x U crowd the CPUs or not: the line
    # counts the threads of all three workers (it said "using 1, more than the 2 CPUs online").
    p = sweep(["--spec", small, "--out", crowded + "-capped", "--jobs", "3", "--device", "cpu", "--threads", "1024"])
    warned = [line for line in p.stderr.splitlines() if "warning" in line]
    cap = re.search(r"the BLAS runs at most (\d+) thread", warned[0]) if len(warned) == 1 else None
    if cap:
        used, cpus = int(cap.group(1)), len(os.sched_getaffinity(0))
        crowd = f"using {used} each, {3 * used} in all, more than the {cpus} CPU{'' if cpus == 1 else 's'} available"
        check((crowd in warned[0]) == (3 * used > cpus) and ("available" in warned[0]) == (3 * used > cpus),
              f"--jobs 3 x --threads 1024, the BLAS capped at {used} on {cpus} CPUs: {warned[0]!r}")
    check(cap is not None, f"--jobs 3 x --threads 1024: expected one warning line naming the BLAS's cap: {p.stderr[-500:]!r}")


def dry_run_crowded(tmp):
    """A dry run gives the sweep's warning of workers whose BLAS threads crowd the CPUs (it
    said nothing of them), and writes nothing."""
    small, out = os.path.join(tmp, "dry.spec"), os.path.join(tmp, "dry")
    open(small, "w").write(REPEAT_SPEC)
    p = sweep(["--spec", small, "--out", out, "--jobs", "2", "--device", "cpu", "--threads", str(os.cpu_count()),
               "--dry-run"])
    warned = [line for line in p.stderr.splitlines() if "warning" in line]
    check(len(warned) == 1 and f"--jobs 2 x --threads {os.cpu_count()}" in warned[0] and not os.path.exists(out),
          f"--dry-run --jobs 2 x --threads {os.cpu_count()}: expected one warning line and no folder: {p.stderr[-500:]!r}")


def shards(tmp, spec, ref):
    """Three shards in three folders, merged; and three shards at once in one folder."""
    parts = []
    for i in range(3):
        part = os.path.join(tmp, f"shard{i}")
        sweep(["--spec", spec, "--out", part, "--shard", f"{i}/3"])
        parts.append(part)
    sizes = [len(run_ids(p)) for p in parts]
    check(sum(sizes) == len(run_ids(ref)) and max(sizes) - min(sizes) <= 1, f"shard sizes {sizes}")
    merged = os.path.join(tmp, "merged")
    run(["sweep", "merge", merged] + parts)
    same_sweep(ref, merged, "3 shards merged")
    shared = os.path.join(tmp, "shared")
    env = dict(os.environ, SLURM_ARRAY_TASK_COUNT="3", SLURM_ARRAY_TASK_MIN="1")
    procs = [subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", shared, "--progress", "never"],
                              env=dict(env, SLURM_ARRAY_TASK_ID=str(i + 1)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(3)]
    for i, p in enumerate(procs):
        out, err = ended(p, f"Slurm task {i + 1}")
        check(p.returncode == 0 and f"shard {i}/3" in out, f"Slurm task {i + 1}: exit {p.returncode}: {err[-300:]}")
    run(["sweep", "merge", shared])
    same_sweep(ref, shared, "3 shards in one folder")
    # tools/sweep-local-gpus.sh's shards and merge, on the CPU (--device cpu overrides its cuda).
    local = os.path.join(tmp, "local-gpus")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "sweep-local-gpus.sh")
    p = subprocess.run([script, spec, local, "--device", "cpu"], env=dict(os.environ, JACNOISE=BIN,
                       CUDA_VISIBLE_DEVICES="3,5"), capture_output=True, text=True, timeout=600)
    check(p.returncode == 0 and "shard 1/2 on GPU 5" in p.stdout, f"sweep-local-gpus.sh: exit {p.returncode}: "
          f"{p.stdout[-300:]} {p.stderr[-300:]}")
    same_sweep(ref, local, "tools/sweep-local-gpus.sh")
    p = run(["sweep", "merge", merged, os.path.join(tmp, "kill-ref")], expect=2)
    check("another spec" in p.stderr, f"merging another spec's folder: {p.stderr!r}")


def local_gpus_failure(tmp, spec):
    """tools/sweep-local-gpus.sh with a bad option, on two GPUs: jacnoise's one line and exit
    status 2, once, before any shard starts or DIR is made (each shard refused it, each named
    with its log's last line, in a DIR made for the logs); a spec with an error, the same."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "sweep-local-gpus.sh")
    bad = os.path.join(tmp, "local-gpus-bad.spec")
    open(bad, "w").write("data = usps\nlr = [0.1, -1]\n")
    for name, args, words in (("a bad option", [spec, "--bogus"], "jacnoise: --bogus: unknown option"),
                              ("a bad spec", [bad], f"jacnoise: --spec {bad}: line 2: column 12: --lr -1: out of range")):
        folder = os.path.join(tmp, "local-gpus-refused")
        p = subprocess.run([script, args[0], folder + "/"] + args[1:], env=dict(os.environ, JACNOISE=BIN,
                           CUDA_VISIBLE_DEVICES="0,1"), capture_output=True, text=True, timeout=600)
        check(p.returncode == 2 and p.stderr.startswith(words) and p.stderr.count("\n") == 1 and not p.stdout and
              not os.path.exists(folder), f"sweep-local-gpus.sh with {name}: exit {p.returncode}: {p.stdout[-300:]!r} "
              f"{p.stderr[-600:]!r}")


def local_gpus_dry_run(tmp):
    """tools/sweep-local-gpus.sh with --dry-run (or --dry-run=yes) among its options checks the
    whole sweep once, by jacnoise's own dry run (--device cpu overriding its cuda), says how
    many shards would run, writes nothing and exits 0: each shard was made a dry run, DIR made
    and left without a sweep.spec, and the merge refused ("no shard started the sweep"), exit 1.
    With no GPU it checks the CPU command's sweep, then says that no shard would run and that
    command, exit 0 (it said the command alone, nothing checked, exit 1); a bad option there is
    jacnoise's line and exit status."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "sweep-local-gpus.sh")
    spec, folder = os.path.join(tmp, "dry-gpus.spec"), os.path.join(tmp, "dry-gpus")
    open(spec, "w").write(TINY_SPEC)
    for dry in ("--dry-run", "--dry-run=yes"):
        p = subprocess.run([script, spec, folder, "--device", "cpu", dry], env=dict(os.environ, JACNOISE=BIN,
                           CUDA_VISIBLE_DEVICES="3,5"), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        check(p.returncode == 0 and re.fullmatch(rf"sweep {re.escape(folder)}: \d+ configurations in \d+ groups?; "
              r"spec and options checked, nothing written \(--dry-run\)\n--dry-run: 2 shards would run, one per GPU "
              r"\(3,5\)\n", p.stdout) and not p.stderr and not os.path.exists(folder),
              f"sweep-local-gpus.sh {dry}: exit {p.returncode}: {p.stdout!r} {p.stderr!r}")
    for args, code in (([], 0), (["--bogus"], 2)):
        p = subprocess.run([script, spec, folder, "--dry-run"] + args, env=dict(os.environ, JACNOISE=BIN,
                           CUDA_VISIBLE_DEVICES=""), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=120)
        cpu = shlex.join([BIN, "sweep", "--spec", spec, "--out", folder, "--jobs", "N"] + args)  # to run, not to dry-run
        want = (f"sweep {folder}: 2 configurations in 1 group; spec and options checked, nothing written (--dry-run)\n"
                "--dry-run: no shard would run: no GPU found (CUDA_VISIBLE_DEVICES lists none); on the CPU, N runs at a "
                f"time: {cpu}\n", "") if not code else ("", "jacnoise: --bogus: unknown option")
        check(p.returncode == code and p.stdout == want[0] and p.stderr.startswith(want[1]) and
              p.stderr.count("\n") == (1 if code else 0) and not os.path.exists(folder),
              f"sweep-local-gpus.sh --dry-run {args} with no GPU: exit {p.returncode}: {p.stdout!r} {p.stderr!r}")


def local_gpus_shards(tmp):
    """tools/sweep-local-gpus.sh with a stand-in for jacnoise (it logs its arguments): an empty
    CUDA_VISIBLE_DEVICES is no GPU, whatever nvidia-smi lists (one line, naming the CPU sweep instead); no program where JACNOISE
    says, a SPEC that is no file and a DIR that is a file are one line each, DIR not made; --help prints the usage; an empty
    entry in CUDA_VISIBLE_DEVICES ("3,5,") is no GPU, so that every shard of the count runs, and
one with glob characters ("*") is one GPU, not the files of the current folder;
    stopped by SIGTERM after one shard has ended (FAKE_BLOCK: the others train until a SIGTERM,
    then take a while to save), it still waits for the others and merges, then says in one line
    how to continue (not naming the shards the stop ended as failed), exit 143, and as much when
    the stop comes as soon as it has said that its eight shards started (it says so once its
    traps are set: a stop before them ended it at once, its shards left running unmerged); a shard that
    fails is named with its status and its log's last line, the folder merged, exit 1; where
    every shard failed before making the sweep folder, each named and nothing merged."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "sweep-local-gpus.sh")
    fake, log = os.path.join(tmp, "fake-jacnoise"), os.path.join(tmp, "fake-jacnoise.log")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\n'
                'case " $* " in *" --dry-run "*) exit 0 ;; esac\n'
                'echo "$*" >> "$FAKE_LOG"\n'
                '[ "$2" = merge ] && exit 0\n'
                '[ "$FAKE_FAIL" = all ] && { echo "jacnoise: shard refused" >&2; exit 2; }\n'
                'mkdir -p "$5" && : > "$5/sweep.spec"\n'
                '[ "$FAKE_FAIL" = 1 ] && [ "${7%%/*}" = 1 ] && { echo "jacnoise: shard refused" >&2; exit 2; }\n'
                '{ [ -z "$FAKE_BLOCK" ] || [ "${7%%/*}" = 0 ]; } && exit 0\n'
                'trap \'sleep 0.5; echo saved >> "$FAKE_LOG"; exit 143\' TERM\n'
                'echo waiting >> "$FAKE_LOG"\n'
                'while :; do sleep 0.1; done\n')
    os.chmod(fake, 0o755)
    env = dict(os.environ, JACNOISE=fake, FAKE_LOG=log)
    spec = os.path.join(tmp, "study.spec")
    open(spec, "w").close()
    # A SPEC that is no file, a DIR that is a file: one line, exit 2, before any shard or
    # DIR is made (each shard's log said the same, left in a new DIR). So is an option the
    # script sets: a --shard dealt both GPUs shard 1/2 (one failed on the other's runs, in
    # use), an --out sent the shards away from DIR, where the logs and the merge are.
    refused = os.path.join(tmp, "fake-refused")
    for name, args, words in (("no SPEC", [os.path.join(tmp, "nospec.spec"), refused], "nospec.spec: no such file"),
                              ("SPEC a folder", [tmp, refused], f"SPEC {tmp}: not a file"),
                              ("DIR a file", [spec, spec], f"DIR {spec}: not a folder"),
                              ("--shard", [spec, refused, "--seeds", "2", "--shard", "1/2"],
                               "--shard: not an option of this script: each GPU's shard is this script's (across "
                               "machines, run jacnoise sweep --shard I/N)"),
                              ("--out=", [spec, refused, f"--out={refused}2"],
                               "--out: not an option of this script: the sweep's spec and folder are SPEC and DIR")):
        p = subprocess.run([script] + args, env=dict(env, CUDA_VISIBLE_DEVICES="0,1"), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 2 and p.stderr.endswith(words + "\n") and p.stderr.count("\n") == 1 and not p.stdout
              and not os.path.exists(log) and not os.path.exists(refused),
              f"sweep-local-gpus.sh, {name}: exit {p.returncode}: {p.stdout!r} {p.stderr!r}")
    # CUDA_VISIBLE_DEVICES set and empty hides every GPU, as CUDA reads it: none of those
    # nvidia-smi lists may be used.
    smi = os.path.join(tmp, "smi")
    os.makedirs(smi)
    stub(smi, "nvidia-smi", "printf '0\\n1\\n'")
    hidden = os.path.join(tmp, "fake-hidden")
    p = subprocess.run([script, spec, hidden, "--seeds", "2"], env=dict(env, CUDA_VISIBLE_DEVICES="",
                       PATH=smi + os.pathsep + env["PATH"]), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=60)
    # It names the way on: the CPU sweep, with --jobs and the options given (it said only that no GPU was found).
    cpu = f"{fake} sweep --spec {spec} --out {hidden} --jobs N --seeds 2"
    check(p.returncode == 1 and p.stderr == f"{script}: no GPU found (CUDA_VISIBLE_DEVICES lists none); on the CPU, "
          f"N runs at a time: {cpu}\n" and
          not os.path.exists(log) and not os.path.exists(hidden),
          f"sweep-local-gpus.sh with CUDA_VISIBLE_DEVICES empty: exit {p.returncode}: {p.stderr!r}")
    # A --jobs among the options is the command's only one (it read "--jobs N --jobs 3", the
    # second overriding the first).
    for jobs in (["--jobs", "3"], ["--jobs=3"]):
        p = subprocess.run([script, spec, hidden] + jobs + ["--seeds", "2"], env=dict(env, CUDA_VISIBLE_DEVICES=""),
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        cpu = shlex.join([fake, "sweep", "--spec", spec, "--out", hidden] + jobs + ["--seeds", "2"])
        check(p.returncode == 1 and p.stderr == f"{script}: no GPU found (CUDA_VISIBLE_DEVICES lists none); on the "
              f"CPU: {cpu}\n" and not os.path.exists(hidden),
              f"sweep-local-gpus.sh's CPU command with {jobs}: exit {p.returncode}: {p.stderr!r}")
    # A DIR or option the shell would split or expand is quoted there, as shlex.quote does: the
    # command is to be copied ("--out my dir" made a sweep of "my" with an operand "dir").
    spaced = os.path.join(tmp, "fake hidden's")
    p = subprocess.run([script, spec, spaced, "--data-dir", "a b", "--seeds", "2"], env=dict(env, CUDA_VISIBLE_DEVICES=""),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    cpu = shlex.join([fake, "sweep", "--spec", spec, "--out", spaced, "--jobs", "N", "--data-dir", "a b", "--seeds", "2"])
    check(p.returncode == 1 and p.stderr.endswith(f"N runs at a time: {cpu}\n") and not os.path.exists(spaced),
          f"sweep-local-gpus.sh's CPU command for a DIR with a space and a quote: exit {p.returncode}: {p.stderr!r}")
    # No program there: one line naming it, before DIR is made (each shard failed alike); so
    # too a folder or a file that does not run, which sh's command -v takes for one.
    missing = os.path.join(tmp, "fake-missing")
    with open(os.path.join(tmp, "not-runnable"), "w") as f:
        f.write("#!/bin/sh\n")
    for where in ("no-jacnoise", "not-runnable", "smi"):
        p = subprocess.run([script, spec, missing], env=dict(env, JACNOISE=os.path.join(tmp, where),
                           CUDA_VISIBLE_DEVICES="0,1"), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 1 and p.stderr.endswith(f"{os.path.join(tmp, where)}: no jacnoise program there "
              "(build it, or set JACNOISE)\n") and p.stderr.count("\n") == 1 and not os.path.exists(missing),
              f"sweep-local-gpus.sh with JACNOISE {where}: exit {p.returncode}: {p.stdout!r} {p.stderr!r}")
    p = subprocess.run([script, "--help"], env=env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "SPEC DIR" in p.stdout and not os.path.exists(log),
          f"sweep-local-gpus.sh --help: exit {p.returncode}: {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
    # Without JACNOISE the program is the script's checkout's build/jacnoise, not the one
    # below the folder it is run from.
    checkout = os.path.join(tmp, "checkout")
    os.makedirs(os.path.join(checkout, "tools"))
    os.makedirs(os.path.join(checkout, "build"))
    shutil.copy(script, os.path.join(checkout, "tools"))
    shutil.copy(fake, os.path.join(checkout, "build", "jacnoise"))
    p = subprocess.run([os.path.join(checkout, "tools", "sweep-local-gpus.sh"), spec, "fake-own"], cwd=tmp,
                       env={**{k: v for k, v in env.items() if k != "JACNOISE"}, "CUDA_VISIBLE_DEVICES": "0"},
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    calls = open(log).read().splitlines() if os.path.exists(log) else []
    check(p.returncode == 0 and [c.split()[:2] for c in calls] == [["sweep", "--spec"], ["sweep", "merge"]],
          f"sweep-local-gpus.sh without JACNOISE: exit {p.returncode}, calls {calls}: {p.stderr[-300:]!r}")
    os.remove(log)
    p = subprocess.run([script, spec, os.path.join(tmp, "fake-commas")], env=dict(env, CUDA_VISIBLE_DEVICES="3,5,"),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    shards = re.findall(r"--shard (\S+)", read(log).decode())
    check(p.returncode == 0 and sorted(shards) == ["0/2", "1/2"],
          f"sweep-local-gpus.sh with CUDA_VISIBLE_DEVICES=3,5,: exit {p.returncode}, shards {shards}: {p.stderr!r}")
    os.remove(log)
    # An entry with glob characters is one GPU's name, not the files of the folder it runs in.
    p = subprocess.run([script, spec, os.path.join(tmp, "fake-glob")], env=dict(env, CUDA_VISIBLE_DEVICES="0,*"),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=tmp)
    shards = re.findall(r"--shard (\S+)", read(log).decode())
    check(p.returncode == 0 and sorted(shards) == ["0/2", "1/2"] and "shard 1/2 on GPU *:" in p.stdout,
          f"sweep-local-gpus.sh with CUDA_VISIBLE_DEVICES=0,*: exit {p.returncode}, shards {shards}: {p.stdout!r}")
    os.remove(log)
    # A shard that fails (its options passed the check): named with its status and its log's
    # last line (DIR/shard-1.log, given DIR/), the others' work merged, exit 1.
    folder = os.path.join(tmp, "fake-fail")
    p = subprocess.run([script, spec, folder + "/"], env=dict(env, CUDA_VISIBLE_DEVICES="0,1", FAKE_FAIL="1"),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and p.stderr.endswith(f"shard 1/2 exited with status 2; the end of {folder}/shard-1.log: "
          "jacnoise: shard refused\n") and p.stderr.count("\n") == 1 and "sweep merge " + folder + "/" in read(log).decode(),
          f"sweep-local-gpus.sh with a failing shard: exit {p.returncode}: {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
    os.remove(log)
    # Every shard failing before it made the sweep folder: each named, and no merge (which
    # would only say that DIR is not a sweep folder).
    folder = os.path.join(tmp, "fake-fail-all")
    p = subprocess.run([script, spec, folder], env=dict(env, CUDA_VISIBLE_DEVICES="0,1", FAKE_FAIL="all"),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and p.stderr.count("exited with status 2") == 2 and p.stderr.endswith(
          f"no merge: no shard started the sweep in {folder} (it holds no sweep.spec)\n") and
          "sweep merge " not in read(log).decode(), f"sweep-local-gpus.sh with every shard failing: exit {p.returncode}: "
          f"{p.stderr[-400:]!r}")
    os.remove(log)
    folder = os.path.join(tmp, "fake-term")
    p = subprocess.Popen([script, spec, folder], env=dict(env, CUDA_VISIBLE_DEVICES="0,1", FAKE_BLOCK="1"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The script has said its shards started (its traps are set), shard 0 has ended and shard 1
    # trains.
    said = line_from(p, "sweep-local-gpus.sh: its shards started") + line_from(p, "sweep-local-gpus.sh: shard 1")
    first = re.search(r"shard 0/2 on GPU 0: pid ([0-9]+),", said)
    check(first and "shard 1/2" in said and wait_until(lambda: not running(int(first[1])), p) and
          wait_until(lambda: os.path.exists(log) and "waiting" in read(log).decode(), p),
          f"sweep-local-gpus.sh: shard 0 never ended or shard 1 never began: exit {p.poll()}, {said!r}")
    p.send_signal(signal.SIGTERM)
    out, err = ended(p, "sweep-local-gpus.sh sent SIGTERM", 60)
    lines = read(log).decode().splitlines()
    check(p.returncode == 143 and "saved" in lines and "sweep merge " + folder in lines and
          err.endswith("stopped; the shards saved their runs: run the same command again to continue\n") and
          err.count("\n") == 1, f"sweep-local-gpus.sh stopped by SIGTERM: exit {p.returncode}, {lines}, {err!r}")
    # Stopped as soon as it says its shards started, in a sweep folder a shard started before:
    # every shard that began to train saved (one stopped before its trap wrote neither).
    os.remove(log)
    folder = os.path.join(tmp, "fake-term-early")
    os.makedirs(folder)
    open(os.path.join(folder, "sweep.spec"), "w").close()
    p = subprocess.Popen([script, spec, folder], env=dict(env, CUDA_VISIBLE_DEVICES="0,1,2,3,4,5,6,7", FAKE_BLOCK="1"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = [line_from(p, f"sweep-local-gpus.sh as it starts: shard {k}") for k in range(8)]
    p.send_signal(signal.SIGTERM)
    out, err = ended(p, "sweep-local-gpus.sh sent SIGTERM as it starts", 60)
    lines = read(log).decode().splitlines()
    check(said[-1].startswith("shard 7/8") and p.returncode == 143 and "sweep merge " + folder in lines and
          lines.count("waiting") <= lines.count("saved") and
          err.endswith("stopped; the shards saved their runs: run the same command again to continue\n"),
          f"sweep-local-gpus.sh stopped as it starts: exit {p.returncode}, {lines}, {err!r}")


def running(pid):
    """Whether process pid runs: not ended, nor ended and not yet waited for (a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # the state, after the name
    except OSError:
        return False


def metrics_lines(folder, checkpointed=False):
    """id -> the lines of its metrics.jsonl (wall times included); with checkpointed, only those
    of the epochs its last.ckpt has done (a resume trims the others and trains them again)."""
    lines = {}
    for i in run_ids(folder):
        run_folder = os.path.join(folder, "runs", i)
        path = os.path.join(run_folder, "metrics.jsonl")
        if not os.path.exists(path):
            continue
        lines[i] = open(path).read().splitlines(True)
        last = os.path.join(run_folder, "last.ckpt")
        if checkpointed and os.path.exists(last):
            shown = subprocess.run([BIN, "show", last], capture_output=True, text=True).stdout
            done = re.search(r"(\d+) epochs? done", shown)
            lines[i] = lines[i][:int(done.group(1))] if done else []
    return lines


def until_training(folder, p):
    """Waits until this sweep has a run folder with a checkpoint or metrics (or has ended)."""
    runs = os.path.join(folder, "runs")
    wait_until(lambda: os.path.isdir(runs) and any(os.path.exists(os.path.join(runs, i, f))
                                                   for i in os.listdir(runs) for f in ("metrics.jsonl", "last.ckpt")),
               p, what=f"sweep {os.path.basename(folder)}: a run training")


def until_an_epoch_in_progress(folder, p):
    """Waits until this sweep ends an epoch of a run that goes on; False if it ended first."""
    before = metrics_lines(folder)
    return wait_until(lambda: any(len(lines) > len(before.get(i, [])) and
                                  not os.path.exists(os.path.join(folder, "runs", i, "summary.json"))
                                  for i, lines in metrics_lines(folder).items()),
                      p, every=0.02, what=f"sweep {os.path.basename(folder)}: an epoch's end")


def kill_round(spec, folder, rng, scale):
    """Stops the sweep into folder until it completes: four SIGKILLs after training began, at
    delays of scale times 0.05 to 0.15 (some in a worker pool), then a SIGINT once a run in
    progress has finished an epoch. Returns (landed, attempts, progress, kept), or None where
    the sweep completed before the SIGINT landed (it outran its stops)."""
    landed = attempts = 0
    progress, kept = False, {}
    while True:
        attempts += 1
        if attempts > 40:
            check(False, "kill loop: the sweep never finished")
            return landed, attempts, progress, kept
        jobs = ["--jobs", "2"] if attempts % 2 else []
        p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--models", "3", "--progress", "never"]
                             + jobs, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if landed < 4:
            until_training(folder, p)
            time.sleep(rng.uniform(0.05, 0.15) * scale)
            p.send_signal(signal.SIGKILL)
        elif landed == 4:
            # SIGINT once a run in progress has finished an epoch: every active run saves
            # last.ckpt, and the rerun must continue them (their epochs' lines, wall times
            # included, stay as they are), not train them again.
            progress = until_an_epoch_in_progress(folder, p)
            p.send_signal(signal.SIGINT)
        out, err = ended(p, "kill loop: a sweep")
        if p.returncode == 0:
            return (landed, attempts, progress, kept) if landed >= 5 else None
        started = os.path.isdir(os.path.join(folder, "runs")) and os.listdir(os.path.join(folder, "runs"))
        reasons = [line for line in out.splitlines() if line.startswith("failed ")][:3]
        check(p.returncode in (-signal.SIGKILL, 130), f"kill loop: exit {p.returncode}: {err[-300:]} {reasons}")
        if p.returncode == 130:
            check("interrupted; run the same sweep command again" in err, f"SIGINT: {err!r}")
            kept = metrics_lines(folder, checkpointed=True)
        landed += bool(started)


def kills(tmp, spec):
    """SIGKILLs at random moments (some in a worker pool), a SIGINT, then reruns: the same
    bytes as a sweep never interrupted."""
    ref = os.path.join(tmp, "kill-ref")
    began = time.monotonic()
    sweep(["--spec", spec, "--out", ref, "--models", "3", "--jobs", "2"])
    # Kill delays are fractions of the uninterrupted sweep's wall time, so that on a fast
    # machine as on a slow one each kill lands inside training and leaves work for the next.
    # Where the stopped sweep runs faster than the reference did (the load eased), it can
    # complete before its SIGINT: then again in a fresh folder, with delays half as long.
    rng = random.Random(7)
    outcome = in_fresh_folders(os.path.join(tmp, "killed"), time.monotonic() - began,
                               lambda folder, scale: kill_round(spec, folder, rng, scale), "sweep kills")
    if not outcome:
        return
    (landed, attempts, progress, kept), folder = outcome
    # Workers die with the sweep: nothing may still be writing into the folder.
    time.sleep(0.5)
    print(f"sweep kills: {landed} landed after training began, {attempts} starts, in {os.path.basename(folder)}")
    check(landed >= 5, f"only {landed} kills landed")
    same_sweep(ref, folder, f"killed {landed} times and rerun")
    now = metrics_lines(folder)
    check(progress and any(kept.values()), f"SIGINT: no run had an epoch checkpointed (progress {progress})")
    again = [i for i, lines in kept.items() if now[i][:len(lines)] != lines]
    check(not again, f"after SIGINT, the rerun trained again epochs of {again} that were done (it should resume)")
    p = sweep(["--spec", spec, "--out", folder])
    check("8 of them, 8 done" in p.stdout and "sweep: [" not in p.stdout, f"rerun of a done sweep: {p.stdout[:300]}")


def failure(tmp, spec):
    """A configuration whose folder cannot take its checkpoint fails; the others go on; the
    sweep names it and exits 1; a rerun once the disk is fixed completes it."""
    folder = os.path.join(tmp, "failing")
    ref = os.path.join(tmp, "models3")
    victim = run_ids(ref)[0]
    os.makedirs(os.path.join(folder, "runs", victim, "last.ckpt.tmp"))
    p = sweep(["--spec", spec, "--out", folder], expect=1)
    check(f"failed: {victim}" in p.stderr, f"the failed id is named: {p.stderr!r}")
    table = column(folder, "status")
    check(table[victim] == "failed", f"results.csv: {victim} is {table[victim]}")
    check(sum(s != "failed" for s in table.values()) == len(table) - 1, f"the others went on: {table}")
    check(f"failed {victim}:" in p.stdout and "last.ckpt" in p.stdout, f"status table names it: {p.stdout[-600:]}")
    # Status says to fix it before a rerun (which tries it again), as the sweep's end does.
    shown = run(["sweep", "status", folder]).stdout
    check("\nunfinished: 1 configuration (1 failed: fix what the failed line above says first); once no sweep "
          "trains them, run the same sweep command again to continue\n" in shown, f"status: {shown[-600:]!r}")
    shutil.rmtree(os.path.join(folder, "runs", victim, "last.ckpt.tmp"))
    sweep(["--spec", spec, "--out", folder])
    same_sweep(ref, folder, "failed, fixed, rerun")


def ten_failures(tmp):
    """A sweep of as many failed configurations as its end names (10) names each of them, with
    no "and N more" (one fewer named would leave one unsaid)."""
    lrs = ", ".join(f"0.{k:02d}" for k in range(1, 11))
    spec, ref = os.path.join(tmp, "ten-failures.spec"), os.path.join(tmp, "ten-failures-ref")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", f"[{lrs}]"))
    sweep(["--spec", spec, "--out", ref])
    folder = os.path.join(tmp, "ten-failures")
    for i in run_ids(ref):  # a folder that cannot take the checkpoint fails its run
        os.makedirs(os.path.join(folder, "runs", i, "last.ckpt.tmp"))
    p = sweep(["--spec", spec, "--out", folder], expect=1)
    named = re.search(r"jacnoise: sweep: failed:([0-9a-f ]*) \(10 configurations;", p.stderr)
    check(len(run_ids(ref)) == 10 and named and sorted(named.group(1).split()) == run_ids(ref) and
          not re.search(r" and \d+ more \(", p.stderr), f"the 10 failed configurations named: {p.stderr[-1500:]!r}")


def status_and_progress(tmp, spec):
    folder = os.path.join(tmp, "models3")
    p = run(["sweep", "status", folder])
    check("16 configurations:" in p.stdout and "best by validation error" in p.stdout and "results.csv" in p.stdout,
          f"status: {p.stdout[:400]}")
    # The ranking: the five lowest validation errors of results.csv, ascending, ties in the
    # plan's order (results.csv's), whatever the test error.
    table = rows(folder)
    at = table[0].index("valid_error")
    ranked = sorted((r for r in table[1:] if r[at]), key=lambda r: float(r[at]))[:5]
    lines = p.stdout.splitlines()
    head = next((k for k, line in enumerate(lines) if line.startswith("best by validation error")), len(lines))
    shown = [line.split()[0] for line in lines[head + 2:head + 2 + len(ranked)]]
    check(len(ranked) == 5 and shown == [r[0] for r in ranked],
          f"status: best by validation error shows {shown}, expected {[r[0] for r in ranked]}")
    # Without a validation split nothing can be ranked: the table says so rather than rank
    # by a made-up validation error (which would leave the test error to choose).
    nosplit = os.path.join(tmp, "nosplit.spec")
    open(nosplit, "w").write("data = usps\nhidden = 8\ntrain-limit = 100\nvalid = 0\nepochs = 1\nlr = [0.1, 0.3]\n")
    p = sweep(["--spec", nosplit, "--out", os.path.join(tmp, "nosplit")])
    check(p.stdout.count("finished, epoch 1 (no validation split): test ") == 2 and
          "not ranked: no run has a validation split" in p.stdout and "best by validation" not in p.stdout,
          f"valid = 0 sweep: {p.stdout[-600:]}")
    check(set(column(os.path.join(tmp, "nosplit"), "valid_error").values()) == {""},
          "valid = 0 sweep: results.csv should have no validation errors")
    other = os.path.join(tmp, "other.spec")
    open(other, "w").write(open(spec).read().replace("lr = 1", "lr = 0.5"))
    p = sweep(["--spec", other, "--out", folder], expect=2)
    check("holds a sweep of another spec" in p.stderr, f"another spec in the same folder: {p.stderr!r}")
    shown = os.path.join(tmp, "progress")
    p = run(["sweep", "--spec", spec, "--out", shown, "--progress", "always", "--checkpoint-epochs", "2"])
    check("steps/s" in p.stderr and "ETA" in p.stderr and "16/16 done" in p.stderr, f"progress line: {p.stderr[-300:]}")
    # --progress is the sweep's own line, not its runs': their config.txt records none (a run
    # started again from one with --config draws its own command's).
    recorded = [i for i in run_ids(shown) if "progress=" in open(os.path.join(shown, "runs", i, "config.txt")).read()]
    check(not recorded, f"sweep --progress always: the config.txt of runs {recorded} records a progress")
    same_sweep(folder, shown, "--checkpoint-epochs 2")


def where_trained(tmp):
    """results.csv ends each row with where it trained (backend, device, gemm_precision, after
    seconds), as its summary.json says, and the status table with them ("trained on"); empty
    cells, and "-", for a pending run and one whose summary is from before devices were
    recorded: rows of GPU and CPU shards could not be told apart."""
    spec = os.path.join(tmp, "where.spec")
    open(spec, "w").write("data = usps\nhidden = 8\ntrain-limit = 100\nvalid = 50\nepochs = 1\n"
                          "lr = [0.01, 0.02, 0.03]\nprecision = fp32\n")
    folder = os.path.join(tmp, "where")
    sweep(["--spec", spec, "--out", folder])
    table = results(folder)
    check(table[0][-4:] == ["seconds", "backend", "device", "gemm_precision"] and "precision" in table[0][:-4],
          f"results.csv header {table[0]}")
    summary = {i: json.load(open(os.path.join(folder, "runs", i, "summary.json"))) for i in run_ids(folder)}
    device = summary[table[1][0]]["device"]
    check(all(r[-3:] == ["cpu", summary[r[0]]["device"], "fp32"] and summary[r[0]]["device"] == device
              for r in table[1:]) and device, f"results.csv of a CPU sweep: {table[1:]}")
    shown = run(["sweep", "status", folder]).stdout.splitlines()
    head = next(k for k, line in enumerate(shown) if line.startswith("best by validation error"))
    check(shown[head + 1].endswith("  trained on") and
          all(line.endswith(f"  cpu, {device}, fp32") for line in shown[head + 2:head + 5]),
          f"status of a CPU sweep: {shown}")
    # One run's summary from before devices were recorded; another's folder gone (pending).
    old, gone = table[1][0], table[2][0]
    path = os.path.join(folder, "runs", old, "summary.json")
    json.dump({k: v for k, v in summary[old].items() if k not in ("backend", "device", "threads", "blas")},
              open(path, "w"))
    shutil.rmtree(os.path.join(folder, "runs", gone))
    run(["sweep", "merge", folder])
    got = {r[0]: r for r in results(folder)}
    check(got[old][-3:] == ["", "", ""] and got[gone][-3:] == ["", "", ""] and got[gone][got["id"].index("status")] == "pending" and
          got[gone][got["id"].index("best_epoch")] == "" and got[table[3][0]][-3:] == table[3][-3:],
          f"results.csv, an older summary and a pending run (no best epoch): {got}")
    shown = run(["sweep", "status", folder]).stdout
    check(re.search(rf"^  {old} .*  -$", shown, re.M), f"status, an older summary: {shown}")


def plots(tmp):
    """tools/plot_sweep.py draws the heat maps, the error against each swept option and the
    training curves, and `sweep status` then lists them, by name."""
    # By name, whatever the folder's order: these are made in neither that nor its reverse.
    folder = os.path.join(tmp, "kill-ref")
    made = [f"{c}.png" for c in "dgbhaecf"]
    os.makedirs(os.path.join(folder, "plots"))
    for name in made:
        open(os.path.join(folder, "plots", name), "w").close()
    shown = run(["sweep", "status", folder]).stdout
    listed = [os.path.basename(m) for m in re.findall(r"^(?:plots:| {6}) (.*\.png)$", shown, re.M)]
    check(listed == sorted(made), f"sweep status lists the plots {listed}, not by name")
    shutil.rmtree(os.path.join(folder, "plots"))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plots: not checked: this Python has no matplotlib (Debian: python3-matplotlib)")
        return
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "plot_sweep.py")
    p = subprocess.run([sys.executable, script, folder], capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"plot_sweep.py: exit {p.returncode}: {p.stderr[-500:]}")
    expected = ["heatmap_valid.png", "heatmap_test.png", "error_vs_jac-lambda.png", "error_vs_jac-noise.png",
                "error_vs_seed.png", "curves_best.png"]
    for name in expected:
        path = os.path.join(folder, "plots", name)
        check(os.path.exists(path) and read(path)[:8] == b"\x89PNG\r\n\x1a\n", f"plot_sweep.py: no {name}")
    listed = run(["sweep", "status", folder]).stdout
    check(all(name in listed for name in expected), f"sweep status lists the plots: {listed[-500:]}")


def plot_rules(tmp):
    """What tools/plot_sweep.py draws, on a made-up folder: the curves are those of the runs
    with the lowest validation errors, lowest first (a run without an error or a metrics.jsonl
    is never one / has no curve); a run without the penalty stands at every jac-noise value the
    penalised runs take (its noise changes nothing), and only the options that then vary count
    as swept."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import plot_sweep
    folder = os.path.join(tmp, "plot-rules")
    os.makedirs(folder)
    rows = [("a", "0", "0.1", "1", "4.5"), ("b", "0.01", "0.1", "1", "2.5"), ("c", "0.01", "0.3", "1", "3.5"),
            ("d", "0.1", "0.3", "1", ""), ("e", "0.1", "0.1", "1", "1.5"), ("f", "0", "0.1", "2", "0.5")]
    with open(os.path.join(folder, "results.csv"), "w") as f:
        f.write("id,jac-lambda,jac-noise,lr,status,valid_error,test_error\n")
        f.writelines(f"{i},{lam},{noise},{lr},finished,{v},{v}\n" for i, lam, noise, lr, v in rows)
    for rid in "abcde":
        os.makedirs(os.path.join(folder, "runs", rid))
        with open(os.path.join(folder, "runs", rid, "metrics.jsonl"), "w") as f:
            f.write(metrics_line(epoch=1, valid_error=9.0, train_loss=0.5) + "\n")
    loaded, places, swept = plot_sweep.load(folder)
    ranked = plot_sweep.best_runs(folder, loaded, 3)
    got = [(r["id"], e is not None) for r, e in ranked]
    check(got == [("f", False), ("e", True), ("b", True)], f"plot_sweep best_runs: {got}")
    # An error float() reads but jacnoise never writes (1_0, a space before it) is refused.
    bad = os.path.join(tmp, "plot-undecimal")
    os.makedirs(bad)
    for text in ("1_0", " 5"):
        with open(os.path.join(bad, "results.csv"), "w") as f:
            f.write(f"id,status,valid_error,test_error\na,finished,{text},5\n")
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                plot_sweep.load(bad)
            got = None
        except SystemExit as e:
            got = (e.code, err.getvalue())
        check(got == (1, f"plot_sweep: {bad}/results.csv line 2: valid_error '{text}' is not a percentage (nor empty)\n"),
              f"plot_sweep load, valid_error {text!r}: {got!r}")
    at = sorted((r["id"], r["jac-noise"]) for r in places)
    want = [("a", "0.1"), ("a", "0.3"), ("b", "0.1"), ("c", "0.3"), ("d", "0.3"), ("e", "0.1"), ("f", "0.1"), ("f", "0.3")]
    check(at == want and swept == ["jac-lambda", "jac-noise", "lr"], f"plot_sweep placed: {at}, swept {swept}")
    # Where each row trained (the columns after seconds, which the table above, an older sweep's,
    # lacks) is no option, though it differs between rows (shards of a GPU and a CPU cluster).
    where = {"a": "cuda,NVIDIA H100 80GB HBM3,tf32", "b": 'cpu,"AMD EPYC, 2 cores",fp32', "d": ",,"}
    with open(os.path.join(folder, "results.csv"), "w") as f:
        f.write("id,jac-lambda,jac-noise,lr,status,valid_error,test_error,seconds,backend,device,gemm_precision\n")
        f.writelines(f"{i},{lam},{noise},{lr},finished,{v},{v},1.0,{where.get(i, 'cpu,Xeon,fp32')}\n"
                     for i, lam, noise, lr, v in rows)
    _, places, swept = plot_sweep.load(folder)
    at = sorted((r["id"], r["jac-noise"]) for r in places)
    check(at == want and swept == ["jac-lambda", "jac-noise", "lr"],
          f"plot_sweep placed, with where rows trained: {at}, swept {swept}")


def plot_faults(tmp):
    """tools/plot_sweep.py on a broken folder: a results.csv that is a folder, lacks a column,
    has a short row, an error that is not a percentage (a word, nan, inf, past 100) or an option
    that is neither a word nor a number as jacnoise writes one (nan, inf), a corrupt
    metrics.jsonl line, an --out that is a file; or on a sweep where no configuration has an
    error yet, or whose results.csv was never written: one line naming the file, exit 1, never a traceback, no picture. Empty errors (a run not finished) and a null in metrics.jsonl (a
    diverged epoch) are drawn (a line still being written left out), with one line saying how many
    configurations are measured; best runs without a metrics.jsonl get no empty curves picture,
    and a line saying why."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plot faults: not checked: this Python has no matplotlib (Debian: python3-matplotlib)")
        return
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "plot_sweep.py")
    header = "id,jac-lambda,status,best_epoch,valid_error,test_error,penalty,steps,seconds\n"
    good = header + "a,0,finished,1,5,6,,2,0.1\nb,0.1,finished,1,4,5,0.1,2,0.1\n"
    cases = [("folder", None, None, "results.csv: Is a directory"),
             ("nocolumn", "id,jac-lambda\na,0\n", None, "no column 'status'"),
             ("short", header + "a,0,finished,1\n", None, "results.csv line 2: not as many fields"),
             ("metrics", good, metrics_line(epoch=1, valid_error=4, train_loss=1) + '\n{"epoch": 2,\n',
              "metrics.jsonl line 2"),
             ("outfile", good, None, "not a folder"),
             ("unended", header + "a,0.01,pending,,,,,0,\nb,0.1,running,,,,,3,\n", None,
              "results.csv: no configuration has an error yet"),
             ("unwritten", "", None, "results.csv: no such file yet (jacnoise sweep merge ")]
    # A percentage past 100; an epoch that is no whole number, a negative loss (jacnoise writes neither).
    cases.append(("over", good + "c,0.2,finished,1,100.5,5,,2,0.1\n", None, "results.csv line 4: valid_error '100.5'"))
    for name, line in (("epoch", metrics_line(epoch="1", valid_error=4, train_loss=1)),
                       ("negative", metrics_line(epoch=1, valid_error=4, train_loss=-1))):
        cases.append((name, good, line + "\n", "metrics.jsonl line 1: not a line of metrics.jsonl"))
    # An option's value that float() reads but jacnoise never writes (nan, inf, 1_0): it was drawn
    # as a word, a category of its own on the option's axis.
    for name, value in (("optionnan", "nan"), ("optioninf", "-inf"), ("optionunder", "1_0")):
        cases.append((name, good + f"c,{value},finished,1,4,5,,2,0.1\n", None,
                      f"results.csv line 4: jac-lambda '{value}' is not a number as jacnoise writes one"))
    for name, errors in (("words", "abc,xyz"), ("nan", "nan,nan"), ("inf", "inf,inf")):
        cases.append((name, good + f"c,0.2,finished,1,{errors},,2,0.1\n", None,
                      f"results.csv line 4: valid_error '{errors.split(',')[0]}'"))
    for name, results, metrics_text, words in cases:
        folder = os.path.join(tmp, f"plot-{name}")
        os.makedirs(os.path.join(folder, "runs", "b"))
        if results is None:
            os.mkdir(os.path.join(folder, "results.csv"))
        elif not results:  # a sweep folder (its spec) whose results.csv was never written
            open(os.path.join(folder, "sweep.spec"), "w").close()
        else:
            with open(os.path.join(folder, "results.csv"), "w") as f:
                f.write(results)
        if metrics_text:
            with open(os.path.join(folder, "runs", "b", "metrics.jsonl"), "w") as f:
                f.write(metrics_text)
        args = ["--out", os.path.join(folder, "results.csv")] if name == "outfile" else []
        p = subprocess.run([sys.executable, script, folder] + args, capture_output=True, text=True, timeout=300)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 1 and len(lines) == 1 and lines[0].startswith("plot_sweep: ") and words in lines[0],
              f"plot_sweep.py {name}: exit {p.returncode}, stderr {p.stderr[-400:]!r}")
        plots = os.path.join(folder, "plots")
        left = os.listdir(plots) if os.path.isdir(plots) else []
        check(not left, f"plot_sweep.py {name}: wrote {left}")
    folder = os.path.join(tmp, "plot-unfinished")
    os.makedirs(os.path.join(folder, "runs", "b"))
    with open(os.path.join(folder, "results.csv"), "w") as f:
        f.write(good + "c,0.2,pending,,,,,0,\n")
    with open(os.path.join(folder, "runs", "b", "metrics.jsonl"), "w") as f:
        f.write(metrics_line(epoch=1, valid_error=4, train_loss=1) + "\n" + metrics_line(epoch=2) + "\n"
                '{"epoch": 3, "valid_')  # a line being written: left out, not refused
    p = subprocess.run([sys.executable, script, folder], capture_output=True, text=True, timeout=300)
    check(p.returncode == 0 and os.path.exists(os.path.join(folder, "plots", "curves_best.png")),
          f"plot_sweep.py, a run not finished and a diverged epoch: exit {p.returncode}, stderr {p.stderr[-400:]!r}")
    # The pictures show 2 of the 3 configurations: said, not left to read as the whole sweep.
    check(p.stderr == f"plot_sweep: {folder}: 2 of 3 configurations measured (1 pending); the pictures show the "
          "measured ones\n", f"plot_sweep.py, a run not finished: stderr {p.stderr!r}")
    # No metrics.jsonl for any of the best runs (a results.csv kept without its run folders):
    # no empty curves picture, nor matplotlib's warning of a legend without lines; said so.
    folder = os.path.join(tmp, "plot-no-metrics")
    os.makedirs(folder)
    with open(os.path.join(folder, "results.csv"), "w") as f:
        f.write(good)
    p = subprocess.run([sys.executable, script, folder], capture_output=True, text=True, timeout=300)
    check(p.returncode == 0 and not p.stderr and "no training curves: none of the 2 best runs has" in p.stdout and
          not os.path.exists(os.path.join(folder, "plots", "curves_best.png")),
          f"plot_sweep.py, no metrics.jsonl: exit {p.returncode}, {p.stdout[-300:]!r} {p.stderr[-400:]!r}")


def plot_sweep_on(tmp, what, name, table):
    """(process, pictures drawn) of tools/plot_sweep.py on tmp/name holding the results.csv
    `table`; None, said, where this Python has no matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"{what}: not checked: this Python has no matplotlib (Debian: python3-matplotlib)")
        return None
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "plot_sweep.py")
    folder = os.path.join(tmp, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "results.csv"), "w") as f:
        f.write(table)
    p = subprocess.run([sys.executable, script, folder], capture_output=True, text=True, timeout=300)
    plots = os.path.join(folder, "plots")
    return p, sorted(os.listdir(plots)) if os.path.isdir(plots) else []


def plot_random_search(tmp):
    """tools/plot_sweep.py draws no heat map of a random search's (jac-lambda, jac-noise), whose
    draws each stand alone in their row, column and panel: README's 40 samples made 40 panels
    of 40 x 40 cells, one of them filled, in 76 s; it says why, and draws the rest."""
    draw = random.Random(1)
    ran = plot_sweep_on(tmp, "plot random search", "plot-random",
                        "id,lr,jac-lambda,jac-noise,status,valid_error,test_error\n" +
                        "".join(f"r{k},{draw.uniform(0.005, 0.2):.4g},{10 ** draw.uniform(-4, 0):.4g},"
                                f"{draw.uniform(0, 0.5):.4g},finished,{draw.uniform(2, 10):.2f},{draw.uniform(2, 10):.2f}\n"
                                for k in range(8)))
    if not ran:
        return
    p, drawn = ran
    check(p.returncode == 0 and "no heat map" in p.stdout and "8 of the 512" in p.stdout
          and drawn == ["error_vs_jac-lambda.png", "error_vs_jac-noise.png", "error_vs_lr.png"],
          f"plot_sweep.py on a random search: exit {p.returncode}, drew {drawn}, said {p.stdout!r} {p.stderr[-300:]!r}")


def plot_without_validation(tmp):
    """tools/plot_sweep.py on a sweep without a validation split (valid = 0, as
    tools/reproduce.py's seeds train): no validation heat map, said in one line; it drew a blank
    one, coloured over a made-up 0-1 % scale."""
    ran = plot_sweep_on(tmp, "plot without validation", "plot-no-valid",
                        "id,jac-lambda,jac-noise,status,valid_error,test_error\n" +
                        "".join(f"r{k},{lam},{noise},finished,,{3 + k}\n"
                                for k, (lam, noise) in enumerate([(0.1, 0.1), (0.1, 0.2), (0.2, 0.1), (0.2, 0.2)])))
    if not ran:
        return
    p, drawn = ran
    check(p.returncode == 0 and "no heatmap_valid.png: no run has a validation error" in p.stdout and
          drawn == ["error_vs_jac-lambda.png", "error_vs_jac-noise.png", "heatmap_test.png"],
          f"plot_sweep.py without validation errors: exit {p.returncode}, drew {drawn}, said {p.stdout!r} "
          f"{p.stderr[-300:]!r}")


def plot_zero_error(tmp):
    """tools/plot_sweep.py keeps the error axis linear where a run has an error of 0 (a small
    validation split): on the log axis it takes for errors spanning more than a factor 4, that
    run's point, the best one, vanished."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot zero error: not checked: this Python has no matplotlib (Debian: python3-matplotlib)")
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import plot_sweep
    folder = os.path.join(tmp, "plot-zero")
    os.makedirs(folder)
    with open(os.path.join(folder, "results.csv"), "w") as f:
        f.write("id,lr,status,valid_error,test_error\na,0.1,finished,0,1.5\nb,0.2,finished,6,7\nc,0.3,finished,20,21\n")
    _, places, swept = plot_sweep.load(folder)
    axes = []

    class Recording:
        def __getattr__(self, name):
            return getattr(plt, name)

        def subplots(self, *args, **kw):
            fig, ax = plt.subplots(*args, **kw)
            axes.append(ax)
            return fig, ax
    plot_sweep.error_vs(Recording(), places, swept, folder)
    check([ax.get_yscale() for ax in axes] == ["linear"],
          f"plot_sweep error_vs_lr with a validation error of 0: y axes {[ax.get_yscale() for ax in axes]}")


def repeats(tmp):
    """Grid points that differ only in options that change nothing are trained once, with those
    options at their defaults, to the numbers `train` gives with the spec's own; so are hidden1's
    estimators. tools/plot_sweep.py places the run without the penalty in every jac-noise row."""
    spec = os.path.join(tmp, "repeats.spec")
    open(spec, "w").write(REPEAT_SPEC)
    folder = os.path.join(tmp, "repeats")
    p = sweep(["--spec", spec, "--out", folder])
    # Only the reason that applies: "jac-proj for hidden1" was said of a spec without hidden1.
    check("2 of the spec's 4 configurations set options that change nothing (the penalty's at jac-lambda 0): "
          in p.stdout and "1 of the spec's 4 configurations repeats another" in p.stdout,
          f"not reported: {p.stdout[:400]}")
    lambdas = column(folder, "jac-lambda")
    check(sorted(lambdas.values()) == ["0", "0.1", "0.1"], f"expected one run without the penalty: {lambdas}")
    plain = next((i for i, lam in lambdas.items() if lam == "0"), "")
    config = os.path.join(folder, "runs", plain, "config.txt")
    text = open(config).read() if os.path.exists(config) else ""
    check(all(f"\n{kv}\n" in text for kv in ("jac-target=hidden1", "jac-proj=1", "jac-noise=0")),
          f"{config}: the penalty's options should be the defaults")
    # results.csv shows the spec's values, not the run's defaults: its row without the penalty
    # said jac-target hidden1 and jac-proj 1 of a spec that fixes output and 3.
    for key, value in (("jac-target", "output"), ("jac-proj", "3")):
        shown = column(folder, key)
        check(set(shown.values()) == {value}, f"results.csv {key}: {shown}, the spec says {value}")
    alone = os.path.join(tmp, "repeats-alone")
    run(["train", "--config", config, "--jac-target", "output", "--jac-proj", "3", "--jac-noise", "0.3", "--out", alone,
         "--progress", "never"])
    check(metrics(os.path.join(folder, "runs", plain)) == metrics(alone),
          "the run without the penalty differs from train with the spec's penalty options")

    hidden1 = os.path.join(tmp, "repeats-hidden1")
    open(spec, "w").write(REPEAT_SPEC.replace("jac-target = output", "jac-target = hidden1")
                          .replace("jac-proj = 3", "jac-proj = [1, 3, exact]").replace("[0, 0.1]", "0.1"))
    p = sweep(["--spec", spec, "--out", hidden1])
    check("4 of the spec's 6 configurations set options that change nothing (jac-proj for hidden1): " in p.stdout and
          "4 of the spec's 6 configurations repeat another" in p.stdout and len(run_ids(hidden1)) == 2,
          f"hidden1: jac-proj should not make configurations: {p.stdout[:300]}")
    # Both reasons, where both apply (a dry run says it as the sweep would).
    open(spec, "w").write(REPEAT_SPEC.replace("jac-target = output", "jac-target = hidden1")
                          .replace("jac-proj = 3", "jac-proj = [1, 3]"))
    p = sweep(["--spec", spec, "--out", os.path.join(tmp, "repeats-both"), "--dry-run"])
    check("set options that change nothing (the penalty's at jac-lambda 0, jac-proj for hidden1): " in p.stdout,
          f"hidden1 with and without the penalty: {p.stdout[:300]}")

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("repeats: plot placement not checked: no matplotlib")
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import plot_sweep
    rows, places, swept = plot_sweep.load(folder)
    at = sorted(r["jac-noise"] for r in places if r["id"] == plain)
    check(at == ["0", "0.3"] and "jac-target" not in swept and "jac-proj" not in swept,
          f"plot_sweep places the run without the penalty at jac-noise {at}; swept {swept}")


def checkpoint_epochs(tmp):
    """--checkpoint-epochs 2: last.ckpt at epochs 2, 4 and the end; a run killed after epoch 3
    resumes from epoch 2 and replays epoch 3 to the same bytes."""
    job = ["train", "--data", "usps", "--hidden", "128", "--train-limit", "3000", "--valid", "300", "--epochs", "5",
           "--lr", "0.05", "--jac-lambda", "0.05", "--jac-noise", "0.2", "--progress", "never"]
    ref = os.path.join(tmp, "every-epoch")
    run(job + ["--out", ref])
    # Killed once epoch 3 has ended, before epoch 4 does (a tenth of a second on a fast machine):
    # tried again the rare time the kill came later, as the epochs' lines then tell.
    for attempt in range(3):
        folder = os.path.join(tmp, f"every-2-epochs-{attempt}")
        p = subprocess.Popen([BIN] + job + ["--out", folder, "--checkpoint-epochs", "2"], stdout=subprocess.DEVNULL)
        metrics = os.path.join(folder, "metrics.jsonl")
        epochs = lambda: open(metrics).read().count("\n") if os.path.exists(metrics) else 0
        if not wait_until(lambda: epochs() >= 3, p, every=0.005, what="--checkpoint-epochs 2: a run's third epoch"):
            break  # ended before it (failed, or hung and killed at the bound): no try again helps
        p.kill()
        p.wait()
        if epochs() == 3:
            break
    if epochs() < 3:  # the run ended before its third epoch: nothing to kill there
        check(False, f"--checkpoint-epochs 2: the run ended (exit {p.returncode}) after {epochs()} epochs, "
              "before its third: never killed between epochs 3 and 4")
        return
    if epochs() != 3:  # each kill came late: no run stopped there to resume
        check(False, f"--checkpoint-epochs 2: the kill never came between epochs 3 and 4 in {attempt + 1} tries "
              f"({epochs()} epochs at the last)")
        return
    shown = run(["show", os.path.join(folder, "last.ckpt")]).stdout
    check("2 epochs done" in shown, f"--checkpoint-epochs 2, killed after epoch 3: last.ckpt {shown[:300]!r}")
    run(["train", "--out", folder, "--resume", "--progress", "never"])
    same_run(ref, folder, "--checkpoint-epochs 2, killed after epoch 3, resumed")


# Two configurations of one tiny group each, a second or so in all.
TINY_SPEC = """data = usps
hidden = 4
train-limit = 60
valid = 20
batch = 20
epochs = 1
lr = [0.1, 0.2]
"""


def jobs_share_what_is_left(tmp):
    """A rerun deals the configurations left to train over the --jobs workers, not the whole
    shard: dealt with the finished ones, the two left here (every other id) fell to one
    worker, which trained them one after the other while the other idled. Seen without timing:
    the first left is held by another process (its lock), which stops the worker it falls to;
    the second, dealt to the other worker, still trains."""
    spec = os.path.join(tmp, "left.spec")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "[0.1, 0.2, 0.3, 0.4]"))
    folder = os.path.join(tmp, "left")
    sweep(["--spec", spec, "--out", folder])
    ids = run_ids(folder)
    for i in ids[1::2]:
        shutil.rmtree(os.path.join(folder, "runs", i))
    held, free = ids[1], ids[3]
    os.makedirs(os.path.join(folder, "runs", held))
    with open(os.path.join(folder, "runs", held, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p = sweep(["--spec", spec, "--out", folder, "--jobs", "2", "--models", "1"], expect=1)
    status = column(folder, "status")
    check(status[free] == "finished" and status[held] == "running",
          f"--jobs 2, 2 left, one held by another process: {status}; stderr {p.stderr!r}")
    # More workers than configurations left: as many as are left are started, and said.
    p = sweep(["--spec", spec, "--out", folder, "--jobs", "3"])
    check("4 of them, 3 done; 1 worker," in p.stdout and set(column(folder, "status").values()) == {"finished"},
          f"--jobs 3 with 1 configuration left: {p.stdout[:300]!r}")


def children(pid):
    """The processes whose parent is pid (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # ended meanwhile, or not a process
            continue
        if entry.isdigit() and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def worker_killed(tmp):
    """Workers killed (by the OOM killer, say): the sweep names each one's signal and says how
    to continue its runs (it said 'ended with status 137', nothing more), exit 1."""
    spec = os.path.join(tmp, "worker-killed.spec")
    open(spec, "w").write(KILL_SPEC.replace("epochs = 5", "epochs = 500").replace("seeds = 2", ""))
    folder = os.path.join(tmp, "worker-killed")
    p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--jobs", "2", "--progress", "never"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    until_training(folder, p)
    for pid in children(p.pid):
        os.kill(pid, signal.SIGKILL)
    out, err = ended(p, "a sweep whose workers were killed")
    last = err.strip().splitlines()[-1:] or [""]
    check(p.returncode == 1 and re.search(r"^jacnoise: sweep: sweep worker \d \(pid \d+\) was killed by signal 9 "
                                          r"\(.+\); its runs stay at their last checkpoints: run the same sweep "
                                          r"command again to continue$", last[0]),
          f"workers killed: exit {p.returncode}, {err!r}")


def spec_changed(tmp):
    """The study changed (another spec, its sweep.spec removed as the refusal says): the runs of
    configurations it keeps are reused; those of the configurations it dropped stay in runs/,
    out of results.csv, and the table says so (it said nothing of them)."""
    spec = os.path.join(tmp, "changed.spec")
    open(spec, "w").write(TINY_SPEC)
    folder = os.path.join(tmp, "changed")
    sweep(["--spec", spec, "--out", folder])
    # An edit of comments, blank lines, spacing and quotes is the same sweep: its rerun goes on
    # (it was refused as another spec), and sweep.spec keeps the text first written.
    open(spec, "w").write("# the same study\n\n" + TINY_SPEC.replace("lr = [0.1, 0.2]", '--lr=[ 0.1,"0.2" ]  # two') +
                          "   \n")
    p = sweep(["--spec", spec, "--out", folder])
    check("2 of them, 2 done" in p.stdout and open(os.path.join(folder, "sweep.spec")).read() == TINY_SPEC,
          f"a comment-only edit of the spec: {p.stdout!r} {p.stderr!r}")
    # ... but the keys' order orders the configurations: another spec, as a value changed is.
    lines = TINY_SPEC.splitlines(True)
    for name, text in (("reordered", "".join(lines[1:] + lines[:1])),
                       ("a value changed", TINY_SPEC.replace("[0.1, 0.2]", "[0.1, 0.3]"))):
        open(spec, "w").write(text)
        p = sweep(["--spec", spec, "--out", folder], expect=2)
        check("holds a sweep of another spec" in p.stderr, f"an edited spec ({name}): {p.stderr!r}")
    os.remove(os.path.join(folder, "sweep.spec"))
    said = f"other runs: 1 folder in {folder}/runs of no configuration of this spec"
    p = sweep(["--spec", spec, "--out", folder])
    check("2 of them, 1 done" in p.stdout and said in p.stdout and len(rows(folder)) == 3 and len(run_ids(folder)) == 3,
          f"the edited spec's sweep: {p.stdout!r}")
    p = run(["sweep", "status", folder])
    check(said in p.stdout, f"status after the spec changed: {p.stdout!r}")


def samples_and_seeds(tmp):
    """Random draws with seeds: samples x seeds configurations, every draw with each seed
    S .. S+N-1 (S the spec's seed), the same draws for every seed."""
    spec = os.path.join(tmp, "draws.spec")
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = uniform(0.05, 0.5)\nsamples = 2\nseed = 5\nseeds = 2"))
    folder = os.path.join(tmp, "draws")
    sweep(["--spec", spec, "--out", folder])
    lr, seed = column(folder, "lr"), column(folder, "seed")
    pairs = sorted((lr[i], seed[i]) for i in lr)
    draws = sorted(set(lr.values()))
    check(len(draws) == 2 and pairs == sorted((v, s) for v in draws for s in ("5", "6")),
          f"samples = 2, seeds = 2 from seed 5: configurations (lr, seed) {pairs}, expected each of 2 draws with 5 and 6")


def long_choice(tmp):
    """A choice() value is used whole however long (a long idx: path, say): it was cut to 127
    characters, a configuration the spec does not give (here seed 0 for 1)."""
    spec = os.path.join(tmp, "long-choice.spec")
    seed = "0" * 140 + "1"
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", f"lr = 0.1\nseed = choice({seed}, 2)\nsamples = 3"))
    folder = os.path.join(tmp, "long-choice")
    sweep(["--spec", spec, "--out", folder])
    seeds = sorted(set(column(folder, "seed").values()))
    check(seeds == ["1", "2"], f"seed = choice(0...01, 2): seeds {seeds}, expected 1 and 2")


def status_device_unknown(tmp):
    """Status and merge read a folder whose spec fixes device = cpu beside precision = tf32,
    which a sweep with --device cuda trains (its command line wins over the spec): they
    refused every configuration, checked on the spec's CPU. Made by hand: a sweep needs a GPU."""
    folder = os.path.join(tmp, "device-unknown")
    os.makedirs(os.path.join(folder, "runs"))
    open(os.path.join(folder, "sweep.spec"), "w").write(TINY_SPEC + "device = cpu\nprecision = tf32\n")
    for args in (["status", folder], ["merge", folder]):
        p = run(["sweep"] + args, expect=None)
        check(p.returncode == 0 and "2 configurations: 0 done, 0 diverged, 0 failed, 0 running, 0 interrupted, "
              "2 pending\n" in p.stdout, f"sweep {args[0]} of a folder swept with --device cuda over the spec's cpu: "
              f"exit {p.returncode}, {p.stdout[:200]!r} {p.stderr!r}")


def status_stored_tiny(tmp):
    """Status and merge read a folder swept before values below float32's smallest normal
    number were refused (lr 1e-40 here) as it was swept: they refused its own sweep.spec, as a
    new sweep's spec still is. Made by hand, as a build that trains it is gone."""
    folder = os.path.join(tmp, "stored-tiny")
    os.makedirs(os.path.join(folder, "runs"))
    open(os.path.join(folder, "sweep.spec"), "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = [0.1, 1e-40]"))
    for args in (["status", folder], ["merge", folder]):
        p = run(["sweep"] + args, expect=None)
        check(p.returncode == 0 and "2 configurations: 0 done, 0 diverged, 0 failed, 0 running, 0 interrupted, "
              "2 pending\n" in p.stdout, f"sweep {args[0]} of a folder swept with lr 1e-40: exit {p.returncode}, "
              f"{p.stdout[:200]!r} {p.stderr!r}")
    p = sweep(["--spec", os.path.join(folder, "sweep.spec"), "--out", os.path.join(tmp, "stored-tiny-new"),
               "--dry-run"], expect=2)
    check("--lr 1e-40: below 1.17549435e-38" in p.stderr, f"a new sweep of lr 1e-40: {p.stderr!r}")


def tiny_idx(folder):
    """A 40-example, 4x4, 3-class idx: training set in folder: its images and labels files."""
    n, side = 40, 4
    images, labels = os.path.join(folder, "images.idx"), os.path.join(folder, "labels.idx")
    open(images, "wb").write(idx(0x08, [n, side, side], bytes((7 * i) % 256 for i in range(n * side * side))))
    open(labels, "wb").write(idx(0x08, [n], bytes(i % 3 for i in range(n))))
    return images, labels


def no_test_split(tmp):
    """idx: data without --test has no test split: a configuration's line gives its validation
    error alone, as train's does (it said 'test nan%')."""
    images, labels = tiny_idx(tmp)
    spec = os.path.join(tmp, "no-test.spec")
    open(spec, "w").write(f"data = idx:{images},{labels}\nhidden = 4\nbatch = 10\nepochs = 1\nlr = [0.1, 0.2]\n")
    p = sweep(["--spec", spec, "--out", os.path.join(tmp, "no-test")])
    lines = [x for x in p.stdout.splitlines() if x.startswith("sweep: [")]
    check(len(lines) == 2 and all(re.search(r" finished, best epoch 1: valid [0-9.]+%  lr=0\.[12]$", x) for x in lines),
          f"a sweep without a test split: {lines}")


def bracketed_path(tmp):
    """A quoted fixed value is taken whole, brackets and parentheses included, as train's
    option takes it: a data file in a folder "set(2)" was refused as not a value; unquoted,
    the refusal says to quote it."""
    data = os.path.join(tmp, "set(2)[a]")
    os.makedirs(data)
    images, labels = tiny_idx(data)
    spec = os.path.join(tmp, "bracketed.spec")
    body = "hidden = 4\nbatch = 10\nepochs = 1\nlr = [0.1, 0.2]\n"
    open(spec, "w").write(f'data = "idx:{images},{labels}"\n' + body)
    folder = os.path.join(tmp, "bracketed")
    p = sweep(["--spec", spec, "--out", folder], expect=None)
    check(p.returncode == 0 and list(column(folder, "status").values()) == ["finished"] * 2 and
          set(column(folder, "data").values()) == {f"idx:{images},{labels}"},
          f"a quoted data path with brackets: {p.stdout[-300:]!r} {p.stderr!r}")
    open(spec, "w").write(f"data = idx:{images},{labels}\n" + body)
    p = sweep(["--spec", spec, "--out", os.path.join(tmp, "bracketed-bare")], expect=2)
    check(p.stderr.startswith(f"jacnoise: --spec {spec}: line 1: data: 'idx:") and
          p.stderr.endswith("(quote a value that holds '(' or '[')\n"), f"an unquoted data path with brackets: {p.stderr!r}")


def results_unwritable(tmp):
    """A sweep whose results.csv cannot be written (a folder stands there) trains its runs,
    says so and exits 1, not 0 with the file behind its run folders; a merge writes it once
    it can."""
    spec = os.path.join(tmp, "unwritten.spec")
    open(spec, "w").write(TINY_SPEC)
    folder = os.path.join(tmp, "unwritten")
    os.makedirs(os.path.join(folder, "results.csv"))
    p = sweep(["--spec", spec, "--out", folder], expect=1)
    check("results.csv" in p.stderr.splitlines()[-1] and "2 done" in run(["sweep", "status", folder]).stdout,
          f"a sweep that cannot write results.csv: {p.stderr!r}")
    os.rmdir(os.path.join(folder, "results.csv"))
    listed = run(["sweep", "status", folder]).stdout
    check(f"results: no results.csv (jacnoise sweep merge {folder} writes it)" in listed,
          f"status names a results.csv that is not there: {listed!r}")
    run(["sweep", "merge", folder])
    check(sorted(column(folder, "status").values()) == ["finished"] * 2, "results.csv written by the merge")
    listed = run(["sweep", "status", folder]).stdout
    check(f"results: {os.path.join(folder, 'results.csv')}\n" in listed, f"status after the merge: {listed!r}")


def out_is_a_file(tmp):
    """--out naming a file is refused in one line naming --out, as train refuses it, not as
    DIR/runs that could not be made; the file is left as it was. So is a merge into a file, and a
    merge of folders of two specs, with the same exit status."""
    spec = os.path.join(tmp, "outfile.spec")
    open(spec, "w").write(TINY_SPEC)
    target = os.path.join(tmp, "outfile")
    open(target, "w").write("mine\n")
    # A usage error, as train's --out and step's --dump naming the wrong kind of thing: it was exit 1.
    p = sweep(["--spec", spec, "--out", target], expect=2)
    check(p.stderr == f"jacnoise: --out {target}: exists and is not a folder\n", f"--out naming a file: {p.stderr!r}")
    check(open(target).read() == "mine\n", "--out naming a file: the file changed")
    # Below a file: named as train names it; it read 'DIR/sub: cannot create folder', no option,
    # then '--out: DIR/sub: ...' where every other option's file is '--opt FILE: ...'.
    p = sweep(["--spec", spec, "--out", os.path.join(target, "sub")], expect=1)
    check(p.stderr == f"jacnoise: --out {target}/sub: cannot create folder: Not a directory\n",
          f"--out below a file: {p.stderr!r}")
    # A merge into a file, or of a folder of another spec: a usage error too, as --out's (it was exit 1).
    source, other = os.path.join(tmp, "outfile-source"), os.path.join(tmp, "outfile-other")
    for folder, text in ((source, TINY_SPEC), (other, TINY_SPEC.replace("[0.1, 0.2]", "0.3"))):
        os.makedirs(folder)
        open(os.path.join(folder, "sweep.spec"), "w").write(text)
    p = run(["sweep", "merge", target, source], expect=2)
    check(p.stderr == f"jacnoise: {target}: exists and is not a folder\n" and open(target).read() == "mine\n",
          f"merge into a file: {p.stderr!r}")
    p = run(["sweep", "merge", source, other], expect=2)
    check(p.stderr == f"jacnoise: merge: {other} is a sweep of another spec than {source}/sweep.spec\n",
          f"merge of another spec's folder: {p.stderr!r}")
    # A folder whose spec differs in its comments alone is of the same spec: merged (it was refused).
    commented = os.path.join(tmp, "outfile-commented")
    os.makedirs(commented)
    open(os.path.join(commented, "sweep.spec"), "w").write("# commented\n" + TINY_SPEC.replace("hidden = 4", "hidden = 4 # 1 layer"))
    p = run(["sweep", "merge", source, commented])
    check(p.returncode == 0 and not p.stderr, f"merge of a folder whose spec differs in comments: {p.stderr!r}")


def integer_draws(tmp):
    """uniform(a, b) with integer bounds draws integers in [a, b], both bounds included: twelve
    draws of uniform(1, 2) (each bound missed with probability 2^-12) give epochs 1 and 2,
    and the draws that repeat a configuration are one run; with one bound real (0.9), real draws."""
    spec = os.path.join(tmp, "integers.spec")
    open(spec, "w").write(TINY_SPEC.replace("epochs = 1", "epochs = uniform(1, 2)\nsamples = 12")
                                   .replace("lr = [0.1, 0.2]", "lr = 0.1"))
    folder = os.path.join(tmp, "integers")
    sweep(["--spec", spec, "--out", folder])
    epochs = sorted(column(folder, "epochs").values())
    check(epochs == ["1", "2"], f"epochs = uniform(1, 2), 12 samples: configurations of epochs {epochs}, expected 1 and 2")
    # A bound with a decimal point makes the draws real, whichever bound has it.
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = 0.1\nmomentum = uniform(0, 0.9)\nsamples = 3"))
    folder = os.path.join(tmp, "integers-real")
    sweep(["--spec", spec, "--out", folder])
    momenta = sorted(column(folder, "momentum").values())
    check(len(momenta) == 3 and all("." in m and 0 < float(m) < 0.9 for m in momenta),
          f"momentum = uniform(0, 0.9), 3 samples: drew {momenta}, expected 3 real values in (0, 0.9)")


def draws_within_bounds(tmp):
    """A real draw rounded to 4 digits stays in [a, b]: in uniform(0.99991, 0.99999) most draws
    round to 0.9999 (below a) or 1 (above b, a momentum refused); each is its bound then."""
    spec = os.path.join(tmp, "bounds.spec")
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "momentum = uniform(0.99991, 0.99999)\nsamples = 6"))
    folder = os.path.join(tmp, "bounds")
    sweep(["--spec", spec, "--out", folder])
    momenta = sorted(set(column(folder, "momentum").values()))
    check(momenta == ["0.99991", "0.99999"], f"momentum = uniform(0.99991, 0.99999): drew {momenta}, expected the bounds")


def ids_ignore_operational(tmp):
    """A configuration's id hashes its experiment options only: a rerun with other threads,
    data folder and checkpoint interval (where and how it runs) finds the same run folders,
    all done, and trains nothing."""
    spec = os.path.join(tmp, "tiny-ops.spec")
    open(spec, "w").write(TINY_SPEC)
    folder = os.path.join(tmp, "tiny-ops")
    sweep(["--spec", spec, "--out", folder])
    ids = run_ids(folder)
    # A sweep's runs use one thread unless given: --jobs workers each on all CPUs crowded them.
    threads = [line for i in ids for line in open(os.path.join(folder, "runs", i, "config.txt")).read().splitlines()
               if line.startswith("threads=")]
    check(threads == ["threads=1"] * len(ids), f"the threads of a sweep's runs, none given: {threads}")
    p = sweep(["--spec", spec, "--out", folder, "--threads", "2", "--data-dir", os.environ["JACNOISE_DATA"],
               "--checkpoint-epochs", "2"])
    check(run_ids(folder) == ids and len(ids) == 2 and "2 of them, 2 done" in p.stdout,
          f"a rerun with --threads, --data-dir, --checkpoint-epochs: run folders {run_ids(folder)}, before {ids}; "
          f"{p.stdout[:300]!r}")


def group_keys_split(tmp):
    """Configurations of other batch sizes or layer sizes are never one group (a group shares
    one batch and one shape): 4 groups, each run the bytes of its configuration alone."""
    spec = os.path.join(tmp, "shapes.spec")
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = 0.1").replace("batch = 20", "batch = [20, 30]")
                                   .replace("hidden = 4", 'hidden = ["4", "6"]'))
    folder = os.path.join(tmp, "shapes")
    p = sweep(["--spec", spec, "--out", folder, "--models", "4"])
    check("4 configurations in 4 groups" in p.stdout, f"batch and hidden swept: {p.stdout[:300]!r}")
    for i in run_ids(folder):
        alone = os.path.join(tmp, "shapes-alone", i)
        run(["train", "--config", os.path.join(folder, "runs", i, "config.txt"), "--out", alone])
        same_run(os.path.join(folder, "runs", i), alone, f"batch and hidden swept: run {i} vs train alone")


def tiny_sweep(tmp, name, *args):
    """TINY_SPEC written to tmp/NAME.spec and swept into tmp/NAME (with args): the spec and folder."""
    spec, folder = os.path.join(tmp, name + ".spec"), os.path.join(tmp, name)
    open(spec, "w").write(TINY_SPEC)
    sweep(["--spec", spec, "--out", folder] + list(args))
    return spec, folder


def shard_deal_order(tmp):
    """--shard I/N deals the configurations round-robin from shard 0, the count running on across
    groups: of 3, shard 0 of 2 trains two, whichever binary runs it (shards of one sweep run by
    two versions must agree on it)."""
    spec = os.path.join(tmp, "deal.spec")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "[0.1, 0.2, 0.3]"))
    folder = os.path.join(tmp, "deal")
    sweep(["--spec", spec, "--out", folder, "--shard", "0/2"])
    status = list(column(folder, "status").values())
    check(sorted(status) == ["finished", "finished", "pending"], f"shard 0/2 of 3 configurations: {status}")
    # The count runs on from group to group (as README says), not from shard 0 in each: of two
    # groups of one (their layer sizes differ), shard 0 of 2 trains one.
    open(spec, "w").write(TINY_SPEC.replace("hidden = 4", "hidden = [4, 5]").replace("[0.1, 0.2]", "0.1"))
    folder = os.path.join(tmp, "deal-groups")
    sweep(["--spec", spec, "--out", folder, "--shard", "0/2"])
    status = list(column(folder, "status").values())
    check(sorted(status) == ["finished", "pending"], f"shard 0/2 of 2 groups of one configuration: {status}")


def merge_further(tmp):
    """A merge keeps, of two unfinished copies of a run, the one further along (more steps),
    whichever folder is named first."""
    _, done = tiny_sweep(tmp, "tiny-merge")
    i = run_ids(done)[0]
    config = os.path.join(done, "runs", i, "config.txt")
    for steps in (1, 2):  # 3 steps an epoch: paused inside it
        run(["train", "--config", config, "--max-steps", str(steps), "--progress", "never",
             "--out", os.path.join(tmp, f"merge-{steps}", "runs", i)])
        shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(tmp, f"merge-{steps}", "sweep.spec"))
    for order in ((1, 2), (2, 1)):
        dest = os.path.join(tmp, "merge-into-%d%d" % order)
        os.makedirs(dest)
        shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(dest, "sweep.spec"))
        run(["sweep", "merge", dest] + [os.path.join(tmp, f"merge-{s}") for s in order])
        check(read(os.path.join(dest, "runs", i, "last.ckpt")) == read(os.path.join(tmp, "merge-2", "runs", i, "last.ckpt"))
              and column(dest, "steps")[i] == "2",
              f"merge of runs paused after 1 and 2 steps (in that order: {order}): steps {column(dest, 'steps').get(i)}")


def merge_long_source(tmp):
    """A merge from a shard whose folder's name is long enough that its runs' files do not fit
    in a path (its sweep.spec does) refuses in one line naming the file, before it changes
    anything: it used to read each run's cut file names as missing files, take its finished runs
    for ones just started, create their folders in the merge's folder (a lock file alone, which
    status then counted as running) and refuse only at the first file it copied."""
    spec = os.path.join(tmp, "tiny-long.spec")
    open(spec, "w").write(TINY_SPEC)
    done = os.path.join(tmp, "tiny-long")
    sweep(["--spec", spec, "--out", done])
    source = os.path.join(tmp, "long")
    while len(source) < 1030 - 201:
        source = os.path.join(source, "x" * 200)
    source = os.path.join(source, "y" * (1030 - len(source) - 1))
    shutil.copytree(done, source)
    dest = os.path.join(tmp, "merge-long-into")
    os.makedirs(dest)
    shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(dest, "sweep.spec"))
    p = run(["sweep", "merge", dest, source], expect=1)
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1 and "path too long" in lines[0] and source in lines[0],
          f"merge from a {len(source)}-character folder: {p.stderr[-300:]!r}")
    copied = run_ids(dest) if os.path.isdir(os.path.join(dest, "runs")) else []
    check(not copied, f"merge from a long folder copied {copied}")


def merge_many(tmp):
    """A merge of more run folders than the process may open files at once (ulimit -n), here 40
    under a limit of 32: it held a lock on every folder to copy and every one to replace until
    the end, and a merge of a few thousand runs stopped at 'Too many open files'."""
    spec = os.path.join(tmp, "tiny-many.spec")
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = 0.1\nseeds = 40"))
    done, dest = os.path.join(tmp, "tiny-many"), os.path.join(tmp, "merge-many-into")
    sweep(["--spec", spec, "--out", done])
    os.makedirs(dest)
    shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(dest, "sweep.spec"))
    p = run(["sweep", "merge", dest, done],
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (32, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
    check("merge: 40 run folders copied" in p.stdout, f"merge of 40 runs under ulimit -n 32: {p.stderr[-300:]!r}")
    if p.returncode == 0:
        same_sweep(done, dest, "40 runs merged under ulimit -n 32")


def merge_replaces(tmp):
    """A merge replaces a run folder by the further copy whole: a file that copy lacks goes
    too. Here a copy paused at step 2 (its summary.json says paused) is merged over by one
    killed right after its checkpoint at step 4, in epoch 2, which has no summary.json."""
    spec = os.path.join(tmp, "tiny-replace.spec")
    open(spec, "w").write(TINY_SPEC.replace("epochs = 1", "epochs = 2").replace("[0.1, 0.2]", "0.1"))
    done = os.path.join(tmp, "tiny-replace")
    sweep(["--spec", spec, "--out", done])
    i = run_ids(done)[0]
    config = os.path.join(done, "runs", i, "config.txt")
    paused, killed = os.path.join(tmp, "replace-paused"), os.path.join(tmp, "replace-killed")
    run(["train", "--config", config, "--max-steps", "2", "--progress", "never", "--out",
         os.path.join(paused, "runs", i)])
    run(["train", "--config", config, "--checkpoint-steps", "4", "--progress", "never", "--out",
         os.path.join(killed, "runs", i)], expect=-signal.SIGKILL, env=dict(os.environ, JACNOISE_TEST_KILL_AFTER_SAVES="1"))
    for folder in (paused, killed):
        shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(folder, "sweep.spec"))
    run(["sweep", "merge", paused, killed])

    def files(folder):
        return {n: read(os.path.join(folder, n)) for n in os.listdir(folder) if n != "lock"}
    merged, copy = files(os.path.join(paused, "runs", i)), files(os.path.join(killed, "runs", i))
    check("summary.json" not in copy and merged == copy, f"merge of a copy killed at step 4 over one paused at step 2: "
          f"the folder holds {sorted(merged)}, the copy {sorted(copy)}")


def merge_into_running(tmp):
    """A merge refuses, with one line naming the folder and nothing changed, to replace a run
    folder another process holds (RUN/lock, as a running sweep does); once released it merges."""
    spec = os.path.join(tmp, "tiny.spec")
    open(spec, "w").write(TINY_SPEC)
    done, dest = os.path.join(tmp, "tiny-done"), os.path.join(tmp, "tiny-running")
    sweep(["--spec", spec, "--out", done])
    held, other = run_ids(done)
    os.makedirs(os.path.join(dest, "runs", held))
    shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(dest, "sweep.spec"))
    lock = open(os.path.join(dest, "runs", held, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    p = run(["sweep", "merge", dest, done], expect=1)
    folder = os.path.join(dest, "runs", held)
    # Found locked before any copy, as "still trains it" says (not by the copy, which says "during").
    check(len(p.stderr.splitlines()) == 1 and folder in p.stderr and "in use" in p.stderr and
          "(a sweep still trains it)" in p.stderr, f"merge into a locked run folder: {p.stderr!r}")
    check(os.listdir(folder) == ["lock"] and not os.path.exists(os.path.join(dest, "runs", other)),
          f"a refused merge changed the sweep: {sorted(os.listdir(os.path.join(dest, 'runs')))}")
    lock.close()
    run(["sweep", "merge", dest, done])
    same_sweep(done, dest, "merged once the lock was released")


def files_of(folder):
    """Every file under folder, by its path there: its bytes."""
    return {os.path.relpath(os.path.join(d, n), folder): read(os.path.join(d, n))
            for d, _, names in os.walk(folder) for n in names}


def merge_from_running(tmp):
    """A merge refuses, likewise, to copy a run folder another process holds: a sweep training
    it could write its next epoch's last.ckpt between the copies of its metrics.jsonl and its
    last.ckpt, a copy a resume would train on without that epoch's line. Refused, it writes
    nothing: a new DIR is not made (it was, with sweep.spec, merged and an empty runs, whose
    status read as a sweep of every configuration pending), an existing one is left as it was
    (its DIR/merged named the source refused)."""
    done, dest = os.path.join(tmp, "tiny-done"), os.path.join(tmp, "tiny-from-running")
    empty, kept = os.path.join(tmp, "tiny-no-runs"), os.path.join(tmp, "tiny-merged-before")
    os.makedirs(empty)
    shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(empty, "sweep.spec"))
    run(["sweep", "merge", kept, empty])  # a folder a merge made, with none of the runs
    before = files_of(kept)
    held = run_ids(done)[0]
    folder = os.path.join(done, "runs", held)
    lock = open(os.path.join(folder, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    for into in (dest, kept):
        p = run(["sweep", "merge", into, done], expect=1)
        check(len(p.stderr.splitlines()) == 1 and folder in p.stderr and "in use" in p.stderr,
              f"merge from a locked run folder into {into}: {p.stderr!r}")
    check(not os.path.exists(dest), f"a refused merge made its folder: {os.path.exists(dest) and os.listdir(dest)}")
    check(files_of(kept) == before, f"a refused merge changed the folder it merged into: "
          f"{sorted(set(files_of(kept).items()) ^ set(before.items()))}")
    lock.close()
    run(["sweep", "merge", dest, done])
    same_sweep(done, dest, "merged once the copied folder's lock was released")


def merge_held_up(dest, lock, args, during):
    """`jacnoise sweep merge args` held up in its check of the run folder `dest`/runs/X to
    replace: X's `lock` is held shared (as a status holds it for an instant), so the merge's
    exclusive lock waits on it; once its first try has been refused (its close of the lock file,
    opened for writing, seen with inotify), the merge is stopped (SIGSTOP), during() runs and the
    lock is released, and the merge goes on past its checks. It tries the lock for about a second
    (READER_WAITS): stopped, it waits however long a loaded machine takes over during(), which
    would else have missed that second and seen a run folder still in use. Its exit status and
    standard error."""
    libc = ctypes.CDLL(None, use_errno=True)
    watch = libc.inotify_init1(os.O_CLOEXEC)
    check(watch >= 0 and libc.inotify_add_watch(watch, lock.encode(), 0x8) >= 0,  # IN_CLOSE_WRITE
          f"inotify on {lock}: errno {ctypes.get_errno()}")
    with open(lock) as held:  # read-only: its own close is not one for writing
        fcntl.flock(held, fcntl.LOCK_SH | fcntl.LOCK_NB)
        p = subprocess.Popen([BIN, "sweep", "merge", dest] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        tried = select.select([watch], [], [], 60)[0]
        p.send_signal(signal.SIGSTOP)
        during()
    p.send_signal(signal.SIGCONT)
    os.close(watch)
    err = ended(p, f"merge into {dest}", 60)[1]
    check(tried, f"merge into {dest}: it never tried the lock of {lock}")
    return p.returncode, err


def merge_races(tmp):
    """What a merge finds changed between its checks and its copy, it says so: a source run
    folder a sweep began to train then (its lock taken: "started training it during the merge",
    not "still trains it", which the check would have refused), and a sweep.spec of another spec
    written then in the DIR it merges into (not "--out DIR ...: choose another --out", a merge
    having no --out)."""
    spec = os.path.join(tmp, "race.spec")
    open(spec, "w").write(TINY_SPEC)
    done = os.path.join(tmp, "race-done")
    sweep(["--spec", spec, "--out", done])
    held = run_ids(done)[0]
    sources = [os.path.join(done, "runs", i) for i in run_ids(done)]
    # The sources' runs begin to train while the merge waits on its DIR's run folder.
    dest = os.path.join(tmp, "race-locked")
    os.makedirs(os.path.join(dest, "runs", held))
    shutil.copy(os.path.join(done, "sweep.spec"), dest)
    lock = os.path.join(dest, "runs", held, "lock")
    open(lock, "w").close()
    trained = [open(os.path.join(folder, "lock")) for folder in sources]
    begun = lambda: [fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB) for f in trained]
    code, err = merge_held_up(dest, lock, [done], begun)
    for f in trained:
        f.close()
    said = re.fullmatch(r"jacnoise: merge: (.*) is in use by another jacnoise process \(a sweep started training it "
                        r"during the merge\); merge again once it has ended \(nothing was copied\)\n", err)
    check(code == 1 and said and said[1] in sources,
          f"a merge whose source run began to train during it: exit {code}: {err!r}")
    # Another spec's sweep.spec written in a DIR that held none when the merge began.
    dest = os.path.join(tmp, "race-spec")
    os.makedirs(os.path.join(dest, "runs", held))
    lock = os.path.join(dest, "runs", held, "lock")
    open(lock, "w").close()
    other = TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = [0.3, 0.4]")
    code, err = merge_held_up(dest, lock, [done], lambda: open(os.path.join(dest, "sweep.spec"), "w").write(other))
    check(code == 2 and err == f"jacnoise: merge: {dest} holds a sweep of another spec "
          f"({dest}/sweep.spec, written during the merge, differs from {done}/sweep.spec): merge into another folder\n",
          f"a merge whose DIR got another spec during it: exit {code}: {err!r}")


def merge_stopped(tmp):
    """A merge stopped between two files of a run folder (here the copy's best.ckpt cannot be
    read; a kill or a full disk likewise) leaves a folder a resume trains to the bytes of an
    uninterrupted run. It copied last.ckpt before best.ckpt: stopped between them, the folder
    held the older best.ckpt beside a last.ckpt past a better epoch, which no later epoch
    rewrote."""
    spec = os.path.join(tmp, "stopped.spec")
    # lr 2: the best validation error after epoch 2 and by epoch 8 (3 or 7 as seen: the path at
    # this rate moves with the BLAS kernels), so the copy's best.ckpt is newer than the
    # folder's and older than its last.ckpt
    open(spec, "w").write("data = usps\nhidden = 20\ntrain-limit = 500\nvalid = 100\nlr = 2\nepochs = 12\n"
                          "patience = 0\n")
    ref, dest, copy = (os.path.join(tmp, name) for name in ("stopped-ref", "stopped-into", "stopped-from"))
    sweep(["--spec", spec, "--out", ref])
    i = run_ids(ref)[0]
    best_epoch = int(column(ref, "best_epoch")[i])
    check(2 < best_epoch <= 8, f"merge stopped: the best epoch is {best_epoch}, not in 3..8")
    for folder, steps in ((dest, "10"), (copy, "40")):  # 5 steps an epoch: paused after epochs 2 and 8
        run(["train", "--config", os.path.join(ref, "runs", i, "config.txt"), "--max-steps", steps,
             "--progress", "never", "--out", os.path.join(folder, "runs", i)])
        shutil.copy(os.path.join(ref, "sweep.spec"), os.path.join(folder, "sweep.spec"))
    best = os.path.join(copy, "runs", i, "best.ckpt")
    os.remove(best)
    os.mkdir(best)
    run(["sweep", "merge", dest, copy], expect=1)
    sweep(["--spec", spec, "--out", dest])
    same_run(os.path.join(ref, "runs", i), os.path.join(dest, "runs", i), "a merge stopped half-way, then resumed")


def merge_commit_stopped(tmp):
    """A merge whose rename of a run's files fails (a kill between two renames likewise) leaves
    the older summary.json, or the run's finished files whole: a finished one put in place
    before last.ckpt read as a run done over a last.ckpt epochs behind, which no rerun trained
    further. The rerun ends it with the bytes of an uninterrupted run. Each of the merge's
    renames fails in turn, so that this holds whatever order they run in (the fifth alone
    failed, which was summary.json's only while the run had 5 files renamed in that order)."""
    strace = shutil.which("strace")
    if not strace:
        check(False, "merge commit stopped: strace is missing (Debian: strace; tools/setup.sh installs it)")
        return
    spec = os.path.join(tmp, "commit-stopped.spec")
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = 0.1").replace("epochs = 1", "epochs = 3"))
    ref, paused = os.path.join(tmp, "commit-stopped-ref"), os.path.join(tmp, "commit-stopped-paused")
    sweep(["--spec", spec, "--out", ref])
    i = run_ids(ref)[0]
    run(["train", "--config", os.path.join(ref, "runs", i, "config.txt"), "--max-steps", "3", "--progress", "never",
         "--out", os.path.join(paused, "runs", i)])  # 3 steps an epoch: paused after the first
    shutil.copy(os.path.join(ref, "sweep.spec"), os.path.join(paused, "sweep.spec"))
    finished = {name: read(os.path.join(ref, "runs", i, name)) for name in os.listdir(os.path.join(ref, "runs", i))
                if name not in ("lock", "summary.json")}
    for k in range(1, 21):
        dest = os.path.join(tmp, f"commit-stopped-{k}")
        shutil.copytree(paused, dest)
        p = subprocess.run([strace, "-f", "-qq", "-o", os.devnull, "-e", f"inject=rename,renameat:error=EIO:when={k}",
                            BIN, "sweep", "merge", dest, ref],
                           capture_output=True, text=True, timeout=600, env=under_ptrace())
        if p.returncode != 0 and "ptrace" in p.stderr:
            print(f"merge commit stopped: NOT CHECKED (strace cannot trace here: {p.stderr.strip()[:200]})")
            return
        if p.returncode == 0:  # a merge of fewer renames: each of them has failed once
            break
        into = os.path.join(dest, "runs", i)
        status = json.load(open(os.path.join(into, "summary.json")))["status"]
        whole = all(os.path.exists(os.path.join(into, name)) and read(os.path.join(into, name)) == data
                    for name, data in finished.items())
        check(p.returncode == 1 and "rename failed" in p.stderr and (status == "paused" or whole),
              f"merge stopped at its rename {k}: exit {p.returncode}, {p.stderr!r}, summary {status} over the "
              f"finished run's files: {whole}")
        sweep(["--spec", spec, "--out", dest])
        same_run(os.path.join(ref, "runs", i), into, f"a merge stopped at its rename {k}, then resumed")
    check(p.returncode == 0 and k - 1 >= len(finished) + 1,
          f"merge commit stopped: {k - 1} renames failed in turn, then the merge exit {p.returncode} (each of the run's "
          f"{len(finished) + 1} files is renamed): {p.stderr!r}")


def merge_killed_rerun(tmp):
    """A merge killed mid-batch leaves its staged copies (FILE.tmp) in the run folders it was
    filling, made here by hand as it leaves them (a lock, a .tmp of each file), and DIR/merged.
    The sweep run again on that folder, as status says, trains those runs and removes them:
    metrics.jsonl.tmp, which no write of the run replaces, stayed for good."""
    spec, source = tiny_sweep(tmp, "killed-merge-from")
    dest = os.path.join(tmp, "killed-merge-into")
    os.makedirs(os.path.join(dest, "runs"))
    shutil.copy(os.path.join(source, "sweep.spec"), dest)
    open(os.path.join(dest, "merged"), "w").write(source + "\n")
    for i in run_ids(source):
        os.mkdir(os.path.join(dest, "runs", i))
        open(os.path.join(dest, "runs", i, "lock"), "w").close()
        for name in os.listdir(os.path.join(source, "runs", i)):
            if name != "lock":
                shutil.copy(os.path.join(source, "runs", i, name), os.path.join(dest, "runs", i, name + ".tmp"))
    sweep(["--spec", spec, "--out", dest])
    left = [f"{i}/{name}" for i in run_ids(dest) for name in os.listdir(os.path.join(dest, "runs", i))
            if name.endswith(".tmp")]
    check(not left, f"a sweep rerun after a killed merge left its temporary files: {left}")
    same_sweep(source, dest, "a sweep rerun after a killed merge")


def merge_failed_unmade(tmp):
    """A merge that fails (a run folder's file cannot be read; a full disk likewise) leaves no
    run folder it made: each left held a lock file alone, which status counted running, killed,
    where the configuration was pending."""
    spec, source = tiny_sweep(tmp, "unmade-from")
    # The spec's second configuration: the first is staged, then dropped, before it fails.
    second = next(i for i, lr in column(source, "lr").items() if lr == "0.2")
    best = os.path.join(source, "runs", second, "best.ckpt")
    os.remove(best)
    os.mkdir(best)
    dest = os.path.join(tmp, "unmade-into")
    run(["sweep", "merge", dest, source], expect=1)
    shown = run(["sweep", "status", dest]).stdout
    check(run_ids(dest) == [] and "0 running, 0 interrupted, 2 pending\n" in shown,
          f"a failed merge into a new folder: run folders {run_ids(dest)}, status {shown!r}")


def failed_before_folder(tmp):
    """A configuration that fails before its run folder exists (its data cannot load) is
    recorded as failed: the sweep, status and a merge say so, not pending."""
    spec = os.path.join(tmp, "too-many.spec")
    open(spec, "w").write(TINY_SPEC.replace("train-limit = 60", "train-limit = [60, 99999]").replace("[0.1, 0.2]", "0.1"))
    folder = os.path.join(tmp, "too-many")
    p = sweep(["--spec", spec, "--out", folder], expect=1)
    bad = next((i for i, v in column(folder, "train-limit").items() if v == "99999"), "")
    summary = os.path.join(folder, "runs", bad, "summary.json")
    check(os.path.exists(summary) and json.load(open(summary))["status"] == "failed", f"{summary}: no failure recorded")
    for args in (["status", folder], ["merge", os.path.join(tmp, "too-many-merged"), folder]):
        p = run(["sweep"] + args)
        check("1 done, 0 diverged, 1 failed, 0 running, 0 interrupted, 0 pending" in p.stdout and
              f"failed {bad}: --train-limit 99999" in p.stdout, f"sweep {args[0]}: {p.stdout[:500]}")
    # Many failures: the closing line names the first 10 and counts the rest (the table above
    # lists each); 12 configurations whose data cannot load.
    many = os.path.join(tmp, "many-failed.spec")
    limits = [str(99990 + k) for k in range(12)]
    open(many, "w").write(TINY_SPEC.replace("train-limit = 60", f"train-limit = [{', '.join(limits)}]")
                          .replace("[0.1, 0.2]", "0.1"))
    p = sweep(["--spec", many, "--out", os.path.join(tmp, "many-failed")], expect=1)
    line = p.stderr.splitlines()[-1]
    named = line.split("failed:")[1].split(" and ")[0].split()
    check(len(named) == 10 and set(named) <= set(column(os.path.join(tmp, "many-failed"), "status")) and
          "and 2 more (12 configurations; jacnoise sweep status " in line and p.stdout.count("\nfailed ") == 12,
          f"12 failures: {line!r}")
    # Where the folder cannot record the failure either (a file stands at its path), the sweep
    # says so, as status will show that configuration pending and a rerun will try it again.
    blocked = os.path.join(tmp, "blocked")
    sweep(["--spec", spec, "--out", blocked], expect=1)
    shutil.rmtree(os.path.join(blocked, "runs", bad))
    open(os.path.join(blocked, "runs", bad), "w").close()
    p = sweep(["--spec", spec, "--out", blocked], expect=1)
    check(f"{bad} failed: " in p.stdout and "(not recorded in the run folder, so status shows it pending: " in p.stdout,
          f"an unrecordable failure: {p.stdout[-600:]}")
    p = run(["sweep", "status", blocked])
    check("0 failed, 0 running, 0 interrupted, 1 pending" in p.stdout, f"status after it: {p.stdout[:300]}")


def corrupt_checkpoint(tmp):
    """An unfinished run whose last.ckpt is corrupt fails every rerun the same way: its message
    names the file and says what works (removing it), status and results.csv rank it by its
    metrics.jsonl, and a rerun after that trains it."""
    spec = os.path.join(tmp, "corrupt.spec")
    open(spec, "w").write(TINY_SPEC)
    folder = os.path.join(tmp, "corrupt")
    sweep(["--spec", spec, "--out", folder])
    victim = os.path.join(folder, "runs", run_ids(folder)[0])
    os.remove(os.path.join(victim, "summary.json"))  # stopped before its end, as if killed
    last = os.path.join(victim, "last.ckpt")
    data = bytearray(read(last))
    data[len(data) // 2] ^= 0xFF
    open(last, "wb").write(bytes(data))
    for attempt in (1, 2):
        p = sweep(["--spec", spec, "--out", folder], expect=1)
        message = json.load(open(os.path.join(victim, "summary.json")))["message"]
        check(f"remove {last}" in message and "afresh" in message and message in p.stdout,
              f"rerun {attempt}: a corrupt last.ckpt's failure says what works: {message!r}")
        check("retry)" not in p.stderr and "says why" in p.stderr,
              f"rerun {attempt}: promises a retry that fails the same way: {p.stderr!r}")
    # Failed as its resume opened it, with a summary.json of no epochs, it is ranked by the
    # epochs its metrics.jsonl holds: status and results.csv left it out, their errors empty.
    summary = json.load(open(os.path.join(victim, "summary.json")))
    best = [m for m in metrics(victim) if m["best"]][-1]
    check(summary["status"] == "failed" and summary["epochs"] == 0 and best["epoch"] == 1,
          f"the resume's failure: {summary}, best line {best}")
    p, i = run(["sweep", "status", folder]), os.path.basename(victim)
    check(re.search(f"\\n  {i} +failed +1 +{best['valid_error']:.2f} +{best['test_error']:.2f}  ", p.stdout),
          f"status of a run failed on its resume, ranked by its metrics.jsonl: {p.stdout!r}")
    at = {name: column(folder, name)[i] for name in ("best_epoch", "valid_error", "test_error")}
    check(at["best_epoch"] == "1" and at["valid_error"] and at["test_error"] and
          abs(float(at["valid_error"]) - best["valid_error"]) < 1e-6 and
          abs(float(at["test_error"]) - best["test_error"]) < 1e-6,
          f"results.csv's row of a run failed on its resume: {at}")
    os.remove(last)
    sweep(["--spec", spec, "--out", folder])
    check(set(column(folder, "status").values()) == {"finished"}, f"after removing it: {column(folder, 'status')}")


def flipped_header(tmp):
    """A last.ckpt whose header is damaged in its next-batch field, to a value its checks take
    (1: a batch of the epoch; 3: the epoch's end, no batch the group reaches): the sweep plans
    the run from the header alone (no checksum of its own), so it is placed at that batch, and
    the whole read as the run opens refuses the file (its checksum), with the message that says
    what works; it is tried, not left pending, and the other run finishes."""
    spec = os.path.join(tmp, "flipped.spec")
    open(spec, "w").write(TINY_SPEC)
    folder = os.path.join(tmp, "flipped")
    sweep(["--spec", spec, "--out", folder])
    victim, other = (os.path.join(folder, "runs", i) for i in run_ids(folder))
    last = os.path.join(victim, "last.ckpt")
    data = read(last)
    layers = int.from_bytes(data[16:20], "little")
    text_at = 32 + 4 * (layers + 1)
    batch_at = text_at + int.from_bytes(data[text_at - 4:text_at], "little") + 12
    field = data[batch_at:batch_at + 8]
    check(field == bytes(8), f"the next-batch field, byte {batch_at}: {field!r}, not an epoch's end")
    for batch in (1, 3):  # 3 batches an epoch, 3 steps done: each within the header's checks
        for run_folder in (victim, other):  # stopped before their ends, as if killed
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(run_folder, "summary.json"))
        open(last, "wb").write(data[:batch_at] + bytes([batch]) + data[batch_at + 1:])
        p = sweep(["--spec", spec, "--out", folder], expect=1)
        message = json.load(open(os.path.join(victim, "summary.json")))["message"]
        check("checksum mismatch" in message and f"remove {last}" in message and message in p.stdout,
              f"batch {batch}: a last.ckpt with a flipped header fails as corrupt, saying what works: {message!r}")
        status = json.load(open(os.path.join(other, "summary.json")))["status"]
        check(status == "finished", f"batch {batch}: the other run beside it: {status}")


def no_device(tmp):
    """--device cuda without a usable GPU (or without CUDA in the build) fails every configuration
    the same way before it trains: one line says so, exit 1, no folder made; --jobs 2 alike. So
    does precision = tf32 where --device auto falls back to the CPU (fixed, or one value of a
    grid)."""
    if cuda_device_visible():
        return
    spec = os.path.join(tmp, "no-device.spec")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "[0.1, 0.2, 0.3]"))
    tf32, grid = os.path.join(tmp, "no-device-tf32.spec"), os.path.join(tmp, "no-device-grid.spec")
    open(tf32, "w").write(TINY_SPEC + "precision = tf32\n")
    open(grid, "w").write(TINY_SPEC + "precision = [fp32, tf32]\n")
    auto = "jacnoise: --precision tf32: only the CUDA backend has TF32, and --device auto chose the CPU ("
    cases = [(spec, ["--device", "cuda"], "jacnoise: --device cuda: "), (tf32, [], auto),
             (grid, ["--device", "auto"], auto)]
    for n, (spec_file, options, said) in enumerate(cases):
        for jobs in ("1", "2"):
            folder = os.path.join(tmp, f"no-device-{n}-{jobs}")
            p = sweep(["--spec", spec_file, "--out", folder, "--jobs", jobs] + options, expect=1)
            check(p.stderr.startswith(said) and len(p.stderr.splitlines()) == 1 and
                  " failed" not in p.stdout and not os.path.exists(folder),
                  f"{' '.join(options)} --jobs {jobs}: no device: stdout {p.stdout!r}, stderr {p.stderr!r}, "
                  f"folder made: {os.path.exists(folder)}")


def under_ptrace():
    """The environment for the program run under strace: LeakSanitizer cannot run under ptrace
    (in the sanitizer build it would end with a fatal error)."""
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    return dict(os.environ, ASAN_OPTIONS=asan)


def unwaited_sweep(tmp, name, options):
    """A sweep of TINY_SPEC into tmp/name whose every waitpid fails (ECHILD, injected by strace
    into wait4); None without strace."""
    strace = shutil.which("strace")
    if not strace:
        return None, None
    spec, folder = os.path.join(tmp, name + ".spec"), os.path.join(tmp, name)
    open(spec, "w").write(TINY_SPEC)
    return subprocess.run([strace, "-f", "-qq", "-o", os.devnull, "-e", "inject=wait4:error=ECHILD", BIN, "sweep",
                           "--spec", spec, "--out", folder, "--progress", "never"] + options, capture_output=True,
                          text=True, timeout=600, env=under_ptrace()), folder


def device_check_unwaited(tmp):
    """Where waitpid fails on the process checking the device, one line says so, exit 1, no
    folder made (its exit status was read uninitialised)."""
    p, folder = unwaited_sweep(tmp, "unwaited-check", ["--device", "cuda"])
    if not p:
        return
    said = "jacnoise: --device cuda: cannot wait for the process checking the device: No child processes\n"
    check(p.returncode == 1 and p.stderr == said and not os.path.exists(folder),
          f"device check not waited for: exit {p.returncode}, stderr {p.stderr!r}, folder made: "
          f"{os.path.exists(folder)}")


def workers_unwaited(tmp):
    """Where waitpid fails on a --jobs worker, the sweep ends with one line naming the worker
    and the failed wait, exit 1 (its exit status was read uninitialised)."""
    p, _ = unwaited_sweep(tmp, "unwaited-workers", ["--device", "cpu", "--jobs", "2"])
    if not p:
        return
    said = r"jacnoise: sweep: sweep worker 0 \(pid \d+\): cannot wait for it: No child processes\n"
    check(p.returncode == 1 and re.fullmatch(said, p.stderr),
          f"workers not waited for: exit {p.returncode}, stderr {p.stderr!r}")


def sigchld_ignored(tmp):
    """Started with SIGCHLD ignored (as a parent may leave it across exec), a --jobs sweep still
    knows how its workers ended: exit 0, nothing on stderr (it could not wait for them)."""
    spec, folder = os.path.join(tmp, "sigchld.spec"), os.path.join(tmp, "sigchld")
    open(spec, "w").write(TINY_SPEC)
    p = sweep(["--spec", spec, "--out", folder, "--device", "cpu", "--jobs", "2"], expect=None,
              preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    check(p.returncode == 0 and p.stderr == "", f"SIGCHLD ignored: exit {p.returncode}, stderr {p.stderr!r}")


def data_not_found(tmp):
    """A data set that cannot be found (a --data-dir misspelt, an idx: file missing, of --data or
    --test) would fail every configuration, one by one, each leaving a failed run folder: one
    line names the data set and file, exit 1, no folder made; --dry-run says the same. An --out
    refused is said first. A finished sweep rerun needs no data, nor a shard's finished part."""
    images, labels = os.path.join(tmp, "nf-images"), os.path.join(tmp, "nf-labels")
    open(images, "wb").write(idx(0x08, [3, 2, 2], bytes(12)))
    open(labels, "wb").write(idx(0x08, [3], bytes([0, 1, 0])))
    missing = os.path.join(tmp, "nf-missing")
    spec = os.path.join(tmp, "nf.spec")
    open(spec, "w").write(TINY_SPEC)
    idx_spec = os.path.join(tmp, "nf-idx.spec")
    open(idx_spec, "w").write(f"data = idx:{images},{labels}\ntest = idx:{images},{missing}\nhidden = 4\n"
                              "valid = 1\nepochs = 1\nlr = [0.1, 0.2]\n")
    nowhere = os.path.join(tmp, "nf-nowhere")
    cases = [(spec, ["--data-dir", nowhere], f"jacnoise: sweep: usps: --data-dir {nowhere}: No such file"),
             (idx_spec, [], f"jacnoise: sweep: --test idx:{images},{missing}: {missing}: No such file")]
    for n, (spec_file, options, said) in enumerate(cases):
        for dry in ([], ["--dry-run"]):
            folder = os.path.join(tmp, f"nf-{n}")
            p = sweep(["--spec", spec_file, "--out", folder] + options + dry, expect=1)
            check(p.stderr.startswith(said) and len(p.stderr.splitlines()) == 1 and not p.stdout and
                  not os.path.exists(folder), f"{' '.join(options + dry)}: no data: stdout {p.stdout!r}, stderr "
                  f"{p.stderr!r}, folder made: {os.path.exists(folder)}")
    # A finished sweep needs no data: rerun where its data is not (moved to read or merge its
    # results) it says it is done, exit 0, as with its data; with a configuration left, refused.
    spec_done, done = tiny_sweep(tmp, "nf-done")
    for dry in ([], ["--dry-run"]):
        p = sweep(["--spec", spec_done, "--out", done, "--data-dir", nowhere] + dry, expect=None)
        check(p.returncode == 0 and not p.stderr and ("2 done" in p.stdout or "nothing written" in p.stdout),
              f"a finished sweep rerun without its data{' (--dry-run)' if dry else ''}: exit {p.returncode}, "
              f"stdout {p.stdout[:300]!r}, stderr {p.stderr!r}")
    os.remove(os.path.join(done, "runs", run_ids(done)[0], "summary.json"))
    p = sweep(["--spec", spec_done, "--out", done, "--data-dir", nowhere], expect=1)
    check(p.stderr == f"jacnoise: sweep: usps: --data-dir {nowhere}: No such file or directory\n",
          f"a sweep with a configuration left, rerun without its data: {p.stderr!r}")
    # A shard's own part finished is done too, though the other shards' configurations show
    # as pending in its folder: a --shard I/N in a folder of its own, and a job array's task.
    array = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "0",
             "SLURM_ARRAY_TASK_MAX": "1"}
    for name, shard, env in [("nf-shard", ["--shard", "0/2"], None), ("nf-task", [], dict(os.environ, **array))]:
        spec_part, part = os.path.join(tmp, name + ".spec"), os.path.join(tmp, name)
        open(spec_part, "w").write(TINY_SPEC)
        sweep(["--spec", spec_part, "--out", part] + shard, env=env)
        for dry in ([], ["--dry-run"]):
            p = sweep(["--spec", spec_part, "--out", part, "--data-dir", nowhere] + shard + dry, expect=None, env=env)
            check(p.returncode == 0 and not p.stderr and ("1 of them, 1 done" in p.stdout or "nothing written" in
                  p.stdout), f"{name}: its finished part rerun without its data{' (--dry-run)' if dry else ''}: exit "
                  f"{p.returncode}, stdout {p.stdout[:300]!r}, stderr {p.stderr!r}")
    # An --out refused (a usage error) is said first: the missing data hid it.
    trained = os.path.join(tmp, "nf-trained")
    os.mkdir(trained)
    open(os.path.join(trained, "config.txt"), "w").write("lr=0.1\n")
    p = sweep(["--spec", spec, "--out", trained, "--data-dir", nowhere], expect=2)
    check(p.stderr == f"jacnoise: --out {trained} holds a training run (config.txt), not a sweep: choose another "
          "--out\n", f"an --out refused, and no data: {p.stderr!r}")


def interrupted_status(tmp):
    """After a SIGINT, or a SIGHUP (its terminal closed), nothing trains: status counts the runs
    it stopped as interrupted, not as running; their messages say how a sweep continues (not
    train's --resume), in the words of the sweep's last line. Under nohup (SIGHUP inherited
    ignored) a SIGHUP leaves it training."""
    how = "run the same sweep command again to continue"
    spec = os.path.join(tmp, "endless.spec")
    open(spec, "w").write(TINY_SPEC.replace("epochs = 1", "epochs = 100000\npatience = 0"))
    for sig, code, words in [(signal.SIGINT, 130, "interrupted"), (signal.SIGHUP, 143, "terminated (its terminal hung up)")]:
        name = signal.Signals(sig).name
        folder = os.path.join(tmp, f"endless-{name}")
        p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--progress", "never"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        until_training(folder, p)
        p.send_signal(sig)
        err = ended(p, f"a sweep sent {name}")[1]
        check(p.returncode == code and err.endswith(f"jacnoise: sweep {words}; {how}\n"),
              f"{name}: exit {p.returncode}, expected {code}; {err[-300:]!r}")
        statuses = list(column(folder, "status").values())
        stopped = statuses.count("interrupted")
        p = run(["sweep", "status", folder])
        check(stopped and stopped + statuses.count("pending") == 2 and
              f"0 running, {stopped} interrupted, {2 - stopped} pending" in p.stdout,
              f"status after a {name}, rows {statuses}: {p.stdout[:300]}")
        for i, status in column(folder, "status").items():
            if status == "interrupted":
                message = json.load(open(os.path.join(folder, "runs", i, "summary.json")))["message"]
                check("--resume" not in message and message.endswith(f"; {how}"),
                      f"an interrupted sweep run's message: {message!r}")
    # nohup: still training a second after the SIGHUP, then stopped by SIGTERM, which says so.
    folder = os.path.join(tmp, "endless-nohup")
    p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--progress", "never", "--jobs", "2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    until_training(folder, p)
    p.send_signal(signal.SIGHUP)
    try:
        p.wait(timeout=1)
    except subprocess.TimeoutExpired:
        p.terminate()
    err = ended(p, "a sweep sent SIGHUP under nohup, then SIGTERM")[1]
    check(p.returncode == 143 and err.endswith(f"jacnoise: sweep terminated; {how}\n"),
          f"SIGHUP under nohup, then SIGTERM: exit {p.returncode}, expected 143 from the SIGTERM; {err[-300:]!r}")


def running_locks(tmp):
    """status tells the running configurations a process trains (their lock held) from those
    none does (a sweep killed by SIGKILL): the count alone said 'running' for both; it says
    how those resume: by the sweep run again, or in a job array's folder by its tasks resubmitted."""
    spec = os.path.join(tmp, "locks.spec")
    open(spec, "w").write(TINY_SPEC.replace("epochs = 1", "epochs = 100000\npatience = 0"))
    folder = os.path.join(tmp, "locks")
    p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--models", "1", "--progress", "never"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until_training(folder, p)
    p.send_signal(signal.SIGSTOP)  # its one run held, not ended
    training = run(["sweep", "status", folder]).stdout
    p.send_signal(signal.SIGKILL)
    ended(p, "a stopped sweep, killed", 60)
    killed = run(["sweep", "status", folder]).stdout
    check("1 running" in training and "\nrunning: 1 locked by a jacnoise process now, 0 not locked (killed" in training
          and "\nrunning: 0 locked by a jacnoise process now, 1 not locked (killed" in killed,
          f"status of a run training, then killed: {training!r}, {killed!r}")
    # Its lock file removed (by hand, after the kill): none holds it, counted so (it was counted
    # neither way, the line left out, the running run unexplained).
    (run_id,) = os.listdir(os.path.join(folder, "runs"))
    os.remove(os.path.join(folder, "runs", run_id, "lock"))
    unlocked = run(["sweep", "status", folder]).stdout
    check("1 running" in unlocked and "\nrunning: 0 locked by a jacnoise process now, 1 not locked (killed" in unlocked,
          f"status of a killed run without its lock file: {unlocked!r}")
    check("does not see; the sweep run again resumes them)\n" in unlocked, f"status's rerun of a killed run: {unlocked!r}")
    # In a job array's folder the killed run resumes by its task resubmitted, as the last line
    # says (it said "the sweep run again", which outside the array trains the whole sweep).
    open(os.path.join(folder, "slurm-array"), "w").write(
        "SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=1 SLURM_ARRAY_TASK_COUNT=1\n")
    arrayed = run(["sweep", "status", folder]).stdout
    check("does not see; resubmitting their array tasks resumes them)\n" in arrayed and
          arrayed.splitlines()[-1].endswith("resubmit that array task: sbatch --array=0 with the same script and "
                                            "arguments"), f"status of a killed run of a job array: {arrayed!r}")


def closed_output(tmp):
    """sweep | head: once the reader has gone, the next line the sweep writes stops it as SIGTERM
    does (its runs saved where they stood, interrupted, never left running; results.csv
    current; exit 141 and one line on stderr saying how to continue), in one process and with
    workers, which must not die of the broken pipe themselves; the rerun ends as a sweep never
    stopped. SIGPIPE used to kill it silently, leaving runs marked running."""
    spec = os.path.join(tmp, "pipe.spec")
    open(spec, "w").write("data = usps\nhidden = 16\ntrain-limit = 600\nvalid = 100\nbatch = 20\nepochs = 4\n"
                          "lr = [0.05, 0.1, 0.2, 0.4]\njac-lambda = [0, 0.05]\n")
    ref = os.path.join(tmp, "pipe-ref")
    sweep(["--spec", spec, "--out", ref, "--models", "3"])
    for jobs in ("1", "2"):
        folder = os.path.join(tmp, f"pipe-jobs{jobs}")
        p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--models", "3", "--jobs", jobs,
                              "--progress", "never"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        what = f"closed output, --jobs {jobs}"
        line_from(p, what)  # "sweep DIR: 8 configurations ...": then the reader goes, as head -1 does
        p.stdout.close()
        _, err = ended(p, what)
        lines = [line for line in err.splitlines() if not line.startswith("[cuda-emu]")]
        check(p.returncode == 141 and lines == ["jacnoise: sweep stopped (its output was closed: a broken pipe); run "
                                                "the same sweep command again to continue"],
              f"{what}: exit {p.returncode}, expected 141 and one line; stderr {err[-500:]!r}")
        statuses = list(column(folder, "status").values())
        check("running" not in statuses, f"{what}: results.csv statuses {statuses}, expected none running")
        shown = run(["sweep", "status", folder]).stdout
        check(", 0 running," in shown, f"{what}: status {shown[:300]!r}")
        sweep(["--spec", spec, "--out", folder, "--models", "3", "--jobs", jobs])
        same_sweep(ref, folder, f"{what}, then rerun")


def full_pipe():
    """A pipe (read end, write end) whose write end, non-blocking, takes no more."""
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(w, b"x" * 4096)
    return r, w


def full_output(tmp):
    """A standard output that takes no more (a full pipe, non-blocking): the sweep trains on and
    ends exit 1 with one line, the parent's, saying why; its workers write nothing there (their
    lines go through their pipes), so none says it again or writes the parent's lines twice."""
    spec = os.path.join(tmp, "full.spec")
    open(spec, "w").write("data = usps\nhidden = 8\ntrain-limit = 200\nvalid = 60\nepochs = 1\nseed = [1, 2, 3, 4]\n")
    for jobs in ("1", "2"):
        what = f"full output, --jobs {jobs}"
        folder = os.path.join(tmp, f"full-jobs{jobs}")
        r, w = full_pipe()
        try:
            p = subprocess.run([BIN, "sweep", "--spec", spec, "--out", folder, "--jobs", jobs, "--progress", "never"],
                               stdout=w, stderr=subprocess.PIPE, text=True, timeout=600)
        finally:
            os.close(w)
        held = b""
        while chunk := os.read(r, 1 << 16):
            held += chunk
        os.close(r)
        lines = [line for line in p.stderr.splitlines() if not line.startswith("[cuda-emu]")]
        check(p.returncode == 1 and lines == ["jacnoise: writing the standard output failed: "
                                              f"{os.strerror(errno.EAGAIN)}"] and held.strip(b"x") == b"",
              f"{what}: exit {p.returncode}, expected 1 and one line; stderr {p.stderr[-500:]!r}, "
              f"written {held.strip(b'x')[:300]!r}")
        statuses = set(column(folder, "status").values())
        check(statuses == {"finished"}, f"{what}: results.csv statuses {statuses}")


def workers_leave_stdout(tmp):
    """Workers write their lines through their own pipes, never the standard output: under
    strace -f, with a standard output that takes no more (a full pipe, non-blocking, as in
    full_output), no process the sweep forked (nor a thread of one) writes fd 1. Each worker
    used to flush its copy of the parent's stdio buffer at its end: with a C library that keeps
    the lines a failed write left there (glibc drops them), it would write them again."""
    strace = shutil.which("strace")
    if not strace:
        check(False, "workers leave stdout: strace is missing (Debian: strace; tools/setup.sh installs it)")
        return
    spec, folder = os.path.join(tmp, "quiet.spec"), os.path.join(tmp, "quiet")
    trace = folder + ".trace"
    open(spec, "w").write("data = usps\nhidden = 4\ntrain-limit = 60\nvalid = 20\nepochs = 1\nseed = [1, 2, 3, 4]\n")
    r, w = full_pipe()
    try:
        p = subprocess.run([strace, "-f", "-qq", "-e", "trace=write,writev,clone,clone3,fork,vfork", "-o", trace, BIN,
                            "sweep", "--spec", spec, "--out", folder, "--jobs", "2", "--progress", "never"], stdout=w,
                           stderr=subprocess.PIPE, text=True, timeout=600, env=under_ptrace())
    finally:
        os.close(w)
        os.close(r)
    if p.returncode != 1 and "ptrace" in p.stderr:
        print(f"workers leave stdout: NOT CHECKED (strace cannot trace here: {p.stderr.strip()[:200]})")
        return
    calls = [m.groups() for m in map(re.compile(r"^(\d+) +(\w+)\((.*) += (-?\d+)").match, open(trace)) if m]
    workers, inside = set(), set()  # the processes forked, and those and their threads
    for pid, name, args, rc in calls:
        if name in ("clone", "clone3", "fork", "vfork") and (pid in inside or "CLONE_THREAD" not in args):
            inside.add(rc)
            if "CLONE_THREAD" not in args:
                workers.add(rc)
    on_stdout = sorted({pid for pid, name, args, _ in calls if pid in inside and name in ("write", "writev") and
                        args.startswith("1,")})
    check(p.returncode == 1 and len(workers) >= 2 and not on_stdout,
          f"workers leave stdout: exit {p.returncode}, {len(workers)} workers, those that wrote fd 1: {on_stdout}; "
          f"stderr {p.stderr[-300:]!r}")


def spec_race(tmp):
    """Sweeps of two specs started at once on a new folder: one goes on, the other is refused
    (exit 2), and sweep.spec is the one that went on."""
    specs = []
    for k in range(2):
        specs.append(os.path.join(tmp, f"race{k}.spec"))
        open(specs[k], "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", f"lr = [0.1, 0.{k + 3}]"))
    for trial in range(30):
        folder = os.path.join(tmp, f"race{trial}")
        procs = [subprocess.Popen([BIN, "sweep", "--spec", specs[k], "--out", folder, "--progress", "never"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for k in range(2)]
        errs = [ended(p, f"spec race {trial}: a sweep")[1] for p in procs]
        ends = [(p.returncode, err) for p, err in zip(procs, errs)]
        codes = sorted(code for code, _ in ends)
        went = next((k for k, (code, _) in enumerate(ends) if code == 0), 0)
        kept = open(os.path.join(folder, "sweep.spec")).read()
        if codes != [0, 2] or "another spec" not in ends[1 - went][1] or kept != open(specs[went]).read():
            check(False, f"trial {trial}: sweeps of two specs at once: exits {[c for c, _ in ends]}, sweep.spec "
                  f"of {'race0' if 'lr = [0.1, 0.3]' in kept else 'race1'}")
            return


def trailing_slash(tmp):
    """--out DIR/ names the run folders DIR/runs/ID, as in each run's config.txt, not DIR//runs/ID;
    no message of a sweep, its status, a merge or plot_sweep.py names a DIR//... either."""
    spec = os.path.join(tmp, "slash.spec")
    open(spec, "w").write(TINY_SPEC)
    folder, other = os.path.join(tmp, "slash"), os.path.join(tmp, "slash-other")
    p = sweep(["--spec", spec, "--out", folder + "/", "--shard", "0/2"])
    for i in run_ids(folder):
        config = open(os.path.join(folder, "runs", i, "config.txt")).read().splitlines()
        check(f"out={folder}/runs/{i}" in config, f"--out with a trailing slash: {i}/config.txt: {config}")
    check(f"results: {folder}/results.csv" in p.stdout, f"--out with a trailing slash: {p.stdout[-300:]!r}")
    said = [p, sweep(["--spec", spec, "--out", other + "/", "--shard", "1/2"]), run(["sweep", "status", folder + "/"]),
            run(["sweep", "merge", folder + "/", other + "/"])]
    check(f"merge: 1 run folder copied into {folder}/runs\n" in said[-1].stdout, f"merge: {said[-1].stdout!r}")
    try:
        import matplotlib  # noqa: F401
        empty = os.path.join(tmp, "slash-empty")
        os.makedirs(empty)
        open(os.path.join(empty, "results.csv"), "w").write("id,lr,status,valid_error,test_error\n")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "plot_sweep.py")
        said.append(subprocess.run([sys.executable, script, empty + "/"], capture_output=True, text=True, timeout=300))
        check(said[-1].returncode == 1 and f"{empty}/results.csv: no configurations" in said[-1].stderr,
              f"plot_sweep.py on a results.csv without rows: {said[-1].stderr!r}")
    except ImportError:
        print("trailing slash: plot_sweep.py not checked: this Python has no matplotlib")
    for q in said:
        check("//" not in q.stdout + q.stderr, f"{' '.join(q.args[1:3])}: a path with '//': {q.stdout + q.stderr!r}")


def run_config_as_spec(tmp):
    """A run's config.txt given as the spec is refused as what it is, saying how to rerun it and
    how to make a spec of it (it was refused at its first empty value, 'test: no value', alone);
    the spec made as it says sweeps it over seeds. A spec with an out=DIR line (no spaces) is a
    spec: refused at that line (it was called a run's config.txt, the line's error in brackets). An older
    version's config.txt, without the lines of options added since, is a run's config.txt too."""
    spec = os.path.join(tmp, "config-spec.spec")
    open(spec, "w").write(TINY_SPEC)
    folder = os.path.join(tmp, "config-spec")
    sweep(["--spec", spec, "--out", folder])
    config = os.path.join(folder, "runs", run_ids(folder)[0], "config.txt")
    p = sweep(["--spec", config, "--out", folder + "-seeds", "--dry-run"], expect=2)
    check(p.stderr.startswith(f"jacnoise: --spec {config}: a run's config.txt, not a sweep spec (line ") and
          f"jacnoise train --config {config} --out DIR" in p.stderr and "add seeds = N" in p.stderr and
          p.stderr.count("\n") == 1, f"a run's config.txt as the spec: {p.stderr!r}")
    # An older version's config.txt, without the lines of options added since (checkpoint-epochs):
    # it was refused at its first empty value, 'test: no value', as a spec.
    older = os.path.join(tmp, "older-config.txt")
    open(older, "w").write("".join(line for line in open(config).read().splitlines(keepends=True)
                                   if not line.startswith(("checkpoint-epochs=", "checkpoint-steps="))))
    p = sweep(["--spec", older, "--out", folder + "-older", "--dry-run"], expect=2)
    check(p.stderr.startswith(f"jacnoise: --spec {older}: a run's config.txt, not a sweep spec (line "),
          f"an older version's config.txt as the spec: {p.stderr!r}")
    kept = [line for line in open(config).read().splitlines()
            if not line.endswith("=") and line.split("=")[0] not in ("out", "max-steps", "progress")]
    open(spec, "w").write("\n".join(kept + ["seeds = 3"]) + "\n")
    p = sweep(["--spec", spec, "--out", folder + "-seeds", "--dry-run"])
    check("3 configurations in 1 group" in p.stdout, f"the spec made of it as said: {p.stdout!r}")
    open(spec, "w").write(TINY_SPEC + "out=elsewhere\n")
    p = sweep(["--spec", spec, "--out", folder + "-out", "--dry-run"], expect=2)
    check(p.stderr == f"jacnoise: --spec {spec}: line 8: out: set by the sweep for each configuration, not by a spec\n",
          f"a spec with an out= line: {p.stderr!r}")


def shard_status(tmp):
    """sweep status on a shard's own --out counts the configurations of the shards that never
    ran there apart, telling no rerun for them (it told the user to rerun the sweep, which
    trains the shard's own alone); so does the table the sweep prints at its end (it counted
    them pending); the shard's own unfinished run is still told; merged, none is apart."""
    spec = os.path.join(tmp, "shard-status.spec")
    open(spec, "w").write(TINY_SPEC)
    mine, other = os.path.join(tmp, "shard-status-0"), os.path.join(tmp, "shard-status-1")
    counts = "1 done, 0 diverged, 0 failed, 0 running, 0 interrupted, 0 pending, 1 other shard's\n"
    apart = f"other shards: 1 configuration dealt to shards that did not run in this folder ({mine}/shards records "
    for _ in range(2):  # a rerun records its shard once
        ended = sweep(["--spec", spec, "--out", mine, "--shard", "0/2"]).stdout
        check(counts in ended and apart in ended, f"the table at shard 0/2's end: {ended[-600:]!r}")
    shown = run(["sweep", "status", mine]).stdout
    check(counts in shown and apart in shown and "unfinished" not in shown and
          read(os.path.join(mine, "shards")) == b"0/2\n", f"status of shard 0/2's own folder: {shown[-400:]!r}")
    os.remove(os.path.join(mine, "runs", run_ids(mine)[0], "summary.json"))  # stopped before its end
    shown = run(["sweep", "status", mine]).stdout
    check(apart in shown and "unfinished: 1 configuration;" in shown, f"its own run unfinished: {shown[-400:]!r}")
    sweep(["--spec", spec, "--out", mine, "--shard", "0/2"])
    sweep(["--spec", spec, "--out", other, "--shard", "1/2"])
    merged = run(["sweep", "merge", mine, other]).stdout
    shown = run(["sweep", "status", mine]).stdout
    check("2 done, 0 diverged, 0 failed, 0 running, 0 interrupted, 0 pending\n" in merged + shown and
          "other shards" not in merged + shown and "unfinished" not in shown, f"merged: {merged + shown!r}")
    # Shards sharing one folder: the first to end says the other's are to come there as well.
    shared = os.path.join(tmp, "shard-status-shared")
    ended = sweep(["--spec", spec, "--out", shared, "--shard", "0/2"]).stdout
    check(counts in ended and "trained in their own folders (jacnoise sweep merge " in ended and
          "SHARD_DIR... joins them) or here once those shards run\n" in ended, f"shard 0/2 of a shared folder: {ended!r}")
    ended = sweep(["--spec", spec, "--out", shared, "--shard", "1/2"]).stdout
    check("2 done, 0 diverged, 0 failed, 0 running, 0 interrupted, 0 pending\n" in ended and "other shards" not in ended,
          f"shard 1/2 of a shared folder: {ended!r}")
    open(os.path.join(mine, "shards"), "a").write("0/2 \n")
    shutil.rmtree(os.path.join(mine, "runs", run_ids(mine)[0]))
    p = sweep(["--spec", spec, "--out", mine], expect=1)  # before it trains, as status is
    check(p.stderr == f"jacnoise: {mine}/shards: line 2: not a shard I/N; remove the file to count every "
          "configuration as this folder's\n" and len(run_ids(mine)) == 1, f"a DIR/shards not one: {p.stderr!r}")


def count_words(tmp):
    """Counts of one read as one, of several as several: "1 other shard's" ("1 other shards'"),
    "1 model at a time", "1 of the spec's 2 configurations sets options ...: it trains"; "2 other
    shards'", "2 of ... repeat another" stay as they were."""
    spec = os.path.join(tmp, "count-words.spec")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "[0.1, 0.2, 0.3]"))
    folder = os.path.join(tmp, "count-words")
    ended = sweep(["--spec", spec, "--out", folder, "--shard", "0/3"]).stdout
    check("0 pending, 2 other shards'\n" in ended, f"2 configurations of other shards: {ended!r}")
    shown = run(["sweep", "status", folder]).stdout
    check("0 pending, 2 other shards'\n" in shown, f"status: 2 configurations of other shards: {shown!r}")
    ended = sweep(["--spec", spec, "--out", folder, "--shard", "1/3"]).stdout
    check("0 pending, 1 other shard's\n" in ended, f"1 configuration of another shard: {ended!r}")
    spec = os.path.join(tmp, "count-words-models.spec")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "0.1\nseeds = 3"))
    ended = sweep(["--spec", spec, "--out", folder + "-models", "--models", "auto"],
                  env=dict(os.environ, JACNOISE_TEST_HOST_MEMORY="1000")).stdout  # under a model's worth
    check("group 1/1: 1 model at a time (--models auto), of 3 configurations\n" in ended,
          f"--models auto choosing 1 model at a time: {ended[:400]!r}")
    open(spec, "w").write(TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = 0.1\njac-lambda = [0, 0.1]\njac-noise = 0.3"))
    said = sweep(["--spec", spec, "--out", folder + "-reset", "--dry-run"]).stdout
    check(said.startswith(f"sweep {folder}-reset: 1 of the spec's 2 configurations sets options that change nothing "
                          "(the penalty's at jac-lambda 0): it trains with the defaults\n"), f"one reset: {said!r}")


def cgroup_memory(tmp):
    """--models auto sizes the host's share from the cgroup's memory limit where it is below
    the machine's memory (a Slurm job's --mem, a container's): it took a quarter of the
    machine's, which a GPU group of thousands of models could fill past the job's limit, to be
    killed. The least limit of the cgroup and its parents, v2 (memory.max, "max" for none) or
    v1 (memory.limit_in_bytes, near 2^63 for none), under a stand-in root; none set, or no
    cgroup file, leaves the machine's."""
    spec = os.path.join(tmp, "cgroup.spec")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "0.1\nseeds = 3"))
    root = os.path.join(tmp, "cgroup-root")

    def put(path, text):
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        open(os.path.join(root, path), "w").write(text)

    def one_at_a_time(name):
        env = dict(os.environ, JACNOISE_TEST_HOST_MEMORY="1e12", JACNOISE_TEST_CGROUP_ROOT=root)
        ended = sweep(["--spec", spec, "--out", os.path.join(tmp, name), "--models", "auto"], env=env).stdout
        return "group 1/1: 1 model at a time (--models auto), of 3 configurations\n" in ended

    check(not one_at_a_time("cgroup-none"), "no cgroup file: the machine's memory")
    put("proc/self/cgroup", "0::/job_1/step_batch/task_0\n")
    put("sys/fs/cgroup/job_1/step_batch/task_0/memory.max", "max\n")
    put("sys/fs/cgroup/job_1/memory.max", "1000\n")  # under a model's worth
    check(one_at_a_time("cgroup-v2"), "a v2 parent's memory.max under a model's worth: 1 model at a time")
    put("sys/fs/cgroup/job_1/memory.max", "max\n")
    check(not one_at_a_time("cgroup-v2-max"), "memory.max 'max' throughout: the machine's memory")
    put("proc/self/cgroup", "5:pids:/x\n4:cpu,memory:/slurm/uid_0/job_5\n0::/\n")
    put("sys/fs/cgroup/memory/slurm/uid_0/memory.limit_in_bytes", "1000\n")
    put("sys/fs/cgroup/memory/slurm/uid_0/job_5/memory.limit_in_bytes", "9223372036854771712\n")
    check(one_at_a_time("cgroup-v1"), "a v1 parent's memory.limit_in_bytes under a model's worth: 1 model at a time")


def merged_status(tmp):
    """sweep status on a folder only merges made names how it continues: rerunning the merged
    folders' sweeps, then merging again (it said to run the same sweep command again, though
    none ran on it), the folders named wherever status runs; so do its lines of a killed run, an
    unreadable summary.json and a damaged metrics.jsonl (they said "the sweep run again"); once a
    sweep runs on it, rerunning that sweep."""
    spec = os.path.join(tmp, "merged-status.spec")
    open(spec, "w").write(TINY_SPEC)
    a, b, merged = (os.path.join(tmp, f"merged-status-{x}") for x in ("0", "1", "m"))
    sweep(["--spec", spec, "--out", a, "--shard", "0/2"])
    sweep(["--spec", spec, "--out", b, "--shard", "1/2"])
    os.remove(os.path.join(b, "runs", run_ids(b)[0], "summary.json"))  # stopped before its end
    run(["sweep", "merge", merged, a])
    run(["sweep", "merge", merged, b, a])  # each folder named once
    shown = run(["sweep", "status", merged]).stdout.splitlines()[-1]
    check(shown == f"unfinished: 1 configuration; a merge made this folder ({merged}/merged names the folders "
                   "merged): once no sweep trains them, rerun those folders' sweeps (jacnoise sweep status FOLDER "
                   f"says how), then merge again: jacnoise sweep merge {merged} {a} {b}",
          f"status of a folder merges made: {shown!r}")
    damaged = os.path.join(merged, "runs", run_ids(a)[0])
    metrics = read(os.path.join(damaged, "metrics.jsonl"))
    open(os.path.join(damaged, "metrics.jsonl"), "w").close()
    shown = run(["sweep", "status", merged]).stdout
    open(os.path.join(damaged, "metrics.jsonl"), "wb").write(metrics)
    again = "rerunning the merged folders' sweeps, then merging again, as the unfinished line below says, "
    check("sweep run again" not in shown and "run the sweep again" not in shown and
          f"; {again}replaces them by their copies further along)\n" in shown and
          f"remove {damaged} and its copy in the merged folder that holds it, rerun that folder's sweep, then merge "
          "again)\n" in shown, f"status's killed and damaged lines in a folder merges made: {shown!r}")
    # Merged by relative names, then read from another folder: the folders it names are those
    # merged (it recorded them as given, naming folders relative to where the merge ran).
    rel = merged + "-relative"
    run(["sweep", "merge", os.path.basename(rel), os.path.basename(a), "./" + os.path.basename(b)], cwd=tmp)
    shown = run(["sweep", "status", rel], cwd=a).stdout.splitlines()[-1]
    check(shown.endswith(f"then merge again: jacnoise sweep merge {rel} {a} {tmp}/./{os.path.basename(b)}"),
          f"status from another folder of a merge given relative names: {shown!r}")
    open(os.path.join(rel, "runs", run_ids(a)[0], "summary.json"), "w").write("{bad")
    shown = run(["sweep", "status", rel]).stdout
    check(f"byte 1: expected a string ({again}replaces it by its copy further along)\n" in shown,
          f"status's unreadable line in a folder merges made: {shown!r}")
    run(["sweep", "merge", a, b])  # into a shard's own folder: a sweep ran there
    shown = run(["sweep", "status", a]).stdout.splitlines()[-1]
    check("run the same sweep command again to continue" in shown and not os.path.exists(os.path.join(a, "merged")),
          f"status of a shard's folder merged into: {shown!r}")
    sweep(["--spec", spec, "--out", merged])
    os.remove(os.path.join(merged, "runs", run_ids(b)[0], "summary.json"))
    shown = run(["sweep", "status", merged]).stdout.splitlines()[-1]
    check("run the same sweep command again to continue" in shown and
          not os.path.exists(os.path.join(merged, "merged")), f"status once a sweep ran on it: {shown!r}")


def shards_cut_record(tmp):
    """A DIR/shards whose last line has no newline (written by hand, or cut): status and a sweep
    of another shard refuse that line, the sweep before it trains; neither reads past the file's bytes
    (both did, looking for a newline: the sanitizer build stops at that)."""
    spec = os.path.join(tmp, "shards-cut.spec")
    open(spec, "w").write(TINY_SPEC)
    folder = os.path.join(tmp, "shards-cut")
    sweep(["--spec", spec, "--out", folder, "--shard", "0/2"])
    shards = os.path.join(folder, "shards")
    open(shards, "w").write("0/2\n1/20")
    p = run(["sweep", "status", folder], expect=1)
    refusal = f"jacnoise: {shards}: line 2: not a shard I/N; remove the file to count every configuration as this folder's\n"
    check(p.stderr == refusal, f"status of a shards file cut before its newline: {p.stderr!r}")
    p = sweep(["--spec", spec, "--out", folder, "--shard", "1/2"], expect=1)
    check(p.stderr == refusal and len(run_ids(folder)) == 1,
          f"a sweep of another shard on a shards file cut before its newline: {p.stderr!r}, runs {run_ids(folder)}")


def shards_error_kept(tmp):
    """A DIR/shards made unreadable while the sweep trains (a shard sharing the folder, a hand
    edit) is said after the table as it is, once, where a damaged run's line in that table
    (which reads the run's metrics.jsonl again) replaced it with the damaged file's error."""
    spec = os.path.join(tmp, "shards-kept.spec")
    open(spec, "w").write(TINY_SPEC.replace("hidden = 4", "hidden = 64").replace("train-limit = 60", "train-limit = 2000")
                          .replace("epochs = 1", "epochs = 10"))
    folder = os.path.join(tmp, "shards-kept")
    sweep(["--spec", spec, "--out", folder, "--shard", "0/2"])
    (other,) = run_ids(folder)
    damaged = os.path.join(folder, "runs", other, "metrics.jsonl")
    open(damaged, "a").write("garbage\n")
    p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--shard", "1/2", "--progress", "never"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: len(run_ids(folder)) == 2, p)  # past its first read of DIR/shards
    p.send_signal(signal.SIGSTOP)
    mine = [i for i in run_ids(folder) if i != other]
    stopped = bool(mine) and not os.path.exists(os.path.join(folder, "runs", mine[0], "summary.json"))
    shards = os.path.join(folder, "shards")
    open(shards, "a").write("1/2 \n")
    p.send_signal(signal.SIGCONT)
    out, err = ended(p, "a sweep stopped in its run, continued")
    check(stopped, f"the sweep was not stopped in its run: run folders {run_ids(folder)}")
    check(p.returncode == 1 and f"damaged {other}: {damaged}: line " in out and
          err == f"jacnoise: sweep: {shards}: line 3: not a shard I/N; remove the file to count every configuration as "
          "this folder's\n", f"a DIR/shards damaged during a sweep with a damaged run: exit {p.returncode}, {err!r}")


def held_error_kept(tmp):
    """A run held by another process stops the sweep with its error said last as it is, where a
    damaged run in the folder (its metrics.jsonl read again for the table) replaced it with the
    damaged file's error."""
    spec, folder = tiny_sweep(tmp, "held-kept")
    damaged, held = run_ids(folder)
    open(os.path.join(folder, "runs", damaged, "metrics.jsonl"), "a").write("garbage\n")
    shutil.rmtree(os.path.join(folder, "runs", held))
    os.makedirs(os.path.join(folder, "runs", held))
    with open(os.path.join(folder, "runs", held, "lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p = sweep(["--spec", spec, "--out", folder], expect=1)
    check(p.stderr == f"jacnoise: sweep: {os.path.join(folder, 'runs', held)}: in use by another jacnoise process, or "
          "trained by one since this sweep began: is this sweep, or a shard of it, already running? (stopped; that "
          "run's folder is unchanged)\n", f"a run held by another process beside a damaged one: {p.stderr!r}")


def results_seconds(tmp):
    """results.csv's seconds is the sum of the run's metrics.jsonl lines' seconds (its epochs
    over every process that trained it, where its summary.json's is the last process's alone),
    the summary's only where no line is read (its metrics.jsonl removed): set by hand to other
    values in each file, the table a rerun writes says which it read (nothing checked it)."""
    spec, folder = os.path.join(tmp, "seconds.spec"), os.path.join(tmp, "seconds")
    open(spec, "w").write(TINY_SPEC.replace("epochs = 1", "epochs = 2"))
    sweep(["--spec", spec, "--out", folder])
    summed, summarised = run_ids(folder)

    def times(i, epochs, summary):
        path = os.path.join(folder, "runs", i, "metrics.jsonl")
        lines = open(path).read().splitlines()
        check(len(lines) == 2, f"run {i}: {len(lines)} epoch lines, not 2")
        open(path, "w").write("".join(re.sub(r'"seconds": *[^,}]+', f'"seconds": {t}', line) + "\n"
                                      for line, t in zip(lines, epochs)))
        path = os.path.join(folder, "runs", i, "summary.json")
        text = open(path).read()
        open(path, "w").write(re.sub(r'"seconds": *[^,}\n]+', f'"seconds": {summary}', text))

    times(summed, (1.25, 2.25), 100)
    times(summarised, (1, 1), 7.5)
    os.remove(os.path.join(folder, "runs", summarised, "metrics.jsonl"))
    sweep(["--spec", spec, "--out", folder])  # nothing to train: writes results.csv again
    seconds = column(folder, "seconds")
    check(seconds == {summed: "3.5", summarised: "7.5"},
          f"results.csv's seconds of epochs 1.25 + 2.25 s (summary 100 s), and of a summary of 7.5 s alone: {seconds}")


def damaged_summary(tmp):
    """A run whose summary.json is damaged (edited by hand): status counts it unreadable, with a
    line naming the file, the end its last.ckpt records and what fixes it, not running (it was, with no word of why); the sweep
    run again (in a job array's folder, its task resubmitted) resumes it and writes the file again."""
    spec, folder = tiny_sweep(tmp, "damaged")
    bad = run_ids(folder)[0]
    summary = os.path.join(folder, "runs", bad, "summary.json")
    open(summary, "w").write("garbage\n")
    shown = run(["sweep", "status", folder]).stdout
    why = f"finished, as {os.path.join(folder, 'runs', bad, 'last.ckpt')} records, but {summary}: byte 0: expected '{{'"
    check("1 done, 0 diverged, 0 failed, 0 running, 0 interrupted, 0 pending, 1 unreadable\n" in shown and
          f"unreadable {bad}: {why} (the sweep run again resumes it and writes its "
          "summary.json again)\n" in shown and "running:" not in shown, f"status of a damaged summary.json: {shown!r}")
    # In a job array's folder its task resubmitted resumes it, as the last line says (the sweep
    # run again by hand trains the whole sweep there).
    open(os.path.join(folder, "slurm-array"), "w").write(
        "SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=1 SLURM_ARRAY_TASK_COUNT=1\n")
    shown = run(["sweep", "status", folder]).stdout
    check(f"unreadable {bad}: {why} (resubmitting its array task resumes it and writes "
          "its summary.json again)\n" in shown, f"status of a damaged summary.json of a job array: {shown!r}")
    os.remove(os.path.join(folder, "slurm-array"))
    sweep(["--spec", spec, "--out", folder])
    shown = run(["sweep", "status", folder]).stdout
    check("2 done, 0 diverged, 0 failed, 0 running, 0 interrupted, 0 pending\n" in shown and "unreadable" not in shown,
          f"status once the sweep ran again on a damaged summary.json: {shown!r}")


def damaged_metrics(tmp):
    """A finished run whose metrics.jsonl is damaged (cut mid-line, a garbage line): status
    counts it done, as its summary.json says, and damaged on the counts line (which gave no count
    of them), with a line naming the file and what is wrong (it said nothing, its penalty left
    empty) and how to train the run anew (in a job array's folder, by its task resubmitted);
    status still shows every other run."""
    _, folder = tiny_sweep(tmp, "damaged-metrics")
    cut, garbage = run_ids(folder)
    paths = [os.path.join(folder, "runs", i, "metrics.jsonl") for i in (cut, garbage)]
    whole = read(paths[0])
    open(paths[0], "wb").write(whole[:len(whole) // 2])
    size = len(read(paths[1]))
    open(paths[1], "a").write("garbage\n")
    p = run(["sweep", "status", folder])
    check("2 done, 0 diverged, 0 failed, 0 running, 0 interrupted, 0 pending, 2 damaged\n" in p.stdout and
          f"\ndamaged {cut}: {paths[0]}: 0 whole epoch lines, where its summary.json says 1 epoch was done: lines "
          "were cut or removed (counted finished; " in p.stdout and
          f"\ndamaged {garbage}: {paths[1]}: line 2 (byte {size}): expected '{{' (counted finished; " in p.stdout,
          f"status of damaged metrics.jsonl files: {p.stdout!r}")
    # A whole line without its newline (a hand edit) is read whole: it read as one cut, damaged.
    open(paths[0], "wb").write(whole[:-1])
    p = run(["sweep", "status", folder])
    check("2 done, 0 diverged, 0 failed, 0 running, 0 interrupted, 0 pending, 1 damaged\n" in p.stdout and
          f"\ndamaged {cut}:" not in p.stdout, f"status of a metrics.jsonl without its last newline: {p.stdout!r}")
    # In a job array's folder the run is trained anew by its task resubmitted (the sweep run
    # again by hand trains the whole sweep there).
    open(os.path.join(folder, "slurm-array"), "w").write(
        "SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=1 SLURM_ARRAY_TASK_COUNT=1\n")
    p = run(["sweep", "status", folder])
    check(f"to train the run anew, remove {os.path.join(folder, 'runs', garbage)} and resubmit its array task)\n"
          in p.stdout, f"status of a damaged metrics.jsonl of a job array: {p.stdout!r}")


def damaged_metrics_unfinished(tmp):
    """The same for runs a sweep left unfinished, killed (running) or stopped by SIGINT
    (interrupted): a garbage line, and whole lines cut that the run's last.ckpt (a killed run
    has no summary.json) or summary.json says were done, each counted damaged with its line;
    the cut killed run's said nothing, its rerun failing it for the lines lost. The run with a
    garbage line is ranked by the lines before it; failed by it, its error is said once."""
    spec = os.path.join(tmp, "damaged-unfinished.spec")
    open(spec, "w").write(TINY_SPEC.replace("epochs = 1", "epochs = 100000\npatience = 0"))
    for sig, state in ((signal.SIGKILL, "running"), (signal.SIGINT, "interrupted")):
        folder = os.path.join(tmp, f"damaged-{state}")
        p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--progress", "never"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # three epoch lines each: last.ckpt has done at least two (a line is written before its checkpoint)
        runs = os.path.join(folder, "runs")
        trained = wait_until(lambda: os.path.isdir(runs) and [len(lines) >= 3 for lines in
                                                               metrics_lines(folder).values()] == [True, True], p)
        p.send_signal(sig)
        ended(p, f"{state}: a sweep sent {sig.name}")
        check(trained, f"{state}: the sweep ended before two runs had three epochs (exit {p.returncode})")
        if not trained:
            continue
        cut, garbage = run_ids(folder)
        paths = [os.path.join(folder, "runs", i, "metrics.jsonl") for i in (cut, garbage)]
        first = read(paths[0]).split(b"\n")[0]
        open(paths[0], "wb").write(first[:len(first) // 2])
        size = len(read(paths[1]))
        lines = read(paths[1]).count(b"\n")
        open(paths[1], "a").write("garbage\n")
        p = run(["sweep", "status", folder])
        said = "its summary.json" if state == "interrupted" else "its last.ckpt"
        check(f"0 done, 0 diverged, 0 failed, {2 if state == 'running' else 0} running, "
              f"{2 if state == 'interrupted' else 0} interrupted, 0 pending, 2 damaged\n" in p.stdout and
              re.search(f"\ndamaged {cut}: {re.escape(paths[0])}: 0 whole epoch lines, where {said} says \\d+ epochs "
                        f"were done: lines were cut or removed \\(counted {state}; ", p.stdout) and
              f"\ndamaged {garbage}: {paths[1]}: line {lines + 1} (byte {size}): expected '{{' (counted {state}; "
              in p.stdout, f"status of damaged metrics.jsonl files of {state} runs: {p.stdout!r}")
        # Ranked by the lines before the garbage one, as a finished run is by its summary.json (a
        # killed run left the table, with no word of why).
        check(re.search(f"\n  {garbage}  {state} +[1-9]\\d*  ", p.stdout),
              f"the {state} run with a garbage line is not ranked: {p.stdout!r}")
        # How to continue says the rerun fails them (it said only to run the sweep again).
        check("\nunfinished: 2 configurations (2 damaged, which a rerun fails: do what the damaged lines above say "
              "first); once no sweep trains them, run the same sweep command again to continue\n" in p.stdout,
              f"how to continue {state} runs with damaged metrics.jsonl files: {p.stdout!r}")
        if state != "running":
            continue
        # Nor does the line on the killed runs' locks promise that the rerun resumes them.
        check("\nrunning: 0 locked by a jacnoise process now, 2 not locked (killed, unless trained on another machine "
              "whose locks this one does not see; damaged: the sweep run again fails them, as the damaged lines above "
              "say)\n" in p.stdout, f"the running line of killed runs with damaged metrics.jsonl files: {p.stdout!r}")
        # The rerun fails both (the garbage line refused, the lines lost): the same error, said
        # on the failed line, is not said again on the damaged one.
        sweep(["--spec", spec, "--out", folder], expect=1)
        p = run(["sweep", "status", folder])
        error = f"{paths[1]}: line {lines + 1} (byte {size}): expected '{{'"
        check(p.stdout.count(error) == 1 and f"\nfailed {garbage}: {error}\n" in p.stdout and
              f"\ndamaged {garbage}: its metrics.jsonl, as its failed line says (counted failed; " in p.stdout,
              f"status of a run failed by its garbage line: {p.stdout!r}")
        # Failed now, they are counted so alone in how to continue, not damaged too.
        check("\nunfinished: 2 configurations (2 failed: fix what the failed lines above say first); once" in p.stdout,
              f"how to continue runs failed by their metrics.jsonl files: {p.stdout!r}")
        # ... with the folder named otherwise than the sweep named it (relative, from its parent).
        shown = run(["sweep", "status", os.path.basename(folder)], cwd=tmp).stdout
        check(shown.count(error) == 1 and "as its failed line says" in shown,
              f"status of a run failed by its garbage line, the folder named relative: {shown!r}")


def running_some_damaged(tmp):
    """Killed runs, some of whose metrics.jsonl is damaged: the running line says the rerun
    resumes them but for those, with their count (here 1 of 3, each stopped before its end as if
    killed: no summary.json, no lock held)."""
    spec = os.path.join(tmp, "some-damaged.spec")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "[0.1, 0.2, 0.3]"))
    folder = os.path.join(tmp, "some-damaged")
    sweep(["--spec", spec, "--out", folder])
    for i in run_ids(folder):
        os.remove(os.path.join(folder, "runs", i, "summary.json"))
    cut = run_ids(folder)[1]
    open(os.path.join(folder, "runs", cut, "metrics.jsonl"), "w").close()
    p = run(["sweep", "status", folder])
    check("0 done, 0 diverged, 0 failed, 3 running, 0 interrupted, 0 pending, 1 damaged\n" in p.stdout and
          f"\ndamaged {cut}: " in p.stdout and
          "\nrunning: 0 locked by a jacnoise process now, 3 not locked (killed, unless trained on another machine whose "
          "locks this one does not see; the sweep run again resumes them but for 1 damaged, which it fails (the damaged "
          "lines above))\n" in p.stdout, f"status of 3 killed runs, 1 of them damaged: {p.stdout!r}")


def runs_not_a_folder(tmp):
    """A sweep folder whose runs is a file: status says up front that a sweep there is refused
    (it counted every configuration pending and said to rerun the sweep, which refused); a
    merge from it refuses in one line, before it makes its folder (it copied nothing and
    succeeded, "0 run folders copied"); a merge or sweep into it, in as full a line."""
    folder = os.path.join(tmp, "runs-file")
    os.makedirs(folder)
    open(os.path.join(folder, "sweep.spec"), "w").write(TINY_SPEC)
    open(os.path.join(folder, "runs"), "w").close()
    p = run(["sweep", "status", folder], expect=1)
    check(p.stderr == f"jacnoise: {folder}/runs: not a folder, so a sweep or merge on {folder} is refused; move it "
                      "away, then run the sweep again\n" and not p.stdout,
          f"status of a folder whose runs is a file: {p.stdout!r} {p.stderr!r}")
    dest = os.path.join(tmp, "runs-file-into")
    p = run(["sweep", "merge", dest, folder], expect=1)
    check(p.stderr == f"jacnoise: merge: {folder}/runs: not a folder, so {folder} has no runs to merge; move it "
                      "away, then run its sweep again\n" and not p.stdout and not os.path.exists(dest),
          f"merge from a folder whose runs is a file: {p.stdout!r} {p.stderr!r}")
    # Merged into, or swept into, it says as much, where a merge said only 'DIR/runs: not a folder'.
    spec, source = tiny_sweep(tmp, "runs-file-source")
    p = run(["sweep", "merge", folder, source], expect=1)
    check(p.stderr == f"jacnoise: merge: {folder}/runs: not a folder, so nothing can be merged into {folder}; move it "
                      "away, then merge again\n" and not p.stdout,
          f"merge into a folder whose runs is a file: {p.stdout!r} {p.stderr!r}")
    for dry in ([], ["--dry-run"]):
        p = run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"] + dry, expect=1)
        check(p.stderr == f"jacnoise: --out {folder}: {folder}/runs: not a folder, so a sweep or merge on {folder} is "
                          "refused; move it away, then run the sweep again\n",
              f"sweep {' '.join(dry)} into a folder whose runs is a file: {p.stdout!r} {p.stderr!r}")


def quoted_advice(tmp):
    """The commands status prints for the user to copy (merge again, write results.csv, draw
    the plots) and tools/plot_sweep.py's name a folder with a space or a quote as one shell
    word each, where pasted they split it; a plain folder stays as it is (merged_blank_lines)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import plot_sweep

    def words(found):
        try:
            return shlex.split(found.group(1)) if found else None
        except ValueError:  # an unclosed quote: the folder's own
            return None

    _, a = tiny_sweep(tmp, "quoted sweep", "--shard", "0/2")
    merged = os.path.join(tmp, "quoted it's merged")
    run(["sweep", "merge", merged, a])
    os.remove(os.path.join(merged, "results.csv"))
    shown = run(["sweep", "status", merged]).stdout
    for what, pattern, want in [
            ("merge again", r"then merge again: (jacnoise sweep merge .*)\n", ["jacnoise", "sweep", "merge", merged, a]),
            ("results", r"\(jacnoise sweep merge (.*) writes it\)", [merged]),
            ("plots", r"plots: tools/plot_sweep.py (.*) \(from the jacnoise checkout; writes ", [merged])]:
        found = re.search(pattern, shown)
        check(words(found) == want, f"status's {what} command for {merged}: {shown!r}")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            plot_sweep.load(merged)
        got = None
    except SystemExit:
        got = re.search(r"\(jacnoise sweep merge (.*) writes it\)", err.getvalue())
    check(words(got) == [merged], f"plot_sweep on {merged}: {err.getvalue()!r}")


def merged_blank_lines(tmp):
    """Blank lines added to DIR/merged by hand name no folder in status's advice (each was an
    extra space in the merge command), and a DIR/merged of blank lines alone is no merge."""
    _, a = tiny_sweep(tmp, "merged-blank-0", "--shard", "0/2")
    merged = os.path.join(tmp, "merged-blank-m")
    run(["sweep", "merge", merged, a])
    record = os.path.join(merged, "merged")
    open(record, "w").write(f"\n{a}\n \n\n")
    shown = run(["sweep", "status", merged]).stdout.splitlines()[-1]
    check(shown.endswith(f"then merge again: jacnoise sweep merge {merged} {a}"),
          f"status of a merged folder with blank lines in {record}: {shown!r}")
    open(record, "w").write("\n \n")
    shown = run(["sweep", "status", merged]).stdout.splitlines()[-1]
    check(shown.endswith("run the same sweep command again to continue"),
          f"status of a merged folder whose {record} is blank lines alone: {shown!r}")


def merged_read_once(tmp):
    """status reads DIR/merged once for its table's unreadable and damaged lines, however many
    there are (it was read again for each, and for a running line of none running), its running
    line and its unfinished line (it read it again for each of the three)."""
    strace = shutil.which("strace")
    if not strace:
        check(False, "DIR/merged read once: strace is missing (Debian: strace; tools/setup.sh installs it)")
        return
    spec, a = os.path.join(tmp, "merged-once.spec"), os.path.join(tmp, "merged-once-0")
    open(spec, "w").write(TINY_SPEC.replace("[0.1, 0.2]", "[0.1, 0.2, 0.3, 0.4, 0.5]"))
    sweep(["--spec", spec, "--out", a])
    merged = os.path.join(tmp, "merged-once-m")
    run(["sweep", "merge", merged, a])
    names = run_ids(merged)
    for i, name in enumerate(names[:4]):  # two damaged, two unreadable
        open(os.path.join(merged, "runs", name, "metrics.jsonl" if i % 2 else "summary.json"), "w").close()
    os.remove(os.path.join(merged, "runs", names[4], "summary.json"))  # killed: the running line says it
    open(os.path.join(merged, "runs", names[4], "lock"), "a").close()
    trace = os.path.join(tmp, "merged-once.trace")
    p = subprocess.run([strace, "-f", "-qq", "-o", trace, "-e", "trace=open,openat", BIN, "sweep", "status", merged],
                       capture_output=True, text=True, timeout=600, env=under_ptrace())
    if p.returncode != 0 and "ptrace" in p.stderr:
        print(f"DIR/merged read once: NOT CHECKED (strace cannot trace here: {p.stderr.strip()[:200]})")
        return
    opens = sum(f'{merged}/merged"' in line for line in read(trace).decode().splitlines())
    check("1 running, 0 interrupted, 0 pending, 2 unreadable, 2 damaged" in p.stdout and
          "running: 0 locked by a jacnoise process now, 1 not locked" in p.stdout and "\nunfinished: " in p.stdout
          and opens == 1, f"DIR/merged read {opens} times by a status of 4 unreadable or damaged runs and a killed "
          f"one: {p.stdout!r}")


def trained_since_planned(tmp):
    """A shard sharing the folder that trains a run to its end after this sweep planned its
    group (the run then had no checkpoint) and before this sweep reached it: this sweep
    counts it finished as it stands, writes nothing into its folder, and exits 0 (it recorded
    a finished run as failed, 'already holds a run')."""
    spec = os.path.join(tmp, "since.spec")
    open(spec, "w").write(TINY_SPEC.replace("hidden = 4", "hidden = 64").replace("train-limit = 60", "train-limit = 2000")
                          .replace("epochs = 1", "epochs = 10").replace("lr = [0.1, 0.2]", "lr = [0.05, 0.1, 0.2]"))
    folder = os.path.join(tmp, "since")
    p = subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--models", "1", "--progress", "never"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    until_training(folder, p)  # the group planned, its first run training
    p.send_signal(signal.SIGSTOP)
    first = run_ids(folder)
    # The group's third run (the last this sweep opens, with --models 1), trained to its end.
    sweep(["--spec", spec, "--out", folder, "--shard", "2/3"])
    third = [i for i in run_ids(folder) if i not in first]
    files = {f: read(os.path.join(folder, "runs", third[0], f)) for f in ("last.ckpt", "summary.json")} if third else {}
    p.send_signal(signal.SIGCONT)
    out, err = ended(p, "a sweep stopped in its first run, continued")
    status = column(folder, "status")
    check(len(first) == 1 and len(third) == 1, f"the sweep was stopped in its first run: run folders {first}, then {third}")
    check(p.returncode == 0 and list(status.values()) == ["finished"] * 3 and
          all(read(os.path.join(folder, "runs", third[0], f)) == b for f, b in files.items()),
          f"a run another sweep finished after this one planned it: exit {p.returncode}, {err!r}, statuses {status}")


def other_options_paused(tmp):
    """A paused run of other options in a configuration's run folder (a folder copied to the
    wrong place) is not resumed as that configuration: the sweep fails it, naming the folder,
    and leaves its last.ckpt as it was; resumed, that run was trained to its end under the
    configuration's id, with the other options' numbers."""
    spec, folder = tiny_sweep(tmp, "other-options")
    first, second = run_ids(folder)
    target, config = os.path.join(folder, "runs", second), os.path.join(tmp, "other-options.txt")
    shutil.copy(os.path.join(target, "config.txt"), config)  # the configuration's options but one, not in the spec
    shutil.rmtree(target)
    run(["train", "--config", config, "--momentum", "0.5", "--max-steps", "1", "--progress", "never", "--out", target])
    last = read(os.path.join(target, "last.ckpt"))
    p = sweep(["--spec", spec, "--out", folder], expect=1)
    status = column(folder, "status")
    check(f"{target}: the folder holds a run of other options than configuration {second}" in p.stdout + p.stderr and
          status == {first: "finished", second: "failed"} and read(os.path.join(target, "last.ckpt")) == last,
          f"a paused run of other options in {second}'s folder: exit {p.returncode}, statuses {status}, "
          f"{p.stdout[-400:]!r} {p.stderr[-400:]!r}")


def spec_forms(tmp):
    """A spec with a UTF-8 byte-order mark, and one with nothing swept: one configuration,
    trained, its line ending with its results (no empty list of values)."""
    spec = os.path.join(tmp, "bom.spec")
    open(spec, "wb").write(b"\xef\xbb\xbf" + TINY_SPEC.replace("lr = [0.1, 0.2]", "lr = 0.1").encode())
    folder = os.path.join(tmp, "bom")
    p = sweep(["--spec", spec, "--out", folder])
    line = next((x for x in p.stdout.splitlines() if x.startswith("sweep: [1/1]")), "")
    check(re.fullmatch(r"sweep: \[1/1\] [0-9a-f]{12} finished, best epoch 1: valid [0-9.]+%, test [0-9.]+%", line),
          f"a spec with a byte-order mark and nothing swept: {p.stdout[:300]!r} {p.stderr!r}")
    sweep(["--spec", spec, "--out", folder])  # the same spec again


def bench_steps(tmp):
    """bench/bench_sweep_cpu.py counts the model-steps its runs take (train-limit examples:
    the validation split is not taken from them)."""
    bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "bench_sweep_cpu.py")
    p = subprocess.run([sys.executable, bench, "--bin", BIN, "--models", "2", "--hidden", "8", "--train-limit", "330",
                        "--epochs", "2", "--batch", "100", "--reps", "1"], capture_output=True, text=True, timeout=600)
    check(p.returncode == 0 and "330 training examples" in p.stdout and "16 model-steps" in p.stdout,
          f"bench_sweep_cpu.py: exit {p.returncode}: {p.stdout[:300]} {p.stderr[-300:]}")
    # No program, a failing one (its data not found where it runs: a --train-limit past the
    # set, which jacnoise refused, the bench now refuses itself), no repetitions: one line,
    # never a traceback.
    nodata = os.path.join(tmp, "bench-no-data")  # no ./data, no ../shared/datasets from it
    os.makedirs(nodata)
    for args, code, words, where in [(["--bin", os.path.join(tmp, "none")], 1, "cannot run it", None),
                                     (["--bin", os.path.abspath(BIN), "--data", "usps", "--hidden", "8"], 1,
                                      "train failed, exit 1: jacnoise: usps: cannot find", nodata),
                                     (["--bin", BIN, "--data", "bogus"], 2, "--data bogus: not a value it takes", None),
                                     (["--bin", BIN, "--reps", "0"], 2, "--reps 0: out of range [1, 1000]", None)]:
        env = dict(os.environ, JACNOISE_DATA=nodata) if where else None
        p = subprocess.run([sys.executable, bench] + args, capture_output=True, text=True, timeout=600, cwd=where,
                           env=env)
        last = p.stderr.strip().splitlines()[-1:] or [""]
        check(p.returncode == code and words in last[0] and "Traceback" not in p.stderr,
              f"bench_sweep_cpu.py {args}: exit {p.returncode}: {p.stderr[-300:]!r}")


def bench_path(script):
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", script)


def bench_count(script, args, pattern, what):
    """Runs bench/SCRIPT on BIN with args: the read calls its line matching pattern counts (the
    group), None where it failed (checked) or could not count (said, as `what`); and its output."""
    p = subprocess.run([sys.executable, bench_path(script), "--bin", BIN] + args, capture_output=True, text=True,
                       timeout=600)
    found = re.search(pattern, p.stdout, re.M)
    check(p.returncode == 0 and found, f"{script}: exit {p.returncode}: {p.stdout!r} {p.stderr[-300:]!r}")
    if found and found.group(1) == "-":
        print(f"{what}: not counted (no /proc/self/io)")
    return (float(found.group(1)) if found and found.group(1) != "-" else None), p.stdout


def results_reads(tmp):
    """results.csv kept current as runs end reads only the run folders that can have changed
    since: a run that ends among 1000 finished ones costs the sweep a few read system calls
    beyond training it, not a read of every folder (counted by bench/bench_sweep_results.py,
    not timed). Bad options: one line, never a traceback."""
    count, out = bench_count("bench_sweep_results.py", ["--configs", "1000", "--runs", "10"],
                             r"^ +1000 .* s, ([-+]\d+|-) reads ", "results.csv reads")
    if count is not None:
        check(count < 100, f"each ended run read {count:.0f} times beyond training it, with 1000 run folders (reading "
              f"each is about 1000 or more): {out!r}")
    for args, words in [(["--configs", "150"], "--configs 150"), (["--runs", "0"], "--runs 0: out of range [1, 100]")]:
        p = subprocess.run([sys.executable, bench_path("bench_sweep_results.py"), "--bin", BIN] + args,
                           capture_output=True, text=True, timeout=60)
        last = p.stderr.strip().splitlines()[-1:] or [""]
        check(p.returncode == 2 and words in last[0] and "Traceback" not in p.stderr,
              f"bench_sweep_results.py {args}: exit {p.returncode}: {p.stderr[-300:]!r}")


def merge_reads(tmp):
    """A merge reads each run folder once: merged again from a shard with nothing further along,
    100 runs cost about 4 read system calls each (their metrics.jsonl and summary.json, on each
    side), where it read the merged folder's three times (counted by bench/bench_sweep_merge.py,
    not timed)."""
    count, out = bench_count("bench_sweep_merge.py", ["--configs", "100"], r"^ +100 +\S+ +\S+ +\S+ +\S+ +\S+ +(\S+) ",
                             "merge reads")
    if count is not None:
        check(count < 6, f"a merge with nothing to copy read {count} times a run folder (once on each side is about "
              f"4): {out!r}")


def status_memory(folder, spec):
    """The peak memory (bytes) of `sweep status` on a sweep folder of this spec. In a sanitizer
    build, AddressSanitizer holds freed blocks in its quarantine (256 MB) rather than reusing them,
    so the peak would count each configuration's freed temporaries (about 6 KB of a growing key
    buffer) as kept: the quarantine is off here, as the plan's memory is what is measured."""
    os.makedirs(folder)
    open(os.path.join(folder, "sweep.spec"), "w").write(spec)
    asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0"]))
    p = subprocess.Popen([BIN, "sweep", "status", folder], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=dict(os.environ, ASAN_OPTIONS=asan))
    # Read bounded, as ended() would, but not reaped: wait4 has its peak memory.
    got = []
    if not within(p, lambda: got.append(p.stderr.read()), 600):
        check(False, f"sweep status {folder}: still running after 600 s: killed")
    err = got[0] if got else b""
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    check(p.returncode == 0, f"sweep status {folder}: exit {p.returncode}: {err[-300:]!r}")
    return usage.ru_maxrss * 1024


def plan_memory(tmp):
    """A plan of 50,000 configurations takes a few hundred bytes each beyond the program's own
    (measured against a plan of 2): each used to keep its 12 KB of options, 600 MB in all."""
    spec = "data = usps\nhidden = 12\nepochs = 1\nlr = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1]\n"
    small = status_memory(os.path.join(tmp, "plan-2"), spec.replace(", 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09", ""))
    large = status_memory(os.path.join(tmp, "plan-50000"), spec + "momentum = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, "
                          "0.8, 0.9]\nseeds = 500\n")
    per = (large - small) / 50000
    check(per < 2000, f"sweep status of 50,000 configurations took {per:.0f} bytes more per configuration than of 2")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-sweep-")
    plot_rules(tmp)
    if sys.argv[1:] == ["--plot-rules"]:  # tools/plot_sweep.py's rules alone, in a second
        return finish("plot_sweep rule", tmp)
    group_spec, kill_spec = os.path.join(tmp, "group.spec"), os.path.join(tmp, "kill.spec")
    open(group_spec, "w").write(GROUP_SPEC)
    open(kill_spec, "w").write(KILL_SPEC)
    spec_errors(tmp)
    ref = group_equals_solo(tmp, group_spec)
    models_and_jobs(tmp, group_spec, ref)
    dry_run_crowded(tmp)
    kills(tmp, kill_spec)
    plots(tmp)
    plot_faults(tmp)
    plot_zero_error(tmp)
    plot_random_search(tmp)
    plot_without_validation(tmp)
    shards(tmp, group_spec, ref)
    local_gpus_failure(tmp, group_spec)
    local_gpus_shards(tmp)
    local_gpus_dry_run(tmp)
    failure(tmp, group_spec)
    ten_failures(tmp)
    status_and_progress(tmp, group_spec)
    where_trained(tmp)
    checkpoint_epochs(tmp)
    repeats(tmp)
    merge_into_running(tmp)
    merge_from_running(tmp)
    merge_races(tmp)
    failed_before_folder(tmp)
    corrupt_checkpoint(tmp)
    flipped_header(tmp)
    no_device(tmp)
    device_check_unwaited(tmp)
    workers_unwaited(tmp)
    sigchld_ignored(tmp)
    data_not_found(tmp)
    trailing_slash(tmp)
    shard_status(tmp)
    count_words(tmp)
    cgroup_memory(tmp)
    merged_status(tmp)
    merged_blank_lines(tmp)
    merged_read_once(tmp)
    shards_error_kept(tmp)
    results_seconds(tmp)
    held_error_kept(tmp)
    damaged_summary(tmp)
    damaged_metrics(tmp)
    damaged_metrics_unfinished(tmp)
    running_some_damaged(tmp)
    runs_not_a_folder(tmp)
    quoted_advice(tmp)
    shards_cut_record(tmp)
    run_config_as_spec(tmp)
    interrupted_status(tmp)
    running_locks(tmp)
    closed_output(tmp)
    full_output(tmp)
    workers_leave_stdout(tmp)
    spec_race(tmp)
    trained_since_planned(tmp)
    other_options_paused(tmp)
    spec_forms(tmp)
    jobs_share_what_is_left(tmp)
    worker_killed(tmp)
    spec_changed(tmp)
    samples_and_seeds(tmp)
    long_choice(tmp)
    no_test_split(tmp)
    status_device_unknown(tmp)
    status_stored_tiny(tmp)
    bracketed_path(tmp)
    results_unwritable(tmp)
    out_is_a_file(tmp)
    integer_draws(tmp)
    draws_within_bounds(tmp)
    ids_ignore_operational(tmp)
    group_keys_split(tmp)
    shard_deal_order(tmp)
    merge_further(tmp)
    merge_long_source(tmp)
    merge_replaces(tmp)
    merge_stopped(tmp)
    merge_commit_stopped(tmp)
    merge_failed_unmade(tmp)
    merge_killed_rerun(tmp)
    merge_many(tmp)
    bench_steps(tmp)
    results_reads(tmp)
    merge_reads(tmp)
    plan_memory(tmp)
    return finish("sweep", tmp)


if __name__ == "__main__":
    sys.exit(main())
