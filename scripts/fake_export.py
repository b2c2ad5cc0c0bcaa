"""Build a folder and a zip laid out as Gradescope's "Export Submissions" of a class, from the kit's corpus.

About 60 submissions with made-up students, of one assignment (``--assignment``; by default the one whose corpus
holds the files :data:`PLANNED` names, Part 1's): every correct variant and a sample of the single-bug variants of
its corpus (as ``<notebook>.py``), the solution notebook, the blank template, notebooks whose first class's cell is
a correct variant (with the solution's saved figures), a misnamed notebook, a submission with no notebook, a group
submission, and copies disguised by renaming variables and reordering lines (:func:`disguise`).

Writes ``OUT/export/`` (``submission_metadata.yml`` and one ``submission_<id>/`` folder each),
``OUT/gradescope_export.zip`` (the same under one top folder, as Gradescope's zip) and ``OUT/planted.json``
(which submission folders are disguised copies of which, for measuring the similarity check).

Usage: ``python scripts/fake_export.py [--assignment NAME] [--out build/fake_export] [--bugs 34] [--seed 12]``
"""
from __future__ import annotations

import argparse
import ast
import json
import random
import re
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.core.assignment import all_assignments, load, names  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402

#: The corpus files the export picks by name (under the assignment's corpus): the bug with a disguised copy, the
#: correct variants handed in as notebooks, and the originals of the disguised copies with their seeds.
PLANNED = {"copied_bug": "bugs/kl_no_half.py",
           "notebooks": ("correct/elbo_row_loop.py", "correct/kl_textbook.py", "correct/sample_row_loop_device.py"),
           "copies": (("correct/elbo_row_loop.py", 1), ("correct/sample_uniform_compare.py", 2),
                      ("bugs/kl_no_half.py", 3))}
FIRST = ("Amara Bruno Chen Dalia Emeka Farah Goran Hana Ines Jonas Kaito Leila Mateo Nadia Oskar Priya Quentin "
         "Rosa Samir Tova Ulla Viktor Wen Ximena Yusuf Zofia Anton Bea Cyrus Dara").split()
LAST = ("Abara Bianchi Castillo Dubois Eriksen Fontaine Gupta Haddad Ivanova Jansen Kowalski Lindqvist Moreau "
        "Nakamura Okafor Petrov Quiroga Rossi Sato Tanaka Uribe Varga Weber Xu Yilmaz Zhou").split()


def _assigned(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _used(node) -> set:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _swap_independent(lines: list, body: list) -> None:
    """Swap, in ``lines``, the first two adjacent one-line assignments of ``body`` that neither read nor
    write each other's names (nothing else moves: calls may have side effects)."""
    for a, b in zip(body, body[1:]):
        if not (isinstance(a, ast.Assign) and isinstance(b, ast.Assign)):
            continue
        if a.lineno != a.end_lineno or b.lineno != b.end_lineno:
            continue
        if not (_assigned(a) & (_used(b) | _assigned(b)) or _assigned(b) & _used(a)):
            lines[a.lineno - 1], lines[b.lineno - 1] = lines[b.lineno - 1], lines[a.lineno - 1]
            return


def disguise(source: str, seed: int, classes=("VAE",)) -> str:
    """``source`` (a .py defining the graded ``classes``) as a copier would hide it in an editor: every local
    variable renamed, in each method but ``__init__`` two adjacent independent assignments swapped, and in each
    class the methods after ``__init__`` in reverse order. Everything else keeps its layout; behaviour is
    unchanged."""
    tree = ast.parse(source)
    lines = source.splitlines()
    rng = random.Random(seed)
    found = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in classes]
    for cls in found[::-1]:  # from the last class up: the line numbers of the classes above stay right
        lines = _disguise_class(cls, lines, rng)
    return "\n".join(lines) + "\n"


def _disguise_class(cls, lines: list, rng: random.Random) -> list:
    """``lines`` with the class ``cls`` disguised (see :func:`disguise`)."""
    functions = [n for n in cls.body if isinstance(n, ast.FunctionDef)]
    if not functions:
        return lines
    for function in functions:
        arguments = {a.arg for a in function.args.args}
        for name in sorted(_assigned(function) - arguments):
            new = f"{rng.choice(['t', 'tmp', 'val', 'my'])}_{name[::-1]}"
            pattern = re.compile(rf"(?<![\w.]){re.escape(name)}\b")
            for index in range(function.lineno - 1, function.end_lineno):
                lines[index] = pattern.sub(new, lines[index])
        if function.name != "__init__":
            _swap_independent(lines, function.body)
    starts = [min([f.lineno] + [d.lineno for d in f.decorator_list]) for f in functions]  # decorators move along
    blocks = [lines[start - 1:f.end_lineno] for start, f in zip(starts, functions)]
    moved = [b for f, b in zip(functions, blocks) if f.name != "__init__"]
    kept = [b for f, b in zip(functions, blocks) if f.name == "__init__"]
    head = lines[:starts[0] - 1]
    body = [line for block in kept + moved[::-1] for line in block + [""]]
    tail = lines[functions[-1].end_lineno:]
    return ("\n".join(head + body).rstrip() + "\n" + "\n".join(tail)).split("\n")


def notebook_with(source: str, assignment) -> str:
    """``assignment``'s solution notebook (its saved outputs kept) with the cell of its first class replaced by
    ``source``."""
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    start = f"class {assignment.classes[0]}"
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start))
    cell.source = source[source.index(start):].rstrip() + "\n"
    return nbformat.writes(nb)


