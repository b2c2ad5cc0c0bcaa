"""The class report page and the hand-grading PDFs, checked in a real headless browser (Debian's Chromium
driven by Playwright): no console errors, sorting, search, every link resolving, nothing fetched.

The graded folder is made here from results written directly (no grading runs): these tests are about the
page. In CI (``CI`` set) a missing Chromium fails the browser tests rather than skipping them.
"""
import base64
import json
import re
import sys

import numpy as np
import pytest
from conftest import ROOT, SOLUTION

sys.path.insert(0, str(ROOT / "scripts"))
from fake_export import class_source, disguise  # noqa: E402

from autograder.classtools import batch  # noqa: E402
from autograder.classtools.export import Handin, Student  # noqa: E402
from autograder.classtools.pdf import PDF_NAME, for_hand_grading, pdfs_for  # noqa: E402
from autograder.classtools.report import mistake_label, rank_mistakes, write_report  # noqa: E402
from autograder.core.assignment import load  # noqa: E402
from autograder.core.results import GradingResult, TestResult  # noqa: E402
from autograder.grading.grading import GradingFailure, compare  # noqa: E402
from autograder.harness.harness import not_graded  # noqa: E402

#: Part 1's corpus, whose files these tests hand in.
CORPUS = load("vae").corpus

GROUPS = ("encoder", "kl_divergence", "elbo")
KL_HALF = "Your KL misses the factor 1/2: it is 0.5 * sum(sigma^2 + mu^2 - 1 - 2 * logsigma)."


def message(got, expected, what, mistakes=()) -> str:
    """The message grading.compare gives a student for ``got`` (the kit's own wording)."""
    with pytest.raises(GradingFailure) as failure:
        compare(np.asarray(got, float), np.asarray(expected, float), what, mistakes)
    return str(failure.value)


def result(kl: str = "", encoder: str = "") -> GradingResult:
    """Three tests (encoder 7, KL 3, ELBO 5 points); a non-empty message fails that test."""
    return GradingResult([TestResult("encoder.values", "encoder: are mu and logsigma right?", 0 if encoder else 7, 7,
                                     encoder),
                          TestResult("kl_divergence.values", "kl_divergence: is the KL right?", 0 if kl else 3, 3, kl),
                          TestResult("elbo.point_mass", "elbo: is the ELBO exact?", 5, 5)], 12.5, "")


