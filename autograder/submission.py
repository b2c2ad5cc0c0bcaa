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
    sub.violations = find_violations(trees, ast.parse(sub.source))
    return sub


# ---------------------------------------------------------------------------------------------
# The rules: no torch.distributions, no added imports.

def _added_imports(trees) -> dict[str, str]:
    """Names bound by imports the notebook does not allow, mapped to the import statement."""
    names = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name not in config.ALLOWED_IMPORTS:
                        names[alias.asname or alias.name.split(".")[0]] = f"import {alias.name}"
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}" if node.module else alias.name
                    if full not in config.ALLOWED_IMPORTS:
                        names[alias.asname or alias.name] = f"from {node.module} import {alias.name}"
    return names


def _uses(node: ast.AST) -> tuple[set[str], set[str], list[str]]:
    """Names and attribute names read under ``node``, and the import statements inside it."""
    names, attrs, imports = set(), set(), []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            attrs.add(sub.attr)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            imports.append(ast.unparse(sub))
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and "distributions" in sub.value:
            attrs.add("distributions")
    return names, attrs, imports


def find_violations(trees, vae_tree: ast.Module) -> dict[str, list[str]]:
    """Per graded method, the rules its own code breaks, following calls to helper methods and functions.

    Parameters
    ----------
    trees : list of ast.Module
        Every parsed code cell (or the one ``.py`` file), for the imports.
    vae_tree : ast.Module
        The cell or file that defines ``class VAE``.
    """
    added = _added_imports(trees)
    functions = {n.name: n for n in vae_tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                 and n.name != "VAE"}
    vae = [n for n in vae_tree.body if isinstance(n, ast.ClassDef) and n.name == "VAE"][-1]
    methods = {n.name: n for n in vae.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def own(node) -> set[str]:
        names, attrs, imports = _uses(node)
        found = {f"uses an import statement (`{s}`), which the rules forbid" for s in imports}
        if "distributions" in names | attrs:
            found.add("uses torch.distributions, which the rules forbid")
        found |= {f"uses `{n}` from `{added[n]}`, an added import the rules forbid" for n in names & added.keys()}
        return found

    def reach(name: str, seen: set) -> set[str]:
        node = methods.get(name) or functions.get(name)
        if node is None or name in seen:
            return set()
        seen.add(name)
        names, attrs, _ = _uses(node)
        found = own(node)
        # Follow helpers, not the other graded methods: each of those answers for its own code.
        helpers = (attrs & methods.keys()) - set(config.METHODS)
        for callee in helpers | (names & functions.keys()):
            found |= reach(callee, seen)
        return found

    found = {m: sorted(reach(m, set())) for m in config.METHODS}
    return {m: v for m, v in found.items() if v}
