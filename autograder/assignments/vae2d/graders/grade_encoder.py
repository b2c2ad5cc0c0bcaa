"""Task 1, encoder: mu = linear21(h), logvar = linear22(h) with h = ReLU(linear1(x)); the reference's values."""
from autograder.assignments.vae2d import checks
from autograder.grading import check_array, compare, grades


@grades("encoder.shapes")
def test_shapes(sub):
    """are mu and logvar float tensors of shape (batch, latent_dim)?"""
    cases, result = sub.run("encoder.shapes")
    for case, out in zip(cases, result.outputs):
        for name in ("mu", "logvar"):
            check_array(out[name], out[f"expected/{name}"].shape, f"{name} for VAE2D{case.dims}")


@grades("encoder.values")
def test_values(sub):
    """do mu and logvar equal linear21 and linear22 of ReLU(linear1(x))?"""
    cases, result = sub.run("encoder.values")
    for case, out in zip(cases, result.outputs):
        mu, logvar = out["expected/mu"], out["expected/logvar"]
        hidden = checks.hidden_mistakes(case.arrays, "linear1", case.arrays["x"])
        compare(out["mu"], mu, f"mu for VAE2D{case.dims}", checks.swapped(logvar, "mu", "logvar")
                + [(f"Your encoder {clause}.", checks.linear(case.arrays, "linear21", h)) for clause, h in hidden])
        compare(out["logvar"], logvar, f"logvar for VAE2D{case.dims}",
                [("Your logvar is the log standard deviation log sigma = logvar / 2: in this notebook linear22 "
                  "gives the log-variance log sigma^2 itself (Part 1's encoder gave log sigma).", logvar / 2),
                 ("Your logvar is exp(linear22(h)): linear22 gives the log-variance itself, return it as it is.",
                  checks.exp(logvar))] + checks.swapped(mu, "logvar", "mu")
                + [(f"Your encoder {clause}.", checks.linear(case.arrays, "linear22", h)) for clause, h in hidden])
