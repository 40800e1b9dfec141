#!/usr/bin/env python3
"""Every Python tool (tools/*.py run as a program) refuses a bad command line as jacnoise does:
one line, 'TOOL: MESSAGE' naming the option, exit 2, nothing on standard output; not argparse's
usage line and then the error. An abbreviated option (--hel, --be for --best) is refused as an
unknown one, not taken for the option it starts. --help still prints the usage, one usage line,
exit 0, and says what each of its options is (reproduce.py's --budget and --device were bare
names and choices), naming an option's value as its usage line does.
A tool added to tools/ without a command line below fails the test, so that it is checked too.

A tool that needs matplotlib (or numpy), run by a python3 without it while Debian's
/usr/bin/python3 has it (pyenv's or conda's python3 first in PATH; here a virtual environment of
Debian's), says so in one line, naming both, exit 1, writing nothing.

Ctrl-C (SIGINT) while a tool reads its input, writes its output or imports NumPy ends it with
one line, 'TOOL: interrupted', exit 130, not a KeyboardInterrupt traceback, and leaves neither
the output nor its temporary file (reproduce.py's is checked by test_reproduce); SIGTERM
likewise, with 'TOOL: terminated' and 143, not at once with the temporary file left; and SIGHUP
(its terminal closed), with 'TOOL: terminated (its terminal hung up)' and 143, unless the tool
was started with SIGHUP ignored (nohup), which then stays ignored. The tool is
held by a FIFO (its input, the temporary file its output is written to, or a stand-in NumPy's
import) until the signal is sent.

A name echoed in a tool's error or line of output is escaped as jacnoise's messages escape it
(tool_files.escaped): control characters and bytes that are not UTF-8 as C escapes (\\x1b, \\xff,
\\t), lest a name break the one line or drive the terminal. In what a tool writes (results_table's
table) a file name with bytes that are not UTF-8 (a Latin-1 name, b'\\xff') keeps those bytes:
not Python's '\\udcff', and not failing on stdout
or in a file with a UnicodeEncodeError traceback (stdout is strict in a UTF-8 locale other than
C.UTF-8, which PYTHONIOENCODING=utf-8 stands in for); nor does jacnoise's output with such a name
in it end reproduce.py or plot_analysis.py with a UnicodeDecodeError.

Under strace, the tools' writes (a table, a picture) fsync the temporary file before its rename
and the folder after it, as jacnoise's writes do.

And the tests' own temporary folders (harness.scratch): removed when every check passed, kept
and named when one failed or the test ended by an exception."""
import ast
import os
import re
import shutil
import select
import signal
import subprocess
import sys
import threading
import time

import harness
from harness import check, ended, finish, run, scratch
from test_reliability import SYNC_CALLS, synced_in_trace

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")
# For each tool, arguments its parser accepts (nothing is read: the parse fails first), then a
# bad value of one of its options, and the word the refusal must name.
CALLS = {
    "export_model": (["a.ckpt", "b.npz"], []),
    "kernel_times": (["a.csv"], []),
    "plot_analysis": (["--out", "x", "A=b"], [(["--threads", "many"], "--threads many: not a whole number"),
                                              (["--threads", "-1"], "--threads -1: out of range [0, 1024]")]),
    "plot_profile": (["a.csv"], []),
    "plot_sweep": (["folder"], [(["--best", "-1"], "--best"), (["--be", "3"], "--be"),
                                (["--best", "x"], "--best x: not a whole number")]),
    "reproduce": (["--budget", "smoke", "--out", "x"], [(["--budget", "huge"], "--budget"),
                                                        (["--jobs", "0"], "--jobs 0: out of range [1, 256]"),
                                                        (["--jobs", ""], "--jobs '': not a whole number")]),
    "results_table": (["dir"], [([TOOLS, TOOLS], "given twice")]),
}
# An empty file or folder name names nothing: it was read as the current folder's file (': No such
# file or directory'), or as the option left out (reproduce's --data-dir searched jacnoise's
# folders); refused in one line as jacnoise refuses one, naming the option or the operand (its
# name in the usage line; argparse's 'argument DIR: empty folder name' read otherwise).
EMPTY_NAMES = {
    "export_model": [(["", "b.npz"], "checkpoint"), (["a.ckpt", ""], "out")],
    "kernel_times": [([""], "csv")],
    "plot_analysis": [(["--out", "", "A=b"], "--out")],
    "plot_profile": [([""], "csv"), (["a.csv", "--out", ""], "--out")],
    "plot_sweep": [([""], "DIR"), (["folder", "--out", ""], "--out")],
    "reproduce": [(["--budget", "smoke", "--out", ""], "--out"),
                  (["--budget", "smoke", "--out", "x", "--data-dir", ""], "--data-dir")],
    "results_table": [(["dir", ""], "DIR"), (["dir", "--out", ""], "--out")],
}
# The tools that need a module python3 may lack, with a command line that gets as far as
# importing it (OUT is a file or folder that must not be made).
NEEDS = {"plot_analysis": (["--out", "OUT", f"A={TOOLS}/plot_analysis.py"], "matplotlib"),
         "plot_profile": (["a.csv", "--out", "OUT"], "matplotlib"),
         "plot_sweep": ([TOOLS, "--out", "OUT"], "matplotlib"),
         "reproduce": (["--budget", "smoke", "--out", "OUT"], "matplotlib"),
         "export_model": (["a.ckpt", "OUT"], "numpy")}
