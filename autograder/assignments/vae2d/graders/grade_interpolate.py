"""Task 7, interpolate(x_a, x_b, steps): x_a, the decoder at (1 - t) mu(x_a) + t mu(x_b) for t = k / (steps + 1),
k = 1..steps, then x_b (seed 002's row); the reference's values."""
import numpy as np

from autograder.grading.grading import check_array, compare, fail, grades

POINTS = "t = k / (steps + 1) for k = 1, ..., steps"


def _row(sub, key):
    cases, result = sub.run(key)
    return [(case, out, case.params["steps"]) for case, out in zip(cases, result.outputs)]


@grades("interpolate.shapes")
def test_shapes(sub):
    """is the row a float tensor of shape (steps + 2, obs_dim)?"""
    for case, out, steps in _row(sub, "interpolate.shapes"):
        if out["row"].shape == (steps, case.dims[0]):
            fail(f"interpolate(x_a, x_b, steps={steps}) should have shape ({steps + 2}, {case.dims[0]}): x_a, the "
                 f"{steps} interpolated images, then x_b; yours has only the {steps} interpolated images")
        check_array(out["row"], (steps + 2, case.dims[0]), f"interpolate(x_a, x_b, steps={steps})")


@grades("interpolate.endpoints")
def test_endpoints(sub):
    """are the row's first and last images x_a and x_b themselves?"""
    for case, out, steps in _row(sub, "interpolate.endpoints"):
        row = out["row"]
        check_array(row, (steps + 2, case.dims[0]), f"interpolate(x_a, x_b, steps={steps})")
        for index, name in ((0, "x_a"), (-1, "x_b")):
            if not np.allclose(row[index], case.arrays[name], atol=1e-5):
                hint = ""
                if np.allclose(row[index], out["expected/ends"][index], atol=1e-4):
                    hint = f" Yours is the decoder's image of mu({name}): put {name} itself there."
                fail(f"image {index % (steps + 2)} of the row should be {name} itself.{hint}")


@grades("interpolate.values")
def test_values(sub):
    """are the images between decoded at evenly spaced points on the line between the encoder means?"""
    for case, out, steps in _row(sub, "interpolate.values"):
        row, expected = out["row"], out["expected/row"]
        check_array(row, expected.shape, f"interpolate(x_a, x_b, steps={steps})")
        x_a, x_b = case.arrays["x_a"].astype(np.float64), case.arrays["x_b"].astype(np.float64)
        t = np.arange(1, steps + 1)[:, None] / (steps + 1)
        compare(row[1:-1], expected[1:-1], f"the middle of the row (its {steps} interpolated images)", [
            ("Your images mix the pixels of x_a and x_b: interpolate between the codes mu(x_a) and mu(x_b), "
             "then decode.", (1 - t) * x_a + t * x_b),
            (f"Your points include the endpoints' codes (t = 0 and t = 1), so x_a and x_b appear twice: use {POINTS}.",
             out["expected/linspace"]),
            (f"Your images run from x_b to x_a: image k is decoded at (1 - t) mu(x_a) + t mu(x_b) with {POINTS}, "
             "so the one next to x_a is closest to it.", expected[1:-1][::-1]),
        ])
