"""The operator's day with the ``coopbridge`` CLI, as processes: ``up`` with two nodes,
``demo --seed 7``, ``status``, ``export`` of Rosa's record, ``verify`` of the file offline
(and of a tampered copy), then Ctrl-C, after which no process of it is left."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from deploy.demo import plan

pytestmark = pytest.mark.kafka

COOPBRIDGE = [sys.executable, "-m", "deploy.cli"]


def two_free_ports() -> int:
    """A first port p with p and p + 1 free (the two gateways)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            with socket.socket() as second:
                second.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise AssertionError("no two consecutive free ports")


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


def test_up_demo_status_export_verify_and_ctrl_c(kafka_bootstrap, tmp_path):
    home = tmp_path / "home"
    host, other = "t" + os.urandom(4).hex(), "t" + os.urandom(4).hex()
    port = two_free_ports()
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
        assert line.startswith("coopbridge up"), printed
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
                           for row in status.stdout.splitlines()), (node, name, status.stdout)
        assert "consumer lag" in status.stdout and f"{host}.savings.processor" in status.stdout

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
