"""GPU tests through the program: `jacnoise check` (CUDA engine against the CPU reference on
identical inputs) for each of the paper's five rows and every target and estimator;
determinism (same seed, same bytes; graph replay = eager launches); resume across backends
mid-epoch; divergence; a short MNIST run on the GPU learns. Skipped (77) where no CUDA device is visible.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import json
import os
import re
import sys
import tempfile

import ckpt
from harness import check, cuda_device_visible, finish, read, run


def main():
    if not cuda_device_visible():
        return 77
    tmp = tempfile.mkdtemp(prefix="jacnoise-cuda-")
    small = ["--data", "usps", "--hidden", "64,32", "--batch", "50", "--lr", "0.05", "--train-limit", "2000",
             "--valid", "500"]
    rows = {
        "MLP": [],
        "MLP+L2": ["--weight-decay", "1e-3"],
        "MLP+N": ["--input-noise", "0.3"],
        "MLP+J": ["--jac-lambda", "0.1"],
        "MLP+N+J": ["--jac-lambda", "0.1", "--jac-noise", "0.3", "--input-noise", "0.1"],
        "N+J hidden:2 K=3, 2 copies": ["--jac-lambda", "0.1", "--jac-noise", "0.3", "--jac-target", "hidden:2",
                                       "--jac-proj", "3", "--jac-copies", "2"],
        "N+J output K=1": ["--jac-lambda", "0.1", "--jac-noise", "0.3", "--jac-target", "output"],
        "J output exact": ["--jac-lambda", "0.1", "--jac-target", "output", "--jac-proj", "exact"],
        "J hidden:1 exact, squared": ["--jac-lambda", "0.1", "--jac-target", "hidden:1", "--jac-proj", "exact",
                                      "--loss", "squared"],
    }
    for name, extra in rows.items():
        p = run(["check", "--steps", "5"] + small + extra)
        print(f"check {name}: {p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr.strip()}")
    p = run(["check", "--steps", "3", "--data", "mnist", "--hidden", "1000,1000", "--batch", "100", "--lr", "0.05",
             "--jac-lambda", "0.1", "--jac-noise", "0.3", "--jac-target", "output"])
    print(f"check MNIST 784-1000-1000-10 N+J output: {p.stdout.strip().splitlines()[-1] if p.stdout else ''}")

    # TF32 GEMMs against the fp32 CPU, within the tolerance check derives and explains; and
    # TF32 really engaged (fp32 on both sides agrees to ~1e-7).
    p = run(["check", "--steps", "3", "--precision", "tf32"] + small + rows["MLP+N+J"])
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    print(f"check MLP+N+J in TF32: {last}")
    check("TF32 tolerance: TF32 rounds each GEMM input to 10 mantissa bits" in p.stdout,
          "check --precision tf32: no reasoning for its tolerance")
    worst = re.search(r"worst relative difference (\S+)", last)
    check(worst and float(worst.group(1)) > 1e-5, f"check --precision tf32: TF32 not engaged? {last}")

    # Determinism on the GPU, and graph replay against eager launches.
    job = ["train", "--device", "cuda", "--epochs", "2", "--progress", "never", "--jac-lambda", "0.1",
           "--jac-noise", "0.3", "--jac-target", "output", "--input-noise", "0.1"] + small
    for name, extra in (("a", []), ("b", []), ("eager", ["--cuda-graph", "off"])):
        run(job + ["--out", os.path.join(tmp, name)] + extra)
    for other in ("b", "eager"):
        for f in ("last.ckpt", "best.ckpt"):
            check(read(os.path.join(tmp, "a", f)) == read(os.path.join(tmp, other, f)),
                  f"GPU run {other}: {f} differs from run a")

    # Resume across backends, mid-epoch: a run paused half-way through its second epoch on one
    # backend ends on the other. Both compute the same epoch permutation (rng.h), so the rest of
    # the epoch visits exactly the examples not yet seen: the result is the uninterrupted run's,
    # up to the backends' float32 rounding (a wrong rest of the epoch moves it by ~1e-2). No
    # noise: cuRAND's normals and the CPU's are different draws (SPEC.md, Randomness).
    data = json.loads(run(["data"] + small[:2] + small[-4:]).stdout)
    batches = -(-data["splits"]["train"]["examples"] // 50)
    pause = batches + batches // 2 + 1
    job = ["train", "--epochs", "2", "--progress", "never", "--jac-lambda", "0.1"] + small
    whole = {}
    for dev in ("cuda", "cpu"):
        whole[dev] = os.path.join(tmp, f"whole-{dev}")
        run(job + ["--device", dev, "--out", whole[dev]])
    for first, second in (("cuda", "cpu"), ("cpu", "cuda")):
        folder = os.path.join(tmp, f"{first}-then-{second}")
        run(job + ["--device", first, "--max-steps", str(pause), "--out", folder])
        run(["train", "--resume", "--device", second, "--out", folder, "--progress", "never"])
        summary = json.load(open(os.path.join(folder, "summary.json")))
        check(summary["status"] == "finished" and summary["steps"] == 2 * batches,
              f"{first} then {second}: {summary['status']} after {summary['steps']} steps, expected {2 * batches}")
        ends = ckpt.params(os.path.join(folder, "last.ckpt"))
        for dev, ref in whole.items():
            diff = ckpt.rel_diff(ends, ckpt.params(os.path.join(ref, "last.ckpt")))
            print(f"{first} to step {pause}, then {second}: parameters vs the {dev}-only run: {diff:.2e}")
            check(diff < 1e-4, f"{first} then {second}: parameters differ from the {dev}-only run by {diff:.2e}")

    # The divergence path, reached on purpose (ckpt.py).
    ckpt.divergence_from_checkpoint(tmp, "cuda")

    # A short MNIST run on the GPU learns (same bound as the CPU's end-to-end test).
    mnist = os.path.join(tmp, "mnist")
    run(["train", "--device", "cuda", "--data", "mnist", "--hidden", "100", "--epochs", "4", "--train-limit", "10000",
         "--valid", "2000", "--lr", "0.05", "--jac-lambda", "0.01", "--jac-noise", "0.1", "--out", mnist,
         "--progress", "never"])
    summary = json.load(open(os.path.join(mnist, "summary.json")))
    check(summary["test_error"] is not None and summary["test_error"] < 10.0,
          f"GPU MNIST run: test error {summary['test_error']}")
    print(f"GPU MNIST run: test error {summary['test_error']}%")
    # Its errors, counted on the GPU in batches (the test set in several), are eval's on the
    # CPU, up to an example whose two largest logits the backends' rounding orders otherwise.
    report = json.loads(run(["eval", "--checkpoint", os.path.join(mnist, "best.ckpt")]).stdout)
    for split, error in (("test", summary["test_error"]), ("valid", summary["best_valid_error"])):
        counted = report["splits"][split]
        check(abs(counted["error"] - error) * counted["examples"] / 100 <= 1.001,
              f"GPU MNIST run: {split} error {error}%, eval on its checkpoint {counted['error']}%")

    return finish("GPU", tmp)


if __name__ == "__main__":
    sys.exit(main())
