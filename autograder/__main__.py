"""Command line of the autograder:
``python -m autograder {grade,grade-many,report,similarity,pdf,gradescope,package,assign,execute} ...``."""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path


def _one_blas_thread() -> None:
    """Give the grading process's numpy one BLAS thread (before numpy is first imported; a value already in
    the environment wins). Its float64 products are small: one thread does them as fast, without the CPU
    that idle BLAS threads spin away (0.8 CPU-s a grading on 2 cores; Gradescope gives half a core)."""
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


#: Exit status of ``grade`` when the grader cannot grade here (MNIST missing, no sandbox); nothing is written.
SETUP_ERROR = 2


def cmd_grade(args) -> int:
    """Grade one submission and write its results.json; a crash of the grader still writes one, a grader that
    cannot grade here (:class:`autograder.harness.harness.GraderSetupError`) writes none and exits with SETUP_ERROR."""
    _one_blas_thread()
    from .core.results import GradingResult

    from .core.assignment import UnknownAssignment
    from .harness.harness import GraderSetupError, assignment_for

    start = time.monotonic()
    try:
        assignment = assignment_for(args.path, args.assignment)
        groups = _groups(args.groups, assignment)
    except UnknownAssignment as exc:  # the staff's call: nothing is charged to the student
        print(f"autograder: {exc}", file=sys.stderr)
        return SETUP_ERROR
    try:
        from .processes import runner
        from .harness.harness import grade

        runner.HIDDEN.append(Path(args.results).resolve().parent)  # no child may see the results folder
        result = grade(args.path, seed=args.seed, quiet=not args.verbose, groups=groups, deadline=args.deadline,
                       assignment=assignment)
    except GraderSetupError as exc:  # the staff's problem: no result that would charge the student
        print(f"autograder: cannot grade on this machine: {exc}", file=sys.stderr)
        return SETUP_ERROR
    except Exception:  # the crash path: a valid results.json, the traceback for the staff only
        traceback.print_exc(file=sys.stdout)
        result = GradingResult.crashed(time.monotonic() - start)
    result.write(args.results)
    print(f"{args.path}: {result.score:g} / {result.max_score:g} ({result.execution_time:.1f} s) -> {args.results}")
    return 0


def cmd_gradescope(args) -> int:
    """Grade Gradescope's ``ROOT/submission/`` into ``ROOT/results/results.json`` (what run_autograder runs)."""
    _one_blas_thread()
    from .deploy.gradescope import run

    run(Path(args.root), seed=args.seed, deadline=args.deadline)
    return 0


def cmd_package(args) -> int:
    """Build Gradescope's autograder.zip for one assignment, or one zip per assignment (``make autograder``)."""
    from .core.assignment import names
    from .deploy.package import build

    chosen = [args.assignment] if args.assignment else list(names())
    if len(chosen) > 1 and "{assignment}" not in args.out:
        raise SystemExit("--out must contain {assignment} when several zips are built (or pass --assignment)")
    for name in chosen:
        print(f"wrote {build(args.out.replace('{assignment}', name), assignment=name)}")
    return 0


def _groups(text: str | None, assignment) -> tuple:
    """The groups of a ``--groups`` value (all of the assignment's when empty); exits on an unknown one."""
    groups = tuple(g for g in (text or "").split(",") if g) or assignment.groups
    unknown = [g for g in groups if g not in assignment.groups]
    if unknown:
        raise SystemExit(f"unknown group(s) {', '.join(unknown)}; the groups of {assignment.name} are "
                         f"{', '.join(assignment.groups)}")
    return groups


def cmd_grade_many(args) -> int:
    """Grade many submissions (files, folders, a Gradescope export); Ctrl-C keeps what is finished."""
    from .classtools.batch import grade_many
    from .classtools.export import ExportError, NoSubmissions

    from .core.assignment import all_assignments, load
    from .config import mnist_root
    from .harness.harness import GraderSetupError, check_setup

    try:
        chosen = [load(args.assignment)] if args.assignment else all_assignments()
    except KeyError as exc:
        print(f"autograder: {str(exc)[1:-1]}", file=sys.stderr)
        return SETUP_ERROR
    groups = tuple(g for g in (args.groups or "").split(",") if g) or None
    unknown = [g for g in groups or () if not any(g in a.groups for a in chosen)]
    if unknown:
        print(f"autograder: unknown group(s) {', '.join(unknown)}", file=sys.stderr)
        return SETUP_ERROR
    def check(assignments) -> None:  # once, before any submission is graded: only what this batch needs
        for assignment in assignments:
            check_setup(mnist_root(), [g for g in assignment.groups if not groups or g in groups], assignment)

    try:
        grade_many(args.paths, Path(args.out), jobs=args.jobs, seed=args.seed, groups=groups, force=args.force,
                   assignment=args.assignment, check=check)
    except GraderSetupError as exc:
        print(f"autograder: cannot grade on this machine: {exc}", file=sys.stderr)
        return SETUP_ERROR
    except (ExportError, FileNotFoundError, NoSubmissions) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted. Finished results are in place; run the same command again to grade the rest.",
              file=sys.stderr)
        return 130
    return 0


