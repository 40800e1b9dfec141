"""Temporary files and SIGKILL outside train (test_reliability kills train): a sweep and a
merge starting on a folder remove the temporary files of its shared files (results.csv,
sweep.spec: NAME.HOST.PID.tmp) that killed processes of this host left, which piled up there
for ever, never a live process's nor another host's; and SIGKILLs at random moments of
`sweep`, `sweep merge`, `step --dump` and `profile --json` leave no half-written file under its
final name, nor a temporary file a rerun does not clear, and the reruns end as undisturbed ones.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from harness import BIN, check, finish, run
from test_sweep import KILL_SPEC, TINY_SPEC, rows, sweep

SMALL = ["--data", "usps", "--hidden", "64", "--train-limit", "300", "--valid", "60"]
KILLS = 6


def left(folder):
    """The temporary files under folder."""
    return sorted(os.path.relpath(os.path.join(d, n), folder) for d, _, names in os.walk(folder)
                  for n in names if n.endswith(".tmp"))


def dead_pid():
    """A pid no process has: a child's, once reaped."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def killed(rng, args, most):
    """args run and SIGKILLed after a random time up to `most` seconds (or ended before)."""
    p = subprocess.Popen([BIN] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0, most))
    p.kill()
    p.wait()


def stale_shared_files(tmp, spec, reference):
    """A sweep and a merge on a folder holding a dead writer's temporary files of results.csv
    and sweep.spec remove them, and keep a live process's and another host's."""
    host, dead = socket.gethostname(), dead_pid()
    for command in ("sweep", "merge"):
        folder = os.path.join(tmp, f"stale-{command}")
        shutil.copytree(reference, folder)
        stale = [f"results.csv.{host}.{dead}.tmp", f"sweep.spec.{host}.{dead}.tmp"]
        kept = [f"results.csv.{host}.{os.getpid()}.tmp", f"results.csv.other-{host}.{dead}.tmp"]
        for name in stale + kept:
            open(os.path.join(folder, name), "w").write("id,hidden\n")
        if command == "sweep":
            sweep(["--spec", spec, "--out", folder])
        else:
            run(["sweep", "merge", folder])
        check(left(folder) == sorted(kept),
              f"{command} on a folder with a killed writer's temporary files: left {left(folder)}, "
              f"expected {sorted(kept)}")


def killed_sweep(tmp, spec, reference, rng):
    """A sweep killed again and again, then rerun, ends as the undisturbed one; after each kill
    results.csv and sweep.spec are whole or absent."""
    folder = os.path.join(tmp, "killed-sweep")
    for _ in range(KILLS):
        killed(rng, ["sweep", "--spec", spec, "--out", folder, "--progress", "never", "--jobs", "2"], 2.0)
        results = os.path.join(folder, "results.csv")
        if os.path.exists(results):
            text = open(results).read()
            check(text.endswith("\n") and len(text.splitlines()) == len(rows(reference)), f"killed sweep: results.csv {text[-200:]!r}")
        kept = os.path.join(folder, "sweep.spec")
        check(not os.path.exists(kept) or open(kept).read() == KILL_SPEC, "killed sweep: sweep.spec not whole")
    sweep(["--spec", spec, "--out", folder])
    check(rows(folder) == rows(reference), "a sweep killed and rerun: results.csv differs from the undisturbed one")
    check(not left(folder), f"a sweep killed and rerun: left {left(folder)}")


def killed_merge(tmp, spec, reference, rng):
    """A merge of two shards killed at random moments, then rerun, gives the unsharded
    sweep's table and checkpoints."""
    shards = [os.path.join(tmp, f"shard-{s}") for s in range(2)]
    for s, folder in enumerate(shards):
        sweep(["--spec", spec, "--out", folder, "--shard", f"{s}/2"])
    for k in range(KILLS):
        into = os.path.join(tmp, f"merged-{k}")
        os.makedirs(into)
        shutil.copy(spec, os.path.join(into, "sweep.spec"))
        killed(rng, ["sweep", "merge", into] + shards, 0.3)
        run(["sweep", "merge", into] + shards)
        check(rows(into) == rows(reference), f"merge killed ({k}) and rerun: results.csv differs")
        for i in os.listdir(os.path.join(reference, "runs")):
            for name in ("best.ckpt", "last.ckpt"):
                same = open(os.path.join(into, "runs", i, name), "rb").read() == \
                    open(os.path.join(reference, "runs", i, name), "rb").read()
                check(same, f"merge killed ({k}) and rerun: runs/{i}/{name} differs")


def killed_outputs(tmp, rng):
    """step --dump and profile --json killed at random moments: the file is whole or absent."""
    dump, profile = os.path.join(tmp, "killed.state"), os.path.join(tmp, "killed.json")
    for _ in range(KILLS):
        killed(rng, ["step"] + SMALL + ["--dump", dump], 0.4)
        check(not os.path.exists(dump) or subprocess.run([BIN, "show", dump], capture_output=True).returncode == 0,
              "step --dump killed: the dump does not load")
        killed(rng, ["profile"] + SMALL + ["--json", profile], 1.5)
        if os.path.exists(profile):
            try:
                json.load(open(profile))
            except ValueError as e:
                check(False, f"profile --json killed: {profile} is not whole: {e}")
    run(["step"] + SMALL + ["--dump", dump])
    run(["profile"] + SMALL + ["--json", profile])
    check(not [n for n in os.listdir(tmp) if n.startswith("killed.") and n.endswith(".tmp")],
          f"step and profile rerun after kills: a temporary file was left: {os.listdir(tmp)}")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-reliability-tmp-")
    spec = os.path.join(tmp, "study.spec")
    open(spec, "w").write(TINY_SPEC)
    reference = os.path.join(tmp, "reference")
    sweep(["--spec", spec, "--out", reference])
    stale_shared_files(tmp, spec, reference)
    rng = random.Random(20261206)
    spec = os.path.join(tmp, "kill.spec")
    open(spec, "w").write(KILL_SPEC)
    reference = os.path.join(tmp, "kill-reference")
    sweep(["--spec", spec, "--out", reference])
    killed_sweep(tmp, spec, reference, rng)
    killed_merge(tmp, spec, reference, rng)
    killed_outputs(tmp, rng)
    return finish("temporary file and SIGKILL", tmp)


if __name__ == "__main__":
    sys.exit(main())
