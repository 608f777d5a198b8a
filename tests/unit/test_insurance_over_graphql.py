"""An insurer's staff through the GraphQL schema on an in-memory node (the real deciders,
folds and resolvers, no broker), issue 25: only its admins offer a product; only its own
people open, assess and decide a claim; the gateway names who assesses and who approves
(never the caller), so one person cannot do both, whichever token she uses; and the policy
reads only for the insurer."""

from __future__ import annotations

import hashlib

import pytest

from gateway.auth import Caller, Role
from gateway.insurance.staff import staff_ref
from schemas import insurance as i
from schemas import savings as s
from schemas.fields import Money
from services.runtime.ids import new_id
from tests.unit.inmemory_node import NODE
from tests.unit.test_gateway_schema import (  # noqa: F401 (node: a fixture)
    ADMIN,
    ANDINA,
    QUITO_STAFF,
    ROSA_DETAILS,
    ANALYST,
    MADRID_ADMIN,
    MADRID_STAFF,
    SCHEMA,
    node,
    rosa_joins,
)

INSURER = new_id()
MARTA = Caller("marta", Role.ADMIN, INSURER)  # the insurer's admin
ANA = Caller("ana", Role.STAFF, INSURER)
ANA_AS_ADMIN = Caller("ana", Role.ADMIN, INSURER)  # the same person, another token
BEN = Caller("ben", Role.STAFF, INSURER)

FIGURES = """query($id: ID!) { insuranceFigures(productId: $id) {
  policiesIssued inForce lapsed claims approved rejected premiumsCollected { amount }
  benefitsPaid { amount } lossRatio suppressed } }"""

POLICY = """query($id: ID!) { insurancePolicy(id: $id) {
  status periodsPaid monthlyBenefit { amount } averageRemittance { amount }
  claim { status recommendation reasons evidence total { amount }
          payments { number kind status amount { amount } } } } }"""


def product_input(product: str, cooperative: str = INSURER) -> dict:
    return {"productId": product, "cooperativeId": cooperative,
            "names": [{"language": "es", "text": "Repatriación y remesa segura"},
                      {"language": "en", "text": "Repatriation cover"}],
            "currency": "USD", "repatriationLimit": {"amount": "4000.00", "currency": "USD"},
            "monthlyBenefitCap": {"amount": "300.00", "currency": "USD"},
            "premium": {"amount": "15.00", "currency": "USD"}, "waitingDays": 30,
            "exclusions": [[{"language": "es", "text": "Guerra"}]]}


async def an_insured_member(node, member: str | None = None,
                            payee: str | None = None) -> tuple[str, str]:
    assert (await node.mutate("registerCooperative", {
        "cooperativeId": INSURER, "name": "Seguros Futuro", "country": "SV",
        "kind": "INSURANCE", "languages": ["es"], "node": NODE, "currency": "USD",
        "sharePrice": {"amount": "10.00", "currency": "USD"}}))["__typename"] == \
        "CommandAccepted"
    product, policy = new_id(), new_id()
    assert (await node.mutate("offerProduct", product_input(product), ANA))["__typename"] == \
        "NotAuthorized"  # a product is one of the insurer's settings: its admins'
    assert (await node.mutate("offerProduct", product_input(product),
                              MADRID_ADMIN))["__typename"] == "NotAuthorized"
    assert (await node.mutate("offerProduct", product_input(product),
                              MARTA))["__typename"] == "CommandAccepted"
    read = await node.ok('query($id: ID!) { insuranceProduct(id: $id) { premium { amount } '
                         'name(lang: ["en"]) { text } exclusions { text } } }', MADRID_STAFF,
                         id=product)
    assert read["insuranceProduct"] == {"premium": {"amount": "15.00"},
                                        "name": {"text": "Repatriation cover"},
                                        "exclusions": [{"text": "Guerra"}]}  # a catalogue
    # her host node's relay issues the policy and brings her premiums (no partner mutation)
    member = member or new_id()
    issued = await node.commands.send(i.IssuePolicy(
        policy_id=policy, product_id=product, member_id=member, from_node="us",
        starts_on=node.now.date(), age=34, average_remittance=Money(25_000, "USD"),
        payees=[i.Payee(account_id=payee or new_id(), share_percent=100)]))
    assert issued.payload.accepted, issued.payload
    paid = await node.commands.send(i.CollectPremium(
        policy_id=policy, transfer_id=new_id(), from_account_id=new_id(), member_id=member,
        period=1, amount=Money(1_500, "USD"), from_node="us", paid_at=node.now))
    assert paid.payload.accepted, paid.payload
    return product, policy


