"""Task 4, kl_divergence: closed-form KL(N(mu, diag(sigma^2)) || N(0, I)), per data point, in nats."""
import numpy as np

from autograder.assignments.vae import oracle
from autograder.grading.grading import check_array, compare, fail, grades



@grades("kl_divergence.shapes")
def test_shapes(sub):
    """is the KL a float tensor of shape (batch,), one value per data point?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["mu"])
        if out["kl"].shape in ((), (1,)):
            fail(f"the KL should have shape ({batch},), one value per data point, but is a single number: "
                 "sum over the latent dimensions only (dim=-1), not over the batch")
        check_array(out["kl"], (batch,), f"the KL for mu of shape {case.arrays['mu'].shape}")


@grades("kl_divergence.values")
def test_values(sub):
    """does it equal 0.5 * sum(sigma^2 + mu^2 - 1 - log sigma^2) over latent dims (Kingma & Welling, app. B)?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        mu, logsigma = case.arrays["mu"].astype(np.float64), case.arrays["logsigma"].astype(np.float64)
        expected = oracle.kl_divergence(mu, logsigma)
        terms = 0.5 * (np.exp(2 * logsigma) + mu**2 - 1 - 2 * logsigma)
        closed_form = "0.5 * sum(sigma^2 + mu^2 - 1 - log sigma^2) over the latent dimensions"
        mistakes = [
            ("Your KL equals the closed form with logsigma read as a log-variance; in this assignment logsigma "
             "is the log standard deviation, so sigma^2 = exp(2 * logsigma) and log sigma^2 = 2 * logsigma.",
             0.5 * np.sum(np.exp(logsigma) + mu**2 - 1 - logsigma, -1)),
            ("Your KL has the wrong sign: KL(q || p) is never negative; it is " + closed_form + ".", -expected),
            ("Your KL averages over the latent dimensions; the KL of independent dimensions is their sum.",
             terms.mean(-1)),
            ("Your KL is one value per latent dimension, shape (batch, latent_dim): sum over the latent "
             "dimensions (dim=-1) to get one value per data point.", terms),
            ("Your KL is a single number summed over the batch too; return one value per data point "
             "(sum over dim=-1 only).", expected.sum()),
            ("Your KL is a single number averaged over the batch; return one value per data point "
             "(sum over dim=-1 only).", expected.mean()),
            ("Your KL misses the factor 1/2: it is " + closed_form + ".", 2 * expected),
            ("Your KL uses sigma where sigma^2 belongs: sigma^2 = exp(2 * logsigma).",
             0.5 * np.sum(np.exp(logsigma) + mu**2 - 1 - 2 * logsigma, -1)),
            ("Your KL misses the -1 in each latent dimension: it is " + closed_form + ".",
             expected + 0.5 * mu.shape[-1]),
            ("Your KL uses logsigma where log sigma^2 = 2 * logsigma belongs.",
             0.5 * np.sum(np.exp(2 * logsigma) + mu**2 - 1 - logsigma, -1)),
        ]
        compare(out["kl"], expected, f"the KL for VAE{case.dims}", mistakes)
