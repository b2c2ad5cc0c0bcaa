"""A notebook exported to ``.py`` (nbconvert's script, Colab's Download .py) is graded by its classes, as the
notebook is by its class cell: its MNIST loading, training, plots and magics are never run."""
import ast

import exports
import nbformat
import pytest
from conftest import ROOT, grade_text, lost_groups

from autograder.core.assignment import load
from autograder.harness.harness import assignment_for
from autograder.notebook.rules import find_violations
from autograder.notebook.script import parse_script, script_source, statement_cells
from autograder.notebook.submission import allowed_imports, class_cells, load_submission

NAMES = ("vae", "vae2d", "cvae")


def _export(name: str, style: str) -> str:
    notebook = exports.read(name)
    return exports.nbconvert_export(notebook) if style == "nbconvert" else exports.colab_export(notebook, name)


def _top_level(source: str) -> list:
    return [type(n).__name__ + ":" + getattr(n, "name", "") for n in ast.parse(source).body]


def _classes(source: str, names) -> list:
    return [ast.dump(n) for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name in names]


@pytest.mark.parametrize("style", ["nbconvert", "colab"])
@pytest.mark.parametrize("name", NAMES)
def test_export_runs_only_its_classes(name, style, tmp_path):
    """Does a whole notebook's export run only the notebook's graded classes, the same code as the notebook's class
    cell(s), keep the file's line numbers, and break no rule, with its magics, MNIST loading, training and plots
    all left out?"""
    spec = load(name)
    text = _export(name, style)
    assert "vae_utils.mnist_loaders" in text or "def load(train)" in text  # the script does load MNIST
    assert ("# In[" in text and "get_ipython().run_line_magic('matplotlib', 'inline')" in text if style == "nbconvert"
            else text.startswith("# -*- coding: utf-8 -*-") and "Original file is located at" in text
            and "\n!pip install" in text)
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    sub = load_submission(path, spec)
    notebook = load_submission(ROOT / "solution" / spec.notebook, spec)
    assert sub.error is None and sub.violations == notebook.violations == {}
    assert _top_level(sub.source) == [f"ClassDef:{c}" for c in spec.classes]
    assert _classes(sub.source, spec.classes) == _classes(notebook.source, spec.classes)
    assert len(sub.source.splitlines()) == len(parse_script(text)[1].splitlines())
    assert assignment_for(path, None).name == name


def test_colab_export_parses_despite_magics_and_latex():
    """Does a Colab export parse, with its `!pip` and `%matplotlib` lines and its Markdown strings holding LaTeX
    such as `\\underbrace` (a broken `\\u` escape in a plain string)?"""
    text = _export("cvae", "colab")
    assert "\n!pip install" in text and "\\underbrace" in text
    with pytest.raises(SyntaxError):
        ast.parse(text)
    tree, parsed = parse_script(text)
    assert {n.name for n in tree.body if isinstance(n, ast.ClassDef)} >= {"ConvVAE", "ConditionalVAE"}
    assert "pass  # pip install" in parsed


SCRIPT = '''import math
import torch.nn as nn
import vae_utils
from google.colab import drive
import scipy.stats as stats

drive.mount("/content/drive")
device = "cuda"
LOG_2PI = math.log(2 * math.pi)
ONES = torch.ones(3).float()
batch_size = 128
train_loader, test_loader = vae_utils.mnist_loaders(batch_size)
SCALE = len(train_loader.dataset)
SHIFT = helper(2)
UNUSED = 7


def helper(v):
    return v * SCALE_OF_HELPER


SCALE_OF_HELPER = 2.0


def plot(model):
    vae_utils.visualize_samples(model.sample(10))


class VAE(nn.Module):
    def __init__(self, d=len(ONES)):
        super().__init__()
        self.d = d

    def loss(self, x):
        return helper(x) + LOG_2PI + SCALE + SHIFT + batch_size + stats.norm.logpdf(0)


vae = VAE().to(device)
for epoch in range(5):
    vae.loss(next(iter(train_loader)))
plot(vae)
print("done")
get_ipython().run_line_magic("matplotlib", "inline")
'''


def test_script_keeps_what_the_classes_read_and_nothing_that_loads():
    """Of a module's top-level statements, are the classes kept with the functions, allowed imports and constants
    they read (defaults included, transitively), and is every statement that loads data, trains, plots, prints,
    mounts a drive, runs a magic or sets the grader's `device` left out, with what reads a dropped name?"""
    tree, text = parse_script(SCRIPT)
    cells = statement_cells(tree)
    chosen = class_cells([ast.Module(body=c, type_ignores=[]) for c in cells], ("VAE",))
    kept = [line for line in script_source(text, cells, chosen, load("vae").allowed_imports).splitlines()
            if line and not line[0].isspace()]
    assert kept == ["import math", "LOG_2PI = math.log(2 * math.pi)", "ONES = torch.ones(3).float()",
                    "batch_size = 128", "def helper(v):", "SCALE_OF_HELPER = 2.0", "class VAE(nn.Module):"]


