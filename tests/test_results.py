"""Results in Gradescope's format and the crash path (grading many: tests/test_batch.py)."""
import json

from autograder.core.results import GradingResult, TestResult


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
