"""The member aggregate's contracts (key ``member_id``, the global member id that travels
between nodes): personal details (sealed), memberships, consents and erasure. Memberships live
on the member, so "never a member twice at once of the same cooperative" is decided by one
writer."""

from __future__ import annotations

from typing import Annotated

import msgspec

from schemas.fields import Id, Money, PastDay, Sealed, UtcDateTime
from schemas.membership.service import SERVICE
from schemas.membership.terms import ConsentScope, EndReason, GranteeKind, MembershipRole
from schemas.registry import REGISTRY, Contract

command = REGISTRY.command
event = REGISTRY.event


@command(SERVICE, "RegisterMember", version=2, key="member_id")
class RegisterMember(Contract, frozen=True, kw_only=True):
    """Register a member at this node under a new global member id, with her personal details.
    The details travel sealed with her data key (the gateway seals what GraphQL gives in the
    clear) and must open and be valid (else InvalidPersonalDetails); an id registered already
    is MemberAlreadyRegistered, an erased one MemberErased. The registering cooperative is
    recorded: her first membership here is its to start (or another's under her consent)."""

    member_id: Id
    personal: Sealed
    cooperative_id: Id | None = None


@event(SERVICE, "MemberRegistered", version=2)
class MemberRegistered(Contract, frozen=True, kw_only=True):
    """A member registered at this node; ``cooperative_id``: the cooperative that registered
    her (None: the node's operator, or a registration from before it was recorded)."""

    member_id: Id
    personal: Sealed
    cooperative_id: Id | None = None


@command(SERVICE, "CorrectMemberDetails", key="member_id")
class CorrectMemberDetails(Contract, frozen=True, kw_only=True):
    """Replace a member's personal details with corrected ones.
    All the details are given again, sealed as at registration (else InvalidPersonalDetails);
    an unknown member is UnknownMember, an erased one MemberErased."""

    member_id: Id
    personal: Sealed


@event(SERVICE, "MemberDetailsCorrected")
class MemberDetailsCorrected(Contract, frozen=True, kw_only=True):
    member_id: Id
    personal: Sealed


@command(SERVICE, "StartMembership", version=2, key="member_id")
class StartMembership(Contract, frozen=True, kw_only=True):
    """Start a member's membership of a cooperative: her role, first day and share capital.
    She is registered at this node (else UnknownMember) and not an active member of it already
    (else AlreadyAMember); the share capital is in the cooperative's currency (else
    CurrencyMismatch); a membership starts no earlier than her last one there ended (else
    ValidationError). A cooperative she did not choose herself admits her only under her
    consent to join it (``consent_id``: active, unused, naming it; else NoConsent), from the
    day of that consent on, and never onto its board (else ValidationError)."""

    member_id: Id
    cooperative_id: Id
    role: MembershipRole = MembershipRole.MEMBER
    started_on: PastDay
    share_capital_required: Money
    consent_id: Id | None = None


@event(SERVICE, "MembershipStarted", version=2)
class MembershipStarted(Contract, frozen=True, kw_only=True):
    """A membership began; ``consent_id``: the consent to join it was started under (None: a
    cooperative she chose herself, which sees and does what her own cooperatives do)."""

    member_id: Id
    cooperative_id: Id
    role: MembershipRole
    started_on: PastDay
    share_capital_required: Money
    consent_id: Id | None = None


@command(SERVICE, "EndMembership", key="member_id")
class EndMembership(Contract, frozen=True, kw_only=True):
    """End a member's active membership of a cooperative, with the reason and the last day.
    She is an active member of it (else NotAMember) and it ends no earlier than it started
    (else ValidationError). Her shares can be redeemed once it has ended."""

    member_id: Id
    cooperative_id: Id
    reason: EndReason
    ended_on: PastDay


@event(SERVICE, "MembershipEnded")
class MembershipEnded(Contract, frozen=True, kw_only=True):
    member_id: Id
    cooperative_id: Id
    reason: EndReason
    ended_on: PastDay


@command(SERVICE, "GrantConsent", version=2, key="member_id")
class GrantConsent(Contract, frozen=True, kw_only=True):
    """Record a member's consent to let a cooperative or a node see parts of her record, or
    let a cooperative admit her as a member (``join``: once).
    It covers only the scopes named and lasts until it expires or is revoked; the grantee is a
    cooperative's id (a UUID) or a node's id, as its kind says, only a cooperative is joined,
    it grants a scope or joining, and the expiry lies ahead (else ValidationError); a consent
    id used before is ConsentAlreadyExists."""

    member_id: Id
    consent_id: Id
    grantee_kind: GranteeKind
    grantee: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[ConsentScope], msgspec.Meta(max_length=7)] = []
    join: bool = False
    expires_at: UtcDateTime


@event(SERVICE, "ConsentGranted", version=2)
class ConsentGranted(Contract, frozen=True, kw_only=True):
    """A consent, and when it was given (None: given before that was recorded)."""

    member_id: Id
    consent_id: Id
    grantee_kind: GranteeKind
    grantee: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[ConsentScope], msgspec.Meta(max_length=7)] = []
    join: bool = False
    expires_at: UtcDateTime
    granted_at: UtcDateTime | None = None


@command(SERVICE, "RevokeConsent", key="member_id")
class RevokeConsent(Contract, frozen=True, kw_only=True):
    """Withdraw a member's consent: from the next request on, the grantee sees nothing under it.
    Records exported under it are revoked too; an unknown consent is UnknownConsent, one
    revoked already ConsentAlreadyRevoked."""

    member_id: Id
    consent_id: Id


@event(SERVICE, "ConsentRevoked")
class ConsentRevoked(Contract, frozen=True, kw_only=True):
    member_id: Id
    consent_id: Id


@command(SERVICE, "EraseMember", key="member_id")
class EraseMember(Contract, frozen=True, kw_only=True):
    """Erase a member: her data key is destroyed, so her personal details are gone everywhere.
    Her history stays, without her identity, and every record and certificate exported for her
    is revoked; an erased member is MemberAlreadyErased."""

    member_id: Id


@event(SERVICE, "MemberErased")
class MemberErased(Contract, frozen=True, kw_only=True):
    """The member's data key is destroyed; this event itself carries no personal data."""

    member_id: Id
