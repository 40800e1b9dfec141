"""What the Python tests share: the program (JACNOISE_BIN, set by CTest), running it,
collecting failures, comparing two run folders, and the tests' temporary folders."""
import contextlib
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("JACNOISE_BIN", "")
# Where PyTorch is missing and CTest requires it (the CMake option, on by default): what to do.
TORCH_MISSING = ("PyTorch is missing: install python3-torch (tools/setup.sh does), or configure with "
                 "-DJACNOISE_REQUIRE_TORCH=OFF to skip what needs it")
failures = []

# The programs the tests start are a terminal's, which a SIGHUP stops, whatever the tests were
# started under: nohup (or a CI job started by it) leaves SIGHUP ignored, inherited by every
# child, and a check that a SIGHUP stops a tool saw it run on (ctest resets it, a direct run
# did not). Checks of nohup's own case ignore it in their child.
signal.signal(signal.SIGHUP, signal.SIG_DFL)


def check(cond, what):
    """Records a failure (and prints it) without stopping the test."""
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def option_help(script):
    """A Python tool's --help says what each option is and its default (or that it is required):
    exit 0, each entry under 'options:' holding '(default: ' or '(required)'. Returns the help."""
    p = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=60)
    entries = [" ".join(e.split()) for e in re.split(r"\n  (?=--)", p.stdout.split("\noptions:\n")[-1])[1:]]
    bare = [e.split()[0] for e in entries if "(default: " not in e and "(required)" not in e]
    check(p.returncode == 0 and entries and not bare and not p.stderr,
          f"{os.path.basename(script)} --help: exit {p.returncode}, options without their help and default: {bare} "
          f"{p.stdout[-600:]!r}")
    return p.stdout


def bounded_run(args, timeout=600, **kw):
    """subprocess.run(args, timeout=timeout, text=True, **kw) where a program still running at
    the timeout is killed and recorded as a failure naming it: the TimeoutExpired traceback
    ended the test there, its other checks unrun. Then exit -9 and its output until then."""
    try:
        return subprocess.run(args, timeout=timeout, text=True, **kw)
    except subprocess.TimeoutExpired as e:
        check(False, f"{' '.join(os.path.basename(str(a)) for a in args[:2])}: still running after {timeout} s: killed")
        out, err = (b.decode(errors="replace") if b else "" for b in (e.stdout, e.stderr))  # bytes, text=True or not
        return subprocess.CompletedProcess(args, -signal.SIGKILL, out, err)


def run(args, expect=0, timeout=600, **kw):
    """Runs the program; a different exit status is a failure (its output is printed). expect
    None: the caller checks the status."""
    p = bounded_run([BIN] + args, timeout, capture_output=True, **kw)
    if expect is None:
        return p
    if p.returncode != expect:
        print(p.stdout[-3000:], p.stderr, sep="\n", file=sys.stderr)
    check(p.returncode == expect, f"{' '.join(args[:2])}: exit {p.returncode}, expected {expect}")
    return p


def wait_until(ready, p, seconds=600, every=0.01, what=None):
    """Polls ready() every `every` seconds until it holds or the process p has ended; whether it
    held. seconds bounds a hang, not the wait: on a loaded machine the event only comes later.
    what: p still running at the bound is killed and recorded as a failure naming `what`, where
    the caller would go on to signal or wait on a process that hangs."""
    deadline = time.monotonic() + seconds
    while not ready():
        if p.poll() is not None:
            return ready()
        if time.monotonic() > deadline:
            if what and not ready():
                p.kill()
                p.wait()
                check(False, f"{what}: still waiting after {seconds} s: killed")
            return ready()
        time.sleep(every)
    return True


# A line a program prints as it starts (its data loaded, its backend up): seconds, even on a
# loaded 2-core machine under the sanitizers.
LINE_SECONDS = 180


def within(p, read, seconds):
    """read() (of p's pipes) in a thread, bounded: whether it ended within `seconds`; where it did
    not, p is killed, and the thread left to end with p's children, which may hold the pipe open."""
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(seconds)
    if not reader.is_alive():
        return True
    p.kill()
    reader.join(10)
    return False


def line_from(p, what, seconds=LINE_SECONDS):
    """p.stdout.readline() bounded: p printing no line within `seconds` (a hang before it) is
    killed and recorded as a failure naming `what`, where readline() waited until CTest's
    timeout. The line, or "" then (as at the end of the output)."""
    got = []
    if within(p, lambda: got.append(p.stdout.readline()), seconds):
        return got[0]
    check(False, f"{what}: no line after {seconds} s: killed")
    return ""


def text_until(p, stream, words, what, seconds=LINE_SECONDS):
    """Reads p's text pipe `stream` until `words` appear (or it ends), bounded as line_from: p
    printing them not within `seconds` is killed and recorded as a failure naming `what`. The
    text read, its line ends as text mode reads them. A byte at a time from its descriptor, not
    through the stream's buffer: what came after the words stays in the pipe for ended(), whose
    p.communicate() reads the descriptor (the buffer's rest, there a line's end, was lost)."""
    want, got = words.encode(stream.encoding), bytearray()

    def read():
        while not got.endswith(want):  # the first time they appear, they end it
            c = os.read(stream.fileno(), 1)
            if not c:
                break
            got.extend(c)
    if not within(p, read, seconds):
        check(False, f"{what}: no {words!r} after {seconds} s: killed")
    return got.decode(stream.encoding, "replace").replace("\r\n", "\n").replace("\r", "\n")


