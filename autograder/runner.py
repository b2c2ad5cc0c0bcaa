"""Run one probe of student code in a child process, from the trusted process.

The child gets its own scratch folder, its own session (process group, killed when the probe ends),
resource limits, a minimal environment, a wall-clock timeout and an output cap; when the grader runs as
root, also its own uid, mount and network namespaces (see :mod:`autograder.isolation`). It runs from a
copy of the child runtime (``sandbox/`` without the reference pieces, and ``vae_utils.py``) outside the
kit's folder, which it cannot see. What comes back is read as data only: a JSON file with a size cap and
``.npy`` arrays parsed here, whose dtypes and sizes are checked. Expected values never come from a child
that ran student code: the reference gradients of the ELBO come from a separate child that runs none.
"""
from __future__ import annotations

import ast
import atexit
import compileall
import contextlib
import io
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from . import config, isolation, reuse
from .cases import ChildFailure, ProbeResult
from .messages import student_failure
from .assignment import folder_of, folders, names
from .config import KIT_ROOT
from .sandbox import protocol

SANDBOX = Path(__file__).resolve().parent / "sandbox"
MAX_RESULT_BYTES = 1 << 20
#: What a child may return in all, and at most how many arrays.
MAX_OUTPUT_BYTES, MAX_ARRAYS = 256 << 20, 4096
#: Files of the child runtime, copied out of the kit: the engine's child side and ``vae_utils.py``, then each
#: assignment's ``probes.py`` as ``probes_<name>.py`` (see :func:`runtime`). No reference piece is among them.
RUNTIME_FILES = tuple(SANDBOX / f"{name}.py" for name in ("child", "protocol", "probing", "jail", "forkserver")) + (
    KIT_ROOT / "vae_utils.py",)
#: Folders no child may see (besides the kit's own folder); ``python -m autograder grade`` adds the results folder.
HIDDEN = []


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(handle, size: int) -> str:
    try:
        end = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, end - size))
        return handle.read(size).decode("utf-8", "replace")
    except OSError:
        return ""


_RUNTIME: Path | None = None


def runtime() -> Path:
    """The child runtime, copied once per process into a world-readable folder outside the kit: the engine's
    child side, ``vae_utils.py``, and every assignment's probes as ``probes_<name>.py``."""
    global _RUNTIME
    if _RUNTIME is None or not _RUNTIME.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="vae-kit-runtime-"))
        files = {file.name: file for file in RUNTIME_FILES}
        files.update({f"probes_{name}.py": folder_of(name) / "probes.py" for name in names()})
        for name, file in files.items():
            shutil.copyfile(file, folder / name)
            os.chmod(folder / name, 0o644)
        compileall.compile_dir(folder, quiet=2, legacy=False)  # children run with -B: they read bytecode, never write it
        for cached in (folder / "__pycache__").iterdir():
            os.chmod(cached, 0o644)
        os.chmod(folder / "__pycache__", 0o755)
        os.chmod(folder, 0o755)
        atexit.register(shutil.rmtree, folder, True)
        _RUNTIME = folder
    return _RUNTIME


def reference_source(path: Path, names) -> str:
    """The reference file ``path`` with only the functions, and the methods of its classes, named in ``names``
    (all when None), as source. A method is named by its name or as ``"Class.method"``; a class keeps its other
    statements, and its ``__init__`` unless ``names`` names another class's ``__init__`` but not its own."""
    tree = ast.parse(Path(path).read_text())
    qualified = names is not None and any("." in n for n in names)

    def keep(node, cls=""):
        if not isinstance(node, ast.FunctionDef) or names is None:
            return True
        if node.name == "__init__" and not qualified:
            return True
        return node.name in names or f"{cls}.{node.name}" in names

    tree.body = [node for node in tree.body if keep(node)]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            node.body = [n for n in node.body if keep(n, node.name)] or [ast.Pass()]
    return ast.unparse(tree) + "\n"


