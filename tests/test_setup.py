#!/usr/bin/env python3
"""The README's first command, piece by piece, without root, network or a second build:

- tools/setup.sh packages: asks dpkg which packages are installed and runs apt-get (through
  sudo unless root) for the missing ones only, and not at all when none is missing; one that
  apt does not know is left out with a warning, or refused if the build needs it; sudo or
  apt-get failing is followed by one line saying what to do; a failed data step does not
  stop the build (it is said last, exit 1); a relative $JACNOISE_DATA is taken from where
  setup.sh was started; a build/ configured from another folder (a moved checkout) is
  refused in one line, and so is a build without cmake; `sudo tools/setup.sh` in a checkout root does not own is refused in one
  line before any step, but not its packages step alone nor root without sudo; apt-get waits
  for the dpkg lock, and setup.sh for the lock of apt's lists in update and that of its
  downloads (/var/cache/apt/archives) in install (up to 10 minutes,
  then it fails in one line), but not for a lock file apt may not open (permissions, a read-only
  file system); stubs stand in for dpkg-query, apt-cache, apt-get, sudo, id,
  sleep and cmake;
- datasets/fetch.sh: finds each set where jacnoise looks ($JACNOISE_DATA, ./data,
  ../shared/datasets, or the DIR given) and then uses no network (curl and wget are stubs that
  fail and record the call); fills ./data from JACNOISE_FETCH_FROM when a set is found
  nowhere (the files uncompressed where the source holds them so; a source folder named with
  a space), and a second run fetches
  nothing; offline, tries each source once and says how to fetch from a copy; online, a download with
  another sum is said to be one (not to fetch from a copy), and so is a server's HTTP error (a 404); without curl and wget, says so once a set; repairs a wrong file in the folder it fills;
  names a folder where a file is to go as in the way (not as offline), offline too, its path
  once, and where files failed for several causes, each cause's way on for its files;
  refuses a wrong file in a folder jacnoise would read first; accepts uncompressed files;
  stops, with one line, at a wrong file it cannot delete; names a file it cannot read as
  such; refuses an unknown option, a DIR that is a file, an empty DIR, a set name as DIR
  (creating no folder of that name) and a JACNOISE_FETCH_FROM that is neither a folder nor a URL with one line; a folder it cannot fill ($JACNOISE_DATA a file, or under one,
  or read-only) is one line a set, exit 1, before anything is fetched; stopped mid-download
  (Ctrl-C, SIGTERM, a hangup) or with nothing fetched it leaves no partial file, and no
  empty folder that it made (each of a/b/c's);
- tools/paper-rows.sh (with a stub program): OUT_PREFIX is optional, so options alone train
  under runs/paper; one ending in "/" or under a file, or a JACNOISE naming no program, is
  refused in one line, nothing written; the errors shown as the reproduction's table shows them; --help prints its usage and trains nothing;
  a row stopped by a signal stops it with that status and how to continue, a failing one with
  exit 1 and train's reason in one line; run twice (the real
  program), the second call continues the first's rows and prints the same table;
- the command lines of tools/fuzz.sh and tools/check-setup.sh, which build for minutes: --help
  prints the usage and a bad argument is refused (exit 2) without building or cloning (cmake,
  clang and git are stubs that fail and record the call); fuzz.sh knows the harnesses that
  tests/fuzz/CMakeLists.txt builds; check-setup.sh stopped by Ctrl-C or SIGTERM exits 130 or
  143 and removes its temporary folder.
- the second command's configure (cmake, no build) with a relative $JACNOISE_DATA: the tests
  read that folder, named from the source folder; with no data anywhere, a warning says to
  run datasets/fetch.sh.
- the second command without PyTorch: the autograd oracle fails in one line saying what to do.

The data comes from $JACNOISE_DATA (set by CTest).
"""
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys

from harness import BIN, check, ended, finish, scratch, stub, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("JACNOISE_DATA", "")
MNIST = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
USPS = ["zip.train", "zip.test"]
# apt-get waits for the dpkg lock (held by unattended-upgrades on a new machine): it failed at once.
# (update's lock, of apt's lists, and install's, of its downloads, are not covered: setup.sh
# waits for those itself.)
APT = "apt-get -o DPkg::Lock::Timeout=600"
PACKAGES = ["build-essential", "cmake", "pkg-config", "libopenblas-dev", "zlib1g-dev", "strace", "curl",
            "ca-certificates", "python3", "python3-numpy", "python3-torch", "python3-matplotlib"]


def make_stubs(folder, calls):
    """Stubs on PATH: dpkg-query answers from $FAKE_INSTALLED, apt-cache show knows every package
    but those of $FAKE_UNKNOWN, id -u answers $FAKE_UID; apt-get, sudo, curl and wget append
    their command line to `calls` (sudo then runs the command)."""
    os.makedirs(folder)
    stub(folder, "dpkg-query", 'for p; do :; done; case " $FAKE_INSTALLED " in *" $p "*) printf "ii ";; '
                               '*) exit 1;; esac')
    stub(folder, "apt-cache", 'for p; do :; done; case " ${FAKE_UNKNOWN-} " in *" $p "*) exit 100;; esac; '
                              'echo "Package: $p"')
    stub(folder, "id", 'echo "$FAKE_UID"')
    stub(folder, "apt-get", f'echo "apt-get $*" >> "{calls}"')
    stub(folder, "sudo", f'echo "sudo $*" >> "{calls}"; "$@"')
    for net in ("curl", "wget"):
        stub(folder, net, f'echo "{net} $*" >> "{calls}"; exit 1')


def calls_of(calls):
    if not os.path.exists(calls):
        return []
    with open(calls) as f:
        lines = f.read().splitlines()
    os.remove(calls)
    return lines


