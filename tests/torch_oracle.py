#!/usr/bin/env python3
"""Autograd oracle: checks `jacnoise step --dump` against PyTorch in float64.

For each configuration the engine writes one training step's state (parameters, batch,
noise, loss terms, gradients, update). This script takes the same inputs and recomputes
everything with PyTorch autograd in float64, without the hand-derived formulas of
SPEC.md: the input Jacobian of the penalised map comes from a first backward pass with
create_graph=True, the parameter gradients from a second one (double backward), so the
closed form for hidden1 and the reverse-over-forward pass of the engine are both checked
against plain differentiation. Every engine tensor must match to a relative error of
1e-5 (the engine computes in float32).

A step that diverges (the resumed run's logits overflowing float32) exits 3 with one line
naming the loss and the dump, which is written whole for debugging, its loss NaN.

Environment (set by CTest): JACNOISE_BIN, the jacnoise program; JACNOISE_DATA, the folder
with the MNIST and USPS files. Exit 0 pass, 1 fail, 77 skip (no torch, unless
JACNOISE_REQUIRE_TORCH=1).
"""
import os
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import torch
    from stepstate import DumpError, parse_dump
except ImportError as e:
    msg = "torch_oracle: PyTorch/numpy not importable (%s)" % e
    if os.environ.get("JACNOISE_REQUIRE_TORCH") == "1":
        from harness import TORCH_MISSING
        print(f"{msg}: {TORCH_MISSING}", file=sys.stderr)
        sys.exit(1)
    print(msg + "; skipping (set JACNOISE_REQUIRE_TORCH=1 to make this fail)", file=sys.stderr)
    sys.exit(77)

TOL = 1e-5         # relative error allowed against the float64 oracle
ZERO_TOL = 1e-12   # absolute norm allowed where the oracle is exactly zero
F64 = torch.float64

# The options every fresh configuration shares: both noises on, so that xi, eps and v are
# all exercised, plus weight decay and momentum for the update.
COMMON = ["--data", "usps", "--hidden", "12,9", "--batch", "8",
          "--input-noise", "0.3", "--jac-noise", "0.2", "--jac-lambda", "0.5",
          "--weight-decay", "0.01", "--jac-copies", "2", "--momentum", "0.9", "--lr", "0.05"]
COMMON_VALUES = {"input_noise": 0.3, "jac_noise": 0.2, "jac_lambda": 0.5, "weight_decay": 0.01,
                 "jac_copies": 2, "momentum": 0.9, "lr": 0.05, "rows": 8}

