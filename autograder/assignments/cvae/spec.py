"""Part 3 (seed 003): the convolutional VAE and the conditional VAE; ``solution/cvae.ipynb``.

Students complete ``ConvVAE`` (its layers, encoder, decoder, loss) and ``ConditionalVAE(ConvVAE)`` (its changed
layers, encoder(x, c), decoder(z, c), loss(x, c), sample(c), generate(digits, n)). Each method is graded with the
reference's layers, weights and other methods around it; expected values come from the reference (generated from the
solution notebook by ``make student``) in a child that runs no student code. The layers are checked by their types,
parameter counts and output shapes, and by the forward values of the reference run with the student's own initial
weights. The written answers are checked for presence (0 points here) and graded by hand.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from autograder.core.assignment import TRAINING_INFO, Assignment, Info, Output, ProbeSpec, TestSpec
from autograder.core.assignment import expected_outputs as _expected

from . import cases

METHODS = ("conv_layers", "conv_encoder", "conv_decoder", "conv_loss", "cond_layers", "cond_encoder",
           "cond_decoder", "cond_loss", "sample", "generate")
#: The graded methods as the notebook's tasks name them.
METHOD_OF = {"conv_layers": "ConvVAE.__init__", "conv_encoder": "ConvVAE.encoder", "conv_decoder": "ConvVAE.decoder",
             "conv_loss": "ConvVAE.loss", "cond_layers": "ConditionalVAE.__init__",
             "cond_encoder": "ConditionalVAE.encoder", "cond_decoder": "ConditionalVAE.decoder",
             "cond_loss": "ConditionalVAE.loss", "sample": "ConditionalVAE.sample",
             "generate": "ConditionalVAE.generate"}
#: Task points per method, as printed in the notebook.
TASK_POINTS = {"conv_layers": 10, "conv_encoder": 5, "conv_decoder": 5, "conv_loss": 10, "cond_layers": 5,
               "cond_encoder": 5, "cond_decoder": 5, "cond_loss": 5, "sample": 5, "generate": 5}

TESTS = {
    "conv_layers.shapes": TestSpec(4),
    "conv_layers.values": TestSpec(6),
    "conv_encoder.shapes": TestSpec(1),
    "conv_encoder.values": TestSpec(4),
    "conv_decoder.shapes": TestSpec(1),
    "conv_decoder.values": TestSpec(4),
    "conv_loss.shapes": TestSpec(2),
    "conv_loss.values": TestSpec(8),
    "cond_layers.shapes": TestSpec(2),
    "cond_layers.values": TestSpec(3),
    "cond_encoder.shapes": TestSpec(1),
    "cond_encoder.values": TestSpec(4),
    "cond_decoder.shapes": TestSpec(1),
    "cond_decoder.values": TestSpec(4),
    "cond_loss.shapes": TestSpec(1),
    "cond_loss.values": TestSpec(4),
    "sample.shapes": TestSpec(1),
    "sample.prior": TestSpec(2),
    "sample.labels": TestSpec(1),
    "sample.returned": TestSpec(1),
    "generate.shapes": TestSpec(1),
    "generate.order": TestSpec(3),
    "generate.returned": TestSpec(1),
    "training.test_elbo": TestSpec(5, timeout=600.0),
    "generation.digits": TestSpec(3, timeout=600.0, probe="training"),
    "generation.label_matters": TestSpec(2, timeout=600.0, probe="training"),
    "figures.scatter": TestSpec(1, probe=""),
    "figures.manifold": TestSpec(1, probe=""),
    "figures.origin": TestSpec(1, probe=""),
    "figures.conditional": TestSpec(2, probe=""),
    "answers.sketch": TestSpec(0, probe=""),
    "answers.centred": TestSpec(0, probe=""),
    "answers.better": TestSpec(0, probe=""),
    "answers.compare": TestSpec(0, probe=""),
}


@dataclass(frozen=True)
class Training:
    """The training run graded by ``training.test_elbo`` and judged by the generation checks.

    The submission's own ``ConditionalVAE.loss(x, c)`` drives Adam on ``images`` training images (a fixed random
    subset) for ``epochs``: the convolutions cost ~50 times Part 1's arithmetic per image. The settings are the
    cheapest measured by ``scripts/training_candidates.py --assignment cvae`` that keep every pass mark at least 8
    standard deviations of the reference's seeds below their mean and catch every corpus bug the previous run
    (20,000 images in batches of 64) caught, at about half its CPU (see the README). A child that runs no student
    code computes the test-set ELBO of the trained weights with the reference.
    """

    images: int = 10000
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 0
    fused_adam: bool = True
    #: The grader's starting weights, put into the student's layers: "he", the notebook's He initialisation
    #: (``he_init``), seeded; "default", PyTorch's (from which the short run leaves the model partly collapsed).
    init: str = "he"
    #: The reference from the grader's start over 8 seeds: -151.3 +- 5.9 nats, worst -164.6 (see the README).
    min_test_elbo: float = -205.0


TRAINING = Training()


@dataclass(frozen=True)
class Checks:
    """The generation checks on the trained CVAE, judged by the kit's digit classifier; calibrated on the reference."""

    #: Test images whose ELBO is averaged.
    test_images: int = 2000
    #: Samples per digit; at least ``min_digits`` of them are classified as the digit asked for (reference, 8
    #: seeds: 0.785 +- 0.045, worst 0.705; a decoder that ignores its label: about 0.1).
    per_digit: int = 20
    min_digits: float = 0.35
    #: Codes decoded with every label: changing the label with z fixed changes the image by at least
    #: ``min_change`` (mean absolute pixel difference between labels).
    fixed_codes: int = 8
    #: The reference: 0.093 +- 0.008, worst 0.080; a decoder that ignores its label: 0.
    min_change: float = 0.01


