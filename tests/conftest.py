"""Shared fixtures of the kit's tests.

MNIST comes from ``$MNIST_ROOT`` (CI: ``../shared/data``); nothing here touches the network.
"""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# One thread per process: pytest-xdist already runs one worker per core, and the notebook kernels, scripts and
# gradings these tests start inherit this. With torch's default (one thread per core) in two busy workers, the
# threads spin against each other: the same 200 training steps of a small MLP took 28 s instead of 0.5 s.
for _threads in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

from autograder import config  # noqa: E402
from autograder.processes import forking  # noqa: E402
from autograder.assignments.vae import spec  # noqa: E402
from autograder.core.assignment import load  # noqa: E402
from autograder.harness import harness  # noqa: E402
from autograder.notebook.submission import load_submission  # noqa: E402

#: Part 1, the assignment most tests grade.
PART1 = load("vae")

SOLUTION = ROOT / "solution" / "vae.ipynb"
SCHEMA = json.loads((ROOT / "gradescope" / "results.schema.json").read_text())
MNIST = config.mnist_root()  # $MNIST_ROOT (CI: ../shared/data), the one place the kit reads it
TEMPLATE = ROOT / "student_template" / "vae.ipynb"
METHOD_GROUPS = spec.METHODS


def pytest_configure(config):
    root = MNIST
    if not (root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz").exists():
        raise pytest.UsageError(f"MNIST not found under {root}/MNIST/raw: set MNIST_ROOT (CI: ../shared/data)")


#: Tests that need the digit classifier start after this share of the others: by then the controller has trained
#: it (:func:`pytest_sessionstart`, about half a minute), and no worker waits for it.
CLASSIFIER_AFTER = 0.5


def pytest_collection_modifyitems(config, items):
    """The tests that need the digit classifier move after the first half of the others (their order kept, the
    same in every worker); tests marked ``root`` are skipped, with the reason, when not running as root."""
    def reads_classifier(item) -> bool:  # asks for the fixture, or is marked as reading it otherwise
        return "classifier_file" in getattr(item, "fixturenames", ()) or item.get_closest_marker("classifier")

    needs = [item for item in items if reads_classifier(item)]
    others = [item for item in items if not reads_classifier(item)]
    start = int(len(others) * CLASSIFIER_AFTER)
    items[:] = others[:start] + needs + others[start:]
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root: the sandbox's uid drop and namespaces are off without it (README)")
    for item in items:
        if item.get_closest_marker("root"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def reference_source() -> str:
    """The solution's VAE cell, as a .py submission would hold it."""
    return load_submission(SOLUTION, PART1).source


def mutate(source: str, old: str, new: str) -> str:
    """``source`` with the one occurrence of ``old`` replaced by ``new`` (fails loudly if absent)."""
    assert source.count(old) == 1, f"expected exactly one {old!r} in the reference source"
    return source.replace(old, new)


#: This worker's fork server and kept trusted results, shared by the gradings of grade_text (the kit's own mutants).
GRADINGS = forking.LastingServer()


@pytest.fixture(scope="session", autouse=True)
def _gradings_stop():
    """Stop this worker's shared fork server at the end of the session."""
    yield
    GRADINGS.close()


def grade_text(tmp_path: Path, source: str, groups=METHOD_GROUPS, name: str = "submission.py", seed: int = 0,
               assignment: str = "vae", shared: bool = True):
    """Grade ``source`` written to ``tmp_path/name`` as ``assignment``; returns {key: TestResult} and the
    GradingResult.

    ``shared``: fork its children from this worker's one fork server, with the trusted children's results of the
    earlier gradings (:class:`autograder.processes.forking.LastingServer`; the source is the kit's own code); False
    for a test of the fork server itself or of code that attacks it, which then gets a server of its own."""
    path = tmp_path / name
    path.write_text(source)
    with GRADINGS.sharing() if shared else contextlib.nullcontext():
        result = harness.grade(path, seed=seed, groups=groups, assignment=assignment)
    return {t.key: t for t in result.tests}, result


def lost_groups(tests: dict) -> set:
    """The groups in which a graded submission lost points."""
    return {t.group for t in tests.values() if t.score < t.max_score}


# ---------------------------------------------------------------------------------------------
# Gradescope's /autograder, for the tests that run the built zip as Gradescope does


def validate(results: dict) -> dict:
    """Fail unless ``results`` follows Gradescope's documented format; returns it."""
    jsonschema.validate(results, SCHEMA, cls=jsonschema.Draft202012Validator)
    return results


@pytest.fixture(scope="session")
def built_zip(tmp_path_factory) -> Path:
    """``make autograder``'s archive, built once per test session (per worker under xdist)."""
    out = tmp_path_factory.mktemp("build") / "autograder.zip"
    subprocess.run([sys.executable, "-m", "autograder", "package", "--assignment", "vae", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    return out


def layout(base: Path, built_zip: Path, files: dict = None, metadata: dict = None) -> Path:
    """A Gradescope /autograder under ``base``: the zip in source/, run_autograder copied to the root
    (as Gradescope's image build does), ``files`` ({name: path or text}) in submission/."""
    root = base / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(built_zip) as archive:
        for info in archive.infolist():
            target = root / "source" / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            target.chmod((info.external_attr >> 16) & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    for name, content in (files or {}).items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, target)
        else:
            target.write_text(content)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    return root


def run_autograder(root: Path, **env):
    """Run ``root/run_autograder`` as Gradescope does (working directory: the root); returns
    ``(results.json as a dict, stdout)``. The results are validated against the schema."""
    environment = {"PATH": os.environ["PATH"], "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
                   "MNIST_ROOT": str(MNIST), **env}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=environment, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    return validate(results), done.stdout


# ---------------------------------------------------------------------------------------------
# Part 2's digit classifier, trained once (29 CPU-s) into build/ and shared by the workers


CLASSIFIER = ROOT / "build" / "classifier" / "digits-cnn.npz"


def train_classifier_once() -> None:
    """Train ``build/classifier/digits-cnn.npz`` on one thread, under a lock, unless a valid one is there."""
    import fcntl

    import digit_classifier

    CLASSIFIER.parent.mkdir(parents=True, exist_ok=True)
    with open(CLASSIFIER.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            digit_classifier.load(CLASSIFIER)
        except digit_classifier.ClassifierFileError:
            import torch

            torch.set_num_threads(1)
            digit_classifier.save(digit_classifier.train(MNIST, "cnn", 0), path=CLASSIFIER)


#: The controller's background training of the classifier (see :func:`pytest_sessionstart`), or None.
_TRAINING = []


def pytest_sessionstart(session):
    """In the controller of a run on several workers, with no classifier given and none trained yet, start training
    it in a process of its own: its half a minute of CPU then overlaps the workers' tests, and a worker that needs
    it waits on its lock while the other two processes keep both cores busy (trained in a worker's fixture, the
    other worker sat idle on the lock meanwhile)."""
    if hasattr(session.config, "workerinput") or not session.config.getoption("numprocesses", None) \
            or os.environ.get("VAE_KIT_CLASSIFIER"):
        return
    import digit_classifier

    try:
        digit_classifier.load(CLASSIFIER)
    except digit_classifier.ClassifierFileError:
        _TRAINING.append(subprocess.Popen([sys.executable, "-c", "import conftest; conftest.train_classifier_once()"],
                                          cwd=Path(__file__).parent))


def pytest_sessionfinish(session):
    """Wait for the controller's background training, when it started one (the file it writes is kept)."""
    for process in _TRAINING:
        process.wait()


@pytest.fixture(scope="session")
def classifier_file() -> Path:
    """The digit classifier the quality checks read (``$VAE_KIT_CLASSIFIER``, which the graders inherit):
    ``build/classifier/digits-cnn.npz``, trained here under a lock when missing (never next to the shared data),
    or waited for while the controller trains it (:func:`pytest_sessionstart`)."""
    train_classifier_once()
    os.environ["VAE_KIT_CLASSIFIER"] = str(CLASSIFIER)
    return CLASSIFIER


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (Debian's, driven by Playwright) for the page and PDF tests; skipped when missing, but
    failing in CI (``CI`` set), where the browser tests must run."""
    from autograder.classtools.browser import available, chromium

    missing = available()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests must run in CI: {missing}")
        pytest.skip(missing)
    with chromium() as opened:
        yield opened
