"""Grading a class: Gradescope's export, results keyed by student, resuming, Ctrl-C, summary.csv.

Every grading here is restricted to one or two cheap groups (``groups=``): these tests are about the batch
machinery, not the scores (tests/test_corpus.py checks those).
"""
import csv
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SOLUTION, mutate

sys.path.insert(0, str(ROOT / "scripts"))
from fake_export import metadata_yaml  # noqa: E402

from autograder.assignments.vae import spec  # noqa: E402
from autograder.classtools.batch import collect, grade_many, load  # noqa: E402
from autograder.classtools.export import ExportError, Student, export_handins, unpack  # noqa: E402

GROUPS = ("encoder",)
ADA = {"name": "Ada Quiroga", "email": "ada.quiroga@example.edu", "sid": "11111111"}
BEN = {"name": "Ben Okafor", "email": "ben.okafor@example.edu", "sid": "22222222"}
CLEO = {"name": "Cleo Varga", "email": "cleo.varga@example.edu", "sid": "33333333"}
DEV = {"name": "Dev Sato", "email": "dev.sato@example.edu", "sid": "44444444"}


def make_export(root: Path, submissions: dict) -> Path:
    """An export folder: ``{folder: (people, {file name: text})}``, with Gradescope's metadata."""
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for folder, (people, files) in submissions.items():
        (root / folder).mkdir()
        for name, text in files.items():
            (root / folder / name).write_text(text)
        entries.append((folder, people, "2026-03-01 23:59:00.000000000 -08:00"))
    (root / "submission_metadata.yml").write_text(metadata_yaml(entries))
    return root


@pytest.fixture
def export(tmp_path, reference_source):
    """A good .py by a pair, a broken one, a misnamed notebook, and a submission with no notebook."""
    broken = mutate(reference_source, "class VAE(", "class VAE2(")
    return make_export(tmp_path / "export", {
        "submission_100000001": ([ADA, BEN], {"vae.py": reference_source}),
        "submission_100000002": ([CLEO], {"vae.py": broken}),
        "submission_100000003": ([DEV], {"Homework 1 (final).ipynb": SOLUTION.read_text()}),
        "submission_100000004": ([{"name": "Eve Zhou", "email": "", "sid": "55555555"}], {"notes.txt": "sorry"}),
    })


def test_export_gives_each_submission_its_students_and_file(export):
    """Does every submission folder come with its submitters, and a misnamed or missing notebook with a note?"""
    handins = {h.origin.split("/")[0]: h for h in export_handins(export, set())}
    pair = handins["submission_100000001"]
    assert pair.students == (Student(**ADA), Student(**BEN)) and pair.key == "ada-quiroga-11111111"
    assert pair.file.name == "vae.py" and pair.created_at.startswith("2026-03-01")
    assert pair.note.startswith("Graded vae.py: it is the only Python file.")
    misnamed = handins["submission_100000003"]
    assert misnamed.file.name == "Homework 1 (final).ipynb" and "it is the only notebook" in misnamed.note
    missing = handins["submission_100000004"]
    assert missing.file is None and "No notebook was found" in missing.note and "notes.txt" in missing.note


def test_export_zip_unpacks_inside_and_reads_like_the_folder(export, tmp_path):
    """Is the zip (one top folder, as Gradescope makes it) read as its folder, names with '..' kept inside?"""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(export.rglob("*")):
            z.write(path, Path("assignment_9_export") / path.relative_to(export))
        z.writestr("assignment_9_export/submission_100000002/../../../escaped.txt", "x")
    handins = collect([archive], tmp_path / "work")
    assert sorted(h.key for h in handins) == sorted(h.key for h in export_handins(export, set()))
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "work" / "escaped.txt").exists()
    assert all(h.file is None or (tmp_path / "work") in h.file.parents for h in handins)


def test_export_errors_are_clear(tmp_path):
    """Does a zip without metadata, or metadata that is not a mapping, say what is wrong?"""
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("vae.ipynb", "{}")
    with pytest.raises(ExportError, match="submission_metadata.yml"):
        unpack(archive, tmp_path / "x")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "submission_metadata.yml").write_text("- just\n- a list\n")
    with pytest.raises(ExportError, match="not a mapping"):
        collect([tmp_path / "bad"], tmp_path / "work")


def test_plain_files_and_folders_are_named_by_file(tmp_path):
    """Does a folder give one submission per notebook or .py, and explicit files unique names?"""
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    assert sorted(h.key for h in collect([tmp_path], tmp_path / "w")) == ["alice", "bob"]
    assert [h.key for h in collect([tmp_path / "bob.py", tmp_path / "bob.py"], tmp_path / "w")] == \
        [f"{tmp_path.name}_bob", f"{tmp_path.name}_bob-2"]
    assert [h.key for h in collect([SOLUTION], tmp_path / "w")] == ["solution_vae"]


def read_summary(out: Path) -> list:
    with open(out / "summary.csv") as f:
        return list(csv.DictReader(f))


