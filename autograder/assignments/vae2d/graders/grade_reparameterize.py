"""Task 2, reparameterize: z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one fresh draw per row and call.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("reparameterize.shapes")
def test_shapes(sub):
    """is z a float tensor of shape (batch, latent_dim), the shape of mu?"""
    vae_check.vae2d_reparameterize_shapes(sub)


@grades("reparameterize.statistics")
def test_statistics(sub):
    """are the z drawn from N(mu, exp(logvar)), independently for every row and every call?"""
    vae_check.vae2d_reparameterize_statistics(sub)


@grades("reparameterize.gradients")
def test_gradients(sub):
    """does z carry gradients, dz/dmu = 1 and dz/dlogvar = exp(logvar / 2) * eps / 2 = (z - mu) / 2?"""
    vae_check.vae2d_reparameterize_gradients(sub)
