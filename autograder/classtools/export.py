"""What a class handed in: Gradescope's "Export Submissions" zip (or its unpacked folder), plain files, folders
of them, or a folder of per-student subfolders (:func:`file_handins`).

Gradescope's export holds one folder per submission (``submission_123456789/``) and, at its top,
``submission_metadata.yml``, which maps each folder to its ``:submitters:`` (``:name:``, ``:email:``,
``:sid:``), ``:created_at:`` and more, with Ruby-symbol keys. The zip may put all of it inside one
folder named after the assignment. Each submission's file to grade is chosen as on Gradescope
(:func:`autograder.deploy.gradescope.find_submission`): a misnamed notebook is graded with a note, a missing
one gives a note and no file, so neither is skipped.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ..deploy.gradescope import IGNORED_FOLDERS, find_submission

METADATA = "submission_metadata.yml"
SUFFIXES = (".ipynb", ".py")
#: An export larger than this, unpacked, is refused (bytes).
MAX_UNPACKED = 8 * 2**30


class ExportError(ValueError):
    """The export cannot be read (not a zip, no or malformed ``submission_metadata.yml``, too large)."""


class NoSubmissions(ValueError):
    """A path given to grade holds no submission: no notebook or ``.py`` file, in it or in its subfolders."""


@dataclass(frozen=True)
class Student:
    """One submitter, as Gradescope's metadata names them (any field may be empty)."""

    name: str = ""
    email: str = ""
    sid: str = ""


@dataclass
class Handin:
    """One submission to grade.

    key : unique, file-system-safe name; its results go to ``OUT/<key>/``.
    file : the file to grade, or None when the submission holds none (graded as 0 with ``note``).
    students : the submitters (empty for plain files, which have no metadata).
    note : what to tell the student and the staff about the choice of file ("" when there was no guess).
    origin : where it came from, for the staff ("submission_123/vae.ipynb", or the path given).
    created_at : when it was submitted, as the metadata says ("" when unknown).
    """

    key: str
    file: Path | None
    students: tuple = ()
    note: str = ""
    origin: str = ""
    created_at: str = ""

    def to_json(self) -> dict:
        """A JSON-ready dict (paths as strings) that :meth:`from_json` reads back."""
        data = asdict(self)
        data["file"] = str(self.file) if self.file else None
        data["students"] = [asdict(s) for s in self.students]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Handin":
        """The Handin of :meth:`to_json`'s dict. Raises KeyError/TypeError on a dict of another shape."""
        students = tuple(Student(**s) for s in data.get("students", ()))
        return cls(data["key"], Path(data["file"]) if data.get("file") else None, students, data.get("note", ""),
                   data.get("origin", ""), data.get("created_at", ""))

    def digest(self) -> str:
        """sha256 of the graded file's bytes ("" when there is none): a changed file is graded again."""
        return hashlib.sha256(self.file.read_bytes()).hexdigest() if self.file else ""


def slug(text: str) -> str:
    """``text`` as a file name: ASCII letters, digits, "_" and single dashes ("Ana María 7" -> "Ana-Mar-a-7")."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", text).strip("-")[:60]


def _unique(key: str, taken: set) -> str:
    base, number = key or "submission", 2
    key = base
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    taken.add(key)
    return key


def export_root(path: Path) -> Path | None:
    """The folder holding ``submission_metadata.yml`` at ``path`` or one level below; None when absent."""
    if not path.is_dir():
        return None
    if (path / METADATA).is_file():
        return path
    inner = [d for d in path.iterdir() if d.is_dir() and (d / METADATA).is_file()]
    return inner[0] if len(inner) == 1 else None


def is_export(path: Path) -> bool:
    """Whether ``path`` is a Gradescope export: a zip holding ``submission_metadata.yml`` (at its top or one
    folder down), or a folder holding one."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(Path(name).name == METADATA and len(Path(name).parts) <= 2 for name in archive.namelist())
    return export_root(path) is not None


def unpack(archive_path: Path, into: Path) -> Path:
    """Extract the export zip into ``into`` and return the folder holding ``submission_metadata.yml``.

    ``zipfile`` drops absolute paths and ``..`` from names, so nothing lands outside ``into``.
    Raises ExportError when the archive is not a zip, unpacks to more than :data:`MAX_UNPACKED` bytes or
    holds no metadata.
    """
    try:
        with zipfile.ZipFile(archive_path) as archive:
            size = sum(info.file_size for info in archive.infolist())
            if size > MAX_UNPACKED:
                raise ExportError(f"{archive_path} unpacks to {size / 2**30:.1f} GiB, over the "
                                  f"{MAX_UNPACKED / 2**30:.0f} GiB limit")
            archive.extractall(into)
    except zipfile.BadZipFile as exc:
        raise ExportError(f"{archive_path} is not a zip file: {exc}") from exc
    root = export_root(into)
    if root is None:
        raise ExportError(f"{archive_path} holds no {METADATA}: is it Gradescope's 'Export Submissions' zip?")
    return root