def _write_request(scratch: Path, source, probe: str, cases: list, seed: int, limits, assignment=None,
                   record_fd: int = protocol.RECORD_FD, second_round: int | None = None) -> None:
    arrays = {f"{i}/{k}": np.asarray(v) for i, case in enumerate(cases) for k, v in case.arrays.items()}
    np.savez(scratch / protocol.INPUTS, **arrays)
    (scratch / protocol.SOURCE).write_text(source or "")
    spec = assignment.probes[probe] if assignment is not None else None
    if spec is not None and spec.reference is not None:
        pieces = None if not spec.student_code else spec.reference
        (scratch / protocol.REFERENCE).write_text(reference_source(assignment.folder / "reference.py", pieces))
    request = {"probe": probe, "seed": seed, "threads": limits.threads, "memory_mb": limits.memory_mb,
               "module": f"probes_{assignment.name}" if assignment is not None else "probing",
               "class_name": (spec.class_name or assignment.class_name) if assignment is not None else None,
               "student_code": source is not None, "record_fd": record_fd, "second_round": second_round,
               "forbidden": list(assignment.forbidden_modules) if assignment is not None else [],
               "case_output_mb": limits.case_output_mb,
               "cases": [{"name": c.name, "dims": list(c.dims), "params": c.params} for c in cases]}
    (scratch / protocol.REQUEST).write_text(json.dumps(request))
    for path in scratch.iterdir():
        os.chmod(path, 0o644)


def _open_regular(path: Path, cap: int):
    """Open a file the child wrote, refusing links, FIFOs, devices and files over ``cap`` bytes.

    Returns a binary file object, or None when there is no such file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"{path.name} is not a regular file ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
        os.close(fd)
        raise ValueError(f"{path.name} is not a regular file of at most {cap} bytes")
    return os.fdopen(fd, "rb")


def _parse_npy(data: bytearray) -> np.ndarray:
    """An array from ``.npy`` bytes: numeric dtypes only, and exactly as many bytes as the header says. The array
    is a view of ``data`` (no copy: the trusted process holds each array once)."""
    f = io.BytesIO(memoryview(data)[:min(len(data), 1 << 16)])
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.kind not in "fiub" or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"dtype {dtype} is not a plain number type")
    count = 1
    for n in shape:
        count *= int(n)
    if len(data) - f.tell() != count * dtype.itemsize:
        raise ValueError(f"array of shape {shape} and dtype {dtype} with {len(data) - f.tell()} bytes of data")
    return np.frombuffer(data, dtype, count, f.tell()).reshape(shape, order="F" if fortran else "C")


def _case_sizes(members, ncases: int) -> list:
    """Bytes of the arrays of each case, from the archive's directory (before any is read)."""
    sizes = [0] * ncases
    for info in members:
        index = info.filename.partition("/")[0]
        if index.isdigit() and int(index) < ncases:
            sizes[int(index)] += info.file_size
    return sizes


def _read_outputs(scratch: Path, ncases: int, limits: config.Limits = config.LIMITS) -> list:
    outputs = [{} for _ in range(ncases)]
    try:
        handle = _open_regular(scratch / protocol.OUTPUTS, MAX_OUTPUT_BYTES)
        if handle is None:
            raise ValueError("no outputs")
        with handle, zipfile.ZipFile(handle) as archive:
            members, total = archive.infolist(), 0
            if len(members) > MAX_ARRAYS:
                raise ValueError(f"{len(members)} arrays")
            largest = max(_case_sizes(members, ncases), default=0)
            if largest > limits.case_output_mb * 2**20:
                raise OutputTooLarge(largest)
            for info in members:
                total += info.file_size
                if total > MAX_OUTPUT_BYTES or not info.filename.endswith(".npy"):
                    raise ValueError(f"unexpected member {info.filename!r} ({info.file_size} bytes)")
                data = bytearray(info.file_size + 1)
                with archive.open(info) as member:
                    got = member.readinto(data)
                if got != info.file_size:
                    raise ValueError(f"member {info.filename!r} is not the size it claims")
                del data[got:]
                key = info.filename[:-len(".npy")]
                index, _, name = key.partition("/")
                if not index.isdigit() or int(index) >= ncases or not name:
                    raise ValueError(f"unexpected output {key!r}")
                outputs[int(index)][name] = _parse_npy(data)
    except OutputTooLarge as exc:
        raise ChildFailure(f"what your code returned for one of the grader's calls holds {exc.args[0] / 2**20:.0f} MB "
                           f"of numbers, more than the {limits.case_output_mb} MB the grader accepts for one call: "
                           "check the shapes it returns against the docstring (every call returns a few MB at most)"
                           ) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
        raise ChildFailure(f"the grader could not read what your code returned ({exc})"[:1000]) from None
    return outputs


