"""Run one probe of student code in a child process, from the trusted process, and supervise it.

The child gets its own scratch folder, its own session (process group, killed when the probe ends),
resource limits, a minimal environment, a wall-clock timeout and an output cap; when the grader runs as
root, also its own uid, mount and network namespaces (see :mod:`autograder.processes.isolation`). It runs from a
copy of the child runtime (``sandbox/`` without the reference pieces, and ``vae_utils.py``) outside the
kit's folder, which it cannot see. What comes back is read as data only: a JSON file with a size cap and
``.npy`` arrays parsed here, whose dtypes and sizes are checked. Expected values never come from a child
that ran student code: the reference gradients of the ELBO come from a separate child that runs none.

Its parts, one job each: :mod:`autograder.processes.runtime` (what a child runs from and is given),
:mod:`autograder.processes.forking` (the fork server's client), :mod:`autograder.processes.outputs` (what a child
returned); here, starting a child, watching it and cleaning up after it.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import config
from ..config import KIT_ROOT
from ..core.assignment import folders
from ..core.cases import ChildFailure, ProbeResult
from ..sandbox import protocol
from . import forking, isolation, reuse
from .outputs import check_outputs, collect
from .runtime import runtime, write_request

#: Folders no child may see (besides the kit's own folder); ``python -m autograder grade`` adds the results folder.
HIDDEN = []


def _tail(handle, size: int) -> str:
    try:
        end = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, end - size))
        return handle.read(size).decode("utf-8", "replace")
    except OSError:
        return ""


def _keep_folders(cases) -> list:
    """Folders a child must see besides the interpreter's: the MNIST folder when a case names one."""
    return [c.params["root"] for c in cases if isinstance(c.params.get("root"), str)]


def _start(scratch: Path, out, jail: isolation.Jail, limits: config.Limits, record: "SpawnedRecord"):
    """Start the child in ``scratch`` (forked from the server, or spawned with ``record``'s pipe), its output into
    ``out``."""
    env = isolation.child_env(scratch, limits.threads)
    server = forking.server()
    if server is not None:
        return server.fork(scratch, Path(out.name), env, jail.plan)
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
        isolation.kill_group(child.pid)
        child.wait()
    return stopped, peak


def _clean_up(lease, ours: set) -> list:
    """Kill whatever the child left behind (by uid, or every stray descendant); the pids that survived."""
    left = isolation.kill_uid(lease.uid) if lease.uid is not None else []
    running = forking.server()
    server = {running.process.pid} if running is not None else set()
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
    scratch, mounted, record = work / "scratch", False, SpawnedRecord() if forking.server() is None else None
    try:
        os.chmod(work, 0o711)
        scratch.mkdir(mode=0o700)
        if lease.uid is not None:
            mounted = found.tmpfs_scratch and isolation.mount_scratch(scratch, lease.uid, limits)
        write_request(scratch, source, probe, cases, seed, limits, assignment,
                       protocol.RECORD_FD if record is None else record.write, second_round)
        if lease.uid is not None and not mounted:
            os.chown(scratch, lease.uid, lease.uid)
        jail = isolation.Jail(found, lease.uid, [runtime(), scratch, *_keep_folders(cases)], limits,
                              hide=[KIT_ROOT, *folders(), *HIDDEN])
        child, stopped, staff = _supervise(work, scratch, jail, lease, record, method, timeout, limits,
                                           deadline_bound)
        result = collect(scratch, method, child, stopped, staff, cases, student=source is not None,
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
        The submission's code (see :class:`autograder.notebook.submission.Submission`).
    probe : str
        A probe of ``assignment.probes`` (``"encoder"``, ``"elbo"``, ...).
    cases : list of Case
    method : str
        The method under test, named in timeout messages.
    timeout : float
        Wall-clock seconds before the child's process group is killed.
    seed : int
        Seeds torch in the child (``seed + case index`` before each case). A probe whose spec repeats it
        (:attr:`autograder.core.assignment.ProbeSpec.rounds`) runs its cases, then ``spec.again(cases)`` (or the same)
        as a second round in the same child, cases ``n`` to ``2n - 1``, seeded ``seed + n + i``; so does its
        expected probe. Split the result with :func:`rounds`.
    limits : config.Limits
    deadline_bound : bool
        ``timeout`` is what is left of grading's overall time rather than the test's own limit: a child
        stopped by it fails with kind "deadline" ("grading ran out of time"), not "timeout".
    assignment : autograder.core.assignment.Assignment

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
    in this process, when results are kept (:mod:`autograder.processes.reuse`)."""
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
