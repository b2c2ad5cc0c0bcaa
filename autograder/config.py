"""Everything a course may want to change about grading, in one place.

Points, visibility and time limits of every test; the training run and its pass threshold; the
resource limits of the sandbox that runs student code; the imports the notebook allows.
The method points add up to the notebook's task points (encoder 10, reparameterization 10, decoder 10,
KL 5, ELBO 15, generating 10); training and figures are this kit's own additions. The notebook's points
table shows every group's points; ``tests/test_notebooks.py`` checks it against :data:`TESTS`.
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
    #: Adam's fused CPU/CUDA kernel: the same update as plain Adam, about 2x faster per step here.
    fused_adam: bool = True
    min_test_elbo: float = -140.0


TRAINING = Training()

#: Gradescope leaderboard columns: a value a grader records with pytest's ``record_property(key, value)``
#: becomes the column ``name``, sorted by ``order`` ("desc": higher ranks first). Enable the leaderboard
#: in the assignment's settings on Gradescope for students to see it.
LEADERBOARD = {"test_elbo": {"name": "Test ELBO (nats)", "order": "desc"}}


@dataclass(frozen=True)
class Limits:
    """Resource limits and isolation of each child process that runs student code.

    See the README's Security section for what each one stops, and :mod:`autograder.isolation`.
    """

    cpu_seconds: int = 900
    #: Address space a child may reserve while it starts (a spawned child imports torch in it).
    address_space_mb: int = 3072
    #: Memory a child may add to what the interpreter, numpy and torch take, in MB: before any student code
    #: runs, the child caps its address space at its size plus this. Gradescope's default container has
    #: 768 MB for everything (the trusted process about 120 MB, the fork server's torch shared with its
    #: children), and each child's out-of-memory score makes the kernel kill the child, never the grader.
    memory_mb: int = 448
    #: Largest file a child may write (its output included), in MB.
    file_size_mb: int = 64
    open_files: int = 256
    #: Processes and threads a child may have at once (RLIMIT_NPROC, per sandbox uid when running as root;
    #: without root, on top of what the grader's user already runs).
    processes: int = 64
    #: Threads torch may use in a child (Gradescope's default container has half a CPU).
    threads: int = 1
    #: How much of a child's stdout/stderr is kept for the staff's output, in bytes.
    output_bytes: int = 4096
    #: A child printing more than this many MB is stopped, and its test fails.
    output_mb: int = 8
    #: Size of the tmpfs mounted as a child's scratch folder (when running as root), in MB.
    scratch_mb: int = 256
    #: Size of each private tmpfs that covers /tmp, /var/tmp, /dev/shm and the kit's folder in a child, in MB.
    tmp_mb: int = 64
    #: The uids (each also used as the gid) children run as when the grader runs as root; one child per uid at
    #: a time, so there must be at least as many as graders running at once. They need no /etc/passwd entry
    #: and must not belong to anyone: every process of a uid is killed after each test. Empty: run as root.
    sandbox_uids: tuple = tuple(range(64200, 64216))
    #: Give children a network namespace of their own (no network) when the platform allows it.
    isolate_network: bool = True
    #: Fork every child of a submission from one server process that has imported torch once (see
    #: ``autograder/sandbox/forkserver.py``); False spawns a fresh interpreter per child.
    fork_server: bool = True


LIMITS = Limits()

#: Modules the notebook imports; importing anything else is an added import, which the rules forbid.
ALLOWED_IMPORTS = frozenset({"matplotlib.pyplot", "numpy", "torch", "torch.nn", "torch.nn.functional",
                             "vae_utils"})
#: Imports of the course handout's first cell, allowed in a notebook whose first code cell makes them: the
#: handout's own notebook loads MNIST with torchvision and plots with seaborn and t-SNE. The grader runs only
#: the VAE cell, so none of them is ever imported while grading.
HANDOUT_IMPORTS = frozenset({"torchvision.datasets", "torchvision.transforms", "seaborn", "sklearn.manifold.TSNE"})
