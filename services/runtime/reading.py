"""Reading a record: its message, or why not and the dead letter that says so. Every consumer
reads here: the command processor (commands, and its events when it rebuilds), the relay
(its node's events, its peers' signed messages) and the gateway's projections.

``read`` decodes a record's value (``REGISTRY.decode``, or an ``opener`` of the consumer's
own, such as the relay's signature check) into a ``Message``, or returns ``Unreadable``: the
error (``ContractError``, or a ``Refused`` the opener raised) and the record, from which
``letter`` makes its dead letter. Whether the letter is written is the consumer's call: one
that reads a log it does not own skips it instead (``read_log``).

``read_event`` is ``read(record, kind="event")`` for less, for the gateway's projections,
which read every event of the log: an event of a newest version is decoded straight into its
contract (no upcast to look for, the wire type checked by looking it up rather than by
pattern), accepting exactly what the full decode accepts; anything else is handed to ``read``,
so whatever it refuses is refused with the same reason and detail.

Nothing here does I/O (``read_log`` logs what it skips).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import msgspec

from schemas import REGISTRY, ContractError, Message
from schemas.envelope import Envelope
from schemas.registry import MAX_MESSAGE_BYTES, Kind, Reason
from services.runtime.deadletter import DeadLetter, letter_for

log = logging.getLogger(__name__)

T = TypeVar("T")


class Record(Protocol):
    """A record as read from Kafka (aiokafka's and faust's records have these)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


class Refused(ValueError):
    """Bytes a consumer's own opener will not read: ``reason`` is a stable code (the dead
    letter's), ``detail`` what exactly, never a value it saw."""

    def __init__(self, reason: StrEnum, detail: str):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


class UnreadableLog(Exception):
    """A log holds an event newer than this reader reads: stop, upgrade."""


@dataclass(frozen=True)
class Unreadable:
    """A record that holds no readable message, and why."""

    record: Any
    error: ContractError | Refused

    @property
    def reason(self) -> str:
        return self.error.reason.value

    def letter(self, node: str, now: dt.datetime | None = None) -> DeadLetter:
        """Its dead letter for ``{node}.deadletter``."""
        record = self.record
        detail = str(self.error) if isinstance(self.error, ContractError) else self.error.detail
        return letter_for(node, source_topic=record.topic, partition=record.partition,
                          offset=record.offset, key=record.key, value=record.value,
                          reason=self.reason, detail=detail, now=now)


def read(record: Record, kind: Kind | None = None,
         opener: Callable[[bytes | None], T] | None = None) -> Message | T | Unreadable:
    """The message of ``record`` (of ``kind``, if given), as ``opener`` reads its value
    (default: decoded and upcast by the registry), or ``Unreadable``."""
    try:
        if opener is not None:
            return opener(record.value)
        return REGISTRY.decode(record.value, kind=kind)
    except (ContractError, Refused) as error:
        return Unreadable(record, error)


class _Header(Envelope, frozen=True, kw_only=True, omit_defaults=True):
    """An ``Envelope`` with every check of its own but the pattern of ``type``: ``read_event``
    takes only a type it finds among the newest events' wire types, all of which match it."""

    type: str


_HEADER = msgspec.json.Decoder(_Header)
#: A decoder per wire type of the newest version of every event (importing ``schemas``, as
#: this module does, registers every contract).
_NEWEST_EVENTS = {wire_type: msgspec.json.Decoder(cls)
                  for wire_type, cls in REGISTRY.types().items()
                  if cls.contract_kind == "event" and REGISTRY.is_newest(cls)}


def read_event(record: Record) -> Message | Unreadable:
    """What ``read(record, kind="event")`` returns (its envelope an ``Envelope`` subclass of
    the same fields), for less: see the module's docstring. A value the short way does not
    read whole (too large, no envelope, a type it does not hold, an older version to upcast,
    data its contract refuses) goes the full way."""
    header = envelope_of(record)
    decoder = None if header is None else _NEWEST_EVENTS.get(header.type)
    if decoder is not None:
        try:
            return Message(header, decoder.decode(header.data))
        except msgspec.DecodeError:  # ValidationError too: the full decode says why
            pass
    return read(record, kind="event")


def envelope_of(record: Record) -> Envelope | None:
    """The envelope of a record, if it reads (a record whose message does not, a newer
    version or data its contract refuses, still says whose and when): the short way's first
    step (``read_event``); None for anything else."""
    value = record.value
    if type(value) is not bytes or len(value) > MAX_MESSAGE_BYTES:
        return None
    try:
        return _HEADER.decode(value)
    except msgspec.DecodeError:
        return None


def read_log(record: Record) -> Message | None:
    """An event of a log its reader folds (a service's own, a lookup's): garbage is skipped
    (and logged), but an event newer than this reader reads stops it (``UnreadableLog``):
    a state folded without it would fork the aggregate's history."""
    found = read(record, kind="event")
    if not isinstance(found, Unreadable):
        return found
    if found.error.reason is Reason.FUTURE_VERSION:
        raise UnreadableLog(
            f"{record.topic}[{record.partition}]@{record.offset} holds "
            f"{found.error.wire_type}, newer than this service reads; upgrade it")
    log.warning("skipped an unreadable record in %s[%d] at offset %d: %s",
                record.topic, record.partition, record.offset, found.reason)
    return None
