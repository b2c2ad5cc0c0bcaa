"""A PDF per notebook submission for grading by hand: its figures and written answers, in notebook order.

``python -m autograder pdf OUT`` writes ``OUT/<key>/submission.pdf`` for every notebook graded into ``OUT``
(``grade-many --out OUT``), for courses that grade figures and written answers on Gradescope by eye. The
PDF starts with who handed it in, then holds the notebook's Markdown cells (the tasks and the students'
written answers) and the figures its code cells saved, in order; code, printed logs and prompts are left
out. It is nbconvert's ``webpdf`` export (its template and HTML) printed by Debian's Chromium
(:mod:`autograder.browser`): nbconvert's own exporter launches a Chromium that Playwright downloads, which
the kit never does, so :class:`ChromiumPDFExporter` hands the same HTML to the kit's browser. Nothing is
fetched from the network: MathJax is not loaded, so formulas show as their TeX source.
"""
from __future__ import annotations

import copy
import tempfile
from pathlib import Path

from nbconvert.exporters.webpdf import WebPDFExporter

from . import batch

#: Output types that hold a figure.
FIGURES = ("image/png", "image/jpeg", "image/svg+xml")
PDF_NAME = "submission.pdf"


class ChromiumPDFExporter(WebPDFExporter):
    """nbconvert's webpdf exporter printing with an open Playwright ``Browser`` (set ``browser``) rather than
    a Chromium of its own; requests other than ``file:`` and ``data:`` are refused."""

    browser = None

    def run_playwright(self, html: str) -> bytes:
        """The PDF of ``html`` (paginated, backgrounds printed). Raises RuntimeError without a browser."""
        if self.browser is None:
            raise RuntimeError("ChromiumPDFExporter.browser is not set: open one with autograder.browser.chromium()")
        with tempfile.TemporaryDirectory(prefix="vae-kit-pdf-") as folder:
            page_file = Path(folder) / "notebook.html"
            page_file.write_text(html, encoding="utf-8")
            page = self.browser.new_page()
            try:
                page.route(lambda url: not url.startswith(("file:", "data:")), lambda route: route.abort())
                page.emulate_media(media="print")
                page.goto(page_file.as_uri(), wait_until="load")
                page.wait_for_timeout(self.page_render_timeout)
                return page.pdf(print_background=True)
            finally:
                page.close()


def for_hand_grading(nb, heading: str):
    """A copy of the notebook ``nb`` with ``heading`` (Markdown) first, its Markdown cells, and of its code
    cells only the figures they saved (code, text output and empty cells dropped)."""
    import nbformat

    nb = copy.deepcopy(nb)
    cells = [nbformat.v4.new_markdown_cell(heading)]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cells.append(cell)
        elif cell.cell_type == "code":
            figures = [o for o in cell.get("outputs", []) if any(m in o.get("data", {}) for m in FIGURES)]
            if figures:
                cell.outputs, cell.source = figures, ""
                cells.append(cell)
    nb.cells = cells
    return nb


def heading_of(handin, result) -> str:
    """The first cell of a submission's PDF: who handed it in, when, which file, and the autograder's score."""
    people = "; ".join(f"{s.name} (SID {s.sid or '?'}, {s.email or 'no email'})" for s in handin.students)
    lines = [f"# {people or handin.key}", "", f"Submission: `{handin.origin}`" +
             (f", submitted {handin.created_at}" if handin.created_at else "") + ".",
             f"Autograder: {result.score:g} / {result.max_score:g} points."]
    return "\n".join(lines)


def pdfs_for(out: Path, force: bool = False, browser=None) -> list:
    """Write ``OUT/<key>/submission.pdf`` for every graded notebook under ``out``; returns the paths written.

    Existing PDFs are kept unless ``force``. A notebook nbformat cannot read is reported and skipped.
    ``browser``: an open Playwright Browser to print with (default: one of :func:`autograder.browser.chromium`).
    Raises :class:`autograder.browser.BrowserMissing` when Chromium or Playwright is missing.
    """
    import contextlib

    import nbformat

    from .browser import chromium

    todo = [(h, r) for h, r in batch.load(Path(out)) if h.file is not None and h.file.suffix == ".ipynb"
            and (force or not (Path(out) / h.key / PDF_NAME).exists())]
    written = []
    exporter = ChromiumPDFExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    with (contextlib.nullcontext(browser) if browser else chromium()) as opened:
        exporter.browser = opened
        for handin, result in todo:
            try:
                nb = nbformat.read(handin.file, as_version=4)
            except Exception as exc:  # a broken notebook: reported, the others still get their PDF
                print(f"{handin.key}: no PDF, {handin.file.name} is not a readable notebook ({exc})")
                continue
            body, _ = exporter.from_notebook_node(for_hand_grading(nb, heading_of(handin, result)))
            path = Path(out) / handin.key / PDF_NAME
            path.write_bytes(body)
            written.append(path)
    return written
