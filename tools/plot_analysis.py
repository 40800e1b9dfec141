#!/usr/bin/env python3
"""What the penalty did to the mapping, as pictures: evaluates one trained run per row of the
paper's table with `jacnoise eval` and writes three PNGs.

    tools/plot_analysis.py --out DIR [--title TEXT] [--force] [--threads N] NAME=RUN [NAME=RUN ...]
    e.g. tools/plot_analysis.py --out results/usps --title USPS \\
             MLP=runs/usps-mlp MLP+J=runs/usps-j MLP+N+J=runs/usps-nj

RUN is a run folder (its best.ckpt is evaluated), a checkpoint file, or a JSON file that
`jacnoise eval --eval-noise ...` wrote (an eval-NAME.json of an earlier call: rows measured
apart drawn in one picture, without evaluating again). Writes to DIR:

  saturation.png  hidden-unit activation histograms on the test set (the 20 bins of width
                  0.1 over [-1, 1] that `jacnoise eval` reports), one panel per hidden layer,
                  with the saturated (|a| > 0.99) and linear (|a| < 0.1) fractions in the legend;
  jacobian.png    mean exact ||J_output(x)||_F^2 and the curvature estimate
                  E ||J(x + s eps) - J(x)||_F^2 / s^2 on the test set, per row (log scale
                  where the rows are decades apart; s, eval's --curv-noise, on the axis, or
                  on each bar where the rows' differ);
  noise.png       test error against the std of Gaussian input noise (`--eval-noise`);
The rows must have been evaluated on one test set (the same data, --test file and number of
examples): rows of MNIST and USPS runs are refused, to be drawn by separate calls.

  eval-NAME.json  each row's `jacnoise eval` output (reused by a later call for the same
                  checkpoint unless it was written since, holds other noise levels or
                  curvature step (an eval JSON given as the row), or --force; NAME with each run
                  of characters other than letters, digits and + as one -, none at either end:
                  'MLP+N+J (hidden1)' as eval-MLP+N+J-hidden1.json, so two rows' names must
                  differ in those).

JACNOISE (default: build/jacnoise of this script's checkout) is the program. Needs matplotlib
(Debian python3-matplotlib).
"""
import argparse
import json
import math
import os
import re

import tool_files

NOISE_STDS = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
CURV_NOISE = 0.1  # the curvature's step s
# The ranges of an eval JSON's numbers: (test, what it says where a number fails it).
FRACTION = (lambda v: 0 <= v <= 1, "a number in [0, 1]")
PERCENT = (lambda v: 0 <= v <= 100, "a number in [0, 100]")
NON_NEGATIVE = (lambda v: v >= 0, "a number >= 0")
POSITIVE = (lambda v: v > 0, "a number > 0")


def slug(name):
    """A row's name as a file name: runs of other characters than letters, digits and + as one -,
    none at either end ('MLP+N+J (hidden1)' as MLP+N+J-hidden1)."""
    return re.sub(r"[^A-Za-z0-9+]+", "-", name).strip("-")


fail = tool_files.failing("plot_analysis")


def check_eval(result, name, where, hint=""):
    """result, where every field the pictures use is there, of its type and range (the test
    split, with examples; its noise curve, hidden-layer histograms, Jacobian norm and curvature, the curvature's
    step; the checkpoint, which the cache is checked against); else one line naming where it
    came from and the field (hint appended)."""
    def bad(field, what):
        fail(f"{name}: {where} is not an eval JSON of jacnoise eval --eval-noise ({field} {what}){hint}")

    def at(obj, key, field):
        if not isinstance(obj, dict) or key not in obj:
            bad(field, "is missing")
        return obj[key]

    def items(obj, key, field):
        value = at(obj, key, field)
        if not isinstance(value, list) or not value:
            bad(field, f"is {json.dumps(value)[:40]}, not a non-empty list")
        return value

    def number(value, field, kind, null=False):
        """null is how jacnoise writes a number that is not finite (a diverged run's Jacobian)."""
        ok, what = kind
        if value is None and null:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
            bad(field, f"is {json.dumps(value)[:40]}, not {what}{' or null' if null else ''}")

    for key in ("checkpoint", "data", "test"):
        if not isinstance(at(result, key, key), str):
            bad(key, "is not a text")
    number(at(result, "curv_noise", "curv_noise"), "curv_noise", POSITIVE)
    test = at(at(result, "splits", "splits"), "test", "splits.test")
    number(at(test, "examples", "splits.test.examples"), "splits.test.examples", NON_NEGATIVE)
    if test["examples"] == 0:  # its rates are null: a valid eval of a run without a test set
        fail(f"{name}: {where} has no test examples to draw (idx: data without --test: give "
             f"a JSON of jacnoise eval --test idx:IMAGES,LABELS --eval-noise ...){hint}")
    for i, level in enumerate(items(test, "input_noise", "splits.test.input_noise")):
        field = f"splits.test.input_noise[{i}]"
        number(at(level, "std", field + ".std"), field + ".std", NON_NEGATIVE)
        number(at(level, "error", field + ".error"), field + ".error", PERCENT)
    for i, layer in enumerate(items(test, "hidden", "splits.test.hidden")):
        field = f"splits.test.hidden[{i}]"
        for j, share in enumerate(items(layer, "histogram", field + ".histogram")):
            number(share, f"{field}.histogram[{j}]", FRACTION)
        for key in ("saturated", "linear"):
            number(at(layer, key, f"{field}.{key}"), f"{field}.{key}", FRACTION)
    for key in ("jacobian_sq", "curvature"):
        number(at(test, key, f"splits.test.{key}"), f"splits.test.{key}", NON_NEGATIVE, null=True)
    return result