DEBIAN_PYTHON = "/usr/bin/python3"


def options_without_help(text):
    """The options of argparse's --help list (the lines of its "options:" section, "optional
    arguments:" before Python 3.10, that begin '  -') given no text: on their line after two
    spaces, or on the next, further indented. None where there is no such list."""
    lines = text.split("\n")
    heads = [i for i, line in enumerate(lines) if line in ("options:", "optional arguments:")]
    if not heads:
        return None
    start = heads[0] + 1
    bare = []
    for line, after in zip(lines[start:], lines[start + 1:] + [""]):
        if not line.startswith("  "):
            break
        if line.startswith("  -") and not re.match(r"  \S+( \S+)*  +\S", line) and not re.match(r" {4,}[^ -]", after):
            bare.append(line.strip())
    return bare


def usage_names_differ(text):
    """The options of a --help whose value the option list names otherwise than the usage line
    (its paragraph): [(option, in the usage, in the list)]. A usage that shows the values
    themselves (--sets usps,mnist) names none."""
    usage = text.split("\n\n")[0]
    differ = []
    for option, listed in re.findall(r"^  (?:-\w, )?(--[\w-]+) ([A-Z][A-Z_]*)\b", text, re.M):
        named = re.search(re.escape(option) + r"[ =]([A-Z][A-Z_]*)\b", usage)
        if named and named[1] != listed:
            differ.append((option, named[1], listed))
    return differ


def check_without_modules():
    with scratch("jacnoise-tools-usage-") as d:
        env = os.path.join(d, "env")
        if subprocess.run([DEBIAN_PYTHON, "-m", "venv", "--without-pip", env], capture_output=True).returncode != 0:
            print("without matplotlib or numpy: not checked (no venv module to make a python3 without them)")
            return
        python = os.path.join(env, "bin", "python3")
        out = os.path.join(d, "out")
        for tool, (args, module) in NEEDS.items():
            if subprocess.run([DEBIAN_PYTHON, "-c", f"import {module}"], capture_output=True).returncode != 0:
                print(f"{tool} without {module}: not checked ({DEBIAN_PYTHON} has no {module} to point to)")
                continue
            call = [python, os.path.join(TOOLS, f"{tool}.py")] + [out if a == "OUT" else a for a in args]
            p = subprocess.run(call, capture_output=True, text=True, timeout=120)
            check(p.returncode == 1 and p.stderr.count("\n") == 1 and
                  p.stderr.startswith(f"{tool}: ") and f"{module}, which {python} lacks; {DEBIAN_PYTHON} has it" in p.stderr
                  and not os.path.exists(out), f"{tool} without {module}: exit {p.returncode}, stderr {p.stderr[-300:]!r}")


