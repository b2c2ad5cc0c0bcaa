"""Which of a corpus case's groups can come out differently from the solution's: those whose tests run code of
the case that is not the solution's, statement for statement.

A child runs the submission's code on the grader's inputs with the grader's seeds, so a group whose children run
only functions that the case and the solution write alike (and whose module and class bodies are alike) runs the
same code on the same inputs as the solution, and gets the solution's verdict: full marks, which the kit's tests
check on the solution itself. Which functions a group's children run is not assumed: it is traced, on the solution,
by the children themselves (:mod:`autograder.processes.tracing`).

``make test`` grades each corpus case on the groups :func:`groups_to_grade` keeps (the others cannot change);
``make corpus`` still grades every case on every group.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """``tree`` without the docstrings of its module, classes and functions (text that no statement runs; only
    ``__doc__`` holds it)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body and \
                isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                isinstance(body[0].value.value, str):
            node.body = body[1:]
    return tree


def _code(source: str, classes) -> tuple | None:
    """``(module body without the graded classes, {class: its body without functions, bases and decorators},
    {"Class.function" or "function": its code})``, each as ``ast.dump`` text, docstrings left out; None when
    ``source`` does not parse."""
    try:
        tree = _strip_docstrings(ast.parse(source))
    except SyntaxError:
        return None
    module, bodies, functions = [], {}, {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in classes:
            rest = [n for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            bodies[node.name] = ast.dump(ast.Module(body=rest, type_ignores=[])) + ast.dump(
                ast.Tuple(elts=node.bases + node.keywords + node.decorator_list, ctx=ast.Load()))
            functions.update({f"{node.name}.{f.name}": ast.dump(f) for f in node.body
                              if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))})
        else:
            module.append(node)
    return ast.dump(ast.Module(body=module, type_ignores=[])), bodies, functions


@functools.lru_cache(maxsize=None)
def _solution(assignment_name: str) -> tuple:
    """The solution's source (as the children get it), its :func:`_code` and its rule violations per method."""
    from autograder.core.assignment import load
    from autograder.notebook.submission import load_submission

    assignment = load(assignment_name)
    solution = load_submission(assignment.solution_notebook, assignment)
    return solution.source, _code(solution.source, assignment.classes), solution.violations


def changed(path: Path, assignment) -> set | None:
    """The functions (``"Class.method"``) that the submission at ``path`` writes otherwise than the solution, or
    whose rules it breaks otherwise (an added import, a forbidden module: the file's own lines, which the source
    the children get leaves out); None when anything else differs (the module's or a class's own statements, the
    set of functions, a source that does not load or parse), so that every group must be graded."""
    from autograder.notebook.submission import load_submission

    submission = load_submission(path, assignment)
    mine = None if submission.error else _code(submission.source, assignment.classes)
    _, theirs, broken = _solution(assignment.name)
    if mine is None or mine[0] != theirs[0] or mine[1] != theirs[1] or set(mine[2]) != set(theirs[2]):
        return None
    rules = {assignment.qualified_methods.get(m, m) for m in set(submission.violations) | set(broken)
             if submission.violations.get(m) != broken.get(m)}
    return {name for name, code in mine[2].items() if code != theirs[2][name]} | rules


def functions_run(assignment, traced: dict) -> dict:
    """``{group: set of "Class.method"}`` from the children's traces of the solution (``{group: [[name, first
    line], ...]}``): each traced code (a method, or a function, comprehension or lambda inside one) counted as
    the outermost function of the solution's source that holds its first line."""
    tree = ast.parse(_solution(assignment.name)[0])
    owners = [(f"{c.name}.", c.body) for c in tree.body if isinstance(c, ast.ClassDef)] + [("", tree.body)]
    spans = [(prefix + f.name, min([f.lineno] + [d.lineno for d in f.decorator_list]), f.end_lineno)
             for prefix, body in owners for f in body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return {group: {name for _, line in pairs for name, first, last in spans if first <= line <= last}
            for group, pairs in traced.items()}


def groups_to_grade(path: Path, assignment, groups, run: dict) -> list:
    """The groups of ``groups`` whose verdict the submission at ``path`` can change: every one when
    :func:`changed` cannot tell; else the method groups whose own method, or a function their children ran on the
    solution (``run``, see :func:`functions_run`), it writes otherwise, and every group that is not a method's
    (the training run and what it feeds, figures, answers)."""
    differ = changed(path, assignment) if Path(path).suffix == ".py" else None
    if not differ:
        return list(groups)
    qualified = assignment.qualified_methods
    keep = [g for g in groups if g not in qualified or qualified[g] in differ or run.get(g, set()) & differ]
    return keep
