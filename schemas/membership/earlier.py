"""Earlier versions of the membership contracts, read through upcasters as the newest.

Version 1 of these had no registering cooperative, no consent a membership was started under,
no consent to join and no time of granting: each reads as version 2 without them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec

from schemas.fields import Id, Money, PastDay, Sealed, UtcDateTime
from schemas.membership.members import (
    ConsentGranted,
    GrantConsent,
    MemberRegistered,
    MembershipStarted,
    RegisterMember,
    StartMembership,
)
from schemas.membership.service import SERVICE
from schemas.membership.terms import ConsentScope, GranteeKind, MembershipRole
from schemas.registry import REGISTRY, Contract, fields_of

command = REGISTRY.command
event = REGISTRY.event


@command(SERVICE, "RegisterMember", key="member_id")
class RegisterMemberV1(Contract, frozen=True, kw_only=True):
    """Register a member at this node under a new global member id, with her personal details
    (version 1: the registering cooperative was not recorded)."""

    member_id: Id
    personal: Sealed


@event(SERVICE, "MemberRegistered")
class MemberRegisteredV1(Contract, frozen=True, kw_only=True):
    """A member registered at this node (version 1: by whom was not recorded)."""

    member_id: Id
    personal: Sealed


@command(SERVICE, "StartMembership", key="member_id")
class StartMembershipV1(Contract, frozen=True, kw_only=True):
    """Start a member's membership of a cooperative: her role, first day and share capital
    (version 1: no consent to join)."""

    member_id: Id
    cooperative_id: Id
    role: MembershipRole = MembershipRole.MEMBER
    started_on: PastDay
    share_capital_required: Money


@event(SERVICE, "MembershipStarted")
class MembershipStartedV1(Contract, frozen=True, kw_only=True):
    """A membership began (version 1: read as one she chose)."""

    member_id: Id
    cooperative_id: Id
    role: MembershipRole
    started_on: PastDay
    share_capital_required: Money


@command(SERVICE, "GrantConsent", key="member_id")
class GrantConsentV1(Contract, frozen=True, kw_only=True):
    """Record a member's consent to let a cooperative or a node see parts of her record
    (version 1: scopes only, no joining)."""

    member_id: Id
    consent_id: Id
    grantee_kind: GranteeKind
    grantee: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[ConsentScope], msgspec.Meta(min_length=1, max_length=4)]
    expires_at: UtcDateTime


@event(SERVICE, "ConsentGranted")
class ConsentGrantedV1(Contract, frozen=True, kw_only=True):
    """A consent (version 1: scopes only; when it was given was not recorded)."""

    member_id: Id
    consent_id: Id
    grantee_kind: GranteeKind
    grantee: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[ConsentScope], msgspec.Meta(min_length=1, max_length=4)]
    expires_at: UtcDateTime


def _as_version_2(new: type[Contract]) -> Callable[[Contract], Contract]:
    def upcast(old: Contract) -> Contract:
        return new(**fields_of(old))  # what version 2 added: its default (None, False)

    return upcast


for _old, _new in ((RegisterMemberV1, RegisterMember), (MemberRegisteredV1, MemberRegistered),
                   (StartMembershipV1, StartMembership),
                   (MembershipStartedV1, MembershipStarted),
                   (GrantConsentV1, GrantConsent), (ConsentGrantedV1, ConsentGranted)):
    REGISTRY.upcaster(_old, _new)(_as_version_2(_new))
del _old, _new
