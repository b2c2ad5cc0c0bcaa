"""End-to-end grading of the reference, the template and broken submissions."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTION, TEMPLATE, grade_text, lost_groups, mutate

from autograder.core import cases
from autograder.harness import harness
from autograder.processes import forking

from autograder.assignments.vae import spec

from autograder.core.assignment import TestSpec


@pytest.fixture(scope="module")
def solution_result():
    return harness.grade(SOLUTION)


def test_solution_notebook_gets_full_marks(solution_result):
    """Does the reference notebook get every point of every test?"""
    assert [t.key for t in solution_result.tests] == list(spec.TESTS)
    assert solution_result.score == solution_result.max_score == sum(s.points for s in spec.TESTS.values())
    assert all(t.output == "" and t.status == "passed" for t in solution_result.tests)


def test_test_names_are_distinct_questions_under_their_group(solution_result):
    """Does each test in results.json have a name of its own (Gradescope lists tests by name), starting with
    the group it grades and asking a question?"""
    names = [test.name for test in solution_result.tests]
    assert len(set(names)) == len(names)
    for test in solution_result.tests:
        group, _, question = test.name.partition(": ")
        assert group == test.key.split(".")[0] and question.endswith("?"), test.name


def test_template_gets_zero_with_a_message_on_every_test():
    """Does the blank template score 0, with a message on every test?"""
    result = harness.grade(TEMPLATE)
    assert len(result.tests) == len(spec.TESTS)
    assert result.score == 0 and result.max_score == sum(s.points for s in spec.TESTS.values())
    for test in result.tests:
        assert test.status == "failed" and test.output, test.name
    methods = [t for t in result.tests if t.group in spec.METHODS]
    assert all("raised NotImplementedError" in t.output and "YOUR CODE HERE" in t.output for t in methods)


def test_py_submission_of_the_reference_gets_full_marks(tmp_path, reference_source):
    """Does a .py holding the reference VAE get full marks, figures not counted?"""
    tests, result = grade_text(tmp_path, reference_source, groups=spec.GROUPS)
    assert result.score == result.max_score == sum(s.points for k, s in spec.TESTS.items()
                                                   if not k.startswith("figures."))
    assert "figures" not in {t.group for t in tests.values()}
    assert "not counted" in result.output


def test_syntax_error_fails_every_test_with_the_line(tmp_path, reference_source):
    """Does code that does not compile get 0 everywhere, with the line number?"""
    source = mutate(reference_source, "return torch.sigmoid(", "return torch.sigmoid((")
    tests, result = grade_text(tmp_path, source)
    assert result.score == 0
    assert all("does not compile" in t.output and "line" in t.output for t in tests.values())


def test_missing_method_costs_only_that_method(tmp_path, reference_source):
    """Does a VAE without kl_divergence lose the KL's points and nothing else?"""
    source = mutate(reference_source, "def kl_divergence(self, mu, logsigma):", "def kl_div(self, mu, logsigma):")
    tests, _ = grade_text(tmp_path, source)
    assert lost_groups(tests) == {"kl_divergence"}
    assert "has no method kl_divergence" in tests["kl_divergence.values"].output


def test_exception_nan_and_wrong_shape(tmp_path, reference_source):
    """Are an exception, a NaN and a wrong shape each charged to their own method, with a message?"""
    source = mutate(reference_source, "return self.linear21(hidden), self.linear22(hidden)",
                    "return self.linear21(hidden), self.linear22(hidden) * float('nan')")
    source = mutate(source, "return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum(dim=-1)",
                    "return 0.5 * (variance + mu ** 2 - 1 - 2 * logsigma).sum()")
    source = mutate(source, "return torch.bernoulli(self.decoder(z))", "raise ValueError('not today')")
    tests, _ = grade_text(tmp_path, source)
    assert lost_groups(tests) == {"encoder", "kl_divergence", "sample"}
    assert "NaN" in tests["encoder.shapes"].output
    assert "single number" in tests["kl_divergence.shapes"].output
    assert "sample raised ValueError: not today" in tests["sample.shapes"].output


