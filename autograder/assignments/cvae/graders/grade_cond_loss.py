"""Task 8, ConditionalVAE.loss(x, c), graded with the reference's layers and other methods around it."""
from autograder.assignments.cvae.graders import _methods
from autograder.grading.grading import grades


@grades("cond_loss.shapes")
def test_shapes(sub):
    """is the loss a float tensor of shape (batch,), one value per image?"""
    _methods.loss(sub, "cond_loss.shapes", "cond", "ConditionalVAE", values=False)


@grades("cond_loss.values")
def test_values(sub):
    """does the loss equal -log p(x | z, c) + KL for the z it draws from q(z | x, c), in nats?"""
    _methods.loss(sub, "cond_loss.values", "cond", "ConditionalVAE", values=True)
