"""Part 2 (seeds 000, 001, 002): the latent space of a 2-D VAE with a log-variance encoder; ``solution/vae2d.ipynb``.

Points, visibility and time limits of every test; the training run and the quality checks with their
thresholds; the imports the notebook allows; the probes with their cases, outputs and info. The method points add
up to the notebook's task points (60); training, quality and figures are priced in the notebook's table too.
Expected values come from the reference ``VAE2D`` (``reference.py``, generated from the solution notebook by
``make student``), run in a child of its own that runs no student code.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from autograder.core.assignment import TRAINING_INFO, Assignment, Info, Output, ProbeSpec, TestSpec, again_with
from autograder.core.assignment import expected_outputs as _expected

from . import cases
from .cases import LAYERS

#: The methods students implement, in the notebook's task order.
METHODS = ("encoder", "reparameterize", "decoder", "loss", "reconstruct", "latent_grid", "interpolate", "pick_pairs")
#: Task points per method, as printed in the notebook.
TASK_POINTS = {"encoder": 10, "reparameterize": 5, "decoder": 5, "loss": 15, "reconstruct": 5, "latent_grid": 5,
               "interpolate": 10, "pick_pairs": 5}

#: Every test, keyed "group.check"; a grader names its key with ``@grades("group.check")``.
TESTS = {
    "encoder.shapes": TestSpec(3),
    "encoder.values": TestSpec(7),
    "reparameterize.shapes": TestSpec(1),
    "reparameterize.statistics": TestSpec(2),
    "reparameterize.gradients": TestSpec(2),
    "decoder.shapes": TestSpec(2),
    "decoder.values": TestSpec(3),
    "loss.shapes": TestSpec(2),
    "loss.point_mass": TestSpec(6),
    "loss.sampled": TestSpec(4),
    "loss.gradients": TestSpec(3),
    "reconstruct.shapes": TestSpec(1),
    "reconstruct.values": TestSpec(4),
    "latent_grid.shapes": TestSpec(1),
    "latent_grid.values": TestSpec(4),
    "interpolate.shapes": TestSpec(2),
    "interpolate.endpoints": TestSpec(3),
    "interpolate.values": TestSpec(5),
    "pick_pairs.shapes": TestSpec(1),
    "pick_pairs.pairs": TestSpec(3),
    "pick_pairs.random": TestSpec(1),
    "training.test_elbo": TestSpec(6, timeout=600.0),
    "quality.digit_grid": TestSpec(2, timeout=600.0, probe="training"),
    "quality.reconstructions": TestSpec(2, timeout=600.0, probe="training"),
    "quality.coverage": TestSpec(2, timeout=600.0, probe="training"),
    "figures.curves": TestSpec(1, probe=""),
    "figures.scatter": TestSpec(1, probe=""),
    "figures.manifold": TestSpec(1, probe=""),
    "figures.digit_grid": TestSpec(1, probe=""),
    "figures.reconstructions": TestSpec(1, probe=""),
    "figures.beta": TestSpec(1, probe=""),
    "figures.interpolations": TestSpec(2, probe=""),
}


@dataclass(frozen=True)
class Training:
    """The short training run graded by ``training.test_elbo`` and judged by the quality checks.

    The submission's own ``loss(x, 1.0)`` drives Adam on the MNIST training set; a child that runs no student
    code then computes the test-set ELBO of the trained weights with the reference (one sample per image, fixed
    noise). ``min_test_elbo`` is calibrated with ``scripts/calibrate.py --assignment vae2d``: see the README.
    """

    #: 3 epochs of 128 images a step at Adam 3e-3: the cheapest run measured by ``scripts/training_candidates.py
    #: --assignment vae2d`` that keeps every pass mark at least 8 standard deviations of the reference's seeds below
    #: their mean and catches every corpus bug that the previous run (5 epochs of 64 at
    #: 1e-3) caught, at about a third of its CPU. With 2 latent dimensions, 1 epoch of 128 at 1e-3 leaves the digits mixed
    #: (the per-digit grid 46% right, 5 digits among the samples), and 2 epochs of 128 at 3e-3 let a seed's
    #: samples show only 8 digits; see the README.
    epochs: int = 3
    batch_size: int = 128
    learning_rate: float = 3e-3
    hidden_dim: int = 512
    seed: int = 0
    fused_adam: bool = True
    #: The reference over 8 seeds: -157.4 +- 0.7 nats, worst -158.6 (see the README).
    min_test_elbo: float = -165.0


TRAINING = Training()


@dataclass(frozen=True)
class Quality:
    """The quality checks on what the trained model makes, judged by the kit's digit classifier.

    Each threshold is calibrated on the reference over several seeds (``scripts/calibrate.py --assignment vae2d``).
    """

    #: Rows of the per-digit grid: images decoded from each digit's region of the latent plane.
    per_digit: int = 5
    #: At least this fraction of the per-digit grid's images is classified as its row's digit (reference, 8 seeds:
    #: 0.83 +- 0.06, worst 0.76; a decoder that ignores z: 0.1).
    min_digit_grid: float = 0.35
    #: Test images reconstructed; at least this fraction of their reconstructions keeps its label (reference:
    #: 0.58 +- 0.02, worst 0.56: two latent dimensions cannot hold every digit's details).
    reconstructions: int = 1000
    min_reconstructions: float = 0.43
    #: Images decoded from z ~ N(0, I); they must show at least this many of the 10 digits (seed 001:
    #: "clearly capture most of the 10 different digit classes"), each in at least ``min_share`` of them.
    samples: int = 1000
    #: The reference shows 9.5 +- 0.5 digits, worst 9: 8 standard deviations below the mean is 5 digits (a model
    #: that collapsed shows 1 to 3; every corpus bug this check catches also misses the test-ELBO mark).
    min_digits: int = 5
    min_share: float = 0.005


QUALITY = Quality()

#: Gradescope leaderboard columns (see Part 1's spec).
LEADERBOARD = {"test_elbo": {"name": "Test ELBO (nats)", "order": "desc"}}

#: Modules the notebook imports; importing anything else is an added import, which the rules forbid.
ALLOWED_IMPORTS = frozenset({"matplotlib.pyplot", "numpy", "torch", "torch.nn", "torch.nn.functional",
                             "vae_utils"})

#: The trained weights (none when the model's layers are not the notebook's: training then says so).
_WEIGHTS = tuple(Output(f"w/{layer}.{p}", required=False) for layer in LAYERS for p in ("weight", "bias"))


#: Every probe: the method it runs, its cases, what it returns (arrays and info), the reference pieces around it,
#: where its expected values come from.
PROBES = {
    "encoder": ProbeSpec("encoder", cases.encoder, (Output("mu"), Output("logvar")), expected="expected_encoder",
                         again=again_with(x=lambda x: 1 - x[::-1])),  # its second round of calls: other images
    "expected_encoder": ProbeSpec("encoder", cases.encoder, _expected("mu", "logvar"), reference=(), student_code=False),
    "reparameterize": ProbeSpec("reparameterize", cases.reparameterize,
                                (Output("z0"), Output("z1", required=False), Output("grad_mu", required=False),
                                 Output("grad_logvar", required=False)),
                                info=(Info("grad_mu", "bool"), Info("grad_logvar", "bool"))),  # with grad: a gradient?
    "decoder": ProbeSpec("decoder", cases.decoder, (Output("theta"),), expected="expected_decoder",
                         again=again_with(z=lambda z: -z[::-1])),  # its second round of calls: other codes
    "expected_decoder": ProbeSpec("decoder", cases.decoder, _expected("theta"),
                                  reference=(), student_code=False),
    "loss": ProbeSpec("loss", cases.loss,
                      (Output("loss"), Output("loss_more"), Output("repeats", required=False), Output("repeats_more", required=False),
                       *(Output(f"grad/{layer}", required=False) for layer in LAYERS)),
                      reference=("encoder", "decoder", "reparameterize"), expected="expected_loss",
                      # calls of reparameterize on the batch (the case's noise), and others; {layer: a gradient?}
                      info=(Info("noise_calls", "int"), Info("fresh_calls", "int"), Info("grads", "dict"))),
    "expected_loss": ProbeSpec("loss", cases.loss,
                               (*_expected("loss", "loss_more", "reconstruction", "kl", "mu", "logvar", "theta",
                                           loss=("batch",), loss_more=("batch",), theta=("batch", "obs")),
                                *(Output(f"expected/grad/{layer}", "float", from_student=False) for layer in LAYERS),
                                Output("expected/repeats", "float", required=False, from_student=False),
                                Output("expected/repeats_more", "float", required=False, from_student=False)),
                               reference=(), student_code=False),
    "reconstruct": ProbeSpec("reconstruct", cases.reconstruct, (Output("theta"), Output("again")),
                             reference=("encoder", "decoder"), expected="expected_reconstruct"),
    "expected_reconstruct": ProbeSpec("reconstruct", cases.reconstruct, _expected("theta", "again"), reference=(),
                                      student_code=False),
    "latent_grid": ProbeSpec("latent_grid", cases.latent_grid, (Output("images"),), reference=("decoder",),
                             expected="expected_latent_grid"),
    "expected_latent_grid": ProbeSpec("latent_grid", cases.latent_grid, _expected("images", images=("rows", "obs")),
                                      reference=(), student_code=False),
    "interpolate": ProbeSpec("interpolate", cases.interpolate, (Output("row"),), reference=("encoder", "decoder"),
                             expected="expected_interpolate"),
    "expected_interpolate": ProbeSpec("interpolate", cases.interpolate,
                                      _expected("row", "linspace", "ends", row=("rows", "obs")),
                                      reference=(), student_code=False),
    "pick_pairs": ProbeSpec("pick_pairs", cases.pick_pairs, (Output("pairs"), Output("again"))),
    "training": ProbeSpec("loss", partial(cases.training, TRAINING), (Output("losses", "float", from_student=False), *_WEIGHTS), repeat=False,
                          info=TRAINING_INFO),
    # run by the training and quality graders on the trained weights, with cases.evaluation's cases
    "evaluate": ProbeSpec("training", None, (Output("test_elbo", "float", (1,), from_student=False),
                                             Output("reconstructions", "float", from_student=False),
                                             Output("samples", "float", from_student=False),
                                             Output("digit_grid", "float", from_student=False)),
                          reference=(), student_code=False),
}

#: The probes whose tests judge random draws (``make false-failures``), with the seeds that fit in one child.
STATISTICAL = {"reparameterize": 50, "loss": 5}
#: Correct variants measured besides the reference, on the probes whose code path they change (a loss drawing its
#: own noise takes the statistical fallback of loss.sampled).
CORRECT_VARIANTS = {"reparam_sqrt_variance.py": ("reparameterize",),
                    "reparam_normal_noise_clamp_relu.py": ("reparameterize",),
                    "v_reparam_empty_normal_inplace.py": ("reparameterize",),
                    "loss_inline_noise_keywords.py": ("loss",), "v_loss_own_noise_logits.py": ("loss",),
                    "v_loss_numpy_noise.py": ("loss",)}

#: Variables of the notebook's other cells that a method may not read, and what to use instead (the hint of a
#: NameError on them).
NOTEBOOK_VARIABLES = {
    "vae": "use `self`, the model the method belongs to",
    **{name: "a method should use only its arguments and `self`"
       for name in ("x_train", "x_test", "y_train", "y_test", "subset", "history", "originals", "prior_codes")},
    "labels": "take the labels from the method's arguments",
    "epochs": "a method of the model should not depend on the training loop's settings",
}
#: The rules forbid torch.distributions: the closed-form KL and the reparameterization are the student's own.
FORBIDDEN_MODULES = ("torch.distributions",)

ASSIGNMENT = Assignment(
    name="vae2d", title="Part 2: the latent space of a 2-D VAE (seeds 000-002)", notebook="vae2d.ipynb",
    classes=("VAE2D",), methods=METHODS, task_points=TASK_POINTS, tests=TESTS, probes=PROBES,
    extra_groups=("training", "quality", "figures"), allowed_imports=ALLOWED_IMPORTS, leaderboard=LEADERBOARD,
    training=TRAINING, data_groups=("training", "quality", "loss"), classifier_groups=("quality",),
    training_cpu_seconds=15.5, training_methods=("encoder", "reparameterize", "decoder", "loss"),
    generated_reference=True, statistical=STATISTICAL, correct_variants=CORRECT_VARIANTS,
    forbidden_modules=FORBIDDEN_MODULES, notebook_variables=NOTEBOOK_VARIABLES)
