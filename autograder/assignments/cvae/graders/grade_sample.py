"""Task 9, ConditionalVAE.sample(c): one fresh z ~ N(0, I) per label, decoded with the label (p(z | c) = N(0, I))."""
import numpy as np

from autograder.assignments.cvae import cases as C
from autograder.grading import stats
from autograder.grading.grading import check_array, compare, fail, grades


def _found(sub, key):
    found = sub.case("labels", key=key)
    return found.case.arrays["c"], found.outputs


@grades("sample.shapes")
def test_shapes(sub):
    """is sample(c) a float tensor of shape (len(c), 1, 28, 28) with values in (0, 1)?"""
    c, out = _found(sub, "sample.shapes")
    check_array(out["theta"], (len(c), 1, 28, 28), f"sample(c) for {len(c)} labels")
    if out["theta"].min() < 0 or out["theta"].max() > 1:
        fail("sample should return the decoder's pixel probabilities, in (0, 1)")


def _decoder_input(c, out):
    if "decoder_input" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer fc_dec)")
    found = out["decoder_input"]
    check_array(found, (len(c), 12), "the decoder's input (z and the label's one-hot vector)")
    return found[:, :2], found[:, 2:]


@grades("sample.prior")
def test_prior(sub):
    """are the codes z drawn from the prior N(0, I), one fresh draw per label?"""
    c, out = _found(sub, "sample.prior")
    z, _ = _decoder_input(c, out)
    problem = stats.standard_normal(z.astype(np.float64), "the z that sample decodes")
    if problem:
        fail(problem + ": draw z with torch.randn(len(c), latent_dim), the prior p(z | c) = N(0, I)" + _kind_of(z))
    draws = [found.outputs.get("decoder_input") for found in sub.both_rounds("labels")]
    if len(draws) == 2 and all(d is not None and d.shape == (len(c), 12) for d in draws) \
            and np.mean(draws[0][:, :2] == draws[1][:, :2]) > 0.5:
        fail("two calls of sample drew the same z: draw fresh noise on every call (do not reseed the random "
             "generator inside the method)")


def _kind_of(z) -> str:
    """What a z that is not N(0, I) looks like, when it fits a common mistake ("" otherwise)."""
    if np.all(np.isin(z, (0.0, 1.0))):
        return ". Your z takes only the values 0 and 1 (a Bernoulli or rounded draw), not a normal one."
    if z.min() >= 0 and z.max() <= 1:
        return ". Your z lies in [0, 1]: it is uniform (torch.rand), not normal (torch.randn)."
    return ""


@grades("sample.labels")
def test_labels(sub):
    """is each code decoded with its own label, in the order of c?"""
    c, out = _found(sub, "sample.labels")
    _, one_hot = _decoder_input(c, out)
    if not np.array_equal(one_hot, np.eye(10, dtype=one_hot.dtype)[c]):
        fail(f"the decoder was given other labels than c: row i should decode z_i with label c[i] "
             f"(checked on {C.SAMPLE_COUNT} labels)")


@grades("sample.returned")
def test_returned(sub):
    """does sample return, row by row, the images the decoder made of the codes and labels it was given?"""
    c, out = _found(sub, "sample.returned")
    if "decoder_input" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer fc_dec)")
    check_array(out["theta"], (len(c), 1, 28, 28), f"sample(c) for {len(c)} labels")
    check_array(out["decoder_input"], (len(c), 12), "the decoder's input (z and the label's one-hot vector)")
    found = sub.case("labels")
    expected = sub.trusted("decode_sample", C.decoding(found.case, out["decoder_input"])).case("labels").outputs
    compare(out["theta"], expected["expected/theta"], "what sample returned (compared with the reference decoder's "
            "images of the z and labels it decoded, row by row)", rtol=1e-4, atol=1e-5)