def test_infinite_loop_times_out_and_other_tests_still_run(tmp_path, reference_source, monkeypatch):
    """Does a decoder that never returns fail the decoder's tests on a timeout, and only those?"""
    monkeypatch.setitem(spec.TESTS, "decoder.shapes", TestSpec(3, timeout=8))
    monkeypatch.setitem(spec.TESTS, "decoder.values", TestSpec(7, timeout=8))
    source = mutate(reference_source, "return torch.sigmoid(self.linear4(",
                    "while True:\n            pass\n        return torch.sigmoid(self.linear4(")
    tests, _ = grade_text(tmp_path, source)
    assert lost_groups(tests) == {"decoder"}
    assert "timed out after 8 s in decoder" in tests["decoder.values"].output


@pytest.mark.parametrize("shapes, values", [(1, 30), (30, 1)])
def test_each_test_has_its_own_timeout(tmp_path, reference_source, monkeypatch, shapes, values):
    """With a decoder that takes 1.5 s a call, does the decoder test that allows 1 s fail on its timeout while
    the one that allows 30 s passes, whichever of the two runs first?"""
    monkeypatch.setitem(spec.TESTS, "decoder.shapes", TestSpec(3, timeout=shapes))
    monkeypatch.setitem(spec.TESTS, "decoder.values", TestSpec(7, timeout=values))
    source = mutate(reference_source, "return torch.sigmoid(self.linear4(",
                    "__import__('time').sleep(1.5)\n        return torch.sigmoid(self.linear4(")
    tests, _ = grade_text(tmp_path, source, groups=("decoder",))
    slow, fast = ("decoder.shapes", "decoder.values") if shapes == 1 else ("decoder.values", "decoder.shapes")
    assert tests[slow].score == 0 and "timed out" in tests[slow].output and "1 s" in tests[slow].output
    assert tests[fast].score == tests[fast].max_score, tests[fast].output


def test_rules_cost_only_the_method_that_breaks_them(tmp_path, reference_source):
    """Does torch.distributions in the KL, or an added import in sample, cost only that method?"""
    source = mutate(reference_source, "variance = torch.exp(2 * logsigma)\n",
                    "variance = torch.exp(2 * logsigma)\n        torch.distributions.Normal(mu, variance)\n")
    source = "import math\n" + mutate(source, "z = torch.randn(", "z = math.sqrt(1.0) * torch.randn(")
    tests, _ = grade_text(tmp_path, source)
    assert lost_groups(tests) == {"kl_divergence", "sample"}
    assert "torch.distributions" in tests["kl_divergence.values"].output
    assert "import math" in tests["sample.prior"].output


def test_cli_writes_results_json(tmp_path):
    """Does `python -m autograder grade` write a Gradescope results.json, even for a missing file?"""
    results = tmp_path / "results.json"
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "nope.ipynb"), "--results",
                    str(results), "--assignment", "vae"], cwd=ROOT, check=True, capture_output=True)
    data = json.loads(results.read_text())
    assert data["score"] == 0 and data["max_score"] > 0
    assert {"score", "max_score", "execution_time", "output", "tests"} <= data.keys()
    assert all(t["output"].startswith("could not read nope.ipynb") for t in data["tests"])
    keys = {"name", "score", "max_score", "status", "output", "visibility", "tags"}
    assert all(t.keys() == keys for t in data["tests"])
    assert [t["tags"] for t in data["tests"]][:2] == [["encoder.shapes"], ["encoder.values"]]


