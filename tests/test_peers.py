#!/usr/bin/env python3
"""bench/peers/run_peers.py's --help (each option with its default) and refusals, none of which times
anything: an option the script refuses is one line and exit 2 before the peers load (an unwritable
--csv included); one jacnoise refuses is jacnoise's line and exit 2; a --jacnoise that exits 0
without its step state is one line naming it and that file, exit 1; no table is written. Ctrl-C is
one line, exit 130, the shapes done kept in --csv; SIGTERM (143), SIGHUP (143, its terminal
hung up), a closed standard output (141) and a jacnoise command that fails (1) the same; each
row ends with its conditions and the PyTorch and JAX versions that ran (empty where absent). And the PyTorch peers' loss, penalty, objective and
gradient agree with `jacnoise step --dump` for each penalty form, as the script's check column says;
a loss 1e-3 off is named there, exit 1.

Environment (set by CTest): JACNOISE_BIN, JACNOISE_DATA."""
import csv
import os
import subprocess
import sys

from harness import BIN, TORCH_MISSING, check, finish, option_help, scratch

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "peers", "run_peers.py")
TINY = ["--data", "usps", "--hidden", "5", "--batch", "2", "--penalty", "hidden1", "--reps", "1", "--rounds", "1",
        "--warmup", "0", "--threads", "1"]


def taken(table):
    """The rows of the --csv table a run wrote ([] if none), the file removed for the next run."""
    if not os.path.exists(table):
        return []
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    os.unlink(table)
    return rows


def agreement(table):
    """PyTorch's step (autograd, both styles) against `jacnoise step --dump` on a tiny two-layer
    net with input noise: every penalty form agrees within the tolerance, exit 0, and the
    table says ok for each. Not checked where PyTorch is missing (unless JACNOISE_REQUIRE_TORCH=1)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        check(os.environ.get("JACNOISE_REQUIRE_TORCH") != "1", TORCH_MISSING)
        print("agreement: not checked: this Python has no PyTorch")
        return
    penalties = ["hidden1", "output:2", "output:exact", "hidden:2:1"]
    args = ["--data", "usps", "--hidden", "5,4", "--batch", "3", "--penalty"] + penalties + [
        "--input-noise", "0.1", "--reps", "1", "--rounds", "1", "--warmup", "0", "--threads", "1"]
    p = subprocess.run([sys.executable, SCRIPT, "--jacnoise", BIN, "--csv", table] + args,
                       capture_output=True, text=True, timeout=300)
    rows = taken(table)
    verdicts = {r["penalty"]: r["check"] for r in rows}
    check(p.returncode == 0 and verdicts == {pen: "ok" for pen in penalties} and "torch eager_us" in rows[-1] and
          "torch func_us" in rows[-1], f"run_peers agreement: exit {p.returncode}, checks {verdicts}, {p.stderr[-500:]!r}")
    # A jacnoise whose dumped loss is 1e-3 too high (ten times the tolerance): the check names it, exit 1.
    off = os.path.join(os.path.dirname(table), "loss-off")
    with open(off, "w") as f:
        f.write(f"""#!{sys.executable}
import os, struct, subprocess, sys, zlib
rc = subprocess.call([{BIN!r}] + sys.argv[1:])
if rc == 0 and "--dump" in sys.argv:
    path = sys.argv[sys.argv.index("--dump") + 1]
    raw = bytearray(open(path, "rb").read())
    for code, form in ((1, "<f"), (2, "<d")):
        at = raw.find(struct.pack("<BBH", code, 0, 4) + b"loss")
        if at >= 0:
            at += 8
            struct.pack_into(form, raw, at, struct.unpack_from(form, raw, at)[0] * 1.001)
    open(path, "wb").write(raw[:-4] + struct.pack("<I", zlib.crc32(raw[:-4])))
