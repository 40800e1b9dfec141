#!/usr/bin/env python3
"""jacnoise against its peers on the same training steps, in one run.

For each shape (model, batch size, penalty) it
  1. writes a step state with `jacnoise step --dump` (parameters, batch, noise, loss terms,
     gradients) and has every peer recompute that step: its loss, penalty, objective and
     gradient must agree with jacnoise's, so the times compare the same computation;
  2. times, in turn, jacnoise's step with `jacnoise profile --json` (median, and its GEMM
     floor) and each peer's whole step (gather, fresh noise, objective, gradient, update):
     PyTorch eager, PyTorch torch.func/functorch, and JAX jit where JAX is installed;
  3. repeats 2 for --rounds rounds, so that a change of the machine's speed between rounds
     hits every program alike;
and prints the table of medians over the rounds and, per peer, the median of each round's
own ratio (peer / jacnoise) with its lowest and highest.

  python3 bench/peers/run_peers.py [--jacnoise build/jacnoise] [--hidden 1000,1000 1000]
      [--batch 1 10 100 1000] [--penalty hidden1 output:1 output:3 output:exact]
      [--data mnist] [--data-dir DIR] [--jac-lambda 0.1] [--jac-noise 0.3] [--input-noise 0]
      [--reps 10] [--warmup 3] [--rounds 3] [--threads 2] [--device cpu|cuda]
      [--precision fp32|tf32] [--exact-max-batch 100] [--csv FILE]

Exit status 1 when a peer's step disagrees with jacnoise's, a jacnoise command fails (or exits
0 without the file it was to write) or the --csv table cannot be written; 2 when this script
or jacnoise refuses the options; 130 on Ctrl-C, 143 on SIGTERM, 141 when its standard output
is closed (run_peers.py | head). --csv then holds the shapes done, as after a failed jacnoise
command. This
script's refusals come before anything is timed, among them a --csv whose folder cannot take
the table (written atomically, at the end).

On a GPU machine, --device cuda times jacnoise and the peers on the GPU: jacnoise's step as
training runs it (the replayed CUDA graph of `jacnoise profile --device cuda`), its floor the
step's GEMMs alone; a peer whose library sees no GPU is skipped with a line saying so. Every
program's float32 matrix products are float32 (JAX's default on a GPU is TF32: set to
"highest" here); --precision tf32 (GPU only) runs all of them in TF32 (jacnoise's --precision
tf32, PyTorch's allow_tf32, JAX's "tensorfloat32") and checks them against the float32 dump
with TF32's tolerance."""
import argparse
import csv
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import tool_files  # noqa: E402
from stepstate import DumpError, parse_dump  # noqa: E402

# Agreement required with jacnoise's float32 step (relative): the peers are float32 too, with
# other summation orders.
TOLERANCE = {"loss": 1e-4, "penalty": 1e-4, "objective": 1e-4, "gradient": 1e-4}
# In TF32 against that float32 step: each GEMM input keeps 10 mantissa bits (jacnoise check's
# TF32 tolerance, 1.1e-2 for the gradient of a three-layer net, is derived the same way).
TF32_TOLERANCE = {"loss": 1e-2, "penalty": 1e-2, "objective": 1e-2, "gradient": 1e-2}
# What a row's times were measured under, after its figures, in the words of jacnoise profile
# --grid's CSV: where every program ran (backend; device, the CPU model or GPU name), their matrix
# products, threads, and each time's count: the median of `rounds` rounds, each the median of `reps`
# steps after `warmup` untimed ones. Tables of two runs concatenated stay apart.
CONDITIONS = ["backend", "device", "precision", "threads", "reps", "warmup", "rounds"]
# Then the versions of the peers' libraries that ran (empty for one absent or skipped): a table
# of a later PyTorch or JAX is not one of the same peers.
LIBRARIES = ["torch", "jax"]


def load_peers(device, threads, tf32):
    """[(name, module, style)] of the peers importable here, their matrix products set to
    float32 or TF32; a note per missing one; {library: its version} of those that run. Ctrl-C is held while they load: PyTorch's
    initialisation would turn it into a RuntimeError (a traceback); it is raised after."""
    held = []
    signal.signal(signal.SIGINT, lambda *_: held.append(1))
    try:
        loaded = import_peers(device, threads, tf32)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if held:
        raise KeyboardInterrupt
    return loaded


