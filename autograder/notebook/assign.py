"""Make the student template from the solution notebook (``make student``).

As in nbgrader, the conversion is an ordered list of small stages, each a function ``nb -> nb``:
solution regions become ``# YOUR CODE HERE`` + ``raise NotImplementedError()``, written answers (Markdown cells
that nbgrader's metadata marks as solutions) become ``YOUR ANSWER HERE``, outputs and execution metadata are
cleared. The solution notebook is the only copy anyone edits.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
#: What a written answer becomes in the template (nbgrader's text stub).
TEXT_STUB = "YOUR ANSWER HERE"


class MarkerError(ValueError):
    """A solution region is nested, unterminated, or closed without being opened."""


def strip_solution_source(source: str, where: str = "cell") -> str:
    """Replace each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region of ``source`` by the stub.

    The stub keeps the indentation of the ``BEGIN`` line.

    Raises
    ------
    MarkerError
        On a ``BEGIN`` inside a region, an ``END`` outside one, or a region left open; the message
        names ``where`` and the line number.
    """
    out, indent, opened_at = [], None, None
    for number, line in enumerate(source.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin and indent is not None:
            raise MarkerError(f"{where}, line {number}: BEGIN SOLUTION inside the region opened at line {opened_at}")
        if begin:
            indent, opened_at = begin.group("indent"), number
            out.extend(indent + stub for stub in STUB)
        elif end and indent is None:
            raise MarkerError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION")
        elif end:
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise MarkerError(f"{where}, line {opened_at}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out)


def strip_solutions(nb):
    """Stage: replace the solution regions of every code cell by the stub."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = strip_solution_source(cell.source, where=f"cell {index}")
    return nb


def is_written_answer(cell) -> bool:
    """Is ``cell`` a written answer: a Markdown cell whose nbgrader metadata says ``"solution": true``
    (nbgrader's manually graded answer: ``{"solution": true, "grade": true, "locked": false, ...}``)?"""
    return cell.cell_type == "markdown" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def clear_written_answers(nb):
    """Stage: replace the text of every written answer (:func:`is_written_answer`) by :data:`TEXT_STUB`,
    keeping the cell and its metadata (its points and grade_id)."""
    for cell in nb.cells:
        if is_written_answer(cell):
            cell.source = TEXT_STUB
    return nb


def clear_outputs(nb):
    """Stage: drop outputs and execution counts."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def clear_metadata(nb):
    """Stage: drop per-cell execution timings and the notebook's widget state."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    return nb


STAGES = (strip_solutions, clear_written_answers, clear_outputs, clear_metadata)


def make_student_notebook(solution_nb):
    """Run every stage on a copy of ``solution_nb`` (a NotebookNode) and return the student notebook."""
    nb = copy.deepcopy(solution_nb)
    for stage in STAGES:
        nb = stage(nb)
    return nb


def render(solution_path: str | Path) -> str:
    """Return the text of the student notebook made from the notebook at ``solution_path``."""
    nb = make_student_notebook(nbformat.read(solution_path, as_version=4))
    return nbformat.writes(nb) + "\n"


def assign(solution_path: str | Path, student_path: str | Path) -> Path:
    """Write the student notebook made from ``solution_path`` to ``student_path`` and return its path."""
    student_path = Path(student_path)
    student_path.parent.mkdir(parents=True, exist_ok=True)
    student_path.write_text(render(solution_path))
    return student_path


def render_reference(solution_path: str | Path, classes) -> str:
    """The reference module of an assignment, made from its solution notebook (``make student``).

    The cells that define ``classes``, with the solution markers dropped, after the imports they need. The
    solution notebook stays the only copy anyone edits; ``tests/`` checks the generated file is current.

    Raises
    ------
    ValueError
        When no cell defines one of ``classes``.
    """
    cells = [c.source for c in nbformat.read(solution_path, as_version=4).cells if c.cell_type == "code"]
    chosen = [c for c in cells if any(re.search(rf"^class {name}\b", c, re.M) for name in classes)]
    missing = [n for n in classes if not any(re.search(rf"^class {n}\b", c, re.M) for c in chosen)]
    if missing:
        raise ValueError(f"{solution_path}: no cell defines class {', '.join(missing)}")
    body = "\n\n\n".join("\n".join(line for line in c.splitlines() if not BEGIN.match(line) and not END.match(line))
                          for c in chosen)
    return (f'"""The reference {", ".join(classes)}: generated by `make student` from {Path(solution_path).name}. '
            'Do not edit."""\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n'
            + body.strip() + "\n")
