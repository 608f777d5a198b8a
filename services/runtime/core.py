"""The command core: from one command's bytes and the state of its partition to what must be
written and what its sender hears. No Kafka, no clock (``now`` comes in), nothing awaited
but the service's own hooks that ``handle`` is given.

For a record of ``{node}.{service}.commands`` and the ``PartitionLog`` of its partition:

1. an undecodable command is dead-lettered, and rejected too if its envelope could be read,
   so that its sender is not left waiting (``UnsupportedCommand`` or ``ValidationError``);
2. a replay request (``replayof``) is answered from the log: the logged outcome of the
   command it names, for the aggregate it is keyed by only, else ``NotDone`` under its own
   id; nothing is decided or logged;
3. a command whose id already reached the log is answered from the log, not decided again;
   where the log forgets outcomes after ``log.OUTCOMES_KEPT`` (``PartitionLog.forget``), one
   whose envelope time lies more than ``ACCEPTED_FOR`` behind the processor's clock or the
   log's (its newest outcome), or ``AHEAD`` in the future, is refused (``CommandOutOfTime``),
   so a command it may have forgotten is never decided again;
4. a command its service does not take (``UnsupportedCommand``), whose subject or Kafka key
   is not its aggregate id (``ValidationError``) or whose key does not hash to its
   partition (``WrongPartition``) is rejected;
5. otherwise the service's checks run (``Hooks``: I/O allowed, raise ``Rejected``), then the
   pure ``decide`` on the aggregate's state, for exactly one event, and ``evolve``; then the
   service's effects for that event, before anything is written;
6. a ``Rejected`` with a code the service (or the runtime) declared in ``schemas`` is logged
   as a ``CommandRejected`` record; any other failure of the service's own code, an
   undeclared code included, is a bug for this one command: ``InternalError``, and the
   command is dead-lettered, so one bad message cannot block a partition.

The answer is a ``Plan``: the record to append to the events partition (the event or the
rejection), the dead letter, and the outcome the reply (``CommandCore.reply``) is made of.
The partition's state moves as the core plans, so the next command of a batch decides on
it. The Kafka processor and the unit tests' in-memory node both run commands through
``handle``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiokafka.partitioner import murmur2

from schemas import REGISTRY
from schemas import runtime as runtime_contracts
from schemas.envelope import Envelope, source_for
from schemas.registry import Contract, Reason
from schemas.rejections import REJECTION_CODES
from schemas.runtime import CommandRejected, CommandReply, Error, EventRef
from services.runtime.aggregate import Aggregate, Context, Rejected, ServiceDefinition, Stream
from services.runtime.deadletter import DeadLetter, letter_for
from services.runtime.ids import derived_id
from services.runtime.log import OUTCOMES_KEPT, Lookups, Outcome, PartitionLog
from services.runtime.reading import Record, Unreadable, read

logger = logging.getLogger(__name__)

#: ``async check(command)``: raise ``Rejected`` to refuse it before ``decide`` (I/O allowed).
Check = Callable[[Contract], Awaitable[None]]
#: ``async effect(event)``: done before the event is appended; must be idempotent.
Effect = Callable[[Contract], Awaitable[None]]

#: The dead-letter reason of a command the service's own code failed on.
INTERNAL_ERROR = "internal_error"

#: How far in the future a command's time may be (clocks of gateways and services differ).
AHEAD = dt.timedelta(minutes=15)
#: How far in the past a command's time may be and the command still be decided, behind the
#: later of the processor's clock and the log's (its newest outcome): the log forgets what is
#: ``OUTCOMES_KEPT`` behind its own clock, and a command's outcome is never older than its
#: time less ``AHEAD``, so with ACCEPTED_FOR + AHEAD <= OUTCOMES_KEPT every outcome the log
#: forgot belongs to a command it refuses, whatever any processor's clock once said (a clock
#: that ran a day ahead once moved the log's clock for good).
ACCEPTED_FOR = OUTCOMES_KEPT - dt.timedelta(hours=1)

_AGGREGATE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: Reasons after which not even the envelope of a command can be read.
_NO_ENVELOPE = (Reason.TOO_LARGE, Reason.INVALID_JSON, Reason.INVALID_ENVELOPE)
_UNSUPPORTED = (Reason.UNKNOWN_TYPE, Reason.FUTURE_VERSION, Reason.UNEXPECTED_KIND)


@dataclass(frozen=True)
class Hooks:
    """What a service does around its pure decisions, with I/O: checks by command type,
    effects by event type."""

    checks: Mapping[type, Check] = field(default_factory=dict)
    effects: Mapping[type, Effect] = field(default_factory=dict)


@dataclass
class Plan:
    """One command, decided or answered: what to append, to dead-letter, and to reply."""

    envelope: Envelope | None  # None: not even an envelope; dead-lettered, no reply
    outcome: Outcome | None
    write: bytes | None = None  # the event or rejection record to append
    stream_key: tuple[str, str] | None = None  # the aggregate an accepted command changed
    answers: str | None = None  # a replay's: the command its reply speaks of
    letter: DeadLetter | None = None
    bug: Exception | None = None  # what made it an InternalError (a fake may raise it again)
    event: Written | None = None  # an accepted command's event, for the service's own lookups


@dataclass(frozen=True)
class Written:
    """An accepted command's event as it is written: what the service's own lookups fold once
    it is acknowledged (``Lookups.apply_event``), without reading it back from Kafka."""

    subject: str
    sequence: int
    event_id: str
    previous_id: str | None
    event: Contract


@dataclass(frozen=True)
class Admitted:
    """A command the core will decide, once the service's checks let it."""

    record: Record
    envelope: Envelope
    command: Contract
    aggregate: Aggregate
    stream: Stream
    now: dt.datetime


