"""A sweep on file systems that lack what its usual way of writing needs: where hard links are
refused (vfat, some FUSE and SMB mounts: link() fails with EPERM, injected here by strace into the
real system call), sweep.spec is still created once, whole, by a rename that refuses to replace
(it was refused, 'link failed: Operation not permitted'), and where that is missing too the
sweep is refused in one line saying so, with nothing left behind; and a merge into a sweep
folder whose runs/ may be written but not read (mode 0333, run as nobody) syncs the file system
through the run folders in it (it failed, 'cannot open folder to sync', and then left the run
folders it made there unsynced); and one on Linux before 5.8 (setarch's uname 2.6 here), whose
syncfs does not report a failed write-back, syncs each file (it used syncfs there, and could
end with success after losing a file); status and merge of a sweep folder its user may not look
in saying so (they said it held no sweep.spec), and a sweep or merge into one its user may not
write naming the folder (they named sweep.spec's temporary file).

Run by ctest with JACNOISE_BIN and JACNOISE_DATA set."""
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

from harness import BIN, check, finish, read, run
from test_reliability import SYNC_CALLS, durable_merge, synced_in_trace
from test_reliability_tmp import left
from test_sweep import TINY_SPEC

AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


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


def unreadable_runs(tmp, spec):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("unreadable runs/: skipped (needs root and setpriv to run the merge as nobody)")
        return
    shard, dest = os.path.join(tmp, "shard"), os.path.join(tmp, "dest")
    run(["sweep", "--spec", spec, "--out", shard, "--progress", "never"])
    runs = os.path.join(dest, "runs")
    os.makedirs(runs)
    for path in (dest, runs):
        os.chown(path, 65534, 65534)
    os.chmod(runs, 0o333)
    strace, trace = shutil.which("strace"), os.path.join(tmp, "unreadable.trace")
    traced = [strace, "-qq", "-e", "trace=" + SYNC_CALLS, "-o", trace] if strace else []
    p = subprocess.run(traced + AS_NOBODY + [BIN, "sweep", "merge", dest, shard], capture_output=True, text=True,
                       timeout=600)
    check(p.returncode == 0, f"unreadable runs/: the merge failed ({p.returncode}): {p.stderr.strip()[-300:]}")
    ids = sorted(os.listdir(os.path.join(shard, "runs")))
    copied = 0
    for name in ids:
        for f in os.listdir(os.path.join(shard, "runs", name)):
            if f != "lock":
                copy = os.path.join(runs, name, f)
                check(os.path.exists(copy) and read(copy) == read(os.path.join(shard, "runs", name, f)),
                      f"unreadable runs/: {name}/{f} not copied whole")
                copied += 1
    if strace:
        # Each copy is renamed into place: a trace without them checked nothing.
        renames = synced_in_trace(trace, runs, "unreadable runs/")
        check(copied and renames == copied, f"unreadable runs/: {renames} renames traced, {copied} files copied")
    else:
        check(False, "unreadable runs/: strace is missing (Debian: strace; tools/setup.sh installs it)")
    check(not left(dest), f"unreadable runs/: temporary files left: {left(dest)}")


def unsearchable_folder(tmp, spec):
    """status and merge of a sweep folder that this user may not look in (mode 0600, as nobody)
    say that its sweep.spec cannot be opened, and of one inside it that the folder cannot be
    reached, exit 1 (they said it held no sweep.spec, or was not a sweep folder)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("unsearchable sweep folder: skipped (needs root and setpriv to run as nobody)")
        return
    folder = os.path.join(tmp, "unsearchable")
    os.makedirs(folder)
    shutil.copy(spec, os.path.join(folder, "sweep.spec"))
    inner = os.path.join(folder, "inner")
    os.makedirs(inner)
    shutil.copy(spec, os.path.join(inner, "sweep.spec"))
    os.chmod(folder, 0o600)
    for name, path in ((folder, folder + "/sweep.spec"), (inner, inner)):
        for args in (["status", name], ["merge", name], ["merge", os.path.join(tmp, "unsearchable-into"), name]):
            p = subprocess.run(AS_NOBODY + [BIN, "sweep"] + args, capture_output=True, text=True, timeout=600)
            check(p.returncode == 1 and p.stderr == f"jacnoise: {path}: cannot open: Permission denied\n",
                  f"sweep {' '.join(args)}, a folder its user may not look in: exit {p.returncode}: {p.stderr!r}")
    os.chmod(folder, 0o755)


def unwritable_folder(tmp, spec):
    """A sweep, its --dry-run, and a merge into a sweep folder this user may not write (as
    nobody, a folder of root's) are refused in one line naming the folder (they named the
    temporary file of sweep.spec's write, DIR/sweep.spec.HOST.PID.tmp), exit 1."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("unwritable sweep folder: skipped (needs root and setpriv to run as nobody)")
        return
    folder = os.path.join(tmp, "unwritable")
    run(["sweep", "--spec", spec, "--out", folder, "--progress", "never"])
    os.chmod(folder, 0o755)
    for args, said in ((["--spec", spec, "--out", folder, "--progress", "never"], "--out " + folder),
                       (["--spec", spec, "--out", folder, "--dry-run"], "--out " + folder),
                       (["merge", folder], folder)):
        p = subprocess.run(AS_NOBODY + [BIN, "sweep"] + args, capture_output=True, text=True, timeout=600)
        check(p.returncode == 1 and p.stderr == f"jacnoise: {said}: cannot write in the folder (Permission denied)\n",
              f"sweep {' '.join(args)}, a folder its user may not write: exit {p.returncode}: {p.stderr!r}")


def old_kernel(tmp):
    """Under uname 2.6 the merge syncs no file system (each file, checked by durable_merge, is
    synced by its own fsync), where the same merge under this kernel's uname, 5.8 or later, uses
    syncfs: without that, a merge that never used syncfs, or one strace could not trace (its
    trace empty), passed as the old kernel's path."""
    if not shutil.which("setarch"):
        print("old kernel: skipped (setarch is missing)")
        return
    m = re.match(r"(\d+)\.(\d+)", platform.release())
    current = m and (int(m.group(1)), int(m.group(2))) >= (5, 8)
    for label, launcher, want in (("this-kernel-merge", [], True),
                                  ("old-kernel-merge", ["setarch", platform.machine(), "--uname-2.6"], False)):
        if label == "this-kernel-merge" and not current:
            print(f"old kernel: this kernel ({platform.release()}) is before 5.8 too: its merge not compared")
            continue
        if not durable_merge(tmp, launcher, label):
            return  # not traced here (said), or its renames not all synced (a failure already)
        with open(os.path.join(tmp, label + ".trace")) as f:
            used = "\nsyncfs(" in "\n" + f.read()
        check(used == want, f"{label}: the merge {'used no' if want else 'used'} syncfs" +
              ("" if want else ", which says nothing of a failed write-back there"))


def main():
    tmp = tempfile.mkdtemp(prefix="jn_oddfs_")
    os.chmod(tmp, 0o755)  # the merge as nobody reads the shard here
    spec = os.path.join(tmp, "tiny.spec")
    with open(spec, "w") as f:
        f.write(TINY_SPEC)
    no_hard_links(tmp, spec)
    unreadable_runs(tmp, spec)
    unsearchable_folder(tmp, spec)
    unwritable_folder(tmp, spec)
    old_kernel(tmp)
    return finish("sweep odd file system", tmp)


if __name__ == "__main__":
    sys.exit(main())