class OutputTooLarge(Exception):
    """A case of a child's outputs holds more bytes (``args[0]``) than ``config.LIMITS.case_output_mb``."""


_RECORD_WORD = re.compile(r"[A-Za-z0-9_.<>]{1,120}")


def parse_record(text: str, ncases: int, overflow: bool = False, finished: bool = True):
    """What a child's record says (:data:`protocol.RECORD_FD`): ``(reads, tampered)``.

    ``reads`` lists ``(read, chain)`` for each ``R read Class.method ...`` line; ``tampered`` says, in words for
    the student, how the record shows that student code changed the grader's watchers or record ("" when it
    does not): a ``T`` line, a line the child's own code never writes (the grader writes only well-formed lines),
    more than :data:`protocol.MAX_RECORD_BYTES`, or, in a child that ``finished`` its cases, a case without its
    ``E index`` line (the record was closed or redirected). Any text is accepted; nothing here raises.
    """
    reads, ended, tampered = [], set(), ""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines and finished:
        tampered = "wrote an unfinished line to it"
    for line in lines:
        kind, *words = line.split(" ")
        if not words or not all(_RECORD_WORD.fullmatch(w) for w in words) or len(line) >= protocol.MAX_RECORD_LINE:
            tampered = tampered or "wrote text of its own to it"
        elif kind == "R" and len(words) >= 2:
            reads.append((words[0], words[1:]))
        elif kind == "T":
            tampered = tampered or f"changed {' '.join(words)}"
        elif kind == "E" and len(words) == 1 and words[0].isdigit():
            ended.add(int(words[0]))
        else:
            tampered = tampered or "wrote text of its own to it"
    if overflow:
        tampered = tampered or f"wrote more than {protocol.MAX_RECORD_BYTES} bytes to it"
    missing = [i for i in range(ncases) if i not in ended]
    if finished and missing and not tampered:
        tampered = f"closed or replaced it before case {missing[0] + 1} of {ncases} ended"
    return reads, tampered


def _read_result(scratch: Path, method: str, child) -> dict:
    try:
        handle = _open_regular(scratch / protocol.RESULT, MAX_RESULT_BYTES)
    except ValueError:
        raise ChildFailure(f"the process running {method} wrote an unreadable or oversized result") from None
    if handle is None:
        how = (f"was killed by signal {signal.Signals(-child.returncode).name}" if child.returncode < 0
               else f"exited with status {child.returncode}")
        raise ChildFailure(f"the process running {method} {how} before returning a result "
                           "(your code may have ended the process or exceeded a resource limit)", kind="died")
    try:
        with handle:
            result = json.loads(handle.read())
        if not isinstance(result, dict) or result.get("status") not in ("ok", "error"):
            raise ValueError("no status")
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise ChildFailure(f"the process running {method} wrote an unreadable result") from None
    return result


