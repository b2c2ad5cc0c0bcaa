"""Calibrate an assignment's training threshold and quality checks: its reference trained over several seeds.

For each seed, the graded training run of the solution notebook's class (the ``training`` probe, with the spec's
``TRAINING`` and that seed), then what the assignment's ``calibration.py`` measures of it, as its graders judge it.
Prints one row per seed, then the mean, standard deviation and worst of each measure beside the spec's pass marks
and their margins in standard deviations.

Usage: ``python scripts/calibrate.py --assignment NAME [--seeds 6] [--first-seed 0] [--set FIELD=VALUE ...]``
(``--set init=default``, ``--set epochs=2``: a field of the spec's ``TRAINING`` replaced). MNIST under
``$MNIST_ROOT``; the digit classifier, for an assignment that judges digits, as the grader finds it
(``$VAE_KIT_CLASSIFIER`` or ``make classifier``'s).
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import config  # noqa: E402
from autograder.core.assignment import load, names  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402


def judges(assignment, root: Path) -> SimpleNamespace:
    """What the measures judge with: the digit classifier and the MNIST test labels, for an assignment whose
    groups use the classifier (None otherwise)."""
    if not assignment.classifier_groups:
        return SimpleNamespace(classifier=None, labels=None)
    import digit_classifier
    from autograder.harness import harness

    return SimpleNamespace(classifier=digit_classifier.load(harness.classifier_file(root)),
                           labels=harness.mnist_test_set(root)[1])


def settings(training, changes: list):
    """The spec's ``training`` settings with the ``FIELD=VALUE`` of ``changes`` replaced (values read as Python
    literals, else as text). Raises SystemExit naming an unknown field."""
    fields = {f.name for f in dataclasses.fields(training)}
    replaced = {}
    for change in changes:
        name, _, value = change.partition("=")
        if name not in fields:
            raise SystemExit(f"--set {change}: {type(training).__name__} has no field {name!r}; "
                             f"it has {sorted(fields)}")
        try:
            replaced[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            replaced[name] = value
    return dataclasses.replace(training, **replaced)


#: A pass mark is kept when it lies at least this many standard deviations of the reference's seeds below their
#: mean, and below their worst seed.
MARGIN_STD = 8.0


def margin(values, mark: float) -> tuple:
    """How far ``mark`` lies below the seeds' ``values``: (below their mean, below the worst seed), each in their
    standard deviations (inf when they do not vary), and whether the mark keeps its margins (>= ``MARGIN_STD`` below
    the mean, and below the worst seed)."""
    values = np.asarray(values, dtype=float)
    std = values.std(ddof=1) if len(values) > 1 else 0.0
    below_mean, below_worst = ((v - mark) / std if std > 0 else float("inf") for v in (values.mean(), values.min()))
    return below_mean, below_worst, bool(below_mean >= MARGIN_STD and values.min() > mark)


def summary(rows: list, thresholds: dict) -> list:
    """Lines of the table: per measure with a pass mark, the seeds' mean, std and worst, the mark, its distance
    below the mean in std, below the worst in std, and whether it keeps the margins (>= ``MARGIN_STD`` std below
    the mean and below the worst seed); a measure without a mark (CPU seconds) gets its mean, std and
    largest."""
    lines = [f"{'measure':>15}  {'mean':>9}  {'std':>7}  {'worst':>9}  {'threshold':>9}  {'mean-mark':>9}  "
             f"{'worst-mark':>10}  kept"]
    for measure in rows[0]:
        values = np.array([r[measure] for r in rows])
        # the worst seed: the lowest measure, or the most CPU seconds for a measure without a mark
        worst = values.min() if measure in thresholds else values.max()
        std = values.std(ddof=1) if len(values) > 1 else 0.0
        line = f"{measure:>15}  {values.mean():9.3f}  {std:7.3f}  {worst:9.3f}"
        if measure in thresholds:
            below_mean, below_worst, kept = margin(values, thresholds[measure])
            line += f"  {thresholds[measure]:9.3f}  {below_mean:8.1f}σ  {below_worst:9.1f}σ  {'✓' if kept else '✗'}"
        lines.append(line)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", required=True, choices=names())
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--first-seed", type=int, default=0, help="the first training seed (default 0)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="replace a field of the spec's TRAINING (init=default, epochs=2)")
    args = parser.parse_args(argv)
    assignment, root = load(args.assignment), config.mnist_root()
    calibration = importlib.import_module(f"autograder.assignments.{assignment.name}.calibration")
    training, judged = settings(assignment.training, args.set), judges(assignment, root)
    source = load_submission(assignment.solution_notebook, assignment).source
    rows = []
    print(f"{'seed':>4}  " + "  ".join(f"{m:>15}" for m in calibration.MEASURES) + "  seconds")
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        start = time.monotonic()
        rows.append(calibration.one_seed(source, root, dataclasses.replace(training, seed=seed), judged))
        print(f"{seed:>4}  " + "  ".join(f"{rows[-1][m]:>15.3f}" for m in calibration.MEASURES)
              + f"  {time.monotonic() - start:7.1f}", flush=True)
    print("\n" + "\n".join(summary(rows, calibration.thresholds())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
