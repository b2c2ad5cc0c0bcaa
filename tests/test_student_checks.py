"""The notebook's checks (``check("encoder", VAE)`` after the class): the grader's tests and messages in the
student's kernel, on data that ``make student`` builds (autograder/sandbox/vae_check.py, autograder/deploy/checks.py).
Their agreement with the grader on every corpus case is tested with the corpus (tests/test_corpus.py)."""
import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from conftest import MNIST, ROOT

from autograder.core.assignment import load
from autograder.deploy import checks
from autograder.harness.harness import grade
from autograder.notebook.submission import load_submission
from autograder.sandbox import vae_check

sys.path.insert(0, str(ROOT / "scripts"))
import check_agreement  # noqa: E402

CHECKED = [load(name) for name in checks.CHECKED]


def _verdicts(path, assignment):
    data = check_agreement.load_data(assignment)
    return check_agreement.check_verdicts(path, assignment, list(assignment.methods), data)


@pytest.mark.parametrize("assignment", CHECKED, ids=lambda a: a.name)
def test_check_data_is_what_make_student_builds(assignment):
    """Is each checks_<name>.npz what `make student` builds from the reference now (cases, reference outputs,
    expectations), and are the notebooks' folders linked to it and to the kit's vae_check.py?"""
    kept = checks.stored(checks.data_path(assignment))
    assert checks.same(checks.build(assignment, MNIST), kept), "run `make student`"
    for folder in (assignment.template_notebook.parent, assignment.solution_notebook.parent):
        assert (folder / "vae_check.py").resolve() == checks.MODULE
        assert (folder / checks.data_path(assignment).name).resolve() == checks.data_path(assignment).resolve()


@pytest.mark.parametrize("assignment", CHECKED, ids=lambda a: a.name)
def test_data_holds_no_grader_case_and_no_reference_code(assignment):
    """Are the checks' inputs other draws than the grader's own (a submission that looked its answers up in the data
    would fail the grader), and is the data arrays and JSON only, with no code?"""
    meta, arrays = checks.stored(checks.data_path(assignment))
    for method, spec in meta["methods"].items():
        probe = assignment.probes[spec["probe"]]
        for mine, graders in zip(spec["rounds"][0], probe.cases(MNIST)):
            drawn = [k for k, a in graders.arrays.items() if a.dtype.kind == "f"]
            if drawn:  # the weights or inputs of every case with float arrays differ from the grader's
                assert any(arrays[mine["arrays"][k]].shape != graders.arrays[k].shape
                           or not (arrays[mine["arrays"][k]].astype("float32") == graders.arrays[k]).all()
                           for k in drawn), (method, mine["name"])
    assert all(a.dtype.kind in "fiub" for a in arrays.values())


@pytest.mark.parametrize("assignment", CHECKED, ids=lambda a: a.name)
def test_checks_pass_on_the_solution(assignment):
    """Does every check of every method pass on the solution notebook?"""
    verdicts = _verdicts(assignment.solution_notebook, assignment)
    grader_only = {k for m in check_agreement.load_data(assignment).meta["methods"].values() for k in m["grader_only"]}
    assert verdicts and all(passed or key in grader_only for key, passed in verdicts.items()), verdicts
    assert all(verdicts[key] is None for key in grader_only)


@pytest.mark.parametrize("assignment", CHECKED, ids=lambda a: a.name)
def test_template_checks_fail_with_the_graders_messages(assignment):
    """On the template, does each check fail with exactly the message the grader gives that test (the method's
    NotImplementedError named, where in the student's code, and the hint), and does a check whose method runs
    another method that fails its own checks say so instead of judging?"""
    result = grade(assignment.template_notebook, root=MNIST, groups=list(assignment.methods), assignment=assignment)
    graders = {t.key: t.output for t in result.tests}
    data = check_agreement.load_data(assignment)
    classes = check_agreement.loaded_classes(assignment.template_notebook, assignment)
    assert [c.__name__ for c in classes] == list(assignment.classes)
    for method in assignment.methods:
        report = vae_check.run_check(data, method, classes)
        grader_only = data.meta["methods"][method]["grader_only"]
        if vae_check.NEEDS.get(assignment.name, {}).get(method):
            assert set(report.passed.values()) == {None} and "not checked yet" in report.note, method
            continue
        assert report.passed and {report.passed[k] for k in report.passed if k not in grader_only} == {False}, method
        for key, message in report.messages.items():
            if key in grader_only:
                assert report.passed[key] is None and message == grader_only[key]
                continue
            assert "raised NotImplementedError" in message and "Hint: replace `# YOUR CODE HERE`" in message
            assert message == graders[key], key


#: A sample of each corpus's bugs, whose checks must name the mistake (every bug is compared in tests/test_corpus.py).
NAMED = {"vae": ("kl_logvar", "encoder_half_logvar", "decoder_logits", "elbo_no_kl", "reparam_variance",
                 "sample_threshold", "kl_distributions"),
         "vae2d": ("encoder_logvar_halved", "loss_kl_no_half", "loss_sample_unused", "grid_endpoint_excluded",
                   "interp_reversed", "pairs_same_image", "reparam_logvar_as_logsigma", "v_loss_bce_arguments_swapped"),
         "cvae": ("conv1_stride_1", "encoder_heads_swapped", "decoder_no_sigmoid", "loss_kl_no_half",
                  "cond_encoder_planes_first", "cond_decoder_onehot_first", "sample_uniform", "generate_repeat")}


