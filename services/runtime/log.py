"""The state a command processor keeps, folded from events (pure).

``PartitionLog`` holds every aggregate stream of one partition and, for every command that
reached the log, its outcome: the event it produced (if the fold applied it) or its
rejection. The first outcome of a command in the log is its outcome; a later record for the
same command (a second writer's) is ignored, and so is everything chained on it. The log is
rebuilt by reading the events partition from the start, or from a snapshot
(``services.runtime.snapshots``) and the events after it, and extended by the processor as
it writes.

The outcomes are kept as long as a retry can reach them, and no longer: ``OUTCOMES_KEPT``
(the commands topics' retention, ``schemas.topics.COMMANDS_KEPT``) behind the newest outcome
of the log, by the log's own clock (the times its records carry, so a fold forgets exactly
what the live log forgot). The core refuses a command too old to be remembered
(``CommandCore.admit``), so a forgotten outcome is never decided again. Pruning runs when
the log's clock enters a new hour (of the calendar, ``PRUNE_EVERY``), and forgets what is
older than ``OUTCOMES_KEPT`` before that hour began, from the oldest outcome on: so the
live log, a fold from offset 0 and a log restored from a snapshot, fed the same records,
forget the same outcomes after the same record (a log that still remembered a command the
live one had forgotten, and decided again, would skip its second event and every event
chained on it), and memory stays flat as the log grows.

A snapshot needs a cut of the log that does not stop it for long: ``cut`` copies the maps
(no stream is copied) and from then on ``stream`` keeps the state a stream had at the cut
before handing it out to be changed, until ``release``; one cut at a time.

``Lookups`` holds a service's lookups (``aggregate.Lookup``): views folded from whole events
topics of the node (every partition), each event applied only if it continues its chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas import Message
from schemas.topics import COMMANDS_KEPT
from schemas.runtime import CommandRejected, Error, EventRef
from services.runtime.aggregate import Aggregate, Chain, ServiceDefinition, Stream


#: How long behind the newest outcome of its log an outcome is remembered.
OUTCOMES_KEPT = COMMANDS_KEPT
#: How much log time passes between two prunings of the outcomes.
PRUNE_EVERY = dt.timedelta(hours=1)

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _hour(time: dt.datetime) -> dt.datetime:
    """The start of the ``PRUNE_EVERY`` period of ``time``, the same for every log."""
    return time - (time - _EPOCH) % PRUNE_EVERY


#: A stream as a cut saw it: its state, chain version and last event id.
Frozen = tuple[object, int, "str | None"]


@dataclass(slots=True)
class Outcome:
    """What the log says a command did."""

    time: dt.datetime
    aggregate_id: str
    events: list[EventRef] = field(default_factory=list)
    error: Error | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None


@dataclass
class PartitionLog:
    """Streams and command outcomes of one partition of a service's events topic."""

    service: ServiceDefinition
    streams: dict[tuple[str, str], Stream] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    next_offset: int = 0  # where the next event of this partition will land
    skipped: int = 0  # records the fold could not apply (sequence gaps, stray types)
    newest: dt.datetime | None = None  # the time of the newest outcome: the log's clock
    pruned: int = 0  # outcomes forgotten, being older than OUTCOMES_KEPT
    #: whether outcomes older than ``OUTCOMES_KEPT`` are forgotten at all; the processor sets
    #: it from ``services.config.forget_outcomes`` (on by default; off: every outcome is kept)
    forget: bool = False
    _before: dict[tuple[str, str], Frozen] | None = None  # set while a cut is being written

    def stream(self, aggregate: Aggregate, aggregate_id: str) -> Stream:
        """The stream of an aggregate, to read or change (a new one if the log has none)."""
        key = (aggregate.name, aggregate_id)
        stream = self.streams.get(key)
        if stream is None:
            stream = self.streams[key] = Stream.new(aggregate, aggregate_id)
        elif self._before is not None and key not in self._before:
            self._before[key] = (stream.state, stream.chain.version, stream.chain.last_id)
        return stream

    def record(self, command_id: str, outcome: Outcome) -> None:
        """Remember a command's outcome, and forget those no retry can reach any more."""
        self.outcomes[command_id] = outcome
        if self.newest is None or outcome.time > self.newest:
            before, self.newest = self.newest, outcome.time
            if self.forget and before is not None and _hour(outcome.time) > _hour(before):
                self.prune()

    def prune(self) -> int:
        """Forget the outcomes older than ``OUTCOMES_KEPT`` before the hour of the newest
        began, oldest first (up to the first younger one: an outcome is never forgotten
        early, at worst two hours late), if this log forgets at all (``forget``). Returns how
        many were forgotten."""
        if self.newest is None or not self.forget:
            return 0
        oldest_kept = _hour(self.newest) - OUTCOMES_KEPT
        expired = []
        for command_id, outcome in self.outcomes.items():
            if outcome.time >= oldest_kept:
                break
            expired.append(command_id)
        for command_id in expired:
            del self.outcomes[command_id]
        self.pruned += len(expired)
        return len(expired)

    # -- cuts, for snapshots -------------------------------------------------------------

    def cut(self) -> Cut:
        """The log as it stands, for a snapshot written while the log goes on: copies of its
        maps now; the streams' states as they are now, until ``release``."""
        if self._before is not None:
            raise RuntimeError("a cut of this log is being written already")
        self._before = {}
        return Cut(self, self.streams.copy(), self.outcomes.copy(), self.next_offset,
                   self.newest, self._before)

    @property
    def cutting(self) -> bool:
        """Whether a cut of this log is being written."""
        return self._before is not None

    def release(self, cut: Cut) -> None:
        """``cut`` is read: streams are handed out without keeping their old state."""
        if self._before is cut.before:
            self._before = None

    def apply(self, message: Message) -> bool:
        """Fold one record read from the events partition; ``False`` if it was not applied."""
        envelope, payload = message
        if isinstance(payload, CommandRejected):
            if payload.command_id in self.outcomes:
                self.skipped += 1
                return False
            self.record(payload.command_id, Outcome(
                time=envelope.time, aggregate_id=payload.aggregate_id, error=payload.error))
            return True
        command_id = envelope.causationid
        aggregate = self.service.for_event(type(payload))
        if (aggregate is None or envelope.sequence is None or command_id is None
                or command_id in self.outcomes):
            self.skipped += 1
            return False
        stream = self.stream(aggregate, envelope.subject)
        if not stream.apply(payload, envelope.sequence, envelope.id, envelope.previousid):
            self.skipped += 1  # off the chain: a second writer was here
            return False
        self.record(command_id, Outcome(time=envelope.time, aggregate_id=envelope.subject, events=[
            EventRef(id=envelope.id, type=envelope.type, sequence=envelope.sequence)]))
        return True


