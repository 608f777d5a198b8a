"""The Kafka clients of the runtime, built one way: settings in one place.

Producers wait for every in-sync replica (``acks=all``) and are idempotent. Readers without a
group (``reader``) are assigned partitions by hand and read from where they are told.
"""

from __future__ import annotations

import asyncio
import logging

from asyncio import Future
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services import config

log = logging.getLogger(__name__)


def producer(bootstrap: str | None = None, **settings) -> AIOKafkaProducer:
    defaults = dict(
        bootstrap_servers=bootstrap or config.bootstrap_servers(),
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        request_timeout_ms=30_000,
    )
    defaults.update(settings)
    return AIOKafkaProducer(**defaults)


def reader(bootstrap: str | None = None, **settings) -> AIOKafkaConsumer:
    """A consumer outside any group: assign partitions and seek yourself."""
    defaults = dict(
        bootstrap_servers=bootstrap or config.bootstrap_servers(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    defaults.update(settings)
    return AIOKafkaConsumer(**defaults)


async def all_partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic`` (the topic must exist)."""
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - no public refresh
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise RuntimeError(f"topic {topic} does not exist; run `coopbridge topics`")
    return [TopicPartition(topic, p) for p in sorted(partitions)]


def offsets_probe(bootstrap: str | None = None) -> AIOKafkaConsumer:
    """A consumer that is never assigned anything, only asked for end offsets.

    aiokafka answers ``end_offsets`` only after the fetch in flight on the same consumer,
    which the broker may hold for ``fetch_max_wait_ms`` (500 ms): a consumer that follows
    partitions is always fetching, so its own ``end_offsets`` costs half a second. A probe
    with no assignment answers in a round trip."""
    return reader(bootstrap)


async def queue(producer: AIOKafkaProducer, topic: str,
                records: Mapping[int, Iterable[tuple[bytes | None, bytes]]]
                ) -> dict[int, list[tuple[Future, int]]]:
    """Queue ``(key, value)`` records, by partition, in as few produce batches as they fill
    (``max_batch_size``; a record larger than that goes alone), in order. Returns, by
    partition, each batch's future and its number of records, for ``landed``. One batch
    costs what one ``send`` does, however many records it holds. Every partition's first
    batch is queued before any partition's second: aiokafka takes a partition's next batch
    only once the one before is on its way, and a producer has one request in flight a
    broker, so queueing partition by partition would hold the others back a round trip for
    every batch of the first."""
    built: dict[int, list[tuple[object, int]]] = {}
    for partition, items in records.items():
        batches = built[partition] = []
        batch, count = producer.create_batch(), 0
        for key, value in items:
            if batch.append(key=key, value=value, timestamp=None) is None:  # full, closed
                batches.append((batch, count))
                batch, count = producer.create_batch(), 0
                batch.append(key=key, value=value, timestamp=None)  # the first always fits
            count += 1
        if count:
            batch.close()
            batches.append((batch, count))
    queued: dict[int, list[tuple[Future, int]]] = {partition: [] for partition in built}
    for turn in range(max((len(b) for b in built.values()), default=0)):
        for partition, batches in built.items():
            if turn < len(batches):
                batch, count = batches[turn]
                queued[partition].append(
                    (await producer.send_batch(batch, topic, partition=partition), count))
    return queued


#: How long a writer waits for the broker to acknowledge what it queued before it counts as
#: an infrastructure failure (Java's ``delivery.timeout.ms`` is 120 s). aiokafka's idempotent
#: producer retries a batch for ever; after a whole cluster was stopped and started, the
#: make chaos run of the production shape saw a processor's batches never acknowledged and
#: the processor wait for them, neither going on nor ending. Ending it (status 1, nothing
#: committed) is what every other infrastructure failure does: it is started again with a
#: fresh producer, and its commands are redelivered.
ACKNOWLEDGED_WITHIN_S = 60.0


async def landed(queued: list[tuple[Future, int]],
                 within_s: float | None = None) -> list[int]:
    """The offsets where ``queue``'d records landed, once the broker acknowledged them;
    ``TimeoutError`` if it has not within ``within_s`` seconds (``ACKNOWLEDGED_WITHIN_S``)."""
    within_s = ACKNOWLEDGED_WITHIN_S if within_s is None else within_s
    offsets: list[int] = []
    deadline = asyncio.get_running_loop().time() + within_s
    for future, count in queued:
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        try:
            acknowledged = await asyncio.wait_for(asyncio.shield(future), remaining)
        except TimeoutError:
            raise TimeoutError(f"records queued {within_s:.0f} s ago were not acknowledged "
                               "by the broker") from None
        base = acknowledged.offset
        offsets.extend(range(base, base + count))
    return offsets


async def acknowledged(producer: AIOKafkaProducer, topic: str, value: bytes | None, *,
                       key: bytes | None = None, headers: list | None = None,
                       within_s: float | None = None) -> int:
    """Send one record and wait until the broker has acknowledged it; its offset. What
    ``send_and_wait`` does, bounded as ``landed`` is: ``TimeoutError`` after ``within_s``
    seconds, an infrastructure failure that ends the process (its work is redone by the
    next), never a wait for ever on a producer that will not deliver."""
    future = await producer.send(topic, value=value, key=key, headers=headers)
    return (await landed([(future, 1)], within_s))[0]


#: How long a new producer may take to start (``started_producer``): aiokafka's ``start``
#: waits for ever while the brokers it bootstrapped from do not answer.
STARTED_WITHIN_S = 30.0


async def started_producer(bootstrap: str | None = None) -> AIOKafkaProducer:
    """A new producer, started (to replace one that failed); if it cannot start within
    ``STARTED_WITHIN_S`` (the brokers are still away), what it opened is closed and the error
    raised (``TimeoutError`` for the wait)."""
    fresh = producer(bootstrap)
    try:
        await asyncio.wait_for(fresh.start(), STARTED_WITHIN_S)
    except BaseException:
        await close(fresh)
        raise
    return fresh


#: How long stopping one client may take (``close``).
CLOSED_WITHIN_S = 15.0


async def close(*clients) -> None:
    """Stop each client (``None`` skipped), each within ``CLOSED_WITHIN_S``. A producer's
    ``stop`` waits until all it holds is delivered: for ever for one that never delivers,
    which is why a writer ends (``landed``). A failure or a timeout is logged, not raised:
    closing after a failure must not mask it, nor keep the process from ending."""
    for client in clients:
        if client is None:
            continue
        try:
            await asyncio.wait_for(client.stop(), CLOSED_WITHIN_S)
        except TimeoutError:
            log.warning("a Kafka client did not close in %.0f s: abandoned", CLOSED_WITHIN_S)
            if isinstance(client, AIOKafkaProducer):
                await _abandon(client)
        except Exception:
            log.exception("closing a Kafka client failed")


async def _abandon(stuck: AIOKafkaProducer) -> None:
    """End a producer whose ``stop`` gave up waiting for its deliveries: what ``stop`` does
    after its flush, without the flush (aiokafka 0.x: its sender cancelled, its connections
    closed). Left alone, its sender would retry the batches it holds for ever and might
    deliver them long after their senders were told they were not sent."""
    try:
        if stuck._sender is not None:  # noqa: SLF001 - aiokafka has no abort
            await asyncio.wait_for(stuck._sender.close(), 5)  # noqa: SLF001
        await asyncio.wait_for(stuck.client.close(), 5)
    except Exception:  # noqa: BLE001 - it is being dropped: nothing more to do
        log.exception("an abandoned Kafka producer did not close")


async def read_to_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition],
                      handle, probe: AIOKafkaConsumer | None = None) -> dict[TopicPartition, int]:
    """Read ``partitions`` (assigned and positioned) at least up to their end offsets as of
    now, calling ``handle(record)`` for every record fetched (a record past that end is
    handled too, never dropped). Returns the positions reached: the next offset to read.
    Pass an ``offsets_probe`` to learn the ends without waiting for a fetch in flight."""
    ends = await (probe or consumer).end_offsets(partitions)
    positions = {tp: await consumer.position(tp) for tp in partitions}
    pending = {tp for tp in partitions if positions[tp] < ends[tp]}
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=500, max_records=5000)
        for records in batches.values():
            for record in records:
                handle(record)
        for tp in pending:  # the fetcher's position also steps over compacted offsets
            positions[tp] = await consumer.position(tp)
        pending = {tp for tp in pending if positions[tp] < ends[tp]}
    return positions


async def read_topic(topic: str, bootstrap: str | None = None) -> list:
    """Every record of ``topic`` from the earliest offset to its end as of now (for audits,
    tests and the CLI; streams use a long-lived reader instead)."""
    consumer = reader(bootstrap)
    await consumer.start()
    try:
        partitions = await all_partitions(consumer, topic)
        ends = await consumer.end_offsets(partitions)  # before any fetch is in flight
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list = []
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500, max_records=5000)
            for records_of in batches.values():
                records.extend(records_of)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()
