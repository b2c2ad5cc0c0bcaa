"""An assignment is one folder: a toy assignment kept outside the kit (tests/toy_assignment/toy/, copied to a
temporary folder and named by $VAE_KIT_ASSIGNMENTS) goes through every tool of the kit with no file of the kit
changed: its template, grading one and many submissions, the Gradescope zip, the corpus and the false-failure run.
The README's "Writing an assignment" walks through the same folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

TOY = ROOT / "tests" / "toy_assignment" / "toy"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """``(folder of assignments, environment)``: a copy of the toy assignment, and the environment that names it."""
    folder = tmp_path_factory.mktemp("course") / "assignments"
    shutil.copytree(TOY, folder / "toy", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "VAE_KIT_ASSIGNMENTS": str(folder)}
    return folder, env


def kit(env, *args, cwd=ROOT, timeout=600) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` from the kit's folder with ``env``; fails the test with its output when it fails."""
    run = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"{args} exited {run.returncode}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def test_the_toy_folder_is_all_the_kit_needs():
    """Does no file of the kit name the toy assignment (besides this test and the README that walks through it)?"""
    mentions = [path for path in (ROOT / "autograder").rglob("*.py") if "toy" in path.read_text().lower()]
    mentions += [path for path in (ROOT / "scripts").rglob("*.py") if "toy" in path.read_text().lower()]
    mentions += [ROOT / name for name in ("Makefile", ".importlinter") if "toy" in (ROOT / name).read_text().lower()]
    assert mentions == []


@pytest.mark.slow
def test_toy_assignment_goes_through_every_tool(toy, tmp_path):
    """With the toy's folder named by $VAE_KIT_ASSIGNMENTS, do the template, `grade` (full marks for the solution,
    the bug charged where it is), `grade-many`, the Gradescope zip (its sources, never its solution), the corpus
    and the false-failure run all work on it?"""
    folder, env = toy
    toy_folder = folder / "toy"
    template = toy_folder / "student_template" / "toy.ipynb"
    kit(env, "-m", "autograder", "assign", str(toy_folder / "solution" / "toy.ipynb"), str(template))
    assert "raise NotImplementedError()" in template.read_text() and "randn_like" not in template.read_text()

    kit(env, "-m", "autograder", "grade", str(toy_folder / "solution" / "toy.ipynb"), "--results",
        str(tmp_path / "solution.json"))
    solution = json.loads((tmp_path / "solution.json").read_text())
    assert (solution["score"], solution["max_score"]) == (10, 10), solution

    kit(env, "-m", "autograder", "grade", str(template), "--results", str(tmp_path / "template.json"))
    assert json.loads((tmp_path / "template.json").read_text())["score"] == 0

    many = tmp_path / "many"
    many.mkdir()
    for name in ("affine_matmul.py", "draw_normal.py"):
        shutil.copy(toy_folder / "corpus" / "correct" / name, many / name)
    shutil.copy(toy_folder / "corpus" / "bugs" / "draw_variance.py", many / "draw_variance.py")
    kit(env, "-m", "autograder", "grade-many", str(many), "--out", str(tmp_path / "grades"), "--jobs", "2")
    scores = {p.parent.name: json.loads(p.read_text()) for p in (tmp_path / "grades").glob("*/results.json")}
    assert sorted((r["score"], r["extra_data"]["assignment"]) for r in scores.values()) == [
        (6, "toy"), (10, "toy"), (10, "toy")]

    kit(env, "-m", "autograder", "package", "--assignment", "toy", "--out", str(tmp_path / "toy.zip"))
    names = zipfile.ZipFile(tmp_path / "toy.zip").namelist()
    assert {"autograder/assignments/toy/spec.py", "autograder/assignments/toy/graders/grade_draw.py",
            "autograder/assignments/toy/probes.py", "ASSIGNMENT"} <= set(names)
    assert not [n for n in names if "solution" in n or "corpus" in n or n.endswith(".ipynb")]
    assert not [n for n in names if n.startswith("autograder/assignments/vae")]

    corpus = kit(env, "scripts/grade_corpus.py", "--assignment", "toy", "--out", str(tmp_path / "corpus"))
    assert "correct variants at full marks:      2/2" in corpus.stdout and "bugs caught in the right method:     2/2" \
        in corpus.stdout, corpus.stdout
    measured = kit(env, "scripts/false_failures.py", "--assignment", "toy", "--seeds", "20")
    assert "no false failures" in measured.stdout and "toy/draw_normal" in measured.stdout, measured.stdout
