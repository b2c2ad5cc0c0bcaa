"""Grade one submission: run the pytest graders in this (trusted) process and collect a GradingResult.

Student code never runs here; the graders reach it only through :mod:`autograder.processes.runner` children.
pytest is run with the graders' folder as its only path, no conftest files, no plugin autoloading and
no cache, so nothing outside the kit can change how tests run.
"""
from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from .. import config
from ..config import KIT_ROOT
from ..core.assignment import PACKAGE, Assignment, UnknownAssignment, key_group, load, recognise
from ..core.cases import Case, ChildFailure
from ..core.results import GradingResult, TestResult
from ..grading.grading import GradedSubmission, GradingFailure, test_name
from ..notebook.submission import classes_defined, load_submission
from ..processes import forking, isolation
from ..processes.runner import run_child



def mnist_test_set(root: Path):
    """The MNIST test set under ``root``: images as float32 of shape (10000, 784), values in [0, 1], and labels
    as int64 of shape (10000,), digits 0-9 (numpy only). Raises OSError when the files are missing."""
    import vae_utils  # numpy only at import; the kit root is on sys.path when grading

    images, labels = vae_utils.load_mnist_arrays(train=False, root=root, download=False)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0, labels.astype(np.int64)


def classifier_file(root: Path) -> Path:
    """The digit classifier the quality checks use: ``$VAE_KIT_CLASSIFIER``; else ``digits-cnn.npz`` beside the
    kit (where an assignment's Gradescope zip puts it); else the one ``make classifier`` keeps next to the data,
    ``root/MNIST/classifier/digits-cnn.npz``."""
    import digit_classifier  # numpy only at import

    if os.environ.get("VAE_KIT_CLASSIFIER"):
        return Path(os.environ["VAE_KIT_CLASSIFIER"]).resolve()
    shipped = KIT_ROOT / f"digits-{digit_classifier.DEFAULT_KIND}.npz"
    return shipped if shipped.is_file() else digit_classifier.classifier_path(root)


def assignment_for(path, name: str | None = None) -> Assignment:
    """The assignment ``name``, or the one the submission at ``path`` is for (from the classes it defines,
    then its file name).

    Raises
    ------
    UnknownAssignment
        When ``name`` is unknown, or no single assignment matches the submission.
    """
    if name is not None:
        try:
            return load(name)
        except KeyError as exc:
            raise UnknownAssignment(str(exc).strip("'\"")) from None
    return recognise(classes_defined(path), str(path))


class GraderSetupError(RuntimeError):
    """The grader cannot grade on this machine (MNIST missing, a sandbox that cannot start).

    The staff's problem, never the student's: ``str(exc)`` says what is wrong and how to fix it, and no
    result is written (``python -m autograder grade`` exits with status 2).
    """


#: Not empty once a sandbox child has started in this process (the check runs once per process).
_SANDBOX_STARTED = []


def check_setup(root: Path, groups, assignment: Assignment) -> None:
    """Stop before grading when the grader itself is not ready, so nothing is charged to the student.

    :func:`check_data`, then :func:`check_sandbox`.

    Raises
    ------
    GraderSetupError
        With what is missing or what failed, and what to do about it.
    """
    check_data(root, groups, assignment)
    check_sandbox(groups, assignment)


def check_data(root: Path, groups, assignment: Assignment) -> None:
    """Raise GraderSetupError unless the four MNIST files are under ``root/MNIST/raw`` (when one of the
    assignment's ``data_groups`` is among ``groups``)."""
    import vae_utils  # numpy only at import; the kit root is on sys.path when grading

    raw = root / "MNIST" / "raw"
    missing = [name for name in vae_utils.MNIST_FILES if not (raw / name).is_file()]
    if set(groups) & set(assignment.data_groups) and missing:
        raise GraderSetupError(f"MNIST is not where the grader reads it: {', '.join(missing)} missing from {raw}. "
                               "Run `make data` (it downloads them there), or set MNIST_ROOT to the folder that "
                               "holds MNIST/raw/. Nothing was graded.")
    if set(groups) & set(assignment.classifier_groups):
        import digit_classifier

        try:
            digit_classifier.load(classifier_file(root))
        except digit_classifier.ClassifierFileError as exc:
            raise GraderSetupError(f"the digit classifier of the quality checks cannot be read: {exc}. Run `make "
                                   "classifier` (it trains one next to the data), or set VAE_KIT_CLASSIFIER to its "
                                   "file. Nothing was graded.") from None


