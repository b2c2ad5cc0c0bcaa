"""Pairs of submissions whose code is alike beyond chance, on what the students wrote, method by method.

Fingerprinting is copydetect's (https://github.com/blingenf/copydetect), the winnowing of MOSS (Schleimer,
Wilkerson & Aiken, SIGMOD 2003): pygments tokens with every identifier, string, comment and whitespace
normalised away, so renaming variables or reformatting hides nothing, then hashed k-grams. Only what the
students wrote is compared, and of it only what is distinctive:

- the answer regions (:func:`answer_regions`, read with ``ast``): each function and method whose body differs
  from the template's, docstring left out, and top-level code the template lacks; each method the assignment's
  spec grades is compared only with the same method of the other submission (:func:`method_regions`), so a
  shared span never crosses two methods and reordering methods changes nothing; the rest (helpers, top-level
  code) is compared as one region. The template's code is subtracted as copydetect boilerplate;
- code found in more than a few submissions (:data:`COMMON_MIN`), as MOSS's ``-m``: the textbook lines (the
  closed-form KL) that independent students write the same way. Only what few submissions share is evidence.

A pair's score is the larger of the two fractions of each submission's distinctive answer code that the other
shares in the same method; a pair is flagged on a high score and enough distinctive code shared
(:data:`MIN_SHARED`). ``scripts/similarity_separation.py`` measures both on every assignment's corpus.
A class of several assignments is compared within each assignment, against that assignment's template.
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

#: A fingerprint found in more than this many submissions is common code, not evidence: the textbook lines
#: (the closed-form KL, the hand-written cross-entropy) that independent students write alike. Three keeps a copy
#: ring of three students in evidence; a line five students wrote is subtracted (issue 18: one KL line shared by
#: five independent files flagged nine pairs). Calibrated with ``scripts/similarity_separation.py``.
COMMON_MIN = 3
#: Length of the fingerprinted k-grams, in characters of normalised code (``V=V.V(V)`` for ``z = torch.exp(s)``):
#: copydetect's default is 25; the methods here are two to four short lines, so a copy that swaps two of them
#: keeps no 25-gram; 15 catches such copies (see ``scripts/similarity_separation.py``).
K = 15
#: Pairs at or above this score are flagged for the staff to look at (calibrated on the corpora: independent
#: variants reach 0.40, disguised copies 0.54 at the lowest; ``scripts/similarity_separation.py``).
FLAG_SCORE = 0.5
#: Pairs sharing fewer characters of distinctive normalised code than this are never flagged (the shortest
#: copied one-line answer of the corpora, ``(V.V(V)<V).V()``, is 23).
MIN_SHARED = 20
#: The region of everything that is not a graded method (helpers, top-level code), compared as one.
OTHER = "<other>"


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


def method_regions(regions: dict, methods=()) -> dict:
    """``regions`` (:func:`answer_regions`) as compared: each of ``methods`` (qualified names, "VAE.encoder": the
    methods the assignment's spec grades) a region of its own, everything else (helpers, top-level code) joined
    in name order under :data:`OTHER`. With no ``methods``, every region is its own."""
    if not methods:
        return dict(regions)
    kept = {name: text for name, text in regions.items() if name in methods}
    other = [regions[name] for name in sorted(regions) if name not in methods]
    return {**kept, OTHER: "\n\n".join(other)} if other else kept


def fingerprint(code: str, boilerplate=None, every_kgram: bool = False):
    """copydetect's fingerprint of Python ``code`` (k-grams of its normalised tokens), with the hashes in
    ``boilerplate`` removed; ``every_kgram`` keeps every k-gram rather than the winnowed ones."""
    from copydetect import CodeFingerprint, defaults

    window = 1 if every_kgram else defaults.GUARANTEE_THRESHOLD - defaults.NOISE_THRESHOLD + 1
    return CodeFingerprint("answer.py", K, window, boilerplate, fp=io.StringIO(textwrap.dedent(code)))


def common_hashes(submissions, template: str = "") -> np.ndarray:
    """The hashes to subtract: every k-gram of ``template``, and those found in more than :data:`COMMON_MIN` of
    the ``submissions`` (each ``{region: code}``, a k-gram counted once per submission whichever its region)."""
    counts = {}
    for regions in submissions:
        for digest in set().union(*[fingerprint(code, every_kgram=True).hashes for code in regions.values()]):
            counts[digest] = counts.get(digest, 0) + 1
    common = [h for h, n in counts.items() if n > COMMON_MIN]
    return np.unique(np.array(common + list(fingerprint(template, every_kgram=True).hashes), dtype=np.int64))


@dataclass
class Pair:
    """Two submissions and what they share, compared method by method.

    a, b : their keys; share_a, share_b : the fraction of each one's distinctive answer code (template and code
    common to the class subtracted) found in the other's same method (0 to 1); shared : characters of
    distinctive normalised code in common (the smaller of the two sides); methods : the regions that share
    any; assignment : what both were graded as; highlighted_a/_b : each one's answer code as HTML, escaped,
    method by method, the shared parts in ``<mark>`` ("" when not computed).
    """

    a: str
    b: str
    share_a: float
    share_b: float
    shared: int
    methods: tuple = ()
    assignment: str = ""
    highlighted_a: str = ""
    highlighted_b: str = ""

    @property
    def score(self) -> float:
        """The larger share: a copy of part of a long answer still scores high for the copied one."""
        return max(self.share_a, self.share_b)

    @property
    def flagged(self) -> bool:
        """Whether the staff should look: score >= :data:`FLAG_SCORE` and >= :data:`MIN_SHARED` characters of
        distinctive code shared."""
        return self.score >= FLAG_SCORE and self.shared >= MIN_SHARED


def _highlight(regions: dict, slices: dict) -> str:
    """Each region of ``regions`` under its ``# name``, escaped, the ``slices`` of that region in ``<mark>``."""
    from copydetect.utils import highlight_overlap

    parts = []
    for name in sorted(regions):
        code, marks = textwrap.dedent(regions[name]), slices.get(name)
        if marks is None or marks.shape[-1] == 0:
            text = html.escape(code)
        else:
            text, _ = highlight_overlap(code, marks, "<mark>", "</mark>", truncate=4, escape_html=True)
        parts.append(f"# {html.escape(name)}\n{text}")
    return "\n\n".join(parts)