def read_json(path, name, hint=""):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        fail(f"{name}: {path}: {e.strerror}")
    except (ValueError, UnicodeDecodeError) as e:
        fail(f"{name}: {path} is not an eval JSON of jacnoise eval --eval-noise ({e!r}){hint}")


def write_atomic(path, data, what):
    """Writes data (text) to path atomically, or one line saying why it cannot."""
    try:
        tool_files.write_text(path, data)
    except OSError as e:
        fail(f"{what}: {path}: {e.strerror}")


def save(fig, path):
    """Writes the figure to path atomically, or one line saying why it cannot."""
    try:
        tool_files.save_png(fig, path)
    except OSError as e:
        fail(f"{path}: {e.strerror}")


def same_checkpoint(stored, ckpt):
    """Whether a cached evaluation is of the row's checkpoint: an absolute path (as this tool
    asks jacnoise eval for; a relative one may have meant another folder) to the same file. A
    name with bytes that are not UTF-8 is compared as jacnoise wrote it, as no file is named so."""
    if os.path.isabs(stored) and stored != ckpt and stored == tool_files.json_name(ckpt):
        return True
    try:
        return os.path.isabs(stored) and os.path.samefile(stored, ckpt)
    except OSError:
        return False


def written_since(ckpt, cache):
    """Whether the checkpoint was written after the cached evaluation of it: a run continued
    since replaces its best.ckpt with other parameters, and the new file often gets the old
    one's inode number, so that samefile still holds."""
    try:
        return os.stat(ckpt).st_mtime_ns > os.stat(cache).st_mtime_ns
    except OSError:
        return True


def evaluate(binary, name, run, out_dir, force, threads, which):
    """The eval JSON of one row (which: "row 2 of 7"): RUN itself where it is one, else from the
    cache in out_dir where that is of the same checkpoint, not written since, at this tool's
    noise levels and curvature step, else by running jacnoise eval, said as it starts (a row of
    MNIST, 784-1000-10 on 2 cores, took 35 s, which passed without a word)."""
    cache = os.path.join(out_dir, f"eval-{slug(name)}.json")
    if run.endswith(".json") and os.path.isfile(run):
        result = check_eval(read_json(run, name), name, run)
        if not os.path.exists(cache) or not os.path.samefile(run, cache):
            with open(run) as f:
                write_atomic(cache, f.read(), name)
        return result
    ckpt = os.path.abspath(os.path.join(run, "best.ckpt") if os.path.isdir(run) else run)
    if os.path.exists(cache) and not force:
        hint = "; --force evaluates again"
        cached = check_eval(read_json(cache, name, hint), name, cache, hint)
        if not same_checkpoint(cached["checkpoint"], ckpt):
            print(tool_files.escaped(f"plot_analysis: {name}: {cache} is of {cached['checkpoint']}, not {ckpt}: "
                                     "evaluating again"))
        elif written_since(ckpt, cache):
            print(tool_files.escaped(f"plot_analysis: {name}: {ckpt} was written after {cache}: evaluating again"))
        elif ([x["std"] for x in cached["splits"]["test"]["input_noise"]] != NOISE_STDS or
              cached["curv_noise"] != CURV_NOISE):  # the copy of an eval JSON given as this row before
            print(tool_files.escaped(f"plot_analysis: {name}: {cache} holds other noise levels or curvature step "
                                     "than this tool evaluates: evaluating again"))
        else:
            return cached
    cmd = [binary, "eval", "--checkpoint", ckpt, "--eval-noise", ",".join(map(str, NOISE_STDS)),
           "--curv-noise", str(CURV_NOISE)]
    if threads:
        cmd += ["--threads", str(threads)]
    print(tool_files.escaped(f"plot_analysis: {name}: evaluating {ckpt} ({which})"), flush=True)
    try:
        p = tool_files.output_of(cmd)
    except OSError as e:
        fail(f"{binary}: cannot run it ({e.strerror}); build jacnoise or set JACNOISE")
    if p.returncode != 0:
        fail(f"{name}: jacnoise eval failed, {tool_files.how_it_failed(p.returncode, p.stderr)}")
    try:
        result = json.loads(p.stdout)
    except ValueError as e:
        fail(f"{name}: jacnoise eval wrote no JSON ({e!r})")
    check_eval(result, name, f"the output of {' '.join(cmd)}")
    write_atomic(cache, p.stdout, name)
    return result


