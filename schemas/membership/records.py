"""A member's portable record, as the member aggregate logs it (key ``member_id``): exported
under her consent, revoked, and imported at her home node with the history it states."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from schemas.fields import (
    CountryCode,
    Id,
    LanguageMap,
    LanguageTag,
    Money,
    NodeId,
    PastDay,
    Sealed,
    Text,
    UtcDateTime,
)
from schemas.membership.service import SERVICE
from schemas.membership.terms import ConsentScope, GranteeKind, MembershipRole
from schemas.registry import REGISTRY, Contract

command = REGISTRY.command
event = REGISTRY.event

Digest = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{43}$",
                                     description="base64url SHA-256, no padding")]
Scopes = Annotated[list[ConsentScope], msgspec.Meta(min_length=1, max_length=7)]
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
    titles: LanguageMap = {}  # its title in each language the record gave (title: the first)
    language: LanguageTag | None = None  # a language course's language (issue 26)


class ImportedWork(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A placement abroad, as an imported record states it (issue 26): the occupation, the
    cooperative that placed her, the period and the hours worked (minutes, exactly)."""

    occupation: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}$")]  # ISCO-08 unit group
    cooperative_name: Text
    country: CountryCode | None = None
    started_on: PastDay
    ended_on: PastDay
    minutes: Count
    how_ended: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,30}$")] | None = None


class ImportedAssembly(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An assembly abroad she was on the roll of, as an imported record states it: whether and
    how she voted, the offices she was elected to; never her choice."""

    cooperative_name: Text
    country: CountryCode | None = None  # (absent: the record did not say)
    meeting_on: dt.date  # (planned: a roll is frozen before its meeting)
    voted: Annotated[str, msgspec.Meta(pattern=r"^(remote|proxy|in_person|no)$")] | None = None
    offices: Annotated[list[Text], msgspec.Meta(max_length=20)] = []
    titles: LanguageMap = {}  # the assembly's title in each language the record gave


class ImportedHistory(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a portable record says, without the person: what a home cooperative decides on."""

    memberships: Annotated[list[ImportedMembership], msgspec.Meta(max_length=200)] = []
    balances: Annotated[list[ImportedBalance], msgspec.Meta(max_length=200)] = []
    loans: Annotated[list[ImportedLoan], msgspec.Meta(max_length=200)] = []
    remittances: Annotated[list[ImportedRemittances], msgspec.Meta(max_length=200)] = []
    certificates: Annotated[list[ImportedCertificate], msgspec.Meta(max_length=200)] = []
    assemblies: Annotated[list[ImportedAssembly], msgspec.Meta(max_length=200)] = []
    work: Annotated[list[ImportedWork], msgspec.Meta(max_length=200)] = []


@command(SERVICE, "ImportRecord", version=4, key="member_id")
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


@event(SERVICE, "RecordImported", version=4)
class RecordImported(Contract, frozen=True, kw_only=True):
    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistory
    personal: Sealed | None = None


# -- earlier versions: version 3 of an import had no work and its certificates no language
# (``ImportedHistoryV3``); it reads as version 4 with neither. Version 2 of an import had no
# assemblies (``ImportedHistoryV2``); it
# reads as version 3 with none. Version 1 carried each certificate's title in one language only
# (``ImportedCertificateV1``); it reads as version 2 with no titles by language


class ImportedCertificateV3(msgspec.Struct, frozen=True, kw_only=True,
                            forbid_unknown_fields=True):
    """A certificate earned abroad (versions 2 and 3: no language)."""

    title: Text
    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,30}$")]
    issued_on: PastDay
    level: Annotated[str, msgspec.Meta(pattern=r"^(A1|A2|B1|B2|C1|C2)$")] | None = None
    skills: Annotated[list[Annotated[str, msgspec.Meta(max_length=300)]],
                      msgspec.Meta(max_length=50)] = []
    revoked: bool = False
    titles: LanguageMap = {}


