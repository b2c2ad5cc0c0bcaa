"""How well the similarity check separates disguised copies from independently written solutions.

For each assignment, the class: every submission of its corpus (``tests/corpus/<name>/``: correct variants, each
written differently from the reference in one or more methods, and the single-bug variants), plus, for each
correct variant, a copy disguised as a copier would (``scripts/fake_export.disguise``: local variables renamed,
methods reordered, independent lines swapped). Scores come from :func:`autograder.classtools.similarity.compare`,
method by method, with the assignment's student template subtracted. Prints the score distribution of the independent
pairs (correct variant vs correct variant, and every other pair that is not a copy) and of the copy pairs, the
gap, and how many of each the flag rule flags.

Usage: ``python scripts/similarity_separation.py [--assignment NAME] [--no-bugs]`` (``make
similarity-separation``; default: every assignment of the kit). Exits with status 1 when a disguised copy of a
variant with code of its own (not all common to the class: :func:`nothing_distinctive`) is not flagged, or a
pair of independently written variants is.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fake_export import class_source, disguise  # noqa: E402

from autograder.classtools import similarity  # noqa: E402
from autograder.core.assignment import load, names  # noqa: E402


#: The header line of a correct corpus variant made from the reference rather than written apart.
DERIVED = "# derived from the reference:"
#: The header line of a correct corpus variant whose graded code is the reference's exactly (a whole notebook
#: exported to a script): no copy of it is planted, and its pairs count as derived.
REFERENCE_ITSELF = "# the reference itself:"


def corpus_class(assignment: str, with_bugs: bool = True) -> tuple:
    """``({key: code}, [(original, copy)])``: the corpus of ``assignment``, and a disguised copy of each correct
    variant."""
    spec = load(assignment)
    correct = sorted((spec.corpus / "correct").glob("*.py"))
    bugs = sorted((spec.corpus / "bugs").glob("*.py")) if with_bugs else []
    codes = {f"{p.parent.name}/{p.stem}": class_source(p, assignment) for p in correct + bugs}
    copies = []
    for seed, path in enumerate(correct):
        if REFERENCE_ITSELF in path.read_text():
            continue
        original = f"correct/{path.stem}"
        codes[f"copy/{path.stem}"] = disguise(codes[original], seed, spec.classes)
        copies.append((original, f"copy/{path.stem}"))
    return codes, copies


def corpus_answers(codes: dict, assignment: str) -> tuple:
    """``({key: {region: code}}, template text)``: the answer regions of ``codes`` (``{key: code}``) as a class of
    ``assignment``, against its template, method by method."""
    template, methods = similarity.spec_of(assignment)
    cells = similarity.cells_of(template)
    answers = {key: similarity.method_regions(similarity.answer_regions([code], cells), methods)
               for key, code in codes.items()}
    return answers, "\n\n".join(cells)


def corpus_pairs(codes: dict, assignment: str) -> list:
    """:func:`autograder.classtools.similarity.compare` over ``codes`` as a class of ``assignment``
    (:func:`corpus_answers`)."""
    answers, template = corpus_answers(codes, assignment)
    return similarity.compare(answers, template, assignment=assignment)


def nothing_distinctive(codes: dict, assignment: str) -> set:
    """The keys of ``codes`` whose answer code is all common: the template's, or found in more than
    :data:`autograder.classtools.similarity.COMMON_MIN` submissions of the class (a variant that differs from the
    reference only by a textbook line that several others wrote too). A copy of one shares nothing that tells it
    apart."""
    answers, template = corpus_answers(codes, assignment)
    common = similarity.common_hashes(list(answers.values()), template)
    return {key for key, regions in answers.items()
            if not any(similarity.fingerprint(code, common).token_coverage for code in regions.values())}


def separation(pairs: list, copies: list, assignment: str, common: set = frozenset()) -> dict:
    """Scores by kind of pair: ``copies`` (a disguised copy and its original); ``common copies`` (the same, of an
    original in ``common``: see :func:`nothing_distinctive`); ``independent`` (two correct variants, or a copy and
    a variant it was not copied from: written differently); ``derived`` (pairs with a single-bug variant, or with a
    correct variant whose header says it is the reference with text added (:data:`DERIVED`): each is the
    reference or a variant with one line changed, so two of them share everything else, as copies do)."""
    planted = {frozenset(c): original for original, c in ((c[0], c) for c in copies)}
    derived = {f"correct/{p.stem}" for p in (load(assignment).corpus / "correct").glob("*.py")
               if DERIVED in p.read_text() or REFERENCE_ITSELF in p.read_text()}
    derived |= {f"copy/{name.split('/', 1)[1]}" for name in derived}
    kinds = {"copies": [], "common copies": [], "independent": [], "derived": []}
    for pair in pairs:
        original = planted.get(frozenset((pair.a, pair.b)))
        if original:
            kinds["common copies" if original in common else "copies"].append(pair)
        elif pair.a.startswith("bugs/") or pair.b.startswith("bugs/") or {pair.a, pair.b} & derived:
            kinds["derived"].append(pair)
        else:
            kinds["independent"].append(pair)
    return kinds


def describe(name: str, pairs: list) -> str:
    """One line: how many pairs, and the min / median / 99th percentile / max of their scores."""
    scores = np.array([p.score for p in pairs])
    return (f"{name:47} {len(scores):5d} pairs   min {scores.min():.2f}  median {np.median(scores):.2f}  "
            f"p99 {np.percentile(scores, 99):.2f}  max {scores.max():.2f}  flagged {sum(p.flagged for p in pairs)}")


def report(assignment: str, with_bugs: bool) -> tuple:
    """Print the separation on the corpus of ``assignment``; returns (copies not flagged, independent pairs
    flagged), copies of code common to the class left out."""
    codes, copies = corpus_class(assignment, with_bugs)
    common = nothing_distinctive(codes, assignment)
    kinds = separation(corpus_pairs(codes, assignment), copies, assignment, common)
    print(f"{assignment}: {len(codes)} submissions ({len(copies)} disguised copies); common code: in more than "
          f"{similarity.COMMON_MIN} submissions")
    print(describe("independent (correct variants, written apart)", kinds["independent"]))
    print(describe("disguised copy vs its original", kinds["copies"]))
    if kinds["common copies"]:
        print(describe("copy of a variant with nothing distinctive", kinds["common copies"]) + "   ("
              + ", ".join(sorted(p.a.split("/", 1)[1] for p in kinds["common copies"])) + ")")
    if kinds["derived"]:
        print(describe("with a variant made from the reference", kinds["derived"]))
    worst = min(kinds["copies"], key=lambda p: (p.flagged, p.score))
    best = max(kinds["independent"], key=lambda p: (p.flagged, p.score))
    print(f"separation: lowest copy {worst.score:.2f}, {worst.shared} characters ({worst.a}); highest independent "
          f"pair {best.score:.2f}, {best.shared} characters ({best.a} ~ {best.b})")
    flagged = [p for p in kinds["independent"] if p.flagged]
    missed = [p for p in kinds["copies"] if not p.flagged]
    print(f"flag rule (score >= {similarity.FLAG_SCORE:g} and >= {similarity.MIN_SHARED} shared characters): "
          f"{len(kinds['copies']) - len(missed)}/{len(kinds['copies'])} copies and {len(flagged)}/"
          f"{len(kinds['independent'])} independent pairs flagged"
          + "".join(f"\n  flagged independent: {p.a} ~ {p.b} ({p.score:.2f}, {p.shared} characters in "
                    f"{', '.join(p.methods)})" for p in flagged) + "\n")
    return len(missed), len(flagged)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", choices=names(), help="one assignment (default: every one)")
    parser.add_argument("--no-bugs", action="store_true", help="leave the single-bug variants out of the class")
    args = parser.parse_args(argv)
    outcomes = [report(name, not args.no_bugs) for name in ([args.assignment] if args.assignment else names())]
    missed, wrong = sum(m for m, _ in outcomes), sum(w for _, w in outcomes)
    print(f"over {len(outcomes)} assignments: {missed} disguised copies with distinctive code not flagged, {wrong} "
          "independent pairs flagged")
    return 1 if missed or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
