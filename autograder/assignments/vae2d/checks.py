"""What Part 2's graders share: known mistakes as comparison candidates, and the numpy helpers they need.

Numpy only (the trusted process never imports torch).
"""
from __future__ import annotations

import numpy as np


def exp(a):
    """exp of ``a`` in float64, for a candidate mistake."""
    return np.exp(np.asarray(a, np.float64))


def swapped(other, name: str, other_name: str) -> list:
    """The mistake of returning ``other_name``'s value as ``name``."""
    return [(f"Your {name} is what {other_name} should be: return (mu, logvar) in that order.", other)]


def sigmoid(a):
    """The logistic function, computed stably, in float64."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, np.float64)))


def grid_variants(expected: np.ndarray, n: int) -> list:
    """What a latent grid of ``n`` x ``n`` images (``expected``, shape (n * n, obs), in the figure's order) looks
    like under the known mistakes of order, with the sentence for each."""
    block = expected.reshape(n, n, -1)
    order = "z1 increases along a row and z2 decreases down the rows (image 0 is decoded at (z_min, z_max))"
    return [
        (f"Your grid has z1 and z2 swapped (a transposed grid): {order}.", block.transpose(1, 0, 2).reshape(n * n, -1)),
        (f"Your grid's rows go up in z2: the figure has z2 decreasing down the rows, so {order}.",
         block[::-1].reshape(n * n, -1)),
        (f"Your grid runs z1 from right to left: {order}.", block[:, ::-1].reshape(n * n, -1)),
        (f"Your grid is transposed and z2 increases: {order}.", block[::-1].transpose(1, 0, 2).reshape(n * n, -1)),
        (f"Your grid is in column-major order with z2 increasing: {order}.",
         block.transpose(1, 0, 2)[::-1].reshape(n * n, -1)),
    ]


def digit_counts(predictions: np.ndarray) -> np.ndarray:
    """How many of ``predictions`` (digits 0-9) show each digit: shape (10,)."""
    return np.bincount(np.asarray(predictions, np.int64), minlength=10)[:10]
