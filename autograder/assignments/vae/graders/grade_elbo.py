"""Task 5, elbo: log p(x | z) - KL(q(z|x) || p(z)) with one z ~ q, per data point, in nats.

The submission's encoder, sample_with_reparam, decoder and kl_divergence are replaced by the reference
pieces in the child, so only ``elbo`` itself is graded here.
"""
import numpy as np

from autograder.assignments.vae import cases as C
from autograder.assignments.vae import oracle
from autograder.grading import stats
from autograder.grading.grading import check_array, compare, fail, grades



def _clamped_log(a):
    """log(a) clamped below at -100, as torch's binary_cross_entropy does."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(a), -100.0)


def _mistakes(w, x, eps):
    """What common wrong ELBOs return for noise ``eps``, with the sentence that explains each.

    Returns a list of (explanation, array of shape (batch,) or ()), in nats.
    """
    x = np.asarray(x, np.float64)
    mu, logsigma = oracle.encoder(w, x)
    logits = oracle.decoder_logits(w, mu + np.exp(logsigma) * eps)
    reconstruction, kl = oracle.log_bernoulli(x, logits), oracle.kl_divergence(mu, logsigma)
    theta = oracle.sigmoid(logits)
    elbo = reconstruction - kl
    return [
        ("Your ELBO leaves out the KL term: subtract self.kl_divergence(mu, logsigma).", reconstruction),
        ("Your ELBO adds the KL term; the ELBO subtracts it.", reconstruction + kl),
        ("Your ELBO is the negative ELBO (the loss): return log p(x|z) - KL; the training loop negates it.", -elbo),
        ("Your ELBO is a single number averaged over the batch; return one value per data point "
         "(the training loop takes the mean).", elbo.mean()),
        ("Your ELBO is a single number summed over the batch; return one value per data point.", elbo.sum()),
        ("Your reconstruction term averages over the pixels; the log-likelihood of independent pixels is their "
         "sum (reduction='none' then .sum(-1)).", reconstruction / x.shape[1] - kl),
        ("Your reconstruction term is F.binary_cross_entropy with its default reduction='mean', a single average "
         "over the whole batch and all pixels; use reduction='none' and sum over the pixels (dim=-1).",
         np.full(len(x), reconstruction.sum() / x.size) - kl),
        ("Your reconstruction term is a squared error; this assignment uses the Bernoulli log-likelihood "
         "sum(x log theta + (1 - x) log(1 - theta)), i.e. minus the binary cross-entropy.",
         -((x - theta) ** 2).sum(-1) - kl),
        ("Your ELBO decodes mu rather than the sampled z: the reconstruction term is log p(x | z) with "
         "z = self.sample_with_reparam(mu, logsigma).", oracle.log_bernoulli(x, oracle.decoder_logits(w, mu)) - kl),
        ("Your reconstruction term has the arguments of F.binary_cross_entropy swapped: it is "
         "binary_cross_entropy(input=theta, target=x).",
         (theta * _clamped_log(x) + (1 - theta) * _clamped_log(1 - x)).sum(-1) - kl),
        ("Your reconstruction term applies binary_cross_entropy_with_logits to theta, which is already a "
         "probability, so the sigmoid is applied twice: use F.binary_cross_entropy(theta, x, ...) on theta, or "
         "the _with_logits version on the logits linear4(...).", oracle.log_bernoulli(x, theta) - kl),
        ("Your ELBO passes sigma = exp(logsigma) to kl_divergence, which expects logsigma itself.",
         reconstruction - oracle.kl_divergence(mu, np.exp(logsigma))),
    ]


def _deterministic(info) -> bool:
    """True when elbo drew z only through self.sample_with_reparam, so the grader's noise was used."""
    return bool(info.get("sample_calls")) and not info.get("fresh_calls")


