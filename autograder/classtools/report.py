"""The class's report page: ``python -m autograder report OUT`` writes ``OUT/report.html``.

One self-contained HTML file (figures embedded as PNG, styles and scripts inline, no network): the score
histogram and each test's pass rate (matplotlib), the named mistakes ranked by how many submissions made
them, one row per student (scores per group, failed tests with their messages; sortable, searchable), the
CSV for a gradebook, and the most similar pairs of submissions side by side (:mod:`autograder.classtools.similarity`).
Everything is read from what ``grade-many --out OUT`` wrote; tests are grouped by the key in their
``tags``, so another assignment's groups and tests need no change here.
"""
from __future__ import annotations

import base64
import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..config import version
from . import batch, feedback, similarity

TEMPLATE = Path(__file__).resolve().parent / "templates" / "report.html.j2"
_YOUR = re.compile(r"\bYours?\b[^\n]*")
_CLAUSE = re.compile(r"^(.*?)(?:[:;]\s|\.\s|\.?$)")
_FLOAT = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?|[-+]?\d+e[-+]?\d+")


def mistake_label(output: str) -> tuple:
    """``(label, named)`` for a failed test's message.

    A message that names a known mistake holds a sentence starting "Your ..." (or "Yours are ..."): its
    first clause is the label and ``named`` is True ("Your KL equals the closed form with logsigma read as
    a log-variance"). Otherwise the label is the first clause of the message, a symptom ("the KL for
    VAE(13, 3, 7) is not what it should be"). Measured numbers are masked so that the same mistake gets
    the same label in every submission.
    """
    match = _YOUR.search(output)
    text = match.group(0) if match else (output.strip().splitlines() or [""])[0]
    label = _CLAUSE.match(text.strip()).group(1).strip()
    return _FLOAT.sub("…", label)[:200], bool(match)


@dataclass
class Mistake:
    """A mistake and the submissions that made it: ``label``, whether the graders ``named`` it, the test keys
    it failed (``tests``) and the submissions' keys (``keys``, each once)."""

    label: str
    named: bool
    tests: list = field(default_factory=list)
    keys: list = field(default_factory=list)


def rank_mistakes(graded: list) -> list:
    """The mistakes of ``[(Handin, GradingResult)]``, most frequent first (then named before symptoms)."""
    found = {}
    for handin, result in graded:
        for test in result.tests:
            if test.status != "failed" or test.key == "autograder.failed":
                continue
            label, named = mistake_label(test.output)
            mistake = found.setdefault(label, Mistake(label, named))
            if test.key not in mistake.tests:
                mistake.tests.append(test.key)
            if handin.key not in mistake.keys:
                mistake.keys.append(handin.key)
    return sorted(found.values(), key=lambda m: (-len(m.keys), not m.named, m.label))


def png(figure) -> str:
    """A matplotlib figure as a ``data:`` URI (the page needs no other file); the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def histogram(graded: list) -> str:
    """The histogram of the scores, in percent of each submission's maximum, as a PNG data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = [100 * r.score / r.max_score for _, r in graded if r.max_score > 0]
    figure, axes = plt.subplots(figsize=(5.6, 3.4))
    axes.hist(scores, bins=range(0, 105, 5), color="#3b6ea8", edgecolor="white")
    axes.set_xlabel("score (% of the submission's maximum)")
    axes.set_ylabel("submissions")
    axes.set_title(f"Scores of {len(scores)} submissions")
    axes.set_xlim(0, 100)
    return png(figure)


def pass_rates(graded: list) -> dict:
    """``{test key: (passed, graded)}`` over the submissions, in the order the tests were met."""
    rates = {}
    for _, result in graded:
        for test in result.tests:
            if test.key != "autograder.failed":
                passed, total = rates.get(test.key, (0, 0))
                rates[test.key] = (passed + (test.status == "passed"), total + 1)
    return rates


