"""Her application for insurance through the GraphQL schema on an in-memory node (the real
deciders, folds and resolvers, no broker), issue 25: her own cooperative's staff, or she
herself with her own token, apply under her insurance consent to the insurer's node; the
gateway fills her age from the date of birth her cooperative recorded (the caller cannot
say it) and seals her beneficiaries' names with her data key; another cooperative, or
another member, cannot apply for her."""

from __future__ import annotations

import msgspec

from gateway.auth import Caller, Role
from schemas import insurance as i
from services.runtime.ids import new_id
from tests.unit.test_gateway_schema import (  # noqa: F401 (node: a fixture)
    ADMIN,
    AHORRO,
    ANDINA,
    MADRID_ADMIN,
    MADRID_STAFF,
    QUITO_STAFF,
    node,
    rosa_joins,
)

INSURER_NODE = "sv"
MOTHER_ACCOUNT = new_id()  # at the insurer's node


def application(rosa: str, account: str, **changes) -> dict:
    return {"coverId": new_id(), "memberId": rosa, "cooperativeId": AHORRO,
            "insurerNode": INSURER_NODE, "productId": new_id(), "currency": "USD",
            "accountId": account,
            "startsOn": "2026-11-20",
            "requestedBenefit": {"amount": "200.00", "currency": "USD"},
            "payees": [{"accountId": MOTHER_ACCOUNT, "sharePercent": 100}],
            "beneficiaries": {"people": [{"fullName": "María Yupanqui Quispe",
                                          "relationship": "madre",
                                          "accountId": MOTHER_ACCOUNT}]},
            **changes}


async def her_consent(node, rosa: str) -> None:
    granted = await node.mutate("grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "NODE",
        "grantee": INSURER_NODE, "scopes": ["INSURANCE"],
        "expiresAt": "2027-11-15T00:00:00Z"}, MADRID_STAFF)
    assert granted["__typename"] == "CommandAccepted", granted


async def test_her_cooperative_applies_and_the_gateway_fills_her_age_and_seals_the_names(node):
    rosa = await rosa_joins(node)  # born 1988-04-17
    asked = application(rosa["rosa"], rosa["account"])
    refused = await node.mutate("applyForPolicy", asked, MADRID_STAFF)
    assert refused["code"] == "ConsentNotLive"  # nothing goes to the insurer without it
    await her_consent(node, rosa["rosa"])
    asked = application(rosa["rosa"], rosa["account"])
    accepted = await node.mutate("applyForPolicy", asked, MADRID_STAFF)
    assert accepted["__typename"] == "CommandAccepted", accepted
    cover = node.views.get("covers", asked["coverId"])
    assert cover.applied.age == 38  # on 2026-11-20, from her date of birth
    assert cover.applied.requested_benefit.amount == 20_000
    sealed = cover.applied.beneficiaries
    assert b"Mar\xc3\xada" not in msgspec.json.encode(cover.applied)  # sealed, nowhere plain
    opened = msgspec.json.decode(await node.keys.open(rosa["rosa"], sealed),
                                 type=i.Beneficiaries)
    assert [(p.full_name, p.relationship) for p in opened.people] \
        == [("María Yupanqui Quispe", "madre")]
    # her record lists it, to her own cooperative (and to her, and under her insurance
    # consent): applied, no answer yet, no remittance history to disclose
    read = await node.ok('query($id: ID!) { member(id: $id) { insurance { coverId status '
                         'startsOn averageRemittance { amount } periodsPaid } } }',
                         MADRID_STAFF, id=rosa["rosa"])
    assert read["member"]["insurance"] == [
        {"coverId": asked["coverId"], "status": "applied", "startsOn": "2026-11-20",
         "averageRemittance": None, "periodsPaid": 0}]


