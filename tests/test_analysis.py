#!/usr/bin/env python3
"""tools/plot_analysis.py end to end: two tiny USPS runs (plain and with the Jacobian penalty),
evaluated and drawn: the three PNGs exist and are PNG images, the cached eval JSON holds the
input-noise curve from 0 to 0.5 with the clean error at std 0, a second call reuses the cache,
an eval JSON given as a row is drawn without the program and copied beside the pictures, and a
bad row (a missing run, a folder without best.ckpt, refused before any row is evaluated, a JSON
that is not an eval's or has a field of the wrong type or range) is refused with one line before
any picture is written, as is an eval without test examples.
Two rows that would share one eval JSON are refused; a cached evaluation of another checkpoint,
or of one written since, or at other noise levels and curvature step (an eval JSON given as the
row before) is redone, and with --force one of the same checkpoint. The numbers drawn
(histograms, saturated and linear fractions, the Jacobian and curvature bars, the noise curves)
are those `jacnoise eval` prints for the rows' checkpoints, each in its row's place and layer's
panel and in one colour throughout; rows evaluated with other --curv-noise steps have each
curvature bar name its own s, and a row's noise levels given out of order are drawn by std.
Rows evaluated on different test sets (another data set, or fewer examples) are refused in one
line before any picture is written. Skipped (77) without matplotlib."""
import json
import os
import re
import subprocess
import sys

from harness import BIN, check, finish, run, scratch

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "plot_analysis.py")


def drawn(args, env):
    """{file name: figure} that plot_analysis draws for its command-line arguments, unsaved."""
    sys.path.insert(0, os.path.dirname(TOOL))
    import plot_analysis
    figs = {}
    argv, save_png = sys.argv, plot_analysis.tool_files.save_png
    sys.argv = [TOOL] + args
    plot_analysis.tool_files.save_png = lambda fig, path: figs.__setitem__(os.path.basename(path), fig)
    os.environ["JACNOISE"] = env["JACNOISE"]
    try:
        plot_analysis.main()
    finally:
        sys.argv, plot_analysis.tool_files.save_png = argv, save_png
    return figs


def evaluated_apart(d, out, env):
    """A row evaluated apart, with another --curv-noise step and its --eval-noise levels out of
    order: the curvature panel names each bar's s, not the first row's s for all, and the noise
    curve runs through the levels by std."""
    other = os.path.join(d, "apart.json")
    text = run(["eval", "--checkpoint", os.path.join(d, "nj", "best.ckpt"), "--curv-noise", "0.03",
                "--eval-noise", "0.5,0,0.2", "--threads", "1"]).stdout
    with open(other, "w") as f:
        f.write(text)
    figs = drawn(["--out", os.path.join(d, "apart"), f"MLP={out}/eval-MLP.json", f"NJ={other}"], env)
    import plot_analysis
    ax = figs["jacobian.png"].axes[1]
    texts = [t.get_text() for t in ax.texts]
    check("s = 0.1" not in ax.get_ylabel() and len(texts) == 2 and texts[0].endswith("s = 0.1") and
          texts[1].endswith("s = 0.03"), f"curvature at s 0.1 and 0.03: axis {ax.get_ylabel()!r}, bars {texts}")
    line = figs["noise.png"].axes[0].get_lines()[1]
    levels = sorted((x["std"], x["error"]) for x in json.loads(text)["splits"]["test"]["input_noise"])
    drawn_levels = list(zip(line.get_xdata(), line.get_ydata()))
    check(drawn_levels == levels, f"noise.png NJ: {drawn_levels}, by std {levels}")
    # Its copy beside the pictures is of the checkpoint, but no evaluation this tool makes of
    # it: the row given as the run is evaluated again.
    p = subprocess.run([sys.executable, TOOL, "--out", os.path.join(d, "apart"), "--threads", "1", f"NJ={d}/nj"],
                       capture_output=True, text=True, env=env)
    with open(os.path.join(d, "apart", "eval-NJ.json")) as f:
        again = json.load(f)
    check(p.returncode == 0 and "evaluating again" in p.stdout and again["curv_noise"] == 0.1 and
          [x["std"] for x in again["splits"]["test"]["input_noise"]] == plot_analysis.NOISE_STDS,
          f"a cache of other levels and step: exit {p.returncode}, {p.stdout[-300:]!r} {p.stderr[-300:]!r}")


