"""The state a command processor keeps, folded from events (pure).

``PartitionLog`` holds every aggregate stream of one partition and, for every command that
reached the log, its outcome: the event it produced (if the fold applied it) or its
rejection. The first outcome of a command in the log is its outcome; a later record for the
same command (a second writer's) is ignored, and so is everything chained on it. The log is
rebuilt by reading the events partition from the start, and extended by the processor as it
writes.

``Lookups`` holds a service's lookups (``aggregate.Lookup``): views folded from whole events
topics of the node (every partition), each event applied only if it continues its chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas import Message
from schemas.runtime import CommandRejected, Error, EventRef
from services.runtime.aggregate import Aggregate, Chain, ServiceDefinition, Stream


@dataclass
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

    def stream(self, aggregate: Aggregate, aggregate_id: str) -> Stream:
        key = (aggregate.name, aggregate_id)
        stream = self.streams.get(key)
        if stream is None:
            stream = self.streams[key] = Stream.new(aggregate, aggregate_id)
        return stream

    def apply(self, message: Message) -> bool:
        """Fold one record read from the events partition; ``False`` if it was not applied."""
        envelope, payload = message
        if isinstance(payload, CommandRejected):
            if payload.command_id in self.outcomes:
                self.skipped += 1
                return False
            self.outcomes[payload.command_id] = Outcome(
                time=envelope.time, aggregate_id=payload.aggregate_id, error=payload.error)
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
        self.outcomes[command_id] = Outcome(time=envelope.time, aggregate_id=envelope.subject, events=[
            EventRef(id=envelope.id, type=envelope.type, sequence=envelope.sequence)])
        return True


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
                         envelope.previousid, event)

    def apply_event(self, source: str, subject: str, sequence: int | None, event_id: str,
                    previous_id: str | None, event) -> bool:
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
                lookup.apply(self.views[lookup.name], event)
        return True
