#!/usr/bin/env python3
"""`jacnoise profile --device cuda` on tiny nets: the report's correctness, not its speed.

The same checks as the CPU profile's (tests/test_profile.py: every phase of every variant, the
FLOPs of the cost model, positive times, the overhead ratio), with the CUDA engine's
differences: the forward-mode pass runs inside the forward phase's stacked GEMMs, so its FLOPs
count there and the jvp phase has no time; the step graph's replay (fast step) is timed too,
and the time, rate and ratio to the floor (itself a replayed graph) of a variant's row, a
grid's line and CSV row are the fast step's;
and the kernel launches per step it reports equal the emulator's own count for the same
configuration (under ../shared/emu; on a real GPU that count is not available). A grid on
CUDA writes its rows. A peak that cannot be measured is said in one warning line (under
../shared/emu, which fails its allocation). Skipped (77) where no CUDA device is visible.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import csv
import os
import re
import subprocess
import sys

from harness import BIN, check, emulated, finish, run, scratch
from test_profile import C, D, check_floor_ratio, check_profile, profile_json

CASES = [
    # (label, options, sizes, B, target, layer, proj, copies)
    ("output K=1", ["--hidden", "32,16", "--batch", "10", "--jac-target", "output"], [D, 32, 16, C], 10, "output",
     2, 1, 1),
    ("hidden1, input noise", ["--hidden", "12,9", "--batch", "8", "--input-noise", "0.1"], [D, 12, 9, C], 8,
     "hidden1", 1, 1, 1),
    ("hidden:1 K=3, 2 copies", ["--hidden", "12,9", "--batch", "8", "--jac-target", "hidden:1", "--jac-proj", "3",
                                "--jac-copies", "2"], [D, 12, 9, C], 8, "hidden:1", 1, 3, 2),
    ("output exact, 2 copies", ["--hidden", "12,9", "--batch", "8", "--jac-target", "output", "--jac-proj", "exact",
                                "--jac-copies", "2"], [D, 12, 9, C], 8, "output", 3, 0, 2),
]
COMMON = ["--device", "cuda", "--data", "usps", "--jac-lambda", "0.1", "--jac-noise", "0.2", "--reps", "3",
          "--warmup", "1"]
SUMMARY = re.compile(r"exit summary: .*?(\d+) kernel launches .*?(\d+) GEMM calls")
# A grid's line: model, B, penalty, us/step, floor us, /floor, plain us, overhead, FLOPs, and
# the grid's values these do not show (jac-lambda=1 ...).
GRID_LINE = re.compile(r"^\S+ +\d+ +.+? +(?P<us>[0-9.]+) +[0-9.]+ +[0-9.]+x +(?P<plain>[0-9.]+) +[0-9.]+x +[0-9.]+x"
                       r"(?:  \S.*)?$")


def emu_counts(opts, steps, folder):
    """(kernel launches, GEMM calls) of a whole `train` run of `steps` steps, graph off."""
    env = {k: v for k, v in os.environ.items() if k != "EMU_LOG"}
    args = ["train", "--device", "cuda", "--cuda-graph", "off", "--data", "usps", "--train-limit", "200", "--valid",
            "50", "--epochs", "1", "--progress", "never", "--jac-lambda", "0.1", "--jac-noise", "0.2",
            "--max-steps", str(steps), "--out", folder] + opts
    p = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=600, env={**env, "EMU_VERBOSE": "1"})
    m = SUMMARY.search(p.stderr)
    check(p.returncode == 0 and m is not None, f"train {' '.join(opts)}: exit {p.returncode}: {p.stderr[-2000:]}")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def peak_unmeasured():
    """A profile whose square SGEMM peak cannot be measured (its operands' device memory taken:
    the emulator fails the allocation after the context's, EMU_FAIL_MALLOC) says so in one
    warning line naming the call that failed, as the benchmarks do, and goes on with its best
    round's rate: it said nothing, and printed a large square SGEMM of 0.0. Under ../shared/emu."""
    env = {k: v for k, v in os.environ.items() if k != "EMU_LOG"}  # the injected fault's note stays out of it
    p = run(["profile", "--device", "cuda", "--data", "usps", "--hidden", "12", "--batch", "8", "--reps", "2",
             "--warmup", "0"], env=dict(env, EMU_FAIL_MALLOC="2"))
    own = [line for line in p.stderr.splitlines() if not line.startswith("[cuda-emu]")]
    check("[cuda-emu] EMU_FAIL_MALLOC" in p.stderr and len(own) == 1 and
          own[0].startswith("jacnoise: warning: the fp32 peak could not be measured (square cublasSgemm up to ") and
          re.search(r"\.c:\d+: cudaMalloc: out of memory\); the peak is this profile's best round$", own[0]) and
          "(this profile's best round; " in p.stdout,
          f"profile without the memory of its peak: expected one warning line: {own[-3:]!r} {p.stdout[:400]!r}")


def main():
    emu = emulated()
    if emu is None:
        print("no CUDA device visible (or no CUDA in this build): skipped")
        return 77
    with scratch("jn_profile_cuda_") as tmp:
        for label, opts, sizes, B, target, layer, proj, copies in CASES:
            out = os.path.join(tmp, "p.json")
            p = profile_json(COMMON + opts, out, ["cuda backend", "launches per step", "fast step",
                                                  "us/step, GFLOP/s, /floor: the fast step"], label)
            if not p:
                continue
            check_profile(label, p, sizes, B, target, layer, proj, copies, backend="cuda")
            mem = p["memory"]
            check(mem["device_bytes"] >= mem["workspace_bytes"] + mem["state_bytes"],
                  f"{label}: device memory {mem} below the step's own buffers")
            for v in p["variants"]:
                fast = v.get("fast_step", {}).get("median_us", 0)
                check(fast > 0, f"{label}/{v['name']}: fast step {fast} us")
                check(v["launches"] > 0, f"{label}/{v['name']}: {v['launches']} launches")
            if emu:
                two = emu_counts(opts, 2, os.path.join(tmp, label + " two"))
                four = emu_counts(opts, 4, os.path.join(tmp, label + " four"))
                per_step = ((four[0] - two[0]) // 2, (four[1] - two[1]) // 2)
                got = (p["variants"][0]["launches"], p["variants"][0]["gemm_calls"])
                check(got == per_step, f"{label}: the profile counts {got} launches and GEMMs a step, "
                                       f"the emulator {per_step}")
            print(f"{label}: checked")

        # A grid on the CUDA backend, in TF32: one row per configuration, each saying its precision
        # (fp32 where NVIDIA_TF32_OVERRIDE=0 turned TF32 off).
        path = os.path.join(tmp, "grid.csv")
        r = run(["profile", "--device", "cuda", "--precision", "tf32", "--data", "usps", "--hidden", "12",
                 "--jac-lambda", "0.1", "--reps", "2", "--warmup", "0", "--grid", "batch=4 8; jac-target=hidden1 output",
                 "--csv", path])
        if r.returncode == 0:
            with open(path) as f:
                rows = list(csv.DictReader(f))
            got = [(int(x["batch"]), x["estimator"]) for x in rows]
            want = [(b, e) for b in (4, 8) for e in ("hidden1", "output K=1")]
            check(got == want, f"grid rows {got}, expected {want}")
            precision = "fp32" if os.environ.get("NVIDIA_TF32_OVERRIDE") == "0" else "tf32"
            check(all(x["precision"] == precision and x["device"] and x["library"] for x in rows),
                  f"grid: precision, device, library {[(x['precision'], x['device'], x['library']) for x in rows]}")
            check(all(float(x["step_us"]) > 0 for x in rows), "grid: times")
            # The step as training runs it (the replayed graph), as the JSON's fast_step.
            check(all(x.get("fast_step_us") and float(x["fast_step_us"]) > 0 for x in rows),
                  f"grid: fast_step_us {[x.get('fast_step_us') for x in rows]}")
            check(all(x.get("plain_fast_step_us") and float(x["plain_fast_step_us"]) > 0 for x in rows),
                  f"grid: plain_fast_step_us {[x.get('plain_fast_step_us') for x in rows]}")
            # Its rate is that step's (written to 0.001 us), and so is the time the grid's line
            # prints beside it (to 0.1 us); its ratio to the floor the rounds' (replayed graphs both).
            printed = [GRID_LINE.match(line) for line in r.stdout.splitlines()]
            printed = [m for m in printed if m]
            check(len(printed) == len(rows), f"grid: {len(printed)} result lines for {len(rows)} rows:\n{r.stdout}")
            for x, m in zip(rows, printed):
                fast = float(x.get("fast_step_us") or "nan")
                check(check_floor_ratio(x), f"grid: ratio_to_floor {x['ratio_to_floor']} [{x['ratio_to_floor_q1']} - "
                      f"{x['ratio_to_floor_q3']}]")
                rate = float(x["flops"]) / fast * 1e-3
                check(abs(float(x["gflops"]) - rate) <= 0.005 + 0.0005 / fast * rate,  # printed to 0.01
                      f"grid: gflops {x['gflops']}, the fast step's {rate}")
                check(abs(float(m["us"]) - fast) <= 0.0505 and abs(float(m["plain"]) - float(x["plain_fast_step_us"]))
                      <= 0.0505, f"grid: the line {m[0]!r} prints other steps than the fast ones of its row {x}")
    if emu:
        peak_unmeasured()
    return finish("CUDA profile")


if __name__ == "__main__":
    sys.exit(main())
