"""What the method graders of both classes share: shape checks and comparisons with the reference's values, and the
known mistakes each comparison names (with which part of a joined input is wrong, from what conv1 and fc_dec
received)."""
import numpy as np

from autograder.grading import stats
from autograder.grading.comparators import close
from autograder.grading.grading import GradingFailure, check_array, compare, fail

CLOSED_FORM = "KL = 0.5 * sum(exp(logvar) + mu^2 - 1 - logvar) over the latent dimensions"


def _cases(sub, key: str, kind: str) -> list:
    """The results of every case of ``key``'s probe whose name is ``kind`` or starts with ``kind_``, in order."""
    cases, result = sub.run(key)
    return [result.case(c.name) for c in cases if c.name == kind or c.name.startswith(kind + "_")]


def compare_with_hint(got, expected, what: str, mistakes=(), hint=None, rtol=1e-4, atol=1e-4) -> None:
    """:func:`autograder.grading.grading.compare`, with ``hint()``'s sentence (when not None) added to its failure."""
    try:
        compare(got, expected, what, mistakes, rtol=rtol, atol=atol)
    except GradingFailure as exc:
        extra = hint() if hint else None
        fail(f"{exc}\n  {extra}" if extra and extra not in str(exc) else str(exc))


def encoder(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.encoder`` returns (mu, logvar) of the reference's shapes (and, with ``values``,
    its values, on every case), naming swapped or copied heads, an activation on a head, and (ConditionalVAE)
    which part of conv1's input is wrong."""
    for found in _cases(sub, key, kind):
        out = found.outputs
        for name in ("mu", "logvar"):
            check_array(out[name], out[f"expected/{name}"].shape, f"{name} of {class_name}.encoder")
        if not values:
            continue
        swapped = close(out["expected/logvar"], out["mu"]) and close(out["expected/mu"], out["logvar"])
        for name, other in (("mu", "logvar"), ("logvar", "mu")):
            want = out[f"expected/{name}"]
            compare_with_hint(out[name], want, f"{name} of {class_name}.encoder", [
                ("Your mu and logvar are swapped: return (mu, logvar) in that order." if swapped else
                 f"Your {name} is what {other} should be: {name} comes from fc_{name}, {other} from fc_{other} "
                 "(a head copied from the other?).", out[f"expected/{other}"]),
                (f"Your {name} is never negative: the heads fc_mu and fc_logvar are linear, with no ReLU after "
                 f"them ({name} takes any real value).", np.maximum(want, 0)),
                (f"Your {name} is the exp of what it should be: the head gives {name} itself, with no "
                 "activation.", np.exp(want)),
            ], hint=lambda: _conv1_hint(found, class_name))


def _conv1_hint(found, class_name: str):
    """Which part of the input conv1 received differs from the reference's: the image channel or the label's 10
    planes (ConditionalVAE only; None when conv1's input is right or was not recorded)."""
    got, want = found.outputs.get("conv1_input"), found.outputs.get("expected/conv1_input")
    if class_name != "ConditionalVAE" or got is None or want is None:
        return None
    if got.shape != want.shape:
        return (f"conv1 received an input of shape {got.shape}, where it takes {want.shape}: the image (1 channel), "
                "then its label's 10 planes, joined with torch.cat([x, planes], dim=1).")
    image, planes = close(want[:, :1], got[:, :1]), close(want[:, 1:], got[:, 1:])
    if close(want[:, :1], got[:, 10:]) and close(want[:, 1:], got[:, :10]):
        return ("conv1 received the label's planes first, then the image: join them as torch.cat([x, planes], "
                "dim=1), the image in channel 0, as conv1's weights expect.")
    if image and planes:
        return "conv1 received the right input (the image, then the label's planes): the difference comes after it."
    if image:
        constant = np.allclose(got[:, 1:], got[:, 1:, :1, :1])
        why = ("they are all zero: the label is ignored" if not np.any(got[:, 1:]) else
               "they vary over the pixels (a plane must be constant: expand or repeat the one-hot vector over the "
               "28 x 28 pixels, not reshape it or multiply it into the image)" if not constant else
               "they are constant but not the one-hot vector of c")
        return (f"conv1 received the right image channel but the wrong label planes: plane k of image i should be "
                f"all ones when k == c[i] and all zeros otherwise; {why}.")
    if planes:
        return "conv1 received the right label planes but not the image in channel 0: channel 0 should be x itself."
    return "conv1 received neither the image (channel 0) nor the label's planes (channels 1 to 10) it should."


