"""The CloudEvents 1.0 envelope, structured JSON mode, with coopbridge's extensions.

Every command, event and reply on Kafka is one JSON object::

    {"specversion": "1.0", "id": "…", "source": "/coopbridge/es/membership",
     "type": "coop.membership.MembershipStarted.v1", "subject": "<aggregate id>",
     "time": "2026-03-01T09:00:00Z", "sequence": 3, "causationid": "<command id>",
     "correlationid": "…", "partitionkey": "<aggregate id>", "data": {…}}

Extensions: ``sequence`` (the event's 1-based position in its aggregate; an integer, absent on
commands), ``previousid`` (the id of the aggregate's event it was decided after, absent on the
first: a fold applies an event only if it continues that chain, so a stale writer's events
and everything decided on top of them are ignored), ``causationid`` (the command that caused
it), ``correlationid`` (the conversation), ``partitionkey`` (the Kafka key, the aggregate
id), and on a command ``replayof`` (a replay request: the id of an earlier command whose logged answer is asked for; the request is never
decided or logged, and its reply speaks of that command, or says ``NotDone`` under its own id.
Its ``subject`` is its own id, not the aggregate's, so a processor that does not know
``replayof`` refuses it as misaddressed instead of deciding it), and ``actor`` (who sent the
command, copied onto the event it decided: ``member`` for the member herself with her own
token, ``cooperative:<id>:<role>`` for a cooperative's staff or admins acting for her,
``node`` for the node's operator; absent on what the services send themselves and on
everything written before it was recorded. Never a person's name or id). Absent optional attributes
are omitted, as the CloudEvents JSON format asks; unknown extension attributes are tolerated
on read.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from schemas.fields import UtcDateTime

#: ``coop.<service>.<Name>.v<N>``
WIRE_TYPE_PATTERN = r"^coop\.([a-z]+)\.([A-Z][A-Za-z0-9]*)\.v([1-9][0-9]*)$"

Attribute = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Envelope(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A CloudEvents 1.0 event in structured JSON mode; ``data`` stays raw until typed."""

    specversion: Literal["1.0"]
    id: Attribute
    source: Attribute
    type: Annotated[str, msgspec.Meta(pattern=WIRE_TYPE_PATTERN)]
    subject: Attribute
    time: UtcDateTime
    datacontenttype: Literal["application/json"] = "application/json"
    sequence: Annotated[int, msgspec.Meta(ge=1)] | None = None
    previousid: Attribute | None = None
    causationid: Attribute | None = None
    correlationid: Attribute | None = None
    partitionkey: Attribute
    replayof: Attribute | None = None
    actor: Attribute | None = None
    data: msgspec.Raw


def source_for(node: str, service: str) -> str:
    """The CloudEvents ``source`` of a node's service: ``/coopbridge/es/membership``."""
    return f"/coopbridge/{node}/{service}"