def stopped_by(sig, tool, args, fifo, output, writes=False, env=None, nohup=False):
    """Runs the tool (with env, if given) until it has fifo open (its input; with writes, the
    temporary file it writes output to, made a FIFO before the program starts, as its name holds
    the process id, and until its first bytes are there: the signal lands inside the write, the
    rest held in the full pipe), sends sig (SIGINT, SIGTERM or SIGHUP), and checks how it ended.
    With nohup (sig SIGHUP, fifo its input) the tool starts with SIGHUP ignored, as under nohup,
    and must keep ignoring it: it reads its input to the end (the FIFO closed after the signal;
    an empty file, refused in one line naming it, exit 1)."""
    def hold():
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal leaves it, not as inherited
        signal.signal(signal.SIGHUP, signal.SIG_IGN if nohup else signal.SIG_DFL)
        if writes:
            os.mkfifo(f"{output}.tmp{os.getpid()}")  # tool_files.replace's temporary file
    p = subprocess.Popen([sys.executable, os.path.join(TOOLS, f"{tool}.py")] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=hold, env=env)
    fifo = fifo or f"{output}.tmp{p.pid}"
    end, held, drain = None, False, None
    if writes:
        # Its reading end, open from the start to the end: opened and closed in turns, it let the
        # tool open the file while it was open and then write to no reader (SIGPIPE).
        end = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        written = select.poll()
        written.register(end, select.POLLIN)
    # A bound on a hang, not a wait for time: load only makes the tool slower to get there.
    deadline = time.monotonic() + 600
    while not held and p.poll() is None and time.monotonic() < deadline:
        if writes:
            held = any(events & select.POLLIN for _, events in written.poll(100))
            continue
        try:  # a FIFO's writing end opens once the tool reads it
            end = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            held = True
        except OSError:
            time.sleep(0.01)
    if held:
        p.send_signal(sig)
        if nohup:  # the end of its input: a handled SIGHUP is pending by now, and would stop it
            os.close(end)
            end = None
        if writes:  # what it writes until it stops, so that it is not held in a full pipe
            os.set_blocking(end, True)
            drain = threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(end, 65536), b"")])
            drain.start()
    out, err = ended(p, f"{tool} sent {sig.name}")
    if drain:
        drain.join()
    if end is not None:
        os.close(end)
    left = [path for path in (output, fifo if writes else None) if path and os.path.exists(path)]
    if nohup:
        check(held and p.returncode == 1 and err.startswith(f"{tool}: {fifo}: ") and err.count("\n") == 1,
              f"{tool} sent SIGHUP under nohup: held {held}, exit {p.returncode}, expected 1, its input read to "
              f"the end and refused; stderr {err[-300:]!r}")
        return
    status, word = {signal.SIGINT: (130, "interrupted"), signal.SIGTERM: (143, "terminated"),
                    signal.SIGHUP: (143, "terminated (its terminal hung up)")}[sig]
    check(held and p.returncode == status and err == f"{tool}: {word}\n" and not left,
          f"{tool} stopped by {sig.name}: held {held}, exit {p.returncode}, expected {status} and one line; "
          f"stderr {err[-300:]!r}, stdout {out[-100:]!r}, left {left}")


