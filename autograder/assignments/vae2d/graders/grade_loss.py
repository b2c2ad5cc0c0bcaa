"""Task 4, loss(x, beta): per image, -log p(x | z) with one z ~ q(z | x), summed over pixels, plus beta times the
closed-form KL(q(z | x) || N(0, I)) (Kingma & Welling 2014, eq. 10 and appendix B; Higgins et al. 2017), in nats.

The other methods are the reference's; its reparameterize uses the grader's noise, so the loss is exact.
"""
import numpy as np

from autograder.assignments.vae2d import checks
from autograder.comparators import close, max_difference
from autograder.grading import check_array, compare, fail, grades

LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")
CLOSED_FORM = "KL = 0.5 * sum(exp(logvar) + mu^2 - 1 - logvar) over the latent dimensions"


def _bce(x, theta):
    """The binary cross-entropy of ``theta`` for ``x``, summed over the pixels, its logs clamped at -100 as torch's
    are: shape (batch,), nats."""
    with np.errstate(divide="ignore"):
        logs = np.maximum(np.log(theta), -100.0), np.maximum(np.log1p(-theta), -100.0)
    return -(x * logs[0] + (1 - x) * logs[1]).sum(-1)


def mistakes(out, beta: float, case) -> list:
    """What known mistakes would return for this case, from the reference's terms and the case's weights, with the
    sentence for each. The grader does not see the noise, so the terms that need the decoder's output use it at
    mu: the sampled z itself in the point-mass cases."""
    r, kl = out["expected/reconstruction"].astype(np.float64), out["expected/kl"].astype(np.float64)
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    x, pixels = case.arrays["x"].astype(np.float64), case.dims[0]
    kl_logsigma = 0.5 * np.sum(np.exp(2 * logvar) + mu**2 - 1 - 2 * logvar, -1)
    theta = checks.sigmoid(checks.decode_logits(case.arrays, mu))
    found = [
        ("Your loss is the ELBO, not the loss: the loss is the negative ELBO, reconstruction + beta * KL with "
         "the reconstruction term -log p(x | z) >= 0.", -(r + beta * kl)),
        ("Your loss applies beta to the reconstruction term: the KL term carries the weight, "
         "reconstruction + beta * KL.", beta * r + kl),
        ("Your loss reads logvar as a log standard deviation in the KL: logvar is log sigma^2, so "
         f"{CLOSED_FORM}.", r + beta * kl_logsigma),
        (f"Your KL misses the factor 1/2: {CLOSED_FORM}.", r + 2 * beta * kl),
        ("Your KL has the wrong sign: the loss adds beta * KL, which is >= 0.", r - beta * kl),
        ("Your reconstruction term is averaged over the pixels: sum it over the pixels, one value per image.",
         r / pixels + beta * kl),
        ("Your reconstruction term is a squared error: this notebook's likelihood is Bernoulli, so the term is the "
         "binary cross-entropy -sum(x log theta + (1 - x) log(1 - theta)) over the pixels.",
         ((x - theta) ** 2).sum(-1) + beta * kl),
        ("Your loss decodes mu rather than a sample: the reconstruction term is -log p(x | z) with "
         "z = self.reparameterize(mu, logvar).", _bce(x, theta) + beta * kl),
    ]
    if beta != 1:
        found.append(("Your loss ignores beta: weight the KL term, reconstruction + beta * KL.", r + kl))
    return found


@grades("loss.shapes")
def test_shapes(sub):
    """is the loss a float tensor of shape (batch,), one value per image?"""
    cases, result = sub.run("loss.shapes")
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["x"])
        if out["loss"].shape in ((), (1,)):
            fail(f"the loss should have shape ({batch},), one value per image, but is a single number: do not "
                 "average or sum over the batch (the training loop takes the mean)")
        check_array(out["loss"], (batch,), f"the loss for x of shape {case.arrays['x'].shape}")


@grades("loss.point_mass")
def test_point_mass(sub):
    """when q(z|x) is a point mass at mu, does loss(x, beta) equal -log p(x | mu) + beta * KL, for beta 1 and 0.5?"""
    for name in ("point_mass", "point_mass_half"):
        found = sub.case("loss.point_mass", name)
        beta, out = found.case.params["beta"], found.outputs
        check_array(out["loss"], (len(found.case.arrays["x"]),), "the loss")
        compare(out["loss"], out["expected/loss"], f"the loss with q(z|x) a point mass and beta = {beta:g}",
                mistakes(out, beta, found.case), rtol=1e-4, atol=1e-2)


@grades("loss.sampled")
def test_sampled(sub):
    """with z from reparameterize, does loss(x, 2) equal -log p(x | z) + 2 KL for that z?"""
    found = sub.case("loss.sampled", "sampled")
    out, info, beta = found.outputs, found.info, found.case.params["beta"]
    check_array(out["loss"], (len(found.case.arrays["x"]),), "the loss")
    if info.get("noise_calls") and not info.get("fresh_calls"):
        compare(out["loss"], out["expected/loss"], f"the loss for the z drawn by reparameterize, beta = {beta:g}",
                mistakes(out, beta, found.case), rtol=1e-4, atol=1e-2)
        return
    # the loss draws (some of) its noise itself: compare its average over many calls with the reference's.
    mine, reference = out.get("repeats"), out.get("expected/repeats")
    if mine is None or mine.shape != reference.shape:
        fail(f"the loss over {reference.shape[0]} calls should have shape {reference.shape}")
    if np.all(mine == mine[:1]):  # a float32 variance of identical values need not be 0: compare the values
        fail(f"your loss is the same on every one of {len(mine)} calls, so it does not sample z ~ q(z | x): decode "
             "z = self.reparameterize(mu, logvar), not mu.")
    error = np.sqrt(mine.var(0) / len(mine) + reference.var(0) / len(reference)) + 1e-3 * np.abs(reference.mean(0))
    if np.any(np.abs(mine.mean(0) - reference.mean(0)) > 5 * error + 1e-2):
        fail(f"averaged over {len(mine)} calls, your loss is {np.round(mine.mean(0), 2).tolist()} where the "
             f"reference's is {np.round(reference.mean(0), 2).tolist()} (your loss does not call "
             "self.reparameterize, so only its average can be checked)")


@grades("loss.gradients")
def test_gradients(sub):
    """do gradients of the loss reach every layer, and equal those of the reference loss?"""
    found = sub.case("loss.gradients", "point_mass")
    out, info = found.outputs, found.info
    missing = [layer for layer, present in sorted(info.get("grads", {}).items()) if not present]
    if missing or not info.get("grads"):
        fail(f"no gradient of the loss reaches {', '.join(missing) or 'the model'}: keep the computation in torch "
             "(no .detach(), .item(), .numpy() or torch.no_grad())")
    for layer in LAYERS:
        got, expected = out[f"grad/{layer}"], out[f"expected/grad/{layer}"]
        scale = max(1.0, float(np.abs(expected).max()))
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-3, atol=1e-3 * scale):
            hint = ""
            if close(out["expected/loss"], out["loss"], 1e-4, 1e-2):
                hint = ("\n  Your loss's values are right but its gradients are not: part of it is cut from the "
                        "autograd graph (.detach(), .data, .item(), torch.no_grad() or a tensor rebuilt from "
                        "values), so training would follow the wrong gradient.")
            fail(f"the gradient of the loss w.r.t. {layer}.weight differs from the reference's"
                 + (f": {max_difference(expected, got)}" if got.shape == expected.shape else "") + hint)
