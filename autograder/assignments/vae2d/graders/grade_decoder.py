"""Task 3, decoder: theta = sigmoid(linear4(ReLU(linear3(z)))); the reference's values."""
import numpy as np

from autograder.grading import check_array, compare, fail, grades


@grades("decoder.shapes")
def test_shapes(sub):
    """is theta a float tensor of shape (batch, obs_dim) with values in (0, 1)?"""
    cases, result = sub.run("decoder.shapes")
    for case, out in zip(cases, result.outputs):
        check_array(out["theta"], out["expected/theta"].shape, f"theta for VAE2D{case.dims}")
        if out["theta"].min() < 0 or out["theta"].max() > 1:
            fail(f"theta holds pixel probabilities, so its values lie in (0, 1); yours range over "
                 f"[{out['theta'].min():.3g}, {out['theta'].max():.3g}]: end the decoder with a sigmoid")


@grades("decoder.values")
def test_values(sub):
    """does theta equal sigmoid(linear4(ReLU(linear3(z))))?"""
    cases, result = sub.run("decoder.values")
    for case, out in zip(cases, result.outputs):
        theta = out["expected/theta"]
        compare(out["theta"], theta, f"theta for VAE2D{case.dims}", [
            ("Your decoder returns the logits: end it with a sigmoid, theta = sigmoid(linear4(...)).",
             _logit(theta))])


def _logit(theta):
    """The logits whose sigmoid is ``theta`` (a decoder without its sigmoid returns them)."""
    theta = np.clip(theta.astype("float64"), 1e-12, 1 - 1e-12)
    return np.log(theta) - np.log1p(-theta)
