"""Calibrate Part 2's training threshold and quality checks: the reference trained with several seeds, as graded.

For each seed: the graded training run of the solution's ``VAE2D`` (``training`` probe, 1 epoch), then the trusted
evaluation of its weights (``evaluate`` probe), judged by the digit classifier as the quality graders judge it.
Prints one row per seed, then mean, standard deviation and worst of each measure beside the thresholds of
``autograder/assignments/vae2d/spec.py`` and their margins.

Usage: ``python scripts/calibrate_part2.py [--seeds 6]`` (MNIST under ``$MNIST_ROOT``, the classifier as the grader
finds it: ``$VAE_KIT_CLASSIFIER`` or ``make classifier``'s).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import digit_classifier  # noqa: E402
from autograder import config, harness  # noqa: E402
from autograder.assignments.vae2d import cases, checks, spec  # noqa: E402
from autograder.runner import run_probe  # noqa: E402
from autograder.submission import load_submission  # noqa: E402

SOLUTION = ROOT / "solution" / "vae2d.ipynb"
MEASURES = ("test_elbo", "digit_grid", "reconstructions", "digits_shown")


def one_seed(source: str, root: Path, classifier, labels, seed: int) -> dict:
    """The graded measures of the reference trained with ``seed`` (the training run's and the evaluation's)."""
    case = cases.training(spec.TRAINING, root)[0]
    case.params["seed"] = seed
    trained = run_probe(source, "training", [case], "training", 1800, seed, assignment=spec.ASSIGNMENT)
    weights = {k: v for k, v in trained.outputs[0].items() if k.startswith("w/")}
    out = run_probe(None, "evaluate", cases.evaluation(spec.TRAINING, spec.QUALITY, root, weights, seed), "evaluate", 600, seed,
                    assignment=spec.ASSIGNMENT).outputs[0]
    q = spec.QUALITY
    counts = checks.digit_counts(classifier.predict(out["samples"]))
    return {"test_elbo": float(out["test_elbo"][0]),
            "digit_grid": float(np.mean(classifier.predict(out["digit_grid"]) == np.repeat(np.arange(10), q.per_digit))),
            "reconstructions": classifier.accuracy(out["reconstructions"], labels[:len(out["reconstructions"])]),
            "digits_shown": float(np.sum(counts >= max(1, q.min_share * len(out["samples"]))))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    args = parser.parse_args(argv)
    root = config.mnist_root()
    classifier = digit_classifier.load(harness.classifier_file(root))
    labels = harness.mnist_test_set(root)[1]
    source = load_submission(SOLUTION, spec.ASSIGNMENT).source
    rows = []
    print(f"{'seed':>4}  " + "  ".join(f"{m:>15}" for m in MEASURES) + "  seconds")
    for seed in range(args.seeds):
        start = time.monotonic()
        rows.append(one_seed(source, root, classifier, labels, seed))
        print(f"{seed:>4}  " + "  ".join(f"{rows[-1][m]:>15.3f}" for m in MEASURES) + f"  {time.monotonic() - start:7.1f}",
              flush=True)
    q, t = spec.QUALITY, spec.TRAINING
    thresholds = {"test_elbo": t.min_test_elbo, "digit_grid": q.min_digit_grid,
                  "reconstructions": q.min_reconstructions, "digits_shown": q.min_digits}
    print(f"\n{'measure':>15}  {'mean':>9}  {'std':>7}  {'worst':>9}  {'threshold':>9}  margin (std)")
    for measure in MEASURES:
        values = np.array([r[measure] for r in rows])
        worst, std = values.min(), values.std(ddof=1) if len(values) > 1 else 0.0
        margin = (worst - thresholds[measure]) / std if std > 0 else float("inf")
        print(f"{measure:>15}  {values.mean():9.3f}  {std:7.3f}  {worst:9.3f}  {thresholds[measure]:9.3f}  {margin:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
