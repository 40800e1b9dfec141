#!/usr/bin/env python3
"""What keeping DIR/results.csv current costs a sweep of many configurations.

For each size N (--configs), a sweep folder of N tiny configurations (USPS 256-4-10, 60
examples, 1 epoch: their training costs next to nothing) is made in a temporary folder: a
first shard trains a few of them for real, and the run folders of all but --runs of the rest
are then filled with a copy of one of those (synthetic finished runs). Timed, in the same run:
  merge      `jacnoise sweep merge DIR`: results.csv regenerated once from the N run folders
  sweep      `jacnoise sweep --models 1`: trains the --runs configurations left among the N
             finished, one at a time (each ends on its own, as runs of different lengths do)
  rerun      the same sweep again, nothing left to train: what it costs to start and end at N
  alone      a sweep of only --runs configurations alike, in a folder of its own
It prints the seconds of each and what each ended run cost the sweep beyond training it,
(sweep - rerun - alone) / runs, in seconds and in read system calls (on Linux: /proc/self/io
counts those of the children this process has waited for; they do not vary with the machine's
speed). Its folders are removed at the end, also on Ctrl-C (exit 130),
SIGTERM or SIGHUP (exit 143; SIGHUP stays ignored under nohup).

usage: bench/bench_sweep_results.py [--bin PROGRAM] [--configs 10000,50000] [--runs 20]
       (JACNOISE_DATA: the data folder; PROGRAM: jacnoise, by default build/jacnoise of this checkout)"""
import csv
import os
import shutil
import tempfile

from bench_sweep_cpu import BenchParser, fail, run_bench, timed, tool_files, written_by

TINY = "data = usps\nhidden = 4\ntrain-limit = 60\nvalid = 20\nbatch = 20\nepochs = 1\n"
LRS = 100  # grid points of lr; the seeds make up the rest of N
MAX_CONFIGS = 50000  # the most configurations jacnoise takes in one sweep


def sizes_parser(doc, default):
    """The command line of a bench over sizes N: --bin, and --configs (default)."""
    ap = BenchParser(doc)
    ap.add_argument("--configs", default=default, metavar="N1,N2,...",
                    help=f"sizes N, comma-separated, multiples of {LRS} (default: {default})")
    return ap


def config_sizes(ap, text, least):
    """The sizes N of --configs (text): multiples of LRS in [least, MAX_CONFIGS], each in digits
    as the C benchmarks take a count (whole_number: int() took ' 300', '+300', '3_00'); else
    ap's error, before anything is made (a size jacnoise refuses would end the bench after the
    sizes before)."""
    try:
        sizes = [tool_files.whole_number(v) for v in text.split(",")]
    except ValueError:
        ap.error(f"--configs {text}: expected whole numbers, comma-separated")
    if any(not least <= n <= MAX_CONFIGS or n % LRS for n in sizes):
        ap.error(f"--configs {text}: expected multiples of {LRS} in [{least}, {MAX_CONFIGS}]")
    return sizes


def reads():
    """Read system calls of this process and of its children it has waited for; None where
    /proc/self/io is not there."""
    try:
        with open("/proc/self/io") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("syscr:"))
    except (OSError, StopIteration, ValueError):
        return None


def measured(cmd):
    """Seconds and read system calls (None where not counted) that cmd took."""
    before = reads()
    seconds = timed(cmd)
    after = reads()
    return seconds, None if before is None or after is None else after - before


def spec(path, lrs, seeds):
    with open(path, "w") as f:
        f.write(TINY + "lr = [" + ", ".join(f"{0.001 * (i + 1):.3f}" for i in range(lrs)) + f"]\nseeds = {seeds}\n")


def ids_by_status(program, folder):
    """{id: status} of folder's results.csv, which program wrote."""
    with written_by(program), open(os.path.join(folder, "results.csv")) as f:
        return {r["id"]: r["status"] for r in csv.DictReader(f)}


def one_size(a, tmp, n):
    folder = os.path.join(tmp, f"sweep-{n}")
    study = os.path.join(tmp, f"study-{n}.spec")
    spec(study, LRS, n // LRS)
    # A shard of about --runs configurations trains for real; its run folders are the template.
    shards = max(2, n // a.runs)
    timed([a.bin, "sweep", f"--spec={study}", f"--out={folder}", f"--shard=0/{shards}", "--progress=never"])
    status = ids_by_status(a.bin, folder)
    done = [i for i, s in status.items() if s == "finished"]
    pending = [i for i, s in status.items() if s == "pending"]
    if len(status) != n or not done or len(pending) < a.runs:
        fail(f"{n} configurations: the first shard left {len(status)} rows, {len(done)} finished")
    template = os.path.join(folder, "runs", done[0])
    files = [f for f in ("config.txt", "metrics.jsonl", "summary.json") if os.path.exists(os.path.join(template, f))]
    for i in pending[a.runs:]:
        os.makedirs(os.path.join(folder, "runs", i))
        for f in files:
            shutil.copyfile(os.path.join(template, f), os.path.join(folder, "runs", i, f))
    # One model at a time: each run ends on its own, as runs of different lengths do.
    sweep = [a.bin, "sweep", f"--spec={study}", f"--out={folder}", "--models=1", "--progress=never"]
    t = {"merge": measured([a.bin, "sweep", "merge", folder]), "sweep": measured(sweep), "rerun": measured(sweep)}
    left = [i for i, s in ids_by_status(a.bin, folder).items() if s != "finished"]
    if left:
        fail(f"{n} configurations: {len(left)} not finished after the sweep, e.g. {left[0]}")
    alone = os.path.join(tmp, f"alone-{n}.spec")
    spec(alone, a.runs, 1)
    alone_folder = os.path.join(tmp, f"alone-{n}")
    t["alone"] = measured([a.bin, "sweep", f"--spec={alone}", f"--out={alone_folder}", "--models=1",
                           "--progress=never"])
    # Removed, as the sweep's: a size given twice would otherwise time a rerun of a finished sweep.
    shutil.rmtree(folder)
    shutil.rmtree(alone_folder)
    return t


def main():
    ap = sizes_parser(__doc__, "10000,50000")
    ap.whole("--runs", 20, 1, LRS, "configurations trained among the N finished")
    a = ap.parse_args()
    sizes = config_sizes(ap, a.configs, 2 * LRS)
    tmp = tempfile.mkdtemp(prefix="jacnoise-bench-results-")
    try:
        print(f"{'configs':>8} {'merge s':>8} {'sweep s':>8} {'rerun s':>8} {'alone s':>8}  per ended run "
              f"({a.runs} trained)")
        for n in sizes:
            t = one_size(a, tmp, n)
            extra = (t["sweep"][0] - t["rerun"][0] - t["alone"][0]) / a.runs
            counted = [t[k][1] for k in ("sweep", "rerun", "alone")]
            calls = "-" if None in counted else f"{(counted[0] - counted[1] - counted[2]) / a.runs:+.0f}"
            print(f"{n:8d} {t['merge'][0]:8.2f} {t['sweep'][0]:8.2f} {t['rerun'][0]:8.2f} {t['alone'][0]:8.2f}  "
                  f"{extra:+.3f} s, {calls} reads (whole sweep of {n}: {n * extra / 3600:+.1f} h)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_bench(main)
