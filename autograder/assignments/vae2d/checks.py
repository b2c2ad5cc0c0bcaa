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


def logit(theta):
    """The logits whose sigmoid is ``theta`` (a decoder without its sigmoid returns them), in float64."""
    theta = np.clip(np.asarray(theta, np.float64), 1e-12, 1 - 1e-12)
    return np.log(theta) - np.log1p(-theta)


def softmax(a, axis: int = -1):
    """The softmax of ``a`` along ``axis``, in float64."""
    a = np.asarray(a, np.float64)
    e = np.exp(a - a.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


# The forward pass in numpy, for mistake candidates only: the expected values come from the reference child.
def linear(weights: dict, layer: str, a):
    """``layer``'s affine map of ``a`` (shape (..., in)) with a case's float32 ``weights`` ("w/linear1.weight",
    ...): shape (..., out), float64."""
    return np.asarray(a, np.float64) @ weights[f"w/{layer}.weight"].T.astype(np.float64) + weights[f"w/{layer}.bias"]


def encode(weights: dict, x):
    """The notebook's encoder in float64: (mu, logvar), each of shape (batch, latent)."""
    hidden = np.maximum(linear(weights, "linear1", x), 0.0)
    return linear(weights, "linear21", hidden), linear(weights, "linear22", hidden)


def decode_logits(weights: dict, z):
    """The notebook's decoder before its sigmoid, in float64: shape (batch, obs)."""
    return linear(weights, "linear4", np.maximum(linear(weights, "linear3", z), 0.0))


def hidden_mistakes(weights: dict, layer: str, a) -> list:
    """The known mistakes of a hidden layer h = ReLU(layer(a)): ``[(clause, h)]``, each h of shape (batch, hidden)."""
    before = linear(weights, layer, a)
    return [(f"skips the ReLU after {layer}: h = ReLU({layer}(...))", before),
            (f"uses a sigmoid after {layer} where the notebook has a ReLU", sigmoid(before)),
            (f"uses tanh after {layer} where the notebook has a ReLU", np.tanh(before))]


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
