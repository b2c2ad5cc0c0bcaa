"""What Part 1's tests expect at a case's inputs: the reference's outputs (:mod:`.oracle`, float64 numpy) and the
known mistakes, each with the sentence that names it. The graders judge with them
(:meth:`autograder.grading.grading.GradedSubmission.expected`), and ``make student`` stores them, at the checks'
own cases, as the data of the notebook's checks (:mod:`autograder.deploy.checks`).

Each function takes a :class:`autograder.core.cases.Case` and returns a dict of arrays (``"mu"``, in nats where a
value is a log-density) and lists of (sentence, array) under ``"mistakes/<output>"``; None for a case its test does
not judge.
"""
from __future__ import annotations

import numpy as np

from . import oracle

#: Noise draws of the reference ELBO that an elbo drawing its own noise is compared with, on average.
REFERENCE_DRAWS = 4000


def _encoder_mistakes(w, x):
    """What common wrong encoders return for (mu, logsigma), each a list of (explanation, array)."""
    mu, logsigma = oracle.encoder(w, x)
    heads = lambda hidden: (hidden @ w["w/linear21.weight"].T.astype(np.float64) + w["w/linear21.bias"],  # noqa: E731
                            hidden @ w["w/linear22.weight"].T.astype(np.float64) + w["w/linear22.bias"])
    linear = x @ w["w/linear1.weight"].T.astype(np.float64) + w["w/linear1.bias"]
    without_relu, with_sigmoid = heads(linear), heads(oracle.sigmoid(linear))
    swapped = "the heads are swapped (mu comes from linear21, logsigma from linear22)"
    no_relu = "skips the ReLU after linear1: h = ReLU(linear1(x))"
    sigmoid = "uses a sigmoid after linear1 where the notebook's encoder has a ReLU: h = ReLU(linear1(x))"
    relu_out = ("passes through a ReLU on the outputs; the heads linear21 and linear22 are linear, and "
                "logsigma must be able to go negative (sigma < 1)")
    mistakes_mu = [(f"Your mu is what linear22 gives: {swapped}.", logsigma),
                   (f"Your mu {no_relu}.", without_relu[0]),
                   (f"Your mu {sigmoid}.", with_sigmoid[0]),
                   (f"Your mu {relu_out}.", oracle.relu(mu))]
    mistakes_logsigma = [(f"Your logsigma is what linear21 gives: {swapped}.", mu),
                         ("Your logsigma is exp(linear22(h)), the standard deviation; return its log, "
                          "linear22(h) itself.", np.exp(logsigma)),
                         ("Your logsigma is linear22(h) / 2, as if linear22 gave a log-variance; in this "
                          "assignment linear22 gives logsigma, the log standard deviation, directly.", 0.5 * logsigma),
                         (f"Your logsigma {no_relu}.", without_relu[1]),
                         (f"Your logsigma {sigmoid}.", with_sigmoid[1]),
                         (f"Your logsigma {relu_out}.", oracle.relu(logsigma))]
    return mistakes_mu, mistakes_logsigma


def encoder_values(case):
    """mu, logsigma = linear21(h), linear22(h) with h = ReLU(linear1(x)), each of shape (batch, latent)."""
    mu, logsigma = oracle.encoder(case.arrays, case.arrays["x"])
    mistakes_mu, mistakes_logsigma = _encoder_mistakes(case.arrays, case.arrays["x"])
    return {"mu": mu, "logsigma": logsigma, "mistakes/mu": mistakes_mu, "mistakes/logsigma": mistakes_logsigma}


