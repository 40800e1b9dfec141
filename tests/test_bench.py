#!/usr/bin/env python3
"""The C benchmarks (bench/), run at sizes that take a second, none of their figures judged
(but that each one gives its timings' quartiles around their median, that no share
of the peak passes 100%, and that the CUDA ones' rates are the cost model's FLOPs over the step):
each one's --help (stdout, exit 0), and each refusal, before anything is timed, in one line
naming the option (and the value), exit 2: an unknown option, one without its value, a value
read half ("--reps 5x"), a list cut short, a layer too wide; a number out of its range (either
side of each range its usage line gives, "[--reps N in [1, 10000]]"), with that range; the CUDA
ones where they are built, their layer sizes refused before a device is looked for;
bench_cpu_step out of memory says so in one line naming itself (and so does its warning of
OpenBLAS ignoring the core asked, exit 0; a CUDA one whose peak cannot be measured:
test_cuda_faults); a table that did not reach standard output ends in one line and exit 1;
bench_checkpoint's best.ckpt size is last.ckpt's less two sets of values, 4- or 8-byte;
bench_rng_normal's speed-ups and bench_checkpoint's write over its floors are ratios taken round
by round, with their quartiles, as are bench_sweep_cpu.py's ratios to train and bench_sweep_plan.py's
baseline over PROGRAM;
the Python ones' refusals too (a number out of its range with that range) and their --help giving
each option's default and the signals that stop them (Ctrl-C, SIGTERM, SIGHUP), and bench_sweep_cpu.py run from another folder without --bin
finds its checkout's jacnoise; the sweeps they time each start in a folder of its own.
bench_checkpoint leaves no file in its --dir, after a finished run or one stopped by SIGINT,
SIGTERM or SIGHUP mid-way. bench_sweep_cpu.py stopped by Ctrl-C, SIGTERM or SIGHUP mid-run says
so in one line naming itself, exit 130 or 143, and leaves neither its temporary folder nor a jacnoise
writing into it; given a --bin that cannot run, it says so in one line naming itself, exit 1, and
so does each Python one given a --bin that exits 0 without being jacnoise (true), not a traceback;
bench_sweep_cpu.py whose lock-step sweep lost or altered a checkpoint says that, not "is PROGRAM jacnoise?".

Environment (set by CTest): JACNOISE_BENCH_DIR, the folder of the benchmark programs;
JACNOISE_BIN and JACNOISE_DATA."""
import glob
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import BIN, bounded_run, check, ended, finish, option_help, wait_until

BENCH = os.environ.get("JACNOISE_BENCH_DIR", "")
SWEEP_BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "bench_sweep_cpu.py")


REFUSALS = [  # (arguments, what the line must hold)
    (["--bogus", "1"], "--bogus: unknown option"), (["--reps"], "--reps: needs a value"),
    (["--reps", "5x"], "--reps 5x: not a value"), (["--reps", "0"], "--reps 0: out of range [1, "),
    (["--reps", "5", "--reps"], "--reps: needs a value"),
    (["--reps", "99999999999999999999"], "--reps 99999999999999999999: out of range [1, "),
    # Digits only, as jacnoise writes a count: strtol's leading space and plus sign are refused.
    (["--reps", " 5"], "--reps  5: not a value"), (["--reps", "+5"], "--reps +5: not a value"),
    # What a refusal echoes is escaped: a newline in it would make the message two lines.
    (["--reps", "5\n"], "--reps 5\\n: not a value"), (["--a\nb", "1"], "--a\\nb: unknown option")]
# A list refused says what a list must be: how many numbers, in what range.
WIDTHS, GROUPS = "expected 1 to 15 whole numbers in [1, 1048576], comma-separated", \
    "expected 1 to 16 whole numbers in [1, 1048576], comma-separated"
OWN_REFUSALS = {
    "bench_cpu_step": [(["--hidden", "1000,"], f"--hidden 1000,: {WIDTHS}"),
                       (["--hidden", "8,+8"], f"--hidden 8,+8: {WIDTHS}"),
                       (["--hidden", "8, 8"], f"--hidden 8, 8: {WIDTHS}"), (["--hidden", "0"], f"--hidden 0: {WIDTHS}"),
                       (["--hidden", ",".join(["8"] * 16)], f"--hidden {','.join(['8'] * 16)}: {WIDTHS}"),
                       (["--batch", "-1"], "--batch -1: out of range [1, "),
                       (["--threads", "x"], "--threads x: not a value"),
                       (["--hidden", "1048576"], "--hidden: layer 1 has 1048576 units")],
    "bench_rng_normal": [(["--count", "0"], "--count 0: out of range [1, "),
                         (["--hidden", "8"], "--hidden: unknown option")],
    "bench_checkpoint": [(["--sizes", "784,10"],
                          "--sizes 784,10: expected 3 to 17 whole numbers in [1, 1048576], comma-separated"),
                         # A net the engine refuses, named by this option and its value, not the
                         # engine's ("--sizes: --hidden: layer 1 ...", an option it lacks).
                         (["--sizes", "784,1048576,10"], "--sizes 784,1048576,10: layer 1 has 1048576 units, out of "
                          "range [1, 1000000]"),
                         (["--sizes", "784,8,1"], "--sizes 784,8,1: 1 classes, out of range [2, "),
                         (["--dir"], "--dir: needs a value"), (["--dir", ""], "--dir '': empty folder name"),
                         (["--dir", "/no such folder"], "--dir /no such folder: No such file or directory"),
                         (["--dir", "/dev/null"], "--dir /dev/null: not a folder"),
                         (["--dir", "/no\nsuch"], "--dir /no\\nsuch: No such file or directory")],
    "bench_cuda_step": [(["--hidden", ",8"], f"--hidden ,8: {WIDTHS}"),
                        (["--hidden", "1048576"], "--hidden: layer 1 has 1048576 units")],
    "bench_cuda_sweep": [(["--small", "--models", "1,,2"], f"--models 1,,2: {GROUPS}"),
                         (["--small", "--models", "1,+2"], f"--models 1,+2: {GROUPS}"),
                         (["--small", "--models", "0"], f"--models 0: {GROUPS}"),
                         (["--hidden", "1048576"], "--hidden: layer 1 has 1048576 units"),
                         (["--inputs", "0"], "--inputs 0: out of range [1, "),
                         # The engine's widest layer, refused as the option's range, not by the engine
                         # in words without the option ("model: input dimension 1000001 ...").
                         (["--inputs", "1000001"], "--inputs 1000001: out of range [1, 1000000]"),
                         (["--small", "--batch"], "--batch: needs a value")],
}


