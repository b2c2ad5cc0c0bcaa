"""Compute Part 3's head spreads: per probe case, the scales and biases that make the reference's mu, logvar and
pre-sigmoid span both signs on the case's inputs (see ``autograder/assignments/cvae/cases.py``'s ``SPREAD``).

The probes apply these numbers without a forward pass (a student's child holds no formula of a graded method), so
they are computed here, once, with the reference: ``python autograder/assignments/cvae/tools/spread_cases.py``
prints the dict to paste into cases.py; ``tests/test_grading_cvae.py`` checks that the pasted numbers still do
what they should.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[4]  # the kit: autograder/assignments/cvae/tools/ is 4 levels down
sys.path.insert(0, str(ROOT))

from autograder.assignments.cvae import cases as C  # noqa: E402
from autograder.assignments.cvae import reference  # noqa: E402

#: Standard deviations the spread gives mu, logvar and the pre-sigmoid over the case's inputs.
TARGET = {"fc_mu": 1.0, "fc_logvar": 1.0, "deconv3": 1.5}


def inputs(case):
    """The inputs the spread is computed on: the case's x, c and z, or fixed ones when it has no x."""
    a = case.arrays
    if "x" in a:
        return torch.as_tensor(a["x"]), torch.as_tensor(a["c"]), torch.as_tensor(a["z"])
    generator = torch.Generator().manual_seed(3)
    x, z = torch.rand(8, 1, 28, 28, generator=generator), torch.randn(8, 2, generator=generator)
    return x, torch.arange(8) % 10, z


def activations(case):
    """The reference model of ``case`` (its seed) and, on its inputs, the heads' outputs without their biases
    (batch, 2) each and the pre-sigmoid without deconv3's bias (batch, 1, 28, 28)."""
    torch.manual_seed(case.params["seed"])
    model = getattr(reference, case.params["class_name"])(2)
    x, c, z = inputs(case)
    args = (c,) if case.params["class_name"] == "ConditionalVAE" else ()
    seen = {}
    model.fc_mu.register_forward_pre_hook(lambda m, a: seen.setdefault("hidden", a[0]))
    model.deconv3.register_forward_hook(lambda m, a, out: seen.setdefault("logits", out))
    with torch.no_grad():
        model.encoder(x, *args)
        model.decoder(z, *args)
        heads = {n: seen["hidden"] @ getattr(model, n).weight.T for n in ("fc_mu", "fc_logvar")}
        return model, heads, seen["logits"] - model.deconv3.bias.view(1, -1, 1, 1)


def spread_of(case, scale_output: bool = True) -> dict:
    """``{layer: [scales, biases]}`` for fc_mu, fc_logvar (one per column) and deconv3 (one each): each output
    scaled to :data:`TARGET`'s std (the pre-sigmoid only with ``scale_output``) and centred on its median (between
    the two middle values of an even batch). The loss's cases keep the pre-sigmoid's scale: a loss decodes z drawn
    from q, where a scaled pre-sigmoid saturates theta and a correct loss's clamped logs differ from torch's."""
    _, heads, logits = activations(case)
    found = {}
    for name, out in heads.items():
        scale = TARGET[name] / out.std(0).clamp_min(1e-6)
        found[name] = [[round(float(v), 6) for v in scale], [round(float(v), 6) for v in
                                                             -torch.quantile(out * scale, 0.5, dim=0)]]
    scale = TARGET["deconv3"] / logits.std().clamp_min(1e-6) if scale_output else torch.tensor(1.0)
    found["deconv3"] = [[round(float(scale), 6)], [round(float(-torch.quantile((logits * scale).flatten(), 0.5)), 6)]]
    return found


def main() -> None:
    from autograder.config import mnist_root

    print("SPREAD = {")
    for key, case in C.spread_cases(mnist_root()):
        print(f"    {key!r}: {spread_of(case, not key.startswith('loss/'))!r},")
    print("}")


if __name__ == "__main__":
    main()
