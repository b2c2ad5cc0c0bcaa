"""The notebook's checks as handed out (``make student``): ``checks_<assignment>.npz`` beside the template, for
``vae_check.py``, the module that runs them (a link to the kit's :mod:`autograder.sandbox.vae_check`).

The data of a check is what the grader's tests of a method need at the checks' own cases: the cases (the grader's
kinds of cases, drawn with other seeds: :data:`CHECK_SALT`), the outputs of the probes that run the reference
(the ELBO's reference gradients), and what each test expects from the assignment's ``expect.py`` (the reference's
outputs and the named mistakes). No reference code goes out; the README says what the data reveals.
"""
from __future__ import annotations

import hashlib
import importlib
import json
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..config import KIT_ROOT, mnist_root
from ..core.assignment import PACKAGE, Assignment, key_group
from ..harness.harness import names_of_tests
from ..processes.runner import rounds as split_rounds
from ..processes.runner import run_probe

#: The module the checks run, as the kit keeps it (the notebooks' folders link to it).
MODULE = KIT_ROOT / "autograder" / "sandbox" / "vae_check.py"
#: Appended to every seed of the checks' cases (the grader's own cases use none).
CHECK_SALT = (4,)
#: The assignments whose notebooks carry checks (their judges and runners are in vae_check.py).
CHECKED = ("vae", "vae2d", "cvae")


def data_path(assignment: Assignment) -> Path:
    """Where the check data of ``assignment`` is kept: ``checks_<name>.npz`` beside its template notebook."""
    return assignment.template_notebook.parent / f"checks_{assignment.name}.npz"


