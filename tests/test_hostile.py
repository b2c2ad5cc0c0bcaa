"""Hostile and broken submissions, in a folder per assignment (``tests/hostile/<name>/*.py``, every assignment
of :func:`autograder.core.assignment.names`): the grader survives each, and none scores.

Each fixture's header says what it attacks, what stops it, which groups are graded, which groups or tests
must get 0 (``zero``), which must keep full marks (``full``: the rest of grading still works) and a message
(a regular expression) that shows the defence, not something else, stopped it. Each is graded with
``python -m autograder grade --assignment NAME`` (its folder's name), run from a private copy of the kit (mode
700) whose solutions, graders and references carry a canary string,
and the test asserts:
a valid results.json, the expected scores, no canary in it, no change to the kit's copy, a sentinel folder or
the results folder, no file of a sandbox uid left in the shared temporary folders, and no process left behind.
Part 2's twin of a Part 1 fixture has its stem, or names it in its ``twin`` header; Part 3 has twins of most of
them (not of every one), each attack placed in the method that plays its Part 2 twin's role.
"""
import dataclasses
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, grade_text, layout, mutate, run_autograder

from autograder import config
from autograder.assignments.vae import cases
from autograder.assignments.vae2d import cases as cases2
from autograder.core.assignment import all_assignments, load
from autograder.core.cases import ChildFailure
from autograder.deploy import package
from autograder.harness import harness
from autograder.notebook.submission import load_submission
from autograder.processes import forking, isolation, messages, outputs, runner
from autograder.processes.runtime import runtime

PART1, PART2 = load("vae"), load("vae2d")
HOSTILE = Path(__file__).resolve().parent / "hostile"
#: Each assignment's fixtures, in the folder named after it, graded as that assignment.
FIXTURES_OF = {a.name: sorted((HOSTILE / a.name).glob("*.py")) for a in all_assignments()}
ALL_FIXTURES = [f for fixtures in FIXTURES_OF.values() for f in fixtures]
#: The engine's attacks run in ``make test`` through the assignment that grades fastest (the same engine code
#: defends every assignment); the other assignments' twins of them are ``extended``.
ENGINE_HOME = min(all_assignments(), key=lambda a: (a.training_cpu_seconds, a.name)).name
GRADESCOPE_KEYS = {"score", "max_score", "execution_time", "output", "stdout_visibility", "tests", "extra_data"}
#: Groups whose grading trains a model and judges it with the digit classifier (Parts 2 and 3).
CLASSIFIER_GROUPS = {"training", "quality", "generation"}
TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility", "tags"}
#: Generous bound on one grading, so a failed defence fails the test instead of hanging it.
OVERALL_TIMEOUT = 600
CONFTEST_MARKER = Path("/tmp/vaekit-hostile-conftest-was-loaded")


def header(path: Path) -> dict:
    """The ``# key: value`` lines at the top of a fixture."""
    found = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[1:].partition(":")
        key = key.strip().replace(" ", "_")
        if sep and key.isidentifier():
            found[key] = value.strip()
    return found


def split(value: str | None) -> list:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def assignment_of(fixture: Path):
    """The assignment a fixture is graded as: the one its folder is named after."""
    return load(fixture.parent.name)


def fixture_id(fixture: Path) -> str:
    """The fixture's assignment and stem ("vae-os_exit", "cvae-os_exit")."""
    return f"{fixture.parent.name}-{fixture.stem}"


#: Attacks on the engine alone (the sandbox, the runner, the harness): the same code defends every assignment, so
#: their twins outside :data:`ENGINE_HOME` are marked ``extended`` (``make test-all`` runs them).
#: Twins of attacks on what an assignment brings (its probes, reference pieces, expected values, training) run
#: in ``make test``.
ENGINE_ATTACKS = frozenset({
    "allocate_memory", "background_process", "child_processes", "conftest_beside", "fake_pytest_summary",
    "fake_results_json", "fill_disk", "fork_bomb", "ignore_sigterm", "kill_process_group", "loop_forever",
    "lying_info", "lying_object", "monkeypatch_builtins", "monkeypatch_numpy", "monkeypatch_pytest", "network",
    "os_exit", "overwrite_results", "print_megabytes", "sleep_forever", "sys_exit", "tamper_grader",
    "tensor_subclass"})


