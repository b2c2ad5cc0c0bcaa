"""Grading results as dataclasses, with one mapping to Gradescope's results.json format.

Gradescope's format: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (``score``,
``execution_time``, ``output``, ``stdout_visibility``, ``tests[]`` with ``name``, ``score``,
``max_score``, ``status``, ``output``, ``visibility``, ``tags``; ``leaderboard[]`` with ``name``, ``value``, ``order``).
``max_score`` at the top is this kit's addition. ``gradescope/results.schema.json`` is that format as a
JSON Schema; the kit's tests validate every results.json they make against it.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .assignment import key_group


@dataclass
class TestResult:
    """One graded test. ``key`` is its entry in its assignment's ``tests`` ("group.check")."""

    __test__ = False  # not a pytest test class

    key: str
    name: str
    score: float
    max_score: float
    output: str = ""
    visibility: str = "visible"
    #: True/False to set the status; None (default): passed when ``score`` reaches ``max_score``.
    passed: bool | None = None

    @property
    def status(self) -> str:
        """Gradescope's test status, "passed" or "failed"."""
        if self.passed is not None:
            return "passed" if self.passed else "failed"
        return "passed" if self.score >= self.max_score else "failed"

    @property
    def group(self) -> str:
        """The group (a method, or "training", "figures", ...) this test belongs to."""
        return key_group(self.key)

    def to_gradescope(self) -> dict:
        """This test as an entry of results.json's ``tests``; ``tags`` holds its key ("group.check")."""
        return {"name": self.name, "score": self.score, "max_score": self.max_score, "status": self.status,
                "output": self.output, "visibility": self.visibility, "tags": [self.key]}

    @classmethod
    def from_gradescope(cls, data: dict) -> "TestResult":
        """The test of a results.json ``tests`` entry (its key from ``tags``; a test without tags gets the
        group before the ":" of its name and the check "unknown").

        Raises KeyError or TypeError when the entry lacks ``name``, ``score`` or ``max_score``.
        """
        tags = data.get("tags") or [f"{str(data['name']).split(':')[0]}.unknown"]
        test = cls(tags[0], data["name"], float(data["score"]), float(data["max_score"]), data.get("output", ""),
                   data.get("visibility", "visible"))
        if "status" in data and data["status"] != test.status:
            test.passed = data["status"] == "passed"
        return test


@dataclass
class GradingResult:
    """All tests of one submission, plus a summary for the student (``output``).

    ``leaderboard`` holds Gradescope leaderboard entries, ``{"name", "value", "order"}`` (see an assignment's
    ``leaderboard``); it is left out of results.json when empty. ``assignment`` names the assignment graded
    (results.json's ``extra_data``, which Gradescope keeps for the staff); "" when unknown.
    """

    tests: list = field(default_factory=list)
    execution_time: float = 0.0
    output: str = ""
    leaderboard: list = field(default_factory=list)
    assignment: str = ""
    #: The written answers, ``{grade_id: text}``, for grading by hand (results.json's ``extra_data``).
    answers: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        """Points scored, over all tests."""
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        """Points available, over all tests."""
        return sum(t.max_score for t in self.tests)

    def by_group(self) -> dict:
        """Points lost and available per group, ``{group: (score, max_score)}``, in test order."""
        groups = {}
        for test in self.tests:
            score, most = groups.get(test.group, (0.0, 0.0))
            groups[test.group] = (score + test.score, most + test.max_score)
        return groups

    def to_gradescope(self) -> dict:
        """results.json as Gradescope reads it. stdout is always hidden: it carries the staff's detail."""
        data = {"score": self.score, "max_score": self.max_score, "execution_time": round(self.execution_time, 2),
                "output": self.output, "stdout_visibility": "hidden",
                "tests": [t.to_gradescope() for t in self.tests]}
        if self.leaderboard:
            data["leaderboard"] = [dict(entry) for entry in self.leaderboard]
        if self.assignment or self.answers:
            data["extra_data"] = {"assignment": self.assignment, **({"answers": dict(self.answers)} if self.answers
                                                                    else {})}
        return data

    @classmethod
    def read(cls, path: str | Path) -> "GradingResult":
        """The results.json at ``path`` as a GradingResult (what :meth:`write` wrote, leaderboard included).

        Raises OSError, ValueError (not JSON) or KeyError/TypeError (not a results.json).
        """
        data = json.loads(Path(path).read_text())
        extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
        answers = extra.get("answers") if isinstance(extra.get("answers"), dict) else {}
        return cls([TestResult.from_gradescope(t) for t in data.get("tests", [])], data.get("execution_time", 0.0),
                   data.get("output", ""), list(data.get("leaderboard", [])), str(extra.get("assignment", "")),
                   {str(k): str(v) for k, v in answers.items()})

    @classmethod
    def crashed(cls, execution_time: float = 0.0, why: str = "") -> "GradingResult":
        """The result of a grader that failed itself: score 0 and a visible "Autograder failed" entry.

        The traceback goes to the staff's stdout, not into the result; ``why`` ("it ran out of time")
        is added to the message when given.
        """
        message = (f"The autograder failed while grading your submission{': ' + why if why else ''}. This is "
                   "not a verdict on your work: the course staff have the details. Please contact them.")
        failed = TestResult("autograder.failed", "Autograder failed", 0.0, 0.0, message, "visible", passed=False)
        return cls([failed], execution_time, message)

    def write(self, path: str | Path) -> None:
        """Write results.json atomically (a partial file is never left behind)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-")
        with os.fdopen(handle, "w") as f:
            json.dump(self.to_gradescope(), f, indent=2)
        os.replace(tmp, path)
