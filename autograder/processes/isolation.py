"""Process-level isolation of the children that run student code (Linux only).

What the trusted process does around each child (see the README's Security section):

* **Privilege drop** (when the grader runs as root): each child runs as a uid/gid of its own from the
  pool ``config.LIMITS.sandbox_uids``, with no supplementary groups, ``no_new_privs`` and a parent-death
  signal. A uid is held by one child at a time (an ``flock`` on a root-only lock file), so killing
  "every process of that uid" after a probe touches nothing else, and ``RLIMIT_NPROC`` counts that
  child's processes only.
* **Mount namespace** (root with CAP_SYS_ADMIN): the kit's folder, ``/root``-like folders that block
  the interpreter, ``/tmp``, ``/var/tmp`` and ``/dev/shm`` are covered by small private tmpfs mounts;
  only the folders the child needs (the interpreter, site-packages, the child runtime, its scratch,
  the MNIST folder) are bound back in. ``/proc`` is remounted with ``hidepid=invisible`` so the child
  sees its own processes only.
* **Network namespace** (root with CAP_SYS_ADMIN): the child has a loopback interface that is down and
  nothing else.
* **Clean-up**: the trusted process is a child subreaper (orphans of a child reparent to it) and is not
  dumpable; after each probe every process of the child's uid is killed with ``kill(-1, SIGKILL)`` run
  as that uid (atomic against fork bombs), or, without root, every descendant that is not ours is.

:func:`platform` says which of these the running kernel and privileges allow; each is detected once per
process by trying it in a throw-away child.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..sandbox import jail
from ..sandbox.jail import (CLONE_NEWNET, MS_NODEV, MS_NOSUID, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE,  # noqa: F401
                           SHARED_WRITABLE, mount, prctl, umount, unshare)


# ---------------------------------------------------------------------------------------------
# What the platform allows, detected once.

@dataclass
class Platform:
    """Which isolation features work here (each was tried in a throw-away child).

    ``notes`` explains every feature that is off, for the staff's output and the README.
    """

    root: bool
    uid_drop: bool = False
    mount_ns: bool = False
    net_ns: bool = False
    subreaper: bool = False
    tmpfs_scratch: bool = False
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        """One line of the features in use, then one line per note (for the staff's output)."""
        on = [name for name in ("uid_drop", "mount_ns", "net_ns", "subreaper", "tmpfs_scratch") if getattr(self, name)]
        return f"sandbox: running as {'root' if self.root else 'uid ' + str(os.getuid())}; " \
               f"on: {', '.join(on) or 'nothing'}" + "".join(f"\n  - {n}" for n in self.notes)


_PLATFORM: Platform | None = None


def _try_in_child(fn) -> str | None:
    """Run ``fn()`` in a forked child; None when it returned, else the error it raised."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the forked child
        os.close(read)
        try:
            fn()
            os._exit(0)
        except BaseException as exc:  # noqa: B036
            os.write(write, repr(exc).encode()[:500])
            os._exit(1)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        message = f.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    return None if os.waitstatus_to_exitcode(status) == 0 else (message or f"exit status {status}")


def _detect_namespaces(found: Platform, limits) -> None:
    """Set ``found.net_ns`` and ``found.mount_ns``: can a child of this (root) process enter a network namespace and
    the jail's mount namespace? Notes what it cannot."""
    error = _try_in_child(lambda: unshare(CLONE_NEWNET))
    found.net_ns = limits.isolate_network and error is None
    if error:
        found.notes.append(f"no network namespace ({error}): children have the machine's network")
    trial = Platform(root=True, mount_ns=True)
    error = _try_in_child(Jail(trial, None, [], limits).apply)
    found.mount_ns = error is None
    if error:
        found.notes.append(f"no mount namespace ({error}): the kit's folder and results must be made unreadable "
                           "to the sandbox uids by permissions (chmod 700), and children share /tmp")


def _detect_uid_drop(found: Platform, limits) -> None:
    """Set ``found.uid_drop``: can a sandbox uid of ``limits.sandbox_uids`` start the interpreter and import numpy
    with the namespaces found? Notes why not."""
    pool = [uid for uid in limits.sandbox_uids if uid > 0]
    if pool:
        # Can a sandbox uid start the interpreter and import numpy with the namespaces we will use?
        lease = _acquire(pool)
        try:
            probe = subprocess.run([sys.executable, "-I", "-B", "-c", "import numpy"], stdin=subprocess.DEVNULL,
                                   capture_output=True, cwd="/", env=child_env(Path("/"), 1),
                                   preexec_fn=Jail(found, lease.uid, [], limits).apply, timeout=60)
        finally:
            kill_uid(lease.uid)
            lease.release()
        found.uid_drop = probe.returncode == 0
        if not found.uid_drop:
            found.notes.append("the sandbox uid cannot run the interpreter ("
                               f"{probe.stderr.decode(errors='replace').strip()[-300:]}): children run as root")
    else:
        found.notes.append("config.LIMITS.sandbox_uids is empty: children run as root")


def platform() -> Platform:
    """Detect (once per process) and return what isolation this process can apply to its children.

    Also makes this process non-dumpable and a child subreaper when it can.
    """
    global _PLATFORM
    if _PLATFORM is not None:
        return _PLATFORM
    limits = config.LIMITS
    found = Platform(root=os.geteuid() == 0)
    try:
        prctl(PR_SET_DUMPABLE, 0)
    except OSError as exc:
        found.notes.append(f"could not make the grader non-dumpable ({exc})")
    try:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        found.subreaper = True
    except OSError as exc:
        found.notes.append(f"no child subreaper ({exc}): processes that escape a child's group are found "
                           "by uid only")
    if not found.root:
        found.notes.append("not root: children run as the grader's own uid (no privilege drop, no namespaces); "
                           "they can read and write whatever the grader's user can")
        _PLATFORM = found
        return found
    _detect_namespaces(found, limits)
    _detect_uid_drop(found, limits)
    found.tmpfs_scratch = found.uid_drop and limits.scratch_mb > 0 and _try_in_child(_tmpfs_probe) is None
    _PLATFORM = found
    return found


def _tmpfs_probe():
    folder = tempfile.mkdtemp(prefix="vae-kit-probe-")
    try:
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
        umount(folder)
    finally:
        os.rmdir(folder)


# ---------------------------------------------------------------------------------------------
# The uid pool.

class UidLease:
    """One uid of the sandbox pool, held (``flock``) until :meth:`release`; ``uid`` is None without root."""

    def __init__(self, uid, handle):
        self.uid, self._handle = uid, handle

    def release(self) -> None:
        """Give the uid back to the pool."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _lock_dir() -> Path:
    """A root-only folder for the pool's lock files (``/run/vae-kit`` or under the temp folder)."""
    for base in (Path("/run"), Path(tempfile.gettempdir())):
        folder = base / "vae-kit-sandbox-locks"
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError:
            continue
        info = os.lstat(folder)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and stat.S_IMODE(info.st_mode) == 0o700:
            return folder
    raise RuntimeError("no root-only folder for the sandbox's uid locks (tried /run and the temp folder)")


def lease_uid(found: Platform, wait: float = 600.0) -> UidLease:
    """Take a free uid of ``config.LIMITS.sandbox_uids`` (waiting up to ``wait`` s); RuntimeError if none.

    Without a privilege drop the lease holds no uid (``uid`` is None).
    """
    if not found.uid_drop:
        return UidLease(None, None)
    return _acquire(config.LIMITS.sandbox_uids, wait)


def _acquire(uids, wait: float = 600.0) -> UidLease:
    folder, deadline = _lock_dir(), time.monotonic() + wait
    while True:
        for uid in uids:
            handle = open(folder / f"{uid}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            kill_uid(uid)  # whatever a crashed grader may have left behind
            return UidLease(uid, handle)
        if time.monotonic() > deadline:
            raise RuntimeError("every sandbox uid stayed busy: more graders run at once than "
                               "config.LIMITS.sandbox_uids has uids")
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# The child's set-up, between fork and exec.

def child_env(home: Path, threads: int) -> dict:
    """The whole environment of a child: nothing of the grader's is passed on."""
    return {"PATH": os.defpath, "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8", "USER": "sandbox",
            "LOGNAME": "sandbox", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}


def _needed_folders(extra) -> list[str]:
    """Folders a child must read: the interpreter's, site-packages, and ``extra`` (runtime, scratch, data)."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable)),
               os.path.dirname(sys.executable), *site.getsitepackages(), *map(str, extra)}
    return sorted({os.path.realpath(f) for f in folders if f and os.path.isdir(f)})


def _blockers(folders, uid) -> set[str]:
    """The outermost ancestors of ``folders`` that ``uid`` may not traverse (e.g. ``/root``, mode 700)."""
    found = set()
    for folder in folders:
        parts = Path(folder).parts
        for depth in range(2, len(parts) + 1):
            ancestor = str(Path(*parts[:depth]))
            info = os.stat(ancestor)
            if not info.st_mode & stat.S_IXOTH and info.st_uid != uid:
                found.add(ancestor)
                break
    return found


class Jail:
    """What a child's set-up does (:class:`autograder.sandbox.jail.Plan`): limits, namespaces, privilege drop.

    Parameters
    ----------
    found : Platform
    uid : int or None
        The sandbox uid (and gid) to become; None keeps the grader's uid.
    keep : list of path
        Folders the child needs besides the interpreter's (its runtime, scratch, the MNIST folder).
    limits : config.Limits
    hide : list of path
        Folders to cover with an empty tmpfs (the kit's folder).
    """

    def __init__(self, found: Platform, uid, keep, limits: config.Limits, hide=()):
        keep = _needed_folders(keep)
        covers = set(hide) | {p for p in SHARED_WRITABLE if os.path.isdir(p)} | _blockers(keep, uid)
        covers = sorted({os.path.realpath(c) for c in covers if os.path.isdir(c)} - {"/"}, key=len)
        nproc = limits.processes if uid is not None else _count_processes(os.getuid()) + limits.processes
        mb = 2**20
        rlimits = {"RLIMIT_CPU": limits.cpu_seconds, "RLIMIT_AS": limits.address_space_mb * mb,
                   "RLIMIT_FSIZE": limits.file_size_mb * mb, "RLIMIT_NOFILE": limits.open_files,
                   "RLIMIT_NPROC": nproc, "RLIMIT_CORE": 0}
        self.plan = jail.Plan(net_ns=found.net_ns, mount_ns=found.mount_ns, keep=keep, covers=covers,
                              tmp_mb=limits.tmp_mb, rlimits=rlimits, uid=uid)

    def apply(self) -> None:  # pragma: no cover - runs between fork and exec
        """Apply the plan (a ``preexec_fn``); raises when a step that the platform allows fails."""
        jail.apply(self.plan)


# ---------------------------------------------------------------------------------------------
# Processes: listing and killing what a child left behind.

_STATUS_FIELDS = re.compile(r"^(State|PPid|Uid):\s*(\S+)", re.MULTILINE)


def _status(pid: int) -> dict:
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(_STATUS_FIELDS.findall(f.read()))
        return {"uid": int(fields["Uid"]), "ppid": int(fields["PPid"]), "state": fields["State"]}
    except (OSError, KeyError, ValueError):
        return {}


def processes() -> dict[int, dict]:
    """Every live process: ``{pid: {"uid", "ppid", "state"}}`` (from ``/proc``)."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = _status(int(name))
            if info:
                found[int(name)] = info
    return found


def _count_processes(uid: int) -> int:
    return sum(1 for info in processes().values() if info["uid"] == uid)


def _reap(pids) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def kill_group(pid: int) -> None:
    """Kill the process group ``pid`` (a child's session), if it is still there and ours to kill."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_uid(uid: int, attempts: int = 20) -> list[int]:
    """Kill every process of ``uid`` (``kill(-1, SIGKILL)`` run as that uid), reap our own zombies.

    Returns the pids still alive afterwards (empty unless something is wrong).
    """
    for _ in range(attempts):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked child
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:  # noqa: B036
                os._exit(1)
            os._exit(0)
        os.waitpid(pid, 0)
        me = os.getpid()
        left = {p: i for p, i in processes().items() if i["uid"] == uid}
        _reap([p for p, i in left.items() if i["ppid"] == me])
        alive = [p for p, i in left.items() if i["state"] != "Z"]
        if not alive:
            return []
        time.sleep(0.05)
    return alive


def descendants(root: int, table: dict | None = None) -> set[int]:
    """Every process below ``root`` in the parent tree."""
    table = table if table is not None else processes()
    children = {}
    for pid, info in table.items():
        children.setdefault(info["ppid"], []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_strays(keep: set, attempts: int = 50, exact=()) -> list[int]:
    """Kill our descendants that are not in ``keep`` (nor below them) nor in ``exact``; the non-root clean-up.

    With the subreaper set, processes that left a child's group (setsid, double fork) are still our
    descendants. ``exact`` protects a process but not what is below it (the fork server, whose children
    run student code). Returns the pids still alive afterwards.
    """
    me = os.getpid()
    for _ in range(attempts):
        table = processes()
        protected = set(keep) | set(exact)
        for pid in keep:
            protected |= descendants(pid, table)
        strays = [p for p in descendants(me, table) if p not in protected and table[p]["state"] != "Z"]
        zombies = [p for p in descendants(me, table) if p not in protected and table[p]["state"] == "Z"]
        _reap([p for p in zombies if table[p]["ppid"] == me])
        if not strays:
            return []
        for pid in strays:  # stop first, so none of them can fork while we go through the list
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
        _reap([p for p in strays if table[p]["ppid"] == me])
    return [p for p in descendants(me) if p not in keep and p not in exact]


def children_of_me() -> set[int]:
    """Our direct children right now (those we must not kill when cleaning up after a probe)."""
    me = os.getpid()
    return {pid for pid, info in processes().items() if info["ppid"] == me}


def mount_scratch(folder: Path, uid: int, limits: config.Limits) -> bool:
    """Mount a size-limited tmpfs owned by ``uid`` on ``folder``; False when it cannot be done."""
    try:
        mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV,
              f"size={limits.scratch_mb}m,nr_inodes=4096,mode=0700,uid={uid},gid={uid}")
        return True
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.ENODEV, errno.EACCES):
            return False
        raise