def class_source(path: Path, assignment: str | None = None) -> str:
    """A corpus file of ``assignment`` (None: the assignment whose corpus holds ``path``) without its ``# expect:``
    header, as a student would hand it in: the code the grader grades (of a whole notebook exported to a script,
    its classes alone; see :mod:`autograder.notebook.script`)."""
    found = load(assignment) if assignment else next(
        (a for a in all_assignments() if a.corpus.resolve() in Path(path).resolve().parents), None)
    if found is None:
        raise KeyError(f"{path} is in no assignment's corpus: name its assignment")
    return load_submission(path, found).source.lstrip("\n")


def default_assignment() -> str | None:
    """The assignment whose corpus holds every file :data:`PLANNED` names (None when none does)."""
    files = [PLANNED["copied_bug"], *PLANNED["notebooks"], *(f for f, _ in PLANNED["copies"])]
    return next((n for n in names() if all((load(n).corpus / f).is_file() for f in files)), None)


def plan(assignment, bugs: int, seed: int) -> list:
    """The submissions of ``assignment``, each ``{"files": {name: text}, "copy_of": index or None, "group": bool}``."""
    rng, corpus, script = random.Random(seed), assignment.corpus, Path(assignment.notebook).with_suffix(".py").name
    source = lambda p: class_source(p, assignment.name)  # noqa: E731
    correct = sorted((corpus / "correct").glob("*.py"))
    copied_bug = corpus / PLANNED["copied_bug"]
    others = [p for p in sorted((corpus / "bugs").glob("*.py")) if p != copied_bug]
    bug_files = sorted(rng.sample(others, bugs - 1) + [copied_bug])
    subs = [{"files": {script: source(p)}, "why": f"corpus {p.parent.name}/{p.name}"} for p in correct + bug_files]
    subs += [{"files": {assignment.notebook: notebook_with(source(p), assignment)}, "why": f"notebook with {p.name}"}
             for p in (corpus / name for name in PLANNED["notebooks"])]
    solution = assignment.solution_notebook.read_text()
    subs += [{"files": {assignment.notebook: solution}, "why": "the solution notebook"},
             {"files": {assignment.notebook: assignment.template_notebook.read_text()}, "why": "the blank template"},
             {"files": {"VAE_final (1).ipynb": solution, "vae_utils.py": "# the kit's helper\n"},
              "why": "misnamed notebook"},
             {"files": {"report.txt": "I could not get the notebook to run, sorry.\n"}, "why": "no notebook"}]
    for original, copy_seed in ((corpus / name, copy_seed) for name, copy_seed in PLANNED["copies"]):
        index = next(i for i, s in enumerate(subs) if s["why"].endswith(f"/{original.name}"))
        subs.append({"files": {script: disguise(source(original), copy_seed, assignment.classes)}, "copy_of": index,
                     "why": f"disguised copy of {original.name}"})
    subs[0]["group"] = True
    return subs


def students(count: int, rng: random.Random) -> list:
    """``count`` made-up students, each a dict of name, email, sid (all different)."""
    names = rng.sample([f"{f} {l}" for f in FIRST for l in LAST], count)
    sids = rng.sample(range(10_000_000, 99_999_999), count)
    return [{"name": n, "email": n.lower().replace(" ", ".") + "@example.edu", "sid": str(s)}
            for n, s in zip(names, sids)]


def metadata_yaml(entries: list) -> str:
    """``submission_metadata.yml`` in Gradescope's style (Ruby-symbol keys)."""
    lines = ["---"]
    for folder, people, created in entries:
        lines += [f"{folder}:", "  :submitters:"]
        for p in people:
            lines += [f"  - :name: {p['name']}", f"    :sid: '{p['sid']}'", f"    :email: {p['email']}"]
        lines += [f"  :created_at: {created}", "  :score: ", "  :status: processed"]
    return "\n".join(lines) + "\n"


def build(out: Path, assignment, bugs: int = 34, seed: int = 12) -> dict:
    """Write the export folder of ``assignment``, its zip and planted.json under ``out``; returns planted.json's
    content."""
    rng = random.Random(seed)
    subs = plan(assignment, bugs, seed)
    people = students(len(subs) + 1, rng)
    export = out / "export"
    shutil.rmtree(export, ignore_errors=True)
    export.mkdir(parents=True)
    folders = [f"submission_{n}" for n in rng.sample(range(100_000_000, 999_999_999), len(subs))]
    entries = []
    for index, (sub, folder) in enumerate(zip(subs, folders)):
        (export / folder).mkdir()
        for name, text in sub["files"].items():
            (export / folder / name).write_text(text)
        who = people[index:index + 1] + (people[-1:] if sub.get("group") else [])
        entries.append((folder, who, f"2026-03-{1 + index % 28:02d} 23:{index % 60:02d}:00.000000000 -08:00"))
    (export / "submission_metadata.yml").write_text(metadata_yaml(entries))
    with zipfile.ZipFile(out / "gradescope_export.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(export.rglob("*")):
            archive.write(path, Path("assignment_4242_export") / path.relative_to(export))
    planted = {"copies": [[folders[s["copy_of"]], folders[i]] for i, s in enumerate(subs) if "copy_of" in s],
               "what": {folder: sub["why"] for folder, sub in zip(folders, subs)}}
    (out / "planted.json").write_text(json.dumps(planted, indent=2))
    return planted


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "fake_export"))
    parser.add_argument("--bugs", type=int, default=34, help="single-bug variants to include")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--assignment", choices=names(), default=default_assignment(),
                        help="whose corpus (default: the one that holds the files PLANNED names)")
    args = parser.parse_args(argv)
    if args.assignment is None:
        parser.error("no assignment's corpus holds the files PLANNED names: name one with --assignment")
    planted = build(Path(args.out), load(args.assignment), args.bugs, args.seed)
    print(f"{len(planted['what'])} submissions ({len(planted['copies'])} disguised copies) in {args.out}/export "
          f"and {args.out}/gradescope_export.zip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
