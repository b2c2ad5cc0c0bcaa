"""Grading on Gradescope: ``run_autograder`` runs ``python -m autograder gradescope``.

Gradescope's layout (https://gradescope-autograders.readthedocs.io/en/latest/specs/), under a root that
is ``/autograder`` there and a temporary folder in the kit's tests:

- ``ROOT/source/``: the unpacked ``autograder.zip`` (this package, ``vae_utils.py``, the scripts);
- ``ROOT/submission/``: the student's files; ``ROOT/submission_metadata.json``: who submitted, when, how;
- ``ROOT/results/results.json``: what this writes, always, even when the grader itself fails.

Everything printed goes to Gradescope's stdout, which ``results.json`` keeps hidden from students
(``stdout_visibility``): that is where the staff's detail (tracebacks, the students' own output) goes.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..config import version
from ..core.assignment import Assignment, load, names
from ..core.results import GradingResult
from ..harness.harness import not_graded

#: The file at the root of an assignment's ``autograder.zip`` that names the assignment it grades.
ASSIGNMENT_FILE = "ASSIGNMENT"
#: Files of the kit that students may upload beside their notebook; never graded as the submission.
HELPER_FILES = frozenset({"vae_utils.py"})
#: Folders that hold copies, not submissions (Jupyter checkpoints, macOS zip debris, caches).
IGNORED_FOLDERS = frozenset({".ipynb_checkpoints", "__MACOSX", "__pycache__", ".git"})
#: At most this many files of a submission are looked at.
MAX_FILES = 2000
#: Seconds kept, before the deadline of :func:`run`, for writing results: grading itself stops this early.
DEADLINE_MARGIN = 10.0


@dataclass
class Choice:
    """The file chosen for grading (None when there is none) and what to tell the student about the choice."""

    path: Path | None
    note: str = ""


def read_metadata(root: Path) -> dict:
    """``ROOT/submission_metadata.json`` as a dict; empty when it is missing or unreadable."""
    try:
        data = json.loads((root / "submission_metadata.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _files(folder: Path) -> list:
    """The regular files under ``folder`` (no symlinks, no ignored or hidden folders), as relative paths."""
    found = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_FOLDERS and not d.startswith("."))
        for name in sorted(names):
            path = Path(top) / name
            if not path.is_symlink() and path.is_file():
                found.append(path.relative_to(folder))
            if len(found) >= MAX_FILES:
                return found
    return found


def _defines_classes(path: Path, assignment: Assignment) -> bool:
    from ..notebook.submission import load_submission  # parses only; never runs the file

    return load_submission(path, assignment).error is None


def _where(metadata: dict, name: str) -> str:
    method = metadata.get("submission_method", "")  # top level: "upload", "GitHub", "Bitbucket", "GitLab"
    if str(method).lower() in ("github", "bitbucket", "gitlab"):
        return f"put {name} at the top level of the repository you submit"
    return f"upload {name} itself (not a folder or an archive that holds it)"


def find_submission(folder: Path, assignment: Assignment | None = None, metadata: dict | None = None) -> Choice:
    """Choose the file to grade among what the student submitted for ``assignment`` (None: for any of the kit's).

    Its notebook (``vae.ipynb``) is graded when it is there (the shallowest one when a zip held several).
    Otherwise a notebook, or else a ``.py`` file, is chosen: first those that define the assignment's classes
    (``class VAE``), then those whose name contains its notebook's ("vae"), then the shallowest, then by name. The note says
    which file was graded and why whenever that was a guess. ``metadata`` (``submission_metadata.json``) words
    the advice for uploads and for repository submissions.
    """
    targets = [assignment] if assignment is not None else [load(name) for name in names()]
    metadata, notebooks = metadata or {}, {a.notebook for a in targets}
    stems = {Path(n).stem.lower() for n in notebooks}
    notebook = targets[0].notebook if len(targets) == 1 else " or ".join(sorted(notebooks))
    defines = " or ".join(" and ".join(f"class {c}" for c in a.classes) for a in targets)
    files = _files(folder) if folder.is_dir() else []
    candidates = [f for f in files if f.suffix in (".ipynb", ".py") and f.name not in HELPER_FILES]
    if not candidates:
        received = ", ".join(str(f) for f in files[:20]) + (", ..." if len(files) > 20 else "")
        return Choice(None, (
            f"No notebook was found in your submission, so nothing could be graded "
            f"({'it held: ' + received if files else 'it was empty'}). "
            f"Please {_where(metadata, notebook)}: the assignment's notebook, run top to bottom and saved, so that its "
            f"figures are kept. A .py file that defines {defines} is accepted too, without the figures' points."))
    exact = sorted((f for f in candidates if f.name in notebooks), key=lambda f: (len(f.parts), str(f)))
    if exact:
        chosen = exact[0]
        if len(candidates) == 1 and len(chosen.parts) == 1:
            return Choice(folder / chosen)
        reason = f"it is named {chosen.name}"
    else:
        loads = {f: any(_defines_classes(folder / f, a) for a in targets) for f in candidates}
        chosen = sorted(candidates, key=lambda f: (f.suffix != ".ipynb", not loads[f],
                                                   not any(stem in f.name.lower() for stem in stems),
                                                   len(f.parts), str(f)))[0]
        kind = "notebook" if chosen.suffix == ".ipynb" else "Python file"
        if len(candidates) == 1:
            reason = f"it is the only {kind}"
        elif loads[chosen] and sum(loads[f] and f.suffix == chosen.suffix for f in candidates) == 1:
            reason = f"it is the only {kind} that defines {defines}"
        else:
            reason = f"it came first among them (defines {defines}: {'yes' if loads[chosen] else 'no'})"
    others = [str(f) for f in candidates if f != chosen]
    note = f"Graded {chosen}: {reason}."
    if others:
        note += f" Also submitted, not graded: {', '.join(others[:10])}{', ...' if len(others) > 10 else ''}."
    if chosen.name not in notebooks or others:
        note += f" Next time, {_where(metadata, notebook)}, and nothing else but vae_utils.py if you like."
    return Choice(folder / chosen, note)


def assignment_of(root: Path) -> Assignment:
    """The assignment that this ``autograder.zip`` grades: named in ``ROOT/source/ASSIGNMENT`` (written by
    :func:`autograder.deploy.package.build`), or the kit's only one. Raises RuntimeError (the grader's failure) when
    neither says."""
    try:
        return load((root / "source" / ASSIGNMENT_FILE).read_text().strip())
    except OSError:
        if len(names()) == 1:
            return load(names()[0])
        raise RuntimeError(f"{root / 'source' / ASSIGNMENT_FILE} is missing: build the zip with "
                           "`python -m autograder package --assignment NAME`") from None


class _Stopped:
    """SIGALRM/SIGTERM handler (the grader's own deadline, or ``run_autograder``'s time limit): stop grading
    as Ctrl-C would, and remember it.

    The KeyboardInterrupt ends pytest's session and, on its way, the runner's ``finally`` kills the
    running child's process group; :func:`run` then writes a "ran out of time" result.
    """

    def __init__(self):
        self.seconds = None

    def __call__(self, signum, frame):
        self.seconds = time.monotonic()
        raise KeyboardInterrupt("SIGTERM: out of time")


def run(root: Path, seed: int = 0, deadline: float | None = None) -> GradingResult:
    """Grade ``ROOT/submission/`` and write ``ROOT/results/results.json``; returns what was written.

    Never raises on a failure of the grader: the traceback is printed (stdout is the staff's) and the
    written result is :meth:`GradingResult.crashed`. With a ``deadline`` (seconds), grading plans to end
    :data:`DEADLINE_MARGIN` seconds before it: tests that find no time left fail with "not run" and every
    other test keeps its score. A SIGALRM at the deadline itself, or a SIGTERM (the hard time limit of
    ``run_autograder``, which comes later), interrupts grading with the same outcome; where that happens
    outside the tests, the result is :meth:`GradingResult.crashed` with "it ran out of time".
    """
    start = time.monotonic()
    stopped = _Stopped()
    previous = signal.signal(signal.SIGTERM, stopped)
    previous_alarm = signal.signal(signal.SIGALRM, stopped)
    if deadline:
        signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        metadata = read_metadata(root)
        print(banner(root, metadata))
        assignment = assignment_of(root)
        choice = find_submission(root / "submission", assignment, metadata)
        if choice.note:
            print(choice.note)
        if choice.path is None:
            result = not_graded(assignment, choice.note, time.monotonic() - start)
        else:
            from ..harness.harness import grade

            budget = None if not deadline else max(deadline - (time.monotonic() - start) - DEADLINE_MARGIN, 0.0)
            result = grade(choice.path, seed=seed, deadline=budget, assignment=assignment)
            if choice.note:
                result.output = f"{choice.note}\n\n{result.output}"
    except (Exception, KeyboardInterrupt):  # the crash path: a valid results.json, the traceback for the staff
        traceback.print_exc(file=sys.stdout)
        why = f"it ran out of time after {stopped.seconds - start:.0f} s" if stopped.seconds else ""
        result = GradingResult.crashed(time.monotonic() - start, why)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGALRM, previous_alarm)
    result.write(root / "results" / "results.json")
    print(f"score {result.score:g} / {result.max_score:g} in {result.execution_time:.1f} s")
    for test in result.tests:
        print(f"  {test.score:4g} / {test.max_score:<4g} {test.status:6}  {test.name}")
    return result


def banner(root: Path, metadata: dict) -> str:
    """The first line of every grading log: the kit's version (:func:`autograder.config.version` of
    ``root/source``, its ``VERSION`` file: the string the class report shows) and the submission's id and time."""
    return (f"vae-kit autograder {version(root / 'source')}; submission {metadata.get('id', '(no metadata)')} "
            f"created {metadata.get('created_at', '?')}")
