"""Training runs end to end: determinism, resume (paused, signalled, killed, early-stopped
with a larger patience), and a short real MNIST run that must learn, whose checkpoint `eval`
must agree with.

Run by ctest with JACNOISE_BIN (the program) and JACNOISE_DATA (the data folder) set."""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

from ckpt import params, read_checkpoint, rel_diff
from harness import BIN, check, ended, finish, metrics, read, run, same_run, steps_named
from stepstate import flat_params, parse_dump


def patience_rule(tmp, early):
    """--patience N stops after N epochs in a row without a validation error strictly below
    the best so far, recomputed here from the run's own validation errors; an early-stopped
    run resumed with the same patience stays stopped."""
    folder = os.path.join(tmp, "patience-3")
    run(early + ["--patience", "3", "--out", folder])
    epochs = metrics(folder)
    best, bad, expected, stop, recovered = float("inf"), 0, [], None, False
    for m in epochs:
        improved = m["valid_error"] < best
        recovered |= improved and bad > 0
        best = min(best, m["valid_error"])
        bad = 0 if improved else bad + 1
        expected.append(improved)
        if bad == 3:
            stop = m["epoch"]
            break
    # The run must hold an improvement after an epoch without one, and a tie with the best:
    # otherwise the counting of epochs in a row and the strict comparison go unchecked.
    check(recovered and any(not b for b in expected), f"--patience 3: the run does not exercise both rules: validation errors {[m['valid_error'] for m in epochs]}")
    check([m["best"] for m in epochs] == expected, f"--patience 3: best flags {[m['best'] for m in epochs]}, "
          f"expected {expected}")
    summary = json.load(open(os.path.join(folder, "summary.json")))
    check(stop is not None and len(epochs) == stop and summary["status"] == "early-stopped",
          f"--patience 3: stopped after {len(epochs)} epochs ({summary['status']}), expected after {stop}")
    first_best = min(epochs, key=lambda m: (m["valid_error"], m["epoch"]))
    check(summary["best_epoch"] == first_best["epoch"], f"--patience 3: best epoch {summary['best_epoch']}, "
          f"expected {first_best['epoch']}, the first with the lowest validation error")
    # The summary's errors are the best epoch's (its test error differs from the last epoch's
    # here, or the check would not tell them apart), its counts the last epoch's.
    check(summary["test_error"] == first_best["test_error"] != epochs[-1]["test_error"] and
          summary["best_valid_error"] == first_best["valid_error"] and
          (summary["epochs"], summary["steps"]) == (len(epochs), epochs[-1]["step"]),
          f"--patience 3: summary {summary}, best epoch's metrics {first_best}, last {epochs[-1]}")
    # Each epoch's seconds are its own, so they add up to no more than the run's: counted from
    # the run's start, each epoch held those before it too.
    spent = sum(json.loads(line)["seconds"] for line in read(os.path.join(folder, "metrics.jsonl")).splitlines())
    check(spent <= summary["seconds"] + 1e-6, f"--patience 3: the epochs' seconds add up to {spent}, more than the "
          f"run's {summary['seconds']}")
    # best.ckpt stands where the best epoch ended, not where the run did; written only as the
    # run ends (--checkpoint-epochs beyond its epochs), it is the same file.
    held = read_checkpoint(os.path.join(folder, "best.ckpt")).state
    check(held["epochs_done"] == held["best_epoch"] == summary["best_epoch"] < len(epochs),
          f"--patience 3: best.ckpt's state {held}, best epoch {summary['best_epoch']} of {len(epochs)}")
    at_end = os.path.join(tmp, "patience-3-at-end")
    run(early + ["--patience", "3", "--checkpoint-epochs", "1000", "--out", at_end])
    check(read(os.path.join(at_end, "best.ckpt")) == read(os.path.join(folder, "best.ckpt")),
          "--patience 3: best.ckpt written as the run ended differs from the one written at its best epoch")
    # last.ckpt too is written as the run ends, between --checkpoint-epochs: the same file.
    last = os.path.join(at_end, "last.ckpt")
    check(os.path.exists(last) and read(last) == read(os.path.join(folder, "last.ckpt")),
          "--patience 3 --checkpoint-epochs 1000: last.ckpt missing or not the one written every epoch")
    p = run(["train", "--out", folder, "--resume", "--progress", "never"])
    check("\nepoch " not in p.stdout and len(metrics(folder)) == len(epochs),
          f"early-stopped, resumed with the same --patience: trained on: {p.stdout[-300:]!r}")


