"""Queries: the portable record and the views around it. Every read checks ``access``."""

from __future__ import annotations

import base64
import itertools

import msgspec
import strawberry
from strawberry.types import Info

from gateway import readmodel as rm
from gateway.access import (
    MEMBER_FIELDS,
    SignedIn,
    history_scope,
    own_member,
    shows,
    visible_scopes,
)
from gateway.context import GatewayContext
from gateway.federation_stats import FederationStats, federation_stats
from gateway import federation
from gateway.types import (
    own_id,
    use_id,
    Account,
    Certificate,
    Consent,
    Cooperative,
    Course,
    Enrolment,
    ExportedRecordInfo,
    GroupMembership,
    HistoryEntry,
    Identity,
    ImportedRecord,
    Membership,
)
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


@strawberry.type
class Member:
    """A member's portable record, as much of it as the caller may see."""

    member_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("member_id", "member (her global id, the same at every node)")
    erased: bool = strawberry.field(description="the member was erased: personal fields are null")
    record: strawberry.Private[rm.MemberRecord]
    scopes: strawberry.Private[frozenset[str]]
    own: strawberry.Private[bool]

    def shows(self, field: str) -> bool:
        """May the caller read this field of her record (``access.MEMBER_FIELDS``)?"""
        return shows(MEMBER_FIELDS[field], self.scopes, self.own)

    @strawberry.field(description="null if erased, or not shared with the caller")
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

    @strawberry.field
    def memberships(self) -> list[Membership] | None:
        if not self.shows("memberships"):
            return None
        return [Membership.from_doc(doc) for doc in self.record.memberships]

    @strawberry.field
    def groups(self) -> list[GroupMembership] | None:
        if not self.shows("groups"):
            return None
        return [GroupMembership(cooperative_id=g.cooperative_id, group_id=g.group_id)
                for g in self.record.groups]

    @strawberry.field(description="shown to the member's own cooperatives only")
    def consents(self, info: Info[GatewayContext, None]) -> list[Consent] | None:
        if not self.shows("consents"):
            return None
        now = info.context.now
        return [Consent(consent_id=c.consent_id, grantee_kind=c.grantee_kind, grantee=c.grantee,
                        scopes=c.scopes, expires_at=c.expires_at, revoked=c.revoked,
                        active=not c.revoked and c.expires_at > now)
                for c in self.record.consents]

    @strawberry.field(description="savings, share capital and loan accounts, with history")
    def accounts(self, info: Info[GatewayContext, None]) -> list[Account] | None:
        if not self.shows("accounts"):
            return None
        views = info.context.views
        docs = [views.get("accounts", account_id) for account_id in self.record.accounts]
        return [Account.from_doc(doc) for doc in docs if doc is not None]

    @strawberry.field
    def enrolments(self) -> list[Enrolment] | None:
        if not self.shows("enrolments"):
            return None
        return [Enrolment(course_id=e.course_id, status=e.status, hours=e.hours, result=e.result,
                          score=e.score, level_attained=e.level_attained,
                          completed_on=e.completed_on) for e in self.record.enrolments]

    @strawberry.field
    def certificates(self) -> list[Certificate] | None:
        if not self.shows("certificates"):
            return None
        return [Certificate(**msgspec.structs.asdict(c)) for c in self.record.certificates]

    @strawberry.field(description="records from other nodes, verified and imported here "
                                  "(needs the membership scope)")
    def imported_records(self) -> list[ImportedRecord] | None:
        if not self.shows("importedRecords"):
            return None
        return [ImportedRecord.from_doc(doc) for doc in self.record.imports]

    @strawberry.field(description="records this node issued for her (her own cooperatives only)")
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
                  own=own_member(info.context.caller, record))


@strawberry.type
class MemberEdge:
    cursor: str
    node: Member


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class MemberConnection:
    edges: list[MemberEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class HistoryEdge:
    cursor: str
    node: HistoryEntry


@strawberry.type
class HistoryConnection:
    edges: list[HistoryEdge]
    page_info: PageInfo


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[SignedIn], description="A member's portable record (null if unknown or not shared)")
    def member(self, info: Info[GatewayContext, None], id: strawberry.ID) -> Member | None:
        return visible_member(info, id)

    @strawberry.field(permission_classes=[SignedIn], description="The members of a cooperative, in joining order")
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

    @strawberry.field(permission_classes=[SignedIn], description="A member's timeline, oldest first (needs their membership scope)")
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

    @strawberry.field(permission_classes=[SignedIn], description="A cooperative (public facts)")
    def cooperative(self, info: Info[GatewayContext, None],
                    id: strawberry.ID) -> Cooperative | None:
        doc = info.context.views.get("cooperatives", id)
        if doc is None or not doc.registered:
            return None
        return Cooperative.from_doc(doc, insider=info.context.caller.of_cooperative(id))

    @strawberry.field(permission_classes=[SignedIn], description=(
        "The cooperatives of this node, ordered by country (ISO 3166-1 alpha-2) and then by "
        "registration; only those of `country` when it is given. Paged by keyset: `first` "
        "(1 to 100) after the cooperative whose id is `after`; fewer than `first` means the "
        "last page."))
    def cooperatives(self, info: Info[GatewayContext, None], country: str | None = None,
                     first: int = MAX_PAGE,
                     after: strawberry.ID | None = None) -> list[Cooperative]:
        views, caller = info.context.views, info.context.caller
        size = _page_size(first)
        if country is not None:
            countries = [country.upper()]
        else:
            everywhere = views.get("countries", rm.ALL_COUNTRIES)
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
        description="Aggregates for analysts; cells under 5 people are suppressed")

    verify_record = federation.QUERIES["verify_record"]

    printable_record = federation.QUERIES["printable_record"]

    @strawberry.field(permission_classes=[SignedIn], description="A course (public facts)")
    def course(self, info: Info[GatewayContext, None], id: strawberry.ID) -> Course | None:
        doc = info.context.views.get("courses", id)
        if doc is None or not doc.offered:
            return None
        return Course.from_doc(doc, insider=info.context.caller.of_cooperative(doc.cooperative_id))
