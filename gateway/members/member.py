"""The ``Member`` type: a member's portable record, as much of it as the caller may see. Her
cooperatives (now or before) and the node admin hold every scope of it, another cooperative
the scopes of her active consent to it; a part the caller may not read is null
(``access.MEMBER_FIELDS``). It shows every feature's part of her record: her identity,
memberships, groups and consents (members), accounts (savings), enrolments and certificates
(training), her assemblies (governance), her insurance (insurance), and the records imported
and issued (records).
"""

from __future__ import annotations

import datetime as dt

import msgspec
import strawberry
from strawberry.types import Info

from gateway.access import (
    ALWAYS,
    MEMBER_FIELDS,
    OWN,
    active_member_of,
    history_scope,
    live_consents,
    own_member,
    shows,
    visible_scopes,
)
from gateway.auth import Caller
from gateway.context import GatewayContext
from gateway.documents import MemberRecord, accounts_of
from gateway.governance.types import AssemblyParticipation
from gateway.insurance.types import InsuranceCover, SuggestedBeneficiary
from gateway.members.types import Consent, GroupMembership, Identity, Membership
from gateway.placement.types import Placement
from gateway.records.subject import hours_text
from gateway.records.types import ExportedRecordInfo, ImportedRecord
from gateway.savings.types import Account
from gateway.training.types import Certificate, Enrolment
from gateway.types import own_id, use_id
from schemas import membership as m
from schemas import savings as s

#: How many of her latest payouts her beneficiaries are suggested from (issue 25).
PAYOUTS_SUGGESTED_FROM = 24


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
    #: her consents the caller reads her under (none for her own cooperatives): each read
    #: leaves an access entry (``gateway.member_access.entries``)
    read_under: strawberry.Private[tuple[str, ...]] = ()

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
                        contact=details.contact, residence=details.residence)

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
        docs = [views.get("accounts", account_id)
                for account_id in accounts_of(views, self.member_id)]
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

    @strawberry.field(description=needs("assemblies", "the assemblies she could vote in, "
                                                      "whether and how she voted, and the "
                                                      "offices she was elected to"))
    def assemblies(self) -> list[AssemblyParticipation] | None:
        if not self.shows("assemblies"):
            return None
        return [AssemblyParticipation.from_doc(part) for part in self.record.assemblies]

    @strawberry.field(description=needs("insurance", "her applications for insurance here "
                                                     "and what came of them: policies, "
                                                     "premiums paid, her death notified"))
    def insurance(self, info: Info[GatewayContext, None]) -> list[InsuranceCover] | None:
        if not self.shows("insurance"):
            return None
        covers = (info.context.views.get("covers", cover_id) for cover_id in self.record.covers)
        return [InsuranceCover.from_doc(doc) for doc in covers
                if doc is not None and doc.applied is not None]

    @strawberry.field(description=needs("placements", "the jobs she was placed in here "
                                                      "through her cooperatives, oldest first: "
                                                      "occupation, period, hours settled"))
    def placements(self, info: Info[GatewayContext, None]) -> list[Placement] | None:
        if not self.shows("placements"):
            return None
        found = []
        for job_order_id in self.record.placements:
            job = info.context.views.get("job_orders", job_order_id)
            if job is None or job.posted is None or job.placement is None \
                    or job.placement.member_id != self.member_id:
                continue  # offered, never hers
            end = job.ended
            found.append(Placement(
                job_order_id=job_order_id, cooperative_id=job.posted.cooperative_id,
                occupation=job.posted.occupation, country=job.posted.country,
                status="ended" if end else "filled",
                started_on=end.started_on if end else None,
                ended_on=end.ended_on if end else None,
                hours=hours_text(job.worked_minutes) if end else None))
        return found

    @strawberry.field(description=needs("suggestedBeneficiaries", (  # her latest 24 payouts
        "the people her latest payouts went to, most often first: the beneficiaries she may "
        "name when she applies for insurance (names opened from her seal; empty once she is "
        "erased)")))
    async def suggested_beneficiaries(self, info: Info[GatewayContext, None]
                                      ) -> list[SuggestedBeneficiary] | None:
        caller = info.context.caller
        if not self.shows("suggestedBeneficiaries") or caller is None or caller.is_node_admin:
            return None  # her family's names: her own cooperatives' and hers, not the node's
        views = info.context.views
        payouts = sorted((r for account in accounts_of(views, self.member_id)
                          for r in views.rows("remittances", account)
                          if r.recipient is not None and r.status != "refunded"),
                         key=lambda r: r.at)[-PAYOUTS_SUGGESTED_FROM:]
        people: dict[tuple[str, str], SuggestedBeneficiary] = {}
        for payout in payouts:
            plaintext = await info.context.keys.open(self.member_id, payout.recipient)
            if plaintext is None:  # her key is gone: erased
                return []
            name = msgspec.json.decode(plaintext, type=s.PayoutRecipient).full_name
            key = (" ".join(name.split()).casefold(), payout.country)
            found = people.get(key)
            people[key] = SuggestedBeneficiary(
                full_name=name, country=payout.country,
                payouts=(found.payouts if found else 0) + 1, last_sent_on=payout.at.date())
        return sorted(people.values(), key=lambda p: (-p.payouts, p.full_name))

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


def visible_member(info: Info[GatewayContext, None], member_id: str,
                   caller: Caller | None = None, now: dt.datetime | None = None
                   ) -> Member | None:
    """Her record as the caller (the request's, or a socket's) may see it now, or None."""
    record = info.context.views.get("members", member_id)
    if record is None or not record.registered:
        return None
    caller, now = caller or info.context.caller, now or info.context.now
    scopes = visible_scopes(caller, record, now)
    if not scopes:
        return None
    read_under = () if own_member(caller, record) else tuple(
        consent.consent_id for consent in live_consents(caller, record, now) if consent.scopes)
    return Member(member_id=member_id, erased=record.erased, record=record, scopes=scopes,
                  own=active_member_of(caller, record), read_under=read_under)
