"""`jacnoise sweep --device cuda`: many models per GPU in lock-step, end to end. One group of 8
configurations (penalised, output target, mixed seeds, lambdas, both noise levels, weight
decays; epochs and patience that stop runs at different epochs, so slots refill; weight decay
1e4 with lr 1, which diverges) trained with --models 4 and with --models 1, and after a SIGKILL
mid-epoch (a mid-epoch checkpoint is on disk) and a rerun:
  - under the CUDA emulator, whose cuBLAS sums each GEMM in double whatever the batch count,
    every run folder and results.csv (but times) are byte-identical across all three, and
    equal to `train --device cuda` of the same configuration alone (a diverged one, and
    finite ones with and without input noise: a group draws noise for its widest member);
  - on a GPU, cuBLAS may pick other kernels for 4 batched GEMMs than for 1: the same ids and
    statuses, and parameters within 1e-3 (a few steps of float32 from the same start);
and --models auto with --jobs 2 planning each worker's group in its share of the GPU and
of the host's memory.
Skipped (77) where no CUDA device is visible. Tiny sizes: the emulator runs every CUDA thread
on the CPU.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import os
import re
import signal
import subprocess
import sys
import tempfile

import ckpt
from harness import BIN, check, emulated, finish, run, same_run
from test_sweep import rows

SPEC = """data = usps
hidden = 8
train-limit = 100
valid = 40
batch = 25
lr = 1
momentum = 0
jac-target = output
jac-lambda = [0.02, 0.1]
weight-decay = [0, 1e4]
epochs = choice(2, 3)
patience = choice(1, 5)
jac-noise = choice(0.1, 0.3)
input-noise = choice(0, 0.2)
seed = choice(1, 2, 3)
samples = 2
checkpoint-steps = 3
"""


def sweep(spec, out, *extra, expect=0, **kw):
    return run(["sweep", "--spec", spec, "--out", out, "--device", "cuda", "--progress", "never"] + list(extra),
               expect=expect, timeout=1800, **kw)


def run_ids(folder):
    return sorted(os.listdir(os.path.join(folder, "runs")))


def statuses(folder):
    table = rows(folder)
    at = table[0].index("status")
    return {r[0]: r[at] for r in table[1:]}


def same_sweep(a, b, exact, what):
    check(run_ids(a) == run_ids(b), f"{what}: other run folders")
    if exact:
        check(rows(a) == rows(b), f"{what}: results.csv differs")
        for i in run_ids(a):
            same_run(os.path.join(a, "runs", i), os.path.join(b, "runs", i), f"{what}: run {i}")
        return
    check(statuses(a) == statuses(b), f"{what}: statuses {statuses(a)} vs {statuses(b)}")
    for i in run_ids(a):
        if statuses(a).get(i) == "diverged":
            continue
        diff = ckpt.rel_diff(ckpt.params(os.path.join(a, "runs", i, "last.ckpt")),
                             ckpt.params(os.path.join(b, "runs", i, "last.ckpt")))
        print(f"{what}: run {i}: parameters differ by {diff:.2e}")
        check(diff < 1e-3, f"{what}: run {i}: parameters differ by {diff:.2e}")


def killed_mid_epoch(spec, folder):
    """SIGKILLs the sweep right after its first mid-epoch checkpoint (step 3 of 4 per epoch):
    the program's own fault injection, where a test that polled for the file raced a GPU."""
    p = subprocess.run([BIN, "sweep", "--spec", spec, "--out", folder, "--device", "cuda", "--models", "4",
                        "--progress", "never"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, JACNOISE_TEST_KILL_AFTER_SAVES="1"), timeout=1800)
    check(p.returncode == -signal.SIGKILL, f"the sweep ended (exit {p.returncode}) before a checkpoint was written")
    runs = os.path.join(folder, "runs")
    saved = [i for i in os.listdir(runs) if os.path.exists(os.path.join(runs, i, "last.ckpt"))]
    shown = run(["show", os.path.join(runs, saved[0], "last.ckpt")]).stdout
    print(f"killed with {len(saved)} run(s) checkpointed: {shown.splitlines()[0] if shown else ''}")
    # Batches into the first epoch: "0 epochs done" alone also passed 10 epochs done, or a checkpoint of none.
    check(re.search(r"(?<!\d)0 epochs done and [1-9]\d* batch", shown),
          f"the checkpoint is not mid-epoch: {shown[:200]!r}")


# The group's data and shape (SPEC's first five lines), 16 seeds of one epoch.
AUTO_SPEC = "".join(SPEC.splitlines(True)[:5]) + "epochs = 1\nlr = 0.1\nseeds = 16\n"


