"""Task 1, encoder: mu = linear21(h), logvar = linear22(h) with h = ReLU(linear1(x)); the reference's values.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("encoder.shapes")
def test_shapes(sub):
    """are mu and logvar float tensors of shape (batch, latent_dim)?"""
    vae_check.vae2d_encoder_shapes(sub)


@grades("encoder.values")
def test_values(sub):
    """do mu and logvar equal linear21 and linear22 of ReLU(linear1(x))?"""
    vae_check.vae2d_encoder_values(sub)
