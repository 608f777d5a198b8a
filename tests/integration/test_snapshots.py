"""Snapshots on the real broker (issue 21): a processor that takes a partition over starts from
the newest snapshot in ``{node}.membership.snapshots`` and folds only the events after it,
answers a retry of a command decided before the snapshot with the same bytes, and continues
the chains; a corrupt snapshot is ignored for an older one, or for the events from offset 0.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import pytest
from aiokafka.partitioner import murmur2

from schemas import membership as m
from schemas.topics import snapshots_topic
from services.runtime import kafka_clients
from services.runtime.snapshots import Manifest, chunk_key, manifest_key
from tests.integration.membership_world import (
    audit,
    joins,
    read_events,
    register_cooperative,
    register_member,
    running,
)

pytestmark = pytest.mark.kafka

PARTITIONS = 4


def partition_of(aggregate_id: str) -> int:
    return (murmur2(aggregate_id.encode()) & 0x7FFFFFFF) % PARTITIONS


@pytest.fixture
def world(node, monkeypatch):
    monkeypatch.setenv("COOPBRIDGE_SNAPSHOT_EVERY", "2")
    return node


async def story(client, keys) -> tuple[str, str, str, bytes]:
    """A cooperative, Rosa and her membership, and a dozen members more (so that every
    partition gains events): Rosa's id, the cooperative's, the join's id and its reply."""
    cooperative = await register_cooperative(client)
    rosa = await register_member(client, keys)
    join = await client.send(joins(rosa, cooperative), rosa)
    assert join.accepted
    for _ in range(12):
        await register_member(client, keys)
    return rosa, cooperative, join.payload.command_id, join.raw


async def snapshots_of(bootstrap: str, node: str, partition: int) -> dict[bytes, bytes]:
    """The live records of a snapshots partition, by key (tombstones applied)."""
    live: dict[bytes, bytes] = {}
    for record in await kafka_clients.read_topic(snapshots_topic(node, "membership"), bootstrap):
        if record.partition == partition:
            if record.value is None:
                live.pop(record.key, None)
            else:
                live[record.key] = record.value
    return live


async def written(bootstrap: str, node: str, partition: int) -> list[Manifest]:
    """The manifests of a partition's snapshots, newest first."""
    live = await snapshots_of(bootstrap, node, partition)
    manifests = [msgspec.msgpack.decode(value, type=Manifest) for key, value in live.items()
                 if b"/manifest/" in key]
    return sorted(manifests, key=lambda found: found.covers, reverse=True)


async def test_a_takeover_from_a_snapshot_answers_an_old_retry_alike_and_continues_chains(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys) as first:
        rosa, cooperative, join_id, join_reply = await story(client, keys)
        partition = partition_of(rosa)
        for _ in range(100):  # snapshots every 2 events, beside the commands
            if first.snapshots.written:
                break
            await asyncio.sleep(0.1)
        assert first.snapshots.written
        reached = first.logs[partition].next_offset
    # a clean stop snapshots what every partition gained since its last snapshot
    [newest, *_] = await written(bootstrap, node, partition)
    assert newest.covers == reached
    async with running(node, bootstrap, keys) as second:
        assert second.rebuilt[partition][:2] == (reached, reached)  # nothing folded
        again = await client.send(joins(rosa, cooperative), rosa, command_id=join_id)
        assert again.raw == join_reply  # the same outcome, byte for byte
        ended = await client.send(m.EndMembership(
            member_id=rosa, cooperative_id=cooperative, reason=m.EndReason.RETURNED_HOME,
            ended_on=dt.date(2026, 1, 2)), rosa)
        assert ended.accepted and [e.sequence for e in ended.payload.events] == [3]
    log = audit(await read_events(bootstrap, node))
    assert log["sequences"][rosa] == [1, 2, 3]
    assert all(sequences == list(range(1, len(sequences) + 1))
               for sequences in log["sequences"].values())


async def test_a_corrupt_snapshot_is_ignored_for_an_older_one_or_the_whole_fold(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys) as first:
        rosa, cooperative, join_id, join_reply = await story(client, keys)
        partition = partition_of(rosa)
        for _ in range(100):  # a snapshot of Rosa's partition, then one event more
            if first.snapshots.covered(partition):
                break
            await asyncio.sleep(0.1)
        await client.send(m.EndMembership(
            member_id=rosa, cooperative_id=cooperative, reason=m.EndReason.RETURNED_HOME,
            ended_on=dt.date(2026, 1, 2)), rosa)
        reached = first.logs[partition].next_offset
    newest, older = (await written(bootstrap, node, partition))[:2]
    assert older.covers < newest.covers == reached
    topic = snapshots_topic(node, "membership")
    producer = kafka_clients.producer(bootstrap)
    await producer.start()
    try:  # one chunk of the newest altered: its digest no longer matches
        live = await snapshots_of(bootstrap, node, partition)
        key = chunk_key(partition, newest.snapshot, 0)
        await producer.send_and_wait(topic, key=key, value=live[key][:-1] + b"\x00",
                                     partition=partition)
    finally:
        await producer.stop()
    async with running(node, bootstrap, keys) as second:
        assert second.rebuilt[partition][:2] == (older.covers, reached)
        again = await client.send(joins(rosa, cooperative), rosa, command_id=join_id)
        assert again.raw == join_reply
        member = second.logs[partition].streams[("member", rosa)]
        assert member.version == 3 and not member.state.memberships[0].active
    # now every snapshot of the partition is garbage: the fold starts from offset 0
    producer = kafka_clients.producer(bootstrap)
    await producer.start()
    try:
        for slot in (0, 1):
            await producer.send_and_wait(topic, key=manifest_key(partition, slot),
                                         value=b"\x93not a manifest", partition=partition)
    finally:
        await producer.stop()
    async with running(node, bootstrap, keys) as third:
        assert third.rebuilt[partition][:2] == (0, reached)
        again = await client.send(joins(rosa, cooperative), rosa, command_id=join_id)
        assert again.raw == join_reply
        assert third.logs[partition].streams[("member", rosa)].version == 3


async def test_a_snapshot_beyond_the_events_partition_is_ignored(world):
    """Topics remade: the snapshots of the old events partition cover events it no longer
    holds, or end on another event; either way the fold starts from offset 0."""
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys) as first:
        rosa, _, _, _ = await story(client, keys)
        partition = partition_of(rosa)
        reached = first.logs[partition].next_offset
    [newest, *_] = await written(bootstrap, node, partition)
    forged = msgspec.structs.replace(newest, covers=reached + 50)
    producer = kafka_clients.producer(bootstrap)
    await producer.start()
    try:
        for slot in (0, 1):
            await producer.send_and_wait(
                snapshots_topic(node, "membership"), key=manifest_key(partition, slot),
                value=msgspec.msgpack.encode(msgspec.structs.replace(forged, slot=slot)),
                partition=partition)
    finally:
        await producer.stop()
    async with running(node, bootstrap, keys) as second:
        assert second.rebuilt[partition][:2] == (0, reached)
        assert second.logs[partition].streams[("member", rosa)].version == 2