# A number option's range in a usage line, "[--reps N in [1, 10000]]", its bounds whole numbers
# or powers of 2 ("2^30").
USAGE_RANGE = re.compile(r"\[(--[a-z-]+) \w+ in \[(\d+(?:\^\d+)?), (\d+(?:\^\d+)?)\]\]")


def bound(text):
    base, _, power = text.partition("^")
    return int(base) ** int(power or 1)


def command_lines():
    for name, own in OWN_REFUSALS.items():
        prog = os.path.join(BENCH, name)
        if name.startswith("bench_cuda") and not os.path.exists(prog):
            print(f"{name}: not built (no CUDA in this build)")
            continue
        for flag in ("--help", "-h"):
            p = subprocess.run([prog, flag], capture_output=True, text=True, timeout=60)
            check(p.returncode == 0 and p.stdout.startswith(f"usage: {name}") and not p.stderr,
                  f"{name} {flag}: exit {p.returncode}: {p.stdout[:200]!r} {p.stderr[-200:]!r}")
        ranges = [(option, bound(lo), bound(hi)) for option, lo, hi in USAGE_RANGE.findall(p.stdout.split("\n")[0])]
        check(ranges, f"{name} --help: no range in its usage line: {p.stdout[:200]!r}")
        for option, lo, hi in ranges:
            own = own + [([option, str(v)], f"{option} {v}: out of range [{lo}, {hi}]") for v in (lo - 1, hi + 1)]
        for args, words in REFUSALS + own:
            p = subprocess.run([prog] + args, capture_output=True, text=True, timeout=60)
            check(p.returncode == 2 and p.stderr.startswith(f"{name}: {words}") and p.stderr.count("\n") == 1 and
                  not p.stdout, f"{name} {' '.join(args)}: exit {p.returncode}, expected 2 and one line "
                  f"'{name}: {words}...': {p.stdout[-200:]!r} {p.stderr[-300:]!r}")


# The Python benchmarks: a bad command line in one line, 'TOOL: MESSAGE' naming the option, exit
# 2, nothing on standard output (not argparse's usage line and then the error), in the C
# benchmarks' words (REFUSALS), not argparse's ('argument --models: invalid int value: 'x'').
PYTHON_REFUSALS = {
    "bench_sweep_cpu": [(["--bogus"], "--bogus: unknown option (see bench_sweep_cpu --help)"),
                        (["--models", "x"], "--models x: not a value it takes (see bench_sweep_cpu --help)"),
                        (["--models", "1_0"], "--models 1_0: not a value it takes"),
                        (["--epochs"], "--epochs: needs a value (see bench_sweep_cpu --help)"),
                        (["--reps", "0"], "--reps 0: out of range [1, 1000]"),
                        # An option given whole, as the C benches take one: no argparse abbreviation.
                        (["--mod", "1", "--bin", "no-such-jacnoise"], "--mod: unknown option (see bench_sweep_cpu --help)"),
                        (["--bin", ""], "--bin '': empty file name"),
                        # Refused before the (missing) program would run, as the C benches refuse.
                        (["--models", "5000", "--bin", "no-such-jacnoise"], "--models 5000: out of range [1, 4096]"),
                        (["--hidden", "8,x", "--bin", "no-such-jacnoise"], "--hidden 8,x: expected 1 to 15 widths"),
                        (["--hidden", "8,\u0668", "--bin", "no-such-jacnoise"], "--hidden 8,\u0668: expected 1 to 15 widths"),
                        (["--data", "foo", "--bin", "no-such-jacnoise"], "--data foo: not a value it takes (see bench_sweep_cpu --help)"),
                        # More than the data set holds beside the validation split: jacnoise's
                        # refusal, said before it runs (usps's 6291 is taken: see below).
                        (["--train-limit", "6292", "--bin", "no-such-jacnoise"], "--train-limit 6292: only 6291 training "
                         "examples are available (the training file of usps has 7291, the validation split takes 1000)"),
                        (["--data", "mnist", "--train-limit", "59001", "--bin", "no-such-jacnoise"],
                         "--train-limit 59001: only 59000 training examples are available (the training file of mnist")],
    "bench_sweep_results": [(["--bogus"], "--bogus: unknown option"), (["--runs", "x"], "--runs x: not a value it takes"), (["--runs", "0"], "--runs 0: out of range [1, 100]"), (["--configs", "x"], "--configs x"),
                            # Digits only, as the C benches take a count (int() took these).
                            *[(["--configs", v, "--bin", "no-such-jacnoise"], f"--configs {v}: expected whole numbers")
                              for v in (" 200", "+200", "2_00", "200,+300")],
                            (["--conf", "200", "--bin", "no-such-jacnoise"], "--conf: unknown option")],
    "bench_sweep_merge": [(["--bogus"], "--bogus"), (["--configs", "x"], "--configs x"), (["--configs", "150"],
                                                                                          "--configs 150: expected multiples of 100 in [100, 50000]"),
                          (["--configs", "1000,60000", "--bin", "no-such-jacnoise"],
                           "--configs 1000,60000: expected multiples of 100 in [100, 50000]"),
                          (["--configs", "1_000", "--bin", "no-such-jacnoise"], "--configs 1_000: expected whole numbers"),
                          (["--conf", "1000", "--bin", "no-such-jacnoise"], "--conf: unknown option")],
    "bench_sweep_plan": [(["--configs", "150"], "--baseline: required (see bench_sweep_plan --help)"), (["--baseline", "x", "--bogus"], "--bogus"),
                         (["--baseline", "x", "--reps", "0"], "--reps 0: out of range [1, 1000]"),
                         (["--baseline", "x", "--rep", "1"], "--rep: unknown option"),
                         (["--baseline", "", "--bin", "x"], "--baseline '': empty file name")],
}


