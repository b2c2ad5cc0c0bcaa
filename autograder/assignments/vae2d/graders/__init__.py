"""Part 2's graders: pytest modules ``grade_*.py``, one per group of the spec.

Each test is marked ``@grades("group.check")`` (its points and visibility live in the spec, ``spec.py``), asks a
question in its docstring, and takes the ``sub`` fixture (:class:`autograder.grading.grading.GradedSubmission`) that the
harness provides. Expected values are the reference's (``expected/...`` outputs of a child that runs no student
code). They run only through :mod:`autograder.harness.harness`, never in the kit's own test run.
"""
