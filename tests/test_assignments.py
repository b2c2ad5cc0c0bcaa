"""The engine's assignments: specs validated at load, a submission's assignment recognised, probe outputs checked
against their declarations, generated files current, one Gradescope zip per assignment."""
import ast
import dataclasses
import os
import re
import sys
import zipfile

import numpy as np
import pytest
from conftest import ROOT

from autograder.core.assignment import (Info, Output, ProbeSpec, SpecError, TestSpec, UnknownAssignment,
                                        all_assignments, load)
from autograder.core.assignment import names as assignment_names
from autograder.core.assignment import recognise
from autograder.core.cases import Case, ChildFailure, ProbeResult
from autograder.deploy import package
from autograder.notebook import assign
from autograder.processes import outputs, runtime

ASSIGNMENTS = all_assignments()


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_every_assignment_loads_valid(assignment):
    """Does each assignment's spec validate, with a grader file per group and its notebook in solution/ and
    student_template/?"""
    assert assignment.validate() is assignment
    assert {f"grade_{g}.py" for g in assignment.groups} <= {p.name for p in assignment.graders.glob("grade_*.py")}
    assert (ROOT / "solution" / assignment.notebook).is_file()
    assert (ROOT / "student_template" / assignment.notebook).is_file()
    assert sum(assignment.task_points.values()) < assignment.max_score


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_probes_name_the_layers_of_their_spec(assignment):
    """Does each assignment's probes module, which the sandbox runs apart from the kit (so it cannot import the
    spec), name the same layers, in the same order, as the spec the graders read?"""
    import ast
    import importlib

    from autograder.sandbox import vae_check

    spec = importlib.import_module(f"autograder.assignments.{assignment.name}.spec")
    tree = ast.parse((assignment.folder / "probes.py").read_text())
    probes = {}
    exec(compile(ast.Module([n for n in tree.body if isinstance(n, ast.Assign)
                             and all(isinstance(t, ast.Name) and t.id.isupper() for t in n.targets)], []),
                 "probes.py", "exec"), probes)
    for node in tree.body:  # constants the probes take from vae_check, the module the notebook's checks share
        if isinstance(node, ast.ImportFrom) and node.module == "vae_check":
            probes.update({a.asname or a.name: getattr(vae_check, a.name) for a in node.names if a.name.isupper()})
    if hasattr(spec, "LAYERS") or "LAYERS" in probes:
        assert tuple(probes["LAYERS"]) == tuple(spec.LAYERS)


def test_spec_errors_name_every_inconsistency():
    """Are points that do not add up, a test without a grader, a grader without a test, an unknown visibility and
    a test of an unknown probe all refused, each named?"""
    part1 = load("vae")
    tests = dict(part1.tests)
    tests["encoder.values"] = TestSpec(6)
    tests["decoder.shapes"] = TestSpec(3, visibility="secret")
    tests["kl_divergence.extra"] = TestSpec(0)
    tests["sample.prior"] = TestSpec(4, probe="nowhere")
    del tests["elbo.gradients"]
    broken = dataclasses.replace(part1, tests=tests)
    with pytest.raises(SpecError) as error:
        broken.validate()
    message = str(error.value)
    for expected in ("method 'encoder': its tests are worth 9", "visibility 'secret'", "'kl_divergence.extra' has no "
                     "grader", "grader of 'elbo.gradients' (grade_elbo.py) has no test", "no probe 'nowhere'"):
        assert expected in message


def test_unknown_assignment_lists_the_known_ones():
    """Does loading an assignment the kit does not have say which ones it has?"""
    with pytest.raises(KeyError, match="the assignments are " + ", ".join(assignment_names())):
        load("part9")


