"""What the method graders of both classes share: shape checks and comparisons with the reference's values."""
import numpy as np

from autograder.grading import check_array, compare, fail

CLOSED_FORM = "KL = 0.5 * sum(exp(logvar) + mu^2 - 1 - logvar) over the latent dimensions"


def encoder(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.encoder`` returns (mu, logvar) of the reference's shapes (and, with ``values``,
    its values)."""
    found = sub.case(key, kind)
    out = found.outputs
    for name in ("mu", "logvar"):
        check_array(out[name], out[f"expected/{name}"].shape, f"{name} of {class_name}.encoder")
        if values:
            compare(out[name], out[f"expected/{name}"], f"{name} of {class_name}.encoder", [
                (f"Your {name} is what {'logvar' if name == 'mu' else 'mu'} should be: return (mu, logvar) in "
                 "that order.", out[f"expected/{'logvar' if name == 'mu' else 'mu'}"])])


def decoder(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.decoder`` returns theta of shape (batch, 1, 28, 28) in (0, 1) (and, with
    ``values``, the reference's values)."""
    found = sub.case(key, kind)
    theta, expected = found.outputs["theta"], found.outputs["expected/theta"]
    check_array(theta, expected.shape, f"theta of {class_name}.decoder")
    if theta.min() < 0 or theta.max() > 1:
        fail(f"theta holds pixel probabilities in (0, 1); yours range over [{theta.min():.3g}, {theta.max():.3g}]: "
             "end the decoder with a sigmoid")
    if values:
        logits = np.log(np.clip(expected, 1e-12, 1)) - np.log1p(-np.clip(expected, 0, 1 - 1e-7))
        compare(theta, expected, f"theta of {class_name}.decoder", [
            ("Your decoder applies the sigmoid where a ReLU belongs, or a ReLU after the last layer: ReLU after "
             "every layer but the last, then a sigmoid.", 1 / (1 + np.exp(-np.maximum(logits, 0))))])


def terms(x, out) -> tuple:
    """The reference's reconstruction term and KL per image, in nats, float64 (Kingma & Welling 2014, eq. 10
    and appendix B), from its mu, logvar and theta = decoder(z) for the grader's noise."""
    x = x.reshape(len(x), -1).astype(np.float64)
    theta = np.clip(out["expected/theta_z"].reshape(len(x), -1).astype(np.float64), 1e-12, 1 - 1e-12)
    reconstruction = -np.sum(x * np.log(theta) + (1 - x) * np.log1p(-theta), axis=-1)
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    return reconstruction, 0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, axis=-1)


def loss(sub, key: str, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.loss`` returns one value per image (and, with ``values``, the reference's
    reconstruction + KL for the z its reparameterize drew, naming known mistakes)."""
    found = sub.case(key, kind)
    out, batch = found.outputs, len(found.case.arrays["x"])
    if out["loss"].shape in ((), (1,)):
        fail(f"{class_name}.loss should have shape ({batch},), one value per image, but is a single number: do not "
             "average or sum over the batch (the training loop takes the mean)")
    check_array(out["loss"], (batch,), f"{class_name}.loss")
    if not values:
        return
    if not found.info.get("noise_calls") or found.info.get("fresh_calls"):
        fail(f"{class_name}.loss should draw z with self.reparameterize(mu, logvar) (the grader checks the loss "
             "for the z it draws)")
    r, kl = terms(found.case.arrays["x"], out)
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    compare(out["loss"], out["expected/loss"], f"{class_name}.loss", [
        ("Your loss subtracts the KL: the loss is the negative ELBO, reconstruction + KL (the handout's formula "
         "adds the KL to the log-likelihood, a sign slip: the ELBO subtracts it).", r - kl),
        ("Your loss is the ELBO, not the loss: return its negative, reconstruction + KL.", -(r + kl)),
        (f"Your KL misses the factor 1/2: {CLOSED_FORM}.", r + 2 * kl),
        ("Your reconstruction term is averaged over the pixels: sum it over the 784 pixels.", r / 784 + kl),
        ("Your loss has no KL term.", r),
        ("Your KL reads logvar as a log standard deviation: logvar is log sigma^2, so " + CLOSED_FORM + ".",
         r + 0.5 * np.sum(np.exp(2 * logvar) + mu**2 - 1 - 2 * logvar, axis=-1)),
    ], rtol=1e-4, atol=1e-2)
