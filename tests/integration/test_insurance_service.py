"""The insurance service on the real broker, as its own process, with a clock the test moves
(``services.runtime.clock``: every process here, and the test's client, reads it): a member's policy, six premiums, a seventh paid late within
its grace period, her death, the claim assessed and approved by two people, then the
repatriation and twelve monthly payments reaching her mother's savings account, the clock
moved month by month and the service killed with SIGKILL between two of them. Each payment
is released, credited and settled once; what the family was credited is what the claim
paid."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest

from schemas import REGISTRY
from schemas import insurance as i
from schemas import membership as m
from schemas import savings as s
from schemas.fields import Money, add_months
from schemas.topics import events_topic
from services.insurance.domain import INSURANCE
from services.insurance.payer import Payer
from services.runtime import clock, kafka_clients
from services.runtime.client import CommandClient
from services.runtime.ids import new_id
from services.runtime.processor import CommandProcessor
from services.savings.app import savings_processor
from tests.integration.membership_world import (
    ServiceProcess,
    register_cooperative,
    register_member,
    running,
)

pytestmark = pytest.mark.kafka

ANA = hashlib.sha256(b"assessor").hexdigest()
BEN = hashlib.sha256(b"approver").hexdigest()


def usd(amount: int) -> Money:
    return Money(amount, "USD")


async def events_of(bootstrap: str, node: str, service: str, key: str) -> list:
    records = await kafka_clients.read_topic(events_topic(node, service), bootstrap)
    return [message.payload for message in (REGISTRY.decode(r.value) for r in records
                                            if r.key == key.encode())
            if message.envelope.sequence is not None]


async def until(check, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not in time")
        await asyncio.sleep(0.2)


async def an_insurer_and_her_mothers_account(client, keys) -> tuple[str, str]:
    """An insurance cooperative of the node, and a member's dollar savings account at a
    cooperative of the same node (her mother's, who receives the benefit)."""
    insurer = await register_cooperative(client, currency="USD", country="SV",
                                         kind=m.CooperativeKind.INSURANCE)
    family = await register_cooperative(client, currency="USD", country="SV")
    mother, account = await register_member(client, keys), new_id()
    for command, key in ((m.StartMembership(member_id=mother, cooperative_id=family,
                                            started_on=dt.date(2019, 5, 6),
                                            share_capital_required=usd(1000)), mother),
                         (s.OpenAccount(account_id=account, member_id=mother,
                                        cooperative_id=family, product=s.Product.SAVINGS,
                                        currency="USD"), account)):
        reply = await client.send(command, key, timeout=60)
        assert reply.accepted, reply.payload
    return insurer, account


async def test_a_death_abroad_pays_home_twelve_months_once_across_kill_9(node, tmp_path,
                                                                         monkeypatch):
    node_id, bootstrap, client, keys = node
    moved = tmp_path / "clock"
    monkeypatch.setenv(clock.VARIABLE, str(moved))

    def move_to(day: dt.date) -> None:  # forward only, as time goes
        target = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
        clock.moved_by(moved, max(0.0, (target - clock.now()).total_seconds()))

    async def send(command, key=None):
        reply = await client.send(command, key or REGISTRY.key_of(command), timeout=60)
        assert reply.accepted, reply.payload
        return reply

    async with running(node_id, bootstrap, keys), \
            running(node_id, bootstrap, keys, savings_processor):
        insurer, account = await an_insurer_and_her_mothers_account(client, keys)
        service = ServiceProcess(node_id, bootstrap, tmp_path / "insurance-1.log", "insurance")
        try:
            product, policy, member = new_id(), new_id(), new_id()
            await send(i.OfferProduct(
                product_id=product, cooperative_id=insurer,
                names={"es": "Repatriación y remesa segura"}, currency="USD",
                repatriation_limit=usd(400_000), monthly_benefit_cap=usd(30_000),
                premium=usd(1_500), waiting_days=30, grace_days=30))
            start = clock.now().date()
            await send(i.IssuePolicy(
                policy_id=policy, product_id=product, member_id=member, from_node="us",
                starts_on=start, age=34, average_remittance=usd(25_000),
                payees=[i.Payee(account_id=account, share_percent=100)]))
            for period in range(1, 8):
                due = add_months(start, period - 1)
                paid_on = due + dt.timedelta(days=20 if period == 7 else 0)  # 7: within grace
                move_to(paid_on)
                await send(i.CollectPremium(
                    policy_id=policy, transfer_id=new_id(), from_account_id=new_id(),
                    member_id=member, period=period, amount=usd(1_500), from_node="us",
                    paid_at=dt.datetime.combine(paid_on, dt.time(9), tzinfo=dt.UTC)))
            died_on = add_months(start, 6) + dt.timedelta(days=25)
            move_to(died_on + dt.timedelta(days=2))
            await send(i.OpenClaim(policy_id=policy, claim_id=new_id(), died_on=died_on,
                                   notified_by="us"))
            await send(i.AttachEvidence(policy_id=policy,
                                        kind=i.EvidenceKind.DEATH_CERTIFICATE,
                                        sha256=hashlib.sha256(b"certificate").hexdigest()))
            await send(i.AssessClaim(policy_id=policy, repatriation_cost=usd(350_000),
                                     repatriation_account_id=account, by=ANA))
            refused = await client.send(i.ApproveClaim(policy_id=policy, by=ANA), policy)
            assert refused.code == "FourEyes"
            await send(i.ApproveClaim(policy_id=policy, by=BEN))
            approved_on = clock.now().date()

            async def credited(count: int):
                found = [e for e in await events_of(bootstrap, node_id, "savings", account)
                         if isinstance(e, s.BenefitReceived)]
                return found if len(found) >= count else None

            await until(lambda: credited(2))  # the repatriation and the first month, now
            for month in range(2, 13):
                move_to(add_months(approved_on, month - 1))
                await until(lambda month=month: credited(month + 1))
                if month == 6:  # between two instalments, without a goodbye
                    service.kill()
                    service = ServiceProcess(node_id, bootstrap, tmp_path / "insurance-2.log",
                                             "insurance")
            move_to(add_months(approved_on, 13))  # nothing more is due, ever
            await asyncio.sleep(2)
        finally:
            service.terminate()

    received = [e for e in await events_of(bootstrap, node_id, "savings", account)
                if isinstance(e, s.BenefitReceived)]
    history = await events_of(bootstrap, node_id, "insurance", policy)
    [approved] = [e for e in history if isinstance(e, i.ClaimApproved)]
    released = [e for e in history if isinstance(e, i.PaymentReleased)]
    settled = [e for e in history if isinstance(e, i.PaymentCredited)]
    assert len(approved.payments) == 13 and approved.total == usd(350_000 + 12 * 25_000)
    assert sorted(e.number for e in received) == list(range(1, 14))  # each once
    assert sorted(e.payment.number for e in released) == list(range(1, 14))
    assert sorted(e.number for e in settled) == list(range(1, 14))
    assert not [e for e in history if isinstance(e, i.PaymentReturned)]
    assert received[-1].balance == approved.total  # what the family got is what was paid
    assert settled[-1].credited_total == released[-1].released_total == approved.total
    assert not [e for e in history if isinstance(e, i.PolicyLapsed)]  # paid within grace


class DiesAfter:
    """A payer's command client that dies, as a killed process does, right after the first
    command of ``kind`` was answered: it never answers again (the payer's task hangs there
    until its processor is stopped)."""

    def __init__(self, inner: CommandClient, kind: type):
        self.inner, self.kind, self.dead = inner, kind, asyncio.Event()

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def send(self, command, *args, **kwargs):
        if self.dead.is_set():
            await asyncio.Event().wait()  # gone
        reply = await self.inner.send(command, *args, **kwargs)
        if isinstance(command, self.kind):
            self.dead.set()
            await asyncio.Event().wait()
        return reply


@pytest.mark.parametrize("back_the_next_day", [False, True])
async def test_a_payer_killed_between_crediting_and_settling_credits_once(
        node, tmp_path, monkeypatch, back_the_next_day):
    """The step the other test's SIGKILL does not land in: the payee's account was credited
    and the payer died before settling the payment. The next payer, the same day or the
    next, credits again under the same command id, gets the log's answer, and settles it
    credited, once, never returned."""
    node_id, bootstrap, client, keys = node
    moved = tmp_path / "clock"
    monkeypatch.setenv(clock.VARIABLE, str(moved))

    async def send(command):
        reply = await client.send(command, REGISTRY.key_of(command), timeout=60)
        assert reply.accepted, reply.payload

    def insurance(payer_client):
        def factory(node_, bootstrap_, _keys):
            payer = Payer(payer_client, clock.now, retry_every=0.5)
            return CommandProcessor(INSURANCE, node_, bootstrap_, observer=payer.observe,
                                    companions=[payer])
        return factory

    async with running(node_id, bootstrap, keys), \
            running(node_id, bootstrap, keys, savings_processor):
        insurer, account = await an_insurer_and_her_mothers_account(client, keys)
        product, policy, member = new_id(), new_id(), new_id()
        dying = DiesAfter(CommandClient(node_id, bootstrap, source="insurance-payer"),
                          s.ReceiveBenefit)
        async with running(node_id, bootstrap, keys, insurance(dying)) as first:
            await send(i.OfferProduct(
                product_id=product, cooperative_id=insurer, names={"es": "Repatriación"},
                currency="USD", repatriation_limit=usd(400_000),
                monthly_benefit_cap=usd(30_000), premium=usd(1_500), benefit_months=1))
            today = clock.now().date()
            await send(i.IssuePolicy(
                policy_id=policy, product_id=product, member_id=member, from_node="us",
                starts_on=today, age=34, average_remittance=usd(25_000),
                payees=[i.Payee(account_id=account, share_percent=100)]))
            await send(i.CollectPremium(policy_id=policy, transfer_id=new_id(),
                                        from_account_id=new_id(), member_id=member, period=1,
                                        amount=usd(1_500), from_node="us",
                                        paid_at=clock.now()))
            await send(i.OpenClaim(policy_id=policy, claim_id=new_id(), died_on=today,
                                   notified_by="us"))
            await send(i.AttachEvidence(policy_id=policy,
                                        kind=i.EvidenceKind.DEATH_CERTIFICATE,
                                        sha256=hashlib.sha256(b"acta").hexdigest()))
            await send(i.AssessClaim(policy_id=policy, repatriation_cost=usd(0), by=ANA))
            await send(i.ApproveClaim(policy_id=policy, by=BEN))
            await asyncio.wait_for(dying.dead.wait(), 30)  # credited, then gone
            assert first is not None
        if back_the_next_day:
            clock.moved_by(moved, 86_400)

        async def settled():
            history = await events_of(bootstrap, node_id, "insurance", policy)
            return [e for e in history if isinstance(e, i.PaymentCredited | i.PaymentReturned)]

        async with running(node_id, bootstrap, keys, insurance(
                CommandClient(node_id, bootstrap, source="insurance-payer"))):
            await until(settled)
            await asyncio.sleep(1.5)  # three more sweeps: nothing more happens
    received = [e for e in await events_of(bootstrap, node_id, "savings", account)
                if isinstance(e, s.BenefitReceived)]
    assert [e.number for e in received] == [1]  # credited once
    assert [type(e) for e in await settled()] == [i.PaymentCredited]  # settled once, credited