# (label, extra options, expected configuration scalars of the dump). An option given twice
# takes its last value, so "--data mnist" overrides COMMON's usps.
CONFIGS = [
    ("hidden1", ["--jac-target", "hidden1", "--seed", "11"],
     {"target_kind": 0, "target_layer": 1, "tangents": 0}),
    ("hidden:1 K=3", ["--jac-target", "hidden:1", "--jac-proj", "3", "--seed", "12"],
     {"target_kind": 1, "target_layer": 1, "jac_proj": 3, "tangents": 3}),
    ("hidden:2 K=2", ["--jac-target", "hidden:2", "--jac-proj", "2", "--seed", "13"],
     {"target_kind": 1, "target_layer": 2, "jac_proj": 2, "tangents": 2}),
    ("output K=1", ["--jac-target", "output", "--jac-proj", "1", "--seed", "14"],
     {"target_kind": 2, "target_layer": 3, "jac_proj": 1, "tangents": 1}),
    ("output K=3", ["--jac-target", "output", "--jac-proj", "3", "--seed", "15"],
     {"target_kind": 2, "target_layer": 3, "jac_proj": 3, "tangents": 3}),
    ("output exact", ["--jac-target", "output", "--jac-proj", "exact", "--seed", "16"],
     {"target_kind": 2, "target_layer": 3, "jac_proj": 0, "tangents": 10}),
    ("hidden:2 exact", ["--jac-target", "hidden:2", "--jac-proj", "exact", "--seed", "17"],
     {"target_kind": 1, "target_layer": 2, "jac_proj": 0, "tangents": 256}),
    ("hidden:1 exact", ["--jac-target", "hidden:1", "--jac-proj", "exact", "--seed", "18"],
     {"target_kind": 1, "target_layer": 1, "jac_proj": 0, "tangents": 256}),
    ("squared output K=2", ["--loss", "squared", "--jac-target", "output", "--jac-proj", "2", "--seed", "19"],
     {"loss_kind": 1, "target_kind": 2, "target_layer": 3, "jac_proj": 2, "tangents": 2}),
    ("mnist hidden1", ["--data", "mnist", "--jac-target", "hidden1", "--seed", "20"],
     {"target_kind": 0, "target_layer": 1, "tangents": 0}),
    ("mnist output K=1", ["--data", "mnist", "--jac-target", "output", "--jac-proj", "1", "--seed", "21"],
     {"target_kind": 2, "target_layer": 3, "jac_proj": 1, "tangents": 1}),
    # Depths other than two hidden layers: the output layer right above the first (no layer
    # between the two passes' ends), and three hidden layers.
    ("1 hidden output exact", ["--hidden", "12", "--jac-target", "output", "--jac-proj", "exact", "--seed", "22"],
     {"target_kind": 2, "target_layer": 2, "jac_proj": 0, "tangents": 10}),
    ("1 hidden hidden:1 K=2", ["--hidden", "12", "--jac-target", "hidden:1", "--jac-proj", "2", "--seed", "23"],
     {"target_kind": 1, "target_layer": 1, "jac_proj": 2, "tangents": 2}),
    ("3 hidden hidden:3 K=2", ["--hidden", "12,9,7", "--jac-target", "hidden:3", "--jac-proj", "2", "--seed", "24"],
     {"target_kind": 1, "target_layer": 3, "jac_proj": 2, "tangents": 2}),
    # A batch of one, and a batch shorter than --batch (the first 5 examples, as an epoch's last
    # batch where --batch does not divide the set): the means are over the rows there are. MNIST
    # and no input noise for the one row, so that each noise buffer holds enough draws for
    # structure_problems' bounds.
    ("batch of 1 output K=2", ["--data", "mnist", "--batch", "1", "--input-noise", "0", "--jac-target", "output",
                               "--jac-proj", "2", "--seed", "25"],
     {"rows": 1, "input_noise": 0, "target_kind": 2, "target_layer": 3, "jac_proj": 2, "tangents": 2}),
    ("5 rows of 8, hidden1", ["--train-limit", "5", "--jac-target", "hidden1", "--seed", "26"],
     {"rows": 5, "target_kind": 0, "target_layer": 1, "tangents": 0}),
    ("5 rows of 8, output K=2", ["--train-limit", "5", "--jac-target", "output", "--jac-proj", "2", "--seed", "27"],
     {"rows": 5, "target_kind": 2, "target_layer": 3, "jac_proj": 2, "tangents": 2}),
]

# The resumed configuration: a short training run, then the step after its checkpoint. Its
# biases are the only ones not zero (a fresh model's are): with weight decay, it alone tells an
# update that decays the biases too (the fresh steps' decay of zero is zero).
TRAIN_ARGS = ["--data", "usps", "--hidden", "12,9", "--batch", "8", "--max-steps", "5",
              "--progress", "never", "--jac-lambda", "0.5", "--jac-noise", "0.2",
              "--input-noise", "0.3", "--jac-target", "output", "--lr", "0.05", "--weight-decay", "0.01"]
RESUMED_VALUES = {"input_noise": 0.3, "jac_noise": 0.2, "jac_lambda": 0.5, "lr": 0.05, "weight_decay": 0.01,
                  "rows": 8, "target_kind": 2, "target_layer": 3, "global_step": 5, "batch": 5, "epoch": 0}


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("command failed (exit %d): %s\n%s" % (p.returncode, " ".join(cmd), p.stdout))
    return p.stdout


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def forward(Ws, bs, x, top=None):
    """a_top of the tanh MLP (the logits when top is None or L)."""
    L = len(Ws)
    top = L if top is None else top
    a = x
    for l in range(top):
        z = a @ Ws[l].T + bs[l]
        a = torch.tanh(z) if l < L - 1 else z
    return a


