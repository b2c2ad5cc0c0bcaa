"""The figures of seeds 000-002 that the notebook draws, checked in its saved outputs."""
from autograder.grading import figures
from autograder.grading.grading import grades

#: Per test: the vae_utils function that draws its figure, what it shows, and how many cells draw one.
FIGURES = {
    "figures.curves": ("plot_training_curves", "the training curves (loss, reconstruction and KL per epoch)", 1),
    "figures.scatter": ("plot_latent_scatter", "the latent codes of test images coloured by digit", 1),
    "figures.manifold": ("plot_manifold", "the 15 x 15 manifold of decoded images", 1),
    "figures.digit_grid": ("plot_digit_grid", "the per-digit grid of generated images", 1),
    "figures.reconstructions": ("plot_reconstructions", "originals, reconstructions and new samples", 1),
    "figures.beta": ("plot_beta_comparison", "the comparison of KL weights beta", 1),
    "figures.interpolations": ("plot_interpolations", "the two interpolation grids (same digit, different digits)", 2),
}


def check(sub, key):
    """Fail unless the figure of test ``key`` is saved in the notebook (see
    :func:`autograder.grading.figures.check_figure`)."""
    function, title, cells = FIGURES[key]
    figures.check_figure(sub, (function,), title, cells)


@grades("figures.curves")
def test_curves(sub):
    """does the notebook hold the training curves drawn by vae_utils.plot_training_curves?"""
    check(sub, "figures.curves")


@grades("figures.scatter")
def test_scatter(sub):
    """does the notebook hold the scatter of latent codes drawn by vae_utils.plot_latent_scatter?"""
    check(sub, "figures.scatter")


@grades("figures.manifold")
def test_manifold(sub):
    """does the notebook hold the manifold of decoded images drawn by vae_utils.plot_manifold?"""
    check(sub, "figures.manifold")


@grades("figures.digit_grid")
def test_digit_grid(sub):
    """does the notebook hold the per-digit grid drawn by vae_utils.plot_digit_grid?"""
    check(sub, "figures.digit_grid")


@grades("figures.reconstructions")
def test_reconstructions(sub):
    """does the notebook hold the originals, reconstructions and samples drawn by vae_utils.plot_reconstructions?"""
    check(sub, "figures.reconstructions")


@grades("figures.beta")
def test_beta(sub):
    """does the notebook hold the comparison of KL weights drawn by vae_utils.plot_beta_comparison?"""
    check(sub, "figures.beta")


@grades("figures.interpolations")
def test_interpolations(sub):
    """does the notebook hold both interpolation grids drawn by vae_utils.plot_interpolations?"""
    check(sub, "figures.interpolations")
