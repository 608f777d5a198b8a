"""The cooperative aggregate's contracts (key ``cooperative_id``): its registration, details
and member groups. Version 2 of registration and update adds ``names``: its name in each of
the languages it has one in, where it has several (version 1 reads with none)."""

from __future__ import annotations

from schemas.fields import CountryCode, CurrencyCode, Id, LanguageMap, Money, NodeId, Text
from schemas.membership.service import SERVICE
from schemas.membership.terms import CooperativeKind, GroupKind, Languages
from schemas.registry import REGISTRY, Contract

command = REGISTRY.command
event = REGISTRY.event


@command(SERVICE, "RegisterCooperative", version=2, key="cooperative_id")
class RegisterCooperative(Contract, frozen=True, kw_only=True):
    """Register a cooperative: its name, country, kind, languages, currency and share price,
    and its name in each language where it has several (``names``). The share price is in
    the cooperative's currency (else CurrencyMismatch); an id that is registered already is
    CooperativeAlreadyRegistered."""

    cooperative_id: Id
    name: Text
    country: CountryCode
    kind: CooperativeKind
    languages: Languages
    node: NodeId
    currency: CurrencyCode
    share_price: Money
    names: LanguageMap = {}


@event(SERVICE, "CooperativeRegistered", version=2)
class CooperativeRegistered(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    name: Text
    country: CountryCode
    kind: CooperativeKind
    languages: Languages
    node: NodeId
    currency: CurrencyCode
    share_price: Money
    names: LanguageMap = {}


@command(SERVICE, "UpdateCooperative", version=2, key="cooperative_id")
class UpdateCooperative(Contract, frozen=True, kw_only=True):
    """Change a cooperative's name, names in its languages, languages or share price; what is
    left out stays as it is (``names`` given replaces them all). The share price stays in the
    cooperative's currency (else CurrencyMismatch); an update that changes nothing is
    NothingToChange; an unknown cooperative is UnknownCooperative."""

    cooperative_id: Id
    name: Text | None = None
    languages: Languages | None = None
    share_price: Money | None = None
    names: LanguageMap | None = None


@event(SERVICE, "CooperativeUpdated", version=2)
class CooperativeUpdated(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    name: Text | None = None
    languages: Languages | None = None
    share_price: Money | None = None
    names: LanguageMap | None = None


@command(SERVICE, "CreateMemberGroup", key="cooperative_id")
class CreateMemberGroup(Contract, frozen=True, kw_only=True):
    """Create a member group in a cooperative: a solidarity group, a society or a work team.
    The cooperative is registered (else UnknownCooperative) and the group's id is new in it
    (else GroupAlreadyExists)."""

    cooperative_id: Id
    group_id: Id
    name: Text
    kind: GroupKind


@event(SERVICE, "MemberGroupCreated")
class MemberGroupCreated(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    group_id: Id
    name: Text
    kind: GroupKind


@command(SERVICE, "AssignMemberToGroup", key="cooperative_id")
class AssignMemberToGroup(Contract, frozen=True, kw_only=True):
    """Put a member into one of her cooperative's groups.
    She is an active member of that cooperative (else NotAMember) and not in the group yet
    (else AlreadyInGroup); the group exists (else UnknownGroup)."""

    cooperative_id: Id
    group_id: Id
    member_id: Id


@event(SERVICE, "MemberAssignedToGroup")
class MemberAssignedToGroup(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    group_id: Id
    member_id: Id


@command(SERVICE, "RemoveMemberFromGroup", key="cooperative_id")
class RemoveMemberFromGroup(Contract, frozen=True, kw_only=True):
    """Take a member out of a group of her cooperative.
    She is in the group (else NotInGroup); the group exists (else UnknownGroup)."""

    cooperative_id: Id
    group_id: Id
    member_id: Id


@event(SERVICE, "MemberRemovedFromGroup")
class MemberRemovedFromGroup(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    group_id: Id
    member_id: Id
