"""The set-up of a child that runs student code, applied in the child itself before it reads the submission.

Standard library only: it runs in the trusted process's forks (``autograder.processes.isolation`` imports it as
``autograder.sandbox.jail``), between fork and exec of a spawned child, and in the fork server's children
(imported there as the sibling module ``jail``). :func:`apply` takes a :class:`Plan` that the trusted
process computed (which namespaces, which folders to cover and bind back, which limits, which uid), so the
child decides nothing itself. See the README's Security section for what each step stops.
"""
import ctypes
import os
import resource
import signal
from dataclasses import asdict, dataclass

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 1, 4, 38, 36
#: World-writable folders a child could fill or leave files in; covered by a small private tmpfs.
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")
#: The kernel's out-of-memory killer picks a process with this score before any other (range -1000..1000).
OOM_SCORE_ADJ = 1000


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def mount(source, target, fstype, flags: int, data=None) -> None:
    """mount(2); raises OSError."""
    enc = lambda s: None if s is None else os.fsencode(str(s))  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def umount(target) -> None:
    """Lazy umount(2) (MNT_DETACH); raises OSError."""
    _check(_libc.umount2(os.fsencode(str(target)), MNT_DETACH), f"umount {target}")


def clone_tree(path) -> int:
    """open_tree(2) with OPEN_TREE_CLONE | AT_RECURSIVE: a detached copy of the mounts at ``path``, as an fd."""
    fd = _libc.syscall(428, -100, os.fsencode(str(path)), ctypes.c_uint(1 | 0x8000 | os.O_CLOEXEC))
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"open_tree {path}: {os.strerror(code)}")
    return fd


def attach_tree(fd: int, target) -> None:
    """move_mount(2) of a tree from :func:`clone_tree` onto ``target``."""
    _check(_libc.syscall(429, fd, b"", -100, os.fsencode(str(target)), ctypes.c_uint(0x4)), f"move_mount {target}")


def unshare(flags: int) -> None:
    """unshare(2); raises OSError."""
    _check(_libc.unshare(flags), "unshare")


def prctl(option: int, value: int) -> None:
    """prctl(2) with one argument; raises OSError."""
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl {option}")


@dataclass
class Plan:
    """Everything :func:`apply` does, decided by the trusted process (JSON-able, for the fork server).

    net_ns, mount_ns : bool
        Unshare a network / mount namespace.
    keep : list of str
        Folders bound back in under the covers (interpreter, site-packages, runtime, scratch, data).
    covers : list of str
        Folders covered by an empty tmpfs of ``tmp_mb`` MB, outermost first.
    rlimits : dict of str to int
        ``{"RLIMIT_CPU": seconds, "RLIMIT_AS": bytes, ...}``.
    uid : int or None
        The sandbox uid (and gid) to become; None keeps the current one.
    """

    net_ns: bool
    mount_ns: bool
    keep: list
    covers: list
    tmp_mb: int
    rlimits: dict
    uid: int | None

    def to_json(self) -> dict:
        """The plan as a JSON object (for the fork server's request)."""
        return asdict(self)


def _cover(folder: str, fds: dict, tmp_mb: int) -> None:
    """Mount an empty tmpfs on ``folder`` and bind the kept folders under it back in."""
    if not os.path.isdir(folder):  # already hidden by an outer cover
        return
    mode = "1777" if folder in SHARED_WRITABLE else "0755"
    mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_mb}m,nr_inodes=4096,mode={mode}")
    for kept, fd in fds.items():
        if kept != folder and kept.startswith(folder.rstrip("/") + "/"):
            os.makedirs(kept, exist_ok=True)
            attach_tree(clone_tree(f"/proc/self/fd/{fd}"), kept)


def _namespaces(plan: Plan) -> None:
    if plan.net_ns:
        unshare(CLONE_NEWNET)
    if not plan.mount_ns:
        return
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    fds = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in plan.keep}
    for folder in plan.covers:
        _cover(folder, fds, plan.tmp_mb)
    for fd in fds.values():
        os.close(fd)
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")
    except OSError:
        pass  # older kernels: /proc stays as it was (other processes' command lines are visible)


def apply(plan: Plan) -> None:  # pragma: no cover - runs in the child
    """Namespaces, resource limits, out-of-memory priority, then the privilege drop.

    Raises (and so stops the child before it reads the submission) when a step the plan asks for fails.
    """
    _namespaces(plan)
    for name, value in plan.rlimits.items():
        resource.setrlimit(getattr(resource, name), (value, value))
    with open("/proc/self/oom_score_adj", "w") as f:  # the child, not the grader, is killed first
        f.write(str(OOM_SCORE_ADJ))
    if plan.uid is not None:
        os.setgroups([])
        os.setresgid(plan.uid, plan.uid, plan.uid)
        os.setresuid(plan.uid, plan.uid, plan.uid)
        if os.getuid() != plan.uid or os.geteuid() != plan.uid:
            raise RuntimeError("privilege drop failed")
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
