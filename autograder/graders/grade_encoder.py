"""Task 1, encoder: (mu, logsigma) = linear21/linear22 of ReLU(linear1(x))."""
import numpy as np

from autograder import config, oracle
from autograder.grading import check_array, compare, grades


def _run(sub, key):
    return sub.probe("encoder", "encoder", config.TESTS[key].timeout)


@grades("encoder.shapes")
def test_shapes(sub):
    """are mu and logsigma float tensors of shape (batch, latent_dim)?"""
    cases, result = _run(sub, "encoder.shapes")
    for case, out in zip(cases, result.outputs):
        for name in ("mu", "logsigma"):
            check_array(out[name], (len(case.arrays["x"]), case.dims[1]),
                        f"{name} for x of shape {case.arrays['x'].shape} and VAE{case.dims}")


@grades("encoder.values")
def test_values(sub):
    """are mu = linear21(h) and logsigma = linear22(h), with h = ReLU(linear1(x)), for your weights?"""
    cases, result = _run(sub, "encoder.values")
    for case, out in zip(cases, result.outputs):
        w, x = case.arrays, case.arrays["x"]
        mu, logsigma = oracle.encoder(w, x)
        linear = (x @ w["w/linear1.weight"].T.astype(np.float64) + w["w/linear1.bias"])
        without_relu = (linear @ w["w/linear21.weight"].T + w["w/linear21.bias"],
                        linear @ w["w/linear22.weight"].T + w["w/linear22.bias"])
        mistakes_mu = [("Your mu is what linear22 gives: the heads are swapped (mu comes from linear21, "
                        "logsigma from linear22).", logsigma),
                       ("Your mu skips the ReLU after linear1.", without_relu[0])]
        mistakes_logsigma = [("Your logsigma is what linear21 gives: the heads are swapped (mu comes from "
                              "linear21, logsigma from linear22).", mu),
                             ("Your logsigma is exp(linear22(h)), the standard deviation; return its log, "
                              "linear22(h) itself.", np.exp(logsigma)),
                             ("Your logsigma skips the ReLU after linear1.", without_relu[1])]
        compare(out["mu"], mu, f"mu for VAE{case.dims}", mistakes_mu)
        compare(out["logsigma"], logsigma, f"logsigma for VAE{case.dims}", mistakes_logsigma)
