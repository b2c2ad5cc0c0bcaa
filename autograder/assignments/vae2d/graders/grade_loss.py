"""Task 4, loss(x, beta): per image, -log p(x | z) with one z ~ q(z | x), summed over pixels, plus beta times the
closed-form KL(q(z | x) || N(0, I)) (Kingma & Welling 2014, eq. 10 and appendix B; Higgins et al. 2017), in nats.

The other methods are the reference's; its reparameterize uses the grader's noise, so the loss is exact. The loss is
called at beta and beta + 1 with the same noise: their difference is the student's KL, what is left its
reconstruction term, so a message says which of the two is off.
"""
import numpy as np

from autograder.assignments.vae2d import checks
from autograder.assignments.vae2d.cases import LAYERS
from autograder.grading import stats
from autograder.grading.comparators import close, max_difference
from autograder.grading.grading import check_array, fail, grades

CLOSED_FORM = "KL = 0.5 * sum(exp(logvar) + mu^2 - 1 - logvar) over the latent dimensions"
#: In case "decoder_ignores_z" the gradient w.r.t. linear3.weight depends on the sampled z; the others do not.
NOISE_FREE_GRADIENTS = ("linear1", "linear21", "linear22", "linear4")


def _bce(x, theta):
    """The binary cross-entropy of ``theta`` for ``x``, summed over the pixels, its logs clamped at -100 as torch's
    are: shape (batch,), nats."""
    with np.errstate(divide="ignore"):
        logs = np.maximum(np.log(theta), -100.0), np.maximum(np.log1p(-theta), -100.0)
    return -(x * logs[0] + (1 - x) * logs[1]).sum(-1)


def _reference_terms(out):
    """The reference's reconstruction term and KL, each of shape (batch,), float64."""
    return out["expected/reconstruction"].astype(np.float64), out["expected/kl"].astype(np.float64)


def kl_mistakes(out, case) -> list:
    """What known mistakes of the KL term give, per image (shape (batch,)), with the sentence for each."""
    kl = out["expected/kl"].astype(np.float64)
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    var, latent = np.exp(logvar), mu.shape[1]
    return [
        ("Your loss reads logvar as a log standard deviation in the KL: logvar is log sigma^2, so "
         f"{CLOSED_FORM}.", 0.5 * np.sum(np.exp(2 * logvar) + mu**2 - 1 - 2 * logvar, -1)),
        (f"Your KL uses sigma = exp(logvar / 2) where the variance sigma^2 = exp(logvar) belongs: {CLOSED_FORM}.",
         0.5 * np.sum(np.exp(logvar / 2) + mu**2 - 1 - logvar, -1)),
        (f"Your KL squares the variance, exp(logvar)^2 where exp(logvar) belongs: {CLOSED_FORM}.",
         0.5 * np.sum(var**2 + mu**2 - 1 - logvar, -1)),
        (f"Your KL misses the factor 1/2: {CLOSED_FORM}.", 2 * kl),
        ("Your KL has the wrong sign: the loss adds beta * KL, which is >= 0.", -kl),
        ("Your KL is summed over the batch: every image gets the whole batch's KL. Sum over the latent dimensions "
         "only, one KL per image.", np.full_like(kl, kl.sum())),
        ("Your KL is averaged over the batch: every image gets the batch's mean KL. Sum over the latent dimensions "
         "only, one KL per image.", np.full_like(kl, kl.mean())),
        (f"Your KL is averaged over the {latent} latent dimensions: sum it over them, {CLOSED_FORM}.", kl / latent),
        (f"Your KL misses the -1: {CLOSED_FORM}.", kl + latent / 2),
        (f"Your KL misses mu^2: {CLOSED_FORM}.", 0.5 * np.sum(var - 1 - logvar, -1)),
    ]


