"""Temporary files outside train: a sweep and a merge starting on a folder remove the
temporary files of its shared files (results.csv, sweep.spec: NAME.HOST.PID.tmp) that killed
processes of this host left, which piled up there for ever, never a live process's nor
another host's.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

from harness import check, finish, run
from test_sweep import TINY_SPEC, sweep


def left(folder):
    """The temporary files under folder."""
    return sorted(os.path.relpath(os.path.join(d, n), folder) for d, _, names in os.walk(folder)
                  for n in names if n.endswith(".tmp"))


def dead_pid():
    """A pid no process has: a child's, once reaped."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def stale_shared_files(tmp, spec, reference):
    """A sweep and a merge on a folder holding a dead writer's temporary files of results.csv
    and sweep.spec remove them, and keep a live process's and another host's."""
    host, dead = socket.gethostname(), dead_pid()
    for command in ("sweep", "merge"):
        folder = os.path.join(tmp, f"stale-{command}")
        shutil.copytree(reference, folder)
        stale = [f"results.csv.{host}.{dead}.tmp", f"sweep.spec.{host}.{dead}.tmp"]
        kept = [f"results.csv.{host}.{os.getpid()}.tmp", f"results.csv.other-{host}.{dead}.tmp"]
        for name in stale + kept:
            open(os.path.join(folder, name), "w").write("id,hidden\n")
        if command == "sweep":
            sweep(["--spec", spec, "--out", folder])
        else:
            run(["sweep", "merge", folder])
        check(left(folder) == sorted(kept),
              f"{command} on a folder with a killed writer's temporary files: left {left(folder)}, "
              f"expected {sorted(kept)}")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-reliability-tmp-")
    spec = os.path.join(tmp, "study.spec")
    open(spec, "w").write(TINY_SPEC)
    reference = os.path.join(tmp, "reference")
    sweep(["--spec", spec, "--out", reference])
    stale_shared_files(tmp, spec, reference)
    return finish("temporary file", tmp)


if __name__ == "__main__":
    sys.exit(main())
