"""The contracts on the real broker: topics, a kafka-python producer read back by a faust agent
and by a kafka-python consumer, and dead letters that do not stop the stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from deploy.topics import ensure_node_topics
from schemas import REGISTRY, Message, membership
from schemas.fields import Money
from schemas.topics import deadletter_topic, events_topic, node_topics
from services.runtime.deadletter import read_letter
from services.runtime.streams import contract_topic, decoded, make_app

pytestmark = pytest.mark.kafka

MEMBER = "0192d3c4-0000-7000-8000-00000000a05a"
COOP = "0192d3c4-0000-7000-8000-0000000c0e5b"


def rosa_joins(cooperative_id: str = COOP) -> membership.MembershipStarted:
    return membership.MembershipStarted(
        member_id=MEMBER, cooperative_id=cooperative_id,
        role=membership.MembershipRole.WORKER_MEMBER, started_on=dt.date(2019, 5, 6),
        share_capital_required=Money(5000, "EUR"),
    )


def as_event(payload, node: str, sequence: int) -> bytes:
    command_id = str(uuid.uuid4())
    return REGISTRY.encode(
        payload, id=str(uuid.uuid4()), source=f"/coopbridge/{node}/membership",
        subject=payload.member_id, time=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC),
        sequence=sequence, causationid=command_id, correlationid=command_id,
    )


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                         linger_ms=0)


def read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 30) -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=1000)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records, deadline = [], time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def test_topics_are_created_once_and_again_without_error(kafka_bootstrap, node_id):
    first = ensure_node_topics(node_id, kafka_bootstrap)
    second = ensure_node_topics(node_id, kafka_bootstrap)
    declared = [spec.name for spec in node_topics(node_id)]
    assert sorted(first.created) == sorted(declared) and first.ok
    assert second.created == [] and sorted(second.existing) == sorted(declared) and second.ok
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        events = admin.describe_topics([events_topic(node_id, "savings")])[0]
        assert len(events["partitions"]) == 4
    finally:
        admin.close()


def test_a_topic_that_exists_with_fewer_partitions_is_reported_as_drift(kafka_bootstrap, node_id):
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics({events_topic(node_id, "savings"): {
            "num_partitions": 2, "replication_factor": 1}})
    finally:
        admin.close()
    report = ensure_node_topics(node_id, kafka_bootstrap)
    assert not report.ok
    assert any(d.startswith(f"{node_id}.savings.events: 2 partitions, declared 4")
               for d in report.drift), report.drift
    assert any("retention.ms" in d for d in report.drift), report.drift
    assert events_topic(node_id, "savings") not in report.created


def test_an_event_from_kafka_python_reads_back_equal_in_faust_and_in_kafka_python(
    kafka_bootstrap, node_id
):
    ensure_node_topics(node_id, kafka_bootstrap)
    topic = events_topic(node_id, "membership")
    sent = rosa_joins()
    raw = as_event(sent, node_id, sequence=1)
    with producer(kafka_bootstrap) as p:
        p.send(topic, key=sent.member_id.encode(), value=raw).get(timeout=30)

    by_kafka_python = read_all(kafka_bootstrap, topic, expected=1)
    assert len(by_kafka_python) == 1
    record = by_kafka_python[0]
    assert record.key == MEMBER.encode() and record.value == raw

    by_faust = asyncio.run(read_with_faust(kafka_bootstrap, node_id, topic, expected=1))
    assert len(by_faust) == 1

    for message in (REGISTRY.decode(record.value), by_faust[0]):
        assert message.payload == sent
        for field in ("member_id", "cooperative_id", "role", "started_on",
                      "share_capital_required"):
            assert getattr(message.payload, field) == getattr(sent, field)
        assert message.envelope.sequence == 1 and message.envelope.subject == MEMBER
    assert by_faust[0].envelope == REGISTRY.decode(record.value).envelope


def test_a_malformed_message_between_two_good_ones_goes_to_dead_letter_and_both_good_pass(
    kafka_bootstrap, node_id
):
    ensure_node_topics(node_id, kafka_bootstrap)
    topic = events_topic(node_id, "membership")
    first, second = rosa_joins(), rosa_joins("0192d3c4-0000-7000-8000-0000000c0e5c")
    garbage = b'{"specversion": "1.0", "type": "coop.membership.MembershipStarted.v1", oops'
    with producer(kafka_bootstrap) as p:
        key = MEMBER.encode()  # one key, one partition: the order is kept
        for value in (as_event(first, node_id, 1), garbage, as_event(second, node_id, 2)):
            p.send(topic, key=key, value=value).get(timeout=30)

    processed = asyncio.run(read_with_faust(kafka_bootstrap, node_id, topic, expected=2))
    assert [m.payload for m in processed] == [first, second]

    letters = read_all(kafka_bootstrap, deadletter_topic(node_id), expected=1)
    assert len(letters) == 1
    letter = read_letter(letters[0].topic, letters[0].key, letters[0].value, letters[0].headers)
    assert letter.value == garbage and letter.key == MEMBER.encode()
    assert letter.reason == "invalid_json"
    assert letter.source_topic == topic and letter.offset == 1
    assert letter.detail.startswith("invalid_json")


async def read_with_faust(bootstrap: str, node: str, topic: str, expected: int) -> list[Message]:
    """Run a faust agent over ``topic`` until it has yielded ``expected`` messages."""
    app = make_app(f"{node}-contracts-test", bootstrap)
    got: list[Message] = []
    done = asyncio.Event()

    @app.agent(contract_topic(app, topic))
    async def collect(stream):
        async for message in decoded(app, node, stream):
            got.append(message)
            if len(got) >= expected:
                done.set()

    await app.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=60)
    finally:
        await app.stop()
    return got
