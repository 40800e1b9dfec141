#!/usr/bin/env python3
"""`jacnoise profile` on tiny nets: the report's correctness, not its speed.

The JSON holds every phase for every variant; the FLOP counts equal the cost model, written
here a second time from SPEC.md (each GEMM 2 * rows * n_out * n_in; tangent chunks as
jn_objective_tangent_chunk cuts them); times are positive where there is work; the overhead
ratio is the configured step over plain. A grid writes one CSV row per distinct
configuration. Bad grids and option clashes fail with one line. SIGINT or SIGTERM ends a
profile with 130 or 143, a grid's rows done kept; a closed standard output ends it with 141.
A combination that fails leaves the grid's other rows to run.

Environment (set by CTest): JACNOISE_BIN, JACNOISE_DATA."""
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BIN, check, cuda_device_visible, ended, finish, line_from, run, scratch, text_until  # noqa: E402

PHASES = ["data", "forward", "jvp", "penalty", "backward", "update"]
D, C = 256, 10   # USPS
ROW_BUDGET = 16384


def cost(sizes, B, lam, target, layer, proj, copies):
    """Per-phase GEMM FLOPs of one step (SPEC "Cost", exact)."""
    L = len(sizes) - 1
    g = lambda rows, l: 2.0 * rows * sizes[l] * sizes[l - 1]
    f = dict.fromkeys(PHASES, 0.0)
    for l in range(1, L + 1):
        f["forward"] += g(B, l)
        f["backward"] += g(B, l) * (2 if l > 1 else 1)
    if lam > 0:
        if target == "hidden1":
            f["jvp"] += copies * g(B, 1)
            f["backward"] += copies * g(B, 1)
        elif target == "output" and proj == 0:
            # Reverse mode: primal rows to the last hidden layer, C rows per example down
            # (one GEMM a layer) and back up (two), the gates' adjoint down the primal rows.
            for l in range(1, L):
                f["jvp"] += copies * (g(B, l) + g(B * sizes[L], l))
                f["backward"] += copies * (2 * g(B * sizes[L], l) + g(B, l) * (2 if l > 1 else 1))
        else:
            top = L if target == "output" else layer
            K = sizes[0] if proj == 0 else proj
            fit = ROW_BUDGET // B - 1
            chunk = K if K < fit else max(fit, 1)
            for k0 in range(0, K, chunk):
                count = min(chunk, K - k0)
                for l in range(1, top + 1):
                    rows = B * (1 + count) if l < L else B * count
                    f["jvp"] += copies * g(rows, l)
                    f["backward"] += copies * g(rows, l) * (2 if l > 1 else 1)
    return f


CASES = [
    # (label, options, sizes, B, target, layer, proj, copies)
    ("hidden1", ["--hidden", "12,9", "--batch", "8", "--jac-target", "hidden1"], [D, 12, 9, C], 8, "hidden1", 1, 1, 1),
    ("output K=2, 2 copies", ["--hidden", "12,9", "--batch", "8", "--jac-target", "output", "--jac-proj", "2",
                              "--jac-copies", "2"], [D, 12, 9, C], 8, "output", 3, 2, 2),
    ("hidden:1 exact, chunked", ["--hidden", "7", "--batch", "100", "--jac-target", "hidden:1", "--jac-proj", "exact"],
     [D, 7, C], 100, "hidden:1", 1, 0, 1),
]
COMMON = ["--device", "cpu", "--data", "usps", "--jac-lambda", "0.1", "--jac-noise", "0.2", "--input-noise", "0.1", "--reps", "3",
          "--warmup", "1"]


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(1.0, abs(b))


def profile_json(args, out, words, label):
    """Runs `jacnoise profile ARGS --json OUT`; checks that its table holds each of words; the
    JSON it wrote, or None where it failed."""
    r = run(["profile"] + args + ["--json", out])
    check(all(w in r.stdout for w in words), f"{label}: the table lacks one of {words}:\n{r.stdout}")
    if r.returncode != 0:
        return None
    with open(out) as f:
        p = json.load(f)
    check_table(label, r.stdout, p)
    return p


def near(printed, value, digits, json_digits=6):
    """Whether a number printed with `digits` decimals shows value, the JSON's (itself printed
    with json_digits decimals or, for None, exact; the JSON's ratios with 6 significant digits)."""
    slack = 0.5 * 10 ** -json_digits if json_digits is not None else 0
    return abs(float(printed) - value) <= 0.5 * 10 ** -digits + slack + 1e-5 * abs(value)


def check_table(label, text, p):
    """The table's numbers are the JSON's: each phase's median and share, each variant's time,
    FLOPs, floor and ratio, the overhead line and the memory line."""
    lines = text.splitlines()
    v0, phases = p["variants"][0], {ph["name"]: ph for ph in p["variants"][0]["phases"]}
    for name, ph in phases.items():
        row = [line.split() for line in lines if re.match(f"{name} +[0-9]", line)]
        if name == "jvp" and v0["jvp_in_forward"] and v0["objective"]["jac_lambda"] > 0:
            check(not row, f"{label}: a jvp row though it runs in the forward phase")
            continue
        check(len(row) == 1 and near(row[0][1], ph["time"]["median_us"], 1, 3) and
              near(row[0][-1].rstrip("%"), 100 * ph["share"], 1),
              f"{label}: the {name} row {row}, the JSON {ph['time']['median_us']} us, share {ph['share']}")
    for v in p["variants"]:
        # The row's time, rate and ratio are of one step: the one training runs (CUDA: the
        # fast step, a replayed graph as the floor is).
        row = [line[14:].split() for line in lines if line.startswith(f"{v['name']:<14} ")]
        ok = len(row) == 1 and len(row[0]) >= 7
        us, gflop, rate, floor, ratio, gemms = row[0][-6:] if ok else [0] * 6
        check(ok and near(us, v.get("fast_step", v["step"])["median_us"], 1, 3) and near(gflop, 1e-9 * v["flops"], 4, None) and
              near(rate, v["gflops"], 1) and near(floor, v["gemm_floor"]["median_us"], 1, 3) and
              near(ratio.rstrip("x"), v["ratio_to_floor"], 2) and int(gemms) == v["gemm_calls"],
              f"{label}: the {v['name']} row {row}, the JSON {v}")
    o, mem = p["overhead"], p["memory"]
    over = [line for line in lines if line.startswith("overhead")]
    nums = re.findall(r"[0-9.]+(?=x| -|\]|,)", over[0]) if over else []
    want = [o["time_ratio"], o["time_ratio_q1"], o["time_ratio_q3"], o["flop_ratio"], o["floor_ratio"],
            o["floor_ratio_q1"], o["floor_ratio_q3"]]
    check(len(nums) == len(want) and all(near(a, b, 2) for a, b in zip(nums, want)),
          f"{label}: overhead line {over}, the JSON {o}")
    memory = re.search(r"step workspace ([0-9.]+) MB, parameters \+ momentum \+ gradient ([0-9.]+) MB, "
                       r"process peak RSS ([0-9.]+) MB", text)
    check(memory and near(memory[1], mem["workspace_bytes"] / 1e6, 2, None) and
          near(memory[2], mem["state_bytes"] / 1e6, 2, None) and
          near(memory[3], mem["max_rss_kib"] * 1024 / 1e6, 1, None),
          f"{label}: memory line, the JSON {mem}")


