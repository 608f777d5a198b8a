"""Insurance premiums across the border (issue 25), two nodes on the real broker joined only
by their relays: Rosa's policy is with an insurer at home; each premium leaves her host
savings account whole and is collected on her policy once, even when every message between
the nodes arrives twice (as MirrorMaker 2 may copy them); a premium the insurer refuses
(out of order) comes back whole with its fee, and is collected when paid again in order
(under a new payment id); and money is conserved across both nodes:
what the insurer collected is what left her account less the disclosed fees, at the
disclosed rate."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from schemas import REGISTRY
from schemas import insurance as i
from schemas import membership as m
from schemas import savings as s
from schemas.fields import Money
from schemas.money import to_major
from schemas.topics import events_topic
from services.insurance.app import insurance_processor
from services.runtime import kafka_clients
from services.runtime.ids import new_id
from tests.integration.membership_world import register_cooperative, running
from tests.integration.test_relay import (  # noqa: F401 (the fixture)
    copy_every_message,
    nodes,
    relayed_to_the_end,
    rosa_at_both,
    serving,
)
from tests.integration.test_savings_service import savings_events

pytestmark = pytest.mark.kafka


async def policy_events(bootstrap: str, node: str, policy: str) -> list:
    records = await kafka_clients.read_topic(events_topic(node, "insurance"), bootstrap)
    return [message.payload for message in (REGISTRY.decode(r.value) for r in records
                                            if r.key == policy.encode())
            if message.envelope.sequence is not None]


async def test_premiums_cross_once_come_back_whole_when_refused_and_money_is_conserved(nodes):
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home), \
            running(home.id, bootstrap, home.keys, insurance_processor):
        world = await rosa_at_both(bootstrap, host, home)
        insurer = await register_cooperative(home.client, currency="USD", country="EC",
                                             kind=m.CooperativeKind.INSURANCE)
        product, policy = new_id(), new_id()
        offered = await home.client.send(i.OfferProduct(
            product_id=product, cooperative_id=insurer, names={"es": "Repatriación"},
            currency="USD", repatriation_limit=Money(400_000, "USD"),
            monthly_benefit_cap=Money(30_000, "USD"), premium=Money(1_500, "USD")), product)
        assert offered.accepted, offered.payload
        issued = await home.client.send(i.IssuePolicy(
            policy_id=policy, product_id=product, member_id=world.rosa, from_node=host.id,
            starts_on=dt.date.today(), age=34,
            average_remittance=Money(25_000, "USD"),
            payees=[i.Payee(account_id=world.her_account_at_home, share_percent=100)]), policy)
        assert issued.accepted, issued.payload

        async def pay(period: int) -> None:
            reply = await host.client.send(s.PayPremium(
                account_id=world.rosas_account, premium_id=new_id(), member_id=world.rosa,
                policy_id=policy, period=period, premium=Money(1_500, "USD"),
                to_node=home.id), world.rosas_account)
            assert reply.accepted, reply.payload

        async def settled(kind, count: int) -> None:
            for _ in range(150):
                found = [e for e in await savings_events(bootstrap, host.id,
                                                         world.rosas_account)
                         if isinstance(e, kind)]
                if len(found) >= count:
                    return
                await asyncio.sleep(0.2)
            raise AssertionError(f"fewer than {count} {kind.__name__}")

        await pay(1)
        await settled(s.PremiumDelivered, 1)
        await pay(3)  # period 2 is unpaid: the insurer refuses it, the host refunds it
        await settled(s.PremiumRefunded, 1)
        await pay(2)
        await settled(s.PremiumDelivered, 2)
        await pay(3)  # refunded before, paid again under a new id: collected now
        await settled(s.PremiumDelivered, 3)
        # every message between the nodes arrives a second time, byte for byte
        await copy_every_message(bootstrap, host, home)
        await relayed_to_the_end(bootstrap, host, home)  # the copies read, answered again
        await relayed_to_the_end(bootstrap, host, home)  # ... and those answers read

    at_host = await savings_events(bootstrap, host.id, world.rosas_account)
    collected = [e for e in await policy_events(bootstrap, home.id, policy)
                 if isinstance(e, i.PremiumCollected)]
    assert [e.period for e in collected] == [1, 2, 3]  # each once, in order
    paid = [e for e in at_host if isinstance(e, s.PremiumPaid)]
    refunded = [e for e in at_host if isinstance(e, s.PremiumRefunded)]
    assert [e.period for e in paid] == [1, 3, 2, 3]
    assert [e.period for e in refunded] == [3]
    refused = paid[1]
    assert refunded[0].premium_id == refused.premium_id
    assert refunded[0].amount.amount == refused.cost.amount + refused.fee.amount  # whole
    assert sorted(e.period for e in at_host if isinstance(e, s.PremiumDelivered)) == [1, 2, 3]
    # conserved: left the account = cost + fee of the collected ones; collected = the premiums
    kept = [e for e in paid if e is not refused]
    assert [e.transfer_id for e in collected] == [e.premium_id for e in kept]
    balances = [e.balance for e in at_host if hasattr(e, "balance")]
    assert balances[-1] == Money(
        50_000 - sum(e.cost.amount + e.fee.amount for e in kept), "EUR")
    for e in kept:
        [got] = [c for c in collected if c.transfer_id == e.premium_id]
        assert got.amount == e.premium
        # what arrived, at the disclosed rate, is what the account paid less the fee
        assert abs(to_major(e.premium) * Decimal(e.rate) - to_major(e.cost)) <= Decimal("0.005")
