"""`jacnoise check`'s verdict: every tensor compared (loss, penalty, each layer's gradient,
parameters and momentum; with a penalty, the gradient again with the penalty leading it), each row failed exactly where its relative difference exceeds the
tolerance (1e-4 by default in fp32, else --tolerance), the worst of them in the last line, and
exit 1 with one line on stderr where any row failed; the engines' error counts, equal here; a
NaN or Inf on either side (a diverged checkpoint) fails its rows and names the first; a
checkpoint's run checked in TF32 (the GEMM precision is not the run's to keep), and in fp32,
said, under NVIDIA_TF32_OVERRIDE=0, and in TF32, said, under a value NVIDIA reserves (1); in TF32 at
--jac-noise 10 (saturated tanh units), a correct engine within the default tolerance, whose
derivation counts the gates' error; error counts apart beyond the near ties, every row within
the tolerance, fail the check on their own (a model whose predictions hinge on weight bits TF32
drops; on a GPU whose cuBLAS runs its GEMMs in fp32 both engines agree). Skipped (77) where no
CUDA device is visible."""
import json
import math
import os
import re
import shutil
import sys
import tempfile

import numpy as np

import ckpt
from harness import check, cuda_device_visible, emulated, finish, run

ROW = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)(  FAIL)?$")


def verdict(p, tolerance, errors_apart=False):
    """The table's rows {name: relative difference}, checked against the tolerance and the last
    line (errors_apart: the error counts fail the check too)."""
    lines = p.stdout.strip().splitlines()
    head = next((i for i, line in enumerate(lines) if line.startswith("tensor ")), None)
    check(head is not None and f"(tolerance {tolerance:.1e} " in lines[head], f"no table for {tolerance:.1e}: {p.stdout[-800:]}")
    if head is None:
        return {}
    rows = {}
    for line in lines[head + 1:-1]:
        m = ROW.match(line)
        check(m is not None, f"not a row: {line!r}")
        if m:
            rel = float(m.group(3))
            rows[m.group(1)] = rel
            check(bool(m.group(4)) == (rel > tolerance), f"{line!r}: FAIL against {tolerance:.1e}?")
    rows_failed = any(rel > tolerance for rel in rows.values())
    failed = rows_failed or errors_apart
    worst = max(rows.values(), default=0)
    last = lines[-1]
    check(last.startswith("FAILED:" if failed else "passed:") and f"worst relative difference {worst:.2e} "
          f"{'above' if rows_failed else 'within'}" in last, f"last line {last!r}; rows {rows}")
    check(p.returncode == (1 if failed else 0), f"exit {p.returncode} with rows {'failed' if failed else 'passed'}")
    if failed:
        check(p.stderr.count("\n") == 1 and p.stderr.startswith("jacnoise: check: "), f"stderr {p.stderr!r}")
    return rows


def errors_line(p):
    """The engines' error counts (gpu, cpu, near ties), or None."""
    m = re.search(r"^errors: gpu (\d+) cpu (\d+), (\d+) examples? w", p.stdout, re.M)
    check(m is not None, f"no errors line: {p.stdout[-800:]}")
    return tuple(map(int, m.groups())) if m else None


