"""What the pytest graders share: the ``@grades`` marker, the failure that carries a message for the
student, the submission handle that runs probes, and shape checks."""
from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from ..core.assignment import key_group
from ..core.cases import STOPPING_KINDS, ChildFailure
from ..notebook.submission import Submission
from ..processes.runner import rounds, run_probe
from ..sandbox.vae_check import CheckFailure, breaks_rules, fail, second_call
from ..sandbox.vae_check import check_array, compare  # noqa: F401 - what graders import from here
from .comparators import close, max_difference  # noqa: F401 - what graders import from here


#: A check failed; ``str(exc)`` is the message the student sees (the same class as the notebook's checks raise).
GradingFailure = CheckFailure


def grades(key: str):
    """Mark a grader function as the test ``key`` ("group.check") of its assignment's spec; loading the spec
    checks that every test has a grader and every grader a test
    (:meth:`autograder.core.assignment.Assignment.validate`)."""
    return pytest.mark.grades(key)


def test_name(key: str, function) -> str:
    """The name results.json gives test ``key``: its group, then its grader's docstring's first line."""
    return f"{key.split('.')[0]}: {(function.__doc__ or key).strip().splitlines()[0]}"


test_name.__test__ = False  # not a pytest test


#: A child is not started with less than this many seconds of grading left.
MIN_SECONDS_LEFT = 2.0
OUT_OF_TIME = "not run: grading ran out of time (the grader's overall time limit) before this test"


@dataclass
class ProbeOutcome:
    """One run of a probe: its result per round (``rounds``: ProbeResults, each with its cases; one or two, see
    :func:`autograder.processes.runner.run_probe`), or the failure that stopped it; the timeout it had and the wall-clock
    seconds it took."""

    rounds: list
    failure: ChildFailure | None
    timeout: float
    elapsed: float

    def for_test(self, timeout: float, method: str, round_: int = 0):
        """``(cases, result)`` of round ``round_`` (the last when it has fewer) for a test that allows ``timeout``
        seconds; raises its ChildFailure if any."""
        if self.failure is not None:
            raise self.failure
        if timeout < self.timeout and self.elapsed > timeout:
            raise ChildFailure(f"timed out: {method} took {self.elapsed:.0f} s where this test allows "
                               f"{timeout:.0f} s", kind="timeout")
        result = self.rounds[min(round_, len(self.rounds) - 1)]
        return result.cases, result

    def retry_with(self, timeout: float) -> bool:
        """Did it time out with less time than ``timeout`` (so a test that allows more should run it again)?"""
        return self.failure is not None and self.failure.kind == "timeout" and self.timeout < timeout