def decoder(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.decoder`` returns theta of shape (batch, 1, 28, 28) in (0, 1) (and, with
    ``values``, the reference's values on every case), naming known mistakes and (ConditionalVAE) which part of
    fc_dec's input is wrong."""
    for found in _cases(sub, key, kind):
        theta, expected = found.outputs["theta"], found.outputs["expected/theta"]
        check_array(theta, expected.shape, f"theta of {class_name}.decoder")
        logits = np.log(np.clip(expected, 1e-12, 1)) - np.log1p(-np.clip(expected, 0, 1 - 1e-7))
        if theta.min() < 0 or theta.max() > 1:
            tanh = " (yours ends with tanh, whose values lie in (-1, 1))" if close(np.tanh(logits), theta, 1e-3, 1e-3) \
                else ""
            fail(f"theta holds pixel probabilities in (0, 1); yours range over [{theta.min():.3g}, "
                 f"{theta.max():.3g}]{tanh}: end the decoder with a sigmoid")
        if values:
            compare_with_hint(theta, expected, f"theta of {class_name}.decoder", [
                ("Your decoder applies the sigmoid where a ReLU belongs, or a ReLU after the last layer: ReLU after "
                 "every layer but the last, then a sigmoid.", 1 / (1 + np.exp(-np.maximum(logits, 0)))),
                ("Your decoder ends with tanh: end it with a sigmoid, theta = torch.sigmoid(...).", np.tanh(logits)),
            ], hint=lambda: _fc_dec_hint(found, class_name))


def _fc_dec_hint(found, class_name: str):
    """Which part of the input fc_dec received differs from the reference's: z or the label's one-hot vector, or
    their order (ConditionalVAE only; None when fc_dec's input is right or was not recorded)."""
    got, want = found.outputs.get("fc_dec_input"), found.outputs.get("expected/fc_dec_input")
    if class_name != "ConditionalVAE" or got is None or want is None:
        return None
    if got.shape != want.shape:
        return (f"fc_dec received an input of shape {got.shape}, where it takes {want.shape}: z (2 columns), then "
                "the label's one-hot vector (10), joined with torch.cat([z, one_hot], dim=1).")
    if close(want[:, :2], got[:, 10:]) and close(want[:, 2:], got[:, :10]):
        return ("fc_dec received the one-hot vector first, then z: the order is z first, torch.cat([z, one_hot], "
                "dim=1), as fc_dec's weights expect (ConvVAE's decoder reads z from its first columns).")
    codes, labels = close(want[:, :2], got[:, :2]), close(want[:, 2:], got[:, 2:])
    if codes and labels:
        return "fc_dec received the right input (z, then the one-hot label): the difference comes after it."
    if codes:
        why = "; yours are all zero: the label is ignored" if not np.any(got[:, 2:]) else ""
        return (f"fc_dec received z right but not the label: its last 10 columns should be the one-hot vector of c, "
                f"F.one_hot(c, 10){why}.")
    if labels:
        return "fc_dec received the right one-hot label but not z in its first columns: pass z itself."
    return "fc_dec received neither z (its first 2 columns) nor the one-hot label (its last 10) it should."


def terms(x, theta, mu, logvar) -> tuple:
    """The reconstruction term and KL per image, in nats, float64 (Kingma & Welling 2014, eq. 10 and appendix
    B), of images ``x`` for pixel probabilities ``theta`` (their logs clamped at -100, as torch's BCE clamps)."""
    x, theta = x.reshape(len(x), -1).astype(np.float64), theta.reshape(len(x), -1).astype(np.float64)
    return _bce(x, theta), 0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, axis=-1)


def _bce(x, theta):
    """-sum(x log theta + (1 - x) log(1 - theta)) per row, each log clamped at -100 as torch's is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.maximum(np.log(theta), -100.0), np.maximum(np.log1p(-theta), -100.0)
    return -np.sum(np.nan_to_num(x * logs[0]) + np.nan_to_num((1 - x) * logs[1]), axis=-1)


def mistakes(out) -> list:
    """What known mistakes would return for one loss case, from the reference's mu, logvar, theta and x, with the
    sentence for each (the first that fits is named)."""
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    x = out["expected/x"].reshape(len(mu), -1).astype(np.float64)
    theta = out["expected/theta_z"].reshape(len(mu), -1).astype(np.float64)
    r, kl = terms(x, theta, mu, logvar)
    half = 0.5 * np.sum(mu**2 - 1 - logvar, axis=-1)
    return [
        ("Your loss subtracts the KL: the loss is the negative ELBO, reconstruction + KL (the handout's formula "
         "adds the KL to the log-likelihood, a sign slip: the ELBO subtracts it).", r - kl),
        ("Your loss is the ELBO, not the loss: return its negative, reconstruction + KL.", -(r + kl)),
        (f"Your KL misses the factor 1/2: {CLOSED_FORM}.", r + 2 * kl),
        ("Your reconstruction term is averaged over the pixels: sum it over the 784 pixels.", r / 784 + kl),
        ("Your reconstruction term is averaged over the batch (a batch-mean binary cross-entropy times 784): "
         "sum it over each image's pixels, one value per image.", np.full_like(r, r.mean()) + kl),
        ("Your loss has no KL term.", r),
        ("Your KL is summed over the batch and added to every image's loss: sum it over the latent dimensions "
         "only, one value per image.", r + kl.sum()),
        ("Your KL reads logvar as a log standard deviation: logvar is log sigma^2, so " + CLOSED_FORM + ".",
         r + 0.5 * np.sum(np.exp(2 * logvar) + mu**2 - 1 - 2 * logvar, axis=-1)),
        ("Your KL squares the variance: exp(logvar) is already sigma^2, so " + CLOSED_FORM + ".",
         r + half + 0.5 * np.sum(np.exp(2 * logvar), axis=-1)),
        ("Your KL has sigma where sigma^2 belongs: exp(logvar) is sigma^2, so " + CLOSED_FORM + ".",
         r + half + 0.5 * np.sum(np.exp(0.5 * logvar), axis=-1)),
        ("Your reconstruction term is a squared error: this notebook's likelihood is Bernoulli, so the term is the "
         "binary cross-entropy -sum(x log theta + (1 - x) log(1 - theta)) over the pixels.",
         np.sum((x - theta) ** 2, axis=-1) + kl),
        ("Your binary cross-entropy has its arguments swapped: F.binary_cross_entropy(theta, x), the "
         "prediction first and the images (the target) second.", _bce(theta, x) + kl),
        ("Your loss passes the variance to reparameterize: it takes logvar, the log-variance, "
         "self.reparameterize(mu, logvar).",
         terms(x, out["expected/theta_var"].reshape(len(mu), -1), mu, logvar)[0] + kl),
    ]


def loss(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.loss`` returns one value per image (and, with ``values``, the reference's
    reconstruction + KL: exactly where the decoder ignores z, on real MNIST images, or for the grader's noise;
    for a loss that draws its own noise, its z tested as draws from q(z | x) and its mean over many calls)."""
    found_all = _cases(sub, key, kind)
    for found in found_all:
        out, batch = found.outputs, len(found.case.arrays["x"])
        if out["loss"].shape in ((), (1,)):
            fail(f"{class_name}.loss should have shape ({batch},), one value per image, but is a single number: do "
                 "not average or sum over the batch (the training loop takes the mean)")
        where = " on real MNIST images" if found.case.params.get("mnist") else ""
        check_array(out["loss"], (batch,), f"{class_name}.loss{where}")
    if not values:
        return
    for found in sorted(found_all, key=lambda f: not f.case.params.get("constant")):  # the exact case first
        out, info = found.outputs, found.info
        if found.case.params.get("constant"):
            what = (f"{class_name}.loss{' on real MNIST images' if found.case.params.get('mnist') else ''}, with a "
                    "decoder that ignores z (so that the loss is the same whatever noise it draws)")
        elif info.get("noise_calls") and not info.get("fresh_calls"):
            what = f"{class_name}.loss for the z drawn by reparameterize"
        else:
            _own_noise(found, class_name)
            continue
        compare(out["loss"], out["expected/loss"], what, mistakes(out), rtol=1e-4, atol=1e-2)


def _own_noise(found, class_name: str) -> None:
    """The checks of a loss that draws its own noise: its calls differ, the z it decodes are draws from
    q(z | x) = N(mu, sigma^2) (standardised with the reference's mu and logvar, tested at 6 standard errors), and
    its mean over the calls equals the reference's mean within 6 standard errors of their difference."""
    out = found.outputs
    mine, reference = out.get("repeats"), out["expected/repeats"]
    if mine is None or mine.shape != reference.shape:
        fail(f"{class_name}.loss over {reference.shape[0]} calls should have shape {reference.shape}")
    if np.all(mine == mine[:1]):  # a float32 variance of identical values need not be 0: compare the values
        fail(f"your {class_name}.loss is the same on every one of {len(mine)} calls, so it does not sample "
             "z ~ q(z | x): decode z = self.reparameterize(mu, logvar), not mu.")
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    decoded = out.get("decoded")
    if decoded is not None and decoded.shape == (len(mine) * len(mu), mu.shape[1]):
        noise = (decoded.reshape(len(mine), *mu.shape) - mu) / np.exp(0.5 * logvar)
        problem = stats.standard_normal(noise.reshape(-1, mu.shape[1]), "the noise (z - mu) / sigma of the z your "
                                                                          "loss decodes")
        if problem:
            fail(f"{problem}: z ~ q(z | x) is mu + exp(logvar / 2) * eps with eps ~ N(0, I), fresh on every call "
                 "(self.reparameterize(mu, logvar) draws it)")
    if not stats.same_mean(mine, reference):
        fail(f"averaged over {len(mine)} calls, your {class_name}.loss is {np.round(mine.mean(0), 2).tolist()} where "
             f"the reference's is {np.round(reference.mean(0), 2).tolist()} (more than {stats.SIGMAS:g} standard "
             "errors apart): your loss draws its own noise, so it is checked by its average for the z it decodes")
