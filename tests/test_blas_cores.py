#!/usr/bin/env python3
"""OpenBLAS core selection, end to end.

- The GEMM oracle (test_gemm) passes under every core jacnoise may select (Haswell, Zen,
  SkylakeX), each forced with OPENBLAS_CORETYPE; a core whose instructions this CPU lacks is
  skipped, saying so.
- Skipped when the build's CBLAS is not OpenBLAS (CMake warns at configure time).
- `jacnoise info` run as if OpenBLAS had fallen back to Prescott (JACNOISE_TEST_BLAS_REPORTED)
  re-executes itself once with the core for this CPU and says so; the user's
  OPENBLAS_CORETYPE is respected, and one OpenBLAS passes over is not said to have set the
  core; a core OpenBLAS ignores gives one warning line; train's
  run header names the core and who chose it; `info` says "1 thread", "2 threads".

Environment (set by CTest): JACNOISE_BIN, JACNOISE_TEST_GEMM (the test_gemm program)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, check, finish, scratch  # noqa: E402

GEMM = os.environ.get("JACNOISE_TEST_GEMM", "")
# What each selectable core executes (the /proc/cpuinfo names of the instructions).
CORES = {"Haswell": {"avx2", "fma"}, "Zen": {"avx2", "fma"},
         "SkylakeX": {"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"}}


def cpu():
    """(flags, vendor) from /proc/cpuinfo."""
    flags, vendor = set(), ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            if line.startswith("vendor_id") and not vendor:
                vendor = line.split(":", 1)[1].strip()
    return flags, vendor


def env(**kw):
    e = {k: v for k, v in os.environ.items()
         if k not in ("OPENBLAS_CORETYPE", "JACNOISE_TEST_BLAS_REPORTED", "JACNOISE_BLAS_CORE_REQUESTED")}
    e.update(kw)
    return e


def info(**kw):
    p = subprocess.run([BIN, "info"], capture_output=True, text=True, env=env(**kw), timeout=60)
    line = next((l for l in p.stdout.splitlines() if l.startswith("blas core:")), "")
    return p, line


def main():
    if not os.path.exists("/proc/cpuinfo"):
        print("no /proc/cpuinfo: skipping")
        return 77
    blas = next((l for l in info()[0].stdout.splitlines() if l.startswith("blas:")), "")
    if "not OpenBLAS" in blas:
        print(f"this build's CBLAS is not OpenBLAS ({blas!r}): there is no core to select; skipping")
        return 77
    flags, vendor = cpu()
    amd = vendor in ("AuthenticAMD", "HygonGenuine")

    for core, needs in CORES.items():
        lacks = sorted(needs - flags)
        if lacks:
            print(f"skip {core}: this CPU lacks {' '.join(lacks)}")
            continue
        p = subprocess.run([GEMM], capture_output=True, text=True, env=env(OPENBLAS_CORETYPE=core), timeout=300)
        print(f"test_gemm under {core}: exit {p.returncode}; {p.stdout.splitlines()[0] if p.stdout else ''}")
        check(p.returncode == 0, f"test_gemm under OPENBLAS_CORETYPE={core}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        check(f"blas core: {core}" in p.stdout, f"test_gemm under {core} ran another core: {p.stdout[:200]}")

    # The core jacnoise should choose when OpenBLAS falls back to Prescott here.
    if CORES["SkylakeX"] <= flags:
        want = "SkylakeX"
    elif CORES["Haswell"] <= flags:
        want = "Zen" if amd else "Haswell"
    else:
        want = None
    p, line = info(JACNOISE_TEST_BLAS_REPORTED="Prescott")
    print("fallback to Prescott:", line)
    check(p.returncode == 0 and not p.stderr, f"info after re-execution: exit {p.returncode}, stderr {p.stderr!r}")
    if want:
        check(line.startswith(f"blas core: {want} (selected by jacnoise: OpenBLAS chose Prescott)"),
              f"expected {want} selected by jacnoise, got {line!r}")
    else:
        check("chosen by OpenBLAS" in line, f"nothing better to select on this CPU, got {line!r}")
    # The run header names the core in use and who chose it.
    with scratch("jn_blas_") as tmp:
        p = subprocess.run([BIN, "train", "--data", "usps", "--hidden", "5", "--max-steps", "1", "--out",
                            os.path.join(tmp, "run")], capture_output=True, text=True,
                           env=env(JACNOISE_TEST_BLAS_REPORTED="Prescott"), timeout=120)
        header = p.stdout.splitlines()[0] if p.stdout else ""
        print("run header:", header)
        origin = f"{want}, selected by jacnoise: OpenBLAS chose Prescott" if want else "chosen by OpenBLAS"
        check(p.returncode == 0 and f"BLAS core {origin}" in header, f"train's header lacks the core: {header!r}")

    # The user's choice wins, even over a generic fallback.
    p, line = info(JACNOISE_TEST_BLAS_REPORTED="Prescott", OPENBLAS_CORETYPE="Prescott")
    print("user override:", line)
    check(line.startswith("blas core: Prescott (set by OPENBLAS_CORETYPE)"), f"user override not kept: {line!r}")

    # A value OpenBLAS passes over (it names no core) is not said to have set the core; a
    # control character of it is escaped.
    for value, shown in (("bogus", "bogus"), ("", ""), ("\x1b[2J", "\\x1b[2J")):
        p, line = info(OPENBLAS_CORETYPE=value)
        print(f"OPENBLAS_CORETYPE={value!r}:", line)
        check(f"(chosen by OpenBLAS: it did not take OPENBLAS_CORETYPE='{shown}')" in line,
              f"OPENBLAS_CORETYPE={value!r} said to set the core: {line!r}")

    # A re-executed process whose core did not take: one warning line, and it goes on.
    p, line = info(OPENBLAS_CORETYPE="Prescott", JACNOISE_BLAS_CORE_REQUESTED="Haswell Prescott")
    warnings = [l for l in p.stderr.splitlines() if l]
    print("core ignored:", warnings[0] if warnings else "(no warning)")
    check(p.returncode == 0 and len(warnings) == 1 and "ignored OPENBLAS_CORETYPE" in warnings[0],
          f"expected one warning line, got exit {p.returncode}, stderr {p.stderr!r}")

    # The thread count, in the singular for one (OpenBLAS runs at most one thread per core).
    for threads, words in (("1", "1 thread;"), ("2", "2 threads;"))[:1 if (os.cpu_count() or 1) < 2 else 2]:
        p, line = info(OPENBLAS_NUM_THREADS=threads)
        check(words in line, f"OPENBLAS_NUM_THREADS={threads}: expected {words!r} in {line!r}")
    return finish("BLAS core")


if __name__ == "__main__":
    sys.exit(main())
