"""Grade many submissions: one trusted ``python -m autograder grade`` process each, several at once.

Input: files, folders of files (one per student), or Gradescope's "Export Submissions" zip or folder
(:mod:`autograder.export`). Writes, per submission, ``OUT/<key>/results.json``, the grader's log and
``OUT/<key>/handin.json`` (who handed it in, what was graded, and with which kit), then ``OUT/summary.csv``
(one row per student, numbers in numeric columns) and prints a table.

Re-running resumes: a submission whose ``handin.json`` says it was graded from the same file contents by
the same kit (:func:`kit_version`), seed and groups is not graded again. Ctrl-C stops the running graders,
keeps every finished result and writes the summary of those.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from .assignment import load as load_assignment
from .export import Handin, export_handins, export_root, file_handins, is_export, unpack
from .results import GradingResult

KIT = Path(__file__).resolve().parent
RECORD = "handin.json"
RESULTS = "results.json"
#: Seconds the graders get to stop after Ctrl-C before they are killed.
STOP_GRACE = 20.0
#: Modules of the package that do not take part in grading one submission: editing them regrades nobody.
NOT_GRADING = frozenset({"batch.py", "export.py", "report.py", "similarity.py", "feedback.py", "pdf.py", "browser.py",
                         "package.py", "assign.py"})


def kit_version() -> str:
    """A digest of the grader's own code (the ``autograder`` package but :data:`NOT_GRADING`, and
    ``vae_utils.py``), 16 hex digits.

    Editing a test, a point value or a threshold changes it, so the next run regrades everyone.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in KIT.rglob("*") if p.suffix in (".py", ".json") and "__pycache__" not in p.parts
                   and p.relative_to(KIT).as_posix() not in NOT_GRADING)
    for path in files + [KIT.parent / "vae_utils.py"]:
        if path.is_file():
            digest.update(str(path.relative_to(KIT.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def collect(paths, workdir: Path) -> list:
    """The :class:`~autograder.export.Handin` of every submission under ``paths``, keys unique.

    A Gradescope export zip is unpacked into ``workdir`` (once per archive contents).
    Raises :class:`~autograder.export.ExportError` on an unreadable export, FileNotFoundError on a missing path.
    """
    taken, handins = set(), []
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        if is_export(path):
            if path.is_dir():
                root = export_root(path)
            else:
                folder = workdir / f"{path.stem}-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
                root = export_root(folder) or unpack(path, folder)
            handins += export_handins(root, taken)
        else:
            handins += file_handins(path, taken)
    return handins


@dataclass(frozen=True)
class Stamp:
    """What a result depends on besides the submission: a result made with another stamp is regraded."""

    kit: str
    seed: int
    #: The groups graded; empty: all of them.
    groups: tuple
    #: The assignment every submission is graded as; "": each recognised from its file.
    assignment: str = ""
    #: The assignment a submission without a file is scored against (0 on each of its tests): ``assignment``,
    #: or the one most files of the batch are for.
    fallback: str = ""

    def of(self, handin: Handin) -> dict:
        """The record of ``handin`` graded with this stamp (what ``handin.json`` holds)."""
        return {"handin": handin.to_json(), "kit": self.kit, "seed": self.seed, "groups": list(self.groups),
                "assignment": self.assignment, "sha256": handin.digest()}


def is_current(handin: Handin, out: Path, stamp: Stamp) -> bool:
    """Whether ``OUT/<key>/`` holds a result of this file's contents graded with ``stamp`` (where the file
    lies, and what the metadata says of its students, may have changed: :func:`refresh` records that)."""
    folder = out / handin.key
    try:
        record = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError):
        return False
    wanted = stamp.of(handin)
    return (folder / RESULTS).is_file() and all(record.get(k) == wanted[k]
                                                   for k in ("kit", "seed", "groups", "assignment", "sha256"))


def refresh(handin: Handin, out: Path, stamp: Stamp) -> None:
    """Rewrite the record of a current result with ``handin`` as collected now (its file's path, students)."""
    path = out / handin.key / RECORD
    wanted = stamp.of(handin)
    if json.loads(path.read_text()) != wanted:
        path.write_text(json.dumps(wanted, indent=2))


class Graders:
    """Runs grading processes, each in its own session so that Ctrl-C reaches this process only;
    :meth:`stop` then interrupts them (SIGINT: each kills its sandbox child and exits) and waits."""

    def __init__(self):
        self.running, self.lock, self.stopping = set(), threading.Lock(), threading.Event()

    def run(self, command: list, log: Path) -> int | None:
        """Run ``command`` with its output in ``log``; its exit code, or None when stopped."""
        with open(log, "w") as f, self.lock:
            if self.stopping.is_set():
                return None
            process = subprocess.Popen(command, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
            self.running.add(process)
        code = process.wait()
        with self.lock:
            self.running.discard(process)
        return None if self.stopping.is_set() else code

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Interrupt every running grader; kill those still running after ``grace`` seconds."""
        with self.lock:
            self.stopping.set()
            running = list(self.running)
        for process in running:
            _signal_group(process, signal.SIGINT)
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def grade_one(handin: Handin, out: Path, stamp: Stamp, graders: Graders) -> GradingResult | None:
    """Grade ``handin`` into ``OUT/<key>/``; its result, or None when grading was stopped (nothing kept).

    A submission without a file gets 0 on every test with its note; a grader that dies without a result
    gets :meth:`GradingResult.crashed`. The note on the choice of file goes on top of the result's output.
    """

    folder = out / handin.key
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD).unlink(missing_ok=True)
    results = folder / RESULTS
    results.unlink(missing_ok=True)
    if handin.file is None:
        result = _nothing_to_grade(handin, stamp)
    else:
        command = [sys.executable, "-m", "autograder", "grade", str(handin.file), "--results", str(results),
                   "--seed", str(stamp.seed)]
        command += ["--groups", ",".join(stamp.groups)] if stamp.groups else []
        command += ["--assignment", _assignment_of(handin, stamp)] if _assignment_of(handin, stamp) else []
        if graders.run(command, folder / "grader.log") is None:
            results.unlink(missing_ok=True)
            return None
        try:
            result = GradingResult.read(results)
        except (OSError, ValueError, KeyError, TypeError):  # no (readable) result: the grader itself failed
            result = GradingResult.crashed()
        if handin.note:
            result.output = f"{handin.note}\n\n{result.output}"
    result.write(results)
    (folder / RECORD).write_text(json.dumps(stamp.of(handin), indent=2))
    return result


def recognised(path: Path) -> str:
    """The assignment the file at ``path`` is for (from the classes it defines, then its name; parsed only, once
    per version of the file); "" when it names none."""
    try:
        info = path.stat()
    except OSError:
        return _recognised(path, 0, -1)
    return _recognised(path, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=None)
def _recognised(path: Path, mtime_ns: int, size: int) -> str:
    from .assignment import UnknownAssignment, recognise
    from .submission import classes_defined

    try:
        return recognise(classes_defined(path), path.name).name
    except UnknownAssignment:
        return ""


def most_common(handins: list) -> str:
    """The assignment that most of ``handins``' files are for (:func:`recognised`); "" when none is recognised."""
    from collections import Counter

    counts = Counter(recognised(h.file) for h in handins if h.file is not None)
    counts.pop("", None)
    return counts.most_common(1)[0][0] if counts else ""


def _assignment_of(handin: Handin, stamp: Stamp) -> str:
    """The assignment to grade ``handin`` as: the stamp's; else the one its file is recognised as (""), or the
    batch's most common one when its file says nothing (a broken notebook still gets its 0 and the reason)."""
    if stamp.assignment:
        return stamp.assignment
    return "" if recognised(handin.file) else stamp.fallback


def needed_assignments(handins: list, stamp: Stamp) -> list:
    """The assignments the batch's files will be graded as (the stamp's, or each file's, or the batch's most
    common one for a file that names none)."""
    names = {stamp.fallback} if stamp.fallback else set()
    if not stamp.assignment:
        names |= {recognised(h.file) for h in handins if h.file is not None} - {""}
    return [load_assignment(name) for name in sorted(names)]


def _nothing_to_grade(handin: Handin, stamp: Stamp) -> GradingResult:
    """0 on every test, with the handin's note: of the stamp's assignment, or with no test when it has none (the
    summary still lists the student, with the note)."""
    from .harness import not_graded

    if not stamp.fallback:
        return GradingResult([], 0.0, handin.note)
    result = not_graded(load_assignment(stamp.fallback), handin.note)
    result.tests = [t for t in result.tests if not stamp.groups or t.group in stamp.groups]
    return result


def status(handin: Handin, result: GradingResult) -> str:
    """"graded", "no file" (nothing to grade in the submission) or "autograder failed" (see the log)."""
    if handin.file is None:
        return "no file"
    return "autograder failed" if any(t.key == "autograder.failed" for t in result.tests) else "graded"


def load(out: Path) -> list:
    """``[(Handin, GradingResult)]`` of every finished result under ``out``, in key order."""
    graded = []
    for record in sorted(out.glob(f"*/{RECORD}")):
        try:
            handin = Handin.from_json(json.loads(record.read_text())["handin"])
            graded.append((handin, GradingResult.read(record.parent / RESULTS)))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unfinished or foreign folder: not a result
    return graded


def group_order(results) -> list:
    """The groups found in ``results`` (from each test's key): in the order of their assignments' groups first,
    then others as met."""
    results = list(results)
    seen = {t.group: None for result in results for t in result.tests if t.key != "autograder.failed"}
    ordered = []
    for name in dict.fromkeys(r.assignment for r in results if r.assignment):
        try:
            ordered += [g for g in load_assignment(name).groups if g in seen and g not in ordered]
        except KeyError:  # a result of an assignment this kit no longer has
            continue
    return ordered + [g for g in seen if g not in ordered]


def summary_rows(graded: list) -> list:
    """One row per student (per submission when it names none): who, status, score and per-group numbers.

    Each group ``g`` has the numeric columns ``g_score`` and ``g_max`` (empty when it was not graded).
    """
    groups = group_order(result for _, result in graded)
    rows = []
    for handin, result in graded:
        points = result.by_group()
        base = {"key": handin.key, "submission": handin.origin, "status": status(handin, result),
                "score": result.score, "max_score": result.max_score}
        for group in groups:
            base[f"{group}_score"], base[f"{group}_max"] = points.get(group, ("", ""))
        base["seconds"] = round(result.execution_time, 1)
        for student in handin.students or [None]:
            who = {"name": student.name, "email": student.email, "sid": student.sid} if student else \
                {"name": "", "email": "", "sid": ""}
            rows.append({"key": handin.key, **who, **base})
    return rows


def _cell(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def write_summary(rows: list, path: Path) -> None:
    """``summary.csv``: the rows, numbers written as plain numbers (10, 7.5) so spreadsheets read them as such."""
    fields = list(rows[0]) if rows else ["key", "name", "email", "sid", "submission", "status", "score", "max_score"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)


def write_answers(graded: list, path: Path) -> bool:
    """``answers.csv``: one row per submission and written answer (key, names, question, answer), for grading
    by hand; written only when some result holds answers. Returns whether it was written."""
    rows = [{"key": handin.key, "names": "; ".join(s.name for s in handin.students), "question": question,
             "answer": text} for handin, result in graded for question, text in sorted(result.answers.items())]
    if not rows:
        return False
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["key", "names", "question", "answer"])
        writer.writeheader()
        writer.writerows(rows)
    return True


def print_table(graded: list) -> None:
    """A table of the submissions: key, score, each group as score/max, status."""
    groups = group_order(result for _, result in graded)
    cells = [["submission", "score", "max", *groups, "status"]]
    for handin, result in graded:
        points = result.by_group()
        cells.append([handin.key, _cell(result.score), _cell(result.max_score),
                      *(f"{points[g][0]:g}/{points[g][1]:g}" if g in points else "" for g in groups),
                      status(handin, result)])
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for index, row in enumerate(cells):
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _grade_all(todo: list, out: Path, stamp: Stamp, jobs: int, bar) -> None:
    """Grade ``todo`` with ``jobs`` graders at once, updating the progress ``bar``; on Ctrl-C stop them
    (finished results stay) and re-raise KeyboardInterrupt."""
    graders, counts = Graders(), {"failed": 0, "no file": 0}
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = {pool.submit(grade_one, handin, out, stamp, graders): handin for handin in todo}
        for future in as_completed(futures):
            result = future.result()
            kind = status(futures[future], result) if result else "stopped"
            counts["failed" if kind == "autograder failed" else kind] = counts.get(kind, 0) + 1
            bar.set_postfix(failed=counts["failed"], no_file=counts["no file"], refresh=False)
            bar.update()
    except KeyboardInterrupt:
        bar.write("Interrupted: stopping the graders; finished results are kept.")
        graders.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def grade_many(paths, out: Path, jobs: int = 2, seed: int = 0, groups=None, force: bool = False,
               progress: bool | None = None, assignment: str | None = None, check=None) -> list:
    """Grade every submission under ``paths`` into ``out``; returns the rows of ``summary.csv``.

    ``assignment``: grade every submission as this assignment (None: recognise each from its file);
    ``check``: called with the assignments the batch needs before anything is graded (the grader's setup check,
    which raises ``GraderSetupError`` to stop);
    ``groups``: the groups to grade (all when None); ``force``: regrade even what is current;
    ``progress``: show the progress bar (None: when stderr is a terminal). On Ctrl-C the summary of the
    finished results is written and KeyboardInterrupt propagates.
    """
    from tqdm import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    handins = collect(paths, out / ".exports")
    stamp = Stamp(kit_version(), seed, tuple(groups or ()), assignment or "", assignment or most_common(handins))
    if check is not None:
        check(needed_assignments(handins, stamp))
    todo = [h for h in handins if force or not is_current(h, out, stamp)]
    for handin in [h for h in handins if h.key not in {t.key for t in todo}]:
        refresh(handin, out, stamp)
    start = time.monotonic()
    bar = tqdm(total=len(handins), initial=len(handins) - len(todo), unit="sub", desc="grading",
               disable=None if progress is None else not progress, dynamic_ncols=True)
    try:
        _grade_all(todo, out, stamp, jobs, bar)
    finally:
        bar.close()
        current = {h.key for h in handins if is_current(h, out, stamp)}
        graded = [(h, r) for h, r in load(out) if h.key in current]
        rows = summary_rows(graded)
        write_summary(rows, out / "summary.csv")
        if write_answers(graded, out / "answers.csv"):
            print(f"written answers, for grading by hand: {out / 'answers.csv'}")
    print_table(graded)
    print(f"\n{len(graded)} submissions ({len(handins) - len(todo)} already graded, {len(todo)} graded now in "
          f"{time.monotonic() - start:.0f} s with {jobs} jobs); results in {out}/<key>/results.json, "
          f"summary in {out / 'summary.csv'}")
    return rows
