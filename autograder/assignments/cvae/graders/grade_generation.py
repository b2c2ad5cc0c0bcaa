"""The trained CVAE generates the digit it is asked for, judged by the kit's digit classifier (seed 003 g, h)."""
import numpy as np

from autograder.assignments.cvae import spec
from autograder.assignments.cvae.graders.grade_training import evaluation, where_to_look
from autograder.grading.grading import fail, grades


def label_change(relabelled: np.ndarray) -> float:
    """Mean absolute pixel difference between the images decoded from the same z with two different labels
    (``relabelled``: 10 labels x codes x image), over the 90 ordered pairs of labels."""
    flat = relabelled.reshape(10, spec.CHECKS.fixed_codes, -1).astype(np.float64)
    return float(np.mean(np.abs(flat[:, None] - flat[None, :]).mean(-1).sum((0, 1)) / 90))


def why_wrong_digits(predicted: np.ndarray, labels: np.ndarray, change: float) -> str:
    """The likely reason why the samples are not the digits asked for, from what the classifier saw
    (``predicted``, ``labels``: one per sample) and how much the label changes the image (``change``)."""
    if change < spec.CHECKS.min_change:
        return ("Changing the label barely changes the image: the label must reach the decoder (its one-hot vector "
                "joined to z) and be trained with it.")
    majority = {d: np.bincount(predicted[labels == d], minlength=10).argmax() for d in range(10)}
    consistent = [d for d in range(10) if majority[d] != d and np.mean(predicted[labels == d] == majority[d]) >= 0.5]
    if len(consistent) >= 3:
        pairs = ", ".join(f"{d} -> {majority[d]}" for d in consistent[:5])
        return (f"Asked for one digit, the model draws another one, consistently ({pairs}): the label reaches the "
                "decoder, but not where the notebook puts it (fc_dec's input is z first, then onehot(c); the encoder's "
                "is the image first, then the 10 label planes).")
    return ("The label changes the image, but the samples are not clear digits: the model learned too little in the "
            "grader's short run (see the training test).")


def first_where_to_look(sub, message: str) -> str:
    """``message``, after the sentence that names the methods training uses that failed their own tests (when any
    did: their mistake is the likely cause)."""
    look = where_to_look(sub.failed)
    return f"{look} {message[0].upper()}{message[1:]}" if look else message


@grades("generation.digits")
def test_digits(sub, digit_classifier):
    """are the samples decoded with label c classified as c, for each digit?"""
    q, found = spec.CHECKS, evaluation(sub)
    samples = found["samples"]
    labels = np.repeat(np.arange(10), q.per_digit)
    predicted = digit_classifier.predict(samples.reshape(len(samples), 784))
    hits = int(np.sum(predicted == labels))
    if hits < q.min_digits * len(labels):
        worst = [d for d in range(10) if np.mean(predicted[labels == d] == d) < 0.5]
        why = why_wrong_digits(predicted, labels, label_change(found["relabelled"]))
        fail(first_where_to_look(sub, f"only {hits} of the {len(labels)} samples generated with a label "
             f"({hits / len(labels):.1%}) are classified as that digit; at least {q.min_digits:.1%} are required. "
             f"Digits mostly wrong: {worst}. {why}"))


@grades("generation.label_matters")
def test_label_matters(sub):
    """does changing the label c with z fixed change the decoded image?"""
    q = spec.CHECKS
    change = label_change(evaluation(sub)["relabelled"])
    if change < q.min_change:
        fail(first_where_to_look(sub, f"with z fixed, changing the label changes the decoded image by {change:.4f} "
             f"on average (mean absolute pixel difference; at least {q.min_change} is required): the trained decoder "
             "ignores the label"))
