"""Check your VAE's methods in the notebook, as the grader checks them: ``check("encoder", VAE)``.

A check runs the grader's visible tests of one method in your own kernel (CPU or CUDA, no sandbox, no network)
and prints, for each, what the grader prints: a mark, the test's name and, when it fails, the grader's own
message. Its inputs and the values it expects are data, ``checks_<assignment>.npz`` beside this file (outputs of
the course's reference at fixed inputs and weights, other than those the grader uses); no reference code is in
here. The grader also runs the rules on your code, runs your methods on inputs of its own and, in Parts 2 and 3,
trains your model: a passed check is not yet a grade.

This file is the kit's: the grader runs the same comparators, statistical tests, messages and judges
(``autograder/sandbox/vae_check.py``, which ``student_template/vae_check.py`` links to). It needs numpy and torch
only, and imports torch only when a check runs.
"""
from __future__ import annotations

import builtins
import json
import sys
import traceback
from pathlib import Path

import numpy as np

# --- failures and comparators (the grader's: autograder.grading imports them from here) -----------------------


class CheckFailure(AssertionError):
    """A test failed; ``str(exc)`` is the message the student sees (the grader's ``GradingFailure``)."""


def fail(message: str):
    """Fail the current test with ``message``, the text the student sees (raises CheckFailure)."""
    raise CheckFailure(message)


def max_difference(expected, got) -> str:
    """Where and how much two arrays of the same shape differ, for a message."""
    expected, got = np.asarray(expected, np.float64), np.asarray(got, np.float64)
    with np.errstate(invalid="ignore"):
        diff = np.abs(expected - got)
    diff = np.where(np.isnan(diff), np.inf, diff)
    index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    where = f" at {list(map(int, index))}" if index else ""
    return (f"max |difference| {float(diff[index]):.4g}{where}: expected {float(expected[index]):.6g}, "
            f"got {float(got[index]):.6g}")


def close(expected, got, rtol: float = 1e-4, atol: float = 1e-4) -> bool:
    """True when ``got`` has the shape of ``expected`` and equals it within float32 round-off."""
    got = np.asarray(got)
    return got.shape == np.shape(expected) and bool(np.allclose(got, expected, rtol=rtol, atol=atol))


def check_array(array: np.ndarray, shape: tuple, what: str, floating: bool = True) -> None:
    """Fail unless ``array`` has ``shape`` (and a float dtype when ``floating``) and, if float, finite values."""
    if array.shape != tuple(shape):
        fail(f"{what} should have shape {tuple(shape)}, but has shape {array.shape}")
    if floating and array.dtype.kind != "f":
        fail(f"{what} should be a float tensor, but has dtype {array.dtype}")
    if floating and not np.all(np.isfinite(array)):
        fail(f"{what} contains NaN or infinite values")


def compare(got: np.ndarray, expected: np.ndarray, what: str, mistakes=(), rtol: float = 1e-4,
            atol: float = 1e-4) -> None:
    """Fail unless ``got`` equals ``expected``; name a known mistake when ``got`` matches one.

    Parameters
    ----------
    got, expected : array-like
        What the submission returned and what it should have; any shapes (a shape mismatch fails with
        both shapes in the message).
    what : str
        What is compared, for the message ("the KL for VAE(13, 3, 7)").
    mistakes : iterable of (str, array)
        What a known mistake would have returned, with the sentence that explains it; the first candidate
        that ``got`` matches within the same tolerances is named; candidates may have any shape.
    rtol, atol : float
        Tolerances of ``np.allclose``; callers choose them from float32 round-off of the computation.

    Raises
    ------
    CheckFailure
        With what was expected, what was got (at the entry that differs most) and the named mistake.
    """
    got = np.asarray(got)
    if got.shape != np.shape(expected):
        message = f"{what} should have shape {np.shape(expected)}, but has shape {got.shape}."
    elif close(expected, got, rtol, atol):
        return
    else:
        message = f"{what} is not what it should be: {max_difference(expected, got)}."
    for explanation, candidate in mistakes:
        if close(candidate, got, rtol, atol):
            message += f"\n  {explanation}"
            break
    fail(message)


#: What a failure in the second round of a method's calls starts with.
SECOND_CALL = ("On a second call (the grader calls each method again, in the same process after the first round of "
               "tests, with another random seed{inputs}): ")


def second_call(message: str, other_inputs: bool) -> str:
    """``message`` of a test that failed on the second round of calls, as the student reads it."""
    return SECOND_CALL.format(inputs=", and other inputs" if other_inputs else "") + message[:1].lower() + message[1:]


def breaks_rules(method: str, broken) -> str:
    """The message of a method whose code breaks the rules (``broken``: what it does, each a phrase)."""
    return f"{method} " + "; it also ".join(broken) + ". This costs all of its points."


# --- statistical tests of random draws (the grader's: autograder.grading.stats) ---------------------------------

# Statistical checks of random draws, each a z-test at a fixed number of standard errors.
# 
# Each function returns None when the draws pass, or a sentence saying what is off. With ``SIGMAS = 6``
# a correct implementation fails a single check with probability about 2e-9; the measured false-failure
# rate over many seeds is printed by ``scripts/false_failures.py``.
# 

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


# --- running student code: its errors, its outputs (the sandbox's children run the same) ---------------------


class StudentError(Exception):
    """Student code raised, or returned something that is not what the docstring promises."""

    def __init__(self, where, message, exc=None):
        super().__init__(message)
        self.where, self.message, self.exc = where, message, exc

    def report(self, filename):
        """JSON for the trusted process: where it happened, what, and the student's own frames (those of code
        compiled from ``filename``; a callable ``filename(name) -> bool`` picks them in a notebook's kernel)."""
        frames = []
        if self.exc is not None:
            mine = filename if callable(filename) else filename.__eq__
            frames = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
                      for f in traceback.extract_tb(self.exc.__traceback__) if mine(f.filename)]
        return {"where": self.where, "message": self.message, "frames": frames[-5:],
                "error": type(self.exc).__name__ if self.exc is not None else None}


def call(where, fn, *args):
    """Call student code; any exception, SystemExit included, becomes a StudentError naming ``where``."""
    try:
        return fn(*args)
    except BaseException as exc:  # noqa: B036 - a submission may raise SystemExit or KeyboardInterrupt
        raise StudentError(where, str(exc).strip()[:2000], exc) from None


def method(vae, name):
    """The bound method ``vae.name``; a StudentError when the VAE has none."""
    found = getattr(vae, name, None)
    if not callable(found):
        raise StudentError(name, f"your VAE has no method {name}(...); the notebook's VAE class defines it")
    return found


def to_array(value, where, name):
    """Raw ndarray of a returned tensor; anything that is not a torch.Tensor is a StudentError."""
    import torch

    if not isinstance(value, torch.Tensor):
        raise StudentError(where, f"{name} should be a torch.Tensor, but {where} returned "
                                  f"{type(value).__name__}")
    value = torch.Tensor.detach(value).cpu()
    if value.dtype not in (torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.bool):
        raise StudentError(where, f"{name} has dtype {value.dtype}; a float32 tensor is expected")
    return np.array(value.numpy())


def pair(value, where, names):
    """Split a returned (a, b) tuple into two arrays."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        got = type(value).__name__ + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        raise StudentError(where, f"{where} should return a tuple ({', '.join(names)}), but returned {got}")
    return {name: to_array(v, where, name) for name, v in zip(names, value)}


class Instances:
    """Makes the second round of a probe's cases meet the first round's models: while case ``i`` of round 2 runs,
    building the submission's class ``klass`` (as the probes do, ``klass(...)`` or ``klass.__new__(klass)``)
    returns, in order, the instances that case ``i`` of round 1 built, without running ``__init__`` again; so
    whatever a method keeps on its model, class or module persists into the second calls. Set up before round 1;
    :meth:`restore` puts the class back as it was.
    """

    def __init__(self, klass):
        self.made, self.queue, self.reused, self.case, self.again = {}, [], set(), 0, False
        original_new, original_init, plain = klass.__new__, klass.__init__, klass.__new__ is object.__new__
        self.klass, self.saved = klass, {k: klass.__dict__[k] for k in ("__new__", "__init__") if k in klass.__dict__}
        self.inherited_new = original_new

        def __new__(cls, *args, **kwargs):
            if cls is klass and self.again and self.queue:
                instance = self.queue.pop(0)
                self.reused.add(id(instance))
                return instance
            instance = original_new(cls) if plain else original_new(cls, *args, **kwargs)
            if cls is klass and not self.again:
                self.made.setdefault(self.case, []).append(instance)
            return instance

        def __init__(instance, *args, **kwargs):
            if id(instance) in self.reused:
                self.reused.discard(id(instance))
                return None
            return original_init(instance, *args, **kwargs)

        __init__.__wrapped__ = original_init
        klass.__new__, klass.__init__ = staticmethod(__new__), __init__

    def start(self, case: int, again: bool) -> None:
        """Case ``case`` (its index within its round) of round 1 (``again`` False) or 2 begins."""
        self.case, self.again, self.reused = case, again, set()
        self.queue = list(self.made.get(case, [])) if again else []

    def restore(self) -> None:
        """Put the class's own ``__init__`` back, and a ``__new__`` that does what its own did (a notebook's kernel
        keeps using the class; CPython cannot take an assigned ``__new__`` back off a class)."""
        klass, inherited = self.klass, self.inherited_new
        if "__init__" in self.saved:
            klass.__init__ = self.saved["__init__"]
        else:
            del klass.__init__
        if "__new__" in self.saved:
            klass.__new__ = self.saved["__new__"]
        elif inherited is object.__new__:
            klass.__new__ = staticmethod(lambda cls, *args, **kwargs: object.__new__(cls))
        else:
            klass.__new__ = staticmethod(lambda cls, *args, **kwargs: inherited(cls, *args, **kwargs))


#: Hints per error type the student's code raised (``{classes}``: "your VAE class").
HINTS = {
    "NotImplementedError": "replace `# YOUR CODE HERE` and `raise NotImplementedError()` with your code",
    "NameError": "the grader runs only {classes}, with torch, nn, F, np and device defined as in "
                 "the notebook's first cell: do not rely on variables defined in other cells",
}
#: A method that moves tensors to the GPU by name fails on the grader, which has none.
CUDA_HINT = ("the grader runs on a machine without a GPU, so `.cuda()` and `.to('cuda')` fail here even "
             "though the same code runs on a Colab GPU. Use the notebook's `device` variable (`.to(device)`, "
             "which the grader sets to its own CPU), or the device of your inputs (`torch.randn_like(mu)`, "
             "`device=mu.device`)")


def your_classes(names) -> str:
    """"your VAE class", "your ConvVAE and ConditionalVAE classes" (``names``; empty: "your classes")."""
    names = list(names)
    if not names:
        return "your classes"
    return f"your {names[0]} class" if len(names) == 1 else f"your {', '.join(names[:-1])} and {names[-1]} classes"


def hint(error: str, text: str, classes=(), variables=None) -> str:
    """The hint for an error the student's code raised: a known mistake first (a variable of the notebook's other
    cells, with the advice ``variables`` gives for it; a GPU), then one per error type."""
    import re

    undefined = re.search(r"name '(\w+)' is not defined", text) if error == "NameError" else None
    classes = your_classes(classes)
    if undefined:
        name = undefined.group(1)
        advice = (variables or {}).get(name, f"if `{name}` is a variable of another cell, pass what the method "
                                             "needs as an argument or compute it from its inputs; otherwise "
                                             "check its spelling")
        return (f"`{name}` is not defined where the grader runs your method: the grader runs only {classes} "
                f"(with torch, nn, F, np and device as in the notebook's first cell), not the notebook's other "
                f"cells, so each method must work on its own. {advice[0].upper() + advice[1:]}")
    if error in ("AssertionError", "RuntimeError") and re.search(r"CUDA|NVIDIA|cuda", text):
        return CUDA_HINT
    return HINTS.get(error, "").format(classes=classes)


def describe_student_error(report: dict, classes=(), variables=None) -> str:
    """Turn an error report (:meth:`StudentError.report`; fields of any type are tolerated) into the message
    the student reads, with the hints for ``classes`` and the notebook's ``variables``."""
    where, error, text = (str(report.get(k))[:2000] if report.get(k) else "" for k in ("where", "error", "message"))
    message = f"{where} raised {error}" + (f": {text}" if text else "") if error else f"{where}: {text}"
    frames = report.get("frames")
    frames = [str(f)[:500] for f in frames[-5:]] if isinstance(frames, list) else []
    if frames:
        message += "\n  in your code, " + "\n  called from ".join(str(f) for f in reversed(frames))
    found = hint(error, text, classes, variables)
    return message + (f"\n  Hint: {found}." if found else "")


# --- Part 1's judges: the bodies of autograder/assignments/vae/graders -----------------------------------------
# Each takes ``sub``, the submission as the grader or a check sees it: ``sub.run()`` -> (cases, result with
# ``outputs``), ``sub.case(name)`` -> (``case``, ``outputs``, ``info``), ``sub.both_rounds(name)``, and
# ``sub.expected(case)``: what the grader expects of the test being judged, from the reference (data in a check).


def sigmoid(a):
    """1 / (1 + exp(-a)), computed without overflow."""
    a = np.asarray(a, np.float64)
    return np.exp(-np.logaddexp(0.0, -a))


def vae_encoder_shapes(sub):
    """The judge of ``encoder.shapes`` (vae): are mu and logsigma float tensors of shape (batch, latent_dim)? Raises
    CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for name in ("mu", "logsigma"):
            check_array(out[name], (len(case.arrays["x"]), case.dims[1]),
                        f"{name} for x of shape {case.arrays['x'].shape} and VAE{case.dims}")


def vae_encoder_values(sub):
    """The judge of ``encoder.values`` (vae): are mu = linear21(h) and logsigma = linear22(h), with h =
    ReLU(linear1(x)), for your weights? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        expected = sub.expected(case)
        for name in ("mu", "logsigma"):
            compare(out[name], expected[name], f"{name} for VAE{case.dims}", expected[f"mistakes/{name}"])


def vae_decoder_shapes(sub):
    """The judge of ``decoder.shapes`` (vae): is theta a float tensor of shape (batch, obs_dim) with values in (0,
    1)? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        theta = out["theta"]
        check_array(theta, (len(case.arrays["z"]), case.dims[0]), f"theta for z of shape {case.arrays['z'].shape}")
        if theta.min() < 0 or theta.max() > 1:
            fail(f"theta should be Bernoulli means in (0, 1), but ranges over [{theta.min():.3g}, {theta.max():.3g}]: "
                 "apply a sigmoid to the output of linear4")


def vae_decoder_values(sub):
    """The judge of ``decoder.values`` (vae): is theta = sigmoid(linear4(ReLU(linear3(z)))) for your weights? Raises
    CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        expected = sub.expected(case)
        compare(out["theta"], expected["theta"], f"theta for VAE{case.dims}", expected["mistakes/theta"])


def vae_kl_divergence_shapes(sub):
    """The judge of ``kl_divergence.shapes`` (vae): is the KL a float tensor of shape (batch,), one value per data
    point? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["mu"])
        if out["kl"].shape in ((), (1,)):
            fail(f"the KL should have shape ({batch},), one value per data point, but is a single number: "
                 "sum over the latent dimensions only (dim=-1), not over the batch")
        check_array(out["kl"], (batch,), f"the KL for mu of shape {case.arrays['mu'].shape}")


def vae_kl_divergence_values(sub):
    """The judge of ``kl_divergence.values`` (vae): does it equal 0.5 * sum(sigma^2 + mu^2 - 1 - log sigma^2) over
    latent dims (Kingma & Welling, app. B)? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        expected = sub.expected(case)
        compare(out["kl"], expected["kl"], f"the KL for VAE{case.dims}", expected["mistakes/kl"])


def vae_sample_with_reparam_shapes(sub):
    """The judge of ``sample_with_reparam.shapes`` (vae): is z a float tensor of shape (batch, latent_dim), the shape
    of mu? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for key, z in sorted(out.items()):
            if key.startswith("z"):
                check_array(z, case.arrays["mu"].shape, f"z for mu of shape {case.arrays['mu'].shape}")


def vae_sample_with_reparam_statistics(sub):
    """The judge of ``sample_with_reparam.statistics`` (vae): are the z drawn from N(mu, exp(logsigma)^2),
    independently for every row and every call? Raises CheckFailure with the grader's message."""
    found = sub.case("statistics")
    out, rows = found.outputs, found.case.arrays
    mu, sigma = rows["mu"][0].astype(np.float64), np.exp(rows["logsigma"][0].astype(np.float64))
    shape = rows["mu"].shape
    for key in ("z0", "z1"):
        check_array(out[key], shape, "z")
    if np.allclose(out["z0"], rows["mu"], rtol=0, atol=1e-6):
        fail("z equals mu on every row: there is no noise. Draw eps ~ N(0, I), e.g. torch.randn_like(mu), and "
             "return z = mu + exp(logsigma) * eps.")
    if np.mean(out["z0"] == out["z1"]) > 0.5:
        fail("two calls with the same mu and logsigma returned the same z: draw fresh noise on every call "
             "(do not reseed the random generator inside the method)")
    where = (f" with mu = {np.round(mu, 3).tolist()} and logsigma = {np.round(np.log(sigma), 3).tolist()}.")
    for key, which in (("z0", ""), ("z1", "In the second of two calls on one model: ")):
        z = out[key].astype(np.float64)
        problem = standard_normal((z - mu) / sigma, "(z - mu) / exp(logsigma)")
        if problem:
            fail(f"{which}{problem}. Checked over {shape[0]} rows{where}{_explain_reparam(z, mu, sigma)}")
    # both calls' rows at once: the rows of a call, and the two calls, must be independent draws
    z = np.concatenate([out["z0"], out["z1"]]).astype(np.float64)
    problem = standard_normal((z - mu) / sigma, "(z - mu) / exp(logsigma)")
    if problem:
        first = out["z0"].astype(np.float64)
        fail(f"{problem}. Checked over two calls of {shape[0]} rows{where}{_explain_reparam(first, mu, sigma)}")


