"""Part 3's solution notebook (solution/cvae.ipynb), the template made from it, and its classes MLPVAE, ConvVAE and
ConditionalVAE (seed 003, issue 11).

Fast checks only: the notebook's run (training, figures) is checked by its saved outputs; the classes are built
from the notebook's own source and checked untrained.
"""
import ast
import re

import nbformat
import pytest
import torch
from conftest import ROOT
from torch import nn
from torch.nn import functional as F

from autograder.notebook import assign

SOLUTION3 = ROOT / "solution" / "cvae.ipynb"
TEMPLATE3 = ROOT / "student_template" / "cvae.ipynb"
#: Each class's base and its methods with their arguments (issue 11).
API = {
    "ConvVAE": ("nn.Module", {"__init__": ["self", "latent_dim"], "encoder": ["self", "x"],
                              "reparameterize": ["self", "mu", "logvar"], "decoder": ["self", "z"],
                              "loss": ["self", "x"]}),
    "MLPVAE": ("nn.Module", {"__init__": ["self", "hidden_dim", "latent_dim"], "encoder": ["self", "x"],
                             "decoder": ["self", "z"]}),
    "ConditionalVAE": ("ConvVAE", {"__init__": ["self", "latent_dim"], "encoder": ["self", "x", "c"],
                                   "decoder": ["self", "z", "c"], "loss": ["self", "x", "c"], "sample": ["self", "c"],
                                   "generate": ["self", "digits", "n"]}),
}
#: The student's tasks, in the notebook's order: (class, method).
TASKS = [("ConvVAE", "__init__"), ("ConvVAE", "encoder"), ("ConvVAE", "decoder"), ("ConvVAE", "loss"),
         ("ConditionalVAE", "__init__"), ("ConditionalVAE", "encoder"), ("ConditionalVAE", "decoder"),
         ("ConditionalVAE", "loss"), ("ConditionalVAE", "sample"), ("ConditionalVAE", "generate")]
#: Seed 003's architecture: layer -> (type, constructor arguments, input shape, output shape, parameters).
CONV_LAYERS = {
    "conv1": (nn.Conv2d, dict(in_channels=1, out_channels=32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)),
              (1, 28, 28), (32, 14, 14), 320),
    "conv2": (nn.Conv2d, dict(in_channels=32, out_channels=64, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)),
              (32, 14, 14), (64, 7, 7), 18_496),
    "fc": (nn.Linear, dict(in_features=3136, out_features=14), (3136,), (14,), 43_918),
    "fc_mu": (nn.Linear, dict(in_features=14, out_features=2), (14,), (2,), 30),
    "fc_logvar": (nn.Linear, dict(in_features=14, out_features=2), (14,), (2,), 30),
    "fc_dec": (nn.Linear, dict(in_features=2, out_features=3136), (2,), (3136,), 9_408),
    "deconv1": (nn.ConvTranspose2d, dict(in_channels=64, out_channels=64, kernel_size=(3, 3), stride=(2, 2),
                                         padding=(1, 1), output_padding=(1, 1)), (64, 7, 7), (64, 14, 14), 36_928),
    "deconv2": (nn.ConvTranspose2d, dict(in_channels=64, out_channels=32, kernel_size=(3, 3), stride=(2, 2),
                                         padding=(1, 1), output_padding=(1, 1)), (64, 14, 14), (32, 28, 28), 18_464),
    "deconv3": (nn.ConvTranspose2d, dict(in_channels=32, out_channels=1, kernel_size=(3, 3), stride=(1, 1),
                                         padding=(1, 1), output_padding=(0, 0)), (32, 28, 28), (1, 28, 28), 289),
}
ENCODER = ("conv1", "conv2", "fc", "fc_mu", "fc_logvar")
#: The conditional VAE's two joined layers: the 10 label planes at conv1, the one-hot label beside z at fc_dec.
CVAE_LAYERS = {"conv1": (dict(in_channels=11, out_channels=32), (11, 28, 28), (32, 14, 14), 3_200),
               "fc_dec": (dict(in_features=12, out_features=3136), (12,), (3136,), 40_768)}
