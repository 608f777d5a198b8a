"""The members feature's queries: a member's record (``member``), a cooperative's members
(``members``), a member's timeline (``memberHistory``), and the cooperatives of this node
(``cooperative``, ``cooperatives``). Every read checks ``gateway.access``; what a caller may
not see reads as null, exactly like what does not exist. A read under her consent is recorded
first (``gateway.member_access.entries``).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.access import SignedIn
from gateway.context import GatewayContext
from gateway.fold import entry
from gateway.member_access.entries import recorded
from gateway.members.documents import ALL_COUNTRIES, member_sort
from gateway.members.member import Member, entry_visible, visible_member
from gateway.members.types import Cooperative, HistoryEntry
from gateway.paging import MAX_PAGE, BadRequest, PageInfo, cursor, offset, page_size
from schemas import membership as m


@strawberry.type(description="One member of a page, with its cursor")
class MemberEdge:
    cursor: str
    node: Member = strawberry.field(description="the member")


@strawberry.type(description="A page of a cooperative's members, in joining order")
class MemberConnection:
    edges: list[MemberEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(
        description="everyone who ever joined the cooperative, on every page")


@strawberry.type(description="One entry of a page of her timeline, with its cursor")
class HistoryEdge:
    cursor: str
    node: HistoryEntry = strawberry.field(description="the entry")


@strawberry.type(description="A page of a member's timeline, oldest first")
class HistoryConnection:
    edges: list[HistoryEdge]
    page_info: PageInfo


#: Who sees a member at all (``access.visible_scopes``), as the queries about her say it.
WHO_SEES_HER = ("the staff and admins of the cooperatives she chose herself (now or before) "
                "see all of it; any other cooperative, one that admitted her under her consent "
                "to join included, only through her active consent naming it and only the "
                "scopes it grants; the node admin everyone; an analyst no one")


@strawberry.field(permission_classes=[SignedIn], description=(
    "A member's portable record, as much as the caller may see: " + WHO_SEES_HER
    + "; null if unknown or not shared"))
async def member(info: Info[GatewayContext, None],
                 id: Annotated[strawberry.ID, strawberry.argument(
                     description="her global member id")]) -> Member | None:
    return await recorded(info, visible_member(info, id), m.ReadKind.RECORD)


@strawberry.field(permission_classes=[SignedIn], description=(
    "The members of a cooperative, everyone who ever joined, in joining order, a page at a "
    "time; for its own staff and admins and the node admin (null for others)"))
async def members(info: Info[GatewayContext, None], cooperative_id: strawberry.ID,
            first: int = 20, after: str | None = None) -> MemberConnection | None:
    caller = info.context.caller
    coop = info.context.views.get("cooperatives", cooperative_id)
    if coop is None or not caller.of_cooperative(cooperative_id):
        return None
    size, start = page_size(first), offset(after)
    rows = info.context.views.rows("coop_members", cooperative_id,
                                   member_sort(start - 1) if start else None)
    ids = [row.member_id for row in itertools.islice(rows, size)]
    members = await asyncio.gather(*(recorded(info, visible_member(info, member_id),
                                              m.ReadKind.RECORD) for member_id in ids))
    edges = [MemberEdge(cursor=cursor(start + i), node=member)
             for i, member in enumerate(members) if member is not None]
    return MemberConnection(
        edges=edges, total_count=coop.joined,
        page_info=PageInfo(has_next_page=start + size < coop.joined,
                           end_cursor=cursor(start + len(ids) - 1) if ids else None))


@strawberry.field(permission_classes=[SignedIn], description=(
    "A member's timeline, oldest first, a page at a time, without personal data. Needs "
    "the membership scope (a cooperative she chose, now or before, or her consent); only "
    "the entries of the scopes the caller holds show, her consents and shared records "
    "only to a cooperative she chose where she is an active member; null otherwise"))
async def member_history(info: Info[GatewayContext, None], member_id: strawberry.ID,
                         first: int = 50, after: str | None = None) -> HistoryConnection | None:
    member = visible_member(info, member_id)
    if member is None or "membership" not in member.scopes:
        return None
    if await recorded(info, member, m.ReadKind.TIMELINE) is None:
        return None
    size, start = page_size(first), offset(after)
    entries = map(entry, info.context.views.rows("timeline", member_id))
    visible = (x for x in entries if entry_visible(member, x.service, x.type))
    items = list(itertools.islice(visible, start + size + 1))  # one more: is there a next?
    page = items[start:start + size]
    return HistoryConnection(
        edges=[HistoryEdge(cursor=cursor(start + i), node=HistoryEntry(
            at=x.at, service=x.service, type=x.type, summary=x.summary, actor=x.item.actor))
            for i, x in enumerate(page)],
        page_info=PageInfo(has_next_page=start + size < len(items),
                           end_cursor=cursor(start + len(page) - 1) if page else None))


@strawberry.field(permission_classes=[SignedIn], description=(
    "A cooperative of this node (public facts), for any signed-in caller; its groups and "
    "its counts under 5 only for its own staff and admins; null if unknown"))
def cooperative(info: Info[GatewayContext, None],
                id: Annotated[strawberry.ID, strawberry.argument(
                    description="the cooperative's id")]) -> Cooperative | None:
    doc = info.context.views.get("cooperatives", id)
    if doc is None or not doc.registered:
        return None
    return Cooperative.from_doc(doc, insider=info.context.caller.of_cooperative(id))


@strawberry.field(permission_classes=[SignedIn], description=(
    "The cooperatives of this node, ordered by country (ISO 3166-1 alpha-2) and then by "
    "registration; only those of `country` when it is given. Paged by keyset: `first` "
    "(1 to 100) after the cooperative whose id is `after`; fewer than `first` means the "
    "last page. For any signed-in caller."))
def cooperatives(info: Info[GatewayContext, None],
                 country: Annotated[str | None, strawberry.argument(
                     description="only this country's: an ISO 3166-1 alpha-2 code (ES)")]
                 = None,
                 first: int = MAX_PAGE,
                 after: Annotated[strawberry.ID | None, strawberry.argument(
                     description="the id of the last cooperative of the previous page")]
                 = None) -> list[Cooperative]:
    views, caller = info.context.views, info.context.caller
    size = page_size(first)
    if country is not None:
        countries = [country.upper()]
    else:
        everywhere = views.get("countries", ALL_COUNTRIES)
        countries = sorted(everywhere.cooperatives) if everywhere else []
    ids = [i for c in countries if (index := views.get("countries", c)) is not None
           for i in index.cooperatives]
    start = 0
    if after is not None:
        if after not in ids:
            raise BadRequest("invalid cursor: `after` is the id of a cooperative listed")
        start = ids.index(after) + 1
    docs = (views.get("cooperatives", i) for i in ids[start:])
    found = (d for d in docs if d is not None and d.registered)
    return [Cooperative.from_doc(d, insider=caller.of_cooperative(d.cooperative_id))
            for d in itertools.islice(found, size)]


#: The queries this feature adds to the schema.
QUERIES = {"member": member, "members": members, "member_history": member_history,
           "cooperative": cooperative, "cooperatives": cooperatives}