def pass_rate_figure(rates: dict) -> str:
    """Each test's pass rate as horizontal bars, coloured by group, as a PNG data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(rates)[::-1]
    groups = list(dict.fromkeys(k.split(".")[0] for k in rates))
    colours = {g: plt.cm.tab10(i % 10) for i, g in enumerate(groups)}
    figure, axes = plt.subplots(figsize=(5.6, 0.26 * len(keys) + 0.9))
    values = [100 * rates[k][0] / rates[k][1] for k in keys]
    axes.barh(keys, values, color=[colours[k.split(".")[0]] for k in keys])
    for y, (key, value) in enumerate(zip(keys, values)):
        inside = value > 30
        axes.text(value - 1 if inside else value + 1, y, f"{value:.0f}% of {rates[key][1]}", va="center",
                  fontsize=7, ha="right" if inside else "left", color="white" if inside else "black")
    axes.set_xlim(0, 100)
    axes.set_xlabel("submissions passing (%)")
    axes.set_title("Pass rate of each test")
    axes.tick_params(axis="y", labelsize=8)
    return png(figure)


def gradebook_csv(rows: list) -> str:
    """The CSV a gradebook imports: one row per student, name, SID, email, score, maximum and status."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Name", "SID", "Email", "Score", "Max Score", "Status"])
    for row in rows:
        writer.writerow([row["name"], row["sid"], row["email"], f"{row['score']:g}", f"{row['max_score']:g}",
                         row["status"]])
    return buffer.getvalue()


def files_of(out: Path, key: str) -> dict:
    """``{label: relative href}`` of the files a submission has under ``out`` (results, log, PDF, and its feedback
    page once :func:`write_report` wrote it)."""
    names = {"results.json": batch.RESULTS, "log": "grader.log", "PDF": "submission.pdf"}
    files = {label: f"{key}/{name}" for label, name in names.items() if (out / key / name).is_file()}
    return {"feedback": feedback.page_of(key), **files}


def context(out: Path, top: int = 10, graded: list | None = None) -> dict:
    """Everything the page shows, from the results under ``out`` (``graded``: :func:`autograder.classtools.batch.load`
    of it, when the caller has read them already); similarity within each assignment, against that assignment's template
    (:func:`autograder.classtools.similarity.graded_pairs`)."""
    graded = batch.load(out) if graded is None else graded
    rows = batch.summary_rows(graded)
    results = {handin.key: result for handin, result in graded}
    groups = batch.group_order(results.values())
    names = {}
    for row in rows:
        names.setdefault(row["key"], []).append(row["name"] or row["key"])
    pairs, _ = similarity.graded_pairs(graded, highlight=top)
    shown = similarity.shown(pairs, top)
    rates = pass_rates(graded)
    scores = [r.score / r.max_score for r in results.values() if r.max_score]
    return {
        "out": out, "generated": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "kit": version(),
        "submissions": len(graded), "students": len(rows), "groups": groups, "rows": rows,
        "failed": {key: [t for t in r.tests if t.status == "failed"] for key, r in results.items()},
        "notes": {h.key: h.note for h, _ in graded}, "files": {h.key: files_of(out, h.key) for h, _ in graded},
        "names": {key: ", ".join(v) for key, v in names.items()},
        "mean": 100 * sum(scores) / len(scores) if scores else 0.0,
        "full": sum(s >= 1 for s in scores), "histogram": histogram(graded) if graded else "",
        "pass_rates": pass_rate_figure(rates) if rates else "", "rates": rates,
        "mistakes": rank_mistakes(graded), "pairs": shown, "open": top, "flagged": sum(p.flagged for p in pairs),
        "compared": len(pairs), "flag_score": similarity.FLAG_SCORE, "min_shared": similarity.MIN_SHARED,
        "gradebook": gradebook_csv(rows),
        "gradebook_uri": "data:text/csv;base64," + base64.b64encode(gradebook_csv(rows).encode()).decode(),
    }


def render(data: dict) -> str:
    """The page's HTML from :func:`context`'s data (Jinja2, everything escaped)."""
    return feedback.environment().get_template(TEMPLATE.name).render(**data)


def write_report(out: Path, top: int = 10) -> Path:
    """Write ``OUT/report.html`` for the class graded into ``out``, and each submission's feedback page
    (``OUT/feedback/<key>.html``, :mod:`autograder.classtools.feedback`); returns the report's path.

    Raises FileNotFoundError when ``out`` holds no graded submission.
    """
    out = Path(out)
    graded = batch.load(out)
    data = context(out, top, graded)
    if not data["submissions"]:
        raise FileNotFoundError(f"{out} holds no graded submission: run `python -m autograder grade-many ... "
                                f"--out {out}` first")
    feedback.write_feedback(out, graded, data["names"])
    path = out / "report.html"
    path.write_text(render(data), encoding="utf-8")
    return path
