"""A short training run driven by the submission's own elbo, scored with the grader's own ELBO."""
import numpy as np

from autograder.assignments.vae import oracle, spec
from autograder.grading import grading
from autograder.grading.grading import check_array, fail, grades

#: The methods a training run calls; their rules apply to it too.
USED = spec.ASSIGNMENT.training_methods


def test_images(root):
    """The MNIST test set under ``root`` as float32 of shape (10000, 784), values in [0, 1] (numpy only)."""
    import vae_utils  # numpy only at import; the kit root is on sys.path when grading

    images, _ = vae_utils.load_mnist_arrays(train=False, root=root, download=False)
    return images.reshape(len(images), -1).astype(np.float32) / 255.0


test_images.__test__ = False  # a helper, not a test


def test_set_elbo(weights, images, seed=0, chunk=1000):
    """Mean one-sample ELBO over ``images`` (n, 784) in [0, 1], in nats, with noise from ``seed``."""
    rng = np.random.default_rng(seed)
    latent = weights["w/linear21.weight"].shape[0]
    total = 0.0
    for start in range(0, len(images), chunk):
        x = images[start:start + chunk]
        total += oracle.elbo(weights, x, rng.standard_normal((len(x), latent))).sum()
    return total / len(images)


test_set_elbo.__test__ = False  # a helper, not a test


def where_to_look(failed: dict) -> str:
    """The methods training uses that failed their own tests, as a sentence ("" when none did); see
    :func:`autograder.grading.grading.where_to_look`."""
    return grading.where_to_look(failed, USED)


#: Where to look when training fails although every method it uses passed its tests.
WRONG_OBJECTIVE = "A wrong ELBO trains the wrong objective, so look at the elbo and kl_divergence tests first."


@grades("training.test_elbo")
def test_training(sub, mnist_test_images, record_property):
    """does a short training run with your elbo reach the required ELBO on the MNIST test set?"""
    t = spec.TRAINING
    found = grading.training_run(sub, "training.test_elbo", "-elbo(x).mean()", "the encoder's and decoder's tests")
    out, info = found.outputs, found.info
    weights = {}
    for layer, (fan_out, fan_in) in oracle.layer_shapes(784, t.latent_dim, t.hidden_dim).items():
        weights[f"w/{layer}.weight"] = out[f"w/{layer}.weight"]
        weights[f"w/{layer}.bias"] = out[f"w/{layer}.bias"]
        check_array(weights[f"w/{layer}.weight"], (fan_out, fan_in), f"the trained {layer}.weight")
        check_array(weights[f"w/{layer}.bias"], (fan_out,), f"the trained {layer}.bias")
    value = test_set_elbo(weights, mnist_test_images)
    record_property("test_elbo", float(value))  # the leaderboard's column (config.LEADERBOARD)
    epochs = f"{t.epochs} epoch{'s' if t.epochs > 1 else ''}"
    record_property("training_steps", info.get("steps"))
    if isinstance(info.get("cpu_seconds"), (int, float)):
        record_property("training_loop_cpu_seconds", round(float(info["cpu_seconds"]), 2))
    if not np.isfinite(value) or value < t.min_test_elbo:
        fail(f"after {epochs} of training with your elbo, the test-set ELBO of your model is {value:.1f} nats "
             f"(computed by the grader from your trained weights); at least {t.min_test_elbo:.0f} is required. "
             + (where_to_look(sub.failed) or WRONG_OBJECTIVE))
