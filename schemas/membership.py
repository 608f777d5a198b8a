"""Contracts of the membership service: cooperatives, groups, members, memberships, consent.

Aggregates and their keys (the Kafka key and the envelope ``subject``):

* a **cooperative** (``cooperative_id``): its registration, details and member groups;
* a **member** (``member_id``, the global member id that travels between nodes): personal
  details, memberships, consents, erasure. Memberships live on the member, so "never a member
  twice at once of the same cooperative" is decided by one writer.

Personal fields only ever travel sealed (``fields.Sealed``) with the member's data key; the
plaintext shape inside the seal is ``PersonalDetails``. Nothing else here is personal data.

A command and the event it leads to often list the same fields. They repeat them on purpose:
each is a published contract with its own versions, and a shared base class would change two
contracts at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import (
    CountryCode,
    CurrencyCode,
    Id,
    LanguageTag,
    Money,
    NodeId,
    PastDay,
    Sealed,
    Text,
    UtcDateTime,
)
from schemas.registry import REGISTRY, Contract, fields_of
from schemas.rejections import declare_rejections

SERVICE = "membership"
command = REGISTRY.command
event = REGISTRY.event

#: The codes the membership service rejects a command with (besides the runtime's).
REJECTIONS = declare_rejections(SERVICE, {
    "AlreadyAMember": "she is an active member of this cooperative already",
    "AlreadyInGroup": "she is in this group already",
    "ConsentAlreadyExists": "a consent with this id exists",
    "ConsentAlreadyRevoked": "the consent is revoked already",
    "CooperativeAlreadyRegistered": "a cooperative with this id is registered",
    "CurrencyMismatch": "an amount is not in the cooperative's currency",
    "GroupAlreadyExists": "the cooperative has a group with this id",
    "InvalidPersonalDetails": "the sealed personal details do not open with her data key, or "
                              "are not valid personal details",
    "MemberAlreadyErased": "she was erased already",
    "MemberAlreadyRegistered": "a member with this id is registered",
    "MemberErased": "she was erased: nothing more is recorded about her",
    "NotAMember": "she has no active membership in the cooperative",
    "NotInGroup": "she is not in this group",
    "NothingToChange": "the command would change nothing",
    "UnknownConsent": "she gave no consent with this id",
    "UnknownCooperative": "no cooperative is registered with this id",
    "UnknownGroup": "the cooperative has no group with this id",
    "UnknownMember": "no member is registered with this id",
})
#: ... about her portable record: exported under her consent, revoked, imported at home.
RECORD_REJECTIONS = declare_rejections(SERVICE, {
    "NoConsent": "no live consent of hers covers this recipient and what it would see",
    "RecordAlreadyExported": "a record with this id was exported",
    "RecordAlreadyImported": "a record with this id was imported",
    "RecordAlreadyRevoked": "the record is revoked already",
    "UnknownRecord": "she was issued no record with this id",
}, release=2)
#: ... when her record comes home to a node that knows the member id already (the gateway
#: answers these before anything is sent).
HOMECOMING_REJECTIONS = declare_rejections(SERVICE, {
    "MemberIdInUse": "another cooperative of this node registered this member id",
    "IdentityMismatch": "the record names another person than the member of this id",
}, release=3)

Languages = Annotated[list[LanguageTag], msgspec.Meta(min_length=1, max_length=20)]


class CooperativeKind(StrEnum):
    """The kinds of cooperative the federation serves (ICA's families, plus training)."""

    SAVINGS_AND_CREDIT = "savings_and_credit"
    WORKER = "worker"
    MULTI_PURPOSE = "multi_purpose"
    INSURANCE = "insurance"
    SERVICES = "services"
    CONSUMER = "consumer"
    PRODUCER = "producer"
    TRAINING = "training"


class GroupKind(StrEnum):
    """The kinds of member group inside a cooperative."""

    SOLIDARITY_GROUP = "solidarity_group"
    SOCIETY = "society"
    WORK_TEAM = "work_team"


class MembershipRole(StrEnum):
    """A member's role in a cooperative."""

    MEMBER = "member"
    WORKER_MEMBER = "worker_member"
    BOARD_MEMBER = "board_member"


class EndReason(StrEnum):
    """Why a membership ended."""

    RETURNED_HOME = "returned_home"
    MOVED = "moved"
    RESIGNED = "resigned"
    DECEASED = "deceased"
    EXPELLED = "expelled"


class ConsentScope(StrEnum):
    """The parts of a member's record that a consent, or a record exported under it, covers."""

    IDENTITY = "identity"
    MEMBERSHIP = "membership"
    SAVINGS = "savings"
    TRAINING = "training"


class GranteeKind(StrEnum):
    """Whom a consent or an exported record is for: one cooperative, or a whole node."""

    COOPERATIVE = "cooperative"
    NODE = "node"


class Gender(StrEnum):
    """A member's gender, if she states it."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class PersonalDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A member's personal details: the minimum, and no immigration status.
    They only ever travel sealed with her data key: this is the plaintext inside the seal."""

    given_names: Text
    family_names: Text
    date_of_birth: PastDay
    nationality: CountryCode
    gender: Gender | None = None
    preferred_languages: Languages
    contact: Annotated[str, msgspec.Meta(max_length=200)] | None = None


# -- cooperatives ---------------------------------------------------------------------------


@command(SERVICE, "RegisterCooperative", key="cooperative_id")
class RegisterCooperative(Contract, frozen=True, kw_only=True):
    """Register a cooperative: its name, country, kind, languages, currency and share price.
    The share price is in the cooperative's currency (else CurrencyMismatch); an id that is
    registered already is CooperativeAlreadyRegistered."""

    cooperative_id: Id
    name: Text
    country: CountryCode
    kind: CooperativeKind
    languages: Languages
    node: NodeId
    currency: CurrencyCode
    share_price: Money


@event(SERVICE, "CooperativeRegistered")
class CooperativeRegistered(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    name: Text
    country: CountryCode
    kind: CooperativeKind
    languages: Languages
    node: NodeId
    currency: CurrencyCode
    share_price: Money


@command(SERVICE, "UpdateCooperative", key="cooperative_id")
class UpdateCooperative(Contract, frozen=True, kw_only=True):
    """Change a cooperative's name, languages or share price; what is left out stays as it is.
    The share price stays in the cooperative's currency (else CurrencyMismatch); an update that
    changes nothing is NothingToChange; an unknown cooperative is UnknownCooperative."""

    cooperative_id: Id
    name: Text | None = None
    languages: Languages | None = None
    share_price: Money | None = None


@event(SERVICE, "CooperativeUpdated")
class CooperativeUpdated(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    name: Text | None = None
    languages: Languages | None = None
    share_price: Money | None = None


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


# -- members --------------------------------------------------------------------------------


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
    scopes: Annotated[list[ConsentScope], msgspec.Meta(max_length=4)] = []
    join: bool = False
    expires_at: UtcDateTime


@event(SERVICE, "ConsentGranted", version=2)
class ConsentGranted(Contract, frozen=True, kw_only=True):
    """A consent, and when it was given (None: given before that was recorded)."""

    member_id: Id
    consent_id: Id
    grantee_kind: GranteeKind
    grantee: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[ConsentScope], msgspec.Meta(max_length=4)] = []
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


# -- portable records: export, revocation, import ----------------------------------------------

Digest = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{43}$",
                                     description="base64url SHA-256, no padding")]