def sh(args, cwd, env):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def setup_cases(tmp, env, calls):
    setup = os.path.join(ROOT, "tools", "setup.sh")
    everything = " ".join(PACKAGES)
    cases = [  # (name, installed, uid, sudo available, expected exit, expected calls[, unknown to apt])
        ("all installed, not root", everything, "1000", True, 0, []),
        # A release without one package: apt-get would refuse the whole list for it.
        ("two missing, one unknown to apt", " ".join(PACKAGES[:-2]), "0", True, 0,
         [f"{APT} update -q", f"{APT} install -y -q --no-install-recommends python3-matplotlib"], "python3-torch"),
        ("a build package unknown to apt", " ".join(PACKAGES[2:]), "0", True, 1, [f"{APT} update -q"], "cmake"),
        ("two missing, root", " ".join(PACKAGES[:-2]), "0", True, 0,
         [f"{APT} update -q", f"{APT} install -y -q --no-install-recommends python3-torch python3-matplotlib"]),
        ("one missing, sudo", " ".join(PACKAGES[1:]), "1000", True, 0,
         [f"sudo env DEBIAN_FRONTEND=noninteractive {APT} update -q", f"{APT} update -q",
          f"sudo env DEBIAN_FRONTEND=noninteractive {APT} install -y -q --no-install-recommends build-essential",
          f"{APT} install -y -q --no-install-recommends build-essential"]),
        ("one missing, no sudo", " ".join(PACKAGES[1:]), "1000", False, 1, []),
        # A fresh container has no download tool for fetch.sh (nor the certificates for HTTPS).
        ("curl and ca-certificates missing", " ".join(p for p in PACKAGES if p not in ("curl", "ca-certificates")),
         "0", True, 0, [f"{APT} update -q", f"{APT} install -y -q --no-install-recommends curl ca-certificates"]),
    ]
    for name, installed, uid, sudo, code, want, *unknown in cases:
        e = dict(env, FAKE_INSTALLED=installed, FAKE_UID=uid, FAKE_UNKNOWN=" ".join(unknown))
        if not sudo:
            nosudo = os.path.join(tmp, "nosudo")
            if not os.path.exists(nosudo):
                shutil.copytree(os.path.join(tmp, "stubs"), nosudo)
                os.remove(os.path.join(nosudo, "sudo"))
            e["PATH"] = nosudo + ":/usr/bin:/bin"
            if shutil.which("sudo", path="/usr/bin:/bin"):
                print(f"setup.sh packages, {name}: skipped (this machine has sudo in /usr/bin or /bin)")
                continue
        p = sh([setup, "packages"], ROOT, e)
        got = calls_of(calls)
        check(p.returncode == code, f"setup.sh packages, {name}: exit {p.returncode}, expected {code}: {p.stderr}")
        check(got == want, f"setup.sh packages, {name}: calls {got}, expected {want}")
        if unknown:
            words = [f"apt knows no package {unknown[0]}"] + (["the build needs"] if code else ["warning", "left out"])
            check(all(w in p.stderr for w in words) and p.stderr.count("\n") == 1,
                  f"setup.sh, {name}: message {p.stderr!r}, expected one line with {words}")
        elif code:
            check("build-essential" in p.stderr and "root" in p.stderr, f"setup.sh, {name}: message {p.stderr!r}")
        elif not want:
            check("all installed" in p.stdout, f"setup.sh, {name}: output {p.stdout!r}")
        if any(" install " in c for c in want):
            check("waiting up to 10 minutes for the dpkg lock" in p.stdout, f"setup.sh, {name}: output {p.stdout!r}")
    # sudo refusing (a user not in the sudoers file), or apt-get failing: after their lines,
    # one saying what to do (it ended with sudo's line alone).
    denied = os.path.join(tmp, "denied")
    shutil.copytree(os.path.join(tmp, "stubs"), denied)
    stub(denied, "sudo", 'echo "alice is not in the sudoers file." >&2; exit 1')
    stub(denied, "apt-get", 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100')
    for name, uid, said in (("sudo refusing", "1000", "sudo apt-get update"), ("apt-get failing", "0", "apt-get update")):
        p = sh([setup, "packages"], ROOT, dict(env, PATH=denied + ":" + env["PATH"], FAKE_INSTALLED=" ".join(PACKAGES[1:]),
                                               FAKE_UID=uid))
        lines = p.stderr.splitlines()
        check(p.returncode == 1 and len(lines) == 2 and lines[1] == f"setup: {said} failed (its lines above): fix that "
              "and run tools/setup.sh again, or install these Debian packages by hand: build-essential", f"setup.sh packages, {name}: exit "
              f"{p.returncode}, {p.stderr!r}")
    # apt-get update finding the lock of apt's lists held, and install that of its downloads
    # (/var/cache/apt/archives/lock; apt-daily or unattended-upgrades on a new machine;
    # DPkg::Lock::Timeout covers neither): setup waits for it, up to 10 minutes, where it failed
    # at once. A sleep stub releases the lock after `sleeps` naps, or never.
    held = os.path.join(tmp, "held")
    shutil.copytree(os.path.join(tmp, "stubs"), held)
    flag = os.path.join(tmp, "apt-locked")
    install = f"{APT} install -y -q --no-install-recommends build-essential"
    for step, folder, tried, lock in (("update", "/var/lib/apt/lists/", f"{APT} update -q", "package lists"),
                                      ("install", "/var/cache/apt/archives/", install, "downloaded packages")):
        stub(held, "apt-get", f'echo "apt-get $*" >> "{calls}"; case "$*" in *{step}*) [ -e "{flag}" ] || exit 0; '
                              f'echo "E: Could not get lock {folder}lock. It is held by process 2023 (apt-get)" >&2; '
                              f'echo "E: Unable to lock directory {folder}" >&2; exit 100;; esac')
        for released in (3, None):
            stub(held, "sleep", f'echo "sleep $*" >> "{calls}"; [ "$(grep -c ^sleep "{calls}")" != "{released}" ] || '
                                f'rm "{flag}"')
            open(flag, "w").close()
            p = sh([setup, "packages"], ROOT, dict(env, PATH=held + ":" + env["PATH"],
                                                   FAKE_INSTALLED=" ".join(PACKAGES[1:]), FAKE_UID="0"))
            got = calls_of(calls)
            naps = [c for c in got if c.startswith("sleep ")]
            waited = sum(int(c.split()[1]) for c in naps)
            tries = [c for c in got if c == tried]
            name = f"setup.sh packages, the {step} lock released after {released} naps" if released else \
                f"setup.sh packages, the {step} lock held for good"
            check(p.stdout.count(f"the lock of apt's {lock}") == 1 and
                  p.stdout.count("waiting up to 10 minutes for it") == 1, f"{name}: output {p.stdout!r}")
            if released:
                check(p.returncode == 0 and len(naps) == released and len(tries) == released + 1 and
                      got[-1] == install and not p.stderr, f"{name}: exit {p.returncode}, calls {got}, {p.stderr!r}")
            else:
                lines = p.stderr.splitlines()
                check(p.returncode == 1 and waited == 600 and len(tries) == len(naps) + 1 and len(lines) == 3 and
                      lines[0].startswith(f"E: Could not get lock {folder}lock") and
                      lines[2].startswith(f"setup: apt-get {step} failed (its lines above)"),
                      f"{name}: exit {p.returncode}, waited {waited} s, {len(tries)} tries, {p.stderr!r}")
    # A lists lock apt may not open (its file's permissions, or a read-only file system) is no
    # other apt's: setup fails at once, where it waited 10 minutes as if the lock were held.
    for error in ("13: Permission denied", "30: Read-only file system"):
        stub(held, "apt-get", f'echo "apt-get $*" >> "{calls}"; case "$*" in *update*) '
                              f'echo "E: Could not open lock file /var/lib/apt/lists/lock - open ({error})" >&2; '
                              'echo "E: Unable to lock directory /var/lib/apt/lists/" >&2; exit 100;; esac')
        p = sh([setup, "packages"], ROOT, dict(env, PATH=held + ":" + env["PATH"],
                                               FAKE_INSTALLED=" ".join(PACKAGES[1:]), FAKE_UID="0"))
        got = calls_of(calls)
        lines = p.stderr.splitlines()
        check(p.returncode == 1 and got == [f"{APT} update -q"] and
              "waiting up to 10 minutes for it" not in p.stdout and len(lines) == 3 and
              lines[0].endswith(f"open ({error})") and lines[2].startswith("setup: apt-get update failed (its lines above)"),
              f"setup.sh packages, the lists lock not openable ({error}): exit {p.returncode}, calls {got}, "
              f"{p.stdout!r}, {p.stderr!r}")
    # A data step that fails (here: a JACNOISE_FETCH_FROM folder that is not there) still builds.
    builder = os.path.join(tmp, "builder")
    os.makedirs(builder)
    stub(builder, "cmake", f'echo "cmake $*" >> "{calls}"')
    p = sh([setup, "data", "build"], ROOT, dict(env, PATH=builder + ":" + env["PATH"],
                                                  JACNOISE_FETCH_FROM=os.path.join(tmp, "no-mirror")))
    got = calls_of(calls)
    check(p.returncode == 1 and len(got) == 2 and all(c.startswith("cmake ") for c in got) and
          p.stderr.rstrip().splitlines()[-1].startswith("setup: the data step failed"),
          f"setup.sh data build, the data step failing: exit {p.returncode}, calls {got}, {p.stderr[-400:]!r}")
    # setup.sh started elsewhere with a relative $JACNOISE_DATA: the folder from there, as
    # jacnoise started there reads it (fetch.sh looked for it in the checkout, where setup.sh
    # moves to).
    elsewhere = os.path.realpath(os.path.join(tmp, "elsewhere"))
    link_set(os.path.join(elsewhere, "mine"), MNIST + USPS)
    p = sh([setup, "data"], elsewhere, dict(env, JACNOISE_DATA="mine"))
    check(p.returncode == 0 and f"mnist: found in {elsewhere}/mine" in p.stdout and
          f"usps: found in {elsewhere}/mine" in p.stdout and not calls_of(calls),
          f"setup.sh data, started elsewhere, JACNOISE_DATA=mine: exit {p.returncode}, {p.stdout + p.stderr!r}")
    # A checkout moved (or copied) with its build/: one line saying to remove build/, no cmake
    # (its two errors advised editing the cache); build/ of this very folder is built.
    moved = os.path.join(tmp, "moved")
    os.makedirs(os.path.join(moved, "tools"))
    os.makedirs(os.path.join(moved, "build"))
    shutil.copy(setup, os.path.join(moved, "tools"))
    for home, code in (("/old/place/jacnoise", 1), (moved, 0)):
        with open(os.path.join(moved, "build", "CMakeCache.txt"), "w") as f:
            f.write(f"CMAKE_HOME_DIRECTORY:INTERNAL={home}\n")
        p = sh([os.path.join(moved, "tools", "setup.sh"), "build"], tmp, dict(env, PATH=builder + ":" + env["PATH"]))
        got = calls_of(calls)
        said = "setup: build/ was configured from /old/place/jacnoise (a moved or copied checkout): remove build/"
        check(p.returncode == code and (p.stderr.startswith(said) and p.stderr.count("\n") == 1 and not got if code
                                        else len(got) == 2), f"setup.sh build, build/ configured from {home}: exit "
              f"{p.returncode}, calls {got}, {p.stderr!r}")
    # No cmake on PATH (`setup.sh build` alone, or a system without dpkg): one line saying what
    # to do (sh said "tools/setup.sh: 134: cmake: not found", exit 127). PATH holds what the
    # step runs before cmake, and no cmake.
    bare = os.path.join(tmp, "no-cmake")
    os.makedirs(bare)
    for tool in ("dirname", "id", "nproc", "sed"):
        os.symlink(shutil.which(tool), os.path.join(bare, tool))
    p = sh([os.path.join(moved, "tools", "setup.sh"), "build"], tmp, dict(env, PATH=bare))
    check(p.returncode == 1 and p.stderr.startswith("setup: cmake is not installed") and
          "tools/setup.sh packages" in p.stderr and p.stderr.count("\n") == 1,
          f"setup.sh build without cmake: exit {p.returncode}, {p.stderr!r}")
    # A build/ it cannot write (made by a run under sudo): one line saying so, no cmake (its
    # errors named a temporary file and "Inappropriate ioctl for device"); no build/, in a
    # checkout it cannot write (another user's, read-only): one line saying so (cmake said it
    # could not create build/CMakeFiles/pkgRedirects). Root writes into a mode-555 folder, so
    # root runs it as nobody.
    os.remove(os.path.join(moved, "build", "CMakeCache.txt"))
    for locked, said in (("build", "setup: build/ is not writable by you"),
                         (".", f"setup: cannot create build/ in {moved}: the checkout is not writable by you")):
        if locked == ".":
            os.rmdir(os.path.join(moved, "build"))
        os.chmod(os.path.join(moved, locked), 0o555)
        as_user = []
        if os.access(os.path.join(moved, locked), os.W_OK):
            as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            os.chmod(tmp, 0o755)  # for nobody to reach the checkout, and the cmake stub, not the real one
            os.chmod(os.path.join(builder, "cmake"), 0o755)
        p = sh(as_user + [os.path.join(moved, "tools", "setup.sh"), "build"], "/", dict(env, PATH=builder + ":" + env["PATH"]))
        os.chmod(tmp, 0o700)
        os.chmod(os.path.join(moved, locked), 0o755)
        check(p.returncode == 1 and p.stderr.startswith(said) and p.stderr.count("\n") == 1 and not calls_of(calls),
              f"setup.sh build, {locked} not writable{' as nobody' if as_user else ''}: exit {p.returncode}, {p.stderr!r}")
    # `sudo tools/setup.sh` in a user's checkout (owned by nobody when root runs the test): one
    # line saying to run it as the user, before any step (build/ and data/ were left root's);
    # `sudo tools/setup.sh packages` goes on, and so does root without sudo (CI).
    sudoed = os.path.join(tmp, "sudoed")
    os.makedirs(os.path.join(sudoed, "tools"))
    shutil.copy(setup, os.path.join(sudoed, "tools"))
    if os.getuid() == 0:
        os.chown(sudoed, 65534, 65534)
    for args, sudo_user, code in (([], "alice", 2), (["build"], "alice", 2), (["packages"], "alice", 0),
                                  (["build"], None, 0)):
        e = dict(env, PATH=builder + ":" + env["PATH"], FAKE_INSTALLED=everything, FAKE_UID="0")
        if sudo_user:
            e["SUDO_USER"] = sudo_user
        p = sh([os.path.join(sudoed, "tools", "setup.sh")] + args, sudoed, e)
        got = calls_of(calls)
        name = f"setup.sh {' '.join(args) or '(all steps)'} as root, SUDO_USER={sudo_user}"
        if code:
            check(p.returncode == 2 and p.stderr.startswith("setup: run as root through sudo (SUDO_USER=alice)") and
                  "run tools/setup.sh as alice" in p.stderr and p.stderr.count("\n") == 1 and not got and
                  not p.stdout and os.listdir(sudoed) == ["tools"], f"{name}: exit {p.returncode}, calls {got}, "
                  f"{p.stdout + p.stderr!r}")
        else:
            check(p.returncode == 0 and not p.stderr and (len(got) == 2 if "build" in args else not got),
                  f"{name}: exit {p.returncode}, calls {got}, {p.stdout + p.stderr!r}")
    # Each argument is one step as given: "*" named, not the checkout's file names; "" no step,
    # not all three (cmake a stub that records its call).
    for arg, words in (("nonsense", "'nonsense'"), ("*", "unknown step '*'"), ("", "unknown step ''")):
        p = sh([setup, arg], ROOT, dict(env, PATH=builder + ":" + env["PATH"]))
        check(p.returncode == 2 and words in p.stderr and p.stderr.count("\n") == 1 and not calls_of(calls),
              f"setup.sh {arg!r}: exit {p.returncode}, {p.stderr!r}")
    p = sh([setup, "packages", "--help"], ROOT, dict(env, FAKE_INSTALLED="", FAKE_UID="0"))
    check(p.returncode == 0 and "STEP" in p.stdout and not calls_of(calls),
          f"setup.sh packages --help: exit {p.returncode}, {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
    # The help names the packages it installs (it said "the Debian packages below" and listed none).
    source = open(setup).read()
    packages = " ".join(re.findall(r'^(?:BUILD_)?PACKAGES="([^"]*)"', source, re.M)).replace("$BUILD_PACKAGES", "").split()
    check(len(packages) > 5 and all(re.search(rf"(^|\s){re.escape(n)}(\s|$)", p.stdout) for n in packages),
          f"setup.sh --help names the packages {packages}: {p.stdout[-300:]!r}")


def link_set(dst, names, data=DATA):
    os.makedirs(dst, exist_ok=True)
    for n in names:
        os.symlink(os.path.join(data, n + ".gz"), os.path.join(dst, n + ".gz"))


def fetch_cases(tmp, env, calls):
    fetch = os.path.join(ROOT, "datasets", "fetch.sh")
    if not all(os.path.exists(os.path.join(DATA, n + ".gz")) for n in MNIST + USPS):
        check(False, f"MNIST and USPS not found in $JACNOISE_DATA ({DATA!r})")
        return

    def run(name, args, cwd, code=0, words=(), extra=None, network=False):
        p = sh([fetch] + args, cwd, dict(env, **(extra or {})))
        out = p.stdout + p.stderr
        check(p.returncode == code, f"fetch.sh, {name}: exit {p.returncode}, expected {code}: {out[-600:]}")
        for w in words:
            check(w in out, f"fetch.sh, {name}: {w!r} missing from {out[-600:]!r}")
        got = calls_of(calls)
        check(network or not got, f"fetch.sh, {name}: used the network: {got}")
        return out

    # A developer's layout: the sets in ../shared/datasets; ./data and $JACNOISE_DATA empty.
    dev = os.path.join(tmp, "dev")
    link_set(os.path.join(dev, "shared", "datasets"), MNIST + USPS)
    repo = os.path.join(dev, "repo")
    os.makedirs(os.path.join(repo, "data"))
    os.makedirs(os.path.join(dev, "empty"))
    for name, extra in (("in ../shared/datasets", None), ("$JACNOISE_DATA lacks them", {"JACNOISE_DATA": "../empty"})):
        run(name, [], repo, words=["mnist: found in ../shared/datasets", "usps: found in ../shared/datasets",
                                   "nothing to fetch"], extra=extra)
    check(os.listdir(os.path.join(repo, "data")) == [], "fetch.sh wrote into ./data although the sets were found")

    # $JACNOISE_DATA, uncompressed, comes first; so does a DIR given.
    own = os.path.join(dev, "own")
    os.makedirs(own)
    for n in MNIST + USPS:
        with gzip.open(os.path.join(DATA, n + ".gz")) as f, open(os.path.join(own, n), "wb") as g:
            g.write(f.read())
    run("uncompressed, in $JACNOISE_DATA", [], repo, words=["mnist: found in ../own", "usps: found in ../own"],
        extra={"JACNOISE_DATA": "../own"})
    run("DIR given", [own], repo, words=[f"mnist: found in {own}", f"usps: found in {own}"])
    # A $JACNOISE_DATA whose name starts with "-": its sums checked, not taken for options.
    os.symlink(own, os.path.join(repo, "-own"))
    run("$JACNOISE_DATA named -own", [], repo, words=["mnist: found in ./-own", "usps: found in ./-own"],
        extra={"JACNOISE_DATA": "-own"})
    os.remove(os.path.join(repo, "-own"))
    # A local source holding the files uncompressed alone: copied as they are.
    copied = os.path.join(dev, "copied")
    run("uncompressed source", [copied], repo, extra={"JACNOISE_FETCH_FROM": own},
        words=[f"fetched {copied}/zip.train from {own}", "mnist: all files verified", "usps: all files verified"])
    check(sorted(os.listdir(copied)) == sorted(MNIST + USPS), f"fetch.sh, uncompressed source: {os.listdir(copied)}")
    # A source folder whose name holds a space (a checkout's data/, say): that folder, not its
    # name split at the space into bases (the first refused as no such folder).
    spaced, into = os.path.join(dev, "my mirror"), os.path.join(dev, "from-spaced")
    link_set(spaced, MNIST + USPS)
    run("source named with a space", [into], repo, extra={"JACNOISE_FETCH_FROM": spaced},
        words=[f"fetched {into}/zip.train.gz from {spaced}", "mnist: all files verified", "usps: all files verified"])
    # A folder where a file is to go: named, not filled (jacnoise reads files only).
    blocked = os.path.join(dev, "blocked")
    os.makedirs(os.path.join(blocked, "zip.test.gz"))
    in_way = (f"usps: could not get a verified copy of: zip.test.gz into {blocked} (in the way, said above: "
              "remove it and run fetch.sh again)\n")
    out = run("a folder named zip.test.gz", [blocked], repo, code=1, extra={"JACNOISE_FETCH_FROM": DATA},
              words=[f"fetch.sh: {blocked}/zip.test.gz: not a file, in the way", in_way, "mnist: all files verified"])
    # Its path said once, in the line that finds it (the last line gave it again, beside the folder's).
    check(out.count(f"{blocked}/zip.test.gz") == 1, f"fetch.sh, a folder in the way: its path not said once: {out!r}")
    # JACNOISE_FETCH_FROM given: the way on offline (to set it) is not this one.
    check("set JACNOISE_FETCH_FROM" not in out, f"fetch.sh, JACNOISE_FETCH_FROM given: told to set it: {out[-600:]!r}")
    check(os.listdir(os.path.join(blocked, "zip.test.gz")) == [], "fetch.sh moved a file into a folder in its way")
    # The same from the official sources (every other file there): the folder is what is wrong,
    # not the network (it was told to fetch from a copy, as if offline), and nothing is downloaded.
    out = run("a folder named zip.test.gz, official sources", [blocked], repo, code=1, words=[in_way])
    check("JACNOISE_FETCH_FROM" not in out, f"fetch.sh, a folder in the way: told to fetch from a copy: {out[-600:]!r}")

    # A wrong file where jacnoise would read it first, not the folder being filled: refused.
    os.remove(os.path.join(dev, "shared", "datasets", "zip.test.gz"))
    shutil.copy(os.path.join(own, "zip.test"), os.path.join(dev, "shared", "datasets", "zip.test"))
    with open(os.path.join(dev, "shared", "datasets", "zip.test"), "ab") as f:
        f.write(b"0 1\n")
    run("wrong file in ../shared/datasets", [], repo, code=1,
        words=["bad     ../shared/datasets/zip.test", "usps: jacnoise would read", "mnist: found",
               # what to do where that folder cannot be written (shared): DIR, then $JACNOISE_DATA
               "(datasets/fetch.sh DIR) and set JACNOISE_DATA=DIR"])

    # A fresh machine: nothing anywhere. From a local copy (JACNOISE_FETCH_FROM) into ./data;
    # again: nothing fetched; a damaged file is replaced; without any source: exit 1.
    fresh = os.path.join(tmp, "fresh", "repo")
    os.makedirs(fresh)
    src = {"JACNOISE_FETCH_FROM": DATA}
    run("fresh machine, no source", [], fresh, code=1, words=["could not get a verified copy", "zip.train.gz"],
        network=True)
    check(not os.path.exists(os.path.join(fresh, "data")), "fetch.sh, nothing fetched: left an empty ./data")
    # Into a/b/c, which mkdir -p made whole: every folder it made goes (c alone went).
    run("nothing fetched into a/b/c", ["a/b/c"], fresh, code=1, words=["could not get a verified copy"], network=True)
    check(not os.path.exists(os.path.join(fresh, "a")), "fetch.sh, nothing fetched into a/b/c: left "
          f"{[r for r, _, _ in os.walk(os.path.join(fresh, 'a'))]}")
    # Offline (curl cannot resolve a host: exit 6): each source is tried once, not once a file
    # with its retries, and said to be unreachable.
    offline = os.path.join(tmp, "offline")
    os.makedirs(offline)
    stub(offline, "curl", f'echo "curl $*" >> "{offline}/calls"; exit 6')
    run("offline", [], fresh, code=1, extra={"PATH": offline + ":" + env["PATH"]},
        words=["cannot reach it (no network?)", "mnist: could not get a verified copy of: train-images-idx3-ubyte.gz "
               "train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz into ./data",
               # the way on offline (it named the files alone)
               "set JACNOISE_FETCH_FROM to its folder"])
    tried = calls_of(os.path.join(offline, "calls"))
    check(len(tried) == 3, f"fetch.sh offline: curl called {len(tried)} times, expected once a source (3): {tried}")
    # Offline with a folder in the way of another file: each file's way on, named (the folder was
    # passed over with the unreachable source, unsaid, and the files told to come from a copy).
    mixed = os.path.join(tmp, "mixed")
    os.makedirs(os.path.join(mixed, "zip.test.gz"))
    run("offline, a folder in the way", [mixed], fresh, code=1, extra={"PATH": offline + ":" + env["PATH"]},
        network=True, words=[f"fetch.sh: {mixed}/zip.test.gz: not a file, in the way",
                             f"usps: could not get a verified copy of: zip.train.gz zip.test.gz into {mixed} "
                             "(zip.test.gz: in the way, said above: remove it and run fetch.sh again; zip.train.gz: "
                             "with a copy at hand, from another machine: set JACNOISE_FETCH_FROM to its folder and "
                             "run fetch.sh again)\n"])
    calls_of(os.path.join(offline, "calls"))
    # Online, a download that comes with another sum (a proxy rewriting it): the last line says so,
    # where it told to fetch from a copy as if offline.
    rewriting = os.path.join(tmp, "rewriting")
    os.makedirs(rewriting)
    stub(rewriting, "curl", 'for a; do [ "$prev" = -o ] && out=$a; prev=$a; done; echo "<html>blocked</html>" > "$out"')
    out = run("a proxy rewriting downloads", [], fresh, code=1, extra={"PATH": rewriting + ":" + env["PATH"]},
              words=["bad     ./data/zip.train.gz.part: SHA-256", "usps: could not get a verified copy of: zip.train.gz "
                     "zip.test.gz into ./data (a download came, with another SHA-256 than the published file's: a mirror "
                     "that changed it, or a proxy rewriting downloads)\n"])
    check("JACNOISE_FETCH_FROM" not in out, f"fetch.sh, a proxy rewriting downloads: told to fetch from a copy: {out!r}")
    # Online, a server answering with an HTTP error (a file moved: curl -f exits 22): the last line
    # says so, where it told to fetch from a copy at hand as if offline.
    http404 = os.path.join(tmp, "http404")
    os.makedirs(http404)
    stub(http404, "curl", 'echo "curl: (22) The requested URL returned error: 404" >&2; exit 22')
    out = run("an HTTP 404", [], fresh, code=1, extra={"PATH": http404 + ":" + env["PATH"]},
              words=["the server answered with an HTTP error", "usps: could not get a verified copy of: zip.train.gz "
                     "zip.test.gz into ./data (a server answered with an HTTP error, said above: run fetch.sh again "
                     "later, or set JACNOISE_FETCH_FROM to a mirror's URL prefix)\n"])
    check("copy at hand" not in out and not os.path.exists(os.path.join(fresh, "data")),
          f"fetch.sh, an HTTP 404: told to fetch from a copy at hand, or ./data left: {out!r}")
    # Neither curl nor wget (a fresh Debian container): one line a set saying so, exit 1, no
    # ./data left (it said "neither curl nor wget is installed" for every file and source).
    bare = os.path.join(tmp, "bare")
    os.makedirs(bare)
    for tool in ("sed", "sha256sum", "mkdir", "rm", "mv", "cp", "dirname", "rmdir", "wc", "tr"):
        os.symlink(shutil.which(tool), os.path.join(bare, tool))
    out = run("neither curl nor wget", [], fresh, code=1, extra={"PATH": bare},
              words=[f"fetch.sh: {s}: cannot download it: neither curl nor wget is installed" for s in ("mnist", "usps")])
    check(out.count("\n") == 2 and not os.path.exists(os.path.join(fresh, "data")),
          f"fetch.sh, neither curl nor wget: not one line a set, or ./data left: {out!r}")
    run("fresh machine", [], fresh, words=["fetched ./data/train-images-idx3-ubyte.gz", "mnist: all files verified",
                                          "usps: all files verified in ./data"], extra=src)
    out = run("second run", [], fresh, words=["mnist: found in ./data", "usps: found in ./data"], extra=src)
    check("fetched" not in out, f"fetch.sh, second run fetched again: {out!r}")
    with open(os.path.join(fresh, "data", "zip.train.gz"), "r+b") as f:
        f.seek(1000)
        f.write(b"\0" * 8)
    out = run("damaged file in ./data", [], fresh, words=["bad     ./data/zip.train.gz", "fetched ./data/zip.train.gz",
                                                         "usps: all files verified"], extra=src)
    check("fetched ./data/t10k" not in out, f"fetch.sh fetched more than the damaged file: {out!r}")
    check(out.count("bad     ./data/zip.train.gz") == 1, f"fetch.sh named the damaged file more than once: {out!r}")
    # A JACNOISE_FETCH_FROM that is no URL and no folder (a typo): one line, exit 2, nothing
    # tried (it went to curl as a malformed URL, once per file).
    os.remove(os.path.join(fresh, "data", "zip.test.gz"))
    out = run("JACNOISE_FETCH_FROM no folder", [], fresh, code=2, extra={"JACNOISE_FETCH_FROM": "mirorr"},
              words=["fetch.sh: JACNOISE_FETCH_FROM: mirorr: no such folder"])
    check(out.count("\n") == 1, f"fetch.sh, JACNOISE_FETCH_FROM no folder: not one line: {out!r}")
    run("fetched again", [], fresh, words=["fetched ./data/zip.test.gz"], extra=src)
    run("too many arguments", ["a", "b"], fresh, code=2, words=["usage"])
    afile = os.path.join(tmp, "afile")
    open(afile, "w").close()
    for name, args, words in (("unknown option", ["--bogus"], "fetch.sh: --bogus: unknown option"),
                              ("DIR a file", [afile], f"fetch.sh: {afile}: not a folder"),
                              ("DIR empty", [""], "fetch.sh: DIR is empty"),
                              ("DIR a set name", ["usps"], "fetch.sh: usps: a set name, not a folder")):
        out = run(name, args, fresh, code=2, words=[words])
        check(out.count("\n") == 1, f"fetch.sh, {name}: not one line: {out!r}")
    check(not os.path.exists(os.path.join(fresh, "usps")), "fetch.sh usps created ./usps")

    # A folder it cannot fill: one line a set naming it, exit 1, nothing tried. Read-only as
    # an unprivileged user (root writes into a mode-555 folder), so root runs it as nobody.
    nowhere = os.path.join(tmp, "nowhere", "repo")
    os.makedirs(nowhere)
    for name, where, why in (("$JACNOISE_DATA a file", afile, "not a folder"),
                             ("$JACNOISE_DATA under a file", os.path.join(afile, "sub"), "cannot create it")):
        out = run(name, [], nowhere, code=1, extra=dict(src, JACNOISE_DATA=where),
                  words=[f"fetch.sh: mnist: cannot fetch into {where}: {why}", f"fetch.sh: usps: cannot fetch into "])
        check(out.count("\n") == 2, f"fetch.sh, {name}: not one line a set: {out!r}")
    readonly = os.path.join(tmp, "readonly")
    os.makedirs(readonly)
    os.chmod(readonly, 0o555)
    as_user, script, data = [], fetch, DATA
    if os.access(readonly, os.W_OK):
        as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        os.chmod(tmp, 0o755)  # for nobody to reach the folder
        # and the script and the data: copies beside it, as the checkout and the data may lie
        # in a folder only root enters (CI's fresh clone does)
        script = os.path.join(tmp, "fetch.sh")
        shutil.copy(fetch, script)
        data = os.path.join(tmp, "public-data")
        os.makedirs(data)
        for n in MNIST + USPS:
            shutil.copy(os.path.join(DATA, n + ".gz"), data)
    p = sh(as_user + [script, readonly], "/", dict(env, JACNOISE_FETCH_FROM=data))
    out = p.stdout + p.stderr
    check(p.returncode == 1 and out.count("\n") == 2 and
          f"fetch.sh: mnist: cannot fetch into {readonly}: the folder is not writable" in out,
          f"fetch.sh, read-only DIR{' as nobody' if as_user else ''}: exit {p.returncode}: {out[-600:]!r}")
    # A file it cannot read, where jacnoise would read it: said so, not as a wrong SHA-256
    # of nothing ("SHA-256 , expected ...").
    unreadable = os.path.join(tmp, "unreadable")
    link_set(os.path.join(unreadable, "repo", "data"), MNIST + ["zip.train"], data)
    os.makedirs(os.path.join(unreadable, "empty"))
    locked = os.path.join(unreadable, "repo", "data", "zip.test.gz")
    shutil.copy(os.path.join(DATA, "zip.test.gz"), locked)
    os.chmod(locked, 0)
    p = sh(as_user + [script], os.path.join(unreadable, "repo"), dict(env, JACNOISE_DATA="../empty"))
    out = p.stdout + p.stderr
    check(p.returncode == 1 and "bad     ./data/zip.test.gz: cannot read it: " in out and "SHA-256 ," not in out and
          "usps: jacnoise would read" in out and not calls_of(calls),
          f"fetch.sh, unreadable file{' as nobody' if as_user else ''}: exit {p.returncode}: {out[-600:]!r}")
    os.chmod(tmp, 0o700)

    # Ctrl-C, SIGTERM or a hangup mid-download (a curl that writes part of the file and waits):
    # exit 130, 143 or 129, and the partial file is not left in the folder.
    slow = os.path.join(tmp, "slow")
    os.makedirs(os.path.join(slow, "repo"))
    stub(slow, "curl", 'for a; do [ "$prev" = -o ] && out=$a; prev=$a; done; printf part > "$out"; exec sleep 60')
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)):
        p = subprocess.Popen([fetch], cwd=os.path.join(slow, "repo"), env=dict(env, PATH=slow + ":" + env["PATH"]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        part = os.path.join(slow, "repo", "data", "train-images-idx3-ubyte.gz.part")
        wait_until(lambda: os.path.exists(part), p)
        os.killpg(p.pid, sig)  # as a terminal's Ctrl-C: the script and what it runs
        out = "".join(ended(p, f"fetch.sh sent {sig.name} mid-download", 30))
        data = os.path.join(slow, "repo", "data")
        left = os.listdir(data) if os.path.isdir(data) else None  # ./data made by this call: removed
        check(p.returncode == code and left is None, f"fetch.sh stopped by {sig.name} mid-download: exit {p.returncode}, "
              f"expected {code}; left {left}: {out[-300:]!r}")

    # A wrong file that cannot be deleted (here rm fails): said once, exit 1, no endless loop.
    stuck = os.path.join(tmp, "stuck")
    os.makedirs(os.path.join(stuck, "bin"))
    with open(os.path.join(stuck, "zip.train.gz"), "wb") as f:
        f.write(b"not the file")
    stub(os.path.join(stuck, "bin"), "rm", "exit 1")
    try:
        p = subprocess.run([fetch, stuck], cwd=fresh, capture_output=True, text=True, timeout=30,
                           env=dict(env, JACNOISE_FETCH_FROM=DATA, PATH=os.path.join(stuck, "bin") + ":" + env["PATH"]))
        out = p.stdout + p.stderr
        check(p.returncode == 1 and out.count("cannot delete the wrong file") == 1 and
              f"{stuck}/zip.train.gz: cannot delete" in out, f"fetch.sh, undeletable wrong file: exit {p.returncode}: "
              f"{out[-600:]!r}")
    except subprocess.TimeoutExpired:
        check(False, "fetch.sh, undeletable wrong file: still running after 30 s (an endless loop)")


def paper_rows_cases(tmp, env):
    script = os.path.join(ROOT, "tools", "paper-rows.sh")
    folder = os.path.join(tmp, "paper")
    os.makedirs(folder)
    # The stub records its command line and writes the summary.json of a finished run without
    # a validation split; the table shows its errors as tools/reproduce.py's does: 2 decimals,
    # half up on the text (2.125 -> 2.13, where printf's "%.2f" gives 2.12), null as "-".
    stub(folder, "jacnoise", 'echo "$*" >> calls; mkdir -p "$3"; '
                             'printf \'{\\n  "best_valid_error": null,\\n  "test_error": 2.125\\n}\\n\' > "$3/summary.json"')
    names = ("MLP", "MLP+L2", "MLP+N", "MLP+J", "MLP+N+J")
    table = ["row      valid %  test %"] + [f"{row:<8s}       -    2.13" for row in names]
    # As each row starts, one line on stderr says where its log is: train's output goes there,
    # and the script said nothing while a row trained.
    starts = lambda prefix: [f"paper-rows: {row}: training, its log in {prefix}-{row}.log" for row in names]
    for args, prefix in [(["--data", "usps"], "runs/paper"), (["out/p", "--data", "usps"], "out/p")]:
        calls = os.path.join(folder, "calls")
        if os.path.exists(calls):
            os.remove(calls)
        p = sh([script] + args, folder, dict(env, JACNOISE=os.path.join(folder, "jacnoise")))
        lines = open(calls).read().splitlines() if os.path.exists(calls) else []
        check(p.returncode == 0 and len(lines) == 5 and all(l.startswith(f"train --out {prefix}-") and
                                                           l.endswith(" --data usps") for l in lines) and
              p.stdout.splitlines() == table and p.stderr.splitlines() == starts(prefix),
              f"paper-rows.sh {args}: exit {p.returncode}, calls {lines}, output {p.stdout + p.stderr!r}")
    # Without JACNOISE, the program is its checkout's build/jacnoise, wherever it is run from.
    checkout = os.path.join(tmp, "checkout")
    os.makedirs(os.path.join(checkout, "tools"))
    os.makedirs(os.path.join(checkout, "build"))
    shutil.copy(script, os.path.join(checkout, "tools"))
    shutil.copy(os.path.join(folder, "jacnoise"), os.path.join(checkout, "build"))
    calls = os.path.join(folder, "calls")
    os.remove(calls)
    p = sh([os.path.join(checkout, "tools", "paper-rows.sh"), "--data", "usps"], folder,
           {k: v for k, v in env.items() if k != "JACNOISE"})
    check(p.returncode == 0 and os.path.exists(calls) and len(open(calls).read().splitlines()) == 5,
          f"paper-rows.sh without JACNOISE: exit {p.returncode}, output {p.stdout + p.stderr!r}")
    # A row that diverges (train exits 3) reads so, and the rows after it still train; exit 3.
    stub(folder, "diverging", f'case "$3" in *-MLP+J) echo "$*" >> calls; exit 3 ;; esac; exec "{folder}/jacnoise" "$@"')
    os.remove(calls)
    p = sh([script, "--data", "usps"], folder, dict(env, JACNOISE=os.path.join(folder, "diverging")))
    lines = open(calls).read().splitlines() if os.path.exists(calls) else []
    check(p.returncode == 3 and len(lines) == 5 and p.stdout.splitlines() == table[:4] + ["MLP+J    diverged       -"]
          + table[5:], f"paper-rows.sh, a row diverging: exit {p.returncode}, calls {lines}, "
          f"output {p.stdout + p.stderr!r}")
    # A row stopped by a signal (train exits 130, its run saved) stops the script with its
    # status and one line saying how to continue, not "failed"; one that fails (a bad option)
    # stops it, exit 1, in one line with train's reason. The rows after it wait.
    for name, body, code, said in (
            ("stopped", "exit 130", 130,
             "MLP+L2: stopped (exit 130); run the same command again to continue, see runs/paper-MLP+L2.log\n"),
            ("failing", 'echo "jacnoise: --x: why" >&2; exit 2', 1,
             "MLP+L2: failed (exit 2: jacnoise: --x: why), see runs/paper-MLP+L2.log\n")):
        stub(folder, name, f'case "$3" in *-MLP+L2) echo "$*" >> calls; {body} ;; esac; exec "{folder}/jacnoise" "$@"')
        os.remove(calls)
        p = sh([script, "--data", "usps"], folder, dict(env, JACNOISE=os.path.join(folder, name)))
        lines = open(calls).read().splitlines() if os.path.exists(calls) else []
        check(p.returncode == code and len(lines) == 2 and p.stdout.splitlines() == table[:2] and
              p.stderr.splitlines() == starts("runs/paper")[:2] + [said.rstrip("\n")],
              f"paper-rows.sh, a row {name}: exit {p.returncode}, calls {lines}, output {p.stdout + p.stderr!r}")
    # Run again, the same command continues (the real program, tiny rows): the rows trained are
    # read back, where train refused their folders, and the table is the same.
    again = ["out/again", "--data", "usps", "--hidden", "4", "--epochs", "1", "--train-limit", "100"]
    real = dict(env, JACNOISE=BIN, JACNOISE_DATA=DATA)
    first, second = sh([script] + again, folder, real), sh([script] + again, folder, real)
    check(first.returncode == 0 and second.returncode == 0 and second.stdout == first.stdout and
          len(first.stdout.splitlines()) == 6, f"paper-rows.sh run twice: exit {first.returncode}, then "
          f"{second.returncode}: {first.stdout + first.stderr!r}, then {second.stdout + second.stderr!r}")
    # Rows that diverged in their first epoch, before any checkpoint (weight decay that blows
    # up), read "diverged" again, exit 3: no last.ckpt to resume, where train refuses the folder.
    blowup = ["out/blowup", "--data", "usps", "--hidden", "8", "--epochs", "2", "--train-limit", "500", "--batch", "10",
              "--lr", "1", "--momentum", "0", "--weight-decay", "100"]
    first, second = sh([script] + blowup, folder, real), sh([script] + blowup, folder, real)
    check(first.returncode == 3 and second.returncode == 3 and second.stdout == first.stdout and
          first.stdout.count(" diverged ") == 5, f"paper-rows.sh run twice, every row diverging: exit "
          f"{first.returncode}, then {second.returncode}: {first.stdout + first.stderr!r}, then "
          f"{second.stdout + second.stderr!r}")
    # --help is the script's, wherever it stands: passed on, train printed its help into a log.
    for args in (["--help"], ["out/h", "--data", "usps", "-h"]):
        calls = os.path.join(folder, "calls")
        if os.path.exists(calls):
            os.remove(calls)
        p = sh([script] + args, folder, dict(env, JACNOISE=os.path.join(folder, "jacnoise")))
        check(p.returncode == 0 and "OUT_PREFIX" in p.stdout and not p.stderr and not os.path.exists(calls),
              f"paper-rows.sh {args}: exit {p.returncode}, trained: {os.path.exists(calls)}, "
              f"output {p.stdout[-300:] + p.stderr[-300:]!r}")
    # The help gives each row's own options, as the script passes them (it said "the strengths
    # below" and gave none).
    rows = re.findall(r'^run_row (\S+)((?: --?[\w-]+ [^"$\s]+)*) "\$@"$', open(script).read(), re.M)
    said = " ".join(p.stdout.split())
    check(len(rows) == 5 and all(f"{name} {opts.strip() or 'none'}" in said for name, opts in rows),
          f"paper-rows.sh --help gives each row's options {rows}: {p.stdout!r}")
    # An OUT_PREFIX ending in "/" (rows named out/-MLP) or under a file: one line naming it,
    # exit 2, nothing trained or written.
    open(os.path.join(folder, "afile"), "w").close()
    for prefix, words in (("out/", "paper-rows: OUT_PREFIX 'out/' ends in '/'"),
                          ("afile/p", "paper-rows: OUT_PREFIX 'afile/p': cannot create its folder")):
        p = sh([script, prefix, "--data", "usps"], folder, dict(env, JACNOISE=os.path.join(folder, "jacnoise")))
        check(p.returncode == 2 and p.stderr.startswith(words) and p.stderr.count("\n") == 1 and not p.stdout and
              not os.path.exists(calls) and not os.path.exists(os.path.join(folder, "out", "-MLP.log")),
              f"paper-rows.sh {prefix}: exit {p.returncode}, trained: {os.path.exists(calls)}, {p.stderr[-300:]!r}")
    # JACNOISE naming no program: one line, exit 2, no row's log or folder (it said
    # "MLP: failed (exit 127 ...)" and left OUT_PREFIX-MLP.log).
    p = sh([script, "out/none", "--data", "usps"], folder, dict(env, JACNOISE=os.path.join(folder, "nothing")))
    log = os.path.join(folder, "out", "none-MLP.log")
    check(p.returncode == 2 and p.stderr.startswith("paper-rows: JACNOISE ") and p.stderr.count("\n") == 1 and
          not p.stdout and not os.path.exists(log), f"paper-rows.sh, JACNOISE naming nothing: exit {p.returncode}, "
          f"log left: {os.path.exists(log)}, {p.stdout[-300:] + p.stderr[-300:]!r}")


def spaced_checkout_case(tmp, env):
    """check-setup.sh in a checkout whose path holds a space, without ../shared: the clone gets
    the data from the checkout's data/ (JACNOISE_FETCH_FROM, whose bases fetch.sh splits at
    spaces: it refused the path's first word as no such folder). The checkout is a repository of
    check-setup.sh and fetch.sh whose README's first command fetches, then fails, so that
    check-setup.sh prints its output."""
    checkout = os.path.join(tmp, "a checkout", "jacnoise")
    for path in ("tools/check-setup.sh", "datasets/fetch.sh"):
        os.makedirs(os.path.dirname(os.path.join(checkout, path)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), os.path.join(checkout, path))
    with open(os.path.join(checkout, "README.md"), "w") as f:
        f.write("<!-- setup:first -->\n```sh\ndatasets/fetch.sh; false\n```\n"
                "<!-- setup:second -->\n```sh\ntrue\n```\n")
    git = ["git", "-C", checkout, "-c", "user.name=test", "-c", "user.email=test@example.com"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "checkout"]):
        subprocess.run(git + args, check=True, capture_output=True, env=env)
    os.makedirs(os.path.join(checkout, "data"))  # not committed, as data/ is not
    for name in MNIST + USPS:
        shutil.copy(os.path.join(DATA, name + ".gz"), os.path.join(checkout, "data"))
    p = sh([os.path.join(checkout, "tools", "check-setup.sh")], tmp, env)
    check(p.returncode == 1 and "mnist: all files verified in ./data" in p.stderr and
          "usps: all files verified in ./data" in p.stderr and "first: failed" in p.stderr,
          f"check-setup.sh in a checkout under 'a checkout': exit {p.returncode}: {p.stderr[-600:]!r}")


def build_tools_cases(tmp, env, calls):
    """fuzz.sh and check-setup.sh: --help and bad arguments answered before any build or clone."""
    spaced_checkout_case(tmp, env)
    stubs = os.path.join(tmp, "build-stubs")
    os.makedirs(stubs)
    for tool in ("cmake", "clang", "git"):
        stub(stubs, tool, f'echo "{tool} $*" >> "{calls}"; exit 1')
    env = dict(env, PATH=stubs + ":" + env["PATH"])
    fuzz, check_setup = os.path.join(ROOT, "tools", "fuzz.sh"), os.path.join(ROOT, "tools", "check-setup.sh")
    for script, args, code, words in [
            (fuzz, ["--help"], 0, "SECONDS_PER_HARNESS"), (fuzz, ["-h"], 0, "SECONDS_PER_HARNESS"),
            (fuzz, ["abc"], 2, "'abc'"), (fuzz, ["0"], 2, "'0'"), (fuzz, ["5", "foo"], 2, "'foo'"),
            (fuzz, ["--bogus"], 2, "--bogus"), (check_setup, ["--help"], 0, "setup:first"),
            (check_setup, ["--bogus"], 2, "'--bogus'")]:
        name = f"{os.path.basename(script)} {' '.join(args)}"
        p = sh([script] + args, tmp, env)
        text = p.stdout if code == 0 else p.stderr
        check(p.returncode == code and words in text and (code == 0 or text.count("\n") == 1),
              f"{name}: exit {p.returncode}, expected {code}: {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
        got = calls_of(calls)
        check(not got, f"{name}: built or cloned: {got}")
    # check-setup.sh stopped while it clones (git waits): 130 for Ctrl-C, 143 for SIGTERM, as
    # the shell's own; its temporary folder removed.
    slow, scratch = os.path.join(tmp, "slow-git"), os.path.join(tmp, "setup-scratch")
    os.makedirs(scratch)
    os.makedirs(slow)
    cloning = os.path.join(tmp, "cloning")
    # The marker made by the shell itself, then exec: a signal seen after the marker finds one
    # process (with `touch`, a SIGINT during it let sh go on to an unsignalled sleep that held
    # the pipes for 60 s).
    stub(slow, "git", f': > "{cloning}"; exec sleep 60')
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        p = subprocess.Popen([check_setup], cwd=tmp, env=dict(env, PATH=slow + ":" + env["PATH"], TMPDIR=scratch),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        wait_until(lambda: os.path.exists(cloning), p)
        os.killpg(p.pid, sig)
        out = "".join(ended(p, f"check-setup.sh sent {sig.name} mid-clone", 30))
        if os.path.exists(cloning):
            os.remove(cloning)
        check(p.returncode == code and not os.listdir(scratch), f"check-setup.sh stopped by {sig.name}: exit "
              f"{p.returncode}, expected {code}; left {os.listdir(scratch)}: {out[-300:]!r}")

    # The harnesses it knows are those CMake builds; each is let through, to the build.
    with open(os.path.join(ROOT, "tests", "fuzz", "CMakeLists.txt")) as f:
        built = next((line[len("set(JN_FUZZ_HARNESSES "):].rstrip(")\n").split() for line in f
                      if line.startswith("set(JN_FUZZ_HARNESSES ")), [])
    p = sh([fuzz, "--help"], tmp, env)
    known = next((line.split(":", 1)[1].split("(")[0].split() for line in p.stdout.splitlines()
                  if line.strip().startswith("harnesses:")), [])
    check(bool(built) and known == built, f"fuzz.sh --help names the harnesses {known}, CMake builds {built}")
    p = sh([fuzz, "1"] + built, tmp, env)
    got = calls_of(calls)
    check(p.returncode != 0 and got and got[0].startswith("cmake "), f"fuzz.sh 1 {' '.join(built)}: exit "
          f"{p.returncode}, calls {got}: {p.stderr[-300:]!r}")


def cmake_test_data_case(tmp, env):
    """The second command's configure, from the source folder as the README runs it, with a
    relative $JACNOISE_DATA: the tests read that folder (cmake's search took the name from its
    working folder, then made it absolute from tests/, a folder not there)."""
    root = os.path.realpath(ROOT)
    rel = os.path.join(os.path.realpath(tmp), "reldata")
    link_set(rel, MNIST + USPS)
    p = sh(["cmake", "-S", ".", "-B", os.path.join(tmp, "configured"), "-DJACNOISE_CUDA=OFF"], root,
           dict(env, JACNOISE_DATA=os.path.relpath(rel, root)))
    check(p.returncode == 0 and f"-- Test data: {rel}\n" in p.stdout, f"cmake, JACNOISE_DATA="
          f"{os.path.relpath(rel, root)}: exit {p.returncode}, {[l for l in p.stdout.splitlines() if 'Test data' in l]}, "
          f"expected {rel}: {p.stderr[-300:]!r}")
    # A checkout with no data anywhere (a fresh clone before datasets/fetch.sh): a warning saying
    # what to do, where the status line named a folder not there as the test data.
    lone = os.path.join(tmp, "lone", "jacnoise")
    shutil.copytree(root, lone, ignore=lambda d, names: [n for n in names if d == root and
                                                         n in (".git", "build", "data", "runs")])
    p = sh(["cmake", "-S", ".", "-B", "build", "-DJACNOISE_CUDA=OFF"], lone, env)
    check(p.returncode == 0 and "run datasets/fetch.sh" in p.stderr and "CMake Warning" in p.stderr,
          f"cmake, no test data anywhere: exit {p.returncode}, {p.stderr[-400:]!r}")


def no_torch_case(tmp, env):
    """The second command where PyTorch is missing (an Ubuntu without python3-torch, which
    setup.sh leaves out with a warning): the oracle fails saying what to do, where it said only
    "JACNOISE_REQUIRE_TORCH=1, so this is a failure", a variable CTest sets from a CMake option."""
    fake = os.path.join(tmp, "no-torch")
    os.makedirs(fake)
    with open(os.path.join(fake, "torch.py"), "w") as f:
        f.write('raise ImportError("No module named \'torch\'")\n')
    p = sh([sys.executable, os.path.join(ROOT, "tests", "torch_oracle.py")], tmp,
           dict(env, PYTHONPATH=fake, JACNOISE_REQUIRE_TORCH="1"))
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and "install python3-torch" in p.stderr and
          "-DJACNOISE_REQUIRE_TORCH=OFF" in p.stderr, f"torch_oracle.py without PyTorch: exit {p.returncode}, "
          f"{p.stderr[-400:]!r}")


def main():
    with scratch("jacnoise_setup_") as tmp:
        calls = os.path.join(tmp, "calls")
        make_stubs(os.path.join(tmp, "stubs"), calls)
        env = {k: v for k, v in os.environ.items() if k not in ("JACNOISE_DATA", "JACNOISE_FETCH_FROM", "SUDO_USER")}
        env["PATH"] = os.path.join(tmp, "stubs") + ":" + os.environ.get("PATH", "/usr/bin:/bin")
        setup_cases(tmp, env, calls)
        fetch_cases(tmp, env, calls)
        paper_rows_cases(tmp, env)
        build_tools_cases(tmp, env, calls)
        cmake_test_data_case(tmp, env)
        no_torch_case(tmp, env)
    return finish("set-up")


if __name__ == "__main__":
    sys.exit(main())