@dataclass(frozen=True)
class Decided:
    """The one event a command leads to, and the aggregate's state after it."""

    admitted: Admitted
    event: Contract
    state: Any


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` (murmur2)."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class CommandCore:
    """Decides one service's commands, partition by partition (the caller keeps the logs)."""

    def __init__(self, service: ServiceDefinition, node: str,
                 references: Mapping[str, Any] | None = None, partitions: int = 1):
        self.service = service
        self.node = node
        self.source = source_for(node, service.name)
        #: set once the commands topic's partition count is known
        self.partitions = partitions
        self.lookups = Lookups(service)
        # what decisions may consult: the lookups, and references the app passes in (a rate
        # table …); read-only by convention
        self._context_lookups = {**(references or {}), **self.lookups.views}
        self._codes = (REJECTION_CODES.of(service.name)
                       | REJECTION_CODES.of(runtime_contracts.SERVICE))

    # -- the steps ----------------------------------------------------------------------------

    def admit(self, log: PartitionLog, record: Record, now: dt.datetime) -> Plan | Admitted:
        """Steps 1-4: the plan of a command answered without deciding, or the command to
        decide."""
        found = read(record, kind="command")
        if isinstance(found, Unreadable):
            return self._unreadable(log, found, now)
        envelope, command = found
        answered = self._answered(log, envelope, record, now)
        if answered is not None:
            return answered
        if log.forget and not (max(now, log.newest or now) - ACCEPTED_FOR <= envelope.time
                               <= now + AHEAD):  # answered,
            # not logged (only a log that forgets needs it):
            # the same id sent again in time (a clock put right, a courier's fresh attempt)
            # is then decided, and never was before
            return Plan(envelope, Outcome(time=now, aggregate_id=envelope.id, error=Error(
                code="CommandOutOfTime", message="the command's time is too far from the "
                "service's clock to be decided: send it again with the current time")))
        aggregate = self.service.for_command(type(command))
        if aggregate is None:
            return self._reject(log, envelope, envelope.id, Rejected(
                "UnsupportedCommand", f"the {self.service.name} service does not take it"), now)
        aggregate_id = REGISTRY.key_of(command)
        if not (envelope.subject == aggregate_id and record.key == aggregate_id.encode()):
            return self._reject(log, envelope, envelope.id, Rejected(
                "ValidationError", "the Kafka key and the subject must be the aggregate id"), now)
        if partition_for(record.key, self.partitions) != record.partition:
            return self._reject(log, envelope, aggregate_id, Rejected(
                "WrongPartition", "the command was not partitioned by murmur2 of its key"), now)
        return Admitted(record, envelope, command, aggregate,
                        log.stream(aggregate, aggregate_id), now)

    def decide(self, admitted: Admitted) -> Decided:
        """Step 5, pure: the one event and the state after it, or ``Rejected`` (or a bug)."""
        stream = admitted.stream
        events = admitted.aggregate.decision(stream.state, admitted.command,
                                             Context(admitted.now, self._context_lookups))
        if len(events) != 1:
            raise TypeError(f"{type(admitted.command).__name__} decided {len(events)} events, "
                            "not 1")
        [event] = events
        return Decided(admitted, event, admitted.aggregate.evolve(stream.state, event))

    def accept(self, log: PartitionLog, decided: Decided) -> Plan:
        """The event to append; the stream and the log move on to it."""
        admitted = decided.admitted
        envelope, stream, now = admitted.envelope, admitted.stream, admitted.now
        event_id = derived_id(envelope.id, 0, now)
        sequence = stream.version + 1
        previous_id = stream.chain.last_id
        write = REGISTRY.encode(
            decided.event, id=event_id, source=self.source, subject=stream.aggregate_id,
            time=now, sequence=sequence, previousid=previous_id,
            causationid=envelope.id, correlationid=envelope.correlationid or envelope.id,
            actor=envelope.actor)
        stream.state = decided.state  # later commands of the batch decide on it
        stream.chain.extend(sequence, event_id)
        outcome = Outcome(time=now, aggregate_id=stream.aggregate_id, events=[
            EventRef(id=event_id, type=decided.event.wire_type, sequence=sequence)])
        log.record(envelope.id, outcome)
        return Plan(envelope, outcome, write, (admitted.aggregate.name, stream.aggregate_id),
                    event=Written(stream.aggregate_id, sequence, event_id, previous_id,
                                  decided.event))

    def refuse(self, log: PartitionLog, admitted: Admitted, rejected: Rejected) -> Plan:
        """Step 6 for a ``Rejected`` of the service's checks or decision."""
        if rejected.code not in self._codes:  # a gap the tests should have caught; it is still
            # the service's answer (``tests/unit/test_rejection_codes.py``)
            logger.warning("%s rejected a command with a code it does not declare in "
                           "schemas: %s", self.service.name, rejected.code)
        return self._reject(log, admitted.envelope, admitted.stream.aggregate_id, rejected,
                            admitted.now)

    def fail(self, log: PartitionLog, admitted: Admitted, bug: Exception) -> Plan:
        """Step 6 for a bug of the service's own code: ``InternalError``, dead-lettered."""
        letter = letter_for(
            self.node, source_topic=admitted.record.topic, partition=admitted.record.partition,
            offset=admitted.record.offset, key=admitted.record.key,
            value=admitted.record.value, reason=INTERNAL_ERROR, detail=type(bug).__name__,
            now=admitted.now)
        plan = self._reject(log, admitted.envelope, admitted.stream.aggregate_id, Rejected(
            "InternalError", "the service could not handle this command; it was set aside"),
            admitted.now, letter)
        return dataclasses.replace(plan, bug=bug)

    def reply(self, plan: Plan) -> bytes | None:
        """What the sender hears (``{node}.replies``, keyed by the command id); ``None`` for a
        record that was not even an envelope."""
        envelope, outcome = plan.envelope, plan.outcome
        if envelope is None:
            return None
        reply = CommandReply(
            command_id=plan.answers or envelope.id, command_type=envelope.type,
            aggregate_id=outcome.aggregate_id, accepted=outcome.accepted,
            events=list(outcome.events), error=outcome.error)
        return REGISTRY.encode(
            reply, id=derived_id(envelope.id, -1, outcome.time), source=self.source,
            subject=envelope.id, time=outcome.time, causationid=envelope.id,
            correlationid=envelope.correlationid or envelope.id)

    # -- answers without a decision -----------------------------------------------------------

    def _answered(self, log: PartitionLog, envelope: Envelope, record: Record,
                  now: dt.datetime) -> Plan | None:
        """A replay's answer, or the logged outcome of a command the log has (steps 2, 3)."""
        if envelope.replayof is not None:
            known = log.outcomes.get(envelope.replayof)
            if known is not None and record.key == known.aggregate_id.encode():
                return Plan(envelope, known, answers=envelope.replayof)
            return Plan(envelope, Outcome(time=now, aggregate_id=envelope.id, error=Error(
                code="NotDone", message="no such command for this aggregate is in the log (it "
                "forgets a command a week after it)")))
        known = log.outcomes.get(envelope.id)
        return None if known is None else Plan(envelope, known)

    def _unreadable(self, log: PartitionLog, unreadable: Unreadable,
                    now: dt.datetime) -> Plan:
        """Dead-letter an undecodable command; reject it too if its envelope is readable."""
        letter = unreadable.letter(self.node, now)
        if unreadable.error.reason in _NO_ENVELOPE:
            return Plan(None, None, letter=letter)
        record = unreadable.record
        envelope = msgspec.json.decode(record.value, type=Envelope)
        answered = self._answered(log, envelope, record, now)
        if answered is not None:
            answered.letter = letter
            return answered
        detail = unreadable.error.detail
        return self._reject(log, envelope, envelope.subject,
                            Rejected("UnsupportedCommand", detail)
                            if unreadable.error.reason in _UNSUPPORTED
                            else Rejected("ValidationError", detail), now, letter)

    def _reject(self, log: PartitionLog, envelope: Envelope, aggregate_id: str,
                rejected: Rejected, now: dt.datetime, letter: DeadLetter | None = None) -> Plan:
        """Record a rejection in the log, keyed by the aggregate (or, when the command never
        named a valid one, by its own id: client text never becomes a key unchecked)."""
        if not _AGGREGATE_ID.match(aggregate_id):
            aggregate_id = envelope.id
        error = Error(code=rejected.code, message=rejected.message[:500])
        outcome = Outcome(time=now, aggregate_id=aggregate_id, error=error)
        log.record(envelope.id, outcome)
        record = REGISTRY.encode(
            CommandRejected(command_id=envelope.id, command_type=envelope.type,
                            aggregate_id=aggregate_id, error=error),
            id=derived_id(envelope.id, 0, now), source=self.source, subject=aggregate_id,
            time=now, causationid=envelope.id,
            correlationid=envelope.correlationid or envelope.id)
        return Plan(envelope, outcome, record, letter=letter)


async def handle(core: CommandCore, log: PartitionLog, record: Record, now: dt.datetime,
                 hooks: Hooks = Hooks(),
                 infrastructure: tuple[type[BaseException], ...] = ()) -> Plan:
    """One command through every step, the service's hooks between them. A failure in
    ``infrastructure`` (the world around the service, such as Kafka's) is raised, never
    charged to the command."""
    admitted = core.admit(log, record, now)
    if isinstance(admitted, Plan):
        return admitted
    try:
        check = hooks.checks.get(type(admitted.command))
        if check is not None:
            await check(admitted.command)
        decided = core.decide(admitted)
        effect = hooks.effects.get(type(decided.event))
        if effect is not None:
            await effect(decided.event)
    except Rejected as rejected:
        return core.refuse(log, admitted, rejected)
    except infrastructure:
        raise
    except Exception as bug:  # noqa: BLE001 - a bug for this one command, not the world
        return core.fail(log, admitted, bug)
    return core.accept(log, decided)
