"""Each assignment's solution notebook, built into the assignment's Gradescope zip as `make autograder` builds it
and run as Gradescope runs it: every point of every test. One grading per assignment serves every check here."""
import nbformat
import pytest
from conftest import layout, run_autograder

from autograder.core.assignment import all_assignments
from autograder.deploy import package
from autograder.grading.answers import answer_cells


@pytest.mark.slow
@pytest.mark.parametrize("assignment", all_assignments(), ids=lambda a: a.name)
def test_solution_gets_every_point_through_its_gradescope_zip(assignment, tmp_path, classifier_file):
    """Built into its own zip, with the classifier that zip ships (no VAE_KIT_CLASSIFIER), does the solution
    pass every test of the spec in its order (training, quality checks and figures included), put its test ELBO
    above the pass mark on the leaderboard, and carry each written answer to the staff?"""
    built = package.build(tmp_path / f"autograder-{assignment.name}.zip", assignment.name, version_text="test")
    submitted = {assignment.notebook: assignment.solution_notebook}
    results, stdout = run_autograder(layout(tmp_path, built, submitted))
    tests = results["tests"]
    assert [t["tags"][0] for t in tests] == list(assignment.tests), stdout
    assert [t["name"] for t in tests if t["status"] != "passed" or t["score"] != t["max_score"]] == [], stdout
    assert results["score"] == results["max_score"] == assignment.max_score
    assert results["extra_data"]["assignment"] == assignment.name
    board = {entry["name"]: entry["value"] for entry in results.get("leaderboard", [])}
    assert set(board) == {column["name"] for column in assignment.leaderboard.values()}
    if assignment.training is not None and board:
        assert all(assignment.training.min_test_elbo <= value < 0 for value in board.values())
    written = answer_cells(nbformat.read(assignment.solution_notebook, as_version=4))
    assert set(results["extra_data"].get("answers", {})) == set(written)
    for grade_id in written:
        assert len(results["extra_data"]["answers"][grade_id]) > 40 and f"answer:{grade_id}" in stdout