def drawn_as_evaluated(d, env):
    """The numbers in the pictures are those `jacnoise eval --eval-noise` prints for the rows'
    checkpoints: each hidden layer's histogram (in %, on the 20 bins over [-1, 1]) with its
    saturated and linear fractions in the legend, the Jacobian and curvature bars, the error
    against the noise's std; each row under its name, each layer in its panel."""
    sys.path.insert(0, os.path.dirname(TOOL))
    import plot_analysis
    from matplotlib.colors import to_rgba
    from matplotlib.patches import StepPatch
    rows = [("MLP", os.path.join(d, "mlp", "best.ckpt")), ("MLP+N+J", os.path.join(d, "nj", "best.ckpt"))]
    stds = ",".join(map(str, plot_analysis.NOISE_STDS))
    evals = [json.loads(run(["eval", "--checkpoint", ck, "--eval-noise", stds, "--threads", "1"]).stdout)["splits"]["test"]
             for _, ck in rows]
    figs = drawn(["--out", os.path.join(d, "drawn"), "--threads", "1"] + [f"{n}={ck}" for n, ck in rows], env)
    check(sorted(figs) == ["jacobian.png", "noise.png", "saturation.png"], f"pictures drawn: {sorted(figs)}")
    if len(figs) != 3:
        return
    close = lambda a, b: len(a) == len(b) and all(abs(x - y) <= 1e-9 * max(1, abs(y)) for x, y in zip(a, b))
    panels = figs["saturation.png"].axes
    check(len(panels) == 2, f"saturation.png: {len(panels)} panels for 2 hidden layers")
    colours = {name: set() for name, _ in rows}  # each row's, over every panel and picture
    for l, ax in enumerate(panels):
        steps = [p for p in ax.patches if isinstance(p, StepPatch)]
        want = [(name, ev["hidden"][l]) for (name, _), ev in zip(rows, evals) if l < len(ev["hidden"])]
        check(len(steps) == len(want), f"saturation.png panel {l + 1}: {len(steps)} histograms, {len(want)} rows")
        for step, (name, h) in zip(steps, want):
            values, edges, _ = step.get_data()
            check(close(values, [100 * v for v in h["histogram"]]) and close(edges, [-1 + b / 10 for b in range(21)]),
                  f"saturation.png panel {l + 1}, {name}: {list(values)} on {list(edges)}, eval {h['histogram']}")
            label = step.get_label()
            colours[name].add(to_rgba(step.get_edgecolor()))
            check(label.startswith(name + " ") and f"saturated {100 * h['saturated']:.1f}%" in label and
                  f"linear {100 * h['linear']:.1f}%" in label, f"saturation.png panel {l + 1}: {label!r}, eval {h}")
    for ax, key in zip(figs["jacobian.png"].axes, ("jacobian_sq", "curvature")):
        heights = [bar.get_height() for bar in ax.patches]
        for (name, _), bar in zip(rows, ax.patches):
            colours[name].add(to_rgba(bar.get_facecolor()))
        check(close(heights, [ev[key] for ev in evals]) and
              [t.get_text() for t in ax.get_xticklabels()] == [name for name, _ in rows],
              f"jacobian.png {key}: bars {heights}, eval {[ev[key] for ev in evals]}")
    lines = figs["noise.png"].axes[0].get_lines()
    check([line.get_label() for line in lines] == [name for name, _ in rows], "noise.png: the curves' names")
    for line, ev in zip(lines, evals):
        x, y = list(line.get_xdata()), list(line.get_ydata())
        check(close(x, [v["std"] for v in ev["input_noise"]]) and close(y, [v["error"] for v in ev["input_noise"]]),
              f"noise.png {line.get_label()}: {list(zip(x, y))}, eval {ev['input_noise']}")
        colours[line.get_label()].add(to_rgba(line.get_color()))
    check(all(len(c) == 1 for c in colours.values()), f"a row drawn in several colours: {colours}")


