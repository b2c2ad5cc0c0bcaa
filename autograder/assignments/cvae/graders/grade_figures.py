"""The figures the notebook draws for its three models (the latent plots, decoded grids and images at z = (0, 0) that
its questions (b), (f) and (h) discuss, and the conditional VAE's digit grids), checked in its saved outputs."""
from autograder.grading import figures
from autograder.grading.grading import grades


@grades("figures.scatter")
def test_scatter(sub):
    """does the notebook hold the latent plot of the test set for each of the three models?"""
    figures.check_figure(sub, ("plot_latent_scatter",), "the 2-D latent plot of the test set", 3)


@grades("figures.manifold")
def test_manifold(sub):
    """does the notebook hold the grid of digits decoded over the clusters' region for each model?"""
    figures.check_figure(sub, ("plot_manifold",), "the grid of digits decoded over the latent region", 3)


@grades("figures.origin")
def test_origin(sub):
    """does the notebook hold the image decoded at z = (0, 0) for each model?"""
    figures.check_figure(sub, ("plot_image_row",), "the image decoded at z = (0, 0)", 3)


@grades("figures.conditional")
def test_conditional(sub):
    """does the notebook hold the grids of "the digit you ask for" drawn by the conditional VAE?"""
    figures.check_figure(sub, ("plot_digit_grid",), "the grid of digits generated for each label", 2)