def test_grade_many_on_an_export_keys_results_by_student_and_resumes(export, tmp_path, capsys):
    """Is each student a summary row with numeric columns, each submission graded once, and nothing regraded
    on a second run unless its file changed?"""
    out = tmp_path / "out"
    grade_many([export], out, jobs=2, groups=GROUPS, progress=True)
    assert "no_file=1" in capsys.readouterr().err  # the progress bar's counts
    rows = {row["name"]: row for row in read_summary(out)}
    assert sorted(rows) == ["Ada Quiroga", "Ben Okafor", "Cleo Varga", "Dev Sato", "Eve Zhou"]
    assert rows["Ada Quiroga"]["sid"] == "11111111" and rows["Ben Okafor"]["key"] == "ada-quiroga-11111111"
    assert (rows["Ada Quiroga"]["encoder_score"], rows["Ada Quiroga"]["encoder_max"]) == ("10", "10")
    assert (rows["Cleo Varga"]["score"], rows["Cleo Varga"]["status"]) == ("0", "graded")
    assert (rows["Eve Zhou"]["status"], rows["Eve Zhou"]["max_score"]) == ("no file", "10")
    assert rows["Dev Sato"]["score"] == "10" and "decoder_score" not in rows["Dev Sato"]
    for row in rows.values():  # a spreadsheet reads every score cell as a number
        assert all(float(row[c]) >= 0 for c in row if c.endswith(("score", "_max")))
    missing = json.loads((out / "eve-zhou-55555555" / "results.json").read_text())
    assert missing["output"].startswith("No notebook was found") and missing["score"] == 0
    misnamed = json.loads((out / "dev-sato-44444444" / "results.json").read_text())
    assert misnamed["output"].startswith("Graded Homework 1 (final).ipynb")

    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    (export / "submission_100000002" / "vae.py").write_text("class VAE:\n    pass\n")
    grade_many([export], out, jobs=2, groups=GROUPS, progress=False)
    changed = {p.parent.name for p in stamps if p.stat().st_mtime_ns != stamps[p]}
    assert changed == {"cleo-varga-33333333"}
    assert "1 graded now" in capsys.readouterr().out

    moved = shutil.copytree(export, tmp_path / "downloaded-again")  # same contents elsewhere: nothing to grade
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    grade_many([moved], out, groups=GROUPS, progress=False)
    assert all(p.stat().st_mtime_ns == stamps[p] for p in stamps)
    record = json.loads((out / "ada-quiroga-11111111" / "handin.json").read_text())
    assert record["handin"]["file"] == "ada-quiroga-11111111/vae.py"  # the copy in OUT, named relative to it
    assert record["source"] == str(moved / "submission_100000001" / "vae.py")


def test_a_new_kit_version_or_other_groups_regrade(tmp_path, monkeypatch):
    """Is a result made by another kit version, or for other groups, graded again?"""
    export = make_export(tmp_path / "export", {f"submission_{n}": ([{**ADA, "sid": str(n)}], {}) for n in range(3)})
    out = tmp_path / "out"

    def regraded(**kwargs) -> set:
        stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
        time.sleep(0.01)
        grade_many([export], out, progress=False, **kwargs)
        return {p.parent.name for p in stamps if p.stat().st_mtime_ns != stamps[p]}

    grade_many([export], out, groups=GROUPS, progress=False)
    assert regraded(groups=GROUPS) == set()
    assert len(regraded(groups=("encoder", "decoder"))) == 3
    monkeypatch.setattr("autograder.classtools.batch.kit_version", lambda: "another")
    assert len(regraded(groups=("encoder", "decoder"))) == 3


def test_ctrl_c_keeps_finished_results_and_stops_the_graders(tmp_path, reference_source):
    """After Ctrl-C, is every finished result on disk and in summary.csv, the running one dropped (no
    result, so the next run grades it), and no grader left running?"""
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("a", "b", "c", "d", "e", "f"):  # enough that Ctrl-C lands while some are left, however fast
        (folder / f"{name}.py").write_text(reference_source)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "autograder", "grade-many", str(folder), "--out", str(out),
                                "--jobs", "1", "--groups", "encoder,kl_divergence"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/handin.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the next grader has started
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "run the same command again" in err
    finished = {p.parent.name for p in out.glob("*/handin.json")}
    assert 1 <= len(finished) < 6
    assert {p.parent.name for p in out.glob("*/results.json")} == finished
    assert {row["key"] for row in read_summary(out)} == finished
    graders = subprocess.run(["pgrep", "-f", f"autograder grade .*{folder}"], capture_output=True, text=True)
    assert graders.stdout == ""
    assert {h.key for h, _ in load(out)} == finished


def test_summary_numbers_are_plain_numbers(export, tmp_path):
    """Are all scores and maxima plain numbers ("10", "7.5"), never "10/10", which spreadsheets open as a date,
    with a score and a maximum column for every group?"""
    (export / "submission_100000003" / "Homework 1 (final).ipynb").unlink()
    (export / "submission_100000001" / "vae.py").unlink()
    out = tmp_path / "out"
    rows = grade_many([export], out, groups=spec.GROUPS, progress=False)  # nothing here runs student code
    assert {r["status"] for r in rows} == {"no file", "graded"}
    summary = read_summary(out)
    numeric = [c for c in summary[0] if c in ("score", "max_score") or c.endswith(("_score", "_max"))]
    assert numeric == ["score", "max_score"] + [f"{g}_{k}" for g in spec.GROUPS for k in ("score", "max")]
    assert all(re.fullmatch(r"\d+(\.\d+)?", row[c]) for row in summary for c in numeric if row[c] != "")
