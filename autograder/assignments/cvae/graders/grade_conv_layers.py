"""Task 1, ConvVAE.__init__: seed 003's layers, 3 x 3 kernels, stride and padding found by the student."""
from autograder.assignments.cvae.graders._layers import CONV, check_layers, check_values
from autograder.grading import grades


@grades("conv_layers.shapes")
def test_shapes(sub):
    """does each layer have seed 003's type, parameter count and output shape (62,794 + 65,089 parameters)?"""
    check_layers(sub.case("conv_layers.shapes", "conv"), CONV, "ConvVAE")


@grades("conv_layers.values")
def test_values(sub):
    """with your own initial weights, does the forward pass through your layers equal the reference's?"""
    check_values(sub, "conv_layers.values", "conv", "ConvVAE")
