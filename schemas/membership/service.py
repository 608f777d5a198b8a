"""The membership service as its contracts name it: the name of its topics and wire types, and
the codes it rejects a command with (``schemas.rejections``)."""

from __future__ import annotations

from schemas.rejections import declare_rejections

SERVICE = "membership"

#: Commands only the gateway sends; it never offers them to partners.
INTERNAL_COMMANDS = ("RecordConsentUse",)

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
#: ... about her own access to her record (issue 23).
ACCESS_REJECTIONS = declare_rejections(SERVICE, {
    "AccessAlreadyExists": "an access with this id was issued",
    "AccessAlreadyRevoked": "the access is revoked already",
    "ActivationInvalid": "this activation code cannot be redeemed (unknown, used, expired "
                         "or revoked: which, it does not say)",
    "UnknownAccess": "she was issued no access with this id",
    "ConsentNotLive": "a consent named is not hers, not live now, or does not name the reader",
    # answered by the gateway before anything is sent (gateway.member_access.attempts)
    "TooManyAttempts": "too many activation codes were tried from this address, or at this "
                       "gateway, in the last minute: wait a minute and try again",
}, release=5)
