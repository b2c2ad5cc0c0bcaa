"""A PDF per notebook submission for grading by hand: its figures and written answers, in notebook order.

``python -m autograder pdf OUT`` writes ``OUT/<key>/submission.pdf`` for every notebook graded into ``OUT``
(``grade-many --out OUT``), for courses that grade figures and written answers on Gradescope by eye. The
PDF starts with who handed it in, then holds the notebook's Markdown cells (the tasks and the students'
written answers) and the figures its code cells saved, in order; code, printed logs and prompts are left
out. It is nbconvert's ``webpdf`` export (its template and HTML) printed by Debian's Chromium
(:mod:`autograder.classtools.browser`): nbconvert's own exporter launches a Chromium that Playwright downloads, which
the kit never does, so :class:`ChromiumPDFExporter` hands the same HTML to the kit's browser. Nothing is
fetched from the network: formulas are typeset by a local copy of MathJax 3 (:data:`MATHJAX`, which ``make
mathjax`` fetches from the npm registry into ``build/mathjax/``); without it they show as their TeX source and
``pdf`` says so. The PDF's title (its HTML ``<title>``, which Chromium writes into the PDF's metadata) is the
students' names and the assignment's title.

A PDF is rebuilt whenever what it shows may have changed: ``OUT/<key>/submission.pdf.sha256`` holds the digest
(:func:`digest_of`) of the results, the graded file, the submission's record and the PDF's layout it was made
from. A submission regraded without a notebook loses its PDF.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.exporters.webpdf import WebPDFExporter

from ..config import KIT_ROOT
from . import batch

#: Output types that hold a figure.
FIGURES = ("image/png", "image/jpeg", "image/svg+xml")
PDF_NAME = "submission.pdf"
#: Beside each PDF: the digest of what it was made from (:func:`digest_of`).
DIGEST_NAME = PDF_NAME + ".sha256"
#: Changed whenever the PDF's content or look changes for the same results, so that every PDF is rebuilt.
LAYOUT = "2: title, MathJax"
#: MathJax 3's SVG build, fetched by ``make mathjax`` (``$VAE_KIT_MATHJAX``: another MathJax 3 folder).
MATHJAX = Path(os.environ.get("VAE_KIT_MATHJAX") or KIT_ROOT / "build" / "mathjax") / "es5" / "tex-svg.js"
#: MathJax 3's configuration, before it loads: Jupyter's delimiters ($...$, $$...$$), no menu.
MATHJAX_CONFIG = (r"<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], "
                  r"displayMath: [['$$', '$$'], ['\\[', '\\]']], processEscapes: true, processEnvironments: true}, "
                  r"options: {enableMenu: false}, svg: {fontCache: 'global'}};</script>")
#: True once MathJax has typeset the page (polled by Playwright).
TYPESET = ("() => { if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return false; "
           "if (!window.typesetDone) { window.typesetDone = 'pending'; "
           "MathJax.startup.promise.then(() => { window.typesetDone = 'yes'; }); } "
           "return window.typesetDone === 'yes'; }")
#: Milliseconds MathJax may take to typeset one notebook.
TYPESET_TIMEOUT = 60_000


class ChromiumPDFExporter(WebPDFExporter):
    """nbconvert's webpdf exporter printing with an open Playwright ``Browser`` (set ``browser``) rather than
    a Chromium of its own; requests other than ``file:`` and ``data:`` are refused. With ``mathjax`` (the path of
    MathJax 3's ``tex-svg.js``) set, the page loads it and is printed once it has typeset every formula."""

    browser = None
    mathjax = None
    #: Formulas MathJax typeset in the pages printed so far.
    formulas = 0

    def use_mathjax(self, script: Path | None) -> None:
        """Load MathJax from ``script`` (a local ``tex-svg.js``), or none (None): formulas stay TeX source."""
        self.mathjax = script
        self.mathjax_url = script.as_uri() if script else "data:text/javascript,"

    def run_playwright(self, html: str) -> bytes:
        """The PDF of ``html`` (paginated, backgrounds printed). Raises RuntimeError without a browser."""
        if self.browser is None:
            raise RuntimeError("ChromiumPDFExporter.browser is not set: open one with "
                               "autograder.classtools.browser.chromium()")
        if self.mathjax:
            html = html.replace("<head>", "<head>" + MATHJAX_CONFIG, 1)
        with tempfile.TemporaryDirectory(prefix="vae-kit-pdf-") as folder:
            page_file = Path(folder) / "notebook.html"
            page_file.write_text(html, encoding="utf-8")
            page = self.browser.new_page()
            try:
                page.route(lambda url: not url.startswith(("file:", "data:")), lambda route: route.abort())
                page.emulate_media(media="print")
                page.goto(page_file.as_uri(), wait_until="load")
                if self.mathjax:
                    page.wait_for_function(TYPESET, timeout=TYPESET_TIMEOUT)
                    self.formulas += page.evaluate("document.querySelectorAll('mjx-container').length")
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


def title_of(handin, result) -> str:
    """The PDF's title: the students' names (the key when the metadata names none) and the assignment's title."""
    from ..core.assignment import load

    names = ", ".join(s.name for s in handin.students if s.name) or handin.key
    try:
        return f"{names}: {load(result.assignment).title}" if result.assignment else names
    except KeyError:  # a result of an assignment this kit no longer has
        return f"{names}: {result.assignment}"


def digest_of(out: Path, handin, mathjax: bool) -> str:
    """sha256 of what ``OUT/<key>/submission.pdf`` shows: the layout (:data:`LAYOUT`, whether MathJax typeset it),
    the submission's record (students, origin), its ``results.json`` and its graded file."""
    digest = hashlib.sha256(f"{LAYOUT}\0{mathjax}\0".encode())
    record = {k: v for k, v in handin.to_json().items() if k != "file"}
    digest.update(json.dumps(record, sort_keys=True).encode() + b"\0")
    digest.update((Path(out) / handin.key / batch.RESULTS).read_bytes() + b"\0" + handin.file.read_bytes())
    return digest.hexdigest()


@dataclass
class PdfRun:
    """What :func:`make_pdfs` did: PDFs written, kept (current), removed (stale, their submission has no notebook
    now), and ``[(key, reason)]`` of notebooks that got none; ``mathjax``: whether formulas were typeset, and
    ``formulas`` how many."""

    out: Path
    written: list = field(default_factory=list)
    current: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    mathjax: bool = True
    formulas: int = 0

    def summary(self) -> str:
        """What was done, in one line."""
        typeset = f" ({self.formulas} formulas typeset)" if self.written and self.mathjax else ""
        return (f"{len(self.written)} PDFs written{typeset}, {len(self.current)} current ones kept"
                + (f", {len(self.removed)} stale ones removed" if self.removed else "") + f" under {self.out}")

    def warning(self) -> str:
        """The one line to shout when formulas were printed as raw TeX (MathJax missing); "" otherwise."""
        if self.mathjax or not self.written:
            return ""
        return (f"WARNING: MathJax is missing ({MATHJAX}): formulas are printed as raw TeX; run `make mathjax`, "
                f"then `python -m autograder pdf {self.out}` rebuilds these PDFs")


def _remove(pdf: Path) -> bool:
    """Delete a PDF and its digest; whether there was a PDF."""
    existed = pdf.exists()
    pdf.unlink(missing_ok=True)
    pdf.with_name(DIGEST_NAME).unlink(missing_ok=True)
    return existed


def _plan(out: Path, force: bool, run: PdfRun) -> list:
    """``[(handin, result, pdf path, digest)]`` of the notebooks whose PDF is missing or stale (all when
    ``force``); records the current ones and removes the PDFs of submissions without a notebook in ``run``."""
    todo = []
    for handin, result in batch.load(out):
        pdf = out / handin.key / PDF_NAME
        if handin.file is None or handin.file.suffix != ".ipynb":
            if _remove(pdf):
                run.removed.append(pdf)
            continue
        digest = digest_of(out, handin, run.mathjax)
        stored = pdf.with_name(DIGEST_NAME)
        if not force and pdf.exists() and stored.exists() and stored.read_text().strip() == digest:
            run.current.append(pdf)
        else:
            todo.append((handin, result, pdf, digest))
    return todo


def make_pdfs(out: Path, force: bool = False, browser=None, mathjax: Path | None = MATHJAX) -> PdfRun:
    """Write ``OUT/<key>/submission.pdf`` for every graded notebook under ``out`` whose PDF is missing or stale
    (every one when ``force``); returns a :class:`PdfRun`.

    A notebook nbformat cannot read gets no PDF (an older one is removed) and is listed in ``failed``.
    ``browser``: an open Playwright Browser to print with (default: one of
    :func:`autograder.classtools.browser.chromium`);
    ``mathjax``: MathJax 3's ``tex-svg.js`` (when it is missing, formulas stay TeX and ``run.mathjax`` is False).
    Raises :class:`autograder.classtools.browser.BrowserMissing` when Chromium or Playwright is missing.
    """
    import contextlib

    import nbformat

    from .browser import chromium

    out = Path(out)
    run = PdfRun(out, mathjax=bool(mathjax and Path(mathjax).is_file()))
    todo = _plan(out, force, run)
    if not todo:
        return run
    exporter = ChromiumPDFExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.use_mathjax(Path(mathjax) if run.mathjax else None)
    with (contextlib.nullcontext(browser) if browser else chromium()) as opened:
        exporter.browser = opened
        for handin, result, pdf, digest in todo:
            _remove(pdf)
            try:
                nb = nbformat.read(handin.file, as_version=4)
            except Exception as exc:  # a broken notebook: reported, the others still get their PDF
                run.failed.append((handin.key, f"{handin.file} is not a readable notebook ({exc})"))
                continue
            kept = for_hand_grading(nb, heading_of(handin, result))
            kept.metadata["title"] = title_of(handin, result)  # the page's <title>, and so the PDF's
            body, _ = exporter.from_notebook_node(kept)
            pdf.write_bytes(body)
            pdf.with_name(DIGEST_NAME).write_text(digest + "\n")
            run.written.append(pdf)
    run.formulas = exporter.formulas
    return run


def pdfs_for(out: Path, force: bool = False, browser=None) -> list:
    """The paths of the PDFs :func:`make_pdfs` writes (same arguments and errors); the notebooks that got none are
    printed on stderr."""
    import sys

    run = make_pdfs(out, force, browser)
    for key, reason in run.failed:
        print(f"{key}: no PDF: {reason}", file=sys.stderr)
    return run.written