def at_a_time(p):
    """The models at a time the sweep says it chose for its group (None: all of its share)."""
    m = re.search(r"group 1/1: (\d+) models? at a time \(--models auto\), of (\d+) configurations", p.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else None


def models_auto(tmp):
    """--models auto plans each of --jobs N workers' groups in its share of the memory, not in
    the whole: of the GPU's free memory read before any worker held some (JACNOISE_TEST_GPU_FREE
    pretends its size), two workers on a GPU twice the size plan as many models each as one
    alone; of a quarter of the host's memory for the parameters, velocity and best parameters
    each job keeps (JACNOISE_TEST_HOST_MEMORY), half each, where each took the whole quarter.
    One group of 16 configurations of 2146 parameters: 25752 bytes a job on the host."""
    spec = os.path.join(tmp, "auto.spec")
    open(spec, "w").write(AUTO_SPEC)

    def planned(name, jobs, **memory):
        p = sweep(spec, os.path.join(tmp, name), "--jobs", str(jobs), env=dict(os.environ, **memory))
        return at_a_time(p), p.stdout[:400]
    gpu = 38.6e6  # 32 MiB of cuBLAS workspace and data, then about 150 KB a model: a few fit
    alone, said = planned("auto-gpu-1", 1, JACNOISE_TEST_GPU_FREE=str(gpu))
    check(alone and 2 <= alone[0] < 16, f"--jobs 1 on a {gpu:.0f}-byte GPU should fit a few of 16: {said!r}")
    two, said = planned("auto-gpu-2", 2, JACNOISE_TEST_GPU_FREE=str(2 * gpu))
    check(alone and two and two[0] == alone[0], f"--jobs 2 on a GPU twice the size: {two}, one alone {alone}: {said!r}")
    host = str(4 * 25752 * 13 // 2)  # a quarter holds 6 jobs' parameters
    alone, said = planned("auto-host-1", 1, JACNOISE_TEST_HOST_MEMORY=host)
    check(alone == (6, 16), f"--jobs 1, a quarter of the host for 6 jobs: {said!r}")
    two, said = planned("auto-host-2", 2, JACNOISE_TEST_HOST_MEMORY=host)
    check(two == (3, 8), f"--jobs 2, a quarter of the host for 6 jobs: 3 each: {said!r}")


def main():
    mode = emulated()
    if mode is None:
        print("no CUDA device visible (or no CUDA in this build): skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="jacnoise-cuda-sweep-")
    spec = os.path.join(tmp, "group.spec")
    open(spec, "w").write(SPEC)
    four, one, killed = (os.path.join(tmp, name) for name in ("models4", "models1", "killed"))
    p = sweep(spec, four, "--models", "4")
    check("in 1 group" in p.stdout and "--models 4" in p.stdout, f"one group of 4: {p.stdout[:300]}")
    table = statuses(four)
    counts = {s: list(table.values()).count(s) for s in set(table.values())}
    print(f"--models 4: {len(table)} configurations: {counts}")
    check(counts.get("diverged", 0) >= 1 and counts.get("finished", 0) + counts.get("early-stopped", 0) >= 3,
          f"the spec should give finished (or early-stopped) and diverged runs: {counts}")
    sweep(spec, one, "--models", "1")
    same_sweep(four, one, mode, "--models 4 vs --models 1" + (" (emulator: bitwise)" if mode else ""))

    # Configurations trained alone with `train`: one diverged, one without input noise in a group
    # that draws it (its own run draws none), one with.
    ids = run_ids(four)

    def input_noise(i):
        text = open(os.path.join(four, "runs", i, "config.txt")).read()
        return next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("input-noise="))

    finite = [i for i in ids if table[i] != "diverged"]
    picks = [i for i in ids if table[i] == "diverged"][:1]
    picks += [i for i in finite if input_noise(i) == "0"][:1] + [i for i in finite if input_noise(i) != "0"][:1]
    check(len(picks) == 3, f"the spec should give a diverged run and finite ones with and without input noise: {picks}")
    for i in picks:
        folder = os.path.join(four, "runs", i)
        alone = os.path.join(tmp, "alone", i)
        run(["train", "--config", os.path.join(folder, "config.txt"), "--out", alone, "--device", "cuda"],
            expect=3 if table[i] == "diverged" else 0)
        if mode:
            same_run(folder, alone, f"run {i} ({table[i]}) in a group of 4 vs train alone")

    killed_mid_epoch(spec, killed)
    sweep(spec, killed, "--models", "4")
    same_sweep(four, killed, True, "killed mid-epoch and rerun vs uninterrupted")
    models_auto(tmp)
    return finish("CUDA sweep", tmp)


if __name__ == "__main__":
    sys.exit(main())
