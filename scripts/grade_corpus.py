"""Grade the corpus of submissions of each assignment and print how right the verdicts are.

One corpus per assignment (its spec's ``corpus``: the kit's ``tests/corpus/<name>/``, a course's own
``<folder>/corpus/``). Each ``correct/*.{py,ipynb}`` must get full marks (all groups, training included, and
the figures for a notebook); each ``bugs/*.{py,ipynb}`` must lose points in the method named by
its ``# expect: bug in METHOD`` header (a notebook's header is in its metadata; ``bug in figures``: a notebook whose
saved figures are not its code's), in no other method (the training run may fail too), and the failing tests of that method must contain its ``# message:`` substring. Prints a table case x group -> points lost, then the totals;
exits 1 when any case is wrong.

Usage: ``python scripts/grade_corpus.py [--assignment NAME] [--jobs 2] [--only SUBSTRING] [--train-bugs]
[--methods-only]``
(``make corpus``: every assignment).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from autograder.core.assignment import Assignment, all_assignments, load  # noqa: E402
from corpus_service import CorpusGrader  # noqa: E402

#: Corpus files: .py files holding the VAE class, and notebooks (the course handout's, see tests/handout.py).
SUFFIXES = (".py", ".ipynb")
#: Short column names of the table (every group of the assignment, in order; figures count for notebooks only).
SHORT = {"sample_with_reparam": "reparam", "kl_divergence": "kl", "training": "train", "figures": "fig",
         "reparameterize": "reparam", "reconstruct": "recon", "latent_grid": "grid", "interpolate": "interp",
         "pick_pairs": "pairs", "quality": "qual"}
_HEADER = re.compile(r"^#\s*(expect|message|why):\s*(.*?)\s*$")


@dataclass
class Case:
    """One corpus file and what its header says should happen.

    name : file stem; kind : "correct" or "bug"; method : the method that holds the bug (bugs only);
    message : a substring the bug's failing tests must contain ("" when none is required).
    """

    path: Path
    name: str
    kind: str
    method: str = ""
    message: str = ""
    why: str = ""
    #: The assignment it is graded as (its corpus folder's).
    assignment: Assignment | None = None


@dataclass
class Verdict:
    """How one graded case came out.

    lost : dict group -> points lost (only graded groups); outputs : dict group -> the failing tests'
    messages joined; named : whether the bug's ``# message:`` substring was in them (None when the
    header gives none); ok : whether the case came out as its header expects; problems : why not.
    """

    case: Case
    lost: dict
    outputs: dict
    named: bool | None = None
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_case(path: Path, assignment: Assignment) -> Case:
    """Read the ``# expect:``, ``# message:`` and ``# why:`` header of a corpus file (of a notebook: the same
    fields in its ``metadata.vae_kit_corpus``).

    ``assignment``: the one it is graded as. Raises ValueError when the header is missing or names an unknown
    method.
    """
    fields = {}
    if path.suffix == ".ipynb":
        header = json.loads(path.read_text()).get("metadata", {}).get("vae_kit_corpus", {})
        fields = {k: str(v) for k, v in header.items() if k in ("expect", "message", "why")}
    for line in path.read_text().splitlines() if path.suffix == ".py" else []:
        match = _HEADER.match(line)
        if not match:
            break
        fields[match.group(1)] = match.group(2)
    expect = fields.get("expect", "")
    if expect == "full marks":
        return Case(path, path.stem, "correct", why=fields.get("why", ""), assignment=assignment)
    match = re.fullmatch(r"bug in (\w+)", expect)
    if not match or match.group(1) not in assignment.methods + (("figures",) if path.suffix == ".ipynb" else ()):
        raise ValueError(f"{path}: the first line must be '# expect: full marks' or '# expect: bug in METHOD' "
                         f"with METHOD one of {assignment.methods} (or figures, in a notebook); got {expect!r}")
    return Case(path, path.stem, "bug", match.group(1), fields.get("message", ""), fields.get("why", ""), assignment)


def load_cases(only: str = "", assignment: Assignment | None = None) -> list:
    """Every corpus case of ``assignment`` (of every assignment when None), correct ones first, optionally only
    those whose name contains ``only``."""
    cases = []
    for chosen in [assignment] if assignment else all_assignments():
        folder = chosen.corpus
        files = [f for kind in ("correct", "bugs") if (folder / kind).is_dir()
                 for f in sorted((folder / kind).iterdir()) if f.suffix in SUFFIXES]
        cases += [parse_case(f, chosen) for f in files if only in f.stem]
    return cases


#: Set by --methods-only: every case, correct ones too, is graded on the method groups only (no training).
METHODS_ONLY = False


def groups_for(case: Case, train_bugs: bool = False) -> tuple:
    """The groups a case is graded on: all of them for correct code, the methods (and optionally the groups
    after them: training, quality) for a bug, and the figures for a notebook whose bug is in its figures (saved
    outputs that are not its code's); the methods only for every case under ``--methods-only``."""
    if (case.kind == "correct" or train_bugs) and not METHODS_ONLY:
        return case.assignment.groups
    return case.assignment.methods + ((case.method,) if case.method not in case.assignment.methods else ())


def trains_like_reference(case: Case) -> bool:
    """Whether the methods that the case's training run calls are the reference solution's own, statement for
    statement (then it trains exactly as the reference does, which the kit's tests grade on their own)."""
    import ast

    from autograder.notebook.submission import load_submission

    def methods(source: str) -> dict:  # "Class.method" -> its code
        found = {}
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.name in case.assignment.classes:
                found.update({f"{node.name}.{f.name}": ast.dump(f) for f in node.body
                              if isinstance(f, ast.FunctionDef)})
        return found

    solution = load_submission(case.assignment.solution_notebook, case.assignment).source
    mine = load_submission(case.path, case.assignment)
    if mine.error:
        return False
    ours, theirs, qualified = methods(mine.source), methods(solution), case.assignment.qualified_methods
    return all(ours.get(qualified[m]) == theirs.get(qualified[m]) for m in case.assignment.training_methods)


def grade_case(case: Case, out: Path, grader: CorpusGrader, train_bugs: bool = False, seed: int = 0,
               groups=None) -> dict:
    """Grade one case (on ``groups``, default :func:`groups_for`) by ``python -m autograder grade``'s code in
    ``grader``, which grades case after case from one fork server; returns the parsed results.json.
    RuntimeError when no results were written."""
    results = out / f"{case.kind}-{case.name}.json"
    results.unlink(missing_ok=True)
    grader.grade(case.path, case.assignment.name, ",".join(groups or groups_for(case, train_bugs)), results, seed)
    if not results.exists():
        raise RuntimeError(f"grading {case.path} wrote no results; to see why, grade it alone: python -m autograder "
                           f"grade {case.path} --assignment {case.assignment.name}")
    return json.loads(results.read_text())


def judge(case: Case, results: dict) -> Verdict:
    """Compare a graded case with its header: points lost per group and the problems, if any."""
    lost, outputs = {}, {}
    for test in results["tests"]:
        group = test["name"].split(":")[0]
        lost[group] = lost.get(group, 0.0) + test["max_score"] - test["score"]
        if test["score"] < test["max_score"]:
            outputs[group] = (outputs.get(group, "") + "\n" + test["output"]).strip()
    verdict = Verdict(case, lost, outputs)
    if case.kind == "correct":
        verdict.problems += [f"lost {points:g} in {group}: {outputs[group][:300]}"
                             for group, points in lost.items() if points > 0]
        return verdict
    if lost.get(case.method, 0) <= 0:
        verdict.problems.append(f"the bug in {case.method} lost no points there")
    for group, points in lost.items():
        if points > 0 and group not in (case.method, *case.assignment.extra_groups) or (
                points > 0 and group == "figures" != case.method):
            verdict.problems.append(f"lost {points:g} in {group}, not the buggy method: {outputs[group][:300]}")
    if case.message:
        verdict.named = case.message in outputs.get(case.method, "")
    if verdict.named is False:
        verdict.problems.append(f"no failing {case.method} test says {case.message!r}; they say: "
                                f"{outputs.get(case.method, '')[:400]!r}")
    return verdict


def grade_all(cases, jobs: int = 2, train_bugs: bool = False, out: Path | None = None, progress=None) -> list:
    """Grade ``cases`` with ``jobs`` grading processes at once (each a :class:`corpus_service.CorpusGrader`
    that grades case after case); returns their Verdicts in order."""
    out = Path(out or tempfile.mkdtemp(prefix="vae-corpus-"))
    out.mkdir(parents=True, exist_ok=True)
    local, graders = threading.local(), []

    def one(case):
        if not hasattr(local, "grader"):
            local.grader = CorpusGrader()
            graders.append(local.grader)
        verdict = judge(case, grade_case(case, out, local.grader, train_bugs))
        if progress:
            progress(verdict)
        return verdict

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, cases))
    finally:
        for grader in graders:
            grader.close()


