"""Results in Gradescope's format, the crash path, and grading many submissions."""
import csv
import json

from conftest import SOLUTION, mutate

from autograder import config
from autograder.batch import collect, grade_many
from autograder.results import GradingResult, TestResult


def test_to_gradescope_sums_and_statuses():
    """Are score and max_score the sums of the tests, and a partial test 'failed'?"""
    result = GradingResult([TestResult("encoder.shapes", "encoder: a?", 3, 3),
                            TestResult("encoder.values", "encoder: b?", 0, 7, "expected 1, got 2", "after_due_date")],
                           1.234, "3 / 10 points.")
    data = result.to_gradescope()
    assert (data["score"], data["max_score"], data["execution_time"]) == (3, 10, 1.23)
    assert [t["status"] for t in data["tests"]] == ["passed", "failed"]
    assert data["tests"][1] == {"name": "encoder: b?", "score": 0, "max_score": 7, "status": "failed",
                                "output": "expected 1, got 2", "visibility": "after_due_date", "tags": ["encoder.values"]}
    assert data["stdout_visibility"] == "hidden"
    assert result.by_group() == {"encoder": (3, 10)}


def test_results_json_reads_back_with_keys_from_tags(tmp_path):
    """Does a written results.json read back as the same tests, each keyed by its tag, leaderboard kept?"""
    result = GradingResult([TestResult("kl_divergence.values", "kl_divergence: b?", 0, 3, "Your KL ...", "hidden")],
                           2.5, "0 / 3 points.", [{"name": "Test ELBO (nats)", "value": -131.9, "order": "desc"}])
    result.write(tmp_path / "results.json")
    again = GradingResult.read(tmp_path / "results.json")
    assert again.tests == result.tests and again.leaderboard == result.leaderboard
    assert again.tests[0].group == "kl_divergence" and again.tests[0].status == "failed"


def test_crash_result_is_valid_and_visible(tmp_path):
    """Does a crashed grader yield score 0 with a visible 'Autograder failed' test and no traceback?"""
    GradingResult.crashed(2.0).write(tmp_path / "results.json")
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["score"] == 0
    assert [(t["name"], t["visibility"]) for t in data["tests"]] == [("Autograder failed", "visible")]
    assert "Traceback" not in json.dumps(data)
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_collect_names_each_submission_once(tmp_path):
    """Does a folder give one entry per notebook or .py, and explicit files unique names?"""
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    assert sorted(collect([tmp_path])) == ["alice", "bob"]
    assert len(collect([tmp_path / "bob.py", tmp_path / "bob.py"])) == 2


def test_grade_many_writes_results_and_a_summary(tmp_path, reference_source):
    """Does grading a folder give a results.json per student, a summary row each, and a table?"""
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "good.py").write_text(reference_source)
    (folder / "broken.py").write_text(mutate(reference_source, "class VAE(", "class VAE2("))
    out = tmp_path / "out"
    rows = grade_many([folder], out, jobs=2)
    by_name = {row["submission"]: row for row in rows}
    full = sum(s.points for k, s in config.TESTS.items() if not k.startswith("figures."))
    assert by_name["good"]["score"] == by_name["good"]["max_score"] == full
    assert by_name["broken"]["score"] == 0
    assert json.loads((out / "broken" / "results.json").read_text())["tests"][0]["output"].startswith("no `class VAE`")
    with open(out / "summary.csv") as f:
        summary = {row["submission"]: row for row in csv.DictReader(f)}
    assert summary["good"]["encoder"] == "10/10" and summary["broken"]["elbo"] == "0/15"


def test_grade_many_accepts_notebooks_next_to_files(tmp_path):
    """Can explicit files (the default `make grade` input) be graded, named by folder and file?"""
    assert list(collect([SOLUTION])) == ["solution_vae"]
