"""Replay: rebuilding the gateway projections from 1,000,000 events vs a raw consume of them.

A fresh node gets a made-up but real history (``tests.bench.synth_events``: valid envelopes
of the real contracts, correct chains, sealed personal fields, keyed and partitioned like the
services write them) on its three events topics. Then, on the same broker:

* **raw**: one aiokafka consumer (no group) reads every partition of the three topics from the
  earliest offset to the end, counting records and nothing else; measured before and after
  the projections, the baseline is the mean of both;
* **replay**: ``coopbridge replay``'s rebuild (``gateway.rebuild``) with one worker process
  per core, from the planning of the partitions to the merged store;
* **projections**: ``gateway.projections.Projections`` on an empty data directory, in this
  process, as one worker runs it: from ``start()`` until ``ready()``, i.e. every partition
  applied up to its end offset as of the start;
* **depths**: that rebuild in one process over two more nodes with the same number of events,
  about 10 and about 1,000 a member.

Every figure is records per second over the same records (every one of them an event with a
sequence, so the projections apply every record), but one:

* **a new replica from a checkpoint**: while the log is written, once all but its last 5 % is
  there, a store folds it and takes a checkpoint (``gateway.checkpoints``); once the rest is
  written (and after the figures above), a new replica on an empty data directory starts:
  the checkpoint restored, the tail folded, from ``start()`` until ``ready()``. Its seconds
  against the full replay's seconds in one process, same log, same run (lower is better).

A store this far behind is caught up in bulk (``gateway.catchup``, aiokafka's ``getmany``)
before faust tails it.

Beside them, what reading an event costs the projections (``services.runtime.reading
.read_event``, the short way that accepts exactly what the full decode accepts) against the full
decode (``read(record, kind="event")``), in µs an event, over 100,000 events of the same
generator held in memory: the best of three passes each, interleaved, in this process's CPU
time.

Where confluent-kafka is installed (it is no dependency of coopbridge), one more row: its raw
batch ``consume()`` of the same partitions, against the same aiokafka baseline, the figure that
chose the catch-up's consumer (``docs/benchmarks.md``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator

from deploy.topics import ensure_node_topics
from gateway.checkpoints import Checkpoint, restore
from gateway import rebuild as gateway_rebuild
from gateway.projections import Projections, end_offsets
from schemas.topics import SERVICES, events_topic
from services.runtime import kafka_clients
from services.runtime.reading import read, read_event
from tests.bench.harness import Bench, Row
from tests.bench.synth_events import Record, Synth, produce

EVENTS_PER_MEMBER = 20  # registrations and activity: members = events / 20
TAIL = 0.05  # the part of the log a new replica folds after its checkpoint


async def raw_consume(bootstrap: str, topics: list[str]) -> tuple[int, float]:
    """(records read, seconds): every partition of ``topics``, earliest to end, one consumer."""
    began = time.perf_counter()
    consumer = kafka_clients.reader(bootstrap)
    await consumer.start()
    try:
        partitions = [tp for topic in topics
                      for tp in await kafka_clients.all_partitions(consumer, topic)]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        count = 0
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500, max_records=10_000)
            for records in batches.values():
                count += len(records)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return count, time.perf_counter() - began
    finally:
        await consumer.stop()


def raw_consume_confluent(bootstrap: str, ends: dict[tuple[str, int], int]) -> tuple[int, float]:
    """(records read, seconds): as ``raw_consume``, with confluent-kafka's batch ``consume``
    (its values as bytes, as the projections need them)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition  # noqa: PLC0415

    began = time.perf_counter()
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-raw",
                         "enable.auto.commit": False, "enable.partition.eof": False})
    try:
        partitions = [TopicPartition(t, p, OFFSET_BEGINNING) for (t, p), end in ends.items()
                      if end > 0]
        consumer.assign(partitions)
        count, pending = 0, partitions
        while pending:  # as raw_consume: count each fetch, then ask the positions
            count += len(consumer.consume(num_messages=10_000, timeout=0.5))
            pending = [tp for tp in consumer.position(pending)
                       if tp.offset < ends[(tp.topic, tp.partition)]]
        return count, time.perf_counter() - began
    finally:
        consumer.close()


