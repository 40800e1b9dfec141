"""Kernel launches and GEMM calls per training step of the CUDA engine, counted by the CUDA
emulator (../shared/emu, EMU_VERBOSE=1 exit summary): the difference between a run of 4 steps
and one of 2 (the graph off, so that every launch is counted), halved. Each configuration has
a bound, the count reached, which the count must equal: with the tangent penalty the main
loss's rows ride in the penalty's stacked GEMMs, so a step is the gather, one elementwise
kernel per tanh layer and direction, the top kernel (loss, norms, sums) and the update; a
change that adds launches or GEMM calls fails here, and one that saves some lowers the bound.
Skipped (77) without the emulator (a real GPU counts nothing here).

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import os
import re
import subprocess
import sys

from harness import BIN, check, emulated, finish, scratch

BASE = ["train", "--device", "cuda", "--cuda-graph", "off", "--data", "usps", "--train-limit", "200", "--valid",
        "50", "--batch", "20", "--epochs", "1", "--lr", "0.05", "--progress", "never"]
NJ = ["--jac-lambda", "0.1", "--jac-noise", "0.3"]
# name, options, (kernel launches, GEMM calls) per step: the counts reached.
CASES = [
    ("output_K1_3layers", ["--hidden", "32,16"] + NJ + ["--jac-target", "output", "--jac-proj", "1"], (7, 8)),
    ("output_K1_3layers_input_noise", ["--hidden", "32,16", "--input-noise", "0.2"] + NJ +
     ["--jac-target", "output", "--jac-proj", "1"], (7, 8)),
    ("hidden_1_K3_3layers", ["--hidden", "32,16"] + NJ + ["--jac-target", "hidden:1", "--jac-proj", "3"], (7, 8)),
    # Reverse mode: per chunk of classes a layer kernel and GEMM down, the norms kernel, a layer
    # kernel and two GEMMs up; the main rows' output layer alone (three GEMMs).
    ("output_exact_3layers", ["--hidden", "32,16"] + NJ + ["--jac-target", "output", "--jac-proj", "exact"],
     (12, 14)),
    ("hidden1_3layers", ["--hidden", "32,16"] + NJ, (8, 8)),
    ("plain_3layers", ["--hidden", "32,16"], (7, 8)),
    ("plain_3layers_input_noise", ["--hidden", "32,16", "--input-noise", "0.2"], (7, 8)),
]
SUMMARY = re.compile(r"exit summary: .*?(\d+) kernel launches .*?(\d+) GEMM calls")


def counts(args, folder):
    env = {k: v for k, v in os.environ.items() if k != "EMU_LOG"}
    p = subprocess.run([BIN] + args + ["--out", folder], capture_output=True, text=True, timeout=600,
                       env={**env, "EMU_VERBOSE": "1"})
    check(p.returncode == 0, f"{' '.join(args)}: exit {p.returncode}: {p.stderr[-2000:]}")
    check("FINDING" not in p.stderr, f"{' '.join(args)}: emulator findings: {p.stderr[-2000:]}")
    m = SUMMARY.search(p.stderr)
    check(m is not None, f"{' '.join(args)}: no emulator exit summary")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def main():
    if not emulated():
        print("skipped: launches are counted under the CUDA emulator only")
        return 77
    with scratch("jacnoise-launches-") as tmp:
        for name, opts, (max_launches, max_gemms) in CASES:
            two = counts(BASE + opts + ["--max-steps", "2"], os.path.join(tmp, name + "_2"))
            four = counts(BASE + opts + ["--max-steps", "4"], os.path.join(tmp, name + "_4"))
            launches, gemms = (four[0] - two[0]) / 2, (four[1] - two[1]) / 2
            print(f"{name}: {launches:g} kernel launches, {gemms:g} GEMM calls per step "
                  f"(bound {max_launches}, {max_gemms})")
            # Equal, not at most: at most passed with nothing counted (a graph left on, a step
            # limit not taken).
            check(launches == max_launches, f"{name}: {launches:g} kernel launches per step, the bound {max_launches}")
            check(gemms == max_gemms, f"{name}: {gemms:g} GEMM calls per step, the bound {max_gemms}")
    return finish("launch count")


if __name__ == "__main__":
    sys.exit(main())
