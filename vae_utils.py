"""Data loading and plotting helpers for the VAE assignment notebook.

Put this file next to the notebook (on Google Colab: upload it into the session's files).
Nothing runs and nothing is downloaded at import time; torch, matplotlib and scikit-learn are
imported by the functions that use them, so reading MNIST needs numpy alone.

MNIST is read from the original IDX files in torchvision's layout, ``ROOT/MNIST/raw/*-ubyte.gz``,
so a folder that torchvision already filled works as it is. ``ROOT`` is, in order of preference,
the ``root`` argument, the environment variable ``MNIST_ROOT`` (the folder that holds ``MNIST/raw/``),
or ``./data``. Missing files are downloaded from the standard mirrors and checked against their md5.
torchvision is not needed.

Contents, in this order (each part under a ``# ---`` heading of its own):

* **MNIST** (every part): ``mnist_root``, ``download_mnist``, ``read_idx``, ``load_mnist_arrays``,
  ``load_mnist``, ``MNIST``, ``mnist_loaders``.
* **Part 1's figures** (``vae.ipynb``), after the Figure class all plots return: ``visualize_mnist``, ``visualize_vae_samples``, ``visualize_samples``,
  ``visualize_embeddings``.
* **Parts 2 and 3's figures** (``vae2d.ipynb``, ``cvae.ipynb``): ``plot_training_curves``, ``plot_latent_scatter``,
  ``plot_manifold``, ``plot_digit_grid``, ``plot_image_row``, ``plot_reconstructions``, ``plot_beta_comparison``,
  ``plot_interpolations``.

Every function here is used by a notebook (the graders read the same figures back); nothing only the kit needs
lives in this file.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

__all__ = [
    "MNIST", "MNIST_FILES", "MNIST_MIRRORS", "download_mnist", "load_mnist", "load_mnist_arrays", "mnist_loaders",
    "mnist_root", "plot_beta_comparison", "plot_digit_grid", "plot_image_row", "plot_interpolations",
    "plot_latent_scatter", "plot_manifold", "plot_reconstructions", "plot_training_curves", "read_idx",
    "visualize_embeddings", "visualize_mnist", "visualize_samples", "visualize_vae_samples",
]

# --- MNIST (every part) ----------------------------------------------------------------------------------------

#: The four MNIST files and their md5 checksums (the values torchvision checks).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
#: Mirrors tried in order, as torchvision does.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def mnist_root(root: str | os.PathLike | None = None) -> Path:
    """Return the folder that holds ``MNIST/raw/``.

    Parameters
    ----------
    root : path or None
        Explicit folder; when None, ``$MNIST_ROOT`` is used, and when that is unset, ``./data``.
    """
    return Path(root if root is not None else os.environ.get("MNIST_ROOT") or "data")


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, target: Path, opener: Callable, progress: bool) -> None:
    """Stream ``url`` into ``target`` (through a ``.part`` file) with a tqdm progress bar."""
    from tqdm.auto import tqdm

    part = target.with_name(target.name + ".part")
    with opener(url) as response, open(part, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))
    part.replace(target)


def download_mnist(root: str | os.PathLike | None = None, mirrors: Iterable[str] = MNIST_MIRRORS,
                   opener: Callable = urllib.request.urlopen, progress: bool = True) -> Path:
    """Make sure the four MNIST files are in ``ROOT/MNIST/raw/``, downloading the missing ones.

    Files already present with the right md5 are kept. Each missing file is fetched from the first
    mirror that serves it with the right md5.

    Parameters
    ----------
    root : path or None
        See :func:`mnist_root`.
    mirrors : iterable of str
        Base URLs, each ending in ``/``; the file name is appended.
    opener : callable
        ``opener(url)`` returns a context manager with ``.read(n)`` and ``.headers``
        (default :func:`urllib.request.urlopen`; tests pass a fake or a local server's URL).
    progress : bool
        Show a tqdm progress bar per file.

    Returns
    -------
    Path
        The ``ROOT/MNIST/raw`` folder.

    Raises
    ------
    RuntimeError
        When a file cannot be fetched from any mirror (offline, say) or every copy fails its md5
        check; the message lists what was tried and how to provide the files by hand.
    """
    raw = mnist_root(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, md5 in MNIST_FILES.items():
        target = raw / name
        if target.exists() and _md5(target) == md5:
            continue
        failures = []
        for mirror in mirrors:
            try:
                _fetch(mirror + name, target, opener, progress)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                failures.append(f"{mirror + name}: {exc}")
                continue
            if _md5(target) == md5:
                break
            failures.append(f"{mirror + name}: md5 mismatch")
            target.unlink()
        else:
            raise RuntimeError(
                f"could not download MNIST file {name} (are you offline?). Tried:\n  "
                + "\n  ".join(failures)
                + f"\nPut the four MNIST .gz files into {raw} by hand, or set MNIST_ROOT to a folder "
                "that holds MNIST/raw/.")
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped), the format of the original MNIST files.

    The values are decompressed straight into the returned array, a megabyte at a time, so that reading MNIST's
    training images (47 MB) holds one copy of them in memory, not three.

    Returns
    -------
    ndarray
        Array with the file's dimensions and dtype (uint8 for MNIST images and labels).

    Raises
    ------
    ValueError
        When the file is not a well-formed IDX file (bad magic number, truncated data or data beyond its shape).
    """
    path = Path(path)
    with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
        head = f.read(4)
        if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_DTYPES:
            raise ValueError(f"{path} is not an IDX file (bad magic number)")
        dims = f.read(4 * head[3])
        dtype = np.dtype(_IDX_DTYPES[head[2]])
        shape = struct.unpack(f">{head[3]}I", dims) if len(dims) == 4 * head[3] else None
        values = np.empty(int(np.prod(shape, dtype=np.int64)) if shape else 0, dtype)
        # decompressed straight into the array, a megabyte at a time: no second copy of the file in memory
        view, filled = memoryview(values.view(np.uint8)), 0
        while filled < len(view) and (chunk := f.read(min(1 << 20, len(view) - filled))):
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if shape is None or filled != len(view):
            raise ValueError(f"{path} is truncated: expected {len(values)} values of shape {shape}")
        if f.read(1):
            raise ValueError(f"{path} holds more data than its {len(values)} values of shape {shape}")
    return values.reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def load_mnist_arrays(train: bool = True, root: str | os.PathLike | None = None,
                      download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load the MNIST training (60,000 images) or test (10,000 images) set as numpy arrays.

    Parameters
    ----------
    train : bool
        True for the training set, False for the test set.
    root : path or None
        See :func:`mnist_root`.
    download : bool
        Download missing files (see :func:`download_mnist`); when False, a missing file raises.

    Returns
    -------
    images : ndarray of shape (n, 28, 28), dtype uint8, values in [0, 255]
    labels : ndarray of shape (n,), dtype uint8, values in {0, ..., 9}

    Raises
    ------
    FileNotFoundError
        When a file is missing and ``download`` is False.
    RuntimeError
        When a download fails (see :func:`download_mnist`).
    """
    raw = mnist_root(root) / "MNIST" / "raw"
    prefix = "train" if train else "t10k"
    names = (f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz")
    missing = [n for n in names if not (raw / n).exists()]
    if missing and not download:
        raise FileNotFoundError(f"MNIST files {missing} not found in {raw}; set MNIST_ROOT or download=True")
    if missing:
        download_mnist(root)
    return read_idx(raw / names[0]), read_idx(raw / names[1])


def load_mnist(train: bool = True, root: str | os.PathLike | None = None, download: bool = True):
    """:func:`load_mnist_arrays` as torch tensors.

    Returns
    -------
    images : Tensor of shape (n, 28, 28), dtype uint8, values in [0, 255]
    labels : Tensor of shape (n,), dtype int64, values in {0, ..., 9}
    """
    import torch

    images, labels = load_mnist_arrays(train, root, download)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


class MNIST:
    """MNIST as a map-style dataset (``torch.utils.data.Dataset`` protocol) of ``(image, label)`` pairs,
    as torchvision's ``ToTensor()`` gives them.

    Images are kept as uint8 (47 MB for the training set) and scaled when indexed. An index may be
    an int or a list/tensor of ints (a whole batch at once, which is what :func:`mnist_loaders` uses).

    Parameters
    ----------
    train, root, download : see :func:`load_mnist`.

    Indexing returns
    ----------------
    image : Tensor of shape (1, 28, 28) (or (batch, 1, 28, 28)), float32, values in [0, 1]
    label : int64 Tensor of shape () (or (batch,))
    """

    def __init__(self, train: bool = True, root=None, download: bool = True):
        self.images, self.labels = load_mnist(train, root, download)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index):
        import torch

        index = torch.as_tensor(index)
        return self.images[index].unsqueeze(-3).float().div_(255), self.labels[index]


def _batches(dataset: MNIST, batch_size: int, shuffle: bool, generator=None):
    import torch

    sampler = (torch.utils.data.RandomSampler(dataset, generator=generator) if shuffle
               else torch.utils.data.SequentialSampler(dataset))
    batches = torch.utils.data.BatchSampler(sampler, batch_size, drop_last=False)
    # batch_size=None: each index the loader gets is already a whole batch of indices.
    return torch.utils.data.DataLoader(dataset, batch_size=None, sampler=batches)


def mnist_loaders(batch_size: int = 128, test_batch_size: int = 1000, root=None, download: bool = True,
                  generator=None):
    """Data loaders over the MNIST training and test sets, both shuffled.

    Parameters
    ----------
    batch_size : int
        Training batch size (the notebook uses 128).
    test_batch_size : int
        Test batch size (the t-SNE plot embeds one test batch).
    root, download : see :func:`load_mnist`.
    generator : torch.Generator or None
        Seeds the shuffling; None uses torch's global generator.

    Returns
    -------
    train_loader, test_loader : DataLoader
        Each yields ``(x, y)`` with x a float32 Tensor of shape (batch, 1, 28, 28), values in [0, 1],
        and y an int64 Tensor of shape (batch,).
    """
    train = _batches(MNIST(True, root, download), batch_size, True, generator)
    test = _batches(MNIST(False, root, download), test_batch_size, True, generator)
    return train, test


# --- Figures: the Figure class every plot returns, then Part 1's figures (vae.ipynb) ----------------------------

_FIGURE_CLASS = None


def _figure_class():
    """The Figure class of the plots: a matplotlib Figure that a notebook shows once.

    The plots return their Figure, and the handout's cells call them as a cell's last line. Jupyter would then
    show the figure twice: as the cell's value, and again by the inline backend when the cell ends. This class
    shows itself once while pyplot holds it, whichever comes first, and again whenever asked once pyplot has
    closed it (a later cell that shows ``fig``).
    """
    global _FIGURE_CLASS
    if _FIGURE_CLASS is None:
        import base64
        import io

        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        class ShownOnce(Figure):
            shown = False

            def _ipython_display_(self):
                held = getattr(self, "number", None) is not None and plt.fignum_exists(self.number)
                if held and self.shown:
                    return
                self.shown = True
                from IPython.display import display

                buffer = io.BytesIO()
                self.savefig(buffer, format="png", bbox_inches="tight")
                display({"image/png": base64.b64encode(buffer.getvalue()).decode(), "text/plain": repr(self)},
                        raw=True)

        ShownOnce.__name__ = ShownOnce.__qualname__ = "Figure"  # its repr: <Figure size 550x270 with 10 Axes>
        _FIGURE_CLASS = ShownOnce
    return _FIGURE_CLASS


def _image_grid(images: np.ndarray, num_rows: int, num_cols: int, title: str, labels=None):
    """Plot the first ``num_rows * num_cols`` images of shape (n, 28, 28), values in [0, 1], on a grid; returns
    the Figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * 1.1, num_rows * 1.1 + 0.5), squeeze=False,
                             FigureClass=_figure_class())
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=1)
            if labels is not None:
                ax.set_title(str(int(labels[i])), fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _images(values) -> np.ndarray:
    """A Tensor or array of images, shape (n, 784), (n, 1, 28, 28) or (n, 28, 28), as an ndarray (n, 28, 28)."""
    values = values.detach().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)
    if values.size % 784 != 0:
        raise ValueError(f"expected images of 28x28 = 784 pixels, shape (n, 784) or (n, 28, 28); got {values.shape}")
    return values.reshape(-1, 28, 28)


