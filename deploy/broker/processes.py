"""What this machine says about its processes (from ``/proc``): whether one runs, whether a
process group still has one, and a process's identity (its pid and start time, so that a pid
the kernel gives again names another process); and an exclusive lock between processes."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) while the block runs."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (reaping it first if it is our exited child; zombies are dead)."""
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def group_alive(pgid: int) -> bool:
    """Whether a process of process group ``pgid`` still runs (zombies are dead)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _, group = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[:3]
        except (OSError, ValueError):
            continue
        if state != "Z" and int(group) == pgid:
            return True
    return False


def identity(pid: int) -> str:
    """A process as "pid start-time" (its start in clock ticks since boot, from /proc): a pid
    the kernel gives again to another process names another identity."""
    try:
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        started = "gone"
    return f"{pid} {started}"


def identity_alive(who: str) -> bool:
    """Whether the process an :func:`identity` names still runs (and is not a zombie)."""
    pid, _, _ = who.partition(" ")
    return pid.isdigit() and process_alive(int(pid)) and identity(int(pid)) == who
