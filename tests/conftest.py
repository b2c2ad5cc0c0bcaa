"""Shared fixtures of the kit's tests.

MNIST comes from ``$MNIST_ROOT`` (CI: ``../shared/data``); nothing here touches the network.
"""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import config, harness  # noqa: E402
from autograder.submission import load_submission  # noqa: E402

SOLUTION = ROOT / "solution" / "vae.ipynb"
TEMPLATE = ROOT / "student_template" / "vae.ipynb"
METHOD_GROUPS = config.METHODS


def pytest_configure(config):
    root = Path(os.environ.get("MNIST_ROOT", ROOT / "data"))
    if not (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").exists():
        raise pytest.UsageError(f"MNIST not found under {root}/MNIST/raw: set MNIST_ROOT (CI: ../shared/data)")


@pytest.fixture(scope="session")
def reference_source() -> str:
    """The solution's VAE cell, as a .py submission would hold it."""
    return load_submission(SOLUTION).source


def mutate(source: str, old: str, new: str) -> str:
    """``source`` with the one occurrence of ``old`` replaced by ``new`` (fails loudly if absent)."""
    assert source.count(old) == 1, f"expected exactly one {old!r} in the reference source"
    return source.replace(old, new)


def grade_text(tmp_path: Path, source: str, groups=METHOD_GROUPS, name: str = "submission.py", seed: int = 0):
    """Grade ``source`` written to ``tmp_path/name``; returns {key: TestResult} and the GradingResult."""
    path = tmp_path / name
    path.write_text(source)
    result = harness.grade(path, seed=seed, groups=groups)
    return {t.key: t for t in result.tests}, result


def lost_groups(tests: dict) -> set:
    """The groups in which a graded submission lost points."""
    return {t.group for t in tests.values() if t.score < t.max_score}
