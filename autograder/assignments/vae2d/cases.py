"""The inputs each Part 2 probe is run on: deterministic, from fixed numpy seeds (grader side, numpy only).

Two model sizes where shapes matter: the notebook's (784 pixels, 512 hidden units, 2 latent dimensions) and an
odd small one, so that hard-coded sizes show up. Dims are ``VAE2D``'s arguments: (obs_dim, hidden_dim, latent_dim).
"""
from __future__ import annotations

import numpy as np

from autograder.core.cases import Case, mnist_test_images

SIZES = {"notebook": (784, 512, 2), "odd": (13, 7, 3)}
LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")


#: Added to every case's seed when not empty: the notebook's checks use the grader's kinds of cases with other draws
#: (``make student`` sets it; the grader never does), so that their data does not hold the grader's own inputs.
SALT: tuple = ()
#: The model of the loss's, the latent grid's and the interpolations' cases of the notebook's input size.
WIDE = (784, 64, 2)
#: What the notebook's checks change of these cases besides the seeds (autograder/deploy/checks.py): hidden layers
#: of 16 units, so that their data stays small.
CHECK_OVERRIDES = {"SIZES": {"notebook": (784, 16, 2), "odd": (13, 7, 3)}, "WIDE": (784, 16, 2)}


def _rng(name: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, name)), 2, index, *SALT])


