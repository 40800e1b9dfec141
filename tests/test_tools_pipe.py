#!/usr/bin/env python3
"""Every Python tool piped into a reader that closes early (`tool | head -1`) ends as the C
program does: killed by SIGPIPE, without a word on stderr. Python's default is a
BrokenPipeError traceback, or, where the tool was writing a file, an error blaming that file
('plot_sweep: DIR/plots: Broken pipe'). Each tool runs with its standard output already closed:
its help, and the table results_table prints from the committed results."""
import os
import signal
import subprocess
import sys

from harness import check, finish

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CALLS = [[f"tools/{tool}.py", "--help"] for tool in ("export_model", "kernel_times", "plot_analysis", "plot_profile",
                                                     "plot_sweep", "reproduce", "results_table")]
CALLS += [["bench/peers/run_peers.py", "--help"], ["tools/results_table.py", "results/cpu-small"]]


def main():
    for call in CALLS:
        p = subprocess.Popen([sys.executable] + call, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdout.close()
        err = p.stderr.read().decode(errors="replace")
        code = p.wait(timeout=120)
        check(code == -signal.SIGPIPE and err == "",
              f"{' '.join(call)} | (closed): exit {code}, expected death by SIGPIPE; stderr {err[-300:]!r}")
    sys.exit(finish("test_tools_pipe"))


if __name__ == "__main__":
    main()
