"""The guard of a broker started for a process that must not outlive it (``coopbridge up``).

It is a small process of its own (``python -m deploy.broker guard``, started with the broker)
that watches the owner named in ``broker.owner`` and, once the owner has ended however it
ended (even SIGKILL), stops the broker's whole process group, so even a ``java`` that is a
wrapper script around the real JVM goes. A parent-death signal would not do: it reaches only
the process that was started, not a JVM that a wrapper forked.

The owner is written before the guard starts (an owner killed at once is still seen gone),
and a process that reuses a guarded broker (an ``up`` started again at once) becomes its
owner, so the old guard does not stop the broker under it. Like ``up`` itself, the guard lets
the broker's clients leave first (``up``'s services, which end with it; at most
``CLIENTS_LEAVE_S``): a gateway whose broker vanishes while it stops is slow to give up.

Its files, in the broker's data directory: ``broker.owner`` (the owner: pid and start time),
``broker.guard`` (the guard's, while it watches) and ``logs/guard.log`` (what it said).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

from deploy.broker.network import connections_to
from deploy.broker.processes import identity, identity_alive
from deploy.broker.properties import BrokerConfig

#: How long a guard waits for the broker's clients to leave before it stops the broker.
CLIENTS_LEAVE_S = 10.0

#: Where ``python -m deploy.broker`` runs from: the folder that holds the ``deploy`` package.
_ROOT = Path(__file__).parent.parent.parent


class Guarded(Protocol):
    """What the guard needs of the broker it guards (an ``EmbeddedBroker``)."""

    config: BrokerConfig

    @property
    def data_dir(self) -> Path: ...

    @property
    def logs_dir(self) -> Path: ...

    @property
    def owner_file(self) -> Path: ...

    @property
    def guard_file(self) -> Path: ...

    def running_pid(self) -> int | None: ...

    def stop(self, timeout: float = 30) -> None: ...


def start(broker: Guarded) -> None:
    """Make this process the owner of ``broker`` (just started) and start its guard."""
    broker.owner_file.write_text(identity(os.getpid()))
    with open(broker.logs_dir / "guard.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "deploy.broker", "guard", str(broker.data_dir),
             str(broker.config.port)],
            cwd=_ROOT, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
        )  # fmt: skip


def take_over(broker: Guarded) -> None:
    """Reusing a running ``broker``: if a guard watches it, this process becomes its owner
    (the guard now watches this one)."""
    try:
        guarded = identity_alive(broker.guard_file.read_text().strip())
    except OSError:
        guarded = False
    if guarded:
        broker.owner_file.write_text(identity(os.getpid()))


def watch(broker: Guarded, poll: float = 0.25) -> None:
    """The guard's whole life, in a process of its own started with ``broker``: when the
    owner ``broker.owner`` names has ended (and no other took its place while the broker's
    clients left, at most ``CLIENTS_LEAVE_S``), stop the broker; when the broker stopped
    first, end."""
    broker.guard_file.write_text(identity(os.getpid()))
    try:
        while True:
            owner = _owner_alive(broker, poll)
            if owner is None:
                return  # the broker stopped first
            deadline = time.monotonic() + CLIENTS_LEAVE_S
            while connections_to(broker.config.port) and time.monotonic() < deadline:
                time.sleep(poll)
            if not identity_alive(_read(broker.owner_file)):
                break  # no new owner took over while the clients left
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} the process that started the broker "
              f"(or reused it last; pid and start {owner}) has ended: stopping the broker "
              f"({connections_to(broker.config.port)} client connections left)", flush=True)
        broker.stop()
    finally:
        broker.guard_file.unlink(missing_ok=True)


def _owner_alive(broker: Guarded, poll: float) -> str | None:
    """Wait while the broker runs and its owner lives; the owner that ended (None: the
    broker stopped)."""
    while broker.running_pid() is not None:
        owner = _read(broker.owner_file)
        if not identity_alive(owner):
            return owner or "unknown"
        time.sleep(poll)
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
