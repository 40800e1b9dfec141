#!/usr/bin/env python3
"""tools/reproduce.py end to end at the smoke budget (tiny models), in under a minute: USPS and
MNIST with the MLP, MLP+J and MLP+N+J rows. The table (RESULTS.md, results.csv) and the
pictures are written; each cell's selection is the search's lowest smoothed validation error
and its seeds were retrained as the protocol says; the table's numbers are those of the run
folders, the cells not run are marked "not measured", and the Splits line and the hidden layers
named are the budget's;
tools/results_table.py shows every cell as RESULTS.md does, and merges two folders' tables; a
rerun trains nothing (without pictures, also where its data is not) and keeps each cell's device, and a folder it may not write in is refused in one line
(as root: skipped, said, where uid 65534 cannot reach the scratch folder); a call of one cell keeps the folder's other cells in its table and
pictures; a run stopped by SIGTERM, as timeout(1) stops it (the driver, then its
process group), writes the cells finished by then, marked as stopped, and rerun gives the same
table; a SIGHUP (its terminal closed) stops the sweeps as SIGTERM does, 143, and a Ctrl-C as the pictures start says
that they were not drawn (the Cells section lists only the pictures drawn); an earlier cell's damaged results.csv
(cut short, without a column, a line short of values) is named in one line, the folder's results.csv without its device
column is refused in one line, and a sweep that refuses its
folder is reported in its own words, without advice to retry; the driver SIGKILLed stops its sweeps too; a row whose seeds all diverge in their first epoch reads
"diverged" and is left out of the pictures, in one line, rerun alike, and a row whose search
diverges reads "search diverged" (RESULTS.md, results.csv, results_table.py) and leaves the pictures of the others; a Ctrl-C during --plan ends it in one line; bad options are refused with one line, exit 2; `--plan` has
jacnoise sweep check every spec of every budget (all data sets and rows). First, on made-up
numbers worked out by hand (`--rules` runs these alone, in a second): the smoothed minimum and
its ties, the selection's ties (a search's table with and without where its rows trained) and the runs it never selects, the table's rounding and seed
count, the cost model, tool_files' atomic writes, an --out of another tool's and data not found
refused before anything is written (--plan warns of it, exit 0), and results_table.py's merge and refusals. The rest is skipped (77) without matplotlib. JACNOISE_TEST_DEVICE=cuda runs the same on the CUDA backend
(tools/emu-check.sh does, under the emulator)."""
import contextlib
import csv
import decimal
import glob
import io
import json
import math
import os
import re
import shutil
import shlex
import signal
import statistics
import subprocess
import sys
import time
import unittest.mock

from harness import BIN, check, ended, failures, finish, metrics_line, scratch, stub, text_until, wait_until

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reproduce.py")
TABLE_TOOL = os.path.join(os.path.dirname(TOOL), "results_table.py")
ALL_ROWS = ["MLP", "MLP+L2", "MLP+N", "MLP+J", "MLP+N+J", "MLP+N+J (hidden1)", "MLP+N+J (input noise too)"]
# What the test runs: the rows the paper quotes (MLP, MLP+N+J) and the penalty without noise,
# on a data set of each reader (USPS text, MNIST IDX); the other cells' specs are checked by --plan.
SETS = ["mnist", "usps"]
CELL_ROWS = ["mlp", "j", "nj"]
ROWS = ["MLP", "MLP+J", "MLP+N+J"]
DEVICE = os.environ.get("JACNOISE_TEST_DEVICE", "cpu")
BASE = ["--budget", "smoke", "--jobs", "2"] + (["--device", DEVICE] if DEVICE != "cpu" else [])
SMOKE = BASE + ["--sets", ",".join(SETS), "--rows", ",".join(CELL_ROWS)]
ENV = dict(os.environ, JACNOISE=BIN)


def reproduce(args, env=ENV, tool=TOOL, **kw):
    return subprocess.run([sys.executable, tool] + args, capture_output=True, text=True, env=env, timeout=900, **kw)


def failed_logs(p):
    """The last lines of the log of each sweep that reproduce.py reports failed."""
    tails = []
    for log in re.findall(r"FAILED .* see (\S+)", p.stdout):
        with open(log, errors="replace") as f:
            tails.append(f"{log}:\n" + "".join(f.readlines()[-15:]))
    return "\n".join(tails)


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def spec_values(path):
    with open(path) as f:
        return dict(tuple(p.strip() for p in line.split("=", 1)) for line in f if "=" in line and not line.startswith("#"))


def run_files(folder):
    """Every run folder's files and their modification times."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if "/runs/" in path:
                out[path] = os.stat(path).st_mtime_ns
    return out


def smoothed(folder):
    """(lowest running mean of the validation error over 11 epochs, its epoch), or None."""
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        v = [json.loads(line)["valid_error"] for line in f]
    h = min(5, (len(v) - 1) // 2)
    means = [(statistics.fmean(v[e - h:e + h + 1]), e + 1) for e in range(h, len(v) - h)]
    return min(means, key=lambda m: m[0])


def check_cells(out):
    """Each cell: the selection is the search's lowest smoothed validation error, the seeds
    retrained on training + validation for its epoch, and the table holds the runs' numbers."""
    table = {(r["set"], r["row"]): r for r in csv_rows(os.path.join(out, "results.csv"))}
    check(len(table) == len(SETS) * len(ROWS), f"results.csv has {len(table)} cells, expected {len(SETS) * len(ROWS)}")
    for data in SETS:
        for row, title in zip(CELL_ROWS, ROWS):
            cell = f"{data}-{row}"
            search = [r for r in csv_rows(os.path.join(out, "search", cell, "results.csv"))
                      if r["status"] in ("finished", "early-stopped")]
            final_spec = spec_values(os.path.join(out, "specs", f"{cell}-final.spec"))
            search_spec = spec_values(os.path.join(out, "specs", f"{cell}-search.spec"))
            swept = [k for k, v in search_spec.items() if v.startswith(("[", "uniform(", "log-uniform(", "choice("))]
            check(swept, f"{cell}: nothing swept in the search")
            scores = {r["id"]: smoothed(os.path.join(out, "search", cell, "runs", r["id"])) for r in search}
            best = min(scores.values(), key=lambda m: m[0])
            chosen = [r for r in search if all(r[k] == final_spec[k] for k in swept)]
            check(len(chosen) == 1 and scores[chosen[0]["id"]][0] == best[0],
                  f"{cell}: the selected {[final_spec[k] for k in swept]} is not the lowest smoothed validation error {best}")
            if chosen:
                epoch = scores[chosen[0]["id"]][1]
                check(final_spec["epochs"] == str(epoch), f"{cell}: retrained for {final_spec['epochs']} "
                      f"epochs, the selected run's smoothed minimum is at epoch {epoch}")
                got = table.get((data, title), {}).get("selected_valid_error", "nan")
                check(abs(float(got) - scores[chosen[0]["id"]][0]) < 0.006, f"{cell}: the table's validation error {got}")
            check(final_spec.get("valid") == "0" and final_spec.get("seeds") == "2",
                  f"{cell}: the seeds are not retrained on training + validation: {final_spec}")
            seeds = sorted(csv_rows(os.path.join(out, "final", cell, "results.csv")), key=lambda r: int(r["seed"]))
            check([r["seed"] for r in seeds] == ["1", "2"], f"{cell}: seeds {[r['seed'] for r in seeds]}")
            got = table.get((data, title))
            check(got is not None, f"{cell}: not in results.csv")
            if not got or len(seeds) != 2:
                continue
            tests = [float(r["test_error"]) for r in seeds]
            check([float(t) for t in got["test_errors"].split()] == tests,
                  f"{cell}: table {got['test_errors']}, runs {tests}")
            mean = sum(tests) / 2
            std = math.sqrt(sum((t - mean) ** 2 for t in tests))
            check(float(got["mean"]) == mean and float(got["std"]) == std,
                  f"{cell}: mean/std {got['mean']}/{got['std']}, expected {mean}/{std}")
            check(int(got["search_runs"]) == len(search) and int(got["final_runs"]) == 2,
                  f"{cell}: runs {got['search_runs']} + {got['final_runs']}")
    return table


