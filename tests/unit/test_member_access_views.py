"""Her accesses in the gateway's views (issue 23): issued, granted, revoked (one or all, or
by her erasure) in her record, and each code found by its digest."""

from __future__ import annotations

import datetime as dt

from schemas import membership as m
from services.runtime.ids import new_id
from tests.unit.test_gateway_schema import ADMIN, AHORRO, node, rosa_joins  # noqa: F401

DIGEST = "C" * 43


async def issued(node, rosa: str) -> str:  # noqa: F811
    access = new_id()
    reply = await node.commands.send(m.IssueMemberAccess(
        member_id=rosa, access_id=access, cooperative_id=AHORRO, code_digest=DIGEST,
        expires_at=node.now + dt.timedelta(minutes=10)), rosa)
    assert reply.payload.accepted, reply.payload
    return access


async def test_an_access_is_issued_granted_and_revoked_in_her_record(node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    access = await issued(node, rosa)
    code = node.views.get("activation_codes", DIGEST)
    assert (code.member_id, code.access_id) == (rosa, access)
    [doc] = node.views.get("members", rosa).accesses
    assert doc.access_id == access and doc.cooperative_id == AHORRO and not doc.live
    reply = await node.commands.send(m.RedeemMemberAccess(
        member_id=rosa, access_id=access, code_digest=DIGEST), rosa)
    assert reply.payload.accepted, reply.payload
    assert node.views.get("members", rosa).accesses[0].live
    reply = await node.commands.send(m.RevokeMemberAccess(member_id=rosa), rosa)
    assert reply.payload.accepted, reply.payload
    assert not node.views.get("members", rosa).accesses[0].live


async def test_her_erasure_ends_every_access(node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    access = await issued(node, rosa)
    assert (await node.commands.send(m.RedeemMemberAccess(
        member_id=rosa, access_id=access, code_digest=DIGEST), rosa)).payload.accepted
    assert (await node.commands.send(m.EraseMember(member_id=rosa), rosa)).payload.accepted
    record = node.views.get("members", rosa)
    assert record.erased and not any(a.live for a in record.accesses)
