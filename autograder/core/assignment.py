"""What the engine knows of an assignment: a spec that each ``autograder/assignments/<name>/`` folder declares.

The engine (submission loading and rules, the sandbox, the runner, the pytest harness, Gradescope, grading many)
knows no assignment. Each assignment folder holds:

- ``spec.py``, which defines ``ASSIGNMENT``, an :class:`Assignment`: its methods, tests with points, visibility
  and timeouts, allowed imports, its probes with their cases, declared outputs and info, its training run;
- ``probes.py``, the child side: one function per probe, run in the sandbox (it may import torch);
- ``graders/grade_<group>.py``, the pytest graders, which run in the trusted process and never import torch;
- its reference, used by the probes to surround the method under test and for the expected values.

A course adds its own assignment without changing the kit: a folder ``<name>/`` laid out the same way, in a folder
named by ``$VAE_KIT_ASSIGNMENTS`` (:func:`folders`), with its notebooks in ``<name>/solution/`` and
``<name>/student_template/`` and its corpus in ``<name>/corpus/`` (the kit's own keep theirs in the kit's
``solution/``, ``student_template/`` and ``tests/corpus/``). See the README, "Writing an assignment".

:func:`load` imports a spec and validates it (:meth:`Assignment.validate`): points add up, every test has a
grader and every grader a spec, every test a probe, the visibilities are known, every probe's outputs and info are
declared well (:func:`declaration_problems`)."""
from __future__ import annotations

import ast
import functools
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config import DEFAULT_VISIBILITY, KIT_ROOT, VISIBILITIES

ASSIGNMENTS = Path(__file__).resolve().parent.parent / "assignments"
#: The package every assignment is imported from, as ``<PACKAGE>.<name>`` (a course's own folders join its path).
PACKAGE = f"{__package__.rpartition('.')[0]}.assignments"
#: The environment variable naming further folders of assignments (separated by ``os.pathsep``), a course's own.
FOLDERS_VARIABLE = "VAE_KIT_ASSIGNMENTS"


def key_group(key: str) -> str:
    """The group of a test key: ``"encoder"`` for ``"encoder.shapes"`` (a key is ``"group.check"``)."""
    return key.split(".", 1)[0]


def folders() -> tuple:
    """The folders that hold assignments, ``<folder>/<name>/spec.py``: the kit's ``autograder/assignments/``, then
    those of ``$VAE_KIT_ASSIGNMENTS`` (absolute paths), in order."""
    extra = [Path(p).resolve() for p in os.environ.get(FOLDERS_VARIABLE, "").split(os.pathsep) if p.strip()]
    return tuple(dict.fromkeys([ASSIGNMENTS, *extra]))


def folder_of(name: str) -> Path:
    """The folder of assignment ``name``: the first of :func:`folders` with ``<name>/spec.py``. Raises KeyError
    when there is none (the message lists the assignments there are)."""
    for folder in folders():
        if (folder / name / "spec.py").is_file():
            return folder / name
    raise KeyError(f"no assignment {name!r}; the assignments are {', '.join(names())}")


class SpecError(ValueError):
    """An assignment's spec is inconsistent (the course staff's or the kit's error, found at load)."""


@dataclass(frozen=True)
class TestSpec:
    """How one test is scored and shown.

    points : float
        What the test is worth; a test scores all of it or nothing.
    visibility : str
        Gradescope visibility: one of :data:`autograder.config.VISIBILITIES`.
    timeout : float
        Wall-clock seconds for the child process that runs student code for this test.
    probe : str or None
        The probe whose results the test grades; None: the probe named as the test's group; "": none (the
        test reads the notebook itself, as the figures tests do).
    """

    __test__ = False  # not a pytest test class

    points: float
    visibility: str = DEFAULT_VISIBILITY
    timeout: float = 60.0
    probe: str | None = None


