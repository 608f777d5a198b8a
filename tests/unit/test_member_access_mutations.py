"""Her own door over GraphQL (issue 23), on the in-memory node: her cooperative's staff issue
an activation code, shown once; she redeems it without a token, once, for a member token
that works only while her access is live; a code that cannot be redeemed, for whatever
reason, gets one answer."""

from __future__ import annotations

from gateway.auth import Caller, Role, verify_token
from gateway.member_access.attempts import Attempts, attempts_of
from gateway.member_access.liveness import live
from tests.unit.inmemory_node import NODE
from tests.unit.test_gateway_schema import (  # noqa: F401 (node: a fixture)
    AHORRO,
    ANDINA,
    MADRID_STAFF,
    node,
    rosa_joins,
)

ISSUE = """mutation($input: IssueMemberAccessInput!, $key: String) {
  issueMemberAccess(input: $input, idempotencyKey: $key) {
    __typename ... on MemberAccessCode { accessId code expiresAt } ... on Problem { code } } }"""
REDEEM = """mutation($code: String!) { redeemMemberAccess(input: {code: $code}) {
    __typename ... on MemberToken { token memberId expiresAt } ... on Problem { code message } } }"""


async def issue(node, rosa, caller=MADRID_STAFF, key=None) -> dict:  # noqa: F811
    return (await node.ok(ISSUE, caller, input={"memberId": rosa}, key=key))["issueMemberAccess"]


async def redeem(node, code: str) -> dict:  # noqa: F811
    return (await node.ok(REDEEM, None, code=code))["redeemMemberAccess"]


async def test_staff_issue_a_code_she_redeems_once_for_her_own_token(node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    issued = await issue(node, rosa, key="counter-1")
    assert issued["__typename"] == "MemberAccessCode", issued
    again = await issue(node, rosa, key="counter-1")  # a retry shows the same code
    assert again == issued
    token = await redeem(node, issued["code"].lower().replace("-", " "))
    assert token["__typename"] == "MemberToken" and token["memberId"] == rosa, token
    caller = verify_token(NODE, token["token"])
    assert (caller.role, caller.member_id, caller.access_id) == (
        Role.MEMBER, rosa, issued["accessId"])
    assert live(caller, node.views) is caller
    used = await redeem(node, issued["code"])  # once only
    assert used == {"__typename": "ActivationInvalid", "code": "ActivationInvalid",
                    "message": used["message"]}
    revoked = await node.mutate("revokeMemberAccess", {"memberId": rosa,
                                                       "accessId": issued["accessId"]},
                                MADRID_STAFF)
    assert revoked["__typename"] == "CommandAccepted", revoked
    assert live(caller, node.views) is None  # her token opens nothing from now on


async def test_a_code_that_cannot_be_redeemed_gets_one_answer(node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    answers = [await redeem(node, code) for code in ("0000-0000-0000", "not a code", "")]
    assert {a["__typename"] for a in answers} == {"ActivationInvalid"}
    assert len({a["message"] for a in answers}) == 1
    issued = await issue(node, rosa)
    assert issued["__typename"] == "MemberAccessCode"


async def test_only_a_cooperative_she_is_active_in_issues_her_a_code(node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    quito = Caller("ines", Role.STAFF, ANDINA)
    assert (await issue(node, rosa, quito))["__typename"] == "NotAuthorized"
    her = Caller(rosa, Role.MEMBER, access_id="0192d3c4-0000-7000-8000-0000000acce5")
    assert (await issue(node, rosa, her))["__typename"] == "NotAuthorized"


def test_tries_are_limited_per_address_and_per_gateway_within_a_minute():
    now = [0.0]
    tries = Attempts(per_address=3, per_gateway=5, window=60, clock=lambda: now[0])
    assert [tries.allow("a") for _ in range(4)] == [True, True, True, False]
    assert [tries.allow("b") for _ in range(3)] == [True, True, False]  # 5 in all
    now[0] = 30.0
    tries = Attempts(per_address=2, per_gateway=100, window=60, clock=lambda: now[0])
    assert [tries.allow(a) for a in ("2001:db8::1", "2001:db8::2", "2001:db8::3")] == [
        True, True, False]  # one client holds a whole IPv6 /64
    assert tries.allow("2001:db8:0:1::1") and tries.allow("192.0.2.1")
    assert tries.allow("::ffff:192.0.2.1") and not tries.allow("192.0.2.1")  # the same client
    now[0] = 60.0  # a minute on: room again
    assert tries.allow("a") and tries.allow("b")


async def test_a_guesser_is_stopped_before_anything_is_sent(node, monkeypatch):  # noqa: F811
    monkeypatch.setattr(attempts_of(node.views), "per_address", 3)
    answers = [(await redeem(node, "0000-0000-0000"))["__typename"] for _ in range(4)]
    assert answers == ["ActivationInvalid"] * 3 + ["TooManyAttempts"]
