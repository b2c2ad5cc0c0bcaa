"""Task 2, ConvVAE.encoder(x), graded with the reference's layers and other methods around it."""
from autograder.assignments.cvae.graders import _methods
from autograder.grading.grading import grades


@grades("conv_encoder.shapes")
def test_shapes(sub):
    """are mu and logvar float tensors of shape (batch, 2)?"""
    _methods.encoder(sub, "conv_encoder.shapes", "conv", "ConvVAE", values=False)


@grades("conv_encoder.values")
def test_values(sub):
    """do mu and logvar equal the reference's ConvVAE.encoder through the same layers?"""
    _methods.encoder(sub, "conv_encoder.values", "conv", "ConvVAE", values=True)
