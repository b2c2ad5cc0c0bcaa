"""What Part 3's notebook checks need beyond the reference's outputs (which its trusted children give,
``expected/...``, for the graders and, as data, for the checks): the cases redrawn for the checks, and the tests
only the grader runs.

Part 3's probes draw the reference's weights from a torch seed and spread its heads over the case's inputs
(``cases.SPREAD``, computed by ``tools/spread_cases.py``); a check's cases are other draws, so ``check_case``
recomputes their spread with the same tool, and gives the digests of the reference's weights at their seed (a
check draws them with the student's own ``__init__`` and compares: :func:`autograder.sandbox.vae_check.cvae_own_model`).
Both run at ``make student`` only (they import torch and the reference), never while grading.
"""
from __future__ import annotations

#: No test compares with an expectation computed here: the reference's outputs come from its trusted children.
EXPECT: dict = {}

#: The tests a check cannot run, with what the grader does instead (a check runs no forward pass of the reference).
GRADER_ONLY = {
    "conv_layers.values": "checked by the grader only: it runs its own encoder and decoder through your layers, with "
                          "your initial weights, and compares with its own layers",
    "cond_layers.values": "checked by the grader only: it runs its own encoder and decoder through your layers, with "
                          "your initial weights, and compares with its own layers",
}


def check_case(probe: str, case):
    """``case`` (a check's redrawn case of ``probe``) with what a check needs in its params: the method it calls
    (encoder, decoder, loss), the spread of its heads recomputed on its inputs, and the digests of the reference's
    layers drawn from its seed."""
    import torch

    from autograder.sandbox import vae_check

    from . import reference
    from .tools import spread_cases

    kind, _, method = probe.partition("_")
    if method in ("encoder", "decoder", "loss"):
        case.params["method"] = method
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the spread's sums, in the same order on every machine: the data is the same
    try:
        if "spread" in case.params:
            case.params["spread"] = spread_cases.spread_of(case, probe.endswith("loss") is False)
        torch.manual_seed(case.params["seed"])
        model = getattr(reference, case.params["class_name"])(2)
        case.params["digests"] = {name: vae_check._digest(getattr(model, name)) for name in vae_check.CONV_LAYERS}
    finally:
        torch.set_num_threads(threads)
    return case