def reconstruction_mistakes(out, case) -> list:
    """What known mistakes of the reconstruction term give, per image (shape (batch,)), with the sentence for each;
    ``expected/theta`` is the decoder's output at the z the loss decodes."""
    r, x = out["expected/reconstruction"].astype(np.float64), case.arrays["x"].astype(np.float64)
    theta, pixels = out["expected/theta"].astype(np.float64), case.dims[0]
    at_mu = checks.sigmoid(checks.decode_logits(case.arrays, out["expected/mu"]))
    bce = "-sum(x log theta + (1 - x) log(1 - theta)) over the pixels, F.binary_cross_entropy(theta, x, ...)"
    return [
        (f"Your reconstruction term is averaged over the pixels: sum it over them, {bce}.", r / pixels),
        ("Your reconstruction term is a squared error: this notebook's likelihood is Bernoulli, so the term is the "
         f"binary cross-entropy {bce}.", ((x - theta) ** 2).sum(-1)),
        (f"Your binary cross-entropy has its arguments swapped: the prediction theta comes first, {bce}.",
         _bce(theta, x)),
        ("Your reconstruction term applies binary_cross_entropy_with_logits to theta, which is already a "
         f"probability (it applies a second sigmoid): {bce}.", (np.logaddexp(0, theta) - x * theta).sum(-1)),
        ("Your reconstruction term binarises x (x > 0.5): the pixels are grey levels in [0, 1], use them as they "
         f"are, {bce}.", _bce((x > 0.5).astype(np.float64), theta)),
        ("Your reconstruction term is summed over the batch: every image gets the whole batch's. Sum over the "
         "pixels only, one value per image.", np.full_like(r, r.sum())),
        ("Your reconstruction term is averaged over the batch: every image gets the batch's mean. Sum over the "
         "pixels only, one value per image.", np.full_like(r, r.mean())),
        ("Your loss decodes mu rather than a sample: the reconstruction term is -log p(x | z) with "
         "z = self.reparameterize(mu, logvar).", _bce(x, at_mu)),
    ]


def loss_mistakes(out, beta: float) -> list:
    """What known mistakes of the whole loss (not of one term) give at ``beta`` and at ``beta + 1``, with the
    sentence for each: ``[(sentence, (at beta, at beta + 1))]``."""
    r, kl = _reference_terms(out)
    found = [
        ("Your loss is the ELBO, not the loss: the loss is the negative ELBO, reconstruction + beta * KL with "
         "the reconstruction term -log p(x | z) >= 0.", lambda b: -(r + b * kl)),
        ("Your loss applies beta to the reconstruction term: the KL term carries the weight, "
         "reconstruction + beta * KL.", lambda b: b * r + kl),
        ("Your loss divides the KL by beta: multiply it, reconstruction + beta * KL.", lambda b: r + kl / b),
        ("Your loss ignores beta: weight the KL term, reconstruction + beta * KL.", lambda b: r + kl),
    ]
    return [(sentence, (value(beta), value(beta + 1))) for sentence, value in found]


def explain(out, beta: float, case, rtol: float = 1e-4, atol: float = 1e-2) -> str:
    """The sentence saying what is off in a loss that is not the reference's: which of its two terms (read from
    loss(x, beta) and loss(x, beta + 1) with the same noise: their difference is the KL term), and the known
    mistake that fits, or ""."""
    loss, more = out["loss"].astype(np.float64), out["loss_more"].astype(np.float64)
    if loss.shape != out["expected/loss"].shape or more.shape != loss.shape:
        return ""
    r, kl = _reference_terms(out)
    mine_kl = more - loss
    mine_r = loss - beta * mine_kl
    r_ok, kl_ok = close(r, mine_r, rtol, atol), close(kl, mine_kl, rtol, atol)
    if r_ok != kl_ok:
        return term_sentence(out, case, "KL" if r_ok else "reconstruction term", mine_kl if r_ok else mine_r,
                             rtol, atol)
    for sentence, (at, at_more) in loss_mistakes(out, beta):
        if close(at, loss, rtol, atol) and close(at_more, more, rtol, atol):
            return sentence
    return ""


