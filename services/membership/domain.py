"""The membership rules, as pure functions: no I/O, the clock comes in through ``Context``.

Two aggregates:

* **cooperative** (key ``cooperative_id``): registration, details, member groups;
* **member** (key ``member_id``): personal details (sealed), memberships, consents, erasure,
  and portable records: exported under a consent (and revoked), or imported at the home node.

Two lookups, folded from the service's own events topic by the runtime, give a decision what
another aggregate knows: ``cooperatives`` (id -> ``CooperativeFacts``) and ``memberships``
(the set of active ``(member_id, cooperative_id)`` pairs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas import membership as m
from schemas.membership import access as access_contracts
from schemas.fields import NODE_ID_PATTERN, Money
from schemas.registry import Contract, fields_of
from services.runtime.aggregate import (
    Aggregate,
    Context,
    Lookup,
    Rejected,
    ServiceDefinition,
)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- cooperative ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    name: str
    kind: m.GroupKind
    members: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cooperative:
    registered: bool = False
    name: str = ""
    country: str = ""
    kind: m.CooperativeKind | None = None
    languages: tuple[str, ...] = ()
    node: str = ""
    currency: str = ""
    share_price: Money | None = None
    groups: Mapping[str, Group] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)  # its name in its languages


def decide_cooperative(state: Cooperative, command: Contract, context: Context) -> list[Contract]:
    match command:
        case m.RegisterCooperative():
            if state.registered:
                raise Rejected("CooperativeAlreadyRegistered", "this cooperative is registered")
            _same_currency(command.share_price, command.currency, "the share price")
            return [m.CooperativeRegistered(**fields_of(command))]
        case m.UpdateCooperative():
            _registered(state)
            if command.share_price is not None:
                _same_currency(command.share_price, state.currency, "the share price")
            changes = {
                name: value for name, value in fields_of(command).items()
                if name != "cooperative_id" and value is not None
                and _current(state, name) != value
            }
            if not changes:
                raise Rejected("NothingToChange", "the update changes nothing")
            return [m.CooperativeUpdated(cooperative_id=command.cooperative_id, **changes)]
        case m.CreateMemberGroup():
            _registered(state)
            if command.group_id in state.groups:
                raise Rejected("GroupAlreadyExists", "a group with this id exists")
            return [m.MemberGroupCreated(**fields_of(command))]
        case m.AssignMemberToGroup():
            group = _group(state, command.group_id)
            if command.member_id in group.members:
                raise Rejected("AlreadyInGroup", "the member is in this group")
            if (command.member_id, command.cooperative_id) not in context.lookups["memberships"]:
                raise Rejected("NotAMember", "only active members of the cooperative join its groups")
            return [m.MemberAssignedToGroup(**fields_of(command))]
        case m.RemoveMemberFromGroup():
            group = _group(state, command.group_id)
            if command.member_id not in group.members:
                raise Rejected("NotInGroup", "the member is not in this group")
            return [m.MemberRemovedFromGroup(**fields_of(command))]
    raise TypeError(f"not a cooperative command: {type(command).__name__}")


def evolve_cooperative(state: Cooperative, event: Contract) -> Cooperative:
    match event:
        case m.CooperativeRegistered():
            return Cooperative(
                registered=True, name=event.name, country=event.country, kind=event.kind,
                languages=tuple(event.languages), node=event.node, currency=event.currency,
                share_price=event.share_price, names=dict(event.names),
            )
        case m.CooperativeUpdated():
            changes = {k: v for k, v in fields_of(event).items()
                       if k != "cooperative_id" and v is not None}
            if "languages" in changes:
                changes["languages"] = tuple(changes["languages"])
            return dataclasses.replace(state, **changes)
        case m.MemberGroupCreated():
            return _with_group(state, event.group_id, Group(event.name, event.kind))
        case m.MemberAssignedToGroup():
            group = state.groups[event.group_id]
            return _with_group(state, event.group_id, dataclasses.replace(
                group, members=group.members | {event.member_id}))
        case m.MemberRemovedFromGroup():
            group = state.groups[event.group_id]
            return _with_group(state, event.group_id, dataclasses.replace(
                group, members=group.members - {event.member_id}))
    raise TypeError(f"not a cooperative event: {type(event).__name__}")


def _registered(state: Cooperative) -> None:
    if not state.registered:
        raise Rejected("UnknownCooperative", "no cooperative is registered with this id")


def _group(state: Cooperative, group_id: str) -> Group:
    _registered(state)
    group = state.groups.get(group_id)
    if group is None:
        raise Rejected("UnknownGroup", "the cooperative has no group with this id")
    return group


def _with_group(state: Cooperative, group_id: str, group: Group) -> Cooperative:
    return dataclasses.replace(state, groups={**state.groups, group_id: group})


def _current(state: Cooperative, name: str):
    value = getattr(state, name)
    return list(value) if isinstance(value, tuple) else value


# -- member ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Membership:
    cooperative_id: str
    role: m.MembershipRole
    started_on: dt.date
    share_capital_required: Money
    ended_on: dt.date | None = None
    end_reason: m.EndReason | None = None
    consent_id: str | None = None  # the consent to join it was started under (None: her choice)

    @property
    def active(self) -> bool:
        return self.ended_on is None


@dataclass(frozen=True)
class Consent:
    grantee_kind: m.GranteeKind
    grantee: str
    scopes: frozenset[m.ConsentScope]
    expires_at: dt.datetime
    revoked: bool = False
    join: bool = False  # she lets the grantee admit her as a member, once
    granted_at: dt.datetime | None = None
    used: bool = False  # a membership was started under it

    def lets_join(self, cooperative_id: str, now: dt.datetime) -> bool:
        return (self.join and not self.used and not self.revoked and self.expires_at > now
                and self.grantee_kind is m.GranteeKind.COOPERATIVE
                and self.grantee == cooperative_id)


ACTIVATION_LIVES = access_contracts.ACTIVATION_LIVES  # the contract's: 15 minutes


@dataclass(frozen=True)
class Access:
    """One of her accesses with a member token: issued (a code to redeem), granted once
    redeemed, revoked by her cooperative, by her, or by her erasure."""

    cooperative_id: str  # the cooperative that issued it
    code_digest: str
    expires_at: dt.datetime  # the code's: a granted access does not expire with it
    granted: bool = False
    revoked: bool = False


@dataclass(frozen=True)
class Member:
    registered: bool = False  # present at this node: registered here, or arrived by an import
    registered_by: str | None = None  # the cooperative that registered her here, if recorded
    erased: bool = False
    kid: str | None = None  # the data key that seals the personal details
    memberships: tuple[Membership, ...] = ()  # oldest first
    consents: Mapping[str, Consent] = field(default_factory=dict)
    exports: Mapping[str, bool] = field(default_factory=dict)  # credential id -> revoked
    imports: frozenset[str] = frozenset()  # credential ids of the records imported here
    accesses: Mapping[str, Access] = field(default_factory=dict)  # access id -> her access

    def active_in(self, cooperative_id: str) -> Membership | None:
        return next((ms for ms in self.memberships
                     if ms.cooperative_id == cooperative_id and ms.active), None)


def decide_member(state: Member, command: Contract, context: Context) -> list[Contract]:
    match command:
        case m.RegisterMember():
            if state.erased:
                raise Rejected("MemberErased", "this member was erased")
            if state.registered:
                raise Rejected("MemberAlreadyRegistered", "this member is registered")
            return [m.MemberRegistered(**fields_of(command))]
        case m.CorrectMemberDetails():
            _present(state)
            return [m.MemberDetailsCorrected(member_id=command.member_id,
                                             personal=command.personal)]
        case m.StartMembership():
            _present(state)
            cooperative = context.lookups["cooperatives"].get(command.cooperative_id)
            if cooperative is None:
                raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
            _same_currency(command.share_capital_required, cooperative.currency,
                           "the share capital required")
            if state.active_in(command.cooperative_id):
                raise Rejected("AlreadyAMember", "the member is already a member of this cooperative")
            last_end = max((ms.ended_on for ms in state.memberships
                            if ms.cooperative_id == command.cooperative_id), default=None)
            if last_end is not None and command.started_on < last_end:
                raise Rejected("ValidationError",
                               "a membership cannot start before the previous one ended")
            if command.consent_id is not None:
                _under_consent(state, command, context.now)
            return [m.MembershipStarted(**fields_of(command))]
        case m.EndMembership():
            _present(state)
            membership = state.active_in(command.cooperative_id)
            if membership is None:
                raise Rejected("NotAMember", "the member has no active membership here")
            if command.ended_on < membership.started_on:
                raise Rejected("ValidationError", "a membership cannot end before it started")
            return [m.MembershipEnded(**fields_of(command))]
        case m.GrantConsent():
            _present(state)
            if command.consent_id in state.consents:
                raise Rejected("ConsentAlreadyExists", "a consent with this id exists")
            if command.expires_at <= context.now:
                raise Rejected("ValidationError", "a consent must expire in the future")
            pattern = _UUID if command.grantee_kind is m.GranteeKind.COOPERATIVE else re.compile(
                NODE_ID_PATTERN)
            if not pattern.match(command.grantee):
                raise Rejected("ValidationError",
                               f"the grantee is not a {command.grantee_kind.value} id")
            if not command.scopes and not command.join:
                raise Rejected("ValidationError", "a consent grants a scope, or joining")
            if command.join and command.grantee_kind is not m.GranteeKind.COOPERATIVE:
                raise Rejected("ValidationError", "only a cooperative is joined")
            return [m.ConsentGranted(**fields_of(command), granted_at=context.now)]
        case m.RevokeConsent():
            _present(state)
            consent = state.consents.get(command.consent_id)
            if consent is None:
                raise Rejected("UnknownConsent", "the member gave no consent with this id")
            if consent.revoked:
                raise Rejected("ConsentAlreadyRevoked", "this consent is already revoked")
            return [m.ConsentRevoked(**fields_of(command))]
        case m.EraseMember():
            if state.erased:
                raise Rejected("MemberAlreadyErased", "this member was already erased")
            _present(state)
            return [m.MemberErased(member_id=command.member_id)]
        case m.ExportRecord():
            _present(state)
            if command.credential_id in state.exports:
                raise Rejected("RecordAlreadyExported", "a record with this id was exported")
            if command.valid_until <= context.now:
                raise Rejected("ValidationError", "a record must be valid until a future time")
            consent_id, consent = _consent_for(state, command, context.now)
            return [m.RecordExported(
                member_id=command.member_id, credential_id=command.credential_id,
                consent_id=consent_id, grantee_kind=command.grantee_kind,
                grantee=command.grantee, scopes=command.scopes, valid_from=context.now,
                valid_until=min(command.valid_until, consent.expires_at),
            )]
        case m.RevokeRecord():
            _present(state)
            revoked = state.exports.get(command.credential_id)
            if revoked is None:
                raise Rejected("UnknownRecord", "the member exported no record with this id")
            if revoked:
                raise Rejected("RecordAlreadyRevoked", "this record is already revoked")
            return [m.RecordRevoked(**fields_of(command))]
        case m.IssueMemberAccess():
            _present(state)
            if state.active_in(command.cooperative_id) is None:
                raise Rejected("NotAMember", "the member has no active membership here")
            if command.access_id in state.accesses:
                raise Rejected("AccessAlreadyExists", "an access with this id was issued")
            if not context.now < command.expires_at <= context.now + ACTIVATION_LIVES:
                raise Rejected("ValidationError", "an activation code expires in the future, "
                                                  "within 15 minutes")
            return [m.MemberAccessIssued(**fields_of(command))]
        case m.RedeemMemberAccess():
            access = state.accesses.get(command.access_id)
            if (access is None or state.erased or access.granted or access.revoked
                    or context.now >= access.expires_at
                    or not hmac.compare_digest(access.code_digest, command.code_digest)):
                raise Rejected("ActivationInvalid", "this activation code cannot be redeemed")
            return [m.MemberAccessGranted(member_id=command.member_id,
                                          access_id=command.access_id, granted_at=context.now)]
        case m.RevokeMemberAccess():
            _present(state)
            if command.access_id is None:
                if not state.accesses:
                    raise Rejected("UnknownAccess", "she was issued no access")
                if all(a.revoked for a in state.accesses.values()):
                    raise Rejected("AccessAlreadyRevoked", "every access of hers is revoked")
            else:
                access = state.accesses.get(command.access_id)
                if access is None:
                    raise Rejected("UnknownAccess", "she was issued no access with this id")
                if access.revoked:
                    raise Rejected("AccessAlreadyRevoked", "this access is revoked already")
            return [m.MemberAccessRevoked(**fields_of(command))]
        case m.RecordConsentUse():
            if not state.registered:
                raise Rejected("UnknownMember", "no member is registered with this id")
            consents = [state.consents.get(consent_id) for consent_id in command.consent_ids]
            if any(c is None or c.revoked or c.expires_at <= context.now
                   or c.grantee_kind is not m.GranteeKind.COOPERATIVE
                   or c.grantee != command.reader for c in consents) \
                    or not set(command.scopes) <= set().union(*(c.scopes for c in consents)):
                raise Rejected("ConsentNotLive", "a consent named is not hers, not live now, "
                                                 "or does not name the reader")
            return [m.ConsentUsed(**fields_of(command), used_at=context.now)]
        case m.ImportRecord():
            # no _present: an import is how a returning member arrives at her home node
            if state.erased:
                raise Rejected("MemberErased", "this member was erased")
            if command.credential_id in state.imports:
                raise Rejected("RecordAlreadyImported", "a record with this id was imported")
            return [m.RecordImported(**fields_of(command))]
    raise TypeError(f"not a member command: {type(command).__name__}")


def evolve_member(state: Member, event: Contract) -> Member:
    match event:
        case m.MemberRegistered():
            return dataclasses.replace(state, registered=True, kid=event.personal.kid,
                                       registered_by=event.cooperative_id)
        case m.MemberDetailsCorrected():
            return dataclasses.replace(state, registered=True, kid=event.personal.kid)
        case m.MembershipStarted():
            started = Membership(event.cooperative_id, event.role, event.started_on,
                                 event.share_capital_required, consent_id=event.consent_id)
            consents = state.consents
            if event.consent_id in consents:  # a consent to join is used once
                consents = {**consents, event.consent_id: dataclasses.replace(
                    consents[event.consent_id], used=True)}
            return dataclasses.replace(state, memberships=(*state.memberships, started),
                                       consents=consents)
        case m.MembershipEnded():
            return dataclasses.replace(state, memberships=tuple(
                dataclasses.replace(ms, ended_on=event.ended_on, end_reason=event.reason)
                if ms.cooperative_id == event.cooperative_id and ms.active else ms
                for ms in state.memberships
            ))
        case m.ConsentGranted():
            consent = Consent(event.grantee_kind, event.grantee, frozenset(event.scopes),
                              event.expires_at, join=event.join, granted_at=event.granted_at)
            return dataclasses.replace(state, consents={**state.consents,
                                                        event.consent_id: consent})
        case m.ConsentRevoked():
            revoked = dataclasses.replace(state.consents[event.consent_id], revoked=True)
            return dataclasses.replace(state, consents={**state.consents,
                                                        event.consent_id: revoked})
        case m.MemberErased():
            return dataclasses.replace(state, erased=True, kid=None,
                                       accesses=_revoked(state.accesses))
        case m.MemberAccessIssued():
            return dataclasses.replace(state, accesses={**state.accesses, event.access_id: Access(
                event.cooperative_id, event.code_digest, event.expires_at)})
        case m.MemberAccessGranted():
            return dataclasses.replace(state, accesses={**state.accesses, event.access_id:
                dataclasses.replace(state.accesses[event.access_id], granted=True)})
        case m.MemberAccessRevoked():
            return dataclasses.replace(state, accesses=_revoked(state.accesses,
                                                                event.access_id))
        case m.ConsentUsed():  # her access entries are the gateway's to show
            return state
        case m.RecordExported():
            return dataclasses.replace(state, exports={**state.exports,
                                                       event.credential_id: False})
        case m.RecordRevoked():
            return dataclasses.replace(state, exports={**state.exports,
                                                       event.credential_id: True})
        case m.RecordImported():
            return dataclasses.replace(
                state, registered=True, imports=state.imports | {event.credential_id},
                kid=state.kid or (event.personal.kid if event.personal is not None else None))
    raise TypeError(f"not a member event: {type(event).__name__}")


def _revoked(accesses: Mapping[str, Access], access_id: str | None = None
             ) -> dict[str, Access]:
    """Her accesses with ``access_id`` revoked (None: every one)."""
    return {key: dataclasses.replace(access, revoked=True) if access_id in (None, key)
            else access for key, access in accesses.items()}


def _present(state: Member) -> None:
    if state.erased:
        raise Rejected("MemberErased", "this member was erased")
    if not state.registered:
        raise Rejected("UnknownMember", "no member is registered with this id")


def _under_consent(state: Member, command: m.StartMembership, now: dt.datetime) -> None:
    """A membership a cooperative starts under her consent to join it: that consent is live,
    unused and names this cooperative; the membership starts no earlier than the day she gave
    it, and never with a seat on the board (that is for the members to elect)."""
    consent = state.consents.get(command.consent_id)
    if consent is None or not consent.lets_join(command.cooperative_id, now):
        raise Rejected("NoConsent", "no live, unused consent of hers lets this cooperative "
                                    "admit her")
    if consent.granted_at is not None and command.started_on < consent.granted_at.date():
        raise Rejected("ValidationError",
                       "a membership under consent starts no earlier than the consent")
    if command.role is m.MembershipRole.BOARD_MEMBER:
        raise Rejected("ValidationError", "a cooperative that admits her under consent does "
                                          "not seat her on its board")


def _consent_for(state: Member, command: m.ExportRecord,
                 now: dt.datetime) -> tuple[str, Consent]:
    """The live consent that covers this recipient and every scope asked for; of several,
    the one that expires last (ties go to the greater consent id, so replays agree)."""
    covering = [
        (consent.expires_at, consent_id, consent)
        for consent_id, consent in state.consents.items()
        if not consent.revoked and consent.expires_at > now
        and consent.grantee_kind is command.grantee_kind and consent.grantee == command.grantee
        and consent.scopes.issuperset(command.scopes)
    ]
    if not covering:
        raise Rejected("NoConsent", "the member has not consented to share this with this recipient")
    _, consent_id, consent = max(covering, key=lambda c: (c[0], c[1]))
    return consent_id, consent


# -- lookups (folded from the events topic of this service, every partition) -----------------


@dataclass(frozen=True)
class CooperativeFacts:
    currency: str
    country: str
    node: str


def new_cooperatives() -> dict[str, CooperativeFacts]:
    return {}


def apply_to_cooperatives(view: dict[str, CooperativeFacts], event: Contract) -> None:
    if isinstance(event, m.CooperativeRegistered):
        view[event.cooperative_id] = CooperativeFacts(event.currency, event.country, event.node)


def new_memberships() -> set[tuple[str, str]]:
    return set()


def apply_to_memberships(view: set[tuple[str, str]], event: Contract) -> None:
    match event:
        case m.MembershipStarted():
            view.add((event.member_id, event.cooperative_id))
        case m.MembershipEnded():
            view.discard((event.member_id, event.cooperative_id))


# -- shared ---------------------------------------------------------------------------------


def _same_currency(amount: Money, currency: str, what: str) -> None:
    if amount.currency != currency:
        raise Rejected("CurrencyMismatch", f"{what} must be in the cooperative's currency")



# -- the service, wired at the bottom ------------------------------------------------------

COOPERATIVE = Aggregate(
    name="cooperative",
    initial=Cooperative,
    decide=decide_cooperative,
    evolve=evolve_cooperative,
    commands=(m.RegisterCooperative, m.UpdateCooperative, m.CreateMemberGroup,
              m.AssignMemberToGroup, m.RemoveMemberFromGroup),
    events=(m.CooperativeRegistered, m.CooperativeUpdated, m.MemberGroupCreated,
            m.MemberAssignedToGroup, m.MemberRemovedFromGroup),
)

MEMBER = Aggregate(
    name="member",
    initial=Member,
    decide=decide_member,
    evolve=evolve_member,
    commands=(m.RegisterMember, m.CorrectMemberDetails, m.StartMembership, m.EndMembership,
              m.GrantConsent, m.RevokeConsent, m.EraseMember,
              m.ExportRecord, m.RevokeRecord, m.ImportRecord,
              m.IssueMemberAccess, m.RedeemMemberAccess, m.RevokeMemberAccess,
              m.RecordConsentUse),
    events=(m.MemberRegistered, m.MemberDetailsCorrected, m.MembershipStarted,
            m.MembershipEnded, m.ConsentGranted, m.ConsentRevoked, m.MemberErased,
            m.RecordExported, m.RecordRevoked, m.RecordImported,
            m.MemberAccessIssued, m.MemberAccessGranted, m.MemberAccessRevoked,
            m.ConsentUsed),
)

MEMBERSHIP = ServiceDefinition(
    name=m.SERVICE,
    aggregates=(COOPERATIVE, MEMBER),
    lookups=(
        Lookup("cooperatives", new_cooperatives, apply_to_cooperatives),
        Lookup("memberships", new_memberships, apply_to_memberships),
    ),
)
