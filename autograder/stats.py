"""Statistical checks of random draws, each a z-test at a fixed number of standard errors.

Each function returns None when the draws pass, or a sentence saying what is off. With ``SIGMAS = 6``
a correct implementation fails a single check with probability about 2e-9; the measured false-failure
rate over many seeds is printed by ``scripts/false_failures.py``.
"""
from __future__ import annotations

import numpy as np

SIGMAS = 6.0
#: P(|e| < 1) for e ~ N(0, 1).
P_WITHIN_ONE = 0.6826894921370859


def standard_normal(e: np.ndarray, what: str) -> str | None:
    """Check that the rows of ``e`` (shape (n, d)) are independent N(0, I) draws.

    Tests, per column, the mean (0) and the standard deviation (1); over all entries, the fraction
    within one standard deviation (normality); and the correlation between columns and between
    consecutive rows (independence).
    """
    e = np.asarray(e, np.float64)
    n, d = e.shape
    mean, std = e.mean(0), e.std(0)
    if np.any(np.abs(mean) > SIGMAS / np.sqrt(n)):
        return f"{what} should have mean 0, but the column means are {np.round(mean, 3).tolist()}"
    if np.any(np.abs(std - 1) > SIGMAS / np.sqrt(2 * n)):
        return f"{what} should have standard deviation 1, but the column std's are {np.round(std, 3).tolist()}"
    within = np.mean(np.abs(e) < 1)
    if abs(within - P_WITHIN_ONE) > SIGMAS * np.sqrt(P_WITHIN_ONE * (1 - P_WITHIN_ONE) / e.size):
        return (f"{what} should be normally distributed: {within:.1%} of values lie within one standard "
                f"deviation of the mean, where a normal distribution has {P_WITHIN_ONE:.1%}")
    if d > 1:
        corr = np.corrcoef(e, rowvar=False)[~np.eye(d, dtype=bool)]
        if np.any(np.abs(corr) > SIGMAS / np.sqrt(n)):
            return (f"the latent dimensions of {what} should be independent, but are correlated "
                    f"(correlation up to {np.abs(corr).max():.2f}): draw separate noise for every entry")
    rows = np.corrcoef(e[:-1].ravel(), e[1:].ravel())[0, 1]
    if abs(rows) > SIGMAS / np.sqrt(e[:-1].size):
        return (f"the rows of {what} should be independent, but consecutive rows are correlated "
                f"({rows:.2f}): draw separate noise for every data point")
    return None


def bernoulli(x: np.ndarray, theta: np.ndarray, bins: int = 5) -> str | None:
    """Check that ``x`` (values in {0, 1}) was drawn from Bernoulli(``theta``), entry by entry.

    Within each of ``bins`` equal-width bins of theta, the count of ones must match the sum of theta
    within ``SIGMAS`` binomial standard errors.
    """
    x, theta = np.asarray(x, np.float64).ravel(), np.asarray(theta, np.float64).ravel()
    edges = np.linspace(0, 1, bins + 1)
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (theta >= low) & (theta < high) if high < 1 else (theta >= low)
        if inside.sum() < 50:
            continue
        expected, variance = theta[inside].sum(), (theta[inside] * (1 - theta[inside])).sum()
        ones = x[inside].sum()
        if abs(ones - expected) > SIGMAS * np.sqrt(variance) + 1:
            return (f"where the decoder gives theta in [{low:.1f}, {high:.1f}), {ones / inside.sum():.1%} of the "
                    f"pixels are 1, but Bernoulli(theta) draws would give {expected / inside.sum():.1%}")
    return None


def same_mean(draws: np.ndarray, reference: np.ndarray) -> bool:
    """True when the means of ``draws`` (k, ...) and ``reference`` (m, ...) agree along axis 0 within
    ``SIGMAS`` standard errors of their difference."""
    draws, reference = np.asarray(draws, np.float64), np.asarray(reference, np.float64)
    error = np.sqrt(draws.var(0) / len(draws) + reference.var(0) / len(reference))
    return bool(np.all(np.abs(draws.mean(0) - reference.mean(0)) <= SIGMAS * error + 1e-6))
