"""How well the similarity check separates disguised copies from independently written solutions.

The class: every submission of ``tests/corpus`` (16 correct variants, each written differently from the
reference in one or two methods, and the single-bug variants), plus, for each correct variant, a copy
disguised as a copier would (``scripts/fake_export.disguise``: comments and layout lost, local variables
renamed, methods reordered, independent lines swapped). Scores come from :func:`autograder.similarity.compare`
with the student template subtracted. Prints the score distribution of the independent pairs (correct
variant vs correct variant, and every other pair that is not a copy) and of the copy pairs, and the gap.

Usage: ``python scripts/similarity_separation.py [--bugs/--no-bugs]`` (``make similarity-separation``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fake_export import CORPUS, class_source, disguise  # noqa: E402

from autograder import similarity  # noqa: E402
from autograder.assignment import load  # noqa: E402


#: The header line of a correct corpus variant made from the reference rather than written apart.
DERIVED = "# derived from the reference:"
#: The header line of a correct corpus variant whose graded code is the reference's exactly (a whole notebook
#: exported to a script): no copy of it is planted, and its pairs count as derived.
REFERENCE_ITSELF = "# the reference itself:"


def corpus_class(with_bugs: bool = True) -> tuple:
    """``({key: code}, [(original, copy)])``: the corpus, and a disguised copy of each correct variant."""
    correct = sorted((CORPUS / "correct").glob("*.py"))
    bugs = sorted((CORPUS / "bugs").glob("*.py")) if with_bugs else []
    codes = {f"{p.parent.name}/{p.stem}": class_source(p) for p in correct + bugs}
    copies = []
    for seed, path in enumerate(correct):
        if REFERENCE_ITSELF in path.read_text():
            continue
        original = f"correct/{path.stem}"
        codes[f"copy/{path.stem}"] = disguise(codes[original], seed)
        copies.append((original, f"copy/{path.stem}"))
    return codes, copies


def separation(pairs: list, copies: list) -> dict:
    """Scores by kind of pair: ``copies`` (a disguised copy and its original); ``independent`` (two correct
    variants, or a copy and a variant it was not copied from: written differently); ``derived`` (pairs with
    a single-bug variant, or with a correct variant whose header says it is the reference with text added
    (:data:`DERIVED`): each is the reference or a variant with one line changed, so two of them share
    everything else, as copies do)."""
    planted = {frozenset(c) for c in copies}
    derived = {f"correct/{p.stem}" for p in (CORPUS / "correct").glob("*.py")
               if DERIVED in p.read_text() or REFERENCE_ITSELF in p.read_text()}
    derived |= {f"copy/{name.split('/', 1)[1]}" for name in derived}
    kinds = {"copies": [], "independent": [], "derived": []}
    for pair in pairs:
        if frozenset((pair.a, pair.b)) in planted:
            kinds["copies"].append(pair)
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-bugs", action="store_true", help="leave the single-bug variants out of the class")
    args = parser.parse_args(argv)
    codes, copies = corpus_class(not args.no_bugs)
    template = similarity.cells_of(load("vae").template_notebook)
    answers = {key: similarity.answer_text(similarity.answer_regions([code], template)) for key, code in codes.items()}
    pairs = similarity.compare(answers, "\n\n".join(template))
    kinds = separation(pairs, copies)
    print(f"class: {len(codes)} submissions ({len(copies)} disguised copies); common code: in more than "
          f"max({similarity.COMMON_MIN}, {similarity.COMMON_FRACTION:g} x {len(codes)}) submissions")
    print(describe("independent (correct variants, written apart)", kinds["independent"]))
    print(describe("disguised copy vs its original", kinds["copies"]))
    if kinds["derived"]:
        print(describe("with a variant made from the reference", kinds["derived"]))
    worst_copy = min(kinds["copies"], key=lambda p: p.score)
    best = max(kinds["independent"], key=lambda p: p.score)
    print(f"separation: lowest copy {worst_copy.score:.2f} ({worst_copy.a}) - highest independent pair "
          f"{best.score:.2f} ({best.a} ~ {best.b}) = {worst_copy.score - best.score:+.2f}")
    print(f"flag rule (score >= {similarity.FLAG_SCORE:g} and >= {similarity.MIN_SHARED} shared characters): "
          f"{sum(p.flagged for p in kinds['copies'])}/{len(kinds['copies'])} copies and "
          f"{sum(p.flagged for p in kinds['independent'])}/{len(kinds['independent'])} independent pairs flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
