"""The command processor: one writer per aggregate, events before state, state before commit.

Reads ``{node}.{service}.commands`` in a consumer group; writes the service's events topic,
``{node}.replies`` and ``{node}.deadletter``; reads the events topic back to rebuild.

For each partition it owns, the processor

1. on assignment, pauses the partition, rebuilds its ``PartitionLog`` by reading the events
   partition of the same number to its end (in a task: heartbeats must go on), then resumes;
2. decodes each command (undecodable ones go to dead-letter; if the envelope could be read,
   the command is also rejected so that its sender is not left waiting);
3. answers a command whose id already reached the log from the log, without deciding again;
4. otherwise runs the service's checks and pure ``decide`` on the current state, and appends
   the events (or a ``CommandRejected`` record) to the events partition, ``acks=all``;
5. verifies that the broker placed them at the offsets this writer expected: any other
   offset means a second writer exists, so the partition is rebuilt and the batch retried;
6. only then sends the replies, and only after those are acknowledged commits the offsets.

An infrastructure failure raises out of ``run`` without committing: the commands are
redelivered to whoever owns the partition next, and step 3 absorbs the repeats. ``stop``
(SIGTERM) lets the batch in flight finish and commits it; so does a revocation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import msgspec
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.partitioner import murmur2

from schemas import REGISTRY, ContractError, Message
from schemas.envelope import Envelope, source_for
from schemas.registry import Contract, Reason
from schemas.runtime import CommandRejected, CommandReply, Error, EventRef
from schemas.topics import commands_topic, events_topic, replies_topic
from services import config
from services.runtime import kafka_clients
from services.runtime.aggregate import Context, Rejected, ServiceDefinition
from services.runtime.deadletter import letter_for, publish
from services.runtime.ids import derived_id
from services.runtime.log import Outcome, PartitionLog

log = logging.getLogger(__name__)

#: ``async check(command)``: raise ``Rejected`` to refuse it before ``decide`` (I/O allowed).
Check = Callable[[Contract], Awaitable[None]]
#: ``async effect(event)``: done before the event is appended; must be idempotent.
Effect = Callable[[Contract], Awaitable[None]]


class SecondWriter(Exception):
    """The broker placed our events where we did not expect: someone else writes here."""


@dataclass
class _Planned:
    """One command of a batch, decided (or answered) and waiting for its writes."""

    record: object
    envelope: Envelope | None
    command_type: str
    aggregate_id: str
    outcome: Outcome
    writes: list[bytes]


class CommandProcessor:
    """Runs one service's commands; several instances share the work through the group."""

    def __init__(
        self,
        service: ServiceDefinition,
        node: str,
        bootstrap: str | None = None,
        *,
        checks: Mapping[type, Check] | None = None,
        effects: Mapping[type, Effect] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        max_batch: int = 500,
    ):
        self.service = service
        self.node = node
        self.bootstrap = bootstrap or config.bootstrap_servers()
        self.checks = dict(checks or {})
        self.effects = dict(effects or {})
        self.clock = clock
        self.max_batch = max_batch
        self.commands_topic = commands_topic(node, service.name)
        self.events_topic = events_topic(node, service.name)
        self.replies_topic = replies_topic(node)
        self.source = source_for(node, service.name)
        self.logs: dict[int, PartitionLog] = {}
        self.lookups = {lookup.name: lookup.initial() for lookup in service.lookups}
        self._lookup_versions: dict[str, int] = {}
        self._rebuilds: dict[int, asyncio.Task] = {}
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._partitions = 0
        self.ready = asyncio.Event()  # set once the first assignment is rebuilt

    # -- life ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Process commands until ``stop()``; raises on an infrastructure failure."""
        session_ms = int(config.session_timeout_s() * 1000)
        self._consumer = kafka_clients.reader(
            self.bootstrap,
            group_id=f"{self.node}.{self.service.name}.processor",
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(500, session_ms // 10),
            rebalance_timeout_ms=max(10_000, session_ms * 2),
            max_poll_interval_ms=300_000,
        )
        self._producer = kafka_clients.producer(self.bootstrap)
        self._lookup_reader = kafka_clients.reader(self.bootstrap)
        await self._producer.start()
        await self._consumer.start()
        await self._lookup_reader.start()
        try:
            self._partitions = len(await kafka_clients.all_partitions(
                self._consumer, self.commands_topic))
            lookup_partitions = await kafka_clients.all_partitions(
                self._lookup_reader, self.events_topic)
            self._lookup_reader.assign(lookup_partitions)
            await self._lookup_reader.seek_to_beginning(*lookup_partitions)
            self._consumer.subscribe([self.commands_topic], listener=_Listener(self))
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200, max_records=self.max_batch)
                for task in list(self._rebuilds.values()):
                    if task.done() and task.exception():
                        raise task.exception()
                if batches:
                    async with self._lock:
                        await self._process(batches)
        finally:
            for task in self._rebuilds.values():
                task.cancel()
            await self._close()

    def stop(self) -> None:
        """Finish the batch in flight, commit it, and leave the group."""
        self._stopping.set()

    async def _close(self) -> None:
        for client in (self._consumer, self._lookup_reader, self._producer):
            try:
                await client.stop()
            except Exception:  # noqa: BLE001 - closing after a failure must not mask it
                log.exception("closing a Kafka client failed")

    # -- rebalancing -----------------------------------------------------------------------

    def _assigned(self, partitions: set[TopicPartition]) -> None:
        self._consumer.pause(*partitions)  # first: no command before its state is rebuilt
        for tp in partitions:
            self._rebuilds[tp.partition] = asyncio.create_task(
                self._rebuild(tp), name=f"rebuild-{self.commands_topic}-{tp.partition}")

    async def _revoked(self, partitions: set[TopicPartition]) -> None:
        async with self._lock:  # the batch in flight finishes (and commits) first
            for tp in partitions:
                task = self._rebuilds.pop(tp.partition, None)
                if task:
                    task.cancel()
                self.logs.pop(tp.partition, None)

    async def _rebuild(self, tp: TopicPartition) -> None:
        """Fold the events partition into a fresh log, then let its commands flow."""
        started = asyncio.get_running_loop().time()
        partition_log = PartitionLog(self.service)
        events_tp = TopicPartition(self.events_topic, tp.partition)
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        try:
            reader.assign([events_tp])
            await reader.seek_to_beginning(events_tp)

            def fold(record) -> None:
                message = self._decode_event(record)
                if message is not None:
                    partition_log.apply(message)
                partition_log.next_offset = record.offset + 1

            await kafka_clients.read_to_end(reader, [events_tp], fold)
            partition_log.next_offset = (await reader.end_offsets([events_tp]))[events_tp]
        finally:
            await reader.stop()
        async with self._lock:
            if tp not in self._consumer.assignment():
                return
            self.logs[tp.partition] = partition_log
            self._rebuilds.pop(tp.partition, None)
            self._consumer.resume(tp)
        log.info("rebuilt %s[%d]: %d aggregates, %d commands, %d skipped, in %.2f s",
                 self.events_topic, tp.partition, len(partition_log.streams),
                 len(partition_log.outcomes), partition_log.skipped,
                 asyncio.get_running_loop().time() - started)
        if not self._rebuilds:
            self.ready.set()

    # -- processing ------------------------------------------------------------------------

    async def _process(self, batches: dict[TopicPartition, list]) -> None:
        await self._catch_up_lookups()
        commits = {}
        for tp, records in batches.items():
            partition_log = self.logs.get(tp.partition)
            if partition_log is None:  # fetched before the pause took effect: read it again
                self._consumer.seek(tp, records[0].offset)
                continue
            try:
                await self._process_partition(tp, partition_log, records)
            except SecondWriter as exc:
                log.warning("%s; rebuilding %s[%d]", exc, self.events_topic, tp.partition)
                self.logs.pop(tp.partition, None)
                self._consumer.seek(tp, records[0].offset)
                self._assigned({tp})
                continue
            commits[tp] = records[-1].offset + 1
        if commits:
            await self._consumer.commit(commits)

    async def _process_partition(self, tp: TopicPartition, partition_log: PartitionLog,
                                 records: list) -> None:
        planned = [await self._plan(tp, partition_log, record) for record in records]
        writes = [value for plan in planned for value in plan.writes]
        if writes:
            keys = [plan.aggregate_id.encode() for plan in planned for _ in plan.writes]
            sends = [await self._producer.send(self.events_topic, value=value, key=key,
                                               partition=tp.partition)
                     for key, value in zip(keys, writes)]
            placed = await asyncio.gather(*sends)
            expected = range(partition_log.next_offset, partition_log.next_offset + len(writes))
            if [meta.offset for meta in placed] != list(expected):
                raise SecondWriter(
                    f"events landed at offsets {placed[0].offset}..{placed[-1].offset}, "
                    f"expected {expected.start}..{expected.stop - 1}")
            partition_log.next_offset = expected.stop
        replies = [await self._producer.send(self.replies_topic, value=self._reply(plan),
                                             key=plan.envelope.id.encode())
                   for plan in planned if plan.envelope is not None]
        await asyncio.gather(*replies)

    async def _plan(self, tp: TopicPartition, partition_log: PartitionLog, record) -> _Planned:
        """Decide one command against the partition's state (or find it in the log)."""
        try:
            message = REGISTRY.decode(record.value, kind="command")
        except ContractError as error:
            return await self._refuse(record, error)
        envelope, command = message
        aggregate = self.service.for_command(type(command))
        known = partition_log.outcomes.get(envelope.id)
        if known is not None:
            return _Planned(record, envelope, envelope.type, envelope.subject, known, [])
        if aggregate is None:
            return self._reject(partition_log, record, envelope, envelope.subject,
                                Rejected("UnsupportedCommand",
                                         f"the {self.service.name} service does not take it"))
        aggregate_id = aggregate.id_of(command)
        if not (envelope.subject == aggregate_id and record.key == aggregate_id.encode()):
            return self._reject(partition_log, record, envelope, envelope.subject, Rejected(
                "ValidationError", "the Kafka key and the subject must be the aggregate id"))
        if self._partition_of(record.key) != tp.partition:
            return self._reject(partition_log, record, envelope, aggregate_id, Rejected(
                "WrongPartition", "the command was not partitioned by murmur2 of its key"))
        now = self.clock()
        stream = partition_log.stream(aggregate, aggregate_id)
        try:
            check = self.checks.get(type(command))
            if check is not None:
                await check(command)
            events = aggregate.decide(stream.state, command, Context(now, self.lookups))
        except Rejected as rejected:
            return self._reject(partition_log, record, envelope, aggregate_id, rejected, now)
        outcome = Outcome(time=now)
        writes = []
        for index, event in enumerate(events):
            sequence = stream.version + 1
            event_id = derived_id(envelope.id, index, now)
            effect = self.effects.get(type(event))
            if effect is not None:
                await effect(event)
            writes.append(REGISTRY.encode(
                event, id=event_id, source=self.source, subject=aggregate_id, time=now,
                sequence=sequence, causationid=envelope.id,
                correlationid=envelope.correlationid or envelope.id))
            stream.apply(event, sequence)  # later commands of the batch see it
            outcome.events.append(EventRef(id=event_id, type=event.wire_type, sequence=sequence))
            self._apply_to_lookups(event, aggregate_id, sequence)
        partition_log.outcomes[envelope.id] = outcome
        return _Planned(record, envelope, envelope.type, aggregate_id, outcome, writes)

    def _reject(self, partition_log: PartitionLog, record, envelope: Envelope,
                aggregate_id: str, rejected: Rejected, now: dt.datetime | None = None) -> _Planned:
        now = now or self.clock()
        error = Error(code=rejected.code, message=rejected.message)
        outcome = Outcome(time=now, error=error)
        partition_log.outcomes[envelope.id] = outcome
        record_bytes = REGISTRY.encode(
            CommandRejected(command_id=envelope.id, command_type=envelope.type,
                            aggregate_id=aggregate_id, error=error),
            id=derived_id(envelope.id, 0, now), source=self.source, subject=aggregate_id,
            time=now, causationid=envelope.id,
            correlationid=envelope.correlationid or envelope.id)
        return _Planned(record, envelope, envelope.type, aggregate_id, outcome, [record_bytes])

    async def _refuse(self, record, error: ContractError) -> _Planned:
        """Dead-letter an undecodable command; reject it too if its envelope is readable."""
        await publish(self._producer, letter_for(
            self.node, source_topic=record.topic, partition=record.partition,
            offset=record.offset, key=record.key, value=record.value,
            reason=error.reason.value, detail=str(error)))
        envelope = None
        if error.reason not in (Reason.TOO_LARGE, Reason.INVALID_JSON, Reason.INVALID_ENVELOPE):
            envelope = msgspec.json.decode(record.value, type=Envelope)
        if envelope is None:
            return _Planned(record, None, "", "", Outcome(time=self.clock()), [])
        partition_log = self.logs[record.partition]
        known = partition_log.outcomes.get(envelope.id)
        if known is not None:
            return _Planned(record, envelope, envelope.type, envelope.subject, known, [])
        code = "UnsupportedCommand" if error.reason in (
            Reason.UNKNOWN_TYPE, Reason.FUTURE_VERSION, Reason.UNEXPECTED_KIND
        ) else "ValidationError"
        return self._reject(partition_log, record, envelope, envelope.subject,
                            Rejected(code, error.detail[:500]))

    def _reply(self, plan: _Planned) -> bytes:
        envelope, outcome = plan.envelope, plan.outcome
        reply = CommandReply(
            command_id=envelope.id, command_type=plan.command_type,
            aggregate_id=plan.aggregate_id, accepted=outcome.accepted,
            events=list(outcome.events), error=outcome.error)
        return REGISTRY.encode(
            reply, id=derived_id(envelope.id, -1, outcome.time), source=self.source,
            subject=envelope.id, time=outcome.time, causationid=envelope.id,
            correlationid=envelope.correlationid or envelope.id)

    def _partition_of(self, key: bytes) -> int:
        return (murmur2(key) & 0x7FFFFFFF) % self._partitions

    # -- lookups ---------------------------------------------------------------------------

    async def _catch_up_lookups(self) -> None:
        if not self.service.lookups:
            return
        partitions = list(self._lookup_reader.assignment())

        def fold(record) -> None:
            message = self._decode_event(record)
            if message is not None and message.envelope.sequence is not None:
                self._apply_to_lookups(message.payload, message.envelope.subject,
                                       message.envelope.sequence)

        await kafka_clients.read_to_end(self._lookup_reader, partitions, fold)

    def _apply_to_lookups(self, event: Contract, subject: str, sequence: int) -> None:
        """Apply an event once, whether this processor decided it or read it back: only the
        next sequence of its aggregate counts."""
        if not self.service.lookups or sequence != self._lookup_versions.get(subject, 0) + 1:
            return
        self._lookup_versions[subject] = sequence
        for lookup in self.service.lookups:
            lookup.apply(self.lookups[lookup.name], event)

    def _decode_event(self, record) -> Message | None:
        try:
            return REGISTRY.decode(record.value, kind="event")
        except ContractError as error:
            log.warning("unreadable record in %s[%d] at offset %d: %s", record.topic,
                        record.partition, record.offset, error.reason.value)
            return None


class _Listener(ConsumerRebalanceListener):
    def __init__(self, processor: CommandProcessor):
        self.processor = processor

    async def on_partitions_revoked(self, revoked) -> None:
        await self.processor._revoked(set(revoked))  # noqa: SLF001

    async def on_partitions_assigned(self, assigned) -> None:
        self.processor._assigned(set(assigned))  # noqa: SLF001