@grades("elbo.shapes")
def test_shapes(sub):
    """is the ELBO a float tensor of shape (batch,), one value per data point?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["x"])
        if out["elbo"].shape in ((), (1,)):
            fail(f"the ELBO should have shape ({batch},), one value per data point, but is a single number: "
                 "do not average or sum over the batch (the training loop takes the mean)")
        check_array(out["elbo"], (batch,), f"the ELBO for x of shape {case.arrays['x'].shape}")


@grades("elbo.point_mass")
def test_point_mass(sub):
    """when q(z|x) is a point mass at mu (logsigma = -30), does the ELBO equal log p(x | mu) - KL, on MNIST too?"""
    for name, what in (("point_mass", ""), ("mnist", " on real MNIST test images")):
        found = sub.case(name)
        case, out = found.case, found.outputs
        w, x = case.arrays, case.arrays["x"]
        check_array(out["elbo"], (len(x),), f"the ELBO{what}")
        zero = np.zeros_like(case.arrays["eps"])
        compare(out["elbo"], oracle.elbo(w, x, zero), f"the ELBO with q(z|x) a point mass{what}",
                _mistakes(w, x, zero), rtol=1e-4, atol=1e-2)


@grades("elbo.sampled")
def test_sampled(sub):
    """with z from sample_with_reparam, does the ELBO equal log p(x | z) - KL for that z?"""
    found = sub.case("sampled")
    case, out, info = found.case, found.outputs, found.info
    w, x, eps = case.arrays, case.arrays["x"], case.arrays["eps"]
    check_array(out["elbo"], (len(x),), "the ELBO")
    if _deterministic(info):
        compare(out["elbo"], oracle.elbo(w, x, eps), "the ELBO for the z drawn by sample_with_reparam",
                _mistakes(w, x, eps), rtol=1e-4, atol=1e-2)
        return
    # elbo draws (some of) its noise itself: compare its average over many calls with the grader's.
    draws = out["repeats"]
    check_array(draws, (C.ELBO_REPEATS, 2), "the ELBO over repeated calls")
    draws = draws.astype(np.float64)
    # Identical draws: a float32 std of identical values is not exactly 0, so compare the draws themselves.
    if np.all(draws == draws[:1]):
        fail("the ELBO is the same on every call, so it does not sample z ~ q(z|x): "
             "use z = self.sample_with_reparam(mu, logsigma)")
    rng = np.random.default_rng(0)
    reference = np.stack([oracle.elbo(w, x[:2], rng.standard_normal((2, eps.shape[1]))) for _ in range(4000)])
    if not stats.same_mean(draws, reference):
        fail(f"the ELBO averaged over {C.ELBO_REPEATS} calls is {np.round(draws.mean(0), 2).tolist()} nats; the "
             f"grader's is {np.round(reference.mean(0), 2).tolist()} (your elbo does not call "
             "self.sample_with_reparam, so only its average can be checked)")


@grades("elbo.gradients")
def test_gradients(sub):
    """do gradients of the ELBO reach every layer, and equal those of the reference ELBO?"""
    found = sub.case("sampled")
    case, out, info = found.case, found.outputs, found.info
    missing = [layer for layer, present in sorted(info.get("grads", {}).items()) if not present]
    if missing or not info.get("grads"):
        fail(f"no gradient of the ELBO reaches {', '.join(missing) or 'the model'}: keep the computation in torch "
             "(no .detach(), .item(), .numpy() or torch.no_grad())")
    values_right = _deterministic(info) and oracle.close(oracle.elbo(case.arrays, case.arrays["x"], case.arrays["eps"]),
                                                         out["elbo"], 1e-4, 1e-2)
    for layer in oracle.LAYERS:
        got, expected = out[f"grad/{layer}"], out[f"reference_grad/{layer}"]
        check_array(got, expected.shape, f"the gradient of the ELBO w.r.t. {layer}.weight")
        # float32 backward passes that sum the same terms in another order agree to ~1e-6 relative;
        # rtol 1e-3 with an absolute floor of 1e-4 of the largest entry leaves room for the forms of the ELBO.
        if _deterministic(info) and not np.allclose(got, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max()):
            hint = ""
            if values_right:
                hint = ("\n  Your ELBO's values are right but its gradients are not: part of it is cut from the "
                        "autograd graph (.detach(), .data, .item(), torch.no_grad() or a tensor rebuilt from "
                        "values), so training would follow the wrong gradient.")
            fail(f"the gradient of the ELBO w.r.t. {layer}.weight differs from the reference's: "
                 f"{oracle.max_difference(expected, got)}" + hint)
