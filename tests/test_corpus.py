"""The corpus in tests/corpus/<assignment>/: correct solutions written differently from the reference, and
single-bug variants of it. Each file is graded in its own test (so pytest-xdist spreads them over the workers) by
``scripts/grade_corpus.py``'s code, which ``make corpus`` runs too."""
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.assignments.vae import spec
from autograder.core.assignment import all_assignments

sys.path.insert(0, str(ROOT / "scripts"))
import check_agreement  # noqa: E402
import corpus_changes  # noqa: E402
import grade_corpus as corpus  # noqa: E402
import handout  # noqa: E402

CASES = corpus.load_cases()
#: This worker's grading process: every case it grades shares one fork server (see scripts/corpus_service.py).
GRADER = corpus.CorpusGrader()
CORRECT = [c for c in CASES if c.kind == "correct"]
BUGS = [c for c in CASES if c.kind == "bug"]
GRADER_ERROR = "The grader itself failed"
#: Groups a .py submission has nothing for (a notebook's saved figures, its written answers): not counted for one.
NOTEBOOK_ONLY = {"figures", "answers"}


@pytest.fixture(scope="module", autouse=True)
def _grader_stops():
    """Stop this worker's grading process with the module."""
    yield
    GRADER.close()


def graded(case, tmp_path, groups=None) -> dict:
    """The results.json of ``case`` graded on ``groups`` (default: what ``make corpus`` grades it on)."""
    return corpus.grade_case(case, tmp_path, GRADER, groups=groups)


#: Per assignment, the functions of the solution each method group's children run (traced once per worker).
_RUN = {}


def functions_run(assignment, tmp_path) -> dict:
    """``{group: {"Class.method", ...}}``: what the children of each method group run of the solution, traced by
    the children themselves (see scripts/corpus_changes.py); every method group runs something, or the trace
    failed and this raises."""
    if assignment.name not in _RUN:
        traced = GRADER.trace(assignment.solution_notebook, assignment.name, ",".join(assignment.methods),
                              tmp_path / "solution-traced.json")
        run = corpus_changes.functions_run(assignment, traced)
        missing = [g for g in assignment.methods if not run.get(g)]
        if missing:
            raise RuntimeError(f"the trace of {assignment.name}'s solution lists nothing for {missing}")
        _RUN[assignment.name] = run
    return _RUN[assignment.name]


def to_grade(case, tmp_path, groups) -> list:
    """The groups of ``groups`` that the case's code can change (its other method groups run only code it
    writes as the solution does, so they get the solution's full marks: test_solutions.py; ``make corpus``
    grades them all)."""
    return corpus_changes.groups_to_grade(case.path, case.assignment, groups, functions_run(case.assignment, tmp_path))


@pytest.mark.parametrize("assignment", all_assignments(), ids=lambda a: a.name)
def test_corpus_is_large_and_covers_every_method(assignment):
    """Does each assignment's corpus hold at least 10 correct variants and 2 bugs per method, with bugs in
    every method, and distinct names?"""
    cases = [c for c in CASES if c.assignment.name == assignment.name]
    bugs = [c for c in cases if c.kind == "bug"]
    assert len([c for c in cases if c.kind == "correct"]) >= 10 and len(bugs) >= 2 * len(assignment.methods)
    assert set(assignment.methods) <= {c.method for c in bugs} <= set(assignment.methods) | {"figures"}
    assert len({c.name for c in cases}) == len(cases)


