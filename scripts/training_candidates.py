"""Choose an assignment's graded training run: candidate settings measured on the reference and on the corpus's bugs.

Each candidate is a set of fields of the spec's ``TRAINING`` replaced (``"epochs=2 learning_rate=0.002"``; the
spec's own settings, or those of ``--baseline``, are always measured too, as ``today``). For each candidate:

- the reference (the solution notebook's class) trained as graded over ``--seeds`` seeds, each measured by the
  assignment's ``calibration.py`` as its graders judge it (test-set ELBO, the quality checks, the training loop's
  CPU seconds): per measure with a pass mark, how many standard deviations of the seeds the mark lies below
  their mean, and whether it lies below the worst seed. A candidate keeps the margins when every mark lies at least
  ``calibrate.MARGIN_STD`` (8) standard deviations below the mean and below the worst seed;
- with ``--bugs``, every bug of the assignment's corpus that writes a method of the training run otherwise than the
  solution (``corpus_changes.changed``), trained with the candidate's settings at the graded seed and measured
  the same way: caught when its training or evaluation fails (an error, a timeout, no weights) or a measure misses
  its mark. The table gives how many bugs each candidate catches, and names those that today's settings catch and
  the candidate does not (today's settings are run only on the bugs some candidate misses).

Usage: ``python scripts/training_candidates.py --assignment NAME [--seeds 8] [--bugs] [--jobs 2]
[--candidate "FIELD=VALUE ..."]... [--baseline "FIELD=VALUE ..."] [--marks "MEASURE=VALUE ..."]``; the marks are
the spec's (``min_test_elbo`` can be a candidate's field; ``--marks`` judges with others). MNIST under
``$MNIST_ROOT``; the digit classifier as the grader finds it.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import calibrate  # noqa: E402
import corpus_changes  # noqa: E402
import grade_corpus  # noqa: E402

from autograder import config  # noqa: E402
from autograder.core.assignment import load, names  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402


def marks(calibration, training, changed: dict | None = None) -> dict:
    """``{measure: pass mark}``: the spec's, with the test ELBO's from the candidate's ``training`` and the marks
    of ``changed`` (``--marks``) replaced."""
    return {**calibration.thresholds(), "test_elbo": training.min_test_elbo, **(changed or {})}


def measure(calibration, source: str, training, judged) -> dict | str:
    """The calibration's measures of ``source`` trained with ``training``, or why its run failed (a string)."""
    try:
        return calibration.one_seed(source, config.mnist_root(), training, judged)
    except Exception as exc:  # noqa: BLE001 (any failure of a bug's run is a catch; named in the table)
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"


def missed(measures, marks_: dict) -> list:
    """The measures that miss their mark (every one when the run failed)."""
    if isinstance(measures, str):
        return ["run failed"]
    return [m for m, mark in marks_.items() if not measures[m] >= mark]


def margins(rows: list, marks_: dict) -> dict:
    """Per measure: the mark's distance below the seeds' mean, in their standard deviations, whether it lies below
    the worst seed, and whether it keeps its margins (:func:`calibrate.margin`); plus the training loop's mean CPU
    seconds (``cpu``)."""
    out = {"cpu": float(np.mean([r["train_cpu_s"] for r in rows]))}
    for m, mark in marks_.items():
        below_mean, _, kept = calibrate.margin([r[m] for r in rows], mark)
        out[m] = (below_mean, bool(min(r[m] for r in rows) > mark), kept)
    return out


def bug_cases(assignment) -> list:
    """The corpus's bugs that write a method of the training run otherwise than the solution (or whose difference
    :func:`corpus_changes.changed` cannot tell): the others train as the reference does."""
    trained = {assignment.qualified_methods[m] for m in assignment.training_methods}
    bugs = [c for c in grade_corpus.load_cases("", assignment) if c.kind == "bug"]
    differs = {c.name: corpus_changes.changed(c.path, assignment) for c in bugs}
    return [c for c in bugs if differs[c.name] is None or differs[c.name] & trained]


#: In each worker process: the assignment, its calibration module and what judges it (see :func:`_start_worker`).
_WORKER: dict = {}


def _start_worker(name: str) -> None:
    """A worker's start: each run measured in a process of its own, since the engine cleans up after a child by
    killing the descendants of its process that are not that child's (two runs in threads of one process would kill
    each other's children)."""
    assignment = load(name)
    _WORKER.update(calibration=importlib.import_module(f"autograder.assignments.{name}.calibration"),
                   judged=calibrate.judges(assignment, config.mnist_root()))


def _measure(job: tuple):
    """:func:`measure` of ``job`` = (source, training) in a worker."""
    return measure(_WORKER["calibration"], job[0], job[1], _WORKER["judged"])