sys.exit(rc)
""")
    os.chmod(off, 0o755)
    args[args.index("--penalty") + 1:args.index("--input-noise")] = ["hidden1"]
    p = subprocess.run([sys.executable, SCRIPT, "--jacnoise", off] + args, capture_output=True, text=True, timeout=300)
    line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    check(p.returncode == 1 and "torch eager: loss 1.0e-03" in line and "torch func: loss 1.0e-03" in line and
          "disagrees" in p.stderr, f"run_peers, a loss 1e-3 off: exit {p.returncode}, {line!r}, {p.stderr[-300:]!r}")


def interrupted(tmp, table):
    """Ctrl-C, SIGTERM, SIGHUP (its terminal closed) or a jacnoise command that fails at the
    second shape (here its jacnoise sends the signal, and exits 130 or 143 as jacnoise does, or
    fails with exit 1): one line, exit 130, 143 or 1, and --csv holds the shape done; no
    traceback."""
    counter = os.path.join(tmp, "steps")
    stopper = os.path.join(tmp, "stopper")
    args = TINY[:TINY.index("--batch")] + ["--batch", "2", "3"] + TINY[TINY.index("--batch") + 2:]
    for action, code, ending in [
            ("os.kill(os.getppid(), signal.SIGINT); sys.exit(130)", 130, "interrupted"),
            ("os.kill(os.getppid(), signal.SIGTERM); sys.exit(143)", 143, "terminated"),
            ("os.kill(os.getppid(), signal.SIGHUP); sys.exit(143)", 143, "terminated (its terminal hung up)"),
            ("print('jacnoise: out of memory', file=sys.stderr); sys.exit(1)", 1, "exit 1: jacnoise: out of memory")]:
        if os.path.exists(counter):
            os.unlink(counter)
        with open(stopper, "w") as f:
            f.write(f"""#!{sys.executable}
import os, signal, subprocess, sys
if "step" in sys.argv:
    with open({counter!r}, "a") as f:
        f.write("x")
    if os.path.getsize({counter!r}) == 2:
        {action}
sys.exit(subprocess.call([{BIN!r}] + sys.argv[1:]))
""")
        os.chmod(stopper, 0o755)
        p = subprocess.run([sys.executable, SCRIPT, "--jacnoise", stopper, "--csv", table] + args,
                           capture_output=True, text=True, timeout=300)
        rows = taken(table)
        check(p.returncode == code and p.stderr.count("\n") == 1 and p.stderr.startswith("run_peers: ") and
              p.stderr.endswith(f"{ending}; --csv {table} holds the 1 shape done\n") and [r["B"] for r in rows] == ["2"],
              f"run_peers, {ending}: exit {p.returncode}, stderr {p.stderr!r}, rows {rows}")


def closed_output(tmp, table):
    """A closed standard output (run_peers.py | head) at the first shape's line: as Ctrl-C,
    one line, --csv holding the shapes done (the one whose line went nowhere too), exit 141;
    SIGPIPE killed the script there, the table unwritten."""
    args = TINY[:TINY.index("--batch")] + ["--batch", "2", "3"] + TINY[TINY.index("--batch") + 2:]
    read_end, write_end = os.pipe()
    os.close(read_end)  # closed before the first line
    # Its output buffered, as in a pipe by default: the first line written is the first shape's.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    p = subprocess.run([sys.executable, SCRIPT, "--jacnoise", BIN, "--csv", table] + args, stdout=write_end,
                       stderr=subprocess.PIPE, text=True, timeout=300, env=env)
    os.close(write_end)
    rows = taken(table)
    check(p.returncode == 141 and p.stderr == "run_peers: stopped (its output was closed: a broken pipe); "
          f"--csv {table} holds the 1 shape done\n" and [r["B"] for r in rows] == ["2"],
          f"run_peers, closed stdout: exit {p.returncode}, stderr {p.stderr!r}, rows {rows}")
    # Each row says what its times were measured under: tables of two runs concatenated stay apart.
    want = {"backend": "cpu", "precision": "fp32", "threads": "1", "reps": "1", "warmup": "0", "rounds": "1"}
    check(rows and {k: rows[0].get(k) for k in want} == want and rows[0].get("device"),
          f"run_peers: the row's conditions {rows[:1]}, expected {want} and the device")
    # Then the versions of PyTorch and JAX that ran, empty for one not installed (a table said
    # neither: two runs of other versions could not be told apart).
    versions = {f"{lib}_version": version_of(lib) for lib in ("torch", "jax")}
    check(rows and list(rows[0])[-2:] == list(versions) and {k: rows[0][k] for k in versions} == versions,
          f"run_peers: the row's library versions {rows[:1]}, expected {versions} last")


def version_of(library):
    """The version of a peer's library as this Python imports it, or "" where it cannot."""
    p = subprocess.run([sys.executable, "-c", f"import {library}; print({library}.__version__)"],
                       capture_output=True, text=True, timeout=300)
    return p.stdout.strip() if p.returncode == 0 else ""


