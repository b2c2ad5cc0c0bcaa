"""The solution notebook, the template made from it, and the assign pipeline."""
import ast
import re

import nbformat
import pytest
from conftest import ROOT, SOLUTION, TEMPLATE

from autograder.notebook import assign

from autograder.assignments.vae import spec

SIGNATURES = {"__init__": ["self", "obs_dim", "latent_dim", "hidden_dim"], "encoder": ["self", "x"],
              "sample_with_reparam": ["self", "mu", "logsigma"], "decoder": ["self", "z"],
              "kl_divergence": ["self", "mu", "logsigma"], "elbo": ["self", "x"], "sample": ["self", "num_samples"]}


def test_stub_replaces_each_region_keeping_indentation():
    """Does each solution region become the stub, indented like its BEGIN line?"""
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\nx = 2"
    assert assign.strip_solution_source(source) == (
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nx = 2")


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION", "inside the region"),
    ("x = 1\n### BEGIN SOLUTION\ny = 2", "never closed"),
    ("### END SOLUTION", "without a BEGIN"),
])
def test_bad_markers_are_errors(source, problem):
    """Are nested, unterminated and unopened regions refused, with the line?"""
    with pytest.raises(assign.MarkerError, match=problem):
        assign.strip_solution_source(source)


def test_written_answers_become_the_text_stub_and_nothing_else_does():
    """Does a Markdown answer cell marked by nbgrader's metadata as a solution lose its text to YOUR ANSWER HERE,
    keeping its metadata, while other Markdown cells (an answer not marked, a marked cell that is no solution)
    keep theirs?"""
    new = nbformat.v4
    answer = {"solution": True, "grade": True, "locked": False, "points": 3, "grade_id": "q_a", "schema_version": 3}
    cells = [new.new_markdown_cell("### Question (a)"),
             new.new_markdown_cell("The KL term pulls q(z|x) to the prior.", metadata={"nbgrader": answer}),
             new.new_markdown_cell("Locked text.", metadata={"nbgrader": {**answer, "solution": False}}),
             new.new_code_cell("x = 1  # a code cell is not a written answer", metadata={"nbgrader": answer})]
    student = assign.make_student_notebook(new.new_notebook(cells=cells))
    assert [c.source for c in student.cells] == ["### Question (a)", assign.TEXT_STUB, "Locked text.",
                                                 "x = 1  # a code cell is not a written answer"]
    assert student.cells[1].metadata == {"nbgrader": answer} and cells[1].source.startswith("The KL")


def test_template_is_what_make_student_makes():
    """Is the checked-in template exactly what `make student` writes from the solution?"""
    assert TEMPLATE.read_text() == assign.render(SOLUTION), "run `make student`"


def test_template_has_stubs_and_no_answers_or_outputs():
    """Does the template hold six stubs, no solution code, and no outputs?"""
    nb = nbformat.read(TEMPLATE, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert text.count("raise NotImplementedError()") == 6 and "SOLUTION" not in text
    assert "torch.bernoulli(self.decoder" not in text
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")


def _vae_class(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code" and "class VAE" in c.source]
    assert len(cells) == 1
    return next(n for n in ast.parse(cells[0]).body if isinstance(n, ast.ClassDef) and n.name == "VAE")


@pytest.mark.parametrize("path", [SOLUTION, TEMPLATE])
def test_api_is_the_seeds(path):
    """Do both notebooks define VAE with the seed's layers, methods and signatures?"""
    vae = _vae_class(path)
    methods = {n.name: [a.arg for a in n.args.args] for n in vae.body if isinstance(n, ast.FunctionDef)}
    assert methods == SIGNATURES
    init = next(n for n in vae.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    assert init.args.defaults[0].value == 100
    layers = {t.attr for n in ast.walk(init) if isinstance(n, ast.Assign) for t in n.targets
              if isinstance(t, ast.Attribute)}
    assert {"linear1", "linear21", "linear22", "linear3", "linear4"} <= layers
    for method in vae.body:
        if isinstance(method, ast.FunctionDef):
            assert ast.get_docstring(method), method.name


def test_task_points_are_what_the_grader_gives_and_rules_are_stated():
    """Does each task heading of the notebook state the points that the grader's tests of that method add
    up to, in the methods' order, and does the notebook state the rules?"""
    text = "\n".join(c.source for c in nbformat.read(TEMPLATE, as_version=4).cells if c.cell_type == "markdown")
    stated = [int(points) for points in re.findall(r"^### Task \d+: .* \((\d+) pt\)$", text, re.MULTILINE)]
    graded = [sum(s.points for k, s in spec.TESTS.items() if k.split(".")[0] == m) for m in spec.METHODS]
    assert stated == graded
    assert "torch.distributions" in text and "import" in text and "Kingma & Welling" in text


def _points_table(markdown):
    """The rows of the notebook's points table: {what: points}, keyed by method, "training", "figures", "total"."""
    rows = {}
    for line in markdown.splitlines():
        match = re.fullmatch(r"\|\s*\d*\s*\|(.*)\|\s*\**(\d+)\**\s*\|", line.strip())
        if match:
            method = re.match(r"\s*`(\w+)`", match.group(1))
            what = method.group(1) if method else re.match(r"\s*\**(\w+)", match.group(1)).group(1)
            rows[what] = float(match.group(2))
    return rows


def test_points_in_the_notebook_are_the_graders():
    """Does the notebook's points table give, per method and in all, the points spec.TESTS gives, and the
    training threshold the grader applies?"""
    text = nbformat.read(TEMPLATE, as_version=4).cells[0].source
    by_group = {}
    for key, test in spec.TESTS.items():
        by_group[key.split(".")[0]] = by_group.get(key.split(".")[0], 0) + test.points
    assert _points_table(text) == {**by_group, "total": sum(by_group.values())}
    assert f"({sum(by_group.values()):g} pt)" in text.splitlines()[0]
    assert f"at least {spec.TRAINING.min_test_elbo:g} nats" in text


def test_notebook_says_what_to_submit_and_how_torch_normal_fails():
    """Does the notebook name the file to submit, warn that torch.normal(mu, sigma) carries no gradient, and
    claim no rule that the grader does not check?"""
    text = "\n".join(c.source for c in nbformat.read(TEMPLATE, as_version=4).cells if c.cell_type == "markdown")
    assert f"`{spec.ASSIGNMENT.notebook}`" in text
    assert "`torch.normal(mu, sigma)`" in text and "no gradient" in text
    assert "outside the places marked" not in text


def test_solution_is_committed_with_outputs():
    """Does the committed solution hold its training printout and its three figures, without errors?"""
    nb = nbformat.read(SOLUTION, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3
    assert "Epoch 4" in "".join(o.get("text", "") for o in outputs)


def test_vae_utils_sits_next_to_both_notebooks():
    """Can both notebooks import vae_utils from their own folder, as on Colab?"""
    for folder in ("solution", "student_template"):
        link = ROOT / folder / "vae_utils.py"
        assert link.is_symlink() and link.resolve() == (ROOT / "vae_utils.py").resolve()


@pytest.mark.slow
def test_solution_runs_top_to_bottom(tmp_path):
    """Does the solution notebook run from a fresh kernel without errors, on CPU?"""
    from nbclient import NotebookClient

    nb = nbformat.read(SOLUTION, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "solution")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 3
    losses = [float(line.split("=")[1]) for o in outputs for line in o.get("text", "").splitlines() if "loss =" in line]
    assert losses[-1] < 130 < losses[0]
