"""The figures feature's subscription ``federationActivity``: the activity of a country's
cooperatives (no member ids: what a federation dashboard needs), counted per window of
``ACTIVITY_WINDOW`` seconds under the figures' rule: only the events of members in a safe
population atom, shown only for a window in which at least ``MIN_CELL`` of them were behind
the events (``docs/figures.md``; the counting is ``gateway.figures.activity``'s, once per
gateway for every subscriber). For analysts and the node admin; a stream ends when its token
expires.
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

from gateway.auth import Caller, Role
from gateway.context import GatewayContext, caller_of
from gateway.figures.activity import Counts, hub_of
from gateway.figures.types import ActivityCount, ActivityWindow, is_a
from schemas.fields import CountryCode

#: The live feed's window, in seconds: a country's events are counted per window and the
#: counts sent at its end. Windows start at whole multiples of it (UTC), the same for every
#: subscriber, so that two subscriptions cannot be told apart by when they began.
ACTIVITY_WINDOW = 30.0


async def federation_activity(info: Info[GatewayContext, None],
                              country: Annotated[str, strawberry.argument(
                                  description="an ISO 3166-1 alpha-2 code (ES)")],
                              ) -> AsyncGenerator[ActivityWindow, None]:
    context, caller = info.context, caller_of(info.context)
    if caller is None or caller.role not in (Role.ANALYST, Role.NODE_ADMIN):
        return
    if not is_a(CountryCode, country.upper()):
        raise GraphQLError("country is an ISO 3166-1 alpha-2 code (ES)")
    country = country.upper()
    hub = hub_of(context.views, context.keys, ACTIVITY_WINDOW)
    async with hub.following(caller, country):
        # the window under way began before the subscription: never counted
        number, first = hub.number_at(time.time()), True
        while True:
            try:
                async with asyncio.timeout(until_expiry(caller)):
                    counts = await hub.counts(number, country)
            except TimeoutError:
                return  # its token expired (and its socket did not close)
            if caller.expired(dt.datetime.now(dt.UTC) - EXPIRY_BACKSTOP):
                return
            yield _activity_window(country, number * hub.window, hub.window,
                                   None if first else counts)
            number, first = number + 1, False


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


#: A socket closes with 4403 when its token expires (``gateway.app``); a stream ends itself
#: only this long after, as a backstop: ending at the same moment, it raced the close, and
#: the caller heard "complete" instead of why.
EXPIRY_BACKSTOP = dt.timedelta(seconds=2)


def until_expiry(caller: Caller) -> float | None:
    """Seconds until a stream of ``caller``'s must end (its token's expiry, and the
    backstop); None for a token that does not expire."""
    if caller.expires_at is None:
        return None
    left = caller.expires_at + EXPIRY_BACKSTOP - dt.datetime.now(dt.UTC)
    return max(0.0, left.total_seconds())


#: The subscriptions this feature adds to the schema.
SUBSCRIPTIONS = {
    "federation_activity": strawberry.subscription(
        federation_activity, description="What happens in a country's cooperatives, counted "
        "per window of 30 seconds, event types and how many, never who: one message at the "
        "end of every window, counting the events of members in atoms of at least 5 people "
        "only (docs/figures.md), null unless at least 5 such members were behind them. For "
        "analysts and the node admin (others get nothing)"),
}
