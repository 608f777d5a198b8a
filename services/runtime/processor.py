"""The command processor: the command core (``core``) driven by Kafka, one writer per
aggregate, events before replies, replies before commit.

Reads ``{node}.{service}.commands`` in a consumer group (``{node}.{service}.processor``) and,
to rebuild and to fold its lookups, the service's events topic and those its lookups read;
writes the service's events topic, ``{node}.replies`` and ``{node}.deadletter``; reads and
writes ``{node}.{service}.snapshots``.

A newly assigned partition is paused while its ``PartitionLog`` is restored from its newest
usable snapshot (``snapshots``; none: offset 0) and folded on from the events partition of
the same number (in a task, so heartbeats go on; a log held before a rebalance is
continued), then resumed. Every ``snapshot_every`` events of a partition, and on a clean
revocation or stop, a snapshot of its log is written to ``{node}.{service}.snapshots``:
commands stop only for the cut (between two batches), the writing goes on beside them.

A batch (what one fetch brought, up to ``max_batch`` commands, which may span partitions)
goes through the core command by command (dead letters written at once), then its events
and rejections are appended together, ``acks=all``, one produce batch per partition;
records that landed elsewhere than this writer expected mean a second writer, so that
partition is rebuilt and its batch retried. The service's own acknowledged events go into
its own lookups then, not read back. Only then go the replies, each on the partition of
``{node}.replies`` its sender reads (``REPLY_PARTITION_HEADER``), and only after those are
acknowledged the commit, which runs while the next batch is decided. A Kafka failure raises
out of ``run`` without committing (the commands are
redelivered and answered from the log); ``stop`` (SIGTERM) and a revocation let the batch
in flight finish and commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from schemas.topics import (
    REPLY_PARTITION_HEADER,
    commands_topic,
    events_topic,
    processor_group,
    replies_topic,
)
from services import config
from services.runtime import clock as clocks
from services.runtime import kafka_clients
from services.runtime.aggregate import ServiceDefinition, Stream
from services.runtime.core import (
    INTERNAL_ERROR,
    CommandCore,
    Hooks,
    Plan,
    handle,
    partition_for,
)
from services.runtime.deadletter import publish
from services.runtime.log import PartitionLog
from services.runtime.reading import read_log
from services.runtime.snapshots import Snapshots

log = logging.getLogger(__name__)

#: Told which aggregates changed (after their events are acknowledged, and after a rebuild).
Observer = Callable[[list[Stream]], None]

#: A command naming a replies partition beyond those known makes the processor learn the
#: topic's partitions again, at most this often.
REPLY_METADATA_EVERY_S = 10.0

#: Failures of the world around us: they stop the processor (no commit), never a command.
INFRASTRUCTURE = (KafkaError, OSError, TimeoutError, asyncio.CancelledError)


class CommandProcessor:
    """Runs one service's commands; several instances share the work through the group."""

    def __init__(
        self,
        service: ServiceDefinition,
        node: str,
        bootstrap: str | None = None,
        *,
        hooks: Hooks = Hooks(),
        references: Mapping[str, Any] | None = None,
        observer: Observer | None = None,
        companions: Sequence[Any] = (),
        clock: Callable[[], dt.datetime] = clocks.now,
        max_batch: int = 2000,
        snapshot_every: int | None = None,
    ):
        self.service = service
        self.node = node
        self.bootstrap = bootstrap or config.bootstrap_servers()
        self.hooks = hooks
        self.core = CommandCore(service, node, references)
        self.clock = clock
        self.max_batch = max_batch  # what one fetch brought, up to this many commands
        self.observer = observer
        #: snapshots every ``snapshot_every`` events of a partition (default: the setting)
        #: whether the partitions' logs forget outcomes after the week (the setting, once)
        self.forget = config.forget_outcomes()
        self.snapshots = Snapshots(service, node, self.bootstrap, config.snapshot_every()
                                   if snapshot_every is None else snapshot_every, self.forget)
        # started before, stopped after the processor
        self.companions = [*companions, self.snapshots]
        self._snapshotting: dict[int, asyncio.Task] = {}
        #: the last takeover of each partition: (offset it started from, offset reached, s)
        self.rebuilt: dict[int, tuple[int, int, float]] = {}
        #: the last snapshot written: (commands stopped for its cut, writing it), seconds
        self.last_snapshot: tuple[float, float] | None = None
        self.commands_topic = commands_topic(node, service.name)
        self.events_topic = events_topic(node, service.name)
        self.replies_topic = replies_topic(node)
        self.logs: dict[int, PartitionLog] = {}
        self._parked: dict[int, PartitionLog] = {}  # logs of partitions a rebalance took away
        #: the events topic each lookup source is read from -> that source
        self._lookup_sources = {events_topic(node, source): source
                                for source in self.core.lookups.sources}
        #: offsets of the own events topic this processor wrote and folded into its own
        #: lookups as they were acknowledged, by partition: (first, past last) ranges that the
        #: lookup reader skips instead of decoding them again
        self._written: dict[int, list[tuple[int, int]]] = {}
        self.reply_partitions = 1
        self._reply_metadata_at = 0.0  # when the replies topic's partitions may be asked again
        self._unsettled = False  # a batch is being decided and written, or failed half way
        self._rebuilds: dict[int, asyncio.Task] = {}
        self._lock = asyncio.Lock()
        self._committing: asyncio.Future | None = None  # the last batch's commit, in flight
        self._stopping = asyncio.Event()
        self._revoking = False
        self.ready = asyncio.Event()  # set once an assignment is rebuilt (or empty)

    # -- life ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Process commands until ``stop()``; raises on an infrastructure failure."""
        session_ms = int(config.session_timeout_s() * 1000)
        self._consumer = kafka_clients.reader(
            self.bootstrap,
            group_id=processor_group(self.node, self.service.name),
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(500, session_ms // 10),
            rebalance_timeout_ms=max(60_000, session_ms * 2),
            max_poll_interval_ms=300_000,
        )
        # a batch's events (or replies) of one partition go as one produce batch: up to 256
        # KiB (aiokafka's default is 16 KiB), well under the broker's 1 MiB a message
        self._producer = kafka_clients.producer(self.bootstrap, max_batch_size=256 * 1024)
        self._lookup_reader = kafka_clients.reader(self.bootstrap)
        self._probe = kafka_clients.offsets_probe(self.bootstrap)
        started = []
        try:
            for companion in self.companions:
                await companion.start()
                started.append(companion)
            await self._producer.start()
            await self._consumer.start()
            await self._lookup_reader.start()
            await self._probe.start()
            partitions = len(await kafka_clients.all_partitions(
                self._consumer, self.commands_topic))
            events = len(await kafka_clients.all_partitions(self._consumer, self.events_topic))
            if events != partitions:  # a command's events go to its partition number
                raise RuntimeError(
                    f"{self.commands_topic} has {partitions} partitions and "
                    f"{self.events_topic} {events}: they must be co-partitioned")
            self.core.partitions = partitions
            self.reply_partitions = len(await kafka_clients.all_partitions(
                self._consumer, self.replies_topic))
            if self.service.lookups:
                lookup_partitions = [
                    tp for topic in sorted(self._lookup_sources)
                    for tp in await kafka_clients.all_partitions(self._lookup_reader, topic)]
                self._lookup_reader.assign(lookup_partitions)
                await self._lookup_reader.seek_to_beginning(*lookup_partitions)
            self._consumer.subscribe([self.commands_topic], listener=_Listener(self))
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200,
                                                       max_records=self.max_batch)
                for task in list(self._rebuilds.values()):
                    if task.done() and not task.cancelled() and task.exception():
                        raise task.exception()
                if self._committing is not None and self._committing.done():
                    async with self._lock:
                        await self._committed()  # raises a failed commit now, not later
                if batches:
                    async with self._lock:
                        await self._process(batches)
            async with self._lock:
                await self._committed()
            await self._snapshot_on_leaving(list(self.logs))  # a clean stop
        finally:
            for task in (*self._rebuilds.values(), *self._snapshotting.values()):
                task.cancel()
            if self._committing is not None:
                self._committing.cancel()  # only after a failure: no commit then
            await self._close()
            for companion in reversed(started):
                await companion.stop()

    def stop(self) -> None:
        """Finish the batch in flight, commit it, and leave the group."""
        self._stopping.set()

    async def _close(self) -> None:
        await kafka_clients.close(self._consumer, self._lookup_reader, self._probe,
                                  self._producer)

    # -- rebalancing -----------------------------------------------------------------------

    def _assigned(self, partitions: set[TopicPartition]) -> None:
        self._revoking = False
        self._consumer.pause(*partitions)  # first: no command before its state is rebuilt
        for tp in partitions:
            self._rebuilds[tp.partition] = asyncio.create_task(
                self._rebuild(tp), name=f"rebuild-{self.commands_topic}-{tp.partition}")
        if not partitions:
            self.ready.set()

    async def _revoked(self, partitions: set[TopicPartition]) -> None:
        self._revoking = True  # the batch in flight stops taking new commands
        async with self._lock:  # ... finishes, and commits
            await self._committed()
            for tp in partitions:
                task = self._rebuilds.pop(tp.partition, None)
                if task:
                    task.cancel()
                parked = self.logs.pop(tp.partition, None)
                if parked is not None and not self._unsettled:  # eager rebalancing: it
                    self._parked[tp.partition] = parked  # often comes straight back
        # a clean handover: the next owner starts from here
        await self._snapshot_on_leaving([tp.partition for tp in partitions], self._parked)

    async def _rebuild(self, tp: TopicPartition) -> None:
        """Fold the events partition into the partition's log, then let its commands flow."""
        started = asyncio.get_running_loop().time()
        partition_log = (self._parked.pop(tp.partition, None)
                         or await self.snapshots.restore(tp.partition)
                         or PartitionLog(self.service, forget=self.forget))
        restored = partition_log.next_offset
        events_tp = TopicPartition(self.events_topic, tp.partition)
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        try:
            reader.assign([events_tp])
            reader.seek(events_tp, partition_log.next_offset)

            def fold(record) -> None:
                message = read_log(record)
                if message is not None:
                    partition_log.apply(message)

            reached = await kafka_clients.read_to_end(reader, [events_tp], fold, self._probe)
            partition_log.next_offset = reached[events_tp]
        finally:
            await reader.stop()
        async with self._lock:
            if tp not in self._consumer.assignment():
                return
            self.logs[tp.partition] = partition_log
            self._rebuilds.pop(tp.partition, None)
            self._consumer.resume(tp)
            if self.snapshots.enabled and tp.partition not in self._snapshotting:
                self._snapshotting[tp.partition] = asyncio.create_task(
                    self._snapshot_every(tp.partition),
                    name=f"snapshots-{self.events_topic}-{tp.partition}")
        took = asyncio.get_running_loop().time() - started
        self.rebuilt[tp.partition] = (restored, partition_log.next_offset, took)
        if self.observer is not None:
            self.observer(list(partition_log.streams.values()))
        log.info("rebuilt %s[%d] from offset %d to %d: %d aggregates, %d commands, "
                 "%d skipped, in %.2f s", self.events_topic, tp.partition, restored,
                 partition_log.next_offset, len(partition_log.streams),
                 len(partition_log.outcomes), partition_log.skipped, took)
        if not self._rebuilds:
            self.ready.set()

    # -- snapshots -------------------------------------------------------------------------

    async def _snapshot_every(self, partition: int, poll_s: float = 0.5) -> None:
        """Snapshot ``partition`` whenever it has gained ``snapshots.every`` events since its
        last snapshot, for as long as this processor holds it. A snapshot that fails is
        tried again only once the partition has gained ``snapshots.every`` more events (one
        that cannot be written, a state too large for a message, would otherwise stop the
        commands for a cut every ``poll_s``)."""
        failed_at = -1  # the offset a snapshot last failed at
        while True:
            await asyncio.sleep(poll_s)
            partition_log = self.logs.get(partition)
            if partition_log is None:  # revoked, or rebuilding after a second writer
                if partition not in self._rebuilds:
                    self._snapshotting.pop(partition, None)
                    return
                continue
            since = max(self.snapshots.covered(partition), failed_at)
            if partition_log.next_offset - since < self.snapshots.every or partition_log.cutting:
                continue
            async with self._lock:  # between two batches: the log is whole
                partition_log = self.logs.get(partition)
                if partition_log is None or partition_log.cutting or self._unsettled:
                    continue
                started = asyncio.get_running_loop().time()
                cut = partition_log.cut()
                stopped = asyncio.get_running_loop().time() - started
            try:  # bounded: an unacknowledged snapshot must not hold its cut for ever
                if not await self._write_snapshot(
                        partition, cut, stopped, kafka_clients.ACKNOWLEDGED_WITHIN_S):
                    failed_at = cut.covers
            finally:
                partition_log.release(cut)

    async def _snapshot_on_leaving(self, partitions: list[int],
                                   logs: Mapping[int, PartitionLog] | None = None,
                                   within_s: float = 20.0) -> None:
        """On a clean revocation or stop: snapshot the partitions that gained events since
        their last snapshot (their logs are whole: no batch is in flight), within
        ``within_s`` in all (a rebalance waits for it; one cut short is never used)."""
        if self._unsettled:  # a batch failed half way: its decisions are in the logs, its
            return  # events perhaps not in Kafka; a snapshot of them would lie to the next owner
        deadline = asyncio.get_running_loop().time() + within_s
        for partition in partitions:
            task = self._snapshotting.pop(partition, None)
            if task is not None:  # a snapshot being written is dropped (never half used)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            partition_log = (logs if logs is not None else self.logs).get(partition)
            if (not self.snapshots.enabled or partition_log is None or partition_log.cutting
                    or partition_log.next_offset <= self.snapshots.covered(partition)):
                continue
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                log.warning("no snapshot of %s[%d] on leaving: no time left", self.events_topic,
                            partition)
                continue
            cut = partition_log.cut()
            try:  # the next owner folds a longer tail if it fails
                await self._write_snapshot(partition, cut, 0.0, within_s=remaining)
            finally:
                partition_log.release(cut)

    async def _write_snapshot(self, partition: int, cut, stopped_s: float,
                              within_s: float | None = None) -> bool:
        """Write a snapshot of ``cut``; whether it was written. Whatever it fails on is
        logged and swallowed: a snapshot is only ever a shortcut (on leaving, as
        periodically), so it never stops the commands or a rebalance."""
        started = asyncio.get_running_loop().time()
        try:
            manifest = await asyncio.wait_for(self.snapshots.write(partition, cut), within_s)
        except asyncio.CancelledError:
            raise
        except Exception as failed:  # noqa: BLE001 - see above
            log.warning("a snapshot of %s[%d] failed: %s", self.events_topic, partition,
                        type(failed).__name__)
            return False
        self.last_snapshot = (stopped_s, asyncio.get_running_loop().time() - started)
        log.info("snapshot of %s[%d] at offset %d: %d aggregates, %d commands, %d chunks; "
                 "commands stopped %.3f s, written in %.2f s", self.events_topic, partition,
                 manifest.covers, manifest.streams, manifest.outcomes, len(manifest.chunks),
                 *self.last_snapshot)
        return True

    # -- processing ------------------------------------------------------------------------

    async def _process(self, batches: dict[TopicPartition, list]) -> None:
        """Decide every partition's commands, then append all their events at once, then
        send all the replies at once, then commit: three round trips per batch, however many
        partitions it spans (partitions are independent: each aggregate lives in one)."""
        await self._catch_up_lookups()
        # from the first decision until the replies are acknowledged the logs hold decisions
        # Kafka may not have: if this raises, no log is parked or snapshotted (run stops)
        self._unsettled = True
        plans: dict[TopicPartition, tuple[PartitionLog, list, list[Plan]]] = {}
        for tp, records in batches.items():
            partition_log = self.logs.get(tp.partition)
            if partition_log is None:  # fetched before the pause took effect: read it again
                self._consumer.seek(tp, records[0].offset)
                continue
            planned: list[Plan] = []
            for record in records:
                if self._revoking and planned:
                    break  # a revocation is waiting: the rest is the next owner's
                plan = await handle(self.core, partition_log, record, self.clock(), self.hooks,
                                    INFRASTRUCTURE)
                if plan.letter is not None:
                    await self._dead_letter(plan)
                planned.append(plan)
            plans[tp] = (partition_log, records, planned)
        appended = await self._append(plans)
        await self._reply({tp: plans[tp] for tp in appended})
        self._unsettled = False
        commits = {}
        for tp in appended:
            partition_log, records, planned = plans[tp]
            done = len(planned)
            if done < len(records):
                self._consumer.seek(tp, records[done].offset)
            commits[tp] = records[done - 1].offset + 1
            if self.observer is not None:
                touched = {plan.stream_key for plan in planned if plan.stream_key is not None}
                if touched:
                    self.observer([partition_log.streams[key] for key in touched])
        if commits:
            await self._committed()  # offsets are committed in order
            self._committing = asyncio.ensure_future(self._consumer.commit(commits))

    async def _reply(self, plans: dict[TopicPartition, tuple[PartitionLog, list, list[Plan]]]
                     ) -> None:
        """Send the replies of the appended partitions, each on the partition of
        ``{node}.replies`` its command asked for, one produce batch per partition, and wait
        for them all."""
        await self._reply_partitions_known(plans)
        replies: dict[int, list[tuple[bytes, bytes]]] = {}
        for _, records, planned in plans.values():
            for record, plan in zip(records, planned):
                if plan.envelope is None:
                    continue
                key = plan.envelope.id.encode()
                replies.setdefault(self._reply_partition(record, key), []).append(
                    (key, self.core.reply(plan)))
        queued = await kafka_clients.queue(self._producer, self.replies_topic, replies)
        await asyncio.gather(*(kafka_clients.landed(q) for q in queued.values()))

    async def _reply_partitions_known(self, plans) -> None:
        """If a command asks for a partition of the replies topic beyond those known (the
        topic was given more since this processor started, and a client drew a new one),
        learn the topic's partitions again: at most every ``REPLY_METADATA_EVERY_S``, so
        that a hostile header cannot make every batch ask."""
        asked = max((_asked_partition(record) or 0 for _, records, _ in plans.values()
                     for record in records), default=0)
        now = asyncio.get_running_loop().time()
        if asked < self.reply_partitions or now < self._reply_metadata_at:
            return
        self._reply_metadata_at = now + REPLY_METADATA_EVERY_S
        await self._producer.client.force_metadata_update()
        known = self._producer.client.cluster.partitions_for_topic(self.replies_topic)
        if known:
            self.reply_partitions = len(known)

    def _reply_partition(self, record, key: bytes) -> int:
        """The partition its sender reads (``REPLY_PARTITION_HEADER``), else the key's."""
        asked = _asked_partition(record)
        if asked is not None and asked < self.reply_partitions:
            return asked
        return partition_for(key, self.reply_partitions)

    async def _committed(self) -> None:
        """Wait for the last batch's commit (raises its failure)."""
        committing, self._committing = self._committing, None
        if committing is not None:
            await committing

    async def _append(self, plans: dict[TopicPartition, tuple[PartitionLog, list, list[Plan]]]
                      ) -> list[TopicPartition]:
        """Append the events and rejections of every partition, acks=all, one produce batch
        per partition (as many as its records fill), and check that each partition's landed
        where its writer expected. Returns the partitions whose replies may go; a partition
        with a second writer is rebuilt and its batch retried. The service's own events then
        go into its own lookups, as acknowledged, without being read back."""
        queued = await kafka_clients.queue(self._producer, self.events_topic, {
            tp.partition: [(plan.outcome.aggregate_id.encode(), plan.write)
                           for plan in planned if plan.write is not None]
            for tp, (_, _, planned) in plans.items()})
        placed = dict(zip(plans, await asyncio.gather(
            *(kafka_clients.landed(queued[tp.partition]) for tp in plans))))
        appended = []
        for tp, (partition_log, records, planned) in plans.items():
            offsets = placed[tp]
            expected = list(range(partition_log.next_offset,
                                  partition_log.next_offset + len(offsets)))
            if offsets != expected:
                log.warning("records landed at offsets %d..%d, expected %d..%d: a second "
                            "writer; rebuilding %s[%d]", offsets[0], offsets[-1], expected[0],
                            expected[-1], self.events_topic, tp.partition)
                self.logs.pop(tp.partition, None)
                self._consumer.seek(tp, records[0].offset)
                self._assigned({tp})
                continue
            partition_log.next_offset += len(offsets)
            appended.append(tp)
            if offsets and self.service.name in self.core.lookups.sources:
                self._keep_own(tp.partition, offsets, planned)
        return appended

    def _keep_own(self, partition: int, offsets: list[int], planned: list[Plan]) -> None:
        """Fold the service's own acknowledged events into its own lookups, and note the
        offsets the lookup reader need not decode again: rejections (no lookup reads them)
        and events that continued their chains. An event that did not (the reader has not
        yet reached an earlier one of its aggregate, written before this processor took the
        partition over) is left for the reader, which folds it in order."""
        ranges = self._written.setdefault(partition, [])
        for offset, plan in zip(offsets, (plan for plan in planned if plan.write is not None)):
            written = plan.event
            if written is not None and not self.core.lookups.apply_event(
                    self.service.name, written.subject, written.sequence, written.event_id,
                    written.previous_id, written.event):
                continue
            if ranges and ranges[-1][1] == offset:
                ranges[-1] = (ranges[-1][0], offset + 1)
            else:
                ranges.append((offset, offset + 1))

    async def _dead_letter(self, plan: Plan) -> None:
        """Set a command aside, acknowledged before anything of its batch is written."""
        if plan.letter.reason == INTERNAL_ERROR:
            log.error("the %s service failed on command %s (%s): %s", self.service.name,
                      plan.envelope.id, plan.envelope.type, plan.letter.detail)
        await publish(self._producer, plan.letter)

    # -- lookups ---------------------------------------------------------------------------

    async def _catch_up_lookups(self) -> None:
        """Fold what the events topics gained since the last batch into the lookups: only
        acknowledged events, on their chains, as every fold does; up to the ends the broker
        gives now (one ListOffsets round trip: a fact acknowledged before a command was sent
        is in the lookups its decision reads). The service's own events this processor
        wrote are there already, and skipped without being decoded again."""
        if not self.service.lookups:
            return
        own = self.events_topic

        def fold(record) -> None:
            if record.topic == own and self._was_written(record.partition, record.offset):
                return
            message = read_log(record)
            if message is not None:
                self.core.lookups.apply(self._lookup_sources[record.topic], message)

        await kafka_clients.read_to_end(
            self._lookup_reader, list(self._lookup_reader.assignment()), fold, self._probe)

    def _was_written(self, partition: int, offset: int) -> bool:
        """Whether this processor wrote (and folded) the own event at ``offset``; forgets
        the ranges the reader has passed."""
        ranges = self._written.get(partition)
        while ranges and ranges[0][1] <= offset:
            ranges.pop(0)
        return bool(ranges) and ranges[0][0] <= offset


def _asked_partition(record) -> int | None:
    """The replies partition a command's ``REPLY_PARTITION_HEADER`` names, if it is a
    number at all."""
    for name, value in record.headers or ():
        if name == REPLY_PARTITION_HEADER:
            if value and value.isdigit() and len(value) < 6:
                return int(value)
            return None
    return None


class _Listener(ConsumerRebalanceListener):
    def __init__(self, processor: CommandProcessor):
        self.processor = processor

    async def on_partitions_revoked(self, revoked) -> None:
        await self.processor._revoked(set(revoked))  # noqa: SLF001

    async def on_partitions_assigned(self, assigned) -> None:
        self.processor._assigned(set(assigned))  # noqa: SLF001
