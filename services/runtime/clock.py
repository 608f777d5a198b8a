"""The time a service decides by: the machine's, or, outside production, the machine's
moved by an offset that tests and demonstrations set (``COOPBRIDGE_CLOCK_FILE`` names a file
holding a whole number of seconds), so that every process reading the same file moves
together: a month of premiums and benefits passes in seconds, and a process killed and
started again comes back to the same moved time.

Under ``COOPBRIDGE_ENV=production`` the variable is refused: a production node runs on its
machine's clock only. The file is read again whenever it changed (its modification time,
looked at on every call: a command sent right after the clock moved is decided at the moved
time).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from services import config

VARIABLE = "COOPBRIDGE_CLOCK_FILE"

_cache: dict[str, tuple[tuple[int, int], float]] = {}  # path -> ((inode, mtime ns), offset)


def moved_by(path: Path, seconds: float) -> None:
    """Move the clock of every process reading ``path`` ``seconds`` further (tests, demos)."""
    offset = read_offset(path) + seconds
    temporary = path.with_suffix(".tmp")
    temporary.write_text(f"{int(offset)}\n")
    temporary.replace(path)  # whole, never half written


def read_offset(path: Path) -> float:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return 0.0
    return float(int(text or "0"))


def offset() -> float:
    """The seconds this process's clock is moved by (0 unless ``COOPBRIDGE_CLOCK_FILE``)."""
    name = os.environ.get(VARIABLE)
    if not name:
        return 0.0
    if config.production():
        raise config.ConfigError(f"{VARIABLE} moves the clock: not in production")
    path = Path(name)
    try:
        found = path.stat()
    except FileNotFoundError:
        return 0.0
    version = (found.st_ino, found.st_mtime_ns)  # a file replaced whole is a new inode
    cached = _cache.get(name)
    if cached is None or cached[0] != version:
        cached = _cache[name] = (version, read_offset(path))
    return cached[1]


def refuse_to_start_moved() -> None:
    """A service does not start in production with ``COOPBRIDGE_CLOCK_FILE`` set (rather than
    failing at its first decision)."""
    if os.environ.get(VARIABLE) and config.production():
        raise config.ConfigError(f"{VARIABLE} moves the clock: not in production")


def now() -> dt.datetime:
    """The current time (UTC), moved by ``offset()``."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset())