def totals(verdicts) -> dict:
    """The three numbers the issue asks for (and what they are out of)."""
    correct = [v for v in verdicts if v.case.kind == "correct"]
    bugs = [v for v in verdicts if v.case.kind == "bug"]
    wrong = sum(points for v in bugs for group, points in v.lost.items()
                if points > 0 and (group not in (v.case.method, *v.case.assignment.extra_groups)
                                   or group == "figures" != v.case.method))
    return {"full_marks": sum(v.ok for v in correct), "correct": len(correct),
            "caught": sum(v.lost.get(v.case.method, 0) > 0 for v in bugs), "bugs": len(bugs),
            "named": sum(bool(v.named) for v in bugs),
            "with_message": sum(bool(v.case.message) for v in bugs), "wrong_method_points": wrong}


def table(verdicts) -> str:
    """The case x group table of points lost ('.' none, '-' not graded), with a verdict column; the columns
    are the groups of the verdicts' assignment."""
    columns = verdicts[0].case.assignment.groups if verdicts else ()
    header = ["case", "expect"] + [SHORT.get(g, g) for g in columns] + ["ok"]
    rows = [header]
    for v in verdicts:
        expect = "full marks" if v.case.kind == "correct" else SHORT.get(v.case.method, v.case.method)
        cells = [("-" if g not in v.lost else "." if v.lost[g] == 0 else f"{v.lost[g]:g}") for g in columns]
        rows.append([v.case.name, expect] + cells + ["ok" if v.ok else "WRONG"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="grading processes at once (default 2)")
    parser.add_argument("--only", default="", help="grade only cases whose name contains this")
    parser.add_argument("--train-bugs", action="store_true", help="grade the bugs' training run too")
    parser.add_argument("--out", default=str(ROOT / "build" / "corpus"), help="folder for the results.json files")
    parser.add_argument("--assignment", help="only this assignment's corpus (default: every assignment's)")
    parser.add_argument("--methods-only", action="store_true",
                        help="grade correct cases on the method groups only too (no training: a quick check)")
    args = parser.parse_args(argv)
    global METHODS_ONLY
    METHODS_ONLY = args.methods_only
    chosen = [load(args.assignment)] if args.assignment else all_assignments()
    start, everything = time.monotonic(), []
    for assignment in chosen:
        cases = load_cases(args.only, assignment)
        if not cases:
            continue
        correct = "the methods only" if METHODS_ONLY else "every group, training included"
        print(f"\n== {assignment.title}: grading {len(cases)} corpus cases with {args.jobs} jobs (correct ones on "
              f"{correct}; bugs on the methods{' and training' if args.train_bugs else ''})", flush=True)
        verdicts = grade_all(cases, args.jobs, args.train_bugs, Path(args.out) / assignment.name,
                             progress=lambda v: print(f"  {'ok   ' if v.ok else 'WRONG'} {v.case.name}", flush=True))
        report(verdicts)
        everything += verdicts
    print(f"({time.monotonic() - start:.0f} s)")
    return 0 if all(v.ok for v in everything) else 1


def report(verdicts) -> None:
    """Print the table of one assignment's verdicts, what went wrong, and the totals."""
    print("\npoints lost per case and group ('.' none, '-' not graded):\n")
    print(table(verdicts))
    for v in verdicts:
        for problem in v.problems:
            print(f"\nWRONG {v.case.name}: {problem}")
    t = totals(verdicts)
    print(f"\ncorrect variants at full marks:      {t['full_marks']}/{t['correct']}")
    print(f"bugs caught in the right method:     {t['caught']}/{t['bugs']}")
    print(f"bugs whose mistake is named:         {t['named']}/{t['with_message']}")
    print(f"points lost in a wrong method:       {t['wrong_method_points']:g} (must be 0)")


if __name__ == "__main__":
    sys.exit(main())
