#!/usr/bin/env python3
"""Pictures of a `jacnoise profile --grid` table (profile.csv).

  python3 tools/plot_profile.py profile.csv [--out DIR]

writes into DIR (default: the CSV's folder):
  profile_overhead.png  overhead ratio (penalised step / plain step) against batch size, one
                        line per target and estimator (and copies, lambda, s_J, input noise,
                        seed, lr, loss, precision, device, BLAS core, threads where the rows
                        differ in them: tables concatenated, a later table's header skipped),
                        the FLOP ratio dashed; one panel per model
  profile_floor.png     step time over its GEMM floor against batch size (1 = all GEMM), the
                        same lines and the plain step's (one per seed, lr, loss, precision,
                        device, BLAS core, threads where the rows differ in them)
  profile_phases.png    each configuration's step split into its phases (share of the step,
                        stacked), with the step time on top

Needs matplotlib (Debian: apt-get install python3-matplotlib)."""
import argparse
import os

import tool_files

PHASES = ["data", "forward", "jvp", "penalty", "backward", "update"]
COLOURS = {"data": "#8c8c8c", "forward": "#1f77b4", "jvp": "#ff7f0e", "penalty": "#d62728",
           "backward": "#2ca02c", "update": "#9467bd"}
MARKERS = "osD^v"  # of the line pictures' series: the first ten, the next ten, ...
# The widest picture: matplotlib draws less than 2^16 pixels a side (at save_png's 110 dpi).
MAX_INCHES = 590


NUMBER_COLUMNS = ["batch", "threads", "peak_gflops", "step_us", "floor_us", "ratio_to_floor", "plain_us",
                  "plain_floor_us", "overhead_ratio", "flop_ratio"] + [f"{p}_us" for p in PHASES]
# The plain step's ratio to its floor, round by round as ratio_to_floor is. Older tables lack
# it: there the medians' ratio, of the plain step as training runs it where the table has
# that (CUDA: a replayed graph, as the floor is; empty on the CPU and absent from older ones).
PLAIN_RATIO = "plain_ratio_to_floor"
PLAIN_FAST = "plain_fast_step_us"
# The paired ratios, which jacnoise profile writes empty where no round measured them.
RATIO_COLUMNS = ("ratio_to_floor", "overhead_ratio", PLAIN_RATIO)
# Every step and every GEMM floor takes time: these are above 0 (the others 0 or more).
POSITIVE_COLUMNS = ("step_us", "floor_us", "ratio_to_floor", "plain_us", "plain_floor_us", "overhead_ratio",
                    "flop_ratio", PLAIN_RATIO, PLAIN_FAST)
# What else a grid varies that the table records, and its name in a series' label: a series is
# an estimator at one value of each of these that the table's rows do not all share. Precision,
# device, BLAS core and threads differ between grids concatenated (of two GPUs, fp32 and TF32,
# two OpenBLAS cores or thread counts); seed, lr and loss change no time, but a grid may vary
# them. Older tables lack seed, lr, loss, precision and device.
SETTINGS = {"copies": "copies", "jac_lambda": "lambda", "jac_noise": "s_J", "input_noise": "input noise",
            "seed": "seed", "lr": "lr", "loss": "loss", "precision": "precision", "device": "on",
            "blas_core": "BLAS core", "threads": "threads"}
# Those of them that are the penalty's and the input noise's, which the plain step has not.
PENALTY_SETTINGS = ("copies", "jac_lambda", "jac_noise", "input_noise")
# Settings written as numbers, checked as the numbers above are but kept as written (a series'
# label shows them so); the whole ones with their least value.
SETTING_NUMBERS = ("jac_lambda", "jac_noise", "input_noise")
WHOLE_COLUMNS = {"hidden_layers": 0, "copies": 1}
# What the pictures' machine line says, where the rows share it.
MACHINE = ("backend", "device", "precision", "blas_core", "threads")


fail = tool_files.failing("plot_profile")


