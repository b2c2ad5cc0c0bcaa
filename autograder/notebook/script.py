"""A ``.py`` submission as a notebook's class cell: its graded classes and what they read, not its script.

A notebook exported to a script (``jupyter nbconvert --to script``, with its ``# In[ ]:`` markers and
``get_ipython()`` calls; Colab's *Download .py*, with its ``!pip`` lines and Markdown as strings) holds every cell:
loading MNIST, training, plotting. The grader runs none of that, as it runs only the class cell of a notebook.
Of the file's top-level statements it keeps:

- the last definition of each graded class (:func:`autograder.notebook.submission.class_cells`, as for a notebook);
- what the kept code reads, transitively, when it is one of: a function or class definition; an import of an
  allowed module or of the standard library; a constant, a name bound to an expression that loads nothing: literals,
  arithmetic, lambdas, and calls of builtins such as ``range`` or of ``torch``, ``numpy`` and ``math``
  (``LOG_2PI = math.log(2 * math.pi)``, ``ONES = torch.ones(10)``), never of the file's own functions or of a
  loader (``torch.load``, ``DataLoader``, ``vae_utils.mnist_loaders``).

The names the notebook's first cell provides (:data:`PROVIDED`) are the grader's, never the file's: a
``device = "cuda"`` of the file is not run. A kept statement that reads a name no kept statement binds is
dropped (a constant computed from the training data), so that the method reading it fails with the name, as in
a notebook. Every other line is blanked, so line numbers stay the file's. Only parses (``ast``, ``symtable``).
"""
from __future__ import annotations

import ast
import bisect
import builtins
import io
import re
import symtable
import sys
import tokenize
import warnings

#: Names the grader defines for the submission as the notebook's first cell does, and the modules they are.
PROVIDED = {"torch": "torch", "nn": "torch.nn", "F": "torch.nn.functional", "np": "numpy", "device": ""}
#: Packages whose functions a kept constant may call: they compute; they read no data.
COMPUTING = ("torch", "numpy", "math")
#: Functions of those packages that read or write files, or data sets: a constant calling one is not run.
LOADERS = ("load", "save", "loadtxt", "genfromtxt", "fromfile", "savetxt", "savez", "savez_compressed", "memmap",
           "from_file")
LOADING_MODULES = ("torch.hub", "torch.utils.data", "torch.utils.model_zoo")
#: Builtins a kept constant may call.
PURE_BUILTINS = frozenset({"int", "float", "complex", "bool", "str", "bytes", "tuple", "list", "dict", "set",
                           "frozenset", "range", "len", "min", "max", "abs", "round", "sum", "sorted", "reversed",
                           "zip", "enumerate", "map", "filter", "any", "all", "pow", "divmod", "slice", "isinstance",
                           "object", "type", "property", "staticmethod", "classmethod", "chr", "ord", "repr"})
#: symtable's names of the scopes of comprehensions, which run where they are written.
_COMPREHENSIONS = frozenset({"listcomp", "setcomp", "dictcomp", "genexpr"})
_MAGIC = re.compile(r"^(\s*)[%!]")


def blank_magics(code: str) -> str:
    """Turn IPython ``%magic`` and ``!shell`` lines into ``pass`` so the code parses as Python."""
    return "\n".join(_MAGIC.sub(r"\1pass  # ", line) for line in code.splitlines())


def parse_script(text: str) -> tuple:
    """``(tree, text)`` of a ``.py`` file: parsed as it is, else with its IPython magics blanked (a Colab export's
    ``!pip install``, ``%matplotlib inline``); ``text`` is what was parsed.

    Raises SyntaxError (ValueError for null bytes, on some Pythons): the error of the file as it is, when none
    parses.
    """
    with warnings.catch_warnings():  # Markdown strings' LaTeX: "invalid escape sequence '\\m'"
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        try:
            return ast.parse(text), text
        except (SyntaxError, ValueError) as exc:
            error = exc
        for repair in (blank_magics, lambda code: raw_markdown(blank_magics(code))):
            try:
                repaired = repair(text)
                return ast.parse(repaired), repaired
            except (SyntaxError, ValueError, tokenize.TokenError):
                continue
    raise error


