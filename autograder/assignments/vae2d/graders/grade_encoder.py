"""Task 1, encoder: mu = linear21(h), logvar = linear22(h) with h = ReLU(linear1(x)); the reference's values."""
import numpy as np

from autograder.assignments.vae2d import checks
from autograder.grading.grading import check_array, compare, grades


@grades("encoder.shapes")
def test_shapes(sub):
    """are mu and logvar float tensors of shape (batch, latent_dim)?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for name in ("mu", "logvar"):
            check_array(out[name], out[f"expected/{name}"].shape, f"{name} for VAE2D{case.dims}")


@grades("encoder.values")
def test_values(sub):
    """do mu and logvar equal linear21 and linear22 of ReLU(linear1(x))?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        mu, logvar = out["expected/mu"], out["expected/logvar"]
        hidden = checks.hidden_mistakes(case.arrays, "linear1", case.arrays["x"])
        compare(out["mu"], mu, f"mu for VAE2D{case.dims}", _order(out, "mu", "logvar") + _head(mu, "mu", "linear21")
                + [(f"Your encoder {clause}.", checks.linear(case.arrays, "linear21", h)) for clause, h in hidden])
        compare(out["logvar"], logvar, f"logvar for VAE2D{case.dims}",
                [("Your logvar is the log standard deviation log sigma = logvar / 2: in this notebook linear22 "
                  "gives the log-variance log sigma^2 itself (Part 1's encoder gave log sigma).", logvar / 2),
                 ("Your logvar is exp(linear22(h)): linear22 gives the log-variance itself, return it as it is.",
                  checks.exp(logvar))] + _order(out, "logvar", "mu") + _head(logvar, "logvar", "linear22")
                + [(f"Your encoder {clause}.", checks.linear(case.arrays, "linear22", h)) for clause, h in hidden])


def _order(out, name: str, other: str) -> list:
    """The mistakes that put ``other``'s value in ``name``: a swap (the pair returned in the wrong order) when
    ``other`` holds ``name``'s value too, else a head used twice."""
    expected, got_other = out[f"expected/{other}"], out[other]
    if got_other.shape == out[f"expected/{name}"].shape and np.allclose(got_other, out[f"expected/{name}"],
                                                                        rtol=1e-4, atol=1e-4):
        return checks.swapped(expected, name, other)
    head = {"mu": "linear21", "logvar": "linear22"}
    return [(f"Your {name} is computed by {head[other]}, the {'mean' if other == 'mu' else 'log-variance'}'s head, "
             f"like {other}: {name} = {head[name]}(h).", expected)]


def _head(value, name: str, layer: str) -> list:
    """Known mistakes on an output head: a ReLU, abs or square after it (the probe's heads take both signs)."""
    value = np.asarray(value, np.float64)
    return [(f"Your {name} goes through a ReLU after {layer}: {name} = {layer}(h) takes any real value, "
             "with no activation.", np.maximum(value, 0.0)),
            (f"Your {name} is the absolute value of {layer}(h): return {layer}(h) as it is.", np.abs(value))]
