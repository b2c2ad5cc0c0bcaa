"""Saved figures graded only when they can come from the code submitted: a figure drawn before the class cell was
last run (execution counts out of order) fails its test with what to do; a notebook run top to bottom does not."""
import copy
from pathlib import Path

import exports
import nbformat
import pytest
from conftest import ROOT

from autograder.core.assignment import load
from autograder.grading.figures import stale_reason
from autograder.harness.harness import grade
from autograder.notebook.submission import load_submission

PLOTS = ("vae_utils.visualize_", "vae_utils.plot_")
NOTEBOOKS = sorted(ROOT.glob("solution/*.ipynb")) + sorted(ROOT.glob("tests/corpus/*/*/*.ipynb"))


def _figure_cells(notebook) -> list:
    return [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and any(p in c.source for p in PLOTS)]


def _assignment(path: Path):
    return load(path.stem if path.parent.name == "solution" else path.parent.parent.name)


def _judged(notebook, name="vae") -> dict:
    """``{cell index: stale reason}`` of the figure cells of ``notebook``, as Part ``name`` grades it."""
    path = Path(ROOT / "build" / "stale-test.ipynb")
    path.parent.mkdir(exist_ok=True)
    nbformat.write(notebook, path)
    sub = load_submission(path, load(name))
    return {i: stale_reason(notebook, sub.class_cells, i, load(name).classes) for i in _figure_cells(notebook)}


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "s_stale" not in p.name], ids=lambda p: p.name)
def test_notebooks_of_the_kit_are_not_stale(path):
    """Are the solution notebooks (run top to bottom) and the corpus notebooks (the handout's, counts 1 to 8 or
    none) judged current, every figure of theirs?"""
    notebook = nbformat.read(path, as_version=4)
    sub = load_submission(path, _assignment(path))
    assert sub.class_cells and _figure_cells(notebook)
    assert [stale_reason(notebook, sub.class_cells, i, sub_classes(path)) for i in _figure_cells(notebook)] == \
        [None] * len(_figure_cells(notebook))


def sub_classes(path: Path) -> tuple:
    return tuple(_assignment(path).classes)


def _solution(name="vae"):
    """The solution notebook without its check cells, counts renumbered (the cells these tests count)."""
    return exports.without_checks(nbformat.read(ROOT / "solution" / f"{name}.ipynb", as_version=4))


def _code(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code"]


def test_class_cell_run_after_the_figures_makes_them_stale():
    """Is each figure below the class cell stale once the class cell was run again after it ([9] above [7] and
    [8]), with both counts in the reason, and the MNIST grid above the class cell still current?"""
    judged = _judged(exports.stale_notebook())
    reasons = [judged[i] for i in sorted(judged)]
    assert reasons[0] is None  # visualize_mnist, above the class cell
    assert all("[9] for the class, [7]" in r or "[9] for the class, [8]" in r for r in reasons[1:])


def test_model_trained_before_the_class_was_run_again_is_stale():
    """Is a figure drawn after the class cell was run again stale when the cell that trained the model ran before
    it (the model is the old class's), and current once that cell is run again too?"""
    notebook = _solution()
    cells = _code(notebook)  # [1] imports, [2] data, [3] MNIST grid, [4] class, [5] model, [6] training, [7] [8] plots
    cells[3].execution_count, cells[6].execution_count, cells[7].execution_count = 9, 10, 11
    reasons = list(_judged(notebook).values())
    assert reasons[0] is None and all("as it was before" in r and "code cell 5 ([5])" in r for r in reasons[1:])
    cells[4].execution_count, cells[5].execution_count = 12, 13
    cells[6].execution_count, cells[7].execution_count = 14, 15
    assert list(_judged(notebook).values()) == [None] * 3


def test_cells_that_build_no_model_may_have_run_before_the_class():
    """Is a figure current when the class cell, the cell that builds and trains the model and the figure cells were
    run again in order, but not a cell between that builds no model (Part 2's helper functions)?"""
    notebook = _solution("vae2d")
    cells = _code(notebook)  # [3] class, [4] loss_terms and train, [5] the model trained, then the figures
    assert "class VAE2D" in cells[2].source and "VAE2D(" not in cells[3].source and "VAE2D()" in cells[4].source
    cells[2].execution_count = 20
    for number, cell in enumerate(cells[4:], start=21):
        cell.execution_count = number
    assert set(_judged(notebook, "vae2d").values()) == {None}
    cells[4].execution_count = 2
    assert all("code cell 5 ([2])" in r for r in _judged(notebook, "vae2d").values())


def test_figure_cells_run_again_later_and_cells_never_run_are_current():
    """Is a notebook current when a figure cell was run again later (a higher count), when a code cell between was
    never run (no count) or Markdown sits between, and when every count was cleared?"""
    notebook = _solution()
    cells = _code(notebook)
    cells[6].execution_count = 30
    notebook.cells.insert(8, nbformat.v4.new_markdown_cell("a note"))
    notebook.cells.insert(9, nbformat.v4.new_code_cell("print('not run')"))
    assert list(_judged(notebook).values()) == [None] * 3
    cleared = copy.deepcopy(notebook)
    for cell in _code(cleared):
        cell.execution_count = None
    assert list(_judged(cleared).values()) == [None] * 3


def test_two_class_cells_of_cvae_each_judged():
    """In Part 3, is a figure stale when either graded class cell (ConvVAE or ConditionalVAE) was run after it?"""
    notebook = _solution("cvae")
    sub_cells = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and "class ConvVAE(" in c.source]
    notebook.cells[sub_cells[0]].execution_count = 99
    reasons = _judged(notebook, "cvae")
    assert reasons and all(r and "[99] for the class" in r for r in reasons.values())


def test_stale_figures_cost_the_figures_only(tmp_path):
    """Does a stale notebook (its class fixed after its figures were drawn) lose the figures below its class cell,
    with a message that says to restart and run all, and keep its methods' points?"""
    path = tmp_path / "vae.ipynb"
    nbformat.write(exports.stale_notebook(), path)
    result = grade(path, groups=("figures", "encoder", "kl_divergence"))
    lost = {t.key: t.output for t in result.tests if t.score < t.max_score}
    assert set(lost) == {"figures.samples", "figures.embeddings"}
    assert all("Restart the kernel and run all cells" in out and "may not come from the code you submitted" in out
               for out in lost.values())