def check_profile(label, p, sizes, B, target, layer, proj, copies, backend="cpu"):
    """The JSON of one profile. Where a backend runs the forward-mode pass inside the forward
    phase (jvp_in_forward: the CUDA engine's stacked rows, and the CPU's for hidden1 and the
    output's Gaussian tangents) the cost model's jvp FLOPs count there and the jvp phase has no
    time of its own."""
    names = [v["name"] for v in p["variants"]]
    check(names[0] == "as configured" and names[-1] == "plain" and len(names) == len(set(names)),
          f"{label}: variants {names}")
    check(p["batch"] == B and p["model"] == "-".join(map(str, sizes)), f"{label}: model {p['model']} B {p['batch']}")
    m = p["machine"]
    check(m["backend"] == backend and m["precision"] in ("fp32", "tf32") and (m["blas_core"] or backend != "cpu") and
          m["peak_gflops"] >= m["sgemm_peak_gflops"] > 0, f"{label}: machine {m}")
    # The peak is the fastest rate measured: no rate reported against it passes it.
    rates = [r for v in p["variants"] for r in
             [v["gflops"], v["flops"] / v["gemm_floor"]["median_us"] * 1e-3] + [ph["gflops"] for ph in v["phases"]]]
    check(max(rates) <= m["peak_gflops"] * (1 + 1e-5), f"{label}: a rate of {max(rates)} GFLOP/s, peak {m}")
    mem = p["memory"]
    check(mem["workspace_bytes"] > 0 and mem["state_bytes"] > 0 and (mem["device_bytes"] > 0) == (backend == "cuda"),
          f"{label}: memory {mem}")
    for v in p["variants"]:
        o = v["objective"]
        want = cost(sizes, B, o["jac_lambda"], target, layer, proj, copies)
        fused = v["jvp_in_forward"]
        stacked = backend == "cuda" or o["jac_lambda"] > 0 and (target == "hidden1" or target == "output" and proj > 0)
        check(fused == stacked, f"{label}/{v['name']}: jvp_in_forward {fused}")
        if fused:
            want["forward"], want["jvp"] = want["forward"] + want["jvp"], 0.0
        got = {ph["name"]: ph for ph in v["phases"]}
        check([ph["name"] for ph in v["phases"]] == PHASES, f"{label}/{v['name']}: phases {list(got)}")
        for name in PHASES:
            ph = got.get(name, {"flops": -1, "time": {"median_us": -1}})
            check(close(ph["flops"], want[name]),
                  f"{label}/{v['name']}/{name}: {ph['flops']} FLOPs, the cost model says {want[name]}")
            no_work = name in ("jvp", "penalty") and o["jac_lambda"] == 0 or name == "jvp" and fused
            t = ph["time"]["median_us"]
            if no_work:
                check(t == 0, f"{label}/{v['name']}/{name}: {t} us without a penalty")
            else:
                check(t > 0, f"{label}/{v['name']}/{name}: time {t} us")
        check(close(v["flops"], sum(want.values())), f"{label}/{v['name']}: total {v['flops']}")
        # Each phase is the step's own. A round's phases are clocked inside that round's step (CPU:
        # between the step's clock readings; CUDA: the intervals between its first and last
        # event), so in every round they add up to at most the step, to all of it but the few
        # calls around the marks. Medians of separate phases need not come from one round (under
        # load each round slows in another phase), so the bounds use the extremes: each phase's
        # least is at most its part of the fastest step; each phase's most is at least its part
        # of any round. The JSON prints each time to 1e-3 us; CUDA's events are floats.
        least = sum(ph["time"]["min_us"] for ph in v["phases"])
        most = sum(ph["time"]["max_us"] for ph in v["phases"])
        fastest = v["step"]["min_us"]
        check(least <= fastest * (1 + 1e-6) + 7 * 5e-4 and most >= 0.5 * fastest,
              f"{label}/{v['name']}: the phases' least times add up to {least} us, their most to {most} us, "
              f"the step's {v['step']}")
        for key in ("step", "gemm_floor"):
            t = v[key]
            check(0 < t["min_us"] <= t["q1_us"] <= t["median_us"] <= t["q3_us"] <= t["max_us"],
                  f"{label}/{v['name']}: {key} {v[key]}")
        check(v["gemm_calls"] > 0, f"{label}/{v['name']}: gemm_calls {v['gemm_calls']}")
        # The derived numbers, from the JSON's own times (printed to 1e-3 us: relative error
        # 5e-4 / t) and FLOPs; the numbers themselves have 6 significant digits. The rate and
        # the ratio to the floor are of the step timed as the floor is: the fast step where
        # there is one (CUDA: both replayed graphs), not the step launched with its phase events.
        # The ratio is the rounds' own (test_profile_rounds checks its statistics), not the
        # medians' ratio: each round's lies between the fastest step over the slowest floor
        # and the slowest step over the fastest floor, and so do its quartiles.
        timed, floor = v.get("fast_step", v["step"]), v["gemm_floor"]
        rel = lambda *t: 1e-5 + sum(5e-4 / x for x in t)
        low, high = timed["min_us"] / floor["max_us"], timed["max_us"] / floor["min_us"]
        ratios = [v["ratio_to_floor_q1"], v["ratio_to_floor"], v["ratio_to_floor_q3"]]
        check(abs(v["gflops"] - v["flops"] / timed["median_us"] * 1e-3) <= rel(timed["median_us"]) * v["gflops"] and
              ratios == sorted(ratios) and low * (1 - rel(timed["min_us"], floor["max_us"])) <= ratios[0] and
              ratios[2] <= high * (1 + rel(timed["max_us"], floor["min_us"])),
              f"{label}/{v['name']}: {v['gflops']} GFLOP/s, {ratios} (q1, median, q3) times its floor; "
              f"step {v['step']}, fast step {timed}, floor {floor}")
        # A phase's share is the rounds' own too, each round's phase over that round's step: it
        # lies between the phase's least over the slowest step and its most over the fastest.
        step = v["step"]
        for ph in v["phases"]:
            t = ph["time"]["median_us"]
            low = max(ph["time"]["min_us"] - 5e-4, 0) / (step["max_us"] + 5e-4)
            high = (ph["time"]["max_us"] + 5e-4) / (step["min_us"] - 5e-4)
            check(low * (1 - 1e-5) <= ph["share"] <= high * (1 + 1e-5) + 1e-6 and
                  abs(ph["gflops"] - (ph["flops"] / t * 1e-3 if t else 0)) <= (rel(t) if t else 0) * ph["gflops"],
                  f"{label}/{v['name']}/{ph['name']}: share {ph['share']} (rounds' bounds {low} - {high}), "
                  f"{ph['gflops']} GFLOP/s of {t} us")
    # Each variant is the configuration with its own terms off.
    conf = p["variants"][0]["objective"]
    want = {"as configured": conf, "penalty off": dict(conf, jac_lambda=0),
            "noise off": dict(conf, jac_noise=0, input_noise=0),
            "plain": dict(conf, jac_lambda=0, jac_noise=0, input_noise=0)}
    for v in p["variants"]:
        check(v["objective"] == want.get(v["name"]), f"{label}/{v['name']}: objective {v['objective']}")
    first, plain = p["variants"][0], p["variants"][-1]
    check(mem["workspace_bytes"] == first["workspace_bytes"] and mem["state_bytes"] == first["state_bytes"],
          f"{label}: memory {mem}, the configured step's {first['workspace_bytes']} and {first['state_bytes']}")
    if backend == "cpu":  # parameters, momentum and gradient, in floats or doubles
        P = sum(sizes[l] * (sizes[l - 1] + 1) for l in range(1, len(sizes)))
        check(mem["state_bytes"] in (3 * 4 * P, 3 * 8 * P), f"{label}: state_bytes {mem['state_bytes']} for {P} parameters")
    check(close(p["overhead"]["flop_ratio"], first["flops"] / plain["flops"], 1e-5), f"{label}: flop ratio")
    # The time ratios are the rounds' own (test_profile_rounds checks their statistics).
    o = p["overhead"]
    for key in ("time_ratio", "floor_ratio"):
        check(0 < o[key + "_q1"] <= o[key] <= o[key + "_q3"], f"{label}: {key} {o}")


def within_quotient(value, num, num_half, den, den_half, printed_half):
    """value, printed to printed_half either way, is a / b for some a and b that print as num
    and den (to num_half and den_half either way): bounds taken exactly, as a small den's
    rounding weighs more than its first-order share (a 0.55 us floor prints as 0.6)."""
    low, high = (num - num_half) / (den + den_half), (num + num_half) / max(den - den_half, 1e-12)
    return low - printed_half <= value <= high + printed_half


def check_floor_ratio(x):
    """Whether a grid row's ratio_to_floor is a median between its quartiles, all above 0, and
    the plain step's above 0: the rounds' own ratios, which the printed medians of step and
    floor do not bound."""
    ratios = [float(x[k]) for k in ("ratio_to_floor_q1", "ratio_to_floor", "ratio_to_floor_q3")]
    return 0 < ratios[0] <= ratios[1] <= ratios[2] and float(x["plain_ratio_to_floor"]) > 0


def check_row(x, hidden_layers, plain_flops):
    """A grid row's derived columns, from its own (times to 0.001 us) and the cost model's
    plain step; the ratio to the floor is the rounds' (check_floor_ratio)."""
    step, flops = float(x["step_us"]), float(x["flops"])
    check(int(x["hidden_layers"]) == hidden_layers and close(float(x["plain_flops"]), round(plain_flops)) and
          abs(float(x["flop_ratio"]) - flops / float(x["plain_flops"])) <= 5.001e-5 and check_floor_ratio(x) and
          within_quotient(float(x["gflops"]), flops * 1e-3, 0, step, 0.0005, 0.005) and
          x.get("fast_step_us") == x.get("plain_fast_step_us") == "",  # the CPU's step is the one training runs
          f"grid row {x}")


