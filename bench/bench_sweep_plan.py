#!/usr/bin/env python3
"""What planning a sweep of many configurations costs, against another build.

For each size N (--configs), a sweep folder holding only its sweep.spec (N tiny configurations:
a grid of learning rates times seeds, none started) is made in a temporary folder, and
`jacnoise sweep status DIR` (the spec expanded into its N configurations, their ids and groups,
then N absent run folders looked at) is timed for PROGRAM and for the --baseline program (a
build of an earlier commit, say), alternating, --reps times each. It prints each one's median
CPU seconds (user + system, which other work on a shared machine moves less than the wall
time), its quartiles, the wall time's median, and the ratio baseline / PROGRAM of the CPU
seconds, taken round by round (median and quartiles of those ratios); and checks that both
print the same status. Its folders are removed at the end, also
on Ctrl-C (exit 130), SIGTERM or SIGHUP (exit 143; SIGHUP stays ignored under nohup).

usage: bench/bench_sweep_plan.py [--bin PROGRAM] --baseline PROGRAM [--configs 50000] [--reps 5]
       (PROGRAM: jacnoise, by default build/jacnoise of this checkout)"""
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from bench_sweep_cpu import fail, quartiles, ratio, run_bench, tool_files
from bench_sweep_results import LRS, config_sizes, sizes_parser, spec


def status(program, folder):
    """CPU seconds (counted for the waited-for child), wall seconds and standard output of
    `PROGRAM sweep status folder`; a failure ends the bench with one line."""
    before, start = os.times(), time.monotonic()
    try:
        p = subprocess.Popen([program, "sweep", "status", folder], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        fail(f"{program}: cannot run it ({e.strerror}); build jacnoise or give --bin, --baseline")
    try:
        out, err = p.communicate()
    except BaseException:
        p.terminate()
        p.wait()
        raise
    wall, after = time.monotonic() - start, os.times()
    if p.returncode != 0:
        fail(f"{program} sweep status failed, {tool_files.how_it_failed(p.returncode, err.decode(errors='replace'))}")
    if not out:  # each status prints its table: a --bin exiting 0 without a word timed another program
        fail(f"{program} sweep status exited 0 without printing a status: is {program} the jacnoise program "
             "(--bin, --baseline)?")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return cpu, wall, out


def spread(values):
    median, q1, q3 = quartiles(values)
    return f"{median:7.3f} {q1:.3f}-{q3:.3f}"


def one_size(a, tmp, n):
    """The line of size n: each program's CPU seconds (median, quartiles), wall seconds (median)
    and baseline / PROGRAM of the CPU seconds, round by round."""
    folder = os.path.join(tmp, f"plan-{n}")
    os.makedirs(folder)
    spec(os.path.join(folder, "sweep.spec"), LRS, n // LRS)
    cpu, wall, outputs = {"baseline": [], "bin": []}, {"baseline": [], "bin": []}, set()
    for _ in range(a.reps):  # alternating, so that a change in the machine's load falls on both
        for kind, program in (("baseline", a.baseline), ("bin", a.bin)):
            seconds, elapsed, out = status(program, folder)
            cpu[kind].append(seconds)
            wall[kind].append(elapsed)
            outputs.add(out)
    if len(outputs) != 1:
        fail(f"{n} configurations: the two programs' status differ")
    shutil.rmtree(folder)
    return (f"{n:8d} " + " ".join(f"{spread(cpu[k]):>24} {statistics.median(wall[k]):6.2f}" for k in cpu) +
            f" {ratio(cpu['baseline'], cpu['bin']):>24}")


def main():
    ap = sizes_parser(__doc__, "50000")
    ap.add_argument("--baseline", required=True, metavar="PROGRAM", type=tool_files.name_of("file"),
                    help="the jacnoise program timed against --bin, a build of an earlier commit say (required)")
    ap.whole("--reps", 5, 1, 1000, "rounds of each program (the median is reported)")
    a = ap.parse_args()
    sizes = config_sizes(ap, a.configs, LRS)
    with tempfile.TemporaryDirectory(prefix="jacnoise-bench-plan-") as tmp:
        print(f"{'configs':>8} {'baseline CPU s (q1-q3)':>24} {'wall':>6} {'PROGRAM CPU s (q1-q3)':>24} {'wall':>6} "
              f"{'ratio (q1-q3)':>24}", flush=True)
        for n in sizes:
            print(one_size(a, tmp, n), flush=True)


if __name__ == "__main__":
    run_bench(main)
