"""Measure how often correct code fails the statistical checks: the false-failure rate per test.

The statistical tests of every assignment (Part 1: ``sample_with_reparam.*``, ``elbo.*``, ``sample.*``;
Part 2: ``reparameterize.*``, ``loss.*``; Part 3: ``conv_loss.*`` and ``cond_loss.*`` for a loss that draws its own
noise, ``sample.*``) draw random numbers in the child, seeded with ``seed + case index``. Grading a submission 200
times would take an hour, so this runs each probe on its cases repeated N times in a few children (``run_probe`` seeds repetition k with
``k * len(cases)``, exactly what grading with ``seed = k * len(cases)`` does), then applies the graders'
own test functions to each repetition's outputs through a stand-in for the ``sub`` fixture. So what is
measured is what grading does, over N different seeds.

Usage: ``python scripts/false_failures.py [--seeds 200] [--assignment NAME]`` (``make false-failures``: every
assignment). Prints seeds tried / failures per submission and test; exits 1 when any correct submission failed
any test.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import warnings  # noqa: E402

import vae_utils  # noqa: E402

import pytest  # noqa: E402

from autograder.assignment import load  # noqa: E402

with warnings.catch_warnings():  # the graders' @grades mark is registered only when the harness runs them
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    from autograder.assignments.vae.graders import grade_elbo, grade_sample, grade_sample_with_reparam  # noqa: E402
    from autograder.assignments.vae2d.graders import grade_loss, grade_reparameterize  # noqa: E402
    from autograder.assignments.cvae.graders import grade_sample as grade_cvae_sample  # noqa: E402
    from autograder.assignments.cvae.graders import grade_cond_loss, grade_conv_loss  # noqa: E402
from autograder.grading import GradedSubmission, GradingFailure  # noqa: E402
from autograder.runner import ChildFailure, ProbeResult, rounds, run_probe  # noqa: E402
from autograder.submission import load_submission  # noqa: E402

#: The probes with random draws, the grader module that checks each, and how many seeds fit in one child
#: (a child's output file is limited to config.LIMITS.file_size_mb: the elbo probe returns ~0.7 MB of
#: gradients per seed, the sample probe ~0.5 MB of draws; and a child keeps both rounds of calls in memory,
#: within the sandbox's limit: Part 3's sample decodes 2,000 labels a seed).
#: Per assignment.
STATISTICAL = {"vae": {"sample_with_reparam": (grade_sample_with_reparam, 50), "elbo": (grade_elbo, 10),
                       "sample": (grade_sample, 25)},
               "vae2d": {"reparameterize": (grade_reparameterize, 50), "loss": (grade_loss, 5)},
               "cvae": {"sample": (grade_cvae_sample, 5), "conv_loss": (grade_conv_loss, 10),
                        "cond_loss": (grade_cond_loss, 10)}}
#: Tests of a statistical probe that are not statistical and need a trusted child of their own (the reference's
#: decoding of what sample decoded, the same on every seed): not measured here.
NOT_MEASURED = {"sample.returned"}
CORPUS = ROOT / "tests" / "corpus"
#: Correct submissions measured besides the reference, with the probes whose code path they change:
#: elbo drawing its own noise takes the statistical fallback of elbo.sampled (Part 2: loss.sampled); the others
#: draw differently.
VARIANTS = {"vae": (("elbo_inline_noise.py", ("elbo",)), ("sample_uniform_compare.py", ("sample",)),
                    ("reparam_row_loop_device.py", ("sample_with_reparam",)),
                    ("reparam_torch_normal.py", ("sample_with_reparam",))),
            "vae2d": (("reparam_sqrt_variance.py", ("reparameterize",)),
                      ("reparam_normal_noise_clamp_relu.py", ("reparameterize",)),
                      ("v_reparam_empty_normal_inplace.py", ("reparameterize",)),
                      ("loss_inline_noise_keywords.py", ("loss",)), ("v_loss_own_noise_logits.py", ("loss",)),
                      ("v_loss_numpy_noise.py", ("loss",))),
            "cvae": (("c_loss_own_noise.py", ("conv_loss", "cond_loss")),
                     ("c_loss_own_noise_normal.py", ("conv_loss", "cond_loss")),
                     ("sample_randn_two.py", ("sample",)), ("sample_torch_normal.py", ("sample",)))}


class OneSeed(GradedSubmission):
    """Stands in for :class:`autograder.grading.GradedSubmission` with one seed's probe outputs.

    ``probe(name, method, timeout)`` returns ``(cases, ProbeResult)`` for that seed, as grading would.
    """

    def __init__(self, probe: str, cases: list, result: ProbeResult, assignment):
        self.name, self.cases, self.result, self.assignment = probe, cases, result, assignment

    def require(self, method: str) -> None:
        """The rules are not statistical: nothing to check here."""

    def both_rounds(self, key: str, name: str) -> list:
        """Case ``name`` of this seed's round (the stand-in holds one round: checks across rounds see it once)."""
        return [self.result.case(name)]

    def probe(self, name: str, method: str, timeout: float):
        """The outputs of probe ``name`` for this seed (ValueError for any other probe)."""
        if name != self.name:
            raise ValueError(f"this stand-in holds probe {self.name!r}, not {name!r}")
        return self.cases, self.result


