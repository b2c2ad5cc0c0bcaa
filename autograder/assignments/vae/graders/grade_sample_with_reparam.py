"""Task 2, sample_with_reparam: z = mu + exp(logsigma) * eps with eps ~ N(0, I), one fresh draw per row.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("sample_with_reparam.shapes")
def test_shapes(sub):
    """is z a float tensor of shape (batch, latent_dim), the shape of mu?"""
    vae_check.vae_sample_with_reparam_shapes(sub)


@grades("sample_with_reparam.statistics")
def test_statistics(sub):
    """are the z drawn from N(mu, exp(logsigma)^2), independently for every row and every call?

    Both draws of the statistics case (two calls on one model) are checked, each at :data:`stats.SIGMAS` standard
    errors; the harness applies this to the second round of calls too."""
    vae_check.vae_sample_with_reparam_statistics(sub)


@grades("sample_with_reparam.gradients")
def test_gradients(sub):
    """does z carry gradients, dz/dmu = 1 and dz/dlogsigma = exp(logsigma) * eps = z - mu?"""
    vae_check.vae_sample_with_reparam_gradients(sub)
