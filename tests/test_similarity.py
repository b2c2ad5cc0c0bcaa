"""Similarity of submissions: answer regions against the template, compared method by method with copydetect's
fingerprints, the separation of disguised copies from independent solutions on every corpus. Nothing here grades
or runs student code."""
import ast
import sys

import pytest

from conftest import ROOT, SOLUTION, TEMPLATE

sys.path.insert(0, str(ROOT / "scripts"))
from fake_export import class_source, disguise  # noqa: E402
from similarity_separation import corpus_class, corpus_pairs, nothing_distinctive, separation  # noqa: E402

from autograder.classtools import similarity  # noqa: E402
from autograder.classtools.similarity import answer_regions, cells_of, compare, method_regions  # noqa: E402
from autograder.core.assignment import load, names  # noqa: E402

#: Part 1's corpus, whose files these tests hand in.
CORPUS = load("vae").corpus

METHODS = {f"VAE.{m}" for m in ("encoder", "sample_with_reparam", "decoder", "kl_divergence", "elbo", "sample")}
#: The closed-form KL as a textbook prints it (Kingma & Welling 2014, appendix B), in Part 1's names.
TEXTBOOK_KL = "        return -0.5 * torch.sum(1 + 2 * logsigma - mu.pow(2) - logsigma.exp().pow(2), dim=1)"


def answers_of(*codes: str) -> dict:
    template = cells_of(TEMPLATE)
    return {f"s{i}": method_regions(answer_regions([code], template), METHODS) for i, code in enumerate(codes)}


def with_kl(source: str, line: str) -> str:
    """``source`` with the body of ``VAE.kl_divergence`` (its docstring kept) replaced by ``line``."""
    method = next(n for n in ast.walk(ast.parse(source))
                  if isinstance(n, ast.FunctionDef) and n.name == "kl_divergence")
    lines = source.splitlines()
    return "\n".join(lines[:method.body[1].lineno - 1] + [line] + lines[method.end_lineno:]) + "\n"


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


def textbook_class(copy: bool) -> dict:
    """A class: the correct variants of Part 1's corpus that do not write the textbook's KL line, and five more
    (``own/...``, each written apart) that have it in place of their ``kl_divergence``; with ``copy``, also
    ``copy``, a disguised copy of the first of the five."""
    line = set(similarity.fingerprint(TEXTBOOK_KL.strip(), every_kgram=True).hashes)
    codes = {p.stem: class_source(p) for p in sorted((CORPUS / "correct").glob("*.py"))}
    for name in ("elbo_row_loop", "kl_loop_dims", "sample_row_loop_device", "reparam_row_loop_device", "kl_sigma_log"):
        codes[f"own/{name}"] = with_kl(codes.pop(name), TEXTBOOK_KL)
    codes = {k: c for k, c in codes.items() if k.startswith("own/")
             or not line & set(similarity.fingerprint(c, every_kgram=True).hashes)}
    if copy:
        codes["copy"] = disguise(codes["own/elbo_row_loop"], seed=7)
    template = cells_of(TEMPLATE)
    return {key: method_regions(answer_regions([code], template), METHODS) for key, code in codes.items()}


def own_pairs_flagged(pairs) -> set:
    return {frozenset((p.a, p.b)) for p in pairs if p.flagged and (p.a.startswith("own/") or p.b.startswith("own/"))}


def test_a_shared_textbook_kl_line_is_not_flagged_and_a_disguised_copy_is():
    """Five students who wrote their own answers, each with the textbook's closed-form KL line (and no one else in
    the class): is no pair of them flagged? With a sixth who copied the first and disguised it, is that pair the
    one flagged, its shared code marked inside each method only?"""
    template = "\n\n".join(cells_of(TEMPLATE))
    assert own_pairs_flagged(compare(textbook_class(copy=False), template)) == set()
    pairs = compare(textbook_class(copy=True), template, highlight=1000)
    assert own_pairs_flagged(pairs) == {frozenset(("own/elbo_row_loop", "copy"))}
    copy = next(p for p in pairs if {p.a, p.b} == {"own/elbo_row_loop", "copy"})
    for name in ("VAE.elbo", "VAE.kl_divergence"):  # each method's code under its own heading, marks within it
        section = copy.highlighted_a.split(f"# {name}\n")[1].split("\n\n# ")[0]
        assert section.count("<mark>") == section.count("</mark>")
    assert "<mark>" in copy.highlighted_a and "VAE.kl_divergence" not in copy.methods  # the KL line is no evidence


def test_the_textbook_line_flagged_pairs_while_five_holders_were_too_few_to_be_common(monkeypatch):
    """Is subtracting the line what keeps the five from being flagged: with code common only beyond five
    submissions (the rule before issue 18), are pairs of them flagged on that line alone?"""
    monkeypatch.setattr(similarity, "COMMON_MIN", 5)
    pairs = compare(textbook_class(copy=False), "\n\n".join(cells_of(TEMPLATE)))
    flagged = [p for p in pairs if frozenset((p.a, p.b)) in own_pairs_flagged(pairs)]
    assert flagged and all(p.methods == ("VAE.kl_divergence",) for p in flagged)


def test_code_most_submissions_share_is_not_evidence():
    """Do two submissions that share only what the whole class wrote (the reference's methods) score 0, while
    the same two alone (nothing is common in a class of two) share everything?"""
    reference = class_source(CORPUS / "correct" / "kl_textbook.py")
    alone = compare(answers_of(reference, reference))
    assert alone[0].score == 1.0
    class_of_ten = compare(answers_of(*[reference] * 10))
    assert max(p.score for p in class_of_ten) == 0.0 and not any(p.flagged for p in class_of_ten)


@pytest.mark.parametrize("assignment", names())
def test_separation_on_the_corpus(assignment):
    """On each assignment's corpus with a disguised copy of each correct variant: is every copy that holds code
    of its own flagged, no pair of independently written variants flagged, and a copy of a variant with nothing
    distinctive (a textbook line five others wrote) the only kind left out?"""
    codes, copies = corpus_class(with_bugs=True, assignment=assignment)
    kinds = separation(corpus_pairs(codes, assignment), copies, assignment, nothing_distinctive(codes, assignment))
    assert [(p.a, p.b) for p in kinds["copies"] if not p.flagged] == []
    assert len(kinds["copies"]) >= len(copies) - 3
    assert [(p.a, p.b) for p in kinds["independent"] if p.flagged] == []


def test_unreadable_submissions_share_nothing(tmp_path):
    """Is a missing file, a broken notebook or a syntax error handled without an exception?"""
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "syntax.py").write_text("class VAE(:\n")
    assert cells_of(None) == [] and cells_of(tmp_path / "broken.ipynb") == []
    assert answer_regions(cells_of(tmp_path / "syntax.py"), cells_of(TEMPLATE)) == {"<unparsed>": "class VAE(:\n"}
