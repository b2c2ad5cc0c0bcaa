"""scripts/false_failures.py measures what grading does: it must see failures where grading would."""
import sys

from conftest import ROOT, mutate

sys.path.insert(0, str(ROOT / "scripts"))
import false_failures  # noqa: E402


def test_measurement_sees_a_wrong_reparameterization(reference_source):
    """Over a few seeds (each graded on its two rounds of calls, as grading does), does the reference pass every
    sample_with_reparam test and a variance-scaled one fail the statistics on every seed and round?"""
    counts = false_failures.measure(reference_source, "sample_with_reparam", 3, "vae")
    assert {key: (tried, failures) for key, (tried, failures, _) in counts.items()} == {
        "sample_with_reparam.shapes": (6, 0), "sample_with_reparam.statistics": (6, 0),
        "sample_with_reparam.gradients": (6, 0)}
    wrong = mutate(reference_source, "torch.exp(logsigma) * epsilon", "torch.exp(2 * logsigma) * epsilon")
    counts = false_failures.measure(wrong, "sample_with_reparam", 3, "vae")
    tried, failures, first = counts["sample_with_reparam.statistics"]
    assert (tried, failures) == (6, 6) and "variance" in first


def test_measurement_covers_vae2d_reparameterize(tmp_path):
    """Over a few seeds (each graded on its two rounds of calls), does Part 2's reference pass every reparameterize
    test, and one that reads logvar as a log standard deviation fail the statistics on every seed and round?"""
    from autograder.core.assignment import load
    from autograder.notebook.submission import load_submission

    source = load_submission(ROOT / "solution" / "vae2d.ipynb", load("vae2d")).source
    counts = false_failures.measure(source, "reparameterize", 3, "vae2d")
    assert {key: (tried, failures) for key, (tried, failures, _) in counts.items()} == {
        "reparameterize.shapes": (6, 0), "reparameterize.statistics": (6, 0), "reparameterize.gradients": (6, 0)}
    wrong = mutate(source, "torch.exp(0.5 * logvar) * epsilon", "torch.exp(logvar) * epsilon")
    tried, failures, first = false_failures.measure(wrong, "reparameterize", 3, "vae2d")["reparameterize.statistics"]
    assert (tried, failures) == (6, 6) and "log standard deviation" in first
