#!/usr/bin/env python3
"""tools/gpu-check.sh --dry-run against this build (GPU_CHECK_BUILD): every GPU step's command
runs with no device visible and must stop for that reason alone, so that a command line the
lent GPU would refuse fails here. Then the same with a jacnoise that refuses the profile's
options: the dry run must name those steps and fail. Skipped where CUDA is not built in."""
import os
import subprocess
import sys
import tempfile

from harness import BIN, check, finish

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.dirname(os.path.abspath(BIN))
GPU_STEPS = ["check_tf32", "bench_cuda", "profile_b100", "profile_b1000", "profile_b100_tf32", "peers",
             "peers_tf32", "bench_cuda_sweep", "sweep64"]
ACCEPTED = "not run (dry run: needs the GPU); without one its command gets past its options"


def dry_run(scratch, name, build):
    """Runs the dry run with `build` as GPU_CHECK_BUILD; returns (exit status, summary lines)."""
    shims = os.path.join(scratch, "shims")
    os.makedirs(shims, exist_ok=True)
    if not os.path.exists(os.path.join(shims, "python3")):
        os.symlink(sys.executable, os.path.join(shims, "python3"))  # the one with the tests' modules
    out = os.path.join(scratch, name)
    env = dict(os.environ, OUT=out, GPU_CHECK_BUILD=build, TMPDIR=scratch,
               PATH=shims + os.pathsep + os.environ.get("PATH", ""))
    p = subprocess.run([os.path.join(ROOT, "tools", "gpu-check.sh"), "--dry-run"], env=env, capture_output=True,
                       text=True, timeout=600)
    with open(os.path.join(out, "summary.txt")) as f:
        lines = f.read().splitlines()
    return p.returncode, lines


def step_line(lines, name):
    return next((line for line in lines if line.startswith(name + ": ")), "")


def main():
    info = subprocess.run([BIN, "info"], capture_output=True, text=True).stdout
    if "cuda: built in" not in info or not os.access(os.path.join(BUILD, "bench", "bench_cuda_step"), os.X_OK):
        print("CUDA is not built in: the device check has nothing to dry-run; skipped")
        return 77
    scratch = tempfile.mkdtemp(prefix="jn_gpu_check_")

    rc, lines = dry_run(scratch, "accepted", BUILD)
    check(rc == 0, f"dry run of this build: exit {rc}, expected 0")
    check(any(line.startswith("gpu_tests: exit 0") for line in lines), "dry run: the GPU tests did not pass (skip)")
    for name in GPU_STEPS:
        line = step_line(lines, name)
        check(line == f"{name}: {ACCEPTED}", f"dry run: {name}: {line or 'no line'}")

    # A jacnoise whose profile refuses its options, as after an option's rename: the profile
    # steps and the peers (which run `jacnoise profile`) must be named, the others pass.
    fake = os.path.join(scratch, "fake-build")
    os.makedirs(fake)
    os.symlink(os.path.join(BUILD, "bench"), os.path.join(fake, "bench"))
    with open(os.path.join(fake, "jacnoise"), "w") as f:
        f.write(f'#!/bin/sh\n[ "$1" = profile ] && set -- "$@" --no-such-option\nexec "{BIN}" "$@"\n')
    os.chmod(os.path.join(fake, "jacnoise"), 0o755)
    rc, lines = dry_run(scratch, "refused", fake)
    check(rc == 1, f"dry run with a refused option: exit {rc}, expected 1")
    refused = ["profile_b100", "profile_b1000", "profile_b100_tf32", "peers", "peers_tf32"]
    for name in GPU_STEPS:
        line = step_line(lines, name)
        if name in refused:
            check("exits 2 refusing its options" in line and "--no-such-option" in line,
                  f"refused option: {name}: {line or 'no line'}")
        else:
            check(line == f"{name}: {ACCEPTED}", f"refused option: {name}: {line or 'no line'}")
    check(any(line.startswith("gpu-check: a GPU step's command failed") for line in lines),
          "refused option: no closing line saying the dry run failed")
    return finish("gpu-check dry-run", scratch)


if __name__ == "__main__":
    sys.exit(main())