def plot_styles(tools, table):
    """In plot_profile.py's line pictures a series has one colour and marker, the legend's, in
    every panel, though the panels' series differ: here a second model lacking the first; and
    each line's points are the table's numbers."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex
    sys.path.insert(0, tools)
    import plot_profile as tool
    rows = tool.load(table)[::-1]  # the larger batches first: the lines still go by batch
    first = min(r["estimator"] for r in rows)
    # The plain step's ratio to its floor is the table's, the rounds' own: here twice the
    # medians' ratio, which no line may draw. The second model's rows are an older table's,
    # without that column, and CUDA's: there the plain step's replayed graph timed apart over
    # the floor's median.
    fast = lambda r: 0.5 * float(r["plain_us"])
    paired = lambda r: 2 * float(r["plain_us"]) / float(r["plain_floor_us"])
    older = lambda r: {k: v for k, v in dict(r, model=r["model"] + "-10", plain_fast_step_us=fast(r)).items()
                       if k != "plain_ratio_to_floor"}
    rows = [dict(r, plain_ratio_to_floor=paired(r)) for r in rows]
    rows += [older(r) for r in rows if r["estimator"] != first]
    figures, save = [], tool.tool_files.save_png
    tool.tool_files.save_png = lambda fig, path: figures.append(fig)
    try:
        for key, reference in (("overhead_ratio", "flop_ratio"), ("ratio_to_floor", None)):
            tool.line_panels(plt, rows, key, key, key, os.devnull, reference)
    finally:
        tool.tool_files.save_png = save
    for fig in figures:
        style = lambda line: (to_hex(line.get_color()), line.get_marker())
        entries = zip(fig.legends[0].get_texts(), fig.legends[0].get_lines())
        legend = {text.get_text(): style(line) for text, line in entries}
        drawn = [(ax.get_title(), line.get_label(), style(line)) for ax in fig.axes for line in ax.get_lines()
                 if not line.get_label().startswith("_")]
        check(len({title for title, _, _ in drawn}) == 2, f"plot_profile.py styles: panels {drawn}")
        check(all(legend.get(label) == s for _, label, s in drawn) and len(set(legend.values())) == len(legend),
              f"plot_profile.py styles: legend {legend}, drawn {drawn}")
    # The values drawn, from the table's text: each estimator's column by batch; in the floor
    # picture the plain step's own ratio, plain_ratio_to_floor, in the older table plain_us
    # (plain_fast_step_us where there is one) / plain_floor_us (every row of a batch timed the
    # plain step: one of theirs).
    with open(table, newline="") as f:
        raw = [dict(r, plain_ratio_to_floor=paired(r)) for r in csv.DictReader(f)]
    raw += [older(r) for r in raw if r["estimator"] != first]
    plain = lambda r: (float(r["plain_ratio_to_floor"]) if "plain_ratio_to_floor" in r else
                       float(r["plain_fast_step_us"] or r["plain_us"]) / float(r["plain_floor_us"]))
    for fig, key in zip(figures, ("overhead_ratio", "ratio_to_floor")):
        for ax in fig.axes:
            for line in ax.get_lines():
                label, model = line.get_label(), ax.get_title()
                if label.startswith("_"):
                    continue
                want = {}
                for r in raw:
                    if r["model"] == model and label in ("plain", r["estimator"]):
                        want.setdefault(int(r["batch"]), []).append(plain(r) if label == "plain" else float(r[key]))
                got = dict(zip(line.get_xdata(), line.get_ydata()))
                check(list(line.get_xdata()) == sorted(want) and
                      all(any(abs(got[b] - w) <= 1e-9 * w for w in want[b]) for b in want),
                      f"plot_profile.py {key}, {model} {label}: drew {got}, the table {want}")


def plot_series(tools, script, tmp, table):
    """A grid over the copies (or lambda, s_J, input noise; or two grids of different
    precisions concatenated) gives rows of one estimator that differ in that column alone: each
    value is a series of its own, named by it, with one point per batch, not one line doubling
    back through both; so does a grid over the seed, lr or loss, and two CPU tables concatenated
    that differ in their threads or BLAS core alone (refused as alike); rows that differ in no column
    the table has (a row twice; a grid over the seed in an older table, without those columns)
    are refused with one line naming both, an older table read as it is."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sys.path.insert(0, tools)
    import plot_profile as tool
    with open(table) as f:
        lines = f.read().splitlines()
    # And the table concatenated whole with one of TF32 (cat of another run's grid, its header
    # again: that line was refused as a row whose batch is no number): a series per precision;
    # so with one of other threads or another BLAS core (OPENBLAS_CORETYPE).
    first_row = dict(zip(lines[0].split(","), next(csv.reader(lines[1:2]))))
    threads, core = first_row["threads"], first_row["blas_core"]
    for name, label, first, other, header in [("copies", "copies", "1", "2", []),
                                              ("precision", "precision", "fp32", "tf32", lines[:1]),
                                              ("seed", "seed", "1", "2", []), ("lr", "lr", "0.01", "0.1", []),
                                              ("loss", "loss", "xent", "squared", []),
                                              ("threads", "threads", threads, str(int(threads) + 1), lines[:1]),
                                              ("blas_core", "BLAS core", core,
                                               "Haswell" if core == "Prescott" else "Prescott", lines[:1])]:
        column = lines[0].split(",").index(name)
        # By the CSV's fields: device, before seed, lr and loss, is quoted and holds commas.
        # The edited rows' plain step 3 times the ratio to its floor, so that the floor picture
        # tells apart whose plain step it drew.
        plain_column = lines[0].split(",").index("plain_ratio_to_floor")
        tripled = lambda r: [*r[:plain_column], f"{3 * float(r[plain_column]):.4f}", *r[plain_column + 1:]]
        edited = io.StringIO()
        csv.writer(edited, lineterminator="\n").writerows(tripled([*r[:column], other, *r[column + 1:]])
                                                          for r in csv.reader(lines[1:]))
        twice = edited.getvalue().splitlines()
        path = os.path.join(tmp, f"{name}.csv")
        with open(path, "w") as f:
            f.write("\n".join(lines + header + twice) + "\n")
        figures, save = [], tool.tool_files.save_png
        tool.tool_files.save_png = lambda fig, path: figures.append(fig)
        try:
            tool.line_panels(plt, tool.load(path), "overhead_ratio", "", "", os.devnull, "flop_ratio")
            tool.line_panels(plt, tool.load(path), "ratio_to_floor", "", "", os.devnull)
        finally:
            tool.tool_files.save_png = save
        drawn = {line.get_label(): list(line.get_xdata()) for line in figures[0].axes[0].get_lines()
                 if not line.get_label().startswith("_")}
        want = {f"{e}, {label} {m}" for e in ("hidden1", "output K=1", "output exact") for m in (first, other)}
        check(set(drawn) == want and all(xs == sorted(set(xs)) for xs in drawn.values()),
              f"plot_profile.py, a grid over the {name}: drew {drawn}")
        # The floor picture: the plain step a line of each table's, as the penalised ones are
        # (tables concatenated drew one, each batch the last table's); one alone where the rows
        # differ in the penalty only, the plain step's the same.
        floor = {line.get_label(): dict(zip(line.get_xdata(), line.get_ydata()))
                 for line in figures[1].axes[0].get_lines() if not line.get_label().startswith("_")}
        parts = {"plain": lines[1:] + twice} if name == "copies" else \
            {f"plain, {label} {first}": lines[1:], f"plain, {label} {other}": twice}
        plains = {}
        for p, part in parts.items():
            for x in csv.DictReader(lines[:1] + part):
                plains.setdefault(p, {}).setdefault(int(x["batch"]), []).append(float(x["plain_ratio_to_floor"]))
        check(set(floor) == want | set(plains) and
              all(set(floor[p]) == set(by_batch) and
                  all(any(abs(floor[p][b] - v) <= 1e-9 * v for v in values) for b, values in by_batch.items())
                  for p, by_batch in plains.items()),
              f"plot_profile.py, a grid over the {name}: the floor picture drew {floor}, the plain steps {plains}")
    # An older table, which ends at library: drawn.
    old_lines = [line.rsplit(",", 3)[0] for line in lines]
    check(old_lines[0].endswith(",library"), f"plot_profile.py, older table: header {old_lines[0]!r}")
    older = os.path.join(tmp, "older.csv")
    with open(older, "w") as f:
        f.write("\n".join(old_lines) + "\n")
    p = subprocess.run([sys.executable, script, older, "--out", os.path.join(tmp, "olderpics")], capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0 and len(os.listdir(os.path.join(tmp, "olderpics"))) == 3,
          f"plot_profile.py, an older table without seed, lr, loss: exit {p.returncode}, stderr {p.stderr!r}")
    # A row twice is refused, in it as in this one; and it and a newer one concatenated, the
    # second header named as one (it was read as a row of too many or too few fields).
    alike = f"line {len(lines) + 1}: the same model, batch and penalty as line 2 (the table does not say how they differ; " \
        "plot one of them)"
    mixed = "a header of other columns than line 1's (tables of two jacnoise versions concatenated: plot each alone)"
    for name, table_lines, said in (("again.csv", lines + lines[1:2], alike),
                                    ("older-again.csv", old_lines + old_lines[1:2], alike),
                                    ("mixed.csv", old_lines + lines, f"line {len(lines) + 1}: {mixed}"),
                                    ("mixed-newer.csv", lines + old_lines, f"line {len(lines) + 1}: {mixed}")):
        bad = os.path.join(tmp, name)
        with open(bad, "w") as f:
            f.write("\n".join(table_lines) + "\n")
        p = subprocess.run([sys.executable, script, bad, "--out", os.path.join(tmp, "badpics")],
                           capture_output=True, text=True, timeout=300)
        check(p.returncode == 1 and p.stderr == f"plot_profile: {bad} {said}\n" and
              not os.path.exists(os.path.join(tmp, "badpics")), f"plot_profile.py, {name}: exit {p.returncode}, "
              f"stderr {p.stderr!r}")


