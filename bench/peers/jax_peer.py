"""The jacnoise training step written the way a JAX user would write it: one jax.jit'ed
function for the whole step (batch gather, noise from jax.random, the objective of SPEC.md
with jax.jvp for the Hutchinson penalty and vmap(jacrev) for the exact norm, value_and_grad,
SGD with momentum). `check` and `step_timer` mirror torch_peer.py. Importing this module
raises ImportError where JAX is not installed; run_peers.py then skips it."""
import time

import numpy as np

import jax
import jax.numpy as jnp

import common
from common import Config, rel

STYLES = ("jit",)


def forward(params, x, top):
    return common.forward(params, x, top, jnp.tanh)


def main_loss(cfg, params, x, y):
    z = forward(params, x, cfg.L)
    if cfg.loss_kind == 0:
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.take_along_axis(z, y[:, None], axis=1)[:, 0])
    p = jax.nn.softmax(z, axis=1)
    return 0.5 * jnp.mean(jnp.sum((p - jax.nn.one_hot(y, cfg.sizes[-1])) ** 2, axis=1))


def penalty_rows(cfg, params, xt, v):
    if cfg.target == "hidden1":
        return common.hidden1_rows(params, xt, jnp.tanh)
    g = lambda inp: forward(params, inp, cfg.top)
    B = xt.shape[0]
    if v is not None:
        K = v.shape[0]
        _, jv = jax.jvp(g, (jnp.tile(xt, (K, 1)),), (v.reshape(K * B, -1),))
        return jnp.mean(jnp.sum(jv ** 2, axis=1).reshape(K, B), axis=0)
    J = jax.vmap(jax.jacrev(lambda row: g(row[None])[0]))(xt)
    return jnp.sum(J ** 2, axis=(1, 2))


def objective(cfg, params, x, y, xi, eps, v, with_wd=True):
    loss = main_loss(cfg, params, x + cfg.s_in * xi if xi is not None else x, y)
    penalty = jnp.zeros((), x.dtype)
    if cfg.lam > 0:
        R = 0
        for c in range(cfg.copies):
            xt = x + cfg.s_j * eps[c] if eps is not None else x
            R = R + penalty_rows(cfg, params, xt, v[c] if v is not None else None)
        penalty = jnp.mean(R / cfg.copies)
    wd = 0.5 * cfg.wd * sum(jnp.sum(W ** 2) for W in params[0::2]) if with_wd else 0.0
    return loss + cfg.lam * penalty + wd, (loss, penalty)


def params_of(st):
    L = len(st["sizes"]) - 1
    return [jnp.asarray(st[k % l]) for l in range(1, L + 1) for k in ("W%d", "b%d")]


def check(st, style="jit", device="cpu"):
    cfg = Config(st)
    params = params_of(st)
    get = lambda k: jnp.asarray(st[k]) if k in st else None
    batch = (get("x"), jnp.asarray(st["y"], dtype=jnp.int32), get("xi"), get("eps"), get("v"))
    f = jax.jit(jax.value_and_grad(lambda ps: objective(cfg, ps, *batch), has_aux=True))
    (obj, (loss, pen)), grads = f(params)
    names = ["%s%d" % (k, l) for l in range(1, cfg.L + 1) for k in ("W", "b")]
    g_ours = np.concatenate([np.asarray(g).ravel() for g in grads])
    g_theirs = np.concatenate([st["grad." + n].ravel() for n in names])
    return {"loss": rel(float(loss), st["loss"]), "penalty": rel(float(pen), st["penalty"]) if cfg.lam > 0 else 0.0,
            "objective": rel(float(obj), st["objective"]), "gradient": rel(g_ours, g_theirs)}


def step_timer(st, style, device="cpu", n_examples=10000, seed=0):
    """As torch_peer.step_timer: run(reps, warmup), the state (and the compiled step) kept."""
    cfg = Config(st)
    d, B, C = cfg.sizes[0], int(st["rows"]), cfg.sizes[-1]
    key = jax.random.PRNGKey(seed)
    kx, ky, key = jax.random.split(key, 3)
    X = jax.random.uniform(kx, (n_examples, d))
    Y = jax.random.randint(ky, (n_examples,), 0, C)
    params = params_of(st)
    vel = [jnp.zeros_like(p) for p in params]
    use_xi, use_eps = cfg.s_in > 0, cfg.lam > 0 and cfg.s_j > 0
    use_v = cfg.lam > 0 and cfg.target != "hidden1" and cfg.proj > 0

    @jax.jit
    def step(params, vel, key):
        key, ki, kn1, kn2, kn3 = jax.random.split(key, 5)
        idx = jax.random.randint(ki, (B,), 0, n_examples)
        x, y = X[idx], Y[idx]
        xi = jax.random.normal(kn1, (B, d)) if use_xi else None
        eps = jax.random.normal(kn2, (cfg.copies, B, d)) if use_eps else None
        v = jax.random.normal(kn3, (cfg.copies, cfg.K, B, d)) if use_v else None
        grads, _ = jax.grad(lambda ps: objective(cfg, ps, x, y, xi, eps, v, with_wd=False), has_aux=True)(params)
        # SGD with momentum, weight decay on the weights (jacnoise's update).
        vel = [cfg.mu * m + g + (cfg.wd * p if i % 2 == 0 else 0.0)
               for i, (p, m, g) in enumerate(zip(params, vel, grads))]
        params = [p - cfg.lr * m for p, m in zip(params, vel)]
        return params, vel, key

    state = [params, vel, key]

    def run(reps, warmup):
        times = []
        for r in range(warmup + reps):
            t0 = time.perf_counter()
            state[:] = step(*state)
            jax.block_until_ready(state[0])
            if r >= warmup:
                times.append(time.perf_counter() - t0)
        return float(np.median(times))
    return run