def check_ctrl_c(d):
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    out = os.path.join(d, "out")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        stopped_by(sig, "kernel_times", [fifo], fifo, out)
    stopped_by(signal.SIGHUP, "kernel_times", [fifo], fifo, out, nohup=True)
    folder = os.path.join(d, "folder")  # a results folder whose results.csv is being read
    os.mkdir(folder)
    os.mkfifo(os.path.join(folder, "results.csv"))
    stopped_by(signal.SIGINT, "results_table", [folder, "--out", out], os.path.join(folder, "results.csv"), out)
    # A checkpoint of more parameters than a pipe holds, so that the write is held too.
    run_folder = os.path.join(d, "run")
    run(["train", "--data", "usps", "--hidden", "300", "--epochs", "1", "--train-limit", "100", "--valid", "100",
         "--threads", "1", "--progress", "never", "--out", run_folder])
    npz = os.path.join(d, "model.npz")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        stopped_by(sig, "export_model", [os.path.join(run_folder, "last.ckpt"), npz], None, npz, writes=True)
    # Stopped while it imports NumPy (a second or more), which a stand-in holds on a FIFO.
    stand_in = os.path.join(d, "slow", "numpy")
    os.makedirs(stand_in)
    with open(os.path.join(stand_in, "__init__.py"), "w") as f:
        f.write(f"open({fifo!r}).read()\n")
    slow = dict(os.environ, PYTHONPATH=os.path.dirname(stand_in))
    for sig in (signal.SIGINT, signal.SIGTERM):
        stopped_by(sig, "export_model", [os.path.join(run_folder, "last.ckpt"), npz], fifo, npz, env=slow)
    if subprocess.run([sys.executable, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        print(f"Ctrl-C in the tools that draw: not checked ({sys.executable} has no matplotlib)")
        return
    stopped_by(signal.SIGINT, "plot_profile", [fifo, "--out", out], fifo, out)
    stopped_by(signal.SIGINT, "plot_sweep", [folder, "--out", out], os.path.join(folder, "results.csv"), out)
    # plot_analysis reading a cached evaluation of its row.
    os.mkdir(out)
    os.mkfifo(os.path.join(out, "eval-X.json"))
    stopped_by(signal.SIGINT, "plot_analysis", ["--out", out, f"X={run_folder}"], os.path.join(out, "eval-X.json"),
                      os.path.join(out, "saturation.png"))


def check_odd_names(d, run_folder):
    # JACNOISE: the tools would otherwise run their checkout's build/jacnoise, not the one under test.
    env = dict(os.environ, PYTHONIOENCODING="utf-8", JACNOISE=harness.BIN)
    odd = os.path.join(os.fsencode(d), b"\xff")
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results", "cpu-small")
    os.mkdir(odd)
    for name in ("results.csv", "reproduce.json"):
        with open(os.path.join(results, name), "rb") as src, open(os.path.join(odd, os.fsencode(name)), "wb") as dst:
            dst.write(src.read())
    table = [sys.executable, os.path.join(TOOLS, "results_table.py"), odd]
    for out in (None, odd + b".md"):
        p = subprocess.run(table + ([b"--out", out] if out else []), capture_output=True, env=env, timeout=120)
        written = p.stdout
        if out and os.path.exists(out):
            with open(out, "rb") as f:
                written = f.read()
        check(p.returncode == 0 and not p.stderr and f"`{os.fsdecode(odd)}`".encode(errors="surrogateescape") in written,
              f"results_table of a folder with an undecodable name, --out {out!r}: exit {p.returncode}, "
              f"stderr {p.stderr[-300:]!r}")
    # jacnoise's output read back, and its command line logged, with such a name in them.
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "reproduce.py"), "--budget", "smoke", "--sets", "usps",
                        "--rows", "mlp", "--no-plots", "--out", odd + b"-results"], capture_output=True, env=env,
                       timeout=600)
    check(p.returncode == 0 and os.path.exists(odd + b"-results/RESULTS.md"),
          f"reproduce --out with an undecodable name: exit {p.returncode}, stderr {p.stderr[-300:]!r}")
    if subprocess.run([sys.executable, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        return
    analysis = [sys.executable, os.path.join(TOOLS, "plot_analysis.py"), "--out", odd + b"-pictures"]
    # jacnoise's errors write a byte that is not UTF-8 as a C escape; the tool passes them on as
    # written. (A folder without best.ckpt is refused by the tool itself, escaping it alike.)
    p = subprocess.run(analysis + [b"X=" + odd + b"/results.csv"], capture_output=True, env=env, timeout=120)
    check(p.returncode == 1 and p.stderr.count(b"\n") == 1 and
          odd.replace(b"\xff", b"\\xff") + b"/results.csv: byte 0: not a jacnoise checkpoint" in p.stderr,
          f"plot_analysis of a file with an undecodable name, no checkpoint: exit {p.returncode}, "
          f"stderr {p.stderr[-300:]!r}")
    p = subprocess.run(analysis + [b"X=" + odd], capture_output=True, env=env, timeout=120)
    check(p.returncode == 1 and p.stderr.count(b"\n") == 1 and
          b"X: " + odd.replace(b"\xff", b"\\xff") + b" is a folder without best.ckpt" in p.stderr,
          f"plot_analysis of a folder with an undecodable name and no best.ckpt: exit {p.returncode}, "
          f"stderr {p.stderr[-300:]!r}")
    # Its cached evaluation, which names the checkpoint with U+FFFD for the byte, is used again.
    shutil.copytree(os.fsencode(run_folder), odd + b"-run")
    for again in (False, True):
        p = subprocess.run(analysis + [b"X=" + odd + b"-run"], capture_output=True, env=env, timeout=300)
        check(p.returncode == 0 and b"evaluating again" not in p.stdout,
              f"plot_analysis of a run folder with an undecodable name{', again' if again else ''}: exit {p.returncode}, "
              f"stdout {p.stdout[-300:]!r}, stderr {p.stderr[-300:]!r}")


def check_escaped_names(d):
    """Every tool's error naming a file escapes it: kernel_times printed the byte raw, the others
    an escape sequence too, which cleared the screen."""
    odd = os.path.join(os.fsencode(d), b"n\x1b[2J\xff\tx")
    shown = odd.replace(b"\x1b", b"\\x1b").replace(b"\xff", b"\\xff").replace(b"\t", b"\\t")
    calls = [("kernel_times", [odd + b".csv"], 1, shown + b".csv: No such file or directory"),
             ("plot_profile", [odd + b".csv"], 1, shown + b".csv: No such file or directory"),
             ("plot_sweep", [odd], 1, shown + b"/results.csv: no such file (is " + shown + b" a sweep folder?)"),
             ("results_table", [odd], 1, shown + b"/results.csv: No such file or directory"),
             ("export_model", [odd + b".ckpt", b"o.npz"], 1, shown + b".ckpt: No such file or directory"),
             ("plot_analysis", [b"--out", b"o", b"A=" + odd], 1, b"A: " + shown + b" does not exist"),
             ("reproduce", [b"--budget", b"smoke", b"--out", b"x", b"--n\x1b[2J\xff"], 2,
              b"unrecognized arguments: --n\\x1b[2J\\xff")]
    for tool, args, code, words in calls:
        p = subprocess.run([sys.executable, os.path.join(TOOLS, f"{tool}.py")] + args, capture_output=True, cwd=d,
                           timeout=120)
        check(p.returncode == code and p.stderr.startswith(f"{tool}: ".encode()) and p.stderr.count(b"\n") == 1 and
              words in p.stderr and b"\x1b" not in p.stderr and b"\xff" not in p.stderr,
              f"{tool} with an odd name: exit {p.returncode}, expected {code} and one line with {words!r}; "
              f"stderr {p.stderr[-300:]!r}")
    # And on a line of output: export_model wrote the --out name raw.
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "export_model.py"), os.path.join(d, "run", "best.ckpt"),
                        odd + b".npz"], capture_output=True, timeout=120)
    check(p.returncode == 0 and p.stdout.startswith(shown + b".npz: ") and b"\x1b" not in p.stdout,
          f"export_model --out with an odd name: exit {p.returncode}, stdout {p.stdout[-300:]!r}, "
          f"stderr {p.stderr[-300:]!r}")


