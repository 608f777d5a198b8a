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
    ERASED,
    JOINED_AHORRO,
    NOW,
    ROSA,
    ROSA_REGISTERED,
    context,
    given,
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
