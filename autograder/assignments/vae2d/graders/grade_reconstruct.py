"""Task 5, reconstruct: the decoder's output at the encoder's mean, with no sampling; the reference's values.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("reconstruct.shapes")
def test_shapes(sub):
    """is the reconstruction a float tensor of the shape of x, (batch, obs_dim)?"""
    vae_check.vae2d_reconstruct_shapes(sub)


@grades("reconstruct.values")
def test_values(sub):
    """is the reconstruction decoder(mu(x)), the same on every call, without sampling z?"""
    vae_check.vae2d_reconstruct_values(sub)
