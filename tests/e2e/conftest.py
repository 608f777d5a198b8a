"""The whole node as a user runs it: its services and its gateway, each a process."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.node import SERVICES as NODE_SERVICES
from deploy.supervisor import wait_until_healthy
from deploy.topics import ensure_node_topics
from services import config

REPO = Path(__file__).resolve().parents[2]


def due_soon_paid_today() -> tuple[str, str]:
    """A loan's first due date five days ahead and a repayment paid today: on time (it falls
    in the ten days before the due date), and no day on which something happened is ahead."""
    today = dt.datetime.now(dt.UTC).date()
    return (today + dt.timedelta(days=5)).isoformat(), today.isoformat()


def free_port() -> int:
    """A port a gateway under test can listen on: see ``listen_ports``."""
    return listen_ports(1)

#: Below the system's ephemeral ports (Linux: ``ip_local_port_range``, 32768-60999 here).
_LISTEN_RANGE = (20000, 32000)


def listen_ports(count: int) -> int:
    """The first of ``count`` consecutive ports free on 127.0.0.1 right now, below the
    ephemeral range: a port the system handed out (bind to 0) can be taken, between the test
    choosing it and the gateway binding it, by any client's outgoing connection (a Kafka
    client's), and was (``coopbridge up``'s second gateway failed five times on "address
    already in use"); these are never handed out."""
    low, high = _LISTEN_RANGE
    for _ in range(200):
        first = low + int.from_bytes(os.urandom(2), "big") % (high - low - count)
        try:
            with contextlib.ExitStack() as held:
                for port in range(first, first + count):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise AssertionError(f"no {count} consecutive free ports in {low}-{high}")


SERVICES = ("membership", "savings", "training")


def node_commands(port: int, services: tuple[str, ...] = SERVICES,
                  coopbridge: str | None = None) -> list[list[str]]:
    """A node's processes, the gateway last: from this checkout (``python -m``), or from an
    installed ``coopbridge`` command."""
    if coopbridge is not None:
        return [*([coopbridge, "service", name] for name in services),
                [coopbridge, "gateway", "--port", str(port)]]
    return [*([sys.executable, "-m", NODE_SERVICES[name][1]] for name in services),
            [sys.executable, "-m", "deploy.cli", "gateway", "--port", str(port)]]


@contextlib.contextmanager
def running_node(kafka_bootstrap: str, folder: Path, environment: str | None = None,
                 services: tuple[str, ...] = SERVICES, coopbridge: str | None = None,
                 ) -> Iterator[tuple[str, str, dict]]:
    """A fresh node: ``services`` and its gateway (``COOPBRIDGE_ENV=environment``; unset by
    default: no GraphiQL, development key files in its home), each a process of its own run
    in ``folder`` (its logs there too), from this checkout or from an installed
    ``coopbridge``; yields the node id, the GraphQL URL and the processes' environment. In
    ``production`` the node is given a fresh pair of keys in that environment (it makes no
    key file)."""
    node_id = "t" + os.urandom(4).hex()
    ensure_node_topics(node_id, kafka_bootstrap)
    port = free_port()
    env = dict(os.environ, COOPBRIDGE_NODE=node_id, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
               COOPBRIDGE_HOME=str(folder / "home"))
    env.pop("COOPBRIDGE_ENV", None)
    if environment is not None:
        env["COOPBRIDGE_ENV"] = environment
    if environment == "production":
        env.update(config.new_keys())
    if coopbridge is None:
        env["PYTHONPATH"] = str(REPO)  # run outside the checkout, import from it
    commands = node_commands(port, services, coopbridge)
    logs, processes = [], []
    for i, command in enumerate(commands):
        log = open(folder / f"process-{i}.log", "wb")
        logs.append(log)
        processes.append(subprocess.Popen(command, env=env, stdout=log, cwd=folder,
                                          stderr=subprocess.STDOUT))
    try:
        if not wait_until_healthy(port, timeout=90):
            raise AssertionError("the gateway did not become ready: "
                                 + (folder / f"process-{len(services)}.log").read_text()[-3000:])
        yield node_id, f"http://127.0.0.1:{port}/graphql", env
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def node_processes(kafka_bootstrap, tmp_path_factory):
    """The node's three services and its gateway, each a process of its own."""
    with running_node(kafka_bootstrap, tmp_path_factory.mktemp("node")) as node:
        yield node