def input_jacobians(Ws, bs, xt, top):
    """Per-example Jacobians d a_top(x~_i) / d x~_i, B x n_top x d, differentiable in the
    parameters. Rows of an MLP are independent, so the gradient of column j summed over the
    batch is, row by row, the j-th row of each example's Jacobian."""
    xt = xt.detach().requires_grad_(True)
    g = forward(Ws, bs, xt, top)
    rows = [torch.autograd.grad(g[:, j].sum(), xt, create_graph=True)[0] for j in range(g.shape[1])]
    return torch.stack(rows, dim=1)


def oracle(st):
    """Float64 recomputation of the step from the dump's inputs; returns {name: tensor}."""
    sizes = [int(s) for s in st["sizes"]]
    L = len(sizes) - 1
    B = int(st["rows"])
    s_in, s_j, lam = st["input_noise"], st["jac_noise"], st["jac_lambda"]
    wd, lr, mu = st["weight_decay"], st["lr"], st["momentum"]
    m, top = int(st["jac_copies"]), int(st["target_layer"])
    gaussian = "v" in st
    Ws = [t64(st["W%d" % l]).requires_grad_(True) for l in range(1, L + 1)]
    bs = [t64(st["b%d" % l]).requires_grad_(True) for l in range(1, L + 1)]
    params = [p for pair in zip(Ws, bs) for p in pair]
    names = [n for l in range(1, L + 1) for n in ("W%d" % l, "b%d" % l)]
    x = t64(st["x"])
    y = torch.from_numpy(st["y"].astype(np.int64))

    # Main loss at x + s_in xi.
    xin = x + s_in * t64(st["xi"]) if "xi" in st else x
    z = forward(Ws, bs, xin)
    if int(st["loss_kind"]) == 0:
        loss = torch.nn.functional.cross_entropy(z, y, reduction="mean")
    else:
        onehot = torch.nn.functional.one_hot(y, sizes[-1]).to(F64)
        loss = 0.5 * ((torch.softmax(z, dim=1) - onehot) ** 2).sum(1).mean()
    errors = int((z.argmax(1) != y).sum())
    top2 = z.detach().topk(2, dim=1).values
    near_tie = bool(((top2[:, 0] - top2[:, 1]) < 1e-4).any())

    # Penalty: mean over copies of ||J||_F^2 or of the Hutchinson estimate (1/K) sum ||J v||^2.
    R = torch.zeros(B, dtype=F64)
    for c in range(m):
        xt = x + s_j * t64(st["eps"][c]) if "eps" in st else x
        J = input_jacobians(Ws, bs, xt, top)                 # B x n_top x d
        if gaussian:
            v = t64(st["v"][c])                               # K x B x d
            Jv = torch.einsum("bnd,kbd->kbn", J, v)
            R = R + (Jv ** 2).sum(2).mean(0)
        else:
            R = R + (J ** 2).sum((1, 2))
    R = R / m
    penalty = R.mean()
    wd_term = 0.5 * wd * sum((W ** 2).sum() for W in Ws)
    objective = loss + lam * penalty + wd_term

    def grads(f):
        gs = torch.autograd.grad(f, params, retain_graph=True, allow_unused=True)
        return [torch.zeros_like(p) if g is None else g for p, g in zip(params, gs)]

    g_loss = grads(loss)
    g_pen = grads(lam * penalty)
    g_full = grads(objective)   # its own backward pass: checks the assembly, wd included
    out = {"loss": loss, "penalty": penalty, "weight_decay_term": wd_term, "objective": objective,
           "loss_alone": loss, "penalty_alone": penalty}
    for n, p, gl, gp, gf in zip(names, params, g_loss, g_pen, g_full):
        vel = mu * t64(st["velocity." + n]) + gf
        out["grad_loss." + n] = gl
        out["grad_penalty." + n] = gp
        out["grad." + n] = gf
        out["next_velocity." + n] = vel
        out["next." + n] = p.detach() - lr * vel
    return {k: v.detach() for k, v in out.items()}, errors, near_tie


