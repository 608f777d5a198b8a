"""The command processor: one writer per aggregate, events before state, state before commit.

Reads ``{node}.{service}.commands`` in a consumer group; writes the service's events topic,
``{node}.replies`` and ``{node}.deadletter``; reads the events topic back to rebuild.

For each partition it owns, the processor

1. on assignment, pauses the partition, folds its ``PartitionLog`` from the events partition
   of the same number (continuing a log it held before a rebalance, else from the start) in
   a task, so heartbeats go on, then resumes it;
2. decodes each command (undecodable ones go to dead-letter; if the envelope could be read,
   the command is also rejected, so that its sender is not left waiting);
3. answers a command whose id already reached the log from the log, without deciding again;
4. otherwise runs the service's checks and pure ``decide`` on the current state, and appends
   its one event (or a ``CommandRejected`` record) to the events partition, ``acks=all``;
5. verifies that the broker placed the batch's records at the offsets this writer expected:
   any other offset means a second writer exists, so the partition is rebuilt and the batch
   retried (the chain of ``previousid`` makes every fold ignore the loser's events);
6. only then sends the replies, and only after those are acknowledged commits the offsets.

A batch spans partitions: its events go out together (one produce request for all of them),
then its replies, and its commit runs while the next batch is decided; that commit waits for
the one before it, and a revocation or ``stop`` waits for it too.

A Kafka failure raises out of ``run`` without committing: the commands are redelivered to the
next owner of their partitions, and step 3 absorbs the repeats. A bug in the service's own
code for one command (decide, evolve, a check) rejects that command with ``InternalError``
and dead-letters it, so one bad message cannot block a partition forever. ``stop`` (SIGTERM)
and a revocation let the batch in flight finish and commit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from schemas import REGISTRY, ContractError, Message
from schemas.envelope import Envelope, source_for
from schemas.registry import Contract, Reason
from schemas.runtime import CommandRejected, CommandReply, Error, EventRef
from schemas.topics import commands_topic, events_topic, processor_group, replies_topic
from services import config
from services.runtime import kafka_clients
from services.runtime.aggregate import Chain, Context, Rejected, ServiceDefinition, Stream
from services.runtime.deadletter import letter_for, publish
from services.runtime.ids import derived_id
from services.runtime.log import Outcome, PartitionLog

log = logging.getLogger(__name__)

#: ``async check(command)``: raise ``Rejected`` to refuse it before ``decide`` (I/O allowed).
Check = Callable[[Contract], Awaitable[None]]
#: ``async effect(event)``: done before the event is appended; must be idempotent.
Effect = Callable[[Contract], Awaitable[None]]

#: Told which aggregates changed (after their events are acknowledged, and after a rebuild).
Observer = Callable[[list[Stream]], None]

#: Failures of the world around us: they stop the processor (no commit), never a command.
INFRASTRUCTURE = (KafkaError, OSError, TimeoutError, asyncio.CancelledError)

_AGGREGATE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class UnreadableLog(Exception):
    """The events partition holds an event this version cannot read: stop, upgrade."""


@dataclass
class _Planned:
    """One command of a batch, decided (or answered) and waiting for its write."""

    envelope: Envelope | None  # None: not even an envelope; dead-lettered, no reply
    outcome: Outcome | None
    write: bytes | None = None  # the event or rejection record to append
    stream_key: tuple[str, str] | None = None  # the aggregate an accepted command changed
    answers: str | None = None  # a replay's: the command its reply speaks of


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
        references: Mapping[str, Any] | None = None,
        observer: Observer | None = None,
        companions: Sequence[Any] = (),
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        max_batch: int = 200,
    ):
        self.service = service
        self.node = node
        self.bootstrap = bootstrap or config.bootstrap_servers()
        self.checks = dict(checks or {})
        self.effects = dict(effects or {})
        self.clock = clock
        self.max_batch = max_batch
        self.observer = observer
        self.companions = list(companions)  # started before, stopped after the processor
        self.commands_topic = commands_topic(node, service.name)
        self.events_topic = events_topic(node, service.name)
        self.replies_topic = replies_topic(node)
        self.source = source_for(node, service.name)
        self.logs: dict[int, PartitionLog] = {}
        self._parked: dict[int, PartitionLog] = {}  # logs of partitions a rebalance took away
        self.lookups = {lookup.name: lookup.initial() for lookup in service.lookups}
        self._lookup_topics = {
            lookup.name: events_topic(node, lookup.source or service.name)
            for lookup in service.lookups}
        self._lookup_chains: dict[tuple[str, str], Chain] = {}
        # what decisions may consult: the lookups, plus references the app passes in (a rate
        # table …); read-only by convention
        self._context_lookups = {**(references or {}), **self.lookups}
        self._rebuilds: dict[int, asyncio.Task] = {}
        self._lock = asyncio.Lock()
        self._committing: asyncio.Future | None = None  # the last batch's commit, in flight
        self._stopping = asyncio.Event()
        self._revoking = False
        self._partitions = 0
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
        self._producer = kafka_clients.producer(self.bootstrap)
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
            self._partitions = len(await kafka_clients.all_partitions(
                self._consumer, self.commands_topic))
            events = len(await kafka_clients.all_partitions(self._consumer, self.events_topic))
            if events != self._partitions:  # a command's events go to its partition number
                raise RuntimeError(
                    f"{self.commands_topic} has {self._partitions} partitions and "
                    f"{self.events_topic} {events}: they must be co-partitioned")
            if self.service.lookups:
                lookup_partitions = [
                    tp for topic in sorted(set(self._lookup_topics.values()))
                    for tp in await kafka_clients.all_partitions(self._lookup_reader, topic)]
                self._lookup_reader.assign(lookup_partitions)
                await self._lookup_reader.seek_to_beginning(*lookup_partitions)
            self._consumer.subscribe([self.commands_topic], listener=_Listener(self))
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200, max_records=self.max_batch)
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
        finally:
            for task in self._rebuilds.values():
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
        for client in (self._consumer, self._lookup_reader, self._probe, self._producer):
            try:
                await client.stop()
            except Exception:  # noqa: BLE001 - closing after a failure must not mask it
                log.exception("closing a Kafka client failed")

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
                if parked is not None:  # eager rebalancing: it often comes straight back
                    self._parked[tp.partition] = parked

    async def _rebuild(self, tp: TopicPartition) -> None:
        """Fold the events partition into the partition's log, then let its commands flow."""
        started = asyncio.get_running_loop().time()
        partition_log = self._parked.pop(tp.partition, None) or PartitionLog(self.service)
        events_tp = TopicPartition(self.events_topic, tp.partition)
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        try:
            reader.assign([events_tp])
            reader.seek(events_tp, partition_log.next_offset)

            def fold(record) -> None:
                message = self._read_event(record)
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
        if self.observer is not None:
            self.observer(list(partition_log.streams.values()))
        log.info("rebuilt %s[%d]: %d aggregates, %d commands, %d skipped, in %.2f s",
                 self.events_topic, tp.partition, len(partition_log.streams),
                 len(partition_log.outcomes), partition_log.skipped,
                 asyncio.get_running_loop().time() - started)
        if not self._rebuilds:
            self.ready.set()

    # -- processing ------------------------------------------------------------------------

    async def _process(self, batches: dict[TopicPartition, list]) -> None:
        """Decide every partition's commands, then append all their events at once, then
        send all the replies at once, then commit: three round trips per batch, however many
        partitions it spans (partitions are independent: each aggregate lives in one)."""
        await self._catch_up_lookups()
        plans: dict[TopicPartition, tuple[PartitionLog, list, list[_Planned]]] = {}
        for tp, records in batches.items():
            partition_log = self.logs.get(tp.partition)
            if partition_log is None:  # fetched before the pause took effect: read it again
                self._consumer.seek(tp, records[0].offset)
                continue
            planned: list[_Planned] = []
            for record in records:
                if self._revoking and planned:
                    break  # a revocation is waiting: the rest is the next owner's
                planned.append(await self._plan(tp, partition_log, record))
            plans[tp] = (partition_log, records, planned)
        appended = await self._append(plans)
        replies = [await self._producer.send(self.replies_topic, value=self._reply(plan),
                                             key=plan.envelope.id.encode())
                   for tp in appended for plan in plans[tp][2] if plan.envelope is not None]
        await asyncio.gather(*replies)
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

    async def _committed(self) -> None:
        """Wait for the last batch's commit (raises its failure)."""
        committing, self._committing = self._committing, None
        if committing is not None:
            await committing

    async def _append(self, plans: dict[TopicPartition, tuple[PartitionLog, list,
                                                                list[_Planned]]]
                      ) -> list[TopicPartition]:
        """Append the events and rejections of every partition, acks=all, and check that
        each partition's landed where its writer expected. Returns the partitions whose
        replies may go; a partition with a second writer is rebuilt and its batch retried."""
        sends = {}
        for tp, (partition_log, _, planned) in plans.items():
            sends[tp] = [await self._producer.send(self.events_topic, value=plan.write,
                                                   key=plan.outcome.aggregate_id.encode(),
                                                   partition=tp.partition)
                         for plan in planned if plan.write is not None]
        placed = dict(zip(sends, await asyncio.gather(
            *(asyncio.gather(*futures) for futures in sends.values()))))
        appended = []
        for tp, (partition_log, records, _) in plans.items():
            offsets = [meta.offset for meta in placed[tp]]
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
        return appended

    async def _plan(self, tp: TopicPartition, partition_log: PartitionLog, record) -> _Planned:
        """Decide one command against the partition's state (or find it in the log)."""
        try:
            envelope, command = REGISTRY.decode(record.value, kind="command")
        except ContractError as error:
            return await self._refuse(partition_log, record, error)
        if envelope.replayof is not None:
            return self._replayed(partition_log, envelope, record)
        known = partition_log.outcomes.get(envelope.id)
        if known is not None:
            return _Planned(envelope, known)
        aggregate = self.service.for_command(type(command))
        if aggregate is None:
            return self._reject(partition_log, envelope, envelope.id, Rejected(
                "UnsupportedCommand", f"the {self.service.name} service does not take it"))
        aggregate_id = REGISTRY.key_of(command)
        if not (envelope.subject == aggregate_id and record.key == aggregate_id.encode()):
            return self._reject(partition_log, envelope, envelope.id, Rejected(
                "ValidationError", "the Kafka key and the subject must be the aggregate id"))
        if self._partition_of(record.key) != tp.partition:
            return self._reject(partition_log, envelope, aggregate_id, Rejected(
                "WrongPartition", "the command was not partitioned by murmur2 of its key"))
        now = self.clock()
        stream = partition_log.stream(aggregate, aggregate_id)
        try:
            check = self.checks.get(type(command))
            if check is not None:
                await check(command)
            events = aggregate.decision(stream.state, command,
                                        Context(now, self._context_lookups))
            if len(events) != 1:
                raise TypeError(f"{type(command).__name__} decided {len(events)} events, not 1")
            [event] = events
            next_state = aggregate.evolve(stream.state, event)  # before anything is written
            effect = self.effects.get(type(event))
            if effect is not None:
                await effect(event)
        except Rejected as rejected:
            return self._reject(partition_log, envelope, aggregate_id, rejected, now)
        except INFRASTRUCTURE:
            raise
        except Exception as bug:  # noqa: BLE001 - a bug for this one command, not the world
            return await self._internal_error(partition_log, record, envelope, aggregate_id, bug)
        event_id = derived_id(envelope.id, 0, now)
        sequence = stream.version + 1
        write = REGISTRY.encode(
            event, id=event_id, source=self.source, subject=aggregate_id, time=now,
            sequence=sequence, previousid=stream.chain.last_id, causationid=envelope.id,
            correlationid=envelope.correlationid or envelope.id)
        stream.state = next_state  # later commands of the batch decide on it
        stream.chain.extend(sequence, event_id)
        outcome = Outcome(time=now, aggregate_id=aggregate_id, events=[
            EventRef(id=event_id, type=event.wire_type, sequence=sequence)])
        partition_log.outcomes[envelope.id] = outcome
        return _Planned(envelope, outcome, write, (aggregate.name, aggregate_id))

    def _reject(self, partition_log: PartitionLog, envelope: Envelope, aggregate_id: str,
                rejected: Rejected, now: dt.datetime | None = None) -> _Planned:
        """Record a rejection in the log, keyed by the aggregate (or, when the command never
        named a valid one, by its own id: client text never becomes a key unchecked)."""
        now = now or self.clock()
        if not _AGGREGATE_ID.match(aggregate_id):
            aggregate_id = envelope.id
        error = Error(code=rejected.code, message=rejected.message[:500])
        outcome = Outcome(time=now, aggregate_id=aggregate_id, error=error)
        partition_log.outcomes[envelope.id] = outcome
        record = REGISTRY.encode(
            CommandRejected(command_id=envelope.id, command_type=envelope.type,
                            aggregate_id=aggregate_id, error=error),
            id=derived_id(envelope.id, 0, now), source=self.source, subject=aggregate_id,
            time=now, causationid=envelope.id,
            correlationid=envelope.correlationid or envelope.id)
        return _Planned(envelope, outcome, record)

    def _replayed(self, partition_log: PartitionLog, envelope: Envelope, record) -> _Planned:
        """A replay request: the logged outcome of the command it names, if that command was
        for the aggregate the request is keyed by; else ``NotDone`` under the request's own id.
        Nothing is decided and nothing is logged (the command may still come, or never)."""
        known = partition_log.outcomes.get(envelope.replayof)
        if known is not None and record.key == known.aggregate_id.encode():
            return _Planned(envelope, known, answers=envelope.replayof)
        return _Planned(envelope, Outcome(time=self.clock(), aggregate_id=envelope.id, error=Error(
            code="NotDone", message="no such command for this aggregate is in the log")))

    async def _refuse(self, partition_log: PartitionLog, record,
                      error: ContractError) -> _Planned:
        """Dead-letter an undecodable command; reject it too if its envelope is readable."""
        await self._dead_letter(record, error.reason.value, str(error))
        envelope = None
        if error.reason not in (Reason.TOO_LARGE, Reason.INVALID_JSON, Reason.INVALID_ENVELOPE):
            envelope = msgspec.json.decode(record.value, type=Envelope)
        if envelope is None:
            return _Planned(None, None)
        if envelope.replayof is not None:
            return self._replayed(partition_log, envelope, record)
        known = partition_log.outcomes.get(envelope.id)
        if known is not None:
            return _Planned(envelope, known)
        unsupported = error.reason in (
            Reason.UNKNOWN_TYPE, Reason.FUTURE_VERSION, Reason.UNEXPECTED_KIND)
        return self._reject(partition_log, envelope, envelope.subject,
                            Rejected("UnsupportedCommand", error.detail) if unsupported
                            else Rejected("ValidationError", error.detail))

    async def _internal_error(self, partition_log: PartitionLog, record, envelope: Envelope,
                              aggregate_id: str, bug: Exception) -> _Planned:
        log.error("the %s service failed on command %s (%s): %s", self.service.name,
                  envelope.id, envelope.type, type(bug).__name__)
        await self._dead_letter(record, "internal_error", type(bug).__name__)
        return self._reject(partition_log, envelope, aggregate_id, Rejected(
            "InternalError", "the service could not handle this command; it was set aside"))

    async def _dead_letter(self, record, reason: str, detail: str) -> None:
        await publish(self._producer, letter_for(
            self.node, source_topic=record.topic, partition=record.partition,
            offset=record.offset, key=record.key, value=record.value, reason=reason,
            detail=detail))

    def _reply(self, plan: _Planned) -> bytes:
        envelope, outcome = plan.envelope, plan.outcome
        reply = CommandReply(
            command_id=plan.answers or envelope.id, command_type=envelope.type,
            aggregate_id=outcome.aggregate_id, accepted=outcome.accepted,
            events=list(outcome.events), error=outcome.error)
        return REGISTRY.encode(
            reply, id=derived_id(envelope.id, -1, outcome.time), source=self.source,
            subject=envelope.id, time=outcome.time, causationid=envelope.id,
            correlationid=envelope.correlationid or envelope.id)

    def _partition_of(self, key: bytes) -> int:
        return (murmur2(key) & 0x7FFFFFFF) % self._partitions

    def _read_event(self, record) -> Message | None:
        """An event of the log; garbage is skipped, but a newer version stops the processor:
        deciding on a state that lacks it would fork the aggregate's history."""
        try:
            return REGISTRY.decode(record.value, kind="event")
        except ContractError as error:
            if error.reason is Reason.FUTURE_VERSION:
                raise UnreadableLog(
                    f"{record.topic}[{record.partition}]@{record.offset} holds {error.wire_type}, "
                    "newer than this service reads; upgrade it") from None
            log.warning("skipped an unreadable record in %s[%d] at offset %d: %s",
                        record.topic, record.partition, record.offset, error.reason.value)
            return None

    # -- lookups ---------------------------------------------------------------------------

    async def _catch_up_lookups(self) -> None:
        """Fold what the events topic gained since the last batch into the lookups: only
        acknowledged events, on their chains, as every fold does."""
        if not self.service.lookups:
            return

        def fold(record) -> None:
            message = self._read_event(record)
            if message is None or message.envelope.sequence is None:
                return
            envelope, event = message
            chain = self._lookup_chains.setdefault((record.topic, envelope.subject), Chain())
            if not chain.continues(envelope.sequence, envelope.previousid):
                return
            chain.extend(envelope.sequence, envelope.id)
            for lookup in self.service.lookups:
                if self._lookup_topics[lookup.name] == record.topic:
                    lookup.apply(self.lookups[lookup.name], event)

        await kafka_clients.read_to_end(
            self._lookup_reader, list(self._lookup_reader.assignment()), fold, self._probe)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, processor: CommandProcessor):
        self.processor = processor

    async def on_partitions_revoked(self, revoked) -> None:
        await self.processor._revoked(set(revoked))  # noqa: SLF001

    async def on_partitions_assigned(self, assigned) -> None:
        self.processor._assigned(set(assigned))  # noqa: SLF001
