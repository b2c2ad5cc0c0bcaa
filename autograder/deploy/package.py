"""Build Gradescope's ``autograder.zip`` (``make autograder``): standard library only.

One archive per assignment. It holds, at its root, ``setup.sh`` and ``run_autograder`` (from ``gradescope/``),
the pinned ``requirements-gradescope.txt``, ``vae_utils.py``, ``digit_classifier.py``, this ``autograder`` package (sources only) with
that assignment's folder alone under ``assignments/``, an ``ASSIGNMENT`` file that names it, a ``VERSION`` file
and, for an assignment whose quality checks use it, the digit classifier ``digits-cnn.npz`` (a build output
of ``make classifier``, never committed). Not the solution notebook: student code runs on the same machine and could read it.
Entries are sorted and carry a fixed timestamp, so the same sources always give the same bytes.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from ..config import KIT_ROOT, mnist_root
from ..config import version
from ..core.assignment import folder_of

GRADESCOPE = KIT_ROOT / "gradescope"
#: Files at the root of the archive: name in the archive -> path in the kit, executable or not.
ROOT_FILES = {
    "setup.sh": ("gradescope/setup.sh", True),
    "run_autograder": ("gradescope/run_autograder", True),
    "requirements-gradescope.txt": ("gradescope/requirements-gradescope.txt", False),
    "vae_utils.py": ("vae_utils.py", False),
    "digit_classifier.py": ("digit_classifier.py", False),
}
#: Zip's earliest representable time: every entry gets it, for reproducible archives.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def contents(assignment: str, kit_root: Path = KIT_ROOT) -> list:
    """What goes into the archive of ``assignment``, in order: ``(name in archive, path in the kit, executable)``.

    Python sources of the package; of ``autograder/assignments/`` only the package's
    ``__init__.py`` and the folder of ``assignment`` (a course's own from ``$VAE_KIT_ASSIGNMENTS``, its sources
    placed there too: never its solution, template or corpus). Raises KeyError when there is no such assignment.
    """
    entries = [(name, kit_root / path, executable) for name, (path, executable) in ROOT_FILES.items()]
    package = kit_root / "autograder"
    assignments = package / "assignments"
    for path in sorted(package.rglob("*.py")):
        inside = path.relative_to(assignments).parts if assignments in path.parents else ()
        if "__pycache__" in path.parts or (len(inside) > 1 and inside[0] != assignment):
            continue
        entries.append((path.relative_to(kit_root).as_posix(), path, False))
    folder = folder_of(assignment)
    if folder.parent != assignments:  # a course's own assignment: its sources join the package's assignments
        entries += [(f"autograder/assignments/{assignment}/{path.relative_to(folder).as_posix()}", path, False)
                    for path in sorted(folder.rglob("*.py")) if "__pycache__" not in path.parts
                    and not {"solution", "student_template", "corpus"} & set(path.relative_to(folder).parts)]
    return entries


#: The classifier's name in the archive, beside the package (where :func:`autograder.harness.harness.classifier_file`
#: looks first after ``$VAE_KIT_CLASSIFIER``).
CLASSIFIER_NAME = "digits-cnn.npz"


def classifier_source() -> Path:
    """The classifier to ship: ``$VAE_KIT_CLASSIFIER``, else ``MNIST/classifier/digits-cnn.npz`` under
    :func:`autograder.config.mnist_root`, where ``make classifier`` writes it."""
    if os.environ.get("VAE_KIT_CLASSIFIER"):
        return Path(os.environ["VAE_KIT_CLASSIFIER"])
    return mnist_root() / "MNIST" / "classifier" / CLASSIFIER_NAME


def build(out: str | Path, assignment: str, kit_root: Path = KIT_ROOT, version_text: str | None = None) -> Path:
    """Write the archive of ``assignment`` to ``out`` (through a temporary file) and return its path.

    Raises KeyError when the kit has no such assignment, FileNotFoundError when its quality checks need the
    digit classifier and there is none (``make classifier`` makes it).
    """
    from ..core.assignment import load

    classifier = classifier_source() if load(assignment).classifier_groups else None
    if classifier is not None and not classifier.is_file():
        raise FileNotFoundError(f"the {assignment} zip needs the digit classifier, and {classifier} is missing: run "
                                "`make classifier`, or set VAE_KIT_CLASSIFIER to its file")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path, executable in contents(assignment, kit_root):
            _add(archive, name, path.read_bytes(), executable)
        _add(archive, "ASSIGNMENT", (assignment + "\n").encode(), False)
        if classifier is not None:
            _add(archive, CLASSIFIER_NAME, classifier.read_bytes(), False)
        text = version_text if version_text is not None else version(kit_root)
        _add(archive, "VERSION", (text + "\n").encode(), False)
    tmp.replace(out)
    return out


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so that unzip applies the permission bits below
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, data)
