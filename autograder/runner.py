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
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import config, isolation
from .sandbox import protocol

SANDBOX = Path(__file__).resolve().parent / "sandbox"
KIT_ROOT = SANDBOX.parent.parent
MAX_RESULT_BYTES = 1 << 20
#: What a child may return in all, and at most how many arrays.
MAX_OUTPUT_BYTES, MAX_ARRAYS = 256 << 20, 4096
#: Files of the child runtime, copied out of the kit: the reference pieces are not among them.
RUNTIME_FILES = (SANDBOX / "child.py", SANDBOX / "protocol.py", SANDBOX / "probes.py", KIT_ROOT / "vae_utils.py")
#: The reference pieces a probe needs (written into its scratch folder); None means all of them.
#: No child that runs student code gets ``elbo``, the answer to a graded method.
REFERENCE_PIECES = {"elbo": ("encoder", "reparameterize", "decoder", "kl_divergence"),
                    "sample": ("decoder", "reparameterize"),
                    "elbo_reference": None}
#: Probes that run no student code, and what they provide: the ELBO probe's expected gradients.
TRUSTED_COMPANIONS = {"elbo": ("elbo_reference", "reference_grad/")}
#: Folders no child may see (besides the kit's own folder); ``python -m autograder grade`` adds the results folder.
HIDDEN = []


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
#: A method that moves tensors to the GPU by name fails on the grader, which has none.
CUDA_HINT = ("the grader runs on a machine without a GPU, so `.cuda()` and `.to('cuda')` fail here even "
             "though the same code runs on a Colab GPU. Use the notebook's `device` variable (`.to(device)`, "
             "which the grader sets to its own CPU), or the device of your inputs (`torch.randn_like(mu)`, "
             "`device=mu.device`)")
#: Variables the notebook's other cells define, which a method may not read, and what to use instead.
NOTEBOOK_VARIABLES = {
    "batch_size": "take the batch size from the method's input, e.g. `mu.shape[0]` or `x.shape[0]` (the last "
                  "batch of an epoch is smaller, and the grader uses other sizes)",
    "vae": "use `self`, the model the method belongs to",
    "opt": "a method of the model should not touch the optimizer",
    "obs_dim": "use the sizes of the model's layers, e.g. `self.linear4.out_features`",
    "latent_dim": "use `self.latent_dim`",
    "hidden_dim": "use the sizes of the model's layers, e.g. `self.linear1.out_features`",
    "train_loader": "a method should use only its arguments and `self`",
    "test_loader": "a method should use only its arguments and `self`",
}
_UNDEFINED = re.compile(r"name '(\w+)' is not defined")
_CUDA = re.compile(r"CUDA|NVIDIA|cuda")


def _hint(error: str, text: str) -> str:
    """The hint for an error the student's code raised: a known mistake first, then one per error type."""
    undefined = _UNDEFINED.search(text) if error == "NameError" else None
    if undefined:
        name = undefined.group(1)
        advice = NOTEBOOK_VARIABLES.get(name, f"if `{name}` is a variable of another cell, pass what the method "
                                              "needs as an argument or compute it from its inputs; otherwise "
                                              "check its spelling")
        return (f"`{name}` is not defined where the grader runs your method: the grader runs only your VAE class "
                f"(with torch, nn, F, np and device as in the notebook's first cell), not the notebook's other "
                f"cells, so each method must work on its own. {advice[0].upper() + advice[1:]}")
    if error in ("AssertionError", "RuntimeError") and _CUDA.search(text):
        return CUDA_HINT
    return HINTS.get(error, "")


def describe_student_error(report: dict) -> str:
    """Turn a child's error report into a message for the student (fields of any type are tolerated)."""
    where, error, text = (str(report.get(k))[:2000] if report.get(k) else "" for k in ("where", "error", "message"))
    message = f"{where} raised {error}" + (f": {text}" if text else "") if error else f"{where}: {text}"
    frames = report.get("frames")
    frames = [str(f)[:500] for f in frames[-5:]] if isinstance(frames, list) else []
    if frames:
        message += "\n  in your code, " + "\n  called from ".join(str(f) for f in reversed(frames))
    hint = _hint(error, text)
    return message + (f"\n  Hint: {hint}." if hint else "")


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
    """The child runtime, copied once per process into a world-readable folder outside the kit."""
    global _RUNTIME
    if _RUNTIME is None or not _RUNTIME.is_dir():
        folder = Path(tempfile.mkdtemp(prefix="vae-kit-runtime-"))
        for file in RUNTIME_FILES:
            shutil.copyfile(file, folder / file.name)
            os.chmod(folder / file.name, 0o644)
        os.chmod(folder, 0o755)
        atexit.register(shutil.rmtree, folder, True)
        _RUNTIME = folder
    return _RUNTIME


