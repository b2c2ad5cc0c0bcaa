"""A digit classifier for judging images that a VAE generates (Part 2's quality checks).

The kit trains it once on the MNIST training set (``scripts/train_digit_classifier.py``, ``make classifier``)
and keeps it next to the data, in ``$MNIST_ROOT/MNIST/classifier/digits-<kind>.npz``, never in the repository.

The file holds plain float32 arrays (``numpy.savez_compressed``) and is read with ``allow_pickle=False``;
prediction is numpy alone, so the grader's trusted process (which never imports torch) can classify the
images a sandbox child sends back. Training needs scikit-learn (``logreg``, ``mlp``) or torch (``cnn``), imported
by the functions that train. Nothing runs at import time.

Kinds (``KINDS``): ``cnn``, a small LeNet-like network trained with torch (the default, see README);
``mlp``, scikit-learn's MLPClassifier with one hidden layer; ``logreg``, scikit-learn's LogisticRegression.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import vae_utils

__all__ = ["DEFAULT_KIND", "KINDS", "ClassifierFileError", "DigitClassifier", "classifier_path", "load", "save",
           "train"]

DEFAULT_KIND = "cnn"
FORMAT_VERSION = 1
_MLP_HIDDEN = 256
#: The arrays each kind's file holds and their shapes (the CNN's keys are torch's state_dict keys).
SHAPES = {
    "logreg": {"weight": (10, 784), "bias": (10,)},
    "mlp": {"hidden.weight": (_MLP_HIDDEN, 784), "hidden.bias": (_MLP_HIDDEN,),
            "out.weight": (10, _MLP_HIDDEN), "out.bias": (10,)},
    "cnn": {"conv1.weight": (16, 1, 5, 5), "conv1.bias": (16,), "conv2.weight": (32, 16, 5, 5),
            "conv2.bias": (32,), "fc1.weight": (128, 512), "fc1.bias": (128,), "fc2.weight": (10, 128),
            "fc2.bias": (10,)},
}
KINDS = tuple(SHAPES)
_CHUNK = 500  # images per numpy forward pass: the CNN's largest temporary is then ~50 MB


class ClassifierFileError(ValueError):
    """A classifier file that is missing, unreadable, or not what this version of the kit writes."""


def classifier_path(root: str | os.PathLike | None = None, kind: str = DEFAULT_KIND) -> Path:
    """Where the classifier of ``kind`` is kept: ``ROOT/MNIST/classifier/digits-<kind>.npz``.

    ``root`` is the folder that holds ``MNIST/`` (see :func:`vae_utils.mnist_root`: ``$MNIST_ROOT``, else
    ``./data``).
    """
    return vae_utils.mnist_root(root) / "MNIST" / "classifier" / f"digits-{kind}.npz"


def _as_images(images) -> np.ndarray:
    """Images as a float32 ndarray of shape (n, 784), after checking they are floats in [0, 1]."""
    values = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if values.ndim < 2 or values[0].size != 784:
        raise ValueError("expected images of shape (n, 784), (n, 28, 28) or (n, 1, 28, 28); "
                         f"got shape {values.shape}")
    if not np.issubdtype(values.dtype, np.floating):
        raise ValueError(f"expected float images with values in [0, 1]; got dtype {values.dtype} "
                         "(divide uint8 pixels by 255)")
    values = values.reshape(len(values), 784).astype(np.float32)
    if not np.isfinite(values).all():
        raise ValueError("expected pixel values in [0, 1]; got NaN or infinite values")
    if values.size and not (values.min() >= 0 and values.max() <= 1):
        raise ValueError("expected pixel values in [0, 1] (probabilities, such as a sigmoid's output); got values "
                         f"in [{values.min():.3g}, {values.max():.3g}]")
    return values


def _conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Valid 2-D cross-correlation as torch's Conv2d: x (n, c, h, w), weight (o, c, k, k) -> (n, o, h-k+1, w-k+1)."""
    k = weight.shape[-1]
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # (n, c, h', w', k, k)
    out = np.tensordot(windows, weight, axes=([1, 4, 5], [1, 2, 3]))  # (n, h', w', o)
    return out.transpose(0, 3, 1, 2) + bias[:, None, None]


def _pool_relu(x: np.ndarray) -> np.ndarray:
    """2 x 2 max pooling, then ReLU: (n, c, h, w) -> (n, c, h/2, w/2)."""
    n, c, h, w = x.shape
    return np.maximum(x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5)), 0)


