"""The toy assignment's probes (child side): build ``Toy`` with the grader's weights, call one method, return
arrays. Nothing here decides a score."""
import torch
from probing import StudentError, call, method, tensor, to_array


def build(toy_class, case, arrays):
    """``Toy(dim)`` with the grader's weights copied into its layer ``linear``."""
    toy = call("Toy.__init__", toy_class, *case["dims"])
    layer = getattr(toy, "linear", None)
    if not isinstance(layer, torch.nn.Linear):
        raise StudentError("Toy.__init__", f"Toy should have a layer linear = nn.Linear; got {layer!r}")
    with torch.no_grad():
        layer.weight.copy_(tensor(arrays["w/linear.weight"]))
        layer.bias.copy_(tensor(arrays["w/linear.bias"]))
    return toy


def probe_affine(toy_class, case, arrays):
    toy = build(toy_class, case, arrays)
    return {"y": to_array(call("affine", method(toy, "affine"), tensor(arrays["x"])), "affine", "y")}, {}


def probe_draw(toy_class, case, arrays):
    toy = build(toy_class, case, arrays)
    mu, logsigma = tensor(arrays["mu"]), tensor(arrays["logsigma"])
    return {f"z{k}": to_array(call("draw", method(toy, "draw"), mu, logsigma), "draw", "z") for k in range(2)}, {}