def test_assignment_is_recognised_from_classes_then_file_name():
    """Is a submission's assignment the one whose classes it defines, else the one its file is named after, and
    is an ambiguous or unknown one refused with the candidates?"""
    assert recognise({"VAE", "Helper"}, "homework.ipynb").name == "vae"
    assert recognise({"VAE2D"}, "anything.py").name == "vae2d"
    assert recognise(set(), "vae2d.py").name == "vae2d"
    assert recognise({"VAE", "VAE2D"}, "vae2d.ipynb").name == "vae2d"
    with pytest.raises(UnknownAssignment, match="candidates: vae .*vae2d .*Pass --assignment NAME"):
        recognise({"VAE", "VAE2D"}, "both.ipynb")
    with pytest.raises(UnknownAssignment, match="classes it defines: none"):
        recognise(set(), "homework.py")


def _result(outputs: dict, case_sizes=None, info=None) -> ProbeResult:
    case = Case((), {}, name="only", sizes=case_sizes or {"batch": 3})
    return ProbeResult([outputs], [info or {}], [case])


def test_outputs_are_checked_against_their_declaration():
    """Is a child's output refused when it is undeclared, a required one is missing, or a probe-made one has the
    wrong dtype or shape, as the student's failure for a child that ran student code and as the grader's for
    one that did not?"""
    spec = ProbeSpec("m", outputs=(Output("got"), Output("made", "float", ("batch",), from_student=False),
                                   Output("maybe", required=False)))
    good = {"got": np.zeros((3, 2), np.int64), "made": np.zeros(3)}
    outputs.check_outputs(_result(good), spec, "m")
    for bad, problem in (({**good, "extra": np.zeros(1)}, "'extra' is not an output"),
                         ({"made": np.zeros(3)}, "'got' is missing"),
                         ({**good, "made": np.zeros(4)}, "'made' has shape (4,), not (3,)"),
                         ({**good, "made": np.zeros(3, np.int64)}, "'made' has dtype int64, not float")):
        with pytest.raises(ChildFailure, match=problem.replace("(", r"\(").replace(")", r"\)")):
            outputs.check_outputs(_result(bad), spec, "m")
        with pytest.raises(RuntimeError, match="the grader's own probe"):
            outputs.check_outputs(_result(bad), spec, "m", trusted=True)


def test_info_is_checked_against_its_declaration():
    """Is a child's info refused when it holds an undeclared key or a value of another type than declared (a bool
    for an int, null where none is allowed), as the student's failure naming the key for a child that ran student
    code and as the grader's for one that did not, while absent keys, null where allowed and an int for a float
    pass?"""
    spec = ProbeSpec("m", outputs=(Output("got"),), info=(
        Info("calls", "int"), Info("seconds", "float"), Info("step", "int", nullable=True), Info("grads", "dict"),
        Info("names", "list"), Info("ok", "bool"), Info("error", "str"), Info("anything")))
    got = {"got": np.zeros(2)}
    for good in ({}, {"calls": 2, "seconds": 0.5, "step": None, "grads": {"a": True}, "names": ["a"], "ok": False,
                      "error": "", "anything": [1, {"x": None}]}, {"seconds": 3, "step": 4, "anything": None}):
        outputs.check_outputs(_result(got, info=good), spec, "m")
        outputs.check_outputs(_result(got, info=good), spec, "m", trusted=True)
    for bad, problem in (({"forged": 1}, "'forged' is not an info key of this probe"),
                         ({"calls": True}, "info 'calls' is bool, not int"),
                         ({"calls": 2.0}, "info 'calls' is float, not int"),
                         ({"seconds": "1"}, "info 'seconds' is str, not float"),
                         ({"step": 1.5}, "info 'step' is float, not int or null"),
                         ({"ok": None}, "info 'ok' is null, not bool"),
                         ({"grads": [True]}, "info 'grads' is list, not dict")):
        with pytest.raises(ChildFailure, match=re.escape(f"what the process running m returned ({problem}): ")):
            outputs.check_outputs(_result(got, info=bad), spec, "m")
        with pytest.raises(RuntimeError, match="the grader's own probe for m returned unusable outputs: .*"
                                               + re.escape(problem)):
            outputs.check_outputs(_result(got, info=bad), spec, "m", trusted=True)