def all_wrong_first(tmp):
    """The first epoch is the best so far whatever its validation error, 100% (the one
    validation example wrong, as with this seed) included: a rule of 'below the best so far'
    alone left such a run with no best epoch and no best.ckpt."""
    folder = os.path.join(tmp, "all-wrong")
    run(["train", "--data", "usps", "--hidden", "8", "--train-limit", "20", "--valid", "1", "--epochs", "2",
         "--seed", "1", "--progress", "never", "--out", folder])
    epochs = metrics(folder)
    check(epochs[0]["valid_error"] == 100, f"validation error {epochs[0]['valid_error']}, not 100: the check tells nothing")
    summary = json.load(open(os.path.join(folder, "summary.json")))
    check(epochs[0]["best"] and summary["best_epoch"] == 1 and os.path.exists(os.path.join(folder, "best.ckpt")),
          f"an epoch of 100% validation error first: best {epochs[0]['best']}, best epoch {summary['best_epoch']}")


def rule_at_pause(tmp, early):
    """A run paused at an epoch's end and resumed with a stopping rule that ends it there (fewer
    --epochs, a smaller --patience) ends there, with the bytes of a run given that rule from the
    start: it trained an epoch past its --epochs ("epoch 3/2") into a last.ckpt that show, eval
    and every resume refused. `early` has 2 batches an epoch; patience_rule's run stopped early."""
    stopped = os.path.join(tmp, "patience-3")
    at = len(metrics(stopped))
    for name, rule, ref in (("epochs", ["--epochs", "2"], None), ("patience", ["--patience", "3"], stopped)):
        paused = os.path.join(tmp, f"paused-{name}")
        steps = 4 if name == "epochs" else 2 * at
        run(early + ["--patience", "0", "--max-steps", str(steps), "--out", paused])
        p = run(["train", "--out", paused, "--resume", "--progress", "never"] + rule)
        if ref is None:
            ref = os.path.join(tmp, "two-epochs")
            run(early + ["--patience", "0", "--epochs", "2", "--out", ref])
        want = "finished: trained 2 epochs" if name == "epochs" else f"stopped early after epoch {at}"
        check(want in p.stdout and "\nepoch " not in p.stdout, f"paused, resumed with {rule}: {p.stdout[-300:]!r}")
        what = f"paused at an epoch's end, resumed with {rule}"
        check(read(os.path.join(ref, "last.ckpt")) == read(os.path.join(paused, "last.ckpt")) and
              metrics(ref) == metrics(paused), f"{what}: last.ckpt or metrics.jsonl differ")
        # best.ckpt, written at an earlier epoch, keeps the --patience of its configuration
        # then, as where a resume raises it: its parameters and state are the run's.
        best = [read_checkpoint(os.path.join(f, "best.ckpt")) for f in (ref, paused)]
        check(best[0].state == best[1].state and np.array_equal(best[0].params, best[1].params),
              f"{what}: best.ckpt's state or parameters differ")


def rule_at_finish(tmp, early):
    """A run that finished its --epochs, resumed with more and a smaller --patience that its
    epochs without improvement reach, stops early at once, with the bytes of a run given that
    patience (it stopped there): it trained on, past where that patience stops it. `early`
    runs 30 epochs; patience_rule's run stopped early, 3 epochs after its best."""
    stopped = os.path.join(tmp, "patience-3")
    at = len(metrics(stopped))
    finished = os.path.join(tmp, "finished-then-patience")
    run(early[:early.index("--epochs")] + ["--epochs", str(at), "--patience", "0", "--out", finished])
    p = run(["train", "--out", finished, "--resume", "--epochs", "30", "--patience", "3", "--progress", "never"])
    check(f"stopped early after epoch {at}: no better validation error for 3 epochs;" in p.stdout and
          "\nepoch " not in p.stdout, f"finished, resumed with more --epochs and --patience 3: {p.stdout[-300:]!r}")
    check(read(os.path.join(stopped, "last.ckpt")) == read(os.path.join(finished, "last.ckpt")) and
          metrics(stopped) == metrics(finished),
          "finished, resumed with more --epochs and --patience 3: last.ckpt or metrics.jsonl differ from the run "
          "given --patience 3")


