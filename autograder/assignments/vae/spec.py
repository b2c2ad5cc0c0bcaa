"""Part 1 (seed 004): a VAE on MNIST with a log-standard-deviation encoder; ``solution/vae.ipynb``.

Points, visibility and time limits of every test; the training run and its pass threshold; the imports the
notebook allows; the probes that run the submission, with their cases, outputs and info.
The method points add up to the notebook's task points (encoder 10, reparameterization 10, decoder 10,
KL 5, ELBO 15, generating 10); training and figures are this kit's own additions. The notebook's points
table shows every group's points; ``tests/test_notebooks.py`` checks it against :data:`TESTS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from autograder.core.assignment import TRAINING_INFO, Assignment, Info, Output, ProbeSpec, TestSpec, again_with

from . import cases
from .oracle import LAYERS

#: The methods students implement, in the notebook's task order.
METHODS = ("encoder", "sample_with_reparam", "decoder", "kl_divergence", "elbo", "sample")
#: The groups tests are reported in, in this order: each method, then the tests that span several.
GROUPS = METHODS + ("training", "figures")
#: Task points per method, as printed in the notebook.
TASK_POINTS = {"encoder": 10, "sample_with_reparam": 10, "decoder": 10, "kl_divergence": 5, "elbo": 15,
               "sample": 10}

#: Every test, keyed "group.check"; a grader names its key with ``@grades("group.check")``.
TESTS = {
    "encoder.shapes": TestSpec(3),
    "encoder.values": TestSpec(7),
    "sample_with_reparam.shapes": TestSpec(2),
    "sample_with_reparam.statistics": TestSpec(4),
    "sample_with_reparam.gradients": TestSpec(4),
    "decoder.shapes": TestSpec(3),
    "decoder.values": TestSpec(7),
    "kl_divergence.shapes": TestSpec(2),
    "kl_divergence.values": TestSpec(3),
    "elbo.shapes": TestSpec(2),
    "elbo.point_mass": TestSpec(5),
    "elbo.sampled": TestSpec(5),
    "elbo.gradients": TestSpec(3),
    "sample.shapes": TestSpec(2),
    "sample.prior": TestSpec(4),
    "sample.bernoulli": TestSpec(4),
    "training.test_elbo": TestSpec(10, timeout=600.0),
    "figures.mnist": TestSpec(1, probe=""),  # figures are read from the notebook's saved outputs: no probe
    "figures.samples": TestSpec(2, probe=""),
    "figures.embeddings": TestSpec(2, probe=""),
}


@dataclass(frozen=True)
class Training:
    """The short training run graded by ``training.test_elbo``.

    The submission's own ``elbo`` drives Adam on the MNIST training set; the grader then computes the
    test-set ELBO of the trained weights with its own formulas (one sample per image, fixed noise).
    ``min_test_elbo`` is calibrated with ``scripts/calibrate.py --assignment vae``: see the README.
    """

    epochs: int = 1
    batch_size: int = 128
    learning_rate: float = 1e-3
    latent_dim: int = 32
    hidden_dim: int = 400
    seed: int = 0
    #: Adam's fused CPU/CUDA kernel: the same update as plain Adam, about 2x faster per step here.
    fused_adam: bool = True
    min_test_elbo: float = -140.0


TRAINING = Training()

#: Gradescope leaderboard columns: a value a grader records with pytest's ``record_property(key, value)``
#: becomes the column ``name``, sorted by ``order`` ("desc": higher ranks first). Enable the leaderboard
#: in the assignment's settings on Gradescope for students to see it.
LEADERBOARD = {"test_elbo": {"name": "Test ELBO (nats)", "order": "desc"}}



#: Modules the notebook imports; importing anything else is an added import, which the rules forbid.
ALLOWED_IMPORTS = frozenset({"matplotlib.pyplot", "numpy", "torch", "torch.nn", "torch.nn.functional",
                             "vae_utils"})
#: Imports of the course handout's first cell, allowed in a notebook whose first code cell makes them: the
#: handout's own notebook loads MNIST with torchvision and plots with seaborn and t-SNE. The grader runs only
#: the VAE cell, so none of them is ever imported while grading.
HANDOUT_IMPORTS = frozenset({"torchvision.datasets", "torchvision.transforms", "seaborn", "sklearn.manifold.TSNE"})

#: The trained weights (none when the model's layers are not the notebook's: training then says so).
_WEIGHTS = tuple(Output(f"w/{layer}.{p}", required=False) for layer in LAYERS for p in ("weight", "bias"))

#: Every probe: the method it runs, its cases, what it returns (arrays and info), the reference pieces around it.
PROBES = {
    # the second round of calls gets other inputs of the same kind: images 1 - x, codes -z, rows reversed
    "encoder": ProbeSpec("encoder", lambda root: cases.encoder(), (Output("mu"), Output("logsigma")),
                         again=again_with(x=lambda x: 1 - x[::-1])),
    "decoder": ProbeSpec("decoder", lambda root: cases.decoder(), (Output("theta"),), again=again_with(z=lambda z: -z[::-1])),
    "kl_divergence": ProbeSpec("kl_divergence", lambda root: cases.kl_divergence(), (Output("kl"),),
                               again=again_with(mu=lambda mu: -mu[::-1], logsigma=lambda logsigma: logsigma[::-1])),
    "sample_with_reparam": ProbeSpec(
        "sample_with_reparam", lambda root: cases.sample_with_reparam(),
        (Output("z0"), Output("z1", required=False), Output("grad_mu", required=False),
         Output("grad_logsigma", required=False)),
        info=(Info("grad_mu", "bool"), Info("grad_logsigma", "bool"))),  # with grad: did a gradient reach it?
    "elbo": ProbeSpec(
        "elbo", cases.elbo,
        (Output("elbo"), Output("repeats", required=False),
         *(Output(f"grad/{layer}") for layer in LAYERS),
         *(Output(f"reference_grad/{layer}", "float", required=False, from_student=False) for layer in LAYERS)),
        reference=("encoder", "reparameterize", "decoder", "kl_divergence"), expected="elbo_reference",
        # calls of sample_with_reparam given the case's noise, and drawing fresh; {layer: did a gradient reach it}
        info=(Info("sample_calls", "int"), Info("fresh_calls", "int"), Info("grads", "dict"))),
    "elbo_reference": ProbeSpec(
        "elbo", cases.elbo,
        tuple(Output(f"reference_grad/{layer}", "float", from_student=False) for layer in LAYERS),
        reference=(), student_code=False),
    "sample": ProbeSpec("sample", lambda root: cases.sample(),
                        (Output("x"), Output("z", required=False), Output("logits", required=False)),
                        reference=("decoder", "reparameterize"),
                        info=(Info("decoder_called", "list"),)),  # the hooked layers that ran: ["logits", "z"]
    "training": ProbeSpec("elbo", partial(cases.training, TRAINING), (Output("losses", "float", from_student=False), *_WEIGHTS), repeat=False,
                          info=TRAINING_INFO),
}

#: The probes whose tests judge random draws (``make false-failures``), with the seeds that fit in one child: the
#: elbo probe returns ~0.7 MB of gradients per seed, the sample probe ~0.5 MB of draws.
STATISTICAL = {"sample_with_reparam": 50, "elbo": 10, "sample": 25}
#: Correct variants measured besides the reference, on the probes whose code path they change: elbo drawing its
#: own noise takes the statistical fallback of elbo.sampled; the others draw differently.
CORRECT_VARIANTS = {"elbo_inline_noise.py": ("elbo",), "sample_uniform_compare.py": ("sample",),
                    "reparam_row_loop_device.py": ("sample_with_reparam",),
                    "reparam_torch_normal.py": ("sample_with_reparam",)}

#: Variables of the notebook's other cells that a method may not read, and what to use instead (the hint of a
#: NameError on them).
NOTEBOOK_VARIABLES = {
    "batch_size": "take the batch size from the method's input, e.g. `mu.shape[0]` or `x.shape[0]` (the last "
                  "batch of an epoch is smaller, and the grader uses other sizes)",
    "vae": "use `self`, the model the method belongs to",
    "opt": "a method of the model should not touch the optimizer",
    "obs_dim": "use the sizes of the model's layers, e.g. `self.linear4.out_features`",
    "latent_dim": "use `self.latent_dim`",
    "hidden_dim": "use the sizes of the model's layers, e.g. `self.linear1.out_features`",
    "train_loader": "a method should use only its arguments and `self`",
    "test_loader": "a method should use only its arguments and `self`",
}
#: The rules forbid torch.distributions: the closed-form KL and the reparameterization are the student's own.
FORBIDDEN_MODULES = ("torch.distributions",)

ASSIGNMENT = Assignment(
    name="vae", title="Part 1: a VAE on MNIST (seed 004)", notebook="vae.ipynb", classes=("VAE",),
    methods=METHODS, task_points=TASK_POINTS, tests=TESTS, probes=PROBES, extra_groups=("training", "figures"),
    allowed_imports=ALLOWED_IMPORTS, handout_imports=HANDOUT_IMPORTS, leaderboard=LEADERBOARD, training=TRAINING,
    data_groups=("training", "elbo"), training_cpu_seconds=4.4,
    training_methods=("encoder", "sample_with_reparam", "decoder", "kl_divergence", "elbo"),
    statistical=STATISTICAL, correct_variants=CORRECT_VARIANTS,
    forbidden_modules=FORBIDDEN_MODULES, notebook_variables=NOTEBOOK_VARIABLES)
