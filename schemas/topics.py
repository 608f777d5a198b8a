"""Every topic of a node, declared once: names, partition counts and configuration.

A node ``es`` owns::

    es.membership.commands   es.membership.events     (and the same for savings, training,
                                                       governance)
    es.membership.snapshots  the command processors' snapshots of their partitions, compacted
    es.replies               replies to commands, keyed by command id, each on the
                             partition its sender asked for (``REPLY_PARTITION_HEADER``)
    es.deadletter            messages nobody could read, with the reason in headers
    es.datakeys              per-member data keys, compacted; erasure writes a tombstone
    es.federation            signed messages to peer nodes (``schemas.federation``)

Commands and events of a service are co-partitioned (same key, same partition count), so the
writer of an aggregate reads back its own events from the partition of its commands. Events
are the system of record and are kept forever. A service's snapshots topic has the partition
count of its events topic too: the snapshot of events partition p lives in snapshots partition
p (``services.runtime.snapshots``). Commands are kept ``COMMANDS_KEPT`` (a week); the command
processors remember outcomes as long and refuse a command older than that (``schemas.runtime``).
The consumer groups are named here too.

A service's topics have ``SERVICE_PARTITIONS`` partitions unless ``COOPBRIDGE_SERVICE_PARTITIONS``
says otherwise when they are declared (more partitions, more instances of a service can share
the work). Nothing else assumes the count: processors and clients read it from the topics, and
a processor refuses to start on a commands and an events topic of different counts. Changing it
for a node whose topics exist is drift (``coopbridge topics`` reports it): repartitioning moves
keys, and so aggregates, to other partitions.
Nothing here talks to Kafka; ``deploy.topics``
creates what is declared.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field

from schemas.fields import NODE_ID_PATTERN

SERVICES: tuple[str, ...] = ("membership", "savings", "training", "governance", "insurance",
                              "placement")

#: Partitions of a service's commands and events topics (co-partitioned), by default.
SERVICE_PARTITIONS = 4
SERVICE_PARTITIONS_ENV = "COOPBRIDGE_SERVICE_PARTITIONS"
#: Partitions of the node-wide topics.
NODE_PARTITIONS = 4

_NODE = re.compile(NODE_ID_PATTERN)

#: How long the commands (and replies) topics keep a record: what redelivery can still reach.
COMMANDS_KEPT = dt.timedelta(days=7)

KEEP_FOREVER = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
KEEP_A_WEEK = {"cleanup.policy": "delete",
               "retention.ms": str(int(COMMANDS_KEPT.total_seconds() * 1000))}
#: Compacted, and cleaned often enough that a destroyed key does not linger in old segments.
COMPACTED = {
    "cleanup.policy": "compact",
    "segment.ms": str(3600 * 1000),
    "min.cleanable.dirty.ratio": "0.1",
    "delete.retention.ms": str(24 * 3600 * 1000),
}
#: Snapshots: compacted in small segments, so that a takeover reads little beyond the two
#: snapshots kept per partition (chunks of up to 512 KiB, under the broker's 1 MiB
#: default, unless one aggregate's state alone is larger).
SNAPSHOTS = {**COMPACTED, "segment.ms": str(600 * 1000), "segment.bytes": str(64 * 1024 * 1024)}


@dataclass(frozen=True)
class TopicSpec:
    """A topic as declared: name, partitions and the configs that must hold."""

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def check_node(node: str) -> str:
    """A node id is lowercase letters and digits, 2-16 long, starting with a letter."""
    if not _NODE.match(node):
        raise ValueError(f"invalid node id {node!r}: use 2-16 lowercase letters/digits")
    return node


def commands_topic(node: str, service: str) -> str:
    return f"{check_node(node)}.{_service(service)}.commands"


def events_topic(node: str, service: str) -> str:
    return f"{check_node(node)}.{_service(service)}.events"


def snapshots_topic(node: str, service: str) -> str:
    """Where a service's command processors keep snapshots of their partitions."""
    return f"{check_node(node)}.{_service(service)}.snapshots"


def replies_topic(node: str) -> str:
    return f"{check_node(node)}.replies"


#: A command's header naming the partition of ``{node}.replies`` its sender reads (ASCII
#: digits), so that a client reads its own replies, not every client's. A command without
#: it (or with a partition the topic does not have) is answered on the partition its id
#: hashes to (murmur2, as Kafka's default partitioner). It routes; it never changes a reply.
REPLY_PARTITION_HEADER = "coop.reply.partition"


def deadletter_topic(node: str) -> str:
    return f"{check_node(node)}.deadletter"


def datakeys_topic(node: str) -> str:
    return f"{check_node(node)}.datakeys"


def federation_topic(node: str) -> str:
    """Signed messages this node sends to its peers (they read it; see ``schemas.federation``)."""
    return f"{check_node(node)}.federation"


def mirror_progress_topic(source: str) -> str:
    """Where MirrorMaker 2 commits how far it copied node ``source``'s federation topic, in
    the target node's cluster (its name is MirrorMaker's: ``mm2-offsets.<alias>.internal``,
    the cluster alias being the node id; ``deploy.mirror`` reads it for the lag)."""
    return f"mm2-offsets.{check_node(source)}.internal"


def federation_group(node: str) -> str:
    """The consumer group of a node's federation relay."""
    return f"{check_node(node)}.federation.relay"


def processor_group(node: str, service: str) -> str:
    """The consumer group of a service's command processors."""
    return f"{check_node(node)}.{_service(service)}.processor"


def gateway_group(node: str, replica: str) -> str:
    """The faust app (and consumer group) of one gateway replica: each replica reads all."""
    return f"{check_node(node)}-gateway-{replica}"


def service_partitions() -> int:
    """Partitions of a service's commands and events topics: ``COOPBRIDGE_SERVICE_PARTITIONS``
    (read on every call) or ``SERVICE_PARTITIONS``."""
    raw = os.environ.get(SERVICE_PARTITIONS_ENV, "").strip()
    if not raw:
        return SERVICE_PARTITIONS
    if not raw.isdigit() or not 1 <= int(raw) <= 1024:
        raise ValueError(f"{SERVICE_PARTITIONS_ENV} must be a whole number from 1 to 1024")
    return int(raw)


def node_topics(node: str, partitions: int | None = None) -> list[TopicSpec]:
    """Every topic node ``node`` needs, in a stable order; a service's commands and events
    topics get ``partitions`` (default: ``service_partitions()``) each."""
    partitions = partitions or service_partitions()
    specs: list[TopicSpec] = []
    for service in SERVICES:
        specs.append(TopicSpec(commands_topic(node, service), partitions, KEEP_A_WEEK))
        specs.append(TopicSpec(events_topic(node, service), partitions, KEEP_FOREVER))
        specs.append(TopicSpec(snapshots_topic(node, service), partitions, SNAPSHOTS))
    specs.append(TopicSpec(replies_topic(node), NODE_PARTITIONS, KEEP_A_WEEK))
    specs.append(TopicSpec(deadletter_topic(node), NODE_PARTITIONS, KEEP_FOREVER))
    specs.append(TopicSpec(datakeys_topic(node), NODE_PARTITIONS, COMPACTED))
    specs.append(TopicSpec(federation_topic(node), NODE_PARTITIONS, KEEP_FOREVER))
    return specs


def _service(service: str) -> str:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
    return service
