"""The kit's structure as a contract: the layers of ``.importlinter``, no import circle, short functions."""
from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "autograder"
CONTRACTS = ROOT / ".importlinter"
#: Lines a function of the kit may take, its docstring left out (the guide's "no function over ~40 lines").
MAX_FUNCTION_LINES = 40


def _top_level_modules() -> set:
    """``autograder.X`` for every module and package directly in ``autograder/``."""
    found = {f"autograder.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    return found | {f"autograder.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}


def _contracts() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONTRACTS)
    return parser


def _listed(value: str) -> set:
    return {name.strip() for line in value.split() for name in line.replace("|", ":").split(":") if name.strip()}


def test_import_contracts_are_kept():
    """do the kit's imports keep every contract of .importlinter (layers, the engine imports no assignment, the
    sandbox no grader, no assignment another, no circle)?"""
    lint = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(lint), "--config", str(CONTRACTS), "--no-cache"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout, run.stdout[-2000:]


def test_every_module_has_a_layer():
    """is every module of autograder/ in one layer of the contract, so that a new module cannot slip past it?"""
    layers = _contracts()["importlinter:contract:layers"]["layers"]
    listed = [name for line in layers.splitlines() for name in _listed(line)]
    assert sorted(set(listed)) == sorted(listed), "a module is in two layers"
    assert set(listed) == _top_level_modules()


def _modules_in(package: str) -> set:
    """The names of the modules and packages directly in ``package`` (``autograder.X``)."""
    folder = ROOT.joinpath(*package.split("."))
    found = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    return found | {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}


def test_every_module_of_a_layered_package_has_a_layer():
    """is every module of a package whose inside the contract layers (``containers``) in one of its layers?"""
    contracts = _contracts()
    inside = {section["containers"].strip(): section["layers"] for name, section in contracts.items()
              if name.startswith("importlinter:contract:") and "containers" in section}
    assert inside, "no contract layers the inside of a package"
    for package, layers in inside.items():
        listed = [name for line in layers.splitlines() for name in _listed(line)]
        assert sorted(set(listed)) == sorted(listed), f"a module of {package} is in two layers"
        assert set(listed) == _modules_in(package), package


def test_every_package_says_what_its_layer_is():
    """does each package of autograder/ open with a docstring (what its layer is and what it may import)?"""
    for module in _top_level_modules():
        init = PACKAGE / module.split(".")[1] / "__init__.py"
        if init.is_file():
            assert ast.get_docstring(ast.parse(init.read_text())), f"{init.relative_to(ROOT)} has no docstring"


def test_the_engine_contract_names_every_engine_module():
    """does the contract 'the engine imports no assignment' name every module but the assignments?"""
    sources = _listed(_contracts()["importlinter:contract:engine"]["source_modules"])
    assert sources == _top_level_modules() - {"autograder.assignments"}


def _long_functions(source: str, limit: int) -> list:
    """``[(name, lines)]`` of the functions of ``source`` whose body, its docstring left out, is over ``limit``
    lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str) and len(body) > 1:
                body = body[1:]
            lines = node.end_lineno - body[0].lineno + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


def test_long_functions_are_found():
    """does the length check count a body's lines, the docstring left out?"""
    body = "\n".join(f"    x{i} = {i}" for i in range(41))
    assert _long_functions(f'def f():\n    """doc\n\n    more"""\n{body}\n', 40) == [("f", 41)]
    assert _long_functions(f'def f():\n    """doc\n\n    more"""\n{body}\n', 41) == []


def test_no_function_is_over_40_lines():
    """is every function of autograder/ at most 40 lines long, its docstring left out?"""
    found = {f"{path.relative_to(ROOT)}: {name} ({lines} lines)"
             for path in PACKAGE.rglob("*.py") for name, lines in _long_functions(path.read_text(), MAX_FUNCTION_LINES)}
    assert not found, sorted(found)
