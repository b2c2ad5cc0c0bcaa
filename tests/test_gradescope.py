"""Gradescope: the built autograder.zip, run as Gradescope runs it, and its results.json.

The zip is unpacked into a temporary folder laid out as Gradescope's /autograder (``source/``,
``submission/``, ``results/``, ``run_autograder``); ``run_autograder`` runs there with the root
overridden, and every results.json is validated against ``gradescope/results.schema.json``.
setup.sh needs the internet, so only its steps that do not are run (with local mirrors and a fake pip).
"""
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from conftest import MNIST, PART1, ROOT, SCHEMA, SOLUTION, TEMPLATE, layout, run_autograder, validate

from autograder import config
from autograder.core.assignment import names
from autograder.deploy import gradescope, package
from autograder.harness import harness

from autograder.assignments.vae import spec
from autograder.core import results as results_module
from autograder.core.results import GradingResult

TOTAL = sum(test.points for test in spec.TESTS.values())

@pytest.fixture(scope="module", autouse=True)
def subreaper():
    """Make this process a subreaper, so that whatever a grading leaves behind stays our descendant."""
    from autograder.processes import isolation

    isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)


def sandbox_children() -> set:
    """Our live descendants that run a sandbox child or the fork server (``child.py`` or ``forkserver.py`` of
    a vae-kit child runtime): other gradings on the machine do not count."""
    from autograder.processes import isolation

    table, found = isolation.processes(), set()
    for pid in isolation.descendants(os.getpid(), table):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if table[pid]["state"] != "Z" and ("child.py" in command or "forkserver.py" in command) \
                and "vae-kit" in command:
            found.add(pid)
    return found


# ---------------------------------------------------------------------------------------------
# The archive


def test_zip_has_the_scripts_at_its_root_and_the_package_but_no_notebook(built_zip):
    """Are setup.sh and run_autograder at the zip's root and executable, with every module of the kit,
    and no notebook (the solution must not be where student code runs)?"""
    with zipfile.ZipFile(built_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        for script in ("setup.sh", "run_autograder"):
            assert infos[script].external_attr >> 16 & 0o111, f"{script} is not executable"
            assert archive.read(script) == (ROOT / "gradescope" / script).read_bytes()
        modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "autograder").rglob("*.py")
                   if "__pycache__" not in p.parts and not (p.parent.parent.name == "assignments" or "assignments" in
                                                              p.parts[-4:-1]) or "/assignments/vae/" in p.as_posix()}
        assert modules <= infos.keys()
        assert {"vae_utils.py", "digit_classifier.py", "requirements-gradescope.txt", "VERSION", "ASSIGNMENT"} <= \
            infos.keys()
        assert not [name for name in infos if name.endswith(".ipynb") or name.startswith(("solution", "tests"))]
        assert all("/" not in name or name.startswith("autograder/") for name in infos)


def test_zip_is_reproducible(tmp_path):
    """Do two builds of the same sources give the same bytes (sorted entries, fixed timestamps)?"""
    first = package.build(tmp_path / "a.zip", "vae", version_text="test")
    second = package.build(tmp_path / "b.zip", "vae", version_text="test")
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    assert names[:2] == ["setup.sh", "run_autograder"] and names[-1] == "VERSION"


def _pins(path: Path) -> dict:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"{path.name}: {line!r} is not pinned with =="
            pins[name.lower()] = version
    return pins


#: Import names of the distributions they come from, where the two differ.
DISTRIBUTIONS = {"sklearn": "scikit-learn"}
#: Third-party imports of the kit that grading never reaches, and why they need not be on Gradescope.
NOT_FOR_GRADING = {"nbclient": "`python -m autograder execute`, for instructors",
                   "sklearn": "vae_utils.visualize_embeddings, the notebook's t-SNE plot",
                   "yaml": "reading Gradescope's export in `grade-many`, on the staff's machine",
                   "copydetect": "`python -m autograder similarity` and the report, on the staff's machine",
                   "jinja2": "`python -m autograder report`", "markupsafe": "`python -m autograder report`",
                   "nbconvert": "`python -m autograder pdf`", "playwright": "`python -m autograder pdf`",
                   "IPython": "vae_utils' figures showing themselves in a notebook, where IPython runs them"}


