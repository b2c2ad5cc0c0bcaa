"""Build a folder and a zip laid out as Gradescope's "Export Submissions" of a class, from the kit's corpus.

About 60 submissions with made-up students: every correct variant and a sample of the single-bug variants
of ``tests/corpus`` (as ``vae.py``), the solution notebook, the blank template, notebooks whose VAE cell is a
correct variant (with the solution's saved figures), a misnamed notebook, a submission with no notebook, a
group submission, and copies disguised by renaming variables and reordering lines (:func:`disguise`).

Writes ``OUT/export/`` (``submission_metadata.yml`` and one ``submission_<id>/`` folder each),
``OUT/gradescope_export.zip`` (the same under one top folder, as Gradescope's zip) and ``OUT/planted.json``
(which submission folders are disguised copies of which, for measuring the similarity check).

Usage: ``python scripts/fake_export.py [--out build/fake_export] [--bugs 34] [--seed 12]``
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

from autograder.core.assignment import load  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "vae"
SOLUTION = ROOT / "solution" / "vae.ipynb"
TEMPLATE = ROOT / "student_template" / "vae.ipynb"
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


def notebook_with(source: str) -> str:
    """The solution notebook (its saved outputs kept) with its ``class VAE`` cell replaced by ``source``."""
    nb = nbformat.read(SOLUTION, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("class VAE"))
    cell.source = source[source.index("class VAE"):].rstrip() + "\n"
    return nbformat.writes(nb)


def class_source(path: Path, assignment: str = "vae") -> str:
    """A corpus file of ``assignment`` without its ``# expect:`` header, as a student would hand it in: the code
    the grader grades (of a whole notebook exported to a script, its classes alone; see
    :mod:`autograder.notebook.script`)."""
    return load_submission(path, load(assignment)).source.lstrip("\n")


def plan(bugs: int, seed: int) -> list:
    """The submissions, each ``{"files": {name: text}, "copy_of": index or None, "group": bool}``."""
    rng = random.Random(seed)
    correct = sorted((CORPUS / "correct").glob("*.py"))
    copied_bug = CORPUS / "bugs" / "kl_no_half.py"
    others = [p for p in sorted((CORPUS / "bugs").glob("*.py")) if p != copied_bug]
    bug_files = sorted(rng.sample(others, bugs - 1) + [copied_bug])
    subs = [{"files": {"vae.py": class_source(p)}, "why": f"corpus {p.parent.name}/{p.name}"}
            for p in correct + bug_files]
    notebook_variants = [CORPUS / "correct" / name
                         for name in ("elbo_row_loop.py", "kl_textbook.py", "sample_row_loop_device.py")]
    subs += [{"files": {"vae.ipynb": notebook_with(class_source(p))}, "why": f"notebook with {p.name}"}
             for p in notebook_variants]
    subs += [{"files": {"vae.ipynb": SOLUTION.read_text()}, "why": "the solution notebook"},
             {"files": {"vae.ipynb": TEMPLATE.read_text()}, "why": "the blank template"},
             {"files": {"VAE_final (1).ipynb": SOLUTION.read_text(), "vae_utils.py": "# the kit's helper\n"},
              "why": "misnamed notebook"},
             {"files": {"report.txt": "I could not get the notebook to run, sorry.\n"}, "why": "no notebook"}]
    for original, copy_seed in ((CORPUS / "correct" / "elbo_row_loop.py", 1),
                                (CORPUS / "correct" / "sample_uniform_compare.py", 2),
                                (CORPUS / "bugs" / "kl_no_half.py", 3)):
        index = next(i for i, s in enumerate(subs) if s["why"].endswith(f"/{original.name}"))
        subs.append({"files": {"vae.py": disguise(class_source(original), copy_seed)}, "copy_of": index,
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


def build(out: Path, bugs: int = 34, seed: int = 12) -> dict:
    """Write the export folder, its zip and planted.json under ``out``; returns planted.json's content."""
    rng = random.Random(seed)
    subs = plan(bugs, seed)
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
    args = parser.parse_args(argv)
    planted = build(Path(args.out), args.bugs, args.seed)
    print(f"{len(planted['what'])} submissions ({len(planted['copies'])} disguised copies) in {args.out}/export "
          f"and {args.out}/gradescope_export.zip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