@dataclass(frozen=True)
class Output:
    """One array a probe returns, declared once: the runner checks every result against it.

    name : str
        Its key in the probe's outputs.
    dtype : str
        "float", "int", "bool", or "number" (any plain number type: what student code returned, whose
        dtype the grader itself checks with a message).
    shape : tuple or None
        Sizes, each an int or the name of a size in the case's ``sizes`` ("batch"); None when it varies.
        Checked by the runner for outputs that the probe itself makes (``from_student=False``); a grader
        checks the shape of what student code returned with :meth:`Case.shape_of`, to word the message.
    required : bool
        Present in every case (when the probe finished); otherwise only in some.
    from_student : bool
        The value is what student code returned (checked by the graders), rather than made by the probe.
    """

    name: str
    dtype: str = "number"
    shape: tuple | None = None
    required: bool = True
    from_student: bool = True


DTYPE_KINDS = {"float": "f", "int": "iu", "bool": "b", "number": "fiub"}


#: The JSON types an info value may be declared with, and the Python types ``json.loads`` gives for each ("float" is
#: any JSON number; a bool is never an int nor a float here, though it is one in Python); "any": any JSON value.
INFO_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,), "dict": (dict,), "list": (list,),
              "any": None}


def _json_type(value) -> str:
    """The JSON type of a value ``json.loads`` gave, in the words of :data:`INFO_TYPES` ("null" for None)."""
    if value is None:
        return "null"
    return next((name for name, kinds in INFO_TYPES.items() if kinds and type(value) in kinds), type(value).__name__)


@dataclass(frozen=True)
class Info:
    """One key of the JSON ``info`` a probe returns with each case's arrays, declared once: the runner refuses any
    other key, and a value of another type (see :meth:`ProbeSpec.info_problems`).

    name : str
        The key (``"sample_calls"``).
    type : str
        Its JSON type, one of :data:`INFO_TYPES`: "int", "float", "bool", "str", "dict", "list" (what the value
        holds, a dict's values or a list's items, is the graders' to read), or "any".
    nullable : bool
        None (JSON null) is accepted too ("the step whose loss was not finite, or None").

    A key may be absent from a case (a probe returns some keys only in some cases): the graders read info with
    ``info.get(name)``.
    """

    name: str
    type: str = "any"
    nullable: bool = False

    def problem(self, value) -> str:
        """What is wrong with ``value`` as this key's ("" when nothing)."""
        kinds = INFO_TYPES[self.type]
        if kinds is None or (value is None and self.nullable) or (value is not None and type(value) in kinds):
            return ""
        return f"info {self.name!r} is {_json_type(value)}, not {self.type}{' or null' if self.nullable else ''}"


#: The info of a training run made with ``probing.start_from`` and ``probing.train`` (every assignment's training
#: probe): the steps taken, the step whose loss was not finite, the loop's CPU seconds, the step where the loss
#: changed the watched layers' weights itself, how many layers were watched and those training left unmoved; or,
#: when the model's layers are not the grader's (nothing is trained), those layers (``unfit``) and their types.
TRAINING_INFO = (Info("steps", "int"), Info("nonfinite_step", "int", nullable=True), Info("cpu_seconds", "float"),
                 Info("changed_step", "int", nullable=True), Info("watched", "int"), Info("unmoved", "list"),
                 Info("unfit", "list"), Info("types", "dict"))


def again_with(**changes):
    """An ``again`` of :class:`ProbeSpec`: the same cases with each array named in ``changes`` replaced by
    ``changes[name](array)`` (``x=lambda x: 1 - x[::-1]``: other inputs of the same shape and range); the graders
    then compute what they expect from the second round's own arrays."""
    import dataclasses

    def again(cases):
        return [dataclasses.replace(case, arrays={name: changes[name](value) if name in changes else value
                                                  for name, value in case.arrays.items()}) for case in cases]
    return again


def expected_outputs(*names, **shapes) -> tuple:
    """The outputs of a probe that runs the reference (no student code): ``expected/<name>``, floats made by the
    probe, with the shapes given by name (``theta=("batch", "obs")``)."""
    return tuple(Output(f"expected/{n}", "float", shapes.get(n), from_student=False) for n in names)