def shown(pairs: list, top: int) -> list:
    """The pairs to show of ``pairs`` (sorted, flagged first): the first ``top`` and every flagged one."""
    return [pair for rank, pair in enumerate(pairs) if rank < top or pair.flagged]


def _pair(a: str, b: str, prints: dict) -> tuple:
    """``(Pair, {region: (slices of a, slices of b)})``: ``a`` and ``b`` compared region by region."""
    from copydetect import compare_files

    overlap, slices = [0, 0], {}
    for name in sorted(prints[a].keys() & prints[b].keys()):
        shared_a, (_, share_b), found = compare_files(prints[a][name], prints[b][name])
        if shared_a:
            overlap = [overlap[0] + int(shared_a), overlap[1] + round(share_b * prints[b][name].token_coverage)]
            slices[name] = found
    totals = [sum(fp.token_coverage for fp in prints[k].values()) for k in (a, b)]
    shares = [min(1.0, float(o / t)) if t else 0.0 for o, t in zip(overlap, totals)]
    return Pair(a, b, shares[0], shares[1], min(overlap), tuple(slices)), slices


def compare(submissions: dict, template: str = "", highlight: int = 10, assignment: str = "") -> list:
    """Every pair of ``submissions`` (``{key: {region: code}}``, see :func:`method_regions`), region by region:
    flagged pairs first, then by score.

    Returns a list of :class:`Pair` (of ``assignment``); every flagged pair and the first ``highlight`` pairs carry
    their code highlighted (the others leave it empty: highlighting every pair of a large class is slow).
    """
    boilerplate = common_hashes(list(submissions.values()), template)
    prints = {key: {name: fingerprint(code, boilerplate) for name, code in regions.items()}
              for key, regions in submissions.items()}
    pairs, slices = [], {}
    for a, b in itertools.combinations(sorted(submissions), 2):
        pair, slices[a, b] = _pair(a, b, prints)
        pair.assignment = assignment
        pairs.append(pair)
    pairs.sort(key=lambda p: (not p.flagged, -p.score, -p.shared, p.a, p.b))
    for pair in shown(pairs, highlight):
        found = slices[pair.a, pair.b]
        pair.highlighted_a = _highlight(submissions[pair.a], {n: s[0] for n, s in found.items()})
        pair.highlighted_b = _highlight(submissions[pair.b], {n: s[1] for n, s in found.items()})
    return pairs


