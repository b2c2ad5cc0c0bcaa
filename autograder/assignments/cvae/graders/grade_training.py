"""A training run of the submission's ConditionalVAE with its own loss(x, c), on a subset of the training set, scored
by the reference in a child that runs no student code: the test-set ELBO of the trained weights."""
import numpy as np

from autograder.assignments.cvae import cases, spec
from autograder.assignments.cvae.graders._layers import check_weights
from autograder.grading import grading
from autograder.grading.grading import fail, grades

USED = spec.ASSIGNMENT.training_methods
KEY = "training.test_elbo"


def where_to_look(failed: dict) -> str:
    """The methods training uses that failed their own tests, as a sentence ("" when none did); see
    :func:`autograder.grading.grading.where_to_look`."""
    return grading.where_to_look(failed, USED)


def trained(sub):
    """The training run's result and its trained weights; fails with the reason when it was not attempted,
    failed, diverged, or the weights are not seed 003's layers' (their keys, shapes, finite values)."""
    found = grading.training_run(sub, KEY, "loss(x, c).mean()")
    weights = {k: v for k, v in found.outputs.items() if k.startswith("w/")}
    check_weights(weights, "cond", "ConditionalVAE", "trained")
    return found, weights


def evaluation(sub) -> dict:
    """What the reference makes with the trained weights (``probes.probe_evaluate``); fails as :func:`trained`."""
    _, weights = trained(sub)
    return sub.trusted("evaluate", cases.evaluation(spec.CHECKS, sub.root, weights)).case("evaluation").outputs


@grades("training.test_elbo")
def test_training(sub, record_property):
    """does a short training run of your ConditionalVAE with your loss reach the required test-set ELBO?"""
    t = spec.TRAINING
    found, _ = trained(sub)
    value = float(evaluation(sub)["test_elbo"][0])
    record_property("test_elbo", value)
    record_property("training_steps", found.info.get("steps"))
    if isinstance(found.info.get("cpu_seconds"), (int, float)):
        record_property("training_loop_cpu_seconds", round(float(found.info["cpu_seconds"]), 2))
    if not np.isfinite(value) or value < t.min_test_elbo:
        fail(f"after training on {t.images} images with your loss, the test-set ELBO of your ConditionalVAE is "
             f"{value:.1f} nats (computed by the grader from your trained weights); at least {t.min_test_elbo:.0f} "
             "is required. " + (where_to_look(sub.failed) or "Look at the loss tests first."))