def reference_source(names) -> str:
    """``sandbox/reference.py`` with only the functions ``names`` (all when None), as source."""
    tree = ast.parse((SANDBOX / "reference.py").read_text())
    tree.body = [node for node in tree.body if not isinstance(node, ast.FunctionDef) or names is None
                 or node.name in names]
    return ast.unparse(tree) + "\n"


def _write_request(scratch: Path, source, probe: str, cases: list, seed: int, limits) -> None:
    arrays = {f"{i}/{k}": np.asarray(v) for i, case in enumerate(cases) for k, v in case.arrays.items()}
    np.savez(scratch / protocol.INPUTS, **arrays)
    (scratch / protocol.SOURCE).write_text(source or "")
    if probe in REFERENCE_PIECES:
        (scratch / protocol.REFERENCE).write_text(reference_source(REFERENCE_PIECES[probe]))
    request = {"probe": probe, "seed": seed, "threads": limits.threads,
               "cases": [{"dims": list(c.dims), "params": c.params} for c in cases]}
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


def _parse_npy(data: bytes) -> np.ndarray:
    """An array from ``.npy`` bytes: numeric dtypes only, and exactly as many bytes as the header says."""
    f = io.BytesIO(data)
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
    body = data[f.tell():]
    if len(body) != count * dtype.itemsize:
        raise ValueError(f"array of shape {shape} and dtype {dtype} with {len(body)} bytes of data")
    return np.frombuffer(body, dtype).reshape(shape, order="F" if fortran else "C").copy()


def _read_outputs(scratch: Path, ncases: int) -> list:
    outputs = [{} for _ in range(ncases)]
    try:
        handle = _open_regular(scratch / protocol.OUTPUTS, MAX_OUTPUT_BYTES)
        if handle is None:
            raise ValueError("no outputs")
        with handle, zipfile.ZipFile(handle) as archive:
            members, total = archive.infolist(), 0
            if len(members) > MAX_ARRAYS:
                raise ValueError(f"{len(members)} arrays")
            for info in members:
                total += info.file_size
                if total > MAX_OUTPUT_BYTES or not info.filename.endswith(".npy"):
                    raise ValueError(f"unexpected member {info.filename!r} ({info.file_size} bytes)")
                with archive.open(info) as member:
                    data = member.read(info.file_size + 1)
                if len(data) != info.file_size:
                    raise ValueError(f"member {info.filename!r} is not the size it claims")
                key = info.filename[:-len(".npy")]
                index, _, name = key.partition("/")
                if not index.isdigit() or int(index) >= ncases or not name:
                    raise ValueError(f"unexpected output {key!r}")
                outputs[int(index)][name] = _parse_npy(data)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
        raise ChildFailure(f"the grader could not read what your code returned ({exc})"[:1000]) from None
    return outputs


def _read_result(scratch: Path, method: str, child) -> dict:
    try:
        handle = _open_regular(scratch / protocol.RESULT, MAX_RESULT_BYTES)
    except ValueError:
        raise ChildFailure(f"the process running {method} wrote an unreadable or oversized result") from None
    if handle is None:
        how = (f"was killed by signal {signal.Signals(-child.returncode).name}" if child.returncode < 0
               else f"exited with status {child.returncode}")
        raise ChildFailure(f"the process running {method} {how} before returning a result "
                           "(your code may have ended the process or exceeded a resource limit)")
    try:
        with handle:
            result = json.loads(handle.read())
        if not isinstance(result, dict) or result.get("status") not in ("ok", "error"):
            raise ValueError("no status")
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise ChildFailure(f"the process running {method} wrote an unreadable result") from None
    return result


def _keep_folders(cases) -> list:
    """Folders a child must see besides the interpreter's: the MNIST folder when a case names one."""
    return [c.params["root"] for c in cases if isinstance(c.params.get("root"), str)]