def rel_error(a, b):
    """||a - b|| / ||b||, or ||a|| where the oracle b is exactly zero (inf if over ZERO_TOL)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    nb = np.linalg.norm(b)
    if nb == 0:
        na = np.linalg.norm(a)
        return 0.0 if na <= ZERO_TOL else float("inf")
    return float(np.linalg.norm(a - b) / nb)


def compare(st, ref):
    """[(name, relative error)] for every oracle tensor; a missing engine tensor is inf."""
    return [(name, rel_error(st[name], ref[name].numpy()) if name in st else float("inf"))
            for name in sorted(ref)]


def structure_problems(st, expected):
    """Checks the dump's configuration and noise buffers against what was asked for."""
    bad = []
    for k, v in expected.items():
        if k not in st or abs(st[k] - v) > 1e-12 * max(1.0, abs(v)):
            bad.append("%s = %s, expected %s" % (k, st.get(k), v))
    B, d = int(st["rows"]), int(st["sizes"][0])
    m, K = int(st["jac_copies"]), int(st["tangents"])
    want = {"xi": (B, d) if st["input_noise"] > 0 else None,
            "eps": (m, B, d) if st["jac_lambda"] > 0 and st["jac_noise"] > 0 else None,
            "v": (m, K, B, d) if st["jac_lambda"] > 0 and st["jac_proj"] > 0 and st["target_kind"] != 0 else None}
    for k, shape in want.items():
        have = st[k].shape if k in st else None
        if have != shape:
            bad.append("%s has shape %s, expected %s" % (k, have, shape))
        elif shape is not None:
            # Standard normal draws: thousands of them, so these bounds are > 4 sigma wide.
            mean, std = float(st[k].mean()), float(st[k].std())
            if abs(mean) > 0.1 or abs(std - 1) > 0.1:
                bad.append("%s is not standard normal (mean %.3g, std %.3g)" % (k, mean, std))
    if not (st["x"].min() >= 0 and st["x"].max() <= 1):
        bad.append("x outside [0, 1]")
    return bad