class ImportedHistoryV3(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a portable record says (version 3: no work, certificates with no language)."""

    memberships: Annotated[list[ImportedMembership], msgspec.Meta(max_length=200)] = []
    balances: Annotated[list[ImportedBalance], msgspec.Meta(max_length=200)] = []
    loans: Annotated[list[ImportedLoan], msgspec.Meta(max_length=200)] = []
    remittances: Annotated[list[ImportedRemittances], msgspec.Meta(max_length=200)] = []
    certificates: Annotated[list[ImportedCertificateV3], msgspec.Meta(max_length=200)] = []
    assemblies: Annotated[list[ImportedAssembly], msgspec.Meta(max_length=200)] = []


@command(SERVICE, "ImportRecord", version=3, key="member_id")
class ImportRecordV3(Contract, frozen=True, kw_only=True):
    """Record a verified portable record at the home node (version 3)."""

    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistoryV3
    personal: Sealed | None = None


@event(SERVICE, "RecordImported", version=3)
class RecordImportedV3(Contract, frozen=True, kw_only=True):
    """A portable record recorded at home (version 3)."""

    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistoryV3
    personal: Sealed | None = None


class ImportedHistoryV2(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a portable record says (version 2: no assemblies)."""

    memberships: Annotated[list[ImportedMembership], msgspec.Meta(max_length=200)] = []
    balances: Annotated[list[ImportedBalance], msgspec.Meta(max_length=200)] = []
    loans: Annotated[list[ImportedLoan], msgspec.Meta(max_length=200)] = []
    remittances: Annotated[list[ImportedRemittances], msgspec.Meta(max_length=200)] = []
    certificates: Annotated[list[ImportedCertificateV3], msgspec.Meta(max_length=200)] = []


@command(SERVICE, "ImportRecord", version=2, key="member_id")
class ImportRecordV2(Contract, frozen=True, kw_only=True):
    """Record a verified portable record at the home node (version 2)."""

    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistoryV2
    personal: Sealed | None = None


@event(SERVICE, "RecordImported", version=2)
class RecordImportedV2(Contract, frozen=True, kw_only=True):
    """A portable record recorded at home (version 2)."""

    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistoryV2
    personal: Sealed | None = None


class ImportedCertificateV1(msgspec.Struct, frozen=True, kw_only=True,
                            forbid_unknown_fields=True):
    """A certificate earned abroad (version 1: its title in one language)."""

    title: Text
    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,30}$")]
    issued_on: PastDay
    level: Annotated[str, msgspec.Meta(pattern=r"^(A1|A2|B1|B2|C1|C2)$")] | None = None
    skills: Annotated[list[Annotated[str, msgspec.Meta(max_length=300)]],
                      msgspec.Meta(max_length=50)] = []
    revoked: bool = False


class ImportedHistoryV1(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a portable record says (version 1: certificates titled in one language)."""

    memberships: Annotated[list[ImportedMembership], msgspec.Meta(max_length=200)] = []
    balances: Annotated[list[ImportedBalance], msgspec.Meta(max_length=200)] = []
    loans: Annotated[list[ImportedLoan], msgspec.Meta(max_length=200)] = []
    remittances: Annotated[list[ImportedRemittances], msgspec.Meta(max_length=200)] = []
    certificates: Annotated[list[ImportedCertificateV1], msgspec.Meta(max_length=200)] = []


@command(SERVICE, "ImportRecord", key="member_id")
class ImportRecordV1(Contract, frozen=True, kw_only=True):
    """Record a verified portable record at the home node (version 1)."""

    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistoryV1
    personal: Sealed | None = None


@event(SERVICE, "RecordImported")
class RecordImportedV1(Contract, frozen=True, kw_only=True):
    """A portable record recorded at home (version 1)."""

    member_id: Id
    credential_id: Id
    issuer_node: NodeId
    issued_at: UtcDateTime
    digest: Digest
    history: ImportedHistoryV1
    personal: Sealed | None = None


def _titled(new: type[Contract]):
    def upcast(old: Contract) -> Contract:
        history = old.history
        return new(**{**{name: getattr(old, name) for name in old.__struct_fields__},
                      "history": ImportedHistoryV2(
                          memberships=history.memberships, balances=history.balances,
                          loans=history.loans, remittances=history.remittances,
                          certificates=[ImportedCertificateV3(**msgspec.structs.asdict(c))
                                        for c in history.certificates])})
    return upcast


def _no_assemblies(new: type[Contract]):
    def upcast(old: Contract) -> Contract:
        return new(**{**{name: getattr(old, name) for name in old.__struct_fields__},
                      "history": ImportedHistoryV3(**msgspec.structs.asdict(old.history))})
    return upcast


def _worked(new: type[Contract]):
    def upcast(old: Contract) -> Contract:
        history = msgspec.structs.asdict(old.history)
        history["certificates"] = [ImportedCertificate(**msgspec.structs.asdict(c))
                                   for c in old.history.certificates]
        return new(**{**{name: getattr(old, name) for name in old.__struct_fields__},
                      "history": ImportedHistory(**history)})
    return upcast


for _old, _new in ((ImportRecordV1, ImportRecordV2), (RecordImportedV1, RecordImportedV2)):
    REGISTRY.upcaster(_old, _new)(_titled(_new))
for _old, _new in ((ImportRecordV2, ImportRecordV3), (RecordImportedV2, RecordImportedV3)):
    REGISTRY.upcaster(_old, _new)(_no_assemblies(_new))
for _old, _new in ((ImportRecordV3, ImportRecord), (RecordImportedV3, RecordImported)):
    REGISTRY.upcaster(_old, _new)(_worked(_new))
del _old, _new
