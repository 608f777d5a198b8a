"""Queries: the portable record and the views around it. Every read checks ``access``."""

from __future__ import annotations

import base64
import itertools
from typing import Annotated

import msgspec
import strawberry
from strawberry.types import Info

from gateway.documents import MemberRecord
from gateway.members.documents import ALL_COUNTRIES
from gateway.access import (
    ALWAYS,
    MEMBER_FIELDS,
    OWN,
    SignedIn,
    history_scope,
    active_member_of,
    shows,
    visible_scopes,
)
from gateway.context import GatewayContext
from gateway.federation_stats import FederationStats, federation_stats
from gateway.records.queries import QUERIES as RECORD_QUERIES
from gateway.members.types import (
    Consent,
    Cooperative,
    GroupMembership,
    HistoryEntry,
    Identity,
    Membership,
)
from gateway.records.types import ExportedRecordInfo, ImportedRecord
from gateway.savings.types import Account
from gateway.training.types import Certificate, Course, Enrolment
from gateway.types import own_id, use_id
from schemas import membership as m

MAX_PAGE = 100


class BadRequest(ValueError):
    """The caller's mistake (a bad cursor, a page too large): shown, never masked."""


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"i:{index}".encode()).decode()


def _offset(after: str | None) -> int:
    if not after:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        if kind == "i" and value.isdigit():
            return int(value) + 1
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest("invalid cursor")


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadRequest(f"first must be between 1 and {MAX_PAGE}")
    return first


def needs(field: str, what: str) -> str:
    """A ``Member`` field's description: what it holds, and what reading it needs
    (``access.MEMBER_FIELDS``); a field the caller may not read is null."""
    need = MEMBER_FIELDS[field]
    if need == ALWAYS:
        return what
    if need == OWN:
        return (f"{what}; for the cooperatives she chose herself where she is an active "
                f"member only, else null")
    return f"{what}; needs the {need} scope, else null"


@strawberry.type(description=(
    "A member's portable record, as much of it as the caller may see: her cooperatives (now or "
    "before) and the node admin hold every scope of it, another cooperative the scopes of her "
    "active consent to it; a part the caller may not read is null"))