def record(out, handin, graded) -> None:
    graded.write(out / handin.key / "results.json")
    stamp = batch.Stamp(batch.kit_version(), 0, GROUPS)
    (out / handin.key / batch.RECORD).write_text(json.dumps(stamp.of(handin)))


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A graded folder: Ada (full marks), a copy of her code by Ben and Cleo (a pair, KL without its 1/2),
    Dev (his own code, the same KL mistake and an unnamed encoder failure), Eve (no notebook)."""
    out, files = tmp_path_factory.mktemp("out"), tmp_path_factory.mktemp("files")
    ada = class_source(CORPUS / "correct" / "elbo_row_loop.py")
    (files / "ada.py").write_text(ada)
    (files / "ben.py").write_text(disguise(ada, seed=3))
    (files / "dev.py").write_text(class_source(CORPUS / "correct" / "kl_loop_dims.py"))
    kl = message([2.0, 4.0], [1.0, 2.0], "the KL for VAE(13, 3, 7)", [(KL_HALF, np.array([2.0, 4.0]))])
    encoder = message([0.25], [0.5], "mu for VAE(13, 3, 7)")
    people = [Student(name, f"{name.split()[0].lower()}@example.edu", sid * 8)
              for name, sid in (("Ada Quiroga", "1"), ("Ben Okafor", "2"), ("Cleo Varga", "3"), ("Dev Sato", "4"),
                                ("Eve Zhou", "5"))]
    entries = [(Handin("ada", files / "ada.py", people[:1], origin="submission_1/vae.py"), result()),
               (Handin("ben", files / "ben.py", people[1:3], origin="submission_2/vae.py"), result(kl=kl)),
               (Handin("dev", files / "dev.py", people[3:4], origin="submission_3/vae.py"), result(kl, encoder)),
               (Handin("eve", None, people[4:], "No notebook was found in your submission.", "submission_4"),
                not_graded(load("vae"), "No notebook was found in your submission."))]
    for handin, graded in entries:
        record(out, handin, graded)
    (out / "ada" / "grader.log").write_text("log")
    batch.write_summary(batch.summary_rows(batch.load(out)), out / "summary.csv")
    return out


def test_mistake_labels_come_from_the_graders_sentences():
    """Is a named mistake labelled by its "Your ..." clause, a symptom by its first clause, numbers masked?"""
    kl = message([2.0], [1.0], "the KL for VAE(13, 3, 7)", [(KL_HALF, np.array([2.0]))])
    assert mistake_label(kl) == ("Your KL misses the factor 1/2", True)
    first = message([0.123456], [0.5], "mu for VAE(13, 3, 7)")
    second = message([0.987], [0.25], "mu for VAE(13, 3, 7)")
    assert mistake_label(first) == mistake_label(second) == ("mu for VAE(13, 3, 7) is not what it should be", False)
    assert mistake_label("the ELBO is the same on every call, so it does not sample z ~ q(z|x): draw")[0] == \
        "the ELBO is the same on every call, so it does not sample z ~ q(z|x)"
    assert mistake_label("Points.\n  Yours are the probabilities theta themselves: draw from them.")[0] == \
        "Yours are the probabilities theta themselves"


def test_mistakes_are_ranked_by_how_many_submissions_made_them(graded_class):
    """Is the KL mistake (two submissions, three students) first, with both submissions, named?"""
    mistakes = rank_mistakes(batch.load(graded_class))
    assert (mistakes[0].label, mistakes[0].keys, mistakes[0].named) == ("Your KL misses the factor 1/2",
                                                                      ["ben", "dev"], True)
    assert mistakes[0].tests == ["kl_divergence.values"]
    assert [m.keys for m in mistakes if not m.named][0] in (["dev"], ["eve"])


@pytest.fixture(scope="module")
def report(graded_class):
    return write_report(graded_class)


@pytest.fixture
def page(browser, report):
    """The report open in Chromium; ``page.problems`` collects console errors, page errors and every
    request that is not to a file: or data: URL."""
    path = report
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.problems = []
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else page.problems.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    yield page
    page.close()


def visible_rows(page) -> list:
    script = "rows => rows.map(r => [r.cells[0].innerText.split('\\n')[0], r.cells[2].dataset.value])"
    return page.eval_on_selector_all("#student-table tbody tr:not([hidden])", script)


def test_page_renders_without_errors_or_network(page, graded_class, tmp_path):
    """Does the page load with no console error, request nothing, show both figures and every student?"""
    assert page.problems == []
    sizes = page.eval_on_selector_all("img", "images => images.map(i => [i.naturalWidth, i.src.slice(0, 22)])")
    assert len(sizes) == 2 and all(w > 100 and src == "data:image/png;base64," for w, src in sizes)
    assert [name for name, _ in visible_rows(page)] == ["Ada Quiroga", "Ben Okafor", "Cleo Varga", "Dev Sato",
                                                        "Eve Zhou"]
    assert page.inner_text("#named-mistakes tbody tr:first-child").startswith("2\tYour KL misses the factor 1/2")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)


def test_sorting_is_numeric_and_toggles(page):
    """Does clicking Score sort numerically (0 < 12 < 15), and clicking again reverse it?"""
    page.click("#student-table th:has-text('Score')")
    ascending = [float(v) for _, v in visible_rows(page)]
    assert ascending == sorted(ascending) and ascending[0] == 0 and ascending[-1] == 15
    page.click("#student-table th:has-text('Score')")
    assert [float(v) for _, v in visible_rows(page)] == sorted(ascending, reverse=True)
    page.click("#student-table th:has-text('Name')")
    names = [name for name, _ in visible_rows(page)]
    assert names == sorted(names)


def test_search_filters_rows_by_any_text(page):
    """Does search find a student by SID, and the students who made a mistake by its words?"""
    page.fill("#search", "33333333")
    assert [name for name, _ in visible_rows(page)] == ["Cleo Varga"]
    assert page.inner_text("#shown") == "1 of 5 shown"
    page.fill("#search", "factor 1/2")
    assert [name for name, _ in visible_rows(page)] == ["Ben Okafor", "Cleo Varga", "Dev Sato"]
    page.fill("#search", "")
    assert len(visible_rows(page)) == 5


def test_every_link_resolves(page, graded_class):
    """Does every in-page link reach an element, every file link an existing file, and the gradebook download
    hold one row per student?"""
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert any(h.startswith("#s-") for h in links) and any(h.startswith("#pair-") for h in links)
    for href in links:
        if href.startswith("#"):
            assert page.locator(f"[id='{href[1:]}']").count() == 1, href
        elif href.startswith("data:"):
            csv_text = base64.b64decode(href.split(",", 1)[1]).decode()
            assert csv_text.splitlines()[0] == "Name,SID,Email,Score,Max Score,Status"
            assert len(csv_text.splitlines()) == 6  # a header and one row per student
            assert "Ben Okafor,22222222,ben@example.edu,12,15,graded" in csv_text
            assert "Cleo Varga,33333333,cleo@example.edu,12,15,graded" in csv_text
        else:
            assert (graded_class / href).is_file(), href
    assert "ada/grader.log" in links and "summary.csv" in links


def test_a_mistake_link_shows_the_student_even_when_filtered_out(page):
    """After a search that hides everyone, does a mistake's link clear it and land on the student's row?"""
    page.fill("#search", "no such student")
    assert visible_rows(page) == []
    page.click("#named-mistakes a:has-text('Dev Sato')")
    assert page.evaluate("location.hash") == "#s-dev"
    assert page.locator("#s-dev").is_visible()


def test_similar_pairs_show_the_copy_first_side_by_side(page):
    """Is Ada's code and its disguised copy the first pair, flagged, with the shared code highlighted?"""
    first = page.inner_text("#pairs tbody tr:first-child")
    assert "Ada Quiroga" in first and "Ben Okafor, Cleo Varga" in first and "flagged" in first
    assert page.locator("#pair-1 mark").count() > 0 and page.locator("#pair-1").get_attribute("open") is not None


