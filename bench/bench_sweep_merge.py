#!/usr/bin/env python3
"""What `jacnoise sweep merge` and `sweep status` cost a sweep of many configurations.

For each size N (--configs), a shard's folder of N finished runs is made in a temporary folder
without training them: one tiny configuration (USPS 256-4-10, 60 examples, 1 epoch) is trained
for real and its run folder's files are hard-linked into the N run folders. Timed, in the same
run, with each command's peak resident memory and read system calls per run folder (on Linux:
counted in /proc/self/io, which does not vary with the machine's speed):
  merge    `jacnoise sweep merge DIR SHARD`: DIR new, all N run folders copied into it
  again    the same merge again: nothing further along to copy (N folders read on each side)
  status   `jacnoise sweep status DIR`
Each checks that DIR's results.csv ends with N finished rows. Its folders are removed at the
end, also on Ctrl-C (exit 130), SIGTERM or SIGHUP (exit 143; SIGHUP stays ignored under nohup).

usage: bench/bench_sweep_merge.py [--bin PROGRAM] [--configs 1000,10000,50000]
       (JACNOISE_DATA: the data folder; PROGRAM: jacnoise, by default build/jacnoise of this checkout)"""
import os
import shutil
import subprocess
import tempfile
import time

from bench_sweep_cpu import fail, run_bench, timed, tool_files, written_by
from bench_sweep_results import LRS, config_sizes, ids_by_status, reads, sizes_parser, spec


KINDS = ("merge", "again", "status")


def measured(cmd, log):
    """Seconds, peak resident MiB and read system calls (None where not counted) of cmd; a
    failure ends the bench with one line."""
    before, start = reads(), time.monotonic()
    with open(log, "w+") as err:
        try:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        except OSError as e:
            fail(f"{cmd[0]}: cannot run it ({e.strerror}); build jacnoise or give --bin")
        try:
            _, status, usage = os.wait4(p.pid, 0)
        except BaseException:
            p.terminate()
            p.wait()
            raise
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            fail(f"{' '.join(cmd[:3])} failed, {tool_files.how_it_failed(p.returncode, err.read())}")
    seconds, after = time.monotonic() - start, reads()
    return seconds, usage.ru_maxrss / 1024, None if before is None or after is None else after - before


def template(a, tmp):
    """The files of one finished run folder (a tiny configuration trained for real)."""
    study = os.path.join(tmp, "template.spec")
    spec(study, 1, 1)
    folder = os.path.join(tmp, "template")
    timed([a.bin, "sweep", f"--spec={study}", f"--out={folder}", "--progress=never"])
    with written_by(a.bin):
        (run,) = os.listdir(os.path.join(folder, "runs"))
        run = os.path.join(folder, "runs", run)
        return [os.path.join(run, f) for f in sorted(os.listdir(run)) if f != "lock"]


def one_size(a, tmp, files, n):
    shard, folder = os.path.join(tmp, f"shard-{n}"), os.path.join(tmp, f"merged-{n}")
    os.makedirs(shard)
    spec(os.path.join(shard, "sweep.spec"), LRS, n // LRS)
    # A merge of nothing writes the shard's results.csv: its N ids, all pending.
    timed([a.bin, "sweep", "merge", shard])
    ids = list(ids_by_status(a.bin, shard))
    for i in ids:
        os.makedirs(os.path.join(shard, "runs", i))
        for f in files:
            os.link(f, os.path.join(shard, "runs", i, os.path.basename(f)))
    log = os.path.join(tmp, "stderr")
    t = {"merge": measured([a.bin, "sweep", "merge", folder, shard], log),
         "again": measured([a.bin, "sweep", "merge", folder, shard], log),
         "status": measured([a.bin, "sweep", "status", folder], log)}
    status = ids_by_status(a.bin, folder)
    if len(status) != n or any(s != "finished" for s in status.values()):
        fail(f"{n} configurations: the merge left {len(status)} rows, "
             f"{sum(s == 'finished' for s in status.values())} finished")
    shutil.rmtree(shard)
    shutil.rmtree(folder)
    return t


def main():
    ap = sizes_parser(__doc__, "1000,10000,50000")
    a = ap.parse_args()
    sizes = config_sizes(ap, a.configs, LRS)
    tmp = tempfile.mkdtemp(prefix="jacnoise-bench-merge-")
    try:
        files = template(a, tmp)
        print(f"{'configs':>8}" + "".join(f" {k + ' s':>9} {'MiB':>6} {'reads/run':>9}" for k in KINDS))
        for n in sizes:
            t = one_size(a, tmp, files, n)
            print(f"{n:8d}" + "".join(f" {t[k][0]:9.2f} {t[k][1]:6.1f} " + ("        -" if t[k][2] is None else
                                      f"{t[k][2] / n:9.1f}") for k in KINDS), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run_bench(main)
