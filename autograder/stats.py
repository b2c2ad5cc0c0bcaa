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
    consecutive rows (independence). Rows that are all identical are reported as such first.
    Returns None, or the first problem found as a sentence about ``what``.
    """
    e = np.asarray(e, np.float64)
    n, d = e.shape
    if n > 1 and np.all(e[1:] == e[:1]):
        return f"all {n} rows of {what} are the same"
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
    """Check that ``x`` (values in {0, 1}) was drawn from Bernoulli(``theta``), entry by entry, independently.

    ``x`` and ``theta`` have the same shape (n, d): n samples of d pixels. Within each of ``bins``
    equal-width bins of theta, the count of ones must match the sum of theta within ``SIGMAS`` binomial
    standard errors (the marginals); then the residuals x - theta must be uncorrelated between consecutive
    samples and between neighbouring pixels (see :func:`_residual_correlation`). Returns None, or a
    sentence; when the draws are thresholds of theta with shared noise, the sentence says so.
    """
    x, theta = np.asarray(x, np.float64), np.asarray(theta, np.float64)
    problem = _bernoulli_marginals(x.ravel(), theta.ravel(), bins)
    if problem is None and x.ndim == 2 and x.shape[0] > 1:
        correlation = _residual_correlation(x[:-1], x[1:], theta[:-1], theta[1:])
        if correlation is not None:
            problem = (f"the samples should be drawn independently, but consecutive samples are correlated "
                       f"({correlation:.2f}) pixel by pixel")
    if problem is None and x.ndim == 2 and x.shape[1] > 1:
        correlation = _residual_correlation(x[:, :-1], x[:, 1:], theta[:, :-1], theta[:, 1:])
        if correlation is not None:
            problem = (f"the pixels of a sample should be drawn independently, but neighbouring pixels are "
                       f"correlated ({correlation:.2f})")
    if problem is None or x.ndim != 2:
        return problem
    if _thresholds(x.reshape(-1, 1), theta.reshape(-1, 1), min_lines=1):
        problem += (". Your draws are a fixed threshold of theta (every 1 has a larger theta than every 0), not "
                    "random draws: sample with torch.bernoulli(theta)")
    elif _thresholds(x, theta, min_lines=5):
        problem += (". For every pixel, your draws over all samples are a threshold of theta: one uniform noise "
                    "value per pixel is shared by every sample; draw fresh noise for every sample and pixel, "
                    "e.g. torch.bernoulli(theta)")
    elif _thresholds(x.T, theta.T, min_lines=100):
        problem += (". For every sample, your draws are a threshold of theta: one uniform noise value is shared "
                    "by all its pixels; draw fresh noise for every pixel, e.g. torch.bernoulli(theta)")
    return problem


def _bernoulli_marginals(x, theta, bins):
    """The binned count test of :func:`bernoulli` on flat arrays; None or a sentence."""
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


def _thresholds(x, theta, min_lines) -> bool:
    """True when, in each of at least ``min_lines`` columns of ``x`` holding both 0s and 1s, every 1 has a
    larger theta than every 0: the signature of x = (u < theta) with one u per column. Independent
    Bernoulli draws over thousands of rows of spread-out theta (almost) never line up like that."""
    mixed = [j for j in range(x.shape[1]) if 0 < x[:, j].sum() < len(x)]
    if len(mixed) < min_lines:
        return False
    return all(theta[x[:, j] == 0, j].max() <= theta[x[:, j] == 1, j].min() for j in mixed)


def _residual_correlation(x1, x2, theta1, theta2) -> float | None:
    """The correlation of the residuals x - theta of paired draws, when it is significant, else None.

    For independent x1 ~ Bernoulli(theta1) and x2 ~ Bernoulli(theta2), the products
    (x1 - theta1)(x2 - theta2) have mean 0 and variance theta1(1 - theta1) theta2(1 - theta2), and
    different pairs' products are uncorrelated, so their sum has standard error
    sqrt(sum theta1(1 - theta1) theta2(1 - theta2)); the sum fails beyond ``SIGMAS`` of them.
    """
    r1, r2 = x1 - theta1, x2 - theta2
    total = np.sum(r1 * r2)
    error = np.sqrt(np.sum(theta1 * (1 - theta1) * theta2 * (1 - theta2)))
    if abs(total) <= SIGMAS * error + 1e-9:
        return None
    return float(total / np.sqrt(np.sum(r1**2) * np.sum(r2**2)))


def same_mean(draws: np.ndarray, reference: np.ndarray) -> bool:
    """True when the means of ``draws`` (k, ...) and ``reference`` (m, ...) agree along axis 0 within
    ``SIGMAS`` standard errors of their difference (estimated from both samples' variances), plus 1e-6
    for float32 round-off."""
    draws, reference = np.asarray(draws, np.float64), np.asarray(reference, np.float64)
    error = np.sqrt(draws.var(0) / len(draws) + reference.var(0) / len(reference))
    return bool(np.all(np.abs(draws.mean(0) - reference.mean(0)) <= SIGMAS * error + 1e-6))