def test_cli_says_when_it_cannot_tell_the_assignment(tmp_path):
    """Without --assignment, does `grade` on a file that neither defines an assignment's classes nor bears its
    notebook's name stop with exit status 2, the candidates and the option to pass, and write no result?"""
    results = tmp_path / "results.json"
    (tmp_path / "homework.py").write_text("x = 1\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "homework.py"), "--results",
                           str(results)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and not results.exists()
    assert "cannot tell which assignment homework.py is for" in done.stderr and "--assignment NAME" in done.stderr
    assert "vae (class VAE, vae.ipynb)" in done.stderr


def test_unreadable_notebook_fails_every_test_including_figures(tmp_path):
    """Does a notebook that is not JSON get 0 on all 75 points, figures included, with the reason?"""
    tests, result = grade_text(tmp_path, "{not json", groups=spec.GROUPS, name="vae.ipynb")
    assert result.score == 0 and result.max_score == sum(s.points for s in spec.TESTS.values())
    assert all("not a valid Jupyter notebook" in t.output for t in tests.values())


def test_without_mnist_grading_stops_before_charging_anything(tmp_path):
    """Without the MNIST files, does `grade` stop with a clear error for the staff and write no result?"""
    results = tmp_path / "results.json"
    process = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTION), "--results", str(results)],
                             cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MNIST_ROOT": str(tmp_path)})
    assert process.returncode == 2 and not results.exists()
    assert "MNIST" in process.stderr and "make data" in process.stderr and "Nothing was graded" in process.stderr


def test_a_sandbox_that_cannot_start_is_the_graders_error(monkeypatch):
    """When no sandbox child can start, does grading stop with a GraderSetupError before any test runs?"""
    def broken(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "/tmp/venv/bin/python")

    monkeypatch.setattr(harness, "run_child", broken)
    monkeypatch.setattr(harness, "_SANDBOX_STARTED", [])
    with pytest.raises(harness.GraderSetupError, match="sandbox cannot start.*FileNotFoundError.*Nothing was graded"):
        harness.grade(SOLUTION)


def test_a_venv_linked_into_tmp_stops_grading_with_a_clear_error(tmp_path):
    """With the venv's Python linked from /tmp, which the sandbox hides, does `grade` stop and say so?"""
    from autograder.processes import isolation

    if not isolation.platform().mount_ns:
        pytest.skip("no mount namespace here: /tmp is not hidden from children, so such a venv works")
    link = tmp_path / "venv"
    link.symlink_to(Path(sys.prefix).resolve())
    results = tmp_path / "results.json"
    process = subprocess.run([str(link / "bin" / "python"), "-m", "autograder", "grade", str(SOLUTION), "--results",
                              str(results)], cwd=ROOT, capture_output=True, text=True)
    assert process.returncode == 2 and not results.exists()
    assert "sandbox cannot start" in process.stderr and str(link) in process.stderr


def test_failed_training_names_the_method_that_failed_its_tests(tmp_path, reference_source):
    """When an encoder returning NaN makes training fail, does the training message name the encoder?"""
    source = mutate(reference_source, "return self.linear21(hidden), self.linear22(hidden)",
                    "return self.linear21(hidden) * float('nan'), self.linear22(hidden)")
    tests, _ = grade_text(tmp_path, source, groups=("encoder", "training"))
    assert lost_groups(tests) == {"encoder", "training"}
    output = tests["training.test_elbo"].output
    assert "Training uses encoder, which failed its own tests (encoder.shapes" in output


def test_without_a_fork_server_children_are_spawned_and_the_staff_told(tmp_path, reference_source, monkeypatch,
                                                                        capsys):
    """When the fork server cannot start, are the children spawned as fresh interpreters instead, with the same
    verdicts, and does the staff output say the fork server is off and why?"""
    def cannot_start(limits):
        raise RuntimeError("no fork here")

    monkeypatch.setattr(forking, "ForkServer", cannot_start)
    tests, _ = grade_text(tmp_path, reference_source, groups=("encoder", "kl_divergence"), shared=False)
    assert all(t.score == t.max_score for t in tests.values()), [t.output for t in tests.values()]
    assert "fork server: off, it could not start (no fork here)" in capsys.readouterr().out