def _logits(kind: str, w: dict, x: np.ndarray) -> np.ndarray:
    """The logits (n, 10) of images x (n, 784) in [0, 1] under the weights ``w`` of ``kind``."""
    if kind == "logreg":
        return x @ w["weight"].T + w["bias"]
    if kind == "mlp":
        hidden = np.maximum(x @ w["hidden.weight"].T + w["hidden.bias"], 0)
        return hidden @ w["out.weight"].T + w["out.bias"]
    h = _pool_relu(_conv2d(x.reshape(-1, 1, 28, 28), w["conv1.weight"], w["conv1.bias"]))
    h = _pool_relu(_conv2d(h, w["conv2.weight"], w["conv2.bias"])).reshape(len(x), -1)
    h = np.maximum(h @ w["fc1.weight"].T + w["fc1.bias"], 0)
    return h @ w["fc2.weight"].T + w["fc2.bias"]


@dataclass
class DigitClassifier:
    """A trained digit classifier: its kind, its float32 weights (shapes in ``SHAPES[kind]``) and, when known,
    its accuracy on the MNIST test set (a fraction in [0, 1])."""

    kind: str
    weights: dict
    test_accuracy: float = float("nan")

    def logits(self, images) -> np.ndarray:
        """Class scores of ``images``.

        Parameters
        ----------
        images : ndarray or Tensor of shape (n, 784), (n, 28, 28) or (n, 1, 28, 28), float, values in [0, 1]

        Returns
        -------
        ndarray of shape (n, 10), float32: unnormalised log-probabilities of the digits 0-9.

        Raises
        ------
        ValueError
            When the images have another shape, are not floats, or have values outside [0, 1].
        """
        x = _as_images(images)
        parts = [_logits(self.kind, self.weights, x[i:i + _CHUNK]) for i in range(0, len(x), _CHUNK)]
        return np.concatenate(parts) if parts else np.zeros((0, 10), np.float32)

    def predict(self, images) -> np.ndarray:
        """The digit each image shows: ndarray of shape (n,), int64, values in {0, ..., 9}. See :meth:`logits`."""
        return self.logits(images).argmax(axis=1)

    def accuracy(self, images, labels) -> float:
        """The fraction in [0, 1] of ``images`` (see :meth:`logits`) predicted as ``labels`` (shape (n,), ints)."""
        labels = np.asarray(labels.cpu() if hasattr(labels, "cpu") else labels).reshape(-1)
        return float(np.mean(self.predict(images) == labels))


def save(classifier: DigitClassifier, path: str | os.PathLike | None = None, root=None) -> Path:
    """Write ``classifier`` to ``path`` (default :func:`classifier_path` of ``root`` and its kind), making the
    folder; returns the path. The file is an ``.npz`` of float32 arrays plus its kind and format version."""
    path = Path(path) if path is not None else classifier_path(root, classifier.kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: np.asarray(value, np.float32) for name, value in classifier.weights.items()}
    part = path.with_name(path.name + ".part.npz")
    np.savez_compressed(part, kind=np.array(classifier.kind), format_version=np.array(FORMAT_VERSION),
                        test_accuracy=np.array(classifier.test_accuracy), **arrays)
    part.replace(path)
    return path


def _read_npz(path: Path) -> dict:
    """Every array of the ``.npz`` at ``path``, read without unpickling anything."""
    if not path.exists():
        raise ClassifierFileError(f"no digit classifier at {path}: make it with `make classifier` "
                                  "(scripts/train_digit_classifier.py)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ClassifierFileError(f"{path} is not a digit classifier file (an .npz of arrays): {exc}; "
                                  "remake it with `make classifier`") from exc


def load(path: str | os.PathLike | None = None, root=None, kind: str = DEFAULT_KIND) -> DigitClassifier:
    """Read a classifier written by :func:`save` (default: :func:`classifier_path` of ``root`` and ``kind``).

    Raises
    ------
    ClassifierFileError (a ValueError)
        When the file is missing, is not an ``.npz`` (pickles are never read), or does not hold exactly the
        arrays of its kind with their shapes, as finite float32 values, in this format version.
    """
    path = Path(path) if path is not None else classifier_path(root, kind)
    data = _read_npz(path)
    found = str(data.pop("kind", ""))
    version = data.pop("format_version", None)
    accuracy = float(data.pop("test_accuracy", np.nan))
    if found not in SHAPES or version is None or int(version) != FORMAT_VERSION:
        raise ClassifierFileError(f"{path} is not a digit classifier of this kit (kind {found!r}, format "
                                  f"{version}; expected one of {KINDS}, format {FORMAT_VERSION}): remake it")
    shapes = {name: tuple(value.shape) for name, value in data.items()}
    bad = [name for name, value in data.items() if value.dtype != np.float32 or not np.isfinite(value).all()]
    if shapes != SHAPES[found] or bad:
        raise ClassifierFileError(f"{path} does not hold the {found} classifier's arrays: expected "
                                  f"{SHAPES[found]} as finite float32, got {shapes} (bad: {bad}); remake it")
    return DigitClassifier(found, data, accuracy)


