"""The operator's day with the ``coopbridge`` CLI, as processes: ``up`` with two nodes,
``demo --seed 7``, ``status``, ``checkpoint`` (of a running and a stopped gateway),
``export`` of Rosa's record, ``verify`` of the file offline
(and of a tampered copy), then Ctrl-C, after which no process of it is left. And ``up`` with
a broker of its own: Ctrl-C in the middle of the demo's seeding stops everything within
seconds, and a SIGKILLed ``up`` leaves no process behind, its broker included."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from deploy.demo import plan
from tests.e2e.conftest import listen_ports
from tests.integration.test_broker import CliHome, cli_home  # noqa: F401 (a fixture)

pytestmark = pytest.mark.kafka

COOPBRIDGE = [sys.executable, "-m", "deploy.cli"]


def processes_of(home: Path) -> list[int]:
    """Every live process whose environment names this COOPBRIDGE_HOME."""
    found, marker = [], f"COOPBRIDGE_HOME={home}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def graphql_mode(port: int) -> tuple[bool, int]:
    """Whether the gateway on ``port`` answers an introspection query, and the status of
    ``GET /graphql`` from a browser (GraphiQL's page)."""
    url = f"http://127.0.0.1:{port}/graphql"
    body = httpx.post(url, json={"query": "{ __schema { queryType { name } } }"},
                      timeout=30).json()
    answered = not body.get("errors") and body["data"]["__schema"]["queryType"]["name"] == "Query"
    return answered, httpx.get(url, headers={"accept": "text/html"}, timeout=30).status_code


def cli(env, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([*COOPBRIDGE, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def log_tail(home: Path, node: str, name: str, size: int = 3000) -> str:
    """The end of a supervised process's log (``$COOPBRIDGE_HOME/logs``): what a failure
    shows, so that a process that was not running says why (it has flaked under load)."""
    path = home / "logs" / f"{node}-{name}.log"
    return path.read_text(errors="replace")[-size:] if path.exists() else f"no {path.name}"


def test_up_demo_status_export_verify_and_ctrl_c(kafka_bootstrap, tmp_path):
    home = tmp_path / "home"
    host, other = "t" + os.urandom(4).hex(), "t" + os.urandom(4).hex()
    port = listen_ports(2)  # the two gateways: port and port + 1
    env = {k: v for k, v in os.environ.items()
           if k not in ("COOPBRIDGE_NODE_KEY", "COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_PEERS",
                        "COOPBRIDGE_PUBLIC_URL")}  # two nodes: each its own keys
    env.update(COOPBRIDGE_HOME=str(home), KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
               COOPBRIDGE_GATEWAY_PORT=str(port), COLUMNS="200")
    up = subprocess.Popen([*COOPBRIDGE, "up", "--node", host, "--node", other], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in up.stdout:  # the last line comes once every gateway is ready
            lines.append(line)
            if line.startswith("coopbridge up"):
                break
        printed = "".join(lines)
        assert line.startswith("coopbridge up"), (printed, log_tail(home, host, "gateway"),
                                                  log_tail(home, other, "gateway"))
        assert f"http://127.0.0.1:{port}/dashboard#token=" in printed
        assert f"http://127.0.0.1:{port + 1}/dashboard#token=" in printed
        assert graphql_mode(port) == (False, 404)  # without --development: production
        assert "GraphiQL" not in printed

        seeded = cli(env, "demo", "--seed", "7", "--members", "60", "--node", host,
                     "--node", other, timeout=600)
        assert seeded.returncode == 0, seeded.stdout[-3000:] + seeded.stderr[-3000:]

        status = cli(env, "status")
        assert status.returncode == 0, status.stderr
        for node in (host, other):
            for name in ("membership", "savings", "training", "federation", "gateway"):
                assert any(node in row and name in row and "running" in row
                           for row in status.stdout.splitlines()), (
                    node, name, status.stdout, log_tail(home, node, name))
        assert "consumer lag" in status.stdout and f"{host}.savings.processor" in status.stdout

        # the running gateway takes it itself (its store is locked to its process)
        taken = cli(env, "checkpoint", "--node", host)
        assert taken.returncode == 0, taken.stdout + taken.stderr
        assert f"node {host} checkpoint" in taken.stdout and "records of the log" in taken.stdout

        story = plan(7, 60, [host, other])
        rosa = story.rosa["member"]
        quito = story.cooperatives["quito"][0]
        record = tmp_path / "rosa.jwt"
        exported = cli(env, "export", "--node", host, "--member", rosa,
                       "--to-cooperative", quito, "--out", str(record))
        assert exported.returncode == 0, exported.stdout + exported.stderr
        assert record.exists() and Path(f"{record}.jwks.json").exists()

        checked = cli(env, "verify", str(record))
        assert checked.returncode == 0, checked.stdout
        assert "valid" in checked.stdout and "revocation" in checked.stdout

        header, payload, signature = record.read_text().strip().split(".")
        tampered = tmp_path / "tampered.jwt"
        tampered.write_text(f"{header}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}"
                            f"{payload[-1]}.{signature}")
        refused = cli(env, "verify", str(tampered), "--jwks", f"{record}.jwks.json",
                      "--status-list", f"{record}.status.jwt")
        assert refused.returncode == 1 and "not valid" in refused.stdout

        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=90) == 0
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGINT)
            try:
                up.wait(timeout=60)
            except subprocess.TimeoutExpired:
                up.kill()
    gone_within(home, 10)

    # the stopped node's store is copied by the command itself; only the newest are kept
    for _ in range(3):
        copied = cli(env, "checkpoint", "--node", host)
        assert copied.returncode == 0, copied.stdout + copied.stderr
    kept = [p for p in (home / "gateway" / "checkpoints" / host).iterdir()]
    assert len(kept) == 3 and all((p / "checkpoint.json").exists() for p in kept), kept

    # the stopped node's gateway store, rebuilt from the log
    replayed = cli(env, "replay", "--node", host)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert f"node {host} projections rebuilt" in replayed.stdout
    assert int(replayed.stdout.split(" events")[0].rsplit("· ", 1)[1]) > 0

    # a taken port is one line, before anything starts
    with socket.socket() as holder:
        # as any server would: the stopped gateway's closed connections may linger in
        # TIME_WAIT on this port, which only a socket without SO_REUSEADDR minds
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        taken = cli(env, "up", "--node", host, timeout=60)
    assert taken.returncode == 1 and f"port {port} on 127.0.0.1" in taken.stderr
    assert len(taken.stderr.strip().splitlines()) == 1, taken.stderr

    # a SIGKILLed up takes its services with it (parent-death signal)
    up = subprocess.Popen([*COOPBRIDGE, "up", "--node", host], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in up.stdout:
        if line.startswith("coopbridge up"):
            break
    assert processes_of(home), "up started nothing"
    up.kill()
    up.wait(10)
    gone_within(home, 30)


def gone_within(home: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while processes_of(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_of(home) == []


class Up:
    """``coopbridge up`` as a process, its output read as it comes (so a long run never
    blocks on a full pipe)."""

    def __init__(self, env: dict, *args: str, path_first: Path | None = None):
        if path_first is not None:
            env = dict(env, PATH=f"{path_first}{os.pathsep}{env['PATH']}")
        self.lines: list[str] = []
        self.proc = subprocess.Popen([*COOPBRIDGE, "up", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, start: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in self.lines if line.startswith(start)), None)
            if found is not None:
                return found
            assert self.proc.poll() is None, "".join(self.lines)
            time.sleep(0.1)
        raise AssertionError(f"no line starting {start!r} in {timeout} s:\n"
                             + "".join(self.lines))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        """Whatever failed, as Ctrl-C would: nothing it started outlives the test."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.reader.join(10)


def test_ctrl_c_in_the_middle_of_the_demo_stops_up_and_its_broker_within_seconds(
        cli_home: CliHome, node_id: str):  # noqa: F811 (the fixture imported above)
    home = Path(cli_home.env["COOPBRIDGE_HOME"])
    port = int(cli_home.env["COOPBRIDGE_GATEWAY_PORT"])
    up = Up(cli_home.env, "--node", node_id, "--demo", "--members", "300", "--development")
    try:
        up.wait_for("coopbridge up")
        assert graphql_mode(port) == (True, 200)  # --development: GraphiQL, introspection
        assert f"GraphiQL · http://127.0.0.1:{port}/graphql#token=" in up.output
        # a log, not a terminal: a progress line every 10 s, so requests are in flight now
        up.wait_for("seeding · ", timeout=60)
        asked = time.monotonic()
        up.proc.send_signal(signal.SIGINT)
        assert up.proc.wait(timeout=60) == 0
        took = time.monotonic() - asked
    finally:
        up.stop()
    print(f"up stopped {took:.1f} s after Ctrl-C in the middle of the demo")
    assert took < 15, up.output  # it was 34 s: gateways waited 30 s for lost replies
    assert "demo seeding cut short" in up.output
    assert f"coopbridge demo --seed 7 --members 300 --node {node_id}" in up.output
    assert "broker stopped" in up.output
    gone_within(home, 10)


def test_a_sigkilled_up_leaves_no_process_not_even_its_broker_behind_a_java_wrapper(
        cli_home: CliHome, node_id: str, tmp_path: Path):  # noqa: F811
    # a `java` that forks the real one (no exec): a parent-death signal would reach only it
    wrapper = tmp_path / "wrapper"
    wrapper.mkdir()
    java = subprocess.run(["sh", "-c", "command -v java"], capture_output=True, text=True,
                          check=True).stdout.strip()
    (wrapper / "java").write_text(f'#!/bin/sh\n"{java}" "$@"\necho "java exited: $?"\n')
    (wrapper / "java").chmod(0o755)
    home = Path(cli_home.env["COOPBRIDGE_HOME"])
    up = Up(cli_home.env, "--node", node_id, path_first=wrapper)
    try:
        up.wait_for("coopbridge up")
        broker = int((cli_home.data_dir / "broker.pid").read_text())
        assert str(wrapper / "java").encode() in Path(f"/proc/{broker}/cmdline").read_bytes()
        assert "broker running · Kafka 4." in up.output  # started by this up
        assert processes_of(home), "up started nothing"
        up.proc.kill()
        up.proc.wait(10)
        gone_within(home, 30)  # the services, the wrapper and its JVM, the guard
    finally:
        up.stop()
    assert "the process that started the broker" in (
        cli_home.data_dir / "logs" / "guard.log").read_text()


def test_up_clusters_runs_a_cluster_per_node_with_mirror_makers_that_status_shows(
        kafka_lib: Path, tmp_path: Path):
    """``up --node a --node b --clusters``: a cluster of its own for each node, MirrorMaker 2
    supervised beside the services, ``status`` shows both MirrorMakers and the replication
    lag of each flow; Ctrl-C stops all of it, the clusters' JVMs included."""
    from deploy import broker  # noqa: PLC0415
    from deploy.broker.cluster import PORT_BLOCK  # noqa: PLC0415
    from tests.conftest import jar_home  # noqa: PLC0415

    home = tmp_path / "home"
    home.mkdir()
    (home / "kafka-lib").symlink_to(kafka_lib)
    (home / "kafka-mirror-lib").symlink_to(broker.mirror_jars(jar_home()))
    kafka = listen_ports(PORT_BLOCK + 2)  # the second cluster is a block further
    nodes = ["t" + os.urandom(4).hex() for _ in range(2)]
    env = {k: v for k, v in os.environ.items()
           if k not in ("COOPBRIDGE_NODE_KEY", "COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_PEERS",
                        "COOPBRIDGE_PUBLIC_URL", "KAFKA_BOOTSTRAP_SERVERS")}
    env.update(COOPBRIDGE_HOME=str(home), COOPBRIDGE_KAFKA_PORT=str(kafka),
               COOPBRIDGE_KAFKA_CONTROLLER_PORT=str(kafka + 1), COOPBRIDGE_KAFKA_HEAP="256m",
               COOPBRIDGE_GATEWAY_PORT=str(listen_ports(2)), COLUMNS="200")
    up = Up(env, "--node", nodes[0], "--node", nodes[1], "--clusters")
    try:
        banner = up.wait_for("coopbridge up", timeout=240)
        assert "+ mirrormaker" in banner
        bootstraps = {f"127.0.0.1:{kafka}", f"127.0.0.1:{kafka + PORT_BLOCK}"}
        assert all(b in banner for b in bootstraps), banner
        deadline = time.monotonic() + 120
        while True:  # MirrorMaker sets itself up on its cluster within seconds
            status = cli(env, "status")
            assert status.returncode == 0, status.stdout + status.stderr
            flows = [line for line in status.stdout.splitlines() if "→" in line]
            if len(flows) == 2 and all("running" in f and "not set up" not in f
                                       and "unknown" not in f for f in flows):
                break
            assert time.monotonic() < deadline, status.stdout
            time.sleep(2)
        assert "replication lag" in status.stdout
        for source, target in (nodes, nodes[::-1]):
            [flow] = [f for f in flows if f"{source} → {target}" in f]
            assert flow.split("│")[-2].strip().isdigit(), flow  # records behind: a number
        for node in nodes:
            assert any(node in row and "mirrormaker" in row and "running" in row
                       for row in status.stdout.splitlines()), status.stdout
        up.proc.send_signal(signal.SIGINT)
        assert up.proc.wait(timeout=120) == 0, up.output
    finally:
        up.stop()
    gone_within(home, 30)  # services, gateways, MirrorMakers, both clusters' JVMs
