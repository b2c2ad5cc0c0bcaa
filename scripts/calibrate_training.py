"""Calibrate the training test's threshold: the reference's test-set ELBO over several seeds.

Trains the reference VAE (the solution notebook's class) exactly as ``training.test_elbo`` does, once
per seed, scores each with the grader's own ELBO, and prints the spread and the margin left by
Part 1's ``spec.TRAINING.min_test_elbo``. Usage: ``python scripts/calibrate_training.py [--seeds 8] [--epochs 1]``.
"""
import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder import config  # noqa: E402
from autograder.assignments.vae import cases, spec  # noqa: E402
from autograder.assignments.vae.graders.grade_training import test_images, test_set_elbo  # noqa: E402
from autograder.runner import run_probe  # noqa: E402
from autograder.submission import load_submission  # noqa: E402

SOLUTION = Path(__file__).resolve().parent.parent / "solution" / "vae.ipynb"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=spec.TRAINING.epochs)
    args = parser.parse_args(argv)
    root = config.mnist_root()
    images = test_images(root)
    source = load_submission(SOLUTION, spec.ASSIGNMENT).source
    values = []
    print(f"{'seed':>4}  {'test ELBO (nats)':>16}  {'seconds':>7}")
    for seed in range(args.seeds):
        case = cases.training(spec.TRAINING, root)[0]
        case.params.update(seed=seed, epochs=args.epochs)
        start = time.monotonic()
        result = run_probe(source, "training", [case], "training", timeout=1800, assignment=spec.ASSIGNMENT)
        weights = {k: v for k, v in result.outputs[0].items() if k.startswith("w/")}
        values.append(test_set_elbo(weights, images))
        print(f"{seed:>4}  {values[-1]:>16.2f}  {time.monotonic() - start:>7.1f}")
    values = np.array(values)
    threshold = dataclasses.replace(spec.TRAINING).min_test_elbo
    print(f"\nreference after {args.epochs} epoch(s), {len(values)} seeds: mean {values.mean():.2f}, "
          f"std {values.std(ddof=1):.2f}, min {values.min():.2f}, max {values.max():.2f} nats")
    print(f"threshold spec.TRAINING.min_test_elbo = {threshold:.1f}: margin below the worst seed "
          f"{values.min() - threshold:.1f} nats ({(values.min() - threshold) / values.std(ddof=1):.0f} std)")


if __name__ == "__main__":
    main()