class ForkServer:
    """One process that imports torch once and forks the children of one submission (``sandbox/forkserver.py``).

    It runs as the trusted process's user and runs no student code; each child it forks applies the same
    :class:`autograder.isolation.Jail` plan as a spawned child before it reads the submission. Use
    :func:`fork_server` rather than this class. Raises RuntimeError when the server does not start.
    """

    def __init__(self, limits: config.Limits, start_timeout: float = 120.0):
        ours, theirs = socket.socketpair()
        self.control, self._buffer, self.limits = ours, bytearray(), limits
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-B", str(runtime() / "forkserver.py"), str(theirs.fileno())],
            pass_fds=[theirs.fileno()], cwd=runtime(), env=isolation.child_env(runtime(), limits.threads),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        if not (self.receive(start_timeout) or {}).get("ready"):
            self.close()
            raise RuntimeError(f"the fork server did not start within {start_timeout:.0f} s")

    def receive(self, timeout=None):
        """The server's next message (a dict), or None when none came within ``timeout`` seconds.

        Raises RuntimeError when the server has gone.
        """
        end = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if end is None else max(0.0, end - time.monotonic())
            if not select.select([self.control], [], [], left)[0]:
                return None
            data = self.control.recv(65536)
            if not data:
                raise RuntimeError("the fork server exited (see the staff output above)")
            self._buffer += data
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return json.loads(line)

    def fork(self, scratch: Path, stdout: Path, env: dict, plan) -> "ForkedChild":
        """Start one child in ``scratch``; RuntimeError when its sandbox could not be set up."""
        request = {"scratch": str(scratch), "stdout": str(stdout), "env": env, "plan": plan.to_json()}
        self.control.sendall(json.dumps(request).encode() + b"\n")
        started = self.receive()
        child = ForkedChild(self, started["pid"])
        if started["setup"]:
            child.wait()
            raise RuntimeError(f"the sandbox could not be set up for a child: {started['setup']}")
        return child

    def alive(self) -> bool:
        """Whether the server still runs and has no message left unread (so the next fork gets a clean line)."""
        return (self.process.poll() is None and not self._buffer
                and not select.select([self.control], [], [], 0)[0])

    def close(self) -> None:
        """Stop the server (its children are gone by then)."""
        self.control.close()
        _kill_group(self.process.pid)
        self.process.wait()


class ForkedChild:
    """A child of the :class:`ForkServer`, with the part of ``subprocess.Popen``'s interface the runner uses, and
    its record (:data:`protocol.RECORD_FD`) once it has exited: ``record`` (text) and ``overflow``."""

    def __init__(self, server: ForkServer, pid: int):
        self.server, self.pid, self.returncode = server, pid, None
        self.record, self.overflow = "", False

    def wait(self, timeout=None) -> int:
        """Its exit status (negative: killed by that signal); ``subprocess.TimeoutExpired`` after ``timeout``."""
        if self.returncode is None:
            message = self.server.receive(timeout)
            if message is None:
                raise subprocess.TimeoutExpired(f"child {self.pid}", timeout)
            self.returncode = message["status"]
            record = message.get("record")
            self.record = record if isinstance(record, str) else ""
            self.overflow = bool(message.get("overflow"))
        return self.returncode

    def poll(self):
        """Its exit status, or None while it runs."""
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None


_SERVER: ForkServer | None = None
#: The server of an enclosing :func:`shared_fork_server`, which each :func:`fork_server` inside reuses.
_SHARED: ForkServer | None = None
#: Why the last :func:`fork_server` fell back to spawning a fresh interpreter per child ("" when it did not).
FALLBACK = ""


@contextlib.contextmanager
def shared_fork_server(limits: config.Limits = config.LIMITS):
    """Let every :func:`fork_server` inside reuse one server, for several gradings of trusted code in a row.

    Only for code the staff trust (the kit's corpus): every grading of a submission that a student wrote has
    its own server (:func:`fork_server`), so that no submission can reach a later one's children through it.
    A server that has exited or left a message unread is not reused; that grading starts its own. The results of
    children that run no student code are kept for the later gradings inside (:mod:`autograder.reuse`).
    """
    global _SHARED
    with fork_server(limits) as server, reuse.reusing():
        _SHARED = server
        try:
            yield server
        finally:
            _SHARED = None


