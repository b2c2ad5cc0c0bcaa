"""Statistical checks of random draws, each a z-test at a fixed number of standard errors.

Each function returns None when the draws pass, or a sentence saying what is off. With ``SIGMAS = 6``
a correct implementation fails a single check with probability about 2e-9; the measured false-failure
rate over many seeds is printed by ``scripts/false_failures.py``.

They live in :mod:`autograder.sandbox.vae_check`, the module students run the same checks with in their notebook.
"""
from __future__ import annotations

from ..sandbox.vae_check import (P_WITHIN_ONE, REPEATED_ROWS, REPEATED_VALUES_SHARE, SIGMAS, bernoulli,
                                 independent_rows, same_mean, same_mean_paired, standard_normal)

__all__ = ["P_WITHIN_ONE", "REPEATED_ROWS", "REPEATED_VALUES_SHARE", "SIGMAS", "bernoulli", "independent_rows",
           "same_mean", "same_mean_paired", "standard_normal"]
