"""Everything a course may want to change about grading, in one place.

Points, visibility and time limits of every test; the training run and its pass threshold; the
resource limits of the sandbox that runs student code; the imports the notebook allows.
The method points add up to the notebook's task points (encoder 10, reparameterization 10, decoder 10,
KL 5, ELBO 15, generating 10); training and figures are this kit's own additions.
"""
from __future__ import annotations

from dataclasses import dataclass

#: The methods students implement, in the notebook's task order.
METHODS = ("encoder", "sample_with_reparam", "decoder", "kl_divergence", "elbo", "sample")
#: The groups tests are reported in, in this order: each method, then the tests that span several.
GROUPS = METHODS + ("training", "figures")
#: Task points per method, as printed in the notebook.
TASK_POINTS = {"encoder": 10, "sample_with_reparam": 10, "decoder": 10, "kl_divergence": 5, "elbo": 15,
               "sample": 10}


#: Gradescope visibility of every test that does not set its own in :data:`TESTS`: "visible" (always
#: shown), "after_due_date", "after_published" (shown once grades are published) or "hidden" (never shown
#: to students; Gradescope then hides their total score too). The test that reports a crash of the
#: autograder itself is always visible. Change this to hide all tests until the due date, say, and
#: give single tests ``visibility="visible"`` to keep them shown.
DEFAULT_VISIBILITY = "visible"
#: The visibilities Gradescope knows.
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


@dataclass(frozen=True)
class TestSpec:
    """How one test is scored and shown.

    points : float
        What the test is worth; a test scores all of it or nothing.
    visibility : str
        Gradescope visibility: one of :data:`VISIBILITIES`; default :data:`DEFAULT_VISIBILITY`.
    timeout : float
        Wall-clock seconds for the child process that runs student code for this test.
    """

    points: float
    visibility: str = DEFAULT_VISIBILITY
    timeout: float = 60.0


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
    "figures.mnist": TestSpec(1),
    "figures.samples": TestSpec(2),
    "figures.embeddings": TestSpec(2),
}


@dataclass(frozen=True)
class Training:
    """The short training run graded by ``training.test_elbo``.

    The submission's own ``elbo`` drives Adam on the MNIST training set; the grader then computes the
    test-set ELBO of the trained weights with its own formulas (one sample per image, fixed noise).
    ``min_test_elbo`` is calibrated with ``scripts/calibrate_training.py``: see the README.
    """

    epochs: int = 1
    batch_size: int = 128
    learning_rate: float = 1e-3
    latent_dim: int = 32
    hidden_dim: int = 400
    seed: int = 0
    min_test_elbo: float = -140.0


TRAINING = Training()

#: Gradescope leaderboard columns: a value a grader records with pytest's ``record_property(key, value)``
#: becomes the column ``name``, sorted by ``order`` ("desc": higher ranks first). Enable the leaderboard
#: in the assignment's settings on Gradescope for students to see it.
LEADERBOARD = {"test_elbo": {"name": "Test ELBO (nats)", "order": "desc"}}


@dataclass(frozen=True)
class Limits:
    """Resource limits of each child process that runs student code."""

    cpu_seconds: int = 900
    address_space_mb: int = 3072
    file_size_mb: int = 64
    open_files: int = 256
    #: Maximum processes of the sandbox user (enforced when the grader runs as root and drops to it).
    processes: int = 64
    #: Threads torch may use in a child (Gradescope's default container has half a CPU).
    threads: int = 1
    #: How much of a child's stdout/stderr is kept for the staff's output, in bytes.
    output_bytes: int = 4096


LIMITS = Limits()

#: Modules the notebook imports; importing anything else is an added import, which the rules forbid.
ALLOWED_IMPORTS = frozenset({"matplotlib.pyplot", "numpy", "torch", "torch.nn", "torch.nn.functional",
                             "vae_utils"})