def write_search(folder, runs, where=()):
    """A search folder as jacnoise sweep leaves it: results.csv and each run's metrics.jsonl.
    runs: [(id, status, validation curve)]; where: the row's backend, device and gemm_precision,
    after seconds (none: a sweep's from before they were written)."""
    os.makedirs(folder)
    with open(os.path.join(folder, "results.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "status", "valid_error", "test_error", "seconds"] +
                   (["backend", "device", "gemm_precision"] if where else []))
        for rid, status, curve in runs:
            w.writerow([rid, status, min((v for v in curve if v is not None), default=""), 0.5, 1.0] + list(where))
            os.makedirs(os.path.join(folder, "runs", rid))
            with open(os.path.join(folder, "runs", rid, "metrics.jsonl"), "w") as g:
                g.writelines(metrics_line(epoch=e + 1, valid_error=v) + "\n" for e, v in enumerate(curve))


def check_rules(scratch):
    """The driver's rules on made-up numbers, against values worked out by hand from
    tools/reproduce/README.md: the smoothed validation minimum (11-epoch running mean, whole
    windows only, narrower for a short run, ties to the earlier epoch), the selection (lowest
    smoothed error, ties to the lower id, diverged and failed runs never), the table's
    rounding and seed count, and the cost model of SPEC.md's "Cost" section."""
    sys.path.insert(0, os.path.dirname(TOOL))
    import reproduce as rp
    # One dip at epoch 15 in a flat curve: every 11-epoch window over it ties at 100/11, the
    # earliest is centred on epoch 10.
    dip = [10.0] * 14 + [0.0] + [10.0] * 15
    for curve, want in [(dip, (100 / 11, 10)),
                        ([0.0] + [10.0] * 20, (100 / 11, 6)),  # whole windows only: the first is centred on 6
                        ([4.0, 2.0, 3.0, 9.0], (3.0, 2)),     # 4 epochs: windows of 3
                        ([7.0, 7.0], (7.0, 1)), ([5.0], (5.0, 1)),
                        # The same errors in another order tie: summed in order, the second
                        # window's mean came out below the first's and took epoch 3.
                        ([1.0, 1.2, 1.1, 1.0], (1.1, 2))]:
        got = rp.smoothed_best(curve)
        check(abs(got[0] - want[0]) < 1e-9 and got[1] == want[1], f"smoothed_best({curve}): {got}, expected {want}")
    # Selection: r3 and r1 tie (the same curve), r1 has the lower id; r0 and r4 look better but
    # diverged or failed; r2 has a missing validation error.
    low = [9.0] * 12 + [1.0] + [9.0] * 12
    search = os.path.join(scratch, "select")
    write_search(search, [("r3", "finished", dip), ("r0", "diverged", [0.0] * 25), ("r1", "early-stopped", dip),
                          ("r2", "finished", low[:5] + [None] + low[6:]), ("r4", "failed", low),
                          ("r5", "finished", [10.0] * 25)])
    def damage_of(function, *args):
        """The message of the Damaged that function(*args) raises (main_of ends the call with it), or None."""
        try:
            function(*args)
        except rp.Damaged as e:
            return str(e)
    got = rp.select(search)
    check(got is not None and got[0]["id"] == "r1" and abs(got[1] - 100 / 11) < 1e-9 and got[2] == 10,
          f"select: {got and (got[0]['id'], got[1], got[2])}, expected r1 at 100/11, epoch 10")
    # Runs whose windows hold the same errors in another order tie, to the lower id: summed in
    # order, b's mean came out below a's.
    tied = os.path.join(scratch, "tied")
    write_search(tied, [("b", "finished", [1.2, 1.1, 1.0]), ("a", "finished", [1.0, 1.2, 1.1])])
    got = rp.select(tied)
    # A table that says where each row trained (a device's name with a comma, quoted) selects the same.
    where = os.path.join(scratch, "tied-where")
    write_search(where, [("b", "finished", [1.2, 1.1, 1.0]), ("a", "finished", [1.0, 1.2, 1.1])],
                 ("cpu", "AMD EPYC 7B13, 2 cores online", "fp32"))
    picked = rp.select(where)
    check(picked is not None and (picked[0]["id"],) + picked[1:] == (got[0]["id"],) + got[1:],
          f"select, with where rows trained: {picked}, expected {got}")
    check(got is not None and got[0]["id"] == "a" and got[2] == 2, f"select, a tie: {got and (got[0]['id'], got[2])}, expected a")
    # results.csv's numbers are decimals or empty (jacnoise's non-finite): float() would take
    # nan and 1_000; a test error or time otherwise is refused naming its line.
    for column, text in [("test_error", "nan"), ("seconds", "1_0")]:
        table = os.path.join(search, "results.csv")
        with open(table) as f:
            kept = f.read()
        row = {"id": "r9", "status": "finished", "valid_error": "1", "test_error": "2", "seconds": "3", column: text}
        with open(table, "a") as f:
            f.write(",".join(row.values()) + "\n")
        err = damage_of(rp.read_results, search)
        check(err == f"{table}: line 8: {column} '{text}' is not a decimal number", f"read_results, {column} {text!r}: {err!r}")
        with open(table, "w") as f:
            f.write(kept)
    # A final sweep's seed column too (the table's order of seeds): int() took 1_0, a word a traceback.
    seeded = os.path.join(scratch, "seeded")
    os.makedirs(seeded)
    with open(os.path.join(seeded, "results.csv"), "w") as f:
        f.write("id,status,seed,valid_error,test_error,seconds\nr0,finished,1_0,,2,3\n")
    err = damage_of(rp.read_results, seeded)
    check(err == f"{seeded}/results.csv: line 2: seed '1_0' is not a decimal number", f"read_results, seed 1_0: {err!r}")
    # A results.csv cut inside its last value (a copy stopped part way) is refused: every line
    # jacnoise writes ends with a newline, and the row read without it had seconds 3, not 37.5.
    with open(os.path.join(seeded, "results.csv"), "w") as f:
        f.write("id,status,seed,valid_error,test_error,seconds\nr0,finished,1,,2,3")
    err = damage_of(rp.read_results, seeded)
    check(err == f"{seeded}/results.csv: cut short: no newline at its end (a table edited by hand: end it with one)", f"read_results, a cut table: {err!r}")
    # A results.csv whose bytes are not text (damaged on the disk) is named too: a traceback of
    # UnicodeDecodeError ended the call.
    with open(os.path.join(seeded, "results.csv"), "wb") as f:
        f.write(b"id,status,seed\nr0,finished,\xff\xfe\n")
    err = damage_of(rp.read_results, seeded)
    check(err is not None and err.startswith(f"{seeded}/results.csv: not a readable CSV file") and "\n" not in err,
          f"read_results, bytes that are not UTF-8: {err!r}")
    # A run's epochs: its summary's, a whole JSON number as jacnoise writes it (int() took 2.9,
    # "1_000" and true); without a summary, its metrics lines.
    run = os.path.join(search, "runs", "r3")
    check(rp.run_epochs(run) == len(dip), f"run_epochs without a summary: {rp.run_epochs(run)}")
    summary = os.path.join(run, "summary.json")
    # And a summary jacnoise refuses (jn_summary_read) is refused, as json.load read it: a key
    # given twice (json kept its last value), in either spelling ("ep\u006fchs" is "epochs": a
    # key's escapes decoded, by both), one without a status; a raw control byte in a value
    # jacnoise reads, json refused.
    for text, want in [('{"status": "finished", "epochs": 7}', 7), ('{"status": "finished", "epochs": 2.9}', None),
                       ('{"status": "finished", "epochs": "1_000"}', None), ('{"status": "finished", "epochs": true}', None),
                       ('{"status": "finished", "epochs": NaN}', None), ('[7]', None), ('{"epo', None),
                       ('{"status": "finished", "epochs": 2, "epochs": 7}', None),
                       ('{"status": "finished", "epochs": 7,}', None),
                       ('{"status": "finished", "epochs": 2, "ep\\u006fchs": 7}', None),
                       ('{"status": "finished", "epochs": 7, "x\\u0041": 1}', 7),
                       ('{"epochs": 7}', None), ('{"status": "finished", "message": "a\tb", "epochs": 7}', 7)]:
        with open(summary, "w") as f:
            f.write(text)
        err = damage_of(rp.run_epochs, run)
        got = rp.run_epochs(run) if err is None else None
        check(got == want and (want is not None or (err.startswith(f"{summary}: ") and "\n" not in err)),
              f"run_epochs, summary {text}: {got}, {err!r}")
    os.remove(summary)
    # Without a summary, the metrics lines are counted, not read as text: a damaged byte that is
    # not UTF-8 ended the call with a traceback of UnicodeDecodeError. The last line's, whose
    # key is no longer valid_error: refused, as jacnoise refuses it, the lines before it counted.
    metrics = os.path.join(run, "metrics.jsonl")
    with open(metrics, "rb") as f:
        kept = f.read()
    last = kept.rindex(b"\n", 0, -1) + 1
    with open(metrics, "wb") as f:
        f.write(kept[:last] + kept[last:].replace(b"valid_error", b"valid_\xffrror", 1))
    err = damage_of(rp.run_epochs, run)
    check(err is None and rp.run_epochs(run) == len(dip) - 1, f"run_epochs, a metrics byte not UTF-8: {err!r}")
    with open(metrics, "wb") as f:
        f.write(kept)
    # The compute of a sweep folder: a run whose summary.json sweep status counts unreadable
    # (damaged) is counted by its metrics lines as a running one is; its summary ended the call.
    spent = os.path.join(scratch, "spent")
    write_search(spent, [("u0", "unreadable", [5.0] * 4), ("p0", "pending", []), ("f0", "finished", [5.0] * 3)])
    with open(os.path.join(spent, "runs", "u0", "summary.json"), "w") as f:
        f.write('{"epo')
    err = damage_of(rp.compute_of, spent)
    got = rp.compute_of(spent) if err is None else None
    check(got == (2, 7, 2.0), f"compute_of, a run unreadable: {got}, {err!r}, expected 2 runs, 7 epochs, 2 s")
    # A search spec's range bounds and the numbers the cost model reads are decimals as jacnoise
    # reads them, refused naming the spec's line (float() took nan and 1_000; a word was a
    # traceback) before jacnoise sees the spec.
    spec_dir, rp.SPEC_DIR = rp.SPEC_DIR, os.path.join(scratch, "specs")
    os.makedirs(rp.SPEC_DIR)
    bad = os.path.join(rp.SPEC_DIR, "usps-mlp.spec")

    def refusal_of_cell():
        """(exit status, stderr) of making USPS's MLP cell from the spec `bad`; the status None where it is made."""
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                rp.Cell(scratch, "smoke", "usps", "mlp", rp.BUDGETS["smoke"]["usps"])
            return None, err.getvalue()
        except SystemExit as e:
            return e.code, err.getvalue()
    for line, words in [("batch = nan", "batch 'nan' is not a decimal number"),
                        ("epochs = [10, 1_000]", "epochs '1_000' is not a decimal number"),
                        ("hidden = choice(1000, \"500,abc\")", "hidden 'abc' is not a decimal number"),
                        ("lr = log-uniform(0x10, 1)", "lr '0x10' is not a decimal number"),
                        ("jac-noise = uniform(0.1)", "jac-noise: uniform(a, b) takes two bounds"),
                        ("valid = inf", "valid 'inf' is not a decimal number")]:
        with open(bad, "w") as f:
            f.write(f"data = usps\n{line}\n")
        code, err = refusal_of_cell()
        check(code == 1 and err == f"reproduce: {bad}: line 2: {words}\n", f"a spec's {line!r}: exit {code}, {err!r}")
    # A spec with bytes that are not UTF-8 is named in one line: a traceback of UnicodeDecodeError.
    with open(bad, "wb") as f:
        f.write(b"data = usps\n# \xff\n")
    code, err = refusal_of_cell()
    check(code == 1 and err.startswith(f"reproduce: {bad}: not a text file (") and err.count("\n") == 1,
          f"a spec's byte 0xff: exit {code}, {err!r}")
    with open(bad, "w") as f:
        f.write("data = usps\nvalid = auto\nhidden = [1000, \"500,500\"]\nepochs = uniform(10, 15)\n")
    cell = rp.Cell(scratch, "smoke", "usps", "mlp", rp.BUDGETS["smoke"]["usps"])
    check(rp.estimate(cell, cell.base, "cpu") > 0, "estimate of a spec with a range of epochs")
    rp.SPEC_DIR = spec_dir
    # A finished run's damaged metrics line is named with its file and line (and byte, where
    # jacnoise names one), which ends the call (main_of); it ended in a JSONDecodeError traceback.
    damaged = os.path.join(search, "runs", "r5", "metrics.jsonl")
    for line in ['{"epoch":3,"valid_er', '{"epoch":3,"valid_error":NaN}']:
        with open(damaged, "w") as f:
            f.write("".join(metrics_line(epoch=e, valid_error=10.0) + "\n" for e in (1, 2)) + line + "\n")
        err = damage_of(rp.select, search)
        check(err is not None and re.match(rf"{re.escape(damaged)}: line 3( \(byte \d+\))?: ", err) and "\n" not in err,
              f"select, damaged metrics {line!r}: {err!r}")
    # The table: mean ± sample sd (seeds), one seed without a deviation, decimal text rounded half up.
    # Seeds without a test error diverged: not counted, and a cell of no other reads so. A cell
    # without seeds is one whose every search run diverged (nothing was retrained): it says so.
    md = rp.table_markdown(lambda d, row: {("usps", "mlp"): ("33.1650", "1.2650", ["32.2705", "34.0595"]),
                                           ("mnist", "mlp"): ("1.9050", "-", ["1.9050", "-"]),
                                           ("mnist-binary", "mlp"): ("-", "-", ["-", "-"]),
                                           ("usps", "j"): ("-", "-", [])}.get((d, row)))
    line = next((l for l in md.splitlines() if l.startswith("| MLP |")), "")
    check(line == "| MLP | 1.91 (1) | 1.82 | diverged (0) | 2.01 | 33.17 ± 1.27 (2) | 5.74 |", f"table line {line!r}")
    line = next((l for l in md.splitlines() if l.startswith("| MLP+J |")), "")
    check(line == "| MLP+J | not measured | - | not measured | - | search diverged | - |", f"table line {line!r}")
    # Cost (tools/reproduce/README.md): 6 MACs a plain step per training example, 12 more for the
    # output penalty (K = 1), 4 d n_1 more for hidden1, each per noisy copy (src/profile/cost.c);
    # 2 MACs per validation and test example.
    macs = 256 * 1000 + 1000 * 10
    for cfg, per, n_train, n_valid in [({}, 6 * macs, 6291, 1000),
                                       ({"jac-lambda": "0.01", "jac-target": "output"}, 18 * macs, 6291, 1000),
                                       ({"jac-lambda": "0.01"}, 6 * macs + 4 * 256 * 1000, 6291, 1000),
                                       ({"jac-lambda": "0.01", "jac-copies": "2"}, 6 * macs + 8 * 256 * 1000, 6291, 1000),
                                       ({"jac-lambda": "0.01", "jac-target": "output", "jac-copies": "3"}, 42 * macs, 6291, 1000),
                                       ({"train-limit": "300", "batch": "50"}, 6 * macs, 300, 1000),
                                       ({"valid": "0"}, 6 * macs, 7291, 0)]:
        want = (n_train * per + (n_valid + 2007) * 2 * macs, math.ceil(n_train / int(cfg.get("batch", 100))))
        got = rp.epoch_cost("usps", cfg)
        check(got == want, f"epoch_cost(usps, {cfg}): {got}, expected {want}")
    for value, want in [("log-uniform(1e-4, 1e-2)", 1e-3), ("uniform(0, 0.5)", 0.25)]:
        kind, values = rp.values_of(value)
        check(kind == "range" and abs(float(values[0]) - want) < 1e-12, f"values_of({value}): {kind} {values}")
    # A spec as read_spec reads it: comments dropped, a '#' inside quotes kept; a line without
    # '=' refused with one line naming it, exit 1. And --jobs past 256: exit 2.
    spec = os.path.join(scratch, "odd.spec")
    with open(spec, "w") as f:
        f.write('# a comment\nhidden = choice(1000, "1000,1000") # depth\nlabel = "a # b"\n\n')
    check(rp.read_spec(spec) == [("hidden", 'choice(1000, "1000,1000")'), ("label", '"a # b"')],
          f"read_spec: {rp.read_spec(spec)}")
    with open(spec, "a") as f:
        f.write("lr 0.1\n")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            rp.read_spec(spec)
        code = None
    except SystemExit as e:
        code = e.code
    check(code == 1 and err.getvalue() == f"reproduce: {spec}: line 5: expected key = value\n",
          f"read_spec, a line without '=': exit {code}, {err.getvalue()!r}")
    p = reproduce(["--budget", "smoke", "--out", os.path.join(scratch, "jobs"), "--jobs", "257"])
    check(p.returncode == 2 and "--jobs" in p.stderr and p.stderr.count("\n") == 1 and
          not os.path.exists(os.path.join(scratch, "jobs")), f"--jobs 257: exit {p.returncode}, {p.stderr!r}")
    # A jacnoise sweep's or run's folder, or another tool's pictures, as --out: refused before
    # anything is written (the table replaced a sweep's results.csv, its folders mixed with the
    # sweep's; a tools/plot_analysis.py folder was taken).
    for name, what in (("sweep.spec", "a sweep"), ("config.txt", "a training run"),
                       ("eval-MLP.json", "tools/plot_analysis.py's evaluations"), ("noise.png", "another tool's pictures")):
        other = os.path.join(scratch, "other-" + name)
        os.makedirs(other)
        with open(os.path.join(other, name), "w") as f:
            f.write("data = usps\n")
        p = reproduce(["--budget", "smoke", "--sets", "usps", "--rows", "mlp", "--no-plots", "--out", other])
        check(p.returncode == 2 and p.stderr == f"reproduce: --out {other} holds {what} ({name}), not a "
              "reproduction: choose another --out\n" and os.listdir(other) == [name],
              f"--out holding {name}: exit {p.returncode}, {p.stderr!r}, {os.listdir(other)}")
    # A file as --out: refused as jacnoise refuses it (exit 2, before anything runs); it was
    # exit 1 once the sweeps were about to start, naming FILE/specs.
    afile = os.path.join(scratch, "afile")
    with open(afile, "w") as f:
        f.write("mine\n")
    # Data not found: one line naming the set and the folders searched, exit 1, nothing written;
    # every sweep was started and failed alike, the reason only in logs/. A file as --data-dir is
    # not a folder, as jacnoise says (it said "no such folder").
    nowhere = os.path.join(scratch, "no-data", "deep")
    empty = os.path.join(scratch, "empty-data")
    os.makedirs(nowhere)
    os.makedirs(empty)
    unset = {k: v for k, v in ENV.items() if k != "JACNOISE_DATA"}
    for args, env, words in ((["--data-dir", empty], ENV, f"reproduce: usps: cannot find zip.train[.gz], zip.test[.gz] "
                                                         f"in the --data-dir folder {empty} "),
                             ([], unset, "reproduce: usps: cannot find zip.train[.gz], zip.test[.gz] in any folder tried: "
                                         "./data (no such folder)"),
                             (["--data-dir", afile], ENV, f"reproduce: --data-dir {afile}: not a folder\n")):
        data_out = os.path.join(scratch, "data-out")
        p = reproduce(["--budget", "smoke", "--sets", "usps,mnist", "--no-plots", "--out", data_out] + args,
                      env=env, cwd=nowhere)
        check(p.returncode == 1 and p.stderr.startswith(words) and p.stderr.count("\n") == 1 and not p.stdout and
              not os.path.exists(data_out), f"reproduce {args}, no data there: exit {p.returncode}, {p.stderr!r}, "
              f"{p.stdout[-300:]!r}, --out made: {os.path.exists(data_out)}")
    # --plan, as on a fresh machine before fetching: the plan, and one line a set warning that the
    # run would stop on it (it said nothing: the run, started later, was the first to say it).
    p = reproduce(["--budget", "smoke", "--plan", "--sets", "usps", "--rows", "mlp"], env=unset, cwd=nowhere)
    check(p.returncode == 0 and "usps-mlp" in p.stdout and p.stderr.count("\n") == 1 and
          p.stderr.startswith("reproduce: warning: usps: cannot find zip.train[.gz], zip.test[.gz]") and
          "datasets/fetch.sh" in p.stderr, f"--plan, no data there: exit {p.returncode}, {p.stderr!r}, {p.stdout[-300:]!r}")
    p = reproduce(["--budget", "smoke", "--sets", "usps", "--rows", "mlp", "--no-plots", "--out", afile])
    with open(afile) as f:
        kept = f.read()
    check(p.returncode == 2 and p.stderr == f"reproduce: --out {afile}: exists and is not a folder\n" and
          kept == "mine\n", f"--out naming a file: exit {p.returncode}, {p.stderr!r}, {kept!r}")
    # tool_files (which writes every table): a write that fails halfway leaves the old file and
    # no temporary file; one that succeeds replaces it.
    target = os.path.join(scratch, "table.md")
    rp.tool_files.write_text(target, "old\n")

    def halfway(tmp):
        with open(tmp, "w") as f:
            f.write("half")
        raise OSError(28, "No space left on device")
    try:
        rp.tool_files.replace(target, halfway)
        check(False, "tool_files.replace: a failed write raised nothing")
    except OSError:
        pass
    with open(target) as f:
        check(f.read() == "old\n" and os.listdir(scratch).count("table.md") == 1 and
              not [n for n in os.listdir(scratch) if ".tmp" in n], f"tool_files: a failed write left {os.listdir(scratch)}")
    rp.tool_files.write_text(target, "new\n")
    with open(target) as f:
        check(f.read() == "new\n" and not [n for n in os.listdir(scratch) if ".tmp" in n], "tool_files: write_text")
    # The GPU the table names is the one jacnoise trains on (its `info`), not every GPU
    # nvidia-smi lists: with CUDA_VISIBLE_DEVICES=1 on a machine of two, it named both.
    fakes = os.path.join(scratch, "fakes")
    os.makedirs(fakes)
    stub(fakes, "nvidia-smi", "printf 'NVIDIA A\\nNVIDIA B\\n'")
    stub(fakes, "jacnoise", "printf 'precision: float32\\ncuda: built in, 1 device(s) visible; current device 0: "
                            "NVIDIA B (PCI 0000:02:00.0)\\n'")
    with unittest.mock.patch.dict(os.environ, PATH=fakes + os.pathsep + os.environ["PATH"],
                                  JACNOISE=os.path.join(fakes, "jacnoise")):
        got = rp.device_text("cuda", 2)
        one = rp.device_text("cuda", 1), rp.device_text("cpu", 1)
    check(got == "NVIDIA B (CUDA), 2 sweep processes; precision: float32", f"device_text, GPU 1 of 2: {got!r}")
    # --jobs 1, the default, in the singular: it read "1 sweep processes", "1 runs at a time".
    check(one[0] == "NVIDIA B (CUDA), 1 sweep process; precision: float32" and ", 1 run at a time, " in one[1],
          f"device_text, --jobs 1: {one}")
    # RESULTS.md's Protocol line gives each row its kind: the MLP's spec is a grid (the smoke
    # budget's hidden 24 leaves its three learning rates, full USPS two sizes by three rates),
    # which the line gave a draw count as well ("random draws: MLP 2").
    for budget, data, points in [("smoke", "USPS", 3), ("smoke", "MNIST", 3), ("full", "USPS", 6)]:
        line = next(l for l in rp.protocol_text(budget).splitlines() if l.startswith(f"- {data}: "))
        draws = re.search(r"random draws: ([^;)]*)", line)
        check(draws is not None and "MLP+J " in draws.group(1) and not re.search(r"(^|, )MLP \d", draws.group(1)) and
              f"grid in full: MLP ({points} points)" in line, f"{budget} budget's Protocol line: {line!r}")
    # RESULTS.md's comparison with the paper said "a small random search per row" of every set,
    # also of the small budget's MNIST cells, which train their reference points unsearched.
    chosen = rp.selection_text("small")
    check("  - MNIST, MNIST-binary: no search: " in chosen and "  - USPS: a small search per row" in chosen and
          "random search per row" not in rp.DIFFERENCES, f"small budget's selection in RESULTS.md: {chosen!r}")
    entries = [("lr", "[0.01, 0.1]"), ("jac-noise", "choice(0.1, 0.2)"), ("samples", "3"), ("seeds", "2")]
    check(rp.configs_of(entries) == 12, f"configs_of: {rp.configs_of(entries)} configurations, expected 2 x 3 x 2")


def check_metrics_lines(scratch):
    """The tools read a run's metrics.jsonl as jacnoise does (jn_metrics_read): a whole last line
    that lost its newline (a hand edit) is an epoch, one torn by a crash inside the append is
    left out. plot_sweep dropped the first (its curve an epoch short), reproduce counted the
    second as an epoch trained and refused a finished run's curve for it."""
    sys.path.insert(0, os.path.dirname(TOOL))
    import plot_sweep
    import reproduce as rp
    run = os.path.join(scratch, "metrics-lines")
    os.makedirs(run)
    path = os.path.join(run, "metrics.jsonl")
    lines = [metrics_line(epoch=1, valid_error=5.0, train_loss=0.5),
             metrics_line(epoch=2, valid_error=4.0, train_loss=0.4)]
    # A last line without its newline that jacnoise refuses for a field (a string, a fraction of
    # a step, a number beyond a double) it takes for torn and leaves out (test_data_malformed's
    # test_metrics): the tools kept it, reading an epoch that sweep status does not.
    full = metrics_line(epoch=3, valid_error=3.0, train_loss=0.3)
    bad = [full.replace('"lr":null', '"lr":"x"'), full.replace('"step":0', '"step":2.5'),
           full.replace('"lr":null', '"lr":1e999')]
    for text, epochs in [("\n".join(lines) + "\n", 2), ("\n".join(lines), 2),
                         ("\n".join(lines) + '\n{"epoch":3,"valid_err', 2), ("\n".join(lines[:1]) + "\n{", 1)] + \
            [("\n".join(lines + [b]), 2) for b in bad]:
        with open(path, "w") as f:
            f.write(text)
        read = [len(rp.tool_files.metrics_lines(path)), rp.metrics_epochs(run), len(rp.valid_curve(run)),
                len(plot_sweep.read_epochs(path))]
        check(read == [epochs] * 4, f"metrics.jsonl {text[-60:]!r}: epochs read (lines, reproduce's count, "
              f"its curve, plot_sweep's) {read}, expected {epochs}")
    # What jacnoise refuses (jn_metrics_read, sweep status; a resume too) the tools refuse, naming
    # the file and line, and count the epochs before it, as sweep status counts them: a blank
    # line (reproduce skipped it, reading a curve jacnoise would not, and counted it as an
    # epoch), an epoch's line repeated or out of order (read as another epoch), a key given twice
    # (json kept its last value), a line without a key that jacnoise writes in each (no
    # validation set: null), which jacnoise read as 0, a key given twice in two spellings (its
    # escapes decoded, by both).
    third = metrics_line(epoch=3, valid_error=3.0, train_loss=0.3)
    for text, line, words in [("\n".join(lines[:1] + [""] + lines[1:]) + "\n", 2, ""),
                              ("\n".join(lines[:1] + [" "] + lines[1:]), 2, ""),
                              ("\n".join(lines + lines[1:]) + "\n", 3, "a second line of epoch 2"),
                              ("\n".join(lines[:1] + [third] + lines[1:]) + "\n", 3, "epoch 2 after epoch 3"),
                              ("\n".join(lines + [third[:-1] + ',"valid_error":1.0}']) + "\n", 3,
                               '"valid_error" given twice'),
                              ("\n".join(lines + [third.replace('"penalty":null,', '')]) + "\n", 3, "no penalty"),
                              ("\n".join(lines + [third[:-1] + ',"valid_\\u0065rror":1.0}']) + "\n", 3,
                               '"valid_error" given twice')]:
        with open(path, "w") as f:
            f.write(text)
        try:
            rp.valid_curve(run)
            got = None
        except rp.Damaged as e:
            got = str(e)
        try:
            plot_sweep.read_epochs(path)
            plotted = None
        except SystemExit:
            plotted = "refused"
        check(got is not None and re.match(rf"{re.escape(path)}: line {line}( \(byte \d+\))?: ", got) and words in got
              and plotted == "refused",
              f"metrics.jsonl {text[-80:]!r}: reproduce's curve refused with {got!r}, plot_sweep's {plotted}; "
              f"expected line {line}, {words!r}")
        check(rp.metrics_epochs(run) == line - 1, f"metrics.jsonl {text[-80:]!r}: reproduce counted "
              f"{rp.metrics_epochs(run)} epochs, expected the {line - 1} before line {line}")


def check_table_tool(scratch):
    """tools/results_table.py on made-up folders: the later folder's cell wins, the search's
    epochs are per run, and a field that is not a number is refused in one line."""
    header = ["set", "row", "options", "test_errors", "mean", "std", "search_runs", "search_epochs", "device"]

    def folder(name, rows):
        path = os.path.join(scratch, name)
        os.makedirs(path)
        with open(os.path.join(path, "results.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        return path
    first = folder("first", [["usps", "MLP", "lr=0.1 epochs=9", "5.0 6.0", "5.5000", "0.7071", "4", "48", "cpu"],
                             ["mnist", "MLP+J", "epochs=3", "2.0 2.1", "2.0500", "0.0707", "2", "6", "cpu"]])
    later = folder("later", [["usps", "MLP", "lr=0.05 epochs=7", "4.0 4.2", "4.1000", "0.1414", "3", "30", "cpu"]])
    p = subprocess.run([sys.executable, TABLE_TOOL, first, later], capture_output=True, text=True)
    md = p.stdout
    check(p.returncode == 0 and "| MLP | not measured | 1.82 | not measured | 2.01 | 4.10 ± 0.14 (2) | 5.74 |" in md and
          "| MLP+J | 2.05 ± 0.07 (2) | - |" in md and f"| USPS MLP | `{later}` | ? | 10, 7 | `lr=0.05 epochs=7` |" in md and
          f"| MNIST MLP+J | `{first}` | ? | 3, 3 |" in md and f"USPS MLP: `{later}` replaces `{first}`" in md,
          f"results_table {first} {later}: exit {p.returncode}, {md[md.find('| row |'):]}{p.stderr}")
    # --out replaces a table (its own of before, or RESULTS.md), not another file given there by
    # mistake (notes, a results.csv of another folder), which it replaced: refused in one line, kept.
    notes, table = os.path.join(scratch, "notes.md"), os.path.join(scratch, "TABLE.md")
    with open(notes, "w") as f:
        f.write("# Notes\nthe runs of Monday\n")
    for target, code in [(notes, 1), (table, 0), (table, 0)]:
        p = subprocess.run([sys.executable, TABLE_TOOL, "--out", target, first], capture_output=True, text=True)
        with open(target) as f:
            now = f.read()
        refused = f"results_table: --out {target}: exists and is not the paper's table (it does not begin as one); " \
                  "give another file, or remove it\n"
        check(p.returncode == code and (p.stderr == refused and now == "# Notes\nthe runs of Monday\n" if code else
                                        not p.stderr and now.startswith("# The paper's table")),
              f"results_table --out {target}: exit {p.returncode}, expected {code}; stderr {p.stderr!r}, file {now[:60]!r}")
    # A folder given twice (spelt two ways): refused in one line, exit 2, as a bad command line.
    p = subprocess.run([sys.executable, TABLE_TOOL, first, later, first + "/"], capture_output=True, text=True)
    check(p.returncode == 2 and p.stderr == f"results_table: {first} and {first}/: one folder given twice\n" and
          not p.stdout, f"results_table with a folder twice: exit {p.returncode}, stderr {p.stderr!r}")
    good = ["usps", "MLP", "epochs=7", "4.0 4.2", "4.1000", "0.1414", "3", "30", "cpu"]
    # Decimals only, as jacnoise reads numbers: float() would take nan, inf and 1_000 (and fail on 4e).
    # The search's runs and epochs are counts, as reproduce.py writes them: "-" (its NaN) was taken,
    # and its epochs per run shown as "nan", and -3 runs as none.
    for k, column, text in [(4, "mean", "4.1O"), (5, "std", "x"), (3, "test_errors", "4.0 4,2"), (6, "search_runs", "three"),
                            (4, "mean", "nan"), (5, "std", "inf"), (3, "test_errors", "4.0 4_2"), (6, "search_runs", "0x3"),
                            (4, "mean", "4e"), (6, "search_runs", "-3"), (6, "search_runs", "-"),
                            (7, "search_epochs", "-"), (7, "search_epochs", "4.5"), (7, "search_epochs", "nan")]:
        bad = folder(f"bad-{column}-{k}-{text}", [good[:k] + [text] + good[k + 1:]])
        p = subprocess.run([sys.executable, TABLE_TOOL, bad], capture_output=True, text=True)
        word = f"line 2: {column} '{text.split()[-1]}' is not " + \
            ("a whole number, 0 or more" if column.startswith("search_") else "a decimal number")
        check(p.returncode == 1 and word in p.stderr and p.stderr.count("\n") == 1 and not p.stdout,
              f"results_table, {column} {text!r}: exit {p.returncode}, stderr {p.stderr!r}")
    # A results.csv that is not reproduce.py's (another tool's table, a data set it has no place for, a
    # short line) is refused in one line naming it: no traceback, no cell dropped unsaid.
    for name, columns, row, words in [
            ("no-device", header[:-1], good[:-1], ": no column 'device' (not a tools/reproduce.py results.csv?)"),
            ("odd-set", header, ["svhn"] + good[1:], " line 2: unknown data set 'svhn'"),
            ("short-line", header, good[:-1], " line 2: not as many fields as the header's 9"),
            ("empty", None, None, ": empty (no header line)")]:
        odd = folder(name, [])
        with open(os.path.join(odd, "results.csv"), "w") as f:
            f.write(",".join(columns) + "\n" + ",".join(row) + "\n" if columns else "")
        p = subprocess.run([sys.executable, TABLE_TOOL, odd], capture_output=True, text=True)
        check(p.returncode == 1 and p.stderr == f"results_table: {os.path.join(odd, 'results.csv')}{words}\n" and
              not p.stdout, f"results_table, {name}: exit {p.returncode}, stderr {p.stderr!r}")
    # The budget of a folder's reproduce.json, shown under the table: one reproduce.py writes, else
    # refused naming the file and the field (any value was shown, {"budget": 5} as budget 5).
    for text, code in [('{"budget": "small"}', 0), ('{"budget": 5}', 1), ('{"budget": ["smoke"]}', 1), ('{"calls": []}', 1)]:
        with open(os.path.join(later, "reproduce.json"), "w") as f:
            f.write(text)
        p = subprocess.run([sys.executable, TABLE_TOOL, later], capture_output=True, text=True)
        words = f"results_table: {os.path.join(later, 'reproduce.json')}: budget {json.dumps(json.loads(text).get('budget'))}: "
        check(p.returncode == code and (f"| USPS MLP | `{later}` | small |" in p.stdout and not p.stderr if code == 0 else
                                        p.stderr.startswith(words) and p.stderr.count("\n") == 1 and not p.stdout),
              f"results_table, reproduce.json {text}: exit {p.returncode}, stderr {p.stderr!r}")
    os.remove(os.path.join(later, "reproduce.json"))
    # reproduce.py reads its reproduce.json as results_table.py does: one that is no JSON object,
    # or no JSON, is refused in one line naming it, before anything is trained; so is a call in it
    # without the numbers the table sums once the sweeps have ended (it ended in a traceback then).
    odd = folder("odd-state", [good])
    for text, word in [("[1, 2]\n", "not a reproduce.json (a JSON list, not an object)"), ("{\"bud", "not readable JSON"),
                       ('{"budget": "smoke", "calls": [{"wall_s": 1.0}, {"started": "x"}]}', "call 2 is not one this tool"),
                       ('{"budget": "smoke", "calls": [{"wall_s": 1.0, "load": "high"}]}', "call 1 is not one this tool")]:
        with open(os.path.join(odd, "reproduce.json"), "w") as f:
            f.write(text)
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", odd])
        check(p.returncode == 1 and f"{os.path.join(odd, 'reproduce.json')}: {word}" in p.stderr and
              p.stderr.count("\n") == 1 and "afresh" in p.stderr,
              f"reproduce --out with a reproduce.json {text!r}: exit {p.returncode}, stderr {p.stderr!r}")


def check_table_digits(scratch):
    """results.csv holds every digit of the seeds' test errors, mean and deviation; only the tables
    round. Rounded to 4 places there (33.16499 to 33.1650), the tables rounded that again (33.17),
    where the mean computed from the seeds' errors rounds to 33.16."""
    sys.path.insert(0, os.path.dirname(TOOL))
    import reproduce as rp
    out = os.path.join(scratch, "digits")
    cell = rp.Cell(out, "small", "mnist", "mlp", rp.BUDGETS["small"]["mnist"])  # no search: REFERENCE's point
    os.makedirs(cell.final_dir)
    tests = ["33.16499", "33.16499", "33.16498"]
    with open(os.path.join(cell.final_dir, "results.csv"), "w") as f:
        f.write("id,status,seed,test_error,seconds\n" +
                "".join(f"r{i},finished,{i},{t},1.0\n" for i, t in enumerate(tests, start=1)))
    rp.write_table(out, "small", [cell], {"calls": [{"wall_s": 1.0}]}, "cpu", "reproduce.py")
    row = csv_rows(os.path.join(out, "results.csv"))[0]
    errors = [float(t) for t in tests]
    mean = sum(errors) / 3
    std = math.sqrt(sum((t - mean) ** 2 for t in errors) / 2)
    check([float(t) for t in row["test_errors"].split()] == errors and float(row["mean"]) == mean and
          float(row["std"]) == std, f"results.csv: test errors {row['test_errors']}, mean {row['mean']}, std "
          f"{row['std']}; expected {tests}, {mean!r}, {std!r}")
    with open(os.path.join(out, "RESULTS.md")) as f:
        line = next((l for l in f if l.startswith("| MLP |")), "")
    check(f"| {rounded(repr(mean))} ± 0.00 (3) |" in line and rounded(repr(mean)) == "33.16",
          f"RESULTS.md: {line!r}, expected the mean {mean!r} rounded once")
    p = subprocess.run([sys.executable, TABLE_TOOL, out], capture_output=True, text=True)
    check(p.returncode == 0 and "| MLP | 33.16 ± 0.00 (3) | 1.82 | not measured | 2.01 | not measured | 5.74 |" in p.stdout,
          f"results_table of a results.csv of every digit: exit {p.returncode}, {p.stdout[:600]}{p.stderr}")


def check_committed_table():
    """results/TABLE.md is what the command on its third line writes now, legend and all (the
    legend drifted from results_table.py's when the tool changed and the file was not
    rewritten), and the README's Results section quotes its rows."""
    root = os.path.dirname(os.path.dirname(TOOL))
    with open(os.path.join(root, "results", "TABLE.md")) as f:
        committed = f.read()
    m = re.search(r"^Written by `tools/results_table\.py ([^`]*)`", committed, re.M)
    check(m is not None, "results/TABLE.md does not say which command wrote it")
    if m:
        p = subprocess.run([sys.executable, TABLE_TOOL] + m.group(1).split(), capture_output=True, text=True, cwd=root)
        check(p.returncode == 0 and p.stdout == committed,
              f"results/TABLE.md is not what tools/results_table.py writes now (rewrite it with the command on its "
              f"third line): exit {p.returncode}, {p.stderr[-300:]}")
    # The README's Results section quotes the table's rows without the seed counts.
    with open(os.path.join(root, "README.md")) as f:
        results = f.read().split("\n## Results\n")[-1].split("\n## ")[0]
    quoted = [l for l in results.splitlines() if l.startswith("| MLP")]
    table = [re.sub(r" \(\d+\)", "", l) for l in committed.splitlines() if l.startswith("| MLP")]
    check(quoted == table, f"README's Results table is not results/TABLE.md's: {quoted} against {table}")


def check_pictures(out):
    for data in SETS:
        for name in ["saturation.png", "jacobian.png", "noise.png"]:
            path = os.path.join(out, data, name)
            ok = os.path.exists(path)
            check(ok, f"{data}/{name} not written")
            if ok:
                with open(path, "rb") as f:
                    check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{data}/{name} is not a PNG")
                check(os.path.getsize(path) > 10000, f"{data}/{name} is only {os.path.getsize(path)} bytes")
        for row in ROWS:
            check(os.path.exists(os.path.join(out, data, f"eval-{re.sub(r'[^A-Za-z0-9+]+', '-', row).strip('-')}.json")),
                  f"{data}: no evaluation of {row}")


def check_markdown(out):
    with open(os.path.join(out, "RESULTS.md")) as f:
        md = f.read()
    for title in ["MNIST", "MNIST-binary", "USPS"]:
        check(title in md, f"RESULTS.md does not name {title}")
    for row in ALL_ROWS:
        line = [l for l in md.splitlines() if l.startswith(f"| {row} |")]
        check(len(line) == 1, f"RESULTS.md: {len(line)} table lines for {row}")
        if line:
            measured = len(SETS) if row in ROWS else 0
            check(len(re.findall(r"\d+\.\d\d ± \d+\.\d\d \(2\)", line[0])) == measured and
                  line[0].count("not measured") == 3 - measured, f"RESULTS.md: {line[0]}")
    device = re.search(r"Device: [^\n]*\(CUDA\)" if DEVICE == "cuda" else r"Device: CPU", md)
    check(device is not None and "Wall time" in md, "RESULTS.md: status lines")
    check(f"Command: `tools/reproduce.py {' '.join(SMOKE)} --out " in md, "RESULTS.md does not give the command")
    check("Not run in this folder (their cells read \"not measured\"): MNIST-binary, MLP+L2, MLP+N, "
          "MLP+N+J (hidden1), MLP+N+J (input noise too)." in md, "RESULTS.md does not list what was not run")
    check("## How this differs from the paper's protocol" in md, "RESULTS.md: no comparison of protocols")
    # The smoke budget's nets are 24 units wide, not the paper's 1,000: the comparison says so.
    check("  - USPS: 24 (every row)\n" in md and "1,000" not in md.split("## How this differs")[1].split("## Cells")[0],
          "RESULTS.md: the hidden layers named are not the smoke budget's 24 units")
    # The smoke budget validates MNIST on 1,000 images and trains on 500: the Splits line says so.
    splits = next((l for l in md.splitlines() if l.startswith("Splits: ")), "")
    check("MNIST: the last 1,000 training images validate, the first 500 train" in splits and "10,000" not in splits,
          f"RESULTS.md: the Splits line is not the smoke budget's: {splits!r}")
    # Its MNIST searches run 3 epochs: the running mean narrows there (smoothed_best), as the line says.
    check("narrower for a run of fewer than 11 epochs" in splits, f"RESULTS.md: the Splits line has the 11-epoch "
          f"window alone, which a 3-epoch search does not fill: {splits!r}")


def table_cells(md):
    """{(row, column): text} of the first table of a Markdown file."""
    lines = md[md.index("| row |"):].split("\n\n")[0].splitlines()
    return {(cells[0], k): c for line in lines[2:] for cells in [line.strip("| ").split(" | ")]
            for k, c in enumerate(cells[1:])}


def rounded(text):
    """A results.csv number to 2 places, half away from zero on its decimal text."""
    return str(decimal.Decimal(text).quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))


def check_tables_agree(out):
    """RESULTS.md and tools/results_table.py on the same folder: the same text in every cell."""
    with open(os.path.join(out, "RESULTS.md")) as f:
        ours = table_cells(f.read())
    p = subprocess.run([sys.executable, TABLE_TOOL, out], capture_output=True, text=True)
    check(p.returncode == 0, f"results_table exited {p.returncode}: {p.stderr[-1000:]}")
    theirs = table_cells(p.stdout) if p.returncode == 0 else {}
    differ = {k: (v, theirs.get(k)) for k, v in ours.items() if theirs.get(k) != v}
    check(len(ours) == len(ALL_ROWS) * 6 and ours.keys() == theirs.keys() and not differ,
          f"RESULTS.md and results_table.py differ (RESULTS.md, results_table.py): {differ}")


def check_merged_table(d, out, table):
    """tools/results_table.py: one table from two folders, the later folder's cell replacing the
    earlier one's; a folder without results.csv and an unknown row are refused with one line."""
    later = os.path.join(d, "later")
    os.makedirs(later)
    shutil.copy(os.path.join(out, "reproduce.json"), later)
    with open(os.path.join(out, "results.csv"), newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, [r for r in reader if (r["set"], r["row"]) == ("usps", "MLP")]
    # Halves in the last place: shown as the decimal text rounds, not as its float does (33.16, 1.26).
    rows[0].update(test_errors="32.2705 34.0595", mean="33.1650", std="1.2650")

    def write_later(rows):
        with open(os.path.join(later, "results.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    write_later(rows)
    merged = os.path.join(d, "TABLE.md")
    p = subprocess.run([sys.executable, TABLE_TOOL, "--out", merged, out, later], capture_output=True, text=True)
    check(p.returncode == 0, f"results_table exited {p.returncode}: {p.stderr[-1000:]}")
    if p.returncode != 0:
        return
    with open(merged) as f:
        md = f.read()
    for (data, row), r in table.items():
        want = "33.17 ± 1.27 (2)" if (data, row) == ("usps", "MLP") else f"{rounded(r['mean'])} ± {rounded(r['std'])} (2)"
        line = [l for l in md.splitlines() if l.startswith(f"| {row} |")]
        column = 1 + 2 * ["mnist", "mnist-binary", "usps"].index(data)
        check(len(line) == 1 and line[0].split(" | ")[column] == want, f"TABLE.md: {data} {row}: {line}, expected {want}")
        source = later if (data, row) == ("usps", "MLP") else out
        check(f"| {'USPS' if data == 'usps' else 'MNIST'} {row} | `{source}` | smoke | " in md,
              f"TABLE.md does not give {data} {row}'s folder as {source}")
    check(f"USPS MLP: `{later}` replaces `{out}`" in md, "TABLE.md does not say which cell was replaced")
    check(md.count("not measured") == 3 * len(ALL_ROWS) - len(table), "TABLE.md: cells not measured")
    rows[0]["row"] = "MLP+X"
    write_later(rows)
    # A reproduce.json that is JSON but not an object.
    odd = os.path.join(d, "odd")
    os.makedirs(odd)
    shutil.copy(os.path.join(out, "results.csv"), odd)
    with open(os.path.join(odd, "reproduce.json"), "w") as f:
        f.write("[1, 2]\n")
    for folders, word in [([out, d], os.path.join(d, "results.csv")), ([later], "line 2: unknown row 'MLP+X'"),
                          ([odd], os.path.join(odd, "reproduce.json") + ": not a reproduce.json")]:
        p = subprocess.run([sys.executable, TABLE_TOOL] + folders, capture_output=True, text=True)
        check(p.returncode == 1 and word in p.stderr and p.stderr.count("\n") == 1 and not p.stdout,
              f"results_table {folders}: exit {p.returncode}, stderr {p.stderr!r}")
    # An --out that cannot be written: one line, nothing left beside it; a FIFO (a device such
    # as /dev/full alike) is not replaced by the rename, nor an input of the table.
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    table_text = open(os.path.join(out, "results.csv")).read()
    for target, word in [(d, "is a folder"), (os.path.join(d, "nodir", "T.md"), "no folder"),
                         (fifo, "not a regular file"), (os.path.join(out, "results.csv"), "made from")]:
        p = subprocess.run([sys.executable, TABLE_TOOL, "--out", target, out], capture_output=True, text=True)
        check(p.returncode == 1 and word in p.stderr and p.stderr.count("\n") == 1 and not glob.glob(glob.escape(target) + ".tmp*"),
              f"results_table --out {target}: exit {p.returncode}, stderr {p.stderr!r}")
    check(not os.path.isfile(fifo), "results_table --out replaced a FIFO by a file")
    check(open(os.path.join(out, "results.csv")).read() == table_text, "results_table --out its own input replaced it")


def check_no_plots(d):
    """A call with --no-plots: the Cells section says that --no-plots left its sets' pictures
    undrawn ("not drawn: USPS" gave no reason; without matplotlib too)."""
    out = os.path.join(d, "no-plots")
    p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", out])
    pictures = re.findall(r"Pictures \(.*", open(os.path.join(out, "RESULTS.md")).read()) if p.returncode == 0 else []
    check(pictures and pictures[0].endswith("is left out): none; not drawn (--no-plots): USPS."),
          f"--no-plots: exit {p.returncode}, the Cells section's pictures {pictures}: {p.stderr[-300:]!r}")


def check_default_program(d):
    """Without JACNOISE the driver runs build/jacnoise of its own checkout, from any folder (a
    copy of tools/ beside a build/jacnoise, run from another folder): --plan has it check the
    specs, where build/jacnoise of the working folder is not there."""
    checkout = os.path.join(d, "checkout")
    shutil.copytree(os.path.dirname(TOOL), os.path.join(checkout, "tools"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    os.makedirs(os.path.join(checkout, "build"))
    os.symlink(os.path.abspath(BIN), os.path.join(checkout, "build", "jacnoise"))
    elsewhere = os.path.join(d, "elsewhere")
    os.makedirs(elsewhere)
    env = {k: v for k, v in ENV.items() if k != "JACNOISE"}
    p = reproduce(["--budget", "smoke", "--plan", "--sets", "usps", "--rows", "mlp"], env=env, cwd=elsewhere,
                  tool=os.path.join(checkout, "tools", "reproduce.py"))
    check(p.returncode == 0 and "specs: every search spec planned by jacnoise sweep" in p.stdout,
          f"--plan without JACNOISE, run from another folder: exit {p.returncode}, {p.stdout[-300:]!r} "
          f"{p.stderr[-300:]!r}")


def check_stopped_in(d, out, where, sig, words, when="True", status=143, args=("--no-plots",)):
    """reproduce.py stopped by sig inside `where` (a function of it: write_table, Pool.run), the
    driver run with that function sending sig first (where `when`, an expression of its args,
    holds), where a test that timed it would race: a SIGTERM once the sweeps have ended, as the
    table is written, ends the call as a SIGTERM does, 143 and one line, not as a Ctrl-C (130); a
    SIGHUP (its terminal closed) as the sweeps run stops them as a SIGTERM does, 143, not with a
    traceback. Returns the call's CompletedProcess."""
    owner, _, name = where.rpartition(".")
    target = ".".join(["reproduce"] + [owner] * bool(owner))
    driver = os.path.join(d, f"stopped-in-{where}.py")
    with open(driver, "w") as f:
        f.write(f"import os, signal, sys\nsys.path.insert(0, {os.path.dirname(TOOL)!r})\nimport reproduce, tool_files\n"
                f"real = {target}.{name}\n\n\ndef patched(*args, **kw):\n"
                f"    if {when}:\n        os.kill(os.getpid(), signal.{sig.name})\n    return real(*args, **kw)\n\n\n"
                f"{target}.{name} = patched\ntool_files.run_program(reproduce.main)\n")
    p = reproduce(SMOKE + ["--out", out] + list(args), tool=driver)
    check(p.returncode == status and words in p.stderr and "Traceback" not in p.stderr,
          f"{sig.name} in {where}: exit {p.returncode}, stderr {p.stderr[-500:]!r}")
    return p


def main():
    with scratch("jacnoise-reproduce-") as d:
        check_rules(d)
        check_metrics_lines(d)
        check_table_tool(d)
        check_table_digits(d)
        check_committed_table()
    if sys.argv[1:] == ["--rules"]:  # the rules alone, in a second
        return finish("reproduce rule")
    with scratch("jacnoise-reproduce-") as d:
        check_default_program(d)
        check_no_plots(d)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skipped: matplotlib is not installed (Debian: python3-matplotlib)")
        return finish("reproduce rule") if failures else 77
    with scratch("jacnoise-reproduce-") as d:
        out = os.path.join(d, "smoke")
        t0 = time.time()
        p = reproduce(SMOKE + ["--out", out])
        print(f"smoke budget: {time.time() - t0:.0f} s")
        check(p.returncode == 0, f"reproduce exited {p.returncode}: {p.stderr[-2000:]}")
        if p.returncode != 0:
            return finish("reproduce")
        table = check_cells(out)
        check_pictures(out)
        check_markdown(out)
        with open(os.path.join(out, "RESULTS.md")) as f:
            pictures = re.findall(r"Pictures \(.*", f.read())
        check(pictures and pictures[0].endswith("is left out): `mnist/`, `usps/`."), f"the pictures listed: {pictures}")
        check_tables_agree(out)
        check_merged_table(d, out, table)

        # A rerun trains nothing and rewrites the same table, without pictures also where its
        # data is not (moved to another machine to read its results): it was refused, as not found.
        before = run_files(out)
        nowhere = os.path.join(d, "no-data", "deep")
        os.makedirs(nowhere)
        p = reproduce(SMOKE + ["--out", out, "--no-plots"], cwd=nowhere,
                      env={k: v for k, v in ENV.items() if k != "JACNOISE_DATA"})
        check(p.returncode == 0, f"rerun exited {p.returncode}: {p.stderr[-2000:]}")
        check(run_files(out) == before, "the rerun changed run folders")
        check({(r["set"], r["row"]): r["test_errors"] for r in csv_rows(os.path.join(out, "results.csv"))} ==
              {k: r["test_errors"] for k, r in table.items()}, "the rerun's table differs")
        # Its cells keep the device that trained them, as results.csv recorded it: a finished
        # folder rerun on another machine, to rewrite its table, named that machine for them.
        moved = os.path.join(d, "moved")
        shutil.copytree(out, moved, symlinks=True)
        rows = csv_rows(os.path.join(moved, "results.csv"))
        with open(os.path.join(moved, "results.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(dict(r, device="Stand-in GPU (CUDA)") for r in rows)
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp,j", "--no-plots", "--out", moved])
        devices = {(r["set"], r["row"]): r["device"] for r in csv_rows(os.path.join(moved, "results.csv"))}
        check(p.returncode == 0 and set(devices) == set(table) and set(devices.values()) == {"Stand-in GPU (CUDA)"},
              f"a finished folder rerun elsewhere: exit {p.returncode}, devices {devices}")
        # A results folder one may not write in (kept read-only): one line naming the file, exit 1,
        # before any sweep starts; it ended in a PermissionError traceback, its sweeps started.
        # Root writes anywhere: as root the call is nobody's, in root's folder, with copies of the
        # tools and the program (the checkout may lie in a folder only root enters).
        box = os.path.join(d, "box")
        shutil.copytree(os.path.dirname(TOOL), os.path.join(box, "tools"), ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(BIN, os.path.join(box, "jacnoise"))
        locked = os.path.join(box, "locked")
        shutil.copytree(out, locked, symlinks=True)
        as_user, modes = [], []
        if os.geteuid() == 0:
            as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            os.chmod(d, 0o755)
            for root, folders, _ in os.walk(box):
                os.chmod(root, 0o755)
        else:
            for root, folders, _ in os.walk(locked):
                modes.append(root)
                os.chmod(root, 0o555)
        # Nobody reaches the copies only where every folder above the scratch folder lets others
        # in (a TMPDIR inside a folder of mode 0700 does not): else the call fails as not found.
        reach = subprocess.run(as_user + [sys.executable, "-c", "import os, sys; sys.exit(not os.access(sys.argv[1], "
                                          "os.X_OK))", os.path.join(box, "jacnoise")], capture_output=True, timeout=60)
        if reach.returncode != 0:
            print(f"skipped: a read-only results folder as uid 65534: it cannot reach {box} (a folder above it is "
                  f"closed to others: exit {reach.returncode}, {reach.stderr.decode(errors='replace').strip()!r})")
        else:
            p = subprocess.run(as_user + [sys.executable, os.path.join(box, "tools", "reproduce.py")] + BASE +
                               ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", locked], capture_output=True,
                               text=True, timeout=300, env=dict(ENV, JACNOISE=os.path.join(box, "jacnoise")))
            check(p.returncode == 1 and p.stderr == f"reproduce: {locked}/reproduce.json: cannot write it: Permission denied\n"
                  and "start" not in p.stdout, f"a read-only results folder: exit {p.returncode}, stdout {p.stdout[-300:]!r}, "
                  f"stderr {p.stderr[-800:]!r}")
        for root in modes:
            os.chmod(root, 0o755)
        check_stopped_in(d, out, "write_table", signal.SIGTERM, "terminated")
        hup = os.path.join(d, "hup")  # its stopped table would be this folder's
        shutil.copytree(out, hup, symlinks=True)
        check_stopped_in(d, hup, "Pool.run", signal.SIGHUP, "stopping the sweeps")
        # A Ctrl-C as the pictures start, every cell finished: RESULTS.md says that the pictures
        # were not drawn; it read "Stopped before the end: 6 of 6 cells finished".
        drawing = os.path.join(d, "drawing")
        shutil.copytree(out, drawing, symlinks=True)
        check_stopped_in(d, drawing, "Pool.add", signal.SIGINT, "stopping the sweeps", status=130, args=(),
                         when="args[1].label.endswith(': pictures')")
        with open(os.path.join(drawing, "RESULTS.md")) as f:
            md = f.read()
        check("**Stopped before the end**: every cell finished, not the pictures of MNIST" in md and
              "cells finished;" not in md, f"stopped as the pictures start: {re.findall(r'.*Stopped.*', md)}")
        # Its Cells section lists no pictures of this call's undrawn sets: it listed them as drawn.
        pictures = re.findall(r"Pictures \(.*", md)
        check(pictures and pictures[0].endswith("is left out): none; not drawn: MNIST, USPS."),
              f"stopped as the pictures start, the Cells section's pictures: {pictures}")

        # A call of one cell into the folder keeps the cells that earlier calls finished there,
        # in the table and in its data set's pictures, and says which they are.
        one = BASE + ["--sets", "usps", "--rows", "mlp", "--out", out]
        p = reproduce(one)
        check(p.returncode == 0, f"{' '.join(one)} exited {p.returncode}: {p.stderr[-2000:]}")
        check(run_files(out) == before, "the call of one cell changed run folders")
        check({(r["set"], r["row"]): r["test_errors"] for r in csv_rows(os.path.join(out, "results.csv"))} ==
              {k: r["test_errors"] for k, r in table.items()}, "a call of one cell dropped the others from the table")
        with open(os.path.join(out, "RESULTS.md")) as f:
            md = f.read()
        check("Run by an earlier call into this folder, with other `--sets` or `--rows`: MNIST MLP, MNIST MLP+J, "
              "MNIST MLP+N+J, USPS MLP+J, USPS MLP+N+J " in md, "RESULTS.md does not name the earlier calls' cells")
        with open(os.path.join(out, "logs", "usps-plots.log")) as f:
            drawn = [line for line in f if line.startswith("$ ")][-1]
        check(all(f" {row}=" in drawn for row in ROWS), f"the USPS pictures of a call of one cell: {drawn}")
        # Earlier cells whose run folders were removed since (a results folder kept without
        # them: a search's, a seed's) are left out of that table, without a traceback.
        kept = os.path.join(d, "kept")
        shutil.copytree(out, kept)
        shutil.rmtree(os.path.join(kept, "search", "mnist-nj", "runs"))
        shutil.rmtree(os.path.join(kept, "final", "mnist-j", "runs"))
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", kept])
        check(p.returncode == 0 and not p.stderr, f"a call of one cell beside removed run folders: exit {p.returncode}, "
              f"stderr {p.stderr[-1000:]!r}")
        check({(r["set"], r["row"]) for r in csv_rows(os.path.join(kept, "results.csv"))} ==
              set(table) - {("mnist", "MLP+J"), ("mnist", "MLP+N+J")}, "the cells kept beside removed run folders")
        # A damaged results.csv of an earlier cell (a seeds', a search's) leaves it out in one line
        # naming the file, its reader's reason and the call that rebuilds it (it was dropped
        # without a word), and that call does.
        damaged = os.path.join(d, "damaged")
        shutil.copytree(out, damaged)
        for sweep in ["final/mnist-j", "search/mnist-nj"]:
            with open(os.path.join(damaged, sweep, "results.csv"), "a") as f:
                f.write("x")
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", damaged])
        lines = p.stderr.splitlines()
        check(p.returncode == 0 and len(lines) == 2 and all(
            line.startswith(f"reproduce: {damaged}/{sweep}/results.csv: cut short: no newline at its end") and
            line.endswith(f"; MNIST {title} is left out of the table: rerun with --sets mnist --rows {row} to rebuild "
                          "its results from its run folders")
            for line, sweep, title, row in zip(lines, ["final/mnist-j", "search/mnist-nj"], ["MLP+J", "MLP+N+J"],
                                               ["j", "nj"])),
              f"a damaged results.csv of an earlier cell: exit {p.returncode}, stderr {p.stderr[-1000:]!r}")
        check({(r["set"], r["row"]) for r in csv_rows(os.path.join(damaged, "results.csv"))} ==
              set(table) - {("mnist", "MLP+J"), ("mnist", "MLP+N+J")}, "the cells kept beside damaged results.csv")
        p = reproduce(BASE + ["--sets", "mnist", "--rows", "j,nj", "--no-plots", "--out", damaged])
        check(p.returncode == 0 and {(r["set"], r["row"]): r["test_errors"] for r in
                                     csv_rows(os.path.join(damaged, "results.csv"))} ==
              {k: r["test_errors"] for k, r in table.items()},
              f"the call the damaged results.csv's line gives: exit {p.returncode}, stderr {p.stderr[-1000:]!r}")
        # An earlier cell's results.csv without a column the tool reads (a seeds' status), or with a
        # line of fewer values than its header (a search's), is left out alike: a KeyError, or
        # a value read as None, dropped it without a word.
        lacking = os.path.join(d, "lacking")
        shutil.copytree(out, lacking)
        seeds_csv = os.path.join(lacking, "final", "mnist-j", "results.csv")
        rows = csv_rows(seeds_csv)
        with open(seeds_csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=[c for c in rows[0] if c != "status"], lineterminator="\n",
                               extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        with open(os.path.join(lacking, "search", "mnist-nj", "results.csv"), "a") as f:
            f.write("abc,1\n")
        short = len(csv_rows(os.path.join(lacking, "search", "mnist-nj", "results.csv"))) + 1
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", lacking])
        lines = p.stderr.splitlines()
        check(p.returncode == 0 and len(lines) == 2 and
              lines[0].startswith(f"reproduce: {seeds_csv}: line 1: no column 'status', which jacnoise sweep writes; "
                                  "MNIST MLP+J is left out of the table") and
              lines[1].startswith(f"reproduce: {lacking}/search/mnist-nj/results.csv: line {short}: 2 values, its header "
                                  "names ") and "; MNIST MLP+N+J is left out of the table: rerun with" in lines[1],
              f"an earlier cell's results.csv without a column: exit {p.returncode}, stderr {p.stderr[-1000:]!r}")
        check({(r["set"], r["row"]) for r in csv_rows(os.path.join(lacking, "results.csv"))} ==
              set(table) - {("mnist", "MLP+J"), ("mnist", "MLP+N+J")}, "the cells kept beside results.csv without a column")
        # The folder's results.csv without its device column: refused in one line naming it and
        # what it holds, the table kept; it was read as no device, and the call named its own for
        # every earlier cell.
        garbled = os.path.join(d, "garbled")
        shutil.copytree(out, garbled)
        with open(os.path.join(garbled, "results.csv")) as f:
            text = f.read().replace(",device\n", ",devise\n", 1)
        with open(os.path.join(garbled, "results.csv"), "w") as f:
            f.write(text)
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", garbled])
        with open(os.path.join(garbled, "results.csv")) as f:
            kept = f.read() == text
        check(p.returncode == 1 and kept and p.stderr == f"reproduce: {garbled}/results.csv: line 1: no column 'device', "
              "which tools/reproduce.py writes; it records the device of each earlier cell: remove it to have this "
              "call's device named for them\n", f"results.csv without its device column: exit {p.returncode}, "
              f"kept {kept}, stderr {p.stderr[-1000:]!r}")
        # A sweep that refuses its folder (a search spec changed after the search finished)
        # fails every rerun alike: its own message, no advice to retry.
        refused = os.path.join(d, "refused")
        shutil.copytree(out, refused)
        with open(os.path.join(refused, "search", "usps-mlp", "sweep.spec")) as f:
            spec = f.read()
        with open(os.path.join(refused, "search", "usps-mlp", "sweep.spec"), "w") as f:
            f.write(re.sub(r"(?m)^lr = .*$", "lr = [0.05, 0.1]", spec))
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", refused])
        check(p.returncode == 1 and p.stderr.count("\n") == 1 and p.stderr.startswith("reproduce: USPS MLP: search ") and
              f": refused, exit 2: jacnoise: --out {refused}/search/usps-mlp holds a sweep of another spec" in p.stderr and
              "retry" not in p.stderr, f"a sweep that refuses its folder: exit {p.returncode}, stderr {p.stderr[-1000:]!r}")

        # --device auto trains where jacnoise's auto does, on the GPU only where CUDA is built in
        # and a GPU visible: with nvidia-smi on PATH but no GPU jacnoise can use, the sweeps train
        # on the CPU, so they are cut into the jobs' shards, checkpoint every epoch, and the table
        # names the CPU (it named the GPU nvidia-smi listed, as the sweeps trained on the CPU).
        if DEVICE == "cpu":
            smi = os.path.join(d, "smi")
            os.makedirs(smi)
            stub(smi, "nvidia-smi", "echo 'NVIDIA Stand-in'")
            unusable = os.path.join(d, "unusable-gpu")
            shutil.copytree(out, unusable)
            p = reproduce(["--budget", "smoke", "--jobs", "2", "--device", "auto", "--sets", "usps", "--rows", "mlp",
                           "--no-plots", "--out", unusable],
                          env=dict(ENV, PATH=smi + os.pathsep + ENV["PATH"], CUDA_VISIBLE_DEVICES=""))
            device = next((r["device"] for r in csv_rows(os.path.join(unusable, "results.csv"))
                           if (r["set"], r["row"]) == ("usps", "MLP")), "")
            with open(os.path.join(unusable, "logs", "usps-mlp-search-0.log")) as f:
                cmd = [line for line in f if line.startswith("$ ")][-1]
            check(p.returncode == 0 and device.startswith("CPU ") and "--shard 0/2 " in cmd and
                  re.search(r"--checkpoint-epochs 1\b", cmd),
                  f"--device auto, nvidia-smi but no usable GPU: exit {p.returncode}, device {device!r}, sweep {cmd!r}")

        # A merge that fails (a full disk, say) is a failure of the call, not a table read from
        # a results.csv the merge did not write: the program as a wrapper whose merges fail.
        wrapper = os.path.join(d, "merge-fails")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nif [ "$1 $2" = "sweep merge" ]; then echo "jacnoise: $3/results.csv: No space left '
                    f'on device" >&2; exit 1; fi\nexec {shlex.quote(BIN)} "$@"\n')
        os.chmod(wrapper, 0o755)
        p = reproduce(SMOKE + ["--out", out, "--no-plots"], env=dict(ENV, JACNOISE=wrapper))
        check(p.returncode == 1 and "sweep(s) failed: sweep merge " in p.stderr and p.stderr.count("\n") == 1 and
              "FAILED sweep merge" in p.stdout and "No space left on device" in p.stdout,
              f"failing merges: exit {p.returncode}, stdout {p.stdout[-500:]!r}, stderr {p.stderr!r}")

        # A sweep that cannot be started (its log's name taken by a folder) fails alone, in a line
        # naming it, as a sweep that fails: it ended the call in an IsADirectoryError traceback.
        blocked = os.path.join(d, "blocked")
        os.makedirs(os.path.join(blocked, "logs", "usps-mlp-search-0.log"))
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp,j", "--no-plots", "--out", blocked])
        first = "search 1/2" if DEVICE == "cpu" else "search 1/1"  # a GPU's search: one sweep process
        check(p.returncode == 1 and p.stderr == f"reproduce: 1 sweep(s) failed: USPS MLP: {first}; rerun the same "
              "command to retry\n" and f"FAILED USPS MLP: {first}: cannot start it: {blocked}/logs/usps-mlp-search-0.log: "
              "Is a directory\n" in p.stdout and "done   USPS MLP+J: seeds" in p.stdout,
              f"a sweep that cannot start: exit {p.returncode}, stdout {p.stdout[-800:]!r}, stderr {p.stderr[-800:]!r}")

        # A row whose every seed diverges in its first epoch, before a checkpoint (no parameters
        # to draw): the table reads "diverged", the pictures are drawn from the other rows, one
        # line names the row left out, exit 0; a rerun does the same. The program is a wrapper
        # that trains USPS MLP+J's seeds with a rate and weight decay that multiply the weights
        # by 1e9 a step, one example a step. The search's two shards run at once: each writes the
        # spec aside and renames it, so that neither reads the other's half-written copy.
        def diverging(phase):
            """The program, except that USPS MLP+J's search or seeds (phase) diverge."""
            wrapper = os.path.join(d, f"diverging-{phase}")
            with open(wrapper, "w") as f:
                f.write(f'#!/bin/sh\ncase "$1 $2 $3" in\n"sweep --spec "*usps-j-{phase}.spec)\n'
                        f'    spec=$3.diverging\n    {{ sed "/^lr = /d" "$3"; printf "lr = 1e6\\nweight-decay = 1e3\\nbatch = 1\\n"; }} >"$spec.$$"\n'
                        f'    mv -f "$spec.$$" "$spec"\n'
                        f'    shift 3\n    exec {shlex.quote(BIN)} sweep --spec "$spec" "$@" ;;\nesac\nexec {shlex.quote(BIN)} "$@"\n')
            os.chmod(wrapper, 0o755)
            return wrapper
        wrapper = diverging("final")
        diverged = os.path.join(d, "diverged")
        for call in ["first call", "rerun"]:
            p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp,j", "--out", diverged], env=dict(ENV, JACNOISE=wrapper))
            check(p.returncode == 0 and p.stderr.count("\n") == 1 and
                  "USPS: MLP+J left out of the pictures: every seed diverged" in p.stderr,
                  f"seeds diverged, {call}: exit {p.returncode}, stderr {p.stderr[-1000:]!r}{failed_logs(p)}")
            cells = {r["row"]: r for r in csv_rows(os.path.join(diverged, "results.csv"))}
            check(cells.get("MLP+J", {}).get("test_errors") == "- -" and cells.get("MLP", {}).get("mean", "-") != "-",
                  f"seeds diverged, {call}: results.csv {cells}")
            with open(os.path.join(diverged, "RESULTS.md")) as f:
                check("| MLP+J | not measured | - | not measured | - | diverged (0) |" in f.read(),
                      f"seeds diverged, {call}: RESULTS.md does not read diverged")
            with open(os.path.join(diverged, "logs", "usps-plots.log")) as f:
                drawn = [line for line in f if line.startswith("$ ")][-1]
            check(" MLP=" in drawn and " MLP+J=" not in drawn and
                  os.path.exists(os.path.join(diverged, "usps", "saturation.png")),
                  f"seeds diverged, {call}: the pictures {drawn}")
        # A later call of another row keeps the diverged cell, as it keeps every finished one.
        p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp", "--no-plots", "--out", diverged])
        kept = {r["row"] for r in csv_rows(os.path.join(diverged, "results.csv"))}
        check(p.returncode == 0 and kept == {"MLP", "MLP+J"}, f"seeds diverged, a later call of MLP alone: exit "
              f"{p.returncode}, cells {kept}, stderr {p.stderr[-500:]!r}")
        # Every search run of USPS MLP+J diverging: nothing to retrain, said in one line, exit 1
        # (a cell without a result, in a second line), and the set's pictures are still drawn,
        # from its other row; a rerun does the same. The cell was measured: RESULTS.md, its
        # Cells line, results.csv and results_table.py read "search diverged", not "not measured".
        searched = os.path.join(d, "search-diverged")
        for call in ["first call", "rerun"]:
            p = reproduce(BASE + ["--sets", "usps", "--rows", "mlp,j", "--out", searched],
                          env=dict(ENV, JACNOISE=diverging("search")))
            check(p.returncode == 1 and p.stderr.count("\n") == 2 and
                  "USPS MLP+J: no search run finished with a validation error" in p.stderr and
                  "cells without a result: USPS MLP+J (every search run diverged)" in p.stderr and
                  os.path.exists(os.path.join(searched, "usps", "eval-MLP.json")),
                  f"search diverged, {call}: exit {p.returncode}, stderr {p.stderr[-1000:]!r}, pictures "
                  f"{sorted(os.listdir(os.path.join(searched, 'usps'))) if os.path.isdir(os.path.join(searched, 'usps')) else None}")
            with open(os.path.join(searched, "RESULTS.md")) as f:
                md = f.read()
            check("| MLP+J | not measured | - | not measured | - | search diverged | - |" in md and
                  re.search(r"\n\| USPS MLP\+J \| none: every search run diverged \| - \| - \| [1-9]\d* / ", md),
                  f"search diverged, {call}: RESULTS.md does not read so: {md[md.find('| MLP+J |'):][:200]!r}")
            cells = {r["row"]: r for r in csv_rows(os.path.join(searched, "results.csv"))}
            check(cells.get("MLP+J", {}).get("test_errors") == "" and cells["MLP+J"]["final_runs"] == "0" and
                  int(cells["MLP+J"]["search_runs"]) > 0, f"search diverged, {call}: results.csv {cells}")
            check_tables_agree(searched)

        # Stopped by SIGTERM while it trains, then rerun: the same numbers as never stopped.
        stopped = os.path.join(d, "stopped")
        usps = BASE + ["--sets", "usps", "--rows", ",".join(CELL_ROWS), "--no-plots", "--out", stopped]
        proc = subprocess.Popen([sys.executable, TOOL] + usps, env=ENV, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        # Stopped once a first cell is finished (every seed of its final sweep done), while
        # the others train.
        def a_cell_finished():
            finals = glob.glob(os.path.join(stopped, "final", "*", "results.csv"))
            return any(rows and all(r["status"] in ("finished", "early-stopped") for r in rows)
                       for rows in map(csv_rows, finals))
        wait_until(a_cell_finished, proc, every=0.05)
        # As timeout(1) stops it: SIGTERM to the driver, then to its whole process group. The
        # second is sent once the driver has begun to stop, where it used to break off the stop.
        proc.send_signal(signal.SIGTERM)
        err = text_until(proc, proc.stderr, "stopping the sweeps", "reproduce sent SIGTERM: its stop", 300)
        if "stopping the sweeps" in err:
            os.killpg(proc.pid, signal.SIGTERM)
        err += ended(proc, "reproduce sent SIGTERM, then its process group", 300)[1]
        check(proc.returncode == 143 and "rerun the same command" in err and "Traceback" not in err,
              f"SIGTERM: exit {proc.returncode}, stderr {err[-500:]!r}")
        if proc.returncode != 143:
            return finish("reproduce")
        # The stopped call's table: marked, with the cells finished by then and no other.
        partial = csv_rows(os.path.join(stopped, "results.csv"))
        with open(os.path.join(stopped, "RESULTS.md")) as f:
            md = f.read()
        check(1 <= len(partial) < len(ROWS) and
              f"**Stopped before the end**: {len(partial)} of {len(ROWS)} cells finished" in md and
              md.count("| not finished |") == len(ROWS) - len(partial),
              f"the stopped call's table: {len(partial)} cells finished")
        check(all(r["test_errors"] == table[(r["set"], r["row"])]["test_errors"] for r in partial),
              "a cell of the stopped call's table differs from the uninterrupted table")
        p = reproduce(usps)
        check(p.returncode == 0, f"resume after SIGTERM exited {p.returncode}: {p.stderr[-2000:]}{failed_logs(p)}")
        resumed = {(r["set"], r["row"]): r for r in csv_rows(os.path.join(stopped, "results.csv"))}
        check(len(resumed) == len(ROWS), f"resumed table has {len(resumed)} cells")
        for key, r in resumed.items():
            check(r["test_errors"] == table[key]["test_errors"] and r["options"] == table[key]["options"],
                  f"{key}: stopped and resumed {r['options']} {r['test_errors']}, "
                  f"never stopped {table[key]['options']} {table[key]['test_errors']}")
        with open(os.path.join(stopped, "RESULTS.md")) as f:
            md = f.read()
        check(md.count("| not measured |") == 3 * len(ALL_ROWS) - len(ROWS) and "Stopped before" not in md,
              "the resumed USPS-only table does not mark the other cells, or still reads stopped")

        # The driver SIGKILLed while its sweeps train (runs of minutes: the small budget): they
        # are stopped too, saving their runs, rather than train on unattended and hold the run
        # folders that a rerun needs.
        killed = os.path.join(d, "killed")
        proc = subprocess.Popen([sys.executable, TOOL, "--budget", "small", "--jobs", "2", "--sets", "usps", "--rows", "mlp",
                                 "--no-plots", "--out", killed] + BASE[4:], env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        # Once the sweeps train (a run folder made; a GPU writes no checkpoint for 50 epochs).
        wait_until(lambda: glob.glob(os.path.join(killed, "search", "*", "runs", "*")), proc, every=0.05)
        proc.kill()
        proc.wait()

        def sweeps_left():
            left = []
            for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
                try:
                    with open(cmdline, "rb") as f:
                        if killed.encode() in f.read():
                            left.append(cmdline.split("/")[2])
                except OSError:
                    pass
            return left
        # Each sweep stops after its current step: seconds on a CPU, longer under the CUDA
        # emulator. Stopped, not run to their end: a fast machine may train the cell's search
        # in less than the 120 s once waited here, and sweeps left training then passed.
        deadline = time.monotonic() + 600  # a bound on a hang, as wait_until's
        while sweeps_left() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = sweeps_left()
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
        check(not left, f"the driver SIGKILLed: its sweeps (processes {left}) still ran 600 s later")
        statuses = [r["status"] for path in glob.glob(os.path.join(killed, "search", "*", "results.csv"))
                    for r in csv_rows(path)]
        check({"interrupted", "pending"} & set(statuses),
              f"the driver SIGKILLed: its sweeps were not stopped, they ran to their end (statuses {statuses})")

        # Bad options and a budget that is not the folder's: one line, exit 2 as argparse's; a
        # folder that is not there or cannot be made (below a file: a file itself is exit 2, in
        # check_rules): exit 1.
        for args, word, status in [(["--budget", "small", "--out", out], "smoke", 2),
                                   (["--budget", "smoke", "--out", out, "--sets", "cifar"], "cifar", 2),
                                   (["--budget", "smoke", "--out", out, "--rows", "mlp,cnn"], "cnn", 2),
                                   (["--budget", "smoke", "--out", out, "--jobs", "0"], "--jobs", 2),
                                   (["--budget", "smoke"], "--out", 2),
                                   (["--budget", "smoke", "--out", out, "--sets", ","], "--sets", 2),
                                   (["--budget", "smoke", "--out", out, "--rows", ","], "--rows", 2),
                                   (["--budget", "smoke", "--out", out, "--data-dir", os.path.join(d, "none")], "--data-dir", 1),
                                   (["--budget", "smoke", "--out", os.path.join(out, "results.csv", "sub")], "--out", 1)]:
            p = reproduce(args)
            check(p.returncode == status and word in p.stderr and p.stderr.count("\n") == 1,
                  f"{args}: exit {p.returncode}, expected {status}, stderr {p.stderr!r}")
        # Ctrl-C before any sweep starts (while --plan has the specs checked): one line, exit 130.
        # The program is a stand-in that waits, so that the Ctrl-C lands in a check however
        # fast the real one is.
        waiting = os.path.join(d, "waiting-jacnoise")
        with open(waiting, "w") as f:
            f.write("#!/bin/sh\nexec sleep 60\n")
        os.chmod(waiting, 0o755)
        # SIGINT as a terminal leaves it: a test started in the background of a shell without job
        # control inherits it ignored, and Python then installs no KeyboardInterrupt.
        proc = subprocess.Popen([sys.executable, TOOL, "--budget", "full", "--plan"], env=dict(ENV, JACNOISE=waiting),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 60
        while proc.poll() is None and time.time() < deadline:
            try:
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    checking = bool(f.read().strip())  # the stand-in, planning a spec
            except OSError:  # no list of children: a second in
                time.sleep(1)
                checking = True
            if checking:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        err = ended(proc, "reproduce --plan sent SIGINT", 60)[1]
        check(proc.returncode == 130 and err == "reproduce: interrupted; rerun the same command to continue\n",
              f"--plan interrupted: exit {proc.returncode}, stderr {err[-500:]!r}")
        # --plan has jacnoise sweep plan every cell's spec of every budget (nothing trains).
        for budget in ["smoke", "small", "full"]:
            p = reproduce(["--budget", budget, "--plan"])
            check(p.returncode == 0 and "every search spec planned" in p.stdout and
                  p.stdout.count("\n  mnist-binary-") == len(ALL_ROWS) and "total" in p.stdout,
                  f"--plan --budget {budget}: exit {p.returncode}, {p.stdout[-500:]} {p.stderr[-500:]}")
    return finish("reproduce")


if __name__ == "__main__":
    sys.exit(main())