@dataclass(frozen=True)
class ProbeSpec:
    """A probe: the child-side function ``probe_<name>`` of the assignment's ``probes.py``, its cases and outputs.

    method : str
        The graded method it calls: its rules apply, and messages name it.
    cases : callable
        ``cases(root) -> list of autograder.core.cases.Case``, with ``root`` the MNIST folder.
    outputs : tuple of Output
        Everything it may return; anything else is refused by the runner.
    reference : tuple of str, or None
        The reference pieces (functions, or methods of a reference class, of the assignment's
        ``reference.py``) written beside the submission for this probe, never the answer to the method under
        test; None: none. A probe that runs no student code gets the whole file unless this is None.
    expected : str or None
        A probe that runs no student code and computes this probe's expected values (its outputs replace
        the student child's outputs of the same names); None when the grader computes them itself.
    student_code : bool
        False for probes that run no student code (reference runs, the sandbox check).
    class_name : str or None
        The class of the submission the probe gets (None: the assignment's first class).
    repeat : bool
        A probe that runs student code runs its cases twice in one child: a second round after the first (so that
        whatever state the submission keeps, on its class, its module or its instances, persists), on the cases
        ``again(cases)`` gives, with other torch seeds; each test's grader is applied to both rounds (see
        :meth:`autograder.grading.grading.GradedSubmission.twice`). False for the training run (and probes that only
        build the model); a probe that runs no student code runs once, or twice as the probe it serves does.
    again : callable or None
        ``again(cases) -> cases`` of the second round (the same number, names and sizes: other inputs where the
        graders allow it, see :func:`again_with`); None: the same cases.
    info : tuple of Info
        Every key of the JSON ``info`` it may return with a case (the graders read them): anything else, or a
        value of another type, is refused by the runner as an output would be. A probe of ``probing.expected``
        returns none.
    """

    method: str
    cases: object = None
    outputs: tuple = ()
    reference: tuple | None = None
    expected: str | None = None
    student_code: bool = True
    class_name: str | None = None
    repeat: bool = True
    again: object = None
    info: tuple = ()

    @property
    def rounds(self) -> int:
        """How many rounds of its cases a student's child runs: 2 when it repeats, else 1."""
        return 2 if self.repeat and self.student_code else 1

    def output(self, name: str) -> Output | None:
        """The declared output ``name`` (or None)."""
        return next((o for o in self.outputs if o.name == name), None)

    def info_problems(self, info: dict) -> list:
        """What is wrong with one case's ``info`` against :attr:`info`, in words: each undeclared key, each value of
        another type than declared (empty when nothing)."""
        declared = {key.name: key for key in self.info}
        problems = [f"{name!r} is not an info key of this probe" for name in info if name not in declared]
        return problems + [wrong for name, value in info.items() if name in declared
                           for wrong in (declared[name].problem(value),) if wrong]


def declaration_problems(name: str, probe) -> list:
    """What is malformed in probe ``name``'s declaration of its outputs and info (empty when nothing): an output
    of an unknown dtype; info that is not a tuple of :class:`Info` with names, known types and no key twice."""
    problems = [f"probe {name!r}: output {o.name!r} has an unknown dtype" for o in probe.outputs
                if o.dtype not in DTYPE_KINDS]
    if not isinstance(probe.info, tuple) or not all(isinstance(key, Info) for key in probe.info):
        return problems + [f"probe {name!r}: its info is not a tuple of Info"]
    for key in probe.info:
        if not isinstance(key.name, str) or not key.name:
            problems.append(f"probe {name!r}: info key {key.name!r} is not a name")
        if not isinstance(key.type, str) or key.type not in INFO_TYPES:
            problems.append(f"probe {name!r}: info {key.name!r} has type {key.type!r}, not one of {tuple(INFO_TYPES)}")
        if not isinstance(key.nullable, bool):
            problems.append(f"probe {name!r}: info {key.name!r} has nullable {key.nullable!r}, not a bool")
    names = [key.name for key in probe.info if isinstance(key.name, str)]
    return problems + [f"probe {name!r}: info {n!r} is declared twice" for n in dict.fromkeys(names)
                       if names.count(n) > 1]


