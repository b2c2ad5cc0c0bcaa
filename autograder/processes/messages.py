"""What a student reads when their code fails in a child: the error, where in their code, and a hint.

The hints that name an assignment's own notebook variables (``batch_size``, ``train_loader``) come from its spec
(``Assignment.notebook_variables``); the rest hold for any notebook graded by its classes alone.
"""
from __future__ import annotations

import re

from .. import config
from ..core.cases import ChildFailure
from ..sandbox.vae_check import describe_student_error as describe


def describe_student_error(report: dict, assignment=None) -> str:
    """Turn a child's error report into a message for the student (fields of any type are tolerated), with the
    hints of ``assignment`` (an :class:`autograder.core.assignment.Assignment`, or None for the generic ones): the
    message the notebook's checks print too (:func:`autograder.sandbox.vae_check.describe_student_error`)."""
    if assignment is None:
        return describe(report)
    return describe(report, assignment.classes, assignment.notebook_variables)


#: How an allocation that failed reads: Python's MemoryError (numpy's subclass), torch's allocator.
MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError", "OutOfMemoryError")
_TRIED = re.compile(r"tried to allocate (\d+) bytes|Unable to allocate ([\d.]+ \w?i?B)")


def student_failure(report: dict, staff: str = "", limits: config.Limits = config.LIMITS,
                    assignment=None) -> ChildFailure:
    """The ChildFailure for a child's error report: "memory" when an allocation failed, else "error"; its message
    from :func:`describe_student_error` with the hints of ``assignment``."""
    message = describe_student_error(report, assignment)
    text = str(report.get("message") or "")
    if str(report.get("error")) not in MEMORY_ERRORS and "can't allocate memory" not in text:
        return ChildFailure(message, staff)
    tried = _TRIED.search(text)
    amount = "" if tried is None else (f" (it tried to allocate {int(tried[1]) / 2**20:.0f} MB at once)" if tried[1]
                                       else f" (it tried to allocate {tried[2]} at once)")
    where = str(report.get("where") or "your code")[:200]
    return ChildFailure(f"{where} ran out of memory{amount}: each test may use about {limits.memory_mb} MB "
                        f"beyond what torch itself takes.\n  {message}", staff, kind="memory")


