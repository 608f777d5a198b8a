"""The members feature's subscription ``memberEvents``: a member's events as they happen, as
entries of her timeline, for whoever may read her timeline (the membership scope), only the
entries of the scopes held. Access is checked when each event arrives, so a revoked consent
or an erasure ends what a subscriber sees at once (the stream ends silently). A cooperative
following her under her consent is recorded once, when the stream opens (an access entry of
hers); if that cannot be recorded, the stream ends at once.

Each subscriber is a listener of the views (``gateway.listeners``): over a cap it gets a
``TOO_MANY_SUBSCRIPTIONS`` error, and one that takes its events too slowly is ended with
``FELL_BEHIND``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.access import active_member_of, history_scope, visible_scopes
from gateway.auth import Caller
from gateway.context import GatewayContext, caller_of
from gateway.fold import summary
from gateway.member_access.entries import recorded
from gateway.member_access.liveness import live
from gateway.members.member import visible_member
from gateway.members.types import HistoryEntry
from schemas import membership as m


def _may_follow(context: GatewayContext, caller: Caller | None, member_id: str) -> bool:
    if caller is None or caller.expired() or live(caller, context.views) is None:
        return False  # (a member's access revoked, or she erased, meanwhile: at once)
    record = context.views.get("members", member_id)
    return (record is not None and record.registered and "membership" in visible_scopes(
        caller, record, dt.datetime.now(dt.UTC)))


async def _recorded(info: Info[GatewayContext, None], caller: Caller, member_id: str,
                    before: tuple[str, ...]) -> tuple[str, ...] | None:
    """The consents the caller follows her under now, recorded as an access entry of hers
    when they are not those recorded ``before`` (when the stream opens, and when a consent
    of a new scope comes in meanwhile); None if that could not be recorded: the stream ends."""
    read = visible_member(info, member_id, caller, dt.datetime.now(dt.UTC))
    if read is None:
        return None
    if not read.read_under or set(read.read_under) <= set(before):
        return read.read_under or before
    try:
        if await recorded(info, read, m.ReadKind.EVENTS, caller, once=False) is None:
            return None
    except GraphQLError:
        return None
    return read.read_under


async def member_events(info: Info[GatewayContext, None],
                        member_id: strawberry.ID) -> AsyncGenerator[HistoryEntry, None]:
    context, caller = info.context, caller_of(info.context)
    if not _may_follow(context, caller, member_id):
        return
    read_under = await _recorded(info, caller, member_id, ())
    if read_under is None:
        return
    listener = context.views.listen(caller, member_id)
    try:
        while True:
            _, message = await listener.get()
            if not _may_follow(context, caller, member_id):
                return
            read_under = await _recorded(info, caller, member_id, read_under)
            if read_under is None:
                return
            envelope, event = message
            scope = history_scope(event.contract_service, event.contract_name)
            record = context.views.get("members", member_id)
            scopes = visible_scopes(caller, record, dt.datetime.now(dt.UTC))
            if (active_member_of(caller, record) if scope is None else scope in scopes):
                yield HistoryEntry(at=envelope.time, service=event.contract_service,
                                   actor=envelope.actor,
                                   type=event.contract_name, summary=summary(event))
    finally:
        context.views.unlisten(listener)


#: The subscriptions this feature adds to the schema.
SUBSCRIPTIONS = {
    "member_events": strawberry.subscription(
        member_events, description="A member's events as they happen, as timeline entries: for "
        "whoever may read her timeline (the membership scope), only the entries of the scopes "
        "held; ends silently when access is lost"),
}
