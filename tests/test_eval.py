"""`jacnoise eval`'s JSON against the model run in NumPy (float64) on the exported parameters:
per split (validation: the last --valid examples of the training file; test), the examples,
errors and error rate, the mean exact ||J_output||_F^2 by brute force (the product of the
layers' Jacobians), and per hidden layer, numbered from 1, the activation histogram (numpy's
histogram(a, 20, (-1, 1))), the saturated and linear fractions; --eval-limit N as the first N
examples. The options reach the evaluation: each --eval-noise level's errors are its own,
whatever the order of the levels (the same xi for every std), the rate of its count; the
checkpoint's seed unless --seed; --curv-noise moves the curvature; the --test file evaluated
is named. The epochs done and the
best epoch are the checkpoint's. First-layer weights of 1e37 saturate every unit (tanh' is 0 in
float32, ~e^-1e37 in exact arithmetic) while the tangents v W^T overflow: the Jacobian and the
curvature are 0, not null (0 x Inf)."""
import json
import os
import re
import struct
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import export_model  # noqa: E402
from ckpt import set_weights  # noqa: E402
from harness import check, finish, run  # noqa: E402
from test_export import usps_test_set  # noqa: E402

# float32 activations against float64 ones: one within its rounding of a bin edge or a
# threshold may fall on the other side, so a count may differ by a few; a wrong bin, layer or
# fraction moves many.
SLACK = 3


def forward(layers, x):
    """The hidden activations (float64) and the logits."""
    hidden, a = [], x
    for l, (w, b) in enumerate(layers):
        z = a @ w.T + b
        if l == len(layers) - 1:
            return hidden, z
        a = np.tanh(z)
        hidden.append(a)


def jacobian_sq(layers, hidden, x):
    """Mean over the rows of ||J_output(x)||_F^2, J = W_L D_(L-1) W_(L-1) ... D_1 W_1."""
    total = 0.0
    for at in range(0, len(x), 256):
        j = np.broadcast_to(layers[0][0], (len(x[at:at + 256]),) + layers[0][0].shape)
        for (w, _), a in zip(layers[1:], hidden):
            j = w @ ((1 - a[at:at + 256] ** 2)[:, :, None] * j)
        total += float((j ** 2).sum())
    return total / len(x)


def compare_split(name, ev, layers, x, y):
    hidden, logits = forward(layers, x)
    errors = int((logits.argmax(axis=1) != y).sum())
    check(ev["examples"] == len(y) and ev["errors"] == errors and abs(ev["error"] - 100 * errors / len(y)) < 1e-7,
          f"{name}: {ev['examples']} examples, {ev['errors']} errors ({ev['error']}%); NumPy: {len(y)}, {errors}")
    want = jacobian_sq(layers, hidden, x)
    check(abs(ev["jacobian_sq"] - want) <= 1e-4 * want, f"{name}: jacobian_sq {ev['jacobian_sq']}, NumPy {want}")
    check([h["layer"] for h in ev["hidden"]] == list(range(1, len(hidden) + 1)),
          f"{name}: hidden layers numbered {[h['layer'] for h in ev['hidden']]}")
    for h, a in zip(ev["hidden"], hidden):
        n = a.size
        counts = np.histogram(a, 20, (-1, 1))[0]
        got = np.array(h["histogram"]) * n
        check(len(h["histogram"]) == 20 and np.abs(got - counts).max() <= SLACK,
              f"{name} layer {h['layer']}: histogram x {n} activations {np.round(got).astype(int).tolist()}, "
              f"NumPy {counts.tolist()}")
        for key, count in (("saturated", (np.abs(a) > 0.99).sum()), ("linear", (np.abs(a) < 0.1).sum())):
            check(abs(h[key] * n - count) <= SLACK, f"{name} layer {h['layer']}: {key} {h[key]} x {n}, NumPy {count}")


