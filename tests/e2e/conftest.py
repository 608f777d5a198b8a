"""The whole node as a user runs it: its three services and its gateway, each a process."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

import pytest

from deploy.cli import wait_until_healthy
from deploy.topics import ensure_node_topics


def due_soon_paid_today() -> tuple[str, str]:
    """A loan's first due date five days ahead and a repayment paid today: on time (it falls
    in the ten days before the due date), and no day on which something happened is ahead."""
    today = dt.datetime.now(dt.UTC).date()
    return (today + dt.timedelta(days=5)).isoformat(), today.isoformat()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def node_processes(kafka_bootstrap, tmp_path_factory):
    """The node's three services and its gateway, each a process of its own."""
    node_id = "t" + os.urandom(4).hex()
    tmp_path = tmp_path_factory.mktemp("node")
    ensure_node_topics(node_id, kafka_bootstrap)
    port = free_port()
    env = dict(os.environ, COOPBRIDGE_NODE=node_id, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
               COOPBRIDGE_HOME=str(tmp_path / "home"), COOPBRIDGE_ENV="production")
    commands = [[sys.executable, "-m", f"services.{name}"]
                for name in ("membership", "savings", "training")]
    commands.append([sys.executable, "-m", "deploy.cli", "gateway", "--port", str(port)])
    logs, processes = [], []
    for i, command in enumerate(commands):
        log = open(tmp_path / f"process-{i}.log", "wb")
        logs.append(log)
        processes.append(subprocess.Popen(command, env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
    try:
        if not wait_until_healthy(port, timeout=90):
            raise AssertionError("the gateway did not become ready: "
                                 + (tmp_path / "process-3.log").read_text()[-3000:])
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


