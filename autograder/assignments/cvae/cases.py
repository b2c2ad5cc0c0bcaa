"""The inputs of Part 3's probes: deterministic, from fixed numpy seeds (grader side, numpy only).

Each case names the class it builds (``params["class_name"]``) and the torch seed of the reference's weights,
which the student's child and the expected child both draw.
"""
from __future__ import annotations

import numpy as np

from autograder.runner import Case

CLASSES = {"conv": "ConvVAE", "cond": "ConditionalVAE"}


def _rng(name: str, index: int = 0) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, name)), 3, index])


def images(rng: np.random.Generator, batch: int) -> np.ndarray:
    """float32 images of shape (batch, 1, 28, 28) in [0, 1], like MNIST: mostly 0 or 1, some in between."""
    x = (rng.random((batch, 1, 28, 28)) < 0.3).astype(np.float32)
    grey = rng.random(x.shape) < 0.2
    x[grey] = rng.random(int(grey.sum())).astype(np.float32)
    return x


def _case(kind: str, probe: str, batch: int, **extra) -> Case:
    rng = _rng(f"{probe}-{kind}")
    arrays = {"x": images(rng, batch), "z": rng.standard_normal((batch, 2)).astype(np.float32),
              "c": rng.integers(0, 10, batch).astype(np.int64),
              "eps": rng.standard_normal((batch, 2)).astype(np.float32)}
    params = {"class_name": CLASSES[kind], "seed": int(rng.integers(1000)), **extra}
    return Case((2,), arrays, params, name=kind, sizes={"batch": batch})


#: The log-variance head's bias moves by this in the loss cases: with the initial weights logvar is near 0, where a
#: KL that reads logvar as log sigma differs from the right one by less than the tolerance.
LOGVAR_SHIFT = 1.5


def per_class(kind: str, probe: str, batch: int = 4):
    """The cases of probe ``probe`` for the class ``kind`` ("conv" or "cond")."""
    extra = {"logvar_shift": LOGVAR_SHIFT} if probe == "loss" else {}
    return lambda root=None: [_case(kind, probe, batch, **extra)]


def layers_evaluation(kind: str, weights: dict, case: Case):
    """The trusted run of the reference with the weights a student's ``__init__`` made (``weights``: ``w/...``)."""
    return [Case(case.dims, {**case.arrays, **weights}, dict(case.params), name=case.name, sizes=case.sizes)]


SAMPLE_COUNT = 1000


def sample(root=None):
    """sample(c) for SAMPLE_COUNT labels, every digit SAMPLE_COUNT / 10 times in a shuffled order."""
    rng = _rng("sample")
    c = rng.permutation(np.repeat(np.arange(10), SAMPLE_COUNT // 10)).astype(np.int64)
    return [Case((2,), {"c": c}, {"class_name": "ConditionalVAE", "seed": 7}, name="labels",
                 sizes={"count": SAMPLE_COUNT})]


def generate(root=None):
    """generate(digits, n) with digits in an odd order and a repeat, and n = 3."""
    return [Case((2,), {}, {"class_name": "ConditionalVAE", "seed": 11, "digits": [3, 0, 7, 3], "n": 3},
                 name="digits", sizes={"rows": 12})]


def training(root):
    """The training run of :data:`spec.TRAINING` on the MNIST files under ``root``."""
    from .spec import TRAINING as t

    params = {"epochs": t.epochs, "images": t.images, "batch_size": t.batch_size, "learning_rate": t.learning_rate,
              "seed": t.seed, "root": str(root), "fused_adam": t.fused_adam, "init": t.init}
    return [Case((2,), {}, params, name="training")]


def evaluation(root, weights: dict, seed: int = 0):
    """The trusted evaluation of trained ``weights`` (see ``probes.probe_evaluate``), sizes of :data:`spec.CHECKS`."""
    from .spec import CHECKS as q

    params = {"root": str(root), "seed": seed, "test_images": q.test_images, "per_digit": q.per_digit,
              "fixed_codes": q.fixed_codes}
    return [Case((2,), dict(weights), params, name="evaluation")]
