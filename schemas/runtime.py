"""Contracts every service shares: the log record of a rejected command, and the reply.

* ``CommandRejected`` (``coop.runtime.CommandRejected.v1``) goes to the service's events
  topic, on the aggregate's partition and without a ``sequence``: it changes no state, but it
  makes the rejection part of the log, so a command redelivered after a crash is answered with
  the same outcome instead of being decided again on a newer state.
* ``CommandReply`` (``coop.runtime.CommandReply.v1``) goes to ``{node}.replies`` keyed by the
  command id. It is derived only from the log records of that command, so every reply to the
  same command id is the same.

Error codes are PascalCase names a client can switch on (``AlreadyAMember``,
``ValidationError`` …); messages are for people and never carry personal data.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas.registry import REGISTRY, Contract

SERVICE = "runtime"

CommandId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
WireType = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Error(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Why a command was rejected: a stable code and a sentence."""

    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]{1,63}$")]
    message: Annotated[str, msgspec.Meta(max_length=500)]


class EventRef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An event a command produced, as the reply names it."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    type: WireType
    sequence: Annotated[int, msgspec.Meta(ge=1)]


@REGISTRY.event(SERVICE, "CommandRejected")
class CommandRejected(Contract, frozen=True, kw_only=True):
    command_id: CommandId
    command_type: WireType
    aggregate_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    error: Error


@REGISTRY.reply(SERVICE, "CommandReply")
class CommandReply(Contract, frozen=True, kw_only=True):
    """The outcome of one command: accepted with its events, or rejected with an error."""

    command_id: CommandId
    command_type: WireType
    aggregate_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    accepted: bool
    events: list[EventRef] = []
    error: Error | None = None
