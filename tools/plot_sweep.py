#!/usr/bin/env python3
"""Pictures of a jacnoise sweep folder (results.csv and runs/*/metrics.jsonl), as PNG files in
DIR/plots (or --out):

  heatmap_valid.png, heatmap_test.png  validation / test error over (jac-lambda, jac-noise), one
                                       panel per value of the other swept options (seeds
                                       averaged); needs both swept, on a grid: runs in half
                                       the cells at least (not a random search's draws, each
                                       alone in its row and column). A run without the penalty
                                       stands in every jac-noise row and every panel of the
                                       penalty's options (they change nothing without it). No
                                       validation map where no run has a validation error
                                       (valid = 0)
  error_vs_<option>.png                validation and test error against each swept option
  curves_best.png                      validation error and training loss per epoch of the best
                                       runs (those with a runs/ID/metrics.jsonl)

    tools/plot_sweep.py DIR [--out FOLDER] [--best N]

A sweep not finished is drawn as far as it is: one line on stderr (and the heat maps' titles)
says how many configurations have an error, and how many are pending, running or failed.

Needs matplotlib (Debian: python3-matplotlib). Axes of options whose values are log-spaced are
logarithmic (symmetric-log when 0 is among them)."""
import argparse
import itertools
import math
import os
import shlex

import tool_files

# The columns after the options; a table from before backend, device and gemm_precision (where
# each row trained) lacks those three, which are no options either.
RESULT_COLUMNS = ["status", "best_epoch", "valid_error", "test_error", "penalty", "steps", "seconds", "backend",
                  "device", "gemm_precision"]
PENALTY_OPTIONS = ("jac-target", "jac-proj", "jac-noise", "jac-copies")


def number(text):
    """The finite decimal number text is, else None (an option's value that is a word)."""
    return tool_files.decimal(text)


def unwritten(text):
    """Whether text is a number float() reads but jacnoise never writes (nan, inf, 1_0, ' 5'):
    neither one of its numbers nor a word (an option's value such as output or idx:...)."""
    try:
        float(text)
    except ValueError:
        return False
    return number(text) is None


def inert(row):
    """The options that cannot change this run's numbers: the sweep trains the grid points that
    differ only there once, with their defaults (jn_config_drop_inert)."""
    if number(row.get("jac-lambda", "0")) == 0:
        return PENALTY_OPTIONS
    return ("jac-proj",) if row.get("jac-target", "hidden1") == "hidden1" else ()


def placed(rows, options):
    """The rows as the pictures place them: a run stands at every value its inert options take
    among the runs where they count (the MLP without the penalty in each jac-noise row)."""
    counting = {c: sort_values(r[c] for r in rows if c not in inert(r)) for c in options if c in PENALTY_OPTIONS}
    out = []
    for r in rows:
        keys = [c for c in inert(r) if counting.get(c)]
        for values in itertools.product(*(counting[c] for c in keys)):
            out.append(dict(r, **dict(zip(keys, values))))
    return out


fail = tool_files.failing("plot_sweep")


def load(folder):
    """The rows of results.csv; the same as placed(); the option columns that vary between the
    placed rows (the swept ones). An error is a percentage, or empty where the run has none
    (jacnoise writes a run not finished, or without that split, so), an option's value a word
    or a number as jacnoise writes it: anything else ends the program with one line naming the
    line and the column."""
    path = os.path.join(folder, "results.csv")
    if not os.path.exists(path):
        if os.path.exists(os.path.join(folder, "sweep.spec")):  # a sweep whose table was not written
            fail(f"{path}: no such file yet (jacnoise sweep merge {shlex.quote(folder)} writes it)")
        fail(f"{path}: no such file (is {folder} a sweep folder?)")
    rows, header = tool_files.read_csv(path, fail)
    missing = [c for c in ("id", "status", "valid_error", "test_error") if c not in header]
    if rows and missing:
        fail(f"{path}: no column '{missing[0]}' (not a jacnoise sweep results.csv?)")
    options = [c for c in header if c != "id" and c not in RESULT_COLUMNS]
    for i, r in enumerate(rows, start=2):
        if None in r or None in r.values():
            fail(f"{path} line {i}: not as many fields as the header's {len(header)}")
        for c in options:
            if unwritten(r[c]):
                fail(f"{path} line {i}: {c} '{r[c]}' is not a number as jacnoise writes one")
        for c in ("valid_error", "test_error"):
            value = number(r[c]) if r[c] else None
            if r[c] and (value is None or not 0 <= value <= 100):
                fail(f"{path} line {i}: {c} '{r[c]}' is not a percentage (nor empty)")
            r[c] = value
    places = placed(rows, options)
    swept = [c for c in options if len({r[c] for r in places}) > 1]
    return rows, places, swept