#: Exit status of report, similarity and pdf when the results folder is unusable or a PDF could not be made.
NOTHING_FOUND = 1


def _unusable(out: Path) -> bool:
    """Whether the class tools cannot work from the results folder ``out``; if so, say why on stderr."""
    from .classtools.batch import unusable

    problem = unusable(out)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
    return bool(problem)


def cmd_report(args) -> int:
    """Write the class's report page, ``OUT/report.html``, from the results of ``grade-many --out OUT``."""
    from .classtools.report import write_report

    if _unusable(Path(args.out)):
        return NOTHING_FOUND
    print(f"wrote {write_report(Path(args.out), top=args.top)}")
    return 0


def cmd_similarity(args) -> int:
    """Print the most similar pairs of submissions graded into ``OUT``."""
    from .classtools.similarity import NothingCompared, print_pairs

    if _unusable(Path(args.out)):
        return NOTHING_FOUND
    try:
        print_pairs(Path(args.out), top=args.top)
    except NothingCompared as exc:
        print(f"similarity: {exc}", file=sys.stderr)
        return NOTHING_FOUND
    return 0


def cmd_pdf(args) -> int:
    """Write ``OUT/<key>/submission.pdf`` (figures and written answers) for every notebook graded into ``OUT``
    whose PDF is missing or stale; exits with NOTHING_FOUND when a notebook could not be read."""
    from .classtools.browser import BrowserMissing
    from .classtools.pdf import make_pdfs

    if _unusable(Path(args.out)):
        return NOTHING_FOUND
    try:
        made = make_pdfs(Path(args.out), force=args.force)
    except BrowserMissing as exc:
        print(f"error: cannot print PDFs: {exc}", file=sys.stderr)
        return NOTHING_FOUND
    if made.warning():
        print(made.warning(), file=sys.stderr)
    print(made.summary())
    for key, reason in made.failed:
        print(f"error: {key}: no PDF: {reason}", file=sys.stderr)
    return NOTHING_FOUND if made.failed else 0


def cmd_assign(args) -> int:
    """Write a student template from its solution notebook; with --all, every assignment's template and
    generated reference (``make student``)."""
    from .notebook.assign import assign, render

    if args.all:
        return _assign_all()
    if not (args.solution and args.student):
        raise SystemExit("give SOLUTION and STUDENT, or --all")
    if args.check:
        current = Path(args.student).read_text() if Path(args.student).exists() else ""
        if current != render(args.solution):
            print(f"{args.student} is not what `make student` makes from {args.solution}: run `make student`")
            return 1
        return 0
    print(f"wrote {assign(args.solution, args.student)}")
    return 0


def _assign_all() -> int:
    """``make student``: for every assignment, its template notebook from its solution notebook, its
    ``reference.py`` when the spec says it is generated, and the data of its notebook's checks when it has some
    (:mod:`autograder.deploy.checks`; its cases read MNIST)."""
    from .core.assignment import all_assignments
    from .deploy import checks
    from .notebook.assign import assign, render_reference

    for assignment in all_assignments():
        solution = assignment.solution_notebook
        print(f"wrote {assign(solution, assignment.template_notebook)}")
        if assignment.generated_reference:
            (assignment.folder / "reference.py").write_text(render_reference(solution, assignment.classes))
            print(f"wrote {assignment.folder / 'reference.py'}")
        if assignment.name in checks.CHECKED:
            written = checks.write(assignment)
            print("\n".join(f"wrote {path}" for path in written) or f"{checks.data_path(assignment)} is current")
    return 0


