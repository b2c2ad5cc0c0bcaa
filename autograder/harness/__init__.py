"""The harness: grade one submission by running an assignment's pytest graders in the trusted process
(``harness``), and collect what they give into a :class:`autograder.core.results.GradingResult`.

The one layer that runs the assignments' graders, which it imports by name (:data:`autograder.core.assignment.PACKAGE`),
never by an import statement. It may import :mod:`autograder.grading`, :mod:`autograder.processes`,
:mod:`autograder.notebook` and what they stand on.
"""
