"""Task 5, elbo: log p(x | z) - KL(q(z|x) || p(z)) with one z ~ q, per data point, in nats.

The submission's encoder, sample_with_reparam, decoder and kl_divergence are replaced by the reference
pieces in the child, so only ``elbo`` itself is graded here.
"""
import numpy as np

from autograder import cases as C
from autograder import config, oracle, stats
from autograder.grading import check_array, compare, fail, grades


def _run(sub, key):
    return sub.probe("elbo", "elbo", config.TESTS[key].timeout)


def _mistakes(w, x, eps):
    """What common wrong ELBOs return, with the sentence that explains each."""
    mu, logsigma = oracle.encoder(w, x)
    logits = oracle.decoder_logits(w, mu + np.exp(logsigma) * eps)
    reconstruction, kl = oracle.log_bernoulli(x, logits), oracle.kl_divergence(mu, logsigma)
    theta = oracle.sigmoid(logits)
    return [
        ("Your ELBO leaves out the KL term: subtract self.kl_divergence(mu, logsigma).", reconstruction),
        ("Your ELBO adds the KL term; the ELBO subtracts it.", reconstruction + kl),
        ("Your ELBO is the negative ELBO (the loss): return log p(x|z) - KL; the training loop negates it.",
         -(reconstruction - kl)),
        ("Your reconstruction term averages over the pixels; the log-likelihood of independent pixels is their "
         "sum (reduction='none' then .sum(-1)).", reconstruction / x.shape[1] - kl),
        ("Your reconstruction term is a squared error; this assignment uses the Bernoulli log-likelihood "
         "sum(x log theta + (1 - x) log(1 - theta)), i.e. minus the binary cross-entropy.",
         -((x - theta) ** 2).sum(-1) - kl),
    ]


@grades("elbo.shapes")
def test_shapes(sub):
    """is the ELBO a float tensor of shape (batch,), one value per data point?"""
    cases, result = _run(sub, "elbo.shapes")
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["x"])
        if out["elbo"].shape in ((), (1,)):
            fail(f"the ELBO should have shape ({batch},), one value per data point, but is a single number: "
                 "do not average or sum over the batch (the training loop takes the mean)")
        check_array(out["elbo"], (batch,), f"the ELBO for x of shape {case.arrays['x'].shape}")


@grades("elbo.point_mass")
def test_point_mass(sub):
    """when q(z|x) is a point mass at mu (logsigma = -30), does the ELBO equal log p(x | mu) - KL?"""
    cases, result = _run(sub, "elbo.point_mass")
    case, out = cases[0], result.outputs[0]
    w, x = case.arrays, case.arrays["x"]
    check_array(out["elbo"], (len(x),), "the ELBO")
    zero = np.zeros_like(case.arrays["eps"])
    compare(out["elbo"], oracle.elbo(w, x, zero), "the ELBO with q(z|x) a point mass", _mistakes(w, x, zero),
            rtol=1e-4, atol=1e-2)


@grades("elbo.sampled")
def test_sampled(sub):
    """with z from sample_with_reparam, does the ELBO equal log p(x | z) - KL for that z?"""
    cases, result = _run(sub, "elbo.sampled")
    case, out, info = cases[1], result.outputs[1], result.info[1]
    w, x, eps = case.arrays, case.arrays["x"], case.arrays["eps"]
    check_array(out["elbo"], (len(x),), "the ELBO")
    if info.get("sample_calls"):
        compare(out["elbo"], oracle.elbo(w, x, eps), "the ELBO for the z drawn by sample_with_reparam",
                _mistakes(w, x, eps), rtol=1e-4, atol=1e-2)
        return
    # elbo draws its noise itself: compare its average over many calls with the grader's.
    draws = out["repeats"]
    check_array(draws, (C.ELBO_REPEATS, 2), "the ELBO over repeated calls")
    if np.all(draws.std(0) < 1e-6):
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
    cases, result = _run(sub, "elbo.gradients")
    case, out, info = cases[1], result.outputs[1], result.info[1]
    missing = [layer for layer, present in sorted(info.get("grads", {}).items()) if not present]
    if missing or not info.get("grads"):
        fail(f"no gradient of the ELBO reaches {', '.join(missing) or 'the model'}: keep the computation in torch "
             "(no .detach(), .item(), .numpy() or torch.no_grad())")
    for layer in oracle.LAYERS:
        got, expected = out[f"grad/{layer}"], out[f"reference_grad/{layer}"]
        check_array(got, expected.shape, f"the gradient of the ELBO w.r.t. {layer}.weight")
        if info.get("sample_calls") and not np.allclose(got, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max()):
            fail(f"the gradient of the ELBO w.r.t. {layer}.weight differs from the reference's: "
                 f"{oracle.max_difference(expected, got)}")
