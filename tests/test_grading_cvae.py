"""Grading Part 3 (cvae) end to end: the solution at full marks, the template at 0, the written answers passed to
the staff, and mistakes charged to their own method with a message that names them."""
import sys

import pytest
from conftest import ROOT, grade_text, lost_groups, mutate

from autograder import config
from autograder.core.assignment import load
from autograder.harness import harness
from autograder.notebook.submission import load_submission

PART3 = load("cvae")
SOLUTION3 = ROOT / "solution" / "cvae.ipynb"
TEMPLATE3 = ROOT / "student_template" / "cvae.ipynb"


@pytest.fixture(scope="module")
def source3() -> str:
    """The solution's ConvVAE and ConditionalVAE cells, as a .py submission would hold them."""
    return load_submission(SOLUTION3, PART3).source


def test_template_gets_zero_and_unanswered_questions_fail(classifier_file):
    """Does the template get 0 on every test, each saying why, and fail each answer check as not answered?"""
    result = harness.grade(TEMPLATE3)
    assert result.score == 0 and result.max_score == PART3.max_score
    assert all(t.output and t.status == "failed" for t in result.tests)
    assert all("not answered" in t.output for t in result.tests if t.group == "answers")
    assert result.answers == {}
    assert "The written answers (20 points) are graded by hand" in result.output


MISTAKES = [
    ("conv_layers", "self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)",
     "self.conv2 = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=0)", "outputs (batch, 64, 6, 6)"),
    ("conv_layers", "self.deconv3 = nn.ConvTranspose2d(32, 1, kernel_size=3, stride=1, padding=1)",
     "self.deconv3 = nn.ConvTranspose2d(32, 1, kernel_size=3, stride=1, padding=0)", "deconv3"),
    ("conv_encoder", "hidden = F.relu(self.fc(hidden.flatten(start_dim=1)))",
     "hidden = self.fc(hidden.flatten(start_dim=1))", "is not what it should be"),
    ("conv_decoder", "return torch.sigmoid(self.deconv3(hidden))", "return self.deconv3(hidden)", "sigmoid"),
    ("conv_loss", "return reconstruction + kl", "return reconstruction - kl", "subtracts the KL"),
    ("cond_decoder", "return super().decoder(torch.cat([z, F.one_hot(c, self.num_classes).to(z.dtype)], dim=1))",
     "return super().decoder(torch.cat([z, torch.zeros(len(z), self.num_classes)], dim=1))", "is not what"),
    ("generate", "return self.sample(labels.repeat_interleave(n))", "return self.sample(labels.repeat(n))",
     "repeat_interleave"),
    ("sample", "z = torch.randn(len(c), self.latent_dim, device=c.device)",
     "z = torch.rand(len(c), self.latent_dim, device=c.device)", "prior"),
]


@pytest.mark.parametrize("method, old, new, says", MISTAKES, ids=[f"{m[0]}-{i}" for i, m in enumerate(MISTAKES)])
def test_mistake_costs_its_own_method_and_is_named(source3, tmp_path, method, old, new, says):
    """Does this single mistake lose points in its own method only, with a message naming it?"""
    tests, _ = grade_text(tmp_path, mutate(source3, old, new), groups=PART3.methods, assignment="cvae")
    assert lost_groups(tests) == {method}, {k: t.output for k, t in tests.items() if t.score < t.max_score}
    assert any(says in t.output for t in tests.values() if t.group == method), \
        [t.output for t in tests.values() if t.group == method]


