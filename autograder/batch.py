"""Grade many submissions: one trusted ``python -m autograder grade`` process each, several at once.

Writes ``OUT/<name>/results.json`` per submission and ``OUT/summary.csv``, and prints a table.
"""
from __future__ import annotations

import csv
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import config
from .results import GradingResult

SUFFIXES = (".ipynb", ".py")


def collect(paths) -> dict:
    """Map a unique name to each submission: files as given, and the .ipynb/.py files of folders."""
    found = {}
    for path in map(Path, paths):
        files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES) if path.is_dir() else [path]
        for file in files:
            name = file.stem if path.is_dir() else "_".join(file.with_suffix("").parts[-2:])
            while name in found:
                name += "_"
            found[name] = file
    return found


def _grade_one(name: str, file: Path, out: Path, seed: int):
    results = out / name / "results.json"
    results.unlink(missing_ok=True)
    log = out / name / "grader.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        subprocess.run([sys.executable, "-m", "autograder", "grade", str(file), "--results", str(results),
                        "--seed", str(seed)], stdout=f, stderr=subprocess.STDOUT, check=False)
    if not results.exists():  # the grading process itself died: still a valid result
        GradingResult.crashed().write(results)
    return name, results


def _points(results: Path) -> dict:
    import json

    data = json.loads(results.read_text())
    groups = {}
    for test in data["tests"]:
        group = test["name"].split(":")[0]
        score, most = groups.get(group, (0.0, 0.0))
        groups[group] = (score + test["score"], most + test["max_score"])
    return {"score": data["score"], "max_score": data["max_score"], "time": data["execution_time"], **groups}


def grade_many(paths, out: Path, jobs: int = 2, seed: int = 0) -> list:
    """Grade every submission under ``paths`` into ``out``; returns the summary rows."""
    submissions = collect(paths)
    out.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = list(pool.map(lambda item: _grade_one(*item, out, seed), submissions.items()))
    rows = []
    for name, results in done:
        points = _points(results)
        row = {"submission": name, "file": str(submissions[name]), "score": points["score"],
               "max_score": points["max_score"], "seconds": points["time"]}
        row.update({g: f"{points[g][0]:g}/{points[g][1]:g}" if g in points else "" for g in config.GROUPS})
        rows.append(row)
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["submission"])
        writer.writeheader()
        writer.writerows(rows)
    print_table(rows)
    print(f"\n{len(rows)} submissions graded in {time.monotonic() - start:.0f} s with {jobs} jobs; "
          f"results in {out}/<name>/results.json, summary in {out / 'summary.csv'}")
    return rows


def print_table(rows) -> None:
    columns = ["submission", "score", "max_score", *config.GROUPS, "seconds"]
    cells = [[str(c) for c in columns]] + [[f"{r[c]:g}" if isinstance(r[c], float) else str(r[c]) for c in columns]
                                           for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for index, row in enumerate(cells):
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)))
        if index == 0:
            print("  ".join("-" * width for width in widths))
