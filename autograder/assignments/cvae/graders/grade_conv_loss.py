"""Task 4, ConvVAE.loss(x), graded with the reference's layers and other methods around it."""
from autograder.assignments.cvae.graders import _methods
from autograder.grading.grading import grades


@grades("conv_loss.shapes")
def test_shapes(sub):
    """is the loss a float tensor of shape (batch,), one value per image?"""
    _methods.loss(sub, "conv_loss.shapes", "conv", "ConvVAE", values=False)


@grades("conv_loss.values")
def test_values(sub):
    """does the loss equal -log p(x | z) + KL for the z it draws from q(z | x), in nats?"""
    _methods.loss(sub, "conv_loss.values", "conv", "ConvVAE", values=True)
