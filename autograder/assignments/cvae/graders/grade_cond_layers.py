"""Task 5, ConditionalVAE.__init__: ConvVAE's layers, with conv1 taking the label's 10 planes and fc_dec its
one-hot vector."""
from autograder.assignments.cvae.graders._layers import COND, check_layers, check_values
from autograder.grading.grading import grades


@grades("cond_layers.shapes")
def test_shapes(sub):
    """do conv1 take 1 + 10 channels and fc_dec 2 + 10 inputs, with every other layer as in ConvVAE?"""
    check_layers(sub.case("cond"), COND, "ConditionalVAE")


@grades("cond_layers.values")
def test_values(sub):
    """with your own initial weights, does the conditional forward pass through your layers equal the reference's?"""
    check_values(sub, "cond_layers.values", "cond", "ConditionalVAE")
