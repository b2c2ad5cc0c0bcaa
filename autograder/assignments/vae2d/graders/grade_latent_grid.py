"""Task 6, latent_grid(n, z_min, z_max): the decoder at an evenly spaced n x n grid, row-major as the manifold figure
shows it (z1 increasing along a row, z2 decreasing down the rows); the reference's values.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("latent_grid.shapes")
def test_shapes(sub):
    """is latent_grid(n, z_min, z_max) a float tensor of shape (n * n, obs_dim)?"""
    vae_check.vae2d_latent_grid_shapes(sub)


@grades("latent_grid.values")
def test_values(sub):
    """are the images decoded at the grid's points, both ends included, in the figure's order?"""
    vae_check.vae2d_latent_grid_values(sub)