def check_scratch(d):
    for body, kept in (("pass", False), ("harness.check(False, 'a failure')", True),
                       ("raise RuntimeError('a crash')", True)):
        code = f"import harness\nwith harness.scratch('t-') as d:\n    print(d, flush=True)\n    {body}\n"
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           cwd=os.path.dirname(os.path.abspath(__file__)), env=dict(os.environ, TMPDIR=d))
        folder = p.stdout.split("\n")[0]
        check(folder.startswith(os.path.join(d, "t-")) and os.path.isdir(folder) == kept and
              (f"kept for a look: {folder}" in p.stdout) == kept,
              f"harness.scratch, {body}: folder {folder!r} kept {os.path.isdir(folder)}, expected {kept}; "
              f"stdout {p.stdout[-300:]!r}")


def check_durable_writes(d):
    """tool_files' writes (a table, a picture) read under strace: the temporary file fsync'ed
    before its rename, the folder fsync'ed after it, as jacnoise writes its files (a picture was
    not synced, nor any folder: a power cut could leave an empty picture, or lose a new file)."""
    strace = shutil.which("strace")
    if not strace:
        check(False, "durable tool writes: strace is missing (Debian: strace; tools/setup.sh installs it)")
        return
    out, trace = os.path.join(d, "durable"), os.path.join(d, "durable.trace")
    os.makedirs(out)
    code = ("import sys, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nsys.path.insert(0, "
            f"{TOOLS!r})\nimport tool_files\ntool_files.write_text({os.path.join(out, 'table.md')!r}, 'x\\n')\n"
            f"tool_files.save_png(plt.figure(), {os.path.join(out, 'picture.png')!r})\n")
    p = subprocess.run([strace, "-qq", "-e", "trace=" + SYNC_CALLS, "-o", trace, "/usr/bin/python3", "-c", code],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"durable tool writes: exit {p.returncode}: {p.stderr[-300:]!r}")
    check(synced_in_trace(trace, out, "durable tool writes") == 2, "durable tool writes: not 2 renames")


