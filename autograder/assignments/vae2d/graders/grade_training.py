"""A short training run driven by the submission's own loss(x, 1), scored by the reference in a child that runs no
student code: the test-set ELBO of the trained weights."""
import numpy as np

from autograder.assignments.vae2d import cases, spec
from autograder.grading import grading
from autograder.grading.grading import check_array, fail, grades

#: The methods a training run calls; their rules apply to it too.
USED = spec.ASSIGNMENT.training_methods
KEY = "training.test_elbo"


def where_to_look(failed: dict) -> str:
    """The methods training uses that failed their own tests, as a sentence ("" when none did); see
    :func:`autograder.grading.grading.where_to_look`."""
    return grading.where_to_look(failed, USED)


def trained(sub):
    """The training run's case result and its trained weights (``{"w/linear1.weight": ...}``), checked; fails
    with the reason when training was not attempted, failed, or diverged."""
    found = grading.training_run(sub, KEY, "loss(x, 1).mean()", "the encoder's and decoder's tests")
    hidden, weights = spec.TRAINING.hidden_dim, {}
    shapes = {"linear1": (hidden, 784), "linear21": (2, hidden), "linear22": (2, hidden), "linear3": (hidden, 2),
              "linear4": (784, hidden)}
    for layer, shape in shapes.items():
        for part, expected in (("weight", shape), ("bias", shape[:1])):
            weights[f"w/{layer}.{part}"] = found.outputs[f"w/{layer}.{part}"]
            check_array(weights[f"w/{layer}.{part}"], expected, f"the trained {layer}.{part}")
    return found, weights


def evaluation(sub) -> dict:
    """What the reference makes with the trained weights (see ``probes.probe_evaluate``): test_elbo,
    reconstructions, samples, digit_grid. Fails as :func:`trained` does."""
    _, weights = trained(sub)
    return sub.trusted("evaluate", cases.evaluation(spec.TRAINING, spec.QUALITY, sub.root, weights)).case("evaluation").outputs


@grades("training.test_elbo")
def test_training(sub, record_property):
    """does a short training run with your loss reach the required ELBO on the MNIST test set?"""
    t = spec.TRAINING
    found, _ = trained(sub)
    value = float(evaluation(sub)["test_elbo"][0])
    record_property("test_elbo", value)  # the leaderboard's column (spec.LEADERBOARD)
    record_property("training_steps", found.info.get("steps"))
    if isinstance(found.info.get("cpu_seconds"), (int, float)):
        record_property("training_loop_cpu_seconds", round(float(found.info["cpu_seconds"]), 2))
    if not np.isfinite(value) or value < t.min_test_elbo:
        fail(f"after {t.epochs} epoch{'s' if t.epochs > 1 else ''} of training with your loss, the test-set ELBO of "
             f"your model is {value:.1f} nats (computed by the grader from your trained weights); at least "
             f"{t.min_test_elbo:.0f} is required. " + (where_to_look(sub.failed) or "A wrong loss trains the wrong "
                                                       "objective, so look at the loss tests first."))
