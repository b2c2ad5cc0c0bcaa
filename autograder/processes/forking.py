"""The fork server's client: one process per grading that imports torch once and forks its children.

The server (``sandbox/forkserver.py``) runs no student code; each child it forks applies the same
:class:`autograder.processes.isolation.Jail` plan as a child spawned as a fresh interpreter. :func:`fork_server` runs the
children of one grading from one server (or says in :data:`FALLBACK` why they are spawned instead);
:func:`shared_fork_server` lets the gradings of the kit's own corpus share one.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

from .. import config
from . import isolation, reuse
from .runtime import runtime


class ForkServer:
    """One process that imports torch once and forks the children of one submission (``sandbox/forkserver.py``).

    It runs as the trusted process's user and runs no student code; each child it forks applies the same
    :class:`autograder.processes.isolation.Jail` plan as a spawned child before it reads the submission. Use
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
        isolation.kill_group(self.process.pid)
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


class LastingServer:
    """One fork server, and the results of the trusted children kept (:mod:`autograder.processes.reuse`), for
    gradings of code the staff trust that come one at a time (the kit's tests grade a mutant each): each
    ``with lasting.sharing():`` block lets every :func:`fork_server` inside use them, as
    :func:`shared_fork_server` does; :meth:`close` stops the server.

    Only for the kit's own code, as :func:`shared_fork_server`. A server that has exited or left a message
    unread is replaced at the next block.
    """

    def __init__(self, limits: config.Limits = config.LIMITS):
        self.limits, self.server, self.kept = limits, None, {}

    @contextlib.contextmanager
    def sharing(self):
        """Share the server (started now when there is none alive) and the kept results with the enclosed
        gradings; yields the server (None when it could not start: each grading then starts its own)."""
        global _SHARED
        if self.server is None or not self.server.alive():
            self.close()
            self.server, _ = _start_server(self.limits)
        _SHARED = self.server
        try:
            with reuse.reusing(self.kept):
                yield self.server
        finally:
            _SHARED = None

    def close(self) -> None:
        """Stop the server, if one runs."""
        if self.server is not None:
            self.server.close()
            self.server = None


@contextlib.contextmanager
def shared_fork_server(limits: config.Limits = config.LIMITS):
    """Let every :func:`fork_server` inside reuse one server, for several gradings of trusted code in a row.

    Only for code the staff trust (the kit's corpus): every grading of a submission that a student wrote has
    its own server (:func:`fork_server`), so that no submission can reach a later one's children through it.
    A server that has exited or left a message unread is not reused; that grading starts its own. The results of
    children that run no student code are kept for the later gradings inside (:mod:`autograder.processes.reuse`).
    """
    lasting = LastingServer(limits)
    try:
        with lasting.sharing() as server:
            yield server
    finally:
        lasting.close()


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
    server, FALLBACK = _start_server(limits)
    _SERVER = server
    try:
        yield server
    finally:
        _SERVER = None
        if server is not None:
            server.close()


def _start_server(limits: config.Limits):
    """``(a started ForkServer, "")``, or ``(None, why not)`` where ``limits.fork_server`` is off, there is no
    ``os.fork`` or the server failed to start."""
    if not hasattr(os, "fork"):
        return None, "no os.fork here"
    if not limits.fork_server:
        return None, "turned off in config.LIMITS.fork_server"
    try:
        return ForkServer(limits), ""
    except (OSError, RuntimeError, ValueError) as exc:
        return None, f"it could not start ({exc})"


def describe_sandbox() -> str:
    """One line for the staff's output: does this grading fork its children from one server?"""
    if FALLBACK:
        return f"fork server: off, {FALLBACK}; every child starts a fresh interpreter and imports torch"
    return "fork server: on (torch imported once per submission, one fork per probe)"


def server() -> ForkServer | None:
    """The server the children of the enclosing :func:`fork_server` fork from; None when they are spawned."""
    return _SERVER