class Member:
    """A member's portable record, as much of it as the caller may see."""

    member_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("member_id", "member", ": her global id, the same at every node")
    erased: bool = strawberry.field(description="the member was erased: personal fields are null")
    record: strawberry.Private[MemberRecord]
    scopes: strawberry.Private[frozenset[str]]
    own: strawberry.Private[bool]

    def shows(self, field: str) -> bool:
        """May the caller read this field of her record (``access.MEMBER_FIELDS``)?"""
        return shows(MEMBER_FIELDS[field], self.scopes, self.own)

    @strawberry.field(description=needs("identity", "who she is; null once she is erased"))
    async def identity(self, info: Info[GatewayContext, None]) -> Identity | None:
        if not self.shows("identity") or self.record.erased or self.record.personal is None:
            return None
        plaintext = await info.context.keys.open(self.member_id, self.record.personal)
        if plaintext is None:  # the key is gone: erased
            return None
        details = msgspec.json.decode(plaintext, type=m.PersonalDetails)
        return Identity(given_names=details.given_names, family_names=details.family_names,
                        date_of_birth=details.date_of_birth, nationality=details.nationality,
                        gender=details.gender.value if details.gender else None,
                        preferred_languages=list(details.preferred_languages),
                        contact=details.contact)

    @strawberry.field(description=needs("memberships", "her memberships at this node's "
                                                       "cooperatives, oldest first"))
    def memberships(self) -> list[Membership] | None:
        if not self.shows("memberships"):
            return None
        return [Membership.from_doc(doc, self.shows("consents"))
                for doc in self.record.memberships]

    @strawberry.field(description=needs("groups", "the member groups she is in"))
    def groups(self) -> list[GroupMembership] | None:
        if not self.shows("groups"):
            return None
        return [GroupMembership(cooperative_id=g.cooperative_id, group_id=g.group_id)
                for g in self.record.groups]

    @strawberry.field(description=needs("consents", "the consents she gave, revoked and "
                                                    "expired ones included"))
    def consents(self, info: Info[GatewayContext, None]) -> list[Consent] | None:
        if not self.shows("consents"):
            return None
        now = info.context.now
        return [Consent(consent_id=c.consent_id, grantee_kind=c.grantee_kind, grantee=c.grantee,
                        scopes=c.scopes, expires_at=c.expires_at, revoked=c.revoked,
                        active=not c.revoked and c.expires_at > now, join=c.join, used=c.used,
                        granted_at=c.granted_at)
                for c in self.record.consents]

    @strawberry.field(description=needs("accounts", "her savings, share capital and loan "
                                                    "accounts, with their history"))
    def accounts(self, info: Info[GatewayContext, None]) -> list[Account] | None:
        if not self.shows("accounts"):
            return None
        views = info.context.views
        docs = [views.get("accounts", account_id) for account_id in self.record.accounts]
        return [Account.from_doc(doc) for doc in docs if doc is not None]

    @strawberry.field(description=needs("enrolments", "the courses she enrolled in"))
    def enrolments(self) -> list[Enrolment] | None:
        if not self.shows("enrolments"):
            return None
        return [Enrolment(course_id=e.course_id, status=e.status, hours=e.hours, result=e.result,
                          score=e.score, level_attained=e.level_attained,
                          completed_on=e.completed_on) for e in self.record.enrolments]

    @strawberry.field(description=needs("certificates", "the certificates courses issued her"))
    def certificates(self) -> list[Certificate] | None:
        if not self.shows("certificates"):
            return None
        return [Certificate(**msgspec.structs.asdict(c)) for c in self.record.certificates]

    @strawberry.field(description=needs("importedRecords", "records from other nodes, "
                                                           "verified and imported here"))
    def imported_records(self) -> list[ImportedRecord] | None:
        if not self.shows("importedRecords"):
            return None
        return [ImportedRecord.from_doc(doc) for doc in self.record.imports]

    @strawberry.field(description=needs("exportedRecords", "records this node issued for her"))
    def exported_records(self) -> list[ExportedRecordInfo] | None:
        if not self.shows("exportedRecords"):
            return None
        return [ExportedRecordInfo(
            credential_id=x.credential_id, grantee_kind=x.grantee_kind, grantee=x.grantee,
            scopes=x.scopes, valid_from=x.valid_from, valid_until=x.valid_until,
            revoked=x.revoked) for x in self.record.exports]


def entry_visible(member: Member, service: str, event_type: str) -> bool:
    """A timeline entry shows only within the scopes the caller was granted."""
    scope = history_scope(service, event_type)
    return member.own if scope is None else scope in member.scopes


def visible_member(info: Info[GatewayContext, None], member_id: str) -> Member | None:
    record = info.context.views.get("members", member_id)
    if record is None or not record.registered:
        return None
    scopes = visible_scopes(info.context.caller, record, info.context.now)
    if not scopes:
        return None
    return Member(member_id=member_id, erased=record.erased, record=record, scopes=scopes,
                  own=active_member_of(info.context.caller, record))


@strawberry.type(description="One member of a page, with its cursor")
class MemberEdge:
    cursor: str
    node: Member = strawberry.field(description="the member")


@strawberry.type(description="Where a page ends and whether another follows")
class PageInfo:
    has_next_page: bool = strawberry.field(description="another page follows this one")
    end_cursor: str | None = strawberry.field(
        description="the last item's cursor: pass it as `after` for the next page (null on an "
                    "empty page)")


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


@strawberry.type(description="Reads, answered from this gateway's views of the log. Every "
                             "query needs a bearer token; what a caller may not see reads as "
                             "null, exactly like what does not exist")