def check_png_kept(d):
    """A picture's name that holds a file which is no PNG (a user's data, given as the output by
    mistake) is refused in one line naming it and the file kept, where the picture replaced it; a
    PNG there (the tool's last picture) is replaced, and so is an empty file (nothing to lose)."""
    out = os.path.join(d, "pictures")
    os.makedirs(out)
    data, picture, empty = (os.path.join(out, name) for name in ("saturation.png", "old.png", "empty.png"))
    kept = b"epoch,valid_error\n1,2.5\n"
    with open(data, "wb") as f:
        f.write(kept)
    with open(picture, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
    open(empty, "wb").close()
    code = ("import sys, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nsys.path.insert(0, "
            f"{TOOLS!r})\nimport plot_analysis\nplot_analysis.save(plt.figure(), sys.argv[1])\n")
    for path, replaced in ((data, False), (picture, True), (empty, True)):
        p = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=300)
        with open(path, "rb") as f:
            now = f.read()
        if replaced:
            check(p.returncode == 0 and not p.stderr and len(now) > 8, f"a picture over an old one: exit "
                  f"{p.returncode}, {len(now)} bytes, stderr {p.stderr[-300:]!r}")
            continue
        check(p.returncode == 1 and p.stderr == f"plot_analysis: {path}: exists and is not a PNG picture (it does not "
              "begin as one); give another file, or remove it\n" and now == kept
              and len(os.listdir(out)) == 3, f"a picture over a data file: exit {p.returncode}, stderr {p.stderr[-300:]!r}, "
              f"file {now[:40]!r}, folder {os.listdir(out)}")