def python_command_lines(tmp):
    for name, refusals in PYTHON_REFUSALS.items():
        script = os.path.join(os.path.dirname(SWEEP_BENCH), f"{name}.py")
        # Each stops on the signals run_bench catches, its folders removed: its help names them
        # all (SIGHUP was left out once it stopped on it too).
        shown = option_help(script)
        check(all(words in " ".join(shown.split()) for words in ("Ctrl-C (exit 130), SIGTERM or SIGHUP (exit 143",
                                                                 "SIGHUP stays ignored under nohup")),
              f"{name}.py --help does not say it stops on Ctrl-C, SIGTERM and SIGHUP: {shown[:1500]!r}")
        for args, words in refusals:
            p = subprocess.run([sys.executable, script] + args, capture_output=True, text=True, timeout=60)
            check(p.returncode == 2 and p.stderr.startswith(f"{name}: ") and words in p.stderr and
                  p.stderr.count("\n") == 1 and not p.stdout, f"{name}.py {' '.join(args)}: exit {p.returncode}, "
                  f"expected 2 and one line naming {words}: {p.stdout[-200:]!r} {p.stderr[-300:]!r}")
    # A program that cannot run ends the bench in one line naming the bench, exit 1 (all the
    # training examples usps holds beside the validation split are no bad option).
    missing = os.path.join(tmp, "no-such-jacnoise")
    p = subprocess.run([sys.executable, SWEEP_BENCH, "--bin", missing, "--models", "1", "--hidden", "4", "--train-limit",
                        "6291", "--epochs", "1", "--reps", "1"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and p.stderr.startswith(f"bench_sweep_cpu: {missing}: cannot run it") and
          p.stderr.count("\n") == 1, f"bench_sweep_cpu.py --bin {missing}: exit {p.returncode}: {p.stderr[-300:]!r}")
    # A program that runs and exits 0 but is no jacnoise (/bin/true: no run folder, no
    # results.csv, no status) ends each in one line naming it, exit 1: not a traceback, nor a
    # row of its times under the table's header.
    bench = os.path.dirname(SWEEP_BENCH)
    for name, args in [("bench_sweep_cpu", ["--models", "1", "--hidden", "4", "--train-limit", "100", "--epochs", "1",
                                            "--reps", "1"]),
                       ("bench_sweep_results", ["--configs", "200", "--runs", "1"]),
                       ("bench_sweep_merge", ["--configs", "100"]),
                       ("bench_sweep_plan", ["--configs", "100", "--reps", "1", "--baseline", shutil.which("true")])]:
        p = subprocess.run([sys.executable, os.path.join(bench, f"{name}.py"), "--bin", shutil.which("true")] + args,
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 1 and p.stderr.startswith(f"{name}: {shutil.which('true')} ") and
              "the jacnoise program" in p.stderr and p.stderr.count("\n") == 1 and len(p.stdout.splitlines()) <= 1,
              f"{name}.py --bin true: exit {p.returncode}, expected 1 and one line: {p.stdout[-300:]!r} "
              f"{p.stderr[-300:]!r}")
    # Without --bin, build/jacnoise of the bench's own checkout, from any folder: a copy of the
    # bench and of tools/tool_files.py beside a build/jacnoise, run from another folder.
    checkout = os.path.join(tmp, "checkout")
    for part in ("bench", "tools", "build"):
        os.makedirs(os.path.join(checkout, part))
    shutil.copy(SWEEP_BENCH, os.path.join(checkout, "bench"))
    shutil.copy(os.path.join(os.path.dirname(SWEEP_BENCH), "..", "tools", "tool_files.py"),
                os.path.join(checkout, "tools"))
    os.symlink(os.path.abspath(BIN), os.path.join(checkout, "build", "jacnoise"))
    p = bounded_run([sys.executable, os.path.join(checkout, "bench", "bench_sweep_cpu.py"), "--models", "1",
                     "--hidden", "4", "--train-limit", "100", "--epochs", "1", "--reps", "1"],
                    capture_output=True, cwd=tmp)
    check(p.returncode == 0 and "byte-identical" in p.stdout,
          f"bench_sweep_cpu.py without --bin, run from another folder: exit {p.returncode}: {p.stderr[-300:]!r}")
    # The sweeps a bench times as training start in a folder of their own: a second call on a
    # finished folder trains nothing (bench_sweep_cpu.py --models 1 timed its one sweep twice
    # there, bench_sweep_results.py a size given twice its 'alone' sweep).
    log = os.path.join(tmp, "calls")
    logging = os.path.join(tmp, "logging-jacnoise")
    with open(logging, "w") as f:
        f.write(f"#!{sys.executable}\nimport os, sys\n"
                "out = next((a[6:] for a in sys.argv if a.startswith('--out=')), '')\n"
                f"open({log!r}, 'a').write(f'{{sys.argv[1]}} {{out}} {{os.path.exists(out)}}\\n')\n"
                f"os.execv({os.path.abspath(BIN)!r}, [{os.path.abspath(BIN)!r}] + sys.argv[1:])\n")
    os.chmod(logging, 0o755)
    for script, args, timed in [
            (SWEEP_BENCH, ["--models", "1", "--hidden", "4", "--train-limit", "100", "--epochs", "1", "--reps", "2"],
             "models"),
            (os.path.join(os.path.dirname(SWEEP_BENCH), "bench_sweep_results.py"), ["--configs", "200,200", "--runs",
             "1"], "alone-")]:
        if os.path.exists(log):
            os.remove(log)
        p = bounded_run([sys.executable, script, "--bin", logging] + args, capture_output=True)
        calls = [c.split() for c in open(log).read().splitlines()] if os.path.exists(log) else []
        sweeps = [c for c in calls if c[0] == "sweep" and timed in os.path.basename(c[1])]
        check(p.returncode == 0 and len(sweeps) == 2 and all(c[2] == "False" for c in sweeps),
              f"{os.path.basename(script)} {' '.join(args)}: exit {p.returncode}, its timed sweeps (folder, there "
              f"before) {sweeps}: {p.stderr[-300:]!r}")


# A timed figure and its quartiles, 'MEDIAN Q1-Q3', as the benchmarks print them.
SPREAD = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?) +(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)(?![\d.])")


