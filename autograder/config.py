"""What a course may want to change about the engine, in one place: the sandbox's resource limits, the default
visibility of tests, and where the data is (:func:`mnist_root`, the one place the kit reads ``$MNIST_ROOT``).

What is graded, and for how many points, is each assignment's own: ``autograder/assignments/<name>/spec.py``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The kit's folder: its ``data/`` holds MNIST when ``$MNIST_ROOT`` is unset.
KIT_ROOT = Path(__file__).resolve().parent.parent


def version(kit_root: Path | None = None) -> str:
    """The kit's version, one string wherever it is shown (the grading logs on Gradescope, the class report):
    the ``VERSION`` file of a Gradescope zip (``make autograder`` writes it), else ``git describe --always --dirty
    --abbrev=12`` of the kit (``-dirty`` with uncommitted changes), else "unknown". ``kit_root``: default
    :data:`KIT_ROOT`."""
    import subprocess

    root = Path(kit_root or KIT_ROOT)
    try:
        return (root / "VERSION").read_text().strip() or "unknown"
    except OSError:
        pass
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=root,
                             capture_output=True, text=True, check=True, timeout=30)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def mnist_root() -> Path:
    """The folder holding ``MNIST/raw/`` (and ``MNIST/classifier/``), absolute: ``$MNIST_ROOT``, or ``data/`` of
    the kit. (``vae_utils.mnist_root``, the students' side, defaults to ``./data`` beside their notebook.)"""
    return Path(os.environ.get("MNIST_ROOT") or KIT_ROOT / "data").resolve()

#: Gradescope visibility of every test that does not set its own in :data:`TESTS`: "visible" (always
#: shown), "after_due_date", "after_published" (shown once grades are published) or "hidden" (never shown
#: to students; Gradescope then hides their total score too). The test that reports a crash of the
#: autograder itself is always visible. Change this to hide all tests until the due date, say, and
#: give single tests ``visibility="visible"`` to keep them shown.
DEFAULT_VISIBILITY = "visible"
#: The visibilities Gradescope knows.
VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")


@dataclass(frozen=True)
class Limits:
    """Resource limits and isolation of each child process that runs student code.

    See the README's Security section for what each one stops, and :mod:`autograder.processes.isolation`.
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
    #: Most a probe's child may return for one case (one call of a method, in one round), in MB, read or not:
    #: beyond it the test fails with a message. The largest legitimate case is about 3.3 MB (Part 2's trained
    #: weights); the trusted process keeps the arrays of the probes that tests still to run need, no more.
    case_output_mb: int = 8
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
