"""The graders: pytest modules ``grade_*.py``, one per group of :data:`autograder.config.GROUPS`.

Each test is marked ``@grades("group.check")`` (its points and visibility live in
:mod:`autograder.config`), asks a question in its docstring, and takes the ``sub`` fixture
(:class:`autograder.grading.GradedSubmission`) that the harness provides. They run only through
:mod:`autograder.harness`, never in the kit's own test run.
"""
