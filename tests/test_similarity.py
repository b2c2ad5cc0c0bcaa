"""Similarity of submissions: answer regions against the template, copydetect's fingerprints, the separation of
disguised copies from independent solutions on the corpus. Nothing here grades or runs student code."""
import sys

from conftest import ROOT, SOLUTION, TEMPLATE

sys.path.insert(0, str(ROOT / "scripts"))
from fake_export import CORPUS, class_source, disguise  # noqa: E402
from similarity_separation import corpus_class, separation  # noqa: E402

from autograder import similarity  # noqa: E402
from autograder.similarity import answer_regions, answer_text, cells_of, compare  # noqa: E402

METHODS = {f"VAE.{m}" for m in ("encoder", "sample_with_reparam", "decoder", "kl_divergence", "elbo", "sample")}


def answers_of(*codes: str) -> dict:
    template = cells_of(TEMPLATE)
    return {f"s{i}": answer_text(answer_regions([code], template)) for i, code in enumerate(codes)}


def test_answer_regions_are_what_the_student_wrote():
    """Are the answered methods kept, without docstrings, and the template's own code (the __init__, the
    notebook's other cells) left out; and does the blank template hold no answer at all?"""
    template = cells_of(TEMPLATE)
    solution = answer_regions(cells_of(SOLUTION), template)
    assert set(solution) == METHODS
    assert "Obtain the parameters" not in solution["VAE.encoder"] and "self.linear21" in solution["VAE.encoder"]
    assert answer_regions(template, template) == {}
    added = answer_regions(cells_of(SOLUTION) + ["def helper(x):\n    return x * 2\n"], template)
    assert set(added) == METHODS | {"helper"}


def test_a_renamed_and_reordered_copy_scores_high_and_a_different_answer_low():
    """Does a copy with renamed variables, swapped lines and reordered methods score as the original, while
    another correct variant does not?"""
    original = class_source(CORPUS / "correct" / "elbo_row_loop.py")
    other = class_source(CORPUS / "correct" / "kl_loop_dims.py")
    copy = disguise(original, seed=5)
    assert "values = []" in original and "values = []" not in copy  # really renamed
    pairs = {frozenset((p.a, p.b)): p for p in compare(answers_of(original, copy, other))}
    assert pairs[frozenset(("s0", "s1"))].score >= similarity.FLAG_SCORE
    assert pairs[frozenset(("s0", "s1"))].flagged and "<mark>" in pairs[frozenset(("s0", "s1"))].highlighted_a
    assert pairs[frozenset(("s0", "s1"))].score > pairs[frozenset(("s0", "s2"))].score


def test_code_most_submissions_share_is_not_evidence():
    """Do two submissions that share only what the whole class wrote (the reference's methods) score 0, while
    the same two alone (nothing is common in a class of two) share everything?"""
    reference = class_source(CORPUS / "correct" / "kl_textbook.py")
    alone = compare(answers_of(reference, reference))
    assert alone[0].score == 1.0
    class_of_ten = compare(answers_of(*[reference] * 10))
    assert max(p.score for p in class_of_ten) == 0.0 and not any(p.flagged for p in class_of_ten)


def test_separation_on_the_corpus():
    """On the corpus with a disguised copy of each correct variant: is every copy flagged, no pair of
    independently written variants flagged, and the lowest copy above the highest independent pair?"""
    codes, copies = corpus_class(with_bugs=True)
    template = cells_of(TEMPLATE)
    answers = {key: answer_text(answer_regions([code], template)) for key, code in codes.items()}
    kinds = separation(compare(answers, "\n\n".join(template)), copies)
    assert len(kinds["copies"]) == len(copies) > 0 and all(p.flagged for p in kinds["copies"])
    assert not any(p.flagged for p in kinds["independent"])
    assert min(p.score for p in kinds["copies"]) > max(p.score for p in kinds["independent"])


def test_unreadable_submissions_share_nothing(tmp_path):
    """Is a missing file, a broken notebook or a syntax error handled without an exception?"""
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "syntax.py").write_text("class VAE(:\n")
    assert cells_of(None) == [] and cells_of(tmp_path / "broken.ipynb") == []
    assert answer_regions(cells_of(tmp_path / "syntax.py"), cells_of(TEMPLATE)) == {"<unparsed>": "class VAE(:\n"}