#: Figures per model: MLP VAE and ConvVAE 3 each (scatter, grid, z = 0); CVAE 5 (also the two digit grids).
FIGURES = 11
QUESTIONS = {"a": "cvae_a_sketch", "b": "cvae_b_centred", "f": "cvae_f_better", "h": "cvae_h_compare"}


def _cells(path, kind):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == kind]


def _class_cells(path):
    """The sources of the notebook's code cells that define a class."""
    return [c.source for c in _cells(path, "code") if c.source.lstrip().startswith("class ")]


def _classes(path):
    """{name: ast.ClassDef} of the notebook's classes, in order."""
    return {n.name: n for source in _class_cells(path) for n in ast.parse(source).body if isinstance(n, ast.ClassDef)}


def _markdown(path):
    return "\n".join(c.source for c in _cells(path, "markdown"))


def test_template_is_what_make_student_makes():
    """Is the checked-in Part 3 template exactly what `make student` writes from the solution?"""
    assert TEMPLATE3.read_text() == assign.render(SOLUTION3), "run `make student`"


def test_template_has_stubs_and_no_answers_or_outputs():
    """Does the template hold one stub per task, no solution code, no written answer, and no outputs?"""
    code = _cells(TEMPLATE3, "code")
    text = "\n".join(c.source for c in code)
    assert text.count("raise NotImplementedError()") == len(TASKS) and "SOLUTION" not in text
    for answer in ("stride=2", "output_padding=1", "self.conv1(x)", "self.fc_dec(z)", "binary_cross_entropy(theta",
                   "nn.Conv2d(1 + self.num_classes", "F.one_hot", "torch.randn(len(c)", "repeat_interleave(n)"):
        assert answer not in text, answer
    assert all(not c.outputs and c.execution_count is None for c in code)
    answers = [c.source for c in _cells(TEMPLATE3, "markdown") if assign.is_written_answer(c)]
    assert answers == [assign.TEXT_STUB] * len(QUESTIONS)


def test_each_task_is_a_solution_region_of_its_method():
    """Is each task exactly one solution region, inside the method the points table names?"""
    regions = []
    for source in _class_cells(SOLUTION3):
        for cls in (n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)):
            for method in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
                regions += [(cls.name, method.name)] * ast.get_source_segment(source, method).count("BEGIN SOLUTION")
    assert regions == TASKS


@pytest.mark.parametrize("path", [SOLUTION3, TEMPLATE3])
def test_api_is_the_issues(path):
    """Do both notebooks define the three classes with the issue's bases, methods and arguments, latent_dim=2 by
    default, and every method documented? Does the MLP VAE borrow ConvVAE's reparameterize and loss?"""
    classes = _classes(path)
    assert list(classes) == ["ConvVAE", "MLPVAE", "ConditionalVAE"]
    for name, (base, signatures) in API.items():
        methods = {n.name: n for n in classes[name].body if isinstance(n, ast.FunctionDef)}
        assert [ast.unparse(b) for b in classes[name].bases] == [base]
        assert {m: [a.arg for a in n.args.args] for m, n in methods.items()} == signatures
        assert [ast.unparse(d) for d in methods["__init__"].args.defaults][-1] == "2"
        assert all(ast.get_docstring(method) for method in methods.values()), name
    borrowed = {t.id: ast.unparse(n.value) for n in classes["MLPVAE"].body if isinstance(n, ast.Assign)
                for t in n.targets}
    assert borrowed == {"reparameterize": "ConvVAE.reparameterize", "loss": "ConvVAE.loss"}


