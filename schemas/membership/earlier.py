"""Earlier versions of the membership contracts, read through upcasters as the newest.

Version 1 of these had no registering cooperative, no consent a membership was started under,
no consent to join and no time of granting, and a cooperative had one name only: each reads
as version 2 without them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec

from schemas.fields import (
    CountryCode,
    CurrencyCode,
    Id,
    Money,
    NodeId,
    PastDay,
    Sealed,
    Text,
    UtcDateTime,
)
from schemas.membership.cooperatives import (
    CooperativeRegistered,
    CooperativeUpdated,
    RegisterCooperative,
    UpdateCooperative,
)
from schemas.membership.members import (
    ConsentGranted,
    GrantConsent,
    MemberRegistered,
    MembershipStarted,
    RegisterMember,
    StartMembership,
)
from schemas.membership.service import SERVICE
from schemas.membership.terms import (
    ConsentScope,
    CooperativeKind,
    GranteeKind,
    Languages,
    MembershipRole,
)
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


@command(SERVICE, "RegisterCooperative", key="cooperative_id")
class RegisterCooperativeV1(Contract, frozen=True, kw_only=True):
    """Register a cooperative (version 1: one name only)."""

    cooperative_id: Id
    name: Text
    country: CountryCode
    kind: CooperativeKind
    languages: Languages
    node: NodeId
    currency: CurrencyCode
    share_price: Money


@event(SERVICE, "CooperativeRegistered")
class CooperativeRegisteredV1(Contract, frozen=True, kw_only=True):
    """A cooperative registered (version 1: one name only)."""

    cooperative_id: Id
    name: Text
    country: CountryCode
    kind: CooperativeKind
    languages: Languages
    node: NodeId
    currency: CurrencyCode
    share_price: Money


@command(SERVICE, "UpdateCooperative", key="cooperative_id")
class UpdateCooperativeV1(Contract, frozen=True, kw_only=True):
    """Change a cooperative's details (version 1: no names in its languages)."""

    cooperative_id: Id
    name: Text | None = None
    languages: Languages | None = None
    share_price: Money | None = None


@event(SERVICE, "CooperativeUpdated")
class CooperativeUpdatedV1(Contract, frozen=True, kw_only=True):
    """A cooperative's details changed (version 1: no names in its languages)."""

    cooperative_id: Id
    name: Text | None = None
    languages: Languages | None = None
    share_price: Money | None = None


def _as_version_2(new: type[Contract]) -> Callable[[Contract], Contract]:
    def upcast(old: Contract) -> Contract:
        return new(**fields_of(old))  # what version 2 added: its default (None, False)

    return upcast


for _old, _new in ((RegisterMemberV1, RegisterMember), (MemberRegisteredV1, MemberRegistered),
                   (StartMembershipV1, StartMembership),
                   (MembershipStartedV1, MembershipStarted),
                   (GrantConsentV1, GrantConsent), (ConsentGrantedV1, ConsentGranted),
                   (RegisterCooperativeV1, RegisterCooperative),
                   (CooperativeRegisteredV1, CooperativeRegistered),
                   (UpdateCooperativeV1, UpdateCooperative),
                   (CooperativeUpdatedV1, CooperativeUpdated)):
    REGISTRY.upcaster(_old, _new)(_as_version_2(_new))
del _old, _new
