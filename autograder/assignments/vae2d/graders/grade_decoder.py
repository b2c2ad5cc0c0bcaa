"""Task 3, decoder: theta = sigmoid(linear4(ReLU(linear3(z)))); the reference's values.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("decoder.shapes")
def test_shapes(sub):
    """is theta a float tensor of shape (batch, obs_dim) with values in (0, 1)?"""
    vae_check.vae2d_decoder_shapes(sub)


@grades("decoder.values")
def test_values(sub):
    """does theta equal sigmoid(linear4(ReLU(linear3(z))))?"""
    vae_check.vae2d_decoder_values(sub)