class GradedSubmission:
    """A submission as the graders see it: rules first, then probes run in children and cached.

    Parameters
    ----------
    submission : Submission
    seed : int
        Seeds the children's torch (statistical checks are calibrated over many seeds).
    assignment : autograder.core.assignment.Assignment
        Its tests, probes and their cases.
    root : Path
        The MNIST folder (holding ``MNIST/raw/``), for the cases that read it.
    deadline : float or None
        ``time.monotonic()`` by which grading must be done: each child gets the smaller of its test's
        timeout and the time left, and none is started with less than :data:`MIN_SECONDS_LEFT` left.
    """

    def __init__(self, submission: Submission, seed: int, assignment, root=None, deadline: float | None = None):
        self.submission, self.seed, self.deadline = submission, seed, deadline
        self.assignment, self.root = assignment, root
        self._cache, self._trusted = {}, {}
        #: The key of the test being graded (set by the harness from its ``@grades`` marker): the default of
        #: :meth:`run`, :meth:`case` and :meth:`both_rounds`.
        self.key = None
        #: Methods whose probe timed out, ran out of memory or died: {method: ChildFailure}.
        self.stopped = {}
        #: Per method, the rule it broke at run time (seen by the sandbox, not in the source).
        self.runtime_violations = {}
        #: Per method (or group), the names of its tests that failed so far, in the order they ran.
        self.failed = {}
        #: The round of its probes' calls a grader sees (0, then 1: see :meth:`twice`), the most rounds any
        #: probe it ran has since :meth:`twice` started it, and whether one of those had other inputs in round 2.
        self.round, self.rounds_seen, self.other_inputs = 0, 1, False
        #: The keys of the tests still to run (None: all may run); see :meth:`done`.
        self.pending = None

    def done(self, key: str) -> None:
        """Test ``key`` has its result: forget the outputs of every probe that no test still to run grades (a
        grader that reads one anyway runs it again), so that the trusted process holds the arrays of the probes
        still needed, not of every probe of the submission."""
        if self.pending is None:
            return
        self.pending.discard(key)
        needed = {self.assignment.probe_of(k) for k in self.pending}
        for name in [n for n in self._cache if n not in needed]:
            del self._cache[name]

    def twice(self, grader) -> None:
        """Run ``grader()`` (a test's grader function, reading this submission) on the first round of its probes'
        calls, then, when a probe it read ran a second round, on that round: a failure there says so first
        (:data:`SECOND_CALL`). Raises what the grader raises."""
        self.round, self.rounds_seen, self.other_inputs = 0, 1, False
        try:
            grader()
            if self.rounds_seen < 2:
                return
            self.round = 1
            try:
                grader()
            except GradingFailure as exc:
                raise GradingFailure(second_call(str(exc), self.other_inputs)) from None
        finally:
            self.round = 0

    def require(self, method: str) -> None:
        """Fail unless the submission loads and ``method`` follows the rules (in its source, and in what the
        sandbox saw it do while it ran)."""
        if self.submission.error:
            fail(self.submission.error)
        broken = list(self.submission.violations.get(method, []))
        if method in self.runtime_violations and not any(f in b for f in self.assignment.forbidden_modules
                                                           for b in broken):
            broken.append(self.runtime_violations[method])
        if broken:
            fail(breaks_rules(method, broken))

    def record_runtime_breaches(self, found, method: str) -> None:
        """Note every method the sandbox saw reading a forbidden module while it ran (a path the source did
        not show, such as ``getattr`` with a name computed at run time), from the child's record (``found``: a
        ProbeResult, or the ChildFailure of a child that stopped). Each read is charged to the innermost graded
        method on the stack: a helper's read to the method that called it. A record that shows the watchers or
        the record itself changed is charged to ``method``, the method the probe ran."""
        for read, chain in getattr(found, "reads", None) or []:
            method_read = next((g for g in map(self.assignment.group_of, chain) if g), None)
            if method_read is not None and method_read not in self.runtime_violations:
                module = next((f for f in self.assignment.forbidden_modules if read.startswith(f + ".")),
                              "a module the rules forbid")
                self.runtime_violations[method_read] = (f"uses {module} (it read `{read}` while it ran), "
                                                        "which the rules forbid")
        tampered = getattr(found, "tampered", "")
        if tampered and method not in self.runtime_violations:
            self.runtime_violations[method] = (
                f"interferes with the grader's record of what it reads from {' and '.join(self._forbidden())} (while "
                f"it ran, the code {tampered}), which the rules forbid: the grader cannot check that it does not use "
                "it")

    def _forbidden(self) -> tuple:
        """The modules the assignment forbids, for messages ("the modules the rules forbid" when it names none)."""
        return tuple(self.assignment.forbidden_modules) or ("the modules the rules forbid",)

    def run(self, key: str | None = None):
        """Run the probe of test ``key`` (default: the test being graded; its probe is by default its group's,
        the method it grades), with that test's own timeout; the rules of the key's group apply.

        Returns ``(cases, ProbeResult)``; raises as :meth:`probe` does.
        """
        key = key or self.key
        return self.probe(self.assignment.probe_of(key), key_group(key), self.assignment.tests[key].timeout)

    def both_rounds(self, name: str, key: str | None = None) -> list:
        """The results of case ``name`` of test ``key``'s probe in each round of its calls (one or two
        :class:`autograder.core.cases.CaseResult`), whatever round the grader is applied to: for checks across calls,
        such as a random method that draws the same values on every call (it reseeds). ``key`` defaults to the
        test being graded. Raises as :meth:`probe`."""
        key = key or self.key
        self.run(key)
        return [found.case(name) for found in self._cache[self.assignment.probe_of(key)].rounds]

    def case(self, name: str, key: str | None = None):
        """The result of case ``name`` of test ``key``'s probe (default: the test being graded), a
        :class:`autograder.core.cases.CaseResult`; raises as :meth:`probe` does."""
        return self.run(key)[1].case(name)

    def expected(self, case, key: str | None = None) -> dict:
        """What test ``key`` (default: the test being graded) expects at ``case``: its assignment's
        ``expect.py`` function applied to it (the reference's outputs and the named mistakes, by name)."""
        return self.assignment.expectations[key or self.key](case)

    def probe(self, name: str, method: str, timeout: float):
        """Run probe ``name`` after checking ``method``'s rules, once per submission and timeout.

        A test that allows more time than a run that timed out runs it again; a run that took longer than a
        test allows fails that test. Returns ``(cases, ProbeResult)``; raises :class:`ChildFailure` when the
        child failed, GradingFailure when grading has no time left to run it.
        """
        self.require(method)
        outcome = self._cache.get(name)
        if outcome is None or outcome.retry_with(timeout):
            outcome = self._cache[name] = self._run(name, method, timeout)
        if outcome.failure is not None and outcome.failure.kind in STOPPING_KINDS:
            self.stopped.setdefault(method, outcome.failure)
        if outcome.failure is None:
            self.require(method)  # again: the sandbox may have seen it break a rule while it ran
            self.rounds_seen = max(self.rounds_seen, len(outcome.rounds))
            self.other_inputs |= len(outcome.rounds) == 2 and self.assignment.probes[name].again is not None
        return outcome.for_test(timeout, method, self.round)

    def _run(self, name: str, method: str, timeout: float) -> ProbeOutcome:
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left < MIN_SECONDS_LEFT:
            fail(OUT_OF_TIME)
        allowed = timeout if left is None else min(timeout, left)
        spec, start, found, failure = self.assignment.probes[name], time.monotonic(), [], None
        try:
            result = run_probe(self.submission.source, name, spec.cases(self.root), method, allowed, self.seed,
                               deadline_bound=allowed < timeout, assignment=self.assignment)
            self.record_runtime_breaches(result, method)
            found = rounds(result, spec.rounds)
        except ChildFailure as exc:
            failure = exc
            self.record_runtime_breaches(exc, method)
        return ProbeOutcome(found, failure, allowed, time.monotonic() - start)

    def trusted(self, name: str, cases: list, timeout: float = 300.0):
        """Run probe ``name``, which runs no student code (the reference on weights a student's child returned),
        on ``cases``, once per submission and round of calls (the round a grader is applied to: its cases are made
        from that round's outputs); returns its ProbeResult.

        Raises GradingFailure when grading has no time left, RuntimeError when the child fails (the grader's
        fault, never the student's).
        """
        if (name, self.round) not in self._trusted:
            left = None if self.deadline is None else self.deadline - time.monotonic()
            if left is not None and left < MIN_SECONDS_LEFT:
                fail(OUT_OF_TIME)
            try:
                allowed = timeout if left is None else min(timeout, left)
                self._trusted[name, self.round] = run_probe(None, name, cases, name, allowed, self.seed,
                                                            assignment=self.assignment)
            except ChildFailure as exc:
                raise RuntimeError(f"the grader's own {name} probe failed: {exc}\n{exc.staff}") from None
        return self._trusted[name, self.round]

    def stopped_among(self, methods):
        """The first of ``methods`` whose probe timed out, ran out of memory or died, with its failure;
        ``(None, None)`` when there is none."""
        for method in methods:
            if method in self.stopped:
                return method, self.stopped[method]
        return None, None