def check_sandbox(groups, assignment: Assignment) -> None:
    """Raise GraderSetupError unless a sandbox child (forked from the running fork server, or spawned) can
    start, import the child runtime and torch's modules, and answer; it runs no student code. Once per process."""
    if not set(groups) & set(assignment.methods) or _SANDBOX_STARTED:
        return
    try:
        result = run_child(None, "ping", [Case((), {})], "the grader's sandbox check", timeout=120.0)
        if result.outputs[0].get("ok") is None:
            raise ChildFailure("the child answered without its array")
        _SANDBOX_STARTED.append(True)
    except Exception as exc:  # any failure here is the grader's, whatever it is
        raise GraderSetupError(
            f"the sandbox cannot start a child process ({type(exc).__name__}: {str(exc)[:500]}). Children run "
            f"{sys.executable} with its site-packages and cannot see /tmp, /var/tmp, /dev/shm or the kit's "
            "folder, so a virtual environment in or linked from one of those cannot work: put it elsewhere. "
            "Nothing was graded.") from exc


class Collector:
    """pytest plugin: provides the fixtures and records one TestResult per grader."""

    def __init__(self, graded: GradedSubmission, root: Path):
        self.graded, self.root = graded, root
        self.results, self.skipped, self.staff = {}, {}, []
        self.properties = {}  # what graders recorded with record_property (leaderboard values)
        self.interrupted = False  # a KeyboardInterrupt (Ctrl-C, or the Gradescope deadline's SIGALRM) ended pytest

    def pytest_keyboard_interrupt(self, excinfo):
        # pytest ends a session whose collection failed with its own KeyboardInterrupt subclass: not ours.
        self.interrupted = not excinfo.errisinstance(pytest.Session.Interrupted)

    @pytest.fixture
    def sub(self):
        return self.graded

    @pytest.fixture(scope="session")
    def mnist_test(self):
        """The MNIST test set, ``(images (10000, 784) float32 in [0, 1], labels (10000,) int64)``."""
        return mnist_test_set(self.root)

    @pytest.fixture(scope="session")
    def mnist_test_images(self, mnist_test):
        return mnist_test[0]

    @pytest.fixture(scope="session")
    def digit_classifier(self):
        """The kit's digit classifier (:func:`classifier_file`), for the quality checks."""
        import digit_classifier

        return digit_classifier.load(classifier_file(self.root))

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """Call a grader (a test marked ``grades``) on each round of its probes' calls (``GradedSubmission.twice``)."""
        if pyfuncitem.get_closest_marker("grades") is None:
            return None
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        self.graded.key = pyfuncitem.get_closest_marker("grades").args[0]
        self.graded.twice(lambda: pyfuncitem.obj(**args))
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if report.when == "call":
            self.properties.update(dict(report.user_properties))
        marker = item.get_closest_marker("grades")
        if marker is None or (report.when == "setup" and report.passed) or report.when == "teardown":
            return report
        key = marker.args[0]
        spec = self.graded.assignment.tests[key]
        name = test_name(key, item.function)
        if report.skipped:
            reason = getattr(call.excinfo.value, "msg", "") if call.excinfo else ""
            self.skipped[key] = f"{name} (not counted: {reason})"
            self.graded.done(key)
            return report
        output, score = "", spec.points
        if report.failed:
            score, error = 0.0, call.excinfo.value
            self.graded.failed.setdefault(key_group(key), []).append(key)
            if isinstance(error, (GradingFailure, ChildFailure)):
                output = str(error)
                if getattr(error, "staff", ""):
                    self.staff.append(f"--- {key}: output of the student's process ---\n{error.staff}")
            else:
                output = "The grader itself failed on this test; the course staff have the details."
                self.staff.append(f"--- {key}: grader error ---\n{''.join(traceback.format_exception(error))}")
        # a test worth 0 points (a written answer, graded by hand) still passes or fails by its check
        passed = (not report.failed) if spec.points == 0 else None
        self.results[key] = TestResult(key, name, score, spec.points, output, spec.visibility, passed)
        self.graded.done(key)
        return report