CHECKS = Checks()

LEADERBOARD = {"test_elbo": {"name": "Test ELBO of the CVAE (nats)", "order": "desc"}}
ALLOWED_IMPORTS = frozenset({"matplotlib.pyplot", "numpy", "torch", "torch.nn", "torch.nn.functional", "vae_utils",
                             "time"})
LAYERS = ("conv1", "conv2", "fc", "fc_mu", "fc_logvar", "fc_dec", "deconv1", "deconv2", "deconv3")
_WEIGHTS = tuple(Output(f"w/{layer}.{p}", "float", required=False) for layer in LAYERS for p in ("weight", "bias"))


def _layers_outputs():
    return (*(Output(f"params/{layer}", "int", (1,), required=False, from_student=False) for layer in LAYERS),
            *(Output(f"shape/{layer}", "int", required=False, from_student=False) for layer in LAYERS),
            *_WEIGHTS, Output("mu", "float", required=False), Output("logvar", "float", required=False),
            Output("theta", "float", required=False))


#: Every method of the reference, qualified: a probe gets them all but the answer to the method it grades.
REFERENCE_METHODS = tuple(f"{c}.{m}" for c in ("ConvVAE", "ConditionalVAE")
                          for m in ("__init__", "encoder", "decoder", "reparameterize", "loss", "sample", "generate"))


def _without(*answers) -> tuple:
    return tuple(m for m in REFERENCE_METHODS if m not in answers)


def _optional(outputs: tuple, *names) -> tuple:
    """``outputs`` with ``expected/<name>`` of ``names`` made optional (a case may not have them)."""
    return tuple(Output(o.name, o.dtype, o.shape, False, o.from_student) if o.name in {f"expected/{n}" for n in names}
                 else o for o in outputs)


#: What the layers probes say of a submission's ``__init__``: ``{layer: its type's name, or None}``, and the error the
#: reference's encoder or decoder raised on its layers (when they do not fit together).
LAYERS_INFO = (Info("types", "dict"), Info("forward_error", "str"))
#: What a loss probe says: the calls of reparameterize given the case's noise (the whole batch), and the others.
LOSS_INFO = (Info("noise_calls", "int"), Info("fresh_calls", "int"))


def _pair(kind: str, method: str, outputs: tuple, expected: tuple, info: tuple = ()) -> dict:
    """The probe of ``method`` for class ``kind`` ("conv"/"cond") with its ``info``, and its expected probe."""
    class_name, name = cases.CLASSES[kind], f"{kind}_{method}"
    # a loss's child gets neither class's loss: one is the other's answer, given the other's pieces
    answers = ("ConvVAE.loss", "ConditionalVAE.loss") if method == "loss" else (f"{class_name}.{method}",)
    return {name: ProbeSpec(name, cases.per_class(kind, method), outputs, reference=_without(*answers),
                            expected=f"expected_{name}", class_name=class_name, info=info),
            f"expected_{name}": ProbeSpec(name, cases.per_class(kind, method), expected, reference=(),
                                          student_code=False)}