def test_spread_puts_every_head_and_the_output_over_both_signs():
    """Are the numbers of cases.SPREAD those autograder/assignments/cvae/tools/spread_cases.py computes from the
    reference, and do they make each column of mu and logvar (and, outside the loss's cases, the pre-sigmoid) take
    both signs on each case's inputs, so that a ReLU, an exp or a tanh where none belongs shows?"""
    import numpy as np
    import torch

    sys.path.insert(0, str(ROOT / "autograder" / "assignments" / "cvae" / "tools"))
    import spread_cases

    from autograder.assignments.cvae import cases

    for key, case in cases.spread_cases(config.mnist_root()):
        numbers = cases.SPREAD[key]
        computed = spread_cases.spread_of(case, not key.startswith("loss/"))
        for layer, (scales, biases) in numbers.items():
            assert np.allclose(scales, computed[layer][0], rtol=1e-4) and np.allclose(biases, computed[layer][1],
                                                                                      rtol=1e-4, atol=1e-5), key
        _, heads, logits = spread_cases.activations(case)
        for layer, out in heads.items():
            scales, biases = (torch.tensor(v) for v in numbers[layer])
            spread = out * scales + biases
            assert ((spread > 0).any(0) & (spread < 0).any(0)).all(), (key, layer, spread)
        if not key.startswith("loss/"):
            scale, bias = numbers["deconv3"][0][0], numbers["deconv3"][1][0]
            pre_sigmoid = logits * scale + bias
            assert (pre_sigmoid > 0).float().mean().item() > 0.3 and (pre_sigmoid < 0).float().mean().item() > 0.3


def test_a_wrong_latent_dim_in_conditional_init_costs_only_its_layers(source3, tmp_path):
    """Does a ConditionalVAE.__init__ that passes the wrong latent_dim to ConvVAE.__init__ lose points in
    cond_layers only, and sample (the reference's code) keep its points?"""
    marker = "\n        ### BEGIN SOLUTION\n        self.conv1 = nn.Conv2d(1 +"
    wrong = mutate(source3, "super().__init__(latent_dim)" + marker, "super().__init__(latent_dim + 1)" + marker)
    tests, _ = grade_text(tmp_path, wrong, groups=("cond_layers", "sample"), assignment="cvae")
    assert lost_groups(tests) == {"cond_layers"}, {k: t.output for k, t in tests.items() if t.score < t.max_score}


def test_sample_decodes_in_parts_the_same_images_row_by_row():
    """Does the reference decoder that a student's ``sample`` calls (probes.decode_in_parts, which keeps the
    deconvolutions' memory small) return the images of one call, in order, for many codes, and pass any other
    call (one code, a keyword, mismatched lengths) through unchanged?"""
    import torch

    sys.path.insert(0, str(ROOT / "autograder" / "sandbox"))  # the children import probing as a sibling
    from autograder.assignments.cvae import probes

    calls = []

    def decoder(z, c=None):
        calls.append(len(z))
        return z * 2 + (0 if c is None else c[:, None])

    z, c = torch.randn(250, 2), torch.arange(250) % 10
    parts = probes.decode_in_parts(decoder, rows=100)
    assert torch.equal(parts(z, c), z * 2 + c[:, None]) and calls == [100, 100, 50]
    calls.clear()
    assert torch.equal(parts(z[:5], c[:5]), z[:5] * 2 + c[:5, None]) and calls == [5]
    assert torch.equal(parts(z, c=c), z * 2 + c[:, None]) and calls == [5, 250]
    with pytest.raises(RuntimeError):
        parts(z, c[:7])  # the decoder's own error, as without parts


def test_trusted_test_elbo_in_parts_is_one_call_per_block():
    """Does the trusted evaluation's test-set ELBO (probes.test_elbo_sum: blocks of 500 images, each block's noise
    drawn at once, run 100 images at a time to keep its memory small) give the numbers of one call of the
    reference's loss per block of 500, and leave the random stream where those calls leave it?"""
    import torch

    sys.path.insert(0, str(ROOT / "autograder" / "sandbox"))  # the children import probing as a sibling
    from autograder.assignments.cvae import probes, reference

    torch.manual_seed(1)
    vae = reference.ConditionalVAE(2)
    x, c = torch.rand(1200, 1, 28, 28), torch.arange(1200) % 10
    with torch.no_grad():
        torch.manual_seed(5)
        blocks, after_blocks = sum(float(-vae.loss(xb, cb).sum()) for xb, cb in zip(x.split(500), c.split(500))), \
            torch.randn(3)
        torch.manual_seed(5)
        parts, after_parts = probes.test_elbo_sum(vae, x, c), torch.randn(3)
    assert parts == pytest.approx(blocks, rel=1e-6) and torch.equal(after_parts, after_blocks)
    assert "reparameterize" not in vae.__dict__  # the reference's own method again
