"""Do the notebook's checks agree with the grader? For every case of every corpus whose assignment has checks, each
check's verdict on a test (pass or fail) is compared with the grader's verdict on the same test.

A check never passes code that the grader fails on that test, and never fails code that the grader passes; a check
that does not run (its method needs another method that fails its own checks first) has no verdict and is counted
apart. Prints the table per assignment and every disagreement; exits 1 when there is one.

Usage: ``python scripts/check_agreement.py [--assignment NAME] [--jobs 2] [--only SUBSTRING]``
(``make check-agreement``). The corpus tests of ``make test`` compare the same verdicts on the groups each case
changes (tests/test_corpus.py).
"""
from __future__ import annotations

import argparse
import linecache
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from autograder.core.assignment import key_group, load  # noqa: E402
from autograder.deploy import checks  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402
from autograder.sandbox import vae_check  # noqa: E402

import grade_corpus  # noqa: E402

#: What the notebook's first cell defines, which the grader's children define for the graded cells too.
PREAMBLE = ("import numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
            "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n")


def load_data(assignment):
    """The check data of ``assignment`` as handed out (``make student`` keeps it current)."""
    return vae_check.CheckData(checks.data_path(assignment))


def loaded_classes(path, assignment):
    """The classes of the submission at ``path``, its graded code run in a fresh namespace after the notebook's first
    cell (its lines known to tracebacks as a cell's are); None when the code does not load."""
    submission = load_submission(path, assignment)
    namespace, filename = {"__name__": "__main__"}, f"<{Path(path).name}>"
    # as Jupyter does for a cell: tracebacks show the lines of the code run
    linecache.cache[filename] = (len(submission.source), None, submission.source.splitlines(True), filename)
    exec(PREAMBLE, namespace)  # noqa: S102 - the kit's own corpus
    try:
        exec(compile(submission.source, filename, "exec"), namespace)  # noqa: S102
    except Exception:  # noqa: BLE001 - code that does not load fails every check, as it fails every test
        return None
    return [namespace[c] for c in assignment.classes if isinstance(namespace.get(c), type)]


def check_reports(path, assignment, methods, data) -> dict:
    """``{method: CheckReport}``: the checks of ``methods`` on the submission at ``path``, run in this process as in
    a notebook's kernel (:func:`loaded_classes`). A submission whose code cannot load gets None for each method."""
    classes = loaded_classes(path, assignment)
    if classes is None:
        return {method: None for method in methods}
    return {method: vae_check.run_check(data, method, classes) for method in methods}


def verdicts_of(reports: dict, data) -> dict:
    """``{test key: True, False or None}`` of :func:`check_reports`' reports (False for every test of code that does
    not load, as the grader fails it)."""
    verdicts = {}
    for method, report in reports.items():
        tests = [key for key, _ in data.meta["methods"][method]["tests"]]
        verdicts.update({key: False for key in tests} if report is None else report.passed)
    return verdicts


def check_verdicts(path, assignment, methods, data) -> dict:
    """``{test key: True, False or None}``: the verdicts of the checks of ``methods`` on the submission at ``path``."""
    return verdicts_of(check_reports(path, assignment, methods, data), data)


def grader_verdicts(results: dict) -> dict:
    """``{test key: passed}`` of a results.json (tests are tagged with their key)."""
    return {t["tags"][0]: t["score"] >= t["max_score"] for t in results["tests"] if t.get("tags")}


@dataclass
class Agreement:
    """Per assignment: tests compared, agreeing, and each kind of disagreement (with what it was)."""

    compared: int = 0
    agree: int = 0
    not_checked: int = 0
    check_passes_grader_fails: list = field(default_factory=list)
    check_fails_grader_passes: list = field(default_factory=list)
    messages: dict = field(default_factory=dict)
    verdicts: dict = field(default_factory=dict)

    def add(self, name: str, grader: dict, check: dict) -> None:
        for key, passed in check.items():
            if key not in grader:
                continue
            if passed is None:
                self.not_checked += 1
                continue
            self.compared += 1
            if passed == grader[key]:
                self.agree += 1
            else:
                (self.check_passes_grader_fails if passed else self.check_fails_grader_passes).append(f"{name}: {key}")


def agree_on(case, results: dict, data, methods=None) -> Agreement:
    """The agreement of one graded case (its results.json) on ``methods`` (default: the groups it was graded on);
    its ``messages`` are the failing checks' messages, by test key."""
    grader = grader_verdicts(results)
    methods = methods or sorted({key_group(k) for k in grader} & set(data.meta["methods"]))
    found, reports = Agreement(), check_reports(case.path, case.assignment, methods, data)
    found.verdicts = verdicts_of(reports, data)
    found.messages = {k: m for report in reports.values() if report is not None for k, m in report.messages.items()}
    found.add(case.name, grader, found.verdicts)
    return found


def run(assignment, cases, jobs: int) -> Agreement:
    """Grade ``cases`` on every method group and compare each with its checks."""
    out, local, graders, total = Path(tempfile.mkdtemp(prefix="vae-agreement-")), threading.local(), [], Agreement()
    data, groups, lock = load_data(assignment), list(assignment.methods), threading.Lock()

    def one(case):
        if not hasattr(local, "grader"):
            local.grader = grade_corpus.CorpusGrader()
            graders.append(local.grader)
        results = grade_corpus.grade_case(case, out, local.grader, groups=groups)
        with lock:  # the checks run here, one at a time (they reseed torch)
            found = agree_on(case, results, data, groups)
            for name in ("compared", "agree", "not_checked"):
                setattr(total, name, getattr(total, name) + getattr(found, name))
            total.check_passes_grader_fails += found.check_passes_grader_fails
            total.check_fails_grader_passes += found.check_fails_grader_passes

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(one, cases))
    finally:
        for grader in graders:
            grader.close()
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="", help="only the cases whose name contains this")
    args = parser.parse_args(argv)
    names = args.assignment or list(checks.CHECKED)
    print("| assignment | cases | tests compared | agree | check passes, grader fails | check fails, grader passes "
          "| not checked (a method it needs fails first) |\n|---|---|---|---|---|---|---|")
    wrong = []
    for name in names:
        assignment = load(name)
        cases = grade_corpus.load_cases(args.only, assignment)
        found = run(assignment, cases, args.jobs)
        print(f"| `{name}` | {len(cases)} | {found.compared} | {found.agree} | {len(found.check_passes_grader_fails)} "
              f"| {len(found.check_fails_grader_passes)} | {found.not_checked} |")
        wrong += found.check_passes_grader_fails + found.check_fails_grader_passes
    for line in wrong:
        print(f"disagreement: {line}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