def _text(value) -> str:
    return "" if value is None else str(value)


def read_metadata(root: Path) -> dict:
    """``{folder: {"students": (Student, ...), "created_at": str}}`` from ``ROOT/submission_metadata.yml``.

    Raises ExportError when the file is not YAML or not a mapping of folders.
    """
    import yaml

    try:
        data = yaml.safe_load((root / METADATA).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ExportError(f"cannot read {root / METADATA}: {exc}") from exc
    if not isinstance(data, dict):
        raise ExportError(f"{root / METADATA} is not a mapping of submission folders to their submitters")
    entries = {}
    for folder, entry in data.items():
        entry = entry if isinstance(entry, dict) else {}
        submitters = entry.get(":submitters") or []
        students = tuple(Student(_text(s.get(":name")), _text(s.get(":email")), _text(s.get(":sid")))
                         for s in submitters if isinstance(s, dict))
        entries[str(folder)] = {"students": students, "created_at": _text(entry.get(":created_at"))}
    return entries


def _key(students: tuple, folder: str) -> str:
    first = students[0] if students else None
    return slug(f"{first.name} {first.sid}".lower()) if first and (first.name or first.sid) else slug(folder)


def export_handins(root: Path, taken: set) -> list:
    """One Handin per submission folder of the export at ``root`` (see :func:`read_metadata`).

    Folders the metadata lists but the export lacks, and folders it does not list, are kept with a note.
    """
    metadata = read_metadata(root)
    present = {d.name for d in root.iterdir() if d.is_dir() and d.name not in IGNORED_FOLDERS and d.name[0] != "."}
    folders = sorted(set(metadata) | present)
    handins = []
    for folder in folders:
        entry = metadata.get(folder, {"students": (), "created_at": ""})
        if (root / folder).is_dir():
            choice = find_submission(root / folder)
            file, note = choice.path, choice.note
        else:
            file, note = None, f"The export lists {folder} in {METADATA} but holds no such folder."
        if folder not in metadata:
            note = f"{folder} is not in {METADATA}: its submitters are unknown. {note}".strip()
        origin = f"{folder}/{file.relative_to(root / folder)}" if file else folder
        handins.append(Handin(_unique(_key(entry["students"], folder), taken), file, entry["students"], note,
                              origin, entry["created_at"]))
    return handins


def file_handins(path: Path, taken: set) -> list:
    """One Handin per submission at ``path``: the file itself; or, for a folder, one per ``.ipynb``/``.py`` file in
    it, keyed by the file's name, or when it holds none, one per subfolder (:func:`folder_handins`).

    Raises NoSubmissions when a folder holds no submission in either layout, naming what it looked for and found.
    """
    if not path.is_dir():
        return [Handin(_unique(slug("_".join(path.with_suffix("").parts[-2:])) or "submission", taken),
                       path.resolve(), origin=str(path))]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUFFIXES)
    handins = [Handin(_unique(slug(f.stem) or "submission", taken), f.resolve(), origin=str(f)) for f in files]
    handins = handins or folder_handins(path, taken)
    if not handins:
        found = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
        raise NoSubmissions(
            f"{path}: no submission found. Looked for .ipynb and .py files in it, then in each of its subfolders "
            f"(one per student), and for Gradescope's {METADATA}; it holds "
            + (", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "") if found
               else "nothing"))
    return handins


def folder_handins(path: Path, taken: set) -> list:
    """One Handin per subfolder of ``path`` (one per student), keyed by the folder's name, its file chosen as on
    Gradescope (:func:`autograder.deploy.gradescope.find_submission`; a subfolder without one is kept with a note and no
    file). Empty when no subfolder holds a notebook or ``.py`` file."""
    folders = sorted(d for d in path.iterdir() if d.is_dir() and d.name not in IGNORED_FOLDERS and d.name[0] != ".")
    choices = {folder: find_submission(folder) for folder in folders}
    if not any(choice.path for choice in choices.values()):
        return []
    return [Handin(_unique(slug(folder.name), taken), choice.path.resolve() if choice.path else None, (),
                   choice.note, f"{folder.name}/{choice.path.relative_to(folder)}" if choice.path else folder.name)
            for folder, choice in choices.items()]
