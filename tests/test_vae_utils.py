"""vae_utils: IDX parsing, MNIST loading, downloads (local server and fake opener), plots."""
import gzip
import hashlib
import http.server
import io
import os
import shutil
import struct
import subprocess
import sys
import threading
import urllib.error
from functools import partial

import numpy as np
import pytest
from conftest import MNIST, ROOT

import vae_utils

MNIST_RAW = MNIST / "MNIST" / "raw"


def write_idx(path, array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(array.dtype.newbyteorder(">")).tobytes())


def test_read_idx_round_trip(tmp_path):
    """Does read_idx return the array an IDX file holds, for bytes and big-endian ints?"""
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", images)
    assert np.array_equal(vae_utils.read_idx(tmp_path / "a.gz"), images)
    ints = np.array([1, -2, 70000], dtype=np.int32)
    write_idx(tmp_path / "b.gz", ints, code=0x0C)
    assert np.array_equal(vae_utils.read_idx(tmp_path / "b.gz"), ints)


@pytest.mark.parametrize("data, problem", [(b"\x00\x00\x42\x01", "magic"),
                                           (bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"abc", "truncated"),
                                           (bytes([0, 0, 8, 2]) + b"\x00", "truncated"),
                                           (bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + b"abc", "more data")])
def test_read_idx_rejects_bad_files(tmp_path, data, problem):
    """Does read_idx refuse a file with a bad magic number, too little data (or header) or more data than its shape
    holds, saying which?"""
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(ValueError, match=problem):
        vae_utils.read_idx(tmp_path / "bad")


def test_load_mnist_shapes_and_ranges():
    """Are the MNIST sets 60,000 and 10,000 uint8 images of 28x28 with labels 0-9?"""
    for train, count in ((True, 60000), (False, 10000)):
        images, labels = vae_utils.load_mnist_arrays(train, download=False)
        assert images.shape == (count, 28, 28) and images.dtype == np.uint8 and images.max() == 255
        assert labels.shape == (count,) and set(np.unique(labels)) == set(range(10))


def test_loaders_yield_torch_batches_in_unit_range():
    """Do the loaders yield (batch, 1, 28, 28) floats in [0, 1] with int64 labels, covering the set once?"""
    import torch

    train, test = vae_utils.mnist_loaders(128, generator=torch.Generator().manual_seed(0))
    x, y = next(iter(train))
    assert x.shape == (128, 1, 28, 28) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (128,) and y.dtype == torch.int64
    assert sum(len(y) for _, y in test) == 10000


