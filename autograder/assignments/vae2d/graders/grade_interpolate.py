"""Task 7, interpolate(x_a, x_b, steps): x_a, the decoder at (1 - t) mu(x_a) + t mu(x_b) for t = k / (steps + 1),
k = 1..steps, then x_b (seed 002's row); the reference's values.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("interpolate.shapes")
def test_shapes(sub):
    """is the row a float tensor of shape (steps + 2, obs_dim)?"""
    vae_check.vae2d_interpolate_shapes(sub)


@grades("interpolate.endpoints")
def test_endpoints(sub):
    """are the row's first and last images x_a and x_b themselves?"""
    vae_check.vae2d_interpolate_endpoints(sub)


@grades("interpolate.values")
def test_values(sub):
    """are the images between decoded at evenly spaced points on the line between the encoder means?"""
    vae_check.vae2d_interpolate_values(sub)