def params(fixtures) -> list:
    """pytest params of ``fixtures``, marked ``root`` when their header says they need it, ``classifier`` when they
    grade a group that reads the digit classifier, and ``extended`` when they are another assignment's twin of an
    attack on the engine alone (:data:`ENGINE_ATTACKS`)."""
    def marks(f):
        found = [pytest.mark.root] if header(f).get("needs") == "root" else []
        found += [pytest.mark.classifier] if CLASSIFIER_GROUPS & set(split(header(f).get("groups"))) else []
        return found + ([pytest.mark.extended] if f.parent.name != ENGINE_HOME and f.stem in ENGINE_ATTACKS else [])

    return [pytest.param(f, marks=marks(f), id=fixture_id(f)) for f in fixtures]


def snapshot(folder: Path) -> dict:
    """{relative path: (mode, size, content hash or link target)} of everything under ``folder``."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        if stat.S_ISREG(info.st_mode):
            content = hash(path.read_bytes())
        elif stat.S_ISLNK(info.st_mode):
            content = os.readlink(path)
        else:
            content = None
        found[str(path.relative_to(folder))] = (info.st_mode, info.st_uid, info.st_size if content else 0, content)
    return found


def live_scratch(path: str) -> bool:
    """Is ``path`` the mounted scratch folder of a probe running right now (another grader's)?"""
    return path.endswith("/scratch") and Path(path).parent.name.startswith("vae-kit-") and os.path.ismount(path)


def sandbox_files() -> list:
    """Files owned by a sandbox uid in the shared temporary folders.

    Not walked: the interpreter's venv, and scratch folders still mounted by graders running beside this test.
    """
    uids, found = set(config.LIMITS.sandbox_uids), []
    for top in isolation.SHARED_WRITABLE:
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if os.path.join(folder, d) != sys.prefix
                       and not live_scratch(os.path.join(folder, d))]
            for name in dirs + files:
                try:
                    if os.lstat(os.path.join(folder, name)).st_uid in uids:
                        found.append(os.path.join(folder, name))
                except OSError:
                    pass
    return found


def leftovers(before: set) -> list:
    """New live descendants of this process.

    This process is a subreaper and so is the grader, so every process the grading started, including
    those that left their session or double-forked, stays below this one until it dies. (Processes of
    the sandbox uids in general are not counted: other graders may be running on the machine.)
    """
    table = isolation.processes()
    return sorted(pid for pid in isolation.descendants(os.getpid(), table)
                  if pid not in before and table[pid]["state"] != "Z")


