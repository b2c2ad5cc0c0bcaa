"""The assignment's rules, read from the code: no forbidden module (its spec's ``forbidden_modules``: the kit's
VAEs forbid ``torch.distributions``), no added imports.

Only code counts. Docstrings, comments, and strings used as text (a ``print``, an f-string, an
assertion message) never do. What reaches a forbidden module (``torch.distributions``): an attribute named as
its last part (``.distributions``), an import,
and a string where it names a module or attribute to reach: the argument of ``getattr``, ``__import__``,
``importlib.import_module`` or a subscript such as ``vars(torch)[...]``, folded when it is built from parts
(``'distri' + 'butions'``, ``''.join(...)``, an f-string of constants, a variable bound to such a string).
What the source cannot show (a name computed at run time) the sandbox records while the method runs
(each assignment's ``probes.py``, through :mod:`autograder.sandbox.probing`).

Added imports are import statements: in the method's own code, or elsewhere when the method reads a name
they bind. ``__import__("os")`` is not counted as one: the rules catch honest mistakes, and what a
submission does on purpose is stopped by the sandbox, not by reading its source (``tests/hostile/``
relies on such calls to attack the sandbox).

Runs in the trusted process and only parses (``ast``).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass


#: Calls that reach a module or attribute named by a string argument.
_REACHING_CALLS = {"getattr", "__import__", "import_module", "attrgetter"}
#: ``str`` methods folded when their receiver and arguments fold (none of them can pad to a huge width).
_STR_METHODS = {"join", "replace", "lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize"}
#: The longest string :func:`fold` computes.
MAX_FOLDED = 200


@dataclass(frozen=True)
class Rules:
    """What a submission's code may import (``allowed``: modules such as ``"torch.nn"`` and imported names such as
    ``"sklearn.manifold.TSNE"``) and the modules it may not reach at all (``forbidden``: ``"torch.distributions"``)."""

    allowed: frozenset
    forbidden: tuple = ()

    def __contains__(self, module: str) -> bool:
        return module in self.allowed

    def reached(self, value: str | None) -> str | None:
        """The forbidden module that a module or attribute path reaches (``"torch.distributions.normal"`` and
        ``"distributions"`` reach ``torch.distributions``: its last part is one of the path's), or None."""
        parts = value.split(".") if value is not None else []
        return next((f for f in self.forbidden if f.rpartition(".")[2] in parts), None)

    def imported(self, module: str) -> str | None:
        """The forbidden module that importing ``module`` reaches (within the forbidden module's root package),
        or None."""
        found = self.reached(module)
        return found if found and (module == found or module.startswith(found.partition(".")[0] + ".")) else None

    def attribute(self, name: str) -> str | None:
        """The forbidden module that an attribute ``name`` reaches (``.distributions``), or None."""
        return next((f for f in self.forbidden if f.rpartition(".")[2] == name), None)


@dataclass(frozen=True)
class Breach:
    """One piece of code that breaks a rule: ``rule`` is "forbidden" (``module`` says which) or "import"."""

    rule: str
    code: str
    module: str = ""

    def message(self) -> str:
        """The clause the student reads after the method's name."""
        if self.rule == "forbidden":
            return f"uses {self.module} (`{self.code}`), which the rules forbid"
        return f"uses an added import (`{self.code}`), which the rules forbid"


def _short(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 100 else text[:97] + "..."


def fold(node: ast.AST, strings: dict, depth: int = 0) -> str | None:
    """The value of a string expression built from constants, or None when the source cannot tell.

    Folds literals, ``+``, ``* n``, f-strings, slices (``s[::-1]``), ``str(...)``, the ``str`` methods of
    :data:`_STR_METHODS` and names in ``strings`` (variables bound to such expressions). Results longer than
    :data:`MAX_FOLDED` characters are not folded: a module or attribute name is short, and a submission must
    not make the trusted process build huge strings.
    """
    if depth > 30:
        return None
    again = lambda n: fold(n, strings, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant):
        value = node.value if isinstance(node.value, str) else None
    elif isinstance(node, ast.Name):
        value = strings.get(node.id)
    elif isinstance(node, ast.JoinedStr):
        parts = [again(v.value if isinstance(v, ast.FormattedValue) else v) for v in node.values]
        value = None if None in parts else "".join(parts)
    elif isinstance(node, ast.BinOp):
        value = _fold_binop(node, again)
    elif isinstance(node, ast.Subscript):
        value = _fold_subscript(node, again)
    elif isinstance(node, ast.Call) and not node.keywords:
        value = _fold_call(node, again)
    else:
        value = None
    return value if value is None or len(value) <= MAX_FOLDED else None


def _fold_binop(node: ast.BinOp, again) -> str | None:
    """``a + b`` of two strings, ``s * n`` (or ``n * s``) with a small constant ``n``."""
    if isinstance(node.op, ast.Add):
        left, right = again(node.left), again(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node.op, ast.Mult):
        text, count = again(node.left), node.right
        if text is None:
            text, count = again(node.right), node.left
        if text is not None and isinstance(count, ast.Constant) and type(count.value) is int \
                and len(text) * count.value <= MAX_FOLDED:
            return text * count.value
    return None


def _fold_subscript(node: ast.Subscript, again) -> str | None:
    """``s[i]`` and ``s[a:b:c]`` with constant integers."""
    text = again(node.value)
    bounds = ([node.slice.lower, node.slice.upper, node.slice.step] if isinstance(node.slice, ast.Slice)
              else [node.slice])
    try:
        values = [None if b is None else ast.literal_eval(b) for b in bounds]
        if text is None or not all(v is None or type(v) is int for v in values):
            return None
        return text[slice(*values)] if isinstance(node.slice, ast.Slice) else text[values[0]]
    except (ValueError, IndexError, SyntaxError, TypeError):
        return None


def _fold_call(node: ast.Call, again) -> str | None:
    """``str(s)`` and the ``str`` methods of :data:`_STR_METHODS` on folded receivers and arguments."""
    if isinstance(node.func, ast.Name) and node.func.id == "str" and len(node.args) == 1:
        return again(node.args[0])
    if not isinstance(node.func, ast.Attribute) or node.func.attr not in _STR_METHODS:
        return None
    receiver = again(node.func.value)
    args = [[again(e) for e in a.elts] if isinstance(a, (ast.List, ast.Tuple)) else again(a) for a in node.args]
    if receiver is None or any(a is None or (isinstance(a, list) and None in a) for a in args):
        return None
    try:
        return getattr(str, node.func.attr)(receiver, *args)
    except (TypeError, ValueError):
        return None


def string_variables(trees) -> dict[str, str]:
    """Names bound to a foldable string anywhere in ``trees`` (``n = 'distri'; n += 'butions'``), in source
    order; a name bound to anything else, or to two different strings, is dropped."""
    strings, dropped = {}, set()
    for tree in trees:
        bindings = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
        for node in sorted(bindings, key=lambda n: (n.lineno, n.col_offset)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in (t for t in targets if isinstance(t, ast.Name)):
                augmented = isinstance(node, ast.AugAssign)
                value = fold(ast.BinOp(ast.Name(target.id), node.op, node.value) if augmented else node.value,
                             strings) if node.value is not None else None
                if value is None or (not augmented and strings.get(target.id, value) != value):
                    dropped.add(target.id)
                strings[target.id] = value
    return {k: v for k, v in strings.items() if k not in dropped and v is not None}


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _import_breach(node, allowed: Rules, inside: bool) -> Breach | None:
    """The breach of an import statement: any import inside a method's code (``inside``), else one of a
    module that ``allowed`` lacks; importing a forbidden module breaks that rule instead."""
    if isinstance(node, ast.Import):
        modules = [a.name for a in node.names]
    else:
        modules = [f"{node.module}.{a.name}" if node.module else a.name for a in node.names]
    forbidden = next((f for f in map(allowed.imported, modules) if f), None)
    if forbidden:
        return Breach("forbidden", _short(node), forbidden)
    if inside or any(m not in allowed for m in modules):
        return Breach("import", _short(node))
    return None


def _call_breach(node: ast.Call, strings, allowed: Rules) -> Breach | None:
    """``getattr(torch, 'distri' + 'butions')``, ``__import__(...)``, ``importlib.import_module(...)``."""
    callee = _callee(node)
    if callee not in _REACHING_CALLS:
        return None
    values = [fold(a, strings) for a in node.args]
    values += [fold(e, strings) for a in node.args if isinstance(a, (ast.List, ast.Tuple)) for e in a.elts]
    values += [fold(e, strings) for k in node.keywords if isinstance(k.value, (ast.List, ast.Tuple))
               for e in k.value.elts]
    forbidden = next((f for f in map(allowed.reached, values) if f), None)
    return Breach("forbidden", _short(node), forbidden) if forbidden else None


def breach(node: ast.AST, strings: dict, allowed: Rules) -> Breach | None:
    """The rule that ``node`` itself breaks, when it is part of a method's code (or of a module-level value)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return _import_breach(node, allowed, inside=True)
    if isinstance(node, ast.Attribute) and (module := allowed.attribute(node.attr)):
        return Breach("forbidden", _short(node), module)
    if isinstance(node, ast.Call):
        return _call_breach(node, strings, allowed)
    if isinstance(node, ast.Subscript) and (module := allowed.reached(fold(node.slice, strings))):
        return Breach("forbidden", _short(node), module)
    return None


def _bound_names(node) -> list[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def tainted_names(trees, class_body, strings, allowed) -> dict[str, Breach]:
    """Names that carry a breach into whatever reads them: bound by an import that breaks a rule (anywhere),
    or by a module-level or class-level assignment whose value breaks one (``D = torch.distributions``)."""
    tainted = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found = _import_breach(node, allowed, inside=False)
                tainted.update({name: found for name in _bound_names(node) if found})
    statements = [s for tree in trees for s in tree.body] + list(class_body)
    for node in sorted((s for s in statements if isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value),
                       key=lambda s: (s.lineno, s.col_offset)):
        found = next(iter(own_breaches(node.value, strings, allowed, tainted)), None)
        tainted.update({name: found for name in _bound_names(node) if found})
    return tainted


def own_breaches(node: ast.AST, strings, allowed, tainted) -> set[Breach]:
    """Every breach in the code under ``node``, including names (and ``self.`` attributes) it reads that
    carry one."""
    found = set()
    for sub in ast.walk(node):
        direct = breach(sub, strings, allowed)
        if direct:
            found.add(direct)
        name = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else None
        if name in tainted:
            found.add(tainted[name])
    return found


def find_violations(trees, vae_tree: ast.Module, allowed, methods_graded, classes=("VAE",),
                    forbidden=()) -> dict[str, list[str]]:
    """Per graded method, the rules its own code breaks, following calls to helper methods and functions.

    Parameters
    ----------
    trees : list of ast.Module
        Every parsed code cell (or the one ``.py`` file), for the imports and string variables.
    vae_tree : ast.Module
        The cell(s) or file that define the graded classes (``class VAE``).
    allowed : set of str
        Modules (``"torch.nn"``) and imported names (``"sklearn.manifold.TSNE"``) that may be imported.
    methods_graded : tuple of str, or dict of str to str
        The graded methods (an assignment's ``methods``), or ``{group: "Class.method"}`` when several graded
        classes define methods of the same name (the result is then keyed by group).
    classes : tuple of str
        The graded classes; a helper method of a later one overrides the same name of an earlier one.
    forbidden : tuple of str
        Modules the code may not reach at all (an assignment's ``forbidden_modules``: ``"torch.distributions"``).

    Returns
    -------
    dict of str to list of str
        For each method of ``methods_graded`` that breaks a rule, one sentence per breach
        (``"uses torch.distributions (`getattr(torch, 'distributions')`), which the rules forbid"``); each
        import statement is reported once.
    """
    functions = {n.name: n for n in vae_tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                 and n.name not in classes}
    qualified = methods_graded if isinstance(methods_graded, dict) else {m: f"{classes[0]}.{m}" for m in methods_graded}
    graded = [[n for n in vae_tree.body if isinstance(n, ast.ClassDef) and n.name == c][-1:] for c in classes]
    bodies = [statement for found in graded for cls in found for statement in cls.body]
    per_class = {cls.name: {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
                 for found in graded for cls in found}
    methods = {name: node for found in per_class.values() for name, node in found.items()}
    strings, allowed = string_variables(trees), Rules(frozenset(allowed), tuple(forbidden))
    tainted = tainted_names(trees, [n for n in bodies if n not in methods.values()], strings, allowed)
    graded_names = {q.split(".")[-1] for q in qualified.values()}

    def reach(node, name: str, seen: set) -> set[Breach]:
        if node is None or name in seen:
            return set()
        seen.add(name)
        found = own_breaches(node, strings, allowed, tainted)
        read = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        attrs = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        # Follow helpers, not the other graded methods: each of those answers for its own code.
        for callee in ((attrs & methods.keys()) - graded_names) | (read & functions.keys()):
            found |= reach(methods.get(callee) or functions.get(callee), callee, seen)
        return found

    def graded_node(name: str):
        cls, _, method = name.rpartition(".")
        return per_class.get(cls, {}).get(method) or methods.get(method)

    found = {g: sorted(b.message() for b in reach(graded_node(q), q, set())) for g, q in qualified.items()}
    return {m: v for m, v in found.items() if v}