@contextlib.contextmanager
def fork_server(limits: config.Limits = config.LIMITS):
    """Run the children of the enclosed grading from one :class:`ForkServer` (one torch import).

    Where it cannot start (``limits.fork_server`` off, no ``os.fork``, the server failed), children are
    spawned as fresh interpreters instead and :data:`FALLBACK` says why, for the staff's output. Inside
    :func:`shared_fork_server`, its running server of the same limits is used and left running.
    """
    global _SERVER, FALLBACK
    if _SHARED is not None and _SHARED.limits == limits and _SHARED.alive():
        FALLBACK, _SERVER = "", _SHARED
        try:
            yield _SHARED
        finally:
            _SERVER = None
        return
    FALLBACK, server = "", None
    if not limits.fork_server or not hasattr(os, "fork"):
        FALLBACK = "turned off in config.LIMITS.fork_server" if hasattr(os, "fork") else "no os.fork here"
    else:
        try:
            server = ForkServer(limits)
        except (OSError, RuntimeError, ValueError) as exc:
            FALLBACK = f"it could not start ({exc})"
    _SERVER = server
    try:
        yield server
    finally:
        _SERVER = None
        if server is not None:
            server.close()


def describe_sandbox() -> str:
    """One line for the staff's output: does this grading fork its children from one server?"""
    if FALLBACK:
        return f"fork server: off, {FALLBACK}; every child starts a fresh interpreter and imports torch"
    return "fork server: on (torch imported once per submission, one fork per probe)"


def _keep_folders(cases) -> list:
    """Folders a child must see besides the interpreter's: the MNIST folder when a case names one."""
    return [c.params["root"] for c in cases if isinstance(c.params.get("root"), str)]


def _start(scratch: Path, out, jail: isolation.Jail, limits: config.Limits, record: "SpawnedRecord"):
    """Start the child in ``scratch`` (forked from the server, or spawned with ``record``'s pipe), its output into
    ``out``."""
    env = isolation.child_env(scratch, limits.threads)
    if _SERVER is not None:
        return _SERVER.fork(scratch, Path(out.name), env, jail.plan)
    try:
        return subprocess.Popen([sys.executable, "-I", "-B", str(runtime() / "child.py"), str(scratch)],
                                cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=jail.apply, pass_fds=(record.write,))
    finally:
        record.started()


class SpawnedRecord:
    """The record pipe (:data:`protocol.RECORD_FD`) of a child spawned without the fork server: the runner holds
    its read end, drains it while the child runs, and closes it when the child is done."""

    def __init__(self):
        self.read, self.write = os.pipe()
        os.set_blocking(self.read, False)
        self.data, self.overflow = bytearray(), False

    def started(self) -> None:
        """The child has its write end: close ours, so that the pipe ends when the child's processes do."""
        if self.write is not None:
            os.close(self.write)
            self.write = None

    def drain(self) -> None:
        """Read what is there, keeping the first :data:`protocol.MAX_RECORD_BYTES`."""
        while True:
            try:
                chunk = os.read(self.read, 65536)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self.overflow |= len(self.data) + len(chunk) > protocol.MAX_RECORD_BYTES
            self.data += chunk[:max(0, protocol.MAX_RECORD_BYTES - len(self.data))]

    def close(self) -> None:
        self.started()
        if self.read is not None:
            os.close(self.read)
            self.read = None


def oom_kills() -> int:
    """How many processes the kernel's out-of-memory killer has killed since boot (``/proc/vmstat``); -1
    when the kernel does not say."""
    try:
        with open("/proc/vmstat") as vmstat:
            return next(int(line.split()[1]) for line in vmstat if line.startswith("oom_kill "))
    except (OSError, StopIteration, ValueError):
        return -1


def _peak_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of process ``pid`` so far, in MB; 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return 0.0