def test_pdf_for_hand_grading_holds_the_figures_and_answers(browser, tmp_path):
    """Is the PDF of a notebook valid, several pages long, and made of the heading, the Markdown cells and the
    figures only, in the notebook's order?"""
    import nbformat

    nb = nbformat.read(SOLUTION, as_version=4)
    kept = for_hand_grading(nb, "# Ada Quiroga")
    assert kept.cells[0].source == "# Ada Quiroga"
    assert all(c.cell_type == "markdown" or (c.source == "" and c.outputs) for c in kept.cells)
    assert sum(c.cell_type == "code" for c in kept.cells) == 3  # the MNIST, samples and t-SNE figures
    out = tmp_path / "out"
    record(out, Handin("ada", SOLUTION, (Student("Ada Quiroga", "", "1"),), origin="submission_1/vae.ipynb"),
           result())
    (tmp_path / "ben.py").write_text("class VAE:\n    pass\n")
    record(out, Handin("ben", tmp_path / "ben.py", (), origin="ben.py"), result())
    assert pdfs_for(out, browser=browser) == [out / "ada" / PDF_NAME]
    data = (out / "ada" / PDF_NAME).read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 3
    assert pdfs_for(out, browser=browser) == []  # kept unless forced


def graded_folder(out, files: dict, assignment: str = "", results: dict | None = None):
    """A graded folder of ``files`` (``{key: path}``), each result recording ``assignment``; ``results``
    replaces the result of some keys."""
    import dataclasses

    for key, path in files.items():
        graded = (results or {}).get(key) or dataclasses.replace(result(), assignment=assignment)
        record(out, Handin(key, path, (Student(key.replace("-", " ").title(), "", key[-1] * 8),),
                           origin=f"{key}/{path.name}"), graded)
    return out


