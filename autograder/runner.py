"""Run one probe of student code in a child process, from the trusted process.

The child gets its own scratch folder, its own session (process group, killed when the probe ends),
resource limits, a minimal environment and a wall-clock timeout. What comes back is read as data only:
JSON with a size cap, and arrays with ``allow_pickle=False`` whose dtypes are checked.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import config
from .sandbox import protocol

SANDBOX = Path(__file__).resolve().parent / "sandbox"
KIT_ROOT = SANDBOX.parent.parent
MAX_RESULT_BYTES = 1 << 20


@dataclass
class Case:
    """One call of a probe: ``VAE(*dims)`` with the grader's weights and inputs (``arrays``)."""

    dims: tuple
    arrays: dict
    params: dict = field(default_factory=dict)


@dataclass
class ProbeResult:
    """Per case, the arrays a probe returned and its JSON info."""

    outputs: list
    info: list


class ChildFailure(Exception):
    """Student code raised, timed out, crashed or returned nothing usable.

    ``str(exc)`` is the message for the student; ``staff`` holds the child's output for the staff.
    """

    def __init__(self, message, staff=""):
        super().__init__(message)
        self.staff = staff


HINTS = {
    "NotImplementedError": "replace `# YOUR CODE HERE` and `raise NotImplementedError()` with your code",
    "NameError": "the grader runs only your VAE class, with torch, nn, F, np and device defined as in "
                 "the notebook's first cell: do not rely on variables defined in other cells",
}


def describe_student_error(report: dict) -> str:
    """Turn a child's error report into a message for the student."""
    where, error, text = report.get("where"), report.get("error"), report.get("message")
    message = f"{where} raised {error}" + (f": {text}" if text else "") if error else f"{where}: {text}"
    frames = report.get("frames") or []
    if frames:
        message += "\n  in your code, " + "\n  called from ".join(str(f) for f in reversed(frames))
    hint = HINTS.get(report.get("error"))
    return message + (f"\n  Hint: {hint}." if hint else "")


def _limit(limits: config.Limits):
    def apply():
        mb = 2**20
        for name, value in ((resource.RLIMIT_CPU, limits.cpu_seconds),
                            (resource.RLIMIT_AS, limits.address_space_mb * mb),
                            (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
                            (resource.RLIMIT_NOFILE, limits.open_files),
                            (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(name, (value, value))
    return apply


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, size: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _write_request(scratch: Path, source: str, probe: str, cases: list, seed: int, limits) -> None:
    arrays = {f"{i}/{k}": np.asarray(v) for i, case in enumerate(cases) for k, v in case.arrays.items()}
    np.savez(scratch / protocol.INPUTS, **arrays)
    (scratch / protocol.SOURCE).write_text(source)
    request = {"probe": probe, "seed": seed, "threads": limits.threads, "paths": [str(KIT_ROOT)],
               "cases": [{"dims": list(c.dims), "params": c.params} for c in cases]}
    (scratch / protocol.REQUEST).write_text(json.dumps(request))


def _read_outputs(scratch: Path, ncases: int) -> list:
    outputs = [{} for _ in range(ncases)]
    try:
        with np.load(scratch / protocol.OUTPUTS, allow_pickle=False) as data:
            for key in data.files:
                index, _, name = key.partition("/")
                array = data[key]
                if not index.isdigit() or int(index) >= ncases or array.dtype.kind not in "fiub":
                    raise ValueError(f"unexpected output {key!r} of dtype {array.dtype}")
                outputs[int(index)][name] = array
    except (OSError, ValueError, EOFError) as exc:
        raise ChildFailure(f"the grader could not read what your code returned ({exc})") from None
    return outputs


def run_probe(source: str, probe: str, cases: list, method: str, timeout: float, seed: int = 0,
              limits: config.Limits = config.LIMITS) -> ProbeResult:
    """Run probe ``probe`` of the sandbox on every case, in one fresh child process.

    Parameters
    ----------
    source : str
        The submission's code (see :class:`autograder.submission.Submission`).
    probe : str
        A probe name of :mod:`autograder.sandbox.probes` (``"encoder"``, ``"elbo"``, ...).
    cases : list of Case
    method : str
        The method under test, named in timeout messages.
    timeout : float
        Wall-clock seconds before the child's process group is killed.
    seed : int
        Seeds torch in the child (``seed + case index`` before each case).

    Returns
    -------
    ProbeResult

    Raises
    ------
    ChildFailure
        When student code raised or returned something unusable, the child timed out or died.
    """
    scratch = Path(tempfile.mkdtemp(prefix="vae-kit-"))
    try:
        _write_request(scratch, source, probe, cases, seed, limits)
        env = {"PATH": os.defpath, "HOME": str(scratch), "TMPDIR": str(scratch), "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": str(limits.threads), "MKL_NUM_THREADS": str(limits.threads),
               "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
        with open(scratch / protocol.STDOUT, "wb") as out:
            child = subprocess.Popen([sys.executable, "-I", "-B", str(SANDBOX / "child.py"), str(scratch)],
                                     cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_limit(limits))
            try:
                child.wait(timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(child.pid)
                child.wait()
        staff = _tail(scratch / protocol.STDOUT, limits.output_bytes)
        if timed_out:
            raise ChildFailure(f"timed out after {timeout:.0f} s in {method}", staff)
        result_path = scratch / protocol.RESULT
        if not result_path.exists():
            how = (f"was killed by signal {signal.Signals(-child.returncode).name}" if child.returncode < 0
                   else f"exited with status {child.returncode}")
            raise ChildFailure(f"the process running {method} {how} before returning a result "
                               "(your code may have ended the process or exceeded a resource limit)", staff)
        if result_path.stat().st_size > MAX_RESULT_BYTES:
            raise ChildFailure(f"the process running {method} wrote an oversized result", staff)
        try:
            result = json.loads(result_path.read_text())
            ok = result["status"] == "ok"
        except (ValueError, KeyError, TypeError):
            raise ChildFailure(f"the process running {method} wrote an unreadable result", staff) from None
        if not ok:
            raise ChildFailure(describe_student_error(result), staff)
        info = result.get("info")
        info = [info.get(str(i), {}) if isinstance(info, dict) else {} for i in range(len(cases))]
        return ProbeResult(_read_outputs(scratch, len(cases)), info)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
