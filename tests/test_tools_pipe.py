#!/usr/bin/env python3
"""Every Python tool (harness.tools(): one added later too) piped into a reader that closes
early (`tool | head -1`) ends as the C program does: killed by SIGPIPE, without a word on
stderr. Python's default is a BrokenPipeError traceback, or, where the tool was writing a file, an error blaming that file
('plot_sweep: DIR/plots: Broken pipe'). Each tool runs with its standard output already closed:
its help, and the table results_table prints from the committed results.

The benches in bench/ end so too, once their temporary folder is removed: Python's
BrokenPipeError traceback before, and SIGPIPE's default would leave the folder."""
import os
import signal
import subprocess
import sys

from harness import BIN, check, ended, finish, scratch, tools

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CALLS = [[f"tools/{tool}.py", "--help"] for tool in tools()]
CALLS += [["bench/peers/run_peers.py", "--help"], ["tools/results_table.py", "results/cpu-small"]]
# The benches, at their smallest: bench_sweep_cpu.py prints once it has timed everything,
# bench_sweep_results.py its header first.
BENCHES = [["bench/bench_sweep_cpu.py", "--bin", BIN, "--models", "1", "--hidden", "8", "--train-limit", "200",
            "--epochs", "1", "--reps", "1"],
           ["bench/bench_sweep_results.py", "--bin", BIN, "--configs", "200", "--runs", "1"]]


def closed(call, tmp=None):
    env = dict(os.environ, TMPDIR=tmp) if tmp else None
    p = subprocess.Popen([sys.executable] + call, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    p.stdout.close()
    err = ended(p, f"{' '.join(call[:2])} | (closed)", 300)[1].decode(errors="replace")
    code = p.returncode
    left = os.listdir(tmp) if tmp else []
    check(code == -signal.SIGPIPE and err == "" and not left,
          f"{' '.join(call[:2])} | (closed): exit {code}, expected death by SIGPIPE; stderr {err[-300:]!r}, "
          f"left {left}")


def main():
    for call in CALLS:
        closed(call)
    with scratch("jacnoise-tools-pipe-") as tmp:
        for call in BENCHES:
            closed(call, tmp)
    sys.exit(finish("test_tools_pipe"))


if __name__ == "__main__":
    main()