def where_to_look(failed: dict, used) -> str:
    """The sentence that ends a failed training message: the methods of ``used`` (those training calls) that
    failed their own tests (``failed``: method -> keys of its failed tests, see ``GradedSubmission.failed``); ""
    when none did."""
    culprits = [m for m in used if failed.get(m)]
    if not culprits:
        return ""
    names = ", ".join(culprits[:-1]) + (" and " if len(culprits) > 1 else "") + culprits[-1]
    tests = ", ".join(key for m in culprits for key in failed[m])
    one = len(culprits) == 1
    return (f"Training uses {names}, which failed {'its' if one else 'their'} own tests ({tests}): "
            f"fix {'it' if one else 'them'} first.")


def training_run(sub, key: str, loss: str, layers_tests: str = "the layers' tests"):
    """The training run of test ``key`` (its case "training"), once the methods it calls
    (``sub.assignment.training_methods``) follow the rules and none was stopped in its own test.

    ``loss`` words the minibatch loss for a message ("-elbo(x).mean()"); ``layers_tests`` the tests that check the
    model's layers. Returns the case's result; raises GradingFailure when training was not attempted, did not start
    from the grader's weights (:func:`check_start`), did not move them (:func:`check_moved`), or its loss stopped
    being finite; ChildFailure (ending with :func:`where_to_look`'s sentence) when the child failed.
    """
    used = sub.assignment.training_methods
    for method in used:
        sub.require(method)
    method, failure = sub.stopped_among(used)
    if method is not None:
        fail(f"not attempted: the training run calls {method}, which was stopped in its own test "
             f"({str(failure).splitlines()[0]}). Fix {method} first; its own tests say more.")
    look = where_to_look(sub.failed, used)
    try:
        found = sub.case("training", key=key)
    except ChildFailure as exc:  # the error may show in the loss while its cause is a method that failed its tests
        raise ChildFailure(f"{exc}\n  {look}" if look else str(exc), exc.staff, exc.kind) from None
    for method in used:  # rules the sandbox saw broken while training
        sub.require(method)
    check_start(found.info, layers_tests)
    if found.info.get("nonfinite_step") is not None:
        fail(f"the training loss {loss} became NaN or infinite at step {found.info['nonfinite_step']}: look for "
             f"log(0), exp of large numbers, or a division by zero. {look}".strip())
    check_moved(found.info, look)
    return found