def test_a_shared_fork_server_serves_gradings_in_a_row_but_never_a_dead_or_unread_one(tmp_path, reference_source):
    """Inside forking.shared_fork_server (the corpus's gradings), do two gradings in a row fork their children from
    the one server, with the verdicts of a grading of their own, while a server that has exited, or holds a message
    nobody read, is not reused (that grading starts its own); and outside it, does each grading start its own?"""
    servers, real = [], forking.ForkServer
    for name in "abcde":
        (tmp_path / name).mkdir()

    def counted(limits):
        servers.append(real(limits))
        return servers[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forking, "ForkServer", counted)
        with forking.shared_fork_server() as shared:
            first, _ = grade_text(tmp_path / "a", reference_source, groups=("encoder",), shared=False)
            second, _ = grade_text(tmp_path / "b", mutate(reference_source, "self.linear22(hidden)", "-self.linear22(hidden)"),
                                   groups=("encoder",), shared=False)
            assert len(servers) == 1 and shared.alive()
            shared._buffer += b'{"pid": 1, "status": 0}\n'  # a message left unread
            grade_text(tmp_path / "c", reference_source, groups=("encoder",), shared=False)
            assert len(servers) == 2
            shared._buffer.clear()
            shared.process.kill()
            shared.process.wait()
            grade_text(tmp_path / "d", reference_source, groups=("encoder",), shared=False)
            assert len(servers) == 3
        grade_text(tmp_path / "e", reference_source, groups=("encoder",), shared=False)
        assert len(servers) == 4
    assert all(t.score == t.max_score for t in first.values())
    assert {t.key: t.score < t.max_score for t in second.values()} == {"encoder.shapes": False, "encoder.values": True}


def _graded_with(tmp_path, rounds):
    """A GradedSubmission of Part 1 whose encoder probe has already run, in ``rounds`` (lists of outputs ``v``)."""
    import numpy as np

    from autograder.core.assignment import load
    from autograder.grading.grading import GradedSubmission, ProbeOutcome
    from autograder.notebook.submission import Submission

    graded = GradedSubmission(Submission(tmp_path / "s.py", "python", source="class VAE: pass"), 0, load("vae"))
    results = [cases.ProbeResult([{"v": np.array([v])}], [{}], [cases.Case((), {}, name="a")]) for v in rounds]
    graded._cache["encoder"] = ProbeOutcome(results, None, 60.0, 0.0)
    return graded


def test_a_grader_is_applied_to_both_rounds_and_says_when_the_second_fails(tmp_path):
    """Does a grader run on each round of its probe's calls, and does a failure in the second say "On a second
    call" before its own message (and one in the first not)?"""
    from autograder.grading.grading import GradingFailure, fail

    def grader(graded):
        if graded.case("a", key="encoder.values").outputs["v"][0] != 1:
            fail("V is not 1")

    for rounds, message in (((1, 1), None), ((1, 0), r"^On a second call \(.*\): v is not 1$"), ((0, 1), "^V is not 1$")):
        graded = _graded_with(tmp_path, rounds)
        if message is None:
            graded.twice(lambda: grader(graded))
        else:
            with pytest.raises(GradingFailure, match=message):
                graded.twice(lambda: grader(graded))
        assert graded.round == 0


def test_the_trusted_process_forgets_a_probe_once_no_test_to_run_grades_it(tmp_path):
    """Are a probe's arrays dropped once the last test that grades them has its result, and kept until then?"""
    graded = _graded_with(tmp_path, (1, 1))
    graded.pending = {"encoder.shapes", "encoder.values", "decoder.values"}
    graded.done("encoder.shapes")
    assert "encoder" in graded._cache
    graded.done("encoder.values")
    assert "encoder" not in graded._cache


def test_a_grader_can_compare_the_rounds_of_calls(tmp_path):
    """Does both_rounds give a case's result in each round, whichever round the grader is applied to?"""
    graded = _graded_with(tmp_path, (1, 2))
    for round_ in (0, 1):
        graded.round = round_
        assert [found.outputs["v"][0] for found in graded.both_rounds("a", key="encoder.values")] == [1, 2]
