#!/usr/bin/env python3
"""Every Python tool (tools/*.py run as a program) refuses a bad command line as jacnoise does:
one line, 'TOOL: MESSAGE' naming the option, exit 2, nothing on standard output; not argparse's
usage line and then the error. --help still prints the usage, exit 0. A tool added to tools/
without a command line below fails the test, so that it is checked too.

A tool that needs matplotlib, run by a python3 without it while Debian's /usr/bin/python3 has it
(pyenv's or conda's python3 first in PATH; here a virtual environment of Debian's), says so in
one line, naming both, exit 1, writing nothing."""
import glob
import os
import subprocess
import sys
import tempfile

from harness import check, finish

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")
# For each tool, arguments its parser accepts (nothing is read: the parse fails first), then a
# bad value of one of its options, and the word the refusal must name.
CALLS = {
    "export_model": (["a.ckpt", "b.npz"], []),
    "kernel_times": (["a.csv"], []),
    "plot_analysis": (["--out", "x", "A=b"], [(["--threads", "many"], "--threads"),
                                              (["--threads", "-1"], "--threads")]),
    "plot_profile": (["a.csv"], []),
    "plot_sweep": (["folder"], [(["--best", "-1"], "--best")]),
    "reproduce": (["--budget", "smoke", "--out", "x"], [(["--budget", "huge"], "--budget"),
                                                        (["--jobs", "0"], "--jobs")]),
    "results_table": (["dir"], [([TOOLS, TOOLS], "given twice")]),
}
# The tools that draw, with a command line that gets as far as matplotlib (OUT is a folder that
# must not be made).
PICTURES = {"plot_analysis": ["--out", "OUT", f"A={TOOLS}"], "plot_profile": ["a.csv", "--out", "OUT"],
            "plot_sweep": [TOOLS, "--out", "OUT"], "reproduce": ["--budget", "smoke", "--out", "OUT"]}
DEBIAN_PYTHON = "/usr/bin/python3"


def check_without_matplotlib():
    if subprocess.run([DEBIAN_PYTHON, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        print(f"without matplotlib: not checked ({DEBIAN_PYTHON} has no matplotlib to point to)")
        return
    with tempfile.TemporaryDirectory() as d:
        env = os.path.join(d, "env")
        if subprocess.run([DEBIAN_PYTHON, "-m", "venv", "--without-pip", env], capture_output=True).returncode != 0:
            print("without matplotlib: not checked (no venv module to make a python3 without it)")
            return
        python = os.path.join(env, "bin", "python3")
        out = os.path.join(d, "out")
        for tool, args in PICTURES.items():
            call = [python, os.path.join(TOOLS, f"{tool}.py")] + [out if a == "OUT" else a for a in args]
            p = subprocess.run(call, capture_output=True, text=True, timeout=120)
            check(p.returncode == 1 and p.stderr.count("\n") == 1 and
                  p.stderr.startswith(f"{tool}: ") and f"matplotlib, which {python} lacks; {DEBIAN_PYTHON} has it" in p.stderr
                  and not os.path.exists(out), f"{tool} without matplotlib: exit {p.returncode}, stderr {p.stderr[-300:]!r}")


def main():
    tools = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(TOOLS, "*.py"))
                   if "__main__" in open(p).read())
    check(sorted(CALLS) == tools, f"tools with a command line {tools}, checked here {sorted(CALLS)}")
    for tool in tools:
        path = os.path.join(TOOLS, f"{tool}.py")
        accepted, bad = CALLS.get(tool, ([], []))
        p = subprocess.run([sys.executable, path, "--help"], capture_output=True, text=True, timeout=120)
        check(p.returncode == 0 and p.stdout.startswith("usage:") and not p.stderr,
              f"{tool} --help: exit {p.returncode}, stdout {p.stdout[:80]!r}, stderr {p.stderr[-300:]!r}")
        cases = [(accepted + ["--no-such-option"], "--no-such-option"), ([], "required")] + \
                [(accepted + args, word) for args, word in bad]
        for args, word in cases:
            p = subprocess.run([sys.executable, path] + args, capture_output=True, text=True, timeout=120)
            check(p.returncode == 2 and p.stderr.startswith(f"{tool}: ") and p.stderr.count("\n") == 1 and
                  word in p.stderr and not p.stdout,
                  f"{tool} {' '.join(args)}: exit {p.returncode}, expected 2 and one line naming {word}; "
                  f"stderr {p.stderr[-300:]!r}, stdout {p.stdout[-100:]!r}")
    check_without_matplotlib()
    sys.exit(finish("test_tools_usage"))


if __name__ == "__main__":
    main()
