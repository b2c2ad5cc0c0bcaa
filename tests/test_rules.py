"""The rules read from code: what reaches torch.distributions or adds an import, and what is only text."""
import ast

import pytest

from conftest import PART1

from autograder.assignments.vae import spec
from autograder.notebook.rules import find_violations, fold
from autograder.notebook.submission import Submission, allowed_imports

HEADER = "class VAE:\n    def kl_divergence(self, mu, logsigma):\n"


def violations(body, before="", cells=(), allowed=spec.ALLOWED_IMPORTS):
    """The violations of a VAE whose kl_divergence has ``body`` (indented 8), after module code ``before``."""
    source = before + HEADER + "".join(f"        {line}\n" for line in body.splitlines())
    trees = [ast.parse(c) for c in cells] + [ast.parse(source)]
    return find_violations(trees, trees[-1], allowed, spec.METHODS, forbidden=spec.FORBIDDEN_MODULES)


@pytest.mark.parametrize("body", [
    '"""Means of the q_i distributions; no torch.distributions.Normal, no Bernoulli."""\nreturn mu',
    "# torch.distributions would do this, but it is not allowed\nreturn mu",
    'print("no distributions module used")\nreturn mu',
    'print(f"KL of the Normal distributions: {mu.shape}, torch.distributions unused")\nreturn mu',
    'assert mu.shape == logsigma.shape, "q and p must be distributions of the same size"\nreturn mu',
    'note = "torch.distributions.Bernoulli"\nreturn mu',
])
def test_text_naming_distributions_is_not_a_violation(body):
    """Are docstrings, comments, prints, f-strings and strings used as text left alone?"""
    assert violations(body) == {}


@pytest.mark.parametrize("body, code", [
    ("return torch.distributions.Normal(mu, logsigma.exp())", "torch.distributions"),
    ("return getattr(torch, 'distributions').Normal(mu, 1)", "getattr(torch, 'distributions')"),
    ("d = getattr(torch, 'distri' + 'butions')\nreturn d", "getattr(torch, 'distri' + 'butions')"),
    ("name = 'distri'\nname += 'butions'\nreturn getattr(torch, name)", "getattr(torch, name)"),
    ("return getattr(torch, ''.join(['dist', 'ributions']))", "join"),
    ("return getattr(torch, f\"{'distrib'}utions\")", "getattr(torch"),
    ("return getattr(torch, 'snoitubirtsid'[::-1])", "[::-1]"),
    ("return __import__('torch.distributions', fromlist=['Normal']).Normal", "__import__"),
    ("return __import__('torch', fromlist=['distributions'])", "__import__"),
    ("return importlib.import_module('torch.' + 'distributions')", "import_module"),
    ("return vars(torch)['distributions']", "vars(torch)['distributions']"),
    ("from torch.distributions import Normal\nreturn Normal(mu, 1)", "from torch.distributions import Normal"),
])
def test_code_that_reaches_distributions_is_a_violation(body, code):
    """Do an attribute, getattr, __import__, importlib and a subscript, with constant or built names, count?"""
    found = violations(body)
    assert list(found) == ["kl_divergence"]
    assert any("torch.distributions" in v and code in v for v in found["kl_divergence"]), found


def test_names_bound_outside_the_method_carry_the_violation():
    """Does a module-level or class-level alias of torch.distributions charge the method that reads it?"""
    before = "D = getattr(torch, 'distri' + 'butions')\nN = D.Normal\n"
    assert "torch.distributions" in violations("return N(mu, 1)", before)["kl_divergence"][0]
    source = "class VAE:\n    D = torch.distributions\n    def sample(self, n):\n        return self.D\n"
    assert list(find_violations([ast.parse(source)], ast.parse(source), spec.ALLOWED_IMPORTS, spec.METHODS,
                                forbidden=spec.FORBIDDEN_MODULES)) == ["sample"]


def test_an_added_import_is_reported_once():
    """Is an import inside the method, whose name the method then reads, one violation and not two?"""
    found = violations("import math\nreturn math.sqrt(2) * mu")["kl_divergence"]
    assert found == ["uses an added import (`import math`), which the rules forbid"]
    found = violations("return math.sqrt(2) * mu", cells=["import math\n"])["kl_divergence"]
    assert found == ["uses an added import (`import math`), which the rules forbid"]


def test_dynamic_imports_count_only_when_they_reach_distributions():
    """Is __import__ charged when it reaches torch.distributions, and left to the sandbox otherwise (the rules
    catch honest mistakes; tests/hostile attacks the sandbox with such calls)?"""
    assert violations("return __import__('ma' + 'th').sqrt(2)") == {}
    assert violations("return getattr(torch, 'exp')(mu)") == {}
    assert "torch.distributions" in violations("return __import__('torch.distri' + 'butions')")["kl_divergence"][0]


def test_handout_imports_are_allowed_only_from_the_first_cell():
    """Are the handout's torchvision/seaborn/TSNE imports allowed in a notebook's first cell only?"""
    handout = "import torch\nfrom torchvision import datasets, transforms\nimport seaborn as sns\n" \
              "from sklearn.manifold import TSNE\n"
    trees = [ast.parse(handout), ast.parse("x = 1")]
    allowed = allowed_imports(trees, "notebook", PART1)
    assert {"torchvision.datasets", "seaborn", "sklearn.manifold.TSNE"} <= allowed
    assert violations("return sns.xkcd_rgb and mu", cells=[handout], allowed=allowed) == {}
    assert allowed_imports(list(reversed(trees)), "notebook", PART1) == spec.ALLOWED_IMPORTS
    assert allowed_imports(trees, "python", PART1) == spec.ALLOWED_IMPORTS
    assert "seaborn" in violations("return sns and mu", cells=[handout])["kl_divergence"][0]