@dataclass(frozen=True)
class Assignment:
    """One assignment: what students implement, how it is graded, and where its pieces are.

    name : str
        Its folder's name under ``autograder/assignments/`` ("vae") or a folder of ``$VAE_KIT_ASSIGNMENTS``.
    title : str
        For people ("Part 1: a VAE on MNIST").
    notebook : str
        The file students submit ("vae.ipynb"); also ``solution/`` and ``student_template/`` names.
    classes : tuple of str
        The classes the graded cell(s) define; the first is the one the probes build.
    methods : tuple of str
        The graded methods, in the notebook's task order.
    task_points : dict of str to float
        Points per method, as printed in the notebook: its tests' points must add up to it.
    tests : dict of str to TestSpec
        Every test, keyed "group.check", in report order.
    extra_groups : tuple of str
        Groups after the methods (tests spanning several methods: "training", "figures").
    probes : dict of str to ProbeSpec
    allowed_imports, handout_imports : frozenset of str
        Imports the notebook may make; and those allowed when its first code cell makes them.
    leaderboard : dict
        ``{recorded key: {"name": column, "order": "asc"|"desc"}}`` for Gradescope's leaderboard.
    training : object
        The assignment's training settings (read by its own probes and graders), or None.
    data_groups : tuple of str
        Groups that need MNIST on disk.
    method_of : dict of str to str
        ``{group: "Class.method"}`` for graded methods that are not the first class's method of the group's name
        (Part 3's ``cond_encoder``: ``ConditionalVAE.encoder``); the others are ``f"{classes[0]}.{group}"``.
    training_methods : tuple of str
        The methods its training run calls (their rules and failures concern the training test too).
    training_cpu_seconds : float
        What the reference's training run takes, in CPU-s on the 2-core development machine (for planning:
        the kit's tests grade long runs in ``make test-all``).
    classifier_groups : tuple of str
        Groups that judge images with the kit's digit classifier (``digit_classifier.py``).
    generated_reference : bool
        Its ``reference.py`` is generated from the solution notebook's classes by ``make student`` (and checked
        current by the kit's tests), rather than written by hand.
    hand_graded_points : float
        Points graded by hand outside the autograder's score (Part 3's written answers: the sum of the ``points``
        of the solution notebook's answer cells); the grader's summary says so.
    statistical : dict of str to int
        ``{probe: seeds per child}``: the probes whose tests judge random draws, which ``make false-failures``
        runs over many seeds on correct code, and how many seeds' cases fit in one child (its output file and
        memory limits; a child keeps both rounds of calls).
    forbidden_modules : tuple of str
        Modules its code may not reach at all (the kit's VAEs: ``"torch.distributions"``), read from the source by
        :mod:`autograder.notebook.rules` and watched while it runs by :mod:`autograder.sandbox.probing`.
    notebook_variables : dict of str to str
        ``{name: advice}`` for variables that the notebook's other cells define and a method may not read (the
        grader runs the graded classes alone): the hint of a ``NameError`` on them
        (:mod:`autograder.processes.messages`).
    correct_variants : dict of str to tuple of str
        ``{file of tests/corpus/<name>/correct/: probes}``: correct submissions that ``make false-failures``
        measures besides the reference, on the statistical probes whose code path they change (a loss drawing
        its own noise, a sampler drawing differently).
    """

    name: str
    title: str
    notebook: str
    classes: tuple
    methods: tuple
    task_points: dict
    tests: dict
    probes: dict
    extra_groups: tuple = ()
    allowed_imports: frozenset = frozenset()
    handout_imports: frozenset = frozenset()
    leaderboard: dict = field(default_factory=dict)
    training: object = None
    data_groups: tuple = ("training",)
    method_of: dict = field(default_factory=dict)
    training_methods: tuple = ()
    training_cpu_seconds: float = 0.0
    classifier_groups: tuple = ()
    generated_reference: bool = False
    hand_graded_points: float = 0.0
    statistical: dict = field(default_factory=dict)
    correct_variants: dict = field(default_factory=dict)
    forbidden_modules: tuple = ()
    notebook_variables: dict = field(default_factory=dict)

    @property
    def groups(self) -> tuple:
        """The groups tests are reported in, in order: each method, then :attr:`extra_groups`."""
        return tuple(self.methods) + tuple(self.extra_groups)

    @property
    def folder(self) -> Path:
        """Its folder (see :func:`folder_of`)."""
        return folder_of(self.name)

    def _kept(self, in_kit: Path, own: str) -> Path:
        """Where a file of the assignment is kept: ``in_kit`` (a path of the kit) for the kit's own assignments
        (under ``autograder/assignments/``), else ``own`` in its folder."""
        folder = self.folder
        return in_kit if folder.parent == ASSIGNMENTS else folder / own

    @property
    def solution_notebook(self) -> Path:
        """The solution notebook: the kit's ``solution/<notebook>``, or ``<folder>/solution/<notebook>``."""
        return self._kept(KIT_ROOT / "solution", "solution") / self.notebook

    @property
    def template_notebook(self) -> Path:
        """The notebook handed to students: ``student_template/<notebook>`` of the kit, or of its folder."""
        return self._kept(KIT_ROOT / "student_template", "student_template") / self.notebook

    @property
    def corpus(self) -> Path:
        """Its corpus of submissions (``correct/``, ``bugs/``): the kit's ``tests/corpus/<name>/``, or
        ``<folder>/corpus/``."""
        return self._kept(KIT_ROOT / "tests" / "corpus" / self.name, "corpus")

    @property
    def graders(self) -> Path:
        """The folder of its pytest graders, ``grade_<group>.py``."""
        return self.folder / "graders"

    @property
    def expectations(self) -> dict:
        """``{test key: expect(case) -> dict}`` from its ``expect.py``'s ``EXPECT``: what a test expects at a case's
        inputs (the reference's outputs, named mistakes), for the graders and, as data, for the notebook's checks
        (:meth:`autograder.grading.grading.GradedSubmission.expected`). Empty when it has no ``expect.py``."""
        if not (self.folder / "expect.py").is_file():
            return {}
        return importlib.import_module(f"{PACKAGE}.{self.name}.expect").EXPECT

    @property
    def probes_file(self) -> Path:
        """Its child-side probes, copied into the child runtime as ``probes_<name>.py``."""
        return self.folder / "probes.py"

    @property
    def class_name(self) -> str:
        return self.classes[0]

    @property
    def max_score(self) -> float:
        return float(sum(t.points for t in self.tests.values()))

    @property
    def qualified_methods(self) -> dict:
        """``{group: "Class.method"}`` for every graded method (see ``method_of``)."""
        return {m: self.method_of.get(m, f"{self.class_name}.{m}") for m in self.methods}

    def group_of(self, qualified: str):
        """The group of the graded method ``"Class.method"`` (None when it is not graded)."""
        return next((g for g, q in self.qualified_methods.items() if q == qualified), None)

    def probe_of(self, key: str) -> str:
        """The probe whose results test ``key`` grades."""
        probe = self.tests[key].probe
        return key_group(key) if probe is None else probe

    def grader_keys(self) -> dict:
        """``{key: grader file}`` for every ``@grades("key")`` in its graders, read from their source."""
        found = {}
        for path in sorted(self.graders.glob("grade_*.py")):
            try:
                tree = ast.parse(path.read_text())
            except SyntaxError as exc:
                raise SpecError(f"{self.name}: grader {path.name} does not parse: {exc}") from None
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "grades" and node.args
                        and isinstance(node.args[0], ast.Constant)):
                    if node.args[0].value in found:
                        raise SpecError(f"{self.name}: test {node.args[0].value!r} has two graders")
                    found[node.args[0].value] = path.name
        return found

    def validate(self) -> "Assignment":
        """Check the spec; returns it. Raises SpecError naming every inconsistency found."""
        problems = []
        for key, spec in self.tests.items():
            group = key_group(key)
            if group not in self.groups:
                problems.append(f"test {key!r}: group {group!r} is not a method or an extra group")
            if spec.visibility not in VISIBILITIES:
                problems.append(f"test {key!r}: visibility {spec.visibility!r} is not one of {VISIBILITIES}")
            if self.probe_of(key) and self.probe_of(key) not in self.probes:
                problems.append(f"test {key!r}: no probe {self.probe_of(key)!r}")
        for method in self.methods:
            got = sum(s.points for k, s in self.tests.items() if key_group(k) == method)
            if got != self.task_points.get(method):
                problems.append(f"method {method!r}: its tests are worth {got:g}, the notebook says "
                                f"{self.task_points.get(method)}")
        if set(self.task_points) - set(self.methods):
            problems.append(f"task points for unknown methods {sorted(set(self.task_points) - set(self.methods))}")
        graded = self.grader_keys()
        problems += [f"test {k!r} has no grader" for k in self.tests if k not in graded]
        problems += [f"grader of {k!r} ({f}) has no test in the spec" for k, f in graded.items() if k not in self.tests]
        for name, probe in self.probes.items():
            if probe.expected and probe.expected not in self.probes:
                problems.append(f"probe {name!r}: its expected values come from unknown probe {probe.expected!r}")
            problems += declaration_problems(name, probe)
        problems += [f"statistical probe {name!r} is not a probe" for name in self.statistical
                     if name not in self.probes]
        problems += [f"correct variant {file!r}: probe {name!r} is not a statistical probe"
                     for file, probes in self.correct_variants.items() for name in probes
                     if name not in self.statistical]
        if problems:
            raise SpecError(f"assignment {self.name!r}: " + "; ".join(problems))
        return self


