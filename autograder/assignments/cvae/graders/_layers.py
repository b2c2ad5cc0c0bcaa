"""What the two layer graders share: the architecture of the notebook's table (seed 003's: each layer's type,
parameters and output shape for a batch of images), and the checks of a model's layers against it."""
import numpy as np

from autograder.assignments.cvae import cases
from autograder.grading.comparators import max_difference
from autograder.grading.grading import fail
from autograder.sandbox.vae_check import COND, CONV, check_layers  # noqa: F401 - the judges the checks share

#: Each layer's weight shape (PyTorch's layout: a transposed convolution's is (in, out, 3, 3)) in the ConvVAE; its
#: bias has the layer's output channels or features (the first dimension, the second for a transposed convolution).
WEIGHTS = {"conv1": (32, 1, 3, 3), "conv2": (64, 32, 3, 3), "fc": (14, 3136), "fc_mu": (2, 14), "fc_logvar": (2, 14),
           "fc_dec": (3136, 2), "deconv1": (64, 64, 3, 3), "deconv2": (64, 32, 3, 3), "deconv3": (32, 1, 3, 3)}
COND_WEIGHTS = {**WEIGHTS, "conv1": (32, 11, 3, 3), "fc_dec": (3136, 12)}


def check_values(sub, key: str, kind: str, class_name: str) -> None:
    """Fail unless the reference, run with the weights of the student's own ``__init__`` (in a child that runs no
    student code), gives what the student's layers give: stride, padding and output_padding included."""
    found = sub.case(kind, key=key)
    weights = {k: v for k, v in found.outputs.items() if k.startswith("w/")}
    check_weights(weights, kind, class_name, "initial", found.info.get("types", {}))
    if "forward_error" in found.info or "theta" not in found.outputs:
        fail(f"your {class_name}'s layers do not run as the notebook's forward pass: "
             f"{found.info.get('forward_error', 'no output')}")
    table = CONV if kind == "conv" else COND
    wrong = [n for n in table if int(found.outputs.get(f"params/{n}", [-1])[0]) != table[n][1]]
    if wrong:  # the reference cannot take these weights: the shapes test says what differs
        fail(f"your {class_name}'s layers {', '.join(wrong)} do not have the sizes of the notebook's table (see the "
             "layers' shapes test), so the forward pass cannot be compared with the reference's")
    expected = sub.trusted(f"evaluate_{kind}_layers", cases.layers_evaluation(kind, weights, found.case)).case(kind)
    expected = expected.outputs
    shapes_agree = all(tuple(found.outputs.get(f"shape/{n}", np.zeros(0, np.int64)).tolist())[1:] == table[n][2]
                       for n in table)
    for name in ("mu", "logvar", "theta"):
        got, want = found.outputs[name], expected[f"expected/{name}"]
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
            detail = max_difference(want, got) if got.shape == want.shape else f"shape {got.shape}, not {want.shape}"
            fail(f"with your {class_name}'s own initial weights, the notebook's forward pass through your layers "
                 f"gives another {name} than through the reference's layers ({detail}): a stride, padding, "
                 "padding_mode or output_padding differs from the notebook's table"
                 + (", though every layer's output shape agrees with it" if shapes_agree else
                    " (the layers' shapes test says which output shape differs)"))


def parameter_shapes(kind: str) -> dict:
    """``{"w/conv1.weight": shape, "w/conv1.bias": shape, ...}``: the notebook's parameters of the ConvVAE
    (``kind`` "conv") or the ConditionalVAE ("cond")."""
    shapes = {}
    for name, weight in (WEIGHTS if kind == "conv" else COND_WEIGHTS).items():
        shapes[f"w/{name}.weight"] = weight
        shapes[f"w/{name}.bias"] = (weight[1] if name.startswith("deconv") else weight[0],)
    return shapes


def check_weights(weights: dict, kind: str, class_name: str, which: str, types: dict | None = None) -> None:
    """Fail, naming the layer and what differs, unless ``weights`` (``"w/<layer>.<weight|bias>"`` arrays, the
    ``which`` weights: "initial", "trained") are the notebook's layers' (types ``types``, when given: layer -> type
    name), with the notebook's shapes and finite values: what the grader checks before a trusted child copies them
    into the reference."""
    table = CONV if kind == "conv" else COND
    for name, kind_name in ((n, t[0]) for n, t in table.items() if types):
        if types.get(name) not in (None, kind_name):
            fail(f"your {class_name}.{name} is nn.{types[name]}, where the notebook's table has nn.{kind_name}, so "
                 f"the reference cannot take its {which} weights: see the layers' shapes test")
    for key, shape in parameter_shapes(kind).items():
        layer, part = key[2:].split(".")
        if key not in weights:
            fail(f"your {class_name} has no layer {layer} with a weight" if part == "weight" else
                 f"your {class_name}.{layer} has no bias (built with bias=False?); the notebook's has one of shape "
                 f"{shape}, so the reference cannot take its {which} weights")
        got = tuple(weights[key].shape)
        if got != shape:
            flipped = " (the layout of the other kind of convolution: Conv2d and ConvTranspose2d order their " \
                      "channels the other way)" if len(shape) == 4 and got == (shape[1], shape[0], *shape[2:]) else ""
            fail(f"your {class_name}.{layer}.{part} has shape {got}, where the notebook's has {shape}{flipped}, so "
                 f"the reference cannot take its {which} weights: see the layers' shapes test")
        if not np.all(np.isfinite(weights[key])):
            fail(f"the {which} weights of your {class_name}.{layer}.{part} contain NaN or infinite values"
                 + (": a training step's gradient was not finite (look for log(0), exp of large numbers or a "
                    "division by zero in the loss)" if which == "trained" else ""))
