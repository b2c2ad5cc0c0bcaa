"""Task 6, ConditionalVAE.encoder(x, c), graded with the reference's layers and other methods around it."""
from autograder.assignments.cvae.graders import _methods
from autograder.grading.grading import grades


@grades("cond_encoder.shapes")
def test_shapes(sub):
    """are mu and logvar float tensors of shape (batch, 2)?"""
    _methods.encoder(sub, "cond_encoder.shapes", "cond", "ConditionalVAE", values=False)


@grades("cond_encoder.values")
def test_values(sub):
    """do mu and logvar equal the reference's ConditionalVAE.encoder through the same layers?"""
    _methods.encoder(sub, "cond_encoder.values", "cond", "ConditionalVAE", values=True)
