"""Task 4, kl_divergence: closed-form KL(N(mu, diag(sigma^2)) || N(0, I)), per data point, in nats.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("kl_divergence.shapes")
def test_shapes(sub):
    """is the KL a float tensor of shape (batch,), one value per data point?"""
    vae_check.vae_kl_divergence_shapes(sub)


@grades("kl_divergence.values")
def test_values(sub):
    """does it equal 0.5 * sum(sigma^2 + mu^2 - 1 - log sigma^2) over latent dims (Kingma & Welling, app. B)?"""
    vae_check.vae_kl_divergence_values(sub)