def grade(path: str | Path, seed: int = 0, root: Path | None = None, quiet: bool = True,
          groups=None, deadline: float | None = None, assignment: Assignment | str | None = None) -> GradingResult:
    """Grade the notebook or ``.py`` file at ``path``.

    Parameters
    ----------
    path : path of a ``.ipynb`` or ``.py`` submission.
    assignment : Assignment, str or None
        What it is graded as; a name, or None to recognise it from the submission (:func:`assignment_for`).
    seed : int
        Seeds the children's torch; scores do not depend on it for correct code (see README).
    root : Path or None
        MNIST folder (holding ``MNIST/raw/``); default :func:`autograder.config.mnist_root`.
    quiet : bool
        Silence pytest's own report.
    groups : iterable of str or None
        The groups of the assignment to grade (all when None).
    deadline : float or None
        Seconds that grading may take in all. Each child gets the smaller of its test's timeout and the time
        left; tests that find no time left fail with "not run: grading ran out of time", and every test
        graded before keeps its score. An interruption (Ctrl-C, or the SIGALRM of
        :func:`autograder.deploy.gradescope.run`) ends grading the same way.

    Returns
    -------
    GradingResult
        Tests in the order of the assignment's tests. Bad submissions give failed tests with
        messages; errors of the grader itself propagate (see :func:`autograder.__main__.main`).

    Raises
    ------
    GraderSetupError
        Before grading anything, when MNIST or the sandbox is not ready (see :func:`check_setup`).
    UnknownAssignment
        When ``assignment`` is None and the submission does not say which assignment it is for.
    """
    start = time.monotonic()
    root = root or config.mnist_root()
    if not isinstance(assignment, Assignment):
        assignment = assignment_for(path, assignment)
    groups = [g for g in assignment.groups if groups is None or g in groups]
    check_data(root, groups, assignment)
    submission = load_submission(path, assignment)
    end = None if deadline is None else start + deadline
    collector = Collector(GradedSubmission(submission, seed, assignment, root, end), root)
    collector.graded.pending = {key for key in assignment.tests if key_group(key) in groups}
    with forking.fork_server():
        check_sandbox(groups, assignment)
        code = pytest.main(_pytest_args(assignment, groups, quiet), plugins=[collector])
    wanted = [key for key in assignment.tests if key_group(key) in groups]
    missing = [key for key in wanted if key not in collector.results and key not in collector.skipped]
    if code == pytest.ExitCode.INTERRUPTED and collector.interrupted:
        collector.results.update(at_zero(assignment, missing,
                                         "not run: grading was stopped (out of time) before this test"))
    elif code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or missing:
        raise RuntimeError(f"pytest exited with {code!r}; tests without a result: {missing}")
    return _result(collector, assignment, [key for key in wanted if key in collector.results], groups,
                   time.monotonic() - start)


