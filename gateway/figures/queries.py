"""The federation's figures (``federationStats``): members, savings, remittances and training
by cooperative, country, corridor (host country -> home country, ``ES-EC``: the way every
corridor is written, a remittance's too), gender, month or group (a cooperative's solidarity
groups and societies, keyed by group id: a member counts in each group she belongs to, and
those in no group in the cell ``none``). For analysts and the node admin; a cooperative's
admins get the figures of their own cooperative only, under the same rule.

The disclosure-control rule is ``gateway.figures.disclosure``'s (``docs/figures.md``): every
figure is a sum over atoms (a cooperative's members of one nationality and gender, and a
month for flows), an atom about fewer than ``MIN_CELL`` people adds to no figure in any
answer, and a key with no safe atom goes into the cell ``*`` (its key hidden, no figures).

Every flow has a month (joined, left, returned home, arrived home, deposited, remitted,
completed, certified), so the period filter bounds all of them, and grouping by ``MONTH``
gives a time series; deposits and remittances count in the month they were booked. The
savings balance and the active members (memberships started and not ended by today) are
stocks, today's, shown for the other groupings only; the active members are null with a period
filter too (a stock has no month to bound). The average fee is the mean, over account-months
with remittances, of fees / amount sent. ``arrived_home`` counts the records brought home from
other nodes and imported here (once per cell, in the cooperatives where she is a member);
``returned_home`` the memberships that ended because she went home. A gender filter keeps
only the atoms of that gender (``unstated``: those who gave none).

The answers come through the guard of ``gateway.figures.cache``; the scan of the views is
``gateway.figures.scan``'s.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.access import SignedIn, whose_figures
from gateway.context import GatewayContext
from gateway.figures.cache import figures_of
from gateway.figures.disclosure import Question
from gateway.figures.types import (
    GENDERS,
    MONTH,
    FederationStats,
    StatsDimension,
    StatsFilter,
    is_a,
)
from schemas.fields import CountryCode, Id

#: What one federationStats field costs in the cost rule, whatever it selects: a document
#: holds at most MAX_COST / FIGURES_COST (10) of them.
FIGURES_COST = 500


async def federation_stats(info: Info[GatewayContext, None],
                           filter: Annotated[StatsFilter | None, strawberry.argument(
                               description="which figures and how to group them; absent: "
                                           "all, by COUNTRY")] = None,
                           ) -> FederationStats | None:
    context = info.context
    filter = filter or StatsFilter()
    may, cooperative_id = whose_figures(context.caller, filter.cooperative_id)
    if not may:
        return None
    if filter.gender is not None and filter.gender not in GENDERS:
        raise GraphQLError(f"gender is one of {', '.join(GENDERS)}")
    for name, month in (("fromMonth", filter.from_month), ("toMonth", filter.to_month)):
        if month is not None and not MONTH.fullmatch(month):
            raise GraphQLError(f"{name} is a month written YYYY-MM (2026-03)")
    if filter.country is not None and not is_a(CountryCode, filter.country.upper()):
        raise GraphQLError("country is an ISO 3166-1 alpha-2 code (ES)")
    if filter.cooperative_id is not None and not is_a(Id, filter.cooperative_id):
        raise GraphQLError("cooperativeId is a cooperative's id (a UUID)")
    if filter.gender is not None and filter.group_by is StatsDimension.GROUP:
        raise GraphQLError("groupBy GROUP cannot be combined with the gender filter: a "
                           "group's cells are not split by gender (docs/figures.md)")
    question = Question(group_by=filter.group_by.value,
                        country=filter.country.upper() if filter.country else None,
                        cooperative_id=cooperative_id, from_month=filter.from_month,
                        to_month=filter.to_month, gender=filter.gender)
    return await figures_of(context.views).answer(context, question)


#: The queries this feature adds to the schema.
QUERIES = {
    "federation_stats": strawberry.field(
        resolver=federation_stats, permission_classes=[SignedIn],
        description="The federation's figures, by cooperative, country, corridor, gender, "
                    "month or group: for analysts and the node admin; a cooperative's admins "
                    "get their own cooperative's only; null for others. Every figure sums "
                    "only atoms of at least 5 people (a cooperative's members of one "
                    "nationality and gender, per month for flows), so no difference of two "
                    "answers is about fewer; a key without such an atom is merged into one "
                    "cell * without figures (docs/figures.md). Weighs 500 in the cost limit"),
}
