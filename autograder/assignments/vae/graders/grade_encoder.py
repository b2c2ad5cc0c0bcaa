"""Task 1, encoder: (mu, logsigma) = linear21/linear22 of ReLU(linear1(x)).

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("encoder.shapes")
def test_shapes(sub):
    """are mu and logsigma float tensors of shape (batch, latent_dim)?"""
    vae_check.vae_encoder_shapes(sub)


@grades("encoder.values")
def test_values(sub):
    """are mu = linear21(h) and logsigma = linear22(h), with h = ReLU(linear1(x)), for your weights?"""
    vae_check.vae_encoder_values(sub)
