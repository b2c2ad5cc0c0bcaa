"""vae_utils, Part 3's figures: the image row (what a model decodes at z = (0, 0), or a conditional VAE for each
label), and the titles that tell the three models' scatter, manifold and digit grid apart."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import vae_utils  # noqa: E402

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("shape", [(10, 784), (10, 1, 28, 28), (10, 28, 28)])
def test_image_row_draws_each_image_in_order_with_its_caption(shape):
    """Does the image row draw k images side by side, image i in column i, each captioned below, from a Tensor
    of any of the decoders' shapes?"""
    images = torch.zeros(shape)
    images.view(10, -1)[3] = 1.0  # the fourth image white
    captions = [f"c = {d}" for d in range(10)]
    fig = vae_utils.plot_image_row(images, captions, title="CVAE: decoded at z = (0, 0)")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    (ax,) = fig.axes
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (28, 10 * 28)
    assert mosaic[:, 3 * 28:4 * 28].min() == 1.0 and mosaic.sum() == 28 * 28
    assert [t.get_text() for t in ax.get_xticklabels()] == captions
    assert ax.get_title() == "CVAE: decoded at z = (0, 0)"


def test_image_row_of_one_image_without_captions():
    """Does one image (the image at z = (0, 0) of an unconditional model) make a row of one, uncaptioned?"""
    ax = vae_utils.plot_image_row(RNG.random((1, 1, 28, 28))).axes[0]
    assert ax.images[0].get_array().shape == (28, 28)
    assert [t.get_text() for t in ax.get_xticklabels()] == [""]


def test_titles_name_the_model():
    """Do the scatter, the manifold and the digit grid take a title (to name the model), keeping their defaults
    without one?"""
    z, labels, grid = RNG.normal(size=(50, 2)), np.arange(50) % 10, RNG.random((9, 784))
    assert vae_utils.plot_latent_scatter(z, labels, title="ConvVAE").axes[0].get_title() == "ConvVAE"
    assert vae_utils.plot_latent_scatter(z, labels).axes[0].get_title() == "Latent codes of 50 images"
    assert vae_utils.plot_manifold(grid, 3, (-2, 2), title="MLP VAE").axes[0].get_title() == "MLP VAE"
    assert vae_utils.plot_manifold(grid, 3).axes[0].get_title() == "Decoded 3 x 3 grid of z"
    digits = RNG.random((20, 784))
    assert vae_utils.plot_digit_grid(digits, 2, title="CVAE").axes[0].get_title() == "CVAE"
    assert vae_utils.plot_digit_grid(digits, 2).axes[0].get_title() == "Generated samples per digit"


@pytest.mark.parametrize("call, message", [
    (lambda: vae_utils.plot_image_row(np.zeros((0, 784))), r"images: expected k >= 1 images"),
    (lambda: vae_utils.plot_image_row(np.zeros(784)), r"images: expected k >= 1 images .* got shape \(784,\)"),
    (lambda: vae_utils.plot_image_row(np.zeros((2, 783))), r"images: expected 1 x 2 = 2 images"),
    (lambda: vae_utils.plot_image_row(np.zeros((3, 784)), ["c = 0", "c = 1"]), "captions: expected one per image, 3"),
])
def test_image_row_refuses_wrong_shapes_clearly(call, message):
    """Does the image row refuse no images, a flat image without its batch dimension, images that are not 784
    pixels, and captions that do not match the images, naming the argument?"""
    with pytest.raises(ValueError, match=message):
        call()
