"""The toy assignment's cases: the grader's weights and inputs of each probe (trusted side, numpy only)."""
from __future__ import annotations

import numpy as np

from autograder.core.cases import Case

DIM = 3
#: The draw probe's rows: each row draws z ~ N(mu, exp(logsigma)^2).
ROWS = 2000
MU = np.array([0.5, -1.0, 2.0], np.float32)
LOGSIGMA = np.array([0.0, -1.0, 0.7], np.float32)


def _weights(rng) -> dict:
    return {"w/linear.weight": rng.normal(size=(DIM, DIM)).astype(np.float32),
            "w/linear.bias": rng.normal(size=DIM).astype(np.float32)}


def affine(root=None) -> list:
    """One case: a batch of 5 inputs through the grader's weights."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, DIM)).astype(np.float32)
    return [Case((DIM,), {**_weights(rng), "x": x}, name="values", sizes={"batch": 5, "dim": DIM})]


def draw(root=None) -> list:
    """One case: :data:`ROWS` identical rows of mu and logsigma, drawn twice (two calls)."""
    rng = np.random.default_rng(2)
    arrays = {**_weights(rng), "mu": np.tile(MU, (ROWS, 1)), "logsigma": np.tile(LOGSIGMA, (ROWS, 1))}
    return [Case((DIM,), arrays, name="statistics", sizes={"rows": ROWS, "dim": DIM})]