def test_init_docstrings_name_every_layer_with_its_shapes_and_size():
    """Does ConvVAE.__init__'s docstring give every layer's name, input and output shape and parameter count,
    and ConditionalVAE's its two changed layers, in both notebooks, without giving strides or paddings?"""
    def dims(shape):
        return "[batch_size, " + ", ".join(map(str, shape)) + "]"

    for path in (SOLUTION3, TEMPLATE3):
        classes = _classes(path)
        for cls, layers in (("ConvVAE", {n: spec[2:] for n, spec in CONV_LAYERS.items()}),
                            ("ConditionalVAE", {n: spec[1:] for n, spec in CVAE_LAYERS.items()})):
            doc = ast.get_docstring(next(n for n in classes[cls].body if getattr(n, "name", "") == "__init__"))
            lines = {line.split()[0]: line.replace("latent_dim]", "2]") for line in doc.splitlines() if line.strip()}
            for name, (shape_in, shape_out, count) in layers.items():
                assert re.fullmatch(rf"\s*{name} .*{re.escape(dims(shape_in))} +-> {re.escape(dims(shape_out))} +"
                                    rf"{count:,}", lines[name]), lines[name]
            assert "stride" not in doc and "padding" not in doc


def _points(text, pattern):
    return [(what, int(points)) for what, points in re.findall(pattern, text, re.MULTILINE)]


def test_points_table_headings_and_answer_cells_agree():
    """Does the points table list the ten tasks in order and the four written answers, each with the points its
    heading states (and, for an answer, its cell's nbgrader points), adding up to the totals and the title?"""
    text = _markdown(TEMPLATE3)
    tasks = _points(text, r"^\| \d+ \| `(\w+\.\w+)` \| (\d+) \|$")
    answers = _points(text, r"^\| \((\w)\) \| [^|]+ \| (\d+) \|$")
    assert [tuple(what.split(".")) for what, _ in tasks] == TASKS
    assert [int(p) for p in re.findall(r"^### Task \d+: .* \((\d+) pt\)$", text, re.MULTILINE)] == [p for _, p in tasks]
    assert _points(text, r"^### Question \((\w)\) \((\d+) pt\)$") == answers
    assert [letter for letter, _ in answers] == list(QUESTIONS)
    cells = [c for c in _cells(TEMPLATE3, "markdown") if assign.is_written_answer(c)]
    assert [(c.metadata.nbgrader.grade_id, c.metadata.nbgrader.points) for c in cells] == [
        (QUESTIONS[letter], points) for letter, points in answers]
    totals = [int(t) for t in re.findall(r"^\| \| \*\*[\w ]+\*\* \| \*\*(\d+)\*\* \|$", text, re.MULTILINE)]
    extras = [int(p) for p in re.findall(r"^\| \| [^*|][^|]* \| (\d+) \|$", text, re.MULTILINE)]
    title = int(re.search(r"^# .* \((\d+) pt\)$", text, re.MULTILINE).group(1))
    assert totals == [sum(p for _, p in tasks), sum(p for _, p in answers), title]
    assert totals[0] + totals[1] + sum(extras) == title


def test_points_in_the_notebook_are_the_graders():
    """Does the table give each task the points of its tests in the spec, and the training run, the generation
    checks and the figures theirs?"""
    from autograder.assignments.cvae import spec

    text = _markdown(TEMPLATE3)
    points = {g: sum(t.points for k, t in spec.TESTS.items() if k.split(".")[0] == g) for g in spec.ASSIGNMENT.groups}
    tasks = dict(_points(text, r"^\| \d+ \| `(\w+\.\w+)` \| (\d+) \|$"))
    assert {spec.ASSIGNMENT.group_of(name): p for name, p in tasks.items()} == {m: points[m] for m in spec.METHODS}
    extras = [int(p) for p in re.findall(r"^\| \| [^*|][^|]* \| (\d+) \|$", text, re.MULTILINE)]
    assert extras == [points["training"], points["generation"], points["figures"]] and points["answers"] == 0
    assert f"{spec.TRAINING.images:,} images" in text
    answered = [c.metadata.nbgrader.points for c in _cells(SOLUTION3, "markdown") if assign.is_written_answer(c)]
    assert spec.ASSIGNMENT.hand_graded_points == sum(answered) == 20


def test_notebook_points_only_at_what_it_holds():
    """Does the notebook name no handout, seed or question that a student does not have: its headings point at
    the questions it asks ("Question (b)"), never "(seed (b))" nor a question it does not ask?"""
    text = _markdown(TEMPLATE3)
    asked = set(re.findall(r"^### Question \((\w)\)", text, re.MULTILINE))
    assert asked == set(QUESTIONS)
    assert not re.search(r"handout|\(seed|seed 00\d", text), re.search(r".{60}(handout|\(seed|seed 00\d).{60}", text)
    assert set(re.findall(r"\((?:Question|question) \((\w)\)\)", text)) <= asked
    assert not set(re.findall(r"[Qq]uestions? \((\w)\)", text)) - asked