@contextmanager
def _salted(assignment: Assignment):
    """The assignment's cases drawn with :data:`CHECK_SALT`, and with its ``cases.CHECK_OVERRIDES`` (smaller hidden
    layers: the data stays small, and every size the grader's cases tell apart, the inputs' and the latent
    space's, is kept) while inside."""
    cases = importlib.import_module(f"{PACKAGE}.{assignment.name}.cases")
    changes = {"SALT": CHECK_SALT, **getattr(cases, "CHECK_OVERRIDES", {})}
    saved = {name: getattr(cases, name) for name in changes}
    for name, value in changes.items():
        setattr(cases, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(cases, name, value)


def _rounded(case):
    """``case`` with its weights (arrays named ``w/...``) rounded to float16 values, so that they are stored in
    half the bytes; the tests hold for any weights."""
    import dataclasses

    arrays = {k: v.astype(np.float16).astype(np.float32) if k.startswith("w/") else v for k, v in case.arrays.items()}
    return dataclasses.replace(case, arrays=arrays)


def _expect(assignment: Assignment):
    """The assignment's ``expect.py`` (its expectations, and what its checks add to their cases and data)."""
    return importlib.import_module(f"{PACKAGE}.{assignment.name}.expect")


def check_rounds(assignment: Assignment, probe: str, root: Path) -> list:
    """The checks' cases of ``probe``, one list per round of calls (the second from the probe's ``again``)."""
    spec = assignment.probes[probe]
    adjust = getattr(_expect(assignment), "check_case", lambda probe, case: case)
    with _salted(assignment):
        first = [adjust(probe, _rounded(case)) for case in spec.cases(root)]
    if spec.rounds == 1:
        return [first]
    return [first, list(spec.again(first) if spec.again else first)]


def _reference_outputs(assignment: Assignment, probe: str, rounds: list) -> list:
    """The outputs of ``probe``'s expected probe (the reference, no student code) on every round's cases: a list
    per round of dicts per case; empty dicts when the probe has none."""
    spec = assignment.probes[probe]
    if not spec.expected:
        return [[{} for _ in cases] for cases in rounds]
    cases = [case for round_ in rounds for case in round_]
    result = run_probe(None, spec.expected, cases, spec.expected, 300.0, assignment=assignment)
    return [r.outputs for r in split_rounds(result, len(rounds))]


class _Store:
    """Arrays stored once each, named by a digest of their dtype, shape and bytes."""

    def __init__(self):
        self.arrays = {}

    def add(self, array) -> str:
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(np.float16 if array.dtype == np.float16 else np.float32)
        key = hashlib.sha1(f"{array.dtype}{array.shape}".encode() + np.ascontiguousarray(array).tobytes())
        self.arrays.setdefault(key.hexdigest()[:16], array)
        return key.hexdigest()[:16]

    def value(self, value):
        """An expectation's entry as stored: an array's key, or [[sentence, key], ...] for named mistakes."""
        if isinstance(value, list):
            return [[text, self.add(array)] for text, array in value]
        return self.add(value)


def _case_json(store, case, outputs, expectations, keys, extra) -> dict:
    """One case of the data: its sizes, params, arrays (weights as float16), reference outputs and expectations."""
    arrays = {**case.arrays, **extra}
    stored = {n: store.add(a.astype(np.float16) if n.startswith("w/") else a) for n, a in arrays.items()}
    expected = {}
    for key in keys:
        found = expectations[key](case) if key in expectations else None
        if found is not None:
            expected[key] = {name: store.value(value) for name, value in found.items()}
    return {"name": case.name, "dims": list(case.dims), "params": case.params, "arrays": stored,
            "outputs": {n: store.add(a) for n, a in outputs.items()}, "expected": expected}


def _method(assignment, store, method, root, names) -> dict:
    """The data of one method's check: its probe, tests (key and name) and each round's cases."""
    probe, expect = method, _expect(assignment)
    grader_only = {k: v for k, v in getattr(expect, "GRADER_ONLY", {}).items() if key_group(k) == method}
    keys = [k for k in assignment.tests if key_group(k) == method and assignment.probe_of(k) == probe]
    rounds = check_rounds(assignment, probe, root)
    outputs = _reference_outputs(assignment, probe, rounds)
    extra = getattr(expect, "CHECK_ARRAYS", {}).get(probe, lambda case: {})
    kept = getattr(expect, "CHECK_OUTPUTS", {}).get(probe, lambda case, name: True)
    outputs = [[{n: a for n, a in o.items() if kept(c, n)} for c, o in zip(cases, outs)]
               for cases, outs in zip(rounds, outputs)]
    spec = assignment.probes[probe]
    return {"probe": probe, "tests": [[k, names[k]] for k in keys], "other_inputs": spec.again is not None,
            "grader_only": grader_only, "qualified": assignment.qualified_methods[method],
            "class_name": spec.class_name or assignment.class_name,
            "rounds": [[_case_json(store, c, o, assignment.expectations, keys, extra(c)) for c, o in zip(cases, outs)]
                       for cases, outs in zip(rounds, outputs)]}


def build(assignment: Assignment, root: Path | None = None) -> tuple:
    """The check data of ``assignment``: ``(meta, arrays)``, the JSON description and the stored arrays by key.
    Reads MNIST under ``root`` (default: the kit's setting) for the cases made of real images."""
    root = Path(root) if root is not None else mnist_root()
    store, names = _Store(), names_of_tests(assignment)
    methods = {m: _method(assignment, store, m, root, names) for m in assignment.methods}
    also = ("the grader also reads your code for the rules, runs these tests on inputs of its own"
            + (" and trains your model" if assignment.training is not None else ""))
    meta = {"assignment": assignment.name, "classes": list(assignment.classes), "methods": methods, "also": also,
            "variables": dict(assignment.notebook_variables), "forbidden": list(assignment.forbidden_modules),
            "allowed": sorted(assignment.allowed_imports | assignment.handout_imports)}
    return meta, store.arrays


def stored(path: Path) -> tuple:
    """``(meta, arrays)`` of a data file (as :func:`build` returns them), to compare with a fresh build."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name[2:]: data[name] for name in data.files if name.startswith("a/")}
        return json.loads(str(data["meta"])), arrays


def same(built: tuple, kept: tuple) -> bool:
    """Whether two ``(meta, arrays)`` hold the same checks."""
    (meta, arrays), (kept_meta, kept_arrays) = built, kept
    return (json.loads(json.dumps(meta)) == kept_meta and arrays.keys() == kept_arrays.keys()
            and all(np.array_equal(arrays[k], kept_arrays[k]) and arrays[k].dtype == kept_arrays[k].dtype
                    for k in arrays))


def write(assignment: Assignment, root: Path | None = None) -> list:
    """Write ``checks_<name>.npz`` beside the template notebook unless it already holds the same checks (the
    solution's folder links to it, and both folders link ``vae_check.py`` to the kit's); returns what was written."""
    built, path = build(assignment, root), data_path(assignment)
    if path.exists() and same(built, stored(path)):
        return []
    meta, arrays = built
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **{f"a/{k}": v for k, v in arrays.items()})
    return [path]