def test_gradescope_pins_cover_every_import_of_the_graders():
    """Is every third-party module the zip's code imports pinned for Gradescope, torch at the kit's version?"""
    pins = _pins(ROOT / "gradescope" / "requirements-gradescope.txt")
    kit = _pins(ROOT / "requirements.txt")
    assert pins["torch"] == kit["torch"]
    assert pins.keys() <= kit.keys()
    sandbox = {path.stem for path in (ROOT / "autograder" / "sandbox").glob("*.py")}  # imported as siblings there
    local = {"autograder", "vae_utils", "digit_classifier", "conftest", "reference"} | sandbox
    imported = set()
    for name, path, _ in [entry for a in names() for entry in package.contents(a)]:
        if name.endswith(".py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - local
    assert {"torch", "numpy", "pytest", "nbformat", "tqdm"} <= third_party
    missing = {m for m in third_party - NOT_FOR_GRADING.keys() if DISTRIBUTIONS.get(m, m) not in pins}
    assert not missing, f"imported by the graders but not pinned in requirements-gradescope.txt: {missing}"


def test_scripts_parse_and_pass_shellcheck():
    """Do setup.sh and run_autograder parse with bash -n and pass shellcheck?"""
    scripts = [str(ROOT / "gradescope" / name) for name in ("setup.sh", "run_autograder")]
    for script in scripts:
        subprocess.run(["bash", "-n", script], check=True)
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    done = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


# ---------------------------------------------------------------------------------------------
# setup.sh, step by step


def setup_sh(tmp_path: Path, *steps, **env):
    """Run setup.sh's ``steps`` with the root in ``tmp_path`` and this test run's Python as the venv."""
    environment = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(tmp_path), "AUTOGRADER_VENV": sys.prefix,
                   **env}
    return subprocess.run(["bash", str(ROOT / "gradescope" / "setup.sh"), *steps], env=environment,
                          capture_output=True, text=True, timeout=600)


def test_setup_downloads_mnist_with_md5_checks_and_then_checks_the_install(tmp_path):
    """Does setup.sh's data step fetch the four MNIST files into ROOT/data, md5-checked, and its check
    step then find CPU torch at the pinned version and MNIST readable offline?"""
    mirror = MNIST.joinpath("MNIST", "raw").as_uri() + "/"
    done = setup_sh(tmp_path, "data", "check", MNIST_MIRRORS=f"file:///nonexistent/ {mirror}")
    assert done.returncode == 0, done.stdout + done.stderr
    from vae_utils import MNIST_FILES

    for name, md5 in MNIST_FILES.items():
        assert hashlib.md5((tmp_path / "data" / "MNIST" / "raw" / name).read_bytes()).hexdigest() == md5
    assert "MNIST train: (60000, 28, 28)" in done.stdout and "ready" in done.stdout


def test_setup_fails_on_a_corrupt_mirror(tmp_path):
    """Does setup.sh fail (so Gradescope's build fails) when the only mirror serves files with a wrong md5?"""
    bad = tmp_path / "mirror"
    bad.mkdir()
    for path in (MNIST / "MNIST" / "raw").glob("*.gz"):
        (bad / path.name).write_bytes(b"not mnist")
    done = setup_sh(tmp_path / "root", "data", MNIST_MIRRORS=bad.as_uri() + "/")
    assert done.returncode != 0
    assert "md5" in done.stdout + done.stderr


def test_setup_installs_cpu_torch_first_then_the_rest_without_torch(tmp_path):
    """Does setup.sh upgrade pip and setuptools from PyPI, install the pinned torch's +cpu build from
    PyTorch's CPU index with PyPI as an extra index for its dependencies, then the other pins in a call
    that cannot replace it?"""
    log = tmp_path / "pip.log"
    fake = tmp_path / "fake-pip"
    fake.write_text(f'#!/usr/bin/env bash\n{{ echo "CALL $*"; for a in "$@"; do if [[ -f $a ]]; then cat "$a"; fi; '
                    f'done; }} >> {log}\n')
    fake.chmod(0o755)
    done = setup_sh(tmp_path, "packages", PIP=str(fake))
    assert done.returncode == 0, done.stderr
    calls = log.read_text().split("CALL ")[1:]
    torch_pin = f"torch=={_pins(ROOT / 'gradescope' / 'requirements-gradescope.txt')['torch']}"
    assert len(calls) == 3
    upgrade, torch_call, rest = (call.split() for call in calls)
    assert "--upgrade" in upgrade and upgrade[-2:] == ["pip", "setuptools"]
    assert "--index-url https://pypi.org/simple" in calls[0]
    assert "--index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple" in calls[1]
    assert torch_call[-1] == torch_pin + "+cpu"
    requirements = [line for line in calls[2].splitlines()[1:] if line and not line.startswith("#")]
    numpy_pin = f"numpy=={_pins(ROOT / 'gradescope' / 'requirements-gradescope.txt')['numpy']}"
    assert "-r " in calls[2] and numpy_pin in requirements
    assert not [line for line in requirements if line.startswith("torch")]