def test_rules_read_the_whole_export(tmp_path):
    """Do the rules still see the whole file: an added import that a method reads, and torch.distributions reached
    through a top-level helper the method calls, each charged to that method though neither import is run?"""
    source = load_submission(ROOT / "solution" / "vae.ipynb", load("vae")).source
    source = source.replace("def kl_divergence(self, mu, logsigma):",
                            "def kl_divergence(self, mu, logsigma):\n        _ = stats.norm", 1)
    source = source.replace("def elbo(self, x):", "def elbo(self, x):\n        normal(mu=0)", 1)
    text = ("import scipy.stats as stats\nimport torch\n\n\ndef normal(mu):\n"
            f"    return torch.distributions.Normal(mu, 1)\n\n\n{source}\n\ntrain_loader = None\n")
    path = tmp_path / "vae.py"
    path.write_text(text)
    sub = load_submission(path, load("vae"))
    assert sorted(sub.violations) == ["elbo", "kl_divergence"]
    assert "scipy" in " ".join(sub.violations["kl_divergence"]) and "import scipy" not in sub.source
    tree = ast.parse(text)
    assert sub.violations == find_violations([tree], tree, allowed_imports([tree], "python", load("vae")),
                                             load("vae").qualified_methods, ("VAE",), load("vae").forbidden_modules)


GRADED = [("vae", "nbconvert", None), ("vae", "colab", None), ("vae2d", "colab", None),
          ("cvae", "nbconvert", ("conv_layers", "conv_encoder", "cond_layers", "cond_encoder", "cond_decoder",
                                 "sample"))]


@pytest.mark.parametrize("name, style, groups", GRADED)
def test_export_gets_full_marks_on_its_methods(name, style, groups, tmp_path):
    """Does a whole notebook's export get every point of its methods (training left out here: the corpus grades
    it), where it got 0 when its script ran and could not load MNIST? Part 3's export calls top-level helpers."""
    spec = load(name)
    notebook = exports.read(name)
    if name == "cvae":
        notebook = exports.helpers_at_top_level(notebook)
    text = exports.nbconvert_export(notebook) if style == "nbconvert" else exports.colab_export(notebook, name)
    tests, result = grade_text(tmp_path, text, groups=groups or spec.methods, name=f"{name}.py", assignment=name)
    assert not lost_groups(tests), {k: t.output for k, t in tests.items() if t.score < t.max_score}
    assert result.score == result.max_score > 0


def test_bug_in_an_exports_method_is_charged_to_it(tmp_path):
    """Is a bug in a method of a Colab export charged to that method, with its mistake named?"""
    notebook = exports.replace_in_cells(exports.read("vae"), "return mu + torch.exp(logsigma) * epsilon",
                                        "return mu + torch.exp(0.5 * logsigma) * epsilon")
    tests, _ = grade_text(tmp_path, exports.colab_export(notebook, "vae"), groups=("sample_with_reparam", "sample"),
                          name="vae.py")
    assert lost_groups(tests) == {"sample_with_reparam"}
    assert any("log-variance" in t.output for t in tests.values() if t.score < t.max_score)


def test_corpus_copies_are_current():
    """Are the corpus's exports (`tests/corpus/*/*/s_*.py`) what `python tests/exports.py` writes?"""
    for relative, text in exports.corpus_files().items():
        assert (ROOT / "tests" / "corpus" / relative).read_text() == text, f"run python tests/exports.py: {relative}"


def test_notebook_cells_are_picked_as_before():
    """Is a notebook still graded by the last cell defining each class (an earlier draft of the class ignored)?"""
    notebook = nbformat.read(ROOT / "solution" / "vae.ipynb", as_version=4)
    cells = [ast.parse("class VAE:\n    x = 1"), ast.parse("y = 2"), ast.parse("class VAE:\n    x = 3")]
    assert class_cells(cells, ("VAE",)) == [2]
    assert len([c for c in notebook.cells if c.cell_type == "code" and "class VAE" in c.source]) == 1


def test_script_that_parses_yet_does_not_compile_never_crashes_loading(tmp_path):
    """Does a .py with a null byte get "does not compile", and one with a top-level `return` (it parses, yet does
    not compile) get its class graded, where loading must never raise?"""
    path = tmp_path / "vae.py"
    path.write_bytes(b"class VAE:\n    x = 1\x00\n")
    assert "does not compile" in load_submission(path, load("vae")).error
    path.write_text("return 1\nnonlocal q\n\n\nclass VAE:\n    x = 1\n")
    sub = load_submission(path, load("vae"))
    assert sub.error is None and [line for line in sub.source.splitlines() if line] == ["class VAE:", "    x = 1"]


def test_notebook_cell_with_a_null_byte_is_told_it_does_not_compile(tmp_path):
    """Is a notebook whose class cell holds a null byte told that it does not compile (Python 3.10 raises
    ValueError there, not SyntaxError), and one whose other cell holds one graded as usual?"""
    notebook = nbformat.read(ROOT / "solution" / "vae.ipynb", as_version=4)
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    cells[1].source += "\x00"
    path = tmp_path / "vae.ipynb"
    nbformat.write(notebook, path)
    assert load_submission(path, load("vae")).error is None
    cells[3].source += "\x00"
    nbformat.write(notebook, path)
    assert "does not compile" in load_submission(path, load("vae")).error