def test_malformed_info_declarations_are_refused_at_load():
    """Is a probe's info declaration refused at load, each probe named, when it is not a tuple of Info, declares
    an unknown type, a key that is no name, a nullable that is no bool, or a key twice?"""
    part1 = load("vae")
    probes = dict(part1.probes)
    probes["encoder"] = dataclasses.replace(probes["encoder"], info=("steps",))
    probes["decoder"] = dataclasses.replace(probes["decoder"], info=(Info("steps", "number"), Info("", "int")))
    probes["kl_divergence"] = dataclasses.replace(probes["kl_divergence"], info=(Info("n", "int", nullable="yes"),))
    probes["sample"] = dataclasses.replace(probes["sample"], info=(Info("n", "int"), Info("n", "float")))
    probes["elbo"] = dataclasses.replace(probes["elbo"], info={"sample_calls": "int"})
    with pytest.raises(SpecError) as error:
        dataclasses.replace(part1, probes=probes).validate()
    for expected in ("probe 'encoder': its info is not a tuple of Info", "probe 'elbo': its info is not a tuple of "
                     "Info", "probe 'decoder': info 'steps' has type 'number', not one of ('int', 'float', 'bool', "
                     "'str', 'dict', 'list', 'any')", "probe 'decoder': info key '' is not a name",
                     "probe 'kl_divergence': info 'n' has nullable 'yes', not a bool",
                     "probe 'sample': info 'n' is declared twice"):
        assert expected in str(error.value)


