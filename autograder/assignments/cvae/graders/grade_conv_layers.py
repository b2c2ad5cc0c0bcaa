"""Task 1, ConvVAE.__init__: the layers of the notebook's table (seed 003's), 3 x 3 kernels, stride and padding
found by the student."""
from autograder.assignments.cvae.graders._layers import CONV, check_layers, check_values
from autograder.grading.grading import grades


@grades("conv_layers.shapes")
def test_shapes(sub):
    """does each layer have the type, parameter count and output shape of the notebook's table?

    (62,794 encoder and 65,089 decoder parameters.)"""
    check_layers(sub.case("conv"), CONV, "ConvVAE")


@grades("conv_layers.values")
def test_values(sub):
    """with your own initial weights, does the forward pass through your layers equal the reference's?"""
    check_values(sub, "conv_layers.values", "conv", "ConvVAE")
