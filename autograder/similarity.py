"""Pairs of submissions whose code is alike beyond chance, on what the students wrote.

Fingerprinting is copydetect's (https://github.com/blingenf/copydetect), the winnowing of MOSS (Schleimer,
Wilkerson & Aiken, SIGMOD 2003): pygments tokens with every identifier, string, comment and whitespace
normalised away, so renaming variables or reformatting hides nothing, then hashed k-grams. Only what the
students wrote is compared, and of it only what is not common:

- the answer regions (:func:`answer_regions`): each function and method whose body differs from the
  template's, docstring left out, and top-level code the template lacks, in name order (so reordering
  methods changes nothing); the template's code is also subtracted as copydetect boilerplate;
- code found in many submissions (more than :data:`COMMON_FRACTION` of the class, at least
  :data:`COMMON_MIN`), as MOSS's ``-m``: the short answers that most students write the same way (one-line
  methods, the reference formula). Only what few submissions share is evidence of copying.

A pair's score is the larger of the two fractions of each submission's remaining (answer) code that the
other shares. Scores are copydetect's token coverage, between 0 and 1. ``scripts/similarity_separation.py``
measures how well they separate disguised copies from independent solutions on the corpus.
"""
from __future__ import annotations

import ast
import html
import io
import itertools
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: A fingerprint in more than this fraction of the submissions is common code, not evidence.
COMMON_FRACTION = 0.2
#: ... and in at least this many (so a copy ring of a few students is never mistaken for common code).
COMMON_MIN = 5
#: Length of the fingerprinted k-grams, in characters of normalised code (``V=V.V(V)`` for ``z = torch.exp(s)``):
#: copydetect's default is 25; the methods here are two to four short lines, so a copy that swaps two of them
#: keeps no 25-gram; 15 catches such copies (see ``scripts/similarity_separation.py``).
K = 15
#: Pairs at or above this score are flagged for the staff to look at (calibrated on the corpus: independent
#: correct variants reach 0.58, disguised copies 0.93 at the lowest; ``scripts/similarity_separation.py``).
FLAG_SCORE = 0.7
#: Pairs sharing fewer characters of normalised code than this are never flagged (a shared line is chance).
MIN_SHARED = 40


def cells_of(path: Path | None) -> list:
    """The code of a submission: a notebook's code cells, or a file's text as one cell.

    Returns [] for a missing, unreadable or malformed file (it then shares nothing).
    """
    if path is None:
        return []
    try:
        text = Path(path).read_text(encoding="utf-8")
        if Path(path).suffix != ".ipynb":
            return [text]
        import nbformat

        nb = nbformat.reads(text, as_version=4)
        return [cell.source for cell in nb.cells if cell.cell_type == "code"]
    except Exception:  # any unreadable or malformed submission: nothing to compare
        return []


def _regions_of_cell(code: str) -> list:
    """``[(name, dump, text)]``: each function and method body (docstring left out) and each other top-level
    statement of ``code``; ``dump`` compares code regardless of layout and comments. A cell that does not
    parse is one region, its raw text."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [("<unparsed>", code, code)]
    regions, lines = [], code.splitlines()

    def add(name, statements):
        statements = [s for s in statements if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                    and isinstance(s.value.value, str))]
        if statements:  # the whole lines from the first statement to the last, comments between included
            text = "\n".join(lines[statements[0].lineno - 1:statements[-1].end_lineno])
            regions.append((name, "\n".join(ast.dump(s) for s in statements), text))

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            add(node.name, node.body)
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    add(f"{node.name}.{member.name}", member.body)
                else:
                    add(f"{node.name}.<body>", [member])
        else:
            add("<module>", [node])
    return regions


def answer_regions(cells: list, template_cells: list = ()) -> dict:
    """What the student wrote: ``{name: text}`` of the regions of ``cells`` (see :func:`_regions_of_cell`)
    that the template does not hold as they are: a function or method whose body differs from the
    template's, a top-level statement the template lacks. The stubs (``raise NotImplementedError()``) are
    replaced by answers, so every answered method is kept and every untouched one dropped."""
    template = {}
    for cell in template_cells:
        for name, dump, _ in _regions_of_cell(cell):
            template.setdefault(name, set()).add(dump)
    regions = {}
    for cell in cells:
        for name, dump, text in _regions_of_cell(cell):
            if dump not in template.get(name, ()):
                regions[name] = f"{regions[name]}\n{text}" if name in regions else text
    return regions


def answer_text(regions: dict) -> str:
    """The regions as one text, in name order (so reordering methods changes nothing), each under a
    ``# name`` comment (comments are not fingerprinted)."""
    return "\n\n".join(f"# {name}\n{textwrap.dedent(regions[name])}" for name in sorted(regions))


def fingerprint(code: str, boilerplate=None, every_kgram: bool = False):
    """copydetect's fingerprint of Python ``code`` (k-grams of its normalised tokens), with the hashes in
    ``boilerplate`` removed; ``every_kgram`` keeps every k-gram rather than the winnowed ones."""
    from copydetect import CodeFingerprint, defaults

    window = 1 if every_kgram else defaults.GUARANTEE_THRESHOLD - defaults.NOISE_THRESHOLD + 1
    return CodeFingerprint("answer.py", K, window, boilerplate, fp=io.StringIO(code))


