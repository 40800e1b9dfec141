"""What a sweep folder's reader reports of runs that the other sweep tests leave unchecked: a run
paused by `train --config DIR/runs/ID/config.txt --max-steps N` counted interrupted by `sweep
status`, not running; such a run failing as the sweep resumes it (the data changed since) counted
failed by `sweep status` (its summary.json says so), not still interrupted; a sweep's lines for
the runs a SIGINT stopped not counting them done ([0/2]); status of a run a SIGKILL stopped (no
summary.json) showing its best epoch's validation error from metrics.jsonl, not another epoch's,
and results.csv saying its runs running, as status does, not pending as it did until one ended;
a shard of a shared folder naming only its own failed configurations, exit 0 where it has none
(another shard's failure is that shard's); and results.csv's `seconds`, the run's epochs' wall time summed (one
resumed by the sweep too, its first process's epochs included), not the wall time of the process
that ended it, as its summary.json has it; and each state a run folder can be in (running,
killed, diverged, diverged then resumed and killed, finished, best-only, damaged) named alike by
`show`, `sweep status` and tools/export_model.py.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import csv
import fcntl
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from harness import BIN, check, ended, finish, run, wait_until
from test_sweep import TINY_SPEC, until_an_epoch_in_progress, until_training

# Epochs of 80 steps, so that a run paused after 80 has one epoch done.
SPEC = """data = usps
hidden = 100
train-limit = 4000
valid = 200
batch = 50
epochs = 2
lr = [0.1, 0.2]
"""


def epoch_seconds(run_folder):
    """Each epoch's wall time, as metrics.jsonl has it."""
    with open(os.path.join(run_folder, "metrics.jsonl")) as f:
        return [json.loads(line)["seconds"] for line in f]


def table(folder):
    """results.csv's rows, as dictionaries."""
    with open(os.path.join(folder, "results.csv")) as f:
        return list(csv.DictReader(f))


def pause_first(done, folder):
    """A sweep folder of done's spec holding its first configuration's run paused after an epoch:
    that run's id."""
    first = table(done)[0]["id"]
    os.makedirs(folder)
    shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(folder, "sweep.spec"))
    run(["train", "--config", os.path.join(done, "runs", first, "config.txt"), "--max-steps", "80", "--progress",
         "never", "--out", os.path.join(folder, "runs", first)])
    return first


def paused_then_resumed(tmp):
    spec, done, paused = (os.path.join(tmp, n) for n in ("rows.spec", "done", "paused"))
    open(spec, "w").write(SPEC)
    run(["sweep", "--spec", spec, "--out", done, "--progress", "never"])
    first = pause_first(done, paused)
    shown = run(["sweep", "status", paused]).stdout
    check("2 configurations: 0 done, 0 diverged, 0 failed, 0 running, 1 interrupted, 1 pending\n" in shown,
          f"status of a sweep folder with a run paused by --max-steps: {shown[:300]!r}")
    run(["sweep", "--spec", spec, "--out", paused, "--progress", "never"])
    check(len(epoch_seconds(os.path.join(paused, "runs", first))) == 2,
          "the paused run's metrics.jsonl should have 2 epochs")
    for folder in (done, paused):
        for row in table(folder):
            run_folder = os.path.join(folder, "runs", row["id"])
            summed = "%.1f" % sum(epoch_seconds(run_folder))
            check(row["seconds"] == summed, f"{folder}: run {row['id']}: results.csv has seconds {row['seconds']}, "
                  f"its epochs {summed}")
    # The ending process's wall time (summary.json) can round as the epochs' sum on a fast
    # machine: set it far apart, and results.csv regenerated must still give the sum.
    run_folder = os.path.join(paused, "runs", first)
    path = os.path.join(run_folder, "summary.json")
    summary = json.load(open(path))
    summary["seconds"] += 1000
    with open(path, "w") as f:
        json.dump(summary, f)
    run(["sweep", "merge", paused])
    summed = "%.1f" % sum(epoch_seconds(run_folder))
    row = next(r for r in table(paused) if r["id"] == first)
    check(row["seconds"] == summed, f"the resumed run: results.csv has seconds {row['seconds']}, its epochs {summed} "
          f"(summary.json {summary['seconds']:.1f})")
    return spec, done