# A row's last two columns: two ratios taken round by round, each 'MEDIANx (Q1-Q3)'.
_RATIO = r"(\d+(?:\.\d+)?)x \((\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\)"
TWO_RATIOS = re.compile(rf" {_RATIO} +{_RATIO}$")


# The cost model's FLOPs of a step of 64-16-16-10 at B = 10 (--small), SPEC "Cost" as
# src/profile/cost.c counts it (test_profile_cost holds it to a CPU step's GEMMs): plain, B
# rows a layer forward, in the weight gradient and, above the first layer, the input gradient
# (65,920); hidden1 adds a first-layer forward and weight gradient; the output target's
# tangent pass stacks 2B rows below the output layer, B in it; the exact norm, C rows an example.
SMALL_FLOPS = {"plain": 65920, "N+J hidden1": 106880, "N+J output K=1": 188160, "N+J output exact": 890240}


def sweep_bench_jacnoise_fails(tmp):
    """bench_sweep_cpu.py where jacnoise's lock-step sweep loses a run's last checkpoint, or
    writes other bytes (a wrapper alters what it wrote): one line naming the way and why, exit
    1. The lost one read "is PROGRAM the jacnoise program (--bin)?", as if --bin were another
    program, though it had written jacnoise's run folders."""
    for name, change in [("lost", "os.remove(ckpt)"), ("altered", "open(ckpt, 'ab').write(b'x')")]:
        wrapper = os.path.join(tmp, f"{name}-jacnoise")
        with open(wrapper, "w") as f:
            f.write(f"#!{sys.executable}\nimport glob, os, subprocess, sys\n"
                    f"rc = subprocess.call([{os.path.abspath(BIN)!r}] + sys.argv[1:])\n"
                    "out = next((a[6:] for a in sys.argv if a.startswith('--out=')), '')\n"
                    "if '--models=2' in sys.argv:\n"
                    "    for ckpt in glob.glob(os.path.join(out, 'runs', '*', 'last.ckpt'))[:1]:\n"
                    f"        {change}\n"
                    "sys.exit(rc)\n")
        os.chmod(wrapper, 0o755)
        p = bounded_run([sys.executable, SWEEP_BENCH, "--bin", wrapper, "--models", "2", "--hidden", "4",
                         "--train-limit", "100", "--epochs", "1", "--reps", "1"], capture_output=True)
        words = "its last checkpoint cannot be read (" if name == "lost" else "differs from train alone"
        check(p.returncode == 1 and p.stderr.startswith("bench_sweep_cpu: models 2: seed ") and words in p.stderr and
              "jacnoise program" not in p.stderr and p.stderr.count("\n") == 1,
              f"bench_sweep_cpu.py, a checkpoint of the lock-step sweep {name}: exit {p.returncode}, expected 1 and "
              f"one line saying '{words}': {p.stderr[-300:]!r}")


