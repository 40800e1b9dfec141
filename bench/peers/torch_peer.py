"""The jacnoise training step written the way a PyTorch user would write it.

One step of SPEC.md: the main loss at x + s_in xi, the Jacobian penalty at x~ = x + s_J eps
(hidden1 closed form; Hutchinson JVPs for output / hidden:k; the exact norm), weight decay on
the weights, SGD with momentum (torch.optim.SGD). Two styles:

  eager  plain autograd; the JVP by the double-backward trick (a vector-Jacobian product
         with a dummy cotangent, differentiated again), the exact norm by one backward pass
         per output unit, both with create_graph so the penalty's gradient follows;
  func   functorch / torch.func: jvp (forward mode) for J v, vmap(jacrev) for the exact
         norm, grad of the whole objective.

`check` recomputes a `jacnoise step --dump` state (same parameters, batch and noise) and
returns the relative differences of the loss, penalty, objective and gradient; `step_timer`
times whole steps (batch gather, fresh noise, objective, gradient, update) on synthetic data
of the same shape."""
import time

import numpy as np
import torch

import common
from common import Config, rel

try:  # torch >= 2.0
    from torch.func import grad as f_grad, jacrev as f_jacrev, jvp as f_jvp, vmap as f_vmap
except ImportError:  # torch 1.13 ships the same as functorch
    from functorch import grad as f_grad, jacrev as f_jacrev, jvp as f_jvp, vmap as f_vmap

STYLES = ("eager", "func")


def forward(params, x, top):
    return common.forward(params, x, top, torch.tanh)


def main_loss(cfg, params, x, y):
    z = forward(params, x, cfg.L)
    if cfg.loss_kind == 0:
        return torch.nn.functional.cross_entropy(z, y)
    onehot = torch.nn.functional.one_hot(y, cfg.sizes[-1]).to(z.dtype)
    return 0.5 * ((torch.softmax(z, dim=1) - onehot) ** 2).sum(1).mean()


def penalty_rows(cfg, params, xt, v, style):
    """R_i for one corrupted copy xt (B x d); v: K x B x d Gaussian tangents (None: exact)."""
    if cfg.target == "hidden1":
        return common.hidden1_rows(params, xt, torch.tanh)
    g = lambda inp: forward(params, inp, cfg.top)
    B = xt.shape[0]
    if v is not None:
        K = v.shape[0]
        xs, vs = xt.repeat(K, 1), v.reshape(K * B, -1)
        if style == "func":
            _, jv = f_jvp(g, (xs,), (vs,))
        else:
            xs = xs.detach().requires_grad_(True)
            out = g(xs)
            u = torch.zeros_like(out, requires_grad=True)
            (vjp,) = torch.autograd.grad(out, xs, u, create_graph=True)
            (jv,) = torch.autograd.grad(vjp, u, vs, create_graph=True)
        return (jv ** 2).sum(1).reshape(K, B).mean(0)
    if style == "func":
        J = f_vmap(f_jacrev(lambda row: g(row[None])[0]))(xt)
        return (J ** 2).sum((1, 2))
    xs = xt.detach().requires_grad_(True)
    out = g(xs)
    R = 0
    for c in range(out.shape[1]):
        (row,) = torch.autograd.grad(out[:, c].sum(), xs, create_graph=True)
        R = R + (row ** 2).sum(1)
    return R


def objective(cfg, params, x, y, xi, eps, v, style):
    """(objective, loss, penalty) of SPEC.md for one batch and its noise."""
    loss = main_loss(cfg, params, x + cfg.s_in * xi if xi is not None else x, y)
    penalty = torch.zeros((), dtype=x.dtype, device=x.device)
    if cfg.lam > 0:
        R = 0
        for c in range(cfg.copies):
            xt = x + cfg.s_j * eps[c] if eps is not None else x
            R = R + penalty_rows(cfg, params, xt, v[c] if v is not None else None, style)
        penalty = (R / cfg.copies).mean()
    wd = 0.5 * cfg.wd * sum((W ** 2).sum() for W in params[0::2])
    return loss + cfg.lam * penalty + wd, loss, penalty


