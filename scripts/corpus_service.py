"""Grade corpus cases one after another in one process, all from one fork server (one torch import).

``python -m autograder grade`` starts a fresh interpreter and a fresh fork server for every submission: about 3 s
before the first test runs, which is most of a method-only grading. The corpus is the kit's own code, so its
cases may share a server (:func:`autograder.processes.forking.shared_fork_server`); a student's submission never does.

Each case is still graded by ``python -m autograder grade``'s own code (:func:`autograder.__main__.cmd_grade`)
into its own results.json. Protocol: one JSON request per line on stdin (``path``, ``assignment``, ``groups``,
``seed``, ``results``, ``trace``), one JSON reply per line on stdout (``{"status": CODE}``, and ``"traced"``:
``{group: [[function name, first line], ...]}`` when the request asked for a trace, see
:mod:`autograder.processes.tracing`); the graders' own printing goes to stderr.

Usage: :class:`CorpusGrader` (``scripts/grade_corpus.py`` and ``tests/test_corpus.py`` use it).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class CorpusGrader:
    """A grading process that serves :meth:`grade` calls until :meth:`close` (or the end of a ``with``).

    Raises RuntimeError from :meth:`grade` when the process died (the next call starts a new one).
    """

    def __init__(self):
        self.process = None

    def _start(self) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen([sys.executable, __file__], cwd=ROOT, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                            env={**os.environ})
        return self.process

    def grade(self, path: Path, assignment: str, groups: str, results: Path, seed: int = 0) -> int:
        """Grade ``path`` as ``assignment`` on ``groups`` (comma-separated) into ``results``; the exit status
        ``python -m autograder grade`` would give."""
        return self._ask(path, assignment, groups, results, seed)["status"]

    def trace(self, path: Path, assignment: str, groups: str, results: Path) -> dict:
        """Grade ``path`` as :meth:`grade` does, its children listing the functions of the submission they run
        (:mod:`autograder.processes.tracing`); returns ``{group: [[function name, first line], ...]}``."""
        return self._ask(path, assignment, groups, results, 0, trace=True)["traced"]

    def _ask(self, path: Path, assignment: str, groups: str, results: Path, seed: int, trace: bool = False) -> dict:
        process = self._start()
        request = {"path": str(path), "assignment": assignment, "groups": groups, "seed": seed,
                   "results": str(results), "trace": trace}
        try:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            reply = process.stdout.readline()
        except (BrokenPipeError, OSError):
            reply = ""
        if not reply:
            self.close()
            raise RuntimeError(f"the corpus grading process died while grading {path}")
        return json.loads(reply)

    def close(self) -> None:
        """Stop the process (it ends when its stdin closes)."""
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            self.process.wait()
            self.process = None

    def __enter__(self) -> "CorpusGrader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def serve(requests, replies) -> None:
    """Grade each request line of ``requests`` with ``cmd_grade``, all under one shared fork server, and write
    one reply line to ``replies`` for each."""
    sys.path.insert(0, str(ROOT))
    from autograder.processes import forking
    from autograder.__main__ import cmd_grade
    from autograder.processes import tracing

    with forking.shared_fork_server():
        for line in requests:
            request = json.loads(line)
            args = argparse.Namespace(path=request["path"], assignment=request["assignment"],
                                      groups=request["groups"], seed=request["seed"], results=request["results"],
                                      verbose=False, deadline=None)
            with tracing.tracing() if request.get("trace") else contextlib.nullcontext() as traced:
                status = cmd_grade(args)
            reply = {"status": status}
            if request.get("trace"):
                reply["traced"] = {group: sorted(seen) for group, seen in traced.items()}
            replies.write(json.dumps(reply) + "\n")
            replies.flush()


if __name__ == "__main__":
    answers = os.fdopen(os.dup(1), "w")  # the replies' own descriptor: nothing a grading prints can reach it
    os.dup2(2, 1)
    serve(sys.stdin, answers)
