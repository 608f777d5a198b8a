"""Contracts of the membership service: cooperatives, groups, members, memberships, consent.

Aggregates and their keys (the Kafka key and the envelope ``subject``), a module each:

* a **cooperative** (``cooperative_id``, ``cooperatives``): its registration, details and
  member groups;
* a **member** (``member_id``, the global member id that travels between nodes, ``members``):
  personal details, memberships, consents, erasure; and her portable records (``records``):
  exported under her consent, revoked, imported at her home node. Memberships live on the
  member, so "never a member twice at once of the same cooperative" is decided by one writer.

``service`` names the service and declares its rejection codes, ``terms`` what the fields
hold (enumerations, ``PersonalDetails``), ``earlier`` the versions read through upcasters.
Everything is importable from here (``from schemas import membership as m; m.RegisterMember``).

Personal fields only ever travel sealed (``fields.Sealed``) with the member's data key; the
plaintext shape inside the seal is ``PersonalDetails``. Nothing else here is personal data.

A command and the event it leads to often list the same fields. They repeat them on purpose:
each is a published contract with its own versions, and a shared base class would change two
contracts at once.
"""

from schemas.fields import Money  # noqa: F401 (m.Money: the money its contracts hold)
from schemas.membership.access import (  # noqa: F401
    IssueMemberAccess, MemberAccessIssued, RedeemMemberAccess, MemberAccessGranted,
    RevokeMemberAccess, MemberAccessRevoked, ReadKind, RecordConsentUse, ConsentUsed,
)
from schemas.membership.cooperatives import (  # noqa: F401
    RegisterCooperative, CooperativeRegistered, UpdateCooperative, CooperativeUpdated,
    CreateMemberGroup, MemberGroupCreated, AssignMemberToGroup, MemberAssignedToGroup,
    RemoveMemberFromGroup, MemberRemovedFromGroup,
)
from schemas.membership.earlier import (  # noqa: F401
    RegisterMemberV1, MemberRegisteredV1, StartMembershipV1, MembershipStartedV1,
    GrantConsentV1, ConsentGrantedV1, RegisterCooperativeV1, CooperativeRegisteredV1,
    UpdateCooperativeV1, CooperativeUpdatedV1,
)
from schemas.membership.members import (  # noqa: F401
    RegisterMember, MemberRegistered, CorrectMemberDetails, MemberDetailsCorrected,
    StartMembership, MembershipStarted, EndMembership, MembershipEnded, GrantConsent,
    ConsentGranted, RevokeConsent, ConsentRevoked, EraseMember, MemberErased,
)
from schemas.membership.records import (  # noqa: F401
    Digest, Scopes, Count, ExportRecord, RecordExported, RevokeRecord, RecordRevoked,
    ImportedMembership, ImportedLoan, ImportedBalance, ImportedRemittances,
    ImportedAssembly, ImportedCertificate, ImportedHistory, ImportRecord, RecordImported,
    ImportedCertificateV1, ImportedHistoryV1, ImportRecordV1, RecordImportedV1,
    ImportedHistoryV2, ImportRecordV2, RecordImportedV2, ImportedWork,
    ImportedCertificateV3, ImportedHistoryV3, ImportRecordV3, RecordImportedV3,
)
from schemas.membership.service import (  # noqa: F401
    SERVICE, REJECTIONS, RECORD_REJECTIONS, HOMECOMING_REJECTIONS, ACCESS_REJECTIONS,
    INTERNAL_COMMANDS,
)
from schemas.membership.terms import (  # noqa: F401
    Languages, CooperativeKind, GroupKind, MembershipRole, EndReason, ConsentScope,
    GranteeKind, Gender, PersonalDetails,
)