def predictions_apart(tmp, env):
    """The engines' predictions apart beyond the near ties, every tensor within the tolerance:
    the check fails on the error counts alone. A model whose predictions hinge on weight bits
    TF32 drops: every hidden unit at exactly 1 (no weights, bias 50); class j's weights
    2^-6 (1 + 2^-12), which TF32 rounds to 2^-6, with bias -1, class k's 2^-6 with bias
    -1 + 2^-13, the others' 0. Its logit is 2^-12 on the CPU and 0 in TF32, k's 2^-13 on both:
    the CPU predicts j for every example, the CUDA engine k, the top two 2^-13 apart (no near
    tie), the losses and gradients a few 1e-5 apart at most (the hidden layer gets no gradient).
    The training set is one batch: the counts differ by its examples of j against k. env: without
    NVIDIA_TF32_OVERRIDE, which would turn the TF32 off."""
    data = ["--data", "usps", "--train-limit", "200", "--valid", "100"]
    counts = json.loads(run(["data"] + data).stdout)["splits"]["train"]["class_counts"]
    j, k = counts.index(max(counts)), counts.index(min(counts))
    n = sum(counts)
    folder = os.path.join(tmp, "apart")
    run(["train", "--out", folder, "--hidden", "64", "--batch", str(n), "--epochs", "1", "--device", "cpu",
         "--progress", "never"] + data)
    last = os.path.join(folder, "last.ckpt")
    ckpt.set_weights(last, 1, 0.0, 50.0)
    w, b = np.zeros((len(counts), 64)), np.zeros(len(counts))
    w[j], b[j] = 2.0 ** -6 * (1 + 2.0 ** -12), -1.0
    w[k], b[k] = 2.0 ** -6, -1 + 2.0 ** -13
    ckpt.set_weights(last, 2, w, b)
    p = run(["check", "--steps", "1", "--precision", "tf32", "--checkpoint", last], expect=None, env=env)
    tolerance = re.search(r"\(tolerance (\S+) on the relative", p.stdout)
    tolerance = float(tolerance.group(1)) if tolerance else 0
    counted = errors_line(p)
    if counted == (n - counts[j], n - counts[j], 0) and emulated() is False:
        # TF32 math lets cuBLAS use TF32, it does not make it: on a GPU it may pick an fp32
        # kernel for these shapes, and then both engines agree. The emulator always rounds.
        print("predictions apart: this GPU's cuBLAS ran these GEMMs in fp32: both engines agree, not exercised")
        verdict(p, tolerance)
        return
    check(p.returncode == 1, f"predictions apart: exit {p.returncode}, expected 1: {p.stdout[-800:]}")
    rows = verdict(p, tolerance, errors_apart=True)
    check(rows and max(rows.values()) <= tolerance, f"predictions apart: rows {rows} beyond {tolerance}")
    check(counted == (n - counts[k], n - counts[j], 0), f"predictions apart: errors gpu, cpu, near ties {counted}, "
          f"expected {(n - counts[k], n - counts[j], 0)}")
    check(re.search(r"^errors: .*  FAIL$", p.stdout, re.M), f"predictions apart: errors line not failed: {p.stdout}")
    want = (f"jacnoise: check: the CUDA engine misclassified {n - counts[k]} examples, the CPU reference "
            f"{n - counts[j]}: {counts[j] - counts[k]} apart step by step, more than the 0 near ties\n")
    check(p.stderr == want, f"predictions apart: stderr {p.stderr!r}, expected {want!r}")


