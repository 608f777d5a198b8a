"""More partitions for a node's services: declared once, and the same count everywhere."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from schemas.topics import (
    SERVICE_PARTITIONS_ENV,
    SERVICES,
    commands_topic,
    events_topic,
    node_topics,
    service_partitions,
    snapshots_topic,
)
from services.runtime.core import partition_for
from services.runtime.ids import new_id


def partitions_of(node: str, **kwargs) -> dict[str, int]:
    return {spec.name: spec.partitions for spec in node_topics(node, **kwargs)}


def test_a_service_has_four_partitions_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv(SERVICE_PARTITIONS_ENV, raising=False)
    assert service_partitions() == 4
    assert set(partitions_of("es").values()) == {4}


def test_the_knob_changes_commands_events_and_snapshots_alike_and_nothing_else(monkeypatch):
    monkeypatch.setenv(SERVICE_PARTITIONS_ENV, "8")
    declared = partitions_of("es")
    service_topics = {topic("es", service) for service in SERVICES
                      for topic in (commands_topic, events_topic, snapshots_topic)}
    assert {declared[name] for name in service_topics} == {8}
    assert {n for name, n in declared.items() if name not in service_topics} == {4}
    assert set(partitions_of("es", partitions=16)[name] for name in service_topics) == {16}


@pytest.mark.parametrize("value", ["0", "-2", "eight", "1.5", "1025"])
def test_a_partition_count_that_cannot_be_is_refused(monkeypatch, value):
    monkeypatch.setenv(SERVICE_PARTITIONS_ENV, value)
    with pytest.raises(ValueError, match=SERVICE_PARTITIONS_ENV):
        node_topics("es")


@pytest.mark.parametrize("partitions", [1, 4, 8, 12])
def test_the_processor_expects_a_key_where_the_clients_partitioner_puts_it(partitions):
    """The processor's core refuses a command on another partition than murmur2 of its key
    says: with any count, that is where aiokafka's default partitioner (every sender's) sends
    it."""
    every = list(range(partitions))
    partitioner = DefaultPartitioner()
    for _ in range(200):
        key = new_id().encode()
        assert partition_for(key, partitions) == partitioner(key, every, every)
