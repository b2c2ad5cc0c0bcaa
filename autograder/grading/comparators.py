"""Reusable comparators for graders: does an array equal what it should, and where does it differ most.

Numpy only, for the trusted process. :func:`autograder.grading.grading.compare` builds the student's message on them.
"""
from __future__ import annotations

import numpy as np


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