def test_setup_rejects_an_unknown_step(tmp_path):
    """Does setup.sh refuse a misspelt step before running any?"""
    done = setup_sh(tmp_path, "data", "nonsense")
    assert done.returncode == 2 and "unknown step 'nonsense'" in done.stderr
    assert not (tmp_path / "data").exists()


# ---------------------------------------------------------------------------------------------
# run_autograder on submissions


@pytest.fixture(scope="module")
def solution_run(built_zip, tmp_path_factory):
    """The solution notebook, submitted as vae.ipynb with vae_utils.py beside it."""
    root = layout(tmp_path_factory.mktemp("solution"), built_zip,
                  {"vae.ipynb": SOLUTION, "vae_utils.py": ROOT / "vae_utils.py"},
                  {"id": 123, "created_at": "2026-01-01T00:00:00Z", "submission_method": "upload",
                   "assignment": {"title": "VAE"}})
    return run_autograder(root)


def test_solution_gets_full_marks_and_a_leaderboard_elbo(solution_run):
    """Does the solution get every point, hidden stdout, and its test ELBO on the leaderboard?"""
    results, stdout = solution_run
    assert results["score"] == TOTAL and len(results["tests"]) == len(spec.TESTS)
    assert all(t["status"] == "passed" and t["score"] == t["max_score"] for t in results["tests"])
    assert results["stdout_visibility"] == "hidden"
    assert results["output"] == f"{TOTAL:g} / {TOTAL:g} points."
    [entry] = results["leaderboard"]
    assert entry["name"] == spec.LEADERBOARD["test_elbo"]["name"] and entry["order"] == "desc"
    assert spec.TRAINING.min_test_elbo <= entry["value"] < 0
    assert "submission 123" in stdout and f"score {TOTAL:g} / {TOTAL:g}" in stdout


def test_template_gets_zero_with_a_message_on_every_test(built_zip, tmp_path):
    """Does the blank template get 0, a message on every test, and no leaderboard value?"""
    results, _ = run_autograder(layout(tmp_path, built_zip, {"vae.ipynb": TEMPLATE}))
    assert results["score"] == 0 and len(results["tests"]) == len(spec.TESTS)
    assert all(t["status"] == "failed" and t["output"] for t in results["tests"])
    assert "leaderboard" not in results


def test_broken_misnamed_notebook_is_graded_with_a_note(built_zip, tmp_path):
    """Is a lone, misnamed, unreadable notebook graded anyway (0, saying why), with a note on the name?"""
    results, _ = run_autograder(layout(tmp_path, built_zip, {"homework 3.ipynb": '{"cells": [',
                                                             "vae_utils.py": ROOT / "vae_utils.py"}))
    assert results["score"] == 0 and results["tests"]
    assert results["output"].startswith("Graded homework 3.ipynb: it is the only notebook.")
    assert "upload vae.ipynb" in results["output"]
    assert all("homework 3.ipynb is not a valid Jupyter notebook" in t["output"] for t in results["tests"])
    assert len(results["tests"]) == len(spec.TESTS)


def test_missing_submission_lists_every_test_at_zero_and_says_what_to_submit(built_zip, tmp_path, solution_run):
    """Does a submission without a notebook get 0 on every test (named as usual), saying what to submit,
    worded for a GitHub submission when the metadata says so?"""
    root = layout(tmp_path, built_zip, {"README.md": "hello"}, {"submission_method": "GitHub", "assignment": {"title": "VAE"}})
    results, _ = run_autograder(root)
    assert results["score"] == 0
    assert [t["name"] for t in results["tests"]] == [t["name"] for t in solution_run[0]["tests"]]
    assert sum(t["max_score"] for t in results["tests"]) == TOTAL
    assert "No notebook was found" in results["output"] and "it held: README.md" in results["output"]
    assert "vae.ipynb at the top level of the repository" in results["output"]
    assert all(t["output"].startswith("Not graded") for t in results["tests"])