def _watch(child, out, timeout: float, method: str, limits: config.Limits, deadline_bound: bool, drain=None):
    """Wait for ``child`` until it exits, runs past ``timeout`` or prints too much; then kill its group.

    Returns ``(stopped, peak_mb)``: the ChildFailure that stopped it (None when it exited by itself) and
    the peak resident memory seen. ``drain()``, when given, is called as it waits (reading the child's record).
    """
    deadline, stopped, peak = time.monotonic() + timeout, None, 0.0
    try:
        while child.poll() is None:
            if drain is not None:
                drain()
            peak = max(peak, _peak_mb(child.pid))
            if time.monotonic() > deadline and deadline_bound:
                stopped = ChildFailure(f"{method} was stopped after {timeout:.0f} s: grading ran out of time "
                                       "(the grader's overall time limit), so this test could not finish",
                                       kind="deadline")
            elif time.monotonic() > deadline:
                stopped = ChildFailure(f"timed out after {timeout:.0f} s in {method}", kind="timeout")
            elif os.fstat(out.fileno()).st_size > limits.output_mb * 2**20:
                stopped = ChildFailure(f"the process running {method} printed more than {limits.output_mb} MB "
                                       "and was stopped", kind="output")
            if stopped:
                break
            try:
                child.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
    finally:
        _kill_group(child.pid)
        child.wait()
    return stopped, peak


def _clean_up(lease, ours: set) -> list:
    """Kill whatever the child left behind (by uid, or every stray descendant); the pids that survived."""
    left = isolation.kill_uid(lease.uid) if lease.uid is not None else []
    server = {_SERVER.process.pid} if _SERVER is not None else set()
    return left + isolation.kill_strays(ours - server, exact=server)


def _supervise(work: Path, scratch: Path, jail, lease, record, method: str, timeout: float, limits: config.Limits,
               deadline_bound: bool):
    """Start the child in ``jail``, watch it until it ends or is stopped, and clean up after it. Returns
    ``(child, stopped, staff)``: the ended process (with the ``record`` it sent, when the grader reads it here), the
    :class:`ChildFailure` that stopped it or None, and the tail of its output for the staff."""
    ours, kills = isolation.children_of_me(), oom_kills()
    with open(work / protocol.STDOUT, "w+b") as out:
        os.chmod(work / protocol.STDOUT, 0o600)
        child = _start(scratch, out, jail, limits, record)
        try:
            stopped, peak = _watch(child, out, timeout, method, limits, deadline_bound,
                                   record.drain if record is not None else None)
        finally:
            left = _clean_up(lease, ours)
        if record is not None:
            record.drain()
            child.record, child.overflow = bytes(record.data).decode("latin-1"), record.overflow
        staff = _tail(out, limits.output_bytes)
    if left:
        staff += f"\n[grader: processes {left} of this child survived the clean-up]"
    if stopped is None and child.returncode == -signal.SIGKILL and kills >= 0 and oom_kills() > kills:
        stopped = ChildFailure(f"the process running {method} was killed by the system because it ran out "
                               f"of memory (it had used {peak:.0f} MB; each test may use about "
                               f"{limits.memory_mb} MB beyond what torch itself takes)", kind="memory")
    return child, stopped, staff