@pytest.mark.parametrize("expression, value", [
    ("'a' + 'b'", "ab"), ("'ab' * 2", "abab"), ("'-'.join(('a', 'b'))", "a-b"), ("'AB'.lower()", "ab"),
    ("'abc'[1:]", "bc"), ("'abc'[::-1]", "cba"), ("str('a')", "a"), ("f\"{'a'}b\"", "ab"),
    ("x + 'a'", None), ("''.join(reversed('ba'))", None), ("'a' * 10**9", None), ("'a' * 1000", None),
    ("'%999999999s' % 'a'", None),
    ("'{:>999999999}'.format('a')", None), ("'a'.replace('a', 'a' * 150).replace('a', 'a' * 150)", None),
])
def test_fold(expression, value):
    """Does fold compute short strings built from constants, and give up on anything else (without building
    huge strings)?"""
    assert fold(ast.parse(expression, mode="eval").body, {}) == value


def test_reads_seen_at_run_time_are_charged_to_the_innermost_graded_method(tmp_path):
    """Is a read of torch.distributions that the sandbox recorded charged to the graded method whose code (or
    helper) made it, and nothing else charged when the record is whole?"""
    from autograder.grading.grading import GradedSubmission, GradingFailure
    from autograder.core.cases import ProbeResult
    from autograder.processes.outputs import parse_record

    graded = GradedSubmission(Submission(tmp_path / "s.py", "python", source="class VAE: pass"), 0, PART1)
    reads, tampered = parse_record("R torch.distributions.Normal VAE._helper VAE.kl_divergence VAE.elbo\n"
                                   "R torch.distributions.Normal VAE._helper\nE 0\nE 1\n", 2)
    assert tampered == ""
    graded.record_runtime_breaches(ProbeResult([{}, {}], [{}, {}], reads=reads), "elbo")
    assert list(graded.runtime_violations) == ["kl_divergence"]
    with pytest.raises(GradingFailure, match=r"kl_divergence uses torch.distributions \(it read "
                                             r"`torch.distributions.Normal` while it ran\)"):
        graded.require("kl_divergence")
    graded.require("elbo")


@pytest.mark.parametrize("record, why", [
    ("E 0\n", "closed or replaced it before case 2 of 2"),
    ("E 0\nE 1", "unfinished line"),
    ("E 0\nE 1\nR\n", "text of its own"),
    ("E 0\n\x00\xff garbage {\nE 1\n", "text of its own"),
    ("E 0\nE 1\nR torch.distributions.Normal VAE.elbo " + "x" * 2000 + "\n", "text of its own"),
    ("E 0\nE 1\nE one\n\n", "text of its own"),
    ("T sys.modules entry torch.distributions\nE 0\nE 1\n", "changed sys.modules entry torch.distributions"),
])
def test_a_record_that_student_code_interfered_with_costs_the_probed_method(tmp_path, record, why):
    """Does a child's record that is cut, garbled, forged beyond what the grader writes, or that reports a changed
    watcher, cost the method the probe ran (and only it), with what was seen, without raising?"""
    from autograder.grading.grading import GradedSubmission, GradingFailure
    from autograder.core.cases import ProbeResult
    from autograder.processes.outputs import parse_record

    reads, tampered = parse_record(record, 2)
    assert why in tampered
    graded = GradedSubmission(Submission(tmp_path / "s.py", "python", source="class VAE: pass"), 0, PART1)
    graded.record_runtime_breaches(ProbeResult([{}, {}], [{}, {}], reads=reads, tampered=tampered), "decoder")
    assert list(graded.runtime_violations) == ["decoder"]
    with pytest.raises(GradingFailure, match="interferes with the grader's record"):
        graded.require("decoder")


def test_a_record_past_its_size_or_of_a_child_that_failed():
    """Is a record longer than the cap charged, and is a child that stopped before its cases ended not charged
    for the end lines it could not write?"""
    from autograder.processes.outputs import parse_record

    assert "more than" in parse_record("E 0\nE 1\n", 2, overflow=True)[1]
    assert parse_record("R torch.distributions.Normal VAE.elbo\n", 2, finished=False) == (
        [("torch.distributions.Normal", ["VAE.elbo"])], "")


def test_methods_of_the_same_name_in_two_classes_answer_each_for_its_own_code():
    """With two graded classes defining `encoder`, is a breach charged to the group of the class whose encoder
    holds it, not to the other class's?"""
    source = ("class Base:\n    def encoder(self, x):\n        return torch.distributions.Normal(x, 1)\n"
              "class Cond(Base):\n    def encoder(self, x, c):\n        return super().encoder(x)\n")
    graded = {"base_encoder": "Base.encoder", "cond_encoder": "Cond.encoder"}
    found = find_violations([ast.parse(source)], ast.parse(source), spec.ALLOWED_IMPORTS, graded, ("Base", "Cond"),
                            spec.FORBIDDEN_MODULES)
    assert list(found) == ["base_encoder"]
