"""Read a submission without running it: find its assignment's class(es) and check the rules from the source.

Runs in the trusted process, so it only parses (``ast``, ``nbformat``); student code runs in
:mod:`autograder.sandbox` children.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .rules import find_violations

MAX_BYTES = 20 * 2**20
_MAGIC = re.compile(r"^(\s*)[%!]")


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
        IPython magics blanked), or the whole ``.py`` file.
    error : str or None
        Why the submission cannot be graded at all (unreadable, syntax error, no ``class VAE``).
    violations : dict of str to list of str
        Per method, the rules its code breaks (``torch.distributions``, added imports).
    notebook : NotebookNode or None
        The notebook, for the figures tests.
    """

    path: Path
    kind: str
    source: str = ""
    error: str | None = None
    violations: dict = field(default_factory=dict)
    notebook: object = None


def _blank_magics(code: str) -> str:
    """Turn IPython ``%magic`` and ``!shell`` lines into ``pass`` so the cell parses as Python."""
    return "\n".join(_MAGIC.sub(r"\1pass  # ", line) for line in code.splitlines())


def _defines(tree: ast.Module, classes) -> bool:
    return any(isinstance(node, ast.ClassDef) and node.name in classes for node in tree.body)


def classes_defined(path: str | Path) -> set:
    """The names of the top-level classes that the notebook or ``.py`` file at ``path`` defines (parsed, never
    run); empty when it cannot be read or parsed."""
    try:
        text = _read_text(Path(path))
        cells = [text]
        if Path(path).suffix == ".ipynb":
            cells = [_blank_magics(c.source) for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "code"]
    except Exception:  # unreadable: the grader says so when it loads it  # noqa: BLE001
        return set()
    found = set()
    for code in cells:
        try:
            found |= {n.name for n in ast.parse(code).body if isinstance(n, ast.ClassDef)}
        except SyntaxError:
            continue
    return found


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"the file is {path.stat().st_size // 2**20} MB; submissions are limited to "
                         f"{MAX_BYTES // 2**20} MB")
    return path.read_text(encoding="utf-8")


def load_submission(path: str | Path, assignment) -> Submission:
    """Parse the notebook (``.ipynb``) or Python file (``.py``) at ``path`` as a submission of ``assignment``
    (an :class:`autograder.assignment.Assignment`); never raises on bad input.

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
    cells = [text]
    if kind == "notebook":
        try:
            sub.notebook = nbformat.reads(text, as_version=4)
            cells = [_blank_magics(c.source) for c in sub.notebook.cells if c.cell_type == "code"]
        except Exception as exc:  # nbformat raises several kinds of errors on a broken notebook
            sub.notebook = None
            sub.error = f"{path.name} is not a valid Jupyter notebook ({type(exc).__name__}: {str(exc)[:300]})"
            return sub
    trees, sources = [], []
    for number, code in enumerate(cells):
        where = f"code cell {number + 1}" if kind == "notebook" else path.name
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            if any(f"class {c}" in code for c in classes) or kind == "python":
                sub.error = (f"your code does not compile: {exc.msg} in {where}, line {exc.lineno}:"
                             f"\n    {(exc.text or '').strip()}")
                return sub
            continue
        trees.append(tree)
        if _defines(tree, classes):
            sources = [s for s in sources if not _defines(ast.parse(s), _defined(tree, classes))] + [code]
    missing = [c for c in classes if not any(_defines(ast.parse(s), (c,)) for s in sources)]
    if missing:
        what = " and ".join(f"`class {c}`" for c in missing)
        sub.error = (f"no {what} found: the notebook's cell must define {what}" if kind == "notebook"
                     else f"no {what} found in {path.name}")
        return sub
    sub.source = "\n\n".join(sources)
    sub.violations = find_violations(trees, ast.parse(sub.source), allowed_imports(trees, kind, assignment),
                                     assignment.qualified_methods, classes)
    return sub


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
