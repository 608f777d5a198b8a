"""The projections' bulk catch-up: a gateway far behind the log folds it in batches straight
from a batch consumer, without faust's per-event stream machinery.

What it reads: the partitions of the node's events topics it is given (every one, from
``gateway.projections``; some, from a worker of ``gateway.rebuild``), from the offsets the
store holds, with a consumer outside any group (it commits nothing: the store is the
checkpoint). What it writes: ``{node}.deadletter``, through the
batches it hands to the projections (a producer of its own, acknowledged by the broker before
the batch is written). It folds nothing itself: every fetch goes, as one batch, to the same
function that folds the faust agent's batches (``Projections._apply``), so the two paths cannot
disagree, and each fetch is written to the store as one ``WriteBatch``.

It reads every partition up to the end offsets it is given, asks for the ends again, and goes
on until the log is no more than ``beyond`` records ahead; the faust agent then tails from the
offsets the store holds. Why aiokafka's ``getmany`` and not confluent-kafka:
``docs/benchmarks.md``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka import TopicPartition

from services.runtime import kafka_clients
from services.runtime.deadletter import DeadLetter, publish

#: What the consumer fetches at most at a time (aiokafka's default, 50 MiB, buffered ahead,
#: would stay in the gateway's resident memory long after the catch-up).
FETCH_BYTES = 8 << 20

#: ``(records, publish)``: fold and write one batch, sending its dead letters with ``publish``.
Apply = Callable[[list, Callable[[DeadLetter], Awaitable[None]]], Awaitable[None]]


async def catch_up(bootstrap: str | None, stored: dict[tuple[str, int], int],
                   ends: dict[tuple[str, int], int], apply: Apply, *, beyond: int,
                   batch: int) -> None:
    """Fold every partition of ``ends`` from ``stored`` (the store's next offsets) up to
    ``ends``, ``batch`` records a fetch at most, then again to the new ends while the log is
    more than ``beyond`` records ahead."""
    consumer = kafka_clients.reader(bootstrap, fetch_max_bytes=FETCH_BYTES,
                                    max_partition_fetch_bytes=FETCH_BYTES // 8)
    producer = kafka_clients.producer(bootstrap)
    probe = kafka_clients.offsets_probe(bootstrap)
    await consumer.start()
    try:
        await producer.start()
        try:
            await probe.start()
            try:
                partitions = [TopicPartition(topic, partition) for topic, partition in ends]
                consumer.assign(partitions)
                for tp in partitions:
                    consumer.seek(tp, stored.get((tp.topic, tp.partition), 0))

                async def send(letter: DeadLetter) -> None:
                    await publish(producer, letter)

                goal = {tp: ends.get((tp.topic, tp.partition), 0) for tp in partitions}
                while True:
                    await _read_to(consumer, goal, apply, send, batch)
                    goal = await probe.end_offsets(partitions)
                    behind = 0
                    for tp, end in goal.items():
                        behind += max(0, end - await consumer.position(tp))
                    if behind <= beyond:
                        return
            finally:
                await probe.stop()
        finally:
            await producer.stop()
    finally:
        await consumer.stop()


async def _read_to(consumer, goal: dict[TopicPartition, int], apply: Apply,
                   send: Callable[[DeadLetter], Awaitable[None]], batch: int) -> None:
    """Fold what ``consumer`` fetches, one batch per fetch, until every partition reached its
    ``goal`` (records past it that came in the same fetch are folded too, never dropped)."""
    pending = {tp for tp, end in goal.items() if await consumer.position(tp) < end}
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=500, max_records=batch)
        records = [record for part in fetched.values() for record in part]
        if records:
            await apply(records, send)
        # the fetcher's position also steps over compacted offsets and transaction markers
        pending = {tp for tp in pending if await consumer.position(tp) < goal[tp]}
