"""What a student reads when their code fails in a child: the error, where in their code, and a hint.

The hints that name an assignment's own notebook variables (``batch_size``, ``train_loader``) come from its spec
(``Assignment.notebook_variables``); the rest hold for any notebook graded by its classes alone.
"""
from __future__ import annotations

import re

from .. import config
from ..core.cases import ChildFailure

#: Hints per error type the student's code raised (``{classes}``: "your VAE class").
HINTS = {
    "NotImplementedError": "replace `# YOUR CODE HERE` and `raise NotImplementedError()` with your code",
    "NameError": "the grader runs only {classes}, with torch, nn, F, np and device defined as in "
                 "the notebook's first cell: do not rely on variables defined in other cells",
}
#: A method that moves tensors to the GPU by name fails on the grader, which has none.
CUDA_HINT = ("the grader runs on a machine without a GPU, so `.cuda()` and `.to('cuda')` fail here even "
             "though the same code runs on a Colab GPU. Use the notebook's `device` variable (`.to(device)`, "
             "which the grader sets to its own CPU), or the device of your inputs (`torch.randn_like(mu)`, "
             "`device=mu.device`)")
_UNDEFINED = re.compile(r"name '(\w+)' is not defined")
_CUDA = re.compile(r"CUDA|NVIDIA|cuda")


def _classes(assignment) -> str:
    """"your VAE class", "your ConvVAE and ConditionalVAE classes" (of ``assignment``; None: "your classes")."""
    if assignment is None:
        return "your classes"
    names = list(assignment.classes)
    return f"your {names[0]} class" if len(names) == 1 else f"your {', '.join(names[:-1])} and {names[-1]} classes"


def _hint(error: str, text: str, assignment=None) -> str:
    """The hint for an error the student's code raised: a known mistake first (a variable of the notebook's other
    cells, named by ``assignment.notebook_variables``; a GPU), then one per error type."""
    undefined = _UNDEFINED.search(text) if error == "NameError" else None
    classes = _classes(assignment)
    if undefined:
        name = undefined.group(1)
        variables = assignment.notebook_variables if assignment is not None else {}
        advice = variables.get(name, f"if `{name}` is a variable of another cell, pass what the method "
                                     "needs as an argument or compute it from its inputs; otherwise "
                                     "check its spelling")
        return (f"`{name}` is not defined where the grader runs your method: the grader runs only {classes} "
                f"(with torch, nn, F, np and device as in the notebook's first cell), not the notebook's other "
                f"cells, so each method must work on its own. {advice[0].upper() + advice[1:]}")
    if error in ("AssertionError", "RuntimeError") and _CUDA.search(text):
        return CUDA_HINT
    return HINTS.get(error, "").format(classes=classes)


def describe_student_error(report: dict, assignment=None) -> str:
    """Turn a child's error report into a message for the student (fields of any type are tolerated), with the
    hints of ``assignment`` (an :class:`autograder.core.assignment.Assignment`, or None for the generic ones)."""
    where, error, text = (str(report.get(k))[:2000] if report.get(k) else "" for k in ("where", "error", "message"))
    message = f"{where} raised {error}" + (f": {text}" if text else "") if error else f"{where}: {text}"
    frames = report.get("frames")
    frames = [str(f)[:500] for f in frames[-5:]] if isinstance(frames, list) else []
    if frames:
        message += "\n  in your code, " + "\n  called from ".join(str(f) for f in reversed(frames))
    hint = _hint(error, text, assignment)
    return message + (f"\n  Hint: {hint}." if hint else "")


#: How an allocation that failed reads: Python's MemoryError (numpy's subclass), torch's allocator.
MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError", "OutOfMemoryError")
_TRIED = re.compile(r"tried to allocate (\d+) bytes|Unable to allocate ([\d.]+ \w?i?B)")


def student_failure(report: dict, staff: str = "", limits: config.Limits = config.LIMITS,
                    assignment=None) -> ChildFailure:
    """The ChildFailure for a child's error report: "memory" when an allocation failed, else "error"; its message
    from :func:`describe_student_error` with the hints of ``assignment``."""
    message = describe_student_error(report, assignment)
    text = str(report.get("message") or "")
    if str(report.get("error")) not in MEMORY_ERRORS and "can't allocate memory" not in text:
        return ChildFailure(message, staff)
    tried = _TRIED.search(text)
    amount = "" if tried is None else (f" (it tried to allocate {int(tried[1]) / 2**20:.0f} MB at once)" if tried[1]
                                       else f" (it tried to allocate {tried[2]} at once)")
    where = str(report.get("where") or "your code")[:200]
    return ChildFailure(f"{where} ran out of memory{amount}: each test may use about {limits.memory_mb} MB "
                        f"beyond what torch itself takes.\n  {message}", staff, kind="memory")