def common_hashes(codes, template: str = "") -> np.ndarray:
    """The hashes to subtract: every k-gram of ``template``, and those in more than
    max(:data:`COMMON_MIN`, :data:`COMMON_FRACTION` x n) of the n ``codes``."""
    counts = {}
    for code in codes:
        for digest in fingerprint(code, every_kgram=True).hashes:
            counts[digest] = counts.get(digest, 0) + 1
    limit = max(COMMON_MIN, COMMON_FRACTION * len(codes))
    common = [h for h, n in counts.items() if n > limit]
    return np.unique(np.array(common + list(fingerprint(template, every_kgram=True).hashes), dtype=np.int64))


@dataclass
class Pair:
    """Two submissions and what they share.

    a, b : their keys; share_a, share_b : the fraction of each one's answer code found in the other
    (0 to 1); shared : characters of normalised code in common; highlighted_a/_b : each one's answer code as
    HTML, escaped, the shared parts in ``<mark>``, far-off lines elided ("" when not computed).
    """

    a: str
    b: str
    share_a: float
    share_b: float
    shared: int
    highlighted_a: str = ""
    highlighted_b: str = ""

    @property
    def score(self) -> float:
        """The larger share: a copy of part of a long answer still scores high for the copied one."""
        return max(self.share_a, self.share_b)

    @property
    def flagged(self) -> bool:
        """Whether the staff should look: score >= :data:`FLAG_SCORE`, >= :data:`MIN_SHARED` characters shared."""
        return self.score >= FLAG_SCORE and self.shared >= MIN_SHARED


def _highlight(code: str, slices) -> str:
    from copydetect.utils import highlight_overlap

    if slices.shape[-1] == 0:
        return html.escape(code)
    text, _ = highlight_overlap(code, slices, "<mark>", "</mark>", truncate=4, escape_html=True)
    return text


def compare(codes: dict, template: str = "", highlight: int = 10) -> list:
    """Every pair of the submissions ``codes`` (``{key: code}``): flagged pairs first, then by score.

    Returns a list of :class:`Pair`; the first ``highlight`` pairs that share code carry their code
    highlighted (the others leave it empty: highlighting every pair of a large class is slow).
    """
    from copydetect import compare_files

    boilerplate = common_hashes(list(codes.values()), template)
    prints = {key: fingerprint(code, boilerplate) for key, code in codes.items()}
    pairs, slices = [], {}
    for a, b in itertools.combinations(sorted(codes), 2):
        shared, (share_a, share_b), slices[a, b] = compare_files(prints[a], prints[b])
        pairs.append(Pair(a, b, float(share_a), float(share_b), int(shared)))
    pairs.sort(key=lambda p: (not p.flagged, -p.score, -p.shared, p.a, p.b))
    for pair in pairs[:highlight]:
        slices_a, slices_b = slices[pair.a, pair.b]
        pair.highlighted_a = _highlight(codes[pair.a], slices_a)
        pair.highlighted_b = _highlight(codes[pair.b], slices_b)
    return pairs


def class_answers(files: dict, template: Path | None) -> tuple:
    """``({key: answer text}, template text)`` for the submissions ``{key: path}``: each one's answer regions
    (:func:`answer_regions`) against the template's (None: no template, every line is an answer); submissions
    with no answer code are left out."""
    template_cells = cells_of(template)
    answers = {key: answer_text(answer_regions(cells_of(path), template_cells)) for key, path in files.items()}
    return {k: a for k, a in answers.items() if a.strip()}, "\n\n".join(template_cells)


def template_of(graded: list) -> Path | None:
    """The student template of the assignment most of ``graded`` (``[(Handin, GradingResult)]``) were graded as
    (its spec's ``template_notebook``); None when none of them names an assignment this kit has."""
    from collections import Counter

    from .assignment import load

    counts = Counter(result.assignment for _, result in graded if result.assignment)
    try:
        return load(counts.most_common(1)[0][0]).template_notebook if counts else None
    except KeyError:
        return None


def class_pairs(out: Path, template: Path | None = None, highlight: int = 0) -> list:
    """:func:`compare` over the answers of the submissions graded into ``out`` (``grade-many --out``), against
    ``template`` (default: the template of the assignment they were graded as)."""
    from .batch import load

    graded = load(out)
    answers, template_code = class_answers({handin.key: handin.file for handin, _ in graded},
                                           template or template_of(graded))
    return compare(answers, template_code, highlight)


def print_pairs(out: Path, top: int = 10) -> list:
    """Print the ``top`` most similar pairs graded into ``out`` with their scores; returns all pairs."""
    pairs = class_pairs(out)
    print(f"{'score':>6} {'share a':>8} {'share b':>8} {'shared':>6}  pair")
    for pair in pairs[:top]:
        print(f"{pair.score:6.2f} {pair.share_a:8.2f} {pair.share_b:8.2f} {pair.shared:6d}  {pair.a} ~ {pair.b}"
              f"{'   <- look' if pair.flagged else ''}")
    print(f"{sum(p.flagged for p in pairs)} of {len(pairs)} pairs flagged (score >= {FLAG_SCORE}, "
          f">= {MIN_SHARED} characters of normalised code shared)")
    return pairs
