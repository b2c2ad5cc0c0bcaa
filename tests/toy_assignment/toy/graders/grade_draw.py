"""draw: z = mu + exp(logsigma) * eps, eps ~ N(0, I), fresh on every call (Kingma & Welling 2014, eq. 10)."""
import numpy as np

from autograder.grading import stats
from autograder.grading.grading import check_array, fail, grades


@grades("draw.shapes")
def test_shapes(sub):
    """is z a float array of the shape of mu?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for key in ("z0", "z1"):
            check_array(out[key], case.arrays["mu"].shape, "z")


@grades("draw.statistics")
def test_statistics(sub):
    """is (z - mu) / exp(logsigma) standard normal, independent across rows and calls?"""
    found = sub.case("statistics")
    mu = found.case.arrays["mu"].astype(np.float64)
    sigma = np.exp(found.case.arrays["logsigma"].astype(np.float64))
    z = np.concatenate([found.outputs["z0"], found.outputs["z1"]]).astype(np.float64)
    problem = stats.standard_normal((z - np.concatenate([mu, mu])) / np.concatenate([sigma, sigma]),
                                    "(z - mu) / exp(logsigma)")
    if problem:
        fail(f"{problem}. z should be mu + exp(logsigma) * eps, with fresh eps ~ N(0, I) on every call.")
