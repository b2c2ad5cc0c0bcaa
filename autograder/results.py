"""Grading results as dataclasses, with one mapping to Gradescope's results.json format.

Gradescope's format: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (``score``,
``execution_time``, ``output``, ``stdout_visibility``, ``tests[]`` with ``name``, ``score``,
``max_score``, ``status``, ``output``, ``visibility``). ``max_score`` at the top is this kit's addition.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TestResult:
    """One graded test. ``key`` is its entry in :data:`autograder.config.TESTS` ("group.check")."""

    __test__ = False  # not a pytest test class

    key: str
    name: str
    score: float
    max_score: float
    output: str = ""
    visibility: str = "visible"

    @property
    def status(self) -> str:
        return "passed" if self.score >= self.max_score else "failed"

    @property
    def group(self) -> str:
        return self.key.split(".")[0]

    def to_gradescope(self) -> dict:
        return {"name": self.name, "score": self.score, "max_score": self.max_score, "status": self.status,
                "output": self.output, "visibility": self.visibility}


@dataclass
class GradingResult:
    """All tests of one submission, plus a summary for the student (``output``)."""

    tests: list = field(default_factory=list)
    execution_time: float = 0.0
    output: str = ""

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)

    def by_group(self) -> dict:
        """Points lost and available per group, ``{group: (score, max_score)}``, in test order."""
        groups = {}
        for test in self.tests:
            score, most = groups.get(test.group, (0.0, 0.0))
            groups[test.group] = (score + test.score, most + test.max_score)
        return groups

    def to_gradescope(self) -> dict:
        return {"score": self.score, "max_score": self.max_score, "execution_time": round(self.execution_time, 2),
                "output": self.output, "stdout_visibility": "hidden",
                "tests": [t.to_gradescope() for t in self.tests]}

    @classmethod
    def crashed(cls, execution_time: float = 0.0) -> "GradingResult":
        """The result of a grader that failed itself: score 0 and a visible "Autograder failed" entry.

        The traceback goes to the staff's stdout, not into the result.
        """
        message = ("The autograder failed while grading your submission. This is not a verdict on your "
                   "work: the course staff have the details. Please contact them.")
        return cls([TestResult("autograder.failed", "Autograder failed", 0.0, 0.0, message)], execution_time, message)

    def write(self, path: str | Path) -> None:
        """Write results.json atomically (a partial file is never left behind)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-")
        with os.fdopen(handle, "w") as f:
            json.dump(self.to_gradescope(), f, indent=2)
        os.replace(tmp, path)
