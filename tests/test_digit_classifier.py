"""digit_classifier: training on a subset, the file kept next to the data, numpy prediction, bad files refused.

Every test trains on a few thousand images (seconds) into a temporary MNIST root that links the real raw files,
so nothing is written into the repository or into $MNIST_ROOT.
"""
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST

import digit_classifier

EPOCHS = {"cnn": 1, "mlp": 5, "logreg": 50}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A private MNIST root: MNIST/raw/ links the four real files; the classifier folder is written here."""
    root = tmp_path_factory.mktemp("mnist_root")
    (root / "MNIST" / "raw").mkdir(parents=True)
    for source in (MNIST / "MNIST" / "raw").glob("*-ubyte.gz"):
        os.symlink(source, root / "MNIST" / "raw" / source.name)
    return root


@pytest.fixture(scope="module")
def trained(root) -> dict:
    """One small classifier of each kind, trained on the first 3,000 training images."""
    return {kind: digit_classifier.train(root, kind, seed=0, limit=3000, epochs=EPOCHS[kind])
            for kind in digit_classifier.KINDS}


@pytest.fixture(scope="module")
def test_set(root):
    return digit_classifier.mnist_float(False, root, limit=1000)


@pytest.mark.parametrize("kind", digit_classifier.KINDS)
def test_small_training_run_is_well_above_chance(trained, kind):
    """Does a classifier trained on 3,000 images get at least 80% of the 10,000 test images right (chance: 10%)?"""
    assert trained[kind].kind == kind
    assert trained[kind].test_accuracy >= 0.8


@pytest.mark.parametrize("kind", digit_classifier.KINDS)
def test_save_load_round_trip(root, trained, test_set, kind):
    """Does a classifier saved next to the data and loaded back predict exactly as before?"""
    path = digit_classifier.save(trained[kind], root=root)
    assert path == root / "MNIST" / "classifier" / f"digits-{kind}.npz"
    loaded = digit_classifier.load(root=root, kind=kind)
    images, _ = test_set
    assert np.array_equal(loaded.logits(images), trained[kind].logits(images))
    assert loaded.test_accuracy == trained[kind].test_accuracy


def test_training_is_deterministic(root, trained):
    """Does training again with the same seed give the same weights?"""
    again = digit_classifier.train(root, "cnn", seed=0, limit=3000, epochs=EPOCHS["cnn"])
    for name, value in trained["cnn"].weights.items():
        assert np.array_equal(again.weights[name], value), name


def test_numpy_cnn_matches_torch(trained, test_set):
    """Do the numpy forward pass of the CNN and the torch module it was trained as give the same logits?"""
    import torch

    images, _ = test_set
    with torch.no_grad():
        expected = digit_classifier.torch_cnn(trained["cnn"].weights)(torch.from_numpy(images).view(-1, 1, 28, 28))
    assert np.allclose(trained["cnn"].logits(images), expected.numpy(), atol=1e-4)


def test_predict_accepts_flat_square_and_tensor_images(trained, test_set):
    """Are (n, 784), (n, 28, 28), (n, 1, 28, 28) arrays and a torch Tensor classified alike, as labels 0-9?"""
    import torch

    classifier = trained["cnn"]
    images, labels = test_set
    flat = classifier.predict(images[:50])
    assert flat.shape == (50,) and set(flat) <= set(range(10))
    assert np.array_equal(classifier.predict(images[:50].reshape(-1, 28, 28)), flat)
    assert np.array_equal(classifier.predict(torch.from_numpy(images[:50]).view(-1, 1, 28, 28)), flat)
    assert classifier.accuracy(images, torch.from_numpy(labels)) == classifier.accuracy(images, labels) > 0.8


@pytest.mark.parametrize("images, problem", [
    (np.zeros((3, 27, 27), np.float32), "shape"),
    (np.zeros((3, 784), np.uint8), "dtype uint8"),
    (np.full((3, 784), 255.0), r"values in \[0, 1\]"),
    (np.full((3, 784), np.nan), "NaN"),
])
def test_predict_rejects_bad_images(trained, images, problem):
    """Does predict refuse images of the wrong shape, dtype or range, saying which?"""
    with pytest.raises(ValueError, match=problem):
        trained["logreg"].predict(images)


def test_load_refuses_files_that_are_not_a_classifier(tmp_path, trained):
    """Does load refuse a missing file, a non-npz (a pickle), a wrong kind and wrong shapes, each clearly?"""
    with pytest.raises(digit_classifier.ClassifierFileError, match="make classifier"):
        digit_classifier.load(root=tmp_path)
    pickled = tmp_path / "pickle.npz"
    pickled.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01.")
    with pytest.raises(digit_classifier.ClassifierFileError, match="not a digit classifier file"):
        digit_classifier.load(pickled)
    wrong_kind = tmp_path / "kind.npz"
    np.savez(wrong_kind, kind=np.array("svm"), format_version=np.array(1))
    with pytest.raises(digit_classifier.ClassifierFileError, match="kind 'svm'"):
        digit_classifier.load(wrong_kind)
    weights = dict(trained["logreg"].weights, weight=np.zeros((10, 100), np.float32))
    path = digit_classifier.save(digit_classifier.DigitClassifier("logreg", weights), tmp_path / "shapes.npz")
    with pytest.raises(digit_classifier.ClassifierFileError, match="does not hold the logreg classifier's arrays"):
        digit_classifier.load(path)


def test_unknown_kind_is_refused(root):
    """Does train name the kinds it knows when given another?"""
    with pytest.raises(ValueError, match="unknown classifier kind 'svm'"):
        digit_classifier.train(root, "svm")


def test_import_runs_nothing_and_needs_no_torch():
    """Does importing digit_classifier leave torch and scikit-learn unimported?"""
    import subprocess
    import sys

    code = "import sys, digit_classifier; print('torch' in sys.modules or 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(digit_classifier.__file__).parent)
    assert out.stdout.strip() == "False"