def run_child(source, probe: str, cases: list, method: str, timeout: float, seed: int = 0,
              limits: config.Limits = config.LIMITS, deadline_bound: bool = False,
              assignment=None, second_round: int | None = None) -> ProbeResult:
    """Run ``probe`` of ``assignment`` on every case in one fresh, isolated child; the engine of :func:`run_probe`.

    ``source`` None runs a probe that loads no student code; ``assignment`` None runs one of the engine's own
    (the sandbox check, ``"ping"``). Outputs are checked against the probe's declared outputs. ``deadline_bound`` says that ``timeout`` is
    what is left of grading's overall time, not the test's own limit (the message then says so). ``second_round``
    is the index of the first case of the second round, when ``cases`` holds two (see :func:`run_probe`). Raises
    :class:`ChildFailure` as :func:`run_probe` does.
    """
    found = isolation.platform()
    lease = isolation.lease_uid(found)
    work = Path(tempfile.mkdtemp(prefix="vae-kit-"))  # the grader's: holds the child's output file
    scratch, mounted, record = work / "scratch", False, SpawnedRecord() if _SERVER is None else None
    try:
        os.chmod(work, 0o711)
        scratch.mkdir(mode=0o700)
        if lease.uid is not None:
            mounted = found.tmpfs_scratch and isolation.mount_scratch(scratch, lease.uid, limits)
        _write_request(scratch, source, probe, cases, seed, limits, assignment,
                       protocol.RECORD_FD if record is None else record.write, second_round)
        if lease.uid is not None and not mounted:
            os.chown(scratch, lease.uid, lease.uid)
        jail = isolation.Jail(found, lease.uid, [runtime(), scratch, *_keep_folders(cases)], limits,
                              hide=[KIT_ROOT, *folders(), *HIDDEN])
        child, stopped, staff = _supervise(work, scratch, jail, lease, record, method, timeout, limits,
                                           deadline_bound)
        result = _collect(scratch, method, child, stopped, staff, cases, student=source is not None,
                          assignment=assignment)
        if assignment is not None:
            check_outputs(result, assignment.probes[probe], method, trusted=source is None)
        return result
    finally:
        if record is not None:
            record.close()
        if mounted:
            isolation.umount(scratch)
        shutil.rmtree(work, ignore_errors=True)
        lease.release()


def _collect(scratch: Path, method: str, child, stopped, staff: str, cases: list, student: bool = True,
             assignment=None) -> ProbeResult:
    """What the child returned, or the ChildFailure that says why there is nothing to use (with the ``reads`` and
    ``tampered`` of its record, when it ran student code, see :func:`parse_record`; its message with the hints of
    ``assignment``)."""
    if stopped:
        stopped.staff = staff
        raise stopped
    try:
        result = _read_result(scratch, method, child)
    except ChildFailure as exc:
        exc.staff = staff
        raise
    reads, tampered = [], ""
    if student:
        reads, tampered = parse_record(getattr(child, "record", ""), len(cases), getattr(child, "overflow", False),
                                       finished=result["status"] == "ok")
    if result["status"] != "ok":
        failure = student_failure(result, staff, assignment=assignment)
        failure.reads, failure.tampered = reads, tampered
        raise failure
    info = result.get("info")
    info = [info.get(str(i), {}) if isinstance(info, dict) else {} for i in range(len(cases))]
    info = [i if isinstance(i, dict) else {} for i in info]
    return ProbeResult(_read_outputs(scratch, len(cases)), info, list(cases), reads, tampered)


def check_outputs(result: ProbeResult, spec, method: str, trusted: bool = False) -> None:
    """Check what a child returned against its probe's declared outputs (:class:`autograder.assignment.Output`):
    no undeclared name, every required one present, dtypes as declared, and the declared shape of every output
    the probe itself made.

    Raises
    ------
    ChildFailure
        When a child that ran student code returned something else (its code interfered with the probe).
    RuntimeError
        When a child that ran no student code did (a fault of the grader).
    """
    from .assignment import DTYPE_KINDS

    for case, outputs, info in zip(result.cases, result.outputs, result.info):
        problems = [f"{name!r} is not an output of this probe" for name in outputs if spec.output(name) is None]
        problems += spec.info_problems(info)
        for output in spec.outputs:
            got = outputs.get(output.name)
            if got is None:
                problems += [f"{output.name!r} is missing"] if output.required else []
            elif got.dtype.kind not in DTYPE_KINDS[output.dtype]:
                problems.append(f"{output.name!r} has dtype {got.dtype}, not {output.dtype}")
            elif output.shape is not None and not output.from_student and got.shape != case.shape_of(output):
                problems.append(f"{output.name!r} has shape {got.shape}, not {case.shape_of(output)}")
        if problems and trusted:
            raise RuntimeError(f"the grader's own probe for {method} returned unusable outputs: {problems}")
        if problems:
            raise ChildFailure(f"the grader could not use what the process running {method} returned "
                               f"({'; '.join(problems)[:500]}): does your code change torch or the grader's "
                               "objects?")


