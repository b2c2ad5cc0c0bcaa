"""Task 5, elbo: log p(x | z) - KL(q(z|x) || p(z)) with one z ~ q, per data point, in nats.

The submission's encoder, sample_with_reparam, decoder and kl_divergence are replaced by the reference
pieces in the child, so only ``elbo`` itself is graded here.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("elbo.shapes")
def test_shapes(sub):
    """is the ELBO a float tensor of shape (batch,), one value per data point?"""
    vae_check.vae_elbo_shapes(sub)


@grades("elbo.point_mass")
def test_point_mass(sub):
    """when q(z|x) is a point mass at mu (logsigma = -30), does the ELBO equal log p(x | mu) - KL, on MNIST too?"""
    vae_check.vae_elbo_point_mass(sub)


@grades("elbo.sampled")
def test_sampled(sub):
    """with z from sample_with_reparam, does the ELBO equal log p(x | z) - KL for that z?"""
    vae_check.vae_elbo_sampled(sub)


@grades("elbo.gradients")
def test_gradients(sub):
    """do gradients of the ELBO reach every layer, and equal those of the reference ELBO?"""
    vae_check.vae_elbo_gradients(sub)