def main():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skipped: matplotlib is not installed (Debian: python3-matplotlib)")
        return 77
    # The help's example of a row's eval JSON is the name the tool gives it: the help said each
    # other character became -, where a run of them is one - and none is kept at either end.
    sys.path.insert(0, os.path.dirname(TOOL))
    import plot_analysis
    usage = " ".join(subprocess.run([sys.executable, TOOL, "--help"], capture_output=True, text=True).stdout.split())
    named = re.search(r"'([^']+)' as (eval-\S+\.json)", usage)
    check(named is not None and f"eval-{plot_analysis.slug(named.group(1))}.json" == named.group(2),
          f"--help's eval JSON name of a row: {named and named.groups()}")
    tiny = ["--data", "usps", "--hidden", "16", "--train-limit", "300", "--valid", "200", "--epochs", "2",
            "--threads", "1", "--progress", "never"]
    with scratch("jacnoise-analysis-") as d:
        run(["train", "--out", os.path.join(d, "mlp")] + tiny)
        # Two hidden layers: one panel of saturation.png holds both rows, the other one.
        run(["train", "--out", os.path.join(d, "nj"), "--jac-lambda", "0.01", "--jac-noise", "0.1"] + tiny[:2] +
            ["--hidden", "16,8"] + tiny[4:])
        out = os.path.join(d, "plots")
        cmd = [sys.executable, TOOL, "--out", out, "--title", "tiny", "--threads", "1",
               f"MLP={d}/mlp", f"MLP+N+J={d}/nj/best.ckpt"]
        env = dict(os.environ, JACNOISE=BIN)
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        check(p.returncode == 0, f"plot_analysis failed: {p.stderr}")
        # Each row's evaluation is said as it starts: one of MNIST takes 35 s and more.
        said = [line for line in p.stdout.splitlines() if ": evaluating " in line]
        check(said == [f"plot_analysis: MLP: evaluating {d}/mlp/best.ckpt (row 1 of 2)",
                       f"plot_analysis: MLP+N+J: evaluating {d}/nj/best.ckpt (row 2 of 2)"],
              f"the rows' evaluations said as {said}")
        for name in ["saturation.png", "jacobian.png", "noise.png"]:
            path = os.path.join(out, name)
            ok = os.path.exists(path)
            check(ok, f"{name} not written")
            if ok:
                with open(path, "rb") as f:
                    head = f.read(8)
                check(head == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG")
                check(os.path.getsize(path) > 10000, f"{name} is only {os.path.getsize(path)} bytes")
        with open(os.path.join(out, "eval-MLP+N+J.json")) as f:
            ev = json.load(f)
        levels = ev["splits"]["test"]["input_noise"]
        check([x["std"] for x in levels][0] == 0 and levels[-1]["std"] == 0.5 and len(levels) == 11,
              f"noise levels {[x['std'] for x in levels]}")
        check(levels[0]["errors"] == ev["splits"]["test"]["errors"], "std 0 is not the clean error")
        drawn_as_evaluated(d, env)
        evaluated_apart(d, out, env)
        # A second call reuses the cached evaluation: it works without a program to run.
        p = subprocess.run(cmd, capture_output=True, text=True, env=dict(env, JACNOISE="/nonexistent"))
        check(p.returncode == 0, f"second call did not reuse the cache: {p.stderr}")
        # Rows measured apart, drawn together from their eval JSON files.
        joined = os.path.join(d, "joined")
        p = subprocess.run([sys.executable, TOOL, "--out", joined, f"earlier MLP={out}/eval-MLP.json",
                            f"MLP+N+J={out}/eval-MLP+N+J.json"], capture_output=True, text=True,
                           env=dict(env, JACNOISE="/nonexistent"))
        check(p.returncode == 0, f"eval JSON rows: {p.stderr}")
        check(os.path.exists(os.path.join(joined, "noise.png")), "eval JSON rows: noise.png not written")
        copied = os.path.join(joined, "eval-earlier-MLP.json")
        check(os.path.exists(copied), "eval JSON rows: eval-earlier-MLP.json not copied beside the pictures")
        if os.path.exists(copied):
            with open(copied) as f, open(os.path.join(out, "eval-MLP.json")) as g:
                check(json.load(f) == json.load(g), "eval JSON rows: the copy differs")
        # Rows of different test sets (an MNIST row beside a USPS one, or a row on fewer
        # examples) do not compare: one line naming both, nothing drawn.
        with open(os.path.join(out, "eval-MLP.json")) as f:
            usps = json.load(f)
        for field, value in (("data", "mnist"), ("examples", 100)):
            other = json.loads(json.dumps(usps))
            (other if field == "data" else other["splits"]["test"])[field] = value
            path = os.path.join(d, f"other-{field}.json")
            with open(path, "w") as f:
                json.dump(other, f)
            pics = os.path.join(d, f"mixed-{field}")
            bad = subprocess.run([sys.executable, TOOL, "--out", pics, f"USPS={out}/eval-MLP.json", f"other={path}"],
                                 capture_output=True, text=True, env=env)
            check(bad.returncode == 1 and "'USPS' (usps, " in bad.stderr and "different test sets" in bad.stderr and
                  bad.stderr.count("\n") == 1 and not any(n.endswith(".png") for n in os.listdir(pics)),
                  f"rows of two test sets ({field}): exit {bad.returncode}, stderr {bad.stderr!r}")
        not_eval = os.path.join(d, "not-eval.json")
        with open(not_eval, "w") as f:
            json.dump({"epochs": 2}, f)
        for row, word in [(f"X={d}/missing", "missing"), (f"X={not_eval}", "not an eval JSON")]:
            bad = subprocess.run([sys.executable, TOOL, "--out", out, row], capture_output=True, text=True, env=env)
            check(bad.returncode != 0 and word in bad.stderr and bad.stderr.count("\n") == 1,
                  f"{row}: exit {bad.returncode}, stderr {bad.stderr!r}")
        # A folder without best.ckpt (here the folder of the runs, as a sweep's folder is) is
        # refused before any row is evaluated: it was found after the rows before it, in
        # jacnoise eval's words ('--checkpoint ...: cannot open').
        bad = subprocess.run([sys.executable, TOOL, "--out", os.path.join(d, "no-ckpt"), f"MLP={d}/mlp", f"X={d}"],
                             capture_output=True, text=True, env=env)
        check(bad.returncode == 1 and bad.stderr == f"plot_analysis: X: {d} is a folder without best.ckpt: give a "
              "run folder (a sweep's are in its runs/ID), a checkpoint or an eval JSON\n" and not bad.stdout,
              f"a folder without best.ckpt: exit {bad.returncode}, stdout {bad.stdout!r}, stderr {bad.stderr!r}")

        # A row whose Jacobian is not finite (null in the eval JSON: a diverged run) is drawn.
        with open(os.path.join(out, "eval-MLP.json")) as f:
            ev = json.load(f)
        ev["splits"]["test"]["jacobian_sq"] = ev["splits"]["test"]["curvature"] = None
        diverged = os.path.join(d, "diverged.json")
        with open(diverged, "w") as f:
            json.dump(ev, f)
        p = subprocess.run([sys.executable, TOOL, "--out", os.path.join(d, "nulls"), f"MLP={out}/eval-MLP.json",
                            f"diverged={diverged}"], capture_output=True, text=True, env=env)
        check(p.returncode == 0 and os.path.exists(os.path.join(d, "nulls", "jacobian.png")),
              f"a row with a null Jacobian: exit {p.returncode}, stderr {p.stderr[-500:]!r}")
        # One line, never a traceback: a failing program, an eval JSON without a test split's
        # examples (its rates null) or without the histograms, a corrupt cache, no program to
        # run, an --out that is a file.
        untested = os.path.join(d, "untested.json")
        with open(untested, "w") as f:
            empty = json.loads(json.dumps(ev))
            test = empty["splits"]["test"]
            test["examples"] = test["errors"] = 0
            test["error"] = None
            for level in test["input_noise"]:
                level["errors"], level["error"] = 0, None
            json.dump(empty, f)
        del ev["splits"]["test"]["hidden"]
        with open(not_eval, "w") as f:
            json.dump(ev, f)
        corrupt = os.path.join(d, "corrupt")
        os.makedirs(corrupt)
        with open(os.path.join(corrupt, "eval-MLP.json"), "w") as f:
            f.write('{"splits": ')
        # A jacnoise eval that fails: its exit status (or signal) and its last line, which says why.
        talking, killed = os.path.join(d, "talking-jacnoise"), os.path.join(d, "killed-jacnoise")
        for path, body in ((talking, "echo 'a warning' >&2; echo 'jacnoise: why it failed' >&2; exit 3"),
                           (killed, "kill -9 $$")):
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\n{body}\n")
            os.chmod(path, 0o755)
        for args, environ, word in [
                (["--out", os.path.join(d, "talking"), f"MLP={d}/mlp"], dict(env, JACNOISE=talking),
                 "MLP: jacnoise eval failed, exit 3: jacnoise: why it failed"),
                (["--out", os.path.join(d, "killed"), f"MLP={d}/mlp"], dict(env, JACNOISE=killed),
                 "MLP: jacnoise eval failed, killed by SIGKILL, no message"),
                ([f"X={not_eval}"], env, "not an eval JSON"),
                ([f"X={untested}"], env, "has no test examples"),
                (["--out", corrupt, f"MLP={d}/mlp"], env, "--force"),
                (["--out", os.path.join(d, "noprog"), f"MLP={d}/mlp"], dict(env, JACNOISE="/nonexistent"), "JACNOISE"),
                (["--out", not_eval, f"MLP={out}/eval-MLP.json"], env, "not a folder")]:
            if args[0] != "--out":
                args = ["--out", out] + args
            bad = subprocess.run([sys.executable, TOOL] + args, capture_output=True, text=True, env=environ)
            check(bad.returncode == 1 and word in bad.stderr and bad.stderr.count("\n") == 1,
                  f"{args}: exit {bad.returncode}, stderr {bad.stderr!r}")

        # A field of the wrong type or range, or no hidden layer: one line naming it, before any
        # picture or copy is written.
        with open(os.path.join(out, "eval-MLP.json")) as f:
            good = f.read()
        test = lambda e: e["splits"]["test"]
        wrong = [("splits.test.hidden[0].saturated", lambda e: test(e)["hidden"][0].update(saturated="0.5")),
                 ("splits.test.hidden[0].histogram[3]", lambda e: test(e)["hidden"][0]["histogram"].__setitem__(3, 1.5)),
                 ("curv_noise", lambda e: e.update(curv_noise="x")),
                 ("splits.test.hidden", lambda e: test(e).update(hidden=[])),
                 ("splits.test.input_noise[2].error", lambda e: test(e)["input_noise"][2].update(error=-1))]
        for field, spoil in wrong:
            ev = json.loads(good)
            spoil(ev)
            with open(not_eval, "w") as f:
                json.dump(ev, f)
            pics = os.path.join(d, "spoilt")
            bad = subprocess.run([sys.executable, TOOL, "--out", pics, f"X={not_eval}", f"MLP={out}/eval-MLP.json"],
                                 capture_output=True, text=True, env=env)
            check(bad.returncode == 1 and field in bad.stderr and bad.stderr.count("\n") == 1,
                  f"{field} spoilt: exit {bad.returncode}, stderr {bad.stderr[-500:]!r}")
            left = sorted(os.listdir(pics)) if os.path.isdir(pics) else []
            check(left == [], f"{field} spoilt: left {left}")

        # Rows whose names make one file name share no evaluation: refused (exit 2) with
        # nothing written. A cached evaluation of another checkpoint than the row's is redone.
        for rows in ([f"a b={d}/mlp", f"a-b={d}/nj"], [f"A={d}/mlp", f"A={d}/nj"]):
            dup = os.path.join(d, "dup")
            bad = subprocess.run([sys.executable, TOOL, "--out", dup] + rows, capture_output=True, text=True, env=env)
            check(bad.returncode == 2 and "would share eval-" in bad.stderr and bad.stderr.count("\n") == 1 and
                  not os.path.exists(dup), f"{rows}: exit {bad.returncode}, stderr {bad.stderr!r}")
        # A --threads jacnoise eval would refuse is refused first, also where every row is cached.
        for threads in ("-1", "1025"):
            bad = subprocess.run([sys.executable, TOOL, "--out", dup, "--threads", threads, f"MLP={out}/eval-MLP.json"],
                                 capture_output=True, text=True, env=env)
            check(bad.returncode == 2 and f"--threads {threads}: out of range [0, 1024]" in bad.stderr and
                  bad.stderr.count("\n") == 1 and not os.path.exists(dup),
                  f"--threads {threads}: exit {bad.returncode}, stderr {bad.stderr!r}")
        moved = os.path.join(d, "moved")
        os.makedirs(moved)
        with open(os.path.join(moved, "eval-MLP.json"), "w") as f:
            f.write(good)
        p = subprocess.run([sys.executable, TOOL, "--out", moved, "--threads", "1", f"MLP={d}/nj"],
                           capture_output=True, text=True, env=env)
        with open(os.path.join(moved, "eval-MLP.json")) as f, open(os.path.join(out, "eval-MLP+N+J.json")) as g:
            redone, nj = json.load(f), json.load(g)
        check(p.returncode == 0 and redone["splits"] == nj["splits"] and
              os.path.samefile(redone["checkpoint"], os.path.join(d, "nj", "best.ckpt")),
              f"a cache of another checkpoint: exit {p.returncode}, {redone['checkpoint']}: {p.stderr[-500:]!r}")
        # --force evaluates again a cache of the row's own checkpoint (here one whose numbers were changed).
        redone["splits"]["test"]["input_noise"][0]["error"] = 99.0
        with open(os.path.join(moved, "eval-MLP.json"), "w") as f:
            json.dump(redone, f)
        p = subprocess.run([sys.executable, TOOL, "--out", moved, "--threads", "1", "--force", f"MLP={d}/nj"],
                           capture_output=True, text=True, env=env)
        with open(os.path.join(moved, "eval-MLP.json")) as f:
            forced = json.load(f)
        check(p.returncode == 0 and forced["splits"] == nj["splits"], f"--force: exit {p.returncode}, the cache kept "
              f"{forced['splits']['test']['input_noise'][0]['error']}: {p.stderr[-500:]!r}")
        # A checkpoint written after its cached evaluation (a run continued since: best.ckpt
        # replaced, here by the other run's, dated after the cache) is evaluated again.
        replaced = os.path.join(d, "nj", "best.ckpt")
        with open(os.path.join(d, "mlp", "best.ckpt"), "rb") as f, open(replaced + ".new", "wb") as g:
            g.write(f.read())
        os.replace(replaced + ".new", replaced)
        cached = os.stat(os.path.join(moved, "eval-MLP.json")).st_mtime_ns
        os.utime(replaced, ns=(cached + 10**9, cached + 10**9))
        p = subprocess.run([sys.executable, TOOL, "--out", moved, "--threads", "1", f"MLP={d}/nj"],
                           capture_output=True, text=True, env=env)
        with open(os.path.join(moved, "eval-MLP.json")) as f, open(os.path.join(out, "eval-MLP.json")) as g:
            continued, mlp = json.load(f), json.load(g)
        check(p.returncode == 0 and continued["splits"] == mlp["splits"] and "written after" in p.stdout,
              f"a checkpoint written since its cache: exit {p.returncode}, {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
        from_elsewhere(d)
    return finish("analysis")


def from_elsewhere(d):
    """Without JACNOISE, the program is build/jacnoise of the tool's own checkout, not of the
    folder it is run from (there, a stand-in that says so and fails)."""
    elsewhere = os.path.join(d, "elsewhere")
    os.makedirs(os.path.join(elsewhere, "build"))
    marker = os.path.join(elsewhere, "ran")
    with open(os.path.join(elsewhere, "build", "jacnoise"), "w") as f:
        f.write(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    os.chmod(os.path.join(elsewhere, "build", "jacnoise"), 0o755)
    own = os.path.normpath(os.path.join(os.path.dirname(TOOL), "..", "build", "jacnoise"))
    env = {k: v for k, v in os.environ.items() if k != "JACNOISE"}
    p = subprocess.run([sys.executable, TOOL, "--out", "pictures", "--threads", "1", f"MLP={d}/mlp"],
                       capture_output=True, text=True, env=env, cwd=elsewhere)
    # The checkout's own build runs (where this build is not there, its path is named).
    check(not os.path.exists(marker) and (p.returncode == 0 or f"{own}: cannot run it" in p.stderr),
          f"run from another folder: ran that folder's build/jacnoise {os.path.exists(marker)}, "
          f"exit {p.returncode}, stderr {p.stderr[-300:]!r}")


if __name__ == "__main__":
    sys.exit(main())
