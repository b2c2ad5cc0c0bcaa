"""Part 2's solution notebook (solution/vae2d.ipynb), the template made from it, and its VAE2D class.

Fast checks only: the notebook's own run (training, figures) is checked by its saved outputs here; running it
comes with Part 2's grader (issue 10).
"""
import ast
import re

import nbformat
import pytest
import torch
from conftest import ROOT

from autograder.notebook import assign

SOLUTION2 = ROOT / "solution" / "vae2d.ipynb"
TEMPLATE2 = ROOT / "student_template" / "vae2d.ipynb"
#: The methods students implement, with their arguments (issue 10, Part 2), and __init__.
SIGNATURES = {"__init__": ["self", "obs_dim", "hidden_dim", "latent_dim"], "encoder": ["self", "x"],
              "reparameterize": ["self", "mu", "logvar"], "decoder": ["self", "z"], "loss": ["self", "x", "beta"],
              "reconstruct": ["self", "x"], "latent_grid": ["self", "n", "z_min", "z_max"],
              "interpolate": ["self", "x_a", "x_b", "steps"], "pick_pairs": ["labels", "same", "seed"]}
TASKS = [name for name in SIGNATURES if name != "__init__"]
#: The seeds' figures: curves, scatter, manifold, digit grid, reconstructions, beta comparison, 2 interpolations.
FIGURES = 8


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _class_source(path):
    cells = [c.source for c in _code_cells(path) if "class VAE2D" in c.source]
    assert len(cells) == 1, f"{path.name}: expected one cell defining class VAE2D, found {len(cells)}"
    return cells[0]


def _vae2d(path):
    return next(n for n in ast.parse(_class_source(path)).body if isinstance(n, ast.ClassDef) and n.name == "VAE2D")


def test_template_is_what_make_student_makes():
    """Is the checked-in Part 2 template exactly what `make student` writes from the solution?"""
    assert TEMPLATE2.read_text() == assign.render(SOLUTION2), "run `make student`"


def test_template_has_stubs_and_no_answers_or_outputs():
    """Does the template hold one stub per task, no solution code, and no outputs?"""
    cells = _code_cells(TEMPLATE2)
    text = "\n".join(c.source for c in cells)
    assert text.count("raise NotImplementedError()") == len(TASKS) and "SOLUTION" not in text
    for answer in ("torch.randn_like(mu)", "torch.meshgrid", "binary_cross_entropy(theta", "torch.multinomial"):
        assert answer not in text, answer
    assert all(not c.outputs and c.execution_count is None for c in cells)


def test_solution_is_committed_run_with_its_figures():
    """Was every code cell of the solution run in order, without errors, showing one figure per plot call?"""
    cells = _code_cells(SOLUTION2)
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), "run `make solution NOTEBOOK=...`"
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]
    images = [sum("image/png" in o.get("data", {}) for o in c.outputs) for c in cells]
    plots = [c.source.count("vae_utils.plot_") for c in cells]
    assert images == plots and sum(images) == FIGURES


def test_solution_printout_shows_the_runs_it_states():
    """Does the saved printout show the main model (beta = 1) trained for its CPU epochs with a falling test loss,
    then the three models of the beta comparison?"""
    text = "".join(o.get("text", "") for c in _code_cells(SOLUTION2) for o in c.outputs)
    runs = re.findall(r"^beta = ([\d.]+), epoch (\d+): test loss ([\d.]+) nats", text, re.MULTILINE)
    main, comparison = runs[:10], runs[10:]
    assert [(beta, int(epoch)) for beta, epoch, _ in main] == [("1", e) for e in range(1, 11)]
    assert float(main[-1][2]) < float(main[0][2])
    assert [(beta, int(epoch)) for beta, epoch, _ in comparison] == [(b, e) for b in ("0", "0.1", "1") for e in (1, 2, 3)]


@pytest.mark.parametrize("path", [SOLUTION2, TEMPLATE2])
def test_api_is_the_issues(path):
    """Do both notebooks define VAE2D(nn.Module) with the issue's methods and arguments, each documented?"""
    vae = _vae2d(path)
    assert [ast.unparse(base) for base in vae.bases] == ["nn.Module"]
    methods = {n.name: n for n in vae.body if isinstance(n, ast.FunctionDef)}
    assert {name: [a.arg for a in n.args.args] for name, n in methods.items()} == SIGNATURES
    assert [ast.unparse(d) for d in methods["pick_pairs"].decorator_list] == ["staticmethod"]
    assert [ast.unparse(d) for d in methods["interpolate"].args.defaults] == ["7"]
    for name, method in methods.items():
        assert ast.get_docstring(method), name


def test_points_in_the_notebook_are_the_graders():
    """Does the notebook's table give each task the points of its tests in the spec, the training run, the
    quality checks and the figures theirs, and the training threshold the grader applies?"""
    from autograder.assignments.vae2d import spec

    text = nbformat.read(TEMPLATE2, as_version=4).cells[0].source
    points = {g: sum(t.points for k, t in spec.TESTS.items() if k.split(".")[0] == g) for g in spec.ASSIGNMENT.groups}
    table = dict(re.findall(r"^\| \d+ \| `(\w+)` \| (\d+) \|$", text, re.MULTILINE))
    assert {m: int(p) for m, p in table.items()} == {m: points[m] for m in spec.METHODS}
    extras = [int(p) for p in re.findall(r"^\| \| [^*|][^|]* \| (\d+) \|$", text, re.MULTILINE)]
    assert extras == [points["training"], points["quality"], points["figures"]]
    assert f"at least {spec.TRAINING.min_test_elbo:g} nats" in text and f"{spec.TRAINING.epochs} epochs" in text