def _explain_reparam(z, mu, sigma) -> str:
    """A sentence naming the known mistake that draws like ``z`` (n, d) show, or ""."""
    n, eps = len(z), (z - mu) / sigma
    if n > 1 and np.all(z[1:] == z[:1]):
        return ("\n  Your noise is the same for every row of the batch: draw separate noise for every data "
                "point, e.g. torch.randn_like(mu), which has one entry per row and latent dimension.")
    if eps.min() >= 0 and eps.max() <= 1:
        return ("\n  Your noise eps = (z - mu) / sigma lies in [0, 1]: it is uniform (torch.rand); the "
                "reparameterization needs standard normal noise, torch.randn_like(mu).")
    # Within SIGMAS standard errors of 0 in every column: z is centred at 0 rather than at mu.
    if np.all(np.abs(z.mean(0)) <= SIGMAS * z.std(0) / np.sqrt(n)) and np.any(mu != 0):
        return "\n  Your z is centred at 0, not at mu: add mu, z = mu + exp(logsigma) * eps."
    spread = (z - mu).std(0)
    explanations = [("exp(2 * logsigma), the variance", sigma**2),
                    ("exp(logsigma / 2), as if logsigma were a log-variance", np.sqrt(sigma)),
                    ("logsigma itself, without exp", np.abs(np.log(sigma)))]
    for name, scale in explanations:
        # 10% is many standard errors of a standard deviation estimated from thousands of rows (1.1%),
        # and less than the smallest gap between the candidate scales of this case.
        if np.allclose(spread, scale, rtol=0.1):
            return (f"\n  Your z spreads around mu with standard deviation {name}: scale eps by "
                    "sigma = exp(logsigma), the standard deviation.")
    return ""


def vae_sample_with_reparam_gradients(sub):
    """The judge of ``sample_with_reparam.gradients`` (vae): does z carry gradients, dz/dmu = 1 and dz/dlogsigma =
    exp(logsigma) * eps = z - mu? Raises CheckFailure with the grader's message."""
    found = sub.case("gradients")
    case, out, info = found.case, found.outputs, found.info
    mu, z = case.arrays["mu"].astype(np.float64), out["z0"]
    check_array(z, mu.shape, "z")
    for name in ("mu", "logsigma"):
        if not info.get(f"grad_{name}"):
            fail(f"no gradient flows from z back to {name}: z must be computed from mu and logsigma with "
                 "differentiable operations (no .detach(), .item(), .numpy(), torch.no_grad() or new tensors "
                 "filled in place)")
        check_array(out[f"grad_{name}"], mu.shape, f"dz/d{name}")
    if not np.allclose(out["grad_mu"], 1.0, atol=1e-4):
        extra = ""
        if np.all(out["grad_mu"] == 0) and np.all(out["grad_logsigma"] == 0):
            extra = ("\n  Your z carries zero gradients: a sampler such as torch.normal(mu, sigma) draws from the "
                     "right distribution but does not pass gradients to mu and sigma. That is what the "
                     "reparameterization trick is for: z = mu + exp(logsigma) * eps with eps ~ N(0, I).")
        fail(f"dz/dmu should be 1 for every entry (z = mu + sigma * eps), but ranges over "
             f"[{out['grad_mu'].min():.3g}, {out['grad_mu'].max():.3g}]" + extra)
    if np.allclose(z, mu, rtol=0, atol=1e-6):
        fail("z equals mu: there is no noise, so dz/dlogsigma = exp(logsigma) * eps is 0 where it should not "
             "be. Draw eps ~ N(0, I) and return z = mu + exp(logsigma) * eps.")
    if not np.allclose(out["grad_logsigma"], z - mu, rtol=1e-3, atol=1e-4):
        fail("dz/dlogsigma should be exp(logsigma) * eps = z - mu for every entry, but is not: "
             f"{max_difference(z - mu, out['grad_logsigma'])}." + _explain_reparam_gradient(case, out, z - mu))


def _explain_reparam_gradient(case, out, spread) -> str:
    """A sentence naming the mistake that dz/dlogsigma shows, or ""."""
    logsigma, got = case.arrays["logsigma"].astype(np.float64), out["grad_logsigma"]
    if np.allclose(got, 2 * spread, rtol=1e-3, atol=1e-4):
        return "\n  Yours is 2 (z - mu): you scale eps by the variance exp(2 logsigma), not the standard deviation."
    if np.allclose(got, 0.5 * spread, rtol=1e-3, atol=1e-4):
        return "\n  Yours is (z - mu) / 2: you read logsigma as a log-variance; it is the log standard deviation."
    if np.allclose(got * logsigma, spread, rtol=1e-3, atol=1e-4):
        return ("\n  Yours is eps itself: z = mu + logsigma * eps uses logsigma without exp; scale eps by "
                "sigma = exp(logsigma).")
    return ""


def vae_elbo_shapes(sub):
    """The judge of ``elbo.shapes`` (vae): is the ELBO a float tensor of shape (batch,), one value per data point?
    Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["x"])
        if out["elbo"].shape in ((), (1,)):
            fail(f"the ELBO should have shape ({batch},), one value per data point, but is a single number: "
                 "do not average or sum over the batch (the training loop takes the mean)")
        check_array(out["elbo"], (batch,), f"the ELBO for x of shape {case.arrays['x'].shape}")


def vae_elbo_point_mass(sub):
    """The judge of ``elbo.point_mass`` (vae): when q(z|x) is a point mass at mu (logsigma = -30), does the ELBO
    equal log p(x | mu) - KL, on MNIST too? Raises CheckFailure with the grader's message."""
    for name, what in (("point_mass", ""), ("mnist", " on real MNIST test images")):
        found = sub.case(name)
        case, out = found.case, found.outputs
        check_array(out["elbo"], (len(case.arrays["x"]),), f"the ELBO{what}")
        expected = sub.expected(case)
        compare(out["elbo"], expected["elbo"], f"the ELBO with q(z|x) a point mass{what}", expected["mistakes/elbo"],
                rtol=1e-4, atol=1e-2)


def _drew_given_noise(info) -> bool:
    """True when elbo drew z only through self.sample_with_reparam, so the grader's noise was used."""
    return bool(info.get("sample_calls")) and not info.get("fresh_calls")


def vae_elbo_sampled(sub):
    """The judge of ``elbo.sampled`` (vae): with z from sample_with_reparam, does the ELBO equal log p(x | z) - KL
    for that z? Raises CheckFailure with the grader's message."""
    found = sub.case("sampled")
    case, out, info = found.case, found.outputs, found.info
    check_array(out["elbo"], (len(case.arrays["x"]),), "the ELBO")
    expected = sub.expected(case)
    if _drew_given_noise(info):
        compare(out["elbo"], expected["elbo"], "the ELBO for the z drawn by sample_with_reparam",
                expected["mistakes/elbo"], rtol=1e-4, atol=1e-2)
        return
    # elbo draws (some of) its noise itself: compare its average over many calls with the grader's.
    draws, reference = out["repeats"], expected["draws"]
    check_array(draws, (case.params["repeats"], 2), "the ELBO over repeated calls")
    draws = draws.astype(np.float64)
    # Identical draws: a float32 std of identical values is not exactly 0, so compare the draws themselves.
    if np.all(draws == draws[:1]):
        fail("the ELBO is the same on every call, so it does not sample z ~ q(z|x): "
             "use z = self.sample_with_reparam(mu, logsigma)")
    if not same_mean(draws, reference):
        fail(f"the ELBO averaged over {len(draws)} calls is {np.round(draws.mean(0), 2).tolist()} nats; the "
             f"grader's is {np.round(reference.mean(0), 2).tolist()} (your elbo does not call "
             "self.sample_with_reparam, so only its average can be checked)")


def vae_elbo_gradients(sub):
    """The judge of ``elbo.gradients`` (vae): do gradients of the ELBO reach every layer, and equal those of the
    reference ELBO? Raises CheckFailure with the grader's message."""
    found = sub.case("sampled")
    case, out, info = found.case, found.outputs, found.info
    missing = [layer for layer, present in sorted(info.get("grads", {}).items()) if not present]
    if missing or not info.get("grads"):
        fail(f"no gradient of the ELBO reaches {', '.join(missing) or 'the model'}: keep the computation in torch "
             "(no .detach(), .item(), .numpy() or torch.no_grad())")
    values_right = _drew_given_noise(info) and close(sub.expected(case)["elbo"], out["elbo"], 1e-4, 1e-2)
    for layer in VAE_LAYERS:
        got, expected = out[f"grad/{layer}"], out[f"reference_grad/{layer}"]
        check_array(got, expected.shape, f"the gradient of the ELBO w.r.t. {layer}.weight")
        # float32 backward passes that sum the same terms in another order agree to ~1e-6 relative;
        # rtol 1e-3 with an absolute floor of 1e-4 of the largest entry leaves room for the forms of the ELBO.
        if _drew_given_noise(info) and not np.allclose(got, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max()):
            extra = ""
            if values_right:
                extra = ("\n  Your ELBO's values are right but its gradients are not: part of it is cut from the "
                         "autograd graph (.detach(), .data, .item(), torch.no_grad() or a tensor rebuilt from "
                         "values), so training would follow the wrong gradient.")
            fail(f"the gradient of the ELBO w.r.t. {layer}.weight differs from the reference's: "
                 f"{max_difference(expected, got)}" + extra)


def _sample_case(sub):
    prior = sub.case("prior")
    return prior.case, prior.outputs


def vae_sample_shapes(sub):
    """The judge of ``sample.shapes`` (vae): is the output of sample(num_samples) of shape (num_samples, obs_dim)?
    Raises CheckFailure with the grader's message."""
    case, out = _sample_case(sub)
    count = case.params["num_samples"]
    check_array(out["x"], (count, case.dims[0]), f"sample({count})", floating=False)


def vae_sample_prior(sub):
    """The judge of ``sample.prior`` (vae): is the decoder's input z drawn from the prior N(0, I), of shape
    (num_samples, latent_dim)? Raises CheckFailure with the grader's message."""
    case, out = _sample_case(sub)
    count = case.params["num_samples"]
    if "z" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer linear3)")
    check_array(out["z"], (count, case.dims[1]), "the z that sample passes to the decoder")
    z = out["z"]
    problem = standard_normal(z, "the z that sample passes to the decoder")
    if problem:
        extra = ""
        if z.min() >= 0 and z.max() <= 1:
            extra = "\n  Your z lies in [0, 1]: it is uniform (torch.rand), not drawn from the prior N(0, I)."
        fail(problem + ": draw z from the prior with torch.randn(num_samples, latent_dim)" + extra)
    draws = [found.outputs.get("z") for found in sub.both_rounds("prior")]
    if len(draws) == 2 and all(d is not None for d in draws) and draws[0].shape == draws[1].shape \
            and np.mean(draws[0] == draws[1]) > 0.5:
        fail("two calls of sample drew the same z: draw fresh noise on every call (do not reseed the random "
             "generator inside the method)")


def vae_sample_bernoulli(sub):
    """The judge of ``sample.bernoulli`` (vae): are the samples Bernoulli draws in {0, 1} with probabilities theta =
    decoder(z)? Raises CheckFailure with the grader's message."""
    case, out = _sample_case(sub)
    x, count = out["x"], case.params["num_samples"]
    check_array(x, (count, case.dims[0]), f"sample({count})", floating=False)
    if "logits" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer linear4)")
    theta = sigmoid(out["logits"].astype(np.float64))
    if not np.all(np.isin(x, (0, 1))):
        extra = ""
        if theta.shape == x.shape and np.allclose(x, theta, atol=1e-5):
            extra = " Yours are the probabilities theta themselves: draw from them with torch.bernoulli(theta)."
        fail(f"samples should be 0 or 1, but values range over [{x.min():.3g}, {x.max():.3g}]." + extra)
    if theta.shape != x.shape:
        fail(f"the decoder output has shape {theta.shape}, the samples {x.shape}")
    problem = bernoulli(x, theta)
    if problem:
        if np.array_equal(x, theta > 0.5):
            problem = problem.split(". Your draws are")[0] + (". Yours are theta rounded at 0.5: draw from theta "
                                                               "with torch.bernoulli(theta)")
        fail(problem)


#: The judge of each test, by assignment and test key.
JUDGES = {"vae": {
    "encoder.shapes": vae_encoder_shapes, "encoder.values": vae_encoder_values,
    "sample_with_reparam.shapes": vae_sample_with_reparam_shapes,
    "sample_with_reparam.statistics": vae_sample_with_reparam_statistics,
    "sample_with_reparam.gradients": vae_sample_with_reparam_gradients,
    "decoder.shapes": vae_decoder_shapes, "decoder.values": vae_decoder_values,
    "kl_divergence.shapes": vae_kl_divergence_shapes, "kl_divergence.values": vae_kl_divergence_values,
    "elbo.shapes": vae_elbo_shapes, "elbo.point_mass": vae_elbo_point_mass, "elbo.sampled": vae_elbo_sampled,
    "elbo.gradients": vae_elbo_gradients,
    "sample.shapes": vae_sample_shapes, "sample.prior": vae_sample_prior, "sample.bernoulli": vae_sample_bernoulli,
}}


# --- Part 1's probes: how the grader's children, and a check, call the methods ---------------------------------

#: The five layers of Part 1's VAE.
VAE_LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")


def device():
    """CUDA when there is a GPU, else the CPU: where the methods run (the grader has no GPU)."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def tensor(array):
    """``array`` as a torch tensor on :func:`device`."""
    import torch

    return torch.as_tensor(np.asarray(array), device=device())


def vae_build(vae_class, case, arrays):
    """``VAE(*dims)`` with the grader's weights copied into its five layers; a StudentError when a layer is not
    the notebook's ``nn.Linear`` of the right shape."""
    import torch

    obs_dim, latent_dim, hidden_dim = case["dims"]
    vae = call("VAE.__init__", vae_class, obs_dim, latent_dim, hidden_dim)
    if not isinstance(vae, torch.nn.Module):
        raise StudentError("VAE.__init__", "VAE must be an nn.Module")
    with torch.no_grad():
        for layer in VAE_LAYERS:
            module = getattr(vae, layer, None)
            weight = arrays[f"w/{layer}.weight"]
            if not isinstance(module, torch.nn.Linear) or tuple(module.weight.shape) != weight.shape:
                shape = f"nn.Linear({weight.shape[1]}, {weight.shape[0]})"
                raise StudentError("VAE.__init__", f"VAE{tuple(case['dims'])} should have layer {layer} = "
                                                   f"{shape}, as in the notebook; got {module!r}")
            module.weight.copy_(tensor(weight))
            module.bias.copy_(tensor(arrays[f"w/{layer}.bias"]))
    return vae.to(device())


def vae_probe_encoder(vae_class, case, arrays):
    """Call ``encoder`` of the submission's model on the case's inputs: its outputs (arrays) and info."""
    vae = vae_build(vae_class, case, arrays)
    return pair(call("encoder", method(vae, "encoder"), tensor(arrays["x"])), "encoder", ("mu", "logsigma")), {}


def vae_probe_decoder(vae_class, case, arrays):
    """Call ``decoder`` of the submission's model on the case's inputs: its outputs (arrays) and info."""
    vae = vae_build(vae_class, case, arrays)
    return {"theta": to_array(call("decoder", method(vae, "decoder"), tensor(arrays["z"])), "decoder", "theta")}, {}


def vae_probe_kl_divergence(vae_class, case, arrays):
    """Call ``kl_divergence`` of the submission's model on the case's inputs: its outputs (arrays) and info."""
    vae = vae_build(vae_class, case, arrays)
    kl = call("kl_divergence", method(vae, "kl_divergence"), tensor(arrays["mu"]), tensor(arrays["logsigma"]))
    return {"kl": to_array(kl, "kl_divergence", "kl")}, {}


def vae_probe_sample_with_reparam(vae_class, case, arrays):
    """Draw z for the given mu/logsigma ``repeats`` times; with ``grad``, also dz/dmu and dz/dlogsigma."""
    import torch

    vae = vae_build(vae_class, case, arrays)
    outputs, info = {}, {}
    mu = tensor(arrays["mu"]).requires_grad_(case["params"]["grad"])
    logsigma = tensor(arrays["logsigma"]).requires_grad_(case["params"]["grad"])
    for repeat in range(case["params"]["repeats"]):
        z = call("sample_with_reparam", method(vae, "sample_with_reparam"), mu, logsigma)
        outputs[f"z{repeat}"] = to_array(z, "sample_with_reparam", "z")
    if case["params"]["grad"]:
        grads = (None, None)
        if z.requires_grad:
            grads = call("sample_with_reparam (backward pass)",
                         lambda: torch.autograd.grad(z.sum(), [mu, logsigma], allow_unused=True))
        for name, grad in zip(("mu", "logsigma"), grads):
            info[f"grad_{name}"] = grad is not None
            outputs[f"grad_{name}"] = to_array(grad, "", "") if grad is not None else np.zeros(0)
    return outputs, info