def gradient(cfg, params, batch, style):
    """(objective, loss, penalty, [dObj/dp])."""
    if style == "func":
        def f(ps):
            obj, loss, pen = objective(cfg, ps, *batch, style)
            return obj, (loss, pen)
        grads, (loss, pen) = f_grad(f, has_aux=True)(list(params))
        obj = loss + cfg.lam * pen + 0.5 * cfg.wd * sum((W ** 2).sum() for W in params[0::2])
        return obj, loss, pen, grads
    obj, loss, pen = objective(cfg, params, *batch, style)
    grads = torch.autograd.grad(obj, params)
    return obj, loss, pen, grads


def tensors(st, device):
    L = len(st["sizes"]) - 1
    params = []
    for l in range(1, L + 1):
        params += [torch.tensor(st["W%d" % l], device=device), torch.tensor(st["b%d" % l], device=device)]
    get = lambda k: torch.tensor(st[k], device=device) if k in st else None
    return params, (get("x"), torch.tensor(st["y"], dtype=torch.long, device=device), get("xi"), get("eps"), get("v"))


def check(st, style, device="cpu"):
    """Relative differences to jacnoise's dump: {loss, penalty, objective, gradient}."""
    cfg = Config(st)
    params, batch = tensors(st, device)
    params = [p.requires_grad_(True) for p in params]
    obj, loss, pen, grads = gradient(cfg, params, batch, style)
    names = ["%s%d" % (k, l) for l in range(1, cfg.L + 1) for k in ("W", "b")]
    g_ours = np.concatenate([g.detach().cpu().numpy().ravel() for g in grads])
    g_theirs = np.concatenate([st["grad." + n].ravel() for n in names])
    return {"loss": rel(loss.item(), st["loss"]), "penalty": rel(pen.item(), st["penalty"]) if cfg.lam > 0 else 0.0,
            "objective": rel(obj.item(), st["objective"]), "gradient": rel(g_ours, g_theirs)}


def step_timer(st, style, device="cpu", n_examples=10000, seed=0):
    """A timer of whole training steps on synthetic data of the dump's shape: run(reps,
    warmup) gives the median seconds of reps steps after warmup untimed ones. The model and
    the optimizer carry over from call to call, so that a run's rounds can alternate with
    other programs'."""
    cfg = Config(st)
    torch.manual_seed(seed)
    params, _ = tensors(st, device)
    params = [p.clone().requires_grad_(True) for p in params]
    opt = torch.optim.SGD([{"params": params[0::2], "weight_decay": cfg.wd},
                           {"params": params[1::2], "weight_decay": 0.0}], lr=cfg.lr, momentum=cfg.mu)
    d, B = cfg.sizes[0], int(st["rows"])
    X = torch.rand(n_examples, d, device=device)
    Y = torch.randint(0, cfg.sizes[-1], (n_examples,), device=device)
    no_wd = Config(st)
    no_wd.wd = 0.0  # the optimizer applies weight decay, as jacnoise's update does

    def run(reps, warmup):
        times = []
        for r in range(warmup + reps):
            if device != "cpu":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            idx = torch.randint(0, n_examples, (B,), device=device)
            x, y = X[idx], Y[idx]
            xi = torch.randn(B, d, device=device) if cfg.s_in > 0 else None
            eps = torch.randn(cfg.copies, B, d, device=device) if cfg.lam > 0 and cfg.s_j > 0 else None
            v = (torch.randn(cfg.copies, cfg.K, B, d, device=device)
                 if cfg.lam > 0 and cfg.target != "hidden1" and cfg.proj > 0 else None)
            _, _, _, grads = gradient(no_wd, params, (x, y, xi, eps, v), style)
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
            if device != "cpu":
                torch.cuda.synchronize()
            if r >= warmup:
                times.append(time.perf_counter() - t0)
        return float(np.median(times))
    return run