def _info_names(tree) -> set:
    """The names a module binds to a probe's info: ``info``, and any bound to ``<x>.info`` (``out, i = found.outputs,
    found.info``)."""
    names = {"info"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = (zip(target.elts, node.value.elts) if isinstance(target, ast.Tuple)
                         and isinstance(node.value, ast.Tuple) else [(target, node.value)])
                names |= {t.id for t, v in pairs if isinstance(t, ast.Name) and isinstance(v, ast.Attribute)
                          and v.attr == "info"}
    return names


def _info_key(node):
    """A read key as a regular expression: a string constant exactly, an f-string with its formatted parts matching
    anything (``f"grad_{name}"``: ``grad_.+``); None for a key the scan cannot read."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values)
    return None


def info_reads(source: str) -> list:
    """``(line, key, code)`` for every read of a probe's info in ``source``, in order: ``info.get(KEY, ...)``,
    ``info[KEY]`` and ``KEY in info``, with ``info`` a name of :func:`_info_names` or ``<x>.info`` itself
    (``found.info.get(...)``); ``key`` is a regular expression (:func:`_info_key`), None for a key it cannot read
    and for any other method of the dict (``info.items()``: every key)."""
    tree = ast.parse(source)
    names, calls = _info_names(tree), {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}

    def is_info(node):
        return (isinstance(node, ast.Attribute) and node.attr == "info") or (isinstance(node, ast.Name)
                                                                            and node.id in names)
    reads = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_info(node.value):
            call = calls.get(id(node))
            key = call.args[0] if node.attr == "get" and call is not None and call.args else None
            reads.append((call or node, key))
        elif isinstance(node, ast.Subscript) and is_info(node.value):
            reads.append((node, node.slice))
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) and is_info(right)
                                                   for op, right in zip(node.ops, node.comparators)):
            reads.append((node, node.left))
    reads.sort(key=lambda read: (read[0].lineno, read[0].col_offset))
    return [(node.lineno, None if key is None else _info_key(key), ast.unparse(node)) for node, key in reads]


def test_the_scan_of_info_reads_finds_every_form():
    """Does the graders' scan find a key read by get, by subscript and by ``in``, on ``info``, on ``found.info`` and
    on a name bound to it, an f-string as a pattern, and a read whose key it cannot check, and nothing else?"""
    source = """out, facts = found.outputs, found.info
info.get("a", 0)
found.info["b"]
"c" in facts
facts.get(f"grad_{name}")
found.info.get(key)
for k, v in info.items(): pass
other.get("z"), other.info_text
"""
    assert [key for _, key, _ in info_reads(source)] == ["a", "b", "c", "grad_.+", None, None]


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_graders_read_only_declared_info(assignment):
    """Does every key a grader reads from a probe's info (``info.get("...")``, ``info["..."]``, ``"..." in info``)
    belong to the declared info of a probe whose tests it grades (of any probe of the assignment, for the graders'
    helper modules), and every key the engine's training check reads (``autograder/grading/grading.py``) to the declared
    info of the assignment's training probe: can no grader read a key that no probe declares?"""
    from autograder.core.assignment import key_group

    graded = {}
    for key, file in assignment.grader_keys().items():
        graded.setdefault(file, set()).add(assignment.probe_of(key))
    found = []
    for path in sorted(assignment.graders.glob("*.py")):
        probes = graded.get(path.name, set()) if path.name.startswith("grade_") else set(assignment.probes)
        found += [(path.name, probes, read) for read in info_reads(path.read_text())]
    training = {assignment.probe_of(key) for key in assignment.tests if key_group(key) == "training"}
    found += [("grading.py", training, read) for read in info_reads((ROOT / "autograder" / "grading" / "grading.py").read_text())]
    undeclared = [f"{file}:{line}: {code}" for file, probes, (line, key, code) in found
                  if key is None or not any(re.fullmatch(key, info.name) for probe in probes if probe
                                            for info in assignment.probes[probe].info)]
    assert not undeclared, f"reads of undeclared info keys (declare them in the probe's ProbeSpec.info): {undeclared}"
    assert any(file != "grading.py" for file, _, _ in found), "the scan found no read of info in the graders"


def test_cases_are_picked_by_name():
    """Does a probe result give each case's outputs by the case's name, and say which names exist otherwise?"""
    cases = [Case((), {}, name="first"), Case((), {}, name="second")]
    result = ProbeResult([{"a": np.ones(1)}, {"a": np.zeros(1)}], [{}, {"n": 2}], cases)
    assert result.case("second").info == {"n": 2} and result.case("first").outputs["a"][0] == 1
    with pytest.raises(KeyError, match=r"\['first', 'second'\]"):
        result.case("third")


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_templates_and_generated_references_are_current(assignment):
    """Are the checked-in template and, where generated, the reference exactly what `make student` writes?"""
    solution = ROOT / "solution" / assignment.notebook
    assert (ROOT / "student_template" / assignment.notebook).read_text() == assign.render(solution), "make student"
    if assignment.generated_reference:
        assert (assignment.folder / "reference.py").read_text() == \
            assign.render_reference(solution, assignment.classes), "run `make student`"


def test_reference_pieces_withhold_the_method_under_test():
    """Does a child that runs student code get the reference class without the method under test?"""
    source = runtime.reference_source(load("vae2d").folder / "reference.py", ("encoder", "decoder"))
    assert "def encoder(" in source and "def decoder(" in source and "def __init__(" in source
    assert "def loss(" not in source and "def reparameterize(" not in source


@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_one_zip_per_assignment_holds_that_assignment_alone(assignment, tmp_path, classifier_file):
    """Does an assignment's zip hold the engine, that assignment's folder and none of the others', name it, and
    carry the digit classifier when its quality checks need one?"""
    names = zipfile.ZipFile(package.build(tmp_path / "a.zip", assignment.name, version_text="t")).namelist()
    assert (package.CLASSIFIER_NAME in names) == bool(assignment.classifier_groups)
    assert f"autograder/assignments/{assignment.name}/spec.py" in names and "autograder/processes/runner.py" in names
    others = [n for n in names if n.startswith("autograder/assignments/") and n.count("/") > 2
              and not n.startswith(f"autograder/assignments/{assignment.name}/")]
    assert others == []
    assert zipfile.ZipFile(tmp_path / "a.zip").read("ASSIGNMENT").decode().strip() == assignment.name


def test_zip_of_an_assignment_with_quality_checks_needs_the_classifier(tmp_path, monkeypatch):
    """Without a digit classifier, does building Part 2's zip stop with what to run?"""
    monkeypatch.setenv("VAE_KIT_CLASSIFIER", str(tmp_path / "none.npz"))
    with pytest.raises(FileNotFoundError, match="make classifier"):
        package.build(tmp_path / "a.zip", "vae2d")


@pytest.mark.parametrize("target", ["grade", "autograder"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS, ids=lambda a: a.name)
def test_make_trains_the_classifier_first_for_every_assignment_that_needs_it(assignment, target, tmp_path):
    """On a fresh machine (no classifier beside the data), do `make grade` and `make autograder` of an assignment
    train the digit classifier first exactly when its spec has classifier groups?"""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k != "VAE_KIT_CLASSIFIER"}
    planned = subprocess.run(["make", "-n", target, f"ASSIGNMENT={assignment.name}", f"MNIST_ROOT={tmp_path}"],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert ("train_digit_classifier.py" in planned) == bool(assignment.classifier_groups), planned


def test_calibration_of_each_assignment_with_a_training_run_is_in_its_folder():
    """Does every assignment with a training run bring calibration.py (its measures, each with a pass mark of
    the spec, and one_seed), and does scripts/calibrate.py replace the spec's training fields by name only?"""
    import importlib

    sys.path.insert(0, str(ROOT / "scripts"))
    import calibrate

    for assignment in all_assignments():
        if assignment.training is None:
            continue
        calibration = importlib.import_module(f"autograder.assignments.{assignment.name}.calibration")
        assert set(calibration.thresholds()) <= set(calibration.MEASURES) and callable(calibration.one_seed)
    training = load("cvae").training
    assert calibrate.settings(training, ["init=default", "epochs=2"]).init == "default"
    assert calibrate.settings(training, ["epochs=3"]).epochs == 3 and training.epochs != 3
    with pytest.raises(SystemExit, match="has no field 'nope'"):
        calibrate.settings(training, ["nope=1"])


def test_a_pass_mark_keeps_its_margins_8_std_below_the_seeds_mean_and_below_the_worst():
    """Does calibrate.summary say that a pass mark keeps its margins only when it lies at least 8 standard deviations
    of the reference's seeds below their mean and below the worst seed, and do the training candidates
    (scripts/training_candidates.py) count a bug as caught when a measure misses its mark or its run failed?"""
    sys.path.insert(0, str(ROOT / "scripts"))
    import calibrate
    import training_candidates

    rows = [{"test_elbo": v, "train_cpu_s": 10.0} for v in (-100.0, -101.0, -99.0)]  # mean -100, std 1
    assert calibrate.summary(rows, {"test_elbo": -109.0})[1].endswith("✓")
    assert calibrate.summary(rows, {"test_elbo": -107.5})[1].endswith("✗")  # 7.5 std below the mean
    assert calibrate.summary(rows[:1] * 3, {"test_elbo": -100.0})[1].endswith("✗")  # at the worst seed
    below_mean, below_worst, kept = training_candidates.margins(rows, {"test_elbo": -109.0})["test_elbo"]
    assert below_mean == pytest.approx(9.0) and below_worst is True and kept is True
    assert training_candidates.margins(rows, {"test_elbo": -107.5})["test_elbo"][2] is False
    assert training_candidates.missed({"test_elbo": -120.0}, {"test_elbo": -110.0}) == ["test_elbo"]
    assert training_candidates.missed({"test_elbo": -100.0}, {"test_elbo": -110.0}) == []
    assert training_candidates.missed("ChildFailure: timed out", {"test_elbo": -110.0}) == ["run failed"]
