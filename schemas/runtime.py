"""Contracts every service shares: the log record of a rejected command, and the reply.

* ``CommandRejected`` (``coop.runtime.CommandRejected.v1``) goes to the service's events
  topic, on the aggregate's partition and without a ``sequence``: it changes no state, but it
  makes the rejection part of the log, so a command redelivered after a crash is answered with
  the same outcome instead of being decided again on a newer state.
* ``CommandReply`` (``coop.runtime.CommandReply.v1``) goes to ``{node}.replies`` keyed by the
  command id. It is derived only from the log records of that command, so every reply to the
  same command id is the same.

Error codes are PascalCase names a client can switch on (``AlreadyAMember``,
``ValidationError`` …), each declared by whoever answers it (``schemas.rejections``; the
runtime's own are ``REJECTIONS`` here); messages are for people and never carry personal data.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas.registry import REGISTRY, Contract
from schemas.rejections import declare_rejections

SERVICE = "runtime"

#: The codes the runtime itself rejects a command with, whatever its service.
REJECTIONS = declare_rejections(SERVICE, {
    "InternalError": "the service failed on this command; it was set aside (dead-lettered)",
    "UnsupportedCommand": "the service does not take this type, or this version of it",
    "ValidationError": "the command breaks a rule of its contract: a value out of its format "
                       "or range, a day that has not come, a key that is not its aggregate's",
    "WrongPartition": "the command was not partitioned by the murmur2 hash of its key",
})
#: Published with the bounded outcome index (issue 21).
REJECTIONS |= declare_rejections(SERVICE, {
    "CommandOutOfTime": "the command's time is more than a week (less an hour) before the "
                        "service's clock, or more than 15 minutes after it: a retry that late "
                        "could no longer be told from a new command, so it is not decided; "
                        "send it again as a new command (a new id and the current time)",
    # answered by the gateway, for the processors' CommandOutOfTime to a retry it sent with
    # the time its command was first decided (gateway.decided)
    "IdempotencyKeyExpired": "this idempotency key was first used more than a week ago: "
                             "what it did is no longer kept, and it is never decided again; "
                             "a new request needs a new key",
}, release=4)

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