def test_visibility_is_set_in_config_in_one_place(built_zip, tmp_path):
    """Does changing config.DEFAULT_VISIBILITY alone change every test's visibility in results.json?"""
    root = layout(tmp_path, built_zip)
    path = root / "source" / "autograder" / "config.py"
    text = path.read_text()
    assert text.count('DEFAULT_VISIBILITY = "visible"') == 1
    path.write_text(text.replace('DEFAULT_VISIBILITY = "visible"', 'DEFAULT_VISIBILITY = "after_due_date"'))
    results, _ = run_autograder(root)
    assert {t["visibility"] for t in results["tests"]} == {"after_due_date"}


def test_grader_crash_gives_a_visible_failed_test_and_the_traceback_to_staff_only(built_zip, tmp_path):
    """Does a grader that crashes (here: a broken grader module) still yield a valid results.json:
    score 0, a visible failed "Autograder failed" test, and the traceback in stdout only?"""
    root = layout(tmp_path, built_zip, {"vae.ipynb": SOLUTION})
    (root / "source" / "autograder" / "assignments" / "vae" / "graders" / "grade_encoder.py").write_text("def broken(:\n")
    results, stdout = run_autograder(root)
    assert results["score"] == 0
    assert results["tests"] == [{"name": "Autograder failed", "score": 0.0, "max_score": 0.0, "status": "failed",
                                 "output": results["output"], "visibility": "visible",
                                 "tags": ["autograder.failed"]}]
    assert "Traceback" in stdout and "SpecError: vae: grader grade_encoder.py does not parse" in stdout
    assert "Traceback" not in json.dumps(results)


def test_a_grader_that_dies_still_leaves_a_result(built_zip, tmp_path):
    """When the grading process dies without writing anything, does run_autograder write the failure itself?"""
    root = layout(tmp_path, built_zip, {"vae.ipynb": SOLUTION})
    results, stdout = run_autograder(root, AUTOGRADER_PYTHON="/bin/false")
    assert results["score"] == 0 and [t["name"] for t in results["tests"]] == ["Autograder failed"]
    assert results["tests"][0]["status"] == "failed" and results["tests"][0]["visibility"] == "visible"
    assert "exit status 1" in results["output"] and "writing a score-0 result" in stdout


def test_time_limit_keeps_what_was_graded_and_kills_the_child(built_zip, tmp_path):
    """When grading's time runs out mid-way (an encoder that never returns, a short time limit), is the
    running child killed, does every test that could not run say "grading ran out of time", and do the
    tests that need no time (the figures) keep their points, in a valid result?"""
    notebook = SOLUTION.read_text()
    assert notebook.count('"        hidden = F.relu(self.linear1(x))\\n",') == 1
    hanging = tmp_path / "hanging.ipynb"
    hanging.write_text(notebook.replace('"        hidden = F.relu(self.linear1(x))\\n",', '"        while True: pass\\n",'))
    root = layout(tmp_path, built_zip, {"vae.ipynb": hanging})
    before = sandbox_children()
    results, stdout = run_autograder(root, AUTOGRADER_TIMEOUT="45")
    tests = {t["name"].split(":")[0]: [] for t in results["tests"]}
    for test in results["tests"]:
        tests[test["name"].split(":")[0]].append(test)
    assert "Autograder failed" not in tests, stdout
    assert all("grading ran out of time" in t["output"] and t["score"] == 0 for t in tests["encoder"]), stdout
    for group in spec.METHODS[1:] + ("training",):
        assert all(t["output"].startswith("not run: grading ran out of time") for t in tests[group]), tests[group]
    assert all(t["score"] == t["max_score"] for t in tests["figures"]), tests["figures"]
    assert results["score"] == sum(test.points for key, test in spec.TESTS.items() if key.startswith("figures."))
    assert sandbox_children() - before == set()


# ---------------------------------------------------------------------------------------------
# Choosing the file to grade, the leaderboard, the format


def _tree(base: Path, files: dict) -> Path:
    folder = base / "submission"
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)
    folder.mkdir(exist_ok=True)
    return folder


NOTEBOOK = SOLUTION.read_text()
NO_VAE = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.mark.parametrize("files, graded, note", [
    ({"vae.ipynb": NOTEBOOK, "vae_utils.py": ""}, "vae.ipynb", ""),
    ({"vae.ipynb": NO_VAE, "mine.ipynb": NOTEBOOK}, "vae.ipynb", "it is named vae.ipynb. Also submitted, "
                                                                  "not graded: mine.ipynb."),
    ({"hw/vae.ipynb": NOTEBOOK, "hw/.ipynb_checkpoints/vae-checkpoint.ipynb": NOTEBOOK}, "hw/vae.ipynb",
     "it is named vae.ipynb."),
    ({"draft.ipynb": NO_VAE, "final.ipynb": NOTEBOOK, "vae.py": "class VAE: pass"}, "final.ipynb",
     "it is the only notebook that defines class VAE"),
    ({"vae.py": "class VAE: pass", "vae_utils.py": ""}, "vae.py", "it is the only Python file"),
])
def test_the_file_to_grade_is_chosen_sensibly(tmp_path, files, graded, note):
    """Is vae.ipynb graded when present, else the notebook that defines VAE, with a note when it guessed?"""
    choice = gradescope.find_submission(_tree(tmp_path, files), PART1)
    assert choice.path == tmp_path / "submission" / graded
    assert note in choice.note and bool(note) == bool(choice.note)


