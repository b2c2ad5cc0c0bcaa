"""A feedback page per submission, as nbgrader's ``generate_feedback`` gives: ``OUT/feedback/<key>.html``.

One self-contained HTML file per graded submission (styles inline, figures as ``data:`` URIs, no script, nothing
fetched): who handed it in, the score, each test's name, score and message, and the student's figures, the image
outputs of the notebook's cells in the notebook's order. Everything that comes from the student (names, messages
quoting their values, the note on the file) is escaped by Jinja2's autoescape; an image is embedded only when its
data decodes as base64 and it is one of :data:`IMAGE_TYPES`. Tests whose visibility is "hidden" (never shown to
students on Gradescope) are left out and counted. ``python -m autograder report OUT`` writes these pages beside the
class page, which links each student's row to theirs.
"""
from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "templates" / "feedback.html.j2"
FOLDER = "feedback"
#: The image outputs embedded, by MIME type, in order of preference when a cell output has several.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
_SAFE_KEY = re.compile(r"^[\w.-]+$")


def environment():
    """The Jinja2 environment of the kit's pages (report and feedback): autoescape on, undefined names an error,
    the filters ``num`` (numbers without trailing zeros) and ``breakable`` (a break opportunity after each ``_``)."""
    import jinja2
    import markupsafe

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda value: f"{value:g}" if isinstance(value, (int, float)) else value
    env.filters["breakable"] = lambda text: markupsafe.Markup("_<wbr>").join(text.split("_"))
    return env


def _image(mime: str, data) -> str:
    """A ``data:`` URI of one image output, or "" when its data is not what the type says."""
    if isinstance(data, list):
        data = "".join(data)
    if not isinstance(data, str):
        return ""
    if mime == "image/svg+xml":  # nbformat keeps SVG as text; an <img> runs none of its scripts
        return f"data:{mime};base64,{base64.b64encode(data.encode()).decode()}"
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return ""
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}" if raw else ""


def figures_of(path: Path | None) -> list:
    """The image outputs of the notebook at ``path``, as ``data:`` URIs in the notebook's order; [] for a missing,
    unreadable or malformed file or one that is not a notebook (a ``.py`` has no figures)."""
    if path is None or Path(path).suffix != ".ipynb":
        return []
    try:
        import nbformat

        nb = nbformat.reads(Path(path).read_text(encoding="utf-8"), as_version=4)
    except Exception:  # any unreadable or malformed notebook: no figures to show
        return []
    figures = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {}) if isinstance(output, dict) else {}
            mime = next((m for m in IMAGE_TYPES if m in data), None)
            uri = _image(mime, data[mime]) if mime else ""
            if uri:
                figures.append(uri)
    return figures


def page_of(key: str) -> str:
    """The feedback page of submission ``key``, relative to the graded folder. Raises ValueError for a key that
    is not a plain file name (the keys ``grade-many`` makes always are)."""
    if not _SAFE_KEY.match(key):
        raise ValueError(f"submission key {key!r} is not a plain file name")
    return f"{FOLDER}/{key}.html"


def context(handin, result, names: str) -> dict:
    """What one feedback page shows: ``handin`` (:class:`~autograder.classtools.export.Handin`), its ``result``
    (:class:`~autograder.core.results.GradingResult`) and the submitters' ``names``."""
    shown = [t for t in result.tests if t.visibility != "hidden"]
    return {"key": handin.key, "names": names, "file": handin.origin or (handin.file.name if handin.file else ""),
            "note": handin.note, "score": result.score, "max_score": result.max_score, "output": result.output,
            "tests": shown, "hidden": len(result.tests) - len(shown), "figures": figures_of(handin.file)}


def write_feedback(out: Path, graded: list, names: dict) -> dict:
    """Write ``OUT/feedback/<key>.html`` for each of ``graded`` (``[(Handin, GradingResult)]``), ``names`` being
    ``{key: the submitters' names}``; returns ``{key: the page's path relative to out}``. Raises ValueError for a
    key that is not a plain file name."""
    template = environment().get_template(TEMPLATE.name)
    (Path(out) / FOLDER).mkdir(parents=True, exist_ok=True)
    pages = {}
    for handin, result in graded:
        pages[handin.key] = page_of(handin.key)
        html = template.render(**context(handin, result, names.get(handin.key, handin.key)))
        (Path(out) / pages[handin.key]).write_text(html, encoding="utf-8")
    return pages
