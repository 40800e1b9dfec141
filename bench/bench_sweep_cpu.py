#!/usr/bin/env python3
"""What a CPU sweep costs against the same configurations trained one by one.

M configurations of one group (MLP+N+J, output target, K = 1, lambda 0.01, s_J 0.3, with input
noise 0.1 too; lr 0.05; M seeds) are trained three ways, in the same run, alternating, each
--reps times (the median is reported; each way's ratio to train taken round by round):
  train     M separate `jacnoise train --threads 1` processes, one after another
  models 1  `jacnoise sweep --models 1`: one process, one model at a time (one data load)
  models M  `jacnoise sweep --models M`: one process, the M models in one group, in lock-step
It prints the wall time, the microseconds per model-step and the ratio to `train` (the median
of the rounds' own ratios and their quartiles, so that a change of load between rounds cancels), and checks
that the three ways ended with byte-identical checkpoints. Its run folders are in a temporary
folder, removed at the end, also on Ctrl-C (exit 130), SIGTERM or SIGHUP (exit 143; SIGHUP
stays ignored under nohup), which stop the jacnoise running too, or when its standard output
is closed (bench | head -1: it ends by SIGPIPE without a word, as the tools do).

usage: bench/bench_sweep_cpu.py [--bin PROGRAM] [--models 8] [--data usps] [--hidden 1000]
       [--train-limit 6000] [--epochs 2] [--batch 100] [--reps 3]   (JACNOISE_DATA: the data folder;
       PROGRAM: jacnoise, by default build/jacnoise of this checkout)"""
import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import tool_files  # noqa: E402

# The program unless --bin says otherwise: this checkout's, whatever folder the bench runs from.
PROGRAM = os.path.join(ROOT, "build", "jacnoise")


# The validation split of every run: from the end of the training file, before --train-limit.
VALID = 1000

# One line naming the bench that runs (bench_sweep_merge.py, say, through this module), exit 1.
fail = tool_files.failing(None)


def timed(cmd):
    """Seconds cmd took; a program that cannot run or fails ends the bench with one line."""
    start = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        fail(f"{cmd[0]}: cannot run it ({e.strerror}); build jacnoise or give --bin")
    try:
        err = p.communicate()[1]
    except BaseException:
        # The bench stopped (Ctrl-C, SIGTERM): so does the program, before its folder is removed.
        p.terminate()
        p.wait()
        raise
    if p.returncode != 0:
        fail(f"{' '.join(cmd[:2])} failed, {tool_files.how_it_failed(p.returncode, err)}")
    return time.monotonic() - start


@contextlib.contextmanager
def written_by(program):
    """Reading what the jacnoise program wrote (run folders, results.csv): where that is not
    there or not jacnoise's (a --bin that exits 0 without being jacnoise: /bin/true), the bench
    ends in one line naming the program, exit 1, as run_peers.py does, not with a traceback."""
    try:
        yield
    except (OSError, ValueError, LookupError) as e:
        why = f"{e.filename}: {e.strerror}" if isinstance(e, OSError) else f"{type(e).__name__}: {e}"
        fail(f"{program} exited 0, but what it wrote is unreadable ({why}): is {program} the jacnoise program "
             "(--bin)?")


def last_checkpoint(way, seed, folder):
    """The bytes of a run's last.ckpt; one that cannot be read ends the bench naming the way,
    the seed and why."""
    try:
        with open(os.path.join(folder, "last.ckpt"), "rb") as f:
            return f.read()
    except OSError as e:
        fail(f"{way}: seed {seed}: its last checkpoint cannot be read ({e.filename}: {e.strerror})")


def quartiles(values):
    """(median, q1, q3) of values, interpolated between order statistics as the C benchmarks'
    (jn_timing_of): within the values measured, where statistics.quantiles' default method
    puts the quartiles of 2 or 3 values at or beyond the slowest and the fastest."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return median, q1, q3


def ratio(nums, dens):
    """nums[r] / dens[r], the two timed in the same round r, as 'MEDIANx (Q1-Q3)' of the rounds'
    ratios (jn_timing_ratio): a change of the machine's load between rounds cancels in each."""
    median, q1, q3 = quartiles([n / max(d, 1e-9) for n, d in zip(nums, dens)])
    return f"{median:.3f}x ({q1:.3f}-{q3:.3f})"


