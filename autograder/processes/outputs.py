"""What a child returned, read as data only, in the trusted process.

A JSON result file with a size cap, ``.npy`` arrays in a zip parsed here (numeric dtypes only, sizes checked
against their headers and against the caps below), and the child's record of what student code read and whether
it tampered with the grader's watchers. Then each probe's outputs are checked against what its spec declares.
"""
from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import zipfile
from pathlib import Path

import numpy as np

from .. import config
from ..core.cases import ChildFailure, ProbeResult
from ..sandbox import protocol
from . import tracing
from .messages import student_failure

MAX_RESULT_BYTES = 1 << 20
#: What a child may return in all, and at most how many arrays.
MAX_OUTPUT_BYTES, MAX_ARRAYS = 256 << 20, 4096


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


def collect(scratch: Path, method: str, child, stopped, staff: str, cases: list, student: bool = True,
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
    if student:
        tracing.note(method, result.get("traced"))
    info = result.get("info")
    info = [info.get(str(i), {}) if isinstance(info, dict) else {} for i in range(len(cases))]
    info = [i if isinstance(i, dict) else {} for i in info]
    return ProbeResult(_read_outputs(scratch, len(cases)), info, list(cases), reads, tampered)


def check_outputs(result: ProbeResult, spec, method: str, trusted: bool = False) -> None:
    """Check what a child returned against its probe's declarations: its outputs
    (:class:`autograder.core.assignment.Output`: no undeclared name, every required one present, dtypes as
    declared, and the declared shape of every output the probe itself made) and each case's JSON info
    (:class:`autograder.core.assignment.Info`: no undeclared key, each value of its declared JSON type).

    Raises
    ------
    ChildFailure
        When a child that ran student code returned something else (its code interfered with the probe).
    RuntimeError
        When a child that ran no student code did (a fault of the grader).
    """
    from ..core.assignment import DTYPE_KINDS

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
