"""Task 2, reparameterize: z = mu + exp(logvar / 2) * eps with eps ~ N(0, I), one fresh draw per row and call."""
import numpy as np

from autograder.assignments.vae2d import cases as C
from autograder.grading import stats
from autograder.grading.comparators import max_difference
from autograder.grading.grading import check_array, fail, grades


@grades("reparameterize.shapes")
def test_shapes(sub):
    """is z a float tensor of shape (batch, latent_dim), the shape of mu?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for key, z in sorted(out.items()):
            if key.startswith("z"):
                check_array(z, case.arrays["mu"].shape, f"z for mu of shape {case.arrays['mu'].shape}")


@grades("reparameterize.statistics")
def test_statistics(sub):
    """are the z drawn from N(mu, exp(logvar)), independently for every row and every call?"""
    found = sub.case("statistics")
    out, shape = found.outputs, found.case.arrays["mu"].shape
    mu, sigma = C.STATS_MU.astype(np.float64), np.exp(0.5 * C.STATS_LOGVAR.astype(np.float64))
    for key in ("z0", "z1"):
        check_array(out.get(key, np.zeros(0)), shape, "z")
    if np.allclose(out["z0"], found.case.arrays["mu"], rtol=0, atol=1e-6):
        fail("z equals mu on every row: there is no noise. Draw eps ~ N(0, I), e.g. torch.randn_like(mu), and "
             "return z = mu + exp(logvar / 2) * eps.")
    if np.mean(out["z0"] == out["z1"]) > 0.5:
        fail("two calls with the same mu and logvar returned the same z: draw fresh noise on every call "
             "(do not reseed the random generator inside the method)")
    # both calls' rows at once: the rows of a call, and the two calls, must be independent draws
    z = np.concatenate([out["z0"], out["z1"]]).astype(np.float64)
    problem = stats.standard_normal((z - mu) / sigma, "(z - mu) / exp(logvar / 2)")
    if problem:
        first = out["z0"].astype(np.float64)
        fail(f"{problem}. Checked over two calls of {shape[0]} rows with mu = {np.round(mu, 3).tolist()} and "
             f"logvar = {np.round(C.STATS_LOGVAR.astype(np.float64), 3).tolist()}.{_explain(first, mu, sigma)}")


def _explain(z, mu, sigma) -> str:
    """A sentence naming the known mistake that draws like ``z`` (n, d) show, or ""."""
    n, eps = len(z), (z - mu) / sigma
    if n > 1 and np.all(z[1:] == z[:1]):
        return "\n  Your noise is the same for every row: draw one eps per row and dimension, torch.randn_like(mu)."
    if eps.min() >= 0 and eps.max() <= 1:
        return "\n  Your noise lies in [0, 1]: it is uniform (torch.rand); use standard normal noise, torch.randn_like(mu)."
    spread = (z - mu).std(0)
    explanations = [
        ("exp(logvar), as if logvar were a log standard deviation: logvar is the log-variance log sigma^2, so "
         "sigma = exp(logvar / 2)", sigma**2),
        ("exp(logvar)^2, the variance squared", sigma**4),
        ("logvar itself, without exp", np.abs(2 * np.log(sigma))),
        ("0.5 * exp(logvar): the 1/2 belongs inside the exp, sigma = exp(0.5 * logvar)", 0.5 * sigma**2)]
    for name, scale in explanations:
        # 10% is many standard errors of a standard deviation estimated from thousands of rows (1.1%).
        if np.allclose(spread, scale, rtol=0.1):
            return f"\n  Your z spreads around mu with standard deviation {name}."
    return ""


@grades("reparameterize.gradients")
def test_gradients(sub):
    """does z carry gradients, dz/dmu = 1 and dz/dlogvar = exp(logvar / 2) * eps / 2 = (z - mu) / 2?"""
    found = sub.case("gradients")
    case, out, info = found.case, found.outputs, found.info
    mu, z = case.arrays["mu"].astype(np.float64), out["z0"]
    check_array(z, mu.shape, "z")
    for name in ("mu", "logvar"):
        if not info.get(f"grad_{name}"):
            fail(f"no gradient flows from z back to {name}: compute z from mu and logvar with differentiable "
                 "operations (no .detach(), .item(), .numpy(), torch.no_grad(), and not torch.normal, which "
                 "samples without passing gradients: that is what the reparameterization trick is for)")
        check_array(out[f"grad_{name}"], mu.shape, f"dz/d{name}")
    if not np.allclose(out["grad_mu"], 1.0, atol=1e-4):
        hint = ""
        if np.all(out["grad_mu"] == 0) and np.all(out["grad_logvar"] == 0):
            hint = ("\n  No gradient reaches mu or logvar through z: torch.normal(mu, sigma) samples without passing "
                    "gradients (its gradients are zero), which is what the reparameterization trick is for. Draw "
                    "eps = torch.randn_like(mu) and return z = mu + exp(logvar / 2) * eps.")
        fail(f"dz/dmu should be 1 for every entry (z = mu + sigma * eps), but ranges over "
             f"[{out['grad_mu'].min():.3g}, {out['grad_mu'].max():.3g}]" + hint)
    if np.allclose(z, mu, rtol=0, atol=1e-6):
        fail("z equals mu: there is no noise. Draw eps ~ N(0, I) and return z = mu + exp(logvar / 2) * eps.")
    if not np.allclose(out["grad_logvar"], (z - mu) / 2, rtol=1e-3, atol=1e-4):
        hint = ""
        if np.allclose(out["grad_logvar"], z - mu, rtol=1e-3, atol=1e-4):
            hint = "\n  Yours is z - mu, so z - mu is proportional to exp(logvar): " + _scale_of_exp(sub)
        fail("dz/dlogvar should be exp(logvar / 2) * eps / 2 = (z - mu) / 2 for every entry, but is not: "
             f"{max_difference((z - mu) / 2, out['grad_logvar'])}." + hint)


def _scale_of_exp(sub) -> str:
    """The end of a sentence for a reparameterize whose z - mu is c * exp(logvar) * eps: which c, read from the
    spread of the statistics case's draws (c = 1: logvar read as log sigma; c = 1/2: 0.5 * exp(logvar))."""
    draws = sub.case("statistics", key="reparameterize.gradients").outputs.get("z0")
    variance = np.exp(C.STATS_LOGVAR.astype(np.float64))
    if draws is not None and draws.shape == (C.STATS_ROWS, len(C.STATS_MU)):
        spread = (draws.astype(np.float64) - C.STATS_MU).std(0)
        if np.allclose(spread, 0.5 * variance, rtol=0.1):
            return ("sigma = 0.5 * exp(logvar): the 1/2 belongs inside the exp, sigma = exp(0.5 * logvar) "
                    "(the square root of the variance exp(logvar)).")
        if np.allclose(spread, variance, rtol=0.1):
            return ("you scale eps by exp(logvar), reading logvar as the log standard deviation. logvar is the "
                    "log-variance log sigma^2, so sigma = exp(logvar / 2).")
    return "where sigma = exp(logvar / 2) is proportional to its square root."
