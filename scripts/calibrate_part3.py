"""Calibrate Part 3's training threshold and generation checks: the reference CVAE trained with several seeds.

For each seed: the graded training run of the solution's ``ConditionalVAE`` (``training`` probe: a subset of the
training set), then the trusted evaluation of its weights (``evaluate`` probe), judged as the generation graders
judge it. Prints one row per seed, then mean, standard deviation and worst beside the thresholds of
``autograder/assignments/cvae/spec.py``, and the training loop's CPU seconds (the budget on Gradescope).

Usage: ``python scripts/calibrate_part3.py [--seeds 6] [--first-seed 0] [--init he|default]`` (MNIST under
``$MNIST_ROOT``; the classifier as the grader finds it; ``--init``: the starting weights, the spec's by default).
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
from autograder.assignments.cvae import cases, spec  # noqa: E402
from autograder.runner import run_probe  # noqa: E402
from autograder.submission import load_submission  # noqa: E402

SOLUTION = ROOT / "solution" / "cvae.ipynb"
MEASURES = ("test_elbo", "digits", "label_change", "train_cpu_s")


def one_seed(source: str, root: Path, classifier, seed: int, init: str = spec.TRAINING.init) -> dict:
    """The graded measures of the reference CVAE trained with ``seed`` from the starting point ``init`` ("he",
    "default"; see ``spec.Training.init``)."""
    case = cases.training(spec.TRAINING, root)[0]
    case.params.update(seed=seed, init=init)
    trained = run_probe(source, "training", [case], "cond_loss", 1800, seed, assignment=spec.ASSIGNMENT)
    weights = {k: v for k, v in trained.outputs[0].items() if k.startswith("w/")}
    out = run_probe(None, "evaluate", cases.evaluation(spec.CHECKS, root, weights, seed), "evaluate", 600, seed,
                    assignment=spec.ASSIGNMENT).outputs[0]
    q = spec.CHECKS
    predicted = classifier.predict(out["samples"].reshape(len(out["samples"]), 784))
    flat = out["relabelled"].reshape(10, q.fixed_codes, -1).astype(np.float64)
    change = float(np.mean(np.abs(flat[:, None] - flat[None, :]).mean(-1).sum((0, 1)) / 90))
    return {"test_elbo": float(out["test_elbo"][0]),
            "digits": float(np.mean(predicted == np.repeat(np.arange(10), q.per_digit))),
            "label_change": change, "train_cpu_s": float(trained.info[0].get("cpu_seconds", np.nan))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--first-seed", type=int, default=0, help="the first training seed (default 0)")
    parser.add_argument("--init", choices=("he", "default"), default=spec.TRAINING.init,
                        help="the starting weights the grader puts into the model (default: the spec's)")
    args = parser.parse_args(argv)
    root = config.mnist_root()
    classifier = digit_classifier.load(harness.classifier_file(root))
    source = load_submission(SOLUTION, spec.ASSIGNMENT).source
    rows = []
    print(f"{'seed':>4}  " + "  ".join(f"{m:>12}" for m in MEASURES) + "  seconds")
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        start = time.monotonic()
        rows.append(one_seed(source, root, classifier, seed, args.init))
        print(f"{seed:>4}  " + "  ".join(f"{rows[-1][m]:>12.3f}" for m in MEASURES)
              + f"  {time.monotonic() - start:7.1f}", flush=True)
    thresholds = {"test_elbo": spec.TRAINING.min_test_elbo, "digits": spec.CHECKS.min_digits,
                  "label_change": spec.CHECKS.min_change}
    print(f"\n{'measure':>12}  {'mean':>9}  {'std':>7}  {'worst':>9}  {'threshold':>9}  margin (std)")
    for measure, threshold in thresholds.items():
        values = np.array([r[measure] for r in rows])
        worst, std = values.min(), values.std(ddof=1) if len(values) > 1 else 0.0
        margin = (worst - threshold) / std if std > 0 else float("inf")
        print(f"{measure:>12}  {values.mean():9.3f}  {std:7.3f}  {worst:9.3f}  {threshold:9.3f}  {margin:.1f}")
    print(f"training loop: {np.mean([r['train_cpu_s'] for r in rows]):.1f} CPU-s on average "
          f"({spec.TRAINING.images} images x {spec.TRAINING.epochs} epoch(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
