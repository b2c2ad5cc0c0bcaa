"""Grading Part 2 (vae2d) end to end: the solution at full marks, the template at 0, and mistakes charged to
their own method with a message that names them."""
import json
import subprocess
import sys

import pytest
from conftest import ROOT, grade_text, lost_groups, mutate

from autograder.core.assignment import load
from autograder.harness import harness
from autograder.notebook.submission import load_submission

PART2 = load("vae2d")
SOLUTION2 = ROOT / "solution" / "vae2d.ipynb"
TEMPLATE2 = ROOT / "student_template" / "vae2d.ipynb"


@pytest.fixture(scope="module")
def source2() -> str:
    """The solution's VAE2D cell, as a .py submission would hold it."""
    return load_submission(SOLUTION2, PART2).source


def test_template_gets_zero_with_a_reason_everywhere(classifier_file):
    """Does the template (every method a stub, no outputs) get 0 on every test, each saying why?"""
    result = harness.grade(TEMPLATE2)
    assert result.score == 0 and result.max_score == PART2.max_score
    assert all(t.output for t in result.tests)
    methods = [t for t in result.tests if t.group in PART2.methods]
    assert all("NotImplementedError" in t.output for t in methods)


MISTAKES = [
    ("reparameterize", "torch.exp(0.5 * logvar) * epsilon", "torch.exp(logvar) * epsilon", "log standard deviation"),
    ("loss", "return reconstruction + beta * kl", "return beta * reconstruction + kl", "beta to the reconstruction"),
    ("loss", "kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)",
     "kl = 0.5 * (torch.exp(2 * logvar) + mu ** 2 - 1 - 2 * logvar).sum(dim=-1)", "log standard deviation in the KL"),
    ("loss", "kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).sum(dim=-1)",
     "kl = 0.5 * (torch.exp(logvar) + mu ** 2 - 1 - logvar).mean(dim=-1)", "averaged over the 2 latent dimensions"),
    ("encoder", "return self.linear21(hidden), self.linear22(hidden)",
     "return self.linear21(hidden), self.linear21(hidden)", "linear21, the mean's head"),
    ("reconstruct", "mu, _ = self.encoder(x)\n        return self.decoder(mu)",
     "return self.decoder(self.reparameterize(*self.encoder(x)))", "Decode the encoder's mean"),
    ("latent_grid", 'indexing="ij"', 'indexing="xy"', "swapped"),
    ("interpolate", "self.decoder((1 - t) * mu[0] + t * mu[1])", "(1 - t) * x_a + t * x_b", "mix the pixels"),
    ("pick_pairs", "torch.Generator().manual_seed(seed)", "torch.Generator().manual_seed(0)",
     "the same pairs for seeds 0 and 1"),
]


@pytest.mark.parametrize("method, old, new, says", MISTAKES, ids=[f"{m[0]}-{m[3][:12]}" for m in MISTAKES])
def test_mistake_costs_its_own_method_and_is_named(source2, tmp_path, method, old, new, says):
    """Does this single mistake lose points in its own method only, with a message naming it?"""
    tests, _ = grade_text(tmp_path, mutate(source2, old, new), groups=PART2.methods, assignment="vae2d")
    assert lost_groups(tests) == {method}
    assert any(says in t.output for t in tests.values() if t.group == method), \
        [t.output for t in tests.values() if t.group == method]


def test_grade_recognises_vae2d_and_writes_its_assignment(tmp_path, source2):
    """Without --assignment, is a file defining VAE2D graded as Part 2, its results.json saying so?"""
    path, results = tmp_path / "mine.py", tmp_path / "results.json"
    path.write_text(source2)
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--results", str(results), "--groups",
                    "encoder,decoder"], cwd=ROOT, check=True, capture_output=True)
    data = json.loads(results.read_text())
    assert data["extra_data"] == {"assignment": "vae2d"} and data["score"] == data["max_score"] == 15


def test_quality_test_names_state_the_marks_the_graders_apply():
    """Does the coverage test's name, which students read, state the number of digits its grader requires?"""
    from autograder.assignments.vae2d import spec

    names = harness.names_of_tests(PART2)
    assert f"show at least {spec.QUALITY.min_digits} of the 10 digits?" in names["quality.coverage"]