async def test_nobody_says_her_age(node):
    rosa = await rosa_joins(node)
    result = await node.run(
        "mutation($input: ApplyForPolicyInput!) { applyForPolicy(input: $input) "
        "{ __typename } }", MADRID_STAFF,
        input={**application(rosa["rosa"], rosa["account"]), "age": 25})
    assert result.errors and "age" in result.errors[0].message


async def test_she_applies_herself_and_nobody_else_does_for_her(node):
    rosa, other = await rosa_joins(node), await rosa_joins(node)
    await her_consent(node, rosa["rosa"])
    herself = Caller(rosa["rosa"], Role.MEMBER, access_id=new_id())
    mine = await node.mutate("applyForPolicy", application(rosa["rosa"], rosa["account"]),
                             herself)
    assert mine["__typename"] == "CommandAccepted", mine
    for caller, asked in (
            (QUITO_STAFF, application(rosa["rosa"], rosa["account"])),  # not her cooperative
            (ADMIN, application(rosa["rosa"], rosa["account"])),  # the node: not her money
            (Caller(other["rosa"], Role.MEMBER, access_id=new_id()),  # another member
             application(rosa["rosa"], rosa["account"]))):
        assert (await node.mutate("applyForPolicy", asked, caller))["__typename"] \
            == "NotAuthorized"
    # her own token, another member's account: the account is not hers
    theirs = await node.mutate("applyForPolicy", application(rosa["rosa"], other["account"]),
                               herself)
    assert theirs["code"] == "NotHerAccount"


SUGGESTED = """query($id: ID!) { member(id: $id) { suggestedBeneficiaries {
  fullName country payouts } } }"""


async def test_her_beneficiaries_are_suggested_from_her_payouts_to_her_own_people_only(node):
    rosa = await rosa_joins(node)
    for name in ("Elvira Quispe", "Juan Quispe", " elvira  quispe "):
        assert (await node.mutate("sendRemittance", {
            "accountId": rosa["account"], "remittanceId": new_id(),
            "amount": {"amount": "100.00", "currency": "EUR"},
            "to": {"payout": {"country": "EC", "currency": "USD",
                              "recipient": {"fullName": name}}}}, MADRID_STAFF))[
            "__typename"] == "CommandAccepted"
    mine = (await node.ok(SUGGESTED, MADRID_STAFF, id=rosa["rosa"]))["member"]
    assert mine["suggestedBeneficiaries"] == [
        {"fullName": " elvira  quispe ", "country": "EC", "payouts": 2},  # one person, twice
        {"fullName": "Juan Quispe", "country": "EC", "payouts": 1}]
    herself = Caller(rosa["rosa"], Role.MEMBER, access_id=new_id())
    assert (await node.ok(SUGGESTED, herself, id=rosa["rosa"]))["member"] == mine
    # another cooperative, even with her savings consent, reads no family names
    assert (await node.mutate("grantConsent", {
        "memberId": rosa["rosa"], "consentId": new_id(), "granteeKind": "COOPERATIVE",
        "grantee": ANDINA, "scopes": ["SAVINGS", "INSURANCE", "IDENTITY"],
        "expiresAt": "2027-11-15T00:00:00Z"}, MADRID_STAFF))["__typename"] == \
        "CommandAccepted"
    seen = (await node.ok(SUGGESTED, QUITO_STAFF, id=rosa["rosa"]))["member"]
    assert seen == {"suggestedBeneficiaries": None}
    operator = (await node.ok(SUGGESTED, ADMIN, id=rosa["rosa"]))["member"]
    assert operator == {"suggestedBeneficiaries": None}  # nor the node's operator
    # erased: her seal opens no more, and nothing is suggested
    assert (await node.mutate("eraseMember", {"memberId": rosa["rosa"]},
                              MADRID_ADMIN))["__typename"] == "CommandAccepted"
    assert (await node.ok(SUGGESTED, MADRID_STAFF, id=rosa["rosa"]))["member"] == \
        {"suggestedBeneficiaries": []}