def import_peers(device, threads, tf32):
    peers, notes, versions = [], [], {}
    try:
        import torch
        torch.set_num_threads(threads)
        torch.backends.cuda.matmul.allow_tf32 = tf32
        import torch_peer
        if device == "cuda" and not torch.cuda.is_available():
            notes.append("PyTorch peers skipped: this PyTorch sees no CUDA device")
        else:
            peers += [("torch " + s, torch_peer, s) for s in torch_peer.STYLES]
            versions["torch"] = torch.__version__
    except ImportError as e:
        notes.append(f"PyTorch peers skipped: {e}")
    if device == "cpu":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        jax.config.update("jax_default_matmul_precision", "tensorfloat32" if tf32 else "highest")
        import jax_peer
        # JAX runs where its default backend is; on a machine without its GPU plugin that is
        # the CPU, which would time another device than jacnoise's.
        if device == "cuda" and jax.default_backend() != "gpu":
            notes.append(f"JAX peer skipped: its backend is {jax.default_backend()}, not the GPU")
        else:
            peers += [("jax " + s, jax_peer, s) for s in jax_peer.STYLES]
            versions["jax"] = jax.__version__
    except ImportError as e:
        notes.append(f"JAX peer skipped (not installed: {e})")
    return peers, notes, versions


class JacnoiseFailed(Exception):
    """A jacnoise command failed; code is the exit status for this script (2: jacnoise
    refused the options)."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def run(cmd, output, what, read):
    """read(output) of the file `output` that the jacnoise command cmd writes (what it is, in
    words); removed first, so that an earlier command's is never read for this one's."""
    if os.path.exists(output):
        os.unlink(output)
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode in (130, -2):  # Ctrl-C reached jacnoise first: the script's interruption
        raise KeyboardInterrupt
    if p.returncode in (143, -15):  # so did SIGTERM
        raise tool_files.Terminated  # as SIGTERM raises it (tool_files.run_program)
    if p.returncode != 0:
        raise JacnoiseFailed(f"{' '.join(cmd)} failed, {tool_files.how_it_failed(p.returncode, p.stderr)}",
                             p.returncode)
    try:
        return read(output)
    except (OSError, ValueError, LookupError, DumpError) as e:
        why = e.strerror if isinstance(e, OSError) else e
        raise JacnoiseFailed(f"{cmd[0]} {cmd[1]} exited 0, but its {what} {output} is unreadable ({why}): "
                             f"is {cmd[0]} the jacnoise program (--jacnoise)?", 1) from None


def read_profile(path):
    """(step, GEMM floor) medians in us of the first variant of a `jacnoise profile --json`
    (on the GPU the step as training runs it: one replayed CUDA graph), and the machine's
    device (CPU model or GPU name) it names."""
    with open(path) as f:
        report = json.load(f)
    v0 = report["variants"][0]
    return v0.get("fast_step", v0["step"])["median_us"], v0["gemm_floor"]["median_us"], report["machine"]["device"]


def penalty_options(spec):
    """'hidden1', 'output:3', 'output:exact', 'hidden:2:1' -> jacnoise options (which jacnoise
    judges); None for a spec of no such form."""
    if spec == "hidden1":
        return ["--jac-target", "hidden1"]
    target, _, proj = spec.rpartition(":")
    return ["--jac-target", target, "--jac-proj", proj] if target and proj else None


def refusal(args):
    """Why this script refuses the options (one line), or None: checked before the peers load
    and anything is timed."""
    if args.precision == "tf32" and args.device != "cuda":
        return "--precision tf32 needs --device cuda (TF32 is a GPU's)"
    if not (os.path.isfile(args.jacnoise) and os.access(args.jacnoise, os.X_OK)):
        return f"{args.jacnoise} is not the jacnoise program (--jacnoise)"
    for spec in args.penalty:
        if penalty_options(spec) is None:
            return f"--penalty {spec}: expected hidden1 or TARGET:PROJ (output:3, output:exact, hidden:2:1)"
        # A hidden layer past a --hidden's would end the run at that shape, the shapes before timed.
        layer = penalty_options(spec)[1].partition("hidden:")[2]
        for hidden in args.hidden:
            if layer.isdigit() and int(layer) > hidden.count(",") + 1:
                return f"--penalty {spec}: --hidden {hidden} has no hidden layer {layer}"
    if args.csv == "":
        return "--csv '': empty file name"
    if args.csv is not None:
        if os.path.isdir(args.csv):
            return f"--csv {args.csv}: is a folder"
        folder = os.path.dirname(os.path.abspath(args.csv))
        try:
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as e:
            return f"--csv {args.csv}: cannot write in {folder}: {e.strerror}"
    return None


def main():
    ap = tool_files.BenchParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jacnoise", default=os.path.join(ROOT, "build", "jacnoise"), metavar="PROGRAM",
                    help="the jacnoise program (default: build/jacnoise of this checkout)")
    ap.add_argument("--data", default="mnist", help="data set of the batches (default: %(default)s)")
    ap.add_argument("--data-dir", default="", metavar="DIR",
                    help="folder of the data files (default: where jacnoise looks)")
    ap.add_argument("--hidden", nargs="+", default=["1000,1000", "1000"], metavar="W1,W2,...",
                    type=tool_files.widths, help="hidden widths, one model each (default: 1000,1000 1000)")
    # Each number's range is jacnoise's (profile's), so that no shape fails in jacnoise after
    # the shapes before it were timed; a bad one is refused before the peers load.
    ap.whole("--batch", [1, 10, 100, 1000], 1, 65536, "batch sizes", metavar="B", nargs="+")
    ap.add_argument("--penalty", nargs="+", default=["hidden1", "output:1", "output:3", "output:exact"],
                    metavar="FORM", help="penalty forms: hidden1 or TARGET:PROJ (output:3, output:exact, hidden:2:1) "
                    "(default: hidden1 output:1 output:3 output:exact)")
    ap.add_argument("--jac-lambda", default="0.1", metavar="X", help="penalty weight (default: %(default)s)")
    ap.add_argument("--jac-noise", default="0.3", metavar="X", help="penalty input noise (default: %(default)s)")
    ap.add_argument("--input-noise", default="0", metavar="X", help="main loss input noise (default: %(default)s)")
    ap.whole("--reps", 10, 1, 1000000, "timed steps of each program per round")
    ap.whole("--warmup", 3, 0, 1000000, "untimed steps before them")
    ap.whole("--rounds", 3, 1, 1000, "rounds per shape, each timing jacnoise and then every peer (reps steps each)")
    ap.whole("--threads", 2, 1, 1024, "threads of every program")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                    help="where every program runs (default: %(default)s)")
    ap.add_argument("--precision", choices=["fp32", "tf32"], default="fp32",
                    help="the matrix products of every program (tf32: on the GPU only) (default: %(default)s)")
    ap.whole("--exact-max-batch", 100, 0, 65536, "skip the exact norm above this batch size (its cost grows as B "
             "times the rows it builds: C for the output, d for hidden:k)", metavar="B")
    ap.add_argument("--csv", metavar="FILE", help="also write the table as CSV (default: none)")
    args = ap.parse_args()
    refused = refusal(args)
    if refused:
        print(f"run_peers: {refused}", file=sys.stderr)
        return 2
    return compare(args)


def compare(args):
    tf32 = args.precision == "tf32"
    tolerance = TF32_TOLERANCE if tf32 else TOLERANCE
    peers, notes, versions = load_peers(args.device, args.threads, tf32)
    data = ["--data", args.data] + (["--data-dir", args.data_dir] if args.data_dir else [])
    names = [n for n, _, _ in peers]
    header = ["model", "B", "penalty", "jacnoise_us", "floor_us"] + [f"{n}_us" for n in names] + \
             [f"{n}/jacnoise{end}" for n in names for end in ("", "_lowest", "_highest")] + ["check"] + CONDITIONS + \
             [f"{lib}_version" for lib in LIBRARIES]
    rows, stopped, code = [], None, 0
    # A closed standard output (run_peers.py | head) raises BrokenPipeError here, not SIGPIPE,
    # and SIGTERM Terminated, where each killed the script with the shapes done and --csv
    # unwritten: either stops it as Ctrl-C does, and so does a failed jacnoise command.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        for n in notes:
            print(n)
        print(f"{'model':<18} {'B':>5} {'penalty':<14} {'jacnoise us':>12} {'floor us':>10}" +
              "".join(f" {n + ' us':>15}" for n in names) + "".join(f" {n + ' x [range]':>22}" for n in names) +
              "  check")
        table_rows(args, peers, data, tolerance, [versions.get(lib, "") for lib in LIBRARIES], rows)
    except KeyboardInterrupt:
        stopped, code = "interrupted", 130
    except tool_files.Terminated as e:
        stopped, code = e.words, 143
    except JacnoiseFailed as e:  # its command line and message, no traceback
        stopped, code = str(e), 2 if e.code == 2 else 1
    except BrokenPipeError:
        # Python's own flush of stdout at exit would fail again, with a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        stopped, code = "stopped (its output was closed: a broken pipe)", 141
    failed = any(r[header.index("check")] != "ok" for r in rows)
    if args.csv is not None and (rows or not stopped):
        table = io.StringIO()
        csv.writer(table).writerows([header] + rows)
        try:
            tool_files.write_text(args.csv, table.getvalue())
        except OSError as e:
            print(f"run_peers: --csv {args.csv}: {e.strerror} (the table is printed above)", file=sys.stderr)
            return 1
    if stopped:
        kept = "no table written"
        if args.csv is not None and rows:
            kept = f"--csv {args.csv} holds the {len(rows)} shape{'s' * (len(rows) != 1)} done"
        print(f"run_peers: {stopped}; {kept}", file=sys.stderr)
        return code
    if failed:
        print("a peer's step disagrees with jacnoise's (see check)", file=sys.stderr)
    return 1 if failed else 0


def table_rows(args, peers, data, tolerance, versions, rows):
    """Times every shape, appending its row (ending with the libraries' versions) to rows as
    it is done and then printing its line (a row whose line cannot be printed is kept)."""
    with tempfile.TemporaryDirectory(prefix="jn_peers_") as tmp:
        for hidden in args.hidden:
            for B in args.batch:
                for pen in args.penalty:
                    if pen.endswith(":exact") and B > args.exact_max_batch:
                        continue
                    opts = data + ["--hidden", hidden, "--batch", str(B), "--jac-lambda", args.jac_lambda,
                                   "--jac-noise", args.jac_noise, "--input-noise", args.input_noise,
                                   "--threads", str(args.threads)] + penalty_options(pen)
                    dump = os.path.join(tmp, "step.bin")
                    st = run([args.jacnoise, "step", "--dump", dump] + opts, dump, "step state", parse_dump)
                    model = "-".join(str(int(s)) for s in st["sizes"])
                    js = os.path.join(tmp, "profile.json")
                    timers, checks = [], []
                    for name, mod, style in peers:
                        errs = mod.check(st, style, args.device)
                        bad = [k for k, e in errs.items() if not e < tolerance[k]]
                        checks.append(f"{name}: " + (", ".join(f"{k} {errs[k]:.1e}" for k in bad) if bad else "ok"))
                        timers.append(mod.step_timer(st, style, args.device))
                    ours_r, floor_r, peer_r = [], [], [[] for _ in peers]
                    for _ in range(args.rounds):
                        step_us, floor_us, device_name = run(
                            [args.jacnoise, "profile", "--device", args.device, "--precision", args.precision,
                             "--reps", str(args.reps), "--warmup", str(args.warmup), "--json", js] + opts,
                            js, "profile JSON", read_profile)
                        ours_r.append(step_us)
                        floor_r.append(floor_us)
                        for k, timer in enumerate(timers):
                            peer_r[k].append(1e6 * timer(args.reps, args.warmup))
                    ours, floor = statistics.median(ours_r), statistics.median(floor_r)
                    times = [statistics.median(t) for t in peer_r]
                    per_round = [[t / o for t, o in zip(ts, ours_r)] for ts in peer_r]
                    ratios = [(statistics.median(r), min(r), max(r)) for r in per_round]
                    verdict = "ok" if all(c.endswith(": ok") for c in checks) else "; ".join(checks)
                    rows.append([model, B, pen, ours, floor] + times + [x for r in ratios for x in r] + [verdict] +
                                [args.device, device_name, args.precision, args.threads, args.reps, args.warmup, args.rounds] +
                                versions)
                    print(f"{model:<18} {B:>5} {pen:<14} {ours:>12.0f} {floor:>10.0f}" +
                          "".join(f" {t:>15.0f}" for t in times) +
                          "".join(f" {f'{m:.2f}x [{lo:.2f}-{hi:.2f}]':>22}" for m, lo, hi in ratios) +
                          f"  {verdict}", flush=True)


if __name__ == "__main__":
    # A Ctrl-C or SIGTERM before the first shape (the peers' libraries loading): no table yet.
    tool_files.run_program(main, note="; no table written")
