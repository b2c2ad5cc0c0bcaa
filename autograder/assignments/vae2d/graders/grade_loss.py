"""Task 4, loss(x, beta): per image, -log p(x | z) with one z ~ q(z | x), summed over pixels, plus beta times the
closed-form KL(q(z | x) || N(0, I)) (Kingma & Welling 2014, eq. 10 and appendix B; Higgins et al. 2017), in nats.

The other methods are the reference's; its reparameterize uses the grader's noise, so the loss is exact. The loss is
called at beta and beta + 1 with the same noise: their difference is the student's KL, what is left its
reconstruction term, so a message says which of the two is off.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("loss.shapes")
def test_shapes(sub):
    """is the loss a float tensor of shape (batch,), one value per image?"""
    vae_check.vae2d_loss_shapes(sub)


@grades("loss.point_mass")
def test_point_mass(sub):
    """when z cannot change the loss (q(z|x) a point mass; a decoder that ignores z), does loss(x, beta) equal
    -log p(x | z) + beta * KL, for beta 0.5, 1 and 3?"""
    vae_check.vae2d_loss_point_mass(sub)


@grades("loss.sampled")
def test_sampled(sub):
    """with z from reparameterize, does loss(x, 2) equal -log p(x | z) + 2 KL for that z?"""
    vae_check.vae2d_loss_sampled(sub)


@grades("loss.gradients")
def test_gradients(sub):
    """do gradients of the loss reach every layer, and equal those of the reference loss (with a point-mass q, and
    with a decoder that ignores z, where only the KL reaches the encoder)?"""
    vae_check.vae2d_loss_gradients(sub)
