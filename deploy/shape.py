"""Which Kafka the nodes of one ``coopbridge up`` run on, its *shape*: the cluster
``KAFKA_BOOTSTRAP_SERVERS`` names (nothing started); else the embedded single broker all
nodes share (the default); ``--brokers N``: one replicated local cluster of N brokers they
share; ``--clusters``: a cluster of its own for each node (N brokers each), MirrorMaker 2
carrying the federation topics between them. Reads and writes no topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deploy import broker
from deploy.mirror import MirrorMaker

Local = broker.EmbeddedBroker | broker.EmbeddedCluster


@dataclass
class Shape:
    """Each node's bootstrap, the local brokers or clusters to start (each once), and the
    replication factor of the topics created on them (None: ``config.replication_factor``)."""

    bootstraps: dict[str, str]
    local: dict[str, Local] = field(default_factory=dict)  # by name, in start order
    replication: int | None = None
    separate: bool = False  # a cluster per node


def plan(nodes: tuple[str, ...], brokers: int = 1, clusters: bool = False) -> Shape:
    """The shape ``up --brokers N [--clusters]`` asks for, before anything starts."""
    external = broker.external_bootstrap()
    if external:
        if clusters or brokers > 1:
            raise broker.BrokerError(
                "--brokers and --clusters start local clusters, but KAFKA_BOOTSTRAP_SERVERS "
                f"names one ({external}): unset it, or leave the options out")
        return Shape({node: external for node in nodes})
    replication = min(3, brokers) if brokers > 1 or clusters else None
    if clusters:
        local: dict[str, Local] = {
            f"cluster-{node}": broker.local_cluster(f"cluster-{node}", brokers, block)
            for block, node in enumerate(nodes)}
        return Shape({node: local[f"cluster-{node}"].bootstrap for node in nodes}, local,
                     replication, separate=True)
    one: Local = (broker.default_broker() if brokers == 1
                  else broker.local_cluster("broker", brokers))
    return Shape({node: one.bootstrap for node in nodes}, {"broker": one}, replication)


def mirror_makers(kafka: Shape, home: Path) -> list[MirrorMaker]:
    """With a cluster per node, one MirrorMaker 2 per node, writing into its cluster every
    other node's federation topic (none for a node alone)."""
    if not kafka.separate or len(kafka.bootstraps) < 2:
        return []
    return [MirrorMaker(node, kafka.bootstraps, home / f"mirror-{node}")
            for node in kafka.bootstraps]


def running(local: Local) -> bool:
    """Whether any of its brokers runs."""
    status = local.status()
    return bool(status.running)


def described(shape: Shape) -> list[dict]:
    """The local brokers and clusters as ``up.json`` keeps them, for ``coopbridge status``."""
    return [{"name": name, "data_dir": str(local.data_dir), "ports": [
        [n.config.port, n.config.controller_port] for n in _nodes(local)],
        "single": isinstance(local, broker.EmbeddedBroker)}
        for name, local in shape.local.items()]


def from_description(entry: dict) -> Local:
    if entry.get("single"):
        port, controller = entry["ports"][0]
        return broker.EmbeddedBroker(broker.BrokerConfig(
            data_dir=Path(entry["data_dir"]), port=port, controller_port=controller))
    return broker.EmbeddedCluster(entry["name"], Path(entry["data_dir"]),
                                  [tuple(pair) for pair in entry["ports"]])


def _nodes(local: Local) -> list[broker.EmbeddedBroker]:
    return local.nodes if isinstance(local, broker.EmbeddedCluster) else [local]


def replication_env(shape: Shape) -> dict[str, str]:
    """What a child of ``up`` is told about replication (the topics it may create)."""
    return {} if shape.replication is None else {
        "COOPBRIDGE_REPLICATION_FACTOR": str(shape.replication)}
