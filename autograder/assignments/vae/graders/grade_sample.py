"""Task 6, sample: z ~ N(0, I), theta = decoder(z), x ~ Bernoulli(theta), values in {0, 1}.

The submission's decoder is replaced by the reference one in the child, so a wrong decoder cannot cost
``sample`` points; hooks on linear3 and linear4 record the decoder's input z and output logits.
"""
import numpy as np

from autograder.assignments.vae import cases as C
from autograder.assignments.vae import oracle
from autograder.grading import stats
from autograder.grading.grading import check_array, fail, grades


def _run(sub, key):
    prior = sub.case("prior", key=key)
    return prior.case, prior.outputs


@grades("sample.shapes")
def test_shapes(sub):
    """is the output of sample(num_samples) of shape (num_samples, obs_dim)?"""
    case, out = _run(sub, "sample.shapes")
    check_array(out["x"], (C.SAMPLE_COUNT, case.dims[0]), f"sample({C.SAMPLE_COUNT})", floating=False)


@grades("sample.prior")
def test_prior(sub):
    """is the decoder's input z drawn from the prior N(0, I), of shape (num_samples, latent_dim)?"""
    case, out = _run(sub, "sample.prior")
    if "z" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer linear3)")
    check_array(out["z"], (C.SAMPLE_COUNT, case.dims[1]), "the z that sample passes to the decoder")
    z = out["z"]
    problem = stats.standard_normal(z, "the z that sample passes to the decoder")
    if problem:
        hint = ""
        if z.min() >= 0 and z.max() <= 1:
            hint = "\n  Your z lies in [0, 1]: it is uniform (torch.rand), not drawn from the prior N(0, I)."
        fail(problem + ": draw z from the prior with torch.randn(num_samples, latent_dim)" + hint)
    draws = [found.outputs.get("z") for found in sub.both_rounds("prior")]
    if len(draws) == 2 and all(d is not None for d in draws) and draws[0].shape == draws[1].shape \
            and np.mean(draws[0] == draws[1]) > 0.5:
        fail("two calls of sample drew the same z: draw fresh noise on every call (do not reseed the random "
             "generator inside the method)")


@grades("sample.bernoulli")
def test_bernoulli(sub):
    """are the samples Bernoulli draws in {0, 1} with probabilities theta = decoder(z)?"""
    case, out = _run(sub, "sample.bernoulli")
    x = out["x"]
    check_array(x, (C.SAMPLE_COUNT, case.dims[0]), f"sample({C.SAMPLE_COUNT})", floating=False)
    if "logits" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer linear4)")
    theta = oracle.sigmoid(out["logits"].astype(np.float64))
    if not np.all(np.isin(x, (0, 1))):
        hint = ""
        if theta.shape == x.shape and np.allclose(x, theta, atol=1e-5):
            hint = " Yours are the probabilities theta themselves: draw from them with torch.bernoulli(theta)."
        fail(f"samples should be 0 or 1, but values range over [{x.min():.3g}, {x.max():.3g}]." + hint)
    if theta.shape != x.shape:
        fail(f"the decoder output has shape {theta.shape}, the samples {x.shape}")
    problem = stats.bernoulli(x, theta)
    if problem:
        if np.array_equal(x, theta > 0.5):
            problem = problem.split(". Your draws are")[0] + (". Yours are theta rounded at 0.5: draw from theta "
                                                               "with torch.bernoulli(theta)")
        fail(problem)
