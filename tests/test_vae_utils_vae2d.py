"""vae_utils, Part 2's figures: each returns its Figure with the right panels, takes arrays and Tensors alike,
and refuses wrong shapes with a message naming the argument and the expected shape."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import vae_utils  # noqa: E402

RNG = np.random.default_rng(0)


def images(*shape) -> np.ndarray:
    return RNG.random(shape, dtype=np.float32)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def mosaic_shapes(fig) -> list:
    """The shape of every image drawn on the figure, axes by axes."""
    return [image.get_array().shape for ax in fig.axes for image in ax.images]


def as_tensor(value):
    return torch.from_numpy(np.ascontiguousarray(value))


@pytest.mark.parametrize("convert", [np.asarray, as_tensor], ids=["ndarray", "tensor"])
def test_image_figures_draw_one_mosaic_of_the_right_size(convert):
    """Do the manifold, digit grid, reconstructions and interpolations each draw one mosaic of rows x cols images,
    from ndarrays and Tensors, flat or square?"""
    cases = [
        (vae_utils.plot_manifold(convert(images(15 * 15, 784)), 15), (15 * 28, 15 * 28)),
        (vae_utils.plot_manifold(convert(images(4, 4, 28, 28)), 4, z_range=(-3, 3)), (4 * 28, 4 * 28)),
        (vae_utils.plot_digit_grid(convert(images(50, 1, 28, 28)), 5), (10 * 28, 5 * 28)),
        (vae_utils.plot_reconstructions(*(convert(images(16, 784)) for _ in range(3))), (3 * 28, 16 * 28)),
        (vae_utils.plot_interpolations(convert(images(10, 9, 784))), (10 * 28, 9 * 28)),
    ]
    for fig, shape in cases:
        assert isinstance(fig, Figure) and len(fig.axes) == 1
        assert mosaic_shapes(fig) == [shape]


def test_mosaic_places_images_row_major():
    """Is image (r, c) of the manifold drawn in row r, column c of the mosaic (z2 decreasing down the rows)?"""
    grid = np.zeros((3, 3, 28, 28), np.float32)
    grid[0, 2] = 1.0  # top right: the largest z1 and the largest z2
    mosaic = vae_utils.plot_manifold(grid.reshape(9, 784), 3).axes[0].images[0].get_array()
    assert mosaic[:28, 56:].min() == 1.0 and mosaic.sum() == 28 * 28


def test_interpolation_columns_are_labelled():
    """Are the interpolation's columns labelled x_a, 1..7, x_b and its rows by the labels given?"""
    labels = [f"{d} -> {d}" for d in range(10)]
    ax = vae_utils.plot_interpolations(images(10, 9, 28, 28), row_labels=labels).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x_a", *"1234567", "x_b"]
    assert [t.get_text() for t in ax.get_yticklabels()] == labels


def test_beta_comparison_has_one_panel_per_beta():
    """Does the beta comparison draw one three-row panel per beta, titled with it, Tensors and arrays mixed?"""
    results = {beta: (images(16, 784), as_tensor(images(16, 28, 28)), images(16, 784)) for beta in (0.0, 1.0, 4.0)}
    fig = vae_utils.plot_beta_comparison(results)
    assert [ax.get_title() for ax in fig.axes] == ["beta = 0", "beta = 1", "beta = 4"]
    assert mosaic_shapes(fig) == [(3 * 28, 16 * 28)] * 3


def test_training_curves_plot_each_term_for_each_split():
    """Does the training-curve figure have loss, reconstruction and KL axes, each with a train and a test line?"""
    series = {"loss": [200.0, 160.0, 150.0], "reconstruction": [190.0, 154.0, 144.0], "kl": [10.0, 6.0, 6.0]}
    test = {term: as_tensor(np.asarray(values) + 1) for term, values in series.items()}
    fig = vae_utils.plot_training_curves({"train": series, "test": test})
    assert len(fig.axes) == 3
    for ax, term in zip(fig.axes, ("loss", "reconstruction", "kl")):
        assert [line.get_label() for line in ax.lines] == ["train", "test"]
        assert list(ax.lines[0].get_ydata()) == series[term]
        assert list(ax.lines[0].get_xdata()) == [1, 2, 3]
    assert len(vae_utils.plot_training_curves({"train": series}).axes[0].lines) == 1


def test_latent_scatter_colours_by_digit():
    """Does the latent scatter plot every code, coloured by its digit, with a legend of the digits?"""
    z, labels = RNG.normal(size=(500, 2)), np.arange(500) % 10
    for fig in (vae_utils.plot_latent_scatter(z, labels), vae_utils.plot_latent_scatter(as_tensor(z),
                                                                                         as_tensor(labels))):
        (ax,) = fig.axes
        assert ax.collections[0].get_offsets().shape == (500, 2)
        assert list(ax.collections[0].get_array()) == list(labels)
        assert len(ax.get_legend().texts) == 10


@pytest.mark.parametrize("call, message", [
    (lambda: vae_utils.plot_manifold(images(224, 784), 15), r"images: expected 15 x 15 = 225 images"),
    (lambda: vae_utils.plot_digit_grid(images(10, 5, 27, 27), 5), r"expected 10 x 5 = 50 images"),
    (lambda: vae_utils.plot_reconstructions(images(16, 784), images(15, 784), images(16, 784)),
     "reconstructions: expected 1 x 16"),
    (lambda: vae_utils.plot_interpolations(images(90, 784)), r"rows: expected shape \(n_rows, n_cols, 784\)"),
    (lambda: vae_utils.plot_beta_comparison({}), "at least one beta"),
    (lambda: vae_utils.plot_beta_comparison({1.0: (images(4, 784), images(4, 784))}),
     r"results\[1.0\]: expected \(originals, reconstructions, samples\)"),
    (lambda: vae_utils.plot_latent_scatter(images(10, 3), np.zeros(10)), r"z: expected 2-D codes of shape \(n, 2\)"),
    (lambda: vae_utils.plot_latent_scatter(images(10, 2), np.full(10, 12)), "labels: expected 10 digits in 0-9"),
    (lambda: vae_utils.plot_training_curves({"test": {"loss": [1], "reconstruction": [1], "kl": [0]}}),
     "history needs a 'train' entry"),
    (lambda: vae_utils.plot_training_curves({"train": {"loss": [1, 2], "reconstruction": [1], "kl": [0]}}),
     "one value per epoch"),
    (lambda: vae_utils.plot_training_curves({"train": {"loss": [1]}}), "must be a dict with keys"),
])
def test_wrong_shapes_are_refused_clearly(call, message):
    """Does each figure refuse inputs of the wrong shape or content, naming the argument and what it expects?"""
    with pytest.raises(ValueError, match=message):
        call()
