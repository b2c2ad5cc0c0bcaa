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
    consecutive rows (independence), then :func:`independent_rows` (repeated rows or values, correlations between
    rows at every lag). Rows that are all identical are reported as such first.
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
    return independent_rows(e, what)


#: Rows (up to sign) or values in a column that repeat are charged beyond these counts; chance gives far fewer.
REPEATED_ROWS = 3
REPEATED_VALUES_SHARE = 0.01


def independent_rows(e: np.ndarray, what: str) -> str | None:
    """Check that no row of ``e`` (shape (n, d), meant to be independent N(0, I) rows) depends on another.

    Three tests, each far beyond what chance gives: rows that repeat another row, exactly or negated (up to
    float32 round-off; for d >= 2 independent rows coincide with probability < 1e-15 per pair, and more than
    :data:`REPEATED_ROWS` are charged); values repeated exactly within a column (float32 draws collide about
    0.3 times per column of 4,000; more than :data:`REPEATED_VALUES_SHARE` of a column is charged); and the
    correlation between row i of column a and row i + k of column b, for every pair of columns and every
    lag k >= 1 leaving at least a quarter of the rows (:func:`_lagged_correlation`).
    Returns None, or the first problem found as a sentence about ``what``.
    """
    e = np.asarray(e, np.float64)
    n, d = e.shape
    repeated = _repeated_rows(e) if d >= 2 else 0
    if repeated > REPEATED_ROWS:
        return (f"the rows of {what} should be independent, but {repeated} of its {n} rows repeat another row "
                f"(exactly or negated): draw separate noise for every data point, do not reuse or mirror a draw")
    for column in range(d):
        values = np.unique(e[:, column], return_counts=True)[1]
        repeats = int((values[values > 1]).sum())
        if repeats > max(5, REPEATED_VALUES_SHARE * n):
            return (f"the rows of {what} should be independent, but {repeats} of the {n} values of column "
                    f"{column} repeat exactly: draw separate noise for every data point")
    found = _lagged_correlation(e)
    if found is not None:
        correlation, lag, a, b = found
        columns = f"column {a}" if a == b else f"column {a} and column {b}"
        return (f"the rows of {what} should be independent, but row i and row i + {lag} are correlated "
                f"({correlation:.2f}, {columns}): draw separate noise for every data point")
    return None


def _repeated_rows(e: np.ndarray, tolerance: float = 1e-5) -> int:
    """How many rows of ``e`` (n, d) equal another row, entry by entry or negated, within ``tolerance``
    (relative and absolute): neighbours in the order of |first column| are compared, three positions apart at
    most."""
    magnitude = np.abs(e)
    ordered = magnitude[np.argsort(magnitude[:, 0], kind="stable")]
    repeated = np.zeros(len(e), bool)
    for step in (1, 2, 3):
        same = np.all(np.isclose(ordered[step:], ordered[:-step], rtol=tolerance, atol=tolerance), axis=1)
        repeated[step:] |= same
    return int(repeated.sum())


def _lagged_correlation(e: np.ndarray):
    """The most significant correlation between column a at row i and column b at row i + k, over every pair of
    columns (a, b) and every lag 1 <= k <= n - max(n // 4, 2): ``(correlation, k, a, b)`` when it lies beyond
    the threshold, else None.

    Each lagged sum of products of standardised columns, divided by sqrt(n - k), is about N(0, 1) for
    independent rows; the threshold is ``SIGMAS`` standard errors widened for the number L of sums tested,
    sqrt(SIGMAS^2 + 2 ln L) (7.6 for 4,000 rows of 4 columns), so that all L together fail correct code no
    more often than one test at ``SIGMAS`` does (Bonferroni, with the normal tail).
    """
    n, d = e.shape
    last = n - max(n // 4, 2)
    if last < 1:
        return None
    s = (e - e.mean(0)) / np.where(e.std(0) > 0, e.std(0), 1.0)
    spectra = np.fft.rfft(s, 2 * n, axis=0)
    overlap = np.sqrt(n - np.arange(1, last + 1))
    threshold = np.sqrt(SIGMAS**2 + 2 * np.log(d * d * last))
    worst = None
    for a in range(d):
        for b in range(d):
            sums = np.fft.irfft(np.conj(spectra[:, a]) * spectra[:, b], 2 * n)[1:last + 1]
            score = np.abs(sums) / overlap
            k = int(np.argmax(score))
            if score[k] > threshold and (worst is None or score[k] > worst[0]):
                worst = (score[k], float(sums[k] / (n - 1 - k)), k + 1, a, b)
    return None if worst is None else worst[1:]


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


def same_mean(draws: np.ndarray, reference: np.ndarray, round_off=1e-6) -> bool:
    """True when the means of ``draws`` (k, ...) and ``reference`` (m, ...) agree along axis 0 within
    ``SIGMAS`` standard errors of their difference (estimated from both samples' variances), plus ``round_off``
    (a number, or an array broadcast against the means) for float32 round-off."""
    draws, reference = np.asarray(draws, np.float64), np.asarray(reference, np.float64)
    error = np.sqrt(draws.var(0) / len(draws) + reference.var(0) / len(reference))
    return bool(np.all(np.abs(draws.mean(0) - reference.mean(0)) <= SIGMAS * error + round_off))


def same_mean_paired(draws: np.ndarray, reference: np.ndarray, round_off=1e-6) -> bool:
    """True when ``draws`` and ``reference`` (both (k, ...), row i of each made from the same seed) have the same
    mean along axis 0: the mean of their differences lies within ``SIGMAS`` standard errors of 0 (estimated from
    the differences, which are independent across rows whatever the pairing does), plus ``round_off`` (a number,
    or an array broadcast against the means). Draws that share their noise with the reference's differ by
    little, so the test is as sharp as that sharing makes it; unshared draws make it an ordinary two-sample test."""
    differences = np.asarray(draws, np.float64) - np.asarray(reference, np.float64)
    error = differences.std(0, ddof=1) / np.sqrt(len(differences))
    return bool(np.all(np.abs(differences.mean(0)) <= SIGMAS * error + round_off))
