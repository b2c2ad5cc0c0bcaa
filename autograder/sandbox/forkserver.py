"""The fork server: ``python -I -B forkserver.py FD``, one per graded submission, started by the trusted process.

It imports numpy and torch once, then forks one child per probe on request, so that no child pays for that
import again. It runs no student code, reads no submission, no reference piece and no request file (its
children do, after they are jailed), so a child's copy of its memory holds nothing a child may not see.
It starts no torch thread pool before forking (it runs no torch operation at all).

Protocol, one JSON object per line over the socket FD:

* server -> trusted, once: ``{"ready": true}`` when the imports are done;
* trusted -> server: ``{"scratch", "stdout", "env", "plan"}`` (``plan``: a :class:`jail.Plan` as JSON);
* server -> trusted: ``{"pid": PID, "setup": ""}`` once the child is jailed (``setup`` holds the error when
  the jail could not be set up; then the child has exited without running anything), then
  ``{"pid": PID, "status": CODE, "record": TEXT, "overflow": BOOL}`` when it has exited
  (``os.waitstatus_to_exitcode``: negative for a signal). ``record`` is what the child wrote on its record
  descriptor (:data:`protocol.RECORD_FD`, a pipe whose read end this server holds), as latin-1, at most
  :data:`protocol.MAX_RECORD_BYTES`; ``overflow`` says that it wrote more.

The trusted process watches the child (timeout, output cap) and kills its process group; see
:func:`autograder.processes.runner.run_child`.
"""
import atexit
import fcntl
import json
import os
import select
import socket
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's folder off sys.path
import jail  # noqa: E402
import protocol  # noqa: E402

#: Exit status of a child whose set-up failed before any student code ran.
SETUP_FAILED = 121


def _send(control: socket.socket, message: dict) -> None:
    control.sendall(json.dumps(message).encode() + b"\n")


def _child(request: dict, ready_fd: int, record_fd: int) -> None:  # pragma: no cover - runs in the forked child
    """Jail this fork, say so on ``ready_fd``, then run the probe in ``request["scratch"]`` with ``record_fd`` as
    :data:`protocol.RECORD_FD`; never returns."""
    try:
        os.setsid()
        out, null = os.open(request["stdout"], os.O_WRONLY | os.O_APPEND), os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        ready_fd = fcntl.fcntl(ready_fd, fcntl.F_DUPFD, protocol.RECORD_FD + 1)
        os.dup2(record_fd, protocol.RECORD_FD)
        os.closerange(3, protocol.RECORD_FD)  # the control socket among them: nothing of the server's stays open
        os.closerange(protocol.RECORD_FD + 1, ready_fd)
        os.closerange(ready_fd + 1, os.sysconf("SC_OPEN_MAX"))
        jail.apply(jail.Plan(**request["plan"]))
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["scratch"])
    except BaseException as exc:  # noqa: B036
        os.write(ready_fd, f"{type(exc).__name__}: {exc}".encode()[:1000])
        os._exit(SETUP_FAILED)
    os.close(ready_fd)  # EOF with nothing written: jailed, about to read the submission
    code = 0
    try:
        import child

        sys.argv = [child.__file__, request["scratch"]]
        child.main(request["scratch"])
    except BaseException:  # noqa: B036 - the trusted process reads only the result files
        traceback.print_exc()
        code = 1
    finally:
        atexit._run_exitfuncs()  # as a spawned interpreter would at its end: a fork ends as one does
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _fork(control: socket.socket, request: dict) -> None:
    """Fork one child for ``request``, report its set-up, wait for it (reading its record) and report its exit
    status with the record."""
    read, write = os.pipe()
    record_read, record_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        os.close(read)
        os.close(record_read)
        _child(request, write, record_write)
    os.close(write)
    os.close(record_write)
    with os.fdopen(read, "rb") as pipe:
        setup = pipe.read(1000).decode(errors="replace")
    _send(control, {"pid": pid, "setup": setup})
    record, overflow, status = _read_record(record_read, pid)
    _send(control, {"pid": pid, "status": os.waitstatus_to_exitcode(status), "record": record.decode("latin-1"),
                    "overflow": overflow})


def _read_record(fd: int, pid: int):
    """Read the record pipe ``fd`` until child ``pid`` has exited (what its descendants write later is not its
    record); returns ``(first MAX_RECORD_BYTES bytes, whether there were more, wait status)``."""
    data, overflow, status, open_ = bytearray(), False, None, True
    os.set_blocking(fd, False)
    while status is None:
        done, status = os.waitpid(pid, os.WNOHANG)
        status = status if done else None
        if open_ and (status is not None or select.select([fd], [], [], 0.05)[0]):
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    break
                open_ = bool(chunk)
                if not chunk or overflow:
                    break
                overflow |= len(data) + len(chunk) > protocol.MAX_RECORD_BYTES
                data += chunk[:max(0, protocol.MAX_RECORD_BYTES - len(data))]
        elif not open_ and status is None:
            _, status = os.waitpid(pid, 0)
    os.close(fd)
    return bytes(data), overflow, status


def main(fd: int) -> None:
    """Serve requests on socket ``fd`` until it closes."""
    jail.prctl(jail.PR_SET_DUMPABLE, 0)  # no process of the same uid may read this one's memory
    import numpy  # noqa: F401 - imported once here, inherited by every child
    import torch  # noqa: F401

    control = socket.socket(fileno=fd)
    _send(control, {"ready": True})
    with control.makefile("rb") as requests:
        for line in requests:
            _fork(control, json.loads(line))


if __name__ == "__main__":
    main(int(sys.argv[1]))