def term_sentence(out, case, term: str, got, rtol: float = 1e-4, atol: float = 1e-2) -> str:
    """The sentence for a loss whose other term is right and whose ``term`` ("KL" or "reconstruction term") is
    ``got`` (shape (batch,)): the known mistake of that term that fits, else by how much it is off."""
    r, kl = _reference_terms(out)
    candidates = kl_mistakes(out, case) if term == "KL" else reconstruction_mistakes(out, case)
    for sentence, candidate in candidates:
        if close(candidate, got, rtol, atol):
            return sentence
    other = "reconstruction term" if term == "KL" else "KL"
    return (f"Your {other} is right, but your {term} is not (read from loss(x, beta + 1) - loss(x, beta) with the "
            f"same noise): {max_difference(kl if term == 'KL' else r, got)}.")


def check_value(found, what: str) -> None:
    """Fail unless the loss of ``found`` (a case's result) equals the reference's at beta and at beta + 1 (the
    same noise), naming what is off (:func:`explain`)."""
    out, case, beta = found.outputs, found.case, found.case.params["beta"]
    batch = len(case.arrays["x"])
    for key, at in (("loss", beta), ("loss_more", beta + 1)):
        check_array(out[key], (batch,), f"{what}, beta = {at:g},")
    for key, at in (("loss", beta), ("loss_more", beta + 1)):
        expected = out[f"expected/{key}"]
        if not close(expected, out[key], 1e-4, 1e-2):
            sentence = explain(out, beta, case)
            fail(f"{what}, beta = {at:g}, is not what it should be: {max_difference(expected, out[key])}."
                 + (f"\n  {sentence}" if sentence else ""))


@grades("loss.shapes")
def test_shapes(sub):
    """is the loss a float tensor of shape (batch,), one value per image?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["x"])
        if out["loss"].shape in ((), (1,)):
            fail(f"the loss should have shape ({batch},), one value per image, but is a single number: do not "
                 "average or sum over the batch (the training loop takes the mean)")
        check_array(out["loss"], (batch,), f"the loss for x of shape {case.arrays['x'].shape}")


@grades("loss.point_mass")
def test_point_mass(sub):
    """when z cannot change the loss (q(z|x) a point mass; a decoder that ignores z), does loss(x, beta) equal
    -log p(x | z) + beta * KL, for beta 0.5, 1 and 3?"""
    for name, what in (("point_mass", "the loss with q(z|x) a point mass"),
                       ("point_mass_half", "the loss with q(z|x) a point mass, on real MNIST test images"),
                       ("decoder_ignores_z", "the loss with a decoder that ignores z (linear3.weight = 0) and "
                                             "logvar from -2.5 to 2.5")):
        check_value(sub.case(name), what)


@grades("loss.sampled")
def test_sampled(sub):
    """with z from reparameterize, does loss(x, 2) equal -log p(x | z) + 2 KL for that z?"""
    found = sub.case("sampled")
    out, info = found.outputs, found.info
    check_array(out["loss"], (len(found.case.arrays["x"]),), "the loss")
    if info.get("noise_calls") and not info.get("fresh_calls"):
        check_value(found, "the loss for the z drawn by reparameterize")
        return
    _check_average(out, found.case.params["beta"], found.case)


def _check_average(out, beta: float, case) -> None:
    """For a loss that draws (some of) its noise itself: its KL exactly, when its noise repeats under the same seed
    (the pairs loss(x, beta), loss(x, beta + 1) then differ by its KL on every call), and its average over many
    calls against the reference's, call k of each seeded alike (:func:`autograder.grading.stats.same_mean_paired`: within
    ``stats.SIGMAS`` standard errors of the measured differences, plus the exact tests' tolerance)."""
    mine, reference = out.get("repeats"), out.get("expected/repeats")
    calls = len(reference)
    if mine is None or mine.shape != reference.shape or out.get("repeats_more") is None:
        fail(f"the loss over {calls} calls should have shape {reference.shape}")
    if np.all(mine == mine[:1]):  # a float32 variance of identical values need not be 0: compare the values
        fail(f"your loss is the same on every one of {calls} calls, so it does not sample z ~ q(z | x): decode "
             "z = self.reparameterize(mu, logvar), not mu.")
    r, kl = _reference_terms(out)
    mine_kl = out["repeats_more"].astype(np.float64) - mine
    seen = np.allclose(mine_kl, mine_kl[:1], rtol=1e-4, atol=1e-2)  # the same noise twice: the KL apart
    if seen and not close(kl, mine_kl[0], 1e-4, 1e-2):
        fail(f"your KL term (loss(x, {beta + 1:g}) - loss(x, {beta:g}) with the same noise) is not the reference's: "
             f"{max_difference(kl, mine_kl[0])}.\n  " + term_sentence(out, case, "KL", mine_kl[0]))
    what, yours, theirs = "loss", mine, reference
    if seen:  # the KL is right: what is left is the reconstruction term
        what, yours, theirs = "reconstruction term", mine - beta * mine_kl, reference - beta * kl
    if not stats.same_mean_paired(yours, theirs, 1e-4 * np.abs(theirs.mean(0)) + 1e-2):
        error = (yours - theirs).std(0, ddof=1) / np.sqrt(calls)
        fail(f"averaged over {calls} calls, your {what} is {np.round(yours.mean(0), 2).tolist()} where the "
             f"reference's is {np.round(theirs.mean(0), 2).tolist()} (standard errors of the difference "
             f"{np.round(error, 2).tolist()}); your loss does not call self.reparameterize, so only its average "
             "can be checked" + (": your KL is right, the reconstruction term -log p(x | z) averaged over "
                                 "z ~ q(z | x) is not." if seen else "."))


