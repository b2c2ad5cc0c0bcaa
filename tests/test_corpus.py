"""The corpus in tests/corpus: correct solutions written differently from the reference, and single-bug
variants of it. Each file is graded once (two at a time) by ``scripts/grade_corpus.py``'s code."""
import dataclasses
import sys

import pytest
from conftest import ROOT

from autograder import config

sys.path.insert(0, str(ROOT / "scripts"))
import grade_corpus as corpus  # noqa: E402

CASES = corpus.load_cases()
CORRECT = [c for c in CASES if c.kind == "correct"]
BUGS = [c for c in CASES if c.kind == "bug"]
GRADER_ERROR = "The grader itself failed"


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    """Every corpus case graded once: {name: Verdict}."""
    out = tmp_path_factory.mktemp("corpus")
    return {v.case.name: v for v in corpus.grade_all(CASES, jobs=2, out=out)}


def test_corpus_is_large_and_covers_every_method():
    """Does the corpus hold at least 10 correct variants and 30 bugs, with bugs in every method?"""
    assert len(CORRECT) >= 10 and len(BUGS) >= 30
    assert {c.method for c in BUGS} == set(config.METHODS)
    assert len({c.name for c in CASES}) == len(CASES)


def test_header_names_a_method(tmp_path):
    """Is a corpus file whose header names no method, or an unknown one, refused?"""
    for header in ("# expect: bug in forward\n", "# why: no expectation\n", ""):
        path = tmp_path / "case.py"
        path.write_text(header + "class VAE:\n    pass\n")
        with pytest.raises(ValueError, match="expect"):
            corpus.parse_case(path)
    path.write_text("# expect: bug in elbo\n# message: KL\n# why: w\nclass VAE:\n    pass\n")
    assert (corpus.parse_case(path).method, corpus.parse_case(path).message) == ("elbo", "KL")


@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.name)
def test_correct_variant_gets_full_marks(case, verdicts):
    """Does this correct solution get every point of every test, the training run included?"""
    verdict = verdicts[case.name]
    assert set(verdict.lost) == set(config.METHODS) | {"training"}  # figures are not counted for a .py
    assert verdict.ok, verdict.problems
    assert all(points == 0 for points in verdict.lost.values())


@pytest.mark.parametrize("case", BUGS, ids=lambda c: c.name)
def test_bug_costs_its_own_method_only(case, verdicts):
    """Does this bug lose points in its own method, none in another method, and name the mistake?"""
    verdict = verdicts[case.name]
    assert verdict.lost[case.method] > 0, verdict.problems
    assert {g for g, points in verdict.lost.items() if points > 0} == {case.method}, verdict.problems
    if case.message:
        assert case.message in verdict.outputs[case.method]
    assert GRADER_ERROR not in verdict.outputs[case.method]
    assert verdict.ok


def test_totals_count_what_make_corpus_reports(verdicts):
    """Do the totals that ``make corpus`` prints count a correct variant that lost points, a bug missed in its
    own method and points lost in another method, and does the table mark those cases WRONG?"""
    real = list(verdicts.values())
    correct, bug = next(v for v in real if v.case.kind == "correct"), next(v for v in real if v.case.kind == "bug")
    other = next(g for g in config.METHODS if g != bug.case.method)
    broken = [dataclasses.replace(correct, lost={**correct.lost, "encoder": 3.0}, problems=["lost 3 in encoder"]),
              dataclasses.replace(bug, lost={**bug.lost, bug.case.method: 0.0, other: 2.0}, problems=["missed"])]
    totals, before = corpus.totals(real + broken), corpus.totals(real)
    assert totals["full_marks"] == before["full_marks"] and totals["correct"] == before["correct"] + 1
    assert totals["caught"] == before["caught"] and totals["bugs"] == before["bugs"] + 1
    assert totals["wrong_method_points"] == before["wrong_method_points"] + 2
    assert corpus.table(broken).count("WRONG") == 2
