"""How long the notebooks' checks take: each check of each assignment on its solution, in a fresh process on one
CPU thread (torch's threads set to 1, as on a small laptop core), and each notebook's total.

Usage: ``python scripts/check_times.py [--assignment NAME] [--repeats 3]`` (prints a table per assignment; each check
is timed ``repeats`` times in one process after a first run, and the smallest time is printed).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The child that times the checks of one assignment: prints {method: seconds} as JSON.
CHILD = """
import json, sys, time
sys.path.insert(0, {scripts!r})
import torch
torch.set_num_threads(1)
import check_agreement
from autograder.core.assignment import load
from autograder.sandbox import vae_check
assignment = load({name!r})
data = check_agreement.load_data(assignment)
path = assignment.solution_notebook
reports = check_agreement.check_reports(path, assignment, list(assignment.methods), data)  # loads the classes once
times = {{}}
for method in assignment.methods:
    best = None
    for _ in range({repeats}):
        classes = check_agreement.loaded_classes(path, assignment)
        start = time.perf_counter()
        report = vae_check.run_check(data, method, classes)
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
        assert all(v or k in data.meta["methods"][method]["grader_only"] for k, v in report.passed.items()), method
    times[method] = best
print(json.dumps(times))
"""


def times_of(name: str, repeats: int) -> dict:
    """``{method: seconds}`` of the checks of assignment ``name`` on its solution, in a fresh process."""
    code = CHILD.format(scripts=str(ROOT / "scripts"), name=name, repeats=repeats)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    from autograder.deploy import checks

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", action="append")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    for name in args.assignment or checks.CHECKED:
        found = times_of(name, args.repeats)
        print(f"\n{name}: all checks {sum(found.values()):.2f} s (each check on one thread, best of {args.repeats})")
        print("| check | seconds |\n|---|---|")
        for method, seconds in found.items():
            print(f"| `{method}` | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