def test_a_part_2_class_is_compared_against_part_2s_template(tmp_path):
    """Two students who handed in Part 2's blank template: does the report compare them against Part 2's template
    (no answer code, no pair), where Part 1's would have left the template's own code in and flagged them; and
    is a Part 1 submission never paired with a Part 2 one?"""
    from autograder.classtools.report import context

    template2 = load("vae2d").template_notebook
    part2 = graded_folder(tmp_path / "part2", {"ann": template2, "bob": template2}, "vae2d")
    assert context(part2)["pairs"] == [] and context(part2)["flagged"] == 0
    as_part1 = graded_folder(tmp_path / "as_part1", {"ann": template2, "bob": template2}, "vae")
    assert context(as_part1)["flagged"] == 1
    solution1 = class_source(CORPUS / "correct" / "elbo_row_loop.py")
    (tmp_path / "vae.py").write_text(solution1)
    (tmp_path / "vae2d.py").write_text(solution1)  # the same code, graded as another assignment
    mixed = graded_folder(tmp_path / "mixed", {"cy": tmp_path / "vae.py"}, "vae")
    graded_folder(mixed, {"di": tmp_path / "vae2d.py"}, "vae2d")
    assert context(mixed)["compared"] == 0


@pytest.fixture(scope="module")
def ring_class(tmp_path_factory):
    """Four trios, each an original and two disguised copies of a different correct variant: 12 flagged pairs."""
    out, files = tmp_path_factory.mktemp("rings"), tmp_path_factory.mktemp("ring_files")
    paths = {}
    for variant in ("elbo_row_loop", "kl_loop_dims", "sample_row_loop_device", "reparam_row_loop_device"):
        code = class_source(CORPUS / "correct" / f"{variant}.py")
        for copy in range(3):
            key = f"{variant.replace('_', '-')}-{copy}"
            paths[key] = files / f"{key}.py"
            paths[key].write_text(disguise(code, seed=copy) if copy else code)
    graded_folder(out, paths, "vae")
    write_report(out)
    return out


def test_every_flagged_pair_is_reachable_in_the_page(browser, ring_class):
    """With 12 flagged pairs (more than the 10 shown open), does the page say so, list every one with its score,
    keep the first 10 open, and open a collapsed one side by side when its link is clicked?"""
    from autograder.classtools.similarity import graded_pairs

    flagged = [p for p in graded_pairs(batch.load(ring_class))[0] if p.flagged]
    assert len(flagged) == 12
    page = browser.new_page()
    page.goto((ring_class / "report.html").as_uri(), wait_until="load")
    assert page.inner_text("#pairs-summary").startswith("12 pairs flagged, every one listed below")
    rows = page.locator("#pairs tbody tr")
    assert rows.count() >= 12 and page.locator("#pairs tbody tr:has-text('flagged')").count() == 12
    listed = {frozenset(r.split("\t")[6].split(" ~ ")) for r in rows.all_inner_texts()}
    names = {k: k.replace("-", " ").title() for k in {p.a for p in flagged} | {p.b for p in flagged}}
    assert {frozenset((names[p.a], names[p.b])) for p in flagged} <= listed
    opened = page.eval_on_selector_all("details.pair", "ds => ds.map(d => d.open)")
    assert opened[:10] == [True] * 10 and not any(opened[10:])
    page.click("#pairs tbody tr:nth-child(12) a.side-link")
    assert page.locator("#pair-12").get_attribute("open") is not None
    assert page.locator("#pair-12 mark").first.is_visible()
    page.close()


