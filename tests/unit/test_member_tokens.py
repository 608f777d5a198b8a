"""A member's own token (issue 23): it names her member id and her access, only such a
token names an access, and it opens her door only while that access is live in her record
(``gateway.member_access.liveness``): revoked, never granted, or erased is anonymous at once."""

from __future__ import annotations

import datetime as dt

import pytest
from msgspec.structs import replace

from gateway.auth import AuthError, Caller, Role, issue_token, verify_token
from gateway.documents import AccessDoc, MemberRecord
from gateway.member_access.liveness import live
from tests.unit.test_gateway_auth import claims, forged, home  # noqa: F401 (a fixture)

ROSA = "0192d3c4-0000-7000-8000-00000000a05a"
ACCESS = "0192d3c4-0000-7000-8000-0000000acce5"
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def test_a_member_token_names_her_and_her_access():
    caller = verify_token("es", issue_token("es", Role.MEMBER, subject=ROSA, access_id=ACCESS))
    assert (caller.role, caller.member_id, caller.access_id) == (Role.MEMBER, ROSA, ACCESS)
    assert caller.cooperative_id is None and not caller.of_cooperative(None)
    with pytest.raises(ValueError):
        issue_token("es", Role.MEMBER, subject=ROSA)  # no access
    with pytest.raises(ValueError):
        issue_token("es", Role.MEMBER, subject="rosa", access_id=ACCESS)  # not a member id
    with pytest.raises(ValueError):
        issue_token("es", Role.NODE_ADMIN, access_id=ACCESS)  # only hers names an access


@pytest.mark.parametrize("changes", [
    {"role": "member", "sub": ROSA, "cooperative": None},  # no access
    {"role": "member", "sub": "rosa", "cooperative": None, "access": ACCESS},
    {"role": "member", "sub": ROSA, "access": ACCESS},  # a cooperative's too
    {"role": "staff", "access": ACCESS},  # staff naming an access
])
def test_a_token_signed_by_the_node_but_shaped_otherwise_is_refused(changes):
    with pytest.raises(AuthError):
        verify_token("es", forged(claims(**changes)))


class Views:
    def __init__(self, record: MemberRecord | None, failing: bool = False):
        self.record, self.failing = record, failing

    def get(self, table, key):
        if self.failing:
            raise RuntimeError("the views stopped")
        return self.record if (table, key) == ("members", ROSA) else None


def test_her_token_opens_her_door_only_while_her_access_is_live():
    rosa = Caller(ROSA, Role.MEMBER, access_id=ACCESS)
    granted = AccessDoc(access_id=ACCESS, cooperative_id="c", issued_at=NOW, granted_at=NOW)
    record = MemberRecord(member_id=ROSA, registered=True, accesses=[granted])
    assert live(rosa, Views(record)) is rosa
    closed = {
        "revoked": replace(record, accesses=[replace(granted, revoked=True)]),
        "never granted": replace(record, accesses=[replace(granted, granted_at=None)]),
        "another access": replace(record, accesses=[replace(granted, access_id="x")]),
        "erased": replace(record, erased=True),
        "unknown": None,
    }
    for why, state in closed.items():
        assert live(rosa, Views(state)) is None, why
    assert live(rosa, Views(record, failing=True)) is None  # closed, never open
    staff = Caller("ana", Role.STAFF, "c")
    assert live(staff, Views(None)) is staff and live(None, Views(record)) is None
