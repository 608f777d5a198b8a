"""Her own door, as the member aggregate decides it (issue 23): an activation code issued by
a cooperative she is active in, redeemed once before it expires, with the digest it was
issued with; every failed redemption is the same ActivationInvalid; revoked by one access or
all; her erasure revokes every access."""

from __future__ import annotations

import datetime as dt

from msgspec.structs import replace

from schemas import membership as m
from services.membership.domain import ACTIVATION_LIVES, MEMBER
from services.runtime.aggregate import Context
from tests.unit.test_membership_domain import (
    AHORRO,
    ANDINA,
    CONSENT,
    ERASED,
    JOINED_AHORRO,
    NOW,
    ROSA,
    ROSA_REGISTERED,
    context,
    given,
    granted,
    rejected,
    when,
)

ACCESS = "0192d3c4-0000-7000-8000-0000000acce5"
DIGEST = "A" * 43
OTHER_DIGEST = "B" * 43
ISSUE = m.IssueMemberAccess(member_id=ROSA, access_id=ACCESS, cooperative_id=AHORRO,
                            code_digest=DIGEST, expires_at=NOW + dt.timedelta(minutes=10))
ISSUED = m.MemberAccessIssued(**{f: getattr(ISSUE, f) for f in ISSUE.__struct_fields__})
REDEEM = m.RedeemMemberAccess(member_id=ROSA, access_id=ACCESS, code_digest=DIGEST)
GRANTED = m.MemberAccessGranted(member_id=ROSA, access_id=ACCESS, granted_at=NOW)
MEMBER_OF_AHORRO = (ROSA_REGISTERED, JOINED_AHORRO)


def test_a_cooperative_she_is_active_in_issues_her_a_code():
    assert when(MEMBER, MEMBER_OF_AHORRO, ISSUE) == [ISSUED]
    rejected(MEMBER, MEMBER_OF_AHORRO, replace(ISSUE, cooperative_id=ANDINA),
             "NotAMember")
    rejected(MEMBER, (ROSA_REGISTERED,), ISSUE, "NotAMember")
    rejected(MEMBER, (*MEMBER_OF_AHORRO, ISSUED), ISSUE, "AccessAlreadyExists")
    rejected(MEMBER, (*MEMBER_OF_AHORRO, ERASED), ISSUE, "MemberErased")


def test_a_code_expires_in_the_future_within_fifteen_minutes():
    for expires in (NOW, NOW - dt.timedelta(seconds=1),
                    NOW + ACTIVATION_LIVES + dt.timedelta(seconds=1)):
        rejected(MEMBER, MEMBER_OF_AHORRO, replace(ISSUE, expires_at=expires),
                 "ValidationError")
    assert when(MEMBER, MEMBER_OF_AHORRO,
                replace(ISSUE, expires_at=NOW + ACTIVATION_LIVES))


def test_a_code_is_redeemed_once_with_its_digest_before_it_expires():
    assert when(MEMBER, (*MEMBER_OF_AHORRO, ISSUED), REDEEM) == [GRANTED]
    invalid = [
        ((*MEMBER_OF_AHORRO,), REDEEM, None),  # never issued
        ((*MEMBER_OF_AHORRO, ISSUED, GRANTED), REDEEM, None),  # used
        ((*MEMBER_OF_AHORRO, ISSUED), replace(REDEEM, code_digest=OTHER_DIGEST),
         None),  # another code
        ((*MEMBER_OF_AHORRO, ISSUED), REDEEM,
         Context(ISSUE.expires_at, context().lookups)),  # expired
        ((*MEMBER_OF_AHORRO, ISSUED, m.MemberAccessRevoked(member_id=ROSA)), REDEEM, None),
        ((*MEMBER_OF_AHORRO, ISSUED, ERASED), REDEEM, None),
    ]
    messages = {rejected(MEMBER, history, command, "ActivationInvalid", ctx).args
                for history, command, ctx in invalid}
    assert len(messages) == 1  # one answer for every reason: it tells a guesser nothing


def test_an_access_is_revoked_once_one_or_all():
    history = (*MEMBER_OF_AHORRO, ISSUED, GRANTED)
    one = m.RevokeMemberAccess(member_id=ROSA, access_id=ACCESS)
    every = m.RevokeMemberAccess(member_id=ROSA)
    assert when(MEMBER, history, one) == [m.MemberAccessRevoked(member_id=ROSA,
                                                                access_id=ACCESS)]
    assert when(MEMBER, history, every) == [m.MemberAccessRevoked(member_id=ROSA)]
    rejected(MEMBER, (*history, m.MemberAccessRevoked(member_id=ROSA)), one,
             "AccessAlreadyRevoked")
    rejected(MEMBER, (*history, m.MemberAccessRevoked(member_id=ROSA)), every,
             "AccessAlreadyRevoked")
    rejected(MEMBER, MEMBER_OF_AHORRO, one, "UnknownAccess")
    rejected(MEMBER, MEMBER_OF_AHORRO, every, "UnknownAccess")


def test_her_erasure_revokes_every_access():
    state = given(MEMBER, *MEMBER_OF_AHORRO, ISSUED, GRANTED, ERASED)
    assert all(access.revoked for access in state.accesses.values())


# -- a read under her consent leaves an access entry -----------------------------------------


def use(consents=(CONSENT,), reader=ANDINA, scopes=(m.ConsentScope.SAVINGS,),
        read=m.ReadKind.RECORD) -> m.RecordConsentUse:
    return m.RecordConsentUse(member_id=ROSA, consent_ids=list(consents), reader=reader,
                              scopes=list(scopes), read=read)


def test_a_read_under_her_live_consent_is_recorded_with_its_time():
    command = use()
    assert when(MEMBER, (ROSA_REGISTERED, granted()), command) == [m.ConsentUsed(
        **{f: getattr(command, f) for f in command.__struct_fields__}, used_at=NOW)]
    state = given(MEMBER, ROSA_REGISTERED, granted())
    assert MEMBER.evolve(state, when(MEMBER, (ROSA_REGISTERED, granted()), command)[0]) \
        == state  # nothing of hers changes: the entry is for her to see


def test_a_read_under_a_consent_that_does_not_hold_now_is_refused():
    revoked = m.ConsentRevoked(member_id=ROSA, consent_id=CONSENT)
    for history, command in [
            ((ROSA_REGISTERED, granted(), revoked), use()),  # revoked a moment ago
            ((ROSA_REGISTERED, granted(expires_at=NOW)), use()),  # expired (folded as given)
            ((ROSA_REGISTERED, granted()), use(reader=AHORRO)),  # names another cooperative
            ((ROSA_REGISTERED, granted()), use(scopes=[m.ConsentScope.IDENTITY])),  # not granted
            ((ROSA_REGISTERED, granted()), use(consents=[ACCESS])),  # no such consent
            ((ROSA_REGISTERED, granted(kind=m.GranteeKind.NODE, grantee="ec")),
             use(reader=ANDINA))]:
        rejected(MEMBER, history, command, "ConsentNotLive")
    rejected(MEMBER, (), use(), "UnknownMember")