def test_the_gateway_names_the_staff_member_never_the_caller():
    fields = i.AssessClaim.__struct_fields__
    assert "by" in fields
    from gateway.inputs import input_for  # noqa: PLC0415
    assert "by" not in input_for(i.AssessClaim).__annotations__
    assert staff_ref(NODE, ANA) == staff_ref(NODE, ANA_AS_ADMIN) != staff_ref(NODE, BEN)
    assert staff_ref(NODE, ANA) != hashlib.sha256(b"/ana").hexdigest()  # keyed, not guessable


async def test_her_erasure_does_not_stop_the_benefit_to_the_living(node):
    """Her data key is destroyed after the claim is approved: her record loses her name,
    and every payment is still released, credited to her mother's account and settled."""
    rosa = (await rosa_joins(node))["rosa"]
    mother, account = new_id(), new_id()
    for name, input in (
            ("registerMember", {"memberId": mother, "personal": {**ROSA_DETAILS,
                                                                 "givenNames": "María"}}),
            ("startMembership", {"memberId": mother, "cooperativeId": ANDINA,
                                 "startedOn": "2020-02-03",
                                 "shareCapitalRequired": {"amount": "10.00",
                                                          "currency": "USD"}}),
            ("openAccount", {"accountId": account, "memberId": mother, "cooperativeId": ANDINA,
                             "product": "SAVINGS", "currency": "USD"})):
        assert (await node.mutate(name, input, QUITO_STAFF))["__typename"] == \
            "CommandAccepted"
    _, policy = await an_insured_member(node, member=rosa, payee=account)
    with node.on("2027-01-10"):
        assert (await node.mutate("openClaim", {"policyId": policy, "claimId": new_id(),
                                                "diedOn": "2027-01-08"}, ANA))[
            "__typename"] == "CommandAccepted"
        assert (await node.mutate("attachEvidence", {
            "policyId": policy, "kind": "DEATH_CERTIFICATE",
            "sha256": hashlib.sha256(b"acta").hexdigest()}, ANA))["__typename"] == \
            "CommandAccepted"
        assert (await node.mutate("assessClaim", {
            "policyId": policy, "repatriationCost": {"amount": "3500.00", "currency": "USD"},
            "repatriationAccountId": account}, ANA))["__typename"] == "CommandAccepted"
        assert (await node.mutate("approveClaim", {"policyId": policy}, BEN))[
            "__typename"] == "CommandAccepted"
        assert (await node.mutate("eraseMember", {"memberId": rosa}, MADRID_ADMIN))[
            "__typename"] == "CommandAccepted"
        erased = (await node.ok("query($id: ID!) { member(id: $id) { erased identity "
                                "{ givenNames } } }", MADRID_STAFF, id=rosa))["member"]
        assert erased == {"erased": True, "identity": None}
        payments = node.views.get("policies", policy).claim.payments
        for payment in payments[:2]:  # the repatriation and the first month: due now
            for command in (i.ReleasePayment(policy_id=policy, number=payment.number),
                            s.ReceiveBenefit(account_id=account, policy_id=policy,
                                             number=payment.number, amount=payment.amount),
                            i.ConfirmPayment(policy_id=policy, number=payment.number)):
                reply = await node.commands.send(command)
                assert reply.payload.accepted, (command, reply.payload)
    claim = node.views.get("policies", policy).claim
    assert claim.credited == [1, 2]
    assert claim.credited_total == Money(3_500_00 + payments[1].amount.amount, "USD")


async def test_a_relayed_death_notice_comes_from_her_host_node_only(node):
    _, policy = await an_insured_member(node)  # applied for from node "us"

    def notice(by: str) -> i.OpenClaim:
        return i.OpenClaim(policy_id=policy, claim_id=new_id(),
                           died_on=node.now.date(), notified_by=by, relayed=True)

    forged = await node.commands.send(notice("gt"))  # another trusted peer
    assert forged.payload.error.code == "NotHerPolicy"
    assert node.views.get("policies", policy).claim is None
    assert (await node.commands.send(notice("us"))).payload.accepted