def best_ahead(tmp):
    """A best.ckpt ahead of last.ckpt (a crash between their writes, or a divergence between
    --checkpoint-epochs, writes best.ckpt first) is written again from last.ckpt's best
    parameters: resumed with fewer --epochs than its epoch, the run ended with a best.ckpt of
    an epoch it never had, its summary naming another. The run's validation error is best at
    epoch 4, then at 12 (12 batches an epoch)."""
    args = ["train", "--data", "usps", "--hidden", "20", "--batch", "50", "--train-limit", "600", "--valid", "200",
            "--lr", "0.5", "--patience", "0", "--progress", "never"]
    longer, ahead, ref = (os.path.join(tmp, name) for name in ("best-at-12", "best-ahead", "eleven-epochs"))
    run(args + ["--epochs", "12", "--out", longer])
    run(args + ["--epochs", "12", "--max-steps", "132", "--out", ahead])
    with open(os.path.join(ahead, "best.ckpt"), "wb") as f:
        f.write(read(os.path.join(longer, "best.ckpt")))
    run(["train", "--out", ahead, "--resume", "--epochs", "11", "--progress", "never"])
    run(args + ["--epochs", "11", "--out", ref])
    check(json.load(open(os.path.join(longer, "summary.json")))["best_epoch"] == 12 and
          json.load(open(os.path.join(ref, "summary.json")))["best_epoch"] == 4,
          "the runs' best epochs are no longer 12 and 4: the check tells nothing")
    same_run(ref, ahead, "best.ckpt of epoch 12 beside last.ckpt of epoch 11, resumed with --epochs 11")


def weight_decay_term(tmp, early):
    """An epoch's weight_decay is SPEC's (wd/2) sum_l ||W_l||^2 of the weights (not the
    biases) the epoch ended with, recomputed from last.ckpt of a run stopped early: its last
    epoch is not its best, so the best parameters would give another number."""
    folder = os.path.join(tmp, "weight-decay")
    run(early + ["--patience", "1", "--weight-decay", "0.01", "--out", folder])
    last = metrics(folder)[-1]
    ck = read_checkpoint(os.path.join(folder, "last.ckpt"))
    want = 0.01 / 2 * sum(float((w.astype(np.float64) ** 2).sum()) for w, _ in ck.layers())
    check(ck.state["status"] == "early-stopped" and not last["best"],
          f"--weight-decay: the run should stop early after an epoch that is not its best: {last}")
    # metrics.jsonl keeps 10 significant digits.
    check(abs(last["weight_decay"] - want) <= 1e-8 * want, f"--weight-decay 0.01: epoch {last['epoch']}'s term "
          f"{last['weight_decay']}, its weights give {want}")


def weight_decay_step(tmp):
    """Training applies --weight-decay to its steps, not only to the reported term: a run's
    first step gives the parameters `jacnoise step` gives (the SPEC rule's oracle), and that
    step differs from one without decay by lr * wd * W on the weights, none on the biases
    (a fresh run's velocity is zero)."""
    args = ["--data", "usps", "--hidden", "8", "--train-limit", "64", "--valid", "20", "--batch", "32",
            "--lr", "0.1"]
    nxt = {}
    for wd in ("0", "0.1"):
        dump = os.path.join(tmp, f"decay-{wd}.step")
        run(["step", "--dump", dump, "--weight-decay", wd] + args)
        nxt[wd] = parse_dump(dump)
    st, plain = nxt["0.1"], nxt["0"]
    for l in range(1, len(st["sizes"])):
        want = plain[f"next.W{l}"] - 0.1 * 0.1 * st[f"W{l}"]
        check(rel_diff(st[f"next.W{l}"], want) < 1e-5 and rel_diff(st[f"next.b{l}"], plain[f"next.b{l}"]) < 1e-6,
              f"`jacnoise step --weight-decay 0.1`: layer {l}'s step is not the one without decay less lr * wd * W")
    folder = os.path.join(tmp, "decay-first-step")
    run(["train", "--weight-decay", "0.1", "--max-steps", "1", "--progress", "never", "--out", folder] + args)
    diff = rel_diff(params(os.path.join(folder, "last.ckpt")), flat_params(st, "next"))
    check(diff < 1e-6, f"--weight-decay 0.1: the run's first step and `jacnoise step`'s differ by {diff:.3g}")