def visualize_mnist(data_loader, num_rows: int = 2, num_cols: int = 5):
    """Plot the first ``num_rows * num_cols`` images of the first batch of ``data_loader``, each titled with its
    label (the course handout's signature).

    Parameters
    ----------
    data_loader : iterable of (x, y)
        x of shape (batch, 1, 28, 28) or (batch, 784), values in [0, 1]; y of shape (batch,).
    num_rows, num_cols : int
        The grid.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x, y = next(iter(data_loader))
    count = num_rows * num_cols
    return _image_grid(_images(x[:count]), num_rows, num_cols, "MNIST samples", labels=y[:count].cpu().numpy())


def visualize_vae_samples(samples, num_rows: int = 2, num_cols: int = 5):
    """Plot the first ``num_rows * num_cols`` images generated by the VAE (the course handout's signature).

    Parameters
    ----------
    samples : Tensor or ndarray of shape (n, 784) or (n, 28, 28), values in [0, 1]
        Such as ``vae.sample(10)`` or ``vae.sample(10).view(-1, 28, 28).detach().cpu().numpy()``.
    num_rows, num_cols : int
        The grid; with fewer samples than cells, the last cells stay empty.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When the samples are not images of 784 pixels.
    """
    return _image_grid(_images(samples)[:num_rows * num_cols], num_rows, num_cols, "Samples generated by the VAE")


def visualize_samples(samples, ncols: int = 10):
    """Plot every generated image given, ``ncols`` per row (an extra of this kit: the grid grows with the count).

    Parameters
    ----------
    samples : Tensor or ndarray of shape (n, 784) or (n, 28, 28), values in [0, 1]

    Returns
    -------
    matplotlib.figure.Figure
    """
    images = _images(samples)
    return _image_grid(images, int(np.ceil(len(images) / ncols)), ncols, "Samples generated by the VAE")


def visualize_embeddings(vae, x, y, seed: int = 0):
    """Scatter the t-SNE embedding of the encoder means, coloured by digit label (the handout's signature).

    The figure is 10 x 7 inches, or the size of the current figure when that one is empty (the handout calls
    ``plt.figure(figsize=[10, 7])`` first), which it then replaces.

    Parameters
    ----------
    vae : the trained VAE; ``vae.encoder(x)`` returns ``(mu, logsigma)``, each (batch, latent_dim).
    x : Tensor of shape (batch, 784), values in [0, 1]; batch of at least 4 (the notebook uses 1000)
    y : Tensor of shape (batch,), digit labels
    seed : int
        Random state of scikit-learn's TSNE, so the figure is reproducible.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import torch
    from sklearn.manifold import TSNE

    with torch.no_grad():
        mu, _ = vae.encoder(x)
    mu = mu.detach().cpu().numpy()
    perplexity = min(30.0, (len(mu) - 1) / 3)  # TSNE needs perplexity < number of points
    embedding = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed).fit_transform(mu)
    size = (10, 7)
    if plt.get_fignums() and not plt.gcf().axes:
        size = tuple(plt.gcf().get_size_inches())
        plt.close(plt.gcf())
    fig, ax = plt.subplots(figsize=size, FigureClass=_figure_class())
    points = ax.scatter(embedding[:, 0], embedding[:, 1], c=np.asarray(y.cpu() if hasattr(y, "cpu") else y),
                        cmap="tab10", s=8)
    ax.legend(*points.legend_elements(), title="digit", loc="best", fontsize=8)
    ax.set_title("t-SNE of the encoder means mu")
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


# --- Parts 2 and 3's figures (vae2d.ipynb, cvae.ipynb) ---------------------------------------------------------
# Part 2 (a 2-D latent space): training curves, the latent scatter, the manifold, digit grids, reconstructions,
# the beta comparison and interpolations. Every image argument is a Tensor or ndarray whose values are in [0, 1].

def _array(values) -> np.ndarray:
    """A Tensor (any device, with or without grad) or array-like as an ndarray."""
    return values.detach().cpu().numpy() if hasattr(values, "detach") else np.asarray(values)


def _image_block(values, rows: int, cols: int, name: str) -> np.ndarray:
    """``rows * cols`` images of 784 pixels (any shape holding them row-major, such as (rows * cols, 784),
    (rows, cols, 28, 28) or (rows * cols, 1, 28, 28)) as an ndarray of shape (rows, cols, 28, 28)."""
    values = _array(values)
    if values.size != rows * cols * 784 or (values.ndim and len(values) not in (rows, rows * cols)):
        raise ValueError(f"{name}: expected {rows} x {cols} = {rows * cols} images of 28x28 = 784 pixels, such as "
                         f"shape ({rows * cols}, 784) or ({rows}, {cols}, 28, 28); got shape {values.shape}")
    return values.reshape(rows, cols, 28, 28)


def _show_block(ax, block: np.ndarray, title: str, row_labels=None, col_labels=None, extent=None) -> None:
    """Draw images (rows, cols, 28, 28) as one mosaic on ``ax``, optionally labelling rows and columns."""
    rows, cols = block.shape[:2]
    ax.imshow(block.transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28), cmap="gray", vmin=0, vmax=1,
              extent=extent, aspect="auto" if extent is not None else "equal")
    ax.set_title(title)
    if extent is not None:
        return
    ax.set_xticks(np.arange(cols) * 28 + 13.5, col_labels if col_labels is not None else [""] * cols)
    ax.set_yticks(np.arange(rows) * 28 + 13.5, row_labels if row_labels is not None else [""] * rows)
    ax.tick_params(length=0)


