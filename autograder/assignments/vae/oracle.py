"""The grader's own formulas, in float64 numpy, and the inputs it grades with.

Nothing here imports torch: the trusted process never depends on what a submission could patch, and it
stays small (about 60 MB) next to the children that run torch.
"""
from __future__ import annotations

import numpy as np

from autograder.grading.comparators import close, max_difference  # noqa: F401 - the graders' comparators

#: The five layers of the notebook's VAE (its probes, which the sandbox runs apart from the kit, name them
#: too: tests/test_assignments.py checks that they agree).
LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")


def layer_shapes(obs_dim: int, latent_dim: int, hidden_dim: int) -> dict:
    """(out_features, in_features) of each layer of ``VAE(obs_dim, latent_dim, hidden_dim)``."""
    return {"linear1": (hidden_dim, obs_dim), "linear21": (latent_dim, hidden_dim),
            "linear22": (latent_dim, hidden_dim), "linear3": (hidden_dim, latent_dim),
            "linear4": (obs_dim, hidden_dim)}


def random_weights(dims, rng: np.random.Generator, scale: float = 1.0) -> dict:
    """float32 weights drawn like ``nn.Linear``'s default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), times ``scale``.

    Returns a dict ``{"w/linear1.weight": (hidden, obs), "w/linear1.bias": (hidden,), ...}``.
    """
    weights = {}
    for layer, (fan_out, fan_in) in layer_shapes(*dims).items():
        bound = scale / np.sqrt(fan_in)
        weights[f"w/{layer}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        weights[f"w/{layer}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return weights


def _linear(weights, layer, a):
    return a @ weights[f"w/{layer}.weight"].astype(np.float64).T + weights[f"w/{layer}.bias"]


def relu(a):
    return np.maximum(a, 0.0)


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def softplus(a):
    return np.logaddexp(0.0, a)


def encoder(weights, x):
    """(mu, logsigma), each (batch, latent_dim): linear21 and linear22 of ReLU(linear1(x))."""
    hidden = relu(_linear(weights, "linear1", np.asarray(x, np.float64)))
    return _linear(weights, "linear21", hidden), _linear(weights, "linear22", hidden)


def decoder_logits(weights, z):
    """linear4(ReLU(linear3(z))), shape (batch, obs_dim): the logits of theta."""
    return _linear(weights, "linear4", relu(_linear(weights, "linear3", np.asarray(z, np.float64))))


def decoder(weights, z):
    """theta = sigmoid(linear4(ReLU(linear3(z)))), shape (batch, obs_dim), values in (0, 1)."""
    return sigmoid(decoder_logits(weights, z))


def kl_divergence(mu, logsigma):
    """KL(N(mu, diag(sigma^2)) || N(0, I)) with sigma = exp(logsigma), shape (batch,), summed over latent
    dimensions, in nats (Kingma & Welling 2014, appendix B)."""
    mu, logsigma = np.asarray(mu, np.float64), np.asarray(logsigma, np.float64)
    return 0.5 * np.sum(np.exp(2 * logsigma) + mu**2 - 1.0 - 2 * logsigma, axis=-1)


def log_bernoulli(x, logits):
    """log p(x | theta) for theta = sigmoid(logits): sum_j x_j log theta_j + (1 - x_j) log(1 - theta_j),
    shape (batch,), in nats; computed from the logits, as x * logits - softplus(logits)."""
    x = np.asarray(x, np.float64)
    return np.sum(x * logits - softplus(logits), axis=-1)


def elbo(weights, x, epsilon):
    """One-sample ELBO, shape (batch,), in nats, with z = mu + exp(logsigma) * epsilon
    (Kingma & Welling 2014, eq. 10)."""
    mu, logsigma = encoder(weights, x)
    z = mu + np.exp(logsigma) * epsilon
    return log_bernoulli(x, decoder_logits(weights, z)) - kl_divergence(mu, logsigma)


def mnist_like(rng: np.random.Generator, batch: int, dim: int) -> np.ndarray:
    """float32 data of shape (batch, dim) in [0, 1], like MNIST pixels: mostly 0 or 1, some in between."""
    x = (rng.random((batch, dim)) < 0.3).astype(np.float32)
    grey = rng.random((batch, dim)) < 0.2
    x[grey] = rng.random(int(grey.sum())).astype(np.float32)
    return x