Scopes = Annotated[list[ConsentScope], msgspec.Meta(min_length=1, max_length=4)]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


@command(SERVICE, "ExportRecord", key="member_id")
class ExportRecord(Contract, frozen=True, kw_only=True):
    """Issue a member's portable record to a recipient she consented to, for the scopes named.
    An active consent to that recipient covering every scope is needed (else NoConsent); the
    record is valid no longer than that consent; a record id used before is
    RecordAlreadyExported."""

    member_id: Id
    credential_id: Id
    grantee_kind: GranteeKind
    grantee: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Scopes
    valid_until: UtcDateTime


@event(SERVICE, "RecordExported")
class RecordExported(Contract, frozen=True, kw_only=True):
    """A record left the node, under ``consent_id``. Its status-list index is this event's
    ``sequence`` in the member's stream; ``valid_until`` never outlives the consent."""

    member_id: Id
    credential_id: Id
    consent_id: Id
    grantee_kind: GranteeKind
    grantee: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Scopes
    valid_from: UtcDateTime
    valid_until: UtcDateTime


@command(SERVICE, "RevokeRecord", key="member_id")
class RevokeRecord(Contract, frozen=True, kw_only=True):
    """Revoke a portable record this node exported for a member: verifiers then see it revoked.
    An unknown record is UnknownRecord, one revoked already RecordAlreadyRevoked."""

    member_id: Id
    credential_id: Id