def ended(p, what, seconds=600):
    """p.communicate() bounded: a process still running after `seconds` (a stop it ignored, a
    hang) is killed and recorded as a failure naming `what`, where the test waited on it until
    CTest's timeout, or died in a traceback leaving it running. Its output to then: none where
    its children still hold its pipes a minute after the kill."""
    try:
        return p.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        check(False, f"{what}: still running after {seconds} s: killed")
    try:
        return p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        for pipe in (p.stdout, p.stderr):
            if pipe:
                pipe.close()
        p.wait()
        return ("", "") if p.text_mode else (b"", b"")


def tools():
    """The names of the Python tools run as programs (tools/NAME.py with a main block), for the
    tests that check every one of them, a tool added later included."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")
    names = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name)) as f:
                if "__main__" in f.read():
                    names.append(name[:-3])
    return names


def jacnoise_info(**env):
    """`jacnoise info`'s output, env added to the environment. A failing info ends the test
    (exit 1): read as "no device", it made every GPU test skip, and pass as skipped."""
    p = subprocess.run([BIN, "info"], capture_output=True, text=True, env=dict(os.environ, **env))
    if p.returncode != 0:
        print(f"FAIL: jacnoise info: exit {p.returncode}: {p.stderr[-2000:]}", flush=True)
        sys.exit(1)
    return p


def cuda_device_visible():
    """Whether the program has CUDA built in and sees a device (the GPU tests skip, 77, without)."""
    out = jacnoise_info().stdout
    if "cuda: built in" not in out or " 0 device(s)" in out:
        print("no CUDA device visible (or no CUDA in this build): skipped")
        return False
    return True


def emulated():
    """Whether the device is the CUDA emulator's (../shared/emu, which reports itself on stderr
    under EMU_VERBOSE=1): None where no CUDA device is visible."""
    p = jacnoise_info(EMU_VERBOSE="1")
    if "cuda: built in" not in p.stdout or " 0 device(s)" in p.stdout:
        return None
    return "[cuda-emu]" in p.stderr


def stub(folder, name, body):
    """A stand-in program folder/name: a sh script running body."""
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


def idx(type_code, dims, payload):
    """An IDX file: two zero bytes, type, ndim, big-endian u32 dimensions, payload."""
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(">%dI" % len(dims), *dims) + payload


def read(path):
    with open(path, "rb") as f:
        return f.read()


def metrics(folder):
    """metrics.jsonl without the wall-clock field."""
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in f]


def metrics_line(**values):
    """A line of metrics.jsonl (without its newline) as jacnoise writes one, with every key (the
    readers refuse a line without one): the values given, step 0, best false, null otherwise."""
    keys = ("epoch", "step", "lr", "train_loss", "penalty", "weight_decay", "objective", "train_error",
            "valid_error", "test_error", "best", "seconds")
    record = dict.fromkeys(keys)
    record.update(step=0, best=False, **values)
    return json.dumps(record, separators=(",", ":"))


def steps_named(what, message, batches):
    """The steps done that a stopped run's message names ("interrupted after batch 3 of epoch 2;
    ...", "... at the end of epoch 2; ...", "... before its first step; ..."), with `batches` an
    epoch; None where it names none. It said "at epoch 2, batch 3", which read as the third batch
    where it meant three done."""
    where = re.match(re.escape(what) + r" (?:after batch (\d+) of epoch (\d+)|at the end of epoch (\d+)|"
                     r"(before its first step));", message)
    if not where:
        return None
    if where[1]:
        return (int(where[2]) - 1) * batches + int(where[1])
    return int(where[3]) * batches if where[3] else 0


def same_run(a, b, what):
    """Both run folders hold byte-identical checkpoints and the same metrics."""
    for name in ("last.ckpt", "best.ckpt"):
        check(read(os.path.join(a, name)) == read(os.path.join(b, name)), f"{what}: {name} not byte-identical")
    check(metrics(a) == metrics(b), f"{what}: metrics.jsonl differs")


def in_fresh_folders(base, scale, stop_round, what, tries=5):
    """Stops a run again and again with stop_round(folder, scale), where scale (seconds) is what
    its delays are fractions of: the time an undisturbed reference took. Where the load eased
    after the reference, the stopped run can complete before enough stops landed (stop_round
    returns None): then again in a fresh folder (base-2, base-3 ...) with delays half as long,
    up to `tries` folders. Returns (stop_round's result, its folder), or None with a failure
    recorded."""
    for n in range(1, tries + 1):
        folder = f"{base}-{n}"
        outcome = stop_round(folder, scale)
        if outcome is not None:
            return outcome, folder
        scale /= 2
    check(False, f"{what}: the run completed before its stops landed, in {tries} fresh folders")
    return None


def keep_or_remove(scratch):
    """Removes the test's temporary folder when every check passed; keeps it for a look, and
    names it, when one failed."""
    if failures:
        print(f"kept for a look: {scratch}", flush=True)
    else:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def scratch(prefix):
    """A temporary folder (in TMPDIR) for the block, kept or removed as keep_or_remove() says
    when it ends, and kept (named) when it ends by an exception: tempfile.TemporaryDirectory
    would remove what shows the failure."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    except Exception:
        print(f"kept for a look: {path}", flush=True)
        raise
    keep_or_remove(path)


def finish(name, scratch=None):
    """The exit status of the test, after a summary line. scratch: the test's temporary
    folder (made by tempfile.mkdtemp), kept or removed as keep_or_remove() says."""
    if scratch:
        keep_or_remove(scratch)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print(f"all {name} checks passed")
    return 0
