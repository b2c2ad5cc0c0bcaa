"""Submissions and notebooks read without running them: find an assignment's classes in a notebook or a ``.py``
file (``submission``, with ``script`` for a notebook exported to a script), check the assignment's rules from the
source (``rules``), and make the student template from the solution notebook (``assign``).

Parsing only (``ast``, ``nbformat``): student code runs in :mod:`autograder.sandbox` children, never here. It may
import only :mod:`autograder.core` and :mod:`autograder.config`.
"""
