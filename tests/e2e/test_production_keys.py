"""No development keys in production: with ``COOPBRIDGE_ENV=production`` a gateway, a service
or a relay started without the keys it uses exits with status 2 and one line naming what is
missing, before it opens anything and without writing a key file; ``coopbridge keys new``
prints the pair an operator stores. Unset, a node still makes its development keys."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services import config

REPO = Path(__file__).resolve().parents[2]
#: Nothing listens here: a process that got past its key check would fail on Kafka instead.
NOWHERE = "127.0.0.1:9"

#: (what is started, the keys it uses)
PROCESSES = {
    "gateway": ([sys.executable, "-m", "deploy.cli", "gateway", "--port", "9"],
                (config.SIGNING_KEY, config.NODE_KEY)),
    "savings service": ([sys.executable, "-m", "services.savings"], (config.NODE_KEY,)),
    "membership service": ([sys.executable, "-m", "deploy.cli", "service", "membership"],
                           (config.NODE_KEY,)),
    "relay": ([sys.executable, "-m", "services.relay"], (config.SIGNING_KEY,)),
    "up": ([sys.executable, "-m", "deploy.cli", "up"], (config.SIGNING_KEY, config.NODE_KEY)),
}


def started(command: list[str], home: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in (config.SIGNING_KEY, config.NODE_KEY, "COOPBRIDGE_ENV")}
    env.update({"COOPBRIDGE_HOME": str(home), "COOPBRIDGE_NODE": "es",
                "PYTHONPATH": str(REPO), "KAFKA_BOOTSTRAP_SERVERS": NOWHERE, **variables})
    return subprocess.run(command, env=env, cwd=home.parent, capture_output=True, text=True,
                          check=False,
                          timeout=120)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_a_production_process_without_its_keys_exits_2_naming_them(name, tmp_path):
    command, uses = PROCESSES[name]
    done = started(command, tmp_path / "home", COOPBRIDGE_ENV="production")
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for variable in (config.SIGNING_KEY, config.NODE_KEY):
        assert (variable in lines[0]) == (variable in uses), (name, lines[0])
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*key*"))


def test_a_key_that_is_not_32_bytes_is_named_and_refused(tmp_path):
    command, _ = PROCESSES["relay"]
    short = base64.urlsafe_b64encode(b"x" * 16).decode()
    done = started(command, tmp_path / "home", COOPBRIDGE_ENV="production",
                   COOPBRIDGE_SIGNING_KEY=short)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "coopbridge: COOPBRIDGE_SIGNING_KEY must be 32 bytes, base64url-encoded"]


def test_an_unknown_environment_is_refused_rather_than_taken_for_development(tmp_path):
    command, _ = PROCESSES["gateway"]
    done = started(command, tmp_path / "home", COOPBRIDGE_ENV="prod")
    assert done.returncode == 2
    assert "COOPBRIDGE_ENV='prod'" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "home").exists()


def test_keys_new_prints_a_fresh_valid_pair_and_writes_nothing(tmp_path, monkeypatch):
    printed = [started([sys.executable, "-m", "deploy.cli", "keys", "new", "--node", "ec"],
                       tmp_path / "home") for _ in range(2)]
    assert all(p.returncode == 0 for p in printed), printed[0].stderr
    pairs = [dict(line.split("=", 1) for line in p.stdout.splitlines()) for p in printed]
    assert all(set(pair) == {config.SIGNING_KEY, config.NODE_KEY} for pair in pairs)
    values = [v for pair in pairs for v in pair.values()]
    assert len(set(values)) == 4  # fresh every time, the two keys of a node apart
    assert not (tmp_path / "home").exists()
    monkeypatch.setenv("COOPBRIDGE_ENV", "production")
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path / "home"))
    for variable, value in pairs[0].items():
        monkeypatch.setenv(variable, value)
    config.require_keys("ec", config.GATEWAY_KEYS)  # what a production node accepts
    assert len(config.signing_key("ec")) == len(config.node_key("ec")) == 32


def test_in_production_reading_a_missing_key_raises_and_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv(config.SIGNING_KEY, raising=False)
    monkeypatch.setenv("COOPBRIDGE_ENV", "production")
    with pytest.raises(config.ConfigError, match=config.SIGNING_KEY):
        config.signing_key("es")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.delenv("COOPBRIDGE_ENV")  # unset: a development key, kept across calls
    assert config.signing_key("es") == config.signing_key("es")
    assert (tmp_path / "es.signing-key").exists()


@pytest.mark.parametrize("name", ["gateway", "savings service", "relay"])
def test_a_node_id_that_is_none_is_one_line_and_exit_2(name, tmp_path):
    command, _ = PROCESSES[name]
    done = started(command, tmp_path / "home", COOPBRIDGE_ENV="production",
                   COOPBRIDGE_NODE="Not-A-Node")
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines() == [
        "coopbridge: invalid node id 'Not-A-Node': use 2-16 lowercase letters/digits"]


def test_development_mode_is_refused_in_production(tmp_path):
    keys = config.new_keys()
    done = started([sys.executable, "-m", "deploy.cli", "up", "--development"],
                   tmp_path / "home", COOPBRIDGE_ENV="production", **keys)
    assert done.returncode == 2 and "--development" in done.stderr, done.stderr[-2000:]


def test_two_nodes_in_one_production_up_are_refused_before_any_broker_starts(tmp_path):
    """Keys come from the environment in production, so two nodes of one ``up`` would share
    them: refused at once, not after six brokers started (``--clusters --brokers 3``)."""
    home = tmp_path / "home"
    done = started([sys.executable, "-m", "deploy.cli", "up", "--node", "es", "--node", "ec",
                    "--clusters", "--brokers", "3"], home, COOPBRIDGE_ENV="production",
                   KAFKA_BOOTSTRAP_SERVERS="", **config.new_keys())
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert "would give every node the same key" in done.stderr
    assert not home.exists() or not any(home.glob("cluster-*"))  # where up's clusters live
