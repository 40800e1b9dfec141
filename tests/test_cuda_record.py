"""The device a run trained on, as its folder records it: summary.json's backend, GPU name,
compute capability, the driver's and runtime's CUDA versions and the TF32 setting, and the line
`jacnoise show` prints for the run's checkpoints; a run resumed on the other backend records the
one that ended it. Skipped (77) where no CUDA device is visible.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import json
import os
import re
import sys
import tempfile

from harness import check, cuda_device_visible, finish, run

TINY = ["--data", "usps", "--hidden", "8", "--batch", "50", "--train-limit", "200", "--valid", "50", "--epochs", "1",
        "--progress", "never"]
VERSION = r"\d+\.\d+"


def shown_device(folder):
    """The device line `show` prints for the run's best checkpoint."""
    lines = [l for l in run(["show", os.path.join(folder, "best.ckpt")]).stdout.splitlines() if l.startswith("device:")]
    return lines[0] if lines else None


def check_cuda(folder, tf32):
    s = json.load(open(os.path.join(folder, "summary.json")))
    name = os.path.basename(folder)
    check(s.get("backend") == "cuda" and s.get("device") and s.get("device") != "unknown CUDA device",
          f"{name}: summary.json backend and GPU: {s}")
    check(re.fullmatch(VERSION, s.get("compute_capability", "")), f"{name}: compute capability {s}")
    # The CPU emulation's headers have no version queries: "unknown" there, never on a GPU.
    check(all(re.fullmatch(VERSION + "|unknown", s.get(k, "")) for k in ("cuda_driver", "cuda_runtime")),
          f"{name}: CUDA versions {s}")
    check(s.get("tf32") is tf32, f"{name}: tf32 {s.get('tf32')!r}, expected {tf32}")
    check("threads" not in s and "blas" not in s, f"{name}: the CPU's fields on a CUDA run: {s}")
    want = (f"device: cuda, {s.get('device')}, compute capability {s.get('compute_capability')}, CUDA driver "
            f"{s.get('cuda_driver')}, runtime {s.get('cuda_runtime')}, {'TF32' if tf32 else 'fp32'} GEMMs")
    got = shown_device(folder)
    check(got == want, f"{name}: show printed {got!r}, expected {want!r}")


def main():
    if not cuda_device_visible():
        return 77
    tmp = tempfile.mkdtemp(prefix="jacnoise-cuda-record-")
    for name, tf32 in (("fp32", False), ("tf32", True)):
        folder = os.path.join(tmp, name)
        run(["train", "--device", "cuda", "--precision", name, "--out", folder] + TINY)
        check_cuda(folder, tf32)
    # Paused after 2 of its 4 steps on one backend, ended on the other: the summary is the
    # ending process's.
    for first, second in (("cpu", "cuda"), ("cuda", "cpu")):
        folder = os.path.join(tmp, f"{first}-then-{second}")
        run(["train", "--device", first, "--max-steps", "2", "--out", folder] + TINY)
        run(["train", "--resume", "--device", second, "--out", folder, "--progress", "never"])
        if second == "cuda":
            check_cuda(folder, False)
        else:
            s = json.load(open(os.path.join(folder, "summary.json")))
            check(s.get("backend") == "cpu" and s.get("threads", 0) >= 1 and s.get("blas") and "tf32" not in s,
                  f"{first} then {second}: summary.json {s}")
            got = shown_device(folder)
            check(got and got.startswith(f"device: cpu, {s.get('device')}, "), f"{first} then {second}: show {got!r}")
    return finish("device record", tmp)


if __name__ == "__main__":
    sys.exit(main())
