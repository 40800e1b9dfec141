"""The device a run trained on, as its folder records it: summary.json's backend, GPU name,
its number in the process and PCI address (the device `info` names current), compute
capability, the driver's and runtime's CUDA versions and whether its GEMMs ran in TF32 (not
where NVIDIA_TF32_OVERRIDE=0 turned the TF32 asked off, which it says), and the line `jacnoise
show` prints for the run's checkpoints; a run resumed on the other backend records the one that
ended it; a CUDA_VISIBLE_DEVICES that hides every GPU is named in --device cuda's refusal (and
check's, and info's). Skipped (77) where no CUDA device is visible.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import json
import os
import re
import sys
import tempfile

from harness import check, cuda_device_visible, finish, metrics, run

TINY = ["--data", "usps", "--hidden", "8", "--batch", "50", "--train-limit", "200", "--valid", "50", "--epochs", "1",
        "--progress", "never"]
VERSION = r"\d+\.\d+"
PCI = r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.0"
# The runs' TF32 is what each case sets.
ENV = {k: v for k, v in os.environ.items() if k != "NVIDIA_TF32_OVERRIDE"}


def shown_device(folder):
    """The device line `show` prints for the run's best checkpoint."""
    lines = [l for l in run(["show", os.path.join(folder, "best.ckpt")]).stdout.splitlines() if l.startswith("device:")]
    return lines[0] if lines else None


def check_cuda(folder, tf32, override=False):
    """The record of a CUDA run whose GEMMs ran in TF32 or not (override: TF32 asked, turned off
    by NVIDIA_TF32_OVERRIDE=0)."""
    s = json.load(open(os.path.join(folder, "summary.json")))
    name = os.path.basename(folder)
    check(s.get("backend") == "cuda" and s.get("device") and s.get("device") != "unknown CUDA device",
          f"{name}: summary.json backend and GPU: {s}")
    # The process sees one device at its number 0 (CUDA_VISIBLE_DEVICES chooses which GPU that is).
    check(s.get("cuda_device") == 0 and re.fullmatch(PCI, s.get("pci_bus_id", "")),
          f"{name}: device number and PCI address {s}")
    check(re.fullmatch(VERSION, s.get("compute_capability", "")), f"{name}: compute capability {s}")
    # The CPU emulation's headers have no version queries: "unknown" there, never on a GPU.
    check(all(re.fullmatch(VERSION + "|unknown", s.get(k, "")) for k in ("cuda_driver", "cuda_runtime")),
          f"{name}: CUDA versions {s}")
    check(s.get("tf32") is tf32 and s.get("tf32_override") is override,
          f"{name}: tf32 {s.get('tf32')!r}, tf32_override {s.get('tf32_override')!r}, expected {tf32}, {override}")
    check("threads" not in s and "blas" not in s, f"{name}: the CPU's fields on a CUDA run: {s}")
    want = (f"device: cuda, {s.get('device')} (device 0, PCI {s.get('pci_bus_id')}), compute capability "
            f"{s.get('compute_capability')}, CUDA driver {s.get('cuda_driver')}, runtime {s.get('cuda_runtime')}, "
            f"{'TF32' if tf32 else 'fp32'} GEMMs{' (TF32 turned off by NVIDIA_TF32_OVERRIDE=0)' if override else ''}")
    got = shown_device(folder)
    check(got == want, f"{name}: show printed {got!r}, expected {want!r}")
    info = run(["info"]).stdout
    current = f"current device 0: {s.get('device')} (PCI {s.get('pci_bus_id')})\n"
    check(current in info, f"{name}: info does not name the run's device ({current!r}): {info!r}")


def hidden_devices(tmp):
    """An empty CUDA_VISIBLE_DEVICES hides every GPU: the refusal names it, where "no CUDA device
    is visible" alone sent one looking for a GPU the machine has. The emulator reads
    EMU_DEVICE_COUNT, not the list, for its device count."""
    env = dict(ENV, CUDA_VISIBLE_DEVICES="", EMU_DEVICE_COUNT="0")
    why = ('no CUDA device is visible with CUDA_VISIBLE_DEVICES="" (it lists the GPUs a process may use; unset, '
           'every GPU is visible)\n')
    for args, prefix in ((["train", "--device", "cuda", "--out", os.path.join(tmp, "hidden")] + TINY, "--device cuda"),
                         (["check", "--data", "usps", "--hidden", "8"], "check")):
        p = run(args, expect=None, env=env)
        check(p.returncode == 1 and p.stderr == f"jacnoise: {prefix}: {why}",
              f"{args[0]} with every GPU hidden: exit {p.returncode}, stderr {p.stderr!r}")
    # info says why it sees none, as --device cuda does.
    info = run(["info"], env=env).stdout
    check(f"cuda: built in, 0 device(s) visible; {why}" in info, f"info with every GPU hidden: {info!r}")


def main():
    if not cuda_device_visible():
        return 77
    tmp = tempfile.mkdtemp(prefix="jacnoise-cuda-record-")
    hidden_devices(tmp)
    for name, tf32 in (("fp32", False), ("tf32", True)):
        folder = os.path.join(tmp, name)
        run(["train", "--device", "cuda", "--precision", name, "--out", folder] + TINY, env=ENV)
        check_cuda(folder, tf32)
    # NVIDIA_TF32_OVERRIDE=0 turns TF32 off in cuBLAS whatever the run asks: recorded as fp32
    # GEMMs, and why; without TF32 asked, nothing was turned off.
    for name, tf32 in (("fp32", False), ("tf32", True)):
        folder = os.path.join(tmp, name + "-override")
        run(["train", "--device", "cuda", "--precision", name, "--out", folder] + TINY,
            env=dict(ENV, NVIDIA_TF32_OVERRIDE="0"))
        check_cuda(folder, False, override=tf32)
    check(metrics(os.path.join(tmp, "tf32-override")) == metrics(os.path.join(tmp, "fp32")),
          "tf32 under NVIDIA_TF32_OVERRIDE=0: not the fp32 run's metrics")
    # Paused after 2 of its 4 steps on one backend, ended on the other: the summary is the
    # ending process's.
    for first, second in (("cpu", "cuda"), ("cuda", "cpu")):
        folder = os.path.join(tmp, f"{first}-then-{second}")
        run(["train", "--device", first, "--max-steps", "2", "--out", folder] + TINY, env=ENV)
        run(["train", "--resume", "--device", second, "--out", folder, "--progress", "never"], env=ENV)
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
