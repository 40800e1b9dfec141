#!/usr/bin/env python3
"""The C benchmarks (bench/), run at sizes that take a second, none of their figures judged:
bench_checkpoint leaves no file in its --dir, after a finished run or one stopped by SIGINT,
SIGTERM or SIGHUP mid-way.

Environment (set by CTest): JACNOISE_BENCH_DIR, the folder of the benchmark programs."""
import os
import signal
import subprocess
import sys
import tempfile
import time

from harness import check, finish

BENCH = os.environ.get("JACNOISE_BENCH_DIR", "")


def checkpoint_cleanup(tmp):
    prog = os.path.join(BENCH, "bench_checkpoint")
    folder = os.path.join(tmp, "disk measured")
    os.makedirs(folder)
    p = subprocess.run([prog, "--sizes", "8,4,2", "--reps", "2", "--dir", folder], capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 0 and "write last.ckpt" in p.stdout and not os.listdir(folder),
          f"bench_checkpoint: exit {p.returncode}, left {os.listdir(folder)}: {p.stderr[-300:]!r}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        # Rounds enough to outlast the wait; stopped once its first file is there.
        p = subprocess.Popen([prog, "--sizes", "784,1000,10", "--reps", "10000", "--dir", folder],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(folder, "bench-last.ckpt")) and time.monotonic() < deadline:
            time.sleep(0.01)
        p.send_signal(sig)
        err = p.communicate(timeout=60)[1]
        left = os.listdir(folder)
        check(p.returncode == -sig and not left, f"bench_checkpoint stopped by {sig.name}: exit {p.returncode}, "
              f"left {left}: {err[-300:]!r}")
        for name in left:
            os.remove(os.path.join(folder, name))


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-bench-")
    checkpoint_cleanup(tmp)
    return finish("benchmark", tmp)


if __name__ == "__main__":
    sys.exit(main())