def failed_on_resume(tmp, spec, done):
    folder, data = os.path.join(tmp, "other-data"), os.path.join(tmp, "other-usps")
    first = pause_first(done, folder)
    # The same USPS but one pixel: the paused run's checkpoint names other data (its CRC).
    os.makedirs(data)
    source = os.environ["JACNOISE_DATA"]
    shutil.copy(os.path.join(source, "zip.test.gz"), data)
    with gzip.open(os.path.join(source, "zip.train.gz"), "rt") as f:
        lines = f.read().split("\n")
    lines[0] = lines[0].replace(" -1.0000 ", " -0.9000 ", 1)
    with gzip.open(os.path.join(data, "zip.train.gz"), "wt") as f:
        f.write("\n".join(lines))
    p = run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"], expect=1,
            env=dict(os.environ, JACNOISE_DATA=data))
    check(f"{first} failed: " in p.stdout and "other data" in p.stdout, f"a resumed run on other data: {p.stdout!r}")
    summary = json.load(open(os.path.join(folder, "runs", first, "summary.json")))
    shown = run(["sweep", "status", folder]).stdout
    check(summary["status"] == "failed" and
          "2 configurations: 1 done, 0 diverged, 1 failed, 0 running, 0 interrupted, 0 pending\n" in shown,
          f"a paused run failing as the sweep resumed it: summary {summary['status']}, status {shown[:200]!r}")


