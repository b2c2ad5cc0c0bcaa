"""The benchmark (``make bench``, ``scripts/bench.py``) runs: its quick mode measures every assignment.

Only that it runs and prints its numbers is checked here, not that they meet the targets: timings depend on the
machine and its load, and the targets are read from the benchmark itself.
"""
import os
import re
import subprocess
import sys

import pytest

from autograder.core.assignment import load, names
from conftest import MNIST, ROOT

#: The cells of a row of the side-by-side table that are numbers: CPU-s, CPU ratio, wall-s, wall ratio, PSS MB.
NUMBERS = (1, 2, 3, 5, 6, 7, 8, 9)


def table_rows(output: str) -> dict:
    """``{assignment: cells}`` of the rows of the side-by-side table in the bench's ``output``."""
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] in names() and len(cells) >= 14 and re.fullmatch(r"[\d.]+", cells[1]):
            rows[cells[0]] = cells
    return rows


@pytest.mark.slow
@pytest.mark.classifier
def test_quick_bench_measures_every_assignment(request):
    """does ``scripts/bench.py --quick`` exit 0 with a row of numbers for every assignment, and time Part 1's training
    steps against the arithmetic bound?"""
    classifier = os.environ.get("VAE_KIT_CLASSIFIER") or str(request.getfixturevalue("classifier_file"))
    env = {**os.environ, "MNIST_ROOT": str(MNIST), "VAE_KIT_CLASSIFIER": classifier}
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick"],  # scratch: build/bench/
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"the quick bench failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    rows = table_rows(run.stdout)
    assert sorted(rows) == sorted(names()), f"rows for {sorted(rows)}, not every assignment:\n{run.stdout}"
    for name, cells in rows.items():
        for index in NUMBERS:
            assert float(cells[index]) > 0, f"{name}: cell {index} of its row is {cells[index]!r}:\n{run.stdout}"
    assert re.search(r"speed as a fraction of the bound\s+[\d.]+", run.stdout), f"no Part 1 training table:\n{run.stdout}"


def test_throughput_table_has_a_row_per_assignment_with_its_own_target():
    """Does the throughput table (``make bench``'s last step, which the quick mode leaves out) give each assignment
    its submissions a minute against the target of its floor.py (5 for an assignment that declares it, else 10)?"""
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench

    run = {"graded": 20, "full_marks": 20, "per_minute": 6.0, "wall": 200.0, "cpu": 380.0}
    rows = bench.throughput_rows({name: run for name in names()}, 2)
    assert [row[0] for row in rows[1:]] == list(names())
    for row in rows[1:]:
        target = bench.target_per_minute(load(row[0]))
        assert row[2] == "6.0" and row[3] == f">= {target:g}" and row[4] == ("ok" if 6.0 >= target else "MISSED")
    assert {5.0, 10.0} <= {bench.target_per_minute(load(n)) for n in names()}  # Parts 2 and 3; Part 1
