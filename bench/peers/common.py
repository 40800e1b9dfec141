"""What the peers share without depending on a framework: the step's settings read from a
`jacnoise step --dump` state, the model and the hidden1 closed form written once for any
array type with @ and .sum (torch tensors, jax arrays; the framework's tanh is passed in),
and relative differences."""
import numpy as np


class Config:
    """What a step computes, read from the dump's settings."""

    def __init__(self, st):
        self.sizes = [int(s) for s in st["sizes"]]
        self.L = len(self.sizes) - 1
        self.loss_kind = int(st["loss_kind"])
        self.s_in, self.s_j, self.lam = st["input_noise"], st["jac_noise"], st["jac_lambda"]
        self.copies, self.wd = int(st["jac_copies"]), st["weight_decay"]
        self.lr, self.mu = st["lr"], st["momentum"]
        self.target = {0: "hidden1", 1: "hidden", 2: "output"}[int(st["target_kind"])]
        self.top = int(st["target_layer"])
        self.proj = int(st["jac_proj"])  # 0 = exact
        self.K = int(st["tangents"])


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def forward(params, x, top, tanh):
    """a_top of the tanh MLP; params = [W1, b1, ..., WL, bL]; top = L gives the logits."""
    L = len(params) // 2
    a = x
    for l in range(top):
        z = a @ params[2 * l].T + params[2 * l + 1]
        a = tanh(z) if l < L - 1 else z
    return a


def hidden1_rows(params, xt, tanh):
    """The contractive penalty of the first hidden layer per row, closed form (SPEC)."""
    a1 = tanh(xt @ params[0].T + params[1])
    return ((1 - a1 * a1) ** 2 * (params[0] ** 2).sum(1)).sum(1)