def test_notebook_states_the_training_pass_mark():
    """Does the points table state the training run the grader runs (the training images) and the test-set ELBO it
    must reach, the one the grader applies?"""
    from autograder.assignments.cvae import spec

    for path in (SOLUTION3, TEMPLATE3):
        stated = re.findall(r"test-set ELBO of at least (-?\d+) nats", _markdown(path))
        assert [float(value) for value in stated] == [spec.TRAINING.min_test_elbo], path
        images = re.findall(r"trained with your `loss` on ([\d,]+) images", _markdown(path))
        assert [int(value.replace(",", "")) for value in images] == [spec.TRAINING.images], path


@pytest.mark.parametrize("path", [SOLUTION3, TEMPLATE3])
def test_answer_cells_are_nbgraders_manually_graded_answers(path):
    """Does each question have its answer cell right after it, marked as nbgrader marks a manually graded answer
    (solution, graded, unlocked, its points, a unique grade_id, schema 3)? Are the solution's answered, and are
    no other cells marked?"""
    cells = nbformat.read(path, as_version=4).cells
    marked = [i for i, c in enumerate(cells) if "nbgrader" in c.metadata]
    questions = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("### Question")]
    assert marked == [i + 1 for i in questions] and len(marked) == len(QUESTIONS)
    for i in marked:
        points = int(re.search(r"\((\d+) pt\)", cells[i - 1].source).group(1))
        letter = re.search(r"### Question \((\w)\)", cells[i - 1].source).group(1)
        assert cells[i].metadata.nbgrader == {"grade": True, "grade_id": QUESTIONS[letter], "locked": False,
                                              "points": points, "schema_version": 3, "solution": True, "task": False}
        if path == SOLUTION3:
            assert len(cells[i].source.split()) >= 60 and assign.TEXT_STUB not in cells[i].source


def test_rules_sources_and_budget_are_stated():
    """Does the notebook state the rules, the math's sources, the objective's sign (the seed's typo), the fixed way
    the label is joined, the file to submit, and the CPU and GPU training budgets its code uses?"""
    text = _markdown(TEMPLATE3)
    for phrase in ("torch.distributions", "`import`", "Kingma & Welling 2014", "appendix B", "Sohn, Lee & Yan 2015",
                   "**minus** sign", "10 constant $28 \\times 28$ planes", "`cvae.ipynb`", "2 epochs", "20 on a GPU",
                   "log-variance"):
        assert phrase in text, phrase
    code = "\n".join(c.source for c in _cells(TEMPLATE3, "code"))
    assert 'epochs = 20 if device.type == "cuda" else 2' in code
    assert "torchvision" not in code + _markdown(SOLUTION3)


def _outputs(path):
    return [(c, o) for c in _cells(path, "code") for o in c.outputs]


def test_solution_is_committed_run_with_its_figures():
    """Was every code cell of the solution run in order, without errors, showing one figure per plot call?"""
    cells = _cells(SOLUTION3, "code")
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1)), "run `make solution NOTEBOOK=...`"
    assert not [o for _, o in _outputs(SOLUTION3) if o.output_type == "error"]
    images = [sum("image/png" in o.get("data", {}) for o in c.outputs) for c in cells]
    assert images == [c.source.count("vae_utils.plot_") for c in cells] and sum(images) == FIGURES