def main():
    if not cuda_device_visible():
        return 77
    tmp = tempfile.mkdtemp(prefix="jacnoise-check-")
    small = ["--data", "usps", "--hidden", "12,8", "--train-limit", "200", "--valid", "100", "--batch", "20",
             "--lr", "0.05", "--jac-lambda", "0.1", "--jac-noise", "0.1", "--jac-target", "output"]
    run(["train", "--out", os.path.join(tmp, "run"), "--epochs", "2", "--max-steps", "3", "--device", "cpu",
         "--progress", "never"] + small)
    ck = ["--checkpoint", os.path.join(tmp, "run", "last.ckpt")]
    # pgrad: the gradient with the penalty leading it, where a wrong penalty gradient shows.
    names = {"loss", "penalty"} | {f"{what}.{p}{l}" for what in ("grad", "pgrad", "params", "velocity")
                                   for p in "Wb" for l in (1, 2, 3)}
    p = run(["check", "--steps", "2"] + ck)
    rows = verdict(p, 1e-4)
    check(set(rows) == names, f"rows {sorted(rows)}, expected {sorted(names)}")
    counts = errors_line(p)
    check(counts is None or abs(counts[0] - counts[1]) <= counts[2], f"error counts gpu, cpu, near ties: {counts}")
    one = run(["check", "--steps", "1"] + ck)
    check(" 1 step (fp32)" in one.stdout.splitlines()[-1], f"one step: {one.stdout.splitlines()[-1:]}")
    # Logits overflowing float32 (the last layer's weights at 3e38): loss and gradients NaN on
    # both engines, each such row failed (a NaN difference passed every threshold), the first named.
    diverged = os.path.join(tmp, "diverged.ckpt")
    shutil.copyfile(os.path.join(tmp, "run", "last.ckpt"), diverged)
    ckpt.set_weights(diverged, -1, 3e38)
    p = run(["check", "--steps", "1", "--checkpoint", diverged], expect=1)
    bad = verdict(p, 1e-4)
    check(bad.get("loss") == math.inf and bad.get("grad.W1") == math.inf, f"diverged: rows {bad}")
    check("loss is not finite (NaN or Inf) on both engines at step 1" in p.stderr, f"diverged: stderr {p.stderr!r}")
    # A tolerance between two of the rows' differences: those above it fail.
    rels = sorted(set(rows.values()))
    gaps = [(b / a, a, b) for a, b in zip(rels, rels[1:]) if a > 0]
    if gaps:
        _, below, above = max(gaps)
        tolerance = float(f"{math.sqrt(below * above):.1e}")
        if below < tolerance < above:
            p = run(["check", "--steps", "2", "--tolerance", str(tolerance)] + ck, expect=1)
            check(verdict(p, tolerance) == rows, "another tolerance, other differences")
    tf32_env = {k: v for k, v in os.environ.items() if k != "NVIDIA_TF32_OVERRIDE"}
    p = run(["check", "--steps", "2", "--precision", "tf32"] + ck, env=tf32_env)
    check(" 2 steps (tf32)" in p.stdout.splitlines()[-1], f"tf32: {p.stdout.splitlines()[-1:]}")
    # A large --jac-noise saturates the tanh units at x~, where TF32's error on z moves the
    # gates g = 1 - a^2 (the penalty's gradient holds g^2) beyond the GEMM chain's bound: the
    # default tolerance adds the gates' term measured at the first step, so that a correct
    # engine passes (it failed at 1.6e-2 to 1.9e-2 against 9.6e-3 under the emulator).
    at = small.index("--jac-noise") + 1
    noisy = small[:at] + ["10"] + small[at + 1:]
    p = run(["check", "--steps", "2", "--precision", "tf32"] + noisy, expect=None, env=tf32_env)
    check(p.returncode == 0, f"tf32 at --jac-noise 10: exit {p.returncode}: {p.stdout[-1500:]}")
    derived = re.search(r"Tolerance = 4 x \((\S+) \+ (\S+)\) = (\S+):", p.stdout)
    table = re.search(r"\(tolerance (\S+) on the relative", p.stdout)
    check(derived and table, f"tf32 at --jac-noise 10: no derivation or table: {p.stdout[-1500:]}")
    if derived and table:
        chain, gates, total = map(float, derived.groups())
        tolerance = float(table.group(1))
        check(gates > chain and abs(total - tolerance) <= 0.05 * tolerance,
              f"tf32 at --jac-noise 10: tolerance {tolerance:.1e}, derived 4 x ({chain:.2e} + gates {gates:.2e})")
        verdict(p, tolerance)
    # NVIDIA_TF32_OVERRIDE=0 turns TF32 off in cuBLAS: checked as the fp32 that runs, and said.
    p = run(["check", "--steps", "1", "--precision", "tf32"] + ck, env=dict(tf32_env, NVIDIA_TF32_OVERRIDE="0"))
    verdict(p, 1e-4)
    check("note: NVIDIA_TF32_OVERRIDE=0 turns TF32 off: the GPU's GEMMs run in fp32, and are checked as such\n"
          in p.stdout and " 1 step (fp32)" in p.stdout.splitlines()[-1], f"tf32 overridden: {p.stdout[-800:]}")
    # Any other value NVIDIA reserves: checked as the TF32 asked, and said.
    p = run(["check", "--steps", "1", "--precision", "tf32"] + ck, env=dict(tf32_env, NVIDIA_TF32_OVERRIDE="1"))
    check("note: NVIDIA_TF32_OVERRIDE=1: NVIDIA documents 0 alone (TF32 off) and reserves other values: the GEMMs "
          "are checked as the TF32 asked\n" in p.stdout and " 1 step (tf32)" in p.stdout.splitlines()[-1],
          f"tf32 with a reserved override: {p.stdout[-800:]}")
    predictions_apart(tmp, tf32_env)
    return finish("check", tmp)


if __name__ == "__main__":
    sys.exit(main())