def run_probe(source: str, probe: str, cases: list, method: str, timeout: float, seed: int = 0,
              limits: config.Limits = config.LIMITS, deadline_bound: bool = False, *,
              assignment) -> ProbeResult:
    """Run probe ``probe`` of ``assignment`` on every case, in one fresh child process.

    Where a probe's checks need expected values computed in torch (the ELBO's reference gradients, a
    reference model's outputs), they come from a separate child that runs no student code (the probe's
    ``expected`` probe), and replace whatever the student's child returned under those names.

    Parameters
    ----------
    source : str
        The submission's code (see :class:`autograder.submission.Submission`).
    probe : str
        A probe of ``assignment.probes`` (``"encoder"``, ``"elbo"``, ...).
    cases : list of Case
    method : str
        The method under test, named in timeout messages.
    timeout : float
        Wall-clock seconds before the child's process group is killed.
    seed : int
        Seeds torch in the child (``seed + case index`` before each case). A probe whose spec repeats it
        (:attr:`autograder.assignment.ProbeSpec.rounds`) runs its cases, then ``spec.again(cases)`` (or the same)
        as a second round in the same child, cases ``n`` to ``2n - 1``, seeded ``seed + n + i``; so does its
        expected probe. Split the result with :func:`rounds`.
    limits : config.Limits
    deadline_bound : bool
        ``timeout`` is what is left of grading's overall time rather than the test's own limit: a child
        stopped by it fails with kind "deadline" ("grading ran out of time"), not "timeout".
    assignment : autograder.assignment.Assignment

    Returns
    -------
    ProbeResult

    Raises
    ------
    ChildFailure
        When student code raised or returned something unusable, the child timed out, ran out of memory,
        printed too much or died; its ``kind`` says which (:data:`FAILURE_KINDS`).
    RuntimeError
        When a child that runs no student code fails (a fault of the grader or the platform).
    """
    spec = assignment.probes[probe]
    second = len(cases) if spec.rounds == 2 and source is not None else None
    if second is not None:
        cases = list(cases) + list(spec.again(cases) if spec.again else cases)
    expected = None
    if spec.expected:
        try:
            expected = _trusted_child(spec.expected, cases, spec.expected, max(timeout, 60.0), seed, limits,
                                      False, assignment, second)
        except ChildFailure as exc:
            raise RuntimeError(f"the grader's own {spec.expected} probe failed: {exc}\n{exc.staff}") from None
    if source is None:
        result = _trusted_child(probe, cases, method, timeout, seed, limits, deadline_bound, assignment, second)
    else:
        result = run_child(source, probe, cases, method, timeout, seed, limits, deadline_bound, assignment, second)
    if expected is not None:
        result.outputs = [{**got, **ref} for got, ref in zip(result.outputs, expected.outputs)]
    return result


def _trusted_child(probe: str, cases: list, method: str, timeout: float, seed: int, limits, deadline_bound: bool,
                   assignment, second_round) -> ProbeResult:
    """:func:`run_child` of a probe that runs no student code, or the result it gave for the same request earlier
    in this process, when results are kept (:mod:`autograder.reuse`)."""
    digest = reuse.key(assignment, probe, cases, seed, limits, second_round) if reuse.active() else None
    kept = reuse.get(digest, cases) if digest else None
    if kept is not None:
        return kept
    result = run_child(None, probe, cases, method, timeout, seed, limits, deadline_bound, assignment, second_round)
    if digest:
        reuse.put(digest, result)
    return result


def rounds(result: ProbeResult, count: int) -> list:
    """``result`` of a probe run in ``count`` rounds (1 or 2, see :func:`run_probe`) as one ProbeResult per round,
    each with its own cases, outputs and info (the record's reads and tampering are the child's, in each)."""
    size = len(result.cases) // count
    return [ProbeResult(result.outputs[i * size:(i + 1) * size], result.info[i * size:(i + 1) * size],
                        result.cases[i * size:(i + 1) * size], result.reads, result.tampered) for i in range(count)]
