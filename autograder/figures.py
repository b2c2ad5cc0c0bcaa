"""Figures graded from a notebook's saved outputs: does the cell that draws a figure hold it, without an error?

Shared by the assignments' ``grade_figures.py``; reads only the parsed notebook (nothing is run).
"""
from __future__ import annotations

import pytest

from .grading import fail


def check_figure(sub, functions: tuple, title: str, cells_needed: int = 1) -> None:
    """Fail unless the last ``cells_needed`` cells of the notebook that call one of ``functions`` (the course's
    name first, then other names for it) each saved a PNG without an error.

    A ``.py`` submission has no saved outputs: the test is skipped and not counted (``pytest.skip``). A notebook
    that cannot be read fails with the reason (GradingFailure); so does a missing, failed or empty cell, with a
    message naming ``title``, what the figure shows.
    """
    notebook = sub.submission.notebook
    if sub.submission.kind == "python":
        pytest.skip("figures are graded from a notebook's saved outputs; a .py submission has none")
    if notebook is None:
        fail(sub.submission.error or "the notebook could not be read")
    cells = [c for c in notebook.cells if c.cell_type == "code" and any(f"{f}(" in c.source for f in functions)]
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
