"""What the embedded broker is: one combined KRaft broker+controller on 127.0.0.1
(``BrokerConfig``), its JVM heap from the environment, and the ``server.properties`` written
on every start."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from deploy.broker.errors import BrokerError


@dataclass(frozen=True)
class BrokerConfig:
    """One combined KRaft broker+controller on 127.0.0.1."""

    data_dir: Path
    port: int
    controller_port: int
    heap: str = "512m"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


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
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{cfg.controller_port}",
        "listeners": listeners,
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{cfg.port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # sized for a 2-core development box
        "num.network.threads": "2",
        "num.io.threads": "2",
        "log.cleaner.dedupe.buffer.size": "33554432",
    }
    lines = ["# Written by deploy/broker/properties.py on every start; edits are overwritten."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"