def _softmax(a, axis):
    e = np.exp(a - a.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def decoder_values(case):
    """theta = sigmoid(linear4(ReLU(linear3(z)))), of shape (batch, obs), values in (0, 1)."""
    w, z = case.arrays, case.arrays["z"]
    logits = oracle.decoder_logits(w, z)
    hidden = z @ w["w/linear3.weight"].T.astype(np.float64) + w["w/linear3.bias"]
    head = lambda h: h @ w["w/linear4.weight"].T.astype(np.float64) + w["w/linear4.bias"]  # noqa: E731
    mistakes = [("Your decoder returns the logits linear4(...): apply torch.sigmoid to get theta in (0, 1).", logits),
                ("Your decoder applies a softmax over the pixels; each pixel is its own Bernoulli variable, "
                 "so use an element-wise sigmoid.", _softmax(logits, -1)),
                ("Your decoder applies a softmax over the batch; each pixel of each data point is its own "
                 "Bernoulli variable, so use an element-wise sigmoid.", _softmax(logits, 0)),
                ("Your decoder clamps the logits to [0, 1]; theta = sigmoid(logits) maps them smoothly into "
                 "(0, 1) and keeps gradients everywhere.", np.clip(logits, 0, 1)),
                ("Your decoder skips the ReLU after linear3.", oracle.sigmoid(head(hidden))),
                ("Your decoder uses a sigmoid after linear3 where the notebook has a ReLU; the sigmoid belongs "
                 "only at the output.", oracle.sigmoid(head(oracle.sigmoid(hidden))))]
    return {"theta": oracle.sigmoid(logits), "mistakes/theta": mistakes}


def kl_divergence_values(case):
    """KL(N(mu, sigma^2) || N(0, I)) per data point, shape (batch,), in nats (Kingma & Welling 2014, appendix B)."""
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
    return {"kl": expected, "mistakes/kl": mistakes}


def _clamped_log(a):
    """log(a) clamped below at -100, as torch's binary_cross_entropy does."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(a), -100.0)


def _elbo_mistakes(w, x, eps):
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


def _elbo(case, eps):
    """The ELBO per data point (shape (batch,), nats) with noise ``eps``, and its mistakes."""
    w, x = case.arrays, case.arrays["x"]
    return {"elbo": oracle.elbo(w, x, eps), "mistakes/elbo": _elbo_mistakes(w, x, eps)}


def elbo_point_mass(case):
    """The ELBO of cases "point_mass" and "mnist", where q(z|x) is a point mass (z = mu whatever the noise)."""
    return _elbo(case, np.zeros_like(case.arrays["eps"])) if case.name in ("point_mass", "mnist") else None


def elbo_sampled(case):
    """The ELBO of case "sampled" with the grader's noise, and :data:`REFERENCE_DRAWS` reference ELBOs of its first
    two images with fresh noise, shape (draws, 2) (what an elbo drawing its own noise is compared with)."""
    if case.name != "sampled":
        return None
    w, x, eps = case.arrays, case.arrays["x"], case.arrays["eps"]
    rng = np.random.default_rng(0)
    draws = np.stack([oracle.elbo(w, x[:2], rng.standard_normal((2, eps.shape[1]))) for _ in range(REFERENCE_DRAWS)])
    return {**_elbo(case, eps), "draws": draws}


def elbo_gradients(case):
    """The ELBO of case "sampled" with the grader's noise (are its values right, when its gradients are not?)."""
    return _elbo(case, case.arrays["eps"]) if case.name == "sampled" else None


#: The expectation of each test that compares with the reference.
EXPECT = {"encoder.values": encoder_values, "decoder.values": decoder_values,
          "kl_divergence.values": kl_divergence_values, "elbo.point_mass": elbo_point_mass,
          "elbo.sampled": elbo_sampled, "elbo.gradients": elbo_gradients}


def elbo_known(case):
    """What the ELBO's check needs to give the grader's noise to the right rows: the reference encoder's mu and
    logsigma at the case's images, each of shape (batch, latent) (the grader's probe computes them itself)."""
    mu, logsigma = oracle.encoder(case.arrays, case.arrays["x"])
    return {"known/mu": mu.astype(np.float32), "known/logsigma": logsigma.astype(np.float32)}


#: Arrays the notebook's checks add to a probe's cases (by probe).
CHECK_ARRAYS = {"elbo": elbo_known}
#: Which reference outputs (from a probe's expected probe) the checks keep, by probe: ``keep(case, name)``. The
#: reference gradients are read for case "sampled" only (elbo.gradients), and are most of the data.
CHECK_OUTPUTS = {"elbo": lambda case, name: case.name == "sampled"}