def run_candidate(assignment, training, seeds: int, bugs: list, jobs: int) -> dict:
    """The reference's rows over ``seeds`` and ``{bug name: measures, or why its run failed}`` for one candidate's
    ``training``, ``jobs`` runs at once."""
    reference = load_submission(assignment.solution_notebook, assignment).source
    runs = [(reference, dataclasses.replace(training, seed=seed)) for seed in range(seeds)]
    runs += [(load_submission(c.path, assignment).source, training) for c in bugs]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(assignment.name,)) as pool:
        results = list(pool.map(_measure, runs))
    rows = results[:seeds]
    failed = [r for r in rows if isinstance(r, str)]
    if failed:
        raise SystemExit(f"the reference failed to train with {training}: {failed[0]}")
    return {"rows": rows, "bugs": dict(zip((c.name for c in bugs), results[seeds:]))}


def print_measured(results: dict, seeds: int) -> None:
    """Print what each run measured: every bug's measures (or why its run failed), then the reference's mean, std
    and worst seed per measure (the most CPU-s for the training loop)."""
    for name, result in results.items():
        for bug, measures in result["bugs"].items():
            print(f"  {name} {bug}: {measures}")
    for name, result in results.items():
        print(f"{name}, the reference over {seeds} seeds: " + "; ".join(
            f"{m} {np.mean(v):.3f} +- {np.std(v, ddof=1):.3f} (worst {min(v) if m != 'train_cpu_s' else max(v):.3f})"
            for m in result["rows"][0] for v in [[r[m] for r in result["rows"]]]))


def print_table(trainings: dict, results: dict, calibration, bugs: int | None, changed: dict) -> None:
    """One row per candidate (``today`` first): training CPU-s and its share of today's, each mark's distance below
    the seeds' mean (in std) and whether it lies below the worst seed, the bugs caught, whether the margins are
    kept; under a candidate, the bugs it misses that today's settings catch. Today's settings are measured only on
    the bugs that some candidate misses."""
    measures = list(marks(calibration, trainings["today"], changed))
    print(f"\n{'candidate':<48} {'train CPU-s':>11} {'share':>6}  " + "  ".join(f"{m:>16}" for m in measures)
          + ("  bugs caught" if bugs is not None else "") + "  margins kept")
    today = margins(results["today"]["rows"], marks(calibration, trainings["today"], changed))["cpu"]
    for name, training in trainings.items():
        got = margins(results[name]["rows"], marks(calibration, training, changed))
        cells = [f"{got[m][0]:>6.1f}σ {'<worst' if got[m][1] else '>worst':>8}" for m in measures]
        kept = all(got[m][2] for m in measures)
        measured = {b: missed(m, marks(calibration, training, changed)) for b, m in results[name]["bugs"].items()}
        caught = f"{sum(bool(v) for v in measured.values()):>3}/{len(measured)}"
        print(f"{name:<48} {got['cpu']:>11.1f} {got['cpu'] / today:>6.2f}  " + "  ".join(cells)
              + (f"  {caught:>11}" if bugs is not None else "") + f"  {'yes' if kept else 'no'}")
        today_catches = {b for b, m in results["today"]["bugs"].items()
                         if missed(m, marks(calibration, trainings["today"], changed))}
        lost = [b for b, m in measured.items() if name != "today" and b in today_catches and not m]
        if lost:
            print(f"{'':<48} misses what today catches: {', '.join(lost)}")
    if bugs is not None:
        print(f"(today measured on the {len(results['today']['bugs'])} of {bugs} bugs that some candidate misses)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", required=True, choices=names())
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--candidate", action="append", default=[], metavar="'FIELD=VALUE ...'",
                        help="fields of the spec's TRAINING replaced (repeat for several candidates)")
    parser.add_argument("--bugs", action="store_true", help="train the corpus's bugs with each candidate too")
    parser.add_argument("--jobs", type=int, default=2, help="training runs at once (default 2)")
    parser.add_argument("--baseline", default="", metavar="'FIELD=VALUE ...'",
                        help="the settings the candidates are compared with, as fields of the spec's TRAINING "
                             "replaced (default: the spec's own; the table's 'today')")
    parser.add_argument("--marks", default="", metavar="'MEASURE=VALUE ...'",
                        help="pass marks judged instead of the spec's (digit_grid=0.35): what the bugs and margins "
                             "would be with them")
    args = parser.parse_args(argv)
    assignment = load(args.assignment)
    calibration = importlib.import_module(f"autograder.assignments.{assignment.name}.calibration")
    bugs = bug_cases(assignment) if args.bugs else []
    today = calibrate.settings(assignment.training, args.baseline.split())
    trainings = {c: calibrate.settings(assignment.training, c.split()) for c in args.candidate}
    changed = {k: float(v) for k, _, v in (m.partition("=") for m in args.marks.split())}
    results = {}
    for name, training in trainings.items():
        results[name] = run_candidate(assignment, training, args.seeds, bugs, args.jobs)
        print(f"measured {name}", flush=True)
    # today's settings: the reference's seeds, and only the bugs some candidate misses (whether today catches them)
    missed_somewhere = [b for b in bugs if any(not missed(results[n]["bugs"][b.name],
                                                          marks(calibration, trainings[n], changed)) for n in results)]
    results = {"today": run_candidate(assignment, today, args.seeds, missed_somewhere, args.jobs), **results}
    print_measured(results, args.seeds)
    print_table({"today": today, **trainings}, results, calibration, len(bugs) if args.bugs else None, changed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
