"""The training runs start from the grader's own weights and grade what the student's loss learns from them
(autograder/sandbox/probing.py: start_from, train; autograder/grading/grading.py: check_start, check_moved), and Part 3's
trusted side checks the weights it gives its trusted children (graders/_layers.py: check_weights) and words the
generation checks' failures (graders/grade_generation.py)."""
import sys

import numpy as np
import pytest
import torch
from conftest import ROOT

from autograder.assignments.cvae.graders import grade_generation
from autograder.assignments.cvae.graders._layers import check_weights, parameter_shapes
from autograder.grading.grading import GradingFailure, check_moved, check_start

sys.path.insert(0, str(ROOT / "autograder" / "sandbox"))
import probing  # noqa: E402  (the child side: imported as the children import it)

nn = torch.nn


def _grader_layers():
    torch.manual_seed(0)
    return {"conv": nn.Conv2d(1, 4, 3, 2, 1), "fc": nn.Linear(4 * 14 * 14, 3)}


class _Student(nn.Module):
    """A model whose conv sits inside a Sequential built in __init__, with weights of its own."""

    def __init__(self, bias=True, kind=nn.Conv2d):
        super().__init__()
        self.conv = kind(1, 4, 3, 2, 1, bias=bias)
        self.fc = nn.Linear(4 * 14 * 14, 3)
        self.body = nn.Sequential(self.conv, nn.ReLU(), nn.Flatten(), self.fc)
        with torch.no_grad():
            for p in self.parameters():
                p.fill_(0.5)  # stands for weights trained elsewhere

    def forward(self, x):
        return self.body(x)


def test_start_from_puts_the_grader_weights_into_the_students_own_modules():
    """Does the grader's start reach the student's modules in place (a Sequential built around them sees it), and
    are layers of another type or without a bias named, with nothing copied?"""
    initial, vae = _grader_layers(), _Student()
    modules, unfit = probing.start_from(vae, initial)
    assert unfit == [] and modules["conv"] is vae.conv and vae.body[0] is vae.conv
    assert torch.equal(vae.body[0].weight, initial["conv"].weight) and torch.equal(vae.fc.bias, initial["fc"].bias)
    for student in (_Student(bias=False), _Student(kind=nn.ConvTranspose2d)):
        modules, unfit = probing.start_from(student, _grader_layers())
        assert unfit == ["conv"] and torch.all(student.conv.weight == 0.5)


def _run(loss_of, steps=3):
    vae = _Student()
    modules, _ = probing.start_from(vae, _grader_layers())
    batches = [torch.rand(2, 1, 28, 28) for _ in range(steps)]
    return probing.train(vae, batches, lambda x: loss_of(vae, x), "loss", {"learning_rate": 1e-3}, watch=modules)


def test_train_says_which_layers_did_not_move_and_when_the_loss_changed_the_weights():
    """Does a loss with a gradient move every layer, a zero-gradient loss none, a loss that leaves one layer out
    only that one, and a loss that writes the weights itself stop training at that step?"""
    _, info = _run(lambda vae, x: vae(x).pow(2).sum())
    assert info["unmoved"] == [] and info["changed_step"] is None and info["steps"] == 3
    _, info = _run(lambda vae, x: 0.0 * vae(x).sum())
    assert info["unmoved"] == ["conv", "fc"] and info["watched"] == 2
    _, info = _run(lambda vae, x: vae.fc(torch.ones(2, 4 * 14 * 14)).pow(2).sum())
    assert info["unmoved"] == ["conv"]

    calls = []

    def overwrite(vae, x):
        calls.append(1)
        if len(calls) > 1:  # from the second step on
            with torch.no_grad():
                vae.fc.weight.fill_(0.5)
        return vae(x).pow(2).sum()

    _, info = _run(overwrite)
    assert info["changed_step"] == 1 and info["steps"] == 1


