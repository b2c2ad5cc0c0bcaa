"""The trained CVAE generates the digit it is asked for, judged by the kit's digit classifier (seed 003 g, h)."""
import numpy as np

from autograder.assignments.cvae import spec
from autograder.assignments.cvae.graders.grade_training import evaluation
from autograder.grading import fail, grades


@grades("generation.digits")
def test_digits(sub, digit_classifier):
    """are the samples decoded with label c classified as c, for each digit?"""
    q, samples = spec.CHECKS, evaluation(sub)["samples"]
    labels = np.repeat(np.arange(10), q.per_digit)
    predicted = digit_classifier.predict(samples.reshape(len(samples), 784))
    share = float(np.mean(predicted == labels))
    if share < q.min_digits:
        worst = [d for d in range(10) if np.mean(predicted[labels == d] == d) < 0.5]
        fail(f"only {share:.0%} of the samples generated with a label are classified as that digit (at least "
             f"{q.min_digits:.0%} is required); digits mostly wrong: {worst}. The label must reach the decoder "
             "(one-hot, joined to z) and be trained with it.")


@grades("generation.label_matters")
def test_label_matters(sub):
    """does changing the label c with z fixed change the decoded image?"""
    q, images = spec.CHECKS, evaluation(sub)["relabelled"]
    flat = images.reshape(10, q.fixed_codes, -1).astype(np.float64)
    change = float(np.mean(np.abs(flat[:, None] - flat[None, :]).mean(-1).sum((0, 1)) / 90))
    if change < q.min_change:
        fail(f"with z fixed, changing the label changes the decoded image by {change:.4f} on average (mean "
             f"absolute pixel difference; at least {q.min_change} is required): your decoder ignores the label")