def test_set(result):
    """What a row was evaluated on: its --test file (idx: data) or else its data set, and how
    many of its examples."""
    return (result["test"] or result["data"], result["splits"]["test"]["examples"])


def same_test_set(rows):
    """Refuses rows evaluated on different test sets, whose errors, histograms and Jacobians
    are not comparable in one picture (an MNIST row's error beside a USPS row's), naming two."""
    first, first_set = rows[0][0], test_set(rows[0][1])
    for name, result in rows[1:]:
        other = test_set(result)
        if other != first_set:
            fail(f"rows '{first}' ({first_set[0]}, {first_set[1]} test examples) and '{name}' ({other[0]}, "
                 f"{other[1]} test examples) were evaluated on different test sets: their figures do not compare; "
                 "draw each test set's rows in a call of its own (another --out)")


def plain_log_labels(ax):
    """Log-scale tick labels as plain numbers (0.1, 100), not 10^-1, 10^2."""
    from matplotlib.ticker import FuncFormatter
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def plot_saturation(plt, rows, title, path):
    layers = max(len(r["splits"]["test"]["hidden"]) for _, r in rows)
    fig, axes = plt.subplots(1, layers, figsize=(6.4 * layers, 4.4), squeeze=False)
    for l, ax in enumerate(axes[0]):
        for i, (name, r) in enumerate(rows):
            hidden = r["splits"]["test"]["hidden"]
            if l >= len(hidden):
                continue
            h = hidden[l]
            bins = len(h["histogram"])
            edges = [-1 + 2 * b / bins for b in range(bins + 1)]
            label = f"{name} (saturated {100 * h['saturated']:.1f}%, linear {100 * h['linear']:.1f}%)"
            # The row's colour in every panel and picture: a row with fewer layers, skipped
            # here, would otherwise shift the colours of the rows after it.
            ax.stairs([100 * v for v in h["histogram"]], edges, label=label, linewidth=1.8, color=f"C{i}")
        ax.set_xlabel(f"activation a of hidden layer {l + 1} (tanh)")
        ax.set_ylabel("share of activations on the test set (%)")
        ax.set_xlim(-1, 1)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper center")
    fig.suptitle(f"{title}: hidden-unit activations" if title else "Hidden-unit activations")
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)


def plot_jacobian(plt, rows, title, path):
    names = [n for n, _ in rows]
    value = lambda v: math.nan if v is None else float(v)  # null: not finite (a diverged run)
    jac = [value(r["splits"]["test"]["jacobian_sq"]) for _, r in rows]
    curv = [value(r["splits"]["test"]["curvature"]) for _, r in rows]
    # Rows evaluated apart (eval JSON files) may have used other --curv-noise steps: one s on
    # the axis would misname the others' bars, so each bar then names its own.
    steps = [r["curv_noise"] for _, r in rows]
    one_step = len(set(steps)) == 1
    curv_label = "curvature $E||J(x+s\\epsilon)-J(x)||_F^2/s^2$, " + (f"s = {steps[0]:g}" if one_step else "s per bar")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, values, label in [(axes[0], jac, "mean $||J(x)||_F^2$ (exact, logits)"), (axes[1], curv, curv_label)]:
        bars = ax.bar(names, values, color=[f"C{i}" for i in range(len(names))])
        ax.margins(y=0.1)
        finite = [v for v in values if math.isfinite(v)]
        if finite and min(finite) > 0 and max(finite) / min(finite) > 30:  # decades apart: log scale
            ax.set_yscale("log")
            plain_log_labels(ax)
        ax.set_ylabel(label)
        ax.set_xlabel("row of the table")
        if len(names) > 4 or max(map(len, names)) > 8:
            ax.tick_params(axis="x", labelrotation=25)
            plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
        texts = [f"{v:.3g}" if math.isfinite(v) else "not finite" for v in values]
        if values is curv and not one_step:
            texts = [f"{t}, s = {step:g}" for t, step in zip(texts, steps)]
        ax.bar_label(bars, labels=texts, fontsize=8)
        ax.grid(axis="y", alpha=0.3, which="both")
    fig.suptitle(f"{title}: input sensitivity on the test set" if title else "Input sensitivity on the test set")
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)