class BenchParser(tool_files.BenchParser):
    """The command line of a sweep bench: each option with its help and default in --help; a
    bad one refused in one line, exit 2, as the C benchmarks refuse one (tool_files.BenchParser),
    before anything is timed."""

    def __init__(self, doc):
        super().__init__(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
        self.add_argument("--bin", default=PROGRAM, metavar="PROGRAM", type=tool_files.name_of("file"),
                          help="the jacnoise program timed (default: build/jacnoise of this checkout)")


def main():
    ap = BenchParser(__doc__)
    ap.whole("--models", 8, 1, 4096, "configurations (seeds), and the group size of the lock-step sweep")
    ap.add_argument("--data", default="usps", choices=("usps", "mnist", "mnist-binary"),
                    help="data set (default: usps)")
    ap.add_argument("--hidden", default="1000", type=tool_files.widths, metavar="W1,W2,...",
                    help="hidden widths (default: 1000)")
    ap.whole("--train-limit", 6000, 1, 60000, "training examples")
    ap.whole("--epochs", 2, 1, 1000, "epochs of each configuration")
    ap.whole("--batch", 100, 1, 65536, "batch size")
    ap.whole("--reps", 3, 1, 1000, "rounds of the three ways (the median is reported)")
    a = ap.parse_args()
    # jacnoise's refusal, said before anything runs, as another bad option is.
    held = tool_files.EXAMPLES[a.data][0]
    if a.train_limit > held - VALID:
        ap.error(f"--train-limit {a.train_limit}: only {held - VALID} training examples are available (the "
                 f"training file of {a.data} has {held}, the validation split takes {VALID})")
    tmp = tempfile.mkdtemp(prefix="jacnoise-bench-sweep-")
    try:
        bench(a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def counted(n, word):
    """n and its word, singular for one: "1 epochs" read as a typo."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def bench(a, tmp):
    spec = os.path.join(tmp, "bench.spec")
    fixed = {"data": a.data, "hidden": a.hidden, "train-limit": a.train_limit, "valid": VALID, "epochs": a.epochs,
             "batch": a.batch, "lr": 0.05, "jac-lambda": 0.01, "jac-noise": 0.3, "jac-target": "output",
             "input-noise": 0.1}
    with open(spec, "w") as f:
        f.write("".join(f"{k} = {v}\n" for k, v in fixed.items()) + f"seeds = {a.models}\n")
    # --train-limit examples train (the validation split comes from the rest of the file).
    steps = a.models * a.epochs * -(-a.train_limit // a.batch)
    # One sweep a way and round: with --models 1 the two sweeps are one, whose second call on
    # its finished folder would train nothing.
    groups = sorted({1, a.models})
    times = {"train": [], **{f"models {m}": [] for m in groups}}
    for rep in range(a.reps):
        folders = {k: os.path.join(tmp, f"{k.replace(' ', '')}-{rep}") for k in times}
        t = 0.0
        for seed in range(1, a.models + 1):
            args = [f"--{k}={v}" for k, v in fixed.items()]
            t += timed([a.bin, "train", *args, f"--seed={seed}", "--threads=1", "--progress=never",
                        f"--out={folders['train']}/{seed}"])
        times["train"].append(t)
        for m in groups:
            key = f"models {m}"
            times[key].append(timed([a.bin, "sweep", f"--spec={spec}", f"--out={folders[key]}", f"--models={m}",
                                     "--progress=never"]))
        # The same bytes every way: each seed's last checkpoint; and the steps counted, taken.
        # Its run folders, read under written_by, show the program is jacnoise: a checkpoint
        # then missing from one way is jacnoise's own failure, said as one.
        with written_by(a.bin):
            runs = os.path.join(folders["models 1"], "runs")
            ids = sorted(os.listdir(runs))
            taken = sum(json.load(open(os.path.join(runs, i, "summary.json")))["steps"] for i in ids)
            seeds = [open(os.path.join(runs, i, "config.txt")).read().split("seed=")[1].split()[0] for i in ids]
        if taken != steps:
            fail(f"the runs took {taken} model-steps, not the {steps} counted")
        for i, seed in zip(ids, seeds):
            ref = last_checkpoint("train", seed, os.path.join(folders["train"], seed))
            for key in list(times)[1:]:
                if last_checkpoint(key, seed, os.path.join(folders[key], "runs", i)) != ref:
                    fail(f"{key}: seed {seed} differs from train alone")
    print(f"{counted(a.models, 'configuration')} of {a.data}, hidden {a.hidden}, B = {a.batch}, "
          f"{counted(a.train_limit, 'training example')}, {counted(a.epochs, 'epoch')}, MLP+N+J output K=1 with "
          f"input noise, 1 BLAS thread: {counted(steps, 'model-step')}; median of {a.reps}")
    print(f"{'way':<12} {'seconds':>9} {'us/model-step':>14} {'vs train (q1-q3)':>24}")
    for key, ts in times.items():
        t = statistics.median(ts)
        print(f"{key:<12} {t:9.2f} {1e6 * t / steps:14.1f} {ratio(ts, times['train']):>24}")
    print("checkpoints: byte-identical every way")


def run_bench(main):
    """Runs a bench's main() as a program, so that its temporary folder goes however it ends:
    SIGTERM and SIGHUP (143; SIGHUP ignored under nohup) and Ctrl-C (130) unwind through main's
    cleanup, as they end the tools (tool_files.run_program); so does a closed standard
    output, Python's BrokenPipeError, after which the bench ends by SIGPIPE without a word, as
    the tools do (SIGPIPE's default, as tool_files.run_program sets it, would end it at once
    with the folder left)."""
    tool_files.catch_termination()
    try:
        main()
    except KeyboardInterrupt:
        print(f"{tool_files.tool_name()}: interrupted", file=sys.stderr)
        sys.exit(130)
    except tool_files.Terminated as e:
        print(f"{tool_files.tool_name()}: {e.words}", file=sys.stderr)
        sys.exit(143)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit would fail again
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)


if __name__ == "__main__":
    run_bench(main)