def vae_given_noise(known, epsilon, draw):
    """A ``sample_with_reparam(mu, logsigma)`` for the ELBO's probe that uses the grader's noise ``epsilon``.

    ``known`` (batch, 2 * latent) holds the rows ``[mu, logsigma]`` of the whole batch; ``draw(mu, logsigma, eps)``
    draws z. A call on the whole batch gets ``epsilon``; a call on some rows of it (an elbo that loops over data
    points) gets the rows of ``epsilon`` whose mu and logsigma it was given; any other call draws fresh noise.
    Returns the function and two lists that grow by one shape per call: calls that used ``epsilon``, and calls
    that drew fresh noise.
    """
    import torch

    calls, fresh = [], []

    def injected(mu, logsigma):
        if mu.shape == epsilon.shape:
            return epsilon
        if mu.dim() > 2 or mu.shape[-1:] != epsilon.shape[-1:] or logsigma.shape != mu.shape:
            return None
        with torch.no_grad():
            rows = torch.cat([mu, logsigma], -1).reshape(-1, known.shape[-1])
            distance = (rows[:, None, :] - known[None, :, :]).abs().amax(-1)
            best = distance.argmin(-1)
        # Rows recomputed from a sub-batch differ from the full batch's by float32 round-off (~1e-6).
        if rows.shape[0] > len(known) or bool((distance.gather(1, best[:, None]) > 1e-4).any()):
            return None
        return epsilon[best].reshape(mu.shape)

    def sample_with_reparam(mu, logsigma):
        noise = injected(mu, logsigma)
        (fresh if noise is None else calls).append(tuple(mu.shape))
        return draw(mu, logsigma, torch.randn_like(mu) if noise is None else noise)

    return sample_with_reparam, calls, fresh


def vae_elbo_run(vae, x, calls, fresh, repeats):
    """Call the student's ``elbo(x)`` (its pieces already in place), its gradients w.r.t. the five weights, and
    ``repeats`` extra draws on x[:2]: the ELBO probe's outputs and info."""
    import torch

    value = call("elbo", method(vae, "elbo"), x)
    outputs = {"elbo": to_array(value, "elbo", "elbo")}
    info = {"sample_calls": len(calls), "fresh_calls": len(fresh), "grads": {}}
    params = [getattr(vae, layer).weight for layer in VAE_LAYERS]
    grads = [None] * len(VAE_LAYERS)
    if value.requires_grad:
        grads = call("elbo (backward pass)", lambda: torch.autograd.grad(value.sum(), params, allow_unused=True))
    for layer, grad in zip(VAE_LAYERS, grads):
        info["grads"][layer] = grad is not None
        outputs[f"grad/{layer}"] = to_array(grad, "", "") if grad is not None else np.zeros(0)
    with torch.no_grad():
        draws = [to_array(call("elbo", method(vae, "elbo"), x[:2]), "elbo", "elbo") for _ in range(repeats)]
    if draws:
        outputs["repeats"] = np.stack(draws)
    return outputs, info


def vae_sample_run(vae, num_samples):
    """Call the student's ``sample(num_samples)`` (its decoder in place) with hooks on linear3 and linear4 that
    record the decoder's input z and output logits (over all calls, when it decodes a part at a time)."""
    seen = {"z": [], "logits": []}
    vae.linear3.register_forward_pre_hook(lambda module, args: seen["z"].append(args[0].detach()))
    vae.linear4.register_forward_hook(lambda module, args, out: seen["logits"].append(out.detach()))
    x = call("sample", method(vae, "sample"), num_samples)
    outputs = {"x": to_array(x, "sample", "x")}
    for name, values in seen.items():
        # The last call, or all calls in order when sample decodes a part of the batch at a time.
        if values and (len(values[-1]) == num_samples or values[-1].dim() != 2):
            outputs[name] = to_array(values[-1], "", "")
        elif values and all(v.dim() == 2 and v.shape[1:] == values[-1].shape[1:] for v in values):
            import torch

            outputs[name] = to_array(torch.cat(values), "", "")
        elif values:
            outputs[name] = to_array(values[-1], "", "")
    return outputs, {"decoder_called": sorted(name for name, values in seen.items() if values)}


def _reparameterize(mu, logsigma, eps):
    """z = mu + exp(logsigma) * eps, the notebook's task 2 as its text states it (the noise ``eps`` given)."""
    import torch

    return mu + torch.exp(logsigma) * eps


def vae_check_elbo(vae_class, case, arrays):
    """The ELBO probe in a notebook's kernel: the student's own encoder, decoder and KL (which pass their checks
    before this runs), and sample_with_reparam with the grader's noise."""
    vae = vae_build(vae_class, case, arrays)
    x, epsilon = tensor(arrays["x"]), tensor(arrays["eps"])
    known = tensor(np.concatenate([arrays["known/mu"], arrays["known/logsigma"]], -1))
    vae.sample_with_reparam, calls, fresh = vae_given_noise(known, epsilon, _reparameterize)
    return vae_elbo_run(vae, x, calls, fresh, case["params"].get("repeats", 0))


def vae_check_sample(vae_class, case, arrays):
    """The sample probe in a notebook's kernel: the student's own decoder (which passes its checks first) and
    a sample_with_reparam that draws fresh noise."""
    import torch

    vae = vae_build(vae_class, case, arrays)
    vae.sample_with_reparam = lambda mu, logsigma: _reparameterize(mu, logsigma, torch.randn_like(mu))
    return vae_sample_run(vae, case["params"]["num_samples"])


#: How a check calls each method, by assignment and probe; and the methods a probe runs besides its own, which
#: must pass their checks first (the grader runs its reference in their place).
RUNNERS = {"vae": {"encoder": vae_probe_encoder, "decoder": vae_probe_decoder,
                   "kl_divergence": vae_probe_kl_divergence, "sample_with_reparam": vae_probe_sample_with_reparam,
                   "elbo": vae_check_elbo, "sample": vae_check_sample}}
NEEDS = {"vae": {"elbo": ("encoder", "decoder", "kl_divergence"), "sample": ("decoder",)}}


# --- Part 2's judges: the bodies of autograder/assignments/vae2d/graders ---------------------------------------
# Outputs named ``expected/...`` are the reference's, from the grader's trusted children (data in a check).


def _swapped(other, name: str, other_name: str) -> list:
    """The mistake of returning ``other_name``'s value as ``name``."""
    return [(f"Your {name} is what {other_name} should be: return (mu, logvar) in that order.", other)]


def vae2d_encoder_shapes(sub):
    """The judge of ``encoder.shapes`` (vae2d): are mu and logvar float tensors of shape (batch, latent_dim)? Raises
    CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for name in ("mu", "logvar"):
            check_array(out[name], out[f"expected/{name}"].shape, f"{name} for VAE2D{case.dims}")


def vae2d_encoder_values(sub):
    """The judge of ``encoder.values`` (vae2d): do mu and logvar equal linear21 and linear22 of ReLU(linear1(x))?
    Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        mu, logvar, hidden = out["expected/mu"], out["expected/logvar"], sub.expected(case)
        compare(out["mu"], mu, f"mu for VAE2D{case.dims}",
                _encoder_order(out, "mu", "logvar") + _encoder_head(mu, "mu", "linear21") + hidden["mistakes/mu"])
        compare(out["logvar"], logvar, f"logvar for VAE2D{case.dims}",
                [("Your logvar is the log standard deviation log sigma = logvar / 2: in this notebook linear22 "
                  "gives the log-variance log sigma^2 itself (Part 1's encoder gave log sigma).", logvar / 2),
                 ("Your logvar is exp(linear22(h)): linear22 gives the log-variance itself, return it as it is.",
                  np.exp(np.asarray(logvar, np.float64)))]
                + _encoder_order(out, "logvar", "mu") + _encoder_head(logvar, "logvar", "linear22")
                + hidden["mistakes/logvar"])


def _encoder_order(out, name: str, other: str) -> list:
    """The mistakes that put ``other``'s value in ``name``: a swap (the pair returned in the wrong order) when
    ``other`` holds ``name``'s value too, else a head used twice."""
    expected, got_other = out[f"expected/{other}"], out[other]
    if got_other.shape == out[f"expected/{name}"].shape and np.allclose(got_other, out[f"expected/{name}"],
                                                                        rtol=1e-4, atol=1e-4):
        return _swapped(expected, name, other)
    head = {"mu": "linear21", "logvar": "linear22"}
    return [(f"Your {name} is computed by {head[other]}, the {'mean' if other == 'mu' else 'log-variance'}'s head, "
             f"like {other}: {name} = {head[name]}(h).", expected)]


def _encoder_head(value, name: str, layer: str) -> list:
    """Known mistakes on an output head: a ReLU or abs after it (the probe's heads take both signs)."""
    value = np.asarray(value, np.float64)
    return [(f"Your {name} goes through a ReLU after {layer}: {name} = {layer}(h) takes any real value, "
             "with no activation.", np.maximum(value, 0.0)),
            (f"Your {name} is the absolute value of {layer}(h): return {layer}(h) as it is.", np.abs(value))]


def vae2d_decoder_shapes(sub):
    """The judge of ``decoder.shapes`` (vae2d): is theta a float tensor of shape (batch, obs_dim) with values in (0,
    1)? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        check_array(out["theta"], out["expected/theta"].shape, f"theta for VAE2D{case.dims}")
        if out["theta"].min() < 0 or out["theta"].max() > 1:
            fail(f"theta holds pixel probabilities, so its values lie in (0, 1); yours range over "
                 f"[{out['theta'].min():.3g}, {out['theta'].max():.3g}]: end the decoder with a sigmoid")


def vae2d_decoder_values(sub):
    """The judge of ``decoder.values`` (vae2d): does theta equal sigmoid(linear4(ReLU(linear3(z))))? Raises
    CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        compare(out["theta"], out["expected/theta"], f"theta for VAE2D{case.dims}",
                sub.expected(case)["mistakes/theta"])


def vae2d_reparameterize_shapes(sub):
    """The judge of ``reparameterize.shapes`` (vae2d): is z a float tensor of shape (batch, latent_dim), the shape of
    mu? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        for key, z in sorted(out.items()):
            if key.startswith("z"):
                check_array(z, case.arrays["mu"].shape, f"z for mu of shape {case.arrays['mu'].shape}")


def vae2d_reparameterize_statistics(sub):
    """The judge of ``reparameterize.statistics`` (vae2d): are the z drawn from N(mu, exp(logvar)), independently for
    every row and every call? Raises CheckFailure with the grader's message."""
    found = sub.case("statistics")
    out, shape, rows = found.outputs, found.case.arrays["mu"].shape, found.case.arrays
    mu, logvar = rows["mu"][0].astype(np.float64), rows["logvar"][0].astype(np.float64)
    sigma = np.exp(0.5 * logvar)
    for key in ("z0", "z1"):
        check_array(out.get(key, np.zeros(0)), shape, "z")
    if np.allclose(out["z0"], rows["mu"], rtol=0, atol=1e-6):
        fail("z equals mu on every row: there is no noise. Draw eps ~ N(0, I), e.g. torch.randn_like(mu), and "
             "return z = mu + exp(logvar / 2) * eps.")
    if np.mean(out["z0"] == out["z1"]) > 0.5:
        fail("two calls with the same mu and logvar returned the same z: draw fresh noise on every call "
             "(do not reseed the random generator inside the method)")
    # both calls' rows at once: the rows of a call, and the two calls, must be independent draws
    z = np.concatenate([out["z0"], out["z1"]]).astype(np.float64)
    problem = standard_normal((z - mu) / sigma, "(z - mu) / exp(logvar / 2)")
    if problem:
        first = out["z0"].astype(np.float64)
        fail(f"{problem}. Checked over two calls of {shape[0]} rows with mu = {np.round(mu, 3).tolist()} and "
             f"logvar = {np.round(logvar, 3).tolist()}.{_explain_reparameterize(first, mu, sigma)}")


def _explain_reparameterize(z, mu, sigma) -> str:
    """A sentence naming the known mistake that draws like ``z`` (n, d) show, or ""."""
    n, eps = len(z), (z - mu) / sigma
    if n > 1 and np.all(z[1:] == z[:1]):
        return "\n  Your noise is the same for every row: draw one eps per row and dimension, torch.randn_like(mu)."
    if eps.min() >= 0 and eps.max() <= 1:
        return "\n  Your noise lies in [0, 1]: it is uniform (torch.rand); use standard normal noise, torch.randn_like(mu)."
    spread = (z - mu).std(0)
    explanations = [
        ("exp(logvar), as if logvar were a log standard deviation: logvar is the log-variance log sigma^2, so "
         "sigma = exp(logvar / 2)", sigma**2),
        ("exp(logvar)^2, the variance squared", sigma**4),
        ("logvar itself, without exp", np.abs(2 * np.log(sigma))),
        ("0.5 * exp(logvar): the 1/2 belongs inside the exp, sigma = exp(0.5 * logvar)", 0.5 * sigma**2)]
    for name, scale in explanations:
        # 10% is many standard errors of a standard deviation estimated from thousands of rows (1.1%).
        if np.allclose(spread, scale, rtol=0.1):
            return f"\n  Your z spreads around mu with standard deviation {name}."
    return ""


def vae2d_reparameterize_gradients(sub):
    """The judge of ``reparameterize.gradients`` (vae2d): does z carry gradients, dz/dmu = 1 and dz/dlogvar =
    exp(logvar / 2) * eps / 2 = (z - mu) / 2? Raises CheckFailure with the grader's message."""
    found = sub.case("gradients")
    case, out, info = found.case, found.outputs, found.info
    mu, z = case.arrays["mu"].astype(np.float64), out["z0"]
    check_array(z, mu.shape, "z")
    for name in ("mu", "logvar"):
        if not info.get(f"grad_{name}"):
            fail(f"no gradient flows from z back to {name}: compute z from mu and logvar with differentiable "
                 "operations (no .detach(), .item(), .numpy(), torch.no_grad(), and not torch.normal, which "
                 "samples without passing gradients: that is what the reparameterization trick is for)")
        check_array(out[f"grad_{name}"], mu.shape, f"dz/d{name}")
    if not np.allclose(out["grad_mu"], 1.0, atol=1e-4):
        extra = ""
        if np.all(out["grad_mu"] == 0) and np.all(out["grad_logvar"] == 0):
            extra = ("\n  No gradient reaches mu or logvar through z: torch.normal(mu, sigma) samples without passing "
                     "gradients (its gradients are zero), which is what the reparameterization trick is for. Draw "
                     "eps = torch.randn_like(mu) and return z = mu + exp(logvar / 2) * eps.")
        fail(f"dz/dmu should be 1 for every entry (z = mu + sigma * eps), but ranges over "
             f"[{out['grad_mu'].min():.3g}, {out['grad_mu'].max():.3g}]" + extra)
    if np.allclose(z, mu, rtol=0, atol=1e-6):
        fail("z equals mu: there is no noise. Draw eps ~ N(0, I) and return z = mu + exp(logvar / 2) * eps.")
    if not np.allclose(out["grad_logvar"], (z - mu) / 2, rtol=1e-3, atol=1e-4):
        extra = ""
        if np.allclose(out["grad_logvar"], z - mu, rtol=1e-3, atol=1e-4):
            extra = "\n  Yours is z - mu, so z - mu is proportional to exp(logvar): " + _scale_of_exp(sub)
        fail("dz/dlogvar should be exp(logvar / 2) * eps / 2 = (z - mu) / 2 for every entry, but is not: "
             f"{max_difference((z - mu) / 2, out['grad_logvar'])}." + extra)


def _scale_of_exp(sub) -> str:
    """The end of a sentence for a reparameterize whose z - mu is c * exp(logvar) * eps: which c, read from the
    spread of the statistics case's draws (c = 1: logvar read as log sigma; c = 1/2: 0.5 * exp(logvar))."""
    found = sub.case("statistics", key="reparameterize.gradients")
    draws, rows = found.outputs.get("z0"), found.case.arrays
    variance = np.exp(rows["logvar"][0].astype(np.float64))
    if draws is not None and draws.shape == rows["mu"].shape:
        spread = (draws.astype(np.float64) - rows["mu"][0]).std(0)
        if np.allclose(spread, 0.5 * variance, rtol=0.1):
            return ("sigma = 0.5 * exp(logvar): the 1/2 belongs inside the exp, sigma = exp(0.5 * logvar) "
                    "(the square root of the variance exp(logvar)).")
        if np.allclose(spread, variance, rtol=0.1):
            return ("you scale eps by exp(logvar), reading logvar as the log standard deviation. logvar is the "
                    "log-variance log sigma^2, so sigma = exp(logvar / 2).")
    return "where sigma = exp(logvar / 2) is proportional to its square root."


#: The closed-form KL of Part 2, in the words of its messages.
CLOSED_FORM_LOGVAR = "KL = 0.5 * sum(exp(logvar) + mu^2 - 1 - logvar) over the latent dimensions"
#: Part 2's five layers; in case "decoder_ignores_z" the gradient w.r.t. linear3.weight depends on the sampled z.
VAE2D_LAYERS = ("linear1", "linear21", "linear22", "linear3", "linear4")
NOISE_FREE_GRADIENTS = ("linear1", "linear21", "linear22", "linear4")


def _bce(x, theta):
    """The binary cross-entropy of ``theta`` for ``x``, summed over the pixels, its logs clamped at -100 as torch's
    are: shape (batch,), nats."""
    with np.errstate(divide="ignore"):
        logs = np.maximum(np.log(theta), -100.0), np.maximum(np.log1p(-theta), -100.0)
    return -(x * logs[0] + (1 - x) * logs[1]).sum(-1)


def _reference_terms(out):
    """The reference's reconstruction term and KL, each of shape (batch,), float64."""
    return out["expected/reconstruction"].astype(np.float64), out["expected/kl"].astype(np.float64)