@pytest.mark.parametrize("assignment", CHECKED, ids=lambda a: a.name)
def test_checks_name_the_mistake_of_corpus_bugs(assignment):
    """On a sample of the corpus's bugs, does the check of the buggy method fail and say what the grader's
    message says of the mistake (the bug's `# message:`)?"""
    data = check_agreement.load_data(assignment)
    cases = {c.name: c for c in check_agreement.grade_corpus.load_cases("", assignment)}
    for name in NAMED[assignment.name]:
        case = cases[name]
        report = check_agreement.check_reports(case.path, assignment, [case.method], data)[case.method]
        assert False in report.passed.values(), name
        said = "\n".join(report.messages.values())
        assert case.message in said, (name, case.message, said)


def test_the_grader_ignores_check_cells(tmp_path):
    """Is what the grader runs of a notebook, or of its .py export, the same with the check cells deleted, edited
    to raise, or as handed out (none of them is graded)?"""
    assignment = load("vae")
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    sources = {}
    for variant in ("as handed out", "deleted", "edited"):
        copy = nbformat.from_dict(json.loads(json.dumps(nb)))
        if variant == "deleted":
            copy.cells = [c for c in copy.cells if "check(" not in c.source and "vae_check" not in c.source]
        if variant == "edited":
            for cell in copy.cells:
                if cell.source.startswith("check("):
                    cell.source = "check = None\nraise SystemExit('no checks')"
        path = tmp_path / f"{variant}.ipynb"
        nbformat.write(copy, path)
        sources[variant] = load_submission(path, assignment).source
        script = tmp_path / f"{variant}.py"  # its export: the grader runs the classes and what they read
        script.write_text("\n\n".join(c.source for c in copy.cells if c.cell_type == "code"))
        assert "check(" not in load_submission(script, assignment).source
    assert len(set(sources.values())) == 1 and "vae_check" not in sources["as handed out"]


def _fresh_notebook(assignment, notebook, folder):
    """The notebook's first cell, its class cell(s) and its check cells, in ``folder`` with only the files the
    notebook names (vae_utils.py, vae_check.py, checks_<name>.npz), plus a cell that fails if the autograder
    package can be imported there."""
    for name in ("vae_utils.py", "vae_check.py", checks.data_path(assignment).name):
        shutil.copyfile((assignment.template_notebook.parent / name).resolve(), folder / name)
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    kept = [code[0]] + [c for c in code if any(f"class {k}" in c.source for k in assignment.classes)
                        or "check" in c.source]
    probe = nbformat.v4.new_code_cell("import importlib.util\nassert importlib.util.find_spec('autograder') is None")
    nb.cells = [kept[0], probe] + kept[1:]
    path = folder / notebook.name
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("assignment", CHECKED, ids=lambda a: a.name)
def test_checks_run_in_a_fresh_folder_with_only_the_named_files(assignment, tmp_path):
    """In a fresh folder holding only the files the notebook names, with the kit out of reach, do the solution's
    check cells all pass, and (Part 1) does the template's first check fail with NotImplementedError named?"""
    from nbclient import NotebookClient

    runs = [("solution", assignment.solution_notebook)]
    if assignment.name == "vae":  # every template's messages are compared with the grader's in-process (above)
        runs.append(("template", assignment.template_notebook))
    for kind, notebook in runs:
        folder = tmp_path / kind
        folder.mkdir()
        path = _fresh_notebook(assignment, notebook, folder)
        nb = nbformat.read(path, as_version=4)
        env_path = {"PYTHONPATH": "", "MNIST_ROOT": str(MNIST)}
        client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=kind == "template",
                                resources={"metadata": {"path": str(folder)}})
        import os

        saved = {k: os.environ.get(k) for k in env_path}
        os.environ.update(env_path)
        try:
            client.execute()
        finally:
            for k, v in saved.items():
                os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
        outputs = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells if c.source.startswith("check(")]
        assert len(outputs) == len(assignment.methods)
        if kind == "solution":  # their times are scripts/check_times.py's figures, not a test's
            assert all("✗" not in o and "not checked yet" not in o and "checks passed" in o for o in outputs), outputs
        else:
            assert "raised NotImplementedError" in outputs[0] and "checks passed: 0 of" in outputs[0], outputs[0]


def test_a_check_without_its_data_says_where_to_put_it(tmp_path):
    """Does a check with no data file beside the notebook say which file to put where, rather than fail oddly?"""
    class VAE:
        pass

    with pytest.raises(FileNotFoundError, match="checks_<name>.npz"):
        vae_check.find_data([VAE], tmp_path)


def test_check_agreement_runs(tmp_path):
    """Does `make check-agreement` print its table and agree on one of Part 1's corpus cases?"""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_agreement.py"), "--assignment", "vae",
                          "--only", "kl_sign", "--jobs", "1"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith("| `vae`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert int(cells[2]) > 0 and cells[2] == cells[3] and cells[4] == cells[5] == "0", row


def test_children_get_the_probes_helpers_and_no_judge():
    """Does the children's copy of vae_check.py hold exactly the probes' helpers (CHILD_API), and none of the judges
    or of the checks' stand-ins for the reference, which hold graded formulas (tests/hostile/vae/call_check_judges.py
    tries to use them)?"""
    import ast

    from autograder.processes.runtime import child_source

    tree = ast.parse(child_source(checks.MODULE))
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert defined == set(vae_check.CHILD_API)
    namespace = {}
    exec(compile(ast.unparse(tree), "vae_check.py", "exec"), namespace)  # noqa: S102 - the kit's own module
    for name in ("_reparameterize", "own_pieces", "cvae_terms", "_kl_mistakes", "vae_encoder_values", "JUDGES",
                 "RUNNERS", "check"):
        assert name not in namespace and hasattr(vae_check, name), name
