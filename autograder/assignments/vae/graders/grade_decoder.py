"""Task 3, decoder: theta = sigmoid(linear4(ReLU(linear3(z))))."""
import numpy as np

from autograder.assignments.vae import oracle
from autograder.grading.grading import check_array, compare, fail, grades


def _softmax(a, axis):
    e = np.exp(a - a.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)



@grades("decoder.shapes")
def test_shapes(sub):
    """is theta a float tensor of shape (batch, obs_dim) with values in (0, 1)?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        theta = out["theta"]
        check_array(theta, (len(case.arrays["z"]), case.dims[0]), f"theta for z of shape {case.arrays['z'].shape}")
        if theta.min() < 0 or theta.max() > 1:
            fail(f"theta should be Bernoulli means in (0, 1), but ranges over [{theta.min():.3g}, {theta.max():.3g}]: "
                 "apply a sigmoid to the output of linear4")


@grades("decoder.values")
def test_values(sub):
    """is theta = sigmoid(linear4(ReLU(linear3(z)))) for your weights?"""
    cases, result = sub.run()
    for case, out in zip(cases, result.outputs):
        w, z = case.arrays, case.arrays["z"]
        logits = oracle.decoder_logits(w, z)
        hidden = z @ w["w/linear3.weight"].T.astype(np.float64) + w["w/linear3.bias"]
        head = lambda h: h @ w["w/linear4.weight"].T.astype(np.float64) + w["w/linear4.bias"]  # noqa: E731
        mistakes = [("Your decoder returns the logits linear4(...): apply torch.sigmoid to get theta in (0, 1).", logits),
                    ("Your decoder applies a softmax over the pixels; each pixel is its own Bernoulli variable, "
                     "so use an element-wise sigmoid.", _softmax(logits, -1)),
                    ("Your decoder applies a softmax over the batch; each pixel of each data point is its own "
                     "Bernoulli variable, so use an element-wise sigmoid.", _softmax(logits, 0)),
                    ("Your decoder clamps the logits to [0, 1]; theta = sigmoid(logits) maps them smoothly into "
                     "(0, 1) and keeps gradients everywhere.", np.clip(logits, 0, 1)),
                    ("Your decoder skips the ReLU after linear3.", oracle.sigmoid(head(hidden))),
                    ("Your decoder uses a sigmoid after linear3 where the notebook has a ReLU; the sigmoid belongs "
                     "only at the output.", oracle.sigmoid(head(oracle.sigmoid(hidden))))]
        compare(out["theta"], oracle.sigmoid(logits), f"theta for VAE{case.dims}", mistakes)
