"""Her cover across the border (issue 25), two nodes on the real broker joined only by their
relays: Rosa applies at her host node, under her insurance consent to her home node, for a
policy of the home insurer; the relay carries her application there, the policy is issued,
and its terms come back to her cover. An application the insurer refuses comes back refused
with its code. When her host cooperative records her death, the notice crosses under her
live consent and the insurer opens the claim, once, even with every message between the
nodes arriving twice. Her standing instruction pays each premium from her host account as
it falls due, with the clock moved month by month (``services.runtime.clock``), and one her
account could not pay on its day is paid within its grace once money came in. And a member
whose host node is the insurer's too is covered with no message at all."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from schemas import insurance as i
from schemas import membership as m
from schemas import savings as s
from schemas.fields import Money, add_months
from schemas.topics import federation_topic
from services.insurance.app import insurance_processor
from services.runtime import clock, kafka_clients
from services.runtime.ids import new_id
from tests.integration.membership_world import register_cooperative, running
from tests.integration.test_premiums_across_nodes import policy_events
from tests.integration.test_relay import (  # noqa: F401 (the fixture)
    Node,
    copy_every_message,
    nodes,
    relayed_to_the_end,
    rosa_at_both,
    serving,
)
from tests.integration.test_savings_service import savings_events

pytestmark = pytest.mark.kafka


async def until(bootstrap: str, node: str, key: str, kind: type, count: int = 1) -> list:
    for _ in range(200):
        found = [e for e in await policy_events(bootstrap, node, key) if isinstance(e, kind)]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {kind.__name__} for {key} at node {node}")


async def consent(node: Node, member: str, to_node: str) -> None:
    reply = await node.client.send(m.GrantConsent(
        member_id=member, consent_id=new_id(), grantee_kind=m.GranteeKind.NODE,
        grantee=to_node, scopes=[m.ConsentScope.INSURANCE],
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=400)), member)
    assert reply.accepted, reply.payload


async def apply(node: Node, member: str, cooperative: str, account: str, insurer_node: str,
                product: str, payee: str, age: int = 34) -> str:
    cover = new_id()
    reply = await node.client.send(i.ApplyForPolicy(
        cover_id=cover, member_id=member, cooperative_id=cooperative,
        insurer_node=insurer_node, product_id=product, currency="USD", account_id=account,
        starts_on=dt.datetime.now(dt.UTC).date(), age=age,
        requested_benefit=Money(20_000, "USD"),
        payees=[i.Payee(account_id=payee, share_percent=100)]), cover)
    assert reply.accepted, reply.payload
    return cover


async def cooperative_of(bootstrap: str, node: Node, account: str) -> str:
    [opened] = [e for e in await savings_events(bootstrap, node.id, account)
                if isinstance(e, s.AccountOpened)]
    return opened.cooperative_id


async def offered_at(home: Node) -> str:
    """A repatriation product of an insurance cooperative at ``home``: USD 15 a month."""
    insurer = await register_cooperative(home.client, currency="USD", country="EC",
                                         kind=m.CooperativeKind.INSURANCE)
    product = new_id()
    offered = await home.client.send(i.OfferProduct(
        product_id=product, cooperative_id=insurer, names={"es": "Repatriación"},
        currency="USD", repatriation_limit=Money(400_000, "USD"),
        monthly_benefit_cap=Money(30_000, "USD"), premium=Money(1_500, "USD")), product)
    assert offered.accepted, offered.payload
    return product


async def test_her_application_and_her_death_cross_once_under_her_consent(nodes):
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home), \
            running(home.id, bootstrap, home.keys, insurance_processor), \
            running(host.id, bootstrap, host.keys, insurance_processor):
        world = await rosa_at_both(bootstrap, host, home)
        madrid = await cooperative_of(bootstrap, host, world.rosas_account)
        product = await offered_at(home)

        def applying(age: int = 34):
            return apply(host, world.rosa, madrid, world.rosas_account, home.id, product,
                         world.her_account_at_home, age)

        unconsented = new_id()
        refused = await host.client.send(i.ApplyForPolicy(
            cover_id=unconsented, member_id=world.rosa, cooperative_id=madrid,
            insurer_node=home.id, product_id=product, currency="USD",
            account_id=world.rosas_account,
            starts_on=dt.datetime.now(dt.UTC).date(), age=34,
            requested_benefit=Money(20_000, "USD"),
            payees=[i.Payee(account_id=world.her_account_at_home, share_percent=100)]),
            unconsented)
        assert refused.code == "ConsentNotLive"  # nothing leaves without her consent
        await consent(host, world.rosa, home.id)

        cover, too_old = await applying(), await applying(age=70)
        [issued] = await until(bootstrap, host.id, cover, i.CoverIssued)
        [policy] = await until(bootstrap, home.id, issued.terms.policy_id, i.PolicyIssued)
        assert (policy.application_id, policy.member_id, policy.from_node, policy.age) \
            == (cover, world.rosa, host.id, 34)
        assert issued.terms.premium == Money(1_500, "USD")
        assert issued.terms.monthly_benefit == Money(20_000, "USD")
        assert (issued.terms.starts_on, issued.terms.ends_on) \
            == (policy.starts_on, policy.ends_on)
        [no] = await until(bootstrap, host.id, too_old, i.CoverRefused)
        assert no.code == "AgeOutsideBand"
        await until(bootstrap, host.id, cover, i.CoverPremiumPaid)  # her first, at once

        notify = i.NotifyDeath(cover_id=cover)
        assert (await host.client.send(notify, cover)).code == "NoRecordedDeath"
        died_on = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        ended = await host.client.send(m.EndMembership(
            member_id=world.rosa, cooperative_id=madrid, reason=m.EndReason.DECEASED,
            ended_on=died_on), world.rosa)
        assert ended.accepted, ended.payload
        # her cooperative recorded her death: the watcher notifies the insurer, nobody else
        [notified] = await until(bootstrap, host.id, cover, i.DeathNotified)
        assert (notified.died_on, notified.insurer_node) == (died_on, home.id)
        assert (await host.client.send(notify, cover)).code == "DeathAlreadyNotified"
        [answered] = await until(bootstrap, host.id, cover, i.DeathNoticeAnswered)
        assert answered.accepted
        [claim] = await until(bootstrap, home.id, policy.policy_id, i.ClaimOpened)
        assert (claim.died_on, claim.notified_by) == (died_on, host.id)

        # every message between the nodes arrives a second time, byte for byte
        await copy_every_message(bootstrap, host, home)
        await relayed_to_the_end(bootstrap, host, home)
        await relayed_to_the_end(bootstrap, host, home)

    at_host = await policy_events(bootstrap, host.id, cover)
    paid = [e for e in at_host if isinstance(e, i.CoverPremiumPaid)]  # her instruction's
    assert [e.period for e in paid] == [1]  # the first, at once; none after her death
    assert [type(e) for e in at_host if e not in paid] \
        == [i.CoverApplied, i.CoverIssued, i.DeathNotified, i.DeathNoticeAnswered]
    at_home = await policy_events(bootstrap, home.id, policy.policy_id)
    assert [type(e) for e in at_home if not isinstance(e, i.PremiumCollected)] \
        == [i.PolicyIssued, i.ClaimOpened]
    assert [type(e) for e in await policy_events(bootstrap, host.id, too_old)] \
        == [i.CoverApplied, i.CoverRefused]


async def test_a_member_at_the_insurers_own_node_is_covered_without_a_message(nodes):
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home), \
            running(home.id, bootstrap, home.keys, insurance_processor):
        world = await rosa_at_both(bootstrap, host, home)
        quito = await cooperative_of(bootstrap, home, world.her_account_at_home)
        product = await offered_at(home)
        await consent(home, world.rosa, home.id)
        cover = await apply(home, world.rosa, quito, world.her_account_at_home, home.id,
                            product, world.her_account_at_home)
        [issued] = await until(bootstrap, home.id, cover, i.CoverIssued)
        [policy] = await until(bootstrap, home.id, issued.terms.policy_id, i.PolicyIssued)
        assert policy.from_node == home.id
    assert await kafka_clients.read_topic(federation_topic(home.id), bootstrap) == []


async def test_her_standing_instruction_pays_each_premium_and_one_missed_within_grace(
        nodes, tmp_path, monkeypatch):
    moved = tmp_path / "clock"
    monkeypatch.setenv(clock.VARIABLE, str(moved))  # every service here, and the clients

    def to(day: dt.date) -> None:
        target = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        clock.moved_by(moved, max(0.0, (target - clock.now()).total_seconds()))

    bootstrap, host, home = nodes

    def insuring(*args):
        return insurance_processor(*args, retry_every=0.5)

    async with serving(bootstrap, host, home), \
            running(home.id, bootstrap, home.keys, insuring), \
            running(host.id, bootstrap, host.keys, insuring):
        world = await rosa_at_both(bootstrap, host, home)
        madrid = await cooperative_of(bootstrap, host, world.rosas_account)
        product = await offered_at(home)
        await consent(host, world.rosa, home.id)
        cover = await apply(host, world.rosa, madrid, world.rosas_account, home.id, product,
                            world.her_account_at_home)
        [issued] = await until(bootstrap, host.id, cover, i.CoverIssued)
        terms = issued.terms
        async def collected(count: int) -> list:
            """... at the insurer's node (before the clock moves on: a premium still
            travelling a week later is out of time there, and comes back)."""
            return await until(bootstrap, home.id, terms.policy_id, i.PremiumCollected, count)

        for period in range(1, 7):  # six months, each premium on its day
            to(add_months(terms.starts_on, period - 1))
            await until(bootstrap, host.id, cover, i.CoverPremiumPaid, period)
            await collected(period)
        # her account is empty on the seventh's day: nothing leaves, the grace begins
        balance = [e.balance for e in await savings_events(bootstrap, host.id,
                                                          world.rosas_account)
                   if hasattr(e, "balance")][-1]
        assert (await host.client.send(s.WithdrawFunds(
            account_id=world.rosas_account, amount=balance), world.rosas_account)).accepted
        seventh = add_months(terms.starts_on, 6)
        to(seventh)
        await asyncio.sleep(3)
        assert len([e for e in await policy_events(bootstrap, host.id, cover)
                    if isinstance(e, i.CoverPremiumPaid)]) == 6
        to(seventh + dt.timedelta(days=10))  # within the grace, money came in
        assert (await host.client.send(s.DepositFunds(
            account_id=world.rosas_account, amount=Money(10_000, "EUR")),
            world.rosas_account)).accepted
        to(seventh + dt.timedelta(days=11))
        await until(bootstrap, host.id, cover, i.CoverPremiumPaid, 7)
        seven = await collected(7)
    assert [e.period for e in seven] == [1, 2, 3, 4, 5, 6, 7]  # each once, in order
    at_home = await policy_events(bootstrap, home.id, terms.policy_id)
    assert not [e for e in at_home if isinstance(e, i.PolicyLapsed)]
    paid = [e for e in await savings_events(bootstrap, host.id, world.rosas_account)
            if isinstance(e, s.PremiumPaid)]
    assert [e.period for e in paid] == [1, 2, 3, 4, 5, 6, 7]  # never twice, never partial
    assert [e.transfer_id for e in seven] == [e.premium_id for e in paid]
