"""Subscriptions over graphql-transport-ws: a member's events as they happen, and the
activity of a country's cooperatives (no member ids: what a federation dashboard needs),
counted per window of ``ACTIVITY_WINDOW`` seconds under the figures' rule: only the events
of members in a safe population atom, shown only for a window in which at least ``MIN_CELL``
of them were behind the events (``docs/figures.md``; the counting is ``gateway.activity``'s,
once per gateway for every subscriber).

The token comes in the ``connection_init`` payload (``{"Authorization": "Bearer …"}``, or the
same inside ``"headers"``) or the upgrade request's header; a connection with neither, or
with a token that is not valid, is closed at once with 4403 (``gateway.app``). Access is
checked when each event arrives, so a revoked consent or an erasure ends what a subscriber
sees at once.

Each subscription is a listener of the views (``gateway.listeners``; a feed subscriber's is
never fed, the hub's is): over a cap (per socket, per token across sockets, per gateway) it
gets a ``TOO_MANY_SUBSCRIPTIONS`` error, and a member's follower that takes its events too
slowly is ended with ``FELL_BEHIND`` (it missed events: subscribe again); neither ends
silently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.access import active_member_of, history_scope, visible_scopes
from gateway.activity import Counts, hub_of
from gateway.auth import Caller, Role, bearer_of_connection, caller_from_header
from gateway.context import GatewayContext
from gateway.federation_stats import COUNTRY
from gateway.fold import summary
from gateway.members.types import HistoryEntry


def _caller(context: GatewayContext) -> Caller | None:
    if context.caller is not None:
        return context.caller
    return caller_from_header(context.node, bearer_of_connection(context.connection_params))


def _may_follow(context: GatewayContext, caller: Caller | None, member_id: str) -> bool:
    if caller is None or caller.expired():
        return False
    record = context.views.get("members", member_id)
    return (record is not None and record.registered and "membership" in visible_scopes(
        caller, record, dt.datetime.now(dt.UTC)))


#: The live feed's window, in seconds: a country's events are counted per window and the
#: counts sent at its end. Windows start at whole multiples of it (UTC), the same for every
#: subscriber, so that two subscriptions cannot be told apart by when they began.
ACTIVITY_WINDOW = 30.0


@strawberry.type(description="How many events of one type a window had")
class ActivityCount:
    service: str = strawberry.field(description="membership, savings or training")
    type: str = strawberry.field(description="the event's name (FundsDeposited)")
    count: int = strawberry.field(description="how many of them")


@strawberry.type(description="A window of 30 seconds of what happened in a country's "
                             "cooperatives: how many events of each type, never who. Sent at "
                             "the end of every window (windows start at whole multiples of 30 "
                             "seconds, UTC). Only the events of members in an atom of at "
                             "least 5 people (a cooperative's members of one nationality and "
                             "gender, as in federationStats) count, and the counts are null "
                             "when fewer than 5 such members were behind them, so a window "
                             "with a few people's events looks like a quiet one")
class ActivityWindow:
    country: str = strawberry.field(
        description="the country of the cooperatives counted (ISO 3166-1 alpha-2)")
    started_at: dt.datetime = strawberry.field(description="when the window began")
    ended_at: dt.datetime = strawberry.field(description="when it ended")
    total: int | None = strawberry.field(
        description="the events counted in it (of members in an atom of at least 5 "
                    "people); null when fewer than 5 such members were behind them (or "
                    "none), and for the first window, which began before the subscription")
    events: list[ActivityCount] | None = strawberry.field(
        description="how many of each type, by service and type; null when total is")


def _activity_window(country: str, ends: float, length: float,
                     counts: Counts | None) -> ActivityWindow:
    return ActivityWindow(
        country=country,
        started_at=dt.datetime.fromtimestamp(ends - length, dt.UTC),
        ended_at=dt.datetime.fromtimestamp(ends, dt.UTC),
        total=None if counts is None else sum(counts.values()),
        events=None if counts is None else [
            ActivityCount(service=service, type=type_, count=count)
            for (service, type_), count in sorted(counts.items())])


@strawberry.type(description="Live streams over graphql-transport-ws. The bearer token goes in "
                             "the connection_init payload ({\"Authorization\": \"Bearer …\"}) "
                             "or the upgrade request's Authorization header; a connection "
                             "without a valid one is closed (4403), and a stream ends when "
                             "its token expires. A stream over a cap (per socket, per token, "
                             "per gateway) gets the error TOO_MANY_SUBSCRIPTIONS; one that "
                             "takes its events too slowly ends with FELL_BEHIND (it missed "
                             "events: subscribe again)")
class Subscription:
    @strawberry.subscription(description="A member's events as they happen, as timeline "
                                         "entries: for whoever may read her timeline (the "
                                         "membership scope), only the entries of the scopes "
                                         "held; ends silently when access is lost")
    async def member_events(self, info: Info[GatewayContext, None],
                            member_id: strawberry.ID) -> AsyncGenerator[HistoryEntry, None]:
        context, caller = info.context, _caller(info.context)
        if not _may_follow(context, caller, member_id):
            return
        listener = context.views.listen(caller, member_id)
        try:
            while True:
                _, message = await listener.get()
                if not _may_follow(context, caller, member_id):
                    return
                envelope, event = message
                scope = history_scope(event.contract_service, event.contract_name)
                record = context.views.get("members", member_id)
                scopes = visible_scopes(caller, record, dt.datetime.now(dt.UTC))
                if (active_member_of(caller, record) if scope is None else scope in scopes):
                    yield HistoryEntry(at=envelope.time, service=event.contract_service,
                                       type=event.contract_name, summary=summary(event))
        finally:
            context.views.unlisten(listener)

    @strawberry.subscription(description="What happens in a country's cooperatives, counted "
                                         "per window of 30 seconds, event types and how many, "
                                         "never who: one message at the end of every window, "
                                         "counting the events of members in atoms of at "
                                         "least 5 people only (docs/figures.md), null unless "
                                         "at least 5 such "
                                         "members were behind them. For analysts and the "
                                         "node admin (others get nothing)")
    async def federation_activity(self, info: Info[GatewayContext, None],
                                  country: Annotated[str, strawberry.argument(
                                      description="an ISO 3166-1 alpha-2 code (ES)")],
                                  ) -> AsyncGenerator[ActivityWindow, None]:
        context, caller = info.context, _caller(info.context)
        if caller is None or caller.role not in (Role.ANALYST, Role.NODE_ADMIN):
            return
        if not COUNTRY.fullmatch(country):
            raise GraphQLError("country is an ISO 3166-1 alpha-2 code (ES)")
        country = country.upper()
        hub = hub_of(context.views, context.keys, ACTIVITY_WINDOW)
        async with hub.following(caller, country):
            # the window under way began before the subscription: never counted
            number, first = hub.number_at(time.time()), True
            while True:
                try:
                    async with asyncio.timeout(_until_expiry(caller)):
                        counts = await hub.counts(number, country)
                except TimeoutError:
                    return  # its token expired
                if caller.expired():
                    return
                yield _activity_window(country, number * hub.window, hub.window,
                                       None if first else counts)
                number, first = number + 1, False


def _until_expiry(caller: Caller) -> float | None:
    if caller.expires_at is None:
        return None
    return max(0.0, (caller.expires_at - dt.datetime.now(dt.UTC)).total_seconds())