@dataclass
class Cut:
    """A partition's log at one offset (``covers``: the events before it), as a snapshot
    writes it: the streams as they were then, even if the log has changed them since."""

    log: PartitionLog
    streams: dict[tuple[str, str], Stream]  # copies of the maps: one allocation each, so a
    outcomes: dict[str, Outcome]  # cut sets off no garbage collection of a big heap
    covers: int
    newest: dt.datetime | None
    before: dict[tuple[str, str], Frozen]

    def frozen(self, key: tuple[str, str], stream: Stream) -> Frozen:
        """A stream's state, chain version and last event id at the cut."""
        kept = self.before.get(key)
        if kept is not None:
            return kept
        return stream.state, stream.chain.version, stream.chain.last_id


class Lookups:
    """The views of a service's lookups, by name, and where each event stream stands."""

    def __init__(self, service: ServiceDefinition):
        self.service = service
        self.views = {lookup.name: lookup.initial() for lookup in service.lookups}
        #: the services whose events feed a lookup (its own, ``source=None``, or another's)
        self.sources = {lookup.source or service.name for lookup in service.lookups}
        self._chains: dict[tuple[str, str], Chain] = {}

    def apply(self, source: str, message: Message) -> None:
        """Fold one event of ``source``'s events topic into the views that read it."""
        envelope, event = message
        self.apply_event(source, envelope.subject, envelope.sequence, envelope.id,
                         envelope.previousid, event, envelope.time)

    def apply_event(self, source: str, subject: str, sequence: int | None, event_id: str,
                    previous_id: str | None, event, time: dt.datetime | None = None) -> bool:
        """``apply`` from the parts of an event: what a service does with its own events as
        they are acknowledged, without reading them back. Whether it continued its chain
        (and so was applied)."""
        if source not in self.sources or sequence is None:
            return False
        chain = self._chains.setdefault((source, subject), Chain())
        if not chain.continues(sequence, previous_id):
            return False
        chain.extend(sequence, event_id)
        for lookup in self.service.lookups:
            if (lookup.source or self.service.name) == source:
                if lookup.timed:
                    lookup.apply(self.views[lookup.name], event, time)
                else:
                    lookup.apply(self.views[lookup.name], event)
        return True