def load(path):
    """The rows of a profile table, numbers as floats (batch an int; the settings of
    SETTING_NUMBERS and WHOLE_COLUMNS checked, kept as written); any fault (a number that
    is not a finite decimal as jacnoise writes it, tool_files.decimal, or out of its range)
    ends the program with one line naming the file, the
    line and the column."""
    rows, header = tool_files.read_csv(path, fail)
    if not header:
        fail(f"{path}: empty (no header line)")
    missing = [c for c in ["model", "estimator", "backend", "blas_core"] + NUMBER_COLUMNS if c not in header]
    if missing:
        fail(f"{path}: not a jacnoise profile table (missing columns: {', '.join(missing)})")
    # Tables concatenated whole (cat a.csv b.csv: grids of two GPUs or precisions) repeat the
    # header, which was read as a row whose batch is no number: its copies are no rows.
    numbered = [(i, r) for i, r in enumerate(rows, start=2) if [r.get(c) for c in header] != header or None in r]
    if not numbered:
        fail(f"{path}: no rows")
    # A later table's header of other columns (one from before seed, lr and loss, concatenated
    # with a newer one) was read as a row, "not as many fields as the header's".
    for i, r in numbered:
        if r.get(header[0]) == header[0]:
            fail(f"{path} line {i}: a header of other columns than line 1's (tables of two jacnoise versions "
                 "concatenated: plot each alone)")
    numbers = NUMBER_COLUMNS + ([PLAIN_RATIO] if PLAIN_RATIO in header else [])
    settings = [c for c in SETTING_NUMBERS if c in header]
    for i, r in numbered:
        if None in r or None in r.values():
            fail(f"{path} line {i}: not as many fields as the header's {len(header)}")
        for k in numbers + ([PLAIN_FAST] if r.get(PLAIN_FAST) else []) + settings:
            value = tool_files.decimal(r[k])
            # jacnoise profile leaves a ratio empty where every round's denominator measured
            # 0 s: no ratio to draw, which is not a damaged table.
            if value is None and r[k] == "" and k in RATIO_COLUMNS:
                fail(f"{path} line {i}: {k} '' was not measured (every round of its denominator took 0 s by the "
                     "clock): profile that combination again with more --reps or a larger batch")
            if value is None:
                fail(f"{path} line {i}: {k} '{r[k]}' is not a decimal number")
            if value < 0 or (value == 0 and k in POSITIVE_COLUMNS):
                fail(f"{path} line {i}: {k} '{r[k]}' is not {'above 0' if k in POSITIVE_COLUMNS else '0 or more'}")
            if k not in SETTING_NUMBERS:
                r[k] = value
        for k, least in WHOLE_COLUMNS.items():
            if k in header:
                try:
                    value = tool_files.whole_number(r[k])
                except ValueError:
                    fail(f"{path} line {i}: {k} '{r[k]}' is not a whole number")
                if value < least:
                    fail(f"{path} line {i}: {k} '{r[k]}' is not {least} or more")
        if not (r["batch"] >= 1 and r["batch"] == int(r["batch"])):
            fail(f"{path} line {i}: batch '{r['batch']:g}' is not a batch size")
        r["batch"] = int(r["batch"])
    rows = [r for _, r in numbered]
    varying = [c for c in SETTINGS if c in header and len({r[c] for r in rows}) > 1]
    seen = {}
    for i, r in numbered:
        named = {c: f"{SETTINGS[c]} {r[c]:g}" if c in NUMBER_COLUMNS else f"{SETTINGS[c]} {r[c]}" for c in varying}
        r["series"] = ", ".join([r["estimator"]] + list(named.values()))
        # The plain step's series in the floor picture: its own per machine, precision, seed,
        # lr and loss, as the penalised ones are (tables concatenated shared one line, each
        # batch the last table's); the penalty's settings are not the plain step's.
        r["plain_series"] = ", ".join(["plain"] + [v for c, v in named.items() if c not in PENALTY_SETTINGS])
        # One point per series and batch: rows alike in every column but the times (tables
        # concatenated twice, or older ones, without seed, lr and loss, of a grid over them) would
        # be drawn as one line doubling back.
        first = seen.setdefault((r["model"], r["series"], r["batch"]), i)
        if first != i:
            fail(f"{path} line {i}: the same model, batch and penalty as line {first} (the table does not "
                 "say how they differ; plot one of them)")
    return rows


def models_of(rows):
    return sorted({r["model"] for r in rows}, key=lambda m: (m.count("-"), m))


def machine_note(rows):
    """The machine the rows share: its precision (older tables lack it), BLAS core and threads
    on the CPU only (a CUDA table's are empty and 0: cuBLAS ran the GEMMs), and peak; for rows
    of several machines (tables concatenated) none, each series naming its own."""
    r = rows[0]
    if any(x.get(c) != r.get(c) for x in rows for c in MACHINE):
        return "several machines or precisions (see each series)"
    precision = f" {r['precision']}" if r.get("precision") else ""
    cpu = f", BLAS core {r['blas_core']}, {r['threads']:g} threads" if r["backend"] == "cpu" else ""
    return f"{r['backend']}{precision}{cpu}, peak {r['peak_gflops']:.0f} GFLOP/s"


def by_estimator(rows, model, key):
    """{series: rows by batch}; for the floor ratio also the plain step every row timed, by its
    plain_series."""
    series = {}
    for r in rows:
        if r["model"] == model and r["estimator"] != "-":
            series.setdefault(r["series"], []).append(r)
    if key == "ratio_to_floor":
        plain = {(r["plain_series"], r["batch"]): {"batch": r["batch"], key: r[PLAIN_RATIO] if PLAIN_RATIO in r else
                                                   (r.get(PLAIN_FAST) or r["plain_us"]) / r["plain_floor_us"]}
                 for r in rows if r["model"] == model}
        for (name, _), point in plain.items():
            series.setdefault(name, []).append(point)
    return {k: sorted(v, key=lambda r: r["batch"]) for k, v in sorted(series.items())}


