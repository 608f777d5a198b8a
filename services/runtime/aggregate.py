"""What a service is, in pure terms: aggregates with ``decide`` and ``evolve``, and a fold.

A service is a ``ServiceDefinition``: a name and its ``Aggregate`` types. An aggregate type
names the commands it accepts (each declares in ``schemas`` the field that holds the
aggregate's id: ``REGISTRY.key_of``) and the events it owns, its initial state, and two pure
functions::

    decide(state, command, context) -> list[event]     # or raise Rejected(code, message)
    evolve(state, event) -> state

``Context`` brings in everything that is not the aggregate's own state: the clock and
read-only lookups (views of other aggregates or services). No I/O happens here; the
processor does it around these functions.

``Stream`` is the fold of one aggregate: it applies an event only if it *continues the chain*:
its sequence is the next one and its ``previousid`` names the last applied event. A stale
writer's event, and everything decided on top of it, is therefore ignored by every fold.

A command is one fact: an accepted command has exactly one event, so its effect is one Kafka
record, atomic, never half written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from schemas.fields import NOT_COME_YET, days_ahead
from schemas.registry import Contract

S = TypeVar("S")


class Rejected(Exception):
    """A command that must not happen: ``code`` is a stable PascalCase name for clients."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Context:
    """What a decision may know besides the aggregate's state."""

    now: dt.datetime
    lookups: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """One aggregate type of a service."""

    name: str
    initial: Callable[[], S]
    decide: Callable[[S, Contract, Context], list[Contract]]
    evolve: Callable[[S, Contract], S]
    commands: tuple[type[Contract], ...]
    events: tuple[type[Contract], ...]
    #: raised whenever ``evolve`` makes something else of the same events (a snapshot of
    #: states an older fold made is then ignored: ``services.runtime.snapshots``)
    fold_version: int = 1

    def decision(self, state: S, command: Contract, context: Context) -> list[Contract]:
        """``decide``, after the rules a contract states of its own fields and that hold for
        every service: no day on which something happened lies ahead (``PastDay``)."""
        ahead = days_ahead(command, context.now)
        if ahead:
            raise Rejected("ValidationError", f"{', '.join(ahead)}: {NOT_COME_YET}")
        return self.decide(state, command, context)


@dataclass(frozen=True)
class Lookup(Generic[S]):
    """A read-only view a decision may consult, folded from an events topic of this node
    (every partition, so it sees other aggregates): the service's own (``source=None``) or
    another service's (``source="membership"``). ``apply`` mutates the view in place;
    a ``timed`` lookup's is also given when the event was recorded (its envelope's time:
    ``apply(view, event, time)``), which only another service's events bring."""

    name: str
    initial: Callable[[], S]
    apply: Callable[..., None]
    source: str | None = None
    timed: bool = False


@dataclass(frozen=True)
class ServiceDefinition:
    """A service: its name (the topic namespace), its aggregate types and its lookups."""

    name: str
    aggregates: tuple[Aggregate, ...]
    lookups: tuple[Lookup, ...] = ()

    def __post_init__(self) -> None:
        seen: dict[type, str] = {}
        for aggregate in self.aggregates:
            for tp in (*aggregate.commands, *aggregate.events):
                if tp in seen:
                    raise ValueError(f"{tp.__name__} belongs to {seen[tp]} and {aggregate.name}")
                seen[tp] = aggregate.name
            keys = {command.contract_key for command in aggregate.commands}
            if len(keys) > 1:  # one aggregate, one id: every command names it the same way
                raise ValueError(f"the commands of {aggregate.name} are keyed by {sorted(keys)}")
        for lookup in self.lookups:  # its own events come back without their envelopes
            if lookup.timed and lookup.source in (None, self.name):
                raise ValueError(f"{lookup.name}: a timed lookup reads another service's events")

    def for_command(self, command_type: type[Contract]) -> Aggregate | None:
        return next((a for a in self.aggregates if command_type in a.commands), None)

    def for_event(self, event_type: type[Contract]) -> Aggregate | None:
        return next((a for a in self.aggregates if event_type in a.events), None)


@dataclass
class Chain:
    """Where an aggregate's chain of events stands: the last applied sequence and event id."""

    version: int = 0
    last_id: str | None = None

    def continues(self, sequence: int | None, previous_id: str | None) -> bool:
        return sequence == self.version + 1 and previous_id == self.last_id

    def extend(self, sequence: int, event_id: str) -> None:
        self.version, self.last_id = sequence, event_id


@dataclass
class Stream(Generic[S]):
    """One aggregate's state, folded from the events that continue its chain."""

    aggregate: Aggregate[S]
    aggregate_id: str
    state: S
    chain: Chain = field(default_factory=Chain)

    @classmethod
    def new(cls, aggregate: Aggregate[S], aggregate_id: str) -> Stream[S]:
        return cls(aggregate, aggregate_id, aggregate.initial())

    @property
    def version(self) -> int:
        return self.chain.version

    def apply(self, event: Contract, sequence: int, event_id: str,
              previous_id: str | None) -> bool:
        """Apply ``event`` if it continues the chain; return whether it was applied."""
        if not self.chain.continues(sequence, previous_id):
            return False
        self.state = self.aggregate.evolve(self.state, event)
        self.chain.extend(sequence, event_id)
        return True


def fold(aggregate: Aggregate[S], events: list[Contract]) -> S:
    """The state after ``events`` (sequences 1, 2, 3 …): for tests and replays."""
    state = aggregate.initial()
    for event in events:
        state = aggregate.evolve(state, event)
    return state