def random_weights(dims, rng: np.random.Generator, scale: float = 1.0) -> dict:
    """float32 weights of ``VAE2D(*dims)`` drawn like ``nn.Linear``'s default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    times ``scale``: ``{"w/linear1.weight": (hidden, obs), "w/linear1.bias": (hidden,), ...}``."""
    obs, hidden, latent = dims
    shapes = {"linear1": (hidden, obs), "linear21": (latent, hidden), "linear22": (latent, hidden),
              "linear3": (hidden, latent), "linear4": (obs, hidden)}
    weights = {}
    for layer, (fan_out, fan_in) in shapes.items():
        bound = scale / np.sqrt(fan_in)
        weights[f"w/{layer}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        weights[f"w/{layer}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return weights


def mnist_like(rng: np.random.Generator, batch: int, dim: int) -> np.ndarray:
    """float32 data of shape (batch, dim) in [0, 1], like MNIST pixels: mostly 0 or 1, some in between."""
    x = (rng.random((batch, dim)) < 0.3).astype(np.float32)
    grey = rng.random((batch, dim)) < 0.2
    x[grey] = rng.random(int(grey.sum())).astype(np.float32)
    return x


def _sized(name: str, make) -> list:
    """One case per model size: ``make(dims, rng, index)`` gives its arrays and params."""
    cases = []
    for index, (size, dims) in enumerate(SIZES.items()):
        arrays, params = make(dims, _rng(name, index), index)
        cases.append(Case(dims, arrays, params, name=size, sizes={"obs": dims[0], "latent": dims[2]}))
    return cases


def encoder(root=None):
    """One case per size; the heads are spread (:func:`_spread_heads`) so that mu and logvar take both signs in
    every latent dimension: a ReLU (or abs, or exp) on a head cannot match the reference by chance."""
    def make(dims, rng, index):
        weights, x = random_weights(dims, rng), mnist_like(rng, 5 - index, dims[0])
        _spread_heads(weights, x)
        return {**weights, "x": x}, {}
    return _sized("encoder", make)


def decoder(root=None):
    return _sized("decoder", lambda d, rng, i: (
        {**random_weights(d, rng, scale=2.0), "z": rng.standard_normal((5 - i, d[2])).astype(np.float32)}, {}))


def reconstruct(root=None):
    return _sized("reconstruct", lambda d, rng, i: (
        {**random_weights(d, rng, scale=2.0), "x": mnist_like(rng, 4 - i, d[0])}, {}))


#: The statistics case of reparameterize: STATS_ROWS identical rows of these means and log-variances.
STATS_MU = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
STATS_LOGVAR = np.array([-2.0, -1.0, 0.6, 1.6], np.float32)
STATS_ROWS = 4000


def reparameterize(root=None):
    """Case "gradients": a small batch, with gradients. Case "statistics": many identical rows, two calls."""
    rng = _rng("reparameterize")
    dims = (13, 7, 3)
    mu = rng.normal(0, 1.5, (6, 3)).astype(np.float32)
    logvar = rng.uniform(-3.0, 1.5, (6, 3)).astype(np.float32)
    small = Case(dims, {**random_weights(dims, rng), "mu": mu, "logvar": logvar}, {"grad": True, "repeats": 1},
                 name="gradients")
    dims = (13, 7, len(STATS_MU))
    rows = {"mu": np.tile(STATS_MU, (STATS_ROWS, 1)), "logvar": np.tile(STATS_LOGVAR, (STATS_ROWS, 1))}
    stats = Case(dims, {**random_weights(dims, rng), **rows}, {"grad": False, "repeats": 2}, name="statistics")
    return [small, stats]


LOSS_REPEATS = 200
#: Where the encoder's outputs lie in case "decoder_ignores_z": mu over [-MU_RANGE, MU_RANGE] and logvar over
#: [-LOGVAR_RANGE, LOGVAR_RANGE] across the batch, so that sigma is far from 0 and both signs occur.
MU_RANGE, LOGVAR_RANGE = 2.0, 2.5


def loss(root=None):
    """Cases "point_mass" (beta 1) and "point_mass_half" (beta 0.5): q(z|x) a point mass (log-variance -60), so
    z = mu whatever the noise; "point_mass_half" on the first 6 real MNIST test images when ``root`` holds MNIST
    (multiples of 1/255, as training feeds them). Case "decoder_ignores_z" (beta 3): linear3's weight is 0, so the decoder's output
    is the same for every z and the loss is exact whatever noise it draws, while mu and logvar span both signs
    (:func:`_spread_heads`): the KL is checked exactly where sigma is far from 0. Case "sampled" (beta 2):
    ordinary weights and the noise the reference reparameterize draws from ``noise_seed`` in both children,
    with repeats for a loss that draws its own noise."""
    dims, cases = WIDE, []
    for index, (name, beta) in enumerate((("point_mass", 1.0), ("point_mass_half", 0.5), ("sampled", 2.0),
                                          ("decoder_ignores_z", 3.0))):
        rng = _rng("loss", index)
        weights = random_weights(dims, rng, scale=2.0)
        x = mnist_like(rng, 6, dims[0])
        if name == "point_mass_half" and root is not None:
            x = _real_images(root, 6)
        if name.startswith("point_mass"):
            weights["w/linear22.weight"][:] = 0.0
            weights["w/linear22.bias"][:] = -60.0
        if name == "decoder_ignores_z":
            weights["w/linear3.weight"][:] = 0.0
            _spread_heads(weights, x)
        params = {"beta": beta, "repeats": LOSS_REPEATS if name == "sampled" else 0, "noise_seed": 1000 + index}
        cases.append(Case(dims, {**weights, "x": x}, params, name=name, sizes={"batch": 6, "obs": dims[0]}))
    return cases


def _real_images(root, count: int) -> np.ndarray:
    """The first ``count`` MNIST test images under ``root``: float32 of shape (count, 784), multiples of 1/255 in
    [0, 1] (numpy only). Raises FileNotFoundError when the files are not there."""
    return mnist_test_images(root, range(count))[0].reshape(count, -1)


def _spread_heads(weights: dict, x: np.ndarray) -> None:
    """Scale and shift the heads linear21 and linear22 (in place) so that, for images ``x``, mu spans
    [-MU_RANGE, MU_RANGE] and logvar [-LOGVAR_RANGE, LOGVAR_RANGE] in every latent dimension."""
    hidden = np.maximum(x.astype(np.float64) @ weights["w/linear1.weight"].T + weights["w/linear1.bias"], 0.0)
    for layer, half in (("linear21", MU_RANGE), ("linear22", LOGVAR_RANGE)):
        w, b = weights[f"w/{layer}.weight"].astype(np.float64), weights[f"w/{layer}.bias"].astype(np.float64)
        out = hidden @ w.T + b
        low, high = out.min(0), out.max(0)
        scale = 2 * half / np.maximum(high - low, 1e-6)
        weights[f"w/{layer}.weight"] = (w * scale[:, None]).astype(np.float32)
        weights[f"w/{layer}.bias"] = (b * scale - (low + high) / 2 * scale).astype(np.float32)


def latent_grid(root=None):
    """Case "square": n = 4 over [-2, 2]; case "shifted": n = 3 over [-1, 3] on a small model; case "notebook":
    the notebook's own call latent_grid(15, -3, 3) (where a floating-point arange step gives 16 values per axis)."""
    cases = []
    for index, (name, dims, n, low, high) in enumerate((("square", WIDE, 4, -2.0, 2.0),
                                                        ("shifted", (13, 7, 2), 3, -1.0, 3.0),
                                                        ("notebook", WIDE, 15, -3.0, 3.0))):
        rng = _rng("latent_grid", index)
        cases.append(Case(dims, random_weights(dims, rng, scale=3.0), {"n": n, "z_min": low, "z_max": high},
                          name=name, sizes={"obs": dims[0], "rows": n * n}))
    return cases


def interpolate(root=None):
    """Case "seven": the notebook's steps = 7; case "three": steps = 3 on a small model with 3 latent dims."""
    cases = []
    for index, (name, dims, steps) in enumerate((("seven", WIDE, 7), ("three", (13, 7, 3), 3))):
        rng = _rng("interpolate", index)
        x = mnist_like(rng, 2, dims[0])
        cases.append(Case(dims, {**random_weights(dims, rng, scale=3.0), "x_a": x[0], "x_b": x[1]},
                          {"steps": steps}, name=name, sizes={"obs": dims[0], "rows": steps + 2}))
    return cases


#: Labels like the test set's: PAIR_LABELS digits 0-9 at random.
PAIR_LABELS = 5000


#: The seeds pick_pairs is called with: five, so that a rule broken only by chance (a pair of one digit drawn by a
#: draw that never compares the two labels) shows in one of them.
PAIR_SEEDS = (0, 1, 2, 3, 4)


def pick_pairs(root=None):
    """Ten calls: same digits and different digits, each with :data:`PAIR_SEEDS`; then cases "twice_<seed>", same
    digits on labels where every digit has exactly two images (shuffled), with three seeds: a draw with
    replacement pairs an image with itself there with probability 1 - 2^-10 per seed; with the MNIST files under
    ``root``, cases "mnist_same" and "mnist_different" on the test set's own labels."""
    labels = _rng("pick_pairs").integers(0, 10, PAIR_LABELS).astype(np.int64)
    twice = _rng("pick_pairs", 1).permutation(np.repeat(np.arange(10), 2)).astype(np.int64)
    return ([Case((), {"labels": labels}, {"same": same, "seed": seed},
                  name=f"{'same' if same else 'different'}_{seed}") for same in (True, False) for seed in PAIR_SEEDS]
            + [Case((), {"labels": twice}, {"same": True, "seed": seed}, name=f"twice_{seed}")
               for seed in PAIR_SEEDS[:3]]
            + [Case((), {"labels": mnist}, {"same": same, "seed": 0}, name=f"mnist_{'same' if same else 'different'}")
               for mnist in _mnist_test_labels(root) for same in (True, False)])


def _mnist_test_labels(root) -> list:
    """``[labels]``: MNIST's 10,000 test labels (int64) read from ``root``/MNIST/raw, the notebook's own input to
    pick_pairs; ``[]`` when ``root`` is None or holds no labels file."""
    import gzip
    from pathlib import Path

    if root is None:
        return []
    for name, opener in (("t10k-labels-idx1-ubyte.gz", gzip.open), ("t10k-labels-idx1-ubyte", open)):
        path = Path(root) / "MNIST" / "raw" / name
        if path.is_file():
            with opener(path, "rb") as handle:
                return [np.frombuffer(handle.read()[8:], np.uint8).astype(np.int64)]
    return []


def training(t, root):
    """The training run of the settings ``t`` (the spec's ``TRAINING``) on the MNIST files under ``root``."""
    params = {"epochs": t.epochs, "batch_size": t.batch_size, "learning_rate": t.learning_rate,
              "hidden_dim": t.hidden_dim, "seed": t.seed, "root": str(root), "fused_adam": t.fused_adam}
    return [Case((784, t.hidden_dim, 2), {}, params, name="training")]


def evaluation(t, q, root, weights: dict, seed: int = 0):
    """The trusted evaluation of trained ``weights`` on the MNIST test set under ``root`` (see
    ``probes.probe_evaluate``), with the training settings ``t`` and the sizes ``q`` (the spec's ``TRAINING`` and
    ``QUALITY``)."""
    params = {"root": str(root), "hidden_dim": t.hidden_dim, "seed": seed, "reconstructions": q.reconstructions,
              "samples": q.samples, "per_digit": q.per_digit}
    return [Case((784, t.hidden_dim, 2), dict(weights), params, name="evaluation")]