def test_handout_notebooks_are_what_the_builder_makes():
    """Are the handout notebooks of the corpus the cells and headers tests/handout.py builds (outputs aside)?"""
    import nbformat

    for path, built in handout.cases().items():
        saved = nbformat.read(path, as_version=4)
        assert [(c.cell_type, c.source) for c in saved.cells] == [(c.cell_type, c.source) for c in built.cells], \
            f"{path.name}: run `python tests/handout.py`"
        assert saved.metadata["vae_kit_corpus"] == built.metadata["vae_kit_corpus"]
    correct = nbformat.read(ROOT / "tests" / "corpus" / "vae" / "correct" / "handout.ipynb", as_version=4)
    outputs = [o for c in correct.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3
    assert not [o for o in outputs if o.output_type == "error"]


def test_header_names_a_method(tmp_path):
    """Is a corpus file whose header names no method, or an unknown one, refused?"""
    for header in ("# expect: bug in forward\n", "# why: no expectation\n", ""):
        path = tmp_path / "case.py"
        path.write_text(header + "class VAE:\n    pass\n")
        with pytest.raises(ValueError, match="expect"):
            corpus.parse_case(path, spec.ASSIGNMENT)  # Part 1's methods
    path.write_text("# expect: bug in elbo\n# message: KL\n# why: w\nclass VAE:\n    pass\n")
    case = corpus.parse_case(path, spec.ASSIGNMENT)
    assert (case.method, case.message) == ("elbo", "KL")


#: A training run longer than this (the reference's, in CPU-s on this machine: spec ``training_cpu_seconds``) is
#: graded in ``make test-all`` (marked extended); ``make test`` grades the variant's methods and figures. Part 1's
#: run (4.4 CPU-s) is graded in ``make test``; Parts 2 and 3's (10 to 17 CPU-s, for each of their 15 and 18
#: variants that train otherwise than the reference) in ``make test-all``.
LONG_TRAINING = 8.0


def _correct(case):
    long = case.assignment.training_cpu_seconds > LONG_TRAINING and not corpus.trains_like_reference(case)
    return pytest.param(case, marks=[pytest.mark.extended] if long else [], id=case.name)


@pytest.mark.slow
@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.name)
def test_correct_variant_gets_full_marks(case, tmp_path, classifier_file):
    """Do the notebook's checks pass it where the grader does, and does this correct solution get every point of
    every test, but the training run and what it feeds when the
    methods the run calls are the reference's own (then it trains as the solution does, graded in its own test) or
    the run is long (then `make test-all` grades it: test_correct_variant_trains), and the method groups whose
    children run only code it writes as the solution does (they get the solution's marks)?"""
    long = case.assignment.training_cpu_seconds > LONG_TRAINING
    skip = set(case.assignment.extra_groups) - {"figures"} if long or corpus.trains_like_reference(case) else set()
    _full_marks(case, tmp_path, to_grade(case, tmp_path, [g for g in case.assignment.groups if g not in skip]))


@pytest.mark.slow
@pytest.mark.parametrize("case", [_correct(c) for c in CORRECT if c.assignment.training_cpu_seconds > LONG_TRAINING
                                  and not corpus.trains_like_reference(c)])
def test_correct_variant_trains(case, tmp_path, classifier_file):
    """Does this correct solution, whose training run calls methods of its own and is long, get every point of the
    training run and of what it feeds?"""
    _full_marks(case, tmp_path, [g for g in case.assignment.extra_groups if g != "figures"])


def checks_agree(case, results: dict) -> None:
    """Do the notebook's checks (when its assignment has some) give, on each test of a method group graded in
    ``results``, the grader's verdict (scripts/check_agreement.py; a check that does not run has no verdict), and
    where the grader's failing test names a bug's mistake (its ``# message:``), does the check's failure name it too?"""
    if case.assignment.name not in check_agreement.checks.CHECKED:
        return
    found = check_agreement.agree_on(case, results, check_agreement.load_data(case.assignment))
    assert not found.check_passes_grader_fails and not found.check_fails_grader_passes, found
    if case.kind == "bug" and case.message:  # a test whose grader's message names the mistake: the check's does too
        graders = {t["tags"][0]: t["output"] for t in results["tests"] if t.get("tags") and t["score"] < t["max_score"]}
        for key, said in found.messages.items():
            if case.message in graders.get(key, "") and found.verdicts.get(key) is False:
                assert case.message in said, (key, said)


def _full_marks(case, tmp_path, groups) -> None:
    results = graded(case, tmp_path, groups)
    checks_agree(case, results)
    verdict = corpus.judge(case, results)
    counted = set(groups) - (NOTEBOOK_ONLY if case.path.suffix == ".py" else set())
    assert set(verdict.lost) == counted
    assert verdict.ok, verdict.problems
    assert all(points == 0 for points in verdict.lost.values())


@pytest.mark.slow
@pytest.mark.parametrize("case", BUGS, ids=lambda c: c.name)
def test_bug_costs_its_own_method_only(case, tmp_path, classifier_file):
    """Does this bug lose points in its own method, none in another method (of those whose children run code that
    it changes: the others run the solution's code), and name the mistake; and do the notebook's checks give the
    grader's verdict on every test graded?"""
    results = graded(case, tmp_path, to_grade(case, tmp_path, corpus.groups_for(case)))
    checks_agree(case, results)
    verdict = corpus.judge(case, results)
    assert verdict.lost[case.method] > 0, verdict.problems
    assert {g for g, points in verdict.lost.items() if points > 0} == {case.method}, verdict.problems
    if case.message:
        assert case.message in verdict.outputs[case.method]
    assert GRADER_ERROR not in verdict.outputs[case.method]
    assert verdict.ok


