"""What a sweep folder's reader reports of runs that the other sweep tests leave unchecked: a run
paused by `train --config DIR/runs/ID/config.txt --max-steps N` counted interrupted by `sweep
status`, not running; and results.csv's `seconds`, the run's epochs' wall time summed (one
resumed by the sweep too, its first process's epochs included), not the wall time of the process
that ended it, as its summary.json has it.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import csv
import json
import os
import shutil
import sys
import tempfile

from harness import check, finish, run

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


def paused_then_resumed(tmp):
    spec, done, paused = (os.path.join(tmp, n) for n in ("rows.spec", "done", "paused"))
    open(spec, "w").write(SPEC)
    run(["sweep", "--spec", spec, "--out", done, "--progress", "never"])
    first = table(done)[0]["id"]
    os.makedirs(paused)
    shutil.copy(os.path.join(done, "sweep.spec"), os.path.join(paused, "sweep.spec"))
    run(["train", "--config", os.path.join(done, "runs", first, "config.txt"), "--max-steps", "80", "--progress",
         "never", "--out", os.path.join(paused, "runs", first)])
    shown = run(["sweep", "status", paused]).stdout
    check("2 configurations: 0 done, 0 diverged, 0 failed, 0 running, 1 interrupted, 1 pending\n" in shown,
          f"status of a sweep folder with a run paused by --max-steps: {shown[:300]!r}")
    run(["sweep", "--spec", spec, "--out", paused, "--progress", "never"])
    check(len(epoch_seconds(os.path.join(paused, "runs", first))) == 2,
          "the paused run's metrics.jsonl should have 2 epochs")
    telling = 0
    for folder in (done, paused):
        for row in table(folder):
            run_folder = os.path.join(folder, "runs", row["id"])
            summed = "%.1f" % sum(epoch_seconds(run_folder))
            check(row["seconds"] == summed, f"{folder}: run {row['id']}: results.csv has seconds {row['seconds']}, "
                  f"its epochs {summed}")
            ended = json.load(open(os.path.join(run_folder, "summary.json")))["seconds"]
            telling += "%.1f" % ended != summed
    check(telling > 0, "no run whose process's wall time (summary.json) rounds other than its epochs' sum")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-sweep-rows-")
    paused_then_resumed(tmp)
    return finish("sweep rows", tmp)


if __name__ == "__main__":
    sys.exit(main())