def endless(tmp, name):
    """TINY_SPEC's sweep of endless runs started into tmp/NAME, its stdout piped: the folder and
    the process."""
    spec, folder = os.path.join(tmp, "endless.spec"), os.path.join(tmp, name)
    open(spec, "w").write(TINY_SPEC.replace("epochs = 1", "epochs = 100000\npatience = 0"))
    return folder, subprocess.Popen([BIN, "sweep", "--spec", spec, "--out", folder, "--progress", "never"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

def interrupted_not_done(tmp):
    folder, p = endless(tmp, "endless")
    until_training(folder, p)
    p.send_signal(signal.SIGINT)
    out = ended(p, "an endless sweep sent SIGINT")[0]
    counts = re.findall(r"^sweep: \[(\d+)/2\] \S+ interrupted: ", out, re.M)
    check(p.returncode == 130 and counts and set(counts) == {"0"},
          f"a SIGINT: exit {p.returncode}; the lines of the runs it stopped should count none done: {out[-400:]!r}")


def killed_row(tmp):
    folder, p = endless(tmp, "killed")
    until_training(folder, p)
    # results.csv says the runs begun running, as status does, before any ends: it said them
    # pending until one ended, and a sweep killed before that left it so.
    runs = os.path.join(folder, "runs")
    begun = lambda: set(os.listdir(runs))  # noqa: E731
    running = lambda: {r["id"] for r in table(folder) if r["status"] == "running"}  # noqa: E731
    check(wait_until(lambda: begun() <= running(), p, seconds=60),
          f"results.csv says {sorted(running())} running of the runs begun {sorted(begun())}")
    said = running()
    check(until_an_epoch_in_progress(folder, p), "the endless sweep ended")
    p.kill()
    ended(p, "an endless sweep, killed")
    shown = run(["sweep", "status", folder]).stdout
    killed = 0
    for i in os.listdir(os.path.join(folder, "runs")):
        if os.path.exists(os.path.join(folder, "runs", i, "summary.json")):
            continue
        with open(os.path.join(folder, "runs", i, "metrics.jsonl")) as f:
            lines = [json.loads(line) for line in f if line.endswith("\n")]
        best = [m for m in lines if m["best"]]
        row = re.search(rf"^  {i} +running +(\d+) +(\S+) ", shown, re.M)
        killed += bool(best)
        check(not best or row and row.groups() == (str(best[-1]["epoch"]), "%.2f" % best[-1]["valid_error"]),
              f"status of run {i} killed with its best epoch {best[-1:]}: {row and row.group(0)!r}")
    check(killed > 0, f"no run killed after an epoch: {shown[:300]!r}")
    for i in said:
        check(re.search(rf"^(  {i} +running |stopped {i}: )", shown, re.M),
              f"results.csv said run {i} running, sweep status: {shown!r}")


def shard_failures_own(tmp):
    """Two shards into one folder, the first configuration's unable to write its checkpoint
    (its last.ckpt.tmp a folder), each run again once both ran: one fails again, the other
    ends with success, naming no failure."""
    spec, ref, folder = (os.path.join(tmp, n) for n in ("tiny.spec", "tiny", "shared"))
    open(spec, "w").write(TINY_SPEC)
    run(["sweep", "--spec", spec, "--out", ref, "--progress", "never"])
    victim = table(ref)[0]["id"]
    os.makedirs(os.path.join(folder, "runs", victim, "last.ckpt.tmp"))
    shards = [["sweep", "--spec", spec, "--out", folder, "--progress", "never", "--shard", f"{k}/2"] for k in (0, 1)]
    for args in shards:
        run(args, expect=None)
    again = [run(args, expect=None) for args in shards]
    check(sorted(p.returncode for p in again) == [0, 1] and
          all("failed" not in p.stderr for p in again if p.returncode == 0),
          f"shards rerun, one with a failed configuration: {[(p.returncode, p.stderr[-200:]) for p in again]}")


# A sweep of 3-step epochs: weight decay 100 diverges in epoch 7 or 8, at the epoch's third step.
STATES_SPEC = TINY_SPEC.replace("epochs = 1", "epochs = 10\nmomentum = 0\npatience = 0").replace(
    "lr = [0.1, 0.2]", "lr = [0.5, 1]\nweight-decay = [0, 100]")
EXPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "export_model.py")


def readers_agree(tmp):
    """Each state a run folder can be in, made once, as the three readers name it: `show` of its
    checkpoint (its state line), `sweep status` (the run's row, and for a run no summary ended,
    its running line: locked or not) and tools/export_model.py (the checkpoint's status, deferring
    to show where it records "running"). `sweep status` counts a run no summary ended as running,
    its running line telling the locked from the killed. Running (a process holds the lock), killed, diverged,
    diverged then resumed and killed mid-epoch (its resume removed the diverged summary: killed,
    not diverged), finished, best-only (best.ckpt, last.ckpt gone) and damaged (a diverged run's
    summary.json cut short: unreadable, not "running" as show said), and a finished run whose
    summary.json is cut short (unreadable, its end as its last.ckpt records it: show said "finished"),
    show's reason for an unreadable one in status's unreadable line; then a run whose
    summary says it failed (failed, not "running" to show), a killed run whose lock file is gone
    (stopped, as status counts it not locked), one killed before its first epoch ended (status's
    stopped line: it was in none), a readable summary.json that is not last.ckpt's end (stopped,
    naming the summary status goes by: show said "running") and results.csv regenerated (as status's rows); a checkpoint
    copied out of its folder, running when saved (it said "running")."""
    spec, folder = os.path.join(tmp, "states.spec"), os.path.join(tmp, "states")
    open(spec, "w").write(STATES_SPEC)
    run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"])
    ids = {(r["lr"], r["weight-decay"]): r["id"] for r in table(folder)}
    runs = os.path.join(folder, "runs")
    finished, killed, diverged, resumed = (os.path.join(runs, ids[k]) for k in
                                           (("0.5", "0"), ("1", "0"), ("0.5", "100"), ("1", "100")))
    # Killed at its checkpoint after an epoch ended (a best epoch: a row in the status table); the
    # diverged one resumed and killed so, before its divergence, at the third step of an epoch.
    config = os.path.join(tmp, "killed-config.txt")
    shutil.copy(os.path.join(killed, "config.txt"), config)
    shutil.rmtree(killed)
    kill = dict(os.environ, JACNOISE_TEST_KILL_AFTER_SAVES="1")
    for args in (["--config", config, "--out", killed, "--checkpoint-steps", "4"],
                 ["--out", resumed, "--resume", "--checkpoint-steps", "1"]):
        run(["train", "--progress", "never"] + args, expect=-signal.SIGKILL, env=kill)
    stopped = "stopped (no process trains it and it recorded no end: killed or crashed; --resume continues it)"
    deferred = "running when saved (jacnoise show says where the run stands)"
    summary = json.load(open(os.path.join(diverged, "summary.json")))

    def agree(states, running):
        """states: name -> (checkpoint, show's state, sweep status row, export's status); running:
        sweep status's running line (its counts)."""
        shown = run(["sweep", "status", folder]).stdout
        check(f"\nrunning: {running} (killed" in shown, f"sweep status lacks {running!r}: {shown!r}")
        for name, (checkpoint, state, row, exported) in states.items():
            said = run(["show", checkpoint]).stdout
            said = next((l[len("state: "):] for l in said.splitlines() if l.startswith("state: ")), "")
            check(said.startswith(state + ", "), f"{name}: show says state {said!r}, not {state!r}")
            id_ = os.path.basename(os.path.dirname(checkpoint))
            got = re.search(rf"^  {id_}  (\S+) ", shown, re.M)
            if row is None:  # no epoch ended, no errors to rank it by: its own line
                row, got = "stopped", re.search(rf"^(stopped) {id_}: no epoch ended, 1 step trained \((.*)\)$",
                                                shown, re.M)
                check(got and state == f"stopped ({got[2]}; --resume continues it)",
                      f"{name}: sweep status's stopped line {got and got[0]!r} not as show's {state!r}: {shown!r}")
            check(got and got[1] == row, f"{name}: sweep status row {got and got[0]!r}, not {row!r}: {shown!r}")
            if state.startswith("unreadable ("):  # status's unreadable line says why in show's words
                why = state[len("unreadable ("):state.rindex("; --resume ")]
                check(f"\nunreadable {id_}: {why} (" in shown, f"{name}: sweep status lacks {why!r}: {shown!r}")
            npz = os.path.join(tmp, f"{name}.npz")
            p = subprocess.run([sys.executable, EXPORT, checkpoint, npz], capture_output=True, text=True)
            check(p.returncode == 0 and p.stdout.rstrip("\n").endswith(", " + exported),
                  f"{name}: export_model says {p.stdout!r} {p.stderr!r}, not {exported!r}")

    last = lambda run_folder: os.path.join(run_folder, "last.ckpt")  # noqa: E731
    agree({"finished": (last(finished), "finished", "finished", "finished"),
           "killed": (last(killed), stopped, "running", deferred),
           "diverged": (last(diverged), f"diverged ({summary['message']})", "diverged", deferred),
           "diverged, resumed, killed": (last(resumed), stopped, "running", deferred)},
          "0 locked by a jacnoise process now, 2 not locked")
    ended = os.path.join(tmp, "finished-last.ckpt")
    os.rename(last(finished), ended)
    with open(os.path.join(diverged, "summary.json"), "r+") as f:
        f.truncate(40)
    unread = f"{os.path.join(diverged, 'summary.json')}: byte 40: unterminated string"
    with open(os.path.join(killed, "lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        agree({"running": (last(killed), "running", "running", deferred),
               "best-only": (os.path.join(finished, "best.ckpt"), "running when saved (the best parameters; the run "
                             f"has no last.ckpt: finished, {json.load(open(os.path.join(finished, 'summary.json')))['message']})",
                             "finished", "running when saved"),
               "damaged": (last(diverged), f"unreadable ({unread}; --resume continues the run and writes its "
                           "summary.json again)", "unreadable", deferred)},
              "1 locked by a jacnoise process now, 1 not locked")
    # A finished run whose summary.json is damaged: show said "finished", status "unreadable".
    os.rename(ended, last(finished))
    ended_summary = json.load(open(os.path.join(finished, "summary.json")))
    with open(os.path.join(finished, "summary.json"), "r+") as f:
        f.truncate(40)
    agree({"finished, summary damaged": (last(finished), f"unreadable (finished, as {last(finished)} records, but "
                                         f"{os.path.join(finished, 'summary.json')}: byte 40: unterminated string; "
                                         "--resume writes its summary.json again)", "unreadable",
                                         "unreadable (finished, as recorded, but its summary.json does not read: "
                                         "jacnoise show says why)")},
          "0 locked by a jacnoise process now, 2 not locked")
    # A run whose summary says it failed (show said "running"); a killed run's lock file removed
    # (show said "running", status counted it not locked); one killed before its first epoch
    # ended (in no status line); a finished run's summary.json removed (show said "finished",
    # status counts it running, not locked: its rerun writes the summary).
    json.dump(dict(ended_summary, status="failed", message="failed by hand"),
              open(os.path.join(killed, "summary.json"), "w"))
    os.remove(os.path.join(resumed, "lock"))
    os.remove(os.path.join(finished, "summary.json"))
    config = os.path.join(tmp, "diverged-config.txt")
    shutil.copy(os.path.join(diverged, "config.txt"), config)
    shutil.rmtree(diverged)
    run(["train", "--progress", "never", "--config", config, "--out", diverged, "--checkpoint-steps", "1"],
        expect=-signal.SIGKILL, env=kill)
    agree({"failed": (last(killed), "failed (failed by hand)", "failed", deferred),
           "finished, its summary.json removed": (last(finished), "finished (as recorded, but no summary.json records "
                                                  "its end: sweep status counts it running, not locked; --resume "
                                                  "writes its summary.json again)", "running", "finished"),
           "killed, its lock file removed": (last(resumed), stopped, "running", deferred),
           "killed in its first epoch": (last(diverged), stopped, None, deferred)},
          "0 locked by a jacnoise process now, 3 not locked")
    # A summary.json that is not last.ckpt's end (a paused run's, beside a checkpoint further
    # along: files copied apart): show said "running", where status goes by the summary.
    json.dump(dict(ended_summary, status="paused", message="paused by hand", epochs=1, steps=3),
              open(os.path.join(resumed, "summary.json"), "w"))
    agree({"summary not last.ckpt's": (last(resumed), "stopped (its summary.json, which sweep status goes by, says "
                                       "paused at 1 epoch, 3 steps, where this checkpoint records running; --resume "
                                       "continues from the checkpoint)", "paused", deferred)},
          "0 locked by a jacnoise process now, 2 not locked")
    # A checkpoint copied out of its run folder says nothing of its run now: it said "running".
    os.makedirs(os.path.join(tmp, "copy"))
    copy = shutil.copy(last(resumed), os.path.join(tmp, "copy", "last.ckpt"))
    said = run(["show", copy]).stdout
    check("\nstate: running when saved (a copy: no config.txt beside it, as a run folder has), " in said,
          f"show of a copied checkpoint: {said!r}")
    # results.csv, written again from the folders, names each as status's rows do.
    run(["sweep", "merge", folder])
    rows = {r["id"]: r["status"] for r in table(folder)}
    want = {finished: "running", killed: "failed", resumed: "paused", diverged: "running"}
    check(rows == {os.path.basename(k): v for k, v in want.items()}, f"results.csv's statuses {rows}")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-sweep-rows-")
    failed_on_resume(tmp, *paused_then_resumed(tmp))
    interrupted_not_done(tmp)
    killed_row(tmp)
    shard_failures_own(tmp)
    readers_agree(tmp)
    return finish("sweep rows", tmp)


if __name__ == "__main__":
    sys.exit(main())
