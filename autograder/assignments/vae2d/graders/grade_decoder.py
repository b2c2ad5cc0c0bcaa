"""Task 3, decoder: theta = sigmoid(linear4(ReLU(linear3(z)))); the reference's values."""
from autograder.assignments.vae2d import checks
from autograder.grading.grading import check_array, compare, fail, grades


@grades("decoder.shapes")
def test_shapes(sub):
    """is theta a float tensor of shape (batch, obs_dim) with values in (0, 1)?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        check_array(out["theta"], out["expected/theta"].shape, f"theta for VAE2D{case.dims}")
        if out["theta"].min() < 0 or out["theta"].max() > 1:
            fail(f"theta holds pixel probabilities, so its values lie in (0, 1); yours range over "
                 f"[{out['theta'].min():.3g}, {out['theta'].max():.3g}]: end the decoder with a sigmoid")


@grades("decoder.values")
def test_values(sub):
    """does theta equal sigmoid(linear4(ReLU(linear3(z))))?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        w, z = case.arrays, case.arrays["z"]
        logits = checks.decode_logits(w, z)
        compare(out["theta"], out["expected/theta"], f"theta for VAE2D{case.dims}", [
            ("Your decoder returns the logits: end it with a sigmoid, theta = sigmoid(linear4(...)).", logits),
            ("Your decoder applies a softmax over the pixels: each pixel is its own Bernoulli variable (seed 001: "
             "784 independent sigmoid units, not a softmax), so end it with an element-wise sigmoid.",
             checks.softmax(logits, -1)),
        ] + [(f"Your decoder {clause}.", checks.sigmoid(checks.linear(w, "linear4", h)))
             for clause, h in checks.hidden_mistakes(w, "linear3", z)])