async def test_a_claim_is_opened_assessed_and_decided_by_two_people_of_the_insurer(node):
    _, policy = await an_insured_member(node)
    funeral = new_id()
    with node.on("2027-01-10"):  # after the 30 days of waiting, period 2 within its grace
        claim = {"policyId": policy, "claimId": new_id(), "diedOn": "2027-01-08"}
        assert (await node.mutate("openClaim", claim, MADRID_STAFF))["__typename"] == \
            "NotAuthorized"
        assert (await node.mutate("openClaim", claim, ANA))["__typename"] == "CommandAccepted"
        assert (await node.mutate("attachEvidence", {
            "policyId": policy, "kind": "DEATH_CERTIFICATE",
            "sha256": hashlib.sha256(b"acta").hexdigest()}, ANA))["__typename"] == \
            "CommandAccepted"
        assessment = {"policyId": policy,
                      "repatriationCost": {"amount": "3500.00", "currency": "USD"},
                      "repatriationAccountId": funeral}
        for outsider in (MADRID_ADMIN, ADMIN):  # the node admin neither: a token of nobody's
            assert (await node.mutate("assessClaim", assessment, outsider))["__typename"] \
                == "NotAuthorized"
        with_a_name = await node.run(
            "mutation($input: AssessClaimInput!) { assessClaim(input: $input) { __typename } }",
            ANA, input={**assessment, "by": staff_ref(NODE, BEN)})
        assert with_a_name.errors  # nobody names the assessor: the input has no such field
        assert (await node.mutate("assessClaim", assessment, ANA))["__typename"] == \
            "CommandAccepted"
        for same_person in (ANA, ANA_AS_ADMIN):
            refused = await node.mutate("approveClaim", {"policyId": policy}, same_person)
            assert refused["code"] == "FourEyes", refused
        assert (await node.mutate("approveClaim", {"policyId": policy}, BEN))["__typename"] \
            == "CommandAccepted"
        seen = (await node.ok(POLICY, BEN, id=policy))["insurancePolicy"]
        notified = node.views.get("policies", policy).claim.notified_by
    assert notified == NODE  # a death recorded at the insurer is notified by its node
    assert seen["status"] == "claimed" and seen["periodsPaid"] == 1
    assert seen["monthlyBenefit"] == seen["averageRemittance"] == {"amount": "250.00"}
    claim_seen = seen["claim"]
    assert claim_seen["status"] == "approved" and claim_seen["recommendation"] == "approve"
    assert claim_seen["evidence"] == [f"death_certificate:{hashlib.sha256(b'acta').hexdigest()}"]
    assert claim_seen["total"] == {"amount": "6500.00"}  # 3,500 + 12 x 250
    payments = claim_seen["payments"]
    assert [p["kind"] for p in payments] == ["repatriation"] + ["monthly_benefit"] * 12
    assert {p["status"] for p in payments} == {"scheduled"}  # the payer releases them
    for outsider in (MADRID_STAFF, MADRID_ADMIN):
        assert (await node.ok(POLICY, outsider, id=policy))["insurancePolicy"] is None
    assert (await node.ok(POLICY, ADMIN, id=policy))["insurancePolicy"] is not None
    product = node.views.get("policies", policy).issued.product_id
    assert (await node.ok(FIGURES, BEN, id=product))["insuranceFigures"] == {
        "policiesIssued": 1, "inForce": 0, "lapsed": 0, "claims": 1, "approved": 1,
        "rejected": 0, "premiumsCollected": {"amount": "15.00"},
        "benefitsPaid": {"amount": "0.00"}, "lossRatio": "0.0000", "suppressed": False}
    seen_by_analyst = (await node.ok(FIGURES, ANALYST, id=product))["insuranceFigures"]
    assert seen_by_analyst["suppressed"] and seen_by_analyst["policiesIssued"] is None
    assert seen_by_analyst["premiumsCollected"] is None  # one policy's premiums
    # a zero next to a small cell would give it away: issued - in force - lapsed = claims
    assert [seen_by_analyst[k] for k in ("inForce", "lapsed", "claims", "approved")] == \
        [None] * 4
    assert (await node.ok(FIGURES, MADRID_STAFF, id=product))["insuranceFigures"] is None
    # the catalogue lists it for anyone signed in; its figures read as insuranceFigures does
    listing = "{ insuranceProducts { productId figures { policiesIssued suppressed } } }"
    for caller, figures in ((BEN, {"policiesIssued": 1, "suppressed": False}),
                            (ANALYST, {"policiesIssued": None, "suppressed": True}),
                            (MADRID_STAFF, None)):
        assert (await node.ok(listing, caller))["insuranceProducts"] == [
            {"productId": product, "figures": figures}]


@pytest.mark.parametrize("internal", ["issuePolicy", "collectPremium", "lapsePolicy",
                                      "releasePayment", "confirmPayment", "returnPayment",
                                      "payPremium", "receiveBenefit", "recordPolicyAnswer",
                                      "recordDeathAnswer", "recordPremiumPaid",
                                      "notifyDeath"])
