"""Task 9, ConditionalVAE.sample(c): one fresh z ~ N(0, I) per label, decoded with the label (p(z | c) = N(0, I)).

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.assignments.cvae.graders._methods import decoded
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("sample.shapes")
def test_shapes(sub):
    """is sample(c) a float tensor of shape (len(c), 1, 28, 28) with values in (0, 1)?"""
    vae_check.cvae_sample_shapes(sub)


@grades("sample.prior")
def test_prior(sub):
    """are the codes z drawn from the prior N(0, I), one fresh draw per label?"""
    vae_check.cvae_sample_prior(sub)


@grades("sample.labels")
def test_labels(sub):
    """is each code decoded with its own label, in the order of c?"""
    vae_check.cvae_sample_labels(sub)


@grades("sample.returned")
def test_returned(sub):
    """does sample return, row by row, the images the decoder made of the codes and labels it was given?"""
    vae_check.cvae_sample_returned(sub, decoded(sub, "decode_sample"))