def test_solution_printout_shows_the_same_training_and_its_elbo_table():
    """Does the saved printout show the three models trained for the same 2 CPU epochs, a table with the issue's
    parameter counts and each model's last test ELBO, all trained well past an untrained model's -543 nats, and a
    conditional VAE whose codes spread (its encoder did not collapse to the prior)?"""
    text = "".join(o.get("text", "") for _, o in _outputs(SOLUTION3))
    runs = re.findall(r"^(.+), epoch (\d): test ELBO (-[\d.]+) nats", text, re.MULTILINE)
    assert [(name, int(epoch)) for name, epoch, _ in runs] == [
        (name, epoch) for name in ("MLP VAE", "ConvVAE", "CVAE") for epoch in (1, 2)]
    table = re.findall(r"^(MLP VAE|ConvVAE|CVAE) +([\d,]+) +([\d,]+) +\d+ +(-[\d.]+)$", text, re.MULTILINE)
    assert [(name, enc, dec) for name, enc, dec, _ in table] == [
        ("MLP VAE", "64,702", "65,318"), ("ConvVAE", "62,794", "65,089"), ("CVAE", "65,674", "96,449")]
    assert [elbo for *_, elbo in table] == [elbo for _, epoch, elbo in runs if epoch == "2"]
    assert all(float(elbo) > -200 for *_, elbo in table)
    low, high = map(float, re.search(r"the codes cover \[(-?[\d.]+), (-?[\d.]+)\]", text).groups())
    assert high - low > 2, "the CVAE's encoder means all sit near one point: posterior collapse"


def _namespace():
    namespace = {"torch": torch, "nn": nn, "F": F}
    for cell in _cells(SOLUTION3, "code"):
        if cell.source.lstrip().startswith("class "):
            exec(cell.source, namespace)
    return namespace


@pytest.fixture(scope="module")
def models():
    namespace = _namespace()
    torch.manual_seed(0)
    return {name: namespace[name]() for name in ("MLPVAE", "ConvVAE", "ConditionalVAE")}


def _size(module):
    return sum(p.numel() for p in module.parameters())


def _shapes(model, run):
    """{layer name: (input shape, output shape)} without the batch dimension, of the layers run() calls."""
    shapes, hooks = {}, []
    for name, layer in model.named_children():
        hooks.append(layer.register_forward_hook(
            lambda module, args, out, name=name: shapes.update({name: (tuple(args[0].shape[1:]), tuple(out.shape[1:]))})))
    try:
        with torch.no_grad():
            run()
    finally:
        for hook in hooks:
            hook.remove()
    return shapes


def test_conv_vae_is_the_seeds_architecture(models):
    """Does the solution's ConvVAE have seed 003's layers under the fixed names, with their constructor arguments,
    shapes and parameter counts, 62,794 in the encoder and 65,089 in the decoder, and nothing else?"""
    model = models["ConvVAE"]
    assert [name for name, _ in model.named_children()] == list(CONV_LAYERS)
    shapes = _shapes(model, lambda: model.decoder(model.reparameterize(*model.encoder(torch.rand(3, 1, 28, 28)))))
    for name, (kind, arguments, shape_in, shape_out, count) in CONV_LAYERS.items():
        layer = getattr(model, name)
        assert type(layer) is kind and {k: getattr(layer, k) for k in arguments} == arguments, name
        assert shapes[name] == (shape_in, shape_out) and _size(layer) == count, name
    encoder = sum(_size(getattr(model, name)) for name in ENCODER)
    assert (encoder, _size(model) - encoder) == (62_794, 65_089)


def test_mlp_vae_is_about_as_large(models):
    """Is each network of the given MLP VAE within 3% of 65,000 parameters, as the ConvVAE's are?"""
    model = models["MLPVAE"]
    encoder = sum(_size(getattr(model, name)) for name in ("enc_hidden", "enc_mu", "enc_logvar"))
    assert (encoder, _size(model) - encoder) == (64_702, 65_318)
    assert all(abs(count - 65_000) < 0.03 * 65_000 for count in (encoder, _size(model) - encoder))