def _kl_mistakes(out) -> list:
    """What known mistakes of the KL term give, per image (shape (batch,)), with the sentence for each."""
    kl = out["expected/kl"].astype(np.float64)
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    var, latent, closed = np.exp(logvar), mu.shape[1], CLOSED_FORM_LOGVAR
    return [
        ("Your loss reads logvar as a log standard deviation in the KL: logvar is log sigma^2, so "
         f"{closed}.", 0.5 * np.sum(np.exp(2 * logvar) + mu**2 - 1 - 2 * logvar, -1)),
        (f"Your KL uses sigma = exp(logvar / 2) where the variance sigma^2 = exp(logvar) belongs: {closed}.",
         0.5 * np.sum(np.exp(logvar / 2) + mu**2 - 1 - logvar, -1)),
        (f"Your KL squares the variance, exp(logvar)^2 where exp(logvar) belongs: {closed}.",
         0.5 * np.sum(var**2 + mu**2 - 1 - logvar, -1)),
        (f"Your KL misses the factor 1/2: {closed}.", 2 * kl),
        ("Your KL has the wrong sign: the loss adds beta * KL, which is >= 0.", -kl),
        ("Your KL is summed over the batch: every image gets the whole batch's KL. Sum over the latent dimensions "
         "only, one KL per image.", np.full_like(kl, kl.sum())),
        ("Your KL is averaged over the batch: every image gets the batch's mean KL. Sum over the latent dimensions "
         "only, one KL per image.", np.full_like(kl, kl.mean())),
        (f"Your KL is averaged over the {latent} latent dimensions: sum it over them, {closed}.", kl / latent),
        (f"Your KL misses the -1: {closed}.", kl + latent / 2),
        (f"Your KL misses mu^2: {closed}.", 0.5 * np.sum(var - 1 - logvar, -1)),
    ]


def _reconstruction_mistakes(sub, out, case) -> list:
    """What known mistakes of the reconstruction term give, per image (shape (batch,)), with the sentence for each;
    ``expected/theta`` is the decoder's output at the z the loss decodes."""
    r, x = out["expected/reconstruction"].astype(np.float64), case.arrays["x"].astype(np.float64)
    theta, pixels = out["expected/theta"].astype(np.float64), case.dims[0]
    at_mu = sub.expected(case, "loss.point_mass")["at_mu"]
    bce = "-sum(x log theta + (1 - x) log(1 - theta)) over the pixels, F.binary_cross_entropy(theta, x, ...)"
    return [
        (f"Your reconstruction term is averaged over the pixels: sum it over them, {bce}.", r / pixels),
        ("Your reconstruction term is a squared error: this notebook's likelihood is Bernoulli, so the term is the "
         f"binary cross-entropy {bce}.", ((x - theta) ** 2).sum(-1)),
        (f"Your binary cross-entropy has its arguments swapped: the prediction theta comes first, {bce}.",
         _bce(theta, x)),
        ("Your reconstruction term applies binary_cross_entropy_with_logits to theta, which is already a "
         f"probability (it applies a second sigmoid): {bce}.", (np.logaddexp(0, theta) - x * theta).sum(-1)),
        ("Your reconstruction term binarises x (x > 0.5): the pixels are grey levels in [0, 1], use them as they "
         f"are, {bce}.", _bce((x > 0.5).astype(np.float64), theta)),
        ("Your reconstruction term is summed over the batch: every image gets the whole batch's. Sum over the "
         "pixels only, one value per image.", np.full_like(r, r.sum())),
        ("Your reconstruction term is averaged over the batch: every image gets the batch's mean. Sum over the "
         "pixels only, one value per image.", np.full_like(r, r.mean())),
        ("Your loss decodes mu rather than a sample: the reconstruction term is -log p(x | z) with "
         "z = self.reparameterize(mu, logvar).", _bce(x, at_mu)),
    ]


def _loss_mistakes(out, beta: float) -> list:
    """What known mistakes of the whole loss (not of one term) give at ``beta`` and at ``beta + 1``, with the
    sentence for each: ``[(sentence, (at beta, at beta + 1))]``."""
    r, kl = _reference_terms(out)
    found = [
        ("Your loss is the ELBO, not the loss: the loss is the negative ELBO, reconstruction + beta * KL with "
         "the reconstruction term -log p(x | z) >= 0.", lambda b: -(r + b * kl)),
        ("Your loss applies beta to the reconstruction term: the KL term carries the weight, "
         "reconstruction + beta * KL.", lambda b: b * r + kl),
        ("Your loss divides the KL by beta: multiply it, reconstruction + beta * KL.", lambda b: r + kl / b),
        ("Your loss ignores beta: weight the KL term, reconstruction + beta * KL.", lambda b: r + kl),
    ]
    return [(sentence, (value(beta), value(beta + 1))) for sentence, value in found]


def _explain_loss(sub, out, beta: float, case, rtol: float = 1e-4, atol: float = 1e-2) -> str:
    """The sentence saying what is off in a loss that is not the reference's: which of its two terms (read from
    loss(x, beta) and loss(x, beta + 1) with the same noise: their difference is the KL term), and the known
    mistake that fits, or ""."""
    loss, more = out["loss"].astype(np.float64), out["loss_more"].astype(np.float64)
    if loss.shape != out["expected/loss"].shape or more.shape != loss.shape:
        return ""
    r, kl = _reference_terms(out)
    mine_kl = more - loss
    mine_r = loss - beta * mine_kl
    r_ok, kl_ok = close(r, mine_r, rtol, atol), close(kl, mine_kl, rtol, atol)
    if r_ok != kl_ok:
        return _term_sentence(sub, out, case, "KL" if r_ok else "reconstruction term", mine_kl if r_ok else mine_r,
                              rtol, atol)
    for sentence, (at, at_more) in _loss_mistakes(out, beta):
        if close(at, loss, rtol, atol) and close(at_more, more, rtol, atol):
            return sentence
    return ""


def _term_sentence(sub, out, case, term: str, got, rtol: float = 1e-4, atol: float = 1e-2) -> str:
    """The sentence for a loss whose other term is right and whose ``term`` ("KL" or "reconstruction term") is
    ``got`` (shape (batch,)): the known mistake of that term that fits, else by how much it is off."""
    r, kl = _reference_terms(out)
    candidates = _kl_mistakes(out) if term == "KL" else _reconstruction_mistakes(sub, out, case)
    for sentence, candidate in candidates:
        if close(candidate, got, rtol, atol):
            return sentence
    other = "reconstruction term" if term == "KL" else "KL"
    return (f"Your {other} is right, but your {term} is not (read from loss(x, beta + 1) - loss(x, beta) with the "
            f"same noise): {max_difference(kl if term == 'KL' else r, got)}.")


def _check_loss_value(sub, found, what: str) -> None:
    """Fail unless the loss of ``found`` (a case's result) equals the reference's at beta and at beta + 1 (the
    same noise), naming what is off (:func:`_explain_loss`)."""
    out, case, beta = found.outputs, found.case, found.case.params["beta"]
    batch = len(case.arrays["x"])
    for key, at in (("loss", beta), ("loss_more", beta + 1)):
        check_array(out[key], (batch,), f"{what}, beta = {at:g},")
    for key, at in (("loss", beta), ("loss_more", beta + 1)):
        expected = out[f"expected/{key}"]
        if not close(expected, out[key], 1e-4, 1e-2):
            sentence = _explain_loss(sub, out, beta, case)
            fail(f"{what}, beta = {at:g}, is not what it should be: {max_difference(expected, out[key])}."
                 + (f"\n  {sentence}" if sentence else ""))


def vae2d_loss_shapes(sub):
    """The judge of ``loss.shapes`` (vae2d): is the loss a float tensor of shape (batch,), one value per image?
    Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        batch = len(case.arrays["x"])
        if out["loss"].shape in ((), (1,)):
            fail(f"the loss should have shape ({batch},), one value per image, but is a single number: do not "
                 "average or sum over the batch (the training loop takes the mean)")
        check_array(out["loss"], (batch,), f"the loss for x of shape {case.arrays['x'].shape}")


def vae2d_loss_point_mass(sub):
    """The judge of ``loss.point_mass`` (vae2d): when z cannot change the loss (q(z|x) a point mass; a decoder that
    ignores z), does loss(x, beta) equal Raises CheckFailure with the grader's message."""
    for name, what in (("point_mass", "the loss with q(z|x) a point mass"),
                       ("point_mass_half", "the loss with q(z|x) a point mass, on real MNIST test images"),
                       ("decoder_ignores_z", "the loss with a decoder that ignores z (linear3.weight = 0) and "
                                             "logvar from -2.5 to 2.5")):
        _check_loss_value(sub, sub.case(name), what)


def vae2d_loss_sampled(sub):
    """The judge of ``loss.sampled`` (vae2d): with z from reparameterize, does loss(x, 2) equal -log p(x | z) + 2 KL
    for that z? Raises CheckFailure with the grader's message."""
    found = sub.case("sampled")
    out, info = found.outputs, found.info
    check_array(out["loss"], (len(found.case.arrays["x"]),), "the loss")
    if info.get("noise_calls") and not info.get("fresh_calls"):
        _check_loss_value(sub, found, "the loss for the z drawn by reparameterize")
        return
    _check_loss_average(sub, out, found.case.params["beta"], found.case)


def _check_loss_average(sub, out, beta: float, case) -> None:
    """For a loss that draws (some of) its noise itself: its KL exactly, when its noise repeats under the same seed
    (the pairs loss(x, beta), loss(x, beta + 1) then differ by its KL on every call), and its average over many
    calls against the reference's, call k of each seeded alike (:func:`same_mean_paired`: within ``SIGMAS``
    standard errors of the measured differences, plus the exact tests' tolerance)."""
    mine, reference = out.get("repeats"), out.get("expected/repeats")
    calls = len(reference)
    if mine is None or mine.shape != reference.shape or out.get("repeats_more") is None:
        fail(f"the loss over {calls} calls should have shape {reference.shape}")
    if np.all(mine == mine[:1]):  # a float32 variance of identical values need not be 0: compare the values
        fail(f"your loss is the same on every one of {calls} calls, so it does not sample z ~ q(z | x): decode "
             "z = self.reparameterize(mu, logvar), not mu.")
    r, kl = _reference_terms(out)
    mine_kl = out["repeats_more"].astype(np.float64) - mine
    seen = np.allclose(mine_kl, mine_kl[:1], rtol=1e-4, atol=1e-2)  # the same noise twice: the KL apart
    if seen and not close(kl, mine_kl[0], 1e-4, 1e-2):
        fail(f"your KL term (loss(x, {beta + 1:g}) - loss(x, {beta:g}) with the same noise) is not the reference's: "
             f"{max_difference(kl, mine_kl[0])}.\n  " + _term_sentence(sub, out, case, "KL", mine_kl[0]))
    what, yours, theirs = "loss", mine, reference
    if seen:  # the KL is right: what is left is the reconstruction term
        what, yours, theirs = "reconstruction term", mine - beta * mine_kl, reference - beta * kl
    if not same_mean_paired(yours, theirs, 1e-4 * np.abs(theirs.mean(0)) + 1e-2):
        error = (yours - theirs).std(0, ddof=1) / np.sqrt(calls)
        fail(f"averaged over {calls} calls, your {what} is {np.round(yours.mean(0), 2).tolist()} where the "
             f"reference's is {np.round(theirs.mean(0), 2).tolist()} (standard errors of the difference "
             f"{np.round(error, 2).tolist()}); your loss does not call self.reparameterize, so only its average "
             "can be checked" + (": your KL is right, the reconstruction term -log p(x | z) averaged over "
                                 "z ~ q(z | x) is not." if seen else "."))


def vae2d_loss_gradients(sub):
    """The judge of ``loss.gradients`` (vae2d): do gradients of the loss reach every layer, and equal those of the
    reference loss (with a point-mass q, and Raises CheckFailure with the grader's message."""
    for name, layers in (("point_mass", VAE2D_LAYERS), ("decoder_ignores_z", NOISE_FREE_GRADIENTS)):
        found = sub.case(name)
        out, info = found.outputs, found.info
        missing = [layer for layer, present in sorted(info.get("grads", {}).items()) if not present]
        if missing or not info.get("grads"):
            fail(f"no gradient of the loss reaches {', '.join(missing) or 'the model'}: keep the computation in "
                 "torch (no .detach(), .item(), .numpy() or torch.no_grad())")
        for layer in layers:
            _compare_loss_gradient(out, layer, name)


def _compare_loss_gradient(out, layer: str, case: str) -> None:
    """Fail unless the gradient of the loss w.r.t. ``layer``.weight equals the reference's, with a hint."""
    got, expected = out[f"grad/{layer}"], out[f"expected/grad/{layer}"]
    scale = max(1.0, float(np.abs(expected).max()))
    if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-3, atol=1e-3 * scale):
        return
    extra = ""
    if close(out["expected/loss"], out["loss"], 1e-4, 1e-2):
        extra = ("\n  Your loss's values are right but its gradients are not: part of it is cut from the "
                 "autograd graph (.detach(), .data, .item(), torch.no_grad() or a tensor rebuilt from "
                 "values), so training would follow the wrong gradient.")
    where = (" (with a decoder that ignores z, only the KL term's gradient reaches the encoder)"
             if case == "decoder_ignores_z" else " (with q(z|x) a point mass)")
    fail(f"the gradient of the loss w.r.t. {layer}.weight differs from the reference's{where}"
         + (f": {max_difference(expected, got)}" if got.shape == expected.shape else "") + extra)


def vae2d_reconstruct_shapes(sub):
    """The judge of ``reconstruct.shapes`` (vae2d): is the reconstruction a float tensor of the shape of x, (batch,
    obs_dim)? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        check_array(out["theta"], case.arrays["x"].shape, f"reconstruct(x) for x of shape {case.arrays['x'].shape}")


def vae2d_reconstruct_values(sub):
    """The judge of ``reconstruct.values`` (vae2d): is the reconstruction decoder(mu(x)), the same on every call,
    without sampling z? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        check_array(out["theta"], case.arrays["x"].shape, "reconstruct(x)")
        if out["again"].shape == out["theta"].shape and not np.allclose(out["theta"], out["again"], atol=1e-6):
            fail("two calls of reconstruct(x) on the same images returned different images: it draws z. "
                 "Decode the encoder's mean instead, decoder(mu), with no sampling.")
        compare(out["theta"], out["expected/theta"], f"reconstruct(x) for VAE2D{case.dims}",
                sub.expected(case)["mistakes/theta"] + _after_decoder(out["expected/theta"]))


def _after_decoder(theta) -> list:
    """Known mistakes made after a right decoder(mu), ``theta`` (batch, obs): a second sigmoid, a threshold."""
    theta = np.asarray(theta, np.float64)
    return [("Your reconstruction applies a second sigmoid to the decoder's output: self.decoder already ends with "
             "the sigmoid, so return decoder(mu) as it is.", sigmoid(theta)),
            ("Your reconstruction thresholds the pixel probabilities at 0.5 (0 or 1): return the probabilities "
             "theta = decoder(mu) themselves, values in (0, 1).", (theta > 0.5).astype(np.float64)),
            ("Your reconstruction rounds the pixel probabilities (0 or 1): return the probabilities "
             "theta = decoder(mu) themselves, values in (0, 1).", np.round(theta))]


def vae2d_latent_grid_shapes(sub):
    """The judge of ``latent_grid.shapes`` (vae2d): is latent_grid(n, z_min, z_max) a float tensor of shape (n * n,
    obs_dim)? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        p = case.params
        call_ = f"latent_grid({p['n']}, {p['z_min']:g}, {p['z_max']:g})"
        if out["images"].ndim == 2 and len(out["images"]) in ((p["n"] + 1) ** 2, (p["n"] - 1) ** 2):
            fail(f"{call_} should return {p['n']} x {p['n']} = {p['n'] ** 2} images, but returns "
                 f"{len(out['images'])}: {round(np.sqrt(len(out['images'])))} values per axis. A floating-point "
                 "torch.arange step gains or loses a value by round-off at some n; the n values of each axis are "
                 "torch.linspace(z_min, z_max, n).")
        check_array(out["images"], out["expected/images"].shape, call_)


def vae2d_latent_grid_values(sub):
    """The judge of ``latent_grid.values`` (vae2d): are the images decoded at the grid's points, both ends included,
    in the figure's order? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        p, expected = case.params, out["expected/images"]
        compare(out["images"], expected, f"latent_grid({p['n']}, {p['z_min']}, {p['z_max']})",
                grid_variants(expected, p["n"]) + sub.expected(case)["mistakes/images"])


def grid_variants(expected: np.ndarray, n: int) -> list:
    """What a latent grid of ``n`` x ``n`` images (``expected``, shape (n * n, obs), in the figure's order) looks
    like under the known mistakes of order, with the sentence for each."""
    block = expected.reshape(n, n, -1)
    order = "z1 increases along a row and z2 decreases down the rows (image 0 is decoded at (z_min, z_max))"
    return [
        (f"Your grid has z1 and z2 swapped (a transposed grid): {order}.", block.transpose(1, 0, 2).reshape(n * n, -1)),
        (f"Your grid's rows go up in z2: the figure has z2 decreasing down the rows, so {order}.",
         block[::-1].reshape(n * n, -1)),
        (f"Your grid runs z1 from right to left: {order}.", block[:, ::-1].reshape(n * n, -1)),
        (f"Your grid is transposed and z2 increases: {order}.", block[::-1].transpose(1, 0, 2).reshape(n * n, -1)),
        (f"Your grid is in column-major order with z2 increasing: {order}.",
         block.transpose(1, 0, 2)[::-1].reshape(n * n, -1)),
    ]


#: The points of an interpolation, in the words of its messages.
POINTS = "t = k / (steps + 1) for k = 1, ..., steps"


def _interpolation_rows(sub):
    cases, result = sub.run()
    return [(case, out, case.params["steps"]) for case, out in zip(cases, result.outputs)]


def vae2d_interpolate_shapes(sub):
    """The judge of ``interpolate.shapes`` (vae2d): is the row a float tensor of shape (steps + 2, obs_dim)? Raises
    CheckFailure with the grader's message."""
    for case, out, steps in _interpolation_rows(sub):
        if out["row"].shape == (steps, case.dims[0]):
            fail(f"interpolate(x_a, x_b, steps={steps}) should have shape ({steps + 2}, {case.dims[0]}): x_a, the "
                 f"{steps} interpolated images, then x_b; yours has only the {steps} interpolated images")
        check_array(out["row"], (steps + 2, case.dims[0]), f"interpolate(x_a, x_b, steps={steps})")


