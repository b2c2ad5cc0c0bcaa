"""The trusted side's checks on their own, without child processes: compare and the statistical tests."""
import numpy as np
import pytest

from autograder.assignments.vae import cases, oracle
from autograder.grading import stats
from autograder.grading.grading import GradingFailure, compare


def test_compare_reports_a_shape_mismatch_and_names_the_mistake():
    """Does comparing a (batch, latent) array with a (batch,) one say both shapes, and name the mistake?"""
    terms = np.arange(12.0).reshape(4, 3)
    with pytest.raises(GradingFailure) as failure:
        compare(terms, terms.sum(-1), "the KL", [("You did not sum.", terms)])
    assert "should have shape (4,), but has shape (4, 3)" in str(failure.value)
    assert "You did not sum." in str(failure.value)


def test_compare_says_expected_and_got():
    """Does a wrong value come back with what was expected and what was got, at the worst entry?"""
    with pytest.raises(GradingFailure, match=r"at \[1\]: expected 2, got 5"):
        compare(np.array([1.0, 5.0]), np.array([1.0, 2.0]), "the ELBO")
    compare(np.array([1.0, 2.0 + 1e-6]), np.array([1.0, 2.0]), "the ELBO")  # float32 round-off passes


def _bernoulli_case(seed):
    """theta from the sample probe's decoder weights and prior draws, as sample.bernoulli sees it."""
    rng = np.random.default_rng(seed)
    weights = cases.sample()[0].arrays
    theta = oracle.decoder(weights, rng.standard_normal((cases.SAMPLE_COUNT, 4)))
    return rng, theta


def test_bernoulli_passes_independent_draws():
    """Do independent Bernoulli(theta) draws pass, seed after seed?"""
    for seed in range(20):
        rng, theta = _bernoulli_case(seed)
        assert stats.bernoulli((rng.random(theta.shape) < theta).astype(float), theta) is None


def test_bernoulli_catches_noise_shared_across_pixels_or_samples():
    """Is one uniform per sample (shared by its pixels), or per pixel (shared by all samples), caught?"""
    rng, theta = _bernoulli_case(0)
    per_sample = (rng.random((len(theta), 1)) < theta).astype(float)
    per_pixel = (rng.random((1, theta.shape[1])) < theta).astype(float)
    assert "shared by all its pixels" in stats.bernoulli(per_sample, theta)
    assert "shared by every sample" in stats.bernoulli(per_pixel, theta)
    assert "fixed threshold" in stats.bernoulli((theta > 0.3).astype(float), theta)
    wrong = stats.bernoulli((rng.random(theta.shape) < theta**2).astype(float), theta)
    assert "pixels are 1" in wrong and "shared" not in wrong


def test_standard_normal_reports_identical_rows_and_correlated_columns():
    """Are rows that repeat one draw, and columns that share one draw, reported as such?"""
    rng = np.random.default_rng(0)
    assert "rows of z are the same" in stats.standard_normal(np.tile(rng.standard_normal(4), (1000, 1)), "z")
    assert "latent dimensions" in stats.standard_normal(np.tile(rng.standard_normal((1000, 1)), (1, 4)), "z")
    assert stats.standard_normal(rng.standard_normal((1000, 4)), "z") is None


def test_bernoulli_catches_correlation_that_the_marginals_miss():
    """Are samples drawn in identical pairs caught, though each one alone is a fair Bernoulli draw?"""
    rng, theta = _bernoulli_case(1)
    theta = np.repeat(theta[::2], 2, axis=0)
    x = np.repeat((rng.random(theta[::2].shape) < theta[::2]).astype(float), 2, axis=0)
    assert "consecutive samples are correlated" in stats.bernoulli(x, theta)
