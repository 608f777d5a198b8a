"""MirrorMaker 2 between nodes that each run on a cluster of their own: what it is told
(``settings``: each node's federation topic, and nothing else, to every other node's cluster,
under the same name), how one of its processes is started (``command``: dedicated mode, one
process per target cluster, from the jars of ``deploy/kafka/mirror/pom.xml``), and how far
behind it is (``lag``, from the progress it commits in the target cluster). It writes no
topic itself.

``deploy/federation/mm2.properties`` is ``settings`` for the two nodes of
``docker-compose.yml`` on their three-broker clusters (``tests/unit/test_compose.py`` keeps
them equal), so ``coopbridge up --clusters`` runs what the compose file runs.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.broker.embedded import LOG4J_CONFIG
from deploy.broker.kafka_jars import java, mirror_jars
from schemas.topics import federation_topic, mirror_progress_topic

#: The JVM's heap (what docker-compose.yml gives it too).
HEAP = "256m"
MAIN = "org.apache.kafka.connect.mirror.MirrorMaker"
#: How often a MirrorMaker commits what it copied: after a kill it copies again at most what
#: it copied since (at least once), and ``lag`` is this stale at most.
FLUSH_MS = 5000


def settings(bootstraps: dict[str, str]) -> dict[str, str]:
    """MirrorMaker 2's configuration for the nodes ``bootstraps`` names (node id, which is
    its cluster's alias -> bootstrap servers): each node's federation topic flows to every
    other node's cluster, the same name there (IdentityReplicationPolicy: a relay reads its
    peer's topic as on a shared broker; a cycle is avoided because each flow carries the
    sender's own topic only, never a copy)."""
    nodes = list(bootstraps)
    found: dict[str, str] = {"clusters": ", ".join(nodes)}
    found |= {f"{node}.bootstrap.servers": bootstraps[node] for node in nodes}
    for source in nodes:
        for target in nodes:
            if source != target:
                found[f"{source}->{target}.enabled"] = "true"
                found[f"{source}->{target}.topics"] = re.escape(federation_topic(source))
    found |= {
        "replication.policy.class":
            "org.apache.kafka.connect.mirror.IdentityReplicationPolicy",
        # only the messages travel: no group offsets, checkpoints, heartbeats or ACLs
        "emit.heartbeats.enabled": "false",
        "emit.checkpoints.enabled": "false",
        "emit.offset-syncs.enabled": "false",
        "sync.group.offsets.enabled": "false",
        "sync.topic.acls.enabled": "false",
        "sync.topic.configs.enabled": "true",  # the copy keeps retention.ms=-1
        "refresh.topics.interval.seconds": "30",
        # -1: the target cluster's default.replication.factor (3 on a three-broker cluster,
        # 1 on one broker), so one configuration serves every size of cluster
        "replication.factor": "-1",
        "offset.storage.replication.factor": "-1",
        "status.storage.replication.factor": "-1",
        "config.storage.replication.factor": "-1",
        # the heartbeat connector creates its (empty) topic in the target even with
        # heartbeats off
        "heartbeats.topic.replication.factor": "-1",
        # (no offset-syncs.topic.* setting: with offset syncs off, any such setting makes
        # MirrorSourceConnector refuse its configuration)
    }
    for target in nodes:  # the worker's settings reach it only under the target's alias
        found |= {
            # a copied message is acknowledged by every in-sync replica, once per session
            f"{target}.producer.acks": "all",
            f"{target}.producer.enable.idempotence": "true",
            f"{target}.offset.flush.interval.ms": str(FLUSH_MS),
            # a restarted worker takes its connectors back at once, not after 5 minutes
            f"{target}.scheduled.rebalance.max.delay.ms": "0",
        }
    return found


def properties_text(values: dict[str, str], header: str = "") -> str:
    """``values`` as a Java properties file (a backslash doubled: ``es\\\\.federation``)."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"{key} = {value.replace(chr(92), chr(92) * 2)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class MirrorMaker:
    """The MirrorMaker 2 process that writes into node ``target``'s cluster (``--clusters``
    ``target``: it copies every other node's federation topic there), its files in
    ``folder``."""

    target: str
    bootstraps: dict[str, str]
    folder: Path

    @property
    def properties_file(self) -> Path:
        return self.folder / "mm2.properties"

    def command(self, jar_home: Path) -> list[str]:
        """Write its configuration and return the command that runs it."""
        (self.folder / "logs").mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(properties_text(
            settings(self.bootstraps), "Written by deploy/mirror.py on every start."))
        return [java(), f"-Xms{HEAP}", f"-Xmx{HEAP}", "-server", "-XX:+UseG1GC",
                "-Djava.awt.headless=true", f"-Dkafka.logs.dir={self.folder / 'logs'}",
                f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                "-cp", f"{mirror_jars(jar_home)}/*", MAIN, str(self.properties_file),
                "--clusters", self.target]


def lag(source: str, source_bootstrap: str, target: str, target_bootstrap: str,
        timeout: float = 20.0) -> int | None:
    """How many records of ``source``'s federation topic MirrorMaker has not yet committed
    as copied into ``target``'s cluster (None: it has not set itself up there yet). It reads the
    progress MirrorMaker keeps in ``mm2-offsets.<source>.internal`` on the target, which is
    at most ``FLUSH_MS`` old."""
    from kafka import KafkaConsumer  # noqa: PLC0415 (heavy; only for status)
    from kafka.structs import TopicPartition  # noqa: PLC0415

    topic = federation_topic(source)
    copied: dict[int, int] = {}
    progress = mirror_progress_topic(source)
    reader = KafkaConsumer(bootstrap_servers=target_bootstrap, enable_auto_commit=False,
                           client_id="coopbridge-status", consumer_timeout_ms=2000)
    try:
        partitions = [TopicPartition(progress, p)
                      for p in sorted(reader.partitions_for_topic(progress) or ())]
        if not partitions:
            return None
        reader.assign(partitions)
        reader.seek_to_beginning()
        ends = reader.end_offsets(partitions)
        deadline = time.monotonic() + timeout
        while any(reader.position(tp) < ends[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{progress} not read to its end in {timeout:.0f} s")
            for records in reader.poll(timeout_ms=1000).values():
                for record in records:
                    _note(copied, record.key, record.value, source, topic)
    finally:
        reader.close()
    probe = KafkaConsumer(bootstrap_servers=source_bootstrap, client_id="coopbridge-status")
    try:
        ours = [TopicPartition(topic, p) for p in sorted(probe.partitions_for_topic(topic) or ())]
        ends = probe.end_offsets(ours) if ours else {}
    finally:
        probe.close()
    return sum(max(0, end - (copied[tp.partition] + 1 if tp.partition in copied else 0))
               for tp, end in ends.items())


def _note(copied: dict[int, int], key: bytes | None, value: bytes | None, source: str,
          topic: str) -> None:
    """One record of MirrorMaker's progress: key ``["MirrorSourceConnector", {"cluster",
    "topic", "partition"}]``, value ``{"offset": <the last source offset copied>}``."""
    try:
        connector, where = json.loads(key or b"null")
        offset = json.loads(value)["offset"] if value else None
    except (ValueError, TypeError, KeyError):
        return
    if (connector == "MirrorSourceConnector" and isinstance(where, dict)
            and where.get("cluster") == source and where.get("topic") == topic
            and isinstance(where.get("partition"), int)):
        if offset is None:
            copied.pop(where["partition"], None)
        else:
            copied[where["partition"]] = int(offset)