def grader_tests(module) -> list:
    """(key, function) of every ``@grades`` test in a grader module but :data:`NOT_MEASURED`'s, in file order."""
    found = []
    for name, fn in vars(module).items():
        marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "grades"]
        if name.startswith("test_") and marks and marks[0].args[0] not in NOT_MEASURED:
            found.append((marks[0].args[0], fn))
    return found


def run_seeds(source: str, probe: str, seeds: int, timeout: float = 600.0, assignment: str = "vae") -> list:
    """Run ``probe`` on its cases repeated ``seeds`` times; returns one OneSeed per repetition and round of calls
    (a probe that repeats its cases, as grading does, gives twice as many).

    Raises ChildFailure when the submission fails in the child (correct code must not).
    """
    spec = load(assignment)
    module, per_child = STATISTICAL[assignment][probe]
    base = spec.probes[probe].cases(vae_utils.mnist_root().resolve())  # the cases that read MNIST ($MNIST_ROOT)
    per_seed = []
    for start in range(0, seeds, per_child):
        count = min(per_child, seeds - start)
        result = run_probe(source, probe, base * count, probe, timeout, seed=start * len(base), assignment=spec)
        for found in rounds(result, spec.probes[probe].rounds):  # a second round of calls is graded as the first
            for k in range(count):
                part = slice(k * len(base), (k + 1) * len(base))
                per_seed.append(OneSeed(probe, base, ProbeResult(found.outputs[part], found.info[part], base), spec))
    return per_seed


def measure(source: str, probe: str, seeds: int, assignment: str = "vae") -> dict:
    """Per test key of ``probe``'s grader (of ``assignment``): (seeds tried, failures, first failure message)."""
    module, _ = STATISTICAL[assignment][probe]
    counts = {}
    runs = run_seeds(source, probe, seeds, assignment=assignment)
    for key, test in grader_tests(module):
        failures, first = 0, ""
        for sub in runs:
            try:
                test(sub)
            except GradingFailure as exc:
                failures += 1
                first = first or str(exc)
        counts[key] = (len(runs), failures, first)
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="seeds per probe (at least 200 for the record)")
    parser.add_argument("--assignment", choices=sorted(STATISTICAL), help="only this assignment (default: all)")
    args = parser.parse_args(argv)
    start = time.monotonic()
    submissions = []
    for assignment in [args.assignment] if args.assignment else sorted(STATISTICAL):
        spec = load(assignment)
        solution = load_submission(ROOT / "solution" / spec.notebook, spec).source
        submissions.append((assignment, "reference", solution, tuple(STATISTICAL[assignment])))
        submissions += [(assignment, name[:-3], (CORPUS / assignment / "correct" / name).read_text(), probes)
                        for name, probes in VARIANTS[assignment]]
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
    cells = [header] + [(n, k, str(t), str(f), f"{f / t:.3g}") for n, k, t, f, _ in rows]
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