def vae2d_interpolate_endpoints(sub):
    """The judge of ``interpolate.endpoints`` (vae2d): are the row's first and last images x_a and x_b themselves?
    Raises CheckFailure with the grader's message."""
    for case, out, steps in _interpolation_rows(sub):
        row = out["row"]
        check_array(row, (steps + 2, case.dims[0]), f"interpolate(x_a, x_b, steps={steps})")
        for index, name in ((0, "x_a"), (-1, "x_b")):
            if not np.allclose(row[index], case.arrays[name], atol=1e-5):
                extra = ""
                if np.allclose(row[index], out["expected/ends"][index], atol=1e-4):
                    extra = f" Yours is the decoder's image of mu({name}): put {name} itself there."
                fail(f"image {index % (steps + 2)} of the row should be {name} itself.{extra}")


def vae2d_interpolate_values(sub):
    """The judge of ``interpolate.values`` (vae2d): are the images between decoded at evenly spaced points on the
    line between the encoder means? Raises CheckFailure with the grader's message."""
    for case, out, steps in _interpolation_rows(sub):
        row, expected = out["row"], out["expected/row"]
        check_array(row, expected.shape, f"interpolate(x_a, x_b, steps={steps})")
        x_a, x_b = case.arrays["x_a"].astype(np.float64), case.arrays["x_b"].astype(np.float64)
        t = np.arange(1, steps + 1)[:, None] / (steps + 1)
        compare(row[1:-1], expected[1:-1], f"the middle of the row (its {steps} interpolated images)", [
            ("Your images mix the pixels of x_a and x_b: interpolate between the codes mu(x_a) and mu(x_b), "
             "then decode.", (1 - t) * x_a + t * x_b),
            (f"Your points include the endpoints' codes (t = 0 and t = 1), so x_a and x_b appear twice: use {POINTS}.",
             out["expected/linspace"]),
            (f"Your images run from x_b to x_a: image k is decoded at (1 - t) mu(x_a) + t mu(x_b) with {POINTS}, "
             "so the one next to x_a is closest to it.", expected[1:-1][::-1]),
        ])


def _check_integers(pairs) -> None:
    """Fail unless ``pairs`` holds integer indices (a float tensor cannot index the labels)."""
    if pairs.dtype.kind not in "iu":
        fail(f"pick_pairs should return integer indices (int64), but has dtype {pairs.dtype}: a float tensor "
             "(e.g. one filled in torch.zeros(10, 2)) cannot index the labels; build it with dtype=torch.long")


def vae2d_pick_pairs_shapes(sub):
    """The judge of ``pick_pairs.shapes`` (vae2d): is pick_pairs an integer tensor of shape (10, 2)? Raises
    CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        check_array(out["pairs"], (10, 2), f"pick_pairs(labels, same={case.params['same']}, seed)", floating=False)
        _check_integers(out["pairs"])


def vae2d_pick_pairs_pairs(sub):
    """The judge of ``pick_pairs.pairs`` (vae2d): are the pairs indices into labels: two different images of digit d
    in row d when same, different digits Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        labels, pairs, same = case.arrays["labels"], out["pairs"], case.params["same"]
        check_array(pairs, (10, 2), "pick_pairs(...)", floating=False)
        _check_integers(pairs)
        if pairs.min() < 0 or pairs.max() >= len(labels):
            fail(f"pick_pairs returned indices up to {pairs.max()}, but labels has {len(labels)} entries: pick "
                 "indices into the labels it is given (the test set's), not into the training set")
        digits = labels[pairs]
        if same and not np.array_equal(digits, np.repeat(np.arange(10)[:, None], 2, 1)):
            fail(f"with same=True, row d should hold two images of digit d; yours show {digits.tolist()}")
        if same and np.any(pairs[:, 0] == pairs[:, 1]):
            where = (f" (on labels where every digit has exactly two images, seed {case.params['seed']}: draw the "
                     "two without replacement)" if case.name.startswith("twice") else "")
            fail("with same=True, each pair should hold two different images; some of yours pair an image with "
                 f"itself{where}")
        if not same and np.any(digits[:, 0] == digits[:, 1]):
            fail(f"with same=False, each pair should show two different digits; yours show {digits.tolist()}")
        if not np.array_equal(out["again"], pairs):
            fail("two calls with the same seed returned different pairs: draw them with a torch.Generator seeded "
                 "with seed")


def vae2d_pick_pairs_random(sub):
    """The judge of ``pick_pairs.random`` (vae2d): do different seeds give different pairs, drawn at random rather
    than the first images of each digit? Raises CheckFailure with the grader's message."""
    cases, result = sub.run()
    found = {case.name: out["pairs"] for case, out in zip(cases, result.outputs)}
    for kind in ("same", "different"):
        first, second = found[f"{kind}_0"], found[f"{kind}_1"]
        if first.shape == second.shape and np.array_equal(first, second):
            fail(f"pick_pairs(labels, same={kind == 'same'}, seed) returned the same pairs for seeds 0 and 1: "
                 "draw them at random with a torch.Generator seeded with seed")


JUDGES["vae2d"] = {
    "encoder.shapes": vae2d_encoder_shapes, "encoder.values": vae2d_encoder_values,
    "reparameterize.shapes": vae2d_reparameterize_shapes, "reparameterize.statistics": vae2d_reparameterize_statistics,
    "reparameterize.gradients": vae2d_reparameterize_gradients,
    "decoder.shapes": vae2d_decoder_shapes, "decoder.values": vae2d_decoder_values,
    "loss.shapes": vae2d_loss_shapes, "loss.point_mass": vae2d_loss_point_mass, "loss.sampled": vae2d_loss_sampled,
    "loss.gradients": vae2d_loss_gradients,
    "reconstruct.shapes": vae2d_reconstruct_shapes, "reconstruct.values": vae2d_reconstruct_values,
    "latent_grid.shapes": vae2d_latent_grid_shapes, "latent_grid.values": vae2d_latent_grid_values,
    "interpolate.shapes": vae2d_interpolate_shapes, "interpolate.endpoints": vae2d_interpolate_endpoints,
    "interpolate.values": vae2d_interpolate_values,
    "pick_pairs.shapes": vae2d_pick_pairs_shapes, "pick_pairs.pairs": vae2d_pick_pairs_pairs,
    "pick_pairs.random": vae2d_pick_pairs_random,
}


# --- Part 2's probes: how the grader's children, and a check, call the methods ---------------------------------
# Each takes ``surround(vae, keep, noise_seed=None, batch=None) -> calls``, which puts the methods around the one
# under test in place: in the grader's children the reference's (probes.py), in a check the student's own (which
# pass their checks first), with the seeded noise drawn as the notebook states it.

#: The notebook's model sizes (obs_dim, latent_dim); other sizes are the grader's odd models.
NOTEBOOK_SIZES_2D = (784, 2)


def vae2d_build(vae_class, case, arrays):
    """``VAE2D(obs_dim, hidden_dim, latent_dim)`` with the grader's weights copied into its five layers."""
    import torch

    obs_dim, hidden_dim, latent_dim = case["dims"]
    vae = call("VAE2D.__init__", vae_class, obs_dim, hidden_dim, latent_dim)
    if not isinstance(vae, torch.nn.Module):
        raise StudentError("VAE2D.__init__", "VAE2D must be an nn.Module")
    with torch.no_grad():
        for layer in VAE2D_LAYERS:
            module, weight = getattr(vae, layer, None), arrays[f"w/{layer}.weight"]
            if not isinstance(module, torch.nn.Linear) or tuple(module.weight.shape) != weight.shape:
                raise StudentError("VAE2D.__init__", f"VAE2D{tuple(case['dims'])} should have layer {layer} = "
                                                     f"nn.Linear({weight.shape[1]}, {weight.shape[0]}), as in the "
                                                     f"notebook; got {module!r}")
            module.weight.copy_(tensor(weight))
            module.bias.copy_(tensor(arrays[f"w/{layer}.bias"]))
    return vae.to(device())


def vae2d_where(name: str, case, inputs: str, returns: str) -> str:
    """What an error of method ``name`` is charged to: the method, and on a model of another size than the
    notebook's, that model (its dims), the inputs it was given and what it should return, so that the student
    sees a hard-coded size for what it is."""
    obs, _, latent = case["dims"]
    if (obs, latent) == NOTEBOOK_SIZES_2D:
        return name
    return (f"{name} (on the grader's VAE2D{tuple(case['dims'])}, a model of another size than the notebook's: "
            f"obs_dim, hidden_dim, latent_dim = {', '.join(map(str, case['dims']))}; called with {inputs}, it "
            f"should return {returns})")


