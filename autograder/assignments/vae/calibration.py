"""Part 1's calibration (``scripts/calibrate.py --assignment vae``): the test-set ELBO of the reference trained as
``training.test_elbo`` trains it, beside the spec's threshold."""
from __future__ import annotations

from autograder.processes.runner import run_probe

from . import cases, spec
from .graders.grade_training import test_images, test_set_elbo

MEASURES = ("test_elbo",)


def thresholds() -> dict:
    """``{measure: pass mark}`` of the spec."""
    return {"test_elbo": spec.TRAINING.min_test_elbo}


def one_seed(source: str, root, training, judges) -> dict:
    """The graded measures of ``source`` trained with the settings ``training`` (the spec's ``TRAINING``, its
    seed replaced) on the MNIST files under ``root``: the test-set ELBO in nats, as the grader computes it."""
    trained = run_probe(source, "training", cases.training(training, root), "training", 1800, training.seed,
                        assignment=spec.ASSIGNMENT)
    weights = {k: v for k, v in trained.outputs[0].items() if k.startswith("w/")}
    return {"test_elbo": test_set_elbo(weights, test_images(root))}
