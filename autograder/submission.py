"""Read a submission without running it: find the ``VAE`` class and check the rules from the source.

Runs in the trusted process, so it only parses (``ast``, ``nbformat``); student code runs in
:mod:`autograder.sandbox` children.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import config
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
        The code the sandbox runs: the notebook cell that defines ``class VAE`` (IPython magics
        blanked), or the whole ``.py`` file.
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


def _defines_vae(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.ClassDef) and node.name == "VAE" for node in tree.body)


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"the file is {path.stat().st_size // 2**20} MB; submissions are limited to "
                         f"{MAX_BYTES // 2**20} MB")
    return path.read_text(encoding="utf-8")


def load_submission(path: str | Path) -> Submission:
    """Parse the notebook (``.ipynb``) or Python file (``.py``) at ``path``; never raises on bad input.

    A submission that cannot be graded comes back with ``error`` set to a message for the student.
    """
    path = Path(path)
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
    trees = []
    for number, code in enumerate(cells):
        where = f"code cell {number + 1}" if kind == "notebook" else path.name
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            if "class VAE" in code or kind == "python":
                sub.error = (f"your code does not compile: {exc.msg} in {where}, line {exc.lineno}:"
                             f"\n    {(exc.text or '').strip()}")
                return sub
            continue
        trees.append(tree)
        if _defines_vae(tree):
            sub.source = code
    if not sub.source:
        sub.error = ("no `class VAE` found: the notebook's VAE cell must define `class VAE(nn.Module)`"
                     if kind == "notebook" else f"no `class VAE` found in {path.name}")
        return sub
    sub.violations = find_violations(trees, ast.parse(sub.source), allowed_imports(trees, kind))
    return sub


def allowed_imports(trees, kind: str) -> frozenset:
    """The imports a submission may hold: the notebook's (:data:`autograder.config.ALLOWED_IMPORTS`), and in a
    notebook those of :data:`autograder.config.HANDOUT_IMPORTS` that its first code cell makes, as the course
    handout's first cell does (torchvision, seaborn, TSNE: the grader never runs them)."""
    if kind != "notebook" or not trees:
        return config.ALLOWED_IMPORTS
    first = set()
    for node in ast.walk(trees[0]):
        if isinstance(node, ast.Import):
            first |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            first |= {f"{node.module}.{a.name}" for a in node.names}
    return config.ALLOWED_IMPORTS | (first & config.HANDOUT_IMPORTS)
