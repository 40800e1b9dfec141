#!/usr/bin/env python3
"""One table of the paper's cells from several tools/reproduce.py results folders: for a table
measured in parts, each call's rows or data sets in a folder of its own.

    tools/results_table.py [--out FILE] DIR [DIR ...]

Reads each DIR's results.csv (and its reproduce.json, where there is one, for the budget: one
that tools/reproduce.py does not write is refused). A
cell that a later DIR gives again replaces the earlier one; a DIR given twice is refused (exit 2). Under the table, each cell's
folder, budget, epochs (of the search's runs and of the seeds) and the seeds' options, and the
devices. Writes Markdown to FILE (atomically; not a file it reads, nor one that holds no such
table) or to standard output."""
import argparse
import json
import math
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tool_files  # noqa: E402
import reproduce  # noqa: E402

COLUMNS = ["set", "row", "options", "test_errors", "mean", "std", "search_runs", "search_epochs", "device"]
ROW_KEYS = {title: key for key, title in reproduce.ROW_TITLES.items()}
# How the tables begin, this tool's and reproduce.py's RESULTS.md: --out replaces no other file.
TABLE = ("the paper's table", b"# The paper's table")


fail = tool_files.failing("results_table")


def number(text, where, column):
    """A number of results.csv: "-" (reproduce.py's non-finite value, e.g. one seed's deviation) is NaN."""
    if text == "-":
        return math.nan
    value = tool_files.decimal(text)
    if value is None:
        fail(f"{where}: {column} '{text}' is not a decimal number")
    return value


def count(text, where, column):
    """A count of results.csv (the search's runs and epochs): a whole number, 0 or more, as
    reproduce.py writes it ("-" was taken as NaN, and its epochs per run shown as "nan")."""
    try:
        value = tool_files.whole_number(text)
    except ValueError:
        value = -1
    if value < 0:
        fail(f"{where}: {column} '{text}' is not a whole number, 0 or more")
    return value


def read_folder(folder):
    """{(set, row): cell} of one results folder."""
    path = os.path.join(folder, "results.csv")
    lines, header = tool_files.read_csv(path, fail, " (a tools/reproduce.py results folder?)")
    if not header:
        fail(f"{path}: empty (no header line)")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        fail(f"{path}: no column '{missing[0]}' (not a tools/reproduce.py results.csv?)")
    state_path = os.path.join(folder, "reproduce.json")
    state = reproduce.read_state(state_path, fail)
    budget = "?"  # a folder without its reproduce.json
    if state is not None:
        budget = state.get("budget")
        # Shown as each cell's budget: any other value is not reproduce.py's file ({"budget": 5}
        # was shown as budget 5).
        if not (isinstance(budget, str) and budget in reproduce.BUDGETS):
            fail(f"{state_path}: budget {json.dumps(budget)}: not one tools/reproduce.py writes "
                 f"({', '.join(sorted(reproduce.BUDGETS))})")
    cells = {}
    for i, r in enumerate(lines, start=2):
        where = f"{path} line {i}"
        if None in r.values() or None in r:
            fail(f"{where}: not as many fields as the header's {len(header)}")
        if r["set"] not in reproduce.SETS:
            fail(f"{where}: unknown data set '{r['set']}'")
        if r["row"] not in ROW_KEYS:
            fail(f"{where}: unknown row '{r['row']}'")
        options = dict(o.split("=", 1) for o in r["options"].split() if "=" in o)
        runs, epochs = count(r["search_runs"], where, "search_runs"), count(r["search_epochs"], where, "search_epochs")
        searched = f"{epochs / runs:g}" if runs > 0 else "-"
        tests = r["test_errors"].split()
        for column, text in [("mean", r["mean"]), ("std", r["std"])] + [("test_errors", t) for t in tests]:
            number(text, where, column)
        # The texts, as reproduce.py's table has them: reproduce.shown rounds them for both.
        cells[(r["set"], ROW_KEYS[r["row"]])] = {
            "mean": r["mean"], "std": r["std"], "tests": tests, "folder": folder, "budget": budget,
            "searched": searched, "epochs": options.get("epochs", "?"), "options": r["options"], "device": r["device"]}
    return cells


def merge(folders):
    """The cells of every folder, a later folder's cell replacing an earlier one's; and the lines
    saying what replaced what."""
    cells, replaced = {}, []
    for folder in folders:
        for key, cell in read_folder(folder).items():
            if key in cells:
                replaced.append(f"{reproduce.SET_TITLES[key[0]]} {reproduce.ROW_TITLES[key[1]]}: "
                                f"`{folder}` replaces `{cells[key]['folder']}`")
            cells[key] = cell
    return cells, replaced


def markdown(folders, cells, replaced):
    def measured(d, row):
        c = cells.get((d, row))
        return (c["mean"], c["std"], c["tests"]) if c else None
    md = (f"# The paper's table, from {len(folders)} results folder{'s' if len(folders) > 1 else ''}\n\n"
          f"Written by `tools/results_table.py {' '.join(shlex.quote(f) for f in folders)}`. "
          + reproduce.TABLE_KEY + "\n\n" + reproduce.table_markdown(measured) + "\n")
    md += "| cell | folder | budget | epochs: search, seeds | seeds' options |\n|---|---|---|---:|---|\n"
    for d in reproduce.SETS:
        for row in reproduce.ROWS:
            c = cells.get((d, row))
            if c:
                md += (f"| {reproduce.SET_TITLES[d]} {reproduce.ROW_TITLES[row]} | `{c['folder']}` | "
                       f"{c['budget']} | {c['searched']}, {c['epochs']} | `{c['options']}` |\n")
    devices = sorted({c["device"] for c in cells.values()})
    md += "\nDevice" + ("s" if len(devices) > 1 else "") + ": " + "; ".join(
        f"{dev} ({', '.join(sorted({c['folder'] for c in cells.values() if c['device'] == dev}))})"
        if len(devices) > 1 else dev for dev in devices) + ".\n"
    if replaced:
        md += "\nGiven again by a later folder: " + "; ".join(replaced) + ".\n"
    return md


def main():
    parts = __doc__.split("\n\n")
    ap = tool_files.ArgumentParser(description=parts[0], usage=parts[1].strip(), epilog="\n\n".join(parts[2:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+", metavar="DIR", type=tool_files.name_of("folder"), help="tools/reproduce.py results folders, in order")
    ap.add_argument("--out", type=tool_files.name_of("file"), metavar="FILE", help="Markdown file to write (default: standard output)")
    args = ap.parse_args()
    for i, folder in enumerate(args.folders):
        for other in args.folders[:i]:
            if os.path.isdir(folder) and os.path.isdir(other) and os.path.samefile(folder, other):
                # Its cells would read as replacing themselves.
                ap.error(f"{other} and {folder}: one folder given twice")
    cells, replaced = merge(args.folders)
    if not cells:
        fail("no cell in " + ", ".join(args.folders))
    md = markdown(args.folders, cells, replaced)
    if args.out:
        for folder in args.folders:
            for name in ("results.csv", "reproduce.json"):
                read = os.path.join(folder, name)
                if os.path.exists(args.out) and os.path.exists(read) and os.path.samefile(args.out, read):
                    fail(f"--out {args.out}: is {read}, which this table is made from; writing it would destroy that")
        try:
            tool_files.write_text(args.out, md, TABLE)
        except OSError as e:
            fail(f"--out {args.out}: {e.strerror}")
    else:
        sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    tool_files.run_program(main)