#: Files of the kit's copy that get the canary: per assignment, graders and its reference; then its solution.
CANARIED = {"vae": ("graders/grade_decoder.py", "graders/grade_elbo.py"),
            "vae2d": ("graders/grade_decoder.py", "graders/grade_loss.py", "reference.py"),
            "cvae": ("graders/grade_conv_decoder.py", "graders/_methods.py", "reference.py")}


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A private copy of the kit (folders mode 700) to grade from, with a canary in each part's solution, graders
    and (Parts 2 and 3) reference."""
    base = tmp_path_factory.mktemp("kit")
    canary = f"vaekit-canary-{uuid.uuid4().hex}"
    shutil.copytree(ROOT / "autograder", base / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solution", base / "solution")
    shutil.copytree(ROOT / "tests", base / "tests", ignore=shutil.ignore_patterns("__pycache__", "hostile"))
    for helper in ("vae_utils.py", "digit_classifier.py"):
        shutil.copy(ROOT / helper, base / helper)
    for part, files in CANARIED.items():
        for name in files:
            with open(base / "autograder" / "assignments" / part / name, "a") as f:
                f.write(f"\n# {canary}\n")
    for part in all_assignments():
        notebook = json.loads((base / "solution" / part.notebook).read_text())
        for cell in [c for c in notebook["cells"] if c["cell_type"] == "code"
                     and any(f"class {name}(" in "".join(c["source"]) for name in part.classes)]:
            cell["source"] = "".join(cell["source"]) + f"\n# {canary}\n"
        (base / "solution" / part.notebook).write_text(json.dumps(notebook))
    for folder in [base, *[p for p in base.rglob("*") if p.is_dir()]]:
        os.chmod(folder, 0o700)
    return base, canary


@pytest.fixture(scope="module", autouse=True)
def subreaper():
    """Make this process a subreaper, so orphans of the grader stay our descendants and are seen."""
    isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)


class Listener:
    """A TCP server on 127.0.0.1 that records every connection (the network fixture's target)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port, self.connections, self.running = self.sock.getsockname()[1], [], True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(conn.recv(100))
            conn.sendall(b"answer")
            conn.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


WRAPPER = """
import dataclasses, sys
sys.path.insert(0, {kit!r})
from autograder.assignments.{assignment} import spec
for key, test in list(spec.TESTS.items()):
    if {timeout!r} and key.split('.')[0] in {zero!r}:
        spec.TESTS[key] = dataclasses.replace(test, timeout={timeout!r})
from autograder.__main__ import main
sys.exit(main(['grade', {path!r}, '--results', {results!r}, '--groups', {groups!r}, '--assignment', {assignment!r}]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("fixture", params(ALL_FIXTURES))
def test_hostile_submission(fixture, kit, tmp_path, request):
    """Does this hostile submission get a valid results.json, no points where it attacks, and leave nothing behind?"""
    kit_root, canary = kit
    spec, part = header(fixture), assignment_of(fixture)
    assert {"attack", "stopped_by", "groups", "zero"} <= spec.keys(), spec
    groups, zero, full = split(spec["groups"]), split(spec["zero"]), split(spec.get("full"))
    if CLASSIFIER_GROUPS & set(groups):
        request.getfixturevalue("classifier_file")  # sets VAE_KIT_CLASSIFIER, which the grader inherits
    sentinel, results_dir, folder = tmp_path / "sentinel", tmp_path / "results", tmp_path / "submission"
    for path in (sentinel, sentinel / "open", results_dir, folder):
        path.mkdir()
    (sentinel / "keep.txt").write_text("do not touch")
    (sentinel / "open" / "writable.txt").write_text("world-writable, and still not the child's")
    os.chmod(sentinel / "open", 0o777)
    os.chmod(sentinel / "open" / "writable.txt", 0o666)
    for path in (tmp_path, sentinel, results_dir):
        os.chmod(path, 0o755)
    results = results_dir / "results.json"
    listener = Listener()
    source = fixture.read_text()
    for placeholder, value in (("@KIT@", kit_root), ("@RESULTS@", results), ("@SENTINEL@", sentinel / "open"),
                               ("@PORT@", listener.port)):
        source = source.replace(placeholder, str(value))
    (folder / "submission.py").write_text(source)
    for name in split(spec.get("beside")):
        shutil.copy(HOSTILE / "beside" / f"{name}.txt", folder / name)
    before = {"kit": snapshot(kit_root), "sentinel": snapshot(sentinel)}
    processes_before = isolation.descendants(os.getpid())
    zero_groups = sorted({z.split(".")[0] for z in zero})
    timeout = float(spec["timeout"]) if "timeout" in spec else None
    script = WRAPPER.format(kit=str(kit_root), timeout=timeout, zero=zero_groups, path=str(folder / "submission.py"),
                            results=str(results), groups=",".join(groups), assignment=part.name)
    try:
        run = subprocess.run([sys.executable, "-I", "-B", "-c", script], cwd=kit_root, capture_output=True,
                             timeout=OVERALL_TIMEOUT)
    finally:
        listener.close()
    staff = run.stdout.decode(errors="replace")[-3000:] + run.stderr.decode(errors="replace")[-3000:]
    assert run.returncode == 0, staff

    # A valid Gradescope results.json, written by the grader, that did not crash.
    data = json.loads(results.read_text())
    assert data.keys() == GRADESCOPE_KEYS, data.keys()
    assert data["extra_data"] == {"assignment": part.name}
    assert all(isinstance(data[k], (int, float)) for k in ("score", "max_score", "execution_time"))
    assert isinstance(data["output"], str) and data["stdout_visibility"] == "hidden"
    for test in data["tests"]:
        assert test.keys() == TEST_KEYS
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert test["status"] == ("passed" if test["score"] >= test["max_score"] else "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert "Autograder failed" not in [t["name"] for t in data["tests"]], staff
    assert data["score"] == sum(t["score"] for t in data["tests"])
    names = harness.names_of_tests(part)
    expected = [names[k] for k in part.tests if k.split(".")[0] in groups]
    assert [t["name"] for t in data["tests"]] == expected

    # No points where it attacks; full marks where it says so; the defence's message.
    by_name = {t["name"]: t for t in data["tests"]}
    attacked = [names[k] for k in part.tests if k in zero or k.split(".")[0] in zero]
    kept = [names[k] for k in part.tests if k in full or k.split(".")[0] in full]
    assert attacked
    for name in attacked:
        assert by_name[name]["score"] == 0 and by_name[name]["output"], (name, by_name[name]["output"])
    for name in kept:
        assert by_name[name]["score"] == by_name[name]["max_score"], (name, by_name[name]["output"], staff)
    if "message" in spec:
        outputs = "\n".join(by_name[name]["output"] for name in attacked)
        assert re.search(spec["message"], outputs), outputs

    # Nothing read, changed or left behind.
    assert canary not in results.read_text()
    assert sorted(p.name for p in results_dir.iterdir()) == ["results.json"]
    assert snapshot(kit_root) == before["kit"]
    assert snapshot(sentinel) == before["sentinel"]
    assert sandbox_files() == []
    assert leftovers(processes_before) == [], isolation.processes()
    assert listener.connections == []
    assert not CONFTEST_MARKER.exists()


#: Appended to the unpacked spec.py of the assignment, as a course would edit it: shorter timeouts for the attacked
#: groups.
COURSE_TIMEOUTS = """
import dataclasses as _dataclasses
for _key, _spec in list(TESTS.items()):
    if _key.split(".")[0] in {groups!r}:
        TESTS[_key] = _dataclasses.replace(_spec, timeout={timeout!r})
"""
DEADLINE_FIXTURES = [f for f in ALL_FIXTURES if "autograder_timeout" in header(f)]


@pytest.fixture(scope="module")
def zips(tmp_path_factory, classifier_file):
    """``make autograder``'s archive of an assignment (with the digit classifier it ships), built once per module:
    a function of the assignment's name."""
    built = {}

    def zip_of(name: str) -> Path:
        if name not in built:
            out = tmp_path_factory.mktemp(f"build-{name}") / "autograder.zip"
            built[name] = package.build(out, name, version_text="test")
        return built[name]
    return zip_of


@pytest.mark.slow
@pytest.mark.parametrize("fixture", params(DEADLINE_FIXTURES))
def test_hang_costs_only_its_method_under_run_autograder(fixture, tmp_path, zips):
    """Graded as Gradescope grades it, with a short AUTOGRADER_TIMEOUT, does a method that never returns
    cost only its own tests and the training run that calls it (and, in Part 2, the quality checks of what
    that run trains), in a valid results.json that keeps every other method's points?"""
    spec, part = header(fixture), assignment_of(fixture)
    zero = split(spec["zero"])
    root = layout(tmp_path, zips(part.name), {"submission.py": fixture.read_text()})
    with open(root / "source" / "autograder" / "assignments" / part.name / "spec.py", "a") as f:
        f.write(COURSE_TIMEOUTS.format(groups=zero, timeout=float(spec["timeout"])))
    results, stdout = run_autograder(root, AUTOGRADER_TIMEOUT=spec["autograder_timeout"])
    assert results["extra_data"] == {"assignment": part.name}
    groups = {}
    for test in results["tests"]:
        groups.setdefault(test["name"].split(":")[0], []).append(test)
    assert set(groups) == set(part.groups) - {"figures"}, stdout  # a .py file has no figures to grade
    assert set(split(spec["full"])) <= set(groups) - set(zero)
    for group in zero:
        assert all(t["score"] == 0 for t in groups[group]), groups[group]
    for group in set(groups) - set(zero):
        assert all(t["score"] == t["max_score"] for t in groups[group]), (groups[group], stdout)
    assert re.search(spec["message"], "\n".join(t["output"] for g in zero for t in groups[g])), stdout
    assert results["execution_time"] < float(spec["autograder_timeout"])


def _check_headers(fixtures, part) -> None:
    """Fail unless every fixture's header is complete, names groups of ``part`` and tests or groups among them."""
    for fixture in fixtures:
        spec = header(fixture)
        assert {"attack", "stopped_by", "groups", "zero"} <= spec.keys(), fixture
        groups = set(split(spec["groups"]))
        assert groups <= set(part.groups), fixture
        for entry in split(spec["zero"]) + split(spec.get("full")):
            assert entry.split(".")[0] in groups and (entry in groups or entry in part.tests), (fixture, entry)


#: The attacks Part 3's corpus must cover (it need not twin every Part 1 fixture).
PART3_ATTACKS = {"allocate_memory", "fake_results_json", "overwrite_results", "tamper_grader", "read_solution",
                 "monkeypatch_torch", "monkeypatch_numpy", "os_exit", "sys_exit", "sleep_forever", "fork_bomb",
                 "network", "tensor_subclass", "lying_info", "forge_expected_outputs", "read_reference_method",
                 "call_probe_helpers", "loop_in_loss", "call_check_judges"}
#: What an assignment's hostile corpus must hold besides its own attacks, by their (twins') stems: None for a
#: twin of every fixture of :data:`ENGINE_HOME`; an assignment not named here, its own 20 or more.
REQUIRED = {"vae2d": None, "cvae": PART3_ATTACKS}


def _attack(fixture: Path) -> str:
    """The attack a fixture plays: the stem of the twin its header names, else its own stem."""
    return header(fixture).get("twin", fixture.stem)


@pytest.mark.parametrize("assignment", all_assignments(), ids=lambda a: a.name)
def test_hostile_corpus_covers_the_threat_model(assignment):
    """Does the assignment's hostile corpus hold at least 20 fixtures, each with a complete header naming its
    groups, every attack it must cover (:data:`REQUIRED`), each run as root exactly where the same attack of
    another assignment is?"""
    fixtures = FIXTURES_OF[assignment.name]
    assert len(fixtures) >= 20
    _check_headers(fixtures, assignment)
    required = REQUIRED.get(assignment.name, set())
    required = {f.stem for f in FIXTURES_OF[ENGINE_HOME]} if required is None else required
    covered = {_attack(f) for f in fixtures} | {f.stem for f in fixtures}
    assert required <= covered, sorted(required - covered)
    for fixture in fixtures:
        for other in ALL_FIXTURES:
            if other.parent != fixture.parent and _attack(other) == _attack(fixture):
                assert header(other).get("needs") == header(fixture).get("needs"), (fixture, other)


READER = """
    def decoder(self, z):
        found = {}
        for path in %r:
            try:
                with open(path, "rb") as f:
                    found[path] = "read %%d bytes" %% len(f.read())
            except OSError as exc:
                found[path] = type(exc).__name__
        raise ValueError(repr(found))
"""


def secrets() -> list:
    """What no child may read: every assignment's solution, graders and reference, Part 1's oracle, any reference
    in the runtime, and the grader's memory and environment."""
    found = [runtime() / "reference.py", Path(f"/proc/{os.getpid()}/mem"), Path(f"/proc/{os.getpid()}/environ")]
    for part in all_assignments():
        found += [part.solution_notebook, *sorted(part.graders.glob("grade_*.py"))[:1], part.folder / "reference.py"]
    return found + [PART1.folder / "oracle.py"]


def read_in_child(source: str, part, decoder_cases) -> dict:
    """{path: what the decoder of ``source`` (the solution's class, its decoder replaced by one that opens every
    secret and the runtime's probes) found when it opened it, in a child of ``part``'s decoder probe}."""
    found = isolation.platform()
    assert found.uid_drop, found.summary()
    paths = [str(p) for p in secrets() + [runtime() / f"probes_{part.name}.py"]]
    source = source.replace("    def decoder(self, z):", READER % paths + "\n    def _unused(self, z):", 1)
    with pytest.raises(ChildFailure) as failure:
        runner.run_probe(source, "decoder", decoder_cases, "decoder", 120, assignment=part)
    return eval(str(failure.value).split("ValueError: ", 1)[1].splitlines()[0])


@pytest.mark.root
def test_child_cannot_read_the_solution_or_the_graders(reference_source):
    """Running as root, can a child read the solution, the graders, the reference pieces or the grader's memory?"""
    report = read_in_child(reference_source, PART1, cases.decoder())
    for path in secrets():
        assert report[str(path)] in ("PermissionError", "FileNotFoundError"), report
    assert report[str(runtime() / "probes_vae.py")].startswith("read"), report


@pytest.mark.root
def test_child_of_vae2d_cannot_read_the_solution_the_graders_or_the_reference():
    """Running as root, can a child of Part 2 read either part's solution, graders or reference, or the grader's
    memory? (It reads its own assignment's probes.)"""
    source = load_submission(ROOT / "solution" / PART2.notebook, PART2).source
    report = read_in_child(source, PART2, cases2.decoder())
    for path in secrets():
        assert report[str(path)] in ("PermissionError", "FileNotFoundError"), report
    assert report[str(runtime() / "probes_vae2d.py")].startswith("read"), report


MEMORY_PROBE = """
    def decoder(self, z):
        resource = __import__("resource")
        with open("/proc/self/oom_score_adj") as f:
            score = f.read().strip()
        with open("/proc/self/status") as f:
            size = [line.split()[1] for line in f if line.startswith("VmSize:")][0]
        raise ValueError(repr({"oom_score_adj": score, "as_limit": resource.getrlimit(resource.RLIMIT_AS)[0],
                               "vm_size": int(size) * 1024}))
"""


@pytest.mark.parametrize("forked", [True, False], ids=["fork-server", "spawn"])
def test_children_are_killed_first_and_capped_near_their_size(reference_source, forked):
    """Does every child that runs student code carry the out-of-memory score that makes the kernel kill it
    before the grader, and an address space capped at its size plus config.LIMITS.memory_mb?"""
    source = reference_source.replace("    def decoder(self, z):", MEMORY_PROBE + "\n    def _unused(self, z):", 1)
    with forking.fork_server(dataclasses.replace(config.LIMITS, fork_server=forked)):
        with pytest.raises(ChildFailure) as failure:
            runner.run_probe(source, "decoder", cases.decoder(), "decoder", 120, assignment=PART1)
    assert (forking.FALLBACK == "") == forked
    found = eval(str(failure.value).split("ValueError: ", 1)[1].splitlines()[0])
    assert found["oom_score_adj"] == "1000"
    budget = found["as_limit"] - found["vm_size"]
    assert 0 < budget <= config.LIMITS.memory_mb * 2**20, found


def _memory_cgroup_parent():
    """A memory cgroup folder (v1, or v2 with the memory controller) we may create children in, or None."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            folder = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
        elif controllers == "":
            folder = Path("/sys/fs/cgroup") / path.lstrip("/")
            control = folder / "cgroup.subtree_control"
            if not control.exists() or "memory" not in control.read_text().split():
                continue
        else:
            continue
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder
    return None


class MemoryCgroup:
    """A memory cgroup of ``limit_mb`` for one process tree: a stand-in for Gradescope's container."""

    def __init__(self, parent: Path, limit_mb: int):
        self.folder = parent / f"vaekit-test-{uuid.uuid4().hex[:8]}"
        self.folder.mkdir()
        limit = str(limit_mb * 2**20)
        v1 = (self.folder / "memory.limit_in_bytes").exists()
        (self.folder / ("memory.limit_in_bytes" if v1 else "memory.max")).write_text(limit)
        if v1 and (self.folder / "memory.memsw.limit_in_bytes").exists():
            (self.folder / "memory.memsw.limit_in_bytes").write_text(limit)
        elif not v1:
            (self.folder / "memory.swap.max").write_text("0")

    def enter(self):
        """A ``preexec_fn``: move the new process into this cgroup."""
        (self.folder / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self):
        for pid in (self.folder / "cgroup.procs").read_text().split():
            os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.2)
        self.folder.rmdir()


