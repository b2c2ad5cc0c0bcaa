"""Task 5, reconstruct: the decoder's output at the encoder's mean, with no sampling; the reference's values."""
import numpy as np

from autograder.assignments.vae2d import checks
from autograder.grading.grading import check_array, compare, fail, grades


@grades("reconstruct.shapes")
def test_shapes(sub):
    """is the reconstruction a float tensor of the shape of x, (batch, obs_dim)?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        check_array(out["theta"], case.arrays["x"].shape, f"reconstruct(x) for x of shape {case.arrays['x'].shape}")


@grades("reconstruct.values")
def test_values(sub):
    """is the reconstruction decoder(mu(x)), the same on every call, without sampling z?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        check_array(out["theta"], case.arrays["x"].shape, "reconstruct(x)")
        if out["again"].shape == out["theta"].shape and not np.allclose(out["theta"], out["again"], atol=1e-6):
            fail("two calls of reconstruct(x) on the same images returned different images: it draws z. "
                 "Decode the encoder's mean instead, decoder(mu), with no sampling.")
        compare(out["theta"], out["expected/theta"], f"reconstruct(x) for VAE2D{case.dims}",
                _mistakes(case.arrays, case.arrays["x"]) + _after_decoder(out["expected/theta"]))


def _mistakes(weights, x) -> list:
    """What known wrong reconstructions return for images ``x`` (batch, obs), with the sentence for each."""
    mu, logvar = checks.encode(weights, x)
    return [("Your reconstruction is x itself: decode the encoder's mean, decoder(mu).", x),
            ("Your reconstruction is the logits: decode with self.decoder, which ends with the sigmoid.",
             checks.decode_logits(weights, mu)),
            ("Your reconstruction decodes logvar: the encoder returns (mu, logvar) in that order; decode mu.",
             checks.sigmoid(checks.decode_logits(weights, logvar)))]


def _after_decoder(theta) -> list:
    """Known mistakes made after a right decoder(mu), ``theta`` (batch, obs): a second sigmoid, a threshold."""
    theta = np.asarray(theta, np.float64)
    return [("Your reconstruction applies a second sigmoid to the decoder's output: self.decoder already ends with "
             "the sigmoid, so return decoder(mu) as it is.", checks.sigmoid(theta)),
            ("Your reconstruction thresholds the pixel probabilities at 0.5 (0 or 1): return the probabilities "
             "theta = decoder(mu) themselves, values in (0, 1).", (theta > 0.5).astype(np.float64)),
            ("Your reconstruction rounds the pixel probabilities (0 or 1): return the probabilities "
             "theta = decoder(mu) themselves, values in (0, 1).", np.round(theta))]