def _figure(nrows: int, ncols: int, size: tuple[float, float]):
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=size, squeeze=False, FigureClass=_figure_class())


def plot_training_curves(history: dict):
    """Plot the loss, the reconstruction term and the KL divergence per epoch, for training and test
    (seed 000, deliverable a).

    Parameters
    ----------
    history : dict
        ``{"train": {"loss": [...], "reconstruction": [...], "kl": [...]}, "test": {...}}``: one value per
        epoch, each the mean over the set's images in nats per image (loss = reconstruction + KL, the negative
        ELBO); ``"test"`` may be left out. Lists, ndarrays or 1-D Tensors.

    Returns
    -------
    matplotlib.figure.Figure with three axes: loss, reconstruction, KL, each against the epoch (1, 2, ...).

    Raises
    ------
    ValueError
        When ``"train"`` or one of its three series is missing, a series is empty, or the series of a split
        differ in length.
    """
    terms = {"loss": "loss (negative ELBO)", "reconstruction": "reconstruction (BCE)", "kl": "KL divergence"}
    splits = {split: history[split] for split in ("train", "test") if split in history}
    for split, series in splits.items():
        if not isinstance(series, dict) or set(terms) - set(series):
            raise ValueError(f"history[{split!r}] must be a dict with keys {sorted(terms)}; got {series!r:.80}")
        lengths = {len(_array(series[term]).reshape(-1)) for term in terms}
        if len(lengths) != 1 or 0 in lengths:
            raise ValueError(f"history[{split!r}]: loss, reconstruction and kl need one value per epoch, as many "
                             f"of each (at least one); got lengths {sorted(lengths)}")
    if "train" not in splits:
        raise ValueError(f"history needs a 'train' entry (and optionally 'test'); got keys {sorted(history)}")
    fig, axes = _figure(1, 3, (12, 3.5))
    for ax, (term, title) in zip(axes.flat, terms.items()):
        for split, series in splits.items():
            values = _array(series[term]).reshape(-1)
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=split)
        ax.set(title=title, xlabel="epoch", ylabel="nats per image")
        ax.legend()
    fig.tight_layout()
    return fig


