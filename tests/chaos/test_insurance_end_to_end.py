"""Issue 25, end to end over GraphQL with a stock client (gql over HTTP), on two nodes of
processes (membership, savings, insurance, the relay, the gateway), the clock moved month by
month for every process (``services.runtime.clock``): Rosa, a Salvadoran member of a savings
cooperative in the United States, takes a policy from Seguros Futuro at home under her
insurance consent; her standing instruction pays six monthly premiums from her host savings;
the seventh finds her account empty and is paid within its grace once money comes in; she
dies and her cooperative records it; the claim is opened from the notice, evidence
attached, assessed by one of the insurer's staff and approved by another; the repatriation
is paid and twelve monthly instalments reach her mother's account at home, one month at a
time, with the insurer's insurance service killed (``kill -9``) between two of them. Every
premium is collected once, every payment credited once, and money is conserved across both
nodes. Only in ``make chaos``: it takes minutes."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from gateway.auth import Role
from schemas import REGISTRY
from schemas.fields import add_months
from schemas.topics import events_topic
from services.runtime import clock
from services.runtime.ids import new_id
from services.runtime.kafka_clients import read_topic
from tests.e2e.test_federation_over_http import call, mutate, running_federation, until

pytestmark = [pytest.mark.kafka, pytest.mark.chaos]

PROCESSES = ("membership", "savings", "insurance", "federation", "gateway")
RESULT = " { __typename ... on CommandAccepted { visible } ... on Problem { code message } }"
COVER = """query($id: ID!) { member(id: $id) { insurance {
  coverId policyId status periodsPaid startsOn premium { amount } monthlyBenefit { amount }
  claimOpened } } }"""
POLICY = """query($id: ID!) { insurancePolicy(id: $id) { status periodsPaid
  claim { status releasedTotal { amount } creditedTotal { amount } total { amount }
          payments { number kind status amount { amount } month } } } }"""
BALANCE = """query($id: ID!) { member(id: $id) { accounts { accountId
  balance { amount currency } } } }"""


def usd(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


def coop(cid: str, name: str, country: str, node: str, kind: str = "SAVINGS_AND_CREDIT"):
    return {"cooperativeId": cid, "name": name, "country": country, "kind": kind,
            "languages": ["es"], "node": node, "currency": "USD", "sharePrice": usd("10.00")}


async def test_rosas_policy_from_premiums_to_twelve_months_for_her_mother(
        kafka_bootstrap, tmp_path, monkeypatch):
    moved = tmp_path / "clock"
    monkeypatch.setenv(clock.VARIABLE, str(moved))  # this process and every node's

    def to(day: dt.date) -> None:
        target = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        clock.moved_by(moved, max(0.0, (target - clock.now()).total_seconds()))

    (tmp_path / "nodes").mkdir()
    with running_federation(kafka_bootstrap, tmp_path / "nodes", PROCESSES,
                            {clock.VARIABLE: str(moved)}) as fed:
        host, home = fed.nodes["host"], fed.nodes["home"]
        boston, futuro, santa_ana = new_id(), new_id(), new_id()
        await mutate(fed, "host", fed.token("host", Role.NODE_ADMIN), "registerCooperative",
                     coop(boston, "Cooperativa Latina de Boston", "US", host))
        home_admin = fed.token("home", Role.NODE_ADMIN)
        await mutate(fed, "home", home_admin, "registerCooperative",
                     coop(futuro, "Seguros Futuro", "SV", home, "INSURANCE"))
        await mutate(fed, "home", home_admin, "registerCooperative",
                     coop(santa_ana, "Caja de Crédito de Santa Ana", "SV", home))
        boston_staff = fed.token("host", Role.STAFF, boston)
        ana = fed.token("home", Role.STAFF, futuro, subject="ana")  # assesses
        ben = fed.token("home", Role.STAFF, futuro, subject="ben")  # approves
        futuro_admin = fed.token("home", Role.ADMIN, futuro, subject="marta")
        santa_ana_staff = fed.token("home", Role.STAFF, santa_ana)

        # -- her mother's account at home, Rosa's at the host
        mother, mothers_account = new_id(), new_id()
        for name, input in [
            ("registerMember", {"memberId": mother, "personal": {
                "givenNames": "María", "familyNames": "Hernández", "dateOfBirth": "1961-02-03",
                "nationality": "SV", "preferredLanguages": ["es-SV"]}}),
            ("startMembership", {"memberId": mother, "cooperativeId": santa_ana,
                                 "startedOn": "2020-01-10",
                                 "shareCapitalRequired": usd("10.00")}),
            ("openAccount", {"accountId": mothers_account, "memberId": mother,
                             "cooperativeId": santa_ana, "product": "SAVINGS",
                             "currency": "USD"})]:
            await mutate(fed, "home", santa_ana_staff, name, input)
        rosa, savings = new_id(), new_id()
        for name, input in [
            ("registerMember", {"memberId": rosa, "personal": {
                "givenNames": "Rosa", "familyNames": "Hernández", "dateOfBirth": "1990-06-21",
                "nationality": "SV", "preferredLanguages": ["es-SV"]}}),
            ("startMembership", {"memberId": rosa, "cooperativeId": boston,
                                 "startedOn": "2021-03-01",
                                 "shareCapitalRequired": usd("10.00")}),
            ("openAccount", {"accountId": savings, "memberId": rosa, "cooperativeId": boston,
                             "product": "SAVINGS", "currency": "USD"}),
            ("depositFunds", {"accountId": savings, "amount": usd("500.00")})]:
            await mutate(fed, "host", boston_staff, name, input)

        # -- Seguros Futuro's product; her application under her consent
        product = new_id()
        await mutate(fed, "home", futuro_admin, "offerProduct", {
            "productId": product, "cooperativeId": futuro,
            "names": [{"language": "es", "text": "Repatriación y remesa segura"}],
            "currency": "USD", "repatriationLimit": usd("4000.00"),
            "monthlyBenefitCap": usd("300.00"), "premium": usd("15.00"),
            "waitingDays": 30, "graceDays": 30})
        await mutate(fed, "host", boston_staff, "grantConsent", {
            "memberId": rosa, "consentId": new_id(), "granteeKind": "NODE", "grantee": home,
            "scopes": ["INSURANCE"], "expiresAt": "2031-01-01T00:00:00Z"})
        cover = new_id()
        await mutate(fed, "host", boston_staff, "applyForPolicy", {
            "coverId": cover, "memberId": rosa, "cooperativeId": boston, "insurerNode": home,
            "productId": product, "currency": "USD", "accountId": savings,
            "startsOn": clock.now().date().isoformat(), "requestedBenefit": usd("200.00"),
            "payees": [{"accountId": mothers_account, "sharePercent": 100}],
            "beneficiaries": {"people": [{"fullName": "María Hernández",
                                          "relationship": "madre",
                                          "accountId": mothers_account}]}})

        async def her_cover() -> dict:
            [mine] = (await call(fed, "host", boston_staff, COVER, id=rosa))["member"][
                "insurance"]
            return mine

        async def issued():
            mine = await her_cover()
            return mine if mine["status"] == "issued" else None

        mine = await until(issued, timeout=90)
        assert mine is not None, await her_cover()
        assert (mine["premium"], mine["monthlyBenefit"]) == ({"amount": "15.00"},
                                                             {"amount": "200.00"})
        policy, starts = mine["policyId"], dt.date.fromisoformat(mine["startsOn"])

        async def at_insurer() -> dict:
            return (await call(fed, "home", ana, POLICY, id=policy))["insurancePolicy"]

        async def paid(periods: int) -> None:
            async def check():
                return ((await her_cover())["periodsPaid"] >= periods
                        and (await at_insurer())["periodsPaid"] >= periods)
            assert await until(check, timeout=60), (await her_cover(), await at_insurer())

        # -- six monthly premiums from her host savings, each on its day
        for period in range(1, 7):
            to(add_months(starts, period - 1))
            await paid(period)
        # -- the seventh: her account is empty on its day; she pays within the grace
        balance = next(a for a in (await call(fed, "host", boston_staff, BALANCE, id=rosa))[
            "member"]["accounts"] if a["accountId"] == savings)["balance"]
        await mutate(fed, "host", boston_staff, "withdrawFunds",
                     {"accountId": savings, "amount": usd(balance["amount"])})
        seventh = add_months(starts, 6)
        to(seventh)
        await asyncio.sleep(8)
        assert (await at_insurer())["periodsPaid"] == 6
        assert (await at_insurer())["status"] == "in_force"
        to(seventh + dt.timedelta(days=12))
        await mutate(fed, "host", boston_staff, "depositFunds",
                     {"accountId": savings, "amount": usd("100.00")})
        to(seventh + dt.timedelta(days=13))
        await paid(7)
        assert (await at_insurer())["status"] == "in_force"

        # -- she dies; her cooperative records it; the notice opens the claim at home
        died_on = seventh + dt.timedelta(days=20)
        to(died_on + dt.timedelta(days=2))
        await mutate(fed, "host", boston_staff, "endMembership", {
            "memberId": rosa, "cooperativeId": boston, "reason": "DECEASED",
            "endedOn": died_on.isoformat()})

        async def claimed():
            return (await at_insurer())["claim"]

        assert await until(claimed, timeout=60), await at_insurer()

        async def opened():
            return (await her_cover())["claimOpened"] is True

        assert await until(opened, timeout=30), await her_cover()  # her record says so
        certificate = hashlib.sha256(b"acta de defuncion 2027").hexdigest()
        await mutate(fed, "home", ana, "attachEvidence", {
            "policyId": policy, "kind": "DEATH_CERTIFICATE", "sha256": certificate})
        await mutate(fed, "home", ana, "assessClaim", {
            "policyId": policy, "repatriationCost": usd("3500.00"),
            "repatriationAccountId": mothers_account})
        same = (await call(fed, "home", ana, "mutation($input: ApproveClaimInput!) "
                           "{ approveClaim(input: $input)" + RESULT + " }",
                           input={"policyId": policy}))["approveClaim"]
        assert same["code"] == "FourEyes"  # the assessor does not approve her own assessment
        await mutate(fed, "home", ben, "approveClaim", {"policyId": policy})
        approved_on = clock.now().date()

        async def credited(count: int):
            async def check():
                claim = (await at_insurer())["claim"]
                done = [p for p in claim["payments"] if p["status"] == "credited"]
                return claim if len(done) >= count else None
            claim = await until(check, timeout=90)
            assert claim is not None, await at_insurer()
            return claim

        await credited(2)  # the repatriation and the first month, due on approval
        for month in range(2, 13):
            if month == 6:  # the insurer's service dies as the month's payment is under
                # way: the clock moved, its payer sweeping (released, credited or not yet)
                to(add_months(approved_on, month - 1))
                await asyncio.sleep(0.4)
                fed.kill("home", "insurance")
                await asyncio.sleep(2)
                fed.start("home", "insurance")
            else:
                to(add_months(approved_on, month - 1))
            await credited(month + 1)
        to(add_months(approved_on, 13))  # a month past the end: nothing more is due
        await asyncio.sleep(8)
        claim = (await at_insurer())["claim"]

    # -- exactly once, and money conserved across both nodes
    assert claim["status"] == "approved"
    assert [p["status"] for p in claim["payments"]] == ["credited"] * 13
    assert claim["releasedTotal"] == claim["creditedTotal"] == claim["total"] \
        == {"amount": "5900.00"}  # 3,500 + 12 x 200
    home_savings = [REGISTRY.decode(r.value).payload for r in await read_topic(
        events_topic(home, "savings"), kafka_bootstrap)]
    benefits = [e for e in home_savings if type(e).__name__ == "BenefitReceived"]
    assert sorted(e.number for e in benefits) == list(range(1, 14))  # each once
    assert sum(e.amount.amount for e in benefits) == 590_000
    host_savings = [REGISTRY.decode(r.value).payload for r in await read_topic(
        events_topic(host, "savings"), kafka_bootstrap)]
    premiums = [e for e in host_savings if type(e).__name__ == "PremiumPaid"]
    refunded = {e.premium_id for e in host_savings if type(e).__name__ == "PremiumRefunded"}
    kept = [e for e in premiums if e.premium_id not in refunded]
    assert sorted(e.period for e in kept) == [1, 2, 3, 4, 5, 6, 7]  # each period once
    home_insurance = [REGISTRY.decode(r.value).payload for r in await read_topic(
        events_topic(home, "insurance"), kafka_bootstrap)]
    collected = [e for e in home_insurance if type(e).__name__ == "PremiumCollected"]
    assert sorted(e.period for e in collected) == [1, 2, 3, 4, 5, 6, 7]
    # premiums collected = premiums debited minus the disclosed fees (at the disclosed rate)
    for e in kept:
        [got] = [c for c in collected if c.transfer_id == e.premium_id]
        assert got.amount == e.premium
        assert abs(Decimal(e.premium.amount) * Decimal(e.rate) - e.cost.amount) <= 1
    assert not [e for e in home_insurance if type(e).__name__ == "PolicyLapsed"]
