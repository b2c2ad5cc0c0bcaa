"""Read a submission without running it: find its assignment's class(es) and check the rules from the source.

Runs in the trusted process, so it only parses (``ast``, ``nbformat``); student code runs in
:mod:`autograder.sandbox` children.

A notebook is graded by the cell(s) that define its classes. A ``.py`` file is too, as a notebook exported to a
script (``jupyter nbconvert --to script``, Colab's *Download .py*) holds the whole notebook: of its top-level
statements, only the graded classes and what they read (top-level functions, classes, imports and constants)
are run; loading MNIST, training, plotting, printing and IPython magics are not (see :mod:`autograder.notebook.script`).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .rules import find_violations
from .script import blank_magics, parse_script, script_source, statement_cells

MAX_BYTES = 20 * 2**20


@dataclass
class Submission:
    """A parsed submission.

    Attributes
    ----------
    path : Path
    kind : str
        "notebook" or "python".
    source : str
        The code the sandbox runs: the notebook cell(s) that define the assignment's classes (``class VAE``;
        IPython magics blanked), or the ``.py`` file with every line blanked but those of its classes and of the
        top-level definitions they read (:func:`autograder.notebook.script.script_source`; line numbers kept).
    error : str or None
        Why the submission cannot be graded at all (unreadable, syntax error, no ``class VAE``).
    violations : dict of str to list of str
        Per method, the rules its code breaks (a forbidden module, added imports).
    notebook : NotebookNode or None
        The notebook, for the figures tests.
    class_cells : list of int
        Of a notebook: the indices (in ``notebook.cells``) of the cells graded, those that define its classes.
    """

    path: Path
    kind: str
    source: str = ""
    error: str | None = None
    violations: dict = field(default_factory=dict)
    notebook: object = None
    class_cells: list = field(default_factory=list)


_blank_magics = blank_magics


def _defines(tree: ast.Module, classes) -> bool:
    return any(isinstance(node, ast.ClassDef) and node.name in classes for node in tree.body)


def classes_defined(path: str | Path) -> set:
    """The names of the top-level classes that the notebook or ``.py`` file at ``path`` defines (parsed, never
    run); empty when it cannot be read or parsed."""
    try:
        text = _read_text(Path(path))
        if Path(path).suffix != ".ipynb":
            return {n.name for n in parse_script(text)[0].body if isinstance(n, ast.ClassDef)}
        cells = [_blank_magics(c.source) for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "code"]
    except Exception:  # unreadable: the grader says so when it loads it  # noqa: BLE001
        return set()
    found = set()
    for code in cells:
        try:
            found |= {n.name for n in ast.parse(code).body if isinstance(n, ast.ClassDef)}
        except (SyntaxError, ValueError):  # ValueError: a null byte, on Python 3.10
            continue
    return found


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"the file is {path.stat().st_size // 2**20} MB; submissions are limited to "
                         f"{MAX_BYTES // 2**20} MB")
    return path.read_text(encoding="utf-8")


def load_submission(path: str | Path, assignment) -> Submission:
    """Parse the notebook (``.ipynb``) or Python file (``.py``) at ``path`` as a submission of ``assignment``
    (an :class:`autograder.core.assignment.Assignment`); never raises on bad input.

    A submission that cannot be graded comes back with ``error`` set to a message for the student.
    """
    path, classes = Path(path), tuple(assignment.classes)
    kind = "notebook" if path.suffix == ".ipynb" else "python"
    sub = Submission(path=path, kind=kind)
    try:
        text = _read_text(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        sub.error = f"could not read {path.name}: {exc}"
        return sub
    if kind == "python":
        return _load_script(sub, text, classes, assignment)
    try:
        sub.notebook = nbformat.reads(text, as_version=4)
        cells = [(i, _blank_magics(c.source)) for i, c in enumerate(sub.notebook.cells) if c.cell_type == "code"]
    except Exception as exc:  # nbformat raises several kinds of errors on a broken notebook
        sub.notebook = None
        sub.error = f"{path.name} is not a valid Jupyter notebook ({type(exc).__name__}: {str(exc)[:300]})"
        return sub
    trees, kept = [], []
    for number, (position, code) in enumerate(cells):
        try:
            trees.append(ast.parse(code))
        except (SyntaxError, ValueError) as exc:  # ValueError: a null byte, on Python 3.10
            if any(f"class {c}" in code for c in classes):
                sub.error = _syntax_error(exc, f"code cell {number + 1}")
                return sub
            continue
        kept.append((position, code))
    chosen = class_cells(trees, classes)
    sub.class_cells = [kept[i][0] for i in chosen]
    sub.source = "\n\n".join(kept[i][1] for i in chosen)
    return _check(sub, trees, ast.parse(sub.source), assignment)


def _load_script(sub: Submission, text: str, classes: tuple, assignment) -> Submission:
    """Fill ``sub`` from a ``.py`` file's ``text``: its classes and what they read (see
    :mod:`autograder.notebook.script`); the rules read the whole file, as they read every cell of a notebook."""
    try:
        tree, text = parse_script(text)
    except (SyntaxError, ValueError) as exc:  # ValueError: a null byte, on Python 3.10
        sub.error = _syntax_error(exc, sub.path.name)
        return sub
    cells = statement_cells(tree)
    chosen = class_cells([ast.Module(body=cell, type_ignores=[]) for cell in cells], classes)
    sub.source = script_source(text, cells, chosen, assignment.allowed_imports)
    return _check(sub, [tree], tree, assignment)


def _syntax_error(exc: Exception, where: str) -> str:
    """The student's message for code that does not parse (a SyntaxError, or the ValueError of null bytes)."""
    message, line = getattr(exc, "msg", str(exc)), getattr(exc, "lineno", None)
    shown = (getattr(exc, "text", "") or "").strip()
    return f"your code does not compile: {message} in {where}" + (f", line {line}:\n    {shown}" if line else "")


