"""Her own door (issue 23), on the member aggregate (key ``member_id``): the access a member
has to her own record with a member token, decided by the same writer as her memberships and
her erasure. Her cooperative issues an activation code (the gateway makes it, shows it once
and sends only its keyed digest); she redeems it once, before it expires, for an access; her
cooperative or she herself revokes it; her erasure revokes them all. And every read of her
record under her consent leaves an access entry she sees (``RecordConsentUse``). No field is
personal."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import Id, UtcDateTime
from schemas.membership.records import Digest, Scopes
from schemas.membership.service import SERVICE
from schemas.registry import REGISTRY, Contract

command = REGISTRY.command
event = REGISTRY.event

#: The longest an activation code lives: she redeems it at the counter, or soon after.
ACTIVATION_LIVES = dt.timedelta(minutes=15)


@command(SERVICE, "IssueMemberAccess", key="member_id")
class IssueMemberAccess(Contract, frozen=True, kw_only=True):
    """Issue a member an activation code for her own access, from a cooperative she is an
    active member of (else NotAMember). Only the code's keyed digest travels; it expires
    within 15 minutes and in the future (else ValidationError); an access id used before is
    AccessAlreadyExists; an erased member is MemberErased."""

    member_id: Id
    access_id: Id
    cooperative_id: Id
    code_digest: Digest
    expires_at: UtcDateTime


@event(SERVICE, "MemberAccessIssued")
class MemberAccessIssued(Contract, frozen=True, kw_only=True):
    member_id: Id
    access_id: Id
    cooperative_id: Id
    code_digest: Digest
    expires_at: UtcDateTime


@command(SERVICE, "RedeemMemberAccess", key="member_id")
class RedeemMemberAccess(Contract, frozen=True, kw_only=True):
    """Redeem an activation code: once, before it expires, with the digest it was issued
    with, while neither the access is revoked nor she erased. Any other case is
    ActivationInvalid, the same for every reason (it tells a guesser nothing)."""

    member_id: Id
    access_id: Id
    code_digest: Digest


@event(SERVICE, "MemberAccessGranted")
class MemberAccessGranted(Contract, frozen=True, kw_only=True):
    member_id: Id
    access_id: Id
    granted_at: UtcDateTime


@command(SERVICE, "RevokeMemberAccess", key="member_id")
class RevokeMemberAccess(Contract, frozen=True, kw_only=True):
    """Revoke one of her accesses (``access_id``), or every one (None): their tokens stop
    working at once. An access never issued is UnknownAccess, one revoked already
    AccessAlreadyRevoked."""

    member_id: Id
    access_id: Id | None = None


@event(SERVICE, "MemberAccessRevoked")
class MemberAccessRevoked(Contract, frozen=True, kw_only=True):
    """``access_id`` None: every access she had."""

    member_id: Id
    access_id: Id | None = None


class ReadKind(StrEnum):
    """What a cooperative read of her record under her consent."""

    RECORD = "record"  # her record (the member query, or a page of members)
    TIMELINE = "timeline"  # her timeline
    EVENTS = "events"  # her events as they happen (a subscription, once when it opens)


ConsentIds = Annotated[list[Id], msgspec.Meta(min_length=1, max_length=20)]


@command(SERVICE, "RecordConsentUse", key="member_id")
class RecordConsentUse(Contract, frozen=True, kw_only=True):
    """Record that a cooperative read her record under her consents (the gateway sends it
    before it answers the read, and answers nothing if it is refused: no read under consent
    goes unrecorded). Each consent is hers, live now and names the reader, else
    ConsentNotLive; an unknown member is UnknownMember."""

    member_id: Id
    consent_ids: ConsentIds
    reader: Id  # the cooperative that read (never a person)
    scopes: Scopes
    read: ReadKind


@event(SERVICE, "ConsentUsed")
class ConsentUsed(Contract, frozen=True, kw_only=True):
    member_id: Id
    consent_ids: ConsentIds
    reader: Id
    scopes: Scopes
    read: ReadKind
    used_at: UtcDateTime