def check_start(info: dict, layers_tests: str) -> None:
    """Fail unless the training run (its child's ``info``, see ``probing.start_from`` and ``probing.train``) started
    from the grader's weights in every layer, and only the optimizer's steps changed them."""
    if info.get("unfit"):
        names = ", ".join(f"{n} ({info.get('types', {}).get(n, '?')})" for n in info["unfit"])
        one = len(info["unfit"]) == 1
        fail(f"not graded: training starts from the grader's own weights, put into your model's layers, but your "
             f"{'layer' if one else 'layers'} {names} {'is' if one else 'are'} not the notebook's (type, sizes, "
             f"stride, padding or bias differ): see {layers_tests}.")
    if info.get("changed_step") is not None:
        fail(f"your loss changed the model's weights itself, at training step {info['changed_step']}: training must "
             "change them only through the optimizer's steps, from the gradient of your loss.")


def check_moved(info: dict, look: str = "") -> None:
    """Fail when training left some of the graded layers at the grader's starting weights (``info["unmoved"]``):
    the loss gives them no gradient. ``look``: :func:`where_to_look`'s sentence, said first when there is one."""
    unmoved = info.get("unmoved") or []
    if unmoved:
        which = ("any of your model's weights" if len(unmoved) == info.get("watched")
                 else f"the weights of {', '.join(unmoved)}")
        hint = look or ("Compute the loss from the model's outputs, without .detach(), .item(), torch.no_grad() or "
                        "constants in their place.")
        fail(f"training did not change {which} (from the grader's starting weights): the gradient of your loss "
             f"with respect to them is zero. {hint}")
