"""Written answers, graded by hand: is each answered, and what does it say (for the staff).

An answer cell is a Markdown cell that nbgrader's metadata marks as a manually graded answer
(``{"nbgrader": {"solution": true, "grade": true, "grade_id": ...}}``); ``make student`` replaces its text by
:data:`autograder.notebook.assign.TEXT_STUB`. Reads only the parsed notebook (nothing is run).
"""
from __future__ import annotations

import pytest

from .grading import fail

#: The most of an answer kept for the staff, in characters.
MAX_ANSWER = 5000


def answer_cells(notebook) -> dict:
    """``{grade_id: text}`` of the notebook's answer cells (Markdown cells marked as manually graded solutions)."""
    found = {}
    for cell in notebook.cells if notebook is not None else ():
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade") and meta.get("grade_id"):
            found[str(meta["grade_id"])] = cell.source
    return found


def is_answered(text: str) -> bool:
    """Whether ``text`` holds an answer: not empty, and more than the template's placeholder."""
    from ..notebook.assign import TEXT_STUB

    return bool(text.replace(TEXT_STUB, "").strip())


def check_answer(sub, grade_id: str, record_property) -> None:
    """Fail unless the notebook's answer cell ``grade_id`` is answered; record its text for the staff
    (``answer:<grade_id>``). A ``.py`` submission has no answers: the test is skipped and not counted."""
    if sub.submission.kind == "python":
        pytest.skip("written answers are in the notebook; a .py submission has none")
    if sub.submission.notebook is None:
        fail(sub.submission.error or "the notebook could not be read")
    cells = answer_cells(sub.submission.notebook)
    if grade_id not in cells:
        fail(f"the notebook has no answer cell {grade_id}: write your answer in the Markdown cell the notebook "
             "gives for it (keep that cell; do not make a new one)")
    text = cells[grade_id]
    if not is_answered(text):
        fail("not answered: replace YOUR ANSWER HERE in its cell with your answer (graded by hand)")
    record_property(f"answer:{grade_id}", text.strip()[:MAX_ANSWER])
