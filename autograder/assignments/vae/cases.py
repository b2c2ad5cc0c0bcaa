"""The inputs each probe is run on: deterministic, from fixed numpy seeds.

Two model sizes are used where shapes matter: the notebook's (784 inputs) and an odd small one, so
hard-coded sizes show up.
"""
from __future__ import annotations

import numpy as np

from autograder.core.cases import Case, mnist_test_images

from . import oracle

SIZES = ((784, 32, 100), (13, 3, 7))
#: The model of the ELBO's cases.
ELBO_DIMS = (784, 8, 50)
#: The names of the cases of SIZES: the notebook's model, and the odd small one.
SIZE_NAMES = ("notebook", "odd")


#: Added to every case's seed when not empty: the notebook's checks use the grader's kinds of cases with other draws
#: (``make student`` sets it; the grader never does), so that their data does not hold the grader's own inputs.
SALT: tuple = ()


#: What the notebook's checks change of these cases besides the seeds (autograder/deploy/checks.py): hidden layers
#: of 16 units, so that their data stays small.
CHECK_OVERRIDES = {"SIZES": ((784, 32, 16), (13, 3, 7)), "ELBO_DIMS": (784, 8, 16)}


def _rng(name: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, name)), index, *SALT])


def encoder():
    cases = []
    for index, dims in enumerate(SIZES):
        rng = _rng("encoder", index)
        cases.append(Case(dims, {**oracle.random_weights(dims, rng), "x": oracle.mnist_like(rng, 5 - index, dims[0])},
                          name=SIZE_NAMES[index]))
    return cases


def decoder():
    cases = []
    for index, dims in enumerate(SIZES):
        rng = _rng("decoder", index)
        z = rng.standard_normal((5 - index, dims[1])).astype(np.float32)
        cases.append(Case(dims, {**oracle.random_weights(dims, rng, scale=2.0), "z": z}, name=SIZE_NAMES[index]))
    return cases


def _mu_logsigma(rng, batch, latent):
    mu = rng.normal(0, 1.5, (batch, latent)).astype(np.float32)
    logsigma = rng.uniform(-2.0, 1.0, (batch, latent)).astype(np.float32)
    return mu, logsigma


def kl_divergence():
    cases = []
    for index, dims in enumerate(SIZES):
        rng = _rng("kl_divergence", index)
        mu, logsigma = _mu_logsigma(rng, 6 - index, dims[1])
        cases.append(Case(dims, {**oracle.random_weights(dims, rng), "mu": mu, "logsigma": logsigma},
                          name=SIZE_NAMES[index]))
    return cases


#: The statistics case of sample_with_reparam: STATS_ROWS identical rows of these means and log-sigmas.
STATS_MU = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
STATS_LOGSIGMA = np.array([-1.0, -0.5, 0.3, 0.8], np.float32)
STATS_ROWS = 4000


def sample_with_reparam():
    """Case "gradients": a small batch, with gradients. Case "statistics": many identical rows, two calls."""
    rng = _rng("sample_with_reparam")
    dims = (13, 3, 7)
    mu, logsigma = _mu_logsigma(rng, 6, 3)
    small = Case(dims, {**oracle.random_weights(dims, rng), "mu": mu, "logsigma": logsigma},
                 {"grad": True, "repeats": 1}, name="gradients")
    dims = (13, len(STATS_MU), 7)
    rows = {"mu": np.tile(STATS_MU, (STATS_ROWS, 1)), "logsigma": np.tile(STATS_LOGSIGMA, (STATS_ROWS, 1))}
    stats = Case(dims, {**oracle.random_weights(dims, rng), **rows}, {"grad": False, "repeats": 2}, name="statistics")
    return [small, stats]


ELBO_REPEATS = 200


def elbo(root=None):
    """Case "point_mass": q(z|x) a point mass (logsigma = -30), so z = mu whatever the noise.
    Case "sampled": ordinary weights and the noise epsilon that the reference sample_with_reparam uses.
    Case "mnist" (when ``root`` holds MNIST): the point mass on the first :data:`MNIST_IMAGES` real test images,
    pixels that are multiples of 1/255, as training feeds them."""
    dims = ELBO_DIMS
    cases = []
    for index in range(2):
        rng = _rng("elbo", index)
        weights = oracle.random_weights(dims, rng, scale=2.0)
        if index == 0:
            weights["w/linear22.weight"][:] = 0.0
            weights["w/linear22.bias"][:] = -30.0
        arrays = {**weights, "x": oracle.mnist_like(rng, 6, dims[0]),
                  "eps": rng.standard_normal((6, dims[1])).astype(np.float32)}
        cases.append(Case(dims, arrays, {"repeats": ELBO_REPEATS if index == 1 else 0},
                          name=("point_mass", "sampled")[index]))
    if root is not None:
        cases.append(Case(dims, {**cases[0].arrays, "x": real_images(root, MNIST_IMAGES)}, {"repeats": 0},
                          name="mnist"))
    return cases


#: Real MNIST test images in the "mnist" case of the ELBO.
MNIST_IMAGES = 6


def real_images(root, count: int) -> np.ndarray:
    """The first ``count`` MNIST test images under ``root``, float32 of shape (count, 784), multiples of 1/255 in
    [0, 1] (read with numpy alone). Raises FileNotFoundError when the files are not there."""
    return mnist_test_images(root, range(count))[0].reshape(count, -1)


SAMPLE_COUNT = 2000


def sample():
    """Weights with large decoder outputs, so theta spreads over (0, 1)."""
    dims = (30, 4, 20)
    weights = oracle.random_weights(dims, _rng("sample"), scale=6.0)
    return [Case(dims, weights, {"num_samples": SAMPLE_COUNT}, name="prior")]


def training(t, root):
    """The training run of the settings ``t`` (the spec's ``TRAINING``) on the MNIST files under ``root``."""
    params = {"epochs": t.epochs, "batch_size": t.batch_size, "learning_rate": t.learning_rate,
              "latent_dim": t.latent_dim, "hidden_dim": t.hidden_dim, "seed": t.seed, "root": str(root),
              "fused_adam": t.fused_adam}
    return [Case((784, t.latent_dim, t.hidden_dim), {}, params, name="training")]
