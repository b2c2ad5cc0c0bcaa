"""The numpy helpers of Part 2's expectations (:mod:`.expect`) and quality checks: the notebook's forward pass, in
float64, for the known mistakes' candidates.

Numpy only (the trusted process never imports torch).
"""
from __future__ import annotations

import numpy as np


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


def digit_counts(predictions: np.ndarray) -> np.ndarray:
    """How many of ``predictions`` (digits 0-9) show each digit: shape (10,)."""
    return np.bincount(np.asarray(predictions, np.int64), minlength=10)[:10]