def plot_sizes(tools, table):
    """Pictures of a large table (2000 configurations of one model, here copies of a row at
    other batch sizes, and 120 models) stay within the 2^16 pixels a side that matplotlib can
    draw: a figure sized by its bars or panels alone was a traceback past them."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sys.path.insert(0, tools)
    import plot_profile as tool
    first = tool.load(table)[0]
    many = [dict(first, batch=b) for b in range(1, 2001)]
    models = [dict(first, model=f"{first['model']}-{k}") for k in range(120)]
    figures, save = [], tool.tool_files.save_png
    tool.tool_files.save_png = lambda fig, path: figures.append(fig)
    try:
        tool.phase_bars(plt, many, os.devnull)
        tool.phase_bars(plt, models, os.devnull)
        tool.line_panels(plt, models, "ratio_to_floor", "", "", os.devnull)
    finally:
        tool.tool_files.save_png = save
    for fig in figures:
        w, h = fig.get_size_inches() * 110
        check(w < 2 ** 16 and h < 2 ** 16, f"plot_profile.py: a picture of {w:.0f} x {h:.0f} pixels")
        plt.close(fig)


def phase_picture(tools, table, rows_of):
    """plot_profile.py, and the axes of its phase picture of rows_of(plot_profile, the table's
    first row), and that row."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sys.path.insert(0, tools)
    import plot_profile as tool
    first = tool.load(table)[0]
    figures, save = [], tool.tool_files.save_png
    tool.tool_files.save_png = lambda fig, path: figures.append(fig)
    try:
        tool.phase_bars(plt, rows_of(tool, first), os.devnull)
    finally:
        tool.tool_files.save_png = save
    plt.close(figures[0])
    return tool, figures[0].axes[0], first


def plot_step_times(tools, table):
    """The phase picture writes each step's time above its bar in a unit that suits it: a
    small step's 6.54 us was 0.00654 ms."""
    _, ax, _ = phase_picture(tools, table, lambda tool, first: [dict(first, batch=b, step_us=us) for b, us in
                                                                ((1, 6.54), (2, 999.7), (3, 1234.0), (4, 2.5e6))])
    labels = [t.get_text() for t in ax.texts]
    check(labels == ["6.54 us", "1 ms", "1.23 ms", "2.5 s"], f"plot_profile.py: step times above the bars {labels}")


def plot_phase_bars(tools, table):
    """The phase picture draws each row's phases as the table gives them: a bar per row, in the
    order of its tick labels (by batch, then series), each phase's height its share of the
    row's phases' sum, stacked in the order of PHASES, the row's step time above it. Made-up
    rows (a row of the table at three batches, given in no order) make each share known."""
    times = {8: (1, 2, 0, 0, 5, 2), 2: (0, 3, 1, 0, 0, 0), 4: (2.5, 2.5, 2.5, 0, 2.5, 0)}
    tool, ax, first = phase_picture(tools, table, lambda tool, first: [
        dict(first, batch=b, step_us=10.0 * b, **{f"{p}_us": t for p, t in zip(tool.PHASES, us)})
        for b, us in times.items()])
    order = sorted(times)
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    check(ticks == [f"B={b}\n{first['series']}" for b in order] and
          [t.get_text() for t in ax.texts] == [tool.step_time(10.0 * b) for b in order],
          f"plot_profile.py phases: bars labelled {ticks}, step times {[t.get_text() for t in ax.texts]}")
    bars = ax.patches
    check(len(bars) == len(tool.PHASES) * len(order), f"plot_profile.py phases: {len(bars)} bars drawn")
    for k, (phase, bar) in enumerate(zip([p for p in tool.PHASES for _ in order], bars)):
        b = order[k % len(order)]
        us = times[b]
        want = 100 * us[tool.PHASES.index(phase)] / sum(us)
        below = 100 * sum(us[:tool.PHASES.index(phase)]) / sum(us)
        check(abs(bar.get_x() + bar.get_width() / 2 - order.index(b)) < 1e-9 and
              abs(bar.get_height() - want) < 1e-9 and abs(bar.get_y() - below) < 1e-9,
              f"plot_profile.py phases, B={b} {phase}: a bar at x {bar.get_x() + bar.get_width() / 2:g} from "
              f"{bar.get_y():g} of {bar.get_height():g}%, expected x {order.index(b)} from {below:g} of {want:g}%")