def test_task_points_add_up_to_the_stated_total():
    """Does each task heading state the points of its row in the table, and do they add up to the total the
    title and the table state? Are the math's sources and the rules stated?"""
    text = "\n".join(c.source for c in nbformat.read(TEMPLATE2, as_version=4).cells if c.cell_type == "markdown")
    headings = [int(p) for p in re.findall(r"^### Task \d+: .* \((\d+) pt\)$", text, re.MULTILINE)]
    table = re.findall(r"^\| \d+ \| `(\w+)` \| (\d+) \|$", text, re.MULTILINE)
    total = int(re.search(r"^\| \| \*\*the eight tasks\*\* \| \*\*(\d+)\*\* \|$", text, re.MULTILINE).group(1))
    title = int(re.search(r"^# .* \((\d+) pt\)$", text, re.MULTILINE).group(1))
    extras = [int(p) for p in re.findall(r"^\| \| [^*|][^|]* \| (\d+) \|$", text, re.MULTILINE)]
    in_all = int(re.search(r"^\| \| \*\*in all\*\* \| \*\*(\d+)\*\* \|$", text, re.MULTILINE).group(1))
    assert [name for name, _ in table] == TASKS
    assert headings == [int(points) for _, points in table]
    assert sum(headings) == total and total + sum(extras) == in_all == title
    for phrase in ("torch.distributions", "import", "Kingma & Welling 2014", "appendix B", "Higgins et al. (2017)",
                   "log-variance"):
        assert phrase in text, phrase


@pytest.fixture(scope="module")
def model():
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "device": torch.device("cpu")}
    exec(_class_source(SOLUTION2), namespace)
    torch.manual_seed(0)
    return namespace["VAE2D"]()


def test_solution_methods_meet_their_docstrings(model):
    """Does the solution's VAE2D (untrained) return what its docstrings promise: shapes, the grid's order, the
    interpolation's ends, and loss = reconstruction + beta * KL with the same noise?"""
    x = torch.rand(4, 784)
    with torch.no_grad():
        mu, logvar = model.encoder(x)
        losses = []
        for beta in (0.0, 1.0, 2.5):
            torch.manual_seed(1)
            losses.append(model.loss(x, beta))
        kl = 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).sum(dim=-1)
        assert losses[0].shape == (4,) and torch.allclose(losses[2] - losses[0], 2.5 * kl, atol=1e-4)
        assert torch.allclose(model.reconstruct(x), model.decoder(mu))
        values = torch.linspace(-2.0, 2.0, 3)
        codes = torch.tensor([[z1, z2] for z2 in values.flip(0) for z1 in values])
        assert torch.allclose(model.latent_grid(3, -2.0, 2.0), model.decoder(codes))
        row = model.interpolate(x[0], x[1], steps=3)
        middle = model.decoder(((mu[0] + mu[1]) / 2).unsqueeze(0))[0]
        assert row.shape == (5, 784) and torch.equal(row[0], x[0]) and torch.equal(row[4], x[1])
        assert torch.allclose(row[2], middle, atol=1e-6)


def test_solution_pick_pairs_is_the_seeds(model):
    """Does pick_pairs give one pair of two images per digit 0-9 when same, pairs of different digits
    otherwise, the same pairs for the same seed and other pairs for another?"""
    labels = torch.arange(1000) % 10
    same = model.pick_pairs(labels, True, 0)
    assert same.shape == (10, 2) and same.dtype == torch.int64
    assert labels[same].tolist() == [[d, d] for d in range(10)] and (same[:, 0] != same[:, 1]).all()
    different = model.pick_pairs(labels, False, 0)
    assert different.shape == (10, 2) and (labels[different[:, 0]] != labels[different[:, 1]]).all()
    assert torch.equal(different, model.pick_pairs(labels, False, 0))
    assert not torch.equal(different, model.pick_pairs(labels, False, 1))


def test_stated_run_time_is_the_readmes_measure():
    """Does the notebook state the CPU run time that the README measured (120 to 134 s: "about 2 minutes")?"""
    low, high = map(int, re.search(r"(\d+) to (\d+) s wall-clock over", (ROOT / "README.md").read_text()).groups())
    text = nbformat.read(ROOT / "solution" / "vae2d.ipynb", as_version=4).cells[0].source
    minutes = int(re.search(r"runs top to bottom on a CPU in about (\d+) minutes", text).group(1))
    assert round(low / 60) <= minutes <= round(high / 60)


@pytest.mark.parametrize("path", [SOLUTION2, TEMPLATE2])
def test_points_table_states_the_graded_training_run(path):
    """Does the points table state the training run the grader runs (its epochs) and the pass mark it applies?"""
    from autograder.assignments.vae2d import spec

    text = nbformat.read(path, as_version=4).cells[0].source
    stated = re.search(r"the training run: (\d+) epochs with your `loss` reach a test-set ELBO of at least (-?\d+) nats",
                       text)
    assert stated, text[:2000]
    assert (int(stated.group(1)), float(stated.group(2))) == (spec.TRAINING.epochs, spec.TRAINING.min_test_elbo)
