"""Subscriptions over graphql-transport-ws: a member's events as they happen, and the
activity of a country's cooperatives (no member ids: what a federation dashboard needs),
counted per window of ``ACTIVITY_WINDOW`` seconds and shown only for a window in which at
least ``MIN_CELL`` members were behind the events (``docs/figures.md``).

The token comes in the ``connection_init`` payload (``{"Authorization": "Bearer …"}``, or the
same inside ``"headers"``) or the upgrade request's header; a connection with neither, or
with a token that is not valid, is closed at once with 4403 (``gateway.app``). Access is
checked when each event arrives, so a revoked consent or an erasure ends what a subscriber
sees at once.

Each subscription is a listener of the views (``gateway.listeners``): over a cap (per socket,
per token across sockets, per gateway) it gets a ``TOO_MANY_SUBSCRIPTIONS`` error, and one
that takes its events too slowly is ended with ``FELL_BEHIND`` (it missed events: subscribe
again); neither ends silently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.access import active_member_of, history_scope, visible_scopes
from gateway.auth import Caller, Role, bearer_of_connection, caller_from_header
from gateway.context import GatewayContext
from gateway.disclosure import MIN_CELL
from gateway.readmodel import summary
from gateway.types import HistoryEntry


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


def _country_of(context: GatewayContext, event) -> str | None:
    views = context.views
    cooperative_id = getattr(event, "cooperative_id", None)
    if cooperative_id is None and hasattr(event, "account_id"):
        account = views.get("accounts", event.account_id)
        cooperative_id = account.cooperative_id if account else None
    if cooperative_id is None and hasattr(event, "course_id"):
        course = views.get("courses", event.course_id)
        cooperative_id = course.cooperative_id if course else None
    cooperative = views.get("cooperatives", cooperative_id) if cooperative_id else None
    return cooperative.country if cooperative else None


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
                             "seconds, UTC); the counts are null when fewer than 5 members "
                             "were behind the window's events, so a window with a few "
                             "people's events looks like a quiet one")
class ActivityWindow:
    country: str = strawberry.field(
        description="the country of the cooperatives counted (ISO 3166-1 alpha-2)")
    started_at: dt.datetime = strawberry.field(description="when the window began")
    ended_at: dt.datetime = strawberry.field(description="when it ended")
    total: int | None = strawberry.field(
        description="the events counted in it; null when fewer than 5 members were behind "
                    "them (or none), and for the first window, which began before the "
                    "subscription")
    events: list[ActivityCount] | None = strawberry.field(
        description="how many of each type, by service and type; null when total is")


def _activity_window(country: str, ends: float, counts: Counter | None) -> ActivityWindow:
    return ActivityWindow(
        country=country,
        started_at=dt.datetime.fromtimestamp(ends - ACTIVITY_WINDOW, dt.UTC),
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
                                         "its counts null unless at least 5 members were "
                                         "behind them. For analysts and the node admin "
                                         "(others get nothing)")
    async def federation_activity(self, info: Info[GatewayContext, None],
                                  country: Annotated[str, strawberry.argument(
                                      description="an ISO 3166-1 alpha-2 code (ES)")],
                                  ) -> AsyncGenerator[ActivityWindow, None]:
        context, caller = info.context, _caller(info.context)
        if caller is None or caller.role not in (Role.ANALYST, Role.NODE_ADMIN):
            return
        country = country.upper()
        listener = context.views.listen(caller)
        try:
            first = True  # the window under way began before the subscription: not counted
            ends = math.floor(time.time() / ACTIVITY_WINDOW + 1) * ACTIVITY_WINDOW
            while True:
                counts: Counter = Counter()
                members: set[str] = set()
                try:
                    async with asyncio.timeout(max(0.0, ends - time.time())):
                        while True:
                            touched, (_, event) = await listener.get()
                            if caller.expired():
                                return
                            if _country_of(context, event) == country:
                                counts[(event.contract_service, event.contract_name)] += 1
                                members.update(touched)
                except TimeoutError:
                    pass
                if caller.expired():
                    return
                shown = not first and len(members) >= MIN_CELL
                yield _activity_window(country, ends, counts if shown else None)
                first, ends = False, ends + ACTIVITY_WINDOW
        finally:
            context.views.unlisten(listener)
