"""The data a probe runs on and returns: :class:`Case` (built by each assignment's ``cases.py``), its results
(:class:`CaseResult`, :class:`ProbeResult`), and :class:`ChildFailure`, why a child gave nothing usable.

Plain data, no processes: an assignment's cases import this module, never the runner that starts children.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Case:
    """One call of a probe: the model built with ``dims`` (its constructor's sizes), the grader's weights and
    inputs (``arrays``) and JSON ``params``.

    ``name`` is how graders pick the case (:meth:`ProbeResult.case`); ``sizes`` names the sizes that declared
    output shapes use (``{"batch": 5, "latent": 32}``, see :class:`autograder.core.assignment.Output`).
    """

    dims: tuple
    arrays: dict
    params: dict = field(default_factory=dict)
    name: str = ""
    sizes: dict = field(default_factory=dict)

    def shape_of(self, output) -> tuple:
        """The shape declared for ``output`` (an :class:`autograder.core.assignment.Output`), sizes resolved."""
        return tuple(self.sizes[n] if isinstance(n, str) else n for n in output.shape)


@dataclass
class CaseResult:
    """What one case of a probe returned: its case, arrays (``outputs``) and JSON ``info``."""

    case: Case
    outputs: dict
    info: dict


@dataclass
class ProbeResult:
    """Per case, the arrays a probe returned and its JSON info (lists in the order of ``cases``); what the child's
    student code read from torch.distributions while its methods ran (``reads``: ``(read, ["Class.method", ...
    outermost])``, from the child's record, see :func:`parse_record`) and, when its record shows that it changed
    the grader's watchers or record, what (``tampered``, "" otherwise)."""

    outputs: list
    info: list
    cases: list = field(default_factory=list)
    reads: list = field(default_factory=list)
    tampered: str = ""

    def case(self, name: str) -> CaseResult:
        """The result of the case named ``name`` (KeyError, naming the cases there are, when none is)."""
        for index, case in enumerate(self.cases):
            if case.name == name:
                return CaseResult(case, self.outputs[index], self.info[index])
        raise KeyError(f"no case {name!r}; the cases are {[c.name for c in self.cases]}")


class ChildFailure(Exception):
    """Student code raised, timed out, crashed or returned nothing usable.

    ``str(exc)`` is the message for the student; ``staff`` holds the child's output for the staff; ``kind``
    is one of :data:`FAILURE_KINDS`.
    """

    def __init__(self, message, staff="", kind="error"):
        super().__init__(message)
        self.staff, self.kind = staff, kind


#: What stopped a child: student code raised or returned something unusable ("error"), ran past its
#: test's timeout ("timeout"), ran out of memory ("memory"), died or exited early ("died"), printed too
#: much ("output"), or was stopped because grading as a whole ran out of time ("deadline").
FAILURE_KINDS = ("error", "timeout", "memory", "died", "output", "deadline")
#: Kinds that mean the method stops whatever runs it (so the training run is not attempted after them).
STOPPING_KINDS = frozenset({"timeout", "memory", "died", "output"})


def mnist_test_images(root, index):
    """MNIST test images and their labels, read with numpy alone (``vae_utils.load_mnist_arrays``).

    Parameters
    ----------
    root : path of the folder holding ``MNIST/raw/`` (see :func:`autograder.config.mnist_root`).
    index : sequence of int
        Which test images, in that order.

    Returns
    -------
    x : ndarray of shape (len(index), 28, 28), float32, multiples of 1/255 in [0, 1]
    labels : ndarray of shape (len(index),), int64, digits 0-9

    Raises FileNotFoundError when the files are not there.
    """
    import numpy as np
    import vae_utils  # numpy only at import; the kit root is on sys.path when grading

    images, labels = vae_utils.load_mnist_arrays(train=False, root=root, download=False)
    index = np.asarray(index, dtype=np.int64)
    return (images[index] / np.float32(255)).astype(np.float32), labels[index].astype(np.int64)

