"""The embedded Kafka broker, for real: the session fixture's broker and the CLI lifecycle."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kafka import KafkaAdminClient

from deploy import broker
from schemas import membership as m
from schemas.fields import Money
from schemas.topics import node_topics
from services.runtime.client import CommandClient
from services.runtime.ids import new_id

pytestmark = pytest.mark.kafka

COOPBRIDGE = Path(sys.executable).parent / "coopbridge"


def test_fixture_broker_answers_metadata(
    kafka_bootstrap: str, embedded_broker: broker.EmbeddedBroker | None
) -> None:
    info = broker.cluster_info(kafka_bootstrap, timeout=10)
    assert info.brokers >= 1
    assert info.cluster_id
    if embedded_broker is not None:  # the log is only ours to read when we started the broker
        status = embedded_broker.status()
        assert status.running
        assert status.bootstrap == kafka_bootstrap
        assert status.kafka_version is not None and status.kafka_version.startswith("4.")


def test_start_refuses_a_taken_port(
    embedded_broker: broker.EmbeddedBroker | None, tmp_path: Path
) -> None:
    if embedded_broker is None:
        pytest.skip("an external cluster is configured")
    taken = embedded_broker.config.port
    other = broker.EmbeddedBroker(
        broker.BrokerConfig(tmp_path / "broker", port=taken, controller_port=broker.free_port())
    )
    with pytest.raises(broker.BrokerError, match=f"port {taken} .* already in use"):
        other.start()
    assert not other.status().running


def _java_processes_using(path: Path) -> list[int]:
    needle = str(path).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"java" in cmdline and needle in cmdline:
            pids.append(int(proc.name))
    return pids


@dataclass
class CliHome:
    """A private COOPBRIDGE_HOME (sharing the cached jars) and ports for a CLI run."""

    env: dict[str, str]
    data_dir: Path
    port: int
    controller_port: int

    def stop_leftovers(self) -> None:
        """Never leave a JVM behind, whatever failed."""
        config = broker.BrokerConfig(self.data_dir, self.port, self.controller_port)
        broker.EmbeddedBroker(config).stop(timeout=10)
        deadline = time.monotonic() + 5
        while _java_processes_using(self.data_dir) and time.monotonic() < deadline:
            time.sleep(0.1)


@pytest.fixture
def cli_home(kafka_lib: Path, tmp_path: Path) -> Iterator[CliHome]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "kafka-lib").symlink_to(kafka_lib)  # share the cached jars, not the data
    port, controller_port, gateway_port = broker.free_ports(3)
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update(
        COOPBRIDGE_HOME=str(home),
        COOPBRIDGE_KAFKA_PORT=str(port),
        COOPBRIDGE_KAFKA_CONTROLLER_PORT=str(controller_port),
        COOPBRIDGE_KAFKA_HEAP="256m",
        COOPBRIDGE_GATEWAY_PORT=str(gateway_port),  # `up`'s gateway, not 8000
    )
    made = CliHome(env, home / "broker", port, controller_port)
    try:
        yield made
    finally:
        made.stop_leftovers()


def test_cli_lifecycle(cli_home: CliHome, tmp_path: Path) -> None:
    env, port, data_dir = cli_home.env, cli_home.port, cli_home.data_dir

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(COOPBRIDGE), "broker", *args], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    started = cli("start", "--timeout", "60")
    assert started.returncode == 0, started.stderr
    assert "broker running" in started.stdout
    assert f"127.0.0.1:{port}" in started.stdout

    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert "broker running" in status.stdout
    assert "Kafka 4." in status.stdout
    assert _java_processes_using(data_dir)

    stopped = cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "broker stopped" in stopped.stdout
    assert _java_processes_using(data_dir) == []
    assert not (data_dir / "broker.pid").exists()

    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert "broker stopped" in status.stdout

    again = cli("stop")  # stopping a stopped broker is a no-op
    assert again.returncode == 0, again.stderr


def test_up_runs_the_broker_and_the_node_topics_until_interrupted(
    cli_home: CliHome, node_id: str, tmp_path: Path
) -> None:
    """What `make run` does: `coopbridge up` in the foreground, serving commands; Ctrl-C
    stops everything."""
    up = subprocess.Popen(
        [str(COOPBRIDGE), "up", "--node", node_id], env=cli_home.env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines = []
        for line in up.stdout:  # the status line comes once everything is ready
            lines.append(line)
            if line.startswith("coopbridge up"):
                break
        assert lines and lines[-1].startswith("coopbridge up"), "".join(lines)
        assert f"node {node_id} topics · {len(node_topics(node_id))} created" in "".join(lines)
        bootstrap = f"127.0.0.1:{cli_home.port}"
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        try:
            assert set(admin.list_topics()) >= {s.name for s in node_topics(node_id)}
        finally:
            admin.close()
        assert asyncio.run(register_a_cooperative(node_id, bootstrap)).accepted

        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
        assert "broker stopped" in up.stdout.read()
        assert _java_processes_using(cli_home.data_dir) == []
    finally:
        if up.poll() is None:  # a failed assertion: stop it as Ctrl-C would, so that the
            up.send_signal(signal.SIGINT)  # services it started do not outlive the test
            try:
                up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                up.kill()


async def register_a_cooperative(node: str, bootstrap: str):
    cooperative = new_id()
    async with CommandClient(node, bootstrap) as client:
        return await client.send(m.RegisterCooperative(
            cooperative_id=cooperative, name="Cooperativa de Trabajo Andina", country="EC",
            kind=m.CooperativeKind.WORKER, languages=["es-EC"], node=node, currency="USD",
            share_price=Money(2000, "USD")), cooperative, timeout=60)


OWNER = """import sys, time
from pathlib import Path
from deploy import broker
config = broker.BrokerConfig(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
broker.EmbeddedBroker(config).start(ends_with_caller=True)
print("ready", flush=True)
time.sleep(3600)
"""


def test_a_guarded_broker_reused_at_once_ends_with_its_new_owner_not_its_first(
        cli_home: CliHome) -> None:
    """Two owners in a row, as when ``up`` is killed and started again at once: the broker the
    first started is reused by the second (which becomes its owner), so the first one's
    guard must not stop it under the second; it stops when the second ends."""
    args = [str(cli_home.data_dir), str(cli_home.port), str(cli_home.controller_port)]
    config = broker.BrokerConfig(cli_home.data_dir, cli_home.port, cli_home.controller_port)
    embedded = broker.EmbeddedBroker(config)

    def owner() -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-c", OWNER, *args], env=cli_home.env,
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "ready"
        return process

    first = owner()
    client = socket.create_connection(("127.0.0.1", cli_home.port))  # as up's services hold
    try:
        first.kill()
        first.wait()
        second = owner()  # while the guard waits for the clients to leave: a reuse
    finally:
        client.close()
    try:
        time.sleep(broker.CLIENTS_LEAVE_S + 3)
        assert embedded.status().running  # the guard now watches the second owner
    finally:
        second.kill()
        second.wait()
    deadline = time.monotonic() + broker.CLIENTS_LEAVE_S + 30
    while embedded.status().running and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not embedded.status().running and not _java_processes_using(cli_home.data_dir)
