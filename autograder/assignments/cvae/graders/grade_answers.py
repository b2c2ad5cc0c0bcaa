"""The written answers of seed 003 (a, b, f, h): each answered (not empty, not the template's text). They are
graded by hand: the grader passes them to the staff (``answer:<grade_id>`` in the staff output and results.json's
``extra_data``), and scores nothing here."""
from autograder.grading import answers
from autograder.grading.grading import grades

QUESTIONS = {"answers.sketch": "cvae_a_sketch", "answers.centred": "cvae_b_centred",
             "answers.better": "cvae_f_better", "answers.compare": "cvae_h_compare"}


@grades("answers.sketch")
def test_sketch(sub, record_property):
    """(a) is the sketch of the models answered? (graded by hand)"""
    answers.check_answer(sub, QUESTIONS["answers.sketch"], record_property)


@grades("answers.centred")
def test_centred(sub, record_property):
    """(b) is why the latent codes centre on (0, 0) answered? (graded by hand)"""
    answers.check_answer(sub, QUESTIONS["answers.centred"], record_property)


@grades("answers.better")
def test_better(sub, record_property):
    """(f) is which model does better answered? (graded by hand)"""
    answers.check_answer(sub, QUESTIONS["answers.better"], record_property)


@grades("answers.compare")
def test_compare(sub, record_property):
    """(h) is how the conditional VAE compares answered? (graded by hand)"""
    answers.check_answer(sub, QUESTIONS["answers.compare"], record_property)
