"""The corpus in tests/corpus/<assignment>/: correct solutions written differently from the reference, and
single-bug variants of it. Each file is graded in its own test (so pytest-xdist spreads them over the workers) by
``scripts/grade_corpus.py``'s code, which ``make corpus`` runs too."""
import sys

import pytest
from conftest import ROOT

from autograder.assignments.vae import spec
from autograder.core.assignment import all_assignments

sys.path.insert(0, str(ROOT / "scripts"))
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
            corpus.parse_case(path)  # Part 1's methods
    path.write_text("# expect: bug in elbo\n# message: KL\n# why: w\nclass VAE:\n    pass\n")
    assert (corpus.parse_case(path).method, corpus.parse_case(path).message) == ("elbo", "KL")


#: A training run longer than this (the reference's, in CPU-s on this machine: spec ``training_cpu_seconds``) is
#: graded in ``make test-all`` (marked extended); ``make test`` grades the variant's methods and figures.
LONG_TRAINING = 15.0


def _correct(case):
    long = case.assignment.training_cpu_seconds > LONG_TRAINING and not corpus.trains_like_reference(case)
    return pytest.param(case, marks=[pytest.mark.extended] if long else [], id=case.name)


@pytest.mark.slow
@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.name)
def test_correct_variant_gets_full_marks(case, tmp_path, classifier_file):
    """Does this correct solution get every point of every test, but the training run and what it feeds when the
    methods the run calls are the reference's own (then it trains as the solution does, graded in its own test) or
    the run is long (then `make test-all` grades it: test_correct_variant_trains)?"""
    long = case.assignment.training_cpu_seconds > LONG_TRAINING
    skip = set(case.assignment.extra_groups) - {"figures"} if long or corpus.trains_like_reference(case) else set()
    _full_marks(case, tmp_path, [g for g in case.assignment.groups if g not in skip])


@pytest.mark.slow
@pytest.mark.parametrize("case", [_correct(c) for c in CORRECT if c.assignment.training_cpu_seconds > LONG_TRAINING
                                  and not corpus.trains_like_reference(c)])
def test_correct_variant_trains(case, tmp_path, classifier_file):
    """Does this correct solution, whose training run calls methods of its own and is long, get every point of the
    training run and of what it feeds?"""
    _full_marks(case, tmp_path, [g for g in case.assignment.extra_groups if g != "figures"])


def _full_marks(case, tmp_path, groups) -> None:
    verdict = corpus.judge(case, graded(case, tmp_path, groups))
    counted = set(groups) - (NOTEBOOK_ONLY if case.path.suffix == ".py" else set())
    assert set(verdict.lost) == counted
    assert verdict.ok, verdict.problems
    assert all(points == 0 for points in verdict.lost.values())


@pytest.mark.slow
@pytest.mark.parametrize("case", BUGS, ids=lambda c: c.name)
def test_bug_costs_its_own_method_only(case, tmp_path, classifier_file):
    """Does this bug lose points in its own method, none in another method, and name the mistake?"""
    verdict = corpus.judge(case, graded(case, tmp_path))
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
