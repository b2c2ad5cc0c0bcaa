"""Which functions of a submission its children ran, probe by probe: what the kit's own tests use to grade a
corpus case only where its code differs from the solution's in something that runs.

Inside :func:`tracing`, every child that runs student code is asked to list the functions of the submission that
ran in it (the child side: ``probing.run``, with ``sys.setprofile``), as ``(name, first line)`` pairs of the
submission's source; the runner hands each list to :func:`note` under the method the child was graded for.
Outside, no child is asked and nothing is kept. A student's grading never traces: only the kit's tests turn it on,
on the reference solution, whose lists say which code each method's tests execute.
"""
from __future__ import annotations

import contextlib

_SEEN: dict | None = None


@contextlib.contextmanager
def tracing():
    """Trace the enclosed gradings; yields ``{method: set of (function name, first line)}``, filled as the
    children end."""
    global _SEEN
    outer, _SEEN = _SEEN, {}
    try:
        yield _SEEN
    finally:
        _SEEN = outer


def active() -> bool:
    """Whether the children started now should list the functions they run."""
    return _SEEN is not None


def note(method: str, traced) -> None:
    """Add what one child of ``method`` listed (a JSON list of ``[name, line]``; anything else is ignored)."""
    if _SEEN is None or not isinstance(traced, list):
        return
    seen = _SEEN.setdefault(method, set())
    seen.update((name, line) for name, line in (t for t in traced if isinstance(t, list) and len(t) == 2)
                if isinstance(name, str) and isinstance(line, int))
