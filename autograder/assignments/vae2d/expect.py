"""What Part 2's tests expect at a case's inputs beyond the reference's outputs (which its trusted children give,
``expected/...``): the known mistakes that need the notebook's forward pass (:mod:`.checks`, float64 numpy), each
with the sentence that names it. The graders judge with them (``sub.expected(case)``), and ``make student`` stores
them, at the checks' own cases, as the data of the notebook's checks (:mod:`autograder.deploy.checks`).
"""
from __future__ import annotations

import numpy as np

from . import checks


def encoder_values(case):
    """The mistakes of a hidden layer (no ReLU, a sigmoid or tanh in its place) seen through each head: lists of
    (sentence, array of shape (batch, latent)) under "mistakes/mu" and "mistakes/logvar"."""
    hidden = checks.hidden_mistakes(case.arrays, "linear1", case.arrays["x"])
    return {f"mistakes/{name}": [(f"Your encoder {clause}.", checks.linear(case.arrays, layer, h)) for clause, h in hidden]
            for name, layer in (("mu", "linear21"), ("logvar", "linear22"))}


def decoder_values(case):
    """The decoder's known mistakes (the logits, a softmax, a hidden layer without its ReLU), each of shape
    (batch, obs)."""
    w, z = case.arrays, case.arrays["z"]
    logits = checks.decode_logits(w, z)
    return {"mistakes/theta": [
        ("Your decoder returns the logits: end it with a sigmoid, theta = sigmoid(linear4(...)).", logits),
        ("Your decoder applies a softmax over the pixels: each pixel is its own Bernoulli variable (seed 001: "
         "784 independent sigmoid units, not a softmax), so end it with an element-wise sigmoid.",
         checks.softmax(logits, -1)),
    ] + [(f"Your decoder {clause}.", checks.sigmoid(checks.linear(w, "linear4", h)))
         for clause, h in checks.hidden_mistakes(w, "linear3", z)]}


def loss_terms(case):
    """The decoder's output at the encoder's mean, theta of shape (batch, obs) under "at_mu": what a loss that
    decodes mu rather than a sample reconstructs."""
    mu, _ = checks.encode(case.arrays, case.arrays["x"])
    return {"at_mu": checks.sigmoid(checks.decode_logits(case.arrays, mu))}


def reconstruct_values(case):
    """What known wrong reconstructions return for the case's images (batch, obs), with the sentence for each."""
    weights, x = case.arrays, case.arrays["x"]
    mu, logvar = checks.encode(weights, x)
    return {"mistakes/theta": [
        ("Your reconstruction is x itself: decode the encoder's mean, decoder(mu).", x),
        ("Your reconstruction is the logits: decode with self.decoder, which ends with the sigmoid.",
         checks.decode_logits(weights, mu)),
        ("Your reconstruction decodes logvar: the encoder returns (mu, logvar) in that order; decode mu.",
         checks.sigmoid(checks.decode_logits(weights, logvar)))]}


def latent_grid_values(case):
    """The mistake of n points from z_min in steps of (z_max - z_min) / n, which stop short of z_max
    (torch.arange(z_min, z_max, step), linspace(z_min, z_max, n + 1)[:-1]), in the figure's order: images of shape
    (n * n, obs)."""
    n, low, high = case.params["n"], case.params["z_min"], case.params["z_max"]
    values = low + (high - low) * np.arange(n) / n
    z = np.stack([np.tile(values, n), np.repeat(values[::-1], n)], axis=-1)
    return {"mistakes/images": [("Your grid leaves z_max out: both ends are included, the n values of each axis are "
                                 "torch.linspace(z_min, z_max, n).", checks.sigmoid(checks.decode_logits(case.arrays, z)))]}


#: The expectation of each test that needs one (the loss's tests read "loss.point_mass"'s, on every case).
EXPECT = {"encoder.values": encoder_values, "decoder.values": decoder_values, "loss.point_mass": loss_terms,
          "reconstruct.values": reconstruct_values, "latent_grid.values": latent_grid_values}

#: Which reference outputs (from a probe's expected probe) the checks keep, by probe: ``keep(case, name)``. The
#: loss's gradients are read for cases "point_mass" and "decoder_ignores_z" only (loss.gradients).
CHECK_OUTPUTS = {"loss": lambda case, name: not name.startswith("expected/grad/")
                 or case.name in ("point_mass", "decoder_ignores_z")}