def check_unreadable_folder(d):
    """tool_files' writes into a folder one may write in but not read (mode 0333, which cannot be
    opened to fsync) are synced as jacnoise's are: through the file renamed there (syncfs), and
    where that cannot be opened either (strace makes its open fail), one warning line names the
    folder. Root may open any folder, so as root the writer is nobody, with a copy of
    tool_files.py that nobody can read (the checkout may lie in a folder only root enters)."""
    strace = shutil.which("strace")
    if not strace:
        check(False, "tool writes in a folder one may not read: strace is missing (Debian: strace)")
        return
    box, tools, as_user = os.path.join(d, "unreadable"), TOOLS, []
    os.makedirs(box)
    if os.geteuid() == 0:
        as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        for folder in (d, box):
            os.chmod(folder, 0o755)
        shutil.copy(os.path.join(TOOLS, "tool_files.py"), box)
        os.chmod(os.path.join(box, "tool_files.py"), 0o644)
        tools = box
    drop, trace = os.path.join(box, "drop"), os.path.join(d, "unreadable.trace")
    os.makedirs(drop)
    os.chmod(drop, 0o333)
    table, unopened = os.path.join(drop, "table.md"), os.path.join(drop, "unopened.md")
    for path, traced in ((table, ["-e", "trace=" + SYNC_CALLS, "-o", trace]),
                         (unopened, ["-o", os.devnull, "-P", unopened, "-e", "trace=openat",
                                     "-e", "inject=openat:error=EACCES"])):
        code = f"import sys\nsys.path.insert(0, {tools!r})\nimport tool_files\ntool_files.write_text({path!r}, 'x\\n')\n"
        p = subprocess.run([strace, "-qq"] + traced + as_user + ["/usr/bin/python3", "-c", code],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0 and "ptrace" in p.stderr:
            print(f"tool writes in a folder one may not read: NOT CHECKED (strace cannot trace here: {p.stderr[:200]})")
            break
        check(p.returncode == 0 and os.path.isfile(path),
              f"tool writes in a folder one may not read: {path}: exit {p.returncode}: {p.stderr[-300:]!r}")
        if path == table:
            check(synced_in_trace(trace, drop, "tool writes in a folder one may not read") == 1,
                  "tool writes in a folder one may not read: not 1 rename")
        else:
            check(p.stderr.endswith(f": warning: {drop}: cannot open the folder, nor {unopened} in it, to sync it "
                                    "(Permission denied): a power cut could lose what was renamed or made in it\n")
                  and p.stderr.count("\n") == 1,
                  f"tool writes in a folder one may not read: not one warning naming the folder: {p.stderr[-500:]!r}")
    os.chmod(drop, 0o755)


def main():
    tools = harness.tools()
    check(sorted(CALLS) == tools, f"tools with a command line {tools}, checked here {sorted(CALLS)}")
    for tool in tools:
        path = os.path.join(TOOLS, f"{tool}.py")
        accepted, bad = CALLS.get(tool, ([], []))
        p = subprocess.run([sys.executable, path, "--help"], capture_output=True, text=True, timeout=120)
        check(p.returncode == 0 and p.stdout.startswith("usage:") and not p.stderr,
              f"{tool} --help: exit {p.returncode}, stdout {p.stdout[:80]!r}, stderr {p.stderr[-300:]!r}")
        # One usage line: plot_sweep's docstring gave a second, naming its operand and options
        # otherwise than argparse's ('DIR [--out FOLDER]' after 'folder', '--out OUT').
        usages = [line for line in p.stdout.splitlines() if line.lstrip().startswith("usage:")]
        check(len(usages) == 1, f"{tool} --help: {len(usages)} usage lines {usages}")
        bare = options_without_help(p.stdout)
        check(bare == [], f"{tool} --help: options without a word on them: {bare} (None: no option list)")
        # An option's value is named alike in the usage line and the option list (plot_analysis's
        # usage said --out DIR, its list --out OUT; results_table's --out FILE and --out OUT).
        renamed = usage_names_differ(p.stdout)
        check(renamed == [], f"{tool} --help: the usage line and the option list name values otherwise: {renamed}")
        # Its whole text, not the first line alone (kernel_times.py's left out the ncu command).
        with open(path) as f:
            doc = ast.get_docstring(ast.parse(f.read()), clean=False) or ""
        said = " ".join(p.stdout.split())
        left = [line.strip() for line in doc.splitlines() if " ".join(line.split()) not in said]
        check(doc and not left, f"{tool} --help leaves out its docstring's lines {left[:3]}")
        # An abbreviation ('--hel' for --help, every tool's) is an unknown option, as in jacnoise.
        cases = [(accepted + ["--no-such-option"], "--no-such-option"), (accepted + ["--hel"], "--hel"),
                 ([], "required")] + \
                [(accepted + args, word) for args, word in bad] + \
                [(args, f": {name} '': empty ") for args, name in EMPTY_NAMES.get(tool, [])]
        for args, word in cases:
            p = subprocess.run([sys.executable, path] + args, capture_output=True, text=True, timeout=120)
            check(p.returncode == 2 and p.stderr.startswith(f"{tool}: ") and p.stderr.count("\n") == 1 and
                  word in p.stderr and not p.stdout,
                  f"{tool} {' '.join(args)}: exit {p.returncode}, expected 2 and one line naming {word}; "
                  f"stderr {p.stderr[-300:]!r}, stdout {p.stdout[-100:]!r}")
    check_without_modules()
    with scratch("jacnoise-tools-usage-") as d:
        check_ctrl_c(d)
        check_escaped_names(d)
        check_odd_names(d, os.path.join(d, "run"))
        check_scratch(d)
        check_durable_writes(d)
        check_png_kept(d)
        check_unreadable_folder(d)
    sys.exit(finish("test_tools_usage"))


if __name__ == "__main__":
    main()
