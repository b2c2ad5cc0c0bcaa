"""What the model trained by the training run makes, judged by the kit's digit classifier: the per-digit grid,
reconstructions of test images, and samples from the prior (seeds 000 d and 001)."""
import numpy as np

from autograder.assignments.vae2d import checks, spec
from autograder.assignments.vae2d.graders.grade_training import evaluation
from autograder.grading.grading import fail, grades


@grades("quality.digit_grid")
def test_digit_grid(sub, digit_classifier):
    """are the per-digit grid's images, decoded from each digit's region of the latent plane, classified as it?"""
    q, grid = spec.QUALITY, evaluation(sub)["digit_grid"]
    rows = np.repeat(np.arange(10), q.per_digit)
    predicted = digit_classifier.predict(grid)
    share = float(np.mean(predicted == rows))
    if share < q.min_digit_grid:
        wrong = [d for d in range(10) if np.mean(predicted[rows == d] == d) < 0.5]
        fail(f"only {share:.0%} of the per-digit grid's images are classified as their row's digit (at least "
             f"{q.min_digit_grid:.0%} is required); rows mostly wrong: {wrong}. Your trained model's latent space "
             "does not separate the digits: look at the loss and encoder tests.")


@grades("quality.reconstructions")
def test_reconstructions(sub, digit_classifier, mnist_test):
    """do reconstructions of test images keep their label?"""
    q, images = spec.QUALITY, evaluation(sub)["reconstructions"]
    share = digit_classifier.accuracy(images, mnist_test[1][:len(images)])
    if share < q.min_reconstructions:
        fail(f"only {share:.0%} of the reconstructions of {len(images)} test images are classified as the digit of "
             f"their original (at least {q.min_reconstructions:.0%} is required): look at the loss, encoder and "
             "decoder tests.")


@grades("quality.coverage")
def test_coverage(sub, digit_classifier):
    """do samples decoded from z ~ N(0, I) show at least 5 of the 10 digits?"""
    q, samples = spec.QUALITY, evaluation(sub)["samples"]
    counts = checks.digit_counts(digit_classifier.predict(samples))
    shown = [d for d in range(10) if counts[d] >= max(1, q.min_share * len(samples))]
    if len(shown) < q.min_digits:
        fail(f"{len(samples)} samples from the prior show only {len(shown)} of the 10 digits ({shown}; at least "
             f"{q.min_digits} are required): counts per digit {counts.tolist()}. A KL weighted too much "
             "or too little, or a wrong KL, collapses or scatters the latent space.")
