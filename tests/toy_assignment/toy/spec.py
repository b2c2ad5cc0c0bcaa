"""The toy assignment's spec: a class ``Toy`` with two methods, ``affine`` (deterministic) and ``draw`` (a
reparameterized draw, judged statistically). Points, probes (their outputs and info) and the false-failure
run's settings."""
from __future__ import annotations

from autograder.core.assignment import Assignment, Output, ProbeSpec, TestSpec

from . import cases

METHODS = ("affine", "draw")
TASK_POINTS = {"affine": 4, "draw": 6}
TESTS = {
    "affine.values": TestSpec(4),
    "draw.shapes": TestSpec(2),
    "draw.statistics": TestSpec(4),
}
#: Each probe declares its arrays (``Output``) and the keys of the JSON info it returns beside them: the toy's return
#: none (``{}``), so ``info=()``; a probe returning ``{"calls": 2}`` would declare ``info=(Info("calls", "int"),)``.
PROBES = {
    "affine": ProbeSpec("affine", cases.affine, (Output("y", "float", ("batch", "dim")),), info=()),
    "draw": ProbeSpec("draw", cases.draw, (Output("z0", "float", ("rows", "dim")), Output("z1", "float", ("rows", "dim"))),
                      info=()),
}

ASSIGNMENT = Assignment(
    name="toy", title="Toy: an affine map and a reparameterized draw", notebook="toy.ipynb", classes=("Toy",),
    methods=METHODS, task_points=TASK_POINTS, tests=TESTS, probes=PROBES, data_groups=(),
    allowed_imports=frozenset({"numpy", "torch", "torch.nn"}),
    forbidden_modules=("torch.distributions",),
    notebook_variables={"toy": "use `self`, the model the method belongs to"},
    statistical={"draw": 20}, correct_variants={"draw_normal.py": ("draw",)})