def cuda_flops(name, table):
    """A CUDA benchmark's rate is the cost model's FLOPs over the median step, as jacnoise
    profile's: not the GEMMs the step issues, which count the output layer's primal rows of
    the stacked tangent pass too (5% more at --small). Its rows, as printed at 3 digits: the
    step's rate (bench_cuda_step's TFLOP/s, bench_cuda_sweep's GFLOP/s of its M models) times
    its microseconds."""
    rows = []
    for line in table:
        if name == "bench_cuda_step":
            m = re.match(r"\d+ +\w+ +(.+?) +(\d[\d.]*) +\S+ +\S+ +\S+ +([\d.]+) ", line)
            rows.append(m and (SMALL_FLOPS[m[1]], float(m[2]), float(m[3]) * 1e12))
        else:  # N+J output K=1, M models
            m = re.match(r"\w+ +(\d+) +(\d[\d.]*) +\S+ +\S+ +\S+ +\S+ +([\d.]+) ", line)
            rows.append(m and (int(m[1]) * SMALL_FLOPS["N+J output K=1"], float(m[2]), float(m[3]) * 1e9))
    check(rows and all(r and abs(r[2] * r[1] * 1e-6 / r[0] - 1) < 0.015 for r in rows),
          f"{name}: rates not the cost model's FLOPs over the step (FLOPs, us, FLOP/s): {rows} in {table!r}")


def spreads(tmp):
    """Every timed figure of the benchmarks comes with its quartiles, q1 <= median <= q3: on a
    shared machine a median alone does not say how far to trust it (the CUDA ones where they
    are built and a device is visible; their emulator's too); bench_cuda_sweep says that the
    JAX and PyTorch figures it prints beside its own are not measured by it."""
    folder = os.path.join(tmp, "spreads")
    os.makedirs(folder)
    # name, arguments, rows (None: one per build this CPU runs), 'median q1-q3' figures and
    # shares ('N%': of the measured peak, or of the step's time) a row.
    for name, args, rows, per_row, shares_per_row in [
            ("bench_cpu_step", ["--hidden", "8", "--batch", "2", "--reps", "3"], 4, 2, 3),
            ("bench_rng_normal", ["--count", "1000", "--reps", "3"], None, 1, 0),
            ("bench_checkpoint", ["--sizes", "8,4,2", "--reps", "3", "--dir", folder], 4, 1, 0),
            ("bench_cuda_step", ["--small"], 8, 2, 1), ("bench_cuda_sweep", ["--small"], 4, 2, 1)]:
        prog = os.path.join(BENCH, name)
        if name.startswith("bench_cuda") and not os.path.exists(prog):
            continue
        p = bounded_run([prog] + args, capture_output=True)
        if name.startswith("bench_cuda") and p.returncode == 1 and "no CUDA device visible" in p.stderr:
            print(f"{name}: not run (no CUDA device visible)")
            continue
        if name == "bench_cuda_sweep":
            refs = [line for line in p.stdout.splitlines() if "JAX" in line or "not measured" in line]
            check(refs[:1] and refs[0].startswith("not measured by this benchmark:"),
                  f"{name}: the JAX and PyTorch figures are not said to be unmeasured: {refs!r}")
            # Its timings' table: up to the device memory's.
            p.stdout = p.stdout.split("\ndevice memory")[0]
        lines = p.stdout.splitlines()
        header = next((i for i, line in enumerate(lines) if "q1-q3" in line), len(lines))
        found = [[tuple(map(float, f)) for f in SPREAD.findall(line)] for line in lines[header + 1:]]
        found = [f for f in found if f]
        if rows is None:  # one row per build this CPU runs
            rows = sum(1 for line in lines if line.split()[:1] in (["generic"], ["avx2"], ["avx512"]) and
                       "not run" not in line)
        check(p.returncode == 0 and len(found) == rows and all(len(f) == per_row for f in found) and
              all(q1 <= m <= q3 for f in found for m, q1, q3 in f),
              f"{name}: exit {p.returncode}, {rows} rows of {per_row} 'median q1-q3' expected: {p.stdout[-800:]!r} "
              f"{p.stderr[-300:]!r}")
        # A tiny run's figures are small, never nothing: each figure of a row, a size, a time, a
        # rate or a ratio, is a positive number (not '0.00' at too few decimals, nor nan or inf).
        table = [line for line in lines[header + 1:] if SPREAD.search(line)]
        # Against a peak that is the fastest rate measured, no share passes 100%; each row has
        # its shares (none found passed as none above 100%).
        shares = [[float(x) for x in re.findall(r"([0-9.]+)%", line)] for line in table]
        check(table and all(len(s) == shares_per_row for s in shares) and all(x <= 100 for s in shares for x in s),
              f"{name}: {shares_per_row} shares of at most 100% a row expected: {shares}")
        figures = [x for line in table for x in re.findall(r"(?<![\w.-])[-+]?(?:\d[\d.]*|nan|inf)", line, re.I)]
        check(figures and all(float(x) > 0 for x in figures),
              f"{name}: a figure that is not a positive number: {[x for x in figures if not float(x) > 0]} in "
              f"{table!r}")
        # What it times is checked first, and the output says how.
        check(any(line.startswith("validated: ") for line in lines),
              f"{name}: no 'validated: ' line saying how what it times was checked: {p.stdout[-800:]!r}")
        # Its ratios of two timings, each taken round by round, as the median of the rounds'
        # ratios and their quartiles: the step over its floor, and over the plain step's (the
        # first group's per model-step), the last two columns; the reference's own rows 1x.
        if name.startswith("bench_cuda"):
            cuda_flops(name, table)
        if name in ("bench_cpu_step", "bench_cuda_step", "bench_cuda_sweep"):
            # The reference rows: plain's, or --small's first M (1).
            against, reference = ("vs M=first", lambda row: row[1] == "1") if name == "bench_cuda_sweep" else \
                ("vs plain", lambda row: "plain" in row[:3])
            columns = re.findall(r"vs [\w=]+ \(q1-q3\)", lines[header] if header < len(lines) else "")
            pairs = [TWO_RATIOS.search(line) for line in table]
            ratios = [[tuple(map(float, m.groups()[k:k + 3])) for k in (0, 3)] if m else [] for m in pairs]
            refs = [r[1] for r, line in zip(ratios, table) if r and reference(line.split())]
            check(columns == ["vs floor (q1-q3)", f"{against} (q1-q3)"] and all(ratios) and
                  all(q1 <= m <= q3 for r in ratios for m, q1, q3 in r) and refs and
                  all(r == (1, 1, 1) for r in refs),
                  f"{name}: rows without their 'vs floor' and '{against}' ratios, 'MEDIANx (Q1-Q3)', in the last "
                  f"columns (the reference's 1.00x): {lines[header:header + 1] + table!r}")