def main():
    option_help(SCRIPT)
    with scratch("jacnoise-peers.") as tmp:
        table = os.path.join(tmp, "peers.csv")
        silent = os.path.join(tmp, "silent")  # exits 0 and writes nothing
        with open(silent, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(silent, 0o755)
        for args, code, words, started in [
            (["--penalty", "bogus"], 2, "--penalty bogus", False),
            # What argparse refuses too: one line, not its usage before it, in the C benchmarks'
            # words (test_bench), not argparse's ('unrecognized arguments', 'invalid int value').
            (["--bogus"], 2, "run_peers: --bogus: unknown option (see run_peers --help)", False),
            (["--reps", "x"], 2, "run_peers: --reps x: not a value it takes (see run_peers --help)", False),
            (["--device", "x"], 2, "run_peers: --device x: not a value it takes (see run_peers --help)", False),
            (["--reps"], 2, "run_peers: --reps: needs a value (see run_peers --help)", False),
            # An option given whole, as the C benchmarks take one: no argparse abbreviation.
            (["--rep", "3"], 2, "run_peers: --rep: unknown option (see run_peers --help)", False),
            (["--threads", "0"], 2, "run_peers: --threads 0: out of range [1, 1024]", False),
            (["--batch", "2", "0"], 2, "run_peers: --batch 0: out of range [1, 65536]", False),
            (["--warmup", "-1"], 2, "run_peers: --warmup -1: out of range [0, 1000000]", False),
            (["--csv", os.path.join(tmp, "no", "p.csv")], 2, "cannot write in", False),
            (["--csv", tmp], 2, "is a folder", False),
            (["--jacnoise", tmp], 2, "is not the jacnoise program", False),
            (["--penalty", "hidden:2:1"], 2, "--penalty hidden:2:1: --hidden 5 has no hidden layer 2", False),
            # Checked by jacnoise's rule before the first shape is timed, not by jacnoise at the second.
            (["--hidden", "5", "5,x"], 2, "run_peers: --hidden 5,x: expected 1 to 15 widths in [1, 1000000]", False),
            (["--hidden", "5", "0"], 2, "run_peers: --hidden 0: expected 1 to 15 widths in [1, 1000000]", False),
            (["--penalty", "output:bogus"], 2, "--jac-proj", True),
            (["--jacnoise", silent], 1, f"{silent} step exited 0, but its step state", True),
        ]:
            cmd = [sys.executable, SCRIPT, "--jacnoise", BIN, "--csv", table] + TINY + args
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == code and len(lines) == 1 and words in lines[0],
                  f"run_peers {' '.join(args)}: exit {p.returncode} (expected {code}), stderr {p.stderr!r}")
            # The script's own refusals come before the peers load and the table's header.
            check(started or p.stdout == "", f"run_peers {' '.join(args)}: stdout {p.stdout!r}")
            check(not os.path.exists(table), f"run_peers {' '.join(args)}: wrote {table}")
        agreement(table)
        interrupted(tmp, table)
        closed_output(tmp, table)
    return finish("peers")


if __name__ == "__main__":
    sys.exit(main())