def plot_profile(tmp, table):
    """tools/plot_profile.py draws the grid's table, a series alike in every panel; a missing,
    empty, truncated or foreign table, a non-number, a number that is not a finite decimal
    (nan, 1_000, a space before it) or out of its range (a zero floor, a negative ratio) or an --out that is a file: one line naming the file
    (and the line and column of a bad number), never a traceback, no picture."""
    tools = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")
    # The pictures' machine line: the CPU's BLAS core and threads; none on CUDA, whose table
    # leaves them empty and 0 (the same rows as a CUDA grid writes them).
    sys.path.insert(0, tools)
    import plot_profile as tool
    rows = tool.load(table)
    # Its precision; none in an older table, which has no such column; no machine where the
    # rows are of two (grids concatenated).
    cuda = [dict(r, backend="cuda", blas_core="", threads=0.0, precision="tf32") for r in rows]
    notes = [tool.machine_note(rows), tool.machine_note(cuda),
             tool.machine_note([{k: v for k, v in r.items() if k != "precision"} for r in cuda]),
             tool.machine_note(rows + cuda)]
    peak = f"peak {rows[0]['peak_gflops']:.0f} GFLOP/s"
    check(notes[0].startswith(f"cpu fp32, BLAS core {rows[0]['blas_core']}, ") and
          notes[1:] == [f"cuda tf32, {peak}", f"cuda, {peak}", "several machines or precisions (see each series)"],
          f"plot_profile.py machine lines {notes}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("plot_profile: not checked: this Python has no matplotlib (Debian: python3-matplotlib)")
        return
    plot_styles(tools, table)
    script = os.path.join(tools, "plot_profile.py")
    plot_series(tools, script, tmp, table)
    plot_sizes(tools, table)
    plot_step_times(tools, table)
    plot_phase_bars(tools, table)
    plot = lambda *args: subprocess.run([sys.executable, script, *args], capture_output=True, text=True, timeout=300)
    pics = os.path.join(tmp, "pics")
    p = plot(table, "--out", pics)
    check(p.returncode == 0, f"plot_profile.py: exit {p.returncode}: {p.stderr[-500:]}")
    names = ["profile_overhead.png", "profile_floor.png", "profile_phases.png"]
    check(sorted(os.listdir(pics)) == sorted(names) if os.path.isdir(pics) else False,
          f"plot_profile.py wrote {os.listdir(pics) if os.path.isdir(pics) else None}")
    with open(table) as f:
        lines = f.read().splitlines()
    header = lines[0]
    # The table as a spreadsheet saves it again (a byte-order mark, CRLF): drawn the same.
    edited = os.path.join(tmp, "edited.csv")
    with open(edited, "w", newline="") as f:
        f.write("\ufeff" + "\r\n".join(lines) + "\r\n")
    p = plot(edited, "--out", os.path.join(tmp, "editedpics"))
    check(p.returncode == 0 and len(os.listdir(os.path.join(tmp, "editedpics"))) == 3,
          f"plot_profile.py, the table with a byte-order mark and CRLF: exit {p.returncode}: {p.stderr[-300:]}")

    def spoilt(column, value):
        """The table with the first row's column set to value, and the line that names it."""
        first = lines[1].split(",")
        first[header.split(",").index(column)] = value
        return "\n".join([header, ",".join(first)] + lines[2:]) + "\n", f"line 2: {column} '{value}'"

    def unmeasured(column):
        text, words = spoilt(column, "")
        return text, words + " was not measured"

    cases = {"empty.csv": ("", ""), "header.csv": (header + "\n", ""),
             "short.csv": (header + "\n" + lines[1][:60] + "\n", ""), "foreign.csv": ("a,b\n1,2\n", ""),
             "word.csv": (header + "\n" + lines[1].replace(",4,", ",four,", 1) + "\n", ""),
             "nanbatch.csv": spoilt("batch", "nan"), "infbatch.csv": spoilt("batch", "1e400"),
             "nanstep.csv": spoilt("step_us", "nan"), "negoverhead.csv": spoilt("overhead_ratio", "-1"),
             "zerofloor.csv": spoilt("plain_floor_us", "0"), "nanplainfast.csv": spoilt("plain_fast_step_us", "nan"),
             "zeroplainratio.csv": spoilt("plain_ratio_to_floor", "0"),
             # a ratio jacnoise profile wrote empty: no round measured it
             "noplainratio.csv": unmeasured("plain_ratio_to_floor"), "nofloorratio.csv": unmeasured("ratio_to_floor"),
             "nooverhead.csv": unmeasured("overhead_ratio"),
             # the settings a series' label shows, and the model's depth
             "wordlayers.csv": spoilt("hidden_layers", "abc"), "halflayers.csv": spoilt("hidden_layers", "1.5"),
             "nocopies.csv": spoilt("copies", "0"), "neglambda.csv": spoilt("jac_lambda", "-1"),
             "nannoise.csv": spoilt("jac_noise", "nan"), "wordinput.csv": spoilt("input_noise", "abc"),
             # float() takes these; jacnoise never writes them
             "underscore.csv": spoilt("step_us", "1_000"), "spaced.csv": spoilt("plain_floor_us", " 12"),
             "trailing.csv": spoilt("threads", "1 "),
             "binary.csv": ("\udcff\udcfe\n", ""),
             # cut inside its last value, as a copy stopped part way leaves it: a row read whole
             "cut.csv": (header + "\n" + lines[1][:-1], "cut short: no newline at its end")}
    for name, (text, words) in cases.items():
        bad = os.path.join(tmp, name)
        with open(bad, "w", errors="surrogateescape") as f:
            f.write(text)
        p = plot(bad, "--out", os.path.join(tmp, "badpics"))
        check(p.returncode == 1 and p.stderr.startswith(f"plot_profile: {bad}") and words in p.stderr and
              len(p.stderr.splitlines()) == 1,
              f"plot_profile.py {name}: exit {p.returncode}, stderr {p.stderr[-300:]!r}")
    for args, words in [([os.path.join(tmp, "none.csv")], "No such file"), ([tmp], "Is a directory"),
                        ([table, "--out", table], "not a folder")]:
        p = plot(*args)
        check(p.returncode == 1 and words in p.stderr and len(p.stderr.splitlines()) == 1,
              f"plot_profile.py {args}: exit {p.returncode}, stderr {p.stderr[-300:]!r}")
    check(not os.path.exists(os.path.join(tmp, "badpics")) or not os.listdir(os.path.join(tmp, "badpics")),
          "plot_profile.py: pictures from bad tables")


def interrupted(tmp):
    """SIGINT in a grid: the line erased, exit 130, the combinations done kept in --csv and
    named; SIGTERM in a single profile: exit 143, "terminated", nothing written."""
    path = os.path.join(tmp, "stopped.csv")
    base = [BIN, "profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--warmup", "0",
            "--progress", "always"]
    p = subprocess.Popen(base + ["--grid", "reps=2 100000", "--csv", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    before = text_until(p, p.stderr, "round 1 of 100000", "a grid to interrupt: its first round")
    p.send_signal(signal.SIGINT)
    _, err = ended(p, "a grid sent SIGINT", 60)
    # Text mode reads the line's \r as a line end: the last line is the erase, then the message.
    last = (before + err).split("\n")[-2] if (before + err).endswith("\n") else ""
    check(p.returncode == 130 and
          last == f"\x1b[Kjacnoise: interrupted at reps=100000; {path} holds the 1 combination done",
          f"SIGINT in a grid: exit {p.returncode}, stderr ends {(before + err)[-300:]!r}")
    with open(path) if os.path.exists(path) else open(os.devnull) as f:
        check(len(list(csv.DictReader(f))) == 1, "SIGINT in a grid: the row done is not kept")
    json_path = os.path.join(tmp, "stopped.json")
    p = subprocess.Popen(base + ["--reps", "100000", "--json", json_path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    before = text_until(p, p.stderr, "round 1 of", "a profile to terminate: its first round")
    p.send_signal(signal.SIGTERM)
    out, err = ended(p, "a profile sent SIGTERM", 60)
    check(p.returncode == 143 and err.endswith("jacnoise: terminated; nothing written\n") and not out and
          not os.path.exists(json_path), f"SIGTERM: exit {p.returncode}, stdout {out[:200]!r}, stderr {err[-300:]!r}")


def closed_output(tmp):
    """A closed standard output (profile | head): a grid stops after the row it could not
    print, with one line on stderr naming --csv and the rows it keeps, exit 141, where
    SIGPIPE killed it silently; it stops before the next combination starts (no progress line
    of it: its set-up and first steps took seconds for a large step). Its first lines (the
    combinations, the table's header) come at once, not with the first row (minutes on a
    pipe): an output closed before them stops the grid before its first combination, nothing
    run and nothing written. A single profile that finished ends 141 too, --json written,
    stderr quiet (the report's lines went where head wanted them: nowhere)."""
    path = os.path.join(tmp, "closed.csv")
    json_path = os.path.join(tmp, "closed.json")
    base = [BIN, "profile", "--device", "cpu", "--data", "usps", "--warmup", "0"]
    grid = ["--grid", "batch=1 2 3", "--csv", path, "--progress", "always"]
    for args, want in [(["--hidden", "5", "--reps", "2"] + grid,
                        "jacnoise: stopped at batch=1 (its output was closed: a broken pipe); nothing written\n"),
                       (["--hidden", "5", "--reps", "2", "--json", json_path], "")]:
        read_end, write_end = os.pipe()
        os.close(read_end)  # closed before the first line
        p = subprocess.run(base + args, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
        os.close(write_end)
        check(p.returncode == 141 and p.stderr == want,
              f"closed stdout, {args[4]}: exit {p.returncode}, stderr {p.stderr!r}")
    check(not os.path.exists(path), "closed stdout before the grid's first line: --csv written")
    check(os.path.exists(json_path), "closed stdout: the single profile's --json is not written")
    # Closed once the first two lines are read: the row printed next (the first combination's,
    # some 2 s after them) cannot be printed, and the rows before it are kept. Which row that is
    # depends on when this process gets to close its end: under a loaded machine a row may land
    # in the pipe first, so the check is that the grid stopped at the combination after the
    # rows it kept, not that it was the first.
    err_path = os.path.join(tmp, "closed.err")
    with open(err_path, "w") as err_file:
        p = subprocess.Popen(base + ["--hidden", "200", "--reps", "100000", "--time-limit", "2"] + grid,
                             stdout=subprocess.PIPE, stderr=err_file, text=True)
        first = [line_from(p, f"a grid to close the output of: line {k}") for k in (1, 2)]
        p.stdout.close()
        ended(p, "a grid whose output was closed", 120)
    with open(err_path) as f:
        err = f.read()
    with open(path) if os.path.exists(path) else open(os.devnull) as f:
        kept = [x["batch"] for x in csv.DictReader(f)]
    done = len(kept)
    want = (f"stopped at batch={done + 1} (its output was closed: a broken pipe); {path} holds the {done} "
            f"combination{'s' if done > 1 else ''} done\n")
    # The grid's progress: the kept combinations' lines, the last erased, then the message.
    check(first[0].startswith("grid: 3 combinations") and first[1].startswith("model ") and p.returncode == 141 and
          kept in (["1"], ["1", "2"]) and err.endswith(f"\x1b[Kjacnoise: {want}") and
          f"combination {done} of 3" in err and f"combination {done + 1} of" not in err,
          f"stdout closed after the grid's first lines {first}: exit {p.returncode}, rows kept {kept}, "
          f"stderr {err[-300:]!r}")


def failed_cell(tmp):
    """A combination that fails (its memory refused: the address space capped below its
    parameters) is named on stdout and the grid goes on, the rows after it profiled; the grid
    then ends 1, one line naming the failure and the rows --csv holds. Not checked under the
    sanitizers, whose allocator aborts on a refused allocation."""
    import resource
    path = os.path.join(tmp, "failed.csv")
    cap = 3 << 30  # 30000,30000 takes 3.6 GB a copy of its parameters

    def capped():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    p = subprocess.run([BIN, "profile", "--device", "cpu", "--data", "usps", "--batch", "1", "--threads", "1",
                        "--reps", "2", "--warmup", "0", "--grid", "hidden=5 30000,30000 6", "--csv", path],
                       capture_output=True, text=True, timeout=300, preexec_fn=capped)
    if "Sanitizer" in p.stderr:
        print("failed cell: not checked under the sanitizers")
        return
    check(p.returncode == 1 and "failed hidden=30000,30000: out of memory" in p.stdout and
          p.stderr.count("\n") == 1 and
          p.stderr.startswith("jacnoise: --grid: 1 of 3 combinations failed, the first hidden=30000,30000: out of memory") and
          p.stderr.endswith(f"; {path} holds the 2 done\n"),
          f"a failed combination: exit {p.returncode}, stdout {p.stdout!r}, stderr {p.stderr!r}")
    with open(path) if os.path.exists(path) else open(os.devnull) as f:
        check([x["model"] for x in csv.DictReader(f)] == ["256-5-10", "256-6-10"],
              "a failed combination: the rows before and after it are not both in --csv")


def main():
    with scratch("jn_profile_") as tmp:
        for label, opts, sizes, B, target, layer, proj, copies in CASES:
            out = os.path.join(tmp, "p.json")
            p = profile_json(COMMON + opts, out, ["BLAS core:", "measured peak", "overhead"], label)
            if p:
                check_profile(label, p, sizes, B, target, layer, proj, copies)
                o = p["variants"][0]["objective"]
                check((o["jac_lambda"], o["jac_noise"], o["input_noise"]) == (0.1, 0.2, 0.1) and
                      [v["name"] for v in p["variants"]] == ["as configured", "penalty off", "noise off", "plain"],
                      f"{label}: variants {[v['name'] for v in p['variants']]}, configured {o}")
                # Written as given: %.17g wrote 0.1 as 0.10000000000000001.
                with open(out) as f:
                    text = f.read()
                check('"jac_lambda": 0.1, "jac_noise": 0.2, "input_noise": 0.1,' in text,
                      f"{label}: objective as written: {text[text.find('objective'):][:120]!r}")
                # Without --time-limit, the rounds asked are the rounds run.
                got = (p["reps"], p.get("reps_asked"), p["warmup"], p.get("warmup_asked"), p.get("time_limit"))
                check(got == (3, 3, 1, 1, 0), f"{label}: reps, reps_asked, warmup, warmup_asked, time_limit {got}")
            print(f"{label}: checked")

        # --time-limit cuts the rounds (at least 3), and says how many it ran. Steps of 0.3 ms at the
        # least here, so that 0.5 s holds under 2,000 of the 100,000: a 256-12-10 net's (4 us) fit
        # 21,000 as predicted here under load, a fifth of them, and a faster CPU could fit them all.
        out = os.path.join(tmp, "limited.json")
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "200", "--batch", "100",
                 "--reps", "100000", "--warmup", "1", "--time-limit", "0.5", "--json", out])
        if r.returncode == 0:
            with open(out) as f:
                reps = json.load(f)["reps"]
            check(3 <= reps < 100000, f"--time-limit 0.5: {reps} rounds")
            check(f"{reps} reps" in r.stdout, "the table does not say how many rounds ran")
        # A limit no round fits in: 3 rounds; the rounds' time is measured on one warm-up round
        # at least.
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "12", "--batch", "8", "--reps", "100",
                 "--warmup", "0", "--time-limit", "1e-9", "--json", out])
        if r.returncode == 0:
            with open(out) as f:
                p = json.load(f)
            check((p["reps"], p["warmup"]) == (3, 1), f"--time-limit 1e-9: {p['reps']} rounds after {p['warmup']} warm-up")
            # The JSON says why too, as the header does: the rounds asked and the limit.
            got = (p.get("reps_asked"), p.get("warmup_asked"), p.get("time_limit"))
            check(got == (100, 0, 1e-9), f"--time-limit 1e-9: JSON's reps_asked, warmup_asked, time_limit {got}")
            # The header says why: "3 reps after 1 warm-up" after --reps 100 --warmup 0 read as a bug.
            check(r.stdout.startswith("profile: 256-12-10, B = 8, cpu backend, 3 reps (of --reps 100: --time-limit "
                                      "1e-09 s) after 1 warm-up (--time-limit times one), median"),
                  f"--time-limit 1e-9: header {r.stdout.splitlines()[:1]}")
        # Counted as the reps are: "after 3 warm-up", "after 0 warm-up". The settings as given
        # (%g wrote 0.1000001 as 0.1 and 123456.75 as 123457).
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--batch", "4", "--reps", "2",
                 "--warmup", "0", "--jac-lambda", "0.1000001", "--jac-noise", "0.3000001", "--input-noise", "123456.75"])
        check(r.stdout.startswith("profile: 256-5-10, B = 4, cpu backend, 2 reps after 0 warm-ups, median"),
              f"--warmup 0: header {r.stdout.splitlines()[:1]}")
        check("step: penalty hidden1, lambda 0.1000001, s_J 0.3000001, copies 1; input noise 123456.75;" in r.stdout,
              f"the step's settings: {[x for x in r.stdout.splitlines() if x.startswith('step:')]}")
        # The help says so, where --warmup's line gives the rounds as asked.
        r = run(["profile", "--help"])
        check(re.search(r"--time-limit S +[^\n]*warm-up rounds \(one at least, --warmup 0 or not\)", r.stdout),
              "profile --help: --time-limit does not say that it runs one warm-up round at least")

        # --progress always: the rounds on stderr (at most ten lines a second, the first of
        # each kind always), each line erased, the last one too; stdout holds the report
        # alone. Without a terminal (auto) stderr stays empty.
        small = ["profile", "--device", "cpu", "--data", "usps", "--hidden", "12", "--batch", "8", "--reps", "4",
                 "--warmup", "1"]
        r = run(small + ["--progress", "always"])
        check("profile: warm-up round 1 of 1" in r.stderr and "profile: round 1 of 4" in r.stderr,
              f"--progress always: stderr {r.stderr!r}")
        check(r.stderr.endswith("\033[K"), f"--progress always: the last line is not erased: {r.stderr[-40:]!r}")
        check("round 1 of" not in r.stdout and "GEMM floor" in r.stdout, "--progress always: progress on stdout")
        # A grid's line says which combination of how many is running (a long grid's rounds
        # alone said nothing of the rest); a skipped one takes its number.
        r = run(small + ["--progress", "always", "--grid", "batch=4 8 60000 2", "--csv",
                         os.path.join(tmp, "progress.csv")])
        check("profile: combination 1 of 4: warm-up round 1 of 1" in r.stderr and
              "profile: combination 2 of 4: round 1 of 4" in r.stderr and "combination 3 of 4" not in r.stderr and
              "profile: combination 4 of 4: round 1 of 4" in r.stderr, f"--progress always, grid: stderr {r.stderr!r}")
        r = run(small + ["--seed", "18446744073709551615", "--lr", "0.25", "--loss", "squared", "--json", out])
        check(r.stderr == "", f"progress without a terminal: stderr {r.stderr!r}")
        if r.returncode == 0:
            # No penalty and no noise: one variant, its own plain step, every ratio 1.
            with open(out) as f:
                p = json.load(f)
            o = p["overhead"]
            check([v["name"] for v in p["variants"]] == ["as configured"] and
                  (o["time_ratio"], o["flop_ratio"], o["floor_ratio"]) == (1, 1, 1),
                  f"plain configuration: variants {[v['name'] for v in p['variants']]}, overhead {o}")
            # The seed, lr and loss, beside reps as a grid's CSV row ends with them (the report
            # did not say them).
            check((p.get("seed"), p.get("lr"), p.get("loss")) == (18446744073709551615, 0.25, "squared"),
                  f"--json: seed, lr, loss {p.get('seed')!r}, {p.get('lr')!r}, {p.get('loss')!r}")

        # A grid: hidden1 ignores the estimator, so 2 batches x (hidden1, output K=1, output exact).
        path = os.path.join(tmp, "grid.csv")
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "12", "--jac-lambda", "0.1", "--reps", "2",
                 "--warmup", "0",
                 "--grid", "batch=4 8; jac-target=hidden1 output hidden:2; jac-proj=1 exact", "--csv", path])
        check("skipped" in r.stdout and "hidden:2" in r.stdout, "grid: the impossible hidden:2 is not reported")
        # Under the table, as under the variants table: its /floor and overhead columns are the
        # rounds' ratios, not the quotients of the medians printed beside them.
        check(r.stdout.endswith("\n/floor, overhead: the median of each round's step over that round's floor, or plain "
                                "step, not us/step over floor us, or plain us (under a changing load the two differ; "
                                "noise can put /floor under 1x)\n"),
              f"grid: no line under the table on its ratios: {r.stdout}")
        check("skipped batch=8 jac-target=hidden1 jac-proj=exact: the same step as batch=8 jac-target=hidden1 jac-proj=1\n"
              in r.stdout, f"grid: a repeated step is skipped without a word: {r.stdout}")
        # A penalty option without --jac-lambda profiles the plain step: one warning, as train gives.
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "3", "--batch", "4", "--jac-noise", "0.3",
                 "--jac-target", "output", "--reps", "1", "--warmup", "0"])
        check(r.stderr == "jacnoise: warning: --jac-target, --jac-noise change nothing without the penalty "
              "(--jac-lambda 0); noise on the training input is --input-noise\n" and "no penalty" in r.stdout,
              f"profile, --jac-noise without --jac-lambda: stderr {r.stderr!r}")
        # A grid gives it once, where every combination would: not where the grid's jac-lambda
        # is above 0 in one (the noise counts there).
        for grid, warned in (("batch=1 2", True), ("jac-lambda=0", True), ("jac-lambda=0 0.1", False)):
            q = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "3", "--jac-noise", "0.3",
                     "--reps", "1", "--warmup", "0", "--grid", grid, "--csv", os.path.join(tmp, "inert.csv")])
            check(q.stderr == ("jacnoise: warning: --jac-noise changes nothing without the penalty (--jac-lambda 0); "
                               "noise on the training input is --input-noise\n" if warned else ""),
                  f"profile --grid {grid!r}, --jac-noise without --jac-lambda: stderr {q.stderr!r}")
        # A grid over an option that is inert in some combinations: each combination alone warns
        # (naming --jac-target or not), so the grid names the options all of them leave inert.
        q = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "3", "--jac-noise", "0.3", "--jac-proj",
                 "4", "--reps", "1", "--warmup", "0", "--grid", "jac-target=hidden1 output", "--csv",
                 os.path.join(tmp, "inert.csv")])
        check(q.stderr == "jacnoise: warning: --jac-proj, --jac-noise change nothing without the penalty "
              "(--jac-lambda 0); noise on the training input is --input-noise\n",
              f"profile --grid over jac-target without --jac-lambda: stderr {q.stderr!r}")
        with open(path) as f:
            rows = list(csv.DictReader(f))
        got = [(int(x["batch"]), x["estimator"]) for x in rows]
        want = [(b, e) for b in (4, 8) for e in ("hidden1", "output K=1", "output exact")]
        check(got == want, f"grid rows {got}, expected {want}")
        for x in rows:
            target = x["target"]
            proj = 0 if x["estimator"].endswith("exact") else 1
            f = cost([D, 12, C], int(x["batch"]), 0.1, target, 1, proj, 1)
            check(close(float(x["flops"]), round(sum(f.values()))), f"grid row {x['estimator']}: flops {x['flops']}")
            check(float(x["step_us"]) > 0 and float(x["floor_us"]) > 0 and float(x["overhead_ratio"]) > 0,
                  f"grid row {x['estimator']}: times")
            check_row(x, 1, sum(cost([D, 12, C], int(x["batch"]), 0, target, 1, proj, 1).values()))
            # What the row was measured under, as the JSON says it: grids concatenated stay apart.
            check((x["precision"], x["reps"], x["warmup"]) == ("fp32", "2", "0") and "," in x["device"] and
                  x["library"], f"grid row {x['estimator']}: conditions {x}")
            # Then what changes no time but a grid may vary (the table did not say them: two
            # rows of a grid over the seed could not be told apart).
            check((x["seed"], x["lr"], x["loss"]) == ("1", "0.01", "xent") and list(x)[-3:] == ["seed", "lr", "loss"],
                  f"grid row {x['estimator']}: seed, lr, loss {x}")
        seeds = os.path.join(tmp, "seeds.csv")
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--reps", "1", "--warmup", "0",
                 "--progress", "never", "--lr", "0.25", "--grid", "seed=3 18446744073709551615; loss=squared",
                 "--csv", seeds])
        with open(seeds) as f:
            got = [(x["seed"], x["lr"], x["loss"]) for x in csv.DictReader(f)]
        check(got == [("3", "0.25", "squared"), ("18446744073709551615", "0.25", "squared")],
              f"grid over the seed: seed, lr, loss {got}")

        plot_profile(tmp, path)

        # A grid file as an editor writes it (a byte-order mark, CRLF) is read whole.
        bom_grid = os.path.join(tmp, "bom.grid")
        with open(bom_grid, "wb") as f:
            f.write(b"\xef\xbb\xbfbatch=4 8\r\n")
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--reps", "2", "--warmup", "0",
                 "--grid", bom_grid, "--csv", os.path.join(tmp, "bom.csv")])
        if r.returncode == 0:
            with open(os.path.join(tmp, "bom.csv")) as f:
                rows = list(csv.DictReader(f))
            check([x["batch"] for x in rows] == ["4", "8"], "grid file with a byte-order mark: rows")
            for x in rows:  # plain: its own reference
                check_row(x, 1, sum(cost([D, 5, C], int(x["batch"]), 0, "", 1, 1, 1).values()))
                check((x["target"], x["estimator"]) == ("none", "-") and x["plain_us"] == x["step_us"] and
                      x["plain_floor_us"] == x["floor_us"] and x["plain_ratio_to_floor"] == x["ratio_to_floor"] and
                      float(x["overhead_ratio"]) == 1,
                      f"plain grid row: {x}")
        # --max-gflop between the two batches' costs: the larger is skipped.
        costs = [sum(cost([D, 5, C], b, 0, "", 1, 1, 1).values()) * 1e-9 for b in (4, 8)]
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--reps", "2", "--warmup", "0",
                 "--max-gflop", str(sum(costs) / 2), "--grid", "batch=4 8", "--csv", os.path.join(tmp, "max.csv")])
        if r.returncode == 0:
            with open(os.path.join(tmp, "max.csv")) as f:
                check([x["batch"] for x in csv.DictReader(f)] == ["4"] and "skipped batch=8" in r.stdout,
                      f"--max-gflop between the costs {costs}: {r.stdout}")
        # The settings as given, as the JSON writes them: %g wrote 0.1000001 as 0.1, two rows
        # alike (plot_profile.py refused the table), and 123456.75 as 123457.
        settings_csv = os.path.join(tmp, "settings.csv")
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--batch", "4", "--reps", "1",
                 "--warmup", "0", "--jac-noise", "0.3000001", "--input-noise", "123456.75",
                 "--grid", "jac-lambda=0.1 0.1000001", "--csv", settings_csv])
        if r.returncode == 0:
            with open(settings_csv) as f:
                got = [(x["jac_lambda"], x["jac_noise"], x["input_noise"]) for x in csv.DictReader(f)]
            check(got == [("0.1", "0.3000001", "123456.75"), ("0.1000001", "0.3000001", "123456.75")],
                  f"grid settings as written: {got}")
        # Each printed row names the grid's values its columns do not show: two rows over
        # jac-lambda alone printed the same model, B and penalty, not telling which was which.
        printed = [x for x in r.stdout.splitlines() if x.startswith("256-5-10 ")]
        check([x.split("  ")[-1] for x in printed] == ["jac-lambda=0.1", "jac-lambda=0.1000001"],
              f"grid rows over jac-lambda: {printed}")
        nul_grid = os.path.join(tmp, "nul.grid")
        with open(nul_grid, "wb") as f:
            f.write(b"# 4 8\nbatch=4\0 8\n")
        progress_grid = os.path.join(tmp, "progress.grid")
        with open(progress_grid, "w") as f:
            f.write("batch=4\nprogress=always never\n")
        twice_grid = os.path.join(tmp, "twice.grid")
        with open(twice_grid, "w") as f:
            f.write("batch=4\n\nseed=1 2; batch=8\n")
        # A file given by mistake (a data set) is refused by its size, as a --config is, not read whole.
        big_grid = os.path.join(tmp, "big.grid")
        with open(big_grid, "wb") as f:
            f.write(b"batch=4\n" + b"# padding\n" * 110000)
        # A --config file's csv= is its empty name, refused before the grid runs (it ran every
        # combination, then failed to write its table to '').
        empty_csv_conf = os.path.join(tmp, "empty-csv.conf")
        with open(empty_csv_conf, "w") as f:
            f.write("grid=batch=4\ncsv=\n")

        # Bad input: one line, non-zero exit, nothing written.
        bad = os.path.join(tmp, "bad.csv")
        kept = {os.path.join(tmp, "kept.grid"): "batch=4\n", os.path.join(tmp, "kept.conf"): "reps=1\n"}
        for path, text in kept.items():
            with open(path, "w") as f:
                f.write(text)
        grid_file, conf = kept
        for args, code, words in [
            # An output that is a file the command reads would destroy it.
            (["--grid", grid_file, "--csv", grid_file], 2, f"--csv {grid_file}: is the --grid file"),
            (["--config", conf, "--json", conf], 2, f"--json {conf}: is the --config file"),
            (["--config", conf, "--grid", "batch=4", "--csv", conf], 2, f"--csv {conf}: is the --config file"),
            (["--max-gflop", "5"], 2, "--max-gflop: only a --grid skips"),
            (["--grid", "batch=4 x"], 2, "--batch"),
            (["--grid", "data=mnist"], 2, "cannot vary"),
            # The keys a grid takes: the options it may not vary (--data, --threads) were offered.
            (["--grid", "bach=4"], 2, "--grid: line 1: --bach: not a grid key (did you mean --batch?); grid keys: "
                                      "--hidden --loss --batch"),
            (["--grid", "epochs=4"], 2, "--epochs: not a grid key; grid keys: --hidden"),
            (["--grid", "batch"], 2, "key=value"),
            (["--grid", "batch=4", "--json", os.path.join(tmp, "x.json")], 2, "--json"),
            (["--reps", "0"], 2, "--reps"),
            (["--csv", bad], 2, "only a --grid writes a table"),
            # Output paths are checked before the data load and the peak measurement.
            (["--grid", "batch=4", "--csv", os.path.join(tmp, "nodir", "p.csv")], 2, "no folder"),
            (["--grid", "batch=4", "--csv", tmp], 2, "is a folder"),
            (["--json", os.path.join(tmp, "nodir", "p.json")], 2, "--json"),
            # The machine every row shares: its threads and precision are set once.
            (["--grid", "threads=1 2"], 2, "cannot vary"),
            (["--grid", "batch=4; precision=fp32 tf32"], 2, "cannot vary"),
            # The grid has one progress line: a key of no combination.
            (["--grid", progress_grid], 2, f"--grid {progress_grid}: line 2: --progress cannot vary within a grid"),
            (["--grid", "=4 8"], 2, "no key"),
            (["--grid", ""], 2, "--grid: empty"),
            (["--grid", "batch=4", "--csv", ""], 2, "--csv '': empty file name"),
            (["--json", ""], 2, "--json '': empty file name"),
            (["--config", empty_csv_conf], 2, f"--config {empty_csv_conf}: line 2: --csv '': empty file name"),
            (["--grid", "batch=4", "--json", os.path.join(tmp, "p.json")], 2, "--json: writes a single profile"),
            (["--grid", os.path.join(tmp, "no.grid")], 2, "no such file"),
            (["--grid", nul_grid], 2, "line 2, byte offset 13: a NUL byte"),
            (["--grid", big_grid], 2, f"--grid {big_grid}: larger than 1 MiB"),
            # A repeat is a slip: said where, not run as rows skipped as repeats.
            (["--grid", "batch=4 8 4"], 2, "--grid: line 1: batch: 4 given twice"),
            (["--grid", twice_grid], 2, f"--grid {twice_grid}: line 3, entry 2: batch given twice (first on line 1)"),
            # Entries split by ';' share a line: each was "line 1", the bad one not told apart.
            (["--grid", "batch=4; reps=x; seed=1"], 2, "--grid: line 1, entry 2: --reps"),
            (["--grid", "reps=1 2; batch=4;; reps=3"], 2, "--grid: line 1, entry 4: reps given twice (first on line 1, "
                                                         "entry 1)"),
            # 32^4 combinations: refused, not overflowed or allocated.
            (["--grid", "; ".join(f"{k}={' '.join(str(i) for i in range(1, 33))}"
                                  for k in ("seed", "batch", "jac-copies", "reps"))], 2, "more than"),
        ]:
            out = ["--csv", bad] if "--grid" in args and "--csv" not in args else []
            r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5"] + out + args, expect=code)
            lines = r.stderr.strip().splitlines()
            check(len(lines) == 1 and words in lines[0], f"{args}: stderr {r.stderr!r}")
            check(not os.path.exists(bad), f"{args}: wrote {bad}")
        # One training example, not "the 1 training examples".
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--train-limit", "1", "--batch", "100"],
                expect=1)
        check(r.stderr == "jacnoise: --batch 100: larger than the 1 training example\n", f"stderr {r.stderr!r}")
        # Refused in its one line, without the warnings of a profile that goes on (they came first).
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--train-limit", "1", "--batch", "100",
                 "--jac-noise", "0.3", "--threads", "1024"], expect=1)
        check(r.stderr == "jacnoise: --batch 100: larger than the 1 training example\n",
              f"--batch too large, with a warning's options: stderr {r.stderr!r}")
        # TF32 where --device auto finds no GPU: train's refusal, exit 1, as README's --precision says
        # (it was exit 2, in words of its own).
        if not cuda_device_visible():
            r = run(["profile", "--data", "usps", "--hidden", "5", "--precision", "tf32"], expect=1)
            check(r.stderr.startswith("jacnoise: --precision tf32: only the CUDA backend has TF32, and --device auto "
                                      "chose the CPU (") and r.stderr.count("\n") == 1, f"tf32, auto: {r.stderr!r}")
        # An existing --csv that is no profile table (a sweep's results.csv) is refused, kept;
        # a profile table there is the grid's to replace (below: bad.csv).
        foreign = os.path.join(tmp, "results.csv")
        kept[foreign] = "run,seed,valid_error\nr1,1,2.5\n"
        with open(foreign, "w") as f:
            f.write(kept[foreign])
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--grid", "batch=4", "--csv", foreign],
                expect=2)
        check(r.stderr == f"jacnoise: --csv {foreign}: exists and is not a profile table (its first line is not one's "
                          "header); give another file, or remove it\n", f"--csv onto a sweep's table: {r.stderr!r}")
        # So is a --json that is no profile report (a run's config.txt); p.json above, a report
        # written three times, was replaced.
        foreign = os.path.join(tmp, "config.txt")
        kept[foreign] = "hidden=5\nbatch=4\n"
        with open(foreign, "w") as f:
            f.write(kept[foreign])
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--json", foreign], expect=2)
        check(r.stderr == f"jacnoise: --json {foreign}: exists and is not a profile report (it does not begin as one, "
                          "'{\"model\": ...'); give another file, or remove it\n", f"--json onto a run's config: {r.stderr!r}")
        for path, text in kept.items():
            with open(path) as f:
                check(f.read() == text, f"{path}: overwritten by a refused profile")
        # A FIFO or a folder as --grid is refused at once: opening a FIFO must not wait for a writer.
        fifo = os.path.join(tmp, "grid.fifo")
        os.mkfifo(fifo)
        for path, words in [(fifo, "not a regular file"), (tmp, "is a folder")]:
            try:
                r = subprocess.run([BIN, "profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--csv", bad,
                                    "--grid", path], capture_output=True, text=True, timeout=60)
                check(r.returncode == 2 and r.stderr.count("\n") == 1 and "--grid" in r.stderr and words in r.stderr,
                      f"--grid {path}: exit {r.returncode}, stderr {r.stderr!r}")
            except subprocess.TimeoutExpired:
                check(False, f"--grid {path}: still waiting after 60 s")
            check(not os.path.exists(bad), f"--grid {path}: wrote {bad}")

        # A grid whose every combination is skipped fails and writes nothing: a batch larger
        # than the training set, which only the data loaded says.
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--jac-lambda", "0.1", "--reps", "2",
                 "--warmup", "0", "--train-limit", "5", "--valid", "0", "--grid", "batch=6", "--csv", bad], expect=1)
        check(r.stdout.startswith(f"grid: 1 combination; results in {bad}\n") and
              "skipped batch=6: --batch 6: larger than the 5 training examples" in r.stdout and
              "its 1 combination skipped;" in r.stderr and len(r.stderr.splitlines()) == 1,
              f"all skipped: stdout {r.stdout!r}, stderr {r.stderr!r}")
        check(not os.path.exists(bad), "all skipped: wrote the CSV")
        # A target no combination's model has, the command line valid alone (its default
        # target): refused before the data loads, exit 2, naming the first combination (it ran,
        # to skip them all, exit 1).
        for grid, first in (("jac-target=hidden:2", "jac-target=hidden:2"),
                            ("hidden=5 7; jac-target=hidden:2 hidden:3", "hidden=5 jac-target=hidden:2")):
            r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--jac-lambda", "0.1",
                     "--grid", grid, "--csv", bad], expect=2)
            check(r.stderr == f"jacnoise: --grid: every combination is refused, the first ({first}): --jac-target: "
                              "hidden:2 does not exist; this model has one hidden layer, hidden:1\n" and
                  not r.stdout and not os.path.exists(bad), f"--grid {grid!r}, no model has the target: {r.stderr!r}")
        # The command line's options are checked with the grid's values in place: a target that
        # the default --hidden lacks is a grid over models that have it, the one that lacks it
        # skipped; where no combination has it, refused before the data loads, exit 2.
        r = run(["profile", "--device", "cpu", "--data", "usps", "--jac-lambda", "0.1", "--jac-target", "hidden:2",
                 "--reps", "2", "--warmup", "0", "--grid", "hidden=5,5 7", "--csv", bad])
        with open(bad) if os.path.exists(bad) else open(os.devnull) as f:
            check(r.returncode == 0 and [x["model"] for x in csv.DictReader(f)] == [f"{D}-5-5-{C}"] and
                  "skipped hidden=7: --jac-target: hidden:2 does not exist" in r.stdout,
                  f"--jac-target hidden:2 over a grid of --hidden: exit {r.returncode}, stdout {r.stdout!r}, "
                  f"stderr {r.stderr!r}")
        if os.path.exists(bad):
            os.unlink(bad)
        r = run(["profile", "--device", "cpu", "--data", "usps", "--jac-lambda", "0.1", "--jac-target", "hidden:2",
                 "--grid", "hidden=5 7", "--csv", bad], expect=2)
        check(r.stderr == "jacnoise: --jac-target: hidden:2 does not exist; this model has one hidden layer, hidden:1\n" and
              not r.stdout and not os.path.exists(bad), f"--jac-target hidden:2, no grid's model has it: {r.stderr!r}")
        # 10^5 combinations, the most a grid may have: taken (then all skipped by a cost cap
        # below every step's, so none is profiled).
        most = "; ".join(f"{k}={' '.join(str(i) for i in range(first, first + 10))}"
                         for k, first in (("seed", 1), ("batch", 1), ("reps", 1), ("warmup", 0), ("jac-copies", 1)))
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--max-gflop", "1e-12", "--grid", most,
                 "--csv", bad], expect=1)
        check("all 100000 combinations skipped" in r.stderr, f"a grid of 100000 combinations: stderr {r.stderr!r}")
        for again in (False, True):  # the second replaces the first's table, saved by a spreadsheet (a byte-order mark)
            if again and os.path.exists(bad):
                with open(bad, "rb") as f:
                    table = f.read()
                with open(bad, "wb") as f:
                    f.write(b"\xef\xbb\xbf" + table)
            r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--train-limit", "50", "--reps",
                     "2", "--warmup", "0", "--grid", "batch=10 100", "--csv", bad])
        check("skipped batch=100" in r.stdout, f"batch past the training set: stdout {r.stdout!r}")
        with open(bad) if os.path.exists(bad) else open(os.devnull) as f:
            check([x["batch"] for x in csv.DictReader(f)] == ["10"], "batch past the training set: rows")

        interrupted(tmp)
        closed_output(tmp)
        failed_cell(tmp)

        # A --json that cannot be written after the profile (here a file-size limit, as a full
        # disk) still leaves the table on stdout: minutes of profile are not lost with it.
        import resource
        unwritable = os.path.join(tmp, "unwritable.json")
        args = ["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--reps", "2", "--warmup", "0",
                "--json", unwritable]
        r = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=300,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64)))
        check(r.returncode == 1 and "GEMM floor" in r.stdout and r.stderr.count("\n") == 1 and
              "File too large" in r.stderr and not os.path.exists(unwritable),
              f"--json unwritable: exit {r.returncode}, stdout {r.stdout[:200]!r}, stderr {r.stderr!r}")
        # A folder at its temporary file's name, which the write could not remove, is refused
        # before the profile, which it used to fail at its end.
        os.mkdir(unwritable + ".tmp")
        r = run(args, expect=2)
        check(not r.stdout and r.stderr.count("\n") == 1 and f"{unwritable}.tmp is a folder" in r.stderr,
              f"--json with a folder at its .tmp: stdout {r.stdout[:200]!r}, stderr {r.stderr!r}")
        # A single profile writes no CSV, so the default --csv path (here a folder) is no concern.
        os.mkdir(os.path.join(tmp, "profile.csv"))
        r = run(["profile", "--device", "cpu", "--data", "usps", "--hidden", "5", "--reps", "2", "--warmup", "0"], cwd=tmp)
        check("GEMM floor" in r.stdout, f"single profile beside a folder profile.csv: {r.stderr!r}")
    return finish("profile")


if __name__ == "__main__":
    sys.exit(main())
