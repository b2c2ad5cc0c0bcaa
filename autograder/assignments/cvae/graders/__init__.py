"""Part 3's graders: pytest modules ``grade_*.py``, one per group of the spec (``spec.py``), each test a question.

Expected values are the reference's (``expected/...`` outputs of a child that runs no student code). They run only
through :mod:`autograder.harness.harness`, never in the kit's own test run.
"""