def _result(collector: Collector, assignment: Assignment, keys: list, groups, seconds: float) -> GradingResult:
    """The :class:`GradingResult` of the tests ``keys`` that ``collector`` graded, with its summary line (points, the
    groups that lost points, what was skipped, the written answers graded by hand). Prints the staff's notes (the
    sandbox, grader errors, recorded properties) to the grading log."""
    tests = [collector.results[key] for key in keys]
    lost = {t.group for t in tests if t.score < t.max_score}
    summary = [f"{sum(t.score for t in tests):g} / {sum(t.max_score for t in tests):g} points."]
    if lost:
        summary.append("Points were lost in: " + ", ".join(g for g in assignment.groups if g in lost) + ".")
    summary += collector.skipped.values()
    if assignment.hand_graded_points and "answers" in groups:
        summary.append(f"The written answers ({assignment.hand_graded_points:g} points) are graded by hand; "
                       "they are not in this score.")
    print(isolation.platform().summary())
    print(forking.describe_sandbox())
    for staff in collector.staff:
        print(staff)
    for key, value in collector.properties.items():  # for the staff: "recorded: training_steps = 469"
        print(f"recorded: {key} = {value}")
    answers = {k[len("answer:"):]: v for k, v in collector.properties.items() if k.startswith("answer:")}
    return GradingResult(tests, seconds, "\n".join(summary), leaderboard(collector.properties, assignment.leaderboard),
                         assignment.name, answers)


def graders_of(assignment: Assignment, groups=None) -> dict:
    """``{key: grader function}`` of every ``@grades`` test in the grader modules of ``groups`` of ``assignment``
    (all its groups when None), imported."""
    found = {}
    for group in assignment.groups if groups is None else groups:
        module = importlib.import_module(f"{PACKAGE}.{assignment.name}.graders.grade_{group}")
        for function in vars(module).values():
            for mark in getattr(function, "pytestmark", []):
                if mark.name == "grades":
                    found[mark.args[0]] = function
    return found


def names_of_tests(assignment: Assignment) -> dict:
    """``{key: name}`` of every test of ``assignment``, named as the harness names them ("group: docstring's
    first line")."""
    return {key: test_name(key, function) for key, function in graders_of(assignment).items()}


def at_zero(assignment: Assignment, keys, output: str) -> dict:
    """``{key: TestResult}`` at 0 points for the tests ``keys`` of ``assignment`` that got no result, each
    saying ``output``, named as the harness names them."""
    found, tests = names_of_tests(assignment), assignment.tests
    return {key: TestResult(key, found.get(key, key), 0.0, tests[key].points, output, tests[key].visibility)
            for key in keys}


def not_graded(assignment: Assignment, message: str, execution_time: float = 0.0) -> GradingResult:
    """Every test of ``assignment`` at 0 points, ``message`` on top (no submission to grade)."""
    tests = at_zero(assignment, assignment.tests,
                    "Not graded: no notebook was found in your submission (see the message above).")
    return GradingResult(list(tests.values()), execution_time, message, assignment=assignment.name)


def _pytest_args(assignment: Assignment, groups, quiet: bool) -> list:
    """pytest's command line for the graders of ``groups``: no conftest, plugins, cache or config file."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    for variable in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):  # the staff's own pytest settings do not reach the graders
        os.environ.pop(variable, None)
    graders = assignment.graders
    return [str(graders / f"grade_{g}.py") for g in groups] + [
        "--noconftest", "-p", "no:cacheprovider", "-o", "python_files=grade_*.py",
        "-o", "markers=grades: the key of the spec's test a grader scores", "--rootdir", str(graders),
        "-c", os.devnull, "-W", "ignore::pytest.PytestAssertRewriteWarning"] + (
        ["-p", "no:terminal"] if quiet else ["-v"])


def leaderboard(properties: dict, columns: dict) -> list:
    """Gradescope leaderboard entries for the recorded values named in ``columns`` (an assignment's
    ``leaderboard``: ``{key: {"name", "order"}}``).

    Values that are missing or not finite numbers are left out (a submission whose training failed has none).
    """
    entries = []
    for key, column in columns.items():
        value = properties.get(key)
        if isinstance(value, (int, float)) and np.isfinite(value):
            entries.append({"name": column["name"], "value": round(float(value), 2), "order": column["order"]})
            print(f"leaderboard: {column['name']} = {value:.2f}")
    return entries