def test_what_the_relay_and_the_payer_send_is_no_partners_mutation(internal):
    assert internal not in SCHEMA._schema.mutation_type.fields


async def test_a_renewal_a_rejection_and_a_withdrawn_product_over_graphql(node):
    product, policy = await an_insured_member(node)
    assert (await node.mutate("renewPolicy", {"policyId": policy, "age": 35},
                              MADRID_ADMIN))["__typename"] == "NotAuthorized"
    with node.on("2027-01-20"):  # only period 1 is paid: period 2's grace ended on the 15th
        renewed = await node.mutate("renewPolicy", {"policyId": policy, "age": 35}, ANA)
        assert renewed["code"] == "PolicyLapsed", renewed
    with node.on("2026-11-20"):  # five days in, it runs: renewed for a second year
        assert (await node.mutate("renewPolicy", {"policyId": policy, "age": 35},
                                  ANA))["__typename"] == "CommandAccepted"
        assert node.views.get("policies", policy).ends_on.isoformat() == "2028-11-15"
        assert (await node.mutate("openClaim", {"policyId": policy, "claimId": new_id(),
                                                "diedOn": "2026-11-18"}, BEN))["__typename"] \
            == "CommandAccepted"
        assessed = await node.mutate("assessClaim", {
            "policyId": policy, "repatriationCost": {"amount": "0", "currency": "USD"}}, BEN)
        assert assessed["__typename"] == "CommandAccepted"  # within the waiting period
        rejected = await node.mutate("rejectClaim", {"policyId": policy,
                                                     "reasons": ["WAITING_PERIOD"]}, ANA)
        assert rejected["__typename"] == "CommandAccepted"
        seen = (await node.ok(POLICY, MARTA, id=policy))["insurancePolicy"]["claim"]
    assert seen["status"] == "rejected" and seen["reasons"] == ["waiting_period"]
    assert seen["recommendation"] == "reject" and seen["payments"] == []
    assert (await node.mutate("withdrawProduct", {"productId": product},
                              ANA))["__typename"] == "NotAuthorized"  # a setting: admins'
    assert (await node.mutate("withdrawProduct", {"productId": product},
                              MARTA))["__typename"] == "CommandAccepted"
    read = await node.ok('query($id: ID!) { insuranceProduct(id: $id) { withdrawn } }',
                         MADRID_STAFF, id=product)
    assert read["insuranceProduct"] == {"withdrawn": True}


async def more_policies(node, product: str, count: int) -> None:
    """``count`` more policies of ``product``, each another member's, issued today."""
    for _ in range(count):
        issued = await node.commands.send(i.IssuePolicy(
            policy_id=new_id(), product_id=product, member_id=new_id(), from_node="us",
            starts_on=node.now.date(), age=40, average_remittance=Money(20_000, "USD"),
            payees=[i.Payee(account_id=new_id(), share_percent=100)]))
        assert issued.payload.accepted, issued.payload


async def test_five_policies_in_force_are_a_figure_an_analyst_reads(node):
    product, _ = await an_insured_member(node)
    await more_policies(node, product, 4)
    figures = (await node.ok(FIGURES, ANALYST, id=product))["insuranceFigures"]
    assert (figures["policiesIssued"], figures["inForce"]) == (5, 5)
    assert figures["premiumsCollected"] == {"amount": "15.00"}  # of five policies: shown
    assert figures["claims"] == 0 and figures["lossRatio"] == "0.0000"  # nothing paid yet
    with node.on("2028-01-01"):  # every term ended: none in force
        later = (await node.ok(FIGURES, ANALYST, id=product))["insuranceFigures"]
    assert later["inForce"] == 0 and later["policiesIssued"] == 5


async def test_an_analyst_cannot_subtract_one_claim_out_of_the_figures(node):
    product, policy = await an_insured_member(node)
    await more_policies(node, product, 5)
    with node.on("2026-12-01"):
        assert (await node.mutate("openClaim", {"policyId": policy, "claimId": new_id(),
                                                "diedOn": "2026-11-30"}, ANA))["__typename"] \
            == "CommandAccepted"
        seen = (await node.ok(FIGURES, ANALYST, id=product))["insuranceFigures"]
        insider = (await node.ok(FIGURES, BEN, id=product))["insuranceFigures"]
    assert (insider["policiesIssued"], insider["inForce"], insider["claims"]) == (6, 5, 1)
    assert seen["policiesIssued"] == 6 and seen["suppressed"]
    assert (seen["inForce"], seen["lapsed"], seen["claims"]) == (None, None, None)  # 6 - 5 - 0
    assert seen["premiumsCollected"] == {"amount": "15.00"}  # six policies' premiums