def raw_markdown(code: str) -> str:
    """``code`` with each string that stands alone at the start of a line (Colab's export writes the notebook's
    Markdown so: ``\"\"\"## The objective ... $\\underbrace{...}$\"\"\"``) made raw, so that LaTeX's ``\\u`` or
    ``\\N`` in it is not read as a broken escape. Other strings are left as they are."""
    lines = code.splitlines(keepends=True)
    starts, previous = [], tokenize.NEWLINE
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.STRING and token.start[1] == 0 and previous in (tokenize.NEWLINE, tokenize.NL) \
                and not re.match(r"[A-Za-z]*[rRbBfF]", token.string):
            starts.append(token.start)
        if token.type not in (tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            previous = token.type
    for row, _ in reversed(starts):
        lines[row - 1] = "r" + lines[row - 1]
    return "".join(lines)


def statement_cells(tree: ast.Module) -> list:
    """The file's top-level statements as cells (lists of statements): one per statement, but statements that
    share a line (``a = 1; b = 2``) share a cell, so that a cell is a whole number of lines."""
    cells, last_line = [], 0
    for node in tree.body:
        if cells and _first_line(node) <= last_line:
            cells[-1].append(node)
        else:
            cells.append([node])
        last_line = max(last_line, node.end_lineno)
    return cells


def script_source(text: str, cells: list, chosen: list, allowed) -> str:
    """``text`` with every line blanked but those of the ``chosen`` cells (the graded classes) and of the cells they
    need (see the module's docstring); ``allowed`` are the assignment's allowed imports."""
    keep = _needed(cells, chosen, allowed)
    lines = text.splitlines()
    shown = [False] * len(lines)
    for index in keep:
        for line in range(_first_line(cells[index][0]) - 1, max(n.end_lineno for n in cells[index])):
            shown[line] = True
    return "\n".join(line if show else "" for line, show in zip(lines, shown)) + "\n"


def _first_line(node: ast.stmt) -> int:
    """The statement's first line, its decorators' included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _needed(cells: list, chosen: list, allowed) -> set:
    """The indices of the cells to run: ``chosen``, and the keepable cells their reads need, transitively; then
    without the keepable cells whose reads at definition time no kept cell binds before them. Reads are computed
    only for the cells kept, so that a long script costs little."""
    aliases, binders = _aliases(cells), {}
    for index, cell in enumerate(cells):
        for name in _binds(cell) - PROVIDED.keys():
            binders.setdefault(name, []).append(index)
    reads = {}
    keep, queue = set(chosen), list(chosen)
    while queue:
        index = queue.pop()
        now, later = reads.setdefault(index, _reads(cells[index]))
        wanted = [_binding(binders, name, index) for name in now] + [_binding(binders, name, len(cells))
                                                                     for name in later]
        for found in wanted:
            if found is not None and found not in keep and _keepable(cells[found], aliases, allowed):
                keep.add(found)
                queue.append(found)
    changed = True
    while changed:
        missing = {i for i in keep - set(chosen) if any(_unresolved(binders, name, i, keep) for name in reads[i][0])}
        keep -= missing
        changed = bool(missing)
    return keep


def _binding(binders: dict, name: str, before: int) -> int | None:
    """The index of the last cell before ``before`` that binds ``name`` (``binders``: name -> the indices of the
    cells binding it, in order; the grader's names are in none)."""
    indices = binders.get(name, [])
    position = bisect.bisect_left(indices, before)
    return indices[position - 1] if position else None


def _unresolved(binders: dict, name: str, index: int, keep: set) -> bool:
    """Whether ``name``, read by cell ``index`` when it runs, is bound by no kept cell before it, nor by the
    grader or Python."""
    found = _binding(binders, name, index)
    if found is None:
        return name not in PROVIDED and not hasattr(builtins, name)
    return found not in keep


def _binds(cell: list) -> set:
    """The names a cell's statements bind at the top level."""
    names = set()
    for node in cell:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name.split(".")[0] for a in node.names if a.name != "*"}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _reads(cell: list) -> tuple:
    """``(now, later)``: the global names the cell reads when it runs (values, defaults, decorators, class
    bodies, comprehensions), and those its functions read when they are called."""
    try:
        table = symtable.symtable(ast.unparse(ast.Module(body=cell, type_ignores=[])), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError):  # parses, yet does not compile (a top-level `return`)
        names = {n.id for node in cell for n in ast.walk(node) if isinstance(n, ast.Name)}
        return names, names
    now, later = set(), set()

    def walk(scope, running: bool):
        names = {s.get_name() for s in scope.get_symbols() if s.is_referenced()
                 and (s.is_global() or scope.get_type() == "module")}
        (now if running else later).update(names)
        for child in scope.get_children():
            walk(child, running and (child.get_type() == "class" or child.get_name() in _COMPREHENSIONS))

    walk(table, True)
    return now, later


def _aliases(cells: list) -> dict:
    """``{name: module path}`` of the file's top-level imports and the grader's names (``F``:
    ``torch.nn.functional``, ``pi``: ``math.pi``)."""
    found = {k: v for k, v in PROVIDED.items() if v}
    for node in (n for cell in cells for n in cell):
        if isinstance(node, ast.Import):
            found.update({a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                          for a in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names if a.name != "*"})
    return found


def _keepable(cell: list, aliases: dict, allowed) -> bool:
    """Whether every statement of the cell may run when the classes need it: a definition, an import the
    assignment allows (or of the standard library), or a constant that loads nothing."""
    return all(_keepable_statement(node, aliases, allowed) for node in cell)


def _keepable_statement(node: ast.stmt, aliases: dict, allowed) -> bool:
    """See :func:`_keepable`; an assignment must bind names only (``a, b = ...``), never attributes or items."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        return not getattr(node, "level", 0) and all(_importable(m, allowed) for m in modules)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return all(_loads_nothing(e, aliases) for e in _definition_time(node))
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return all(isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Store, ast.Starred))
                   for t in targets for n in ast.walk(t)) and _loads_nothing(node.value, aliases)
    return False


def _importable(module: str, allowed) -> bool:
    """Whether importing ``module`` may run: one the assignment allows (or inside one), or the standard library's."""
    top = module.split(".")[0]
    return (module in allowed or any(module.startswith(a + ".") for a in allowed) or module == "__future__"
            or top in sys.stdlib_module_names)


def _definition_time(node) -> list:
    """The expressions a ``def`` or ``class`` statement evaluates when it runs."""
    found = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        return found + list(node.bases) + [k.value for k in node.keywords]
    args = node.args
    return found + list(args.defaults) + [d for d in args.kw_defaults if d is not None]


def _loads_nothing(expr: ast.expr, aliases: dict) -> bool:
    """Whether ``expr`` calls nothing but builtins of :data:`PURE_BUILTINS`, functions of :data:`COMPUTING` that
    are not loaders, and methods of values (the bodies of lambdas are not run, so not looked at)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Lambda):
            stack += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
            continue
        if isinstance(node, ast.Call) and not _computes(node.func, aliases):
            return False
        stack += list(ast.iter_child_nodes(node))
    return True


def _computes(func: ast.expr, aliases: dict) -> bool:
    """Whether calling ``func`` computes rather than loads: a builtin of :data:`PURE_BUILTINS`, a function of a
    :data:`COMPUTING` package that is not a loader, or a method of a value (``x.float()``)."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.insert(0, func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return True  # a method of a computed value: ``torch.arange(3).float()``, ``"-".join(...)``
    if func.id in aliases:
        path = ".".join([aliases[func.id]] + parts)
        return (path.split(".")[0] in COMPUTING and path.split(".")[-1] not in LOADERS
                and not any(path == m or path.startswith(m + ".") for m in LOADING_MODULES))
    if not parts:
        return func.id in PURE_BUILTINS
    return True  # a method of a variable: its binding is checked where the variable is bound