PROBES = {
    "conv_layers": ProbeSpec("conv_layers", cases.per_class("conv", "layers"), _layers_outputs(),
                             reference=_without("ConvVAE.__init__"), class_name="ConvVAE", repeat=False,
                             info=LAYERS_INFO),
    "cond_layers": ProbeSpec("cond_layers", cases.per_class("cond", "layers"), _layers_outputs(),
                             reference=_without("ConditionalVAE.__init__"), class_name="ConditionalVAE", repeat=False,
                             info=LAYERS_INFO),
    **{f"evaluate_{kind}_layers": ProbeSpec(f"{kind}_layers", None, _expected("mu", "logvar", "theta"), reference=(),
                                            student_code=False) for kind in cases.CLASSES},
    **{name: probe for kind in cases.CLASSES for name, probe in {
        **_pair(kind, "encoder", (Output("mu"), Output("logvar"), Output("conv1_input", "float", required=False)),
                _optional(_expected("mu", "logvar", "conv1_input"), "conv1_input")),
        **_pair(kind, "decoder", (Output("theta"), Output("fc_dec_input", "float", required=False)),
                _optional(_expected("theta", "fc_dec_input"), "fc_dec_input")),
        **_pair(kind, "loss", (Output("loss"), Output("repeats", required=False),
                               Output("decoded", "float", required=False)),
                _optional(_expected("loss", "mu", "logvar", "theta_z", "theta_var", "x", "repeats"), "repeats"),
                LOSS_INFO),
    }.items()},
    "sample": ProbeSpec("sample", cases.sample, (Output("theta"), Output("decoder_input", required=False)),
                        reference=_without("ConditionalVAE.sample", "ConditionalVAE.generate"),
                        class_name="ConditionalVAE"),
    "generate": ProbeSpec("generate", cases.generate, (Output("theta"), Output("labels", "int", required=False),
                                                       Output("decoder_input", required=False)),
                          reference=_without("ConditionalVAE.generate"), class_name="ConditionalVAE"),
    **{f"decode_{m}": ProbeSpec(m, None, _expected("theta"), reference=(), student_code=False)
       for m in ("sample", "generate")},
    "training": ProbeSpec("cond_loss", partial(cases.training, TRAINING), (Output("losses", "float", from_student=False), *_WEIGHTS),
                          reference=("ConvVAE.__init__", "ConditionalVAE.__init__"), class_name="ConditionalVAE",
                          repeat=False, info=TRAINING_INFO),
    "evaluate": ProbeSpec("training", None, (Output("test_elbo", "float", (1,), from_student=False),
                                             Output("samples", "float", from_student=False),
                                             Output("relabelled", "float", from_student=False)),
                          reference=(), student_code=False),
}

#: The probes whose tests judge random draws (``make false-failures``), with the seeds that fit in one child (the
#: sample probe decodes 2,000 labels a seed, and a child keeps both rounds).
STATISTICAL = {"sample": 5, "conv_loss": 10, "cond_loss": 10}
#: Correct variants measured besides the reference, on the probes whose code path they change (a loss drawing its
#: own noise; samplers drawing differently).
CORRECT_VARIANTS = {"c_loss_own_noise.py": ("conv_loss", "cond_loss"),
                    "c_loss_own_noise_normal.py": ("conv_loss", "cond_loss"),
                    "sample_randn_two.py": ("sample",), "sample_torch_normal.py": ("sample",)}

#: Variables of the notebook's other cells that a method may not read, and what to use instead (the hint of a
#: NameError on them).
NOTEBOOK_VARIABLES = {
    **{name: "use `self`, the model the method belongs to" for name in ("cvae", "conv", "mlp", "models")},
    **{name: "a method should use only its arguments and `self`"
       for name in ("x_train", "x_test", "y_train", "y_test", "grid", "origin")},
    "labels": "take the labels from the method's arguments",
    "digit": "take the labels from the method's arguments",
    "latent_dim": "use `self.latent_dim`",
    "epochs": "a method of the model should not depend on the training loop's settings",
}
#: The rules forbid torch.distributions: the closed-form KL and the reparameterization are the student's own.
FORBIDDEN_MODULES = ("torch.distributions",)

ASSIGNMENT = Assignment(
    name="cvae", title="Part 3: the convolutional and the conditional VAE (seed 003)", notebook="cvae.ipynb",
    classes=("ConvVAE", "ConditionalVAE"), methods=METHODS, task_points=TASK_POINTS, tests=TESTS, probes=PROBES,
    extra_groups=("training", "generation", "figures", "answers"), allowed_imports=ALLOWED_IMPORTS,
    leaderboard=LEADERBOARD, training=TRAINING, data_groups=("training", "generation"),
    classifier_groups=("generation",), method_of=METHOD_OF,
    training_cpu_seconds=11.0,
    training_methods=("cond_layers", "cond_encoder", "cond_decoder", "cond_loss", "conv_layers", "conv_encoder",
                      "conv_decoder"),
    generated_reference=True, hand_graded_points=20, statistical=STATISTICAL, correct_variants=CORRECT_VARIANTS,
    forbidden_modules=FORBIDDEN_MODULES, notebook_variables=NOTEBOOK_VARIABLES)