def main():
    scratch = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"jacnoise-eval.{os.getpid()}")
    folder = os.path.join(scratch, "run")
    # Two hidden layers, one of them saturating (a large learning rate), and a seed other than
    # the default, so that the checkpoint's seed is told apart from --seed's default.
    run(["train", "--data", "usps", "--hidden", "24,12", "--epochs", "2", "--train-limit", "500", "--valid", "300",
         "--lr", "0.3", "--seed", "3", "--threads", "1", "--progress", "never", "--out", folder])
    best = os.path.join(folder, "best.ckpt")
    layers = [(w.astype(np.float64), b.astype(np.float64)) for w, b in export_model.read_checkpoint(best).layers()]
    train_x, train_y = usps_test_set("zip.train")
    test_x, test_y = usps_test_set()

    def evaluate(*args):
        p = run(["eval", "--checkpoint", best, "--threads", "1"] + list(args))
        return json.loads(p.stdout) if p.returncode == 0 else None

    # The help of each command that starts from a checkpoint names as its own every option it
    # takes that the checkpoint does not hold (eval named three, step and check none, though
    # --progress, --threads, --steps and --tolerance are not stored). --data-dir is the run's, from
    # the config.txt beside the checkpoint; --checkpoint, --config and --dump say where the
    # options and the output are.
    stored = {line.split("=", 1)[0] for line in export_model.read_checkpoint(best).config.splitlines()}
    for cmd in ("eval", "step", "check"):
        usage, options = run([cmd, "--help"]).stdout.split("\noptions:\n", 1)
        own = set(re.findall(r"^  --([a-z0-9-]+)", options, re.M)) - stored - {"data-dir", "checkpoint", "config",
                                                                               "dump", "help"}
        intro = " ".join(usage.split()).split("not the default in brackets;", 1)
        check(own and len(intro) == 2 and all(f"--{o}" in intro[1] for o in own),
              f"{cmd} --help: {cmd}'s own options {sorted(own)}, its intro {usage!r}")
    ev = evaluate()
    if ev:
        compare_split("valid", ev["splits"]["valid"], layers, train_x[-300:], train_y[-300:])
        compare_split("test", ev["splits"]["test"], layers, test_x, test_y)
        check(ev["seed"] == 3, f"seed {ev['seed']}, the checkpoint's is 3")
        sat = [h["saturated"] for h in ev["splits"]["test"]["hidden"]]
        check(min(sat) > 0.01, f"saturated fractions {sat}: too few to tell saturated from linear")
    # MNIST's splits take 20 s and more: the progress line names each split as it starts,
    # on stderr, erased at the end; the JSON is the same.
    p = run(["eval", "--checkpoint", best, "--threads", "1", "--progress", "always"])
    check(p.returncode == 0 and ev and json.loads(p.stdout) == ev, f"--progress always: exit {p.returncode}, "
          f"stdout {p.stdout[:200]!r}")
    for line in ("eval: valid split, 256 of 300 examples, ", "eval: test split, 256 of 2007 examples, "):
        check(f"\033[K{line}" in p.stderr, f"--progress always: no {line!r} in stderr {p.stderr[:300]!r}")
    check(p.stderr.endswith("\033[K"), f"--progress always: the line is not erased: {p.stderr[-60:]!r}")
    quiet = run(["eval", "--checkpoint", best, "--threads", "1", "--eval-limit", "10"])
    check(quiet.stderr == "", f"progress without a terminal: stderr {quiet.stderr!r}")
    limited = evaluate("--eval-limit", "100")
    if limited:
        compare_split("test, --eval-limit 100", limited["splits"]["test"], layers, test_x[:100], test_y[:100])
        compare_split("valid, --eval-limit 100", limited["splits"]["valid"], layers, train_x[-300:-200],
                      train_y[-300:-200])

    # The noise levels in either order: each std's errors its own (the same xi for every std).
    up, down = evaluate("--eval-noise", "0,0.3,1"), evaluate("--eval-noise", "1,0.3,0")
    if up and down:
        test = up["splits"]["test"]
        levels = {x["std"]: x for x in test["input_noise"]}
        check(sorted(levels) == [0, 0.3, 1] and levels[0]["errors"] == test["errors"],
              f"levels {test['input_noise']}: std 0 is not the clean error {test['errors']}")
        check(down["splits"]["test"]["input_noise"] == test["input_noise"][::-1],
              f"the levels reversed: {down['splits']['test']['input_noise']} against {test['input_noise']}")
        check(levels[1]["errors"] > levels[0]["errors"], f"noise of std 1 changes no prediction: {levels}")
        for split in up["splits"].values():
            for x in split["input_noise"]:
                check(abs(x["error"] - 100 * x["errors"] / split["examples"]) < 1e-7,
                      f"input noise std {x['std']}: error {x['error']} for {x['errors']} of {split['examples']}")
    # The curvature's eps and tangents come from the seed (the checkpoint's, 3, or --seed), and
    # its finite difference from --curv-noise.
    curv = lambda e: e and e["splits"]["test"]["curvature"]
    seed3, seed1, s05 = evaluate("--seed", "3"), evaluate("--seed", "1"), evaluate("--curv-noise", "0.05")
    if ev and seed3 and seed1 and s05:
        check(curv(seed3) == curv(ev) and curv(seed1) != curv(ev),
              f"curvature: checkpoint's seed {curv(ev)}, --seed 3 {curv(seed3)}, --seed 1 {curv(seed1)}")
        check(s05["curv_noise"] == 0.05 and curv(s05) != curv(ev),
              f"--curv-noise 0.05: curvature {curv(s05)}, at 0.1 {curv(ev)}")
    # The test file evaluated is named: other data, the USPS test file's halves as IDX files
    # (float pixels), each evaluated as --test, and the checkpoint's own set's, empty.
    def idx_pair(name, x, y):
        images, labels = os.path.join(scratch, f"images{name}"), os.path.join(scratch, f"labels{name}")
        with open(images, "wb") as f:
            f.write(struct.pack(">I3I", 0x0D03, len(x), 16, 16) + x.astype(">f4").tobytes())
        with open(labels, "wb") as f:
            f.write(struct.pack(">II", 0x0801, len(y)) + y.astype(np.uint8).tobytes())
        return f"idx:{images},{labels}", labels

    halves = [idx_pair(i, test_x[rows], test_y[rows])[0] for i, rows in enumerate((slice(0, 100), slice(100, 200)))]
    named = [evaluate("--data", halves[0], "--valid", "10", "--train-limit", "0", "--test", half) for half in halves]
    if ev and all(named):
        check(ev["test"] == "" and [e["test"] for e in named] == halves,
              f"test files named {ev['test']!r}, {[e['test'] for e in named]}, for {halves}")
        compare_split("test, the second half", named[1]["splits"]["test"], layers, test_x[100:200], test_y[100:200])
    # The classes of an evaluation are the model's: data of digits 0-4 only evaluates the
    # 10-class model (it was refused as "256 inputs and 5 classes"), with a --test of all ten;
    # a label beyond the model's is refused naming the option, the file, its byte, item and label.
    low = np.flatnonzero(test_y[:400] < 5)[:100]
    low_data = idx_pair("low", test_x[low], test_y[low])[0]
    check(test_y[low].max() == 4, f"digits 0-4: labels up to {test_y[low].max()}")
    lows = evaluate("--data", low_data, "--valid", "10", "--train-limit", "0", "--test", halves[1])
    if lows:
        compare_split("valid of digits 0-4", lows["splits"]["valid"], layers, test_x[low[-10:]], test_y[low[-10:]])
        compare_split("test beside digits 0-4", lows["splits"]["test"], layers, test_x[100:200], test_y[100:200])
    marked = test_y[low].copy()
    marked[7] = 10
    marked_data, marked_labels = idx_pair("ten", test_x[low], marked)
    for args in (["--data", marked_data], ["--data", low_data, "--test", marked_data]):
        p = run(["eval", "--checkpoint", best, "--valid", "10", "--train-limit", "0"] + args, expect=1)
        check(p.stdout == "" and p.stderr == f"jacnoise: {args[-2]} {args[-1]}: {marked_labels}: byte 15 (item 7): "
              "label out of range: 10 (the classes are [0, 9], from the checkpoint's model)\n",
              f"eval {args}: label 10: {p.stderr!r}")
    # So with a named set: a model of 12 classes (idx: labels up to 11) evaluates USPS, whose
    # digits are among them, as it does USPS's files as idx: data (it was refused as "256
    # inputs and 10 classes").
    twelve = test_y[:200] % 12
    twelve[:2] = (10, 11)
    wide_run = os.path.join(scratch, "run12")
    run(["train", "--data", idx_pair("12", test_x[:200], twelve)[0], "--hidden", "6", "--epochs", "1", "--valid", "20",
         "--threads", "1", "--progress", "never", "--out", wide_run])
    wide_best = os.path.join(wide_run, "best.ckpt")
    p = run(["eval", "--checkpoint", wide_best, "--data", "usps", "--valid", "100", "--eval-limit", "50",
             "--threads", "1"])
    if p.returncode == 0:
        wide = [(w.astype(np.float64), b.astype(np.float64))
                for w, b in export_model.read_checkpoint(wide_best).layers()]
        got = json.loads(p.stdout)
        check(got["model"] == "256-6-12", f"the 12-class model: {got['model']}")
        compare_split("usps, 12-class model, valid", got["splits"]["valid"], wide, train_x[-100:-50], train_y[-100:-50])
        compare_split("usps, 12-class model, test", got["splits"]["test"], wide, test_x[:50], test_y[:50])
    # The JSON says the scale and noise levels used to every digit given, as config.txt writes
    # them (it printed 0.123457 for 0.123456789, then 0.123456789 for 0.123456789012).
    fine = evaluate("--curv-noise", "0.123456789012", "--eval-noise", "0.234567890123")
    if fine:
        stds = [x["std"] for x in fine["splits"]["test"]["input_noise"]]
        check(fine["curv_noise"] == 0.123456789012 and stds == [0.234567890123],
              f"--curv-noise 0.123456789012 --eval-noise 0.234567890123: curv_noise {fine['curv_noise']}, std {stds}")
    saturated = os.path.join(scratch, "saturated.ckpt")
    with open(best, "rb") as f, open(saturated, "wb") as g:
        g.write(f.read())
    set_weights(saturated, 1, 1e37)
    p = run(["eval", "--checkpoint", saturated, "--eval-limit", "50", "--threads", "1"])
    if p.returncode == 0:
        got = {split: (v["jacobian_sq"], v["curvature"]) for split, v in json.loads(p.stdout)["splits"].items()}
        check(got == {"valid": (0, 0), "test": (0, 0)}, f"saturated units: (jacobian_sq, curvature) {got}")
    # Where the run stands, as the checkpoint holds it: a last.ckpt of 2 epochs whose best was
    # the first (state edited, checksum rewritten), as the format's own reader reads it.
    last = os.path.join(folder, "last.ckpt")
    blob = bytearray(open(last, "rb").read())
    state_at = export_model.read_checkpoint(last).state_offset
    struct.pack_into("<II", blob, state_at + 28, 1, 1)  # best epoch 1, one epoch without a better one
    blob[-4:] = struct.pack("<I", zlib.crc32(bytes(blob[:-4])))
    edited = os.path.join(scratch, "best-first.ckpt")
    open(edited, "wb").write(bytes(blob))
    state = export_model.read_checkpoint(edited).state
    p = run(["eval", "--checkpoint", edited, "--eval-limit", "10"])
    if p.returncode == 0:
        at = json.loads(p.stdout)
        check((at["epochs_trained"], at["best_epoch"]) == (state["epochs_done"], state["best_epoch"]) == (2, 1),
              f"epochs_trained {at['epochs_trained']}, best_epoch {at['best_epoch']}; the file holds {state}")
    return finish("eval", scratch)


if __name__ == "__main__":
    sys.exit(main())