def read_epochs(path):
    """(epoch, validation error, training loss) of each whole line of a run's metrics.jsonl (a
    line being written is left out: tool_files.metrics_records); null, jacnoise's number that is
    not finite (a diverged epoch), as NaN: a gap in the curve."""
    number_or_null = lambda v: v is None or (type(v) in (int, float) and math.isfinite(v) and v >= 0)
    epochs = []
    try:
        records = tool_files.metrics_records(path)
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    except tool_files.MetricsRefused as e:
        fail(f"{path} line {e.line}: not a line of metrics.jsonl ({e.why})")
    for n, e in enumerate(records, start=1):
        epoch, values = e["epoch"], (e["valid_error"], e["train_loss"])
        if not all(map(number_or_null, values)):
            fail(f"{path} line {n}: not a line of metrics.jsonl (epoch {epoch!r}, valid_error {values[0]!r}, "
                 f"train_loss {values[1]!r})")
        epochs.append((epoch, *(math.nan if v is None else v for v in values)))
    return epochs


def numeric(values):
    return all(number(v) is not None for v in values)


def log_spaced(values):
    """Positive values spanning a decade or more (0 allowed beside them: symmetric-log)."""
    xs = sorted({number(v) for v in values})
    positive = [x for x in xs if x > 0]
    return len(positive) >= 2 and all(x >= 0 for x in xs) and positive[-1] / positive[0] >= 10


def sort_values(values):
    values = sorted(set(values), key=lambda v: (number(v) is None, number(v) if number(v) is not None else 0, v))
    return values


def set_scale(ax, axis, values):
    if not numeric(values) or not log_spaced(values):
        return
    xs = [number(v) for v in values]
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    if min(xs) > 0:
        setter("log")
    else:
        setter("symlog", linthresh=min(x for x in xs if x > 0))


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def unmeasured(rows):
    """'N of M configurations measured (K pending, ...)' where some have no error yet, else
    None: the pictures show the measured ones alone, and their blank cells must not read as
    a finished sweep."""
    missing = {}
    for r in rows:
        if r["valid_error"] is None and r["test_error"] is None:
            missing[r["status"]] = missing.get(r["status"], 0) + 1
    if not missing:
        return None
    counts = ", ".join(f"{n} {status}" for status, n in sorted(missing.items()))
    return f"{len(rows) - sum(missing.values())} of {len(rows)} configurations measured ({counts})"


