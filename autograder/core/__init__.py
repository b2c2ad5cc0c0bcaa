"""The data types every layer shares, the bottom layer with :mod:`autograder.sandbox` and :mod:`autograder.config`:
what the engine knows of an assignment, its spec and where it lives (``assignment``), the cases a probe runs on
and what it returns (``cases``), and the grading results in Gradescope's format (``results``).

Plain data, no processes. It may import only :mod:`autograder.config`.
"""
