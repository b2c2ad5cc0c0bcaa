"""affine: y = x W^T + b, the layer ``linear`` applied to a batch."""
from autograder.grading.grading import compare, grades


@grades("affine.values")
def test_values(sub):
    """does affine return x W^T + b, the layer applied to every row?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        weight, bias, x = (case.arrays[k].astype("float64") for k in ("w/linear.weight", "w/linear.bias", "x"))
        mistakes = [("Your affine map forgets the bias b.", x @ weight.T),
                    ("Your affine map multiplies by W, not by its transpose.", x @ weight + bias)]
        compare(out["y"], x @ weight.T + bias, "affine(x)", mistakes)
