"""What every GraphQL request carries: the caller, the views, keys and the command client.

Built per request in ``get_context`` (never at module level). ``Views`` and ``Keys`` are
protocols: the running gateway passes its projections and the node's data keys; tests pass
in-memory ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.auth import Caller, bearer_of_connection, caller_from_header
from gateway.documents import Doc, Row
from gateway.listeners import Listeners
from gateway.member_access.liveness import live
from schemas.fields import Sealed
from services.runtime import clock as clocks


class Views(Protocol):
    """(Views may also keep their figures, ``figures``: ``gateway.figures.kept.kept_of``.)"""

    #: ``applied``: the events applied so far, which tells whether anything changed
    stats: dict[str, int]
    #: who hears of the events applied (the subscriptions, and the live feed's hub)
    listeners: Listeners

    def get(self, table: str, key: str) -> Doc | None: ...

    def rows(self, table: str, key: str, after: str | None = None) -> Iterator[Row]:
        """The rows of ``key`` in rows table ``table``, in order (``gateway.documents.Row``)."""

    async def wait_for(self, refs: list[tuple[str, str, int]], timeout: float = 10.0) -> bool: ...

    def decided_at(self, topic: str, aggregate_id: str, command_id: str) -> Any:
        """When a command sent under an idempotency key was decided: ``gateway.decided``'s
        ``Decided``, or None."""


class Keys(Protocol):
    async def seal(self, member_id: str, plaintext: bytes) -> Sealed: ...

    async def open(self, member_id: str, sealed: Sealed) -> bytes | None: ...

    async def destroy(self, member_id: str) -> int: ...

    def gone(self, member_id: str) -> bool: ...


class Commands(Protocol):
    async def send(self, command: Any, aggregate_id: str, *, command_id: str | None = None,
                   correlation_id: str | None = None, timeout: float = 30,
                   replay_of: str | None = None, time: dt.datetime | None = None,
                   actor: str | None = None) -> Any: ...


@dataclass
class GatewayContext:
    node: str
    caller: Caller | None
    views: Views
    keys: Keys
    commands: Commands
    #: the services' clock (``services.runtime.clock``: moved only outside production, by
    #: tests and demonstrations), so a day the gateway checks is the day the services decide
    now: dt.datetime = field(default_factory=clocks.now)
    request: Any = None
    response: Any = None
    connection_params: dict | None = None  # graphql-transport-ws: the connection_init payload
    #: the reads under her consent this request recorded, by (member id, what was read)
    consent_uses: dict = field(default_factory=dict)


def caller_of(context: GatewayContext) -> Caller | None:
    """Who sends the request: the caller of its bearer token, or on a socket, the one of the
    token its ``connection_init`` payload carries."""
    if context.caller is not None:
        return live(context.caller, context.views)  # a socket's caller: again at each use
    return live(caller_from_header(context.node, bearer_of_connection(context.connection_params)),
                context.views)