#: Grades with memory_mb far above the cgroup's limit, so that the cgroup's OOM killer acts, not RLIMIT_AS.
UNCAPPED = """
import dataclasses, sys
sys.path.insert(0, {kit!r})
from autograder import config
config.LIMITS = dataclasses.replace(config.LIMITS, memory_mb=8192, address_space_mb=16384)
from autograder.__main__ import main
sys.exit(main(['grade', {path!r}, '--results', {results!r}, '--groups', 'decoder,kl_divergence',
                '--assignment', 'vae']))
"""
HOARDER = """
    def decoder(self, z):
        blocks = []
        for _ in range(48):  # up to 3 GiB, 64 MiB at a time, every page touched
            blocks.append(torch.ones(16 * 2**20))
        return torch.sigmoid(self.linear4(F.relu(self.linear3(z))))
"""


@pytest.mark.slow
@pytest.mark.root
@pytest.mark.cgroup
def test_out_of_memory_under_a_container_limit_kills_the_child_not_the_grader(reference_source, tmp_path):
    """Under a real memory limit of 768 MB for the whole grading (Gradescope's default container), does a
    decoder that keeps allocating get killed itself, failing its own tests with "ran out of memory", while
    the grader survives and the KL keeps its points?"""
    parent = _memory_cgroup_parent()
    if parent is None:
        pytest.skip("no writable memory cgroup here (needs root and cgroup v1, or v2 with the memory controller)")
    source = reference_source.replace("    def decoder(self, z):", HOARDER + "\n    def _unused(self, z):", 1)
    (tmp_path / "submission.py").write_text(source)
    results = tmp_path / "results.json"
    script = UNCAPPED.format(kit=str(ROOT), path=str(tmp_path / "submission.py"), results=str(results))
    group = MemoryCgroup(parent, 768)
    try:
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=600, preexec_fn=group.enter)
    finally:
        group.remove()
    staff = run.stdout.decode(errors="replace")[-3000:] + run.stderr.decode(errors="replace")[-3000:]
    assert run.returncode == 0, staff
    tests = {t["name"].split(":")[0] + str(i): t for i, t in enumerate(json.loads(results.read_text())["tests"])}
    decoder = [t for k, t in tests.items() if k.startswith("decoder")]
    kl = [t for k, t in tests.items() if k.startswith("kl_divergence")]
    assert decoder and all(t["score"] == 0 and "ran out of memory" in t["output"] for t in decoder), (decoder, staff)
    assert kl and all(t["score"] == t["max_score"] for t in kl), (kl, staff)


