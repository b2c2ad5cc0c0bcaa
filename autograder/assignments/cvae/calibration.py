"""Part 3's calibration (``scripts/calibrate.py --assignment cvae``): the training threshold and the generation
checks on the reference CVAE trained as graded, and the training loop's CPU seconds (the budget on Gradescope)."""
from __future__ import annotations

import numpy as np

from autograder.processes.runner import run_probe

from . import cases, spec

MEASURES = ("test_elbo", "digits", "label_change", "train_cpu_s")


def thresholds() -> dict:
    """``{measure: pass mark}`` of the spec (the CPU seconds have none)."""
    return {"test_elbo": spec.TRAINING.min_test_elbo, "digits": spec.CHECKS.min_digits,
            "label_change": spec.CHECKS.min_change}


def one_seed(source: str, root, training, judges) -> dict:
    """The graded measures of ``source`` trained with the settings ``training`` (its ``init``: the starting
    weights): its test ELBO (nats), the share of generated digits the classifier reads as the label asked, how
    much the decoded image changes with the label, and the training loop's CPU seconds."""
    trained = run_probe(source, "training", cases.training(training, root), "cond_loss", 1800, training.seed,
                        assignment=spec.ASSIGNMENT)
    weights = {k: v for k, v in trained.outputs[0].items() if k.startswith("w/")}
    out = run_probe(None, "evaluate", cases.evaluation(spec.CHECKS, root, weights, training.seed), "evaluate", 600,
                    training.seed, assignment=spec.ASSIGNMENT).outputs[0]
    q = spec.CHECKS
    predicted = judges.classifier.predict(out["samples"].reshape(len(out["samples"]), 784))
    flat = out["relabelled"].reshape(10, q.fixed_codes, -1).astype(np.float64)
    change = float(np.mean(np.abs(flat[:, None] - flat[None, :]).mean(-1).sum((0, 1)) / 90))
    return {"test_elbo": float(out["test_elbo"][0]),
            "digits": float(np.mean(predicted == np.repeat(np.arange(10), q.per_digit))),
            "label_change": change, "train_cpu_s": float(trained.info[0].get("cpu_seconds", np.nan))}