def _check(sub: Submission, trees: list, vae_tree: ast.Module, assignment) -> Submission:
    """Set ``sub.error`` when a graded class is missing from ``sub.source``, else ``sub.violations``: the rules
    read in ``trees`` (every cell, or the whole file) for the classes of ``vae_tree``."""
    classes = tuple(assignment.classes)
    graded = ast.parse(sub.source)
    missing = [c for c in classes if not _defines(graded, (c,))]
    if missing:
        what = " and ".join(f"`class {c}`" for c in missing)
        sub.error = (f"no {what} found: the notebook's cell must define {what}" if sub.kind == "notebook"
                     else f"no {what} found in {sub.path.name}")
        return sub
    sub.violations = find_violations(trees, vae_tree, allowed_imports(trees, sub.kind, assignment),
                                     assignment.qualified_methods, classes, assignment.forbidden_modules)
    return sub


def class_cells(trees: list, classes) -> list:
    """The indices of the cells (parsed, ``ast.Module``) that define the graded ``classes``, as they stand after
    running them in order: a later definition of a class replaces the cell of the earlier one."""
    chosen = []
    for index, tree in enumerate(trees):
        if _defines(tree, classes):
            chosen = [i for i in chosen if not _defines(trees[i], _defined(tree, classes))] + [index]
    return chosen


def _defined(tree: ast.Module, classes) -> tuple:
    return tuple(n.name for n in tree.body if isinstance(n, ast.ClassDef) and n.name in classes)


def allowed_imports(trees, kind: str, assignment) -> frozenset:
    """The imports a submission may hold: the assignment's ``allowed_imports``, and in a notebook those of its
    ``handout_imports`` that its first code cell makes, as the course handout's first cell does (torchvision,
    seaborn, TSNE: the grader never runs them)."""
    if kind != "notebook" or not trees:
        return assignment.allowed_imports
    first = set()
    for node in ast.walk(trees[0]):
        if isinstance(node, ast.Import):
            first |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            first |= {f"{node.module}.{a.name}" for a in node.names}
    return assignment.allowed_imports | (first & assignment.handout_imports)
