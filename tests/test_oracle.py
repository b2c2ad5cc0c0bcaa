"""The grader's own formulas, the reference pieces used in the children, the statistics, the rules."""
import ast
import importlib.util

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT

from autograder.assignments.vae import oracle, spec
from autograder.grading import stats
from autograder.notebook.submission import find_violations

_found = importlib.util.spec_from_file_location("reference", ROOT / "autograder" / "assignments" / "vae" / "reference.py")
reference = importlib.util.module_from_spec(_found)
_found.loader.exec_module(reference)


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    dims = (20, 3, 6)
    weights = oracle.random_weights(dims, rng, scale=2.0)
    vae = torch.nn.Module()
    for layer in oracle.LAYERS:
        w = torch.tensor(weights[f"w/{layer}.weight"], dtype=torch.float64)
        linear = torch.nn.Linear(w.shape[1], w.shape[0]).double()
        linear.weight.data, linear.bias.data = w, torch.tensor(weights[f"w/{layer}.bias"], dtype=torch.float64)
        setattr(vae, layer, linear)
    x = oracle.mnist_like(rng, 5, dims[0]).astype(np.float64)
    eps = rng.standard_normal((5, dims[1]))
    return weights, vae, x, eps


def test_kl_matches_torch_distributions():
    """Does the closed-form KL equal torch.distributions' KL summed over latent dimensions?"""
    rng = np.random.default_rng(1)
    mu, logsigma = rng.normal(size=(4, 7)), rng.uniform(-3, 2, size=(4, 7))
    q = torch.distributions.Normal(torch.tensor(mu), torch.tensor(logsigma).exp())
    p = torch.distributions.Normal(torch.zeros(4, 7, dtype=torch.float64), 1.0)
    expected = torch.distributions.kl_divergence(q, p).sum(-1).numpy()
    assert np.allclose(oracle.kl_divergence(mu, logsigma), expected, rtol=1e-12)


def test_log_bernoulli_is_minus_the_binary_cross_entropy():
    """Is log p(x|theta) from the logits equal to -BCE(sigmoid(logits), x) summed over pixels?"""
    rng = np.random.default_rng(2)
    logits, x = rng.normal(0, 3, (3, 50)), oracle.mnist_like(rng, 3, 50).astype(np.float64)
    bce = F.binary_cross_entropy(torch.sigmoid(torch.tensor(logits)), torch.tensor(x), reduction="none")
    assert np.allclose(oracle.log_bernoulli(x, logits), -bce.sum(-1).numpy(), rtol=1e-10)


def test_reference_pieces_match_the_oracle(model):
    """Do the torch pieces put around the method under test compute the oracle's values?"""
    weights, vae, x, eps = model
    xt, epst = torch.tensor(x), torch.tensor(eps)
    mu, logsigma = reference.encoder(vae, xt)
    assert np.allclose(mu.detach(), oracle.encoder(weights, x)[0]) and np.allclose(logsigma.detach(), oracle.encoder(weights, x)[1])
    z = reference.reparameterize(mu, logsigma, epst)
    assert np.allclose(reference.decoder(vae, z).detach(), oracle.decoder(weights, z.detach().numpy()))
    assert np.allclose(reference.kl_divergence(mu, logsigma).detach(), oracle.kl_divergence(mu.detach(), logsigma.detach()))
    assert np.allclose(reference.elbo(vae, xt, epst).detach(), oracle.elbo(weights, x, eps), rtol=1e-10)


def test_standard_normal_check_tells_right_from_wrong():
    """Does the N(0, I) check pass normal draws and name uniform, shared-row and shared-dimension noise?"""
    rng = np.random.default_rng(3)
    assert stats.standard_normal(rng.standard_normal((4000, 4)), "e") is None
    assert "mean 0" in stats.standard_normal(rng.random((4000, 4)), "e")
    assert "normally distributed" in stats.standard_normal(rng.uniform(-np.sqrt(3), np.sqrt(3), (4000, 4)), "e")
    shared_dims = np.repeat(rng.standard_normal((4000, 1)), 4, axis=1)
    assert "latent dimensions" in stats.standard_normal(shared_dims, "e")
    pairs = np.repeat(rng.standard_normal((2000, 4)), 2, axis=0)
    assert "rows" in stats.standard_normal(pairs, "e")


def test_standard_normal_check_sees_rows_that_depend_on_other_rows():
    """Does the N(0, I) check fail rows that repeat, mirror or shift other rows (anywhere in the batch, not only
    the next row), and values repeated in a column, while passing 50 seeds of independent float32 draws?"""
    rng = np.random.default_rng(5)
    for seed in range(50):
        draws = np.random.default_rng(seed).standard_normal((4000, 4)).astype(np.float32)
        assert stats.standard_normal(draws.astype(np.float64), "e") is None
    half = rng.standard_normal((2000, 4))
    assert "repeat another row" in stats.standard_normal(np.concatenate([half, half]), "e")
    assert "negated" in stats.standard_normal(np.concatenate([half, -half[::-1]]), "e")
    window = np.lib.stride_tricks.sliding_window_view(rng.standard_normal(4003), 4)
    assert "row i + " in stats.standard_normal(window, "e")
    shifted = np.concatenate([half, 0.6 * half + 0.8 * rng.standard_normal((2000, 4))])
    assert "row i + 2000 are correlated" in stats.standard_normal(shifted, "e")
    column = np.concatenate([half, np.concatenate([half[:, :1], rng.standard_normal((2000, 3))], 1)])
    assert "values of column 0 repeat" in stats.standard_normal(column, "e")


def test_bernoulli_check_tells_draws_from_rounding():
    """Does the Bernoulli check pass draws from theta and fail theta rounded at 0.5 or coin flips?"""
    rng = np.random.default_rng(4)
    theta = rng.random((2000, 30))
    assert stats.bernoulli(rng.random(theta.shape) < theta, theta) is None
    assert stats.bernoulli(theta > 0.5, theta) is not None
    assert stats.bernoulli(rng.random(theta.shape) < 0.5, theta) is not None


def _violations(source, extra=""):
    trees = [ast.parse(extra), ast.parse(source)]
    return find_violations(trees, trees[1], spec.ALLOWED_IMPORTS, spec.METHODS, forbidden=spec.FORBIDDEN_MODULES)


def test_rules_follow_helpers_but_not_other_graded_methods():
    """Is torch.distributions charged to the method that reaches it through a helper, and only there?"""
    source = '''
def helper(mu, s):
    return torch.distributions.Normal(mu, s)

class VAE:
    def kl_divergence(self, mu, logsigma):
        return self._kl(mu, logsigma)
    def _kl(self, mu, logsigma):
        return helper(mu, logsigma.exp())
    def elbo(self, x):
        return self.kl_divergence(x, x)
'''
    assert list(_violations(source)) == ["kl_divergence"]


def test_added_imports_are_found_wherever_they_are():
    """Are an added import in another cell, an aliased from-import and an import inside a method caught?"""
    source = '''
from torch.distributions import Normal as N
class VAE:
    def encoder(self, x):
        return math.sqrt(x)
    def decoder(self, z):
        return N(z, 1)
    def sample(self, n):
        import random
        return random.random()
    def elbo(self, x):
        return getattr(torch, "distributions")
'''
    found = _violations(source, extra="import math\nimport numpy as np\nimport torch.nn.functional as F\n")
    assert set(found) == {"encoder", "decoder", "sample", "elbo"}
    assert "import math" in found["encoder"][0] and "torch.distributions" in " ".join(found["elbo"])