def test_feedback_page_holds_messages_and_figures_and_escapes_the_student(browser, tmp_path):
    """Is each submission's feedback page written beside the report and linked from it, with its score, each
    test's name, score and message, the notebook's figures as data: URIs, and HTML from the student (a message
    quoting it, a name, a forged image output) shown as text, never run or fetched?"""
    import nbformat

    nb = nbformat.read(SOLUTION, as_version=4)
    forged = nbformat.v4.new_code_cell("show()", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": '"><script>alert(1)</script>'})])
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    nb.cells.append(forged)
    (tmp_path / "vae.ipynb").write_text(nbformat.writes(nb))
    hostile = "<img src=x onerror=alert(1)> Your KL returned <script>alert(2)</script>"
    out = tmp_path / "out"
    record(out, Handin("eve", tmp_path / "vae.ipynb", (Student("Eve <b>Zhou</b>", "", "5"),), origin="s/vae.ipynb"),
           result(kl=hostile))
    write_report(out)
    page = browser.new_page()
    problems = []
    page.on("dialog", lambda d: (problems.append(d.message), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(r.url))
    page.goto((out / "report.html").as_uri(), wait_until="load")
    page.click("#s-eve a:has-text('feedback')")
    page.wait_for_load_state("load")
    assert page.url.endswith("/feedback/eve.html") and problems == []
    assert page.inner_text("h1") == "Feedback: Eve <b>Zhou</b>"
    assert page.inner_text("#score").startswith("Score: 12 / 15")
    rows = page.locator("#tests tbody tr").all_inner_texts()
    assert [r.split("\t")[:2] for r in rows] == [["encoder: are mu and logsigma right?", "7 / 7"],
                                                  ["kl_divergence: is the KL right?", "0 / 3"],
                                                  ["elbo: is the ELBO exact?", "5 / 5"]]
    assert hostile in rows[1] and page.locator("script").count() == 0
    sizes = page.eval_on_selector_all("#figures img", "images => images.map(i => [i.naturalWidth, i.src.slice(0, 5)])")
    assert len(sizes) == figures >= 3 and all(width > 100 and src == "data:" for width, src in sizes)
    page.close()


def test_the_report_shows_the_version_the_grading_logs_print(report, tmp_path):
    """Is the kit version on the report page the string the Gradescope zip's log prints first (its VERSION file,
    written by `make autograder` from the same checkout)?"""
    import zipfile

    from autograder.deploy import gradescope, package

    root = tmp_path / "autograder"
    with zipfile.ZipFile(package.build(tmp_path / "autograder-vae.zip", "vae")) as archive:
        archive.extractall(root / "source")
    logged = gradescope.banner(root, {"id": 1}).split()[2].rstrip(";")
    shown = re.search(r'<span id="kit-version">([^<]*)</span>', report.read_text()).group(1)
    assert shown == logged and logged not in ("", "unknown", batch.kit_version())


def test_similarity_says_what_it_looked_for_when_two_submissions_give_no_pair(tmp_path, capsys):
    """Two students who handed in Part 1's blank template: does `similarity` exit 1 saying what it looked for
    (answer code of one assignment) and where, while two with answers of their own give pairs and exit 0?"""
    from autograder.__main__ import main

    blank = graded_folder(tmp_path / "blank", {"ann": load("vae").template_notebook,
                                               "bob": load("vae").template_notebook}, "vae")
    assert main(["similarity", str(blank)]) == 1
    said = capsys.readouterr().err
    assert str(blank) in said and "0 hold answer code" in said and "template" in said
    (tmp_path / "a.py").write_text(class_source(CORPUS / "correct" / "elbo_row_loop.py"))
    (tmp_path / "b.py").write_text(class_source(CORPUS / "correct" / "kl_loop_dims.py"))
    answered = graded_folder(tmp_path / "answered", {"cy": tmp_path / "a.py", "di": tmp_path / "b.py"}, "vae")
    assert main(["similarity", str(answered)]) == 0 and "cy ~ di" in capsys.readouterr().out