@pytest.mark.parametrize("name", ["ConvVAE", "MLPVAE"])
def test_unconditional_methods_meet_their_docstrings(models, name):
    """Do encoder, decoder and loss of the ConvVAE (and of the MLP VAE, which borrows loss) give the docstrings'
    shapes and ranges, and is loss the Bernoulli reconstruction term plus the KL (not minus), with the same noise?"""
    model, x = models[name], torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        mu, logvar = model.encoder(x)
        theta = model.decoder(mu)
        assert mu.shape == logvar.shape == (4, 2) and theta.shape == (4, 1, 28, 28)
        assert ((theta > 0) & (theta < 1)).all()
        torch.manual_seed(1)
        loss = model.loss(x)
        torch.manual_seed(1)
        theta = model.decoder(mu + (0.5 * logvar).exp() * torch.randn_like(mu))
    bernoulli = -(x * theta.log() + (1 - x) * (1 - theta).log()).sum(dim=(1, 2, 3))
    kl = 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).sum(dim=1)
    assert loss.shape == (4,) and torch.allclose(loss, bernoulli + kl, rtol=1e-4)


def _planes(x, c):
    """The image and its label's 10 constant planes, built pixel by pixel: (batch, 11, 28, 28)."""
    joined = torch.zeros(len(x), 11, 28, 28)
    joined[:, :1] = x
    for row, label in enumerate(c.tolist()):
        joined[row, 1 + label] = 1.0
    return joined


def test_conditional_vae_joins_the_label_as_the_notebook_fixes(models):
    """Does the CVAE change only conv1 (11 channels in) and fc_dec (12 values in), with the docstring's shapes and
    sizes, feed the encoder the image then the 10 one-hot planes, and the decoder z then the one-hot label?"""
    model, conv = models["ConditionalVAE"], models["ConvVAE"]
    assert [name for name, _ in model.named_children()] == list(CONV_LAYERS)
    x, c, z = torch.rand(3, 1, 28, 28), torch.tensor([0, 7, 9]), torch.randn(3, 2)
    shapes = _shapes(model, lambda: model.decoder(model.encoder(x, c)[0], c))
    for name, (arguments, shape_in, shape_out, count) in CVAE_LAYERS.items():
        layer = getattr(model, name)
        assert {k: getattr(layer, k) for k in arguments} == arguments and _size(layer) == count, name
        assert shapes[name] == (shape_in, shape_out), name
    for name in set(CONV_LAYERS) - set(CVAE_LAYERS):
        assert _size(getattr(model, name)) == _size(getattr(conv, name)), name
    one_hot = torch.eye(10)[c]
    with torch.no_grad():
        joined = type(conv).encoder(model, _planes(x, c))  # ConvVAE's encoder on the planes built above
        assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(model.encoder(x, c), joined))
        assert torch.allclose(model.decoder(z, c), type(conv).decoder(model, torch.cat([z, one_hot], dim=1)), atol=1e-6)


def test_conditional_methods_meet_their_docstrings(models):
    """Is the CVAE's loss the reconstruction term plus the KL, per image; does sample(c) decode fresh z ~ N(0, I)
    with the labels c; does generate give n of each digit in turn through sample; does the label change the image?"""
    model, x, c = models["ConditionalVAE"], torch.rand(4, 1, 28, 28), torch.tensor([1, 1, 5, 8])
    with torch.no_grad():
        mu, logvar = model.encoder(x, c)
        torch.manual_seed(2)
        loss = model.loss(x, c)
        torch.manual_seed(2)
        theta = model.decoder(mu + (0.5 * logvar).exp() * torch.randn_like(mu), c)
        bernoulli = -(x * theta.log() + (1 - x) * (1 - theta).log()).sum(dim=(1, 2, 3))
        assert loss.shape == (4,) and torch.allclose(loss, bernoulli + 0.5 * (logvar.exp() + mu ** 2 - 1 - logvar).sum(1),
                                                     rtol=1e-4)
        torch.manual_seed(3)
        samples = model.sample(c)
        torch.manual_seed(3)
        assert samples.shape == (4, 1, 28, 28) and torch.allclose(samples, model.decoder(torch.randn(4, 2), c))
        torch.manual_seed(4)
        generated = model.generate([3, 0, 9], 2)
        torch.manual_seed(4)
        assert torch.allclose(generated, model.sample(torch.tensor([3, 3, 0, 0, 9, 9])))
        assert model.generate(range(10), 5).shape == (50, 1, 28, 28)
        z = torch.zeros(2, 2)
        assert not torch.allclose(*model.decoder(z, torch.tensor([3, 4])), atol=1e-4)