@pytest.mark.root
def test_platform_features_here():
    """Does the sandbox use every isolation feature this machine offers (uid drop, namespaces, subreaper)?"""
    found = isolation.platform()
    assert found.uid_drop and found.mount_ns and found.net_ns and found.subreaper and found.tmpfs_scratch, \
        found.summary()


# ---------------------------------------------------------------------------------------------
# What the trusted process reads from a child's folder.

def npy(header_dict: str, body: bytes) -> bytes:
    """A version 1.0 .npy file with the given header dictionary and data, whatever they claim."""
    head = header_dict.encode().ljust(117) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + body


def write_npz(path: Path, members: dict) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def saved(array, **kwargs) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, **kwargs)
    return buffer.getvalue()


def test_outputs_are_parsed_as_plain_numbers(tmp_path):
    """Are pickles, object and structured dtypes, lying headers, zip bombs, more than 8 MB for one call and links
    refused?"""
    good = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_npz(tmp_path / "outputs.npz", {"0/theta.npy": saved(good)})
    out = outputs._read_outputs(tmp_path, 1)
    assert type(out[0]["theta"]) is np.ndarray and np.array_equal(out[0]["theta"], good)
    bad = {
        "pickle": saved(np.array([object()], dtype=object), allow_pickle=True),
        "structured": saved(np.zeros(3, dtype=[("a", "f4")])),
        "strings": saved(np.array(["a"])),
        "lying header": npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", bytes(80)),
    }
    for what, data in bad.items():
        write_npz(tmp_path / "outputs.npz", {"0/theta.npy": data})
        with pytest.raises(ChildFailure, match="could not read"):
            outputs._read_outputs(tmp_path, 1)
    with zipfile.ZipFile(tmp_path / "outputs.npz", "w", zipfile.ZIP_DEFLATED) as archive:  # 300 MB of zeros
        with archive.open("0/theta.npy", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(bytes(2**20))
    assert (tmp_path / "outputs.npz").stat().st_size < 2 * 2**20
    with pytest.raises(ChildFailure, match="could not read|more than the 8 MB the grader accepts for one call"):
        outputs._read_outputs(tmp_path, 1)
    write_npz(tmp_path / "outputs.npz", {"0/theta.npy": saved(np.zeros(9 * 2**18, np.float32))})  # 9 MB, one call
    with pytest.raises(ChildFailure, match="holds 9 MB of numbers, more than the 8 MB"):
        outputs._read_outputs(tmp_path, 1)
    write_npz(tmp_path / "outputs.npz", {"7/theta.npy": saved(good)})
    with pytest.raises(ChildFailure, match="unexpected output"):
        outputs._read_outputs(tmp_path, 1)
    (tmp_path / "outputs.npz").unlink()
    (tmp_path / "outputs.npz").symlink_to(ROOT / "solution" / "vae.ipynb")
    with pytest.raises(ChildFailure, match="not a regular file"):
        outputs._read_outputs(tmp_path, 1)


def test_result_file_cannot_hang_or_crash_the_grader(tmp_path):
    """Are a FIFO, a symlink, deep nesting and a wrong shape as result.json each a failed test, not a hang?"""
    child = dataclasses.make_dataclass("Child", ["returncode"])(0)
    os.mkfifo(tmp_path / "result.json")
    with pytest.raises(ChildFailure, match="unreadable"):
        outputs._read_result(tmp_path, "decoder", child)
    for content in ("[" * 100000 + "]" * 100000, '["status", "ok"]', '{"status": 1}'):
        (tmp_path / "result.json").unlink()
        (tmp_path / "result.json").write_text(content)
        with pytest.raises(ChildFailure, match="unreadable"):
            outputs._read_result(tmp_path, "decoder", child)
    message = messages.describe_student_error({"where": ["x"], "error": {"a": 1}, "frames": 7, "message": 3})
    assert message == "['x'] raised {'a': 1}: 3"  # every field as text, the malformed frames left out


FORGE_INFO = """        info = __import__("sys")._getframe(2).f_locals.get("info")  # the probe's own, two frames up
        if isinstance(info, dict) and not mu.requires_grad:
            info.update(forged=1, grad_mu="yes")
        epsilon = torch.randn_like(mu)"""


def test_info_forged_by_student_code_costs_its_method(tmp_path, reference_source):
    """Does a sample_with_reparam that adds a key of its own to the probe's info, and gives a declared key a value
    of another type, lose that method's points with a message naming both, and nothing else?"""
    source = mutate(reference_source, "        epsilon = torch.randn_like(mu)\n        return mu + torch.exp(logsigma)",
                    FORGE_INFO + "\n        return mu + torch.exp(logsigma)")
    tests, _ = grade_text(tmp_path, source, groups=("sample_with_reparam", "kl_divergence"), shared=False)
    charged = {key for key in PART1.tests if key.startswith("sample_with_reparam.")}
    assert {key for key, test in tests.items() if test.score < test.max_score} == charged
    for key in charged:
        assert tests[key].score == 0
        assert ("could not use what the process running sample_with_reparam returned ('forged' is not an info key of "
                "this probe; info 'grad_mu' is str, not bool)") in tests[key].output, tests[key].output