def test_train_stays_on_the_reference_noise_whatever_the_students_init_draws():
    """Does the student's __init__ leave the random state the run's noise comes from as it found it?"""
    torch.manual_seed(3)
    probing.student_init("VAE.__init__", _Student)
    after = torch.rand(3)
    torch.manual_seed(3)
    assert torch.equal(after, torch.rand(3))


def _fails(check, *args) -> str:
    with pytest.raises(GradingFailure) as caught:
        check(*args)
    return str(caught.value)


def test_training_fails_with_the_reason_when_it_did_not_learn_from_the_graders_start():
    """Does the trusted side name unfit layers (and point to the layers' tests), a loss that wrote the weights, and
    layers training left in place, and pass a run that moved them all?"""
    says = _fails(check_start, {"unfit": ["conv1"], "types": {"conv1": "Linear"}}, "the layers' tests")
    assert "layer conv1 (Linear) is not" in says and "see the layers' tests" in says
    assert "changed the model's weights itself, at training step 4" in _fails(check_start, {"changed_step": 4}, "")
    says = _fails(check_moved, {"unmoved": ["fc", "conv"], "watched": 2})
    assert "did not change any of your model's weights" in says and ".detach()" in says
    assert "the weights of fc_logvar" in _fails(check_moved, {"unmoved": ["fc_logvar"], "watched": 9}, "Fix X.")
    check_start({"unmoved": [], "changed_step": None}, "")
    check_moved({"unmoved": [], "watched": 9})


def _weights(kind="cond"):
    return {key: np.zeros(shape, np.float32) for key, shape in parameter_shapes(kind).items()}


def test_weights_are_checked_before_a_trusted_child_copies_them():
    """Is each mistake in the weights given to a trusted child named with its layer (a missing bias, the other
    kind of convolution's layout, a wrong type, NaN) before the child runs, and are the notebook's passed?"""
    check_weights(_weights(), "cond", "ConditionalVAE", "trained")
    check_weights(_weights("conv"), "conv", "ConvVAE", "initial", {"deconv3": "ConvTranspose2d"})
    weights = _weights()
    del weights["w/conv2.bias"]
    assert "ConditionalVAE.conv2 has no bias (built with bias=False?)" in _fails(
        check_weights, weights, "cond", "ConditionalVAE", "trained")
    weights = {**_weights("conv"), "w/deconv3.weight": np.zeros((1, 32, 3, 3), np.float32)}
    says = _fails(check_weights, weights, "conv", "ConvVAE", "initial")
    assert "deconv3.weight has shape (1, 32, 3, 3)" in says and "(32, 1, 3, 3)" in says and "Conv2d" in says
    says = _fails(check_weights, _weights("conv"), "conv", "ConvVAE", "initial", {"deconv3": "Conv2d"})
    assert "ConvVAE.deconv3 is nn.Conv2d, where the notebook's table has nn.ConvTranspose2d" in says
    weights = _weights()
    weights["w/fc.weight"][0, 0] = np.nan
    assert "trained weights of your ConditionalVAE.fc.weight contain NaN" in _fails(
        check_weights, weights, "cond", "ConditionalVAE", "trained")


def test_generation_names_the_label_mistake_only_when_it_fits():
    """Does a failed generation check name the label's missing from the decoder only when the label changes
    nothing, a label in the wrong place when each digit is consistently drawn as another, and else say the model
    learned too little?"""
    labels = np.repeat(np.arange(10), 20)
    assert "must reach the decoder" in grade_generation.why_wrong_digits(labels % 3, labels, 0.0)
    says = grade_generation.why_wrong_digits((labels + 2) % 10, labels, 0.08)
    assert "0 -> 2" in says and "not where the notebook puts it" in says and "must reach" not in says
    says = grade_generation.why_wrong_digits(np.random.default_rng(0).integers(0, 10, 200), labels, 0.08)
    assert "learned too little" in says and "must reach" not in says