async def seed(bench: Bench, node: str, events: int, seed: int = 7, tail: float = 0.0,
               before_tail: Callable[[], Awaitable[None]] | None = None,
               per_member: int = EVENTS_PER_MEMBER) -> Synth:
    """A fresh node's topics holding about ``events`` events (plus its data keys), about
    ``per_member`` of them a member; with ``before_tail``, it is awaited once all but the last
    ``tail`` of the log is written."""
    await asyncio.to_thread(ensure_node_topics, node, bench.bootstrap)
    synth = Synth(node, seed=seed)
    log = synth.log(*log_size(events, per_member))
    if before_tail is not None:
        await produce(bench.bootstrap, _first_events(log, int(events * (1 - tail))))
        await group_coordinator_up(bench.bootstrap, events_topic(node, "membership"))
        await before_tail()
    await produce(bench.bootstrap, log)
    await group_coordinator_up(bench.bootstrap, events_topic(node, "membership"))
    return synth


def log_size(events: int, per_member: int = EVENTS_PER_MEMBER) -> tuple[int, int]:
    """(members, activity) of ``Synth.log`` for about ``events`` events, about ``per_member``
    of them a member."""
    members = max(100 if per_member <= EVENTS_PER_MEMBER else 10, events // per_member)
    return members, events - members * 3 - members // 3 * 2 - max(3, members // 1000) * 4


class _Record:
    __slots__ = ("topic", "partition", "offset", "key", "value")

    def __init__(self, topic: str, offset: int, key: bytes, value: bytes):
        self.topic, self.partition, self.offset, self.key, self.value = topic, 0, offset, key, value


def decode_cost(node: str, events: int) -> tuple[float, float, int]:
    """(µs an event by ``read_event``, µs an event by the full decode, events read) over
    about ``events`` events of the generator, held in memory."""
    records = [_Record(topic, offset, key, value) for offset, (topic, key, value) in
               enumerate(Synth(node, seed=3).log(*log_size(events)))
               if not topic.endswith(".datakeys")]

    def short() -> None:
        for record in records:
            read_event(record)

    def full() -> None:
        for record in records:
            read(record, kind="event")

    best = {short: float("inf"), full: float("inf")}
    for _ in range(3):  # interleaved, in CPU time: the machine's other work counts for neither
        for way in best:
            began = time.process_time()
            way()
            best[way] = min(best[way], time.process_time() - began)
    return 1e6 * best[short] / len(records), 1e6 * best[full] / len(records), len(records)


def _first_events(log: Iterator[Record], events: int) -> Iterator[Record]:
    """The records of ``log`` up to its ``events``-th event (data keys are no events)."""
    for record in log:
        yield record
        if not record[0].endswith(".datakeys"):
            events -= 1
            if events <= 0:
                return


async def group_coordinator_up(bootstrap: str, topic: str) -> None:
    """Commit once for a throwaway group: a fresh broker creates its offsets topic on the
    first group's use, seconds that a node's broker paid long ago and no replay pays."""
    consumer = kafka_clients.reader(bootstrap, group_id=f"{topic}.bench-warm-up")
    await consumer.start()
    try:
        [first, *_] = await kafka_clients.all_partitions(consumer, topic)
        consumer.assign([first])
        await consumer.commit({first: 0})
    finally:
        await consumer.stop()


async def rebuild(bench: Bench, node: str) -> tuple[dict[str, int], float]:
    """(stats, seconds) of projections on an empty store, from start until ready."""
    began = time.perf_counter()
    async with Projections(node, bench.bootstrap, data_dir=bench.work / "replay" / node,
                           from_checkpoint=False) as views:
        await views.ready()
        return dict(views.stats), time.perf_counter() - began


async def checkpoint_of_the_head(bench: Bench, node: str) -> tuple[Checkpoint, float]:
    """(checkpoint, seconds to take it) of a store that folded what the log holds now."""
    async with Projections(node, bench.bootstrap, data_dir=bench.work / "head" / node,
                           checkpoints=bench.work / "checkpoints" / node, follow=False,
                           from_checkpoint=False) as views:
        await views.ready()
        began = time.perf_counter()
        taken = await views.checkpoint(keep=1)
        return taken, time.perf_counter() - began


async def from_checkpoint(bench: Bench, node: str) -> tuple[dict[str, int], float]:
    """(stats, seconds) of a new replica from start until ready: the newest checkpoint
    restored (verified, copied), then the tail folded, as a gateway's projections start."""
    began = time.perf_counter()
    async with Projections(node, bench.bootstrap, data_dir=bench.work / "restored" / node,
                           replica="2", checkpoints=bench.work / "checkpoints" / node) as views:
        await views.ready()
        if views.restored is None:
            raise AssertionError("the new replica did not start from the checkpoint")
        return dict(views.stats), time.perf_counter() - began


async def run(bench: Bench) -> None:
    node = "rp" + secrets.token_hex(3)
    wanted = bench.size(1_000_000, 10_000)
    began = time.perf_counter()
    head: list[tuple[Checkpoint, float]] = []
    head_s = [0.0]

    async def checkpoint_head() -> None:
        t0 = time.perf_counter()
        head.append(await checkpoint_of_the_head(bench, node))
        head_s[0] = time.perf_counter() - t0

    synth = await seed(bench, node, wanted, tail=TAIL, before_tail=checkpoint_head)
    events = sum(synth.counts.values())
    made = time.perf_counter() - began - head_s[0]
    topics = [events_topic(node, service) for service in SERVICES]
    raw_before = await raw_consume(bench.bootstrap, topics)
    stats, seconds = await rebuild(bench, node)
    workers = os.cpu_count() or 1
    began = time.perf_counter()
    parallel = await asyncio.to_thread(gateway_rebuild.rebuild, node, bench.bootstrap,
                                       bench.work / "replay" / f"{node}-parallel", workers)
    parallel_seconds = time.perf_counter() - began
    raw_after = await raw_consume(bench.bootstrap, topics)
    if raw_before[0] != events or stats["applied"] != events or parallel != stats:
        raise AssertionError(f"wrote {events} events, raw read {raw_before[0]}, "
                             f"projections {stats}, in parallel {parallel}")
    [(taken, take_s)] = head
    restored, ready_s = await from_checkpoint(bench, node)
    t0 = time.perf_counter()  # the restore alone, once more, into a directory of its own
    await asyncio.to_thread(restore, node, bench.work / "restore-only" / node, taken.path.parent,
                            topics)
    restore_s = time.perf_counter() - t0
    if restored["applied"] != events - taken.records:
        raise AssertionError(f"a checkpoint of {taken.records} records of {events} events,"
                             f" then {restored}")
    raw = (raw_before[0] / raw_before[1] + raw_after[0] / raw_after[1]) / 2
    if importlib.util.find_spec("confluent_kafka") is not None:
        ends = await end_offsets(bench.bootstrap, topics)
        count, took = await asyncio.to_thread(raw_consume_confluent, bench.bootstrap, ends)
        bench.add(Row(
            "replay", "records/s of a raw confluent-kafka batch consume of the same partitions",
            count / took, "records/s", raw, "raw aiokafka consume, mean of before and after",
            note=f"{count:,} records in {took:.1f} s, after the projections"))
    short, full, sample = decode_cost(node, bench.size(100_000, 2_000))
    bench.add(Row(
        "replay", "µs reading an event (read_event, the projections' short way)", short,
        "µs/event", full, 'the full decode, read(record, kind="event")', higher_is_better=False,
        note=(f"{sample:,} events of the same generator in memory, best of 3 passes each"
              " (CPU time);"
              " the short way accepts exactly what the full decode accepts")))
    mix = ", ".join(f"{name} {count:,}" for name, count in
                    sorted(synth.counts.items(), key=lambda kv: -kv[1])[:6])
    bench.add(Row(
        "replay", f"events/s of coopbridge replay --workers {workers} (one per core) over the"
        f" same {events:,} events", events / parallel_seconds, "events/s", raw,
        "raw aiokafka consume, mean of before and after", target=0.5,
        note=(f"{parallel_seconds:.1f} s from start to the merged store (the long-term goal"
              " is 0.7x)")))
    bench.add(Row(
        "replay", f"events/s rebuilding the projections from {events:,} events in one"
        " process", events / seconds, "events/s", raw,
        "raw aiokafka consume, mean of before and after",
        note=(f"{len(synth.member_ids):,} members, {len(synth.accounts):,} savings accounts;"
              f" {mix}; projections {seconds:.1f} s from start to ready"
              f" ({1e6 * seconds / events:.0f} µs/event), raw {raw_before[1]:.1f} s /"
              f" {raw_after[1]:.1f} s ({1e6 / raw:.0f} µs/record); log made and produced"
              f" in {made:.0f} s. {REMAINING}")))
    tail_events = events - taken.records
    bench.add(Row(
        "replay", f"seconds to a ready new replica from a checkpoint + a"
                  f" {100 * tail_events / events:.0f}% tail",
        ready_s, "s", seconds, "a full replay of the same log, this run",
        higher_is_better=False, target=0.15,
        note=(f"the checkpoint of {taken.records:,} events ({taken.size / 1e6:.0f} MB, taken"
              f" in {take_s:.2f} s by a running store) verified (SHA-256 of every file) and"
              f" hard-linked into an empty data directory ({restore_s:.2f} s alone), then"
              f" {tail_events:,} events folded"
              f" (bulk catch-up, then the faust agent's start), {ready_s:.1f} s from start to"
              f" ready; the full replay {seconds:.1f} s")))
    await depths(bench)


async def depths(bench: Bench) -> None:
    """The same number of events, about 10 and about 1,000 a member: a replay must not slow
    down as members' histories grow (rows, not documents rewritten whole)."""
    total = bench.size(300_000, 10_000)
    rates = {}
    for per_member in (10, 1000):
        node = "rd" + secrets.token_hex(3)
        synth = await seed(bench, node, total, per_member=per_member)
        events = sum(synth.counts.values())
        stats, seconds = await rebuild(bench, node)
        if stats["applied"] != events:
            raise AssertionError(f"wrote {events} events, projections {stats}")
        rates[per_member] = (events / seconds, events, len(synth.member_ids), seconds)
    (shallow, n10, m10, s10), (deep, n1k, m1k, s1k) = rates[10], rates[1000]
    bench.add(Row(
        "replay", f"events/s rebuilding {n1k:,} events of {m1k:,} members (~{n1k // m1k:,} a"
        " member)", deep, "events/s", shallow,
        f"the same rebuild of {n10:,} events of {m10:,} members (~{n10 // m10:,} a member)",
        target=0.8, note=f"{s1k:.1f} s against {s10:.1f} s"))


#: What a replay still spends per event (profiled with cProfile on the bulk path, issue 20).
REMAINING = ("Remaining cost per event of one worker (cProfile, 100,000 events folded from"
             " memory): the fold in Python ~37 % (the features' dispatch, building rows and"
             " their sort keys, documents re-read and decoded after they left the 4,096-"
             "document cache), the two JSON decodes ~25 % (read_event: 0.73x of the full"
             " decode), the commit ~21 % (msgpack encoding, the WriteBatch, the caches), the"
             " batch loop and aiokafka's record objects the rest. Rows keep it flat as"
             " histories grow; more workers help as far as the partitions split (only the"
             " savings topic's today: gateway.fold.LOCAL_SERVICES).")
