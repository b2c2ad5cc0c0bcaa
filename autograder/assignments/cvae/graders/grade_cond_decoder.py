"""Task 7, ConditionalVAE.decoder(z, c), graded with the reference's layers and other methods around it."""
from autograder.assignments.cvae.graders import _methods
from autograder.grading.grading import grades


@grades("cond_decoder.shapes")
def test_shapes(sub):
    """is theta a float tensor of shape (batch, 1, 28, 28) with values in (0, 1)?"""
    _methods.decoder(sub, "cond_decoder.shapes", "cond", "ConditionalVAE", values=False)


@grades("cond_decoder.values")
def test_values(sub):
    """does theta equal the reference's ConditionalVAE.decoder through the same layers?"""
    _methods.decoder(sub, "cond_decoder.values", "cond", "ConditionalVAE", values=True)