def stdout_lost(tmp):
    """A table that never reached standard output (here a descriptor open only for reading; a
    full disk alike) is no finished run: one line naming the program and why, exit 1 (the CUDA
    ones where they are built and a device is visible)."""
    folder = os.path.join(tmp, "lost")
    os.makedirs(folder)
    readonly = os.path.join(tmp, "readonly")
    open(readonly, "w").close()
    for name, args in [("bench_cpu_step", ["--hidden", "8", "--batch", "2", "--reps", "1"]),
                       ("bench_rng_normal", ["--count", "10", "--reps", "1"]),
                       ("bench_checkpoint", ["--sizes", "8,4,2", "--reps", "1", "--dir", folder]),
                       ("bench_cuda_step", ["--small"]), ("bench_cuda_sweep", ["--small"])]:
        prog = os.path.join(BENCH, name)
        if name.startswith("bench_cuda") and not os.path.exists(prog):
            continue
        with open(readonly) as out:
            p = bounded_run([prog] + args, stdout=out, stderr=subprocess.PIPE)
        if name.startswith("bench_cuda") and "no CUDA device visible" in p.stderr:
            continue
        check(p.returncode == 1 and p.stderr.startswith(f"{name}: writing the standard output failed: ") and
              p.stderr.count("\n") == 1, f"{name} with an unwritable standard output: exit {p.returncode}, "
              f"expected 1 and one line: {p.stderr[-300:]!r}")


def counts_in_words():
    """A count of one is said in the singular: bench_cpu_step --reps 1 --threads 1 printed
    "1 reps interleaved" and "1 threads", bench_rng_normal --reps 1 "1 reps interleaved"."""
    for name, args, words in [("bench_cpu_step", ["--hidden", "8", "--batch", "2", "--reps", "1", "--threads", "1"],
                               [", 1 rep interleaved after ", "), 1 thread; measured peak "]),
                              ("bench_rng_normal", ["--count", "10", "--reps", "1"], [", 1 rep interleaved ("])]:
        p = bounded_run([os.path.join(BENCH, name)] + args, capture_output=True)
        missing = [w for w in words if w not in p.stdout]
        check(p.returncode == 0 and not missing, f"{name} {' '.join(args)}: exit {p.returncode}, without {missing}: "
              f"{p.stdout[:400]!r} {p.stderr[-300:]!r}")


def blas_core_warning():
    """jn_blas_core_init's warning (here OpenBLAS ignoring the core asked: the marker of a
    re-executed process, as test_blas_cores sets it) begins with the benchmark's name, as its
    other messages do, not with jacnoise's; one line, and the run goes on. Where the BLAS is
    OpenBLAS (the machine line names it), which alone warns."""
    env = dict(os.environ, OPENBLAS_CORETYPE="Prescott", JACNOISE_BLAS_CORE_REQUESTED="Haswell Prescott")
    p = subprocess.run([os.path.join(BENCH, "bench_cpu_step"), "--hidden", "8", "--batch", "2", "--reps", "1"],
                       capture_output=True, text=True, timeout=120, env=env)
    if "OpenBLAS" not in p.stdout:
        return
    lines = p.stderr.splitlines()
    check(p.returncode == 0 and len(lines) == 1 and
          lines[0].startswith("bench_cpu_step: warning: OpenBLAS runs its Prescott kernels"),
          f"bench_cpu_step with OpenBLAS ignoring its core: exit {p.returncode}, expected 0 and one warning line "
          f"naming it: {p.stderr[-400:]!r}")