def test_import_runs_nothing_and_needs_no_torch():
    """Does importing vae_utils leave torch unimported and download nothing?"""
    code = "import sys, vae_utils; assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules"
    env = {**os.environ, "MNIST_ROOT": "/nonexistent"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server whose /good/ serves the real MNIST files and /bad/ corrupted copies."""
    site = tmp_path / "site"
    (site / "good").mkdir(parents=True)
    (site / "bad").mkdir()
    for name in vae_utils.MNIST_FILES:
        shutil.copy(MNIST_RAW / name, site / "good" / name)
        (site / "bad" / name).write_bytes(b"not the file")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_from_a_local_mirror(tmp_path, mirror):
    """Does download_mnist fetch all four files over HTTP, md5-checked, skipping a mirror that 404s?"""
    raw = vae_utils.download_mnist(tmp_path / "data", mirrors=[f"{mirror}/missing/", f"{mirror}/good/"],
                                   progress=False)
    for name, md5 in vae_utils.MNIST_FILES.items():
        assert hashlib.md5((raw / name).read_bytes()).hexdigest() == md5
    assert not list(raw.glob("*.part"))
    images, _ = vae_utils.load_mnist_arrays(False, tmp_path / "data", download=False)
    assert images.shape == (10000, 28, 28)


def test_download_rejects_corrupt_files(tmp_path, mirror):
    """Does a mirror serving files with the wrong md5 end in a clear error, leaving no bad file?"""
    with pytest.raises(RuntimeError, match="md5 mismatch"):
        vae_utils.download_mnist(tmp_path / "data", mirrors=[f"{mirror}/bad/"], progress=False)
    assert not any((tmp_path / "data" / "MNIST" / "raw").iterdir())


def test_download_offline_says_what_to_do(tmp_path):
    """Offline (every URL refused by a fake opener), is the error clear about what to do?"""
    def refuse(url):
        raise urllib.error.URLError("no network")

    with pytest.raises(RuntimeError, match="are you offline") as error:
        vae_utils.download_mnist(tmp_path / "data", opener=refuse, progress=False)
    assert "MNIST_ROOT" in str(error.value)


def test_download_with_a_fake_opener(tmp_path):
    """Does a fake opener's stream land in ROOT/MNIST/raw when its bytes have the right md5?"""
    class Response(io.BytesIO):
        headers = {}

    def opener(url):
        return Response((MNIST_RAW / url.rsplit("/", 1)[1]).read_bytes())

    raw = vae_utils.download_mnist(tmp_path / "data", mirrors=["fake://x/"], opener=opener, progress=False)
    assert sorted(p.name for p in raw.iterdir()) == sorted(vae_utils.MNIST_FILES)


def test_existing_files_are_kept(tmp_path):
    """With all four files present and correct, does download_mnist open no URL at all?"""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in vae_utils.MNIST_FILES:
        shutil.copy(MNIST_RAW / name, raw / name)

    def opener(url):
        raise AssertionError(f"unexpected download of {url}")

    assert vae_utils.download_mnist(tmp_path, opener=opener) == raw


def test_plots_return_figures():
    """Do the plots, under the handout's names and signatures, return Figures with the expected panels?"""
    import matplotlib
    import torch

    matplotlib.use("Agg")
    x = torch.rand(30, 1, 28, 28)
    y = torch.arange(30) % 10
    grid = vae_utils.visualize_mnist([(x, y)])
    assert isinstance(grid, matplotlib.figure.Figure) and sum(a.has_data() for a in grid.axes) == 10
    assert sum(a.has_data() for a in vae_utils.visualize_mnist([(x.view(30, 784), y)], 4, 5).axes) == 20
    samples = torch.bernoulli(torch.rand(12, 784))
    for given in (samples, samples.view(-1, 28, 28).numpy(), samples.view(-1, 28, 28)):
        figure = vae_utils.visualize_vae_samples(given)
        assert len(figure.axes) == 10 and sum(a.has_data() for a in figure.axes) == 10
    assert sum(a.has_data() for a in vae_utils.visualize_vae_samples(samples, num_rows=3, num_cols=5).axes) == 12
    assert sum(a.has_data() for a in vae_utils.visualize_samples(samples, ncols=6).axes) == 12
    with pytest.raises(ValueError, match="784"):
        vae_utils.visualize_vae_samples(torch.rand(3, 10))

    class Encoder:
        def encoder(self, x):
            return x[:, :5] * 3, x[:, 5:10]

    embedding = vae_utils.visualize_embeddings(Encoder(), x.view(30, 784), y)
    points = embedding.axes[0].collections[0].get_offsets()
    assert points.shape == (30, 2)


def test_a_notebook_shows_each_figure_once(tmp_path):
    """In a notebook, is a figure shown once whether the cell ends with the call, with `;`, or with an
    assignment, and is the handout's empty plt.figure replaced rather than shown?"""
    import nbformat
    from nbclient import NotebookClient

    (tmp_path / "vae_utils.py").symlink_to(ROOT / "vae_utils.py")
    cells = ["import torch, vae_utils\nimport matplotlib.pyplot as plt\nx = torch.rand(10, 784)",
             "vae_utils.visualize_vae_samples(x)", "vae_utils.visualize_vae_samples(x);",
             "figure = vae_utils.visualize_mnist([(x, torch.arange(10))])", "figure",
             "class E:\n    def encoder(self, x):\n        return x[:, :5], x[:, 5:]\n"
             "plt.figure(figsize=[10, 7])\n"
             "vae_utils.visualize_embeddings(E(), torch.rand(40, 784), torch.arange(40) % 10)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [[o.data.get("text/plain") for o in c.outputs if "image/png" in o.get("data", {})] for c in nb.cells[1:]]
    assert [len(s) for s in shown] == [1, 1, 1, 1, 1]
    assert shown[-1] == ["<Figure size 1000x700 with 1 Axes>"]
    assert not [o for c in nb.cells for o in c.outputs if "with 0 Axes" in str(o.get("data", {}).get("text/plain"))]