def epoch_sums(tmp):
    """An epoch's train_loss, penalty and train_error are its steps' terms averaged over its
    examples, the short last batch weighted by its rows: an epoch of two steps, 32 and 8 rows,
    each step's terms read from `jacnoise step` (a fresh run's first step, then the step after
    a pause at step 1)."""
    args = ["--data", "usps", "--hidden", "8", "--train-limit", "40", "--valid", "20", "--batch", "32",
            "--input-noise", "0.1", "--jac-lambda", "0.1", "--jac-noise", "0.2"]
    folder, paused = os.path.join(tmp, "sums"), os.path.join(tmp, "sums-paused")
    run(["train"] + args + ["--epochs", "1", "--progress", "never", "--out", folder])
    run(["train"] + args + ["--epochs", "1", "--max-steps", "1", "--progress", "never", "--out", paused])
    steps = []
    for name, options in (("first", args), ("second", ["--checkpoint", os.path.join(paused, "last.ckpt")])):
        dump = os.path.join(tmp, f"sums-{name}.step")
        run(["step", "--dump", dump] + options)
        steps.append(parse_dump(dump))
    rows = [st["rows"] for st in steps]
    want = {"train_loss": sum(st["loss"] * st["rows"] for st in steps) / 40,
            "penalty": sum(st["penalty"] * st["rows"] for st in steps) / 40,
            "train_error": 100 * sum(st["errors"] for st in steps) / 40}
    got = metrics(folder)[0]
    # metrics.jsonl keeps 10 significant digits.
    check(rows == [32, 8] and all(abs(got[k] - v) <= 1e-8 * abs(v) for k, v in want.items()),
          f"epoch of steps of {rows} rows: {got}, the steps' terms give {want}")


def schedule_and_shuffle(tmp):
    """The epoch printed as n runs at lr * lr-decay^(n-1) (README), and each epoch takes the
    batches of its own permutation: `jacnoise step` (its own learning rate and permutation)
    on a checkpoint paused in epoch 2 gives the parameters the run has one step later, and
    without a checkpoint those of the run's first step."""
    args = ["train", "--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "50", "--batch", "32",
            "--lr", "0.1", "--lr-decay", "0.5", "--epochs", "3", "--progress", "never"]
    full = os.path.join(tmp, "lr-decay")
    run(args + ["--out", full])
    lrs = [m["lr"] for m in metrics(full)]
    check(len(lrs) == 3 and all(abs(lr - 0.1 * 0.5 ** k) < 1e-12 for k, lr in enumerate(lrs)),
          f"--lr 0.1 --lr-decay 0.5: epoch learning rates {lrs}, expected [0.1, 0.05, 0.025]")
    # An epoch's train_error is over its 200 examples (7 batches, the last of 8): whole errors.
    errors = [m["train_error"] * 200 / 100 for m in metrics(full)]
    check(len(errors) == 3 and all(abs(e - round(e)) < 1e-6 for e in errors),
          f"train_error of each epoch as errors in 200 examples: {errors}, not whole numbers")
    paused = os.path.join(tmp, "lr-decay-paused")
    run(args + ["--out", paused, "--max-steps", "9"])  # 7 batches an epoch: epoch 2, batch 3 next
    dump = os.path.join(tmp, "epoch2.step")
    run(["step", "--checkpoint", os.path.join(paused, "last.ckpt"), "--dump", dump])
    st = parse_dump(dump)
    check(st["epoch"] == 1 and st["batch"] == 2 and abs(st["lr"] - 0.05) < 1e-12,
          f"step in epoch 2: epoch {st['epoch']} batch {st['batch']} lr {st['lr']}, expected 1, 2, 0.05")
    run(["train", "--out", paused, "--resume", "--max-steps", "10", "--progress", "never"])
    # The epoch's running sums went through the checkpoint: the pause at step 10 is the file a
    # run paused there at once writes.
    direct = os.path.join(tmp, "lr-decay-paused-10")
    run(args + ["--out", direct, "--max-steps", "10"])
    check(read(os.path.join(direct, "last.ckpt")) == read(os.path.join(paused, "last.ckpt")),
          "paused at step 9, resumed to a pause at 10: last.ckpt differs from a run paused at step 10 at once")
    nxt = flat_params(st, "next")
    diff = rel_diff(params(os.path.join(paused, "last.ckpt")), nxt)
    check(diff < 1e-6, f"step 10 of the run and `jacnoise step` from step 9 differ by {diff:.3g}")
    # Without a checkpoint, step starts where train does: the seed's initialisation, then the
    # first batch of epoch 1.
    first = os.path.join(tmp, "first-step")
    run(args + ["--out", first, "--max-steps", "1"])
    dump = os.path.join(tmp, "fresh.step")
    run(["step", "--dump", dump] + args[1:args.index("--lr-decay")])  # step's options come first
    nxt = flat_params(parse_dump(dump), "next")
    diff = rel_diff(params(os.path.join(first, "last.ckpt")), nxt)
    check(diff < 1e-6, f"step 1 of a fresh run and `jacnoise step` without a checkpoint differ by {diff:.3g}")


