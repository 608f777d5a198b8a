"""When a command sent under a caller's idempotency key was first decided, so that a retry
under that key is never decided a second time, however late it comes.

A command processor forgets a command's outcome a week after deciding it
(``services.runtime.log.OUTCOMES_KEPT``) and refuses a command whose time is more than about
a week old (``CommandOutOfTime``), so that a command it may have forgotten is never decided
again. A mutation's command id is made of the caller's idempotency key
(``gateway.commands.command_id_for``), the same on every attempt; its time would be the
attempt's own. So the gateway remembers, for every such command the log holds, when it was
decided (its event's or its ``CommandRejected``'s time), and sends a retry with that time:
within the week the processor answers it from its log (the same outcome, the same bytes);
after it, the processor refuses it as out of time and the caller hears
``IdempotencyKeyExpired``: the key was used on that day, and what to do.

The fold notes it (``note``), in the raw row ``decided/{events topic}/{aggregate}/{command
id}`` holding the ISO time and, for a ``CommandRejected``, `` rejected``, written with the
batch that read the record (a readable event off its aggregate's chain is not noted: no fold
applies it; a record the gateway cannot read, a newer version or data its contract refuses,
is noted from its envelope wherever it stands, which at worst keeps a row too many). The rows
grow with the commands sent under a key (a key of about 100 bytes and a 32-byte time, before
RocksDB compresses them; not measured on disk), none kept in memory. An
id made of a key is a UUIDv5; every other id is a UUIDv7 (``services.runtime.ids``), never
noted, nor is a rejection of a command that named no aggregate (its subject is its own id).
Keyed by aggregate: the same key sent for another aggregate is another request here (see
docs/decisions.md). Reads no topic; ``gateway.projections`` and ``gateway.commands`` use it.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Protocol

from schemas.envelope import Envelope

PREFIX = b"decided/"
_REJECTED = " rejected"


class Decided(NamedTuple):
    time: dt.datetime
    accepted: bool  # False: the log holds its CommandRejected


class RawRows(Protocol):
    def stage_raw(self, key: bytes, value: bytes) -> None: ...

    def raw(self, key: bytes) -> bytes | None: ...


def keyed(command_id: str) -> bool:
    """Whether ``command_id`` was made of a caller's idempotency key (a UUIDv5)."""
    return len(command_id) == 36 and command_id[14] == "5"


def key_of(topic: str, aggregate_id: str, command_id: str) -> bytes:
    return PREFIX + f"{topic}/{aggregate_id}/{command_id}".encode()


def note(store: RawRows, topic: str, envelope: Envelope) -> None:
    """Remember when the command that caused this record (of events topic ``topic``) was
    decided, if it was sent under an idempotency key. Read again, a record writes the same."""
    command_id = envelope.causationid
    if command_id is not None and keyed(command_id) and envelope.subject != command_id:
        value = envelope.time.isoformat() + ("" if envelope.sequence else _REJECTED)
        store.stage_raw(key_of(topic, envelope.subject, command_id), value.encode())


def decided_at(store: RawRows, topic: str, aggregate_id: str,
               command_id: str) -> Decided | None:
    """When (and how) the log decided ``command_id`` for ``aggregate_id`` (of events topic
    ``topic``), as far as the fold has read, or None."""
    raw = store.raw(key_of(topic, aggregate_id, command_id))
    if raw is None:
        return None
    text = raw.decode()
    rejected = text.endswith(_REJECTED)
    return Decided(dt.datetime.fromisoformat(text.removesuffix(_REJECTED)), not rejected)