def _fit_quietly(model, x: np.ndarray, y: np.ndarray):
    """``model.fit(x, y)`` without ConvergenceWarning: a fixed number of iterations is the point."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def _train_logreg(x: np.ndarray, y: np.ndarray, seed: int, epochs: int | None) -> dict:
    from sklearn.linear_model import LogisticRegression

    model = _fit_quietly(LogisticRegression(C=0.1, max_iter=epochs or 100, random_state=seed), x, y)
    return {"weight": model.coef_, "bias": model.intercept_}


def _train_mlp(x: np.ndarray, y: np.ndarray, seed: int, epochs: int | None) -> dict:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier((_MLP_HIDDEN,), alpha=1e-4, batch_size=128, max_iter=epochs or 12, random_state=seed)
    _fit_quietly(model, x, y)
    return {"hidden.weight": model.coefs_[0].T, "hidden.bias": model.intercepts_[0],
            "out.weight": model.coefs_[1].T, "out.bias": model.intercepts_[1]}


def torch_cnn(weights: dict | None = None):
    """The ``cnn`` kind as a torch module (conv 5x5 16, pool, conv 5x5 32, pool, fc 128, fc 10, ReLUs), with
    ``weights`` (arrays of ``SHAPES["cnn"]``) when given. Input (n, 1, 28, 28) in [0, 1]; output logits (n, 10)."""
    import torch
    from torch import nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 16, 5), nn.Conv2d(16, 32, 5)
            self.fc1, self.fc2 = nn.Linear(512, 128), nn.Linear(128, 10)

        def forward(self, x):
            h = torch.relu(nn.functional.max_pool2d(self.conv1(x), 2))
            h = torch.relu(nn.functional.max_pool2d(self.conv2(h), 2)).flatten(1)
            return self.fc2(torch.relu(self.fc1(h)))

    model = CNN()
    if weights is not None:
        model.load_state_dict({name: torch.from_numpy(np.asarray(value)) for name, value in weights.items()})
    return model


def _train_cnn(x: np.ndarray, y: np.ndarray, seed: int, epochs: int | None) -> dict:
    import torch

    torch.manual_seed(seed)
    model = torch_cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    images, labels = torch.from_numpy(x).view(-1, 1, 28, 28), torch.from_numpy(y.astype(np.int64))
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs or 2):
        for batch in torch.randperm(len(x), generator=generator).split(64):
            loss = torch.nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {name: value.detach().numpy() for name, value in model.state_dict().items()}


_TRAINERS = {"logreg": _train_logreg, "mlp": _train_mlp, "cnn": _train_cnn}


def mnist_float(train: bool, root=None, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` (default all) MNIST images as float32 (n, 784) in [0, 1], and labels (n,) int64."""
    images, labels = vae_utils.load_mnist_arrays(train, root)
    images, labels = images[:limit], labels[:limit]
    return images.reshape(len(images), 784).astype(np.float32) / 255, labels.astype(np.int64)


def train(root=None, kind: str = DEFAULT_KIND, seed: int = 0, limit: int | None = None,
          epochs: int | None = None) -> DigitClassifier:
    """Train a classifier of ``kind`` on the MNIST training set and measure it on the test set.

    Parameters
    ----------
    root : path or None
        The folder holding ``MNIST/raw/`` (see :func:`vae_utils.mnist_root`); missing files are downloaded.
    kind : one of ``KINDS``
    seed : int
        Seeds initialisation and shuffling: the same seed gives the same weights (torch on one thread).
    limit : int or None
        Train on the first ``limit`` training images only (tests); None: all 60,000.
    epochs : int or None
        Passes over the data (iterations for ``logreg``); None: the kind's default (cnn 2, mlp 12, logreg 100).

    Returns
    -------
    DigitClassifier, its ``test_accuracy`` measured on the 10,000 test images.

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    """
    if kind not in _TRAINERS:
        raise ValueError(f"unknown classifier kind {kind!r}; expected one of {KINDS}")
    x, y = mnist_float(True, root, limit)
    weights = _TRAINERS[kind](x, y, seed, epochs)
    classifier = DigitClassifier(kind, {name: np.asarray(v, np.float32) for name, v in weights.items()})
    classifier.test_accuracy = classifier.accuracy(*mnist_float(False, root))
    return classifier

