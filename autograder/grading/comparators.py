"""Reusable comparators for graders: does an array equal what it should, and where does it differ most.

Numpy only. They live in :mod:`autograder.sandbox.vae_check`, the module students run the same checks with in their
notebook; :func:`autograder.grading.grading.compare` builds the student's message on them.
"""
from __future__ import annotations

from ..sandbox.vae_check import close, max_difference

__all__ = ["close", "max_difference"]