def cpu_step_out_of_memory():
    """A step too large for the memory the process may have: one line naming the program and
    what ran out, exit 1 (a 5 GB workspace under a 4 GiB address space)."""
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    p = subprocess.run([os.path.join(BENCH, "bench_cpu_step"), "--batch", "65536", "--hidden", "20000", "--reps", "1"],
                       capture_output=True, text=True, timeout=300, preexec_fn=limit)
    check(p.returncode == 1 and p.stderr.startswith("bench_cpu_step: out of memory for the profile") and
          p.stderr.count("\n") == 1, f"bench_cpu_step out of memory: exit {p.returncode}: {p.stderr[-300:]!r}")


def checkpoint_sizes(tmp):
    """best.ckpt holds one set of values where last.ckpt holds three: in either build (4- or
    8-byte values) the MB it reports for best.ckpt are last.ckpt's less two sets."""
    folder = os.path.join(tmp, "sizes")
    os.makedirs(folder)
    for name, value_bytes in (("bench_checkpoint", 4), ("bench_checkpoint_f64", 8)):
        p = subprocess.run([os.path.join(BENCH, name), "--sizes", "784,100,10", "--reps", "1", "--dir", folder],
                           capture_output=True, text=True, timeout=120)
        params = re.search(r"\((\d+) parameters\)", p.stdout)
        mb = {w: re.search(rf"write {w}\.ckpt .*? ([0-9.]+) +[0-9.]+ +[0-9.]+-", p.stdout) for w in ("last", "best")}
        check(p.returncode == 0 and params and all(mb.values()) and
              abs(float(mb["last"][1]) - float(mb["best"][1]) - 2 * value_bytes * int(params[1]) / 1e6) < 0.011,
              f"{name}: exit {p.returncode}, best.ckpt's MB not last.ckpt's less two sets of {value_bytes}-byte "
              f"values: {p.stdout[-600:]!r} {p.stderr[-300:]!r}")


def own_ratios(tmp):
    """bench_rng_normal's speed-up over the generic build and bench_checkpoint's write over its
    floors are ratios of two timings of the same repetition, taken round by round as the step
    benches' are ('MEDIANx (Q1-Q3)', q1 <= median <= q3; the generic build's own 1x), not a ratio
    of two medians of rounds under other loads."""
    folder = os.path.join(tmp, "own ratios")
    os.makedirs(folder)
    p = subprocess.run([os.path.join(BENCH, "bench_rng_normal"), "--count", "1000", "--reps", "5"],
                       capture_output=True, text=True, timeout=60)
    rows = [line for line in p.stdout.splitlines() if line.split()[:1] in (["generic"], ["avx2"], ["avx512"]) and
            "not run" not in line]
    found = [re.search(rf" {_RATIO} +(same|DIFFER)$", line) for line in rows]
    ratios = [tuple(map(float, m.groups()[:3])) for m in found if m]
    check(p.returncode == 0 and "speed-up (q1-q3)" in p.stdout and rows and len(ratios) == len(rows) and
          ratios[0] == (1, 1, 1) and all(q1 <= m <= q3 for m, q1, q3 in ratios),
          f"bench_rng_normal: speed-ups not 'MEDIANx (Q1-Q3)' round by round (generic 1x): exit {p.returncode}, "
          f"{p.stdout[-600:]!r} {p.stderr[-300:]!r}")
    p = subprocess.run([os.path.join(BENCH, "bench_checkpoint"), "--sizes", "8,4,2", "--reps", "3", "--dir", folder],
                       capture_output=True, text=True, timeout=60)
    m = re.search(rf"^write last\.ckpt / \(CRC \+ atomic write of its bytes\), round by round: {_RATIO}$", p.stdout,
                  re.M)
    check(p.returncode == 0 and m and float(m[2]) <= float(m[1]) <= float(m[3]),
          f"bench_checkpoint: its write over its floors not 'MEDIANx (Q1-Q3)' round by round: exit {p.returncode}, "
          f"{p.stdout[-600:]!r} {p.stderr[-300:]!r}")