def test_nothing_to_grade_says_what_to_upload(tmp_path):
    """Is an empty submission, or one of only vae_utils.py, left ungraded with a message naming vae.ipynb?"""
    for files in ({}, {"vae_utils.py": ""}):
        choice = gradescope.find_submission(_tree(tmp_path, files), PART1)
        assert choice.path is None and "upload vae.ipynb" in choice.note


def test_leaderboard_entries_only_for_finite_values():
    """Is the test ELBO put on the leaderboard, rounded, and left out when missing or not finite?"""
    columns = spec.LEADERBOARD
    assert harness.leaderboard({"test_elbo": -101.23456}, columns) == [
        {"name": "Test ELBO (nats)", "value": -101.23, "order": "desc"}]
    assert harness.leaderboard({"test_elbo": float("nan")}, columns) == harness.leaderboard({}, columns) == []
    assert "leaderboard" not in GradingResult([results_module.TestResult("a.b", "a: b", 1, 1)]).to_gradescope()


def test_crashed_result_fails_visibly_in_the_documented_format():
    """Is the crash result's only test visible and failed (not "passed" for 0 of 0 points), and valid?"""
    data = validate(GradingResult.crashed(1.5, "it ran out of time").to_gradescope())
    assert data["score"] == 0 and data["tests"][0]["status"] == "failed"
    assert data["tests"][0]["visibility"] == "visible" and "ran out of time" in data["output"]


def test_every_configured_visibility_is_one_gradescope_knows():
    """Is every test's visibility in config one of Gradescope's four?"""
    assert config.DEFAULT_VISIBILITY in config.VISIBILITIES
    assert {test.visibility for test in spec.TESTS.values()} <= set(config.VISIBILITIES)
    assert set(config.VISIBILITIES) == set(SCHEMA["$defs"]["visibility"]["enum"])


@pytest.mark.parametrize("bad", [
    {"tests": [{"name": "no score anywhere"}]},
    {"score": 1, "tests": [{"score": 1, "status": "ok"}]},
    {"score": 1, "tests": [{"score": 1, "visibilty": "hidden"}]},
    {"score": 1, "stdout_visibility": "staff"},
    {"score": 1, "leaderboard": [{"name": "ELBO", "value": 1, "order": "descending"}]},
])
def test_schema_rejects_what_gradescope_does_not_document(bad):
    """Does the schema reject a missing score, an unknown status, a misspelt key and a bad enum value?"""
    with pytest.raises(jsonschema.ValidationError):
        validate(bad)


def test_setup_permissions_hide_the_kit_but_not_the_venv_or_data(tmp_path):
    """Does setup.sh's permissions step make the kit root-only and leave the venv and MNIST readable?"""
    root = tmp_path / "autograder"
    source, venv, data = root / "source", root / "venv", root / "data"
    for folder in (source / "autograder", venv / "lib", data / "MNIST" / "raw"):
        folder.mkdir(parents=True)
    shutil.copy(ROOT / "gradescope" / "setup.sh", source / "setup.sh")
    for path in (source / "autograder" / "config.py", venv / "lib" / "torch.py", data / "MNIST" / "raw" / "x.gz"):
        path.write_text("")
        path.chmod(0o600)
    environment = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_VENV": str(venv), "MNIST_ROOT": str(data)}
    subprocess.run(["bash", str(source / "setup.sh"), "permissions"], env=environment, check=True,
                   capture_output=True)
    assert (source.stat().st_mode & 0o077) == 0
    assert ((source / "autograder" / "config.py").stat().st_mode & 0o077) == 0
    assert ((venv / "lib" / "torch.py").stat().st_mode & 0o004) and ((venv / "lib").stat().st_mode & 0o005) == 0o005
    assert (data / "MNIST" / "raw" / "x.gz").stat().st_mode & 0o004