def plot_latent_scatter(z, labels, title: str | None = None):
    """Scatter 2-D latent codes coloured by digit, with a legend (seed 000, deliverable b; seed 003 b).

    Parameters
    ----------
    z : Tensor or ndarray of shape (n, 2)
        Codes of n images (the encoder's output followed by reparameterization; the handout uses 5,000).
    labels : Tensor or ndarray of shape (n,), ints in {0, ..., 9}
        Each image's digit.
    title : str or None
        The axes' title (such as the model's name); None gives ``Latent codes of n images``.

    Returns
    -------
    matplotlib.figure.Figure with one axes (z1 across, z2 up).

    Raises
    ------
    ValueError
        When z is not (n, 2) or labels is not n digits 0-9.
    """
    z, labels = _array(z), _array(labels).reshape(-1)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z: expected 2-D codes of shape (n, 2); got shape {z.shape}")
    if len(labels) != len(z) or not np.isin(labels, np.arange(10)).all():
        raise ValueError(f"labels: expected {len(z)} digits in 0-9, one per code; got {len(labels)} values "
                         f"in {sorted(set(labels.tolist()))[:12]}")
    fig, axes = _figure(1, 1, (7, 6))
    ax = axes[0, 0]
    points = ax.scatter(z[:, 0], z[:, 1], c=labels.astype(int), cmap="tab10", vmin=-0.5, vmax=9.5, s=4, alpha=0.7)
    ax.legend(*points.legend_elements(), title="digit", loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    ax.set(title=title or f"Latent codes of {len(z)} images", xlabel="z1", ylabel="z2")
    fig.tight_layout()
    return fig


def plot_manifold(images, n: int, z_range: tuple[float, float] | None = None, title: str | None = None):
    """Plot an n x n grid of images decoded from a regular grid of 2-D codes (seed 000, deliverable c; seed 003 c).

    Parameters
    ----------
    images : Tensor or ndarray of shape (n * n, 784), (n * n, 28, 28) or (n, n, 28, 28), values in [0, 1]
        Row-major: along a row z1 increases, down the rows z2 decreases (so the figure reads like the z-plane).
    n : int
        Images per side (the handout's 15).
    z_range : (low, high) or None
        The codes' range on both axes; when given, the axes are labelled in z, else the grid has no ticks.
    title : str or None
        The axes' title; None gives ``Decoded n x n grid of z``.

    Returns
    -------
    matplotlib.figure.Figure with one axes showing the n x n mosaic.

    Raises
    ------
    ValueError
        When ``images`` does not hold n * n images of 784 pixels.
    """
    block = _image_block(images, n, n, "images")
    fig, axes = _figure(1, 1, (8, 8))
    extent = None if z_range is None else (z_range[0], z_range[1], z_range[0], z_range[1])
    _show_block(axes[0, 0], block, title or f"Decoded {n} x {n} grid of z", extent=extent)
    axes[0, 0].set(xlabel="z1", ylabel="z2")
    return fig


def plot_digit_grid(images, n_per_digit: int, title: str = "Generated samples per digit"):
    """Plot 10 rows of ``n_per_digit`` generated images, row d showing samples of digit d (seed 000, deliverable d;
    seed 003 h: the digits a conditional VAE makes when asked for each).

    Parameters
    ----------
    images : Tensor or ndarray of shape (10 * n_per_digit, 784), (10, n_per_digit, 28, 28) or the like,
        values in [0, 1], the samples of digit 0 first.
    n_per_digit : int
        Samples per digit (the handout's 5).
    title : str
        The axes' title.

    Returns
    -------
    matplotlib.figure.Figure with one axes, its rows labelled 0-9.

    Raises
    ------
    ValueError
        When ``images`` does not hold 10 * n_per_digit images of 784 pixels.
    """
    block = _image_block(images, 10, n_per_digit, "images")
    fig, axes = _figure(1, 1, (1 + 0.6 * n_per_digit, 6.5))
    _show_block(axes[0, 0], block, title, row_labels=[str(d) for d in range(10)])
    return fig


def plot_image_row(images, captions=None, title: str = ""):
    """Plot k images side by side, each with its caption below, such as the image a VAE decodes at z = (0, 0),
    or a conditional VAE's for each label (seed 003 c, e, h).

    Parameters
    ----------
    images : Tensor or ndarray of shape (k, 784), (k, 28, 28) or (k, 1, 28, 28), values in [0, 1]
    captions : sequence of k str, or None
        Written under each image (such as ``"c = 3"``); None leaves them blank.
    title : str
        The axes' title.

    Returns
    -------
    matplotlib.figure.Figure with one axes showing the 1 x k mosaic.

    Raises
    ------
    ValueError
        When ``images`` is not k >= 1 images of 784 pixels, or ``captions`` is not k strings.
    """
    values = _array(images)
    k = len(values) if values.ndim > 1 else 0
    if k == 0:
        raise ValueError("images: expected k >= 1 images of 28x28 = 784 pixels, shape (k, 784), (k, 28, 28) or "
                         f"(k, 1, 28, 28); got shape {values.shape}")
    block = _image_block(values, 1, k, "images")
    if captions is not None and len(captions) != k:
        raise ValueError(f"captions: expected one per image, {k}; got {len(captions)}")
    fig, axes = _figure(1, 1, (1.2 + 0.9 * k, 2.2))
    _show_block(axes[0, 0], block, title, col_labels=captions)
    return fig


_RECONSTRUCTION_ROWS = ("original", "reconstruction", "sample")


def _reconstruction_block(originals, reconstructions, samples, name: str = "") -> np.ndarray:
    """The three rows of :func:`plot_reconstructions` as one block (3, k, 28, 28)."""
    originals = _array(originals)
    k = len(originals) if originals.ndim else 0
    rows = zip(_RECONSTRUCTION_ROWS, (originals, reconstructions, samples))
    return np.stack([_image_block(values, 1, k, f"{name}{row}s")[0] for row, values in rows])


def plot_reconstructions(originals, reconstructions, samples):
    """Plot three rows: MNIST images, their reconstructions, and new samples from the prior (seed 001).

    Parameters
    ----------
    originals : Tensor or ndarray of shape (k, 784), (k, 28, 28) or (k, 1, 28, 28), values in [0, 1]
    reconstructions : the same shape: the decoder's output for the codes of ``originals``, in [0, 1]
    samples : the same shape: images decoded from z ~ N(0, I), in [0, 1] (the handout asks for k >= 16)

    Returns
    -------
    matplotlib.figure.Figure with one axes, its rows labelled original, reconstruction, sample.

    Raises
    ------
    ValueError
        When the three do not each hold k images of 784 pixels.
    """
    block = _reconstruction_block(originals, reconstructions, samples)
    fig, axes = _figure(1, 1, (1 + 0.6 * block.shape[1], 2.6))
    _show_block(axes[0, 0], block, "MNIST images, their reconstructions, and samples", row_labels=_RECONSTRUCTION_ROWS)
    return fig


def plot_beta_comparison(results: dict):
    """Plot :func:`plot_reconstructions`' three rows side by side for several weights of the KL term (seed 001).

    Parameters
    ----------
    results : dict
        ``{beta: (originals, reconstructions, samples)}``, beta a float (the KL weight; 1 is the ELBO), each
        entry as in :func:`plot_reconstructions`; panels in the dict's order.

    Returns
    -------
    matplotlib.figure.Figure with one axes per beta, titled ``beta = ...``.

    Raises
    ------
    ValueError
        When ``results`` is empty or an entry is not three sets of k images.
    """
    if not results:
        raise ValueError("results: expected {beta: (originals, reconstructions, samples)} with at least one beta")
    blocks = {}
    for beta, entry in results.items():
        if not isinstance(entry, (tuple, list)) or len(entry) != 3:
            raise ValueError(f"results[{beta!r}]: expected (originals, reconstructions, samples); got {entry!r:.60}")
        blocks[beta] = _reconstruction_block(*entry, name=f"results[{beta!r}]: ")
    widest = max(block.shape[1] for block in blocks.values())
    fig, axes = _figure(1, len(blocks), (len(blocks) * (0.5 + 0.35 * widest), 2.4))
    for i, (ax, (beta, block)) in enumerate(zip(axes.flat, blocks.items())):
        _show_block(ax, block, f"beta = {beta:g}", row_labels=_RECONSTRUCTION_ROWS if i == 0 else None)
    fig.tight_layout()
    return fig


def plot_interpolations(rows, row_labels=None):
    """Plot interpolations between pairs of test images: each row x_a, the decoded points, x_b (seed 002).

    Parameters
    ----------
    rows : Tensor or ndarray of shape (n_rows, n_cols, 784) or (n_rows, n_cols, 28, 28), values in [0, 1]
        Row i: the first test image, the images decoded from evenly spaced codes between the pair's codes
        (closest to the first image first), the second test image. The handout's figure is 10 x 9 (7 points).
    row_labels : sequence of n_rows str, or None
        Such as the digits of each pair (``"3 -> 7"``).

    Returns
    -------
    matplotlib.figure.Figure with one axes, its columns labelled x_a, 1, ..., n_cols - 2, x_b.

    Raises
    ------
    ValueError
        When ``rows`` is not 3-D or 4-D, or has fewer than 3 columns.
    """
    values = _array(rows)
    if values.ndim not in (3, 4) or values.shape[1] < 3:
        raise ValueError("rows: expected shape (n_rows, n_cols, 784) or (n_rows, n_cols, 28, 28) with n_cols >= 3 "
                         f"(x_a, the interpolates, x_b), such as (10, 9, 784); got shape {values.shape}")
    block = _image_block(values, values.shape[0], values.shape[1], "rows")
    columns = ["x_a", *(str(i) for i in range(1, block.shape[1] - 1)), "x_b"]
    fig, axes = _figure(1, 1, (0.7 * block.shape[1] + 1, 0.7 * block.shape[0] + 0.8))
    _show_block(axes[0, 0], block, "Interpolations between codes", row_labels=row_labels, col_labels=columns)
    return fig
