"""Grade many submissions: one trusted ``python -m autograder grade`` process each, several at once.

Input: files, folders of files (one per student), or Gradescope's "Export Submissions" zip or folder
(:mod:`autograder.classtools.export`). Writes, per submission, ``OUT/<key>/results.json``, the grader's log, a copy
of the graded file and ``OUT/<key>/handin.json`` (who handed it in, what was graded, and with which kit), then
``OUT/summary.csv`` (one row per student, numbers in numeric columns) and prints a table.

The results folder travels: every path it stores is relative to ``OUT`` (:func:`graded_file`), so the class tools
(report, similarity, pdf) and a re-run work from any working directory, after ``OUT`` is moved or renamed, and
without the submissions it was graded from.

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
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from ..core.assignment import load as load_assignment
from ..core.results import GradingResult
from .export import SUFFIXES, Handin, export_handins, export_root, file_handins, is_export, unpack

KIT = Path(__file__).resolve().parent.parent
RECORD = "handin.json"
RESULTS = "results.json"
#: Seconds the graders get to stop after Ctrl-C before they are killed.
STOP_GRACE = 20.0
#: Modules of the package that do not take part in grading one submission: editing them regrades nobody.
NOT_GRADING = frozenset({f"classtools/{name}.py" for name in ("__init__", "batch", "export", "report", "similarity",
                                                                "feedback", "pdf", "browser")}
                        | {"deploy/package.py", "notebook/assign.py"})


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
    """The :class:`~autograder.classtools.export.Handin` of every submission under ``paths``, keys unique.

    A Gradescope export zip is unpacked into ``workdir`` (once per archive contents).
    Raises :class:`~autograder.classtools.export.ExportError` on an unreadable export, FileNotFoundError on a missing
    path, :class:`~autograder.classtools.export.NoSubmissions` on a folder that holds no submission.
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
    """Rewrite the record of a current result with ``handin`` as collected now (its file's name and origin,
    students), its file copied in again (a folder written by an older kit kept none)."""
    path = out / handin.key / RECORD
    wanted = record_of(handin, out, stamp)
    if json.loads(path.read_text()) != wanted:
        path.write_text(json.dumps(wanted, indent=2))


def graded_file(out: Path, handin: Handin) -> Path | None:
    """The absolute path of the copy of ``handin``'s graded file kept in the results folder ``out`` (its record
    names it relative to ``out``; an absolute name, as older kits stored, is returned as it is); None when the
    submission had no file. :func:`load` gives Handins whose ``file`` is this already."""
    return None if handin.file is None else Path(out).absolute() / handin.file


def keep(handin: Handin, out: Path) -> Handin:
    """Copy ``handin``'s file into ``OUT/<key>/`` under its own name (the earlier copy, if named otherwise, removed)
    and return ``handin`` as its record stores it: its file named relative to ``out`` (unchanged with no file)."""
    folder = out / handin.key
    target = folder / handin.file.name if handin.file else None
    for old in folder.iterdir():
        if old.suffix in SUFFIXES and old.is_file() and old != target:
            old.unlink()
    if handin.file is None:
        return handin
    if not (target.exists() and target.samefile(handin.file)):
        shutil.copyfile(handin.file, target)
    return replace(handin, file=Path(handin.key) / handin.file.name)


def record_of(handin: Handin, out: Path, stamp: Stamp) -> dict:
    """What ``OUT/<key>/handin.json`` holds for ``handin`` graded with ``stamp`` (:meth:`Stamp.of`), its file
    copied into ``OUT/<key>/`` (:func:`keep`) and named relative to ``out``; ``source``: where it was graded from."""
    record = stamp.of(handin)
    record["handin"] = keep(handin, out).to_json()
    record["source"] = str(handin.file.absolute()) if handin.file else None
    return record


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
    (folder / RECORD).write_text(json.dumps(record_of(handin, out, stamp), indent=2))
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
    from ..core.assignment import UnknownAssignment, recognise
    from ..notebook.submission import classes_defined

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
    from ..harness.harness import not_graded

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
    """``[(Handin, GradingResult)]`` of every finished result under ``out``, in key order; each Handin's ``file`` is
    the absolute path of the graded copy in ``out`` (:func:`graded_file`), wherever ``out`` now lies."""
    graded = []
    for record in sorted(Path(out).glob(f"*/{RECORD}")):
        try:
            handin = Handin.from_json(json.loads(record.read_text())["handin"])
            handin = replace(handin, file=graded_file(out, handin))
            graded.append((handin, GradingResult.read(record.parent / RESULTS)))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unfinished or foreign folder: not a result
    return graded