def cmd_execute(args) -> int:
    """Run a notebook top to bottom in place (``make solution``), its folder as the working directory."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(args.notebook)
    nb = nbformat.read(path, as_version=4)
    start = time.monotonic()
    NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    print(f"executed {path} in {time.monotonic() - start:.0f} s")
    return 0


def _add_class_commands(commands) -> None:
    """The subcommands for a whole class: grade-many, report, similarity, pdf."""
    many = commands.add_parser("grade-many", help="grade files and folders of submissions in parallel")
    many.add_argument("paths", nargs="+", help="submission files, folders of them (one file per student), or "
                                              "Gradescope's 'Export Submissions' zip or its unpacked folder")
    many.add_argument("--out", default="build/grades", help="folder for results and summary.csv")
    many.add_argument("--jobs", type=int, default=2, help="submissions graded at once")
    many.add_argument("--seed", type=int, default=0)
    many.add_argument("--assignment", help="grade every submission as this assignment (default: recognise each "
                                           "from the classes it defines)")
    many.add_argument("--groups", help="comma-separated groups to grade (default all)")
    many.add_argument("--force", action="store_true", help="regrade submissions already graded by this kit")
    many.set_defaults(run=cmd_grade_many)

    report = commands.add_parser("report", help="one HTML page on the class graded into OUT (OUT/report.html)")
    report.add_argument("out", nargs="?", default="build/grades", help="the --out folder of grade-many")
    report.add_argument("--top", type=int, default=10, help="most similar pairs to show")
    report.set_defaults(run=cmd_report)

    similarity = commands.add_parser("similarity", help="the most similar pairs of submissions graded into OUT")
    similarity.add_argument("out", nargs="?", default="build/grades", help="the --out folder of grade-many")
    similarity.add_argument("--top", type=int, default=10)
    similarity.set_defaults(run=cmd_similarity)

    pdf = commands.add_parser("pdf", help="a PDF of each graded notebook's figures and written answers")
    pdf.add_argument("out", nargs="?", default="build/grades", help="the --out folder of grade-many")
    pdf.add_argument("--force", action="store_true", help="rewrite PDFs that exist")
    pdf.set_defaults(run=cmd_pdf)


def _add_deployment_commands(commands) -> None:
    """The commands that build and run what a course hands out: gradescope, package, assign, execute."""
    gradescope = commands.add_parser("gradescope", help="grade ROOT/submission/ as Gradescope's run_autograder")
    gradescope.add_argument("--root", default="/autograder", help="Gradescope's folder (default /autograder)")
    gradescope.add_argument("--seed", type=int, default=0)
    gradescope.add_argument("--deadline", type=float, help="seconds after which grading stops with a result")
    gradescope.set_defaults(run=cmd_gradescope)

    package = commands.add_parser("package", help="build Gradescope's autograder.zip")
    package.add_argument("--assignment", help="the assignment whose zip to build (default: one zip per assignment)")
    package.add_argument("--out", default="build/autograder-{assignment}.zip",
                         help="where to write it; {assignment} is replaced by the assignment's name")
    package.set_defaults(run=cmd_package)

    assign = commands.add_parser("assign", help="make the student notebook from the solution notebook")
    assign.add_argument("solution", nargs="?")
    assign.add_argument("student", nargs="?")
    assign.add_argument("--all", action="store_true", help="every assignment's template and generated reference")
    assign.add_argument("--check", action="store_true", help="only check that the student notebook is current")
    assign.set_defaults(run=cmd_assign)

    execute = commands.add_parser("execute", help="run a notebook in place, saving its outputs")
    execute.add_argument("notebook")
    execute.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    execute.set_defaults(run=cmd_execute)


def main(argv=None) -> int:
    """The command line: ``python -m autograder COMMAND ...`` (``--help`` lists them). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade one submission (.ipynb or .py)")
    grade.add_argument("path")
    grade.add_argument("--results", default="results.json", help="where to write results.json")
    grade.add_argument("--seed", type=int, default=0, help="seed of the children's random draws")
    grade.add_argument("--verbose", action="store_true", help="show pytest's report")
    grade.add_argument("--assignment", help="the assignment to grade it as (default: recognised from the classes "
                                            "the submission defines, then its file name)")
    grade.add_argument("--groups", help="comma-separated groups to grade (default all)")
    grade.add_argument("--deadline", type=float, help="seconds grading may take in all: tests with no time left "
                                                      "fail with 'not run', the others keep their scores")
    grade.set_defaults(run=cmd_grade)

    _add_class_commands(commands)

    _add_deployment_commands(commands)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
