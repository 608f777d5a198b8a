"""Creating a node's topics as ``schemas.topics`` declares them, and reporting drift.

``ensure_topics`` is idempotent: it creates what is missing (a concurrent creator is fine),
leaves what exists alone, and reports *drift*: a topic that exists with another partition
count (co-partitioning breaks, keys land elsewhere) or with a declared config that differs
(e.g. events that would not be kept forever). Drift is reported, never "fixed" silently:
repartitioning a log is an operator's decision.

It creates the topics of a node (every topic ``schemas.topics`` declares for it) and reads
only their metadata and configs; it writes no record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from schemas.topics import TopicSpec, node_topics
from services import config

_ALREADY_EXISTS = TopicAlreadyExistsError.errno


@dataclass
class TopicReport:
    """What ``ensure_topics`` found and did."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drift


def ensure_topics(
    specs: list[TopicSpec], bootstrap: str | None = None, replication_factor: int | None = None
) -> TopicReport:
    """Create the missing topics of ``specs``; report those that exist and any drift."""
    replication = replication_factor or config.replication_factor()
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap or config.bootstrap_servers(),
        client_id="coopbridge-topics",
        request_timeout_ms=30_000,
    )
    try:
        report = TopicReport()
        present = set(admin.list_topics())
        missing = [s for s in specs if s.name not in present]
        if missing:
            result = admin.create_topics(
                {
                    s.name: {
                        "num_partitions": s.partitions,
                        "replication_factor": replication,
                        "configs": s.config,
                    }
                    for s in missing
                },
                raise_errors=False,
                wait_for_metadata=True,
            )
            for topic in result["topics"]:
                if topic["error_code"] == 0:
                    report.created.append(topic["name"])
                elif topic["error_code"] != _ALREADY_EXISTS:
                    raise RuntimeError(
                        f"could not create {topic['name']}: "
                        f"{topic.get('error_message') or topic['error_code']}"
                    )
        report.existing = [s.name for s in specs if s.name not in report.created]
        report.drift = _drift(admin, [s for s in specs if s.name in report.existing])
        return report
    finally:
        admin.close()


def ensure_node_topics(node: str | None = None, bootstrap: str | None = None,
                       replication_factor: int | None = None) -> TopicReport:
    """Every topic of node ``node`` (default: this node)."""
    return ensure_topics(node_topics(node or config.node_id()), bootstrap, replication_factor)


def _drift(admin: KafkaAdminClient, specs: list[TopicSpec]) -> list[str]:
    if not specs:
        return []
    found = []
    described = {t["name"]: t for t in admin.describe_topics([s.name for s in specs])}
    configs = admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in specs], config_filter="all"
    )
    for spec in specs:
        partitions = len(described[spec.name]["partitions"])
        if partitions != spec.partitions:
            found.append(
                f"{spec.name}: {partitions} partitions, declared {spec.partitions}"
            )
        actual = _config_values(configs, spec.name)
        for key, wanted in sorted(spec.config.items()):
            if actual.get(key) != wanted:
                found.append(f"{spec.name}: {key}={actual.get(key)}, declared {wanted}")
    return found


def _config_values(configs: dict, topic: str) -> dict[str, str | None]:
    entries = configs.get("topic", {}).get(topic, {})
    return {key: entry.get("value") for key, entry in entries.items()}