def _results(lost: dict, says: str = "") -> dict:
    """A results.json that loses ``lost[group]`` points in one test of each group (and none elsewhere), each
    failing test's output saying ``says``."""
    return {"tests": [{"name": f"{group}: a check?", "score": 5.0 - lost.get(group, 0.0), "max_score": 5.0,
                       "output": f"wrong in {group}. {says}" if lost.get(group) else ""}
                      for group in spec.GROUPS[:-1]]}


def test_judge_and_totals_count_what_make_corpus_reports():
    """Do the verdicts and totals that ``make corpus`` prints count a correct variant that lost points, a bug
    missed in its own method, a bug charged to another method and a bug whose mistake is not named, and does
    the table mark exactly those cases WRONG?"""
    correct = next(c for c in CORRECT if c.assignment.name == "vae")
    bug = next(c for c in BUGS if c.message and c.assignment.name == "vae")
    other = next(g for g in spec.METHODS if g != bug.method)
    fine = [corpus.judge(correct, _results({})),
            corpus.judge(bug, _results({bug.method: 2.0, "training": 5.0}, says=bug.message))]
    wrong = [corpus.judge(correct, _results({"encoder": 3.0})),
             corpus.judge(bug, _results({other: 2.0}, says=bug.message)),
             corpus.judge(bug, _results({bug.method: 2.0}, says="something else"))]
    assert [v.ok for v in fine + wrong] == [True, True, False, False, False]
    totals = corpus.totals(fine + wrong)
    assert (totals["full_marks"], totals["correct"]) == (1, 2)
    assert (totals["caught"], totals["bugs"], totals["named"], totals["with_message"]) == (2, 3, 1, 3)
    assert totals["wrong_method_points"] == 2
    assert corpus.table(fine + wrong).count("WRONG") == 3


def _solution_py(tmp_path, assignment, change=None, name="case.py") -> Path:
    """The solution's source as a .py file, with ``change(source) -> source`` applied."""
    source = corpus_changes._solution(assignment.name)[0]
    path = tmp_path / name
    path.write_text(change(source) if change else source)
    return path


def test_changes_are_the_functions_written_otherwise(tmp_path):
    """Does corpus_changes find exactly the functions a case writes otherwise than the solution (docstrings aside) or
    whose rules it breaks, and give up (None: grade every group) when a class's own statements or the set of its
    functions differ?"""
    vae = corpus.load("vae")
    assert corpus_changes.changed(_solution_py(tmp_path, vae), vae) == set()
    decoder = _solution_py(tmp_path, vae, lambda s: s.replace("return torch.sigmoid(", "return 1 * torch.sigmoid(", 1),
                           "decoder.py")
    assert corpus_changes.changed(decoder, vae) == {"VAE.decoder"}
    documented = _solution_py(tmp_path, vae, lambda s: s.replace('"""', '"""Another word. ', 1), "documented.py")
    assert corpus_changes.changed(documented, vae) == set()
    imported = _solution_py(tmp_path, vae, lambda s: s.replace("        return torch.sigmoid(", "        import math\n"
                                                                 "        return torch.sigmoid(", 1))
    assert corpus_changes.changed(imported, vae) == {"VAE.decoder"}  # the line the children get, and the rule
    for change in (lambda s: s.replace("class VAE(nn.Module):", "class VAE(nn.Module):\n    x = 1"),
                   lambda s: s.replace("    def decoder(", "    def helper(self):\n        pass\n\n    def decoder(")):
        assert corpus_changes.changed(_solution_py(tmp_path, vae, change), vae) is None
    run = {g: {"VAE.__init__", vae.qualified_methods[g]} for g in vae.methods}
    groups = corpus_changes.groups_to_grade(decoder, vae, vae.groups, run)
    assert groups == [g for g in vae.groups if g == "decoder" or g not in vae.methods]
    assert corpus_changes.groups_to_grade(documented, vae, vae.methods, run) == list(vae.methods)


@pytest.mark.slow
def test_each_method_group_runs_its_own_method_of_the_submission(tmp_path):
    """Traced on Part 1's solution, does each method group's children run the submission's own method and its
    constructor, and none of its other methods (the reference's pieces stand in for them)?"""
    vae = corpus.load("vae")
    run = functions_run(vae, tmp_path)
    assert run == {g: {"VAE.__init__", vae.qualified_methods[g]} for g in vae.methods}