def metrics_newline(tmp, early):
    """A metrics.jsonl whose last line lost its newline by a hand edit, the line whole, is read
    whole: a resume said the epoch's line was lost; it keeps it and puts the newline back before
    the next epoch's line. A last line cut mid-way is torn, as a crash inside the append leaves
    it: its epoch is still lost."""
    for name, cut in (("no-newline", lambda line: line[:-1]), ("cut-line", lambda line: line[:len(line) // 2])):
        folder = os.path.join(tmp, name)
        run(early + ["--epochs", "2", "--out", folder])
        path = os.path.join(folder, "metrics.jsonl")
        whole = read(path)
        last = whole.splitlines(keepends=True)[-1]
        edited = whole[:-len(last)] + cut(last)
        open(path, "wb").write(edited)
        p = run(["train", "--out", folder, "--resume", "--epochs", "3", "--progress", "never"], expect=None)
        if name == "no-newline":
            epochs = [m["epoch"] for m in metrics(folder)]
            check(p.returncode == 0 and read(path).startswith(whole) and epochs == [1, 2, 3],
                  f"resumed with the last line of metrics.jsonl without its newline: exit {p.returncode}, "
                  f"{p.stderr!r}, metrics.jsonl {read(path)!r}")
        else:
            lost = f"{path}: 1 epoch line, but the checkpoint resumed has done 2 epochs"
            check(p.returncode == 1 and lost in p.stderr and read(path) == edited,
                  f"resumed with the last line of metrics.jsonl cut mid-way: exit {p.returncode}, {p.stderr!r}")


def metrics_order(tmp, early):
    """A metrics.jsonl whose epoch lines repeat or go backwards (a hand edit, a line pasted twice)
    stops the resume, naming the file and line, both files unchanged: such a file whose line
    count matched the checkpoint's epochs was resumed in silence, an epoch counted twice in
    place of the one lost, or out of order."""
    folder = os.path.join(tmp, "order")
    run(early + ["--epochs", "3", "--out", folder])
    path, last = os.path.join(folder, "metrics.jsonl"), os.path.join(folder, "last.ckpt")
    lines, before = read(path).splitlines(keepends=True), read(last)
    for name, order, line, said in (("a line repeated", [0, 1, 1], 3, "a second line of epoch 2"),
                                    ("a line repeated, all there", [0, 1, 1, 2], 3, "a second line of epoch 2"),
                                    ("lines out of order", [0, 2, 1], 3, "epoch 2 after epoch 3")):
        edited = b"".join(lines[i] for i in order)
        open(path, "wb").write(edited)
        p = run(["train", "--out", folder, "--resume", "--epochs", "4", "--progress", "never"], expect=None)
        byte = sum(len(lines[i]) for i in order[:line - 1])
        want = f"jacnoise: {path}: line {line} (byte {byte}): {said}: each epoch has one line, in order"
        check(p.returncode == 1 and p.stderr.startswith(want) and p.stderr.count("\n") == 1,
              f"resumed with {name} in metrics.jsonl: exit {p.returncode}, {p.stderr!r}, expected {want!r}")
        check(read(path) == edited and read(last) == before, f"resumed with {name} in metrics.jsonl: a file changed")


def batch_warning(tmp):
    """A --batch beyond the training set is warned of once, as the run starts: a resume, whose
    stored options all read as given, warned of the default batch no one gave ("--batch 100 is
    more than the 20 training examples"), and again of one given, at each resume."""
    few = ["train", "--data", "usps", "--hidden", "8", "--train-limit", "20", "--valid", "10", "--epochs", "1",
           "--progress", "never"]
    for name, given in (("default-batch", []), ("batch-given", ["--batch", "30"])):
        folder = os.path.join(tmp, name)
        p = run(few + given + ["--out", folder])
        check(("more than the 20 training examples" in p.stderr) == bool(given),
              f"{name}: the batch warning {'not ' if given else ''}said as the run started: {p.stderr!r}")
        p = run(["train", "--out", folder, "--resume", "--epochs", "2", "--progress", "never"])
        check("--batch" not in p.stderr, f"{name}: the batch warning said again by a resume: {p.stderr!r}")


def main():
    tmp = tempfile.mkdtemp(prefix="jacnoise-train-")
    # MLP+N+J with the output target: every noise stream and the shuffle are in play.
    small = ["train", "--data", "usps", "--hidden", "32,16", "--epochs", "3", "--train-limit", "600",
             "--valid", "200", "--batch", "32", "--lr", "0.05", "--input-noise", "0.2", "--jac-lambda", "0.1",
             "--jac-noise", "0.3", "--jac-target", "output", "--jac-proj", "2", "--progress", "never"]

    # Determinism: same seed, same configuration, same thread count: same bytes (SPEC.md
    # "Randomness"; the noise does not depend on threads, but OpenBLAS may pick other
    # kernels for other thread counts, so those are not promised to match).
    ref = os.path.join(tmp, "ref")
    run(small + ["--out", ref])
    again = os.path.join(tmp, "again")
    run(small + ["--out", again])
    same_run(ref, again, "same seed, same configuration")
    # Each epoch's objective is its terms' sum (SPEC: the loss, lambda times the penalty, the
    # weight decay), from the line's own numbers.
    for m in metrics(ref):
        want = m["train_loss"] + 0.1 * m["penalty"] + m["weight_decay"]
        check(abs(m["objective"] - want) <= 1e-9 * abs(want), f"epoch {m['epoch']}: objective {m['objective']}, "
              f"the terms add up to {want}")
    other = os.path.join(tmp, "other-seed")
    run(small + ["--out", other, "--seed", "2"])
    check(read(os.path.join(ref, "last.ckpt")) != read(os.path.join(other, "last.ckpt")),
          "another seed gave the same checkpoint")

    # Resume after a pause mid-epoch (--max-steps), twice.
    paused = os.path.join(tmp, "paused")
    run(small + ["--out", paused, "--max-steps", "7"])
    summary = json.load(open(os.path.join(paused, "summary.json")))
    check(summary["status"] == "paused" and summary["steps"] == 7 and "in epoch 1;" in summary["message"],
          f"pause summary: {summary}")
    # The second at an epoch's end (ceil(600 / 32) = 19 batches an epoch): the epoch ends, and
    # is evaluated, before the pause, which stands at the next epoch's start, none of whose
    # steps was taken ("in epoch 3" said otherwise).
    run(["train", "--out", paused, "--resume", "--max-steps", "38", "--progress", "never"])
    summary = json.load(open(os.path.join(paused, "summary.json")))
    check(summary["steps"] == 38 and "at the end of epoch 2;" in summary["message"] and summary["epochs"] == 2 and
          [m["epoch"] for m in metrics(paused)] == [1, 2], f"second pause, at epoch 2's end: {summary}, "
          f"metrics of epochs {[m['epoch'] for m in metrics(paused)]}")
    # A --max-steps the run is past already pauses it where it stands, saying that it counts
    # the run's steps, not the call's.
    p = run(["train", "--out", paused, "--resume", "--max-steps", "20", "--progress", "never"])
    summary = json.load(open(os.path.join(paused, "summary.json")))
    check(summary["steps"] == 38 and "paused after 38 steps at the end of epoch 2, already past --max-steps 20 (the run's "
          "steps in total, not this call's)" in p.stdout, f"--max-steps 20 at step 38: {p.stdout[-300:]!r}")
    run(["train", "--out", paused, "--resume", "--progress", "never"])
    same_run(ref, paused, "paused at steps 7 and 38, resumed")

    # --progress, as --max-steps, is the invocation's: a run started with --progress always,
    # resumed without it into a log (stderr no terminal), drew its progress lines there.
    drawn = os.path.join(tmp, "drawn")
    p = run(small[:-2] + ["--progress", "always", "--out", drawn, "--max-steps", "7"])
    check("\x1b[K" in p.stderr, f"--progress always drew no progress line: {p.stderr[-300:]!r}")
    # Nor did config.txt keep it, or the pause, for a new run started with --config
    # RUN/config.txt (its own line is a terminal's only: no line into a log; it paused at
    # step 7 as RUN had).
    text = read(os.path.join(drawn, "config.txt")).decode()
    check("progress=" not in text and "max-steps=" not in text,
          "config.txt recorded the --progress or --max-steps of the command that started the run")
    again = os.path.join(tmp, "drawn-again")
    p = run(["train", "--config", os.path.join(drawn, "config.txt"), "--out", again])
    check("\x1b[K" not in p.stderr, f"started with --config of a run started with --progress always: {p.stderr[-300:]!r}")
    same_run(ref, again, "started with --config of a run paused by --max-steps 7")
    p = run(["train", "--out", drawn, "--resume"])
    check("\x1b[K" not in p.stderr, f"started with --progress always, resumed without --progress: {p.stderr[-300:]!r}")
    same_run(ref, drawn, "started with --progress always, resumed")

    # --resume=auto (the README's first command, run twice): starts the run where --out holds
    # none, continues a paused one to the same bytes, and returns at once from a finished one
    # without a step (checkpoints and metrics untouched).
    auto = os.path.join(tmp, "auto")
    run(small + ["--out", auto, "--resume=auto", "--max-steps", "7"])
    run(small + ["--out", auto, "--resume=auto"])
    same_run(ref, auto, "--resume=auto: started, paused at step 7, continued")
    files = ("last.ckpt", "best.ckpt", "metrics.jsonl")
    before = [read(os.path.join(auto, f)) for f in files]
    p = run(small + ["--out", auto, "--resume=auto"])
    check([read(os.path.join(auto, f)) for f in files] == before, "--resume=auto of a finished run changed it")
    check("finished: trained 3 epochs" in p.stdout and "\nepoch " not in p.stdout,
          f"--resume=auto of a finished run: {p.stdout[-300:]!r}")

    # Resume after SIGTERM at a random moment (the run writes last.ckpt and exits 143), and
    # after SIGKILL (nothing written at the kill: the run goes on from the last checkpoint,
    # written every 5 steps).
    rng = random.Random(1234)
    for sig, name in ((signal.SIGTERM, "sigterm"), (signal.SIGKILL, "sigkill")):
        folder = os.path.join(tmp, name)
        p = subprocess.Popen([BIN] + small + ["--out", folder, "--checkpoint-steps", "5"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.05, 0.25))
        p.send_signal(sig)
        ended(p, f"{name}: a run sent {sig.name}", 120)
        started = os.path.exists(os.path.join(folder, "last.ckpt"))
        # SIGTERM once training runs: last.ckpt written, exit 143 (0 if it had finished);
        # before that (loading data) the default action applies and nothing is lost.
        expected = {signal.SIGTERM: (143, 0) if started else (143, -15), signal.SIGKILL: (-9, 0)}[sig]
        check(p.returncode in expected, f"{name}: exit {p.returncode}, expected one of {expected}")
        if started and p.returncode == 143:  # where it stopped, of 19 batches an epoch: the steps done
            summary = json.load(open(os.path.join(folder, "summary.json")))
            check(steps_named("terminated", summary["message"], 19) == summary["steps"], f"{name}: summary {summary}")
        if started:
            run(["train", "--out", folder, "--resume", "--progress", "never"])
        else:  # killed before the first checkpoint: start again
            run(small + ["--out", folder, "--checkpoint-steps", "5"])
        same_run(ref, folder, f"{name}, resumed")

    # Without a validation split (--valid 0, the reproduction's final runs) there is no
    # validation error to report: the last epoch counts as the best, and the run's reports say
    # so instead of a made-up value.
    novalid = os.path.join(tmp, "all-train")
    args = [a for a in small if a not in ("--valid", "200")] + ["--valid", "0", "--epochs", "2"]
    run(args + ["--out", novalid, "--max-steps", "20"])
    p = run(["train", "--out", novalid, "--resume", "--progress", "never"])
    summary = json.load(open(os.path.join(novalid, "summary.json")))
    epochs = metrics(novalid)
    check(summary["best_epoch"] == 2 and summary["best_valid_error"] is None,
          f"--valid 0 summary: {summary}")
    check(all(m["valid_error"] is None and m["best"] for m in epochs), f"--valid 0 metrics: {epochs}")
    check(summary["test_error"] == epochs[-1]["test_error"], "--valid 0: test error not the last epoch's")
    last = p.stdout.splitlines()[-1]
    check(last.startswith("finished: trained 2 epochs; epoch 2 (no validation split), test ") and
          "valid " not in last, f"--valid 0 final line: {last!r}")
    shown = run(["show", os.path.join(novalid, "last.ckpt")]).stdout
    state = next(line for line in shown.splitlines() if line.startswith("state:"))
    check(state == "state: finished, 2 epochs done, 38 steps", f"show of a --valid 0 run: {state!r}")

    # An early-stopped run resumed with a larger --patience (0: off) goes on, as a finished
    # one does with more --epochs, and ends with the epochs of a run never stopped; with no
    # epochs left it stays stopped and its message counts the epochs it waited, not the new
    # --patience.
    early = ["train", "--data", "usps", "--hidden", "8", "--train-limit", "200", "--valid", "100", "--epochs", "30",
             "--progress", "never"]
    stopped = os.path.join(tmp, "early-stopped")
    run(early + ["--patience", "1", "--out", stopped])
    summary = json.load(open(os.path.join(stopped, "summary.json")))
    at = summary["epochs"]
    check(summary["status"] == "early-stopped" and at < 30, f"--patience 1: {summary}")
    p = run(["train", "--out", stopped, "--resume", "--patience", "100", "--epochs", str(at), "--progress", "never"])
    check(f"stopped early after epoch {at}: no better validation error for 1 epoch;" in p.stdout and
          "\nepoch " not in p.stdout and len(metrics(stopped)) == at,
          f"early-stopped, resumed without epochs left: {p.stdout[-300:]!r}")
    patience_rule(tmp, early)
    all_wrong_first(tmp)
    rule_at_pause(tmp, early)
    rule_at_finish(tmp, early)
    best_ahead(tmp)
    metrics_newline(tmp, early)
    metrics_order(tmp, early)
    batch_warning(tmp)
    weight_decay_term(tmp, early)
    weight_decay_step(tmp)
    schedule_and_shuffle(tmp)
    epoch_sums(tmp)
    p = run(["train", "--out", stopped, "--resume", "--patience", "0", "--progress", "never"])
    never = os.path.join(tmp, "never-stopped")
    run(early + ["--patience", "0", "--out", never])
    summary = json.load(open(os.path.join(stopped, "summary.json")))
    check(summary["status"] == "finished" and "finished: trained 30 epochs" in p.stdout,
          f"early-stopped, resumed with --patience 0: {summary}; {p.stdout[-300:]!r}")
    check(metrics(stopped) == metrics(never), "early-stopped, resumed with --patience 0: metrics differ from a run "
          "never stopped")

    # A real MNIST run learns. 10,000 examples, 784-100-10, 4 epochs: a linear classifier
    # reaches ~8-9% test error on this much data, a tanh MLP ~5-6%; chance is 90%. A bound
    # of 10% fails a broken trainer whatever the seed, and passes a working one with margin.
    mnist = os.path.join(tmp, "mnist")
    p = run(["train", "--data", "mnist", "--hidden", "100", "--epochs", "4", "--train-limit", "10000",
             "--valid", "2000", "--lr", "0.05", "--jac-lambda", "0.01", "--jac-noise", "0.1",
             "--out", mnist, "--progress", "never"])
    summary = json.load(open(os.path.join(mnist, "summary.json")))
    print(p.stdout)
    check(summary["status"] == "finished", f"MNIST run status {summary['status']}")
    check(summary["test_error"] is not None and summary["test_error"] < 10.0,
          f"MNIST test error {summary['test_error']}% not under 10%")
    check(len(metrics(mnist)) == 4, "metrics.jsonl should have 4 epochs")
    # eval on the best checkpoint reports the same errors as the run.
    e = run(["eval", "--checkpoint", os.path.join(mnist, "best.ckpt")])
    report = json.loads(e.stdout)
    check(abs(report["splits"]["test"]["error"] - summary["test_error"]) < 1e-9,
          f"eval test error {report['splits']['test']['error']} vs run {summary['test_error']}")
    check(abs(report["splits"]["valid"]["error"] - summary["best_valid_error"]) < 1e-9,
          f"eval valid error {report['splits']['valid']['error']} vs run {summary['best_valid_error']}")
    check(report["splits"]["test"]["jacobian_sq"] > 0 and report["splits"]["test"]["curvature"] > 0,
          "eval: Jacobian norm and curvature should be positive")

    return finish("training", tmp)


if __name__ == "__main__":
    sys.exit(main())