def series_styles(rows, key):
    """{series: (colour, marker)} over every model's series (sorted), so that a series looks
    the same in every panel and in the one legend; markers tell apart series past the ten
    colours."""
    names = sorted({est for model in models_of(rows) for est in by_estimator(rows, model, key)})
    return {name: (f"C{i % 10}", MARKERS[i // 10 % len(MARKERS)]) for i, name in enumerate(names)}


def line_panels(plt, rows, key, ylabel, title, path, reference=None, log_y=False):
    from matplotlib.lines import Line2D
    models = models_of(rows)
    styles = series_styles(rows, key)
    fig, axes = plt.subplots(1, len(models), figsize=(min(6.2 * len(models), MAX_INCHES), 4.6), squeeze=False,
                             sharey=True)
    for ax, model in zip(axes[0], models):
        for est, rs in by_estimator(rows, model, key).items():
            colour, marker = styles[est]
            xs = [r["batch"] for r in rs]
            ax.plot(xs, [r[key] for r in rs], "-", marker=marker, color=colour, label=est)
            if reference:
                ax.plot(xs, [r[reference] for r in rs], "--", color=colour, alpha=0.6)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel("batch size B")
        ax.set_title(model)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    handles = [Line2D([], [], color=colour, marker=marker) for colour, marker in styles.values()]
    labels = list(styles)
    if reference:
        handles.append(Line2D([], [], color="grey", linestyle="--"))
        labels.append("FLOP ratio (cost model)")
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 5), frameon=False)
    fig.suptitle(f"{title}\n{machine_note(rows)}", y=0.02, va="bottom", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 0.9))
    tool_files.save_png(fig, path)
    plt.close(fig)


def step_time(us):
    """A step's time in the unit that writes it with at most three digits before the point: a
    small step's 6.54 us was written 0.00654 ms."""
    for unit, scale in (("us", 1.0), ("ms", 1e3)):
        text = f"{us / scale:.3g}"
        if "e" not in text and float(text) < 1000:
            return f"{text} {unit}"
    return f"{us / 1e6:.3g} s"


def phase_bars(plt, rows, path):
    models = models_of(rows)
    groups = [(m, sorted((r for r in rows if r["model"] == m), key=lambda r: (r["batch"], r["series"])))
              for m in models]
    width = min(max(6.0, 0.42 * max(len(g) for _, g in groups)), MAX_INCHES)  # thinner bars past it
    fig, axes = plt.subplots(len(models), 1, figsize=(width, min(4.2 * len(models), MAX_INCHES)), squeeze=False)
    for ax, (model, rs) in zip(axes[:, 0], groups):
        xs = range(len(rs))
        bottom = [0.0] * len(rs)
        for ph in PHASES:
            total = [sum(r[f"{p}_us"] for p in PHASES) or 1.0 for r in rs]
            share = [100 * r[f"{ph}_us"] / t for r, t in zip(rs, total)]
            ax.bar(xs, share, bottom=bottom, color=COLOURS[ph], label=ph, width=0.8)
            bottom = [b + s for b, s in zip(bottom, share)]
        for x, r in zip(xs, rs):
            ax.text(x, 101, step_time(r["step_us"]), ha="center", va="bottom", fontsize=7, rotation=90)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"B={r['batch']}\n{r['series']}" for r in rs], fontsize=7, rotation=90)
        ax.set_ylim(0, 135)
        ax.set_yticks(range(0, 101, 20))
        ax.set_ylabel("share of the step (%)")
        ax.set_title(f"{model}: phases of the step (step time above each bar)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(PHASES), frameon=False, fontsize=8)
    fig.suptitle(machine_note(rows), y=0.005, va="bottom", fontsize=9)
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    tool_files.save_png(fig, path)
    plt.close(fig)


def main():
    parts = __doc__.split("\n\n")
    ap = tool_files.ArgumentParser(description=parts[0], epilog="\n\n".join(parts[1:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=tool_files.name_of("file"), help="profile.csv from jacnoise profile --grid")
    ap.add_argument("--out", type=tool_files.name_of("folder"), help="folder for the PNG files (default: the CSV's folder)")
    args = ap.parse_args()
    plt = tool_files.pyplot(lambda msg: fail(f"needs {msg}"))
    rows = load(args.csv)
    out = args.out or os.path.dirname(os.path.abspath(args.csv))
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        fail(f"--out {out}: {'not a folder' if os.path.exists(out) else e.strerror}")
    written = []
    try:
        penalised = [r for r in rows if r["estimator"] != "-"]
        if penalised:
            p = os.path.join(out, "profile_overhead.png")
            line_panels(plt, penalised, "overhead_ratio", "time ratio: penalised step / plain step",
                        "What the penalty costs: solid = measured time ratio, dashed = FLOP ratio", p, "flop_ratio",
                        log_y=True)
            written.append(p)
        p = os.path.join(out, "profile_floor.png")
        line_panels(plt, rows, "ratio_to_floor", "step time / its GEMMs alone",
                    "Step over its GEMM floor (1 = nothing but GEMMs)", p)
        written.append(p)
        p = os.path.join(out, "profile_phases.png")
        phase_bars(plt, rows, p)
        written.append(p)
    except OSError as e:
        fail(f"{e.filename or out}: {e.strerror}")
    print("wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    tool_files.run_program(main)
