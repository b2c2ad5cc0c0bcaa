"""Task 2, sample_with_reparam: z = mu + exp(logsigma) * eps with eps ~ N(0, I), one fresh draw per row."""
import numpy as np

from autograder.assignments.vae import cases as C
from autograder.assignments.vae import oracle
from autograder.grading import stats
from autograder.grading.grading import check_array, fail, grades



@grades("sample_with_reparam.shapes")
def test_shapes(sub):
    """is z a float tensor of shape (batch, latent_dim), the shape of mu?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for key, z in sorted(out.items()):
            if key.startswith("z"):
                check_array(z, case.arrays["mu"].shape, f"z for mu of shape {case.arrays['mu'].shape}")


@grades("sample_with_reparam.statistics")
def test_statistics(sub):
    """are the z drawn from N(mu, exp(logsigma)^2), independently for every row and every call?

    Both draws of the statistics case (two calls on one model) are checked, each at :data:`stats.SIGMAS` standard
    errors; the harness applies this to the second round of calls too."""
    stats_case = sub.case("statistics")
    out = stats_case.outputs
    mu, sigma = C.STATS_MU.astype(np.float64), np.exp(C.STATS_LOGSIGMA.astype(np.float64))
    shape = stats_case.case.arrays["mu"].shape
    for key in ("z0", "z1"):
        check_array(out[key], shape, "z")
    if np.allclose(out["z0"], stats_case.case.arrays["mu"], rtol=0, atol=1e-6):
        fail("z equals mu on every row: there is no noise. Draw eps ~ N(0, I), e.g. torch.randn_like(mu), and "
             "return z = mu + exp(logsigma) * eps.")
    if np.mean(out["z0"] == out["z1"]) > 0.5:
        fail("two calls with the same mu and logsigma returned the same z: draw fresh noise on every call "
             "(do not reseed the random generator inside the method)")
    for key, which in (("z0", ""), ("z1", "In the second of two calls on one model: ")):
        z = out[key].astype(np.float64)
        problem = stats.standard_normal((z - mu) / sigma, "(z - mu) / exp(logsigma)")
        if problem:
            fail(f"{which}{problem}. Checked over {shape[0]} rows with mu = {np.round(mu, 3).tolist()} and "
                 f"logsigma = {np.round(np.log(sigma), 3).tolist()}.{_explain(z, mu, sigma)}")
    # both calls' rows at once: the rows of a call, and the two calls, must be independent draws
    z = np.concatenate([out["z0"], out["z1"]]).astype(np.float64)
    problem = stats.standard_normal((z - mu) / sigma, "(z - mu) / exp(logsigma)")
    if problem:
        first = out["z0"].astype(np.float64)
        fail(f"{problem}. Checked over two calls of {shape[0]} rows with mu = {np.round(mu, 3).tolist()} and "
             f"logsigma = {np.round(np.log(sigma), 3).tolist()}.{_explain(first, mu, sigma)}")


def _explain(z, mu, sigma) -> str:
    """A sentence naming the known mistake that draws like ``z`` (n, d) show, or ""."""
    n = len(z)
    eps = (z - mu) / sigma
    if n > 1 and np.all(z[1:] == z[:1]):
        return ("\n  Your noise is the same for every row of the batch: draw separate noise for every data "
                "point, e.g. torch.randn_like(mu), which has one entry per row and latent dimension.")
    if eps.min() >= 0 and eps.max() <= 1:
        return ("\n  Your noise eps = (z - mu) / sigma lies in [0, 1]: it is uniform (torch.rand); the "
                "reparameterization needs standard normal noise, torch.randn_like(mu).")
    # Within SIGMAS standard errors of 0 in every column: z is centred at 0 rather than at mu.
    if np.all(np.abs(z.mean(0)) <= stats.SIGMAS * z.std(0) / np.sqrt(n)) and np.any(mu != 0):
        return "\n  Your z is centred at 0, not at mu: add mu, z = mu + exp(logsigma) * eps."
    spread = (z - mu).std(0)
    explanations = [("exp(2 * logsigma), the variance", sigma**2),
                    ("exp(logsigma / 2), as if logsigma were a log-variance", np.sqrt(sigma)),
                    ("logsigma itself, without exp", np.abs(np.log(sigma)))]
    for name, scale in explanations:
        # 10% is many standard errors of a standard deviation estimated from thousands of rows (1.1%),
        # and less than the smallest gap between the candidate scales of this case.
        if np.allclose(spread, scale, rtol=0.1):
            return (f"\n  Your z spreads around mu with standard deviation {name}: scale eps by "
                    "sigma = exp(logsigma), the standard deviation.")
    return ""


@grades("sample_with_reparam.gradients")
def test_gradients(sub):
    """does z carry gradients, dz/dmu = 1 and dz/dlogsigma = exp(logsigma) * eps = z - mu?"""
    found = sub.case("gradients")
    case, out, info = found.case, found.outputs, found.info
    mu, z = case.arrays["mu"].astype(np.float64), out["z0"]
    check_array(z, mu.shape, "z")
    for name in ("mu", "logsigma"):
        if not info.get(f"grad_{name}"):
            fail(f"no gradient flows from z back to {name}: z must be computed from mu and logsigma with "
                 "differentiable operations (no .detach(), .item(), .numpy(), torch.no_grad() or new tensors "
                 "filled in place)")
        check_array(out[f"grad_{name}"], mu.shape, f"dz/d{name}")
    if not np.allclose(out["grad_mu"], 1.0, atol=1e-4):
        hint = ""
        if np.all(out["grad_mu"] == 0) and np.all(out["grad_logsigma"] == 0):
            hint = ("\n  Your z carries zero gradients: a sampler such as torch.normal(mu, sigma) draws from the "
                    "right distribution but does not pass gradients to mu and sigma. That is what the "
                    "reparameterization trick is for: z = mu + exp(logsigma) * eps with eps ~ N(0, I).")
        fail(f"dz/dmu should be 1 for every entry (z = mu + sigma * eps), but ranges over "
             f"[{out['grad_mu'].min():.3g}, {out['grad_mu'].max():.3g}]" + hint)
    if np.allclose(z, mu, rtol=0, atol=1e-6):
        fail("z equals mu: there is no noise, so dz/dlogsigma = exp(logsigma) * eps is 0 where it should not "
             "be. Draw eps ~ N(0, I) and return z = mu + exp(logsigma) * eps.")
    if not np.allclose(out["grad_logsigma"], z - mu, rtol=1e-3, atol=1e-4):
        hint = ""
        logsigma = case.arrays["logsigma"].astype(np.float64)
        if np.allclose(out["grad_logsigma"], 2 * (z - mu), rtol=1e-3, atol=1e-4):
            hint = "\n  Yours is 2 (z - mu): you scale eps by the variance exp(2 logsigma), not the standard deviation."
        elif np.allclose(out["grad_logsigma"], 0.5 * (z - mu), rtol=1e-3, atol=1e-4):
            hint = "\n  Yours is (z - mu) / 2: you read logsigma as a log-variance; it is the log standard deviation."
        elif np.allclose(out["grad_logsigma"] * logsigma, z - mu, rtol=1e-3, atol=1e-4):
            hint = ("\n  Yours is eps itself: z = mu + logsigma * eps uses logsigma without exp; scale eps by "
                    "sigma = exp(logsigma).")
        fail("dz/dlogsigma should be exp(logsigma) * eps = z - mu for every entry, but is not: "
             f"{oracle.max_difference(z - mu, out['grad_logsigma'])}." + hint)
