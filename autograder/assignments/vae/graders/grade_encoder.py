"""Task 1, encoder: (mu, logsigma) = linear21/linear22 of ReLU(linear1(x))."""
import numpy as np

from autograder.assignments.vae import oracle
from autograder.grading.grading import check_array, compare, grades



@grades("encoder.shapes")
def test_shapes(sub):
    """are mu and logsigma float tensors of shape (batch, latent_dim)?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for name in ("mu", "logsigma"):
            check_array(out[name], (len(case.arrays["x"]), case.dims[1]),
                        f"{name} for x of shape {case.arrays['x'].shape} and VAE{case.dims}")


def _mistakes(w, x):
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


@grades("encoder.values")
def test_values(sub):
    """are mu = linear21(h) and logsigma = linear22(h), with h = ReLU(linear1(x)), for your weights?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        w, x = case.arrays, case.arrays["x"]
        mu, logsigma = oracle.encoder(w, x)
        mistakes_mu, mistakes_logsigma = _mistakes(w, x)
        compare(out["mu"], mu, f"mu for VAE{case.dims}", mistakes_mu)
        compare(out["logsigma"], logsigma, f"logsigma for VAE{case.dims}", mistakes_logsigma)
