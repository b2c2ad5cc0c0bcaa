"""Measure how often correct code fails the statistical checks: the false-failure rate per test.

The statistical probes of every assignment (its spec's ``statistical``: Part 1's ``sample_with_reparam``, ``elbo``,
``sample``; Part 2's ``reparameterize``, ``loss``; Part 3's ``conv_loss`` and ``cond_loss`` for a loss that draws its
own noise, ``sample``) draw random numbers in the child, seeded with ``seed + case index``. Grading a submission 200
times would take an hour, so this runs each probe on its cases repeated N times in a few children (``run_probe`` seeds repetition k with
``k * len(cases)``, exactly what grading with ``seed = k * len(cases)`` does), then applies the graders'
own test functions to each repetition's outputs through a stand-in for the ``sub`` fixture. So what is
measured is what grading does, over N different seeds. The submissions measured are each assignment's reference
and the correct variants its spec names (``correct_variants``, from its corpus's ``correct/``). A test that
needs a trusted child of its own (the reference's decoding of what was drawn, the same on every seed) is listed as
not measured.

Usage: ``python scripts/false_failures.py [--seeds 200] [--assignment NAME]`` (``make false-failures``: every
assignment). Prints seeds tried / failures per submission and test; exits 1 when any correct submission failed
any test.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from autograder import config  # noqa: E402
from autograder.core.assignment import key_group, load, names  # noqa: E402
from autograder.core.cases import ChildFailure, ProbeResult  # noqa: E402
from autograder.grading.grading import GradedSubmission, GradingFailure  # noqa: E402
from autograder.harness.harness import graders_of  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402
from autograder.processes.runner import rounds, run_probe  # noqa: E402


class NotMeasured(Exception):
    """A test asked for a trusted child of its own: it is not statistical, and not measured here."""


class OneSeed(GradedSubmission):
    """Stands in for :class:`autograder.grading.grading.GradedSubmission` with one seed's probe outputs.

    ``probe(name, method, timeout)`` returns ``(cases, ProbeResult)`` for that seed, as grading would.
    """

    def __init__(self, probe: str, cases: list, result: ProbeResult, assignment):
        self.name, self.cases, self.result, self.assignment = probe, cases, result, assignment
        self.key = None

    def require(self, method: str) -> None:
        """The rules are not statistical: nothing to check here."""

    def both_rounds(self, name: str, key: str | None = None) -> list:
        """Case ``name`` of this seed's round (the stand-in holds one round: checks across rounds see it once)."""
        return [self.result.case(name)]

    def trusted(self, probe: str, cases: list, *args, **kwargs):
        """A trusted child's run: not statistical (raises :class:`NotMeasured`)."""
        raise NotMeasured(probe)

    def probe(self, name: str, method: str, timeout: float):
        """The outputs of probe ``name`` for this seed (ValueError for any other probe)."""
        if name != self.name:
            raise ValueError(f"this stand-in holds probe {self.name!r}, not {name!r}")
        return self.cases, self.result


def grader_tests(assignment, probe: str) -> list:
    """(key, function) of every ``@grades`` test of ``assignment`` that grades ``probe``'s outputs, in the order of
    its tests."""
    wanted = [key for key in assignment.tests if assignment.probe_of(key) == probe]
    with warnings.catch_warnings():  # the graders' @grades mark is registered only when the harness runs them
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        found = graders_of(assignment, dict.fromkeys(key_group(key) for key in wanted))
    return [(key, found[key]) for key in wanted if key in found]


def run_seeds(source: str, probe: str, seeds: int, assignment: str, timeout: float = 600.0) -> list:
    """Run ``probe`` on its cases repeated ``seeds`` times; returns one OneSeed per repetition and round of calls
    (a probe that repeats its cases, as grading does, gives twice as many).

    Raises ChildFailure when the submission fails in the child (correct code must not).
    """
    spec = load(assignment)
    per_child = spec.statistical[probe]
    base = spec.probes[probe].cases(config.mnist_root())  # the cases that read MNIST ($MNIST_ROOT)
    per_seed = []
    for start in range(0, seeds, per_child):
        count = min(per_child, seeds - start)
        result = run_probe(source, probe, base * count, probe, timeout, seed=start * len(base), assignment=spec)
        for found in rounds(result, spec.probes[probe].rounds):  # a second round of calls is graded as the first
            for k in range(count):
                part = slice(k * len(base), (k + 1) * len(base))
                per_seed.append(OneSeed(probe, base, ProbeResult(found.outputs[part], found.info[part], base), spec))
    return per_seed


def measure(source: str, probe: str, seeds: int, assignment: str) -> dict:
    """Per test key of ``probe``'s graders (of ``assignment``): (seeds tried, failures, first failure message);
    a test that needs a trusted child of its own: (0, 0, "not measured: ...")."""
    counts = {}
    runs = run_seeds(source, probe, seeds, assignment)
    for key, test in grader_tests(load(assignment), probe):
        failures, first = 0, ""
        try:
            for sub in runs:
                sub.key = key  # as the harness sets it from the test's marker
                try:
                    test(sub)
                except GradingFailure as exc:
                    failures += 1
                    first = first or str(exc)
        except NotMeasured:
            counts[key] = (0, 0, "not measured: the test runs a trusted child of its own (not statistical)")
            continue
        counts[key] = (len(runs), failures, first)
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per probe (at least 200 for the record)")
    parser.add_argument("--assignment", choices=names(), help="only this assignment (default: all)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    submissions = []
    for assignment in [args.assignment] if args.assignment else names():
        spec = load(assignment)
        solution = load_submission(spec.solution_notebook, spec).source
        submissions.append((assignment, "reference", solution, tuple(spec.statistical)))
        submissions += [(assignment, Path(name).stem, (spec.corpus / "correct" / name).read_text(), probes)
                        for name, probes in spec.correct_variants.items()]
    rows, failed = [], False
    for assignment, name, source, probes in submissions:
        name = f"{assignment}/{name}"
        for probe in probes:
            try:
                counts = measure(source, probe, args.seeds, assignment)
            except ChildFailure as exc:
                print(f"{name}: probe {probe} failed in the child: {exc}")
                failed = True
                continue
            for key, (tried, failures, first) in counts.items():
                rows.append((name, key, tried, failures, first))
                failed |= failures > 0
            print(f"  measured {name} / {probe} ({time.monotonic() - start:.0f} s)", flush=True)
    header = ("submission", "test", "seeds", "failures", "rate")
    cells = [header] + [(n, k, str(t), str(f), f"{f / t:.3g}" if t else "not measured") for n, k, t, f, _ in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print()
    for index, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
    for name, key, _, failures, first in rows:
        if failures:
            print(f"\n{name} failed {key} {failures} times; first: {first}")
    print(f"\n{'FALSE FAILURES FOUND' if failed else 'no false failures'} "
          f"({time.monotonic() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
