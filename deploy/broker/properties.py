"""What an embedded broker is: one combined KRaft broker+controller on 127.0.0.1
(``BrokerConfig``), alone or one of the N voters of a cluster, its JVM heap from the
environment, and the ``server.properties`` written on every start."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from deploy.broker.errors import BrokerError


@dataclass(frozen=True)
class BrokerConfig:
    """One combined KRaft broker+controller on 127.0.0.1: alone (``voters`` empty), or node
    ``node_id`` of a cluster whose voters are ``voters`` ((node id, controller port), all of
    them, this one included) and whose storage is formatted with ``cluster_id``."""

    data_dir: Path
    port: int
    controller_port: int
    heap: str = "512m"
    node_id: int = 1
    voters: tuple[tuple[int, int], ...] = ()
    cluster_id: str | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def quorum(self) -> tuple[tuple[int, int], ...]:
        return self.voters or ((self.node_id, self.controller_port),)


def durability(brokers: int) -> dict[str, str]:
    """What a cluster of ``brokers`` promises about an acknowledged write: from three on,
    the production shape (every topic, internal ones included, on three replicas, a write
    acknowledged by two, no out-of-sync replica ever elected); below, what the brokers
    allow. ``docker-compose.yml`` gives its three-broker clusters the same (tested)."""
    replicas = str(min(3, brokers))
    in_sync = "2" if brokers >= 3 else "1"
    return {
        "default.replication.factor": replicas,
        "min.insync.replicas": in_sync,
        "unclean.leader.election.enable": "false",
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": in_sync,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": in_sync,
    }


# Read the environment on every call, so tests and the CLI can change it at run time. The
# client-side settings (KAFKA_BOOTSTRAP_SERVERS, the client port) live in services.config.


def heap() -> str:
    """The embedded broker's JVM heap (-Xms/-Xmx): ``$COOPBRIDGE_KAFKA_HEAP`` or ``512m``."""
    value = os.environ.get("COOPBRIDGE_KAFKA_HEAP") or "512m"
    if not re.fullmatch(r"\d+[kKmMgG]?", value):
        raise BrokerError(f"COOPBRIDGE_KAFKA_HEAP={value!r} is not a JVM heap size like 512m")
    return value


def server_properties(cfg: BrokerConfig, log_dir: Path) -> str:
    """The broker's ``server.properties``: its listeners, ``log_dir`` as its ``log.dirs``."""
    listeners = f"PLAINTEXT://127.0.0.1:{cfg.port},CONTROLLER://127.0.0.1:{cfg.controller_port}"
    voters = ",".join(f"{node}@127.0.0.1:{port}" for node, port in cfg.quorum)
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(cfg.node_id),
        "controller.quorum.voters": voters,
        "listeners": listeners,
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{cfg.port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        **durability(len(cfg.quorum)),
        "group.initial.rebalance.delay.ms": "0",
        # sized for a 2-core development box
        "num.network.threads": "2",
        "num.io.threads": "2",
        "log.cleaner.dedupe.buffer.size": "33554432",
    }
    lines = ["# Written by deploy/broker/properties.py on every start; edits are overwritten."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