@event(SERVICE, "RecordRevoked")
class RecordRevoked(Contract, frozen=True, kw_only=True):
    """The issuer withdrew an exported record; its status-list bit is set from now on."""

    member_id: Id
    credential_id: Id


class ImportedMembership(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A membership abroad, as an imported record states it."""

    cooperative_name: Text
    country: CountryCode
    role: MembershipRole
    started_on: PastDay
    ended_on: PastDay | None = None
    share_capital: Money | None = None


class ImportedLoan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One loan abroad and how it was repaid: the credit history a home cooperative uses."""

    principal: Money
    disbursed_on: PastDay
    instalments: Count
    repaid_early: Count = 0
    repaid_on_time: Count = 0
    repaid_late: Count = 0
    closed: bool = False


class ImportedBalance(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An account's balance abroad when the record was issued (savings or share capital)."""

    product: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,20}$")]
    balance: Money


class ImportedRemittances(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Remittances sent in one corridor and currency: how many, how much, what fees."""

    corridor: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}-[A-Z]{2}$")]
    count: Count
    sent: Money
    fees: Money


class ImportedCertificate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A certificate earned abroad, as an imported record states it."""

    title: Text
    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,30}$")]
    issued_on: PastDay
    level: Annotated[str, msgspec.Meta(pattern=r"^(A1|A2|B1|B2|C1|C2)$")] | None = None
    skills: Annotated[list[Annotated[str, msgspec.Meta(max_length=300)]],
                      msgspec.Meta(max_length=50)] = []
    revoked: bool = False


class ImportedHistory(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a portable record says, without the person: what a home cooperative decides on."""

    memberships: Annotated[list[ImportedMembership], msgspec.Meta(max_length=200)] = []
    balances: Annotated[list[ImportedBalance], msgspec.Meta(max_length=200)] = []
    loans: Annotated[list[ImportedLoan], msgspec.Meta(max_length=200)] = []
    remittances: Annotated[list[ImportedRemittances], msgspec.Meta(max_length=200)] = []
    certificates: Annotated[list[ImportedCertificate], msgspec.Meta(max_length=200)] = []


@command(SERVICE, "ImportRecord", key="member_id")
class ImportRecord(Contract, frozen=True, kw_only=True):
    """Record a verified portable record at the home node, for the same global member id.
    ``personal`` is the identity the record carried, sealed with the member's data key here."""

    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistory
    personal: Sealed | None = None


@event(SERVICE, "RecordImported")
class RecordImported(Contract, frozen=True, kw_only=True):
    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistory
    personal: Sealed | None = None


# -- earlier versions, read through upcasters -----------------------------------------------
# Version 1 of these had no registering cooperative, no consent a membership was started
# under, no consent to join and no time of granting: each reads as version 2 without them.


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