@grades("loss.gradients")
def test_gradients(sub):
    """do gradients of the loss reach every layer, and equal those of the reference loss (with a point-mass q, and
    with a decoder that ignores z, where only the KL reaches the encoder)?"""
    for name, layers in (("point_mass", LAYERS), ("decoder_ignores_z", NOISE_FREE_GRADIENTS)):
        found = sub.case(name)
        out, info = found.outputs, found.info
        missing = [layer for layer, present in sorted(info.get("grads", {}).items()) if not present]
        if missing or not info.get("grads"):
            fail(f"no gradient of the loss reaches {', '.join(missing) or 'the model'}: keep the computation in "
                 "torch (no .detach(), .item(), .numpy() or torch.no_grad())")
        for layer in layers:
            _compare_gradient(out, layer, name)


def _compare_gradient(out, layer: str, case: str) -> None:
    """Fail unless the gradient of the loss w.r.t. ``layer``.weight equals the reference's, with a hint."""
    got, expected = out[f"grad/{layer}"], out[f"expected/grad/{layer}"]
    scale = max(1.0, float(np.abs(expected).max()))
    if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-3, atol=1e-3 * scale):
        return
    hint = ""
    if close(out["expected/loss"], out["loss"], 1e-4, 1e-2):
        hint = ("\n  Your loss's values are right but its gradients are not: part of it is cut from the "
                "autograd graph (.detach(), .data, .item(), torch.no_grad() or a tensor rebuilt from "
                "values), so training would follow the wrong gradient.")
    where = (" (with a decoder that ignores z, only the KL term's gradient reaches the encoder)"
             if case == "decoder_ignores_z" else " (with q(z|x) a point mass)")
    fail(f"the gradient of the loss w.r.t. {layer}.weight differs from the reference's{where}"
         + (f": {max_difference(expected, got)}" if got.shape == expected.shape else "") + hint)
