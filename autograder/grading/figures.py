"""Figures graded from a notebook's saved outputs: does the cell that draws a figure hold it, without an error,
drawn by the code submitted?

Shared by the assignments' ``grade_figures.py``; reads only the parsed notebook (nothing is run). The saved
outputs are the code's only when the cells that lead to them ran after the graded class cell(s) were last run:
their execution counts (the ``[12]`` beside each cell) tell (:func:`stale_reason`).
"""
from __future__ import annotations

import ast

import pytest

from ..notebook.script import blank_magics
from .grading import fail


def check_figure(sub, functions: tuple, title: str, cells_needed: int = 1) -> None:
    """Fail unless the last ``cells_needed`` cells of the notebook that call one of ``functions`` (the course's
    name first, then other names for it) each saved a PNG without an error, after the graded class cell(s) were
    last run (:func:`stale_reason`: else the figure may show other code than the code graded).

    A ``.py`` submission has no saved outputs: the test is skipped and not counted (``pytest.skip``). A notebook
    that cannot be read fails with the reason (GradingFailure); so does a missing, failed or empty cell, with a
    message naming ``title``, what the figure shows.
    """
    notebook = sub.submission.notebook
    if sub.submission.kind == "python":
        pytest.skip("figures are graded from a notebook's saved outputs; a .py submission has none")
    if notebook is None:
        fail(sub.submission.error or "the notebook could not be read")
    drawing = [i for i, c in enumerate(notebook.cells)
               if c.cell_type == "code" and any(f"{f}(" in c.source for f in functions)]
    cells = [notebook.cells[i] for i in drawing]
    if len(cells) < cells_needed:
        fail(f"no cell of your notebook calls vae_utils.{functions[0]}, which draws {title}" if not cells else
             f"{len(cells)} cell(s) of your notebook call vae_utils.{functions[0]}, which draws {title}; "
             f"{cells_needed} are expected")
    for cell in cells[-cells_needed:]:
        outputs = cell.get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors:
            fail(f"the cell that draws {title} raised {errors[-1].get('ename')}: {errors[-1].get('evalue')}")
        if not any("image/png" in o.get("data", {}) for o in outputs):
            fail(f"the cell that draws {title} has no saved figure: restart the kernel, run all cells, "
                 "and save the notebook before you submit it")
    for index in drawing[-cells_needed:]:
        reason = stale_reason(notebook, sub.submission.class_cells, index, tuple(sub.assignment.classes))
        if reason:
            fail(f"the saved figure of {title} may not come from the code you submitted: {reason}. The grader "
                 f"grades your code as it is now, and the figure as it was saved. {RERUN}")


#: What to do when the saved outputs are not the code's.
RERUN = ("Restart the kernel and run all cells (Jupyter: Kernel > Restart & Run All; Colab: Runtime > Restart "
         "session and run all), check the figures, then save the notebook and submit it again")


def stale_reason(notebook, class_cells: list, index: int, classes: tuple) -> str | None:
    """Why the outputs of cell ``index`` may come from other code than the graded class cells (``class_cells``,
    indices in ``notebook.cells``, defining ``classes``), from the cells' execution counts; None when they came
    after it.

    Stale: a class cell run after the cell (a count above the cell's), or a cell between the class cell and this
    one that builds a model (calls one of ``classes``) last run before the class cell (the model is the class's
    as it was then). Other cells between (helper functions, data) may have been run at any time. Cells never run
    (no count: Markdown, skipped cells) and notebooks whose counts were cleared are not judged.
    """
    counts = [c.get("execution_count") if c.cell_type == "code" else None for c in notebook.cells]
    mine = counts[index]
    if mine is None:
        return None
    for position in (p for p in class_cells if p < index and counts[p] is not None):
        if counts[position] > mine:
            return (f"the cell defining your class was run again after the figure was drawn (execution counts: "
                    f"[{counts[position]}] for the class, [{mine}] for the figure)")
        earlier = [(p, counts[p]) for p in range(position + 1, index) if counts[p] is not None
                   and counts[p] < counts[position] and _builds(notebook.cells[p].source, classes)]
        if earlier:
            return (f"the cell defining your class was run again (execution count [{counts[position]}]) after code "
                    f"cell {_code_number(notebook, earlier[0][0])} ([{earlier[0][1]}]) built the model that the "
                    "figure shows, so the model is made with your class as it was before")
    return None


def _builds(code: str, classes: tuple) -> bool:
    """Whether the cell's ``code`` calls one of ``classes`` (``vae = VAE(...)``); a cell that does not parse does
    not count."""
    try:
        tree = ast.parse(blank_magics(code))
    except (SyntaxError, ValueError, RecursionError):
        return False
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in classes for n in ast.walk(tree))


def _code_number(notebook, index: int) -> int:
    """The cell's number among the notebook's code cells, from 1."""
    return sum(c.cell_type == "code" for c in notebook.cells[:index + 1])
