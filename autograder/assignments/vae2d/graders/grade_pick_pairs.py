"""Task 8, pick_pairs(labels, same, seed): seed 002's ten pairs of test-set indices, one pair of two images of digit
d per row d when ``same``, ten random pairs of different digits otherwise, drawn with a generator seeded by seed.

The judges are :mod:`autograder.sandbox.vae_check`'s, which the notebook's checks run too."""
from autograder.grading.grading import grades
from autograder.sandbox import vae_check


@grades("pick_pairs.shapes")
def test_shapes(sub):
    """is pick_pairs an integer tensor of shape (10, 2)?"""
    vae_check.vae2d_pick_pairs_shapes(sub)


@grades("pick_pairs.pairs")
def test_pairs(sub):
    """are the pairs indices into labels: two different images of digit d in row d when same, different digits
    otherwise, the same pairs again for the same seed?"""
    vae_check.vae2d_pick_pairs_pairs(sub)


@grades("pick_pairs.random")
def test_random(sub):
    """do different seeds give different pairs, drawn at random rather than the first images of each digit?"""
    vae_check.vae2d_pick_pairs_random(sub)
