"""What the peers share without depending on a framework: the step's settings read from a
`jacnoise step --dump` state, and relative differences."""
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
