#!/usr/bin/env python3
"""bench/peers/run_peers.py's refusals, none of which times anything: an option the script
refuses is one line and exit 2 before the peers load (an unwritable --csv included); one
jacnoise refuses is jacnoise's line and exit 2; a --jacnoise that exits 0 without its step
state is one line naming it and that file, exit 1; no table is written.

Environment (set by CTest): JACNOISE_BIN, JACNOISE_DATA."""
import os
import subprocess
import sys
import tempfile

from harness import BIN, check, finish

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "peers", "run_peers.py")
TINY = ["--data", "usps", "--hidden", "5", "--batch", "2", "--penalty", "hidden1", "--reps", "1", "--rounds", "1",
        "--warmup", "0", "--threads", "1"]


def main():
    with tempfile.TemporaryDirectory(prefix="jacnoise-peers.") as tmp:
        table = os.path.join(tmp, "peers.csv")
        silent = os.path.join(tmp, "silent")  # exits 0 and writes nothing
        with open(silent, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(silent, 0o755)
        for args, code, words, started in [
            (["--penalty", "bogus"], 2, "--penalty bogus", False),
            (["--threads", "0"], 2, "--threads 0", False),
            (["--csv", os.path.join(tmp, "no", "p.csv")], 2, "cannot write in", False),
            (["--csv", tmp], 2, "is a folder", False),
            (["--jacnoise", tmp], 2, "is not the jacnoise program", False),
            (["--penalty", "output:bogus"], 2, "--jac-proj", True),
            (["--jacnoise", silent], 1, f"{silent} step exited 0, but its step state", True),
        ]:
            cmd = [sys.executable, SCRIPT, "--jacnoise", BIN, "--csv", table] + TINY + args
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == code and len(lines) == 1 and words in lines[0],
                  f"run_peers {' '.join(args)}: exit {p.returncode} (expected {code}), stderr {p.stderr!r}")
            # The script's own refusals come before the peers load and the table's header.
            check(started or p.stdout == "", f"run_peers {' '.join(args)}: stdout {p.stdout!r}")
            check(not os.path.exists(table), f"run_peers {' '.join(args)}: wrote {table}")
    return finish("peers")


if __name__ == "__main__":
    sys.exit(main())
