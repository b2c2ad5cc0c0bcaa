"""scripts/false_failures.py measures what grading does: it must see failures where grading would."""
import sys

from conftest import ROOT, mutate

sys.path.insert(0, str(ROOT / "scripts"))
import false_failures  # noqa: E402


def test_measurement_sees_a_wrong_reparameterization(reference_source):
    """Over a few seeds, does the reference pass every sample_with_reparam test and a variance-scaled one fail
    the statistics on every seed?"""
    counts = false_failures.measure(reference_source, "sample_with_reparam", 3)
    assert {key: (tried, failures) for key, (tried, failures, _) in counts.items()} == {
        "sample_with_reparam.shapes": (3, 0), "sample_with_reparam.statistics": (3, 0),
        "sample_with_reparam.gradients": (3, 0)}
    wrong = mutate(reference_source, "torch.exp(logsigma) * epsilon", "torch.exp(2 * logsigma) * epsilon")
    counts = false_failures.measure(wrong, "sample_with_reparam", 3)
    tried, failures, first = counts["sample_with_reparam.statistics"]
    assert (tried, failures) == (3, 3) and "variance" in first