class Query:
    @strawberry.field(permission_classes=[SignedIn], description=(
        "A member's portable record, as much as the caller may see: " + WHO_SEES_HER
        + "; null if unknown or not shared"))
    def member(self, info: Info[GatewayContext, None],
               id: Annotated[strawberry.ID, strawberry.argument(
                   description="her global member id")]) -> Member | None:
        return visible_member(info, id)

    @strawberry.field(permission_classes=[SignedIn], description=(
        "The members of a cooperative, everyone who ever joined, in joining order, a page at a "
        "time; for its own staff and admins and the node admin (null for others)"))
    def members(self, info: Info[GatewayContext, None], cooperative_id: strawberry.ID,
                first: int = 20, after: str | None = None) -> MemberConnection | None:
        caller = info.context.caller
        coop = info.context.views.get("cooperatives", cooperative_id)
        if coop is None or not caller.of_cooperative(cooperative_id):
            return None
        size, start = _page_size(first), _offset(after)
        ids = coop.members[start:start + size]
        edges = [MemberEdge(cursor=_cursor(start + i), node=member)
                 for i, member_id in enumerate(ids)
                 if (member := visible_member(info, member_id)) is not None]
        return MemberConnection(
            edges=edges, total_count=len(coop.members),
            page_info=PageInfo(has_next_page=start + size < len(coop.members),
                               end_cursor=_cursor(start + len(ids) - 1) if ids else None))

    @strawberry.field(permission_classes=[SignedIn], description=(
        "A member's timeline, oldest first, a page at a time, without personal data. Needs "
        "the membership scope (a cooperative she chose, now or before, or her consent); only "
        "the entries of the scopes the caller holds show, her consents and shared records "
        "only to a cooperative she chose where she is an active member; null otherwise"))
    def member_history(self, info: Info[GatewayContext, None], member_id: strawberry.ID,
                       first: int = 50, after: str | None = None) -> HistoryConnection | None:
        member = visible_member(info, member_id)
        if member is None or "membership" not in member.scopes:
            return None
        history = info.context.views.get("history", member_id)
        size, start = _page_size(first), _offset(after)
        visible = (x for x in (history.items if history else [])
                   if entry_visible(member, x.service, x.type))
        items = list(itertools.islice(visible, start + size + 1))  # one more: is there a next?
        page = items[start:start + size]
        return HistoryConnection(
            edges=[HistoryEdge(cursor=_cursor(start + i), node=HistoryEntry(
                at=x.at, service=x.service, type=x.type, summary=x.summary))
                for i, x in enumerate(page)],
            page_info=PageInfo(has_next_page=start + size < len(items),
                               end_cursor=_cursor(start + len(page) - 1) if page else None))

    @strawberry.field(permission_classes=[SignedIn], description=(
        "A cooperative of this node (public facts), for any signed-in caller; its groups and "
        "its counts under 5 only for its own staff and admins; null if unknown"))
    def cooperative(self, info: Info[GatewayContext, None],
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
    def cooperatives(self, info: Info[GatewayContext, None],
                     country: Annotated[str | None, strawberry.argument(
                         description="only this country's: an ISO 3166-1 alpha-2 code (ES)")]
                     = None,
                     first: int = MAX_PAGE,
                     after: Annotated[strawberry.ID | None, strawberry.argument(
                         description="the id of the last cooperative of the previous page")]
                     = None) -> list[Cooperative]:
        views, caller = info.context.views, info.context.caller
        size = _page_size(first)
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

    federation_stats: FederationStats | None = strawberry.field(
        resolver=federation_stats, permission_classes=[SignedIn],
        description="The federation's figures, by cooperative, country, corridor, gender, "
                    "month or group: for analysts and the node admin; a cooperative's admins "
                    "get their own cooperative's only; null for others. Every figure sums "
                    "only atoms of at least 5 people (a cooperative's members of one "
                    "nationality and gender, per month for flows), so no difference of two "
                    "answers is about fewer; a key without such an atom is merged into one "
                    "cell * without figures (docs/figures.md). Weighs 500 in the cost limit")

    verify_record = RECORD_QUERIES["verify_record"]

    printable_record = RECORD_QUERIES["printable_record"]

    @strawberry.field(permission_classes=[SignedIn], description=(
        "A course (public facts), for any signed-in caller; its counts under 5 only for the "
        "offering cooperative's own staff and admins; null if unknown"))
    def course(self, info: Info[GatewayContext, None],
               id: Annotated[strawberry.ID, strawberry.argument(
                   description="the course's id")]) -> Course | None:
        doc = info.context.views.get("courses", id)
        if doc is None or not doc.offered:
            return None
        return Course.from_doc(doc, insider=info.context.caller.of_cooperative(doc.cooperative_id))
