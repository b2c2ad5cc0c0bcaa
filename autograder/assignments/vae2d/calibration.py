"""Part 2's calibration (``scripts/calibrate.py --assignment vae2d``): the training threshold and the quality checks
on the reference trained as graded, judged by the digit classifier as the quality graders judge it."""
from __future__ import annotations

import numpy as np

from autograder.processes.runner import run_probe

from . import cases, checks, spec

MEASURES = ("test_elbo", "digit_grid", "reconstructions", "digits_shown", "train_cpu_s")


def thresholds() -> dict:
    """``{measure: pass mark}`` of the spec (the CPU seconds have none)."""
    q, t = spec.QUALITY, spec.TRAINING
    return {"test_elbo": t.min_test_elbo, "digit_grid": q.min_digit_grid, "reconstructions": q.min_reconstructions,
            "digits_shown": q.min_digits}


def one_seed(source: str, root, training, judges) -> dict:
    """The graded measures of ``source`` trained with the settings ``training``: its test ELBO (nats), the share of
    the digit grid and of the reconstructions the classifier reads as the digit meant, and how many digits its
    prior samples show, and the training loop's CPU seconds. ``judges`` holds the ``classifier`` and the test ``labels``."""
    trained = run_probe(source, "training", cases.training(training, root), "training", 1800, training.seed,
                        assignment=spec.ASSIGNMENT)
    weights = {k: v for k, v in trained.outputs[0].items() if k.startswith("w/")}
    out = run_probe(None, "evaluate", cases.evaluation(training, spec.QUALITY, root, weights, training.seed),
                    "evaluate", 600, training.seed, assignment=spec.ASSIGNMENT).outputs[0]
    q, classifier = spec.QUALITY, judges.classifier
    counts = checks.digit_counts(classifier.predict(out["samples"]))
    grid = classifier.predict(out["digit_grid"]) == np.repeat(np.arange(10), q.per_digit)
    return {"test_elbo": float(out["test_elbo"][0]), "digit_grid": float(np.mean(grid)),
            "reconstructions": classifier.accuracy(out["reconstructions"],
                                                   judges.labels[:len(out["reconstructions"])]),
            "digits_shown": float(np.sum(counts >= max(1, q.min_share * len(out["samples"])))),
            "train_cpu_s": float(trained.info[0].get("cpu_seconds", np.nan))}
