"""Every shell tool (tools/*.sh, tools/slurm/*.sbatch, datasets/fetch.sh) answers --help as the Python tools and
jacnoise do: its usage on standard output, naming the tool as it is run, nothing on standard
error, exit 0, and nothing built, trained or written. A tool added later is checked too.
(tools/slurm/sweep.sbatch --help took --help for its SPEC: it printed its usage on stderr, exit 2.)

Run by ctest."""
import glob
import os
import subprocess
import sys

from harness import check, finish, scratch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    scripts = sorted(glob.glob(os.path.join(ROOT, "tools", "*.sh")) +
                     glob.glob(os.path.join(ROOT, "tools", "slurm", "*.sbatch")) +
                     glob.glob(os.path.join(ROOT, "datasets", "*.sh")))
    check(len(scripts) >= 10, f"found {len(scripts)} shell tools")
    with scratch("jacnoise-tools-help-") as d:
        for script in scripts:
            name = os.path.relpath(script, ROOT)
            p = subprocess.run(["bash", script, "--help"], capture_output=True, text=True, timeout=60, cwd=d,
                               stdin=subprocess.DEVNULL)
            check(p.returncode == 0 and p.stderr == "" and f"{name} --help" in p.stdout,
                  f"{name} --help: exit {p.returncode}, stdout {p.stdout[:200]!r}, stderr {p.stderr[:300]!r}")
            check(os.listdir(d) == [], f"{name} --help wrote {os.listdir(d)} in the folder it ran in")
    return finish("shell tools' --help")


if __name__ == "__main__":
    sys.exit(main())