def sweep_ratios():
    """bench_sweep_cpu.py's ratio of each way to train, and bench_sweep_plan.py's of the baseline
    to PROGRAM, alternated round by round, are the rounds' own ratios ('MEDIANx (Q1-Q3)', train's
    1x), not a ratio of two medians. Its heading says a count of one in the singular (--models 1
    --epochs 1 printed "1 configurations", "1 epochs" and "1 model-steps")."""
    bench = os.path.dirname(SWEEP_BENCH)
    p = subprocess.run([sys.executable, SWEEP_BENCH, "--bin", BIN, "--models", "1", "--hidden", "4", "--train-limit",
                        "100", "--epochs", "1", "--reps", "2"], capture_output=True, text=True, timeout=300)
    rows = {line.split("  ")[0].strip(): re.search(rf" {_RATIO}$", line) for line in p.stdout.splitlines()
            if line.startswith(("train ", "models "))}
    ratios = {k: tuple(map(float, m.groups())) for k, m in rows.items() if m}
    check(p.returncode == 0 and "vs train (q1-q3)" in p.stdout and len(rows) == 2 and len(ratios) == 2 and
          ratios.get("train") == (1, 1, 1) and all(q1 <= m <= q3 for m, q1, q3 in ratios.values()),
          f"bench_sweep_cpu.py: ratios to train not 'MEDIANx (Q1-Q3)' round by round: exit {p.returncode}, "
          f"{p.stdout[-600:]!r} {p.stderr[-300:]!r}")
    singular = ("1 configuration of usps, ", ", 1 epoch, ", ": 1 model-step;")
    check(all(w in p.stdout.split("\n")[0] for w in singular),
          f"bench_sweep_cpu.py --models 1 --epochs 1: without {singular} in the singular: {p.stdout[:300]!r}")
    p = subprocess.run([sys.executable, os.path.join(bench, "bench_sweep_plan.py"), "--bin", BIN, "--baseline", BIN,
                        "--configs", "100", "--reps", "3"], capture_output=True, text=True, timeout=300)
    m = re.search(rf"^ +100 .* {_RATIO}$", p.stdout, re.M)
    check(p.returncode == 0 and "ratio (q1-q3)" in p.stdout and m and float(m[2]) <= float(m[1]) <= float(m[3]),
          f"bench_sweep_plan.py: its ratio not 'MEDIANx (Q1-Q3)' round by round: exit {p.returncode}, "
          f"{p.stdout[-600:]!r} {p.stderr[-300:]!r}")


def checkpoint_long_dir(tmp):
    """A --dir whose files' paths would pass PATH_MAX (4096) is refused before anything is
    timed, in one line that names the program, as its other refusals do."""
    folder = os.path.join(tmp, "long")
    while len(folder) < 4080:
        folder = os.path.join(folder, "d" * min(200, 4080 - len(folder) - 1))
    os.makedirs(folder)
    p = subprocess.run([os.path.join(BENCH, "bench_checkpoint"), "--sizes", "8,4,2", "--reps", "1", "--dir", folder],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and p.stderr.startswith(f"bench_checkpoint: --dir {folder}: path too long") and
          p.stderr.count("\n") == 1 and not p.stdout,
          f"bench_checkpoint --dir of {len(folder)} characters: exit {p.returncode}: {p.stderr[:80]!r}...")


def checkpoint_cleanup(tmp):
    prog = os.path.join(BENCH, "bench_checkpoint")
    folder = os.path.join(tmp, "disk measured")
    os.makedirs(folder)
    p = subprocess.run([prog, "--sizes", "8,4,2", "--reps", "2", "--dir", folder], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0 and "write last.ckpt" in p.stdout and not os.listdir(folder),
          f"bench_checkpoint: exit {p.returncode}, left {os.listdir(folder)}: {p.stderr[-300:]!r}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # Rounds enough to outlast the wait; stopped once its first file is there.
        p = subprocess.Popen([prog, "--sizes", "784,1000,10", "--reps", "10000", "--dir", folder],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: os.path.exists(os.path.join(folder, "bench-last.ckpt")), p)
        p.send_signal(sig)
        err = ended(p, f"bench_checkpoint sent {sig.name}", 60)[1]
        left = os.listdir(folder)
        check(p.returncode == -sig and not left, f"bench_checkpoint stopped by {sig.name}: exit {p.returncode}, "
              f"left {left}: {err[-300:]!r}")
        for name in left:
            os.remove(os.path.join(folder, name))


def sweep_bench_stopped(tmp):
    for sig, code, word in ((signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
                            (signal.SIGHUP, 143, "terminated (its terminal hung up)")):
        scratch = os.path.join(tmp, f"sweep-{sig.name}")
        os.makedirs(scratch)
        # Epochs enough to outlast the wait; stopped once the first run has its folder.
        p = subprocess.Popen([sys.executable, SWEEP_BENCH, "--bin", BIN, "--models", "2", "--hidden", "20",
                              "--train-limit", "2000", "--epochs", "500", "--reps", "1"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ, TMPDIR=scratch))
        wait_until(lambda: glob.glob(os.path.join(scratch, "*", "train-0", "1")), p)
        p.send_signal(sig)
        err = ended(p, f"bench_sweep_cpu.py sent {sig.name}", 60)[1]
        time.sleep(1)  # a jacnoise left running would write on
        left = glob.glob(os.path.join(scratch, "**"), recursive=True)[1:]
        check(p.returncode == code and err == f"bench_sweep_cpu: {word}\n" and not left,
              f"bench_sweep_cpu.py stopped by {sig.name}: exit {p.returncode}, expected {code}: {err[-300:]!r}, "
              f"left {left[:3]}")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-bench-")
    command_lines()
    python_command_lines(tmp)
    sweep_bench_jacnoise_fails(tmp)
    spreads(tmp)
    stdout_lost(tmp)
    counts_in_words()
    blas_core_warning()
    cpu_step_out_of_memory()
    checkpoint_sizes(tmp)
    own_ratios(tmp)
    sweep_ratios()
    checkpoint_long_dir(tmp)
    checkpoint_cleanup(tmp)
    sweep_bench_stopped(tmp)
    return finish("benchmark", tmp)


if __name__ == "__main__":
    sys.exit(main())
