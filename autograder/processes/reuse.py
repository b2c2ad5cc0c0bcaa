"""What a trusted child returned (a probe that runs no student code), kept for later gradings in the same process.

A trusted child's outputs depend only on what it was asked: its assignment's probe and reference, the cases (their
arrays included), the seed and the limits. When the kit grades its own corpus case after case in one process
(:func:`autograder.processes.forking.shared_fork_server`), most of those children are asked the same thing for every
case: the expected values of the reference at the grader's fixed inputs. Inside :func:`reusing`, the runner asks
:func:`get` before it starts one and :func:`put` after; outside (a student's grading), nothing is kept.

A child that ran student code is never kept, and a request whose cases hold anything that came from a student
(their sampled codes, their weights) has its own key: the key is a digest of everything the child is given.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from pathlib import Path

import numpy as np

from ..core.cases import ProbeResult

#: At most this many results are kept (the oldest go first); a corpus grading asks for a few dozen.
CAPACITY = 256
_KEPT: dict | None = None


@contextlib.contextmanager
def reusing(kept: dict | None = None):
    """Keep the trusted children's results of the enclosed gradings, for each other: in ``kept`` (a dict this
    module fills, to carry them from one ``with`` block to the next), else in a dict forgotten on exit."""
    global _KEPT
    outer, _KEPT = _KEPT, (kept if kept is not None else {} if _KEPT is None else _KEPT)
    try:
        yield
    finally:
        _KEPT = outer


def key(assignment, probe: str, cases: list, seed: int, limits, second_round) -> str:
    """A digest of everything a trusted child of ``probe`` is given: the assignment's probes and reference files,
    the cases (names, dims, params, every array's dtype, shape and bytes), the seed, the limits and the round."""
    digest = hashlib.sha256()
    files = [assignment.folder / name for name in ("probes.py", "reference.py")]
    head = [assignment.name, str(assignment.folder), probe, seed, repr(limits), second_round,
            [(str(f), f.stat().st_mtime_ns) for f in files if Path(f).exists()]]
    digest.update(json.dumps(head, default=str).encode())
    for case in cases:
        digest.update(json.dumps([case.name, list(case.dims), case.params, case.sizes], default=str,
                                 sort_keys=True).encode())
        for name in sorted(case.arrays):
            array = np.ascontiguousarray(case.arrays[name])
            digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
            digest.update(array.tobytes())
    return digest.hexdigest()


def get(digest: str, cases: list) -> ProbeResult | None:
    """A copy of the result kept under ``digest`` (for ``cases``), or None (none kept, or not inside
    :func:`reusing`)."""
    if _KEPT is None or digest not in _KEPT:
        return None
    outputs, info = _KEPT[digest]
    return ProbeResult([{k: v.copy() for k, v in o.items()} for o in outputs], copy.deepcopy(info), list(cases))


def put(digest: str, result: ProbeResult) -> None:
    """Keep a copy of ``result`` under ``digest`` when inside :func:`reusing` (else nothing)."""
    if _KEPT is None:
        return
    while len(_KEPT) >= CAPACITY:
        _KEPT.pop(next(iter(_KEPT)))
    _KEPT[digest] = ([{k: v.copy() for k, v in o.items()} for o in result.outputs], copy.deepcopy(result.info))


def active() -> bool:
    """Whether results are being kept (inside :func:`reusing`)."""
    return _KEPT is not None
