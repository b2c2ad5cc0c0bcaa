"""The results folder of ``grade-many --out OUT`` travels, and the class tools never fall silent (issue 18).

One small class is graded once, through the command line with its output piped, from per-student subfolders
(``alice/vae.ipynb``, ``Bob Okafor/vae.py``, ``carol/notes.txt``), on the cheapest group only: these tests are about
where things are kept and what the tools say, not the scores. PDF tests need Debian's Chromium (as
tests/test_report.py: skipped without it, failed in CI).
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT, SOLUTION

from autograder.__main__ import main
from autograder.classtools.batch import grade_many, load
from autograder.classtools.pdf import DIGEST_NAME, MATHJAX, PDF_NAME, make_pdfs

GROUPS = ("encoder",)


def cli(*args, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` run in ``cwd`` (the kit found through PYTHONPATH), its output piped."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, reference_source):
    """The class graded from ``work/`` with relative paths: ``grade-many subs --out out --groups encoder``."""
    work = tmp_path_factory.mktemp("class") / "work"
    subs = work / "subs"
    for folder, name, text in (("alice", "vae.ipynb", SOLUTION.read_text()), ("Bob Okafor", "vae.py", reference_source),
                               ("carol", "notes.txt", "I could not finish.")):
        (subs / folder).mkdir(parents=True)
        (subs / folder / name).write_text(text)
    run = cli("grade-many", "subs", "--out", "out", "--groups", ",".join(GROUPS), cwd=work)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return SimpleNamespace(work=work, subs=subs, out=work / "out", run=run)


def summary(out: Path) -> dict:
    import csv

    with open(out / "summary.csv") as f:
        return {row["key"]: row for row in csv.DictReader(f)}


def test_piped_grade_many_prints_a_line_per_finished_submission(graded):
    """With its output piped, does grade-many print, as it goes, one whole line per finished submission with the
    count done, the failures and the time left, rather than a bar redrawn with carriage returns?"""
    assert "\r" not in graded.run.stdout
    lines = [line for line in graded.run.stdout.splitlines() if line.startswith("graded ")]
    done = [int(re.match(r"graded (\d+)/3 \[", line).group(1)) for line in lines]
    assert done == [0, 1, 2, 3]
    assert all(re.search(r"elapsed, \S+ left, failed=0, last=\S+, no_file=[01]\]$", line) for line in lines[1:])
    assert lines[-1].endswith("no_file=1]")


def test_per_student_subfolders_are_graded_under_their_folder_names(graded):
    """Is a folder of per-student subfolders graded with the folder names as keys, a subfolder without a notebook
    kept as 'no file' with the reason?"""
    rows = summary(graded.out)
    assert sorted(rows) == ["Bob-Okafor", "alice", "carol"]
    assert [(rows[k]["status"], rows[k]["score"]) for k in sorted(rows)] == \
        [("graded", "10"), ("graded", "10"), ("no file", "0")]
    carol = json.loads((graded.out / "carol" / "results.json").read_text())
    assert carol["output"].startswith("No notebook was found") and "notes.txt" in carol["output"]


def test_a_moved_results_folder_works_from_anywhere(graded, tmp_path):
    """Once OUT is renamed and moved, and the submissions are gone, do similarity and report, run from another
    folder, find what they found where it was graded, and does re-running grade-many into it regrade nothing?"""
    here = tmp_path / "graded-here"
    shutil.copytree(graded.work, here)
    before = cli("similarity", "out", cwd=here)
    assert before.returncode == 0 and "Bob-Okafor ~ alice   <- look" in before.stdout
    moved = tmp_path / "elsewhere" / "renamed"
    moved.parent.mkdir()
    shutil.move(here / "out", moved)
    shutil.move(here / "subs", tmp_path / "gone")
    record = json.loads((moved / "alice" / "handin.json").read_text())
    assert record["handin"]["file"] == "alice/vae.ipynb" and (moved / "alice" / "vae.ipynb").is_file()
    assert [h.file for h, _ in load(moved)] == [moved / "Bob-Okafor" / "vae.py", moved / "alice" / "vae.ipynb", None]

    after = cli("similarity", str(moved), cwd=ROOT)
    assert after.returncode == 0 and after.stdout == before.stdout
    report = cli("report", "renamed", cwd=moved.parent)
    assert report.returncode == 0 and "Bob-Okafor" in (moved / "report.html").read_text()
    shutil.move(tmp_path / "gone", tmp_path / "subs")
    again = cli("grade-many", "subs", "--out", str(moved), "--groups", ",".join(GROUPS), cwd=tmp_path)
    assert again.returncode == 0 and "(3 already graded, 0 graded now" in again.stdout


def test_class_tools_say_what_they_did_not_find(graded, tmp_path, capsys):
    """Do report, similarity and pdf exit non-zero, saying where they looked, on a folder that does not exist, on
    one without results, and on one whose graded files are missing (kept elsewhere by an older kit)?"""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a result")
    for command in ("report", "similarity", "pdf"):
        assert main([command, str(tmp_path / "nowhere")]) == 1
        assert f"no results folder at {tmp_path / 'nowhere'}" in capsys.readouterr().err
        assert main([command, str(empty)]) == 1
        assert f"no graded submission in {empty}" in capsys.readouterr().err
    old = shutil.copytree(graded.out, tmp_path / "old")
    (old / "alice" / "vae.ipynb").unlink()
    assert main(["similarity", str(old)]) == 1
    assert "1 of the 3 graded files are missing" in capsys.readouterr().err


def test_a_folder_without_submissions_is_refused(tmp_path):
    """Does grade-many on a folder of files that are no submission, in it or in its subfolders, exit non-zero
    saying what it looked for and what it found, and write no results folder?"""
    folder = tmp_path / "downloads"
    (folder / "week 1").mkdir(parents=True)
    (folder / "notes.txt").write_text("")
    (folder / "week 1" / "slides.pdf").write_text("")
    run = cli("grade-many", str(folder), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert run.returncode == 2 and not (tmp_path / "out").exists()
    assert "no submission found" in run.stderr and ".ipynb and .py files" in run.stderr
    assert "notes.txt, week 1/" in run.stderr


def test_a_regrade_that_changes_a_score_rebuilds_the_pdf(graded, browser, tmp_path):
    """Is a notebook's PDF kept while its results stand, rebuilt when a new submission is graded 0 instead of full
    marks, and titled with the student and the assignment; is it removed when the next submission holds no
    notebook?"""
    out = shutil.copytree(graded.out, tmp_path / "out")
    first = make_pdfs(out, browser=browser)
    assert first.written == [out / "alice" / PDF_NAME] and first.failed == []
    assert b"/Title (alice: Part 1: a VAE on MNIST" in (out / "alice" / PDF_NAME).read_bytes()
    assert make_pdfs(out, browser=browser).current == [out / "alice" / PDF_NAME]

    digest, pdf = (out / "alice" / DIGEST_NAME).read_text(), (out / "alice" / PDF_NAME).read_bytes()
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "vae.ipynb").write_text(SOLUTION.read_text().replace("class VAE(", "class VAE2("))
    grade_many([tmp_path / "subs"], out, groups=GROUPS, progress=False)
    assert summary(out)["alice"]["score"] == "0"
    second = make_pdfs(out, browser=browser)
    assert second.written == [out / "alice" / PDF_NAME] and second.current == []
    assert (out / "alice" / DIGEST_NAME).read_text() != digest and (out / "alice" / PDF_NAME).read_bytes() != pdf

    (tmp_path / "subs" / "alice" / "vae.ipynb").unlink()  # the next submission holds no notebook
    (tmp_path / "subs" / "alice" / "notes.txt").write_text("lost my notebook")
    shutil.copytree(graded.subs / "Bob Okafor", tmp_path / "subs" / "Bob Okafor")
    grade_many([tmp_path / "subs"], out, groups=GROUPS, progress=False)
    assert summary(out)["alice"]["status"] == "no file"
    third = make_pdfs(out, browser=browser)
    assert third.removed == [out / "alice" / PDF_NAME] and third.written == []
    assert not (out / "alice" / PDF_NAME).exists() and not (out / "alice" / DIGEST_NAME).exists()


def test_mathjax_typesets_the_formulas_or_its_absence_is_said(graded, browser, tmp_path):
    """With MathJax (make mathjax) are the notebook's formulas typeset before printing; without it, is the PDF
    still written, with a warning, and rebuilt once MathJax is there?"""
    if not MATHJAX.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"MathJax must be there in CI: make mathjax ({MATHJAX})")
        pytest.skip(f"no MathJax at {MATHJAX}: make mathjax")
    out = shutil.copytree(graded.out, tmp_path / "out")
    raw = make_pdfs(out, browser=browser, mathjax=tmp_path / "no-mathjax.js")
    assert raw.written and not raw.mathjax and raw.formulas == 0 and "raw TeX" in raw.warning()
    typeset = make_pdfs(out, browser=browser)
    assert typeset.written == raw.written and typeset.mathjax and typeset.warning() == ""
    assert typeset.formulas >= 20  # the solution's Markdown holds a few dozen $...$


def test_a_notebook_that_cannot_be_read_gets_no_pdf_and_fails(graded, browser, tmp_path):
    """Does pdf exit non-zero naming the notebook it could not read, and remove that submission's old PDF?"""
    out = shutil.copytree(graded.out, tmp_path / "out")
    assert make_pdfs(out, browser=browser).written == [out / "alice" / PDF_NAME]
    (out / "alice" / "vae.ipynb").write_text("{not json")
    run = cli("pdf", str(out), cwd=tmp_path)  # its own Chromium: Playwright's sync API does not nest
    assert run.returncode == 1 and "0 PDFs written" in run.stdout
    assert f"alice: no PDF: {out / 'alice' / 'vae.ipynb'} is not a readable notebook" in run.stderr
    assert not (out / "alice" / PDF_NAME).exists()


def test_an_older_results_folder_is_upgraded_by_a_re_run(graded, tmp_path):
    """Does re-running grade-many into a folder written by an older kit (records naming the graded file where it was
    graded from, no copy in OUT) copy the files in and name them relative to OUT, regrading nothing?"""
    out = shutil.copytree(graded.out, tmp_path / "old")
    for key in ("alice", "Bob-Okafor"):
        path = out / key / "handin.json"
        record = json.loads(path.read_text())
        (out / record["handin"]["file"]).unlink()
        record["handin"]["file"] = record.pop("source")
        path.write_text(json.dumps(record))
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
    grade_many([graded.subs], out, groups=GROUPS, progress=False)
    assert all(p.stat().st_mtime_ns == stamps[p] for p in stamps)
    assert [h.file for h, _ in load(out)] == [out / "Bob-Okafor" / "vae.py", out / "alice" / "vae.ipynb", None]
    assert all(h.file.is_file() for h, _ in load(out) if h.file)
    assert json.loads((out / "alice" / "handin.json").read_text())["handin"]["file"] == "alice/vae.ipynb"
