"""Task 10, ConditionalVAE.generate(digits, n): n images of each digit asked for, digit by digit, through sample.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.assignments.cvae.graders._methods import decoded
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("generate.shapes")
def test_shapes(sub):
    """is generate(digits, n) a float tensor of shape (len(digits) * n, 1, 28, 28)?"""
    vae_check.cvae_generate_shapes(sub)


@grades("generate.order")
def test_order(sub):
    """does it ask sample for n images of digits[0], then n of digits[1], and so on?"""
    vae_check.cvae_generate_order(sub)


@grades("generate.returned")
def test_returned(sub):
    """does generate return, in their order, the images sample made for it?"""
    vae_check.cvae_generate_returned(sub, decoded(sub, "decode_generate"))
