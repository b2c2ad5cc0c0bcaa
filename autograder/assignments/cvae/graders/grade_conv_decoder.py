"""Task 3, ConvVAE.decoder(z), graded with the reference's layers and other methods around it."""
from autograder.assignments.cvae.graders import _methods
from autograder.grading.grading import grades


@grades("conv_decoder.shapes")
def test_shapes(sub):
    """is theta a float tensor of shape (batch, 1, 28, 28) with values in (0, 1)?"""
    _methods.decoder(sub, "conv_decoder.shapes", "conv", "ConvVAE", values=False)


@grades("conv_decoder.values")
def test_values(sub):
    """does theta equal the reference's ConvVAE.decoder through the same layers?"""
    _methods.decoder(sub, "conv_decoder.values", "conv", "ConvVAE", values=True)