def run_child(source, probe: str, cases: list, method: str, timeout: float, seed: int = 0,
              limits: config.Limits = config.LIMITS) -> ProbeResult:
    """Run ``probe`` on every case in one fresh, isolated child; the engine of :func:`run_probe`.

    ``source`` None runs a probe that loads no student code. Raises :class:`ChildFailure` as
    :func:`run_probe` does.
    """
    found = isolation.platform()
    lease = isolation.lease_uid(found)
    work = Path(tempfile.mkdtemp(prefix="vae-kit-"))  # the grader's: holds the child's output file
    scratch, mounted = work / "scratch", False
    try:
        os.chmod(work, 0o711)
        scratch.mkdir(mode=0o700)
        if lease.uid is not None:
            mounted = found.tmpfs_scratch and isolation.mount_scratch(scratch, lease.uid, limits)
        _write_request(scratch, source, probe, cases, seed, limits)
        if lease.uid is not None and not mounted:
            os.chown(scratch, lease.uid, lease.uid)
        jail = isolation.Jail(found, lease.uid, [runtime(), scratch, *_keep_folders(cases)], limits,
                              hide=[KIT_ROOT, *HIDDEN])
        ours = isolation.children_of_me()
        with open(work / protocol.STDOUT, "w+b") as out:
            os.chmod(work / protocol.STDOUT, 0o600)
            child = subprocess.Popen([sys.executable, "-I", "-B", str(runtime() / "child.py"), str(scratch)],
                                     cwd=scratch, env=isolation.child_env(scratch, limits.threads),
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=jail.apply)
            deadline, stopped = time.monotonic() + timeout, None
            try:
                while child.poll() is None:
                    if time.monotonic() > deadline:
                        stopped = f"timed out after {timeout:.0f} s in {method}"
                    elif os.fstat(out.fileno()).st_size > limits.output_mb * 2**20:
                        stopped = (f"the process running {method} printed more than {limits.output_mb} MB "
                                   "and was stopped")
                    if stopped:
                        break
                    try:
                        child.wait(0.05)
                    except subprocess.TimeoutExpired:
                        pass
            finally:
                _kill_group(child.pid)
                child.wait()
                left = isolation.kill_uid(lease.uid) if lease.uid is not None else []
                left += isolation.kill_strays(ours)
            staff = _tail(out, limits.output_bytes)
        if left:
            staff += f"\n[grader: processes {left} of this child survived the clean-up]"
        if stopped:
            raise ChildFailure(stopped, staff)
        try:
            result = _read_result(scratch, method, child)
        except ChildFailure as exc:
            exc.staff = staff
            raise
        if result["status"] != "ok":
            raise ChildFailure(describe_student_error(result), staff)
        info = result.get("info")
        info = [info.get(str(i), {}) if isinstance(info, dict) else {} for i in range(len(cases))]
        info = [i if isinstance(i, dict) else {} for i in info]
        return ProbeResult(_read_outputs(scratch, len(cases)), info)
    finally:
        if mounted:
            isolation.umount(scratch)
        shutil.rmtree(work, ignore_errors=True)
        lease.release()


def run_probe(source: str, probe: str, cases: list, method: str, timeout: float, seed: int = 0,
              limits: config.Limits = config.LIMITS) -> ProbeResult:
    """Run probe ``probe`` of the sandbox on every case, in one fresh child process.

    Where a probe's checks need expected values computed in torch (the ELBO's reference gradients), they
    come from a separate child that runs no student code, and replace whatever the student's child
    returned under those names.

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
        When student code raised or returned something unusable, the child timed out, printed too much
        or died.
    RuntimeError
        When a child that runs no student code fails (a fault of the grader or the platform).
    """
    companion = TRUSTED_COMPANIONS.get(probe)
    expected = None
    if companion:
        try:
            expected = run_child(None, companion[0], cases, companion[0], max(timeout, 60.0), seed, limits)
        except ChildFailure as exc:
            raise RuntimeError(f"the grader's own {companion[0]} probe failed: {exc}\n{exc.staff}") from None
    result = run_child(source, probe, cases, method, timeout, seed, limits)
    if companion:
        prefix = companion[1]
        result.outputs = [{**{k: v for k, v in got.items() if not k.startswith(prefix)},
                           **{k: v for k, v in ref.items() if k.startswith(prefix)}}
                          for got, ref in zip(result.outputs, expected.outputs)]
    return result