def names() -> tuple:
    """The assignments: the subfolders of :func:`folders` that have a ``spec.py``, sorted."""
    return tuple(sorted({p.parent.name for folder in folders() for p in folder.glob("*/spec.py")}))


@functools.cache
def load(name: str) -> Assignment:
    """The validated assignment ``name``.

    Raises
    ------
    KeyError
        When there is no such assignment (the message lists those there are).
    SpecError
        When its spec is inconsistent.
    """
    if name not in names():
        raise KeyError(f"no assignment {name!r}; the assignments are {', '.join(names())}")
    assignment = importlib.import_module(f"{PACKAGE}.{name}.spec").ASSIGNMENT
    if assignment.name != name:
        raise SpecError(f"autograder/assignments/{name}/spec.py declares the assignment {assignment.name!r}")
    return assignment.validate()


def all_assignments() -> list:
    """Every assignment of the kit, validated."""
    return [load(name) for name in names()]


class UnknownAssignment(ValueError):
    """Which assignment a submission belongs to cannot be told from it: ``str(exc)`` says why."""


def recognise(classes: set, filename: str = "") -> Assignment:
    """The assignment whose classes a submission defines (``classes``: the names of its top-level classes).

    An assignment matches when the submission defines all of its classes; when several match, the one with
    the most classes wins if it is alone, and otherwise the file name decides (``vae2d.ipynb``, or
    ``vae2d.py``: the notebook's name with any suffix).

    Raises
    ------
    UnknownAssignment
        When none matches, or when the match is ambiguous: the message lists the candidates and says to pass
        ``--assignment NAME``.
    """
    every = all_assignments()
    matches = [a for a in every if set(a.classes) <= classes]
    most = max((len(a.classes) for a in matches), default=0)
    best = [a for a in matches if len(a.classes) == most]
    if len(best) == 1:
        return best[0]
    by_name = [a for a in (best or every) if Path(a.notebook).stem == Path(filename).stem]
    if len(by_name) == 1:
        return by_name[0]
    listed = ", ".join(f"{a.name} (class {' and '.join(a.classes)}, {a.notebook})" for a in (best or every))
    found = ", ".join(sorted(classes)) or "none"
    raise UnknownAssignment(f"cannot tell which assignment {Path(filename).name or 'this submission'} is for "
                            f"(classes it defines: {found}); candidates: {listed}. Pass --assignment NAME.")
