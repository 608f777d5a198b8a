"""What a service is, in pure terms: aggregates with ``decide`` and ``evolve``, and a fold.

A service is a ``ServiceDefinition``: a name and its ``Aggregate`` types. An aggregate type
names the commands it accepts and the events it owns, how to find the aggregate id in either,
its initial state, and two pure functions::

    decide(state, command, context) -> list[event]     # or raise Rejected(code, message)
    evolve(state, event) -> state

``Context`` brings in everything that is not the aggregate's own state: the clock and
read-only lookups (views of other aggregates or services). No I/O happens here; the
processor does it around these functions.

``Stream`` is the fold of one aggregate: it applies an event only if its sequence is the next
one, and remembers which command caused which events, so a repeated command is answered
from the log instead of being decided again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

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
    id_of: Callable[[Contract], str]


@dataclass(frozen=True)
class Lookup(Generic[S]):
    """A read-only view a decision may consult, folded from the service's own events topic
    (every partition, so it sees other aggregates). ``apply`` mutates the view in place."""

    name: str
    initial: Callable[[], S]
    apply: Callable[[S, Contract], None]


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

    def for_command(self, command_type: type[Contract]) -> Aggregate | None:
        return next((a for a in self.aggregates if command_type in a.commands), None)

    def for_event(self, event_type: type[Contract]) -> Aggregate | None:
        return next((a for a in self.aggregates if event_type in a.events), None)


@dataclass
class Stream(Generic[S]):
    """One aggregate's state, folded from its events in sequence order."""

    aggregate: Aggregate[S]
    aggregate_id: str
    state: S
    version: int = 0  # the sequence of the last applied event

    @classmethod
    def new(cls, aggregate: Aggregate[S], aggregate_id: str) -> Stream[S]:
        return cls(aggregate, aggregate_id, aggregate.initial())

    def apply(self, event: Contract, sequence: int) -> bool:
        """Apply ``event`` if it is the next one; return whether it was applied."""
        if sequence != self.version + 1:
            return False
        self.state = self.aggregate.evolve(self.state, event)
        self.version = sequence
        return True


def fold(aggregate: Aggregate[S], events: list[Contract]) -> S:
    """The state after ``events`` (sequences 1, 2, 3 …): for tests and replays."""
    state = aggregate.initial()
    for event in events:
        state = aggregate.evolve(state, event)
    return state