def seeded_noise(mu, seed: int):
    """Standard normal noise of ``mu``'s shape drawn on the CPU from ``seed`` (as ``torch.randn_like`` draws it
    there after ``torch.manual_seed(seed)``), on ``mu``'s device."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)


def own_pieces(vae, keep, noise_seed=None, batch=None):
    """A check's ``surround``: the student's own methods stay; with ``noise_seed``, ``reparameterize`` draws the
    grader's noise on the whole batch (``batch`` rows), z = mu + exp(logvar / 2) * eps as the notebook states it,
    and fresh noise otherwise. Returns the list of its calls (True: the seeded noise was used)."""
    import torch

    calls = []
    if noise_seed is not None:
        def reparameterize(mu, logvar):
            calls.append(len(mu) == batch and mu.dim() == 2)
            eps = seeded_noise(mu, noise_seed) if calls[-1] else torch.randn_like(mu)
            return mu + torch.exp(0.5 * logvar) * eps

        vae.reparameterize = reparameterize
    return calls


def vae2d_probe_encoder(vae_class, case, arrays, surround=None):
    """Call ``encoder`` of the submission's model on the case's inputs: its outputs (arrays) and info."""
    vae, surround = vae2d_build(vae_class, case, arrays), surround or own_pieces
    surround(vae, "encoder")
    x = tensor(arrays["x"])
    latent = case["dims"][2]
    at = vae2d_where("encoder", case, f"x of shape {tuple(x.shape)}", f"mu and logvar of shape ({len(x)}, {latent})")
    return pair(call(at, method(vae, "encoder"), x), "encoder", ("mu", "logvar")), {}


def vae2d_probe_decoder(vae_class, case, arrays, surround=None):
    """Call ``decoder`` of the submission's model on the case's inputs: its outputs (arrays) and info."""
    vae, surround = vae2d_build(vae_class, case, arrays), surround or own_pieces
    surround(vae, "decoder")
    z = tensor(arrays["z"])
    at = vae2d_where("decoder", case, f"z of shape {tuple(z.shape)}", f"theta of shape ({len(z)}, {case['dims'][0]})")
    return {"theta": to_array(call(at, method(vae, "decoder"), z), "decoder", "theta")}, {}


def vae2d_probe_reparameterize(vae_class, case, arrays, surround=None):
    """Draw z for the given mu/logvar ``repeats`` times; with ``grad``, also dz/dmu and dz/dlogvar."""
    import torch

    vae, surround = vae2d_build(vae_class, case, arrays), surround or own_pieces
    surround(vae, "reparameterize")
    params, outputs, info = case["params"], {}, {}
    mu = tensor(arrays["mu"]).requires_grad_(params["grad"])
    logvar = tensor(arrays["logvar"]).requires_grad_(params["grad"])
    for repeat in range(params["repeats"]):
        z = call("reparameterize", method(vae, "reparameterize"), mu, logvar)
        outputs[f"z{repeat}"] = to_array(z, "reparameterize", "z")
    if params["grad"]:
        grads = (None, None)
        if z.requires_grad:
            grads = call("reparameterize (backward pass)",
                         lambda: torch.autograd.grad(z.sum(), [mu, logvar], allow_unused=True))
        for name, grad in zip(("mu", "logvar"), grads):
            info[f"grad_{name}"] = grad is not None
            if grad is not None:
                outputs[f"grad_{name}"] = to_array(grad, "", "")
    return outputs, info


def vae2d_probe_loss(vae_class, case, arrays, surround=None):
    """loss(x, beta) with the other methods around it and reparameterize drawing the case's seeded noise, its
    gradients w.r.t. the five weights, loss(x, beta + 1) with the same noise ("loss_more": the two tell the
    reconstruction term and the KL apart), and ``repeats`` more calls with fresh noise (compared on average with
    the reference's, for a loss that draws its own)."""
    import torch

    vae, surround = vae2d_build(vae_class, case, arrays), surround or own_pieces
    x, beta = tensor(arrays["x"]), float(case["params"]["beta"])
    calls = surround(vae, "loss", case["params"]["noise_seed"], len(x))
    value = call("loss", method(vae, "loss"), x, beta)
    outputs = {"loss": to_array(value, "loss", "loss")}
    info = {"noise_calls": sum(calls), "fresh_calls": len(calls) - sum(calls), "grads": {}}
    weights = [getattr(vae, layer).weight for layer in VAE2D_LAYERS]
    grads = [None] * len(VAE2D_LAYERS)
    if isinstance(value, torch.Tensor) and value.requires_grad:
        grads = call("loss (backward pass)", lambda: torch.autograd.grad(value.sum(), weights, allow_unused=True))
    for layer, grad in zip(VAE2D_LAYERS, grads):
        info["grads"][layer] = grad is not None
        if grad is not None:
            outputs[f"grad/{layer}"] = to_array(grad, "", "")
    with torch.no_grad():  # the same noise at beta + 1: the difference is the KL term, what is left the other
        outputs["loss_more"] = to_array(call("loss", method(vae, "loss"), x, beta + 1.0), "loss", "loss")
    surround(vae, "loss")  # the repeats draw fresh noise: their mean is the expected loss's
    draws = _loss_repeats(vae, x, beta, case["params"].get("repeats", 0))
    if draws:
        outputs["repeats"], outputs["repeats_more"] = (np.stack(d) for d in zip(*draws))
    return outputs, info


def _loss_repeats(vae, x, beta, count):
    """``count`` pairs (loss(x, beta), loss(x, beta + 1)), each pair with the same noise: the global generator is
    seeded with the same seed before both calls, so that a loss drawing its own noise with it draws the same z
    twice and the difference of the pair is its KL term. The seeds come from the case's seed alone (the child's
    initial seed), so the expected child's call k draws its noise from the same seed as the student's call k."""
    import torch

    generator = torch.Generator().manual_seed(torch.initial_seed())
    seeds, draws = torch.randint(0, 2**62, (count,), generator=generator).tolist(), []
    with torch.no_grad():
        for seed in seeds:
            pair_ = []
            for at in (beta, beta + 1.0):
                torch.manual_seed(seed)
                pair_.append(to_array(call("loss", method(vae, "loss"), x, at), "loss", "loss"))
            draws.append(pair_)
    return draws


def vae2d_probe_reconstruct(vae_class, case, arrays, surround=None):
    """reconstruct(x), twice (a reconstruction through a sample differs between calls)."""
    vae, surround = vae2d_build(vae_class, case, arrays), surround or own_pieces
    surround(vae, "reconstruct")
    x = tensor(arrays["x"])
    at = vae2d_where("reconstruct", case, f"x of shape {tuple(x.shape)}", f"theta of shape {tuple(x.shape)}")
    first = to_array(call(at, method(vae, "reconstruct"), x), "reconstruct", "theta")
    second = to_array(call(at, method(vae, "reconstruct"), x), "reconstruct", "theta")
    return {"theta": first, "again": second}, {}


def vae2d_probe_latent_grid(vae_class, case, arrays, surround=None):
    """Call ``latent_grid`` of the submission's model on the case's inputs: its outputs (arrays) and info."""
    vae, surround = vae2d_build(vae_class, case, arrays), surround or own_pieces
    surround(vae, "latent_grid")
    p = case["params"]
    at = vae2d_where("latent_grid", case, f"n = {p['n']}", f"images of shape ({p['n'] ** 2}, {case['dims'][0]})")
    images = call(at, method(vae, "latent_grid"), p["n"], p["z_min"], p["z_max"])
    return {"images": to_array(images, "latent_grid", "images")}, {}


def vae2d_probe_interpolate(vae_class, case, arrays, surround=None):
    """Call ``interpolate`` of the submission's model on the case's inputs: its outputs (arrays) and info."""
    vae, surround = vae2d_build(vae_class, case, arrays), surround or own_pieces
    surround(vae, "interpolate")
    steps = case["params"]["steps"]
    at = vae2d_where("interpolate", case, f"x_a and x_b of shape {arrays['x_a'].shape}, steps = {steps}",
                     f"a row of shape ({steps + 2}, {case['dims'][0]})")
    row = call(at, method(vae, "interpolate"), tensor(arrays["x_a"]), tensor(arrays["x_b"]), steps)
    return {"row": to_array(row, "interpolate", "row")}, {}


def vae2d_probe_pick_pairs(vae_class, case, arrays, surround=None):
    """``VAE2D.pick_pairs(labels, same, seed)`` called on the class, twice with the same seed."""
    import torch

    p, labels = case["params"], torch.as_tensor(arrays["labels"])
    picks = [call("pick_pairs", method(vae_class, "pick_pairs"), labels.clone(), p["same"], p["seed"])
             for _ in range(2)]
    return {"pairs": to_array(picks[0], "pick_pairs", "pairs"), "again": to_array(picks[1], "pick_pairs", "pairs")}, {}


RUNNERS["vae2d"] = {"encoder": vae2d_probe_encoder, "decoder": vae2d_probe_decoder,
                    "reparameterize": vae2d_probe_reparameterize, "loss": vae2d_probe_loss,
                    "reconstruct": vae2d_probe_reconstruct, "latent_grid": vae2d_probe_latent_grid,
                    "interpolate": vae2d_probe_interpolate, "pick_pairs": vae2d_probe_pick_pairs}
NEEDS["vae2d"] = {"loss": ("encoder", "decoder"), "reconstruct": ("encoder", "decoder"),
                  "latent_grid": ("decoder",), "interpolate": ("encoder", "decoder")}


# --- Part 3's judges: the bodies of autograder/assignments/cvae/graders ----------------------------------------

#: The notebook's table of ConvVAE (seed 003's): layer -> (type, parameters, output shape without the batch).
CONV = {"conv1": ("Conv2d", 320, (32, 14, 14)), "conv2": ("Conv2d", 18496, (64, 7, 7)),
        "fc": ("Linear", 43918, (14,)), "fc_mu": ("Linear", 30, (2,)), "fc_logvar": ("Linear", 30, (2,)),
        "fc_dec": ("Linear", 9408, (3136,)), "deconv1": ("ConvTranspose2d", 36928, (64, 14, 14)),
        "deconv2": ("ConvTranspose2d", 18464, (32, 28, 28)), "deconv3": ("ConvTranspose2d", 289, (1, 28, 28))}
#: The ConditionalVAE's two changed layers: the label's 10 planes at conv1, its one-hot vector at fc_dec.
COND = {**CONV, "conv1": ("Conv2d", 3200, (32, 14, 14)), "fc_dec": ("Linear", 40768, (3136,))}
CONV_ENCODER = ("conv1", "conv2", "fc", "fc_mu", "fc_logvar")
CONV_LAYERS = tuple(CONV)
#: What each layer of the table takes, without the batch (the ConditionalVAE's conv1 and fc_dec: see COND_INPUTS).
CONV_INPUTS = {"conv1": (1, 28, 28), "conv2": (32, 14, 14), "fc": (3136,), "fc_mu": (14,), "fc_logvar": (14,),
               "fc_dec": (2,), "deconv1": (64, 7, 7), "deconv2": (64, 14, 14), "deconv3": (32, 28, 28)}
COND_INPUTS = {**CONV_INPUTS, "conv1": (11, 28, 28), "fc_dec": (12,)}
LAYER_HINTS = {"conv1": "a 3 x 3 kernel with stride 2 and padding 1 halves 28 x 28 to 14 x 14",
               "conv2": "stride 2 and padding 1 halve 14 x 14 to 7 x 7",
               "deconv1": "a transposed 3 x 3 convolution with stride 2, padding 1 and output_padding 1 doubles 7 x 7 "
                          "to 14 x 14",
               "deconv2": "stride 2, padding 1 and output_padding 1 double 14 x 14 to 28 x 28",
               "deconv3": "stride 1 and padding 1 keep 28 x 28"}


def check_layers(found, table: dict, class_name: str, layers=None) -> None:
    """Fail unless every layer of ``layers`` (default all) has the type, parameter count and output shape of
    ``table``, and the encoder's and decoder's totals are right."""
    types, out = found.info.get("types", {}), found.outputs
    for name in layers or table:
        kind, params, shape = table[name]
        if types.get(name) != kind:
            fail(f"{class_name} should have a layer self.{name} = nn.{kind}(...); "
                 + (f"yours is {types.get(name)}" if types.get(name) else "it has none"))
        got = int(out[f"params/{name}"][0]) if f"params/{name}" in out else None
        if got != params:
            what = "its input and output sizes" + (" and its 3 x 3 kernel" if "Conv" in kind else "")
            fail(f"{class_name}.{name} should have {params:,} parameters (the notebook's table), but yours has "
                 f"{got:,}: check {what}")
    for name in layers or table:  # the first layer whose output has the wrong shape, as far as the pass got
        if f"shape/{name}" not in out and "forward_error" in found.info:
            fail(f"the reference's encoder and decoder cannot run through your {class_name}'s layers: "
                 f"{found.info['forward_error']}" + _shapes_reached(out, table))
        got = tuple(out.get(f"shape/{name}", np.zeros(0, np.int64)).tolist())[1:]
        if got != table[name][2]:
            extra = f" ({LAYER_HINTS[name]})" if name in LAYER_HINTS else ""
            fail(f"{class_name}.{name} should output shape (batch, {', '.join(map(str, table[name][2]))}), but "
                 f"outputs (batch, {', '.join(map(str, got))}){extra}")
    for part, names in (("encoder", CONV_ENCODER), ("decoder", tuple(n for n in table if n not in CONV_ENCODER))):
        total, want = sum(int(out[f"params/{n}"][0]) for n in names), sum(table[n][1] for n in names)
        if total != want:
            fail(f"your {class_name}'s {part} has {total:,} parameters in all, where the notebook's table gives "
                 f"{want:,}")


def _shapes_reached(out, table) -> str:
    seen = [f"{n}: {tuple(out[f'shape/{n}'].tolist())[1:]}" for n in table if f"shape/{n}" in out]
    return f"\n  Output shapes reached: {', '.join(seen) or 'none'}." if seen else ""


def cvae_conv_layers_shapes(sub):
    """The judge of ``conv_layers.shapes`` (cvae): does each layer have the type, parameter count and output shape of
    the notebook's table? Raises CheckFailure with the grader's message."""
    check_layers(sub.case("conv"), CONV, "ConvVAE")


def cvae_cond_layers_shapes(sub):
    """The judge of ``cond_layers.shapes`` (cvae): do conv1 take 1 + 10 channels and fc_dec 2 + 10 inputs, with every
    other layer as in ConvVAE? Raises CheckFailure with the grader's message."""
    check_layers(sub.case("cond"), COND, "ConditionalVAE")


def _class_cases(sub, kind: str) -> list:
    """The results of every case of the test's probe whose name is ``kind`` or starts with ``kind_``, in order."""
    cases, result = sub.run()
    return [result.case(c.name) for c in cases if c.name == kind or c.name.startswith(kind + "_")]


def compare_with_hint(got, expected, what: str, mistakes=(), hint=None, rtol=1e-4, atol=1e-4) -> None:
    """:func:`compare`, with ``hint()``'s sentence (when not None) added to its failure."""
    try:
        compare(got, expected, what, mistakes, rtol=rtol, atol=atol)
    except CheckFailure as exc:
        extra = hint() if hint else None
        fail(f"{exc}\n  {extra}" if extra and extra not in str(exc) else str(exc))


def cvae_encoder(sub, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.encoder`` returns (mu, logvar) of the reference's shapes (and, with ``values``,
    its values, on every case), naming swapped or copied heads, an activation on a head, and (ConditionalVAE)
    which part of conv1's input is wrong."""
    for found in _class_cases(sub, kind):
        out = found.outputs
        for name in ("mu", "logvar"):
            check_array(out[name], out[f"expected/{name}"].shape, f"{name} of {class_name}.encoder")
        if not values:
            continue
        swapped = close(out["expected/logvar"], out["mu"]) and close(out["expected/mu"], out["logvar"])
        for name, other in (("mu", "logvar"), ("logvar", "mu")):
            want = out[f"expected/{name}"]
            compare_with_hint(out[name], want, f"{name} of {class_name}.encoder", [
                ("Your mu and logvar are swapped: return (mu, logvar) in that order." if swapped else
                 f"Your {name} is what {other} should be: {name} comes from fc_{name}, {other} from fc_{other} "
                 "(a head copied from the other?).", out[f"expected/{other}"]),
                (f"Your {name} is never negative: the heads fc_mu and fc_logvar are linear, with no ReLU after "
                 f"them ({name} takes any real value).", np.maximum(want, 0)),
                (f"Your {name} is the exp of what it should be: the head gives {name} itself, with no "
                 "activation.", np.exp(want)),
            ], hint=lambda: _conv1_hint(found, class_name))


def _conv1_hint(found, class_name: str):
    """Which part of the input conv1 received differs from the reference's: the image channel or the label's 10
    planes (ConditionalVAE only; None when conv1's input is right or was not recorded)."""
    got, want = found.outputs.get("conv1_input"), found.outputs.get("expected/conv1_input")
    if class_name != "ConditionalVAE" or got is None or want is None:
        return None
    if got.shape != want.shape:
        return (f"conv1 received an input of shape {got.shape}, where it takes {want.shape}: the image (1 channel), "
                "then its label's 10 planes, joined with torch.cat([x, planes], dim=1).")
    image, planes = close(want[:, :1], got[:, :1]), close(want[:, 1:], got[:, 1:])
    if close(want[:, :1], got[:, 10:]) and close(want[:, 1:], got[:, :10]):
        return ("conv1 received the label's planes first, then the image: join them as torch.cat([x, planes], "
                "dim=1), the image in channel 0, as conv1's weights expect.")
    if image and planes:
        return "conv1 received the right input (the image, then the label's planes): the difference comes after it."
    if image:
        constant = np.allclose(got[:, 1:], got[:, 1:, :1, :1])
        why = ("they are all zero: the label is ignored" if not np.any(got[:, 1:]) else
               "they vary over the pixels (a plane must be constant: expand or repeat the one-hot vector over the "
               "28 x 28 pixels, not reshape it or multiply it into the image)" if not constant else
               "they are constant but not the one-hot vector of c")
        return (f"conv1 received the right image channel but the wrong label planes: plane k of image i should be "
                f"all ones when k == c[i] and all zeros otherwise; {why}.")
    if planes:
        return "conv1 received the right label planes but not the image in channel 0: channel 0 should be x itself."
    return "conv1 received neither the image (channel 0) nor the label's planes (channels 1 to 10) it should."


def cvae_decoder(sub, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.decoder`` returns theta of shape (batch, 1, 28, 28) in (0, 1) (and, with
    ``values``, the reference's values on every case), naming known mistakes and (ConditionalVAE) which part of
    fc_dec's input is wrong."""
    for found in _class_cases(sub, kind):
        theta, expected = found.outputs["theta"], found.outputs["expected/theta"]
        check_array(theta, expected.shape, f"theta of {class_name}.decoder")
        logits = np.log(np.clip(expected, 1e-12, 1)) - np.log1p(-np.clip(expected, 0, 1 - 1e-7))
        if theta.min() < 0 or theta.max() > 1:
            tanh = " (yours ends with tanh, whose values lie in (-1, 1))" if close(np.tanh(logits), theta, 1e-3, 1e-3) \
                else ""
            fail(f"theta holds pixel probabilities in (0, 1); yours range over [{theta.min():.3g}, "
                 f"{theta.max():.3g}]{tanh}: end the decoder with a sigmoid")
        if values:
            compare_with_hint(theta, expected, f"theta of {class_name}.decoder", [
                ("Your decoder applies the sigmoid where a ReLU belongs, or a ReLU after the last layer: ReLU after "
                 "every layer but the last, then a sigmoid.", 1 / (1 + np.exp(-np.maximum(logits, 0)))),
                ("Your decoder ends with tanh: end it with a sigmoid, theta = torch.sigmoid(...).", np.tanh(logits)),
            ], hint=lambda: _fc_dec_hint(found, class_name))


def _fc_dec_hint(found, class_name: str):
    """Which part of the input fc_dec received differs from the reference's: z or the label's one-hot vector, or
    their order (ConditionalVAE only; None when fc_dec's input is right or was not recorded)."""
    got, want = found.outputs.get("fc_dec_input"), found.outputs.get("expected/fc_dec_input")
    if class_name != "ConditionalVAE" or got is None or want is None:
        return None
    if got.shape != want.shape:
        return (f"fc_dec received an input of shape {got.shape}, where it takes {want.shape}: z (2 columns), then "
                "the label's one-hot vector (10), joined with torch.cat([z, one_hot], dim=1).")
    if close(want[:, :2], got[:, 10:]) and close(want[:, 2:], got[:, :10]):
        return ("fc_dec received the one-hot vector first, then z: the order is z first, torch.cat([z, one_hot], "
                "dim=1), as fc_dec's weights expect (ConvVAE's decoder reads z from its first columns).")
    codes, labels = close(want[:, :2], got[:, :2]), close(want[:, 2:], got[:, 2:])
    if codes and labels:
        return "fc_dec received the right input (z, then the one-hot label): the difference comes after it."
    if codes:
        why = "; yours are all zero: the label is ignored" if not np.any(got[:, 2:]) else ""
        return (f"fc_dec received z right but not the label: its last 10 columns should be the one-hot vector of c, "
                f"F.one_hot(c, 10){why}.")
    if labels:
        return "fc_dec received the right one-hot label but not z in its first columns: pass z itself."
    return "fc_dec received neither z (its first 2 columns) nor the one-hot label (its last 10) it should."


def cvae_terms(x, theta, mu, logvar) -> tuple:
    """The reconstruction term and KL per image, in nats, float64 (Kingma & Welling 2014, eq. 10 and appendix
    B), of images ``x`` for pixel probabilities ``theta`` (their logs clamped at -100, as torch's BCE clamps)."""
    x, theta = x.reshape(len(x), -1).astype(np.float64), theta.reshape(len(x), -1).astype(np.float64)
    return _bce_images(x, theta), 0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, axis=-1)


def _bce_images(x, theta):
    """-sum(x log theta + (1 - x) log(1 - theta)) per row, each log clamped at -100 as torch's is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.maximum(np.log(theta), -100.0), np.maximum(np.log1p(-theta), -100.0)
    return -np.sum(np.nan_to_num(x * logs[0]) + np.nan_to_num((1 - x) * logs[1]), axis=-1)


def cvae_loss_mistakes(out) -> list:
    """What known mistakes would return for one loss case, from the reference's mu, logvar, theta and x, with the
    sentence for each (the first that fits is named)."""
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    x = out["expected/x"].reshape(len(mu), -1).astype(np.float64)
    theta = out["expected/theta_z"].reshape(len(mu), -1).astype(np.float64)
    r, kl = cvae_terms(x, theta, mu, logvar)
    half = 0.5 * np.sum(mu**2 - 1 - logvar, axis=-1)
    return [
        ("Your loss subtracts the KL: the loss is the negative ELBO, reconstruction + KL (the handout's formula "
         "adds the KL to the log-likelihood, a sign slip: the ELBO subtracts it).", r - kl),
        ("Your loss is the ELBO, not the loss: return its negative, reconstruction + KL.", -(r + kl)),
        (f"Your KL misses the factor 1/2: {CLOSED_FORM_LOGVAR}.", r + 2 * kl),
        ("Your reconstruction term is averaged over the pixels: sum it over the 784 pixels.", r / 784 + kl),
        ("Your reconstruction term is averaged over the batch (a batch-mean binary cross-entropy times 784): "
         "sum it over each image's pixels, one value per image.", np.full_like(r, r.mean()) + kl),
        ("Your loss has no KL term.", r),
        ("Your KL is summed over the batch and added to every image's loss: sum it over the latent dimensions "
         "only, one value per image.", r + kl.sum()),
        ("Your KL reads logvar as a log standard deviation: logvar is log sigma^2, so " + CLOSED_FORM_LOGVAR + ".",
         r + 0.5 * np.sum(np.exp(2 * logvar) + mu**2 - 1 - 2 * logvar, axis=-1)),
        ("Your KL squares the variance: exp(logvar) is already sigma^2, so " + CLOSED_FORM_LOGVAR + ".",
         r + half + 0.5 * np.sum(np.exp(2 * logvar), axis=-1)),
        ("Your KL has sigma where sigma^2 belongs: exp(logvar) is sigma^2, so " + CLOSED_FORM_LOGVAR + ".",
         r + half + 0.5 * np.sum(np.exp(0.5 * logvar), axis=-1)),
        ("Your reconstruction term is a squared error: this notebook's likelihood is Bernoulli, so the term is the "
         "binary cross-entropy -sum(x log theta + (1 - x) log(1 - theta)) over the pixels.",
         np.sum((x - theta) ** 2, axis=-1) + kl),
        ("Your binary cross-entropy has its arguments swapped: F.binary_cross_entropy(theta, x), the "
         "prediction first and the images (the target) second.", _bce_images(theta, x) + kl),
        ("Your loss passes the variance to reparameterize: it takes logvar, the log-variance, "
         "self.reparameterize(mu, logvar).",
         cvae_terms(x, out["expected/theta_var"].reshape(len(mu), -1), mu, logvar)[0] + kl),
    ]


def cvae_loss(sub, kind: str, class_name: str, values: bool) -> None:
    """Fail unless ``class_name.loss`` returns one value per image (and, with ``values``, the reference's
    reconstruction + KL: exactly where the decoder ignores z, on real MNIST images, or for the grader's noise;
    for a loss that draws its own noise, its z tested as draws from q(z | x) and its mean over many calls)."""
    found_all = _class_cases(sub, kind)
    for found in found_all:
        out, batch = found.outputs, len(found.case.arrays["x"])
        if out["loss"].shape in ((), (1,)):
            fail(f"{class_name}.loss should have shape ({batch},), one value per image, but is a single number: do "
                 "not average or sum over the batch (the training loop takes the mean)")
        where = " on real MNIST images" if found.case.params.get("mnist") else ""
        check_array(out["loss"], (batch,), f"{class_name}.loss{where}")
    if not values:
        return
    for found in sorted(found_all, key=lambda f: not f.case.params.get("constant")):  # the exact case first
        out, info = found.outputs, found.info
        if found.case.params.get("constant"):
            what = (f"{class_name}.loss{' on real MNIST images' if found.case.params.get('mnist') else ''}, with a "
                    "decoder that ignores z (so that the loss is the same whatever noise it draws)")
        elif info.get("noise_calls") and not info.get("fresh_calls"):
            what = f"{class_name}.loss for the z drawn by reparameterize"
        else:
            _own_noise(found, class_name)
            continue
        compare(out["loss"], out["expected/loss"], what, cvae_loss_mistakes(out), rtol=1e-4, atol=1e-2)


def _own_noise(found, class_name: str) -> None:
    """The checks of a loss that draws its own noise: its calls differ, the z it decodes are draws from
    q(z | x) = N(mu, sigma^2) (standardised with the reference's mu and logvar, tested at 6 standard errors), and
    its mean over the calls equals the reference's mean within 6 standard errors of their difference."""
    out = found.outputs
    mine, reference = out.get("repeats"), out["expected/repeats"]
    if mine is None or mine.shape != reference.shape:
        fail(f"{class_name}.loss over {reference.shape[0]} calls should have shape {reference.shape}")
    if np.all(mine == mine[:1]):  # a float32 variance of identical values need not be 0: compare the values
        fail(f"your {class_name}.loss is the same on every one of {len(mine)} calls, so it does not sample "
             "z ~ q(z | x): decode z = self.reparameterize(mu, logvar), not mu.")
    mu, logvar = out["expected/mu"].astype(np.float64), out["expected/logvar"].astype(np.float64)
    decoded = out.get("decoded")
    if decoded is not None and decoded.shape == (len(mine) * len(mu), mu.shape[1]):
        noise = (decoded.reshape(len(mine), *mu.shape) - mu) / np.exp(0.5 * logvar)
        problem = standard_normal(noise.reshape(-1, mu.shape[1]), "the noise (z - mu) / sigma of the z your "
                                                                          "loss decodes")
        if problem:
            fail(f"{problem}: z ~ q(z | x) is mu + exp(logvar / 2) * eps with eps ~ N(0, I), fresh on every call "
                 "(self.reparameterize(mu, logvar) draws it)")
    if not same_mean(mine, reference):
        fail(f"averaged over {len(mine)} calls, your {class_name}.loss is {np.round(mine.mean(0), 2).tolist()} where "
             f"the reference's is {np.round(reference.mean(0), 2).tolist()} (more than {SIGMAS:g} standard "
             "errors apart): your loss draws its own noise, so it is checked by its average for the z it decodes")


def _cvae_judges() -> dict:
    """Part 3's judge of each test the checks run, by key (the layers' values need the reference's forward pass
    through the student's own layers, in a trusted child: the grader's alone)."""
    found = {"conv_layers.shapes": cvae_conv_layers_shapes, "cond_layers.shapes": cvae_cond_layers_shapes}
    for kind, class_name in (("conv", "ConvVAE"), ("cond", "ConditionalVAE")):
        for method, judge in (("encoder", cvae_encoder), ("decoder", cvae_decoder), ("loss", cvae_loss)):
            for test, values in (("shapes", False), ("values", True)):
                found[f"{kind}_{method}.{test}"] = (lambda sub, judge=judge, kind=kind, class_name=class_name,
                                                   values=values: judge(sub, kind, class_name, values))
    return found


JUDGES["cvae"] = _cvae_judges()


def _labels_case(sub):
    found = sub.case("labels")
    return found.case.arrays["c"], found.outputs


def cvae_sample_shapes(sub):
    """The judge of ``sample.shapes`` (cvae): is sample(c) a float tensor of shape (len(c), 1, 28, 28) with values in
    (0, 1)? Raises CheckFailure with the grader's message."""
    c, out = _labels_case(sub)
    check_array(out["theta"], (len(c), 1, 28, 28), f"sample(c) for {len(c)} labels")
    if out["theta"].min() < 0 or out["theta"].max() > 1:
        fail("sample should return the decoder's pixel probabilities, in (0, 1)")


def _decoder_input(c, out):
    if "decoder_input" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer fc_dec)")
    found = out["decoder_input"]
    check_array(found, (len(c), 12), "the decoder's input (z and the label's one-hot vector)")
    return found[:, :2], found[:, 2:]


def cvae_sample_prior(sub):
    """The judge of ``sample.prior`` (cvae): are the codes z drawn from the prior N(0, I), one fresh draw per label?
    Raises CheckFailure with the grader's message."""
    c, out = _labels_case(sub)
    z, _ = _decoder_input(c, out)
    problem = standard_normal(z.astype(np.float64), "the z that sample decodes")
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


def cvae_sample_labels(sub):
    """The judge of ``sample.labels`` (cvae): is each code decoded with its own label, in the order of c? Raises
    CheckFailure with the grader's message."""
    c, out = _labels_case(sub)
    _, one_hot = _decoder_input(c, out)
    if not np.array_equal(one_hot, np.eye(10, dtype=one_hot.dtype)[c]):
        fail(f"the decoder was given other labels than c: row i should decode z_i with label c[i] "
             f"(checked on {len(c)} labels)")


def cvae_sample_returned(sub, decoded=None):
    """The judge of ``sample.returned`` (cvae): does sample return, row by row, the images the decoder made of the
    codes and labels it was given? Raises CheckFailure with the grader's message."""
    c, out = _labels_case(sub)
    if "decoder_input" not in out:
        fail("sample never passed anything through the decoder (self.decoder, or its layer fc_dec)")
    check_array(out["theta"], (len(c), 1, 28, 28), f"sample(c) for {len(c)} labels")
    check_array(out["decoder_input"], (len(c), 12), "the decoder's input (z and the label's one-hot vector)")
    expected = (decoded or sub.decoded)(sub.case("labels"), out["decoder_input"])
    compare(out["theta"], expected, "what sample returned (compared with the reference decoder's "
            "images of the z and labels it decoded, row by row)", rtol=1e-4, atol=1e-5)


def _digits_case(sub):
    found = sub.case("digits")
    return found.case.params, found.outputs


def cvae_generate_shapes(sub):
    """The judge of ``generate.shapes`` (cvae): is generate(digits, n) a float tensor of shape (len(digits) * n, 1,
    28, 28)? Raises CheckFailure with the grader's message."""
    p, out = _digits_case(sub)
    check_array(out["theta"], (len(p["digits"]) * p["n"], 1, 28, 28), f"generate({p['digits']}, {p['n']})")


def cvae_generate_order(sub):
    """The judge of ``generate.order`` (cvae): does it ask sample for n images of digits[0], then n of digits[1], and
    so on? Raises CheckFailure with the grader's message."""
    p, out = _digits_case(sub)
    wanted = np.repeat(np.array(p["digits"]), p["n"])
    if "labels" not in out:
        fail("generate never called self.sample")
    if not np.array_equal(out["labels"], wanted):
        got = out["labels"].tolist()
        fail(f"generate({p['digits']}, {p['n']}) should ask sample for labels {wanted.tolist()}, but asked for "
             f"{got}{_order_hint(got, p['digits'], p['n'])}")


def _order_hint(got: list, digits: list, n: int) -> str:
    """Why ``got`` (the labels sample was asked for) holds the right labels in another order ("" otherwise)."""
    if got == np.tile(digits, n).tolist():
        return " (digit by digit: repeat_interleave, not repeat)"
    if sorted(got) == sorted(np.repeat(digits, n).tolist()):
        return (" (the right labels in another order: n images of digits[0], then n of digits[1], ..., in the order "
                "asked for)")
    return ""


def cvae_generate_returned(sub, decoded=None):
    """The judge of ``generate.returned`` (cvae): does generate return, in their order, the images sample made for
    it? Raises CheckFailure with the grader's message."""
    p, out = _digits_case(sub)
    rows = len(p["digits"]) * p["n"]
    check_array(out["theta"], (rows, 1, 28, 28), f"generate({p['digits']}, {p['n']})")
    inputs = out.get("decoder_input")
    if inputs is None or inputs.shape != (rows, 12):
        fail(f"generate({p['digits']}, {p['n']}) should decode {rows} codes through self.sample (the decoder saw "
             f"{0 if inputs is None else len(inputs)} rows)")
    expected = (decoded or sub.decoded)(sub.case("digits"), inputs)
    compare(out["theta"], expected, f"what generate({p['digits']}, {p['n']}) returned (compared with the images "
            "sample made for it, in the order sample made them)", rtol=1e-4, atol=1e-5)


JUDGES["cvae"].update({
    "sample.shapes": cvae_sample_shapes, "sample.prior": cvae_sample_prior, "sample.labels": cvae_sample_labels,
    "sample.returned": cvae_sample_returned, "generate.shapes": cvae_generate_shapes,
    "generate.order": cvae_generate_order, "generate.returned": cvae_generate_returned})


# --- Part 3's probes: the calls and hooks that the grader's children (probes.py, with the reference's layers and
# methods around the method under test) and a check (with the student's own, at the reference's seeded weights)
# share.

def cvae_first_input(layer, seen: dict, key: str):
    """Record in ``seen[key]`` the first input ``layer`` receives (a forward pre-hook; returns its handle)."""
    return layer.register_forward_pre_hook(lambda m, a: seen.setdefault(key, a[0].detach().clone()))


def cvae_call_encoder(vae, encoder, where: str, x, args):
    """encoder(x[, c]): mu, logvar, and the input conv1 received (the image and, for the ConditionalVAE, its
    label's planes)."""
    seen = {}
    cvae_first_input(vae.conv1, seen, "conv1_input")
    outputs = pair(call(where, encoder, x, *args), where, ("mu", "logvar"))
    if "conv1_input" in seen:
        outputs["conv1_input"] = to_array(seen["conv1_input"], "", "")
    return outputs, {}


def cvae_call_decoder(vae, decoder, where: str, z, args):
    """decoder(z[, c]): theta, and the input fc_dec received (z and, for the ConditionalVAE, its label's one-hot
    vector)."""
    seen = {}
    cvae_first_input(vae.fc_dec, seen, "fc_dec_input")
    theta = call(where, decoder, z, *args)
    outputs = {"theta": to_array(theta, where, "theta")}
    if "fc_dec_input" in seen:
        outputs["fc_dec_input"] = to_array(seen["fc_dec_input"], "", "")
    return outputs, {}


def cvae_call_loss(vae, loss, where: str, x, args, calls, repeats: int, fresh):
    """loss(x[, c]) with reparameterize drawing the case's noise (``calls`` grows by one bool per call of it:
    True when the noise was used); when the loss draws its own noise instead, ``repeats`` more calls after
    ``fresh()`` (reparameterize then draws fresh noise): their values and the z each decoded (fc_dec's input)."""
    import torch

    value = call(where, loss, x, *args)
    outputs = {"loss": to_array(value, where, "loss")}
    info = {"noise_calls": sum(calls), "fresh_calls": len(calls) - sum(calls)}
    if repeats and (not info["noise_calls"] or info["fresh_calls"]):
        fresh()
        decoded = []
        hook = vae.fc_dec.register_forward_pre_hook(lambda m, a: decoded.append(a[0].detach()[:, :2].clone()))
        with torch.no_grad():
            draws = [to_array(call(where, loss, x, *args), where, "loss") for _ in range(repeats)]
        hook.remove()
        outputs["repeats"] = np.stack(draws) if len({d.shape for d in draws}) == 1 else np.zeros((0,))
        if decoded and all(d.dim() == 2 for d in decoded):
            outputs["decoded"] = to_array(torch.cat(decoded), "", "")
    return outputs, info


def cvae_given_noise(noise):
    """A reparameterize that returns ``mu + exp(logvar / 2) * noise`` on the whole batch (fresh noise otherwise),
    as the notebook's own (given) reparameterize draws; and the list of its calls (True: the noise was used)."""
    import torch

    calls = []

    def reparameterize(mu, logvar):
        calls.append(tuple(mu.shape) == tuple(noise.shape))
        return mu + torch.exp(0.5 * logvar) * (noise if calls[-1] else torch.randn_like(mu))

    return reparameterize, calls


def cvae_call_sample(vae, sample, c):
    """sample(c) under no_grad: the images, and the decoder's input (z and the label's one-hot vector, recorded by
    a hook on fc_dec)."""
    import torch

    seen = []
    vae.fc_dec.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    with torch.no_grad():  # sampling needs no gradients, and their activations would take ~200 MB
        theta = call("ConditionalVAE.sample", sample, c)
    outputs = {"theta": to_array(theta, "ConditionalVAE.sample", "theta")}
    if seen:
        outputs["decoder_input"] = to_array(torch.cat(seen) if all(s.dim() == 2 for s in seen) else seen[-1], "", "")
    return outputs, {}


def cvae_call_generate(vae, generate, digits, n):
    """generate(digits, n) under no_grad: the images, the labels ``vae.sample`` was given, in order, and what
    fc_dec received (z and the one-hot vectors, call by call)."""
    import torch

    given, seen = [], []
    real_sample = vae.sample

    def sample(c):
        given.append(torch.as_tensor(c).detach().reshape(-1).cpu())
        return real_sample(c)

    vae.sample = sample
    vae.fc_dec.register_forward_pre_hook(lambda m, a: seen.append(a[0].detach()))
    with torch.no_grad():
        theta = call("ConditionalVAE.generate", generate, list(digits), n)
    outputs = {"theta": to_array(theta, "ConditionalVAE.generate", "theta")}
    if given:
        outputs["labels"] = to_array(torch.cat(given).to(torch.int64), "", "")
    if seen and all(s.dim() == 2 for s in seen):
        outputs["decoder_input"] = to_array(torch.cat(seen), "", "")
    return outputs, {}


def cvae_spread(model, numbers: dict) -> None:
    """Scale the weights of ``model``'s fc_mu, fc_logvar and deconv3 and set their biases, from ``numbers``
    (``{layer: [scales, biases]}``, a case's ``params["spread"]``), so that mu, logvar and the pre-sigmoid span both
    signs on the case's inputs: a ReLU, an exp or a tanh where a head or the output has none then shows."""
    import torch

    with torch.no_grad():
        for name, (scales, biases) in numbers.items():
            layer = getattr(model, name)
            scales = torch.tensor(scales, dtype=layer.weight.dtype, device=layer.weight.device)
            layer.weight.mul_(scales.view(-1, *[1] * (layer.weight.dim() - 1)) if name != "deconv3" else scales)
            layer.bias.copy_(torch.tensor(biases, dtype=layer.bias.dtype, device=layer.bias.device))


class NotCheckable(Exception):
    """A check cannot judge this code here (``str(exc)`` says why and what to do); the grader can: no verdict."""


#: The seeded weights of each model a check built in its first round: (class, seed) -> state dict.
_SEEDED = {}


#: What, besides its weights, makes a layer the notebook's: its type and layout.
LAYOUT = ("stride", "padding", "output_padding", "dilation", "groups", "padding_mode", "in_features", "out_features")


def _digest(module) -> str:
    """A digest of ``module``'s type, layout (:data:`LAYOUT`) and parameters (float32 bytes, in order): the
    reference's layer with its weights at a seed, told apart without holding them."""
    import hashlib

    digest = hashlib.sha1(repr((type(module).__name__, [getattr(module, k, None) for k in LAYOUT])).encode())
    for parameter in module.parameters():
        digest.update(np.ascontiguousarray(parameter.detach().cpu().numpy(), np.float32).tobytes())
    return digest.hexdigest()[:16]


def cvae_own_model(student_class, case):
    """The student's ``class_name(2)`` with the reference's weights at the case's seed (spread, and fc_dec's z
    columns zero with ``constant``): its own ``__init__`` draws them under ``torch.manual_seed(seed)`` when its
    layers are the notebook's, created in the notebook's order, which the digests of the data tell. Raises
    NotCheckable when they are not (the grader copies its weights into the layers; a check cannot)."""
    import torch

    p = case["params"]
    torch.manual_seed(p["seed"])
    vae = call(f"{p['class_name']}.__init__", student_class, 2)
    key = (id(student_class), p["seed"])
    if key in _SEEDED:  # the second round meets the first round's model: its weights as drawn
        vae.load_state_dict(_SEEDED[key])
    else:
        wrong = [n for n in CONV_LAYERS if not isinstance(getattr(vae, n, None), torch.nn.Module)
                 or _digest(getattr(vae, n)) != p["digests"][n]]
        if wrong:
            raise NotCheckable(
                f"not checked here: your {p['class_name']}'s {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} "
                "not the notebook's layer (type, stride, padding, ...) with the weights the notebook's seed draws: "
                "the check needs the notebook's layers, created in its order (conv1, conv2, fc, fc_mu, fc_logvar, "
                "fc_dec, deconv1, deconv2, deconv3). The grader grades this method with its own layers, so this "
                "costs it nothing there; the layers' tests say what differs")
        _SEEDED[key] = {k: v.detach().clone() for k, v in vae.state_dict().items()}
    vae.latent_dim, vae.num_classes = 2, 10
    if p.get("spread"):
        cvae_spread(vae, p["spread"])
    if p.get("constant"):
        with torch.no_grad():
            vae.fc_dec.weight[:, :2] = 0.0
    return vae.to(device())


def _cvae_labels(arrays):
    import torch

    return torch.as_tensor(arrays["c"], device=device())


def cvae_check_layers(student_class, case, arrays):
    """The student's own ``__init__``: each layer's type, parameter count, and output shape on an input of the
    table's shape (each layer on its own: a check runs no forward pass of the reference)."""
    import torch

    p = case["params"]
    torch.manual_seed(p["seed"])
    vae = call(f"{p['class_name']}.__init__", student_class, 2)
    if not isinstance(vae, torch.nn.Module):
        raise StudentError(f"{p['class_name']}.__init__", f"{p['class_name']} must be an nn.Module")
    inputs = COND_INPUTS if p["class_name"] == "ConditionalVAE" else CONV_INPUTS
    outputs, info = {}, {"types": {}}
    for name in CONV_LAYERS:
        module = getattr(vae, name, None)
        info["types"][name] = type(module).__name__ if module is not None else None
        if not isinstance(module, torch.nn.Module):
            continue
        outputs[f"params/{name}"] = np.array([sum(q.numel() for q in module.parameters())], np.int64)
        try:
            with torch.no_grad():
                out = module(torch.zeros(2, *inputs[name]))
            outputs[f"shape/{name}"] = np.array(tuple(out.shape), np.int64)
        except Exception as exc:  # noqa: BLE001 - the layer does not take the table's input: the judge says so
            info.setdefault("forward_error", f"{name}: {type(exc).__name__}: {str(exc)[:300]}")
    return outputs, info


def cvae_check_method(student_class, case, arrays):
    """encoder, decoder or loss (``params["method"]``) of the student's class at the reference's seeded weights,
    with the student's own other methods (which pass their checks first) and, for the loss, the case's noise."""
    p, where = case["params"], f"{case['params']['class_name']}.{case['params']['method']}"
    vae = cvae_own_model(student_class, case)
    args = (_cvae_labels(arrays),) if p["class_name"] == "ConditionalVAE" else ()
    own = method(vae, p["method"])
    if p["method"] == "encoder":
        return cvae_call_encoder(vae, own, where, tensor(arrays["x"]), args)
    if p["method"] == "decoder":
        return cvae_call_decoder(vae, own, where, tensor(arrays["z"]), args)
    vae.reparameterize, calls = cvae_given_noise(tensor(arrays["eps"]))

    def fresh():  # the notebook's own (given) reparameterize again: fresh noise
        vae.__dict__.pop("reparameterize", None)
    return cvae_call_loss(vae, own, where, tensor(arrays["x"]), args, calls, p.get("repeats", 0), fresh)


def cvae_check_sample(student_class, case, arrays):
    """sample(c) of the student's ConditionalVAE at the reference's seeded weights, with its own decoder."""
    vae = cvae_own_model(student_class, case)
    return cvae_call_sample(vae, method(vae, "sample"), _cvae_labels(arrays))


def cvae_check_generate(student_class, case, arrays):
    """generate(digits, n) of the student's ConditionalVAE at the reference's seeded weights, with its own sample."""
    vae = cvae_own_model(student_class, case)
    return cvae_call_generate(vae, method(vae, "generate"), case["params"]["digits"], case["params"]["n"])


def cvae_decoded(classes, case, inputs):
    """What ``ConvVAE.decoder`` makes of the rows ``inputs`` (fc_dec's input: z and the one-hot label) on the case's
    model, row by row: the student's own ConvVAE decoder (it passes its checks first) where the grader runs the
    reference's, in a trusted child."""
    import torch

    klass = _class_named(classes, case.params["class_name"])
    vae = cvae_own_model(klass, {"params": case.params})
    base = next(k for k in type(vae).__mro__ if k.__name__ == "ConvVAE")
    with torch.no_grad():
        rows = tensor(inputs).float()
        return to_array(torch.cat([base.decoder(vae, part) for part in rows.split(250)]), "", "")


RUNNERS["cvae"] = {**{f"{kind}_{m}": cvae_check_method for kind in ("conv", "cond")
                      for m in ("encoder", "decoder", "loss")},
                   "conv_layers": cvae_check_layers, "cond_layers": cvae_check_layers,
                   "sample": cvae_check_sample, "generate": cvae_check_generate}
NEEDS["cvae"] = {"conv_encoder": ("conv_layers",), "conv_decoder": ("conv_layers",),
                 "conv_loss": ("conv_encoder", "conv_decoder"), "cond_layers": ("conv_layers",),
                 "cond_encoder": ("cond_layers", "conv_encoder"), "cond_decoder": ("cond_layers", "conv_decoder"),
                 "cond_loss": ("cond_encoder", "cond_decoder"), "sample": ("cond_decoder",), "generate": ("sample",)}
DECODERS = {"cvae": cvae_decoded}
#: What the sandbox's children use of this module: their copy holds these functions and classes and no other
#: (:func:`autograder.processes.runtime.child_source`). The judges hold the numpy forms of graded formulas (and of
#: their known mistakes), and a check's stand-ins for the reference compute graded formulas as the notebooks state
#: them: no code the grader runs may reach them (the reference stands in there).
CHILD_API = frozenset({
    "Instances", "StudentError", "call", "method", "pair", "tensor", "to_array", "device",
    "vae_build", "vae_probe_encoder", "vae_probe_decoder", "vae_probe_kl_divergence", "vae_probe_sample_with_reparam",
    "vae_given_noise", "vae_elbo_run", "vae_sample_run",
    "vae2d_build", "vae2d_where", "vae2d_probe_encoder", "vae2d_probe_decoder", "vae2d_probe_reparameterize",
    "vae2d_probe_loss", "vae2d_probe_reconstruct", "vae2d_probe_latent_grid", "vae2d_probe_interpolate",
    "vae2d_probe_pick_pairs", "_loss_repeats",
    "cvae_first_input", "cvae_call_encoder", "cvae_call_decoder", "cvae_call_loss", "cvae_call_sample",
    "cvae_call_generate", "cvae_spread"})


# --- the check in a notebook's kernel -----------------------------------------------------------------------------


class _Case:
    """A case as judges read it: ``dims`` (a tuple), ``arrays``, ``params``, ``name``."""

    def __init__(self, spec, arrays):
        self.dims, self.params, self.name = tuple(spec["dims"]), spec.get("params", {}), spec.get("name", "")
        self.arrays = arrays


class _Found:
    """What one case returned: its ``case``, ``outputs`` (arrays) and ``info``."""

    def __init__(self, case, outputs, info):
        self.case, self.outputs, self.info = case, outputs, info


class _Result:
    """One round of a probe's calls: ``outputs`` per case, and :meth:`case` by name."""

    def __init__(self, found):
        self.found, self.outputs = found, [f.outputs for f in found]

    def case(self, name):
        return next(f for f in self.found if f.case.name == name)


class CheckData:
    """``checks_<assignment>.npz``: the cases, the reference's outputs and the expectations of every check.

    Its ``meta`` (JSON) names, per method, the probe, the tests (key and name) and each round's cases; arrays are
    stored once each, as ``a/<key>``, and named by that key in the JSON.
    """

    def __init__(self, path):
        self.path = Path(path)
        with np.load(self.path, allow_pickle=False) as stored:
            self.stored = {name: stored[name] for name in stored.files}
        self.meta = json.loads(str(self.stored["meta"]))

    def array(self, key):
        return self.stored["a/" + key]

    def value(self, stored):
        """An expectation's entry: an array, or a list of (explanation, array) for named mistakes."""
        if isinstance(stored, list):
            return [(text, self.array(key)) for text, key in stored]
        return self.array(stored)


def find_data(classes, folder=None) -> CheckData:
    """The check data for ``classes``: the ``checks_*.npz`` (in ``folder``, else the working directory, else
    beside this file) whose assignment defines classes of these names.

    Raises
    ------
    FileNotFoundError
        When no such file is there, saying which file to download and where to put it.
    """
    names = {c.__name__ for c in classes}
    folders = [Path(folder)] if folder else [Path.cwd(), Path(__file__).absolute().parent]
    for where in folders:
        for path in sorted(where.glob("checks_*.npz")):
            data = CheckData(path)
            if names & set(data.meta["classes"]):
                return data
    raise FileNotFoundError(f"no check data for {', '.join(sorted(names))} in {', '.join(map(str, folders))}: put "
                            "the assignment's checks_<name>.npz (handed out with this notebook) next to the notebook")


class KernelSubmission:
    """The submission as the judges read it in a check (the grader's ``GradedSubmission``, in this kernel):
    one probe's rounds of calls, and the expectations of the data."""

    def __init__(self, data, method, rounds, classes=()):
        self.data, self.method, self.rounds, self.classes = data, method, rounds, classes
        self.round, self.key = 0, None

    def _found(self, name):
        return next(f for f in self.rounds[self.round] if f.case.name == name)

    def run(self, key=None):
        found = self.rounds[self.round]
        return [f.case for f in found], _Result(found)

    def case(self, name, key=None):
        return self._found(name)

    def both_rounds(self, name, key=None):
        return [next(f for f in found if f.case.name == name) for found in self.rounds]

    def decoded(self, found, inputs):
        """What the assignment's decoder makes of ``inputs`` on the model of ``found``'s case (the grader asks a
        trusted child for the reference's; a check runs the student's own, which passes its checks first)."""
        return DECODERS[self.data.meta["assignment"]](self.classes, found.case, inputs)

    def expected(self, case, key=None):
        spec = self.data.meta["methods"][self.method]["rounds"][self.round]
        stored = next(c for c in spec if c["name"] == case.name)["expected"][key or self.key]
        return {name: self.data.value(value) for name, value in stored.items()}


def judge_twice(sub, judge, other_inputs: bool) -> None:
    """Run ``judge(sub)`` on the first round of calls, then on the second when there is one: a failure there
    says so first (:data:`SECOND_CALL`). Raises what the judge raises."""
    sub.round = 0
    try:
        judge(sub)
        if len(sub.rounds) < 2:
            return
        sub.round = 1
        try:
            judge(sub)
        except CheckFailure as exc:
            raise CheckFailure(second_call(str(exc), other_inputs)) from None
    finally:
        sub.round = 0


class RuleWatch:
    """While student code runs in a check: what it calls of the modules the rules forbid, and the modules it
    imports beyond those the notebook allows (the grader reads both from the code too, and charges them)."""

    def __init__(self, forbidden, allowed):
        self.forbidden, self.allowed, self.broken = tuple(forbidden), tuple(allowed), []
        self.paths = [m.replace(".", "/") + "/" for m in self.forbidden]

    def _profile(self, frame, event, arg):
        if event == "call" and not self.broken:
            filename = frame.f_code.co_filename.replace("\\", "/")
            for module, path in zip(self.forbidden, self.paths):
                if path in filename:
                    self.broken.append(f"uses {module} (it called `{frame.f_code.co_name}` while it ran), which the "
                                       "rules forbid")

    def _import(self, original):
        def watched(name, globals=None, locals=None, fromlist=(), level=0):
            if (globals or {}).get("__name__") == "__main__" and level == 0 and not any(
                    name == a or name.startswith(a + ".") or a.startswith(name + ".") for a in self.allowed):
                self.broken.append(f"uses an added import (`import {name}`), which the rules forbid")
            return original(name, globals, locals, fromlist, level)
        return watched

    def read_by(self, function) -> None:
        """Note the names ``function`` (a method, and the functions nested in it) reads from its module's globals that
        an import of a module the rules do not allow bound: ``math.log``, or ``expit`` from ``scipy.special``."""
        import dis
        import types

        roots = {a.split(".")[0] for a in self.allowed} | {"builtins", "__main__"}
        codes, names = [getattr(function, "__code__", None)], set()
        while codes:
            code = codes.pop()
            if code is not None:
                names.update(i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME"))
                codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        found = getattr(function, "__globals__", {})
        for name in sorted(names & set(found)):
            value = found[name]
            module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
            if isinstance(module, str) and module.split(".")[0] not in roots and not self.broken:
                self.broken.append(f"uses an added import (`{name}`, from {module}), which the rules forbid")

    def run(self, fn, *args):
        """``fn(*args)`` with the watch on."""
        original, previous = builtins.__import__, sys.getprofile()
        builtins.__import__ = self._import(original)
        sys.setprofile(self._profile)
        try:
            return fn(*args)
        finally:
            sys.setprofile(previous)
            builtins.__import__ = original


def _student_frames(filename) -> bool:
    """Whether a traceback frame is the student's: code of the notebook, not of this file or an installed package."""
    return filename != __file__ and "site-packages" not in filename and not filename.startswith(sys.prefix)


def _class_named(classes, name):
    """The class called ``name`` among ``classes`` and their bases (the first class when ``name`` is None):
    ``check("cond_encoder", ConditionalVAE)`` finds the student's ConvVAE as its base."""
    if name is None:
        return classes[0]
    found = [k for c in classes for k in c.__mro__ if k.__name__ == name]
    if not found:
        raise KeyError(f"this check needs your class {name}: pass it, check(method, {name})")
    return found[0]


def run_rounds(data, method, classes, seed: int = 0):
    """Call ``method``'s probe on each round of its check cases, as the grader's child does: round 2 meets the
    models of round 1, and torch is seeded ``seed + index`` before each call. Returns the rounds of _Found, and
    the rules the code broke while it ran; raises StudentError as the probe does."""
    import torch

    meta = data.meta["methods"][method]
    runner = RUNNERS[data.meta["assignment"]][meta["probe"]]
    klass = _class_named(classes, meta.get("class_name"))
    watch = RuleWatch(data.meta["forbidden"], data.meta["allowed"])
    owner, _, name = meta.get("qualified", "").rpartition(".")
    watch.read_by(getattr(_class_named(classes, owner) if owner else klass, name or method, None))
    instances, rounds, index = Instances(klass), [], 0
    try:
        for number, cases in enumerate(meta["rounds"]):
            found = []
            for position, spec in enumerate(cases):
                arrays = {name: data.array(key) for name, key in spec["arrays"].items()}
                instances.start(position, number == 1)
                torch.manual_seed(seed + index)
                index += 1
                try:
                    outputs, info = watch.run(runner, klass, spec, arrays)
                except StudentError as exc:
                    if number == 1:
                        exc.where = f"{exc.where} (called again, in the grader's second round of calls)"
                    raise
                outputs.update({name: data.array(key) for name, key in spec.get("outputs", {}).items()})
                found.append(_Found(_Case(spec, arrays), outputs, info))
            rounds.append(found)
    finally:
        instances.restore()
    return rounds, watch.broken


class CheckReport:
    """What a check found: per test key, ``passed`` (True, False, or None: not checked) and ``messages``."""

    def __init__(self, method, names):
        self.method, self.names = method, dict(names)
        self.passed, self.messages, self.note = {}, {}, ""

    def lines(self, also: str = "") -> list:
        """The report as the student reads it."""
        lines = []
        for key, name in self.names.items():
            mark = {True: "✓", False: "✗", None: "·"}[self.passed.get(key)]
            lines.append(f"{mark} {name}")
            lines += ["    " + line for line in self.messages.get(key, "").splitlines()]
        passed = sum(1 for v in self.passed.values() if v)
        run = sum(1 for v in self.passed.values() if v is not None)
        if self.note:
            lines.append(self.note)
        apart = f" ({len(self.names) - run} not checked here)" if run < len(self.names) else ""
        lines.append(f"checks passed: {passed} of {run} visible{apart}" + (f"; {also}" if also else ""))
        return lines

    def __repr__(self):
        return "\n".join(self.lines())


def _needs_first(data, method, classes, seed, memo) -> str:
    """Why ``method`` cannot be checked yet ("" when it can): a method its probe runs fails its own check (each
    method checked once per call of :func:`run_check`: ``memo``)."""
    for needed in NEEDS.get(data.meta["assignment"], {}).get(method, ()):
        if needed not in memo:
            memo[needed] = run_check(data, needed, classes, seed, memo)
        report = memo[needed]
        grader_only = data.meta["methods"][needed].get("grader_only", {})
        if not all(passed or key in grader_only for key, passed in report.passed.items()):
            return (f"not checked yet: the check runs {method} with your {needed}, which does not pass its own "
                    f"checks; run check(\"{needed}\", ...) and fix it first (the grader runs {method} with its own "
                    f"{needed}, so yours costs {method} nothing there)")
    return ""


def run_check(data, method, classes, seed: int = 0, memo=None) -> CheckReport:
    """Judge ``method`` with the grader's tests, on the data's cases: a CheckReport, nothing printed. The tests only
    the grader runs, and every test when a method this one runs fails its own checks first or the code cannot be
    checked here (:class:`NotCheckable`), get no verdict (None) and say why."""
    meta = data.meta["methods"][method]
    report, grader_only = CheckReport(method, meta["tests"]), meta.get("grader_only", {})
    report.note = _needs_first(data, method, classes, seed, {} if memo is None else memo)
    if not report.note:
        _SEEDED.clear()
        try:
            rounds, broken = run_rounds(data, method, classes, seed)
        except StudentError as exc:
            message = describe_student_error(exc.report(_student_frames), data.meta["classes"],
                                             data.meta["variables"])
            report.passed = {key: None if key in grader_only else False for key in report.names}
            report.messages = {key: grader_only.get(key, message) for key in report.names}
            return report
        except NotCheckable as exc:
            report.note = str(exc)
    if report.note:
        report.passed = {key: None for key in report.names}
        report.messages = dict(grader_only)
        return report
    sub = KernelSubmission(data, method, rounds, classes)
    for key in report.names:
        sub.key = key
        if key in grader_only:
            report.passed[key], report.messages[key] = None, grader_only[key]
            continue
        try:
            if broken:
                fail(breaks_rules(method, broken[:1]))
            judge_twice(sub, JUDGES[data.meta["assignment"]][key], meta.get("other_inputs", False))
            report.passed[key] = True
        except CheckFailure as exc:
            report.passed[key], report.messages[key] = False, str(exc)
    return report


def check(method: str, *classes, folder=None, seed: int = 0) -> None:
    """Check ``method`` of your class(es) with the grader's visible tests, in this kernel, and print the result.

    Parameters
    ----------
    method : str
        The method, as the notebook's points table names it ("encoder", "kl_divergence", ...).
    *classes : type
        Your class(es) of the assignment, as defined in the notebook (``VAE``).
    folder : str or Path, optional
        Where the check data is (default: the working directory, then beside this file).
    seed : int
        Seeds torch before each call of the statistical tests (the grader's own seed is 0).

    Prints, per test, ✓ (passed), ✗ (failed, with the grader's message) or · (not checked yet), then the count;
    :func:`run_check` returns the same as a CheckReport instead.

    Raises
    ------
    FileNotFoundError
        When the check data is not there. KeyError when ``method`` is not one the data checks.
    """
    data = find_data(classes, folder)
    if method not in data.meta["methods"]:
        raise KeyError(f"{method!r} is not one of the methods checked here: {', '.join(data.meta['methods'])}")
    report = run_check(data, method, classes, seed)
    print("\n".join(report.lines(data.meta["also"])))