def class_answers(files: dict, template: Path | None, methods=()) -> tuple:
    """``({key: {region: code}}, template text)`` for the submissions ``{key: path}``: each one's answer regions
    (:func:`answer_regions`) against the template's (None: no template, every line is an answer), by method
    (:func:`method_regions`); submissions with no answer code are left out."""
    template_cells = cells_of(template)
    answers = {key: method_regions(answer_regions(cells_of(path), template_cells), methods)
               for key, path in files.items()}
    return {k: a for k, a in answers.items() if any(code.strip() for code in a.values())}, "\n\n".join(template_cells)


def by_assignment(graded: list) -> dict:
    """``{assignment name: {key: file}}`` of ``graded`` (``[(Handin, GradingResult)]``), from the assignment each
    result records ("" for results that record none, or an assignment this kit does not have)."""
    from ..core.assignment import names

    groups = {}
    for handin, result in graded:
        name = result.assignment if result.assignment in names() else ""
        groups.setdefault(name, {})[handin.key] = handin.file
    return groups


def spec_of(name: str) -> tuple:
    """``(template notebook or None, qualified method names)`` of assignment ``name`` ("": none, nothing)."""
    from ..core.assignment import load

    if not name:
        return None, ()
    spec = load(name)
    return spec.template_notebook, tuple(spec.qualified_methods.values())


def graded_pairs(graded: list, highlight: int = 0) -> tuple:
    """``(pairs, compared)``: :func:`compare` over ``graded`` (``[(Handin, GradingResult)]``), each assignment's
    submissions against its own template and methods, pairs only within an assignment (flagged first, then by
    score; the first ``highlight`` of each assignment highlighted); ``compared`` counts the submissions with
    answer code."""
    pairs, compared = [], 0
    for name, files in sorted(by_assignment(graded).items()):
        template, methods = spec_of(name)
        answers, template_code = class_answers(files, template, methods)
        compared += len(answers)
        pairs += compare(answers, template_code, highlight, name)
    pairs.sort(key=lambda p: (not p.flagged, -p.score, -p.shared, p.a, p.b))
    return pairs, compared


def class_pairs(out: Path, highlight: int = 0) -> tuple:
    """:func:`graded_pairs` of the submissions graded into ``out`` (``grade-many --out``)."""
    from .batch import load

    return graded_pairs(load(out), highlight)


class NothingCompared(Exception):
    """Similarity found no pair to compare among two or more graded submissions: ``str(exc)`` says what it
    looked for and where."""


def print_pairs(out: Path, top: int = 10) -> list:
    """Print the ``top`` most similar pairs graded into ``out`` with their scores, and every flagged pair; returns
    all pairs. Raises :class:`NothingCompared` when ``out`` holds two or more graded submissions and no pair."""
    from .batch import load

    graded = load(out)
    pairs, compared = graded_pairs(graded)
    if not pairs and len(graded) >= 2:
        raise NothingCompared(f"no pair of submissions to compare among the {len(graded)} graded into {out}: "
                              f"{compared} hold answer code (a method that differs from their assignment's template, "
                              "in the file OUT/<key>/handin.json names), and two of one assignment are needed")
    print(f"{'score':>6} {'share a':>8} {'share b':>8} {'shared':>6}  pair")
    for pair in shown(pairs, top):
        print(f"{pair.score:6.2f} {pair.share_a:8.2f} {pair.share_b:8.2f} {pair.shared:6d}  {pair.a} ~ {pair.b}"
              f"{'   <- look' if pair.flagged else ''}")
    print(f"{sum(p.flagged for p in pairs)} of {len(pairs)} pairs flagged (score >= {FLAG_SCORE}, "
          f">= {MIN_SHARED} characters of distinctive normalised code shared), every flagged pair listed above")
    return pairs