def plot_noise(plt, rows, title, path):
    fig, ax = plt.subplots(figsize=(6.6, 4.4))
    for i, (name, r) in enumerate(rows):
        # By std: an eval JSON given as a row may list its --eval-noise levels in any order.
        levels = sorted(r["splits"]["test"]["input_noise"], key=lambda x: x["std"])
        ax.plot([x["std"] for x in levels], [x["error"] for x in levels], marker="o", markersize=3.5, label=name,
                color=f"C{i}")
    ax.set_xlabel("std of Gaussian noise added to the test inputs (pixels in [0, 1])")
    ax.set_ylabel("test error (%)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"{title}: robustness to input noise" if title else "Robustness to input noise")
    fig.tight_layout()
    save(fig, path)
    plt.close(fig)


def main():
    parts = __doc__.split("\n\n")
    ap = tool_files.ArgumentParser(description=parts[0], usage=parts[1].strip(), epilog="\n\n".join(parts[2:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=tool_files.name_of("folder"), metavar="DIR", help="folder for the PNGs and the eval JSON files")
    ap.add_argument("--title", default="", metavar="TEXT", help="data set name for the figure titles")
    ap.add_argument("--force", action="store_true", help="evaluate again even where eval-NAME.json exists")
    ap.add_argument("--threads", type=int, default=0, metavar="N", help="BLAS threads for jacnoise eval (0 = its default)")
    ap.add_argument("rows", nargs="+", metavar="NAME=RUN")
    args = ap.parse_args()
    if not 0 <= args.threads <= 1024:  # jacnoise eval's range, checked before anything is written or reused
        ap.error(f"--threads {args.threads}: out of range [0, 1024] (0: jacnoise eval's default)")
    rows, slugs = [], {}
    for item in args.rows:
        name, sep, run = item.partition("=")
        if not sep or not name or not run:
            ap.error(f"expected NAME=RUN, got '{item}'")
        if not slug(name):
            ap.error(f"row '{name}': its name needs a letter, a digit or a + (eval-NAME.json is named by them)")
        if slug(name) in slugs:
            other = slugs[slug(name)]
            both = f"two rows named '{name}'" if other == name else f"rows '{other}' and '{name}'"
            ap.error(f"{both} would share eval-{slug(name)}.json: give them names that differ in letters, "
                        "digits or +")
        slugs[slug(name)] = name
        if not os.path.exists(run):
            fail(f"{name}: {run} does not exist")
        # Before any row is evaluated (one of MNIST takes 35 s and more); jacnoise eval's refusal
        # came after the rows before it, naming its --checkpoint, which no one gave.
        if os.path.isdir(run) and not os.path.exists(os.path.join(run, "best.ckpt")):
            fail(f"{name}: {run} is a folder without best.ckpt: give a run folder (a sweep's are in its "
                 "runs/ID), a checkpoint or an eval JSON")
        rows.append((name, run))
    plt = tool_files.pyplot(lambda msg: fail(f"needs {msg}"))
    binary = tool_files.jacnoise_program()
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        fail(f"--out {args.out}: {'not a folder' if os.path.exists(args.out) else e.strerror}")
    rows = [(name, evaluate(binary, name, run, args.out, args.force, args.threads, f"row {i} of {len(rows)}"))
            for i, (name, run) in enumerate(rows, start=1)]
    same_test_set(rows)
    plot_saturation(plt, rows, args.title, os.path.join(args.out, "saturation.png"))
    plot_jacobian(plt, rows, args.title, os.path.join(args.out, "jacobian.png"))
    plot_noise(plt, rows, args.title, os.path.join(args.out, "noise.png"))
    print(tool_files.escaped(f"wrote {args.out}/saturation.png, jacobian.png, noise.png"))


if __name__ == "__main__":
    tool_files.run_program(main)
