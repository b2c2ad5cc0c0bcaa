"""Task 8, pick_pairs(labels, same, seed): seed 002's ten pairs of test-set indices, one pair of two images of digit
d per row d when ``same``, ten random pairs of different digits otherwise, drawn with a generator seeded by seed."""
import numpy as np

from autograder.grading.grading import check_array, fail, grades

def _pairs(sub, key):
    cases, result = sub.run(key)
    return [(case, out) for case, out in zip(cases, result.outputs)]


@grades("pick_pairs.shapes")
def test_shapes(sub):
    """is pick_pairs an integer tensor of shape (10, 2)?"""
    for case, out in _pairs(sub, "pick_pairs.shapes"):
        check_array(out["pairs"], (10, 2), f"pick_pairs(labels, same={case.params['same']}, seed)", floating=False)
        _check_integers(out["pairs"])


def _check_integers(pairs) -> None:
    """Fail unless ``pairs`` holds integer indices (a float tensor cannot index the labels)."""
    if pairs.dtype.kind not in "iu":
        fail(f"pick_pairs should return integer indices (int64), but has dtype {pairs.dtype}: a float tensor "
             "(e.g. one filled in torch.zeros(10, 2)) cannot index the labels; build it with dtype=torch.long")


@grades("pick_pairs.pairs")
def test_pairs(sub):
    """are the pairs indices into labels: two different images of digit d in row d when same, different digits
    otherwise, the same pairs again for the same seed?"""
    for case, out in _pairs(sub, "pick_pairs.pairs"):
        labels, pairs, same = case.arrays["labels"], out["pairs"], case.params["same"]
        check_array(pairs, (10, 2), "pick_pairs(...)", floating=False)
        _check_integers(pairs)
        if pairs.min() < 0 or pairs.max() >= len(labels):
            fail(f"pick_pairs returned indices up to {pairs.max()}, but labels has {len(labels)} entries: pick "
                 "indices into the labels it is given (the test set's), not into the training set")
        digits = labels[pairs]
        if same and not np.array_equal(digits, np.repeat(np.arange(10)[:, None], 2, 1)):
            fail(f"with same=True, row d should hold two images of digit d; yours show {digits.tolist()}")
        if same and np.any(pairs[:, 0] == pairs[:, 1]):
            where = (f" (on labels where every digit has exactly two images, seed {case.params['seed']}: draw the "
                     "two without replacement)" if case.name.startswith("twice") else "")
            fail("with same=True, each pair should hold two different images; some of yours pair an image with "
                 f"itself{where}")
        if not same and np.any(digits[:, 0] == digits[:, 1]):
            fail(f"with same=False, each pair should show two different digits; yours show {digits.tolist()}")
        if not np.array_equal(out["again"], pairs):
            fail("two calls with the same seed returned different pairs: draw them with a torch.Generator seeded "
                 "with seed")


@grades("pick_pairs.random")
def test_random(sub):
    """do different seeds give different pairs, drawn at random rather than the first images of each digit?"""
    cases, result = sub.run()
    found = {case.name: out["pairs"] for case, out in zip(cases, result.outputs)}
    for kind in ("same", "different"):
        first, second = found[f"{kind}_0"], found[f"{kind}_1"]
        if first.shape == second.shape and np.array_equal(first, second):
            fail(f"pick_pairs(labels, same={kind == 'same'}, seed) returned the same pairs for seeds 0 and 1: "
                 "draw them at random with a torch.Generator seeded with seed")
