"""What a child runs from and what it is given: the child runtime, copied once per process out of the kit, and
the request written into its scratch folder (with the reference pieces its probe may use).

The runtime is ``sandbox/`` without the reference pieces, ``vae_utils.py`` and each assignment's probes, in a
world-readable folder outside the kit's folder (which no child can see). A probe that needs a reference gets
only the functions and methods its spec names (:func:`reference_source`).
"""
from __future__ import annotations

import ast
import atexit
import compileall
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..config import KIT_ROOT
from ..core.assignment import folder_of, names
from ..sandbox import protocol
from ..sandbox.vae_check import CHILD_API
from . import tracing

SANDBOX = Path(__file__).resolve().parent.parent / "sandbox"
#: Files of the child runtime, copied out of the kit: the engine's child side and ``vae_utils.py``, then each
#: assignment's ``probes.py`` as ``probes_<name>.py`` (see :func:`runtime`). No reference piece is among them.
RUNTIME_FILES = tuple(SANDBOX / f"{name}.py" for name in ("child", "protocol", "probing", "jail", "forkserver",
                                                          "vae_check")) + (
    KIT_ROOT / "vae_utils.py",)


_RUNTIME: Path | None = None


def runtime() -> Path:
    """The child runtime, copied once per process into a world-readable folder outside the kit: the engine's
    child side, ``vae_utils.py``, and every assignment's probes as ``probes_<name>.py``."""
    global _RUNTIME
    if _RUNTIME is None or not _RUNTIME.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="vae-kit-runtime-"))
        files = {file.name: file for file in RUNTIME_FILES}
        files.update({f"probes_{name}.py": folder_of(name) / "probes.py" for name in names()})
        for name, file in files.items():
            if name == "vae_check.py":
                (folder / name).write_text(child_source(file))
            else:
                shutil.copyfile(file, folder / name)
            os.chmod(folder / name, 0o644)
        compileall.compile_dir(folder, quiet=2, legacy=False)  # children run with -B: they read bytecode, never write it
        for cached in (folder / "__pycache__").iterdir():
            os.chmod(cached, 0o644)
        os.chmod(folder / "__pycache__", 0o755)
        os.chmod(folder, 0o755)
        atexit.register(shutil.rmtree, folder, True)
        _RUNTIME = folder
    return _RUNTIME


def child_source(path: Path) -> str:
    """``vae_check.py`` as the children get it: its imports and constants, and of its functions and classes only
    those :data:`autograder.sandbox.vae_check.CHILD_API` names (what the probes call). The judges, which hold the
    numpy forms of graded formulas and of their known mistakes, and the notebook checks' stand-ins for the reference,
    which compute graded formulas, are not in it: no code the grader runs can read them, not even from the file."""
    tree = ast.parse(Path(path).read_text())

    def keep(node) -> bool:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return node.name in CHILD_API
        return not any(isinstance(n, ast.Name) and n.id in CHILD_TABLES for n in ast.walk(node))

    tree.body = [node for node in tree.body if keep(node)]
    return ast.unparse(tree) + "\n"


#: The tables of judges, runners and the checks' own state, which the children's vae_check.py leaves out.
CHILD_TABLES = ("JUDGES", "RUNNERS", "NEEDS", "DECODERS", "_SEEDED")


def reference_source(path: Path, names) -> str:
    """The reference file ``path`` with only the functions, and the methods of its classes, named in ``names``
    (all when None), as source. A method is named by its name or as ``"Class.method"``; a class keeps its other
    statements, and its ``__init__`` unless ``names`` names another class's ``__init__`` but not its own."""
    tree = ast.parse(Path(path).read_text())
    qualified = names is not None and any("." in n for n in names)

    def keep(node, cls=""):
        if not isinstance(node, ast.FunctionDef) or names is None:
            return True
        if node.name == "__init__" and not qualified:
            return True
        return node.name in names or f"{cls}.{node.name}" in names

    tree.body = [node for node in tree.body if keep(node)]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            node.body = [n for n in node.body if keep(n, node.name)] or [ast.Pass()]
    return ast.unparse(tree) + "\n"


def write_request(scratch: Path, source, probe: str, cases: list, seed: int, limits, assignment=None,
                  record_fd: int = protocol.RECORD_FD, second_round: int | None = None) -> None:
    arrays = {f"{i}/{k}": np.asarray(v) for i, case in enumerate(cases) for k, v in case.arrays.items()}
    np.savez(scratch / protocol.INPUTS, **arrays)
    (scratch / protocol.SOURCE).write_text(source or "")
    spec = assignment.probes[probe] if assignment is not None else None
    if spec is not None and spec.reference is not None:
        pieces = None if not spec.student_code else spec.reference
        (scratch / protocol.REFERENCE).write_text(reference_source(assignment.folder / "reference.py", pieces))
    request = {"probe": probe, "seed": seed, "threads": limits.threads, "memory_mb": limits.memory_mb,
               "module": f"probes_{assignment.name}" if assignment is not None else "probing",
               "class_name": (spec.class_name or assignment.class_name) if assignment is not None else None,
               "student_code": source is not None, "trace": source is not None and tracing.active(), "record_fd": record_fd, "second_round": second_round,
               "forbidden": list(assignment.forbidden_modules) if assignment is not None else [],
               "case_output_mb": limits.case_output_mb,
               "cases": [{"name": c.name, "dims": list(c.dims), "params": c.params} for c in cases]}
    (scratch / protocol.REQUEST).write_text(json.dumps(request))
    for path in scratch.iterdir():
        os.chmod(path, 0o644)