def heatmaps(plt, rows, swept, out, note):
    if "jac-lambda" not in swept or "jac-noise" not in swept:
        print("plot_sweep: no heat map: jac-lambda and jac-noise are not both swept")
        return []
    lambdas = sort_values(r["jac-lambda"] for r in rows)
    noises = sort_values(r["jac-noise"] for r in rows)
    others = [c for c in swept if c not in ("jac-lambda", "jac-noise", "seed")]
    panels = sorted({tuple(r[c] for c in others) for r in rows},
                    key=lambda p: [(number(v) is None, number(v) or 0, v) for v in p])
    # A random search draws each value once: a run alone in its row, column and panel, in grids
    # of thousands of empty cells that take minutes to draw.
    filled, cells = len({(r["jac-lambda"], r["jac-noise"], tuple(r[c] for c in others)) for r in rows}), \
        len(lambdas) * len(noises) * len(panels)
    if 2 * filled < cells:
        print(f"plot_sweep: no heat map: the runs fill {filled} of the {cells} (jac-lambda, jac-noise) cells of "
              f"{len(panels)} panel{'s' if len(panels) > 1 else ''}, fewer than half (a random search?); "
              f"error_vs_*.png shows each option")
        return []
    written = []
    for split in ("valid", "test"):
        name = "validation" if split == "valid" else "test"
        values = sorted(r[f"{split}_error"] for r in rows if r[f"{split}_error"] is not None)
        if not values:  # a sweep without that split (valid = 0): a blank map over a made-up scale
            print(f"plot_sweep: no heatmap_{split}.png: no run has a {name} error")
            continue
        cols = min(len(panels), 3)
        nrows = math.ceil(len(panels) / cols)
        fig, axes = plt.subplots(nrows, cols, figsize=(1.5 + 4.2 * cols, 0.9 + 3.6 * nrows), squeeze=False,
                                 layout="constrained")
        # The colours spread over the good end: errors past median + 2 (median - best) all get
        # the darkest colour, so a few failed cells do not flatten the rest.
        lo, median = values[0], values[len(values) // 2]
        hi = min(values[-1], median + 2 * (median - lo)) if median > lo else values[-1]
        hi = hi if hi > lo else lo + 1
        image = None
        for k, panel in enumerate(panels):
            ax = axes[k // cols][k % cols]
            grid, notes = [], []
            for noise in noises:
                line, note_line = [], []
                for lam in lambdas:
                    cell = [r for r in rows if r["jac-lambda"] == lam and r["jac-noise"] == noise
                            and tuple(r[c] for c in others) == panel]
                    m = mean(r[f"{split}_error"] for r in cell)
                    line.append(m if m is not None else math.nan)
                    diverged = sum(r["status"] == "diverged" for r in cell)
                    text = "" if m is None else f"{m:.2f}"
                    note_line.append(text + (f"\n{diverged} div." if diverged else ""))
                grid.append(line)
                notes.append(note_line)
            image = ax.imshow(grid, origin="lower", cmap="viridis_r", vmin=lo, vmax=hi, aspect="auto")
            cells = [(v, i, j) for i, line in enumerate(grid) for j, v in enumerate(line) if not math.isnan(v)]
            if cells:
                _, i, j = min(cells)
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", lw=2.5))
            for i, note_line in enumerate(notes):
                for j, text in enumerate(note_line):
                    value = grid[i][j]
                    dark = not math.isnan(value) and (value - lo) > 0.5 * (hi - lo)
                    ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
            ax.set_xticks(range(len(lambdas)), lambdas)
            ax.set_yticks(range(len(noises)), noises)
            ax.set_xlabel("jac-lambda (penalty weight)")
            if k % cols == 0:
                ax.set_ylabel("jac-noise (corruption std)")
            if others:
                ax.set_title(", ".join(f"{c}={v}" for c, v in zip(others, panel)), fontsize=10)
        for k in range(len(panels), nrows * cols):
            axes[k // cols][k % cols].axis("off")
        seeds = " (mean over seeds)" if "seed" in swept else ""
        fig.suptitle(f"{name} error (%) of the best parameters{seeds}; red: lowest of the panel" +
                     (f"\n{note}; blank: none measured" if note else ""))
        fig.colorbar(image, ax=axes, label=f"{name} error (%)", shrink=0.9, extend="max" if hi < values[-1] else "neither")
        path = os.path.join(out, f"heatmap_{split}.png")
        tool_files.save_png(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def error_vs(plt, rows, swept, out):
    written = []
    for option in swept:
        values = [r[option] for r in rows]
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        if numeric(values):
            positions = {v: number(v) for v in values}
        else:
            order = sort_values(values)
            positions = {v: i for i, v in enumerate(order)}
            ax.set_xticks(range(len(order)), order)
        # At each value, the run chosen by validation error (the test error is never a criterion).
        chosen = {}
        for r in rows:
            x = positions[r[option]]
            if r["valid_error"] is not None and (x not in chosen or r["valid_error"] < chosen[x]["valid_error"]):
                chosen[x] = r
        xs = sorted(chosen)
        for split, marker, color in (("valid", "o", "tab:blue"), ("test", "s", "tab:orange")):
            pts = [(positions[r[option]], r[f"{split}_error"]) for r in rows if r[f"{split}_error"] is not None]
            label = "validation" if split == "valid" else "test"
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=color, alpha=0.45, s=22,
                       label=f"{label} (each run)")
            ax.plot(xs, [chosen[x][f"{split}_error"] for x in xs], color=color, lw=1.5,
                    label=f"{label} of the best run by validation")
        diverged = [positions[r[option]] for r in rows if r["status"] == "diverged"]
        if diverged:
            ax.scatter(diverged, [ax.get_ylim()[1]] * len(diverged), marker="x", color="tab:red",
                       label="diverged", clip_on=False)
        if numeric(values):
            set_scale(ax, "x", values)
        errors = [r[c] for r in rows for c in ("valid_error", "test_error") if r[c] is not None]
        # Log where a few failed runs would flatten the rest; never with an error of 0, which a
        # log axis cannot show (the best run's point would vanish).
        if errors and min(errors) > 0 and max(errors) > 4 * min(errors):
            ax.set_yscale("log")
            ticks = [t for t in (1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100)
                     if min(errors) / 1.2 <= t <= max(errors) * 1.2]
            ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
            ax.minorticks_off()
        ax.set_xlabel(option)
        ax.set_ylabel("error of the best parameters (%)")
        ax.set_title(f"error against {option}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = os.path.join(out, f"error_vs_{option}.png")
        tool_files.save_png(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def best_runs(folder, rows, best):
    """The `best` rows by validation error, each with its epochs (None without a
    metrics.jsonl), read before any picture is written."""
    ranked = sorted((r for r in rows if r["valid_error"] is not None), key=lambda r: r["valid_error"])[:best]
    paths = [os.path.join(folder, "runs", r["id"], "metrics.jsonl") for r in ranked]
    return [(r, read_epochs(path) if os.path.exists(path) else None) for r, path in zip(ranked, paths)]


def curves(plt, ranked, swept, out):
    drawn = [(r, epochs) for r, epochs in ranked if epochs is not None]
    if ranked and not drawn:  # a results.csv kept without its run folders (reproduce's copy)
        print(f"plot_sweep: no training curves: none of the {len(ranked)} best runs has a runs/ID/metrics.jsonl")
    if not drawn:
        return []
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for r, epochs in drawn:
        label = " ".join(f"{c}={r[c]}" for c in swept) or r["id"]
        xs = [e[0] for e in epochs]
        line, = left.plot(xs, [e[1] for e in epochs], marker="o", ms=3, label=label)
        right.plot(xs, [e[2] for e in epochs], marker="o", ms=3, color=line.get_color())
    left.set_xlabel("epoch")
    left.set_ylabel("validation error (%)")
    left.set_title(f"validation error of the {len(ranked)} best runs")
    right.set_xlabel("epoch")
    right.set_ylabel("training loss (mean, at the noisy input)")
    right.set_yscale("log")
    right.set_title("training loss")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(out, "curves_best.png")
    tool_files.save_png(fig, path)
    plt.close(fig)
    return [path]


def main():
    parts = __doc__.split("\n\n")
    # The docstring's usage line as argparse's: its own, with other names, was a second one.
    parser = tool_files.ArgumentParser(description="\n\n".join(parts[:2]), usage=parts[2].strip(),
                                       epilog="\n\n".join(parts[3:]),
                                       formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", metavar="DIR", type=tool_files.name_of("folder"),
                        help="the sweep folder (--out of jacnoise sweep)")
    parser.add_argument("--out", metavar="FOLDER", type=tool_files.name_of("folder"),
                        help="where the pictures go (default: DIR/plots)")
    parser.add_argument("--best", metavar="N", type=int, default=5, help="runs in the training-curve plot (default 5)")
    args = parser.parse_args()
    if args.best < 0:
        parser.error(f"--best {args.best}: expected 0 or more")
    plt = tool_files.pyplot(lambda msg: fail(f"needs {msg}"))
    rows, places, swept = load(args.folder)
    if not rows:
        fail(f"{os.path.join(args.folder, 'results.csv')}: no configurations")
    if all(r["valid_error"] is None and r["test_error"] is None for r in rows):
        # Nothing to draw, and matplotlib cannot put empty data on a log axis.
        fail(f"{os.path.join(args.folder, 'results.csv')}: no configuration has an error yet (pending, running, "
             f"failed or diverged: jacnoise sweep status {shlex.quote(args.folder)})")
    ranked = best_runs(args.folder, rows, args.best)
    note = unmeasured(rows)
    if note:
        tool_files.say(f"{args.folder}: {note}; the pictures show the measured ones")
    out = args.out or os.path.join(args.folder, "plots")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        fail(f"--out {out}: {'not a folder' if os.path.exists(out) else e.strerror}")
    try:
        written = heatmaps(plt, places, swept, out, note) + error_vs(plt, places, swept, out)
        written += curves(plt, ranked, swept, out)
    except OSError as e:
        fail(f"{e.filename or out}: {e.strerror}")
    for path in written:
        print(path)


if __name__ == "__main__":
    tool_files.run_program(main)
