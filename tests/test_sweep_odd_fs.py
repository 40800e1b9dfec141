"""A sweep on file systems that lack what its usual way of writing needs: where hard links are
refused (vfat, some FUSE and SMB mounts: link() fails with EPERM, injected here by strace into the
real system call), sweep.spec is still created once, whole, by a rename that refuses to replace
(it was refused, 'link failed: Operation not permitted'), and where that is missing too the
sweep is refused in one line saying so, with nothing left behind.

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import os
import shutil
import subprocess
import sys
import tempfile

from harness import BIN, check, finish, read
from test_reliability_tmp import left
from test_sweep import TINY_SPEC


def traced(strace, injections, args):
    """The program run under strace with the given system calls failing (call:errno each)."""
    inject = [a for i in injections for a in ("-e", "inject=" + i.replace(":", ":error=", 1))]
    return subprocess.run([strace, "-f", "-qq", "-o", os.devnull] + inject + [BIN] + args, capture_output=True,
                          text=True, timeout=600)


def no_hard_links(tmp, spec):
    strace = shutil.which("strace")
    if not strace:
        check(False, "no hard links: strace is missing (Debian: strace; tools/setup.sh installs it)")
        return
    out = os.path.join(tmp, "nolinks")
    args = ["sweep", "--spec", spec, "--out", out, "--progress", "never"]
    p = traced(strace, ["link,linkat:EPERM"], args)
    if p.returncode != 0 and "ptrace" in p.stderr:
        print(f"no hard links: NOT CHECKED (strace cannot trace here: {p.stderr.strip()[:200]})")
        return
    check(p.returncode == 0, f"no hard links: the sweep failed ({p.returncode}): {p.stderr.strip()[-300:]}")
    marker = os.path.join(out, "sweep.spec")
    check(os.path.exists(marker) and read(marker) == read(spec), "no hard links: sweep.spec is not the spec")
    p = traced(strace, ["link,linkat:EPERM"], args)
    check(p.returncode == 0, f"no hard links: the sweep again on its folder failed: {p.stderr.strip()[-300:]}")
    other = os.path.join(tmp, "other.spec")
    with open(other, "w") as f:
        f.write(TINY_SPEC.replace("[0.1, 0.2]", "[0.3]"))
    p = traced(strace, ["link,linkat:EPERM"], ["sweep", "--spec", other, "--out", out, "--progress", "never"])
    check(p.returncode == 2 and "holds a sweep of another spec" in p.stderr,
          f"no hard links: another spec on the folder was not refused ({p.returncode}): {p.stderr.strip()[-300:]}")
    check(os.path.exists(marker) and read(marker) == read(spec), "no hard links: sweep.spec was replaced by another spec")
    check(not left(out), f"no hard links: temporary files left: {left(out)}")

    # Neither hard links nor renames that refuse to replace: one line, nothing written.
    bare = os.path.join(tmp, "bare")
    p = traced(strace, ["link,linkat:EPERM", "renameat2:EINVAL"], ["sweep", "--spec", spec, "--out", bare,
                                                                   "--progress", "never"])
    err = p.stderr.strip()
    check(p.returncode == 1 and "sweep.spec" in err and "neither hard links" in err and "\n" not in err,
          f"no hard links nor exclusive renames: not refused in one line ({p.returncode}): {err[-300:]}")
    check(not os.path.exists(os.path.join(bare, "sweep.spec")), "no hard links nor exclusive renames: sweep.spec made")
    check(not left(bare), f"no hard links nor exclusive renames: temporary files left: {left(bare)}")


def main():
    tmp = tempfile.mkdtemp(prefix="jn_oddfs_")
    spec = os.path.join(tmp, "tiny.spec")
    with open(spec, "w") as f:
        f.write(TINY_SPEC)
    no_hard_links(tmp, spec)
    return finish("sweep odd file system", tmp)


if __name__ == "__main__":
    sys.exit(main())