def self_check(st, ref, tmp, path):
    """The checks must be able to fail: a 1e-4 relative error in one gradient, and a flipped
    byte in the file, are both caught."""
    bad = []
    spoiled = dict(st)
    spoiled["grad_penalty.W1"] = st["grad_penalty.W1"] * (1 + 1e-4)
    if max(e for _, e in compare(spoiled, ref)) < TOL:
        bad.append("self-check: a 1e-4 error in grad_penalty.W1 went unnoticed")
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    raw[len(raw) // 2] ^= 0x01
    corrupt = os.path.join(tmp, "corrupt.bin")
    with open(corrupt, "wb") as f:
        f.write(raw)
    try:
        parse_dump(corrupt)
        bad.append("self-check: a flipped byte passed the CRC check")
    except DumpError:
        pass
    return bad


def diverged_step(exe, data, ckpt, tmp):
    """jacnoise step on a copy of ckpt whose last layer's weights are 3e38: problems found."""
    from ckpt import set_weights  # numpy's reader of checkpoints, with the tests' harness
    diverged, path = os.path.join(tmp, "diverged.ckpt"), os.path.join(tmp, "diverged.bin")
    with open(ckpt, "rb") as f, open(diverged, "wb") as g:
        g.write(f.read())
    set_weights(diverged, -1, 3e38)
    p = subprocess.run([exe, "step", "--data-dir", data, "--checkpoint", diverged, "--dump", path],
                       capture_output=True, text=True, timeout=300)
    want = "jacnoise: step: the loss is not finite (NaN or Inf) at epoch 1 batch 6 (step 6): the step diverges; %s" % path
    if p.returncode != 3 or not p.stderr.startswith(want) or p.stderr.count("\n") != 1:
        return ["diverged step: exit %d, stderr %r" % (p.returncode, p.stderr)]
    try:
        loss = float(parse_dump(path)["loss"])
    except (DumpError, KeyError) as e:
        return ["diverged step: its dump: %s" % e]
    return [] if loss != loss else ["diverged step: the dump's loss %r, not NaN" % loss]


def main():
    exe = os.environ.get("JACNOISE_BIN")
    data = os.environ.get("JACNOISE_DATA")
    if not exe or not os.access(exe, os.X_OK):
        print("torch_oracle: JACNOISE_BIN must name the jacnoise program (CTest sets it)", file=sys.stderr)
        return 1
    if not data or not os.path.isdir(data):
        print("torch_oracle: JACNOISE_DATA must name the folder with MNIST and USPS (CTest sets it)",
              file=sys.stderr)
        return 1
    torch.set_num_threads(2)
    start = time.time()
    failures = []
    with tempfile.TemporaryDirectory(prefix="jn_oracle_") as tmp:
        jobs = [(label, [exe, "step", "--data-dir", data] + COMMON + extra, dict(COMMON_VALUES, **values))
                for label, extra, values in CONFIGS]
        run_dir = os.path.join(tmp, "run")
        ckpt = os.path.join(run_dir, "last.ckpt")
        jobs.append(("resumed output K=1", None, RESUMED_VALUES))

        print("%-24s %-12s %-26s %s" % ("configuration", "worst rel", "tensor", "result"))
        for i, (label, cmd, expected) in enumerate(jobs):
            path = os.path.join(tmp, "step%d.bin" % i)
            try:
                if cmd is None:
                    run([exe, "train", "--data-dir", data, "--out", run_dir] + TRAIN_ARGS)
                    cmd = [exe, "step", "--data-dir", data, "--checkpoint", ckpt]
                run(cmd + ["--dump", path])
                st = parse_dump(path)
            except (RuntimeError, DumpError) as e:
                failures.append("%s: %s" % (label, e))
                print("%-24s %-12s %-26s FAIL (no usable dump)" % (label, "-", "-"))
                continue
            problems = structure_problems(st, expected)
            if cmd is not None and "--checkpoint" in cmd:
                vel = sum(float(np.linalg.norm(st[k])) for k in st if k.startswith("velocity."))
                if vel == 0:
                    problems.append("the checkpoint's velocity is zero")
                if not all(st[k].any() for k in st if k[0] == "b" and k[1:].isdigit()):
                    problems.append("a layer of the checkpoint's biases is zero")
            ref, errors, near_tie = oracle(st)
            if not near_tie and int(st["errors"]) != errors:
                problems.append("errors = %d, oracle %d" % (int(st["errors"]), errors))
            results = compare(st, ref)
            worst_name, worst = max(results, key=lambda r: r[1])
            failed = [(n, e) for n, e in results if not e < TOL]
            if i == 0:
                problems += self_check(st, ref, tmp, path)
            ok = not failed and not problems
            print("%-24s %-12.3e %-26s %s" % (label, worst, worst_name, "ok" if ok else "FAIL"))
            for n, e in failed:
                a = st.get(n)
                detail = ""
                if a is not None:
                    detail = " (engine norm %.9g, oracle norm %.9g)" % (
                        np.linalg.norm(np.asarray(a, dtype=np.float64)), np.linalg.norm(ref[n].numpy()))
                failures.append("%s: %s relative error %.3e > %g%s" % (label, n, e, TOL, detail))
            failures += ["%s: %s" % (label, p) for p in problems]
        failures += diverged_step(exe, data, ckpt, tmp)
    print("%d configurations in %.1f s" % (len(jobs), time.time() - start))
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("all tensors agree with the float64 autograd oracle within %g" % TOL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