def unusable(out: Path) -> str:
    """Why the class tools (report, similarity, pdf) cannot work from the results folder ``out``: it does not
    exist, holds no finished result, or lacks graded files its records name; "" when it is usable."""
    out = Path(out)
    where = f"{out.absolute()} (given as {out}, from {Path.cwd()})"
    if not out.is_dir():
        return f"no results folder at {where}: grade with `python -m autograder grade-many SUBMISSIONS --out {out}`"
    graded = load(out)
    if not graded:
        return (f"no graded submission in {where}: looked for <key>/{RECORD} with <key>/{RESULTS}, which "
                f"`python -m autograder grade-many SUBMISSIONS --out {out}` writes")
    missing = [h.file for h, _ in graded if h.file is not None and not h.file.is_file()]
    if missing:
        return (f"{len(missing)} of the {len(graded)} graded files are missing from {where}, e.g. {missing[0]}: "
                f"a folder written by an older kit names them where they were graded from; run the same grade-many "
                f"command again with --out {out} to copy them in")
    return ""


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


class LineProgress(tqdm):
    """tqdm printing a whole line, flushed, each time the count changes, rather than redrawing one line."""

    def display(self, msg=None, pos=None):
        """Print the bar's line when ``n`` changed since the last one (tqdm also calls this to clear the bar: no-op)."""
        if msg is None and getattr(self, "_shown", None) != self.n:
            self._shown = self.n
            self.fp.write(str(self) + "\n")
            self.fp.flush()
        return True


def progress_bar(total: int, done: int, progress: bool | str | None = None):
    """A tqdm progress bar over ``total`` submissions of which ``done`` are already graded (its postfix counts
    failures and submissions without a file).

    ``progress``: "bar" (or True) redraws one line on stderr; "lines" prints one line per finished submission on
    stdout (done/total, time elapsed and left, counts), for pipes, nohup and CI logs; False shows nothing; None
    chooses "bar" when stdout and stderr are terminals, else "lines".
    """
    if progress is None:
        progress = "bar" if sys.stdout.isatty() and sys.stderr.isatty() else "lines"
    if progress in (True, "bar"):
        return tqdm(total=total, initial=done, unit="sub", desc="grading", dynamic_ncols=True)
    return LineProgress(total=total, initial=done, unit="sub", desc="graded", file=sys.stdout, leave=False,
                        mininterval=0, miniters=1, disable=progress is False,
                        bar_format="{desc} {n_fmt}/{total_fmt} [{elapsed} elapsed, {remaining} left{postfix}]")


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
            bar.set_postfix(failed=counts["failed"], no_file=counts["no file"], last=futures[future].key,
                            refresh=False)
            bar.update()
    except KeyboardInterrupt:
        bar.write("Interrupted: stopping the graders; finished results are kept.")
        graders.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def grade_many(paths, out: Path, jobs: int = 2, seed: int = 0, groups=None, force: bool = False,
               progress: bool | str | None = None, assignment: str | None = None, check=None) -> list:
    """Grade every submission under ``paths`` into ``out``; returns the rows of ``summary.csv``.

    ``assignment``: grade every submission as this assignment (None: recognise each from its file);
    ``check``: called with the assignments the batch needs before anything is graded (the grader's setup check,
    which raises ``GraderSetupError`` to stop);
    ``groups``: the groups to grade (all when None); ``force``: regrade even what is current;
    ``progress``: how to show progress (:func:`progress_bar`; None: a bar on a terminal, else a line per finished
    submission). Raises what :func:`collect` raises. On Ctrl-C the summary of the
    finished results is written and KeyboardInterrupt propagates.
    """
    out = Path(out)
    handins = collect(paths, out / ".exports")
    out.mkdir(parents=True, exist_ok=True)
    stamp = Stamp(kit_version(), seed, tuple(groups or ()), assignment or "", assignment or most_common(handins))
    if check is not None:
        check(needed_assignments(handins, stamp))
    todo = [h for h in handins if force or not is_current(h, out, stamp)]
    for handin in [h for h in handins if h.key not in {t.key for t in todo}]:
        refresh(handin, out, stamp)
    start = time.monotonic()
    bar = progress_bar(len(handins), len(handins) - len(todo), progress)
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
