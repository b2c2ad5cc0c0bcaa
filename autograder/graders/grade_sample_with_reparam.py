"""Task 2, sample_with_reparam: z = mu + exp(logsigma) * eps with eps ~ N(0, I), one fresh draw per row."""
import numpy as np

from autograder import cases as C
from autograder import config, stats
from autograder.grading import check_array, fail, grades


def _run(sub, key):
    return sub.probe("sample_with_reparam", "sample_with_reparam", config.TESTS[key].timeout)


@grades("sample_with_reparam.shapes")
def test_shapes(sub):
    """is z a float tensor of shape (batch, latent_dim), the shape of mu?"""
    cases, result = _run(sub, "sample_with_reparam.shapes")
    for case, out in zip(cases, result.outputs):
        for key, z in sorted(out.items()):
            if key.startswith("z"):
                check_array(z, case.arrays["mu"].shape, f"z for mu of shape {case.arrays['mu'].shape}")


@grades("sample_with_reparam.statistics")
def test_statistics(sub):
    """are the z drawn from N(mu, exp(logsigma)^2), independently for every row and every call?"""
    cases, result = _run(sub, "sample_with_reparam.statistics")
    out = result.outputs[1]
    mu, sigma = C.STATS_MU.astype(np.float64), np.exp(C.STATS_LOGSIGMA.astype(np.float64))
    shape = cases[1].arrays["mu"].shape
    for key in ("z0", "z1"):
        check_array(out[key], shape, "z")
    if np.mean(out["z0"] == out["z1"]) > 0.5:
        fail("two calls with the same mu and logsigma returned the same z: draw fresh noise on every call "
             "(do not reseed the random generator inside the method)")
    spread = (out["z0"] - mu).std(0)
    explanations = [("exp(2 * logsigma), the variance", np.exp(2 * C.STATS_LOGSIGMA)),
                    ("exp(logsigma / 2), as if logsigma were a log-variance", np.exp(C.STATS_LOGSIGMA / 2)),
                    ("logsigma itself, without exp", np.abs(C.STATS_LOGSIGMA))]
    problem = stats.standard_normal((out["z0"] - mu) / sigma, "(z - mu) / exp(logsigma)")
    if problem:
        for name, scale in explanations:
            if np.allclose(spread, scale, rtol=0.1):
                problem += f".\n  Your z spreads around mu with standard deviation {name}: scale eps by exp(logsigma)"
                break
        fail(f"{problem}. Checked over {shape[0]} rows with mu = {C.STATS_MU.tolist()} and "
             f"logsigma = {C.STATS_LOGSIGMA.tolist()}.")


@grades("sample_with_reparam.gradients")
def test_gradients(sub):
    """does z carry gradients, dz/dmu = 1 and dz/dlogsigma = exp(logsigma) * eps = z - mu?"""
    cases, result = _run(sub, "sample_with_reparam.gradients")
    case, out, info = cases[0], result.outputs[0], result.info[0]
    mu, z = case.arrays["mu"].astype(np.float64), out["z0"]
    check_array(z, mu.shape, "z")
    for name in ("mu", "logsigma"):
        if not info.get(f"grad_{name}"):
            fail(f"no gradient flows from z back to {name}: z must be computed from mu and logsigma with "
                 "differentiable operations (no .detach(), .item(), .numpy(), torch.no_grad() or new tensors "
                 "filled in place)")
        check_array(out[f"grad_{name}"], mu.shape, f"dz/d{name}")
    if not np.allclose(out["grad_mu"], 1.0, atol=1e-4):
        fail(f"dz/dmu should be 1 for every entry (z = mu + sigma * eps), but ranges over "
             f"[{out['grad_mu'].min():.3g}, {out['grad_mu'].max():.3g}]")
    if not np.allclose(out["grad_logsigma"], z - mu, rtol=1e-3, atol=1e-4):
        hint = ""
        if np.allclose(out["grad_logsigma"], 2 * (z - mu), rtol=1e-3, atol=1e-4):
            hint = " Yours is 2 (z - mu): you scale eps by the variance exp(2 logsigma), not the standard deviation."
        elif np.allclose(out["grad_logsigma"], 0.5 * (z - mu), rtol=1e-3, atol=1e-4):
            hint = " Yours is (z - mu) / 2: you read logsigma as a log-variance; it is the log standard deviation."
        fail("dz/dlogsigma should be exp(logsigma) * eps = z - mu for every entry, but is not." + hint)
